/* transform_dbz.c: Debezium's transforms over walcast's Connect values, as Debezium 3.6.1 runs them:
 * io.debezium.transforms.ExtractNewRecordState (the "unwrap") and ByLogicalTableRouter. */
#include "schemas/transform_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/avro.h"
#include "schemas/regex.h"

/* ---------------------------------------------------------------- ExtractNewRecordState */

enum { DEL_DROP, DEL_TOMBSTONE, DEL_REWRITE, DEL_REWRITE_TOMBSTONE, DEL_TO_TOMBSTONE };
static const char *const delete_modes[] = { "drop", "tombstone", "rewrite", "rewrite-with-tombstone",
                                            "delete-to-tombstone", NULL };

/* One add.fields / add.headers entry: [struct.]field[:new_name]. */
typedef struct fref {
    char *strct;                  /* "source", "transaction", …; NULL: the envelope itself */
    char *field;
    char *out;                    /* the new field or header name, prefix included */
} fref_t;

typedef struct {
    int mode;
    char *route;                  /* route.by.field, NULL: off */
    fref_t *fields, *headers;
    size_t nfields, nheaders;
    char *drop_header;
    bool drop_key, keep_compatible, replace_null;
    uint64_t fields_hash;
} unwrap_conf_t;

static const char *const unwrap_opts[] = {
    "delete.tombstone.handling.mode", "route.by.field", "add.fields.prefix", "add.fields", "add.headers.prefix",
    "add.headers", "replace.null.with.default", "drop.fields.header.name", "drop.fields.from.key",
    "drop.fields.keep.schema.compatible", NULL
};

static void frefs_free(fref_t *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(f[i].strct);
        free(f[i].field);
        free(f[i].out);
    }
    free(f);
}

static void unwrap_free(void *p)
{
    unwrap_conf_t *c = p;
    if (!c)
        return;
    free(c->route);
    free(c->drop_header);
    frefs_free(c->fields, c->nfields);
    frefs_free(c->headers, c->nheaders);
    free(c);
}

/* FieldReference's struct for a field named alone. */
static const char *struct_of(const char *field)
{
    static const char *const envelope[] = { "op", "ts_ms", "ts_us", "ts_ns", NULL };
    static const char *const txn[] = { "id", "total_order", "data_collection_order", NULL };
    for (int i = 0; envelope[i]; i++)
        if (!strcmp(field, envelope[i]))
            return NULL;
    for (int i = 0; txn[i]; i++)
        if (!strcmp(field, txn[i]))
            return "transaction";
    if (!strcmp(field, "updateDescription"))
        return "updateDescription";
    return "source";
}

/* AbstractExtractNewRecordState.FieldReference: "a.b" takes b of struct a (further parts are ignored,
 * as there), "x:y" names the result y; without a name, prefix + field (or prefix + struct_field). */
static int frefs_parse(const tf_opts_t *o, const char *key, const char *prefix, fref_t **out, size_t *count,
                       char *err, size_t errlen)
{
    size_t n;
    char **l = tf_opt_list(o, key, &n);
    fref_t *f = xcalloc(n + 1, sizeof *f);
    *out = f;
    *count = n;
    for (size_t i = 0; i < n; i++) {
        char *item = l[i];
        char *colon = strchr(item, ':');
        char *rename = NULL;
        if (colon) {
            *colon = '\0';
            rename = colon + 1;
            if (strchr(rename, ':')) {
                snprintf(err, errlen, "%s.%s.%s: unexpected field name '%s:%s'", o->kind, o->alias, key, item, rename);
                tf_list_free(l);
                return -1;
            }
        }
        char *dot = strchr(item, '.');
        if (dot) {
            *dot = '\0';
            char *second = dot + 1;
            char *more = strchr(second, '.');
            if (more)
                *more = '\0';
            f[i].strct = xstrdup(item);
            f[i].field = xstrdup(second);
        } else {
            const char *s = struct_of(item);
            f[i].strct = s ? xstrdup(s) : NULL;
            f[i].field = xstrdup(item);
        }
        if (!*f[i].field || (f[i].strct && !*f[i].strct)) {
            snprintf(err, errlen, "%s.%s.%s: '%s' names no field", o->kind, o->alias, key, o->kv ? item : "");
            tf_list_free(l);
            return -1;
        }
        size_t len = strlen(prefix) + strlen(f[i].field) + (f[i].strct ? strlen(f[i].strct) : 0) +
                     (rename ? strlen(rename) : 0) + 2;
        f[i].out = xmalloc(len);
        if (rename && *rename)
            snprintf(f[i].out, len, "%s%s", prefix, rename);
        else if (dot)
            snprintf(f[i].out, len, "%s%s_%s", prefix, f[i].strct, f[i].field);
        else
            snprintf(f[i].out, len, "%s%s", prefix, f[i].field);
    }
    tf_list_free(l);
    return 0;
}

static int unwrap_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    unwrap_conf_t *c = xcalloc(1, sizeof *c);
    if (tf_opt_enum(o, "delete.tombstone.handling.mode", "tombstone", delete_modes, &c->mode, err, errlen) < 0)
        goto fail;
    const char *route = tf_opt_str(o, "route.by.field", "");
    c->route = *route ? xstrdup(route) : NULL;
    if (frefs_parse(o, "add.fields", tf_opt_str(o, "add.fields.prefix", "__"), &c->fields, &c->nfields, err, errlen) < 0 ||
        frefs_parse(o, "add.headers", tf_opt_str(o, "add.headers.prefix", "__"), &c->headers, &c->nheaders, err, errlen) < 0)
        goto fail;
    for (size_t i = 0; i < c->nfields; i++) {
        c->fields_hash = buf_hash(c->fields[i].out, strlen(c->fields[i].out) + 1, c->fields_hash);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(c->fields[i].out, c->fields[j].out)) {
                snprintf(err, errlen, "%s.%s.add.fields: two entries make the field %s", o->kind, o->alias, c->fields[i].out);
                goto fail;
            }
    }
    const char *dh = tf_opt_str(o, "drop.fields.header.name", "");
    c->drop_header = *dh ? xstrdup(dh) : NULL;
    if (tf_opt_bool(o, "drop.fields.from.key", false, &c->drop_key, err, errlen) < 0 ||
        tf_opt_bool(o, "drop.fields.keep.schema.compatible", true, &c->keep_compatible, err, errlen) < 0 ||
        tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *headers = (int)c->nheaders;
    *conf = c;
    return 0;
fail:
    unwrap_free(c);
    return -1;
}

static const char *ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix) ? s : NULL;
}

/* FieldReference.getSchema: the field's schema (struct first, then the envelope), or -1: absent.
 * *parent: the field's index in the struct (or -1), *top: its index in the envelope. */
static int fref_find(const fref_t *f, const cs_schema_t *env, const cs_schema_t **fs, int *sidx, int *fidx,
                     char *err, size_t errlen)
{
    *sidx = -1;
    *fidx = -1;
    const cs_schema_t *parent = env;
    if (f->strct) {
        int si = cs_field_index(env, f->strct);
        if (si < 0 || env->fields[si].schema->type != CT_STRUCT) {
            /* Debezium: a NullPointerException on every record */
            snprintf(err, errlen, "the envelope has no struct %s (for %s)", f->strct, f->out);
            return -2;
        }
        *sidx = si;
        parent = env->fields[si].schema;
        int fi = cs_field_index(parent, f->field);
        if (fi >= 0) {
            *fidx = fi;
            *fs = parent->fields[fi].schema;
            return 0;
        }
        *sidx = -1;
    }
    int ti = cs_field_index(env, f->field);
    if (ti < 0)
        return -1;
    *fidx = ti;
    *fs = env->fields[ti].schema;
    return 0;
}

/* FieldReference.getValue (getWithoutDefault all the way). */
static cv_value_t fref_value(const cv_value_t *env, int sidx, int fidx)
{
    const cv_value_t *parent = env;
    if (sidx >= 0) {
        if ((size_t)sidx >= env->u.list.n || env->u.list.v[sidx].null)
            return cv_null();
        parent = &env->u.list.v[sidx];
    }
    return (size_t)fidx < parent->u.list.n ? parent->u.list.v[fidx] : cv_null();
}

/* copySchemaBasics(field schema).optional(): name, version, doc, parameters; optional; no default. A
 * struct or map schema loses its fields there (Java then fails putting the value): refused here. */
static const cs_schema_t *optional_basics(arena_t *a, const cs_schema_t *s, const char *out, char *err, size_t errlen)
{
    if (s->type == CT_STRUCT || s->type == CT_MAP) {
        snprintf(err, errlen, "%s would be a %s, which ExtractNewRecordState cannot copy", out, ct_type_name(s->type));
        return NULL;
    }
    cs_schema_t *c = cs_new(a, s->type, true);
    c->name = s->name;
    c->version = s->version;
    c->doc = s->doc;
    memcpy(c->params, s->params, sizeof c->params);
    c->nparams = s->nparams;
    c->items = s->items;
    return c;
}

/* A string value from a struct field (Struct.getString): NULL when null; error when not a string. */
static int string_field(const cs_schema_t *s, const cv_value_t *v, const char *name, const char **out, size_t *len,
                        char *err, size_t errlen)
{
    int i = cs_field_index(s, name);
    if (i < 0) {
        snprintf(err, errlen, "route.by.field: %s is not a valid field name", name);
        return -1;
    }
    if (s->fields[i].schema->type != CT_STRING) {
        snprintf(err, errlen, "route.by.field: field %s is a %s, not a string", name,
                 ct_type_name(s->fields[i].schema->type));
        return -1;
    }
    cv_value_t x = tf_field_get(s, v, (size_t)i, true);
    *out = x.null ? NULL : x.u.s.p;
    *len = x.null ? 0 : x.u.s.n;
    return 0;
}

/* Debezium's route: a blank value keeps the topic. */
static int route(const tf_ctx_t *x, const unwrap_conf_t *c, const cs_schema_t *s, const cv_value_t *v, tf_rec_t *r,
                 char *err, size_t errlen)
{
    const char *t;
    size_t n;
    if (string_field(s, v, c->route, &t, &n, err, errlen) < 0)
        return -1;
    bool blank = true;
    for (size_t i = 0; t && i < n; i++)
        blank = blank && (t[i] == ' ' || (t[i] >= '\t' && t[i] <= '\r'));
    if (t && !blank)
        r->topic = arena_strndup(x->a, t, n);
    return 0;
}

/* InsertField.Value static.field=__deleted (optional string): a required copy of the struct plus it. */
static void insert_deleted(const tf_ctx_t *x, const unwrap_conf_t *c, tf_rec_t *r, bool deleted)
{
    const cs_schema_t *s = r->vs;
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, 1);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        for (size_t i = 0; i < s->nfields; i++)
            cs_field_add(x->schemas, b, s->fields[i].name, s->fields[i].schema);
        cs_field_add(x->schemas, b, "__deleted", cs_new(x->schemas, CT_STRING, true));
        tf_cache_put(x->cache, s->uid, 1, b);
        ns = b;
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, ns->nfields);
    for (size_t i = 0; i < s->nfields; i++)
        nv->u.list.v[i] = tf_field_get(s, r->value, i, c->replace_null);
    nv->u.list.v[s->nfields] = deleted ? cv_str("true", 4) : cv_str("false", 5);
    r->vs = ns;
    r->value = nv;
}

/* addFields: a required copy of the unwrapped struct's schema (always, even with nothing to add) plus
 * the add.fields that exist in this envelope, each optional. */
static int add_fields(const tf_ctx_t *x, const unwrap_conf_t *c, const cs_schema_t *env, const cv_value_t *envv,
                      tf_rec_t *r, char *err, size_t errlen)
{
    const cs_schema_t *s = r->vs;
    /* keyed by the unwrapped schema and the envelope (add.fields come from its shape) */
    uint64_t extra = buf_hash(&env->uid, sizeof env->uid, 2);
    const void *aux = NULL;
    const cs_schema_t *ns = tf_cache_get_aux(x->cache, s->uid, extra, &aux);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        for (size_t i = 0; i < s->nfields; i++)
            cs_field_add(x->schemas, b, s->fields[i].name, s->fields[i].schema);
        for (size_t i = 0; i < c->nfields; i++) {
            const cs_schema_t *fs;
            int si, fi;
            int rc = fref_find(&c->fields[i], env, &fs, &si, &fi, err, errlen);
            if (rc == -2)
                return -1;
            if (rc < 0)
                continue;
            if (cs_field_index(b, c->fields[i].out) >= 0) {
                snprintf(err, errlen, "add.fields: field %s is already in the record", c->fields[i].out);
                return -1;
            }
            const cs_schema_t *os = optional_basics(x->schemas, fs, c->fields[i].out, err, errlen);
            if (!os)
                return -1;
            cs_field_add(x->schemas, b, c->fields[i].out, os);
        }
        /* where each added field's value is: (struct index or -1, field index) pairs */
        int *where = arena_alloc(x->schemas, (2 * (b->nfields - s->nfields) + 1) * sizeof *where);
        size_t k = 0;
        for (size_t i = 0; i < c->nfields; i++) {
            const cs_schema_t *fs;
            int si, fi;
            if (fref_find(&c->fields[i], env, &fs, &si, &fi, err, errlen) < 0)
                continue;
            where[k++] = si;
            where[k++] = fi;
        }
        tf_cache_put_aux(x->cache, s->uid, extra, b, where);
        ns = b;
        aux = where;
    }
    const int *where = aux;
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, ns->nfields);
    for (size_t i = 0; i < s->nfields; i++)
        nv->u.list.v[i] = tf_field_get(s, r->value, i, false);
    for (size_t k = s->nfields, j = 0; k < ns->nfields; k++, j += 2)
        nv->u.list.v[k] = fref_value(envv, where[j], where[j + 1]);
    r->vs = ns;
    r->value = nv;
    return 0;
}

/* The drop list of a header: SimpleHeaderConverter's text of a list of strings, [a, b] or ["a","b"]. */
static char **drop_list(const rec_header_t *h, char *err, size_t errlen)
{
    const char *p = h->value, *end = p + h->len;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p >= end || *p != '[' || end[-1] != ']') {
        snprintf(err, errlen, "drop.fields.header.name: header %s is not a list of field names", h->key);
        return NULL;
    }
    size_t cap = 4, n = 0;
    char **l = xcalloc(cap, sizeof *l);
    p++;
    end--;
    while (p < end) {
        const char *e = memchr(p, ',', (size_t)(end - p));
        if (!e)
            e = end;
        const char *a = p, *b = e;
        while (a < b && (*a == ' ' || *a == '"'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '"'))
            b--;
        if (b > a) {
            if (n + 2 > cap) {
                cap *= 2;
                l = xrealloc(l, cap * sizeof *l);
            }
            l[n] = xmalloc((size_t)(b - a) + 1);
            memcpy(l[n], a, (size_t)(b - a));
            l[n][b - a] = '\0';
            l[++n] = NULL;
        }
        p = e + 1;
    }
    return l;
}

/* ReplaceField exclude=<the listed fields> (only the optional ones when keep.schema.compatible). */
static void drop_fields_side(const tf_ctx_t *x, const unwrap_conf_t *c, char **names, uint64_t nh,
                             const cs_schema_t **sp, const cv_value_t **vp)
{
    const cs_schema_t *s = *sp;
    const cv_value_t *v = *vp;
    if (!s || s->type != CT_STRUCT || !v || v->null)
        return;
    bool any = false;
    bool *drop = arena_zalloc(x->a, s->nfields + 1);
    for (size_t i = 0; i < s->nfields; i++)
        for (size_t j = 0; names[j]; j++)
            if (!strcmp(names[j], s->fields[i].name) && (!c->keep_compatible || s->fields[i].schema->optional))
                any = drop[i] = true;
    if (!any)
        return;
    const cs_schema_t *ns = tf_cache_get(x->cache, s->uid, nh);
    if (!ns) {
        cs_schema_t *b = tf_struct_basics(x->schemas, s);
        for (size_t i = 0; i < s->nfields; i++)
            if (!drop[i])
                cs_field_add(x->schemas, b, s->fields[i].name, s->fields[i].schema);
        tf_cache_put(x->cache, s->uid, nh, b);
        ns = b;
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    *nv = cv_list(x->a, ns->nfields);
    for (size_t i = 0, k = 0; i < s->nfields; i++)
        if (!drop[i])
            nv->u.list.v[k++] = tf_field_get(s, v, i, true);
    *sp = ns;
    *vp = nv;
}

static int drop_fields(const tf_ctx_t *x, const unwrap_conf_t *c, tf_rec_t *r, char *err, size_t errlen)
{
    const rec_header_t *h = NULL;
    for (int i = 0; i < r->nh && !h; i++)
        if (!strcmp(r->h[i].key, c->drop_header))
            h = &r->h[i];
    if (!h || !h->value)
        return 0;
    char **names = drop_list(h, err, errlen);
    if (!names)
        return -1;
    if (names[0]) {
        uint64_t nh = buf_hash(h->value, h->len, 3) | 1u << 31;
        if (c->drop_key)
            drop_fields_side(x, c, names, nh, &r->ks, &r->key);
        drop_fields_side(x, c, names, nh ^ 0x5bd1e995, &r->vs, &r->value);
    }
    tf_list_free(names);
    return 0;
}

static void make_headers(const tf_ctx_t *x, const unwrap_conf_t *c, const cs_schema_t *env, const cv_value_t *envv,
                         tf_rec_t *r, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->nheaders; i++) {
        const fref_t *f = &c->headers[i];
        if (!envv) {
            /* a tombstone: only op, as "d" */
            if (!strcmp(f->field, "op"))
                tf_header_add_in_place(x, r, f->out, "d", 1);
            continue;
        }
        const cs_schema_t *fs;
        int si, fi;
        if (fref_find(f, env, &fs, &si, &fi, err, errlen) < 0)
            continue;
        cv_value_t v = fref_value(envv, si, fi);
        size_t len;
        const char *text = tf_header_text(x->a, fs, &v, &len);
        tf_header_add_in_place(x, r, f->out, text, len);
    }
}

static wc_status_t unwrap_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const unwrap_conf_t *c = conf;
    bool tombstone = r->value == NULL;
    const cs_schema_t *env = r->vs;
    const cv_value_t *envv = r->value;
    bool envelope = env && env->name && ends_with(env->name, ".Envelope") && env->type == CT_STRUCT;
    if (c->nheaders && (envelope || tombstone)) {
        /* a missing struct named in add.headers: Debezium fails the record */
        for (size_t i = 0; envelope && i < c->nheaders; i++) {
            const cs_schema_t *fs;
            int si, fi;
            if (fref_find(&c->headers[i], env, &fs, &si, &fi, err, errlen) == -2)
                return WC_PERMANENT;
        }
        make_headers(x, c, env, tombstone ? NULL : envv, r, err, errlen);
    }
    if (tombstone) {
        *drop = c->mode != DEL_REWRITE_TOMBSTONE;
        return WC_OK;
    }
    if (!envelope)
        return WC_OK;
    r->fresh = true;   /* every path below makes new records (ExtractField, InsertField, ...) */
    int ai = cs_field_index(env, "after"), bi = cs_field_index(env, "before");
    if (ai < 0 || bi < 0) {
        snprintf(err, errlen, "the envelope %s has no %s field", env->name, ai < 0 ? "after" : "before");
        return WC_PERMANENT;
    }
    cv_value_t after = tf_field_get(env, envv, (size_t)ai, true);
    cv_value_t before = tf_field_get(env, envv, (size_t)bi, true);
    const cs_schema_t *as = env->fields[ai].schema, *bs = env->fields[bi].schema;
    if (after.null && before.null) {
        *drop = true;   /* truncate */
        return WC_OK;
    }
    if (after.null) {
        switch (c->mode) {
        case DEL_DROP:
            *drop = true;
            return WC_OK;
        case DEL_TOMBSTONE:
            /* ExtractField(after): the after schema with a null value (not a Kafka tombstone) */
            r->vs = as;
            r->value = NULL;
            break;
        case DEL_TO_TOMBSTONE:
            r->vs = NULL;
            r->value = NULL;
            break;
        default: {
            cv_value_t *bv = arena_alloc(x->a, sizeof *bv);
            *bv = before;
            r->vs = bs;
            r->value = bv;
            if (bs->type == CT_STRUCT)
                insert_deleted(x, c, r, true);
            break;
        }
        }
        if (c->route && bs->type == CT_STRUCT && route(x, c, bs, &before, r, err, errlen) < 0)
            return WC_PERMANENT;
        if (c->drop_header && drop_fields(x, c, r, err, errlen) < 0)
            return WC_PERMANENT;
        if (r->value && tf_is_struct(r->vs, r->value) && add_fields(x, c, env, envv, r, err, errlen) < 0)
            return WC_PERMANENT;
        return WC_OK;
    }
    cv_value_t *av = arena_alloc(x->a, sizeof *av);
    *av = after;
    r->vs = as;
    r->value = av;
    if (as->type != CT_STRUCT) {
        snprintf(err, errlen, "after is a %s, not a struct", ct_type_name(as->type));
        return WC_PERMANENT;
    }
    if (c->mode == DEL_REWRITE || c->mode == DEL_REWRITE_TOMBSTONE)
        insert_deleted(x, c, r, false);
    if (c->route && route(x, c, r->vs, r->value, r, err, errlen) < 0)
        return WC_PERMANENT;
    if (add_fields(x, c, env, envv, r, err, errlen) < 0)
        return WC_PERMANENT;
    if (c->drop_header && drop_fields(x, c, r, err, errlen) < 0)
        return WC_PERMANENT;
    return WC_OK;
}

const tf_type_t tf_dbz_unwrap = { "io.debezium.transforms.ExtractNewRecordState", unwrap_opts, unwrap_configure,
                                  unwrap_free, unwrap_apply };

/* ---------------------------------------------------------------- ByLogicalTableRouter */

typedef struct {
    regex_t topic_re, key_re;
    bool has_key_re;
    char *topic_rep, *key_rep, *key_field;
    bool unique;
    avro_adjust_t adjust;
} router_conf_t;

static const char *const logical_opts[] = { "topic.regex", "topic.replacement", "key.enforce.uniqueness",
                                            "key.field.regex", "key.field.name", "key.field.replacement",
                                            "schema.name.adjustment.mode", "logical.table.cache.size", NULL };

static void logical_free(void *p)
{
    router_conf_t *c = p;
    regfree(&c->topic_re);
    if (c->has_key_re)
        regfree(&c->key_re);
    free(c->topic_rep);
    free(c->key_rep);
    free(c->key_field);
    free(c);
}

static int logical_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    const char *re, *rep;
    if (tf_opt_required(o, "topic.regex", &re, err, errlen) < 0 || tf_opt_required(o, "topic.replacement", &rep, err, errlen) < 0)
        return -1;
    router_conf_t *c = xcalloc(1, sizeof *c);
    char what[256];
    snprintf(what, sizeof what, "%s.%s.topic.regex", o->kind, o->alias);
    if (rx_compile(&c->topic_re, re, what, err, errlen) < 0) {
        free(c);
        return -1;
    }
    c->topic_rep = xstrdup(rep);
    c->key_field = xstrdup(tf_opt_str(o, "key.field.name", "__dbz__physicalTableIdentifier"));
    if (tf_replacement_check(rep, c->topic_re.re_nsub, o, "topic.replacement", err, errlen) < 0)
        goto fail;
    const char *kre = tf_opt_str(o, "key.field.regex", "");
    while (*kre == ' ')
        kre++;
    if (*kre) {
        const char *krep = tf_opt_str(o, "key.field.replacement", "");
        if (!*krep) {
            snprintf(err, errlen, "%s.%s.key.field.replacement must be non-empty if key.field.regex is set", o->kind, o->alias);
            goto fail;
        }
        snprintf(what, sizeof what, "%s.%s.key.field.regex", o->kind, o->alias);
        if (rx_compile(&c->key_re, tf_opt(o, "key.field.regex"), what, err, errlen) < 0)
            goto fail;
        c->has_key_re = true;
        c->key_rep = xstrdup(krep);
        if (tf_replacement_check(krep, c->key_re.re_nsub, o, "key.field.replacement", err, errlen) < 0)
            goto fail;
    }
    static const char *const modes[] = { "none", "avro", "avro_unicode", NULL };
    int m;
    if (tf_opt_bool(o, "key.enforce.uniqueness", true, &c->unique, err, errlen) < 0 ||
        tf_opt_enum(o, "schema.name.adjustment.mode", "none", modes, &m, err, errlen) < 0)
        goto fail;
    c->adjust = m == 1 ? AVRO_ADJUST_AVRO : m == 2 ? AVRO_ADJUST_UNICODE : AVRO_ADJUST_NONE;
    const char *cs = tf_opt(o, "logical.table.cache.size");
    if (cs) {
        char *end;
        long v = strtol(cs, &end, 10);
        if (!*cs || *end || v < 1) {
            snprintf(err, errlen, "%s.%s.logical.table.cache.size: '%s' is not a positive number", o->kind, o->alias, cs);
            goto fail;
        }
    }
    *conf = c;
    return 0;
fail:
    logical_free(c);
    return -1;
}

/* The regex's replacement over the whole of s, or NULL when it does not match (memoised per topic). */
static const char *regex_replace(const tf_ctx_t *x, tf_memo_t *m, const regex_t *re, const char *rep, const char *s)
{
    const char *out;
    if (tf_memo_get(m, s, &out))
        return out;
    regmatch_t pm[TF_MAX_GROUPS];
    size_t ng = re->re_nsub < TF_MAX_GROUPS ? re->re_nsub : TF_MAX_GROUPS - 1;
    out = rx_matches(re, s, pm, ng + 1) ? tf_replace_groups(x->a, s, pm, ng, rep) : NULL;
    tf_memo_put(m, x->schemas, s, out);
    return out;
}

/* copySchemaExcludingName: version, doc, parameters, optionality (no default), named name. */
static cs_schema_t *renamed_struct(arena_t *a, const cs_schema_t *s, const char *name, avro_adjust_t adjust)
{
    cs_schema_t *b = cs_new(a, CT_STRUCT, s->optional);
    b->version = s->version;
    b->doc = s->doc;
    memcpy(b->params, s->params, sizeof b->params);
    b->nparams = s->nparams;
    b->name = avro_adjust_name(a, arena_strdup(a, name), adjust, false);
    return b;
}

static wc_status_t logical_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const router_conf_t *c = conf;
    if (!r->topic)
        return WC_OK;
    const char *old = r->topic;
    const char *topic = regex_replace(x, &x->memo[0], &c->topic_re, c->topic_rep, old);
    if (!topic || !*topic)
        return WC_OK;   /* no match, or an empty name (Debezium warns and keeps the record as it is) */
    char name[1024];
    if (r->key) {
        if (!r->ks || r->ks->type != CT_STRUCT || r->key->null) {
            snprintf(err, errlen, "only Struct objects supported for [Updating schema], found: %s",
                     r->ks ? ct_type_name(r->ks->type) : "a schemaless key");
            return WC_PERMANENT;
        }
        const cs_schema_t *ks = r->ks;
        const cs_schema_t *nks = tf_cache_get(x->cache, ks->uid, 0);
        if (!nks) {
            snprintf(name, sizeof name, "%s.Key", topic);
            cs_schema_t *b = renamed_struct(x->schemas, ks, name, c->adjust);
            for (size_t i = 0; i < ks->nfields; i++)
                cs_field_add(x->schemas, b, ks->fields[i].name, ks->fields[i].schema);
            if (c->unique) {
                if (cs_field_index(b, c->key_field) >= 0) {
                    snprintf(err, errlen, "key field %s is already in the key", c->key_field);
                    return WC_PERMANENT;
                }
                cs_field_add(x->schemas, b, c->key_field, cs_new(x->schemas, CT_STRING, false));
            }
            tf_cache_put(x->cache, ks->uid, 0, b);
            nks = b;
        }
        cv_value_t *nk = arena_alloc(x->a, sizeof *nk);
        *nk = cv_list(x->a, nks->nfields);
        for (size_t i = 0; i < ks->nfields; i++)
            nk->u.list.v[i] = tf_field_get(ks, r->key, i, false);
        if (c->unique) {
            const char *id = c->has_key_re ? regex_replace(x, &x->memo[1], &c->key_re, c->key_rep, old) : NULL;
            if (!id)
                id = old;
            nk->u.list.v[ks->nfields] = cv_str(id, strlen(id));
        }
        r->ks = nks;
        r->key = nk;
    } else {
        r->ks = NULL;   /* Debezium passes a null key schema along with the null key */
    }
    r->topic = topic;
    r->fresh = true;
    const cs_schema_t *env = r->vs;
    if (!r->value || !env || !env->name || !ends_with(env->name, ".Envelope") || env->type != CT_STRUCT)
        return WC_OK;
    int bi = cs_field_index(env, "before"), ai = cs_field_index(env, "after");
    if (bi < 0 || env->fields[bi].schema->type != CT_STRUCT) {
        snprintf(err, errlen, "the envelope %s has no before struct", env->name);
        return WC_PERMANENT;
    }
    const cs_schema_t *nenv = tf_cache_get(x->cache, env->uid, 1);
    if (!nenv) {
        const cs_schema_t *vs = env->fields[bi].schema;
        snprintf(name, sizeof name, "%s.Value", topic);
        cs_schema_t *nv = renamed_struct(x->schemas, vs, name, c->adjust);
        for (size_t i = 0; i < vs->nfields; i++)
            cs_field_add(x->schemas, nv, vs->fields[i].name, vs->fields[i].schema);
        snprintf(name, sizeof name, "%s.Envelope", topic);
        cs_schema_t *b = renamed_struct(x->schemas, env, name, c->adjust);
        for (size_t i = 0; i < env->nfields; i++)
            cs_field_add(x->schemas, b, env->fields[i].name,
                         (int)i == bi || (int)i == ai ? nv : env->fields[i].schema);
        tf_cache_put(x->cache, env->uid, 1, b);
        nenv = b;
    }
    cv_value_t *ne = arena_alloc(x->a, sizeof *ne);
    *ne = cv_list(x->a, nenv->nfields);
    for (size_t i = 0; i < env->nfields; i++) {
        cv_value_t fv = tf_field_get(env, r->value, i, true);
        if (((int)i == bi || (int)i == ai) && !fv.null) {
            /* updateValue: getWithoutDefault of every field (the same values, a struct of the new schema) */
            const cs_schema_t *vs = env->fields[i].schema;
            cv_value_t nvv = cv_list(x->a, vs->nfields);
            for (size_t k = 0; k < vs->nfields; k++)
                nvv.u.list.v[k] = tf_field_get(vs, &fv, k, false);
            fv = nvv;
        }
        ne->u.list.v[i] = fv;
    }
    r->vs = nenv;
    r->value = ne;
    return WC_OK;
}

const tf_type_t tf_dbz_logical_router = { "io.debezium.transforms.ByLogicalTableRouter", logical_opts,
                                          logical_configure, logical_free, logical_apply };
