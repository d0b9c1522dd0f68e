/* envelope.c: Debezium change events as JsonConverter writes them, decoded into schemas/ values.
 * The schema part of a record is hashed and parsed once; only the payload is parsed per record. */
#include "sinks/envelope.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENV_CACHE_SLOTS 256
#define ENV_MAX_DEPTH 32

typedef struct env_cached {
    uint64_t hash;
    char *text;
    size_t len;
    const cs_schema_t *schema;
    struct env_cached *next;
} env_cached_t;

struct env_decoder {
    arena_t *arena;                 /* cached schemas, for the decoder's lifetime */
    env_cached_t *slots[ENV_CACHE_SLOTS];
    size_t parses;
    size_t cached;
};

env_decoder_t *env_decoder_new(void)
{
    env_decoder_t *d = xcalloc(1, sizeof *d);
    d->arena = arena_new(64 * 1024);
    return d;
}

static void cache_clear(env_decoder_t *d)
{
    for (size_t i = 0; i < ENV_CACHE_SLOTS; i++) {
        env_cached_t *c = d->slots[i];
        while (c) {
            env_cached_t *n = c->next;
            free(c->text);
            free(c);
            c = n;
        }
        d->slots[i] = NULL;
    }
    d->cached = 0;
}

void env_decoder_free(env_decoder_t *d)
{
    if (!d)
        return;
    cache_clear(d);
    arena_free(d->arena);
    free(d);
}

size_t env_schema_parses(const env_decoder_t *d)
{
    return d->parses;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int env_base64_decode(arena_t *a, const char *s, size_t n, const unsigned char **out, size_t *outlen)
{
    unsigned char *o = arena_alloc(a, n / 4 * 3 + 3);
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < n; i++) {
        char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else if (c == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    for (; i < n; i++)
        if (s[i] != '=')
            return -1;
    if (bits >= 6)   /* a lone sextet cannot end a base64 text */
        return -1;
    *out = o;
    *outlen = k;
    return 0;
}

/* ---- Connect schema JSON -> cs_schema_t ---- */

static int type_from_name(const char *t, ct_type_t *out)
{
    static const struct { const char *n; ct_type_t t; } map[] = {
        { "int8", CT_INT8 }, { "int16", CT_INT16 }, { "int32", CT_INT32 }, { "int64", CT_INT64 },
        { "float", CT_FLOAT32 }, { "float32", CT_FLOAT32 }, { "double", CT_FLOAT64 }, { "float64", CT_FLOAT64 },
        { "boolean", CT_BOOLEAN }, { "string", CT_STRING }, { "bytes", CT_BYTES }, { "array", CT_ARRAY },
        { "map", CT_MAP }, { "struct", CT_STRUCT },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i].n, t)) {
            *out = map[i].t;
            return 0;
        }
    return -1;
}

static const cs_schema_t *schema_from_json(arena_t *a, json_t *j, int depth, char *err, size_t errlen)
{
    if (depth > ENV_MAX_DEPTH) {
        snprintf(err, errlen, "schema nested deeper than %d levels", ENV_MAX_DEPTH);
        return NULL;
    }
    if (!json_is_object(j)) {
        snprintf(err, errlen, "schema is not a JSON object");
        return NULL;
    }
    const char *tn = json_string_value(json_object_get(j, "type"));
    ct_type_t t;
    if (!tn || type_from_name(tn, &t) < 0) {
        snprintf(err, errlen, "schema type '%s' is not a Kafka Connect type", tn ? tn : "(missing)");
        return NULL;
    }
    cs_schema_t *s = cs_new(a, t, json_is_true(json_object_get(j, "optional")));
    const char *name = json_string_value(json_object_get(j, "name"));
    if (name)
        s->name = arena_strdup(a, name);
    json_t *ver = json_object_get(j, "version");
    if (json_is_integer(ver))
        s->version = (int)json_integer_value(ver);
    json_t *params = json_object_get(j, "parameters");
    if (json_is_object(params)) {
        const char *k;
        json_t *v;
        json_object_foreach(params, k, v) {
            if (json_is_string(v))
                cs_param_add(s, arena_strdup(a, k), arena_strdup(a, json_string_value(v)));
        }
    }
    if (t == CT_STRUCT) {
        json_t *fields = json_object_get(j, "fields");
        if (!json_is_array(fields)) {
            snprintf(err, errlen, "struct schema '%s' has no fields array", name ? name : "");
            return NULL;
        }
        size_t i;
        json_t *f;
        json_array_foreach(fields, i, f) {
            const char *fn = json_string_value(json_object_get(f, "field"));
            if (!fn) {
                snprintf(err, errlen, "field %zu of struct '%s' has no name", i, name ? name : "");
                return NULL;
            }
            const cs_schema_t *fs = schema_from_json(a, f, depth + 1, err, errlen);
            if (!fs)
                return NULL;
            cs_field_add(a, s, arena_strdup(a, fn), fs);
        }
    } else if (t == CT_ARRAY) {
        if (!(s->items = schema_from_json(a, json_object_get(j, "items"), depth + 1, err, errlen)))
            return NULL;
    } else if (t == CT_MAP) {
        if (!(s->keys = schema_from_json(a, json_object_get(j, "keys"), depth + 1, err, errlen)) ||
            !(s->items = schema_from_json(a, json_object_get(j, "values"), depth + 1, err, errlen)))
            return NULL;
    }
    return s;
}

/* The cached schema for text[0..len), parsing it on a miss. */
static const cs_schema_t *schema_cached(env_decoder_t *d, const char *text, size_t len, char *err, size_t errlen)
{
    uint64_t h = fnv1a(text, len);
    env_cached_t **slot = &d->slots[h % ENV_CACHE_SLOTS];
    for (env_cached_t *c = *slot; c; c = c->next)
        if (c->hash == h && c->len == len && !memcmp(c->text, text, len))
            return c->schema;
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(err, errlen, "schema is not valid JSON: %s at column %d", je.text, je.column);
        return NULL;
    }
    /* a table that changes schema all the time must not grow the cache without bound */
    if (d->cached >= 4096) {
        cache_clear(d);
        arena_reset(d->arena);
    }
    const cs_schema_t *s = schema_from_json(d->arena, j, 0, err, errlen);
    json_decref(j);
    if (!s)
        return NULL;
    env_cached_t *c = xcalloc(1, sizeof *c);
    c->hash = h;
    c->text = xmalloc(len ? len : 1);
    memcpy(c->text, text, len);
    c->len = len;
    c->schema = s;
    c->next = *slot;
    *slot = c;
    d->cached++;
    d->parses++;
    return s;
}

/* ---- payload JSON -> cv_value_t under a schema ---- */

static int value_from_json(arena_t *a, const cs_schema_t *s, json_t *j, cv_value_t *out, const char *path, int depth,
                           char *err, size_t errlen)
{
    if (depth > ENV_MAX_DEPTH) {
        snprintf(err, errlen, "value nested deeper than %d levels at %s", ENV_MAX_DEPTH, path);
        return -1;
    }
    if (!j || json_is_null(j)) {
        *out = cv_null();
        return 0;
    }
    switch (s->type) {
    case CT_INT8:
    case CT_INT16:
    case CT_INT32:
    case CT_INT64:
        if (!json_is_integer(j))
            goto mismatch;
        *out = cv_int(json_integer_value(j));
        if ((s->type == CT_INT8 && (out->u.i < INT8_MIN || out->u.i > INT8_MAX)) ||
            (s->type == CT_INT16 && (out->u.i < INT16_MIN || out->u.i > INT16_MAX)) ||
            (s->type == CT_INT32 && (out->u.i < INT32_MIN || out->u.i > INT32_MAX))) {
            snprintf(err, errlen, "%s: %lld does not fit %s", path, (long long)out->u.i, ct_type_name(s->type));
            return -1;
        }
        return 0;
    case CT_FLOAT32:
    case CT_FLOAT64:
        if (json_is_number(j))
            *out = cv_float(json_number_value(j));
        else if (json_is_string(j) && !strcmp(json_string_value(j), "NaN"))
            *out = cv_float(NAN);
        else if (json_is_string(j) && !strcmp(json_string_value(j), "Infinity"))
            *out = cv_float(INFINITY);
        else if (json_is_string(j) && !strcmp(json_string_value(j), "-Infinity"))
            *out = cv_float(-INFINITY);
        else
            goto mismatch;
        return 0;
    case CT_BOOLEAN:
        if (!json_is_boolean(j))
            goto mismatch;
        *out = cv_bool(json_is_true(j));
        return 0;
    case CT_STRING:
        if (!json_is_string(j))
            goto mismatch;
        *out = cv_str(arena_memdup(a, json_string_value(j), json_string_length(j) + 1), json_string_length(j));
        return 0;
    case CT_BYTES: {
        if (!json_is_string(j))
            goto mismatch;
        const unsigned char *p;
        size_t n;
        if (env_base64_decode(a, json_string_value(j), json_string_length(j), &p, &n) < 0) {
            snprintf(err, errlen, "%s: bytes value is not base64", path);
            return -1;
        }
        *out = cv_str((const char *)p, n);
        return 0;
    }
    case CT_ARRAY: {
        if (!json_is_array(j))
            goto mismatch;
        size_t n = json_array_size(j);
        *out = cv_list(a, n);
        for (size_t i = 0; i < n; i++)
            if (value_from_json(a, s->items, json_array_get(j, i), &out->u.list.v[i], path, depth + 1, err, errlen) < 0)
                return -1;
        return 0;
    }
    case CT_MAP: {
        /* JsonConverter: an object when keys are strings, else an array of [key, value] pairs */
        if (json_is_object(j)) {
            size_t n = json_object_size(j), i = 0;
            *out = cv_list(a, 2 * n);
            out->u.list.n = 2 * n;
            const char *k;
            json_t *v;
            json_object_foreach(j, k, v) {
                out->u.list.v[2 * i] = cv_str(arena_strdup(a, k), strlen(k));
                if (value_from_json(a, s->items, v, &out->u.list.v[2 * i + 1], path, depth + 1, err, errlen) < 0)
                    return -1;
                i++;
            }
            return 0;
        }
        if (!json_is_array(j))
            goto mismatch;
        size_t n = json_array_size(j);
        *out = cv_list(a, 2 * n);
        for (size_t i = 0; i < n; i++) {
            json_t *pair = json_array_get(j, i);
            if (!json_is_array(pair) || json_array_size(pair) != 2)
                goto mismatch;
            if (value_from_json(a, s->keys, json_array_get(pair, 0), &out->u.list.v[2 * i], path, depth + 1, err,
                                errlen) < 0 ||
                value_from_json(a, s->items, json_array_get(pair, 1), &out->u.list.v[2 * i + 1], path, depth + 1, err,
                                errlen) < 0)
                return -1;
        }
        return 0;
    }
    case CT_STRUCT: {
        if (!json_is_object(j))
            goto mismatch;
        *out = cv_list(a, s->nfields);
        for (size_t i = 0; i < s->nfields; i++)
            if (value_from_json(a, s->fields[i].schema, json_object_get(j, s->fields[i].name), &out->u.list.v[i],
                                s->fields[i].name, depth + 1, err, errlen) < 0)
                return -1;
        return 0;
    }
    }
mismatch:
    snprintf(err, errlen, "%s: JSON value does not match schema type %s%s%s", path, ct_type_name(s->type),
             s->name ? " " : "", s->name ? s->name : "");
    return -1;
}

/* Schemaless JSON: the schema is what the JSON types say (objects and arrays as JSON text). */
static const cs_schema_t *schema_infer(arena_t *a, json_t *j)
{
    if (json_is_object(j)) {
        cs_schema_t *s = cs_new(a, CT_STRUCT, true);
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            ct_type_t t = CT_STRING;
            if (json_is_integer(v))
                t = CT_INT64;
            else if (json_is_real(v))
                t = CT_FLOAT64;
            else if (json_is_boolean(v))
                t = CT_BOOLEAN;
            cs_schema_t *fs = cs_new(a, t, true);
            if (json_is_object(v) || json_is_array(v))
                fs->name = "io.debezium.data.Json";
            cs_field_add(a, s, arena_strdup(a, k), fs);
        }
        return s;
    }
    return NULL;
}

static int value_infer(arena_t *a, const cs_schema_t *s, json_t *j, cv_value_t *out, char *err, size_t errlen)
{
    *out = cv_list(a, s->nfields);
    for (size_t i = 0; i < s->nfields; i++) {
        json_t *v = json_object_get(j, s->fields[i].name);
        if (!v || json_is_null(v)) {
            out->u.list.v[i] = cv_null();
        } else if (s->fields[i].schema->name) {
            char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!txt) {
                snprintf(err, errlen, "%s: cannot re-encode nested JSON", s->fields[i].name);
                return -1;
            }
            out->u.list.v[i] = cv_str(arena_strdup(a, txt), strlen(txt));
            free(txt);
        } else if (value_from_json(a, s->fields[i].schema, v, &out->u.list.v[i], s->fields[i].name, 1, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* ---- record splitting: {"schema":S,"payload":P} ---- */

static size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

/* End (exclusive) of the JSON object or array starting at p[i], strings respected; 0 if unbalanced. */
static size_t match_end(const char *p, size_t i, size_t n)
{
    int depth = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (c == '"') {
            for (i++; i < n && p[i] != '"'; i++)
                if (p[i] == '\\')
                    i++;
            if (i >= n)
                return 0;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return i + 1;
        }
    }
    return 0;
}

static bool lit(const char *p, size_t *i, size_t n, const char *s)
{
    size_t l = strlen(s);
    size_t k = skip_ws(p, *i, n);
    if (n - k < l || memcmp(p + k, s, l))
        return false;
    *i = k + l;
    return true;
}

/* Splits walcast's and JsonConverter's layout without a full parse; false if it is another layout
 * (then the caller parses the whole record). */
static bool split_record(const char *p, size_t n, const char **s, size_t *sl, const char **pl, size_t *pll)
{
    size_t i = 0;
    if (!lit(p, &i, n, "{") || !lit(p, &i, n, "\"schema\"") || !lit(p, &i, n, ":"))
        return false;
    i = skip_ws(p, i, n);
    if (i >= n || p[i] != '{')
        return false;
    size_t e = match_end(p, i, n);
    if (!e)
        return false;
    *s = p + i;
    *sl = e - i;
    i = e;
    if (!lit(p, &i, n, ",") || !lit(p, &i, n, "\"payload\"") || !lit(p, &i, n, ":"))
        return false;
    i = skip_ws(p, i, n);
    size_t end = n;
    while (end > i && (p[end - 1] == ' ' || p[end - 1] == '\n' || p[end - 1] == '\r' || p[end - 1] == '\t'))
        end--;
    if (end <= i || p[end - 1] != '}')
        return false;
    end--;
    *pl = p + i;
    *pll = end - i;
    return *pll > 0;
}

/* One record's schema (NULL: schemaless) and payload as a jansson value (caller decrefs). */
static int record_parse(env_decoder_t *d, const char *p, size_t n, const cs_schema_t **schema, json_t **payload,
                        const char *what, char *err, size_t errlen)
{
    const char *st, *pt;
    size_t sl, pl;
    json_error_t je;
    *schema = NULL;
    *payload = NULL;
    if (split_record(p, n, &st, &sl, &pt, &pl)) {
        if (!(*schema = schema_cached(d, st, sl, err, errlen)))
            return -1;
        if (!(*payload = json_loadb(pt, pl, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je))) {
            snprintf(err, errlen, "%s payload is not valid JSON: %s at column %d", what, je.text, je.column);
            return -1;
        }
        return 0;
    }
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!j) {
        snprintf(err, errlen, "%s is not valid JSON: %s at column %d", what, je.text, je.column);
        return -1;
    }
    json_t *sj = json_object_get(j, "schema"), *pj = json_object_get(j, "payload");
    if (json_is_object(j) && json_object_size(j) == 2 && json_is_object(sj) && pj) {
        char *txt = json_dumps(sj, JSON_COMPACT);
        *schema = txt ? schema_cached(d, txt, strlen(txt), err, errlen) : NULL;
        free(txt);
        if (!*schema) {
            json_decref(j);
            return -1;
        }
        *payload = json_incref(pj);
        json_decref(j);
        return 0;
    }
    *payload = j;
    return 0;
}

static const char *jstr(arena_t *a, json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? arena_strdup(a, s) : "";
}

static int64_t jint(json_t *o, const char *k, int64_t dflt)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v))
        return json_integer_value(v);
    /* the source struct carries some positions as strings in other connectors */
    if (json_is_string(v)) {
        char *end;
        long long x = strtoll(json_string_value(v), &end, 10);
        if (*json_string_value(v) && !*end)
            return x;
    }
    return dflt;
}

int env_decode_json(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_event_t *ev, char *err, size_t errlen)
{
    int rc = -1;
    json_t *kp = NULL, *vp = NULL;
    const cs_schema_t *ks = NULL, *vs = NULL;
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
    if (key && klen) {
        if (record_parse(d, key, klen, &ks, &kp, "key", err, errlen) < 0)
            goto out;
        if (!json_is_null(kp)) {
            if (!ks)
                ks = schema_infer(a, kp);
            if (!ks || ks->type != CT_STRUCT) {
                snprintf(err, errlen, "key is not a struct (a JSON object)");
                goto out;
            }
            if (!json_is_object(kp)) {
                snprintf(err, errlen, "key payload is not a JSON object");
                goto out;
            }
            ev->key_schema = ks;
            if (value_from_json(a, ks, kp, &ev->key, "key", 0, err, errlen) < 0)
                goto out;
        }
    }
    if (!value || !vlen) {
        ev->op = ENV_TOMBSTONE;
        rc = 0;
        goto out;
    }
    if (record_parse(d, value, vlen, &vs, &vp, "value", err, errlen) < 0)
        goto out;
    if (json_is_null(vp)) {
        ev->op = ENV_TOMBSTONE;
        rc = 0;
        goto out;
    }
    if (!json_is_object(vp)) {
        snprintf(err, errlen, "value payload is not a JSON object");
        goto out;
    }
    const char *op = json_string_value(json_object_get(vp, "op"));
    if (!op || strlen(op) != 1 || !strchr("crudtm", op[0])) {
        snprintf(err, errlen, "value has no Debezium op (got '%s'); is this a Debezium change event?",
                 op ? op : "(missing)");
        goto out;
    }
    ev->op = (env_op_t)op[0];
    ev->ts_ms = jint(vp, "ts_ms", 0);
    json_t *src = json_object_get(vp, "source");
    if (json_is_object(src)) {
        ev->source.name = jstr(a, src, "name");
        ev->source.db = jstr(a, src, "db");
        ev->source.schema = jstr(a, src, "schema");
        ev->source.table = jstr(a, src, "table");
        ev->source.ts_ms = jint(src, "ts_ms", 0);
        ev->source.ts_us = jint(src, "ts_us", ev->source.ts_ms * 1000);
        int64_t lsn = jint(src, "lsn", 0);
        ev->source.lsn = lsn > 0 ? (uint64_t)lsn : 0;
        ev->source.txid = jint(src, "txId", -1);
    }
    if (ev->op == ENV_TRUNCATE || ev->op == ENV_MESSAGE) {
        rc = 0;
        goto out;
    }
    json_t *bj = json_object_get(vp, "before"), *aj = json_object_get(vp, "after");
    ev->has_before = bj && !json_is_null(bj);
    ev->has_after = aj && !json_is_null(aj);
    if ((ev->op == ENV_DELETE && !ev->has_before && !ks) || (ev->op != ENV_DELETE && !ev->has_after)) {
        snprintf(err, errlen, "op '%c' event without its %s row", op[0], ev->op == ENV_DELETE ? "before" : "after");
        goto out;
    }
    if (vs) {
        if (vs->type != CT_STRUCT) {
            snprintf(err, errlen, "value schema is %s, not a Debezium envelope struct", ct_type_name(vs->type));
            goto out;
        }
        int ai = cs_field_index(vs, "after"), bi = cs_field_index(vs, "before");
        const cs_schema_t *rs = ai >= 0 ? vs->fields[ai].schema : bi >= 0 ? vs->fields[bi].schema : NULL;
        if (!rs || rs->type != CT_STRUCT) {
            snprintf(err, errlen, "value schema '%s' has no before/after row struct", vs->name ? vs->name : "");
            goto out;
        }
        ev->row_schema = rs;
        if ((ev->has_before && value_from_json(a, rs, bj, &ev->before, "before", 0, err, errlen) < 0) ||
            (ev->has_after && value_from_json(a, rs, aj, &ev->after, "after", 0, err, errlen) < 0))
            goto out;
        if ((ev->has_before && !json_is_object(bj)) || (ev->has_after && !json_is_object(aj))) {
            snprintf(err, errlen, "before/after is not a JSON object");
            goto out;
        }
    } else {
        json_t *rowj = ev->has_after ? aj : ev->has_before ? bj : NULL;
        if (rowj && !json_is_object(rowj)) {
            snprintf(err, errlen, "before/after is not a JSON object");
            goto out;
        }
        if (rowj) {
            const cs_schema_t *rs = schema_infer(a, rowj);
            ev->row_schema = rs;
            if (ev->has_after && value_infer(a, rs, aj, &ev->after, err, errlen) < 0)
                goto out;
            if (ev->has_before) {
                if (!json_is_object(bj)) {
                    snprintf(err, errlen, "before is not a JSON object");
                    goto out;
                }
                if (value_infer(a, rs, bj, &ev->before, err, errlen) < 0)
                    goto out;
            }
        }
    }
    rc = 0;
out:
    json_decref(kp);
    json_decref(vp);
    return rc;
}
