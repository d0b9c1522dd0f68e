/* relcache.h: the relation cache: what pgoutput's Relation messages say about each table, merged with
 * the catalog facts pgoutput does not send (nullability, defaults, comments, key columns). */
#ifndef WALCAST_RELCACHE_H
#define WALCAST_RELCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "decoder/pgoutput.h"
#include "decoder/pgtypes.h"

/* Catalog facts for one column, supplied by the agent (pg_attribute, pg_attrdef, col_description). */
typedef struct rel_catcol {
    const char *name;
    bool not_null;
    const char *default_expr;   /* pg_get_expr text, or NULL */
    const char *comment;        /* or NULL */
} rel_catcol_t;

typedef struct rel_catinfo {
    const rel_catcol_t *cols;
    size_t ncols;
    const char *const *key;     /* primary key (else first unique index) column names, in key order */
    size_t nkey;
} rel_catinfo_t;

typedef struct rel_column {
    const char *name;
    uint32_t typid;
    int32_t typmod;
    bool ident_key;             /* part of the replica identity */
    bool not_null;
    const char *default_expr;
    const char *comment;
    pgt_coltype_t type;
} rel_column_t;

typedef struct rel_table {
    uint32_t relid;
    const char *nspname;
    const char *relname;
    char replident;             /* d, f, n, i */
    size_t ncols;
    rel_column_t *cols;
    size_t nkeys;
    int *keys;                  /* column indexes of the event key */
    unsigned version;           /* bumps on every Relation message for this relid */
    arena_t *arena;             /* owns everything above */
    void *user;                 /* event-layer state, freed by the cache's free_user */
} rel_table_t;

typedef struct rel_cache rel_cache_t;

rel_cache_t *rel_cache_new(void (*free_user)(void *));
void rel_cache_free(rel_cache_t *c);
/* Installs the table described by a Relation message plus catalog facts, replacing the old version.
 * Fails (and keeps the old version) if a column type cannot be resolved. */
int rel_cache_put(rel_cache_t *c, const pgt_catalog_t *types, const pgo_msg_t *relmsg,
                  const rel_catinfo_t *info, rel_table_t **out, char *err, size_t errlen);
rel_table_t *rel_cache_get(const rel_cache_t *c, uint32_t relid);
int rel_column_index(const rel_table_t *t, const char *name);

#endif
