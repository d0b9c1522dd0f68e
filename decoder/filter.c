/* filter.c: compiled regex lists (POSIX extended, anchored) for Debezium's filtering options.
 * Identifiers are matched as "schema", "schema.table" and "schema.table.column". */
#include "decoder/filter.h"
#include "schemas/buf.h"
#include "schemas/regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void flt_init(flt_filters_t *f) { memset(f, 0, sizeof *f); }

static void list_free(flt_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        regfree(&l->re[i]);
    free(l->re);
    l->re = NULL;
    l->n = 0;
}

static void rules_free(flt_rule_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        list_free(&r[i].cols);
        free(r[i].alg);
        free(r[i].salt);
    }
    free(r);
}

void flt_free(flt_filters_t *f)
{
    list_free(&f->schema_inc); list_free(&f->schema_exc);
    list_free(&f->table_inc); list_free(&f->table_exc);
    list_free(&f->col_inc); list_free(&f->col_exc);
    list_free(&f->msg_inc); list_free(&f->msg_exc);
    list_free(&f->origin_skip);
    rules_free(f->masks, f->nmasks);
    rules_free(f->truncs, f->ntruncs);
    rules_free(f->hashes, f->nhashes);
    for (size_t i = 0; i < f->nkeycols; i++) {
        regfree(&f->keycols[i].table);
        for (size_t k = 0; k < f->keycols[i].ncols; k++)
            free(f->keycols[i].cols[k]);
        free(f->keycols[i].cols);
    }
    free(f->keycols);
    memset(f, 0, sizeof *f);
}

static int compile_one(regex_t *re, const char *pat, size_t n, const char *what, char *err, size_t errlen)
{
    const char *why = rx_too_costly(pat, n);
    if (why) {
        snprintf(err, errlen, "%s: invalid regular expression '%.*s': %s", what, (int)(n > 200 ? 200 : n), pat, why);
        return -1;
    }
    char *anch = xmalloc(n + 5);
    snprintf(anch, n + 5, "^(%.*s)$", (int)n, pat);
    int rc = regcomp(re, anch, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, re, msg, sizeof msg);
        snprintf(err, errlen, "%s: invalid regular expression '%.*s': %s", what, (int)n, pat, msg);
        free(anch);
        return -1;
    }
    free(anch);
    return 0;
}

int flt_regex_compile(regex_t *re, const char *pat, const char *what, char *err, size_t errlen)
{
    return compile_one(re, pat, strlen(pat), what, err, errlen);
}

int flt_list_compile(flt_list_t *l, const char *csv, const char *what, char *err, size_t errlen)
{
    list_free(l);
    if (!csv)
        return 0;
    const char *p = csv;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        /* a comma inside {m,n} belongs to the regex */
        int brace = 0;
        while (*e && (*e != ',' || brace)) {
            if (*e == '{') brace++;
            else if (*e == '}' && brace) brace--;
            else if (*e == '\\' && e[1]) e++;
            e++;
        }
        size_t n = (size_t)(e - p);
        while (n && p[n - 1] == ' ')
            n--;
        l->re = xrealloc(l->re, (l->n + 1) * sizeof *l->re);
        if (compile_one(&l->re[l->n], p, n, what, err, errlen) < 0)
            return -1;
        l->n++;
        p = e;
    }
    return 0;
}

bool flt_list_match(const flt_list_t *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (regexec(&l->re[i], s, 0, NULL, 0) == 0)
            return true;
    return false;
}

static int add_rule(flt_rule_t **rules, size_t *n, int len, const char *csv, const char *what, char *err, size_t errlen)
{
    *rules = xrealloc(*rules, (*n + 1) * sizeof **rules);
    flt_rule_t *r = &(*rules)[*n];
    memset(r, 0, sizeof *r);
    r->n = len;
    (*n)++;
    return flt_list_compile(&r->cols, csv, what, err, errlen);
}

int flt_add_mask(flt_filters_t *f, int n, const char *csv, const char *what, char *err, size_t errlen)
{
    return add_rule(&f->masks, &f->nmasks, n, csv, what, err, errlen);
}

int flt_add_truncate(flt_filters_t *f, int n, const char *csv, const char *what, char *err, size_t errlen)
{
    return add_rule(&f->truncs, &f->ntruncs, n, csv, what, err, errlen);
}

int flt_add_hash(flt_filters_t *f, const char *alg, const char *salt, const char *csv, const char *what,
                 char *err, size_t errlen)
{
    if (add_rule(&f->hashes, &f->nhashes, 0, csv, what, err, errlen) < 0)
        return -1;
    f->hashes[f->nhashes - 1].alg = xstrdup(alg);
    f->hashes[f->nhashes - 1].salt = xstrdup(salt);
    return 0;
}

int flt_set_key_columns(flt_filters_t *f, const char *spec, char *err, size_t errlen)
{
    const char *p = spec;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        if (!colon || colon == p || colon == p + n - 1) {
            snprintf(err, errlen, "message.key.columns: entry '%.*s' must look like 'schema.table:col1,col2'", (int)n, p);
            return -1;
        }
        f->keycols = xrealloc(f->keycols, (f->nkeycols + 1) * sizeof *f->keycols);
        flt_keycols_t *k = &f->keycols[f->nkeycols];
        memset(k, 0, sizeof *k);
        if (compile_one(&k->table, p, (size_t)(colon - p), "message.key.columns", err, errlen) < 0)
            return -1;
        f->nkeycols++;
        const char *c = colon + 1, *end = p + n;
        while (c < end) {
            while (c < end && (*c == ' ' || *c == ','))
                c++;
            const char *ce = c;
            while (ce < end && *ce != ',')
                ce++;
            size_t cl = (size_t)(ce - c);
            while (cl && c[cl - 1] == ' ')
                cl--;
            if (cl) {
                k->cols = xrealloc(k->cols, (k->ncols + 1) * sizeof *k->cols);
                k->cols[k->ncols++] = strndup(c, cl);
            }
            c = ce;
        }
        p += n;
    }
    return 0;
}

static const char *ident2(char *buf, size_t len, const char *a, const char *b)
{
    snprintf(buf, len, "%s.%s", a, b);
    return buf;
}

bool flt_table_included(const flt_filters_t *f, const char *schema, const char *table)
{
    char id[1024];
    if (f->schema_inc.n && !flt_list_match(&f->schema_inc, schema))
        return false;
    if (f->schema_exc.n && flt_list_match(&f->schema_exc, schema))
        return false;
    ident2(id, sizeof id, schema, table);
    if (f->table_inc.n && !flt_list_match(&f->table_inc, id))
        return false;
    if (f->table_exc.n && flt_list_match(&f->table_exc, id))
        return false;
    return true;
}

static const char *ident3(char *buf, size_t len, const char *s, const char *t, const char *c)
{
    snprintf(buf, len, "%s.%s.%s", s, t, c);
    return buf;
}

bool flt_column_included(const flt_filters_t *f, const char *schema, const char *table, const char *col)
{
    char id[1536];
    ident3(id, sizeof id, schema, table, col);
    if (f->col_inc.n && !flt_list_match(&f->col_inc, id))
        return false;
    if (f->col_exc.n && flt_list_match(&f->col_exc, id))
        return false;
    return true;
}

bool flt_message_included(const flt_filters_t *f, const char *prefix)
{
    if (f->msg_inc.n && !flt_list_match(&f->msg_inc, prefix))
        return false;
    if (f->msg_exc.n && flt_list_match(&f->msg_exc, prefix))
        return false;
    return true;
}

static const flt_rule_t *find_rule(const flt_rule_t *r, size_t n, const char *s, const char *t, const char *c)
{
    char id[1536];
    ident3(id, sizeof id, s, t, c);
    for (size_t i = 0; i < n; i++)
        if (flt_list_match(&r[i].cols, id))
            return &r[i];
    return NULL;
}

int flt_mask_len(const flt_filters_t *f, const char *s, const char *t, const char *c)
{
    const flt_rule_t *r = find_rule(f->masks, f->nmasks, s, t, c);
    return r ? r->n : -1;
}

int flt_truncate_len(const flt_filters_t *f, const char *s, const char *t, const char *c)
{
    const flt_rule_t *r = find_rule(f->truncs, f->ntruncs, s, t, c);
    return r ? r->n : -1;
}

const flt_rule_t *flt_hash_rule(const flt_filters_t *f, const char *s, const char *t, const char *c)
{
    return find_rule(f->hashes, f->nhashes, s, t, c);
}

const flt_keycols_t *flt_key_columns(const flt_filters_t *f, const char *schema, const char *table)
{
    char id[1024];
    ident2(id, sizeof id, schema, table);
    for (size_t i = 0; i < f->nkeycols; i++)
        if (regexec(&f->keycols[i].table, id, 0, NULL, 0) == 0)
            return &f->keycols[i];
    return NULL;
}

bool flt_origin_skipped(const flt_filters_t *f, const char *origin)
{
    return origin && flt_list_match(&f->origin_skip, origin);
}
