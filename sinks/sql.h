/* sql.h: what the SQL targets (postgres.c, mysql.c) share: the cache of target tables and their columns,
 * CREATE/ALTER from the event schema, the INSERT/UPDATE/DELETE statements of a batch, walcast's own tables
 * (offsets, conflict log) and the dispatch of apply, built over dialect.c. A target supplies only what its
 * server does differently (sql_ops_t): how a value goes into a statement (PostgreSQL: a $n parameter,
 * MySQL: an escaped literal), how a statement runs, how a table's columns are read, its upsert and
 * truncation. Its struct sk_target begins with an sql_conn_t: the functions below that take an
 * sk_target_t take such a target (they are its sk_target_ops_t entries). */
#ifndef WALCAST_SINK_SQL_H
#define WALCAST_SINK_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "schemas/buf.h"
#include "sinks/dialect.h"
#include "sinks/target.h"

/* A decimal(prec,scale) column as the server has it (MySQL; prec 0: not a decimal or not known). */
typedef struct sql_decimal {
    int prec, scale;
} sql_decimal_t;

/* A target table as the server has it (its column names, and the decimal ones' precision and scale), cached
 * per session. */
typedef struct sql_table {
    char *name;
    char **cols;
    sql_decimal_t *dec;   /* per column */
    size_t ncols;
    const cs_schema_t *checked;   /* row schema last found complete (a hint; cleared on rollback) */
    struct sql_table *next;
} sql_table_t;

/* What a text value is to the server (PostgreSQL casts the parameter; MySQL writes numbers bare). */
typedef enum { SQL_TEXT, SQL_JSON, SQL_INT, SQL_BIGINT } sql_kind_t;

/* One row of a query's result: its values as text (NULL: SQL NULL). */
typedef void (*sql_row_fn)(void *ctx, const char *const *v);

typedef struct sql_ops {
    /* Starts a statement in the target's sql_conn_t.sql (emptied): forgets the values of the last. */
    void (*start)(sk_target_t *t);
    /* Appends field f of change c as a value of the statement; -1 with err when the value cannot be
     * written (poison). */
    int (*field)(sk_target_t *t, const sk_change_t *c, size_t f, char *err, size_t errlen);
    /* Appends v[0..n) (NULL: SQL NULL) as a value of kind k. */
    void (*text)(sk_target_t *t, const char *v, size_t n, sql_kind_t k);
    /* Runs the statement; *affected (NULL: not wanted) the rows it changed, -1 when not known yet. */
    wc_status_t (*run)(sk_target_t *t, const char *what, long *affected, char *err, size_t errlen);
    /* Runs the query (not pipelined) and hands each row of its result to row(ctx, ...). */
    wc_status_t (*rows)(sk_target_t *t, const char *what, sql_row_fn row, void *ctx, char *err, size_t errlen);
    /* Runs the DDL statement in sql (MySQL: and opens the batch's transaction again after its implicit
     * commit). */
    wc_status_t (*ddl)(sk_target_t *t, const char *what, char *err, size_t errlen);
    /* Adds the columns the server has for table to pt (sql_table_add_col); none: no such table. */
    wc_status_t (*columns)(sk_target_t *t, const char *table, sql_table_t *pt, char *err, size_t errlen);
    /* The upserts of one table (sql_upsert, or a faster form of the server's), and its truncation. */
    wc_status_t (*upsert)(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                          size_t n, sk_conflict_count_t *cc, char *err, size_t errlen);
    wc_status_t (*truncate)(sk_target_t *t, const sk_table_t *tab, char *err, size_t errlen);
} sql_ops_t;

/* The first member of an SQL target's struct sk_target. */
typedef struct sql_conn {
    const sql_ops_t *ops;
    const sk_config_t *cfg;
    sk_dialect_t dialect;
    bool quote;               /* quote.identifiers */
    bool fold_case;           /* column names compare without case (MySQL) */
    bool count_upserts;       /* an upsert's affected rows tell the rows it left alone (PostgreSQL) */
    size_t max_params;        /* values one statement may carry (PostgreSQL 65535); 0: no limit */
    size_t max_bytes;         /* statement length at which no more rows are added (MySQL); 0: no limit */
    sql_table_t *tables;
    buf_t sql;                /* the statement being built */
} sql_conn_t;

void sql_init(sql_conn_t *s, const sql_ops_t *ops, const sk_config_t *cfg, sk_dialect_t d);
/* Frees the table cache and the statement buffer. */
void sql_free(sql_conn_t *s);

/* An identifier as quote.identifiers and the dialect say (dl_ident). */
void sql_ident(const sql_conn_t *s, buf_t *b, const char *name);
bool sql_is_pk(const sk_table_t *tab, const char *c);
/* Whether the version column is written beside the row's own fields (it is not one of them). */
bool sql_version_added(const sk_table_t *tab);
/* "INSERT INTO <table> (<columns>[, <version column>])" into b. */
void sql_insert_head(const sql_conn_t *s, buf_t *b, const sk_table_t *tab, bool ver);
/* What an upsert adds after its rows: ON CONFLICT (pk) DO UPDATE SET ... / ON DUPLICATE KEY UPDATE ...
 * (nothing under insert.mode=insert or without a key). Only source_wins reaches a table with a key:
 * cf_apply decides every other policy first. */
void sql_upsert_tail(const sql_conn_t *s, buf_t *b, const sk_table_t *tab, sk_insert_mode_t mode, bool ver);

/* Field f of change c as dl_value writes it into out (*k its kind); -1 with err naming the column and the
 * record when it cannot be written (poison). */
int sql_value(buf_t *out, sk_dialect_t d, const sk_change_t *c, size_t f, dl_kind_t *k, char *err, size_t errlen);

/* Runs the catalog query the target built (one column name a row) and adds what it names to pt. */
wc_status_t sql_columns_read(sk_target_t *t, sql_table_t *pt, char *err, size_t errlen);

/* The table cache (forgotten on rollback: what the transaction created is gone). */
sql_table_t *sql_table_find(const sql_conn_t *s, const char *name);
void sql_table_add_col(sql_table_t *pt, const char *c);
/* Column col of table (cached), when it is a decimal(prec,scale) one; else NULL. */
const sql_decimal_t *sql_col_decimal(const sql_conn_t *s, const char *table, const char *col);
void sql_tables_clear(sql_conn_t *s);

/* Creates walcast_sink_offsets, and walcast_conflicts under conflict.log.enabled, if missing (a failure
 * of two sinks creating them at once is WC_RETRY). */
wc_status_t sql_create_own_tables(sk_target_t *t, char *err, size_t errlen);
/* Creates them (sql_create_own_tables) and reads the positions stored for sink name (read_offsets). */
wc_status_t sql_read_offsets(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                             size_t errlen);

/* "__wc_t.<pk> = v.k<i> AND ..." (fetch_existing's join of the keys v with the table __wc_t). */
void sql_key_match(const sql_conn_t *s, buf_t *b, const sk_table_t *tab);
/* Runs the query fetch_existing built (values: ord, version, row as JSON) into ex[ord] (n changes). */
wc_status_t sql_existing_read(sk_target_t *t, sk_existing_t *ex, size_t n, char *err, size_t errlen);

/* The changes ch[0..n) with the creates (src_op 'c') first, each part in its order, into a malloc'ed array
 * (*out; the caller frees it); returns how many creates. The optimistic paths of both targets write a run
 * of creates without an upsert and the rest with one. */
size_t sql_creates_first(const sk_change_t *const *ch, size_t n, const sk_change_t ***out);

/* The upserts as multi-row INSERT ... VALUES (the default ops->upsert). */
wc_status_t sql_upsert(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                       size_t n, sk_conflict_count_t *cc, char *err, size_t errlen);

/* sk_target_ops_t entries. */
wc_status_t sql_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen);
wc_status_t sql_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                      size_t n, sk_conflict_count_t *cc, char *err, size_t errlen);
wc_status_t sql_log_conflicts(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n, char *err,
                              size_t errlen);
wc_status_t sql_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                              size_t errlen);
wc_status_t sql_delete_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                               size_t errlen);

#endif
