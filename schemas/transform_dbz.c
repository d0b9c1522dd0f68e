/* transform_dbz.c: Debezium's transforms over walcast's Connect values, as Debezium 3.6.1 runs them:
 * io.debezium.transforms.ExtractNewRecordState (the "unwrap"), ByLogicalTableRouter and HeaderToValue. */
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
    const cv_value_t op_d = cv_str("d", 1);
    for (size_t i = 0; i < c->nheaders; i++) {
        const fref_t *f = &c->headers[i];
        if (!envv) {
            /* a tombstone: only op, as "d" */
            if (!strcmp(f->field, "op"))
                tf_header_put(x, r, f->out, cs_primitive(CT_STRING), &op_d, true);   /* headers.addString */
            continue;
        }
        const cs_schema_t *fs;
        int si, fi;
        if (fref_find(f, env, &fs, &si, &fi, err, errlen) < 0)
            continue;
        cv_value_t v = fref_value(envv, si, fi);
        /* FieldReference.getSchema: copySchemaBasics(field schema).optional() (a struct loses its fields, an
         * array or map its element schemas, the default goes) */
        const cs_schema_t *hs = tf_cache_get(x->cache, fs->uid, 2);
        if (!hs) {
            cs_schema_t *b = cs_copy(x->schemas, fs);
            b->optional = true;
            b->fields = NULL;
            b->nfields = b->capfields = 0;
            b->items = b->keys = NULL;
            tf_cache_put(x->cache, fs->uid, 2, b);
            hs = b;
        }
        tf_header_put_as(x, r, f->out, hs, fs, &v, true);
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

/* ---------------------------------------------------------------- HeaderToValue */

/* io.debezium.transforms.HeaderToValue with ConnectRecordUtil.makeNewSchema/makeUpdatedValue, as Debezium
 * 3.6.1 runs them, their quirks included: the record's headers in header order, each one named in
 * `headers` giving an entry (field, the header's schema, its value); a field `a.b` goes into struct a
 * (a new optional struct when a is missing); a field is "on the path" of a nested entry when the entry's
 * name contains "<field>." anywhere; the new value schema is cached per value schema, so the first record's
 * headers decide it. */

#define HTV_ROOT "payload"   /* ConnectRecordUtil.ROOT_FIELD_NAME: the value's own level */

typedef struct {
    char *name;
    char **parts;                 /* String.split("\\."): trailing empty parts dropped */
    size_t nparts;
    bool nested;                  /* the name contains '.' */
} htv_field_t;

typedef struct {
    char **headers;
    htv_field_t *fields;
    size_t n;
    bool move;
} htv_conf_t;

typedef struct {
    const htv_field_t *f;
    const cs_schema_t *schema;    /* NULL: no schema (a null header) */
    const cv_value_t *value;      /* NULL: null */
} htv_entry_t;

static const char *const htv_opts[] = { "headers", "fields", "operation", NULL };

static void htv_free(void *p)
{
    htv_conf_t *c = p;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->headers ? c->headers[i] : NULL);
        if (c->fields) {
            free(c->fields[i].name);
            for (size_t k = 0; k < c->fields[i].nparts; k++)
                free(c->fields[i].parts[k]);
            free(c->fields[i].parts);
        }
    }
    free(c->headers);
    free(c->fields);
    free(c);
}

/* Java's s.split(sep) of n bytes: the pieces, trailing empty ones dropped (malloc'd). */
static char **htv_split(const char *s, size_t len, char sep, size_t *n)
{
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += s[i] == sep;
    char **out = xcalloc(cap, sizeof *out);
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == sep) {
            out[k] = xmalloc(i - start + 1);
            memcpy(out[k], s + start, i - start);
            out[k++][i - start] = '\0';
            start = i + 1;
        }
    while (k && !out[k - 1][0])
        free(out[--k]);
    *n = k;
    return out;
}

/* Debezium's Configuration.getList (split on ',', each trimmed) with Field::notContainEmptyElements and
 * Field::notContainSpaceInAnyElement, the key required. */
static char **htv_list(const tf_opts_t *o, const char *key, size_t *n, char *err, size_t errlen)
{
    const char *v = tf_opt(o, key);
    const char *t = v;
    while (t && *t && (unsigned char)*t <= ' ')
        t++;
    if (!t || !*t) {
        snprintf(err, errlen, "%s.%s.%s: A value is required (a comma-separated list)", o->kind, o->alias, key);
        return NULL;
    }
    char **l = htv_split(v, strlen(v), ',', n);
    const char *why = NULL;
    for (size_t i = 0; i < *n; i++) {
        char *a = l[i], *b = a + strlen(a);
        while (*a && (unsigned char)*a <= ' ')
            a++;
        while (b > a && (unsigned char)b[-1] <= ' ')
            b--;
        memmove(l[i], a, (size_t)(b - a));
        l[i][b - a] = '\0';
        if (!l[i][0])
            why = "Empty string element(s) not permitted";
        else if (strchr(l[i], ' ') && !why)
            why = "Element(s) containing space not permitted";
    }
    if (why) {
        snprintf(err, errlen, "%s.%s.%s: %s ('%s')", o->kind, o->alias, key, why, v);
        for (size_t i = 0; i < *n; i++)
            free(l[i]);
        free(l);
        return NULL;
    }
    return l;
}

static int htv_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    static const char *const ops[] = { "move", "copy", NULL };
    htv_conf_t *c = xcalloc(1, sizeof *c);
    size_t nh = 0, nf = 0;
    const char *opv;
    int op;
    char **f = NULL;
    if (!(c->headers = htv_list(o, "headers", &nh, err, errlen)))
        goto fail;
    c->n = nh;
    if (!(f = htv_list(o, "fields", &nf, err, errlen)))
        goto fail;
    if (tf_opt_required(o, "operation", &opv, err, errlen) < 0 || tf_opt_enum(o, "operation", "move", ops, &op, err, errlen) < 0)
        goto fail;
    if (nf != nh) {
        snprintf(err, errlen, "%s.%s: 'fields' config must have the same number of elements as 'headers' config "
                 "(%zu fields, %zu headers)", o->kind, o->alias, nf, nh);
        goto fail;
    }
    c->move = op == 0;
    c->fields = xcalloc(nf ? nf : 1, sizeof *c->fields);
    for (size_t i = 0; i < nf; i++) {
        c->fields[i].name = f[i];
        c->fields[i].nested = strchr(f[i], '.') != NULL;
        c->fields[i].parts = htv_split(f[i], strlen(f[i]), '.', &c->fields[i].nparts);
    }
    free(f);
    *headers = 0;
    *conf = c;
    return 0;
fail:
    if (f) {
        for (size_t i = 0; i < nf; i++)
            free(f[i]);
        free(f);
    }
    htv_free(c);
    return -1;
}

/* The Java class of a value under s (for Connect's messages). */
static const char *htv_class(const cs_schema_t *s)
{
    if (!s)
        return "null";
    if (tf_named(s, "org.apache.kafka.connect.data.Decimal"))
        return "java.math.BigDecimal";
    if (tf_named(s, "org.apache.kafka.connect.data.Date") || tf_named(s, "org.apache.kafka.connect.data.Time") ||
        tf_named(s, "org.apache.kafka.connect.data.Timestamp"))
        return "java.util.Date";
    static const char *const cls[] = { "java.lang.Byte", "java.lang.Short", "java.lang.Integer", "java.lang.Long",
                                       "java.lang.Float", "java.lang.Double", "java.lang.Boolean", "java.lang.String",
                                       "[B", "java.util.ArrayList", "java.util.HashMap",
                                       "org.apache.kafka.connect.data.Struct" };
    return cls[s->type];
}

static bool htv_primitive(const cs_schema_t *s)
{
    return s->type != CT_STRUCT && s->type != CT_ARRAY && s->type != CT_MAP;
}

/* isContainedIn: some nested entry's name contains "<name>." */
static bool htv_contained(const char *name, const htv_entry_t *e, size_t ne)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < ne; i++) {
        if (!e[i].f->nested)
            continue;
        if (!nl)
            return true;
        for (const char *p = strstr(e[i].f->name, name); p; p = strstr(p + 1, name))
            if (p[nl] == '.')
                return true;
    }
    return false;
}

/* getFieldName: the entry's field at this level (the level of field fname, depth level), or NULL. */
static const char *htv_name_at(const htv_field_t *f, const char *fname, int level)
{
    if (f->nparts == 1 && !strcmp(fname, HTV_ROOT))
        return f->parts[0];
    if (f->nparts == (size_t)level + 1 && !strcmp(f->parts[level == 0 ? 0 : level - 1], fname))
        return f->parts[level];
    return NULL;
}

/* getNewParentFieldsAtLevel: the missing structs nested entries go through at this level. */
static size_t htv_new_parents(const char *fname, const cs_schema_t *old, const htv_entry_t *e, size_t ne, int level,
                              const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < ne; i++) {
        const htv_field_t *f = e[i].f;
        if (!f->nested)
            continue;
        bool here = (level == 0 && !strcmp(fname, HTV_ROOT)) ||
                    (level > 0 && (size_t)level < f->nparts && !strcmp(f->parts[level - 1], fname));
        if (!here || (size_t)level + 1 >= f->nparts || cs_field_index(old, f->parts[level]) >= 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = !strcmp(out[k], f->parts[level]);
        if (!seen)
            out[n++] = f->parts[level];
    }
    return n;
}

/* getNestedFieldNameForParent: the entry's field inside new parent struct parent, or NULL. */
static const char *htv_name_in_parent(const htv_field_t *f, const char *parent, const char *fname, int level)
{
    if (level == 0 && !strcmp(fname, HTV_ROOT))
        return f->nparts > 1 && !strcmp(parent, f->parts[0]) ? f->parts[1] : NULL;
    if (level <= 0 || (size_t)level + 1 >= f->nparts)
        return NULL;
    /* the path of the first level + 1 parts, joined by '.', is parent */
    const char *p = parent;
    for (int i = 0; i <= level; i++) {
        size_t l = strlen(f->parts[i]);
        if (strncmp(p, f->parts[i], l))
            return NULL;
        p += l;
        if (i < level && *p++ != '.')
            return NULL;
    }
    return *p ? NULL : f->parts[level + 1];
}

static int htv_add(arena_t *a, cs_schema_t *b, const char *name, const cs_schema_t *s, char *err, size_t errlen)
{
    if (!s) {
        snprintf(err, errlen, "fieldSchema for field %s cannot be null (the header has no schema: a null value)", name);
        return -1;
    }
    if (cs_field_index(b, name) >= 0) {
        snprintf(err, errlen, "Cannot create field because of field name duplication %s", name);
        return -1;
    }
    cs_field_add(a, b, arena_strdup(a, name), s);
    return 0;
}

/* buildNewSchema */
static int htv_schema(arena_t *a, const char *fname, int level, const cs_schema_t *old, const htv_entry_t *e, size_t ne,
                      const cs_schema_t **out, char *err, size_t errlen)
{
    if (htv_primitive(old)) {
        *out = old;
        return 0;
    }
    if (old->type != CT_STRUCT) {
        snprintf(err, errlen, "Cannot list fields on non-struct type (field %s is a %s)", fname, tf_type_java(old->type));
        return -1;
    }
    cs_schema_t *b = tf_struct_basics(a, old);
    for (size_t i = 0; i < old->nfields; i++) {
        const cs_schema_t *fs = old->fields[i].schema;
        if (htv_contained(old->fields[i].name, e, ne) &&
            htv_schema(a, old->fields[i].name, level + 1, fs, e, ne, &fs, err, errlen) < 0)
            return -1;
        cs_field_add(a, b, old->fields[i].name, fs);
    }
    for (size_t i = 0; i < ne; i++) {
        const char *nm = htv_name_at(e[i].f, fname, level);
        if (nm && cs_field_index(b, nm) < 0 && htv_add(a, b, nm, e[i].schema, err, errlen) < 0)
            return -1;
    }
    const char *parents[REC_MAX_HEADERS];
    size_t np = htv_new_parents(fname, old, e, ne, level, parents);
    for (size_t k = 0; k < np; k++) {
        cs_schema_t *ps = cs_new(a, CT_STRUCT, true);
        for (size_t i = 0; i < ne; i++) {
            const char *nm = htv_name_in_parent(e[i].f, parents[k], fname, level);
            if (nm && htv_add(a, ps, nm, e[i].schema, err, errlen) < 0)
                return -1;
        }
        if (htv_add(a, b, parents[k], ps, err, errlen) < 0)
            return -1;
    }
    *out = b;
    return 0;
}

/* Struct.put(name, entry value): the field must exist and take the value. */
static int htv_put(const cs_schema_t *s, cv_value_t *v, const char *name, const htv_entry_t *e, char *err, size_t errlen)
{
    int fi = cs_field_index(s, name);
    if (fi < 0) {
        snprintf(err, errlen, "%s is not a valid field name (the value schema was derived from an earlier record's "
                 "headers)", name);
        return -1;
    }
    const cs_schema_t *fs = s->fields[fi].schema;
    bool null = !e->value || e->value->null;
    if (null && !fs->optional) {
        snprintf(err, errlen, "Invalid value: null used for required field: \"%s\", schema type: %s", name,
                 tf_type_java(fs->type));
        return -1;
    }
    /* validateValue checks the Java class: a logical Date/Time/Timestamp or Decimal is no Long or byte[] */
    if (!null && (!tf_fits(fs, e->schema, false) || strcmp(htv_class(fs), htv_class(e->schema)))) {
        snprintf(err, errlen, "Invalid Java object for schema with type %s: class %s for field: \"%s\"",
                 tf_type_java(fs->type), htv_class(e->schema), name);
        return -1;
    }
    v->u.list.v[fi] = null ? cv_null() : *e->value;
    return 0;
}

/* What JsonConverter then refuses: a required field (from index from on) left null without a default. */
static int htv_required(const cs_schema_t *s, const cv_value_t *v, size_t from, char *err, size_t errlen)
{
    for (size_t i = from; i < s->nfields; i++)
        if (v->u.list.v[i].null && !s->fields[i].schema->optional && !s->fields[i].schema->def) {
            snprintf(err, errlen, "Conversion error: null value for field that is required and has no default value "
                     "(%s: no header gave it)", s->fields[i].name);
            return -1;
        }
    return 0;
}

/* buildUpdatedValue */
static int htv_value(arena_t *a, const char *fname, int level, const cs_schema_t *os, const cv_value_t *ov,
                     const cs_schema_t *us, const htv_entry_t *e, size_t ne, cv_value_t *out, char *err, size_t errlen)
{
    if (us->type != CT_STRUCT) {
        snprintf(err, errlen, "Not a struct schema: %s (field %s)", tf_type_java(us->type), fname);
        return -1;
    }
    *out = cv_list(a, us->nfields);
    for (size_t i = 0; i < os->nfields; i++) {
        cv_value_t v = tf_field_get(os, ov, i, true);
        if (v.null)
            continue;
        const char *name = os->fields[i].name;
        int ui = cs_field_index(us, name);
        if (ui < 0) {
            snprintf(err, errlen, "%s is not a valid field name", name);
            return -1;
        }
        if (htv_contained(name, e, ne)) {
            if (os->fields[i].schema->type != CT_STRUCT) {
                snprintf(err, errlen, "Only Struct objects supported for [Nested field], found: %s (field %s)",
                         htv_class(os->fields[i].schema), name);
                return -1;
            }
            cv_value_t nv;
            if (htv_value(a, name, level + 1, os->fields[i].schema, &v, us->fields[ui].schema, e, ne, &nv, err, errlen) < 0)
                return -1;
            v = nv;
        }
        out->u.list.v[ui] = v;
    }
    for (size_t i = 0; i < ne; i++) {
        const char *nm = htv_name_at(e[i].f, fname, level);
        if (nm && htv_put(us, out, nm, &e[i], err, errlen) < 0)
            return -1;
    }
    const char *parents[REC_MAX_HEADERS];
    size_t np = htv_new_parents(fname, os, e, ne, level, parents);
    for (size_t k = 0; k < np; k++) {
        int pi = cs_field_index(us, parents[k]);
        if (pi < 0)
            continue;
        const cs_schema_t *ps = us->fields[pi].schema;
        if (ps->type != CT_STRUCT) {
            snprintf(err, errlen, "Not a struct schema: %s (field %s)", tf_type_java(ps->type), parents[k]);
            return -1;
        }
        cv_value_t pv = cv_list(a, ps->nfields);
        for (size_t i = 0; i < ne; i++) {
            const char *nm = htv_name_in_parent(e[i].f, parents[k], fname, level);
            if (nm && htv_put(ps, &pv, nm, &e[i], err, errlen) < 0)
                return -1;
        }
        if (htv_required(ps, &pv, 0, err, errlen) < 0)
            return -1;
        out->u.list.v[pi] = pv;
    }
    return htv_required(us, out, os->nfields, err, errlen);
}

/* validateNestedFieldsExist */
static int htv_check_paths(const cs_schema_t *vs, const htv_entry_t *e, size_t ne, char *err, size_t errlen)
{
    for (size_t i = 0; i < ne; i++) {
        const htv_field_t *f = e[i].f;
        if (!f->nested)
            continue;
        const cs_schema_t *cur = vs;
        for (size_t k = 0; k + 1 < f->nparts; k++) {
            if (cur->type != CT_STRUCT) {
                snprintf(err, errlen, "Cannot look up fields on non-struct type (%s of %s)", f->parts[k], f->name);
                return -1;
            }
            int fi = cs_field_index(cur, f->parts[k]);
            if (fi < 0)
                break;
            cur = cur->fields[fi].schema;
            if (htv_primitive(cur)) {
                snprintf(err, errlen, "Field '%s' is a primitive type, not a struct. Cannot add nested field '%s'.",
                         f->parts[k], f->name);
                return -1;
            }
        }
    }
    return 0;
}

static wc_status_t htv_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const htv_conf_t *c = conf;
    if (!r->value || r->value->null)
        return WC_OK;   /* a tombstone passes */
    if (!r->vs || r->vs->type != CT_STRUCT) {
        snprintf(err, errlen, "Only Struct objects supported for [Header field insertion], found: %s", htv_class(r->vs));
        return WC_PERMANENT;
    }
    htv_entry_t e[REC_MAX_HEADERS];
    size_t ne = 0;
    for (int i = 0; i < r->nh; i++) {
        const rec_header_t *h = &r->h[i];
        size_t k = 0;
        while (k < c->n && strcmp(c->headers[k], h->key))
            k++;
        if (k == c->n)
            continue;
        e[ne] = (htv_entry_t){ .f = &c->fields[k], .schema = h->schema, .value = h->cv };
        if (!h->schema) {
            /* bytes only (a sink record's header): SimpleHeaderConverter's reading of them */
            cv_value_t *pv = arena_alloc(x->a, sizeof *pv);
            if (tf_header_parse(h->value, h->len, &e[ne].schema, pv) < 0) {
                snprintf(err, errlen, "header %s: walcast cannot tell which Connect type Kafka's SimpleHeaderConverter "
                         "gives '%.*s' (a decimal or float, a date or time, an array or a map); HeaderToValue takes "
                         "strings, booleans and integers from a header that has only bytes", h->key,
                         (int)(h->len > 64 ? 64 : h->len), (const char *)h->value);
                return WC_PERMANENT;
            }
            e[ne].value = pv->null ? NULL : pv;
        }
        ne++;
    }
    if (!ne)
        return WC_OK;
    const cs_schema_t *us = tf_cache_get(x->cache, r->vs->uid, 0);
    if (!us) {
        if (htv_check_paths(r->vs, e, ne, err, errlen) < 0 ||
            htv_schema(x->schemas, HTV_ROOT, 0, r->vs, e, ne, &us, err, errlen) < 0)
            return WC_PERMANENT;
        tf_cache_put(x->cache, r->vs->uid, 0, us);
    }
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    if (htv_value(x->a, HTV_ROOT, 0, r->vs, r->value, us, e, ne, nv, err, errlen) < 0)
        return WC_PERMANENT;
    if (c->move) {
        int k = 0;
        for (int i = 0; i < r->nh; i++) {
            size_t j = 0;
            while (j < c->n && strcmp(c->headers[j], r->h[i].key))
                j++;
            if (j == c->n)
                r->h[k++] = r->h[i];
        }
        r->nh = k;
    }
    tf_side_set(r, false, us, nv);
    return WC_OK;
}

const tf_type_t tf_dbz_header_to_value = { "io.debezium.transforms.HeaderToValue", htv_opts, htv_configure, htv_free,
                                           htv_apply };
