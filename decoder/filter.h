/* filter.h: Debezium's include/exclude lists, column masks/truncation/hashing and message.key.columns.
 * Lists are comma-separated regexes matched against the whole identifier (anchored), as Debezium does. */
#ifndef WALCAST_FILTER_H
#define WALCAST_FILTER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct flt_list {
    regex_t *re;
    size_t n;
} flt_list_t;

typedef struct flt_rule {
    flt_list_t cols;      /* schema.table.column patterns */
    int n;                /* mask/truncate length */
    char *alg;            /* hash: algorithm (SHA-256 ...) */
    char *salt;
} flt_rule_t;

typedef struct flt_keycols {
    regex_t table;        /* schema.table pattern */
    char **cols;
    size_t ncols;
} flt_keycols_t;

typedef struct flt_filters {
    flt_list_t schema_inc, schema_exc, table_inc, table_exc, col_inc, col_exc, msg_inc, msg_exc;
    flt_list_t origin_skip;  /* walcast.skip.origins: replication origins whose transactions are not captured */
    flt_rule_t *masks, *truncs, *hashes;
    size_t nmasks, ntruncs, nhashes;
    flt_keycols_t *keycols;
    size_t nkeycols;
} flt_filters_t;

void flt_init(flt_filters_t *f);
void flt_free(flt_filters_t *f);
/* Compiles a comma-separated regex list into l; what names the config key for the error. */
/* One regex, anchored (matches the whole string, as Java's matches()), costly forms refused; what names
 * the config key for the error. */
int flt_regex_compile(regex_t *re, const char *pat, const char *what, char *err, size_t errlen);
int flt_list_compile(flt_list_t *l, const char *csv, const char *what, char *err, size_t errlen);
bool flt_list_match(const flt_list_t *l, const char *s);
int flt_add_mask(flt_filters_t *f, int n, const char *csv, const char *what, char *err, size_t errlen);
int flt_add_truncate(flt_filters_t *f, int n, const char *csv, const char *what, char *err, size_t errlen);
int flt_add_hash(flt_filters_t *f, const char *alg, const char *salt, const char *csv, const char *what,
                 char *err, size_t errlen);
/* message.key.columns: "schema.table:col1,col2;schema.table2:col" */
int flt_set_key_columns(flt_filters_t *f, const char *spec, char *err, size_t errlen);

bool flt_table_included(const flt_filters_t *f, const char *schema, const char *table);
bool flt_column_included(const flt_filters_t *f, const char *schema, const char *table, const char *col);
bool flt_message_included(const flt_filters_t *f, const char *prefix);
/* True for a transaction made by a session with this replication origin (an apply worker's). */
bool flt_origin_skipped(const flt_filters_t *f, const char *origin);
/* -1 when no rule applies. */
int flt_mask_len(const flt_filters_t *f, const char *schema, const char *table, const char *col);
int flt_truncate_len(const flt_filters_t *f, const char *schema, const char *table, const char *col);
const flt_rule_t *flt_hash_rule(const flt_filters_t *f, const char *schema, const char *table, const char *col);
/* Key column names configured for the table, or NULL. */
const flt_keycols_t *flt_key_columns(const flt_filters_t *f, const char *schema, const char *table);

#endif
