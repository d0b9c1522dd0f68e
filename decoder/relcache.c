/* relcache.c: relid -> table map (open addressing) with one arena per table version.
 * A new Relation message replaces the entry whole; events already built never point into it. */
#include "decoder/relcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rel_cache {
    rel_table_t **slots;
    size_t cap, n;
    void (*free_user)(void *);
};

rel_cache_t *rel_cache_new(void (*free_user)(void *))
{
    rel_cache_t *c = xcalloc(1, sizeof *c);
    c->cap = 64;
    c->slots = xcalloc(c->cap, sizeof *c->slots);
    c->free_user = free_user;
    return c;
}

static void table_free(rel_cache_t *c, rel_table_t *t)
{
    if (!t)
        return;
    if (t->user && c->free_user)
        c->free_user(t->user);
    arena_free(t->arena);
}

void rel_cache_free(rel_cache_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cap; i++)
        table_free(c, c->slots[i]);
    free(c->slots);
    free(c);
}

static size_t slot_of(const rel_cache_t *c, uint32_t relid)
{
    size_t i = (relid * 2654435761u) & (c->cap - 1);
    while (c->slots[i] && c->slots[i]->relid != relid)
        i = (i + 1) & (c->cap - 1);
    return i;
}

rel_table_t *rel_cache_get(const rel_cache_t *c, uint32_t relid)
{
    return c->slots[slot_of(c, relid)];
}

static void grow(rel_cache_t *c)
{
    rel_table_t **old = c->slots;
    size_t oldcap = c->cap;
    c->cap *= 2;
    c->slots = xcalloc(c->cap, sizeof *c->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i])
            c->slots[slot_of(c, old[i]->relid)] = old[i];
    free(old);
}

int rel_column_index(const rel_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

int rel_cache_put(rel_cache_t *c, const pgt_catalog_t *types, const pgo_msg_t *m,
                  const rel_catinfo_t *info, rel_table_t **out, char *err, size_t errlen)
{
    arena_t *a = arena_new(16 * 1024);
    rel_table_t *t = arena_zalloc(a, sizeof *t);
    t->arena = a;
    t->relid = m->u.relation.relid;
    t->nspname = arena_strdup(a, m->u.relation.nspname);
    t->relname = arena_strdup(a, m->u.relation.relname);
    t->replident = m->u.relation.replident;
    t->ncols = m->u.relation.natts;
    t->cols = arena_zalloc(a, (t->ncols ? t->ncols : 1) * sizeof *t->cols);
    for (size_t i = 0; i < t->ncols; i++) {
        const pgo_att_t *att = &m->u.relation.atts[i];
        rel_column_t *col = &t->cols[i];
        col->name = arena_strdup(a, att->name);
        col->typid = att->typid;
        col->typmod = att->typmod;
        col->ident_key = att->flags & PGO_ATT_KEY;
        if (pgt_resolve(types, a, att->typid, att->typmod, &col->type, err, errlen) < 0) {
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "table \"%s\".\"%s\" column \"%s\": %s", t->nspname, t->relname, col->name, tmp);
            arena_free(a);
            return -1;
        }
        for (size_t k = 0; info && k < info->ncols; k++) {
            const rel_catcol_t *cc = &info->cols[k];
            if (strcmp(cc->name, att->name) == 0) {
                col->not_null = cc->not_null;
                col->default_expr = cc->default_expr ? arena_strdup(a, cc->default_expr) : NULL;
                col->comment = cc->comment ? arena_strdup(a, cc->comment) : NULL;
                break;
            }
        }
    }
    t->keys = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *t->keys);
    t->nkeys = 0;
    for (size_t k = 0; info && k < info->nkey; k++) {
        int idx = rel_column_index(t, info->key[k]);
        if (idx >= 0)
            t->keys[t->nkeys++] = idx;
    }

    size_t s = slot_of(c, t->relid);
    rel_table_t *old = c->slots[s];
    t->version = old ? old->version + 1 : 1;
    if (old) {
        table_free(c, old);
    } else {
        c->n++;
    }
    c->slots[s] = t;
    if (c->n * 2 > c->cap)
        grow(c);
    if (out)
        *out = t;
    return 0;
}
