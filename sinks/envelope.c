/* envelope.c: Debezium change events as JsonConverter writes them, decoded into schemas/ values.
 * The schema part of a record is hashed and parsed once; only the payload is parsed per record. */
#include "sinks/envelope.h"

#include <errno.h>
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

/* Where the envelope's parts sit in a value schema: field indices found once per schema (a topic's
 * records share one), not by name per record. -1: no such field. */
typedef struct env_layout {
    const cs_schema_t *vs;
    int op, ts_ms, source, after, before;
    int s_name, s_db, s_schema, s_table, s_ts_ms, s_ts_us, s_lsn, s_seq, s_txid;   /* in source's struct */
} env_layout_t;

struct env_decoder {
    arena_t *arena;                 /* cached schemas, for the decoder's lifetime */
    env_cached_t *slots[ENV_CACHE_SLOTS];
    env_cached_t *last[2];          /* the key's and the value's last schema: a record that starts with the
                                       same bytes needs no scan and no hash (the steady state of a topic) */
    struct av_schema *avro;         /* Avro writer schemas by registry id (in arena, never cleared) */
    size_t parses;
    size_t cached;
    env_layout_t layout;            /* the envelope's field indices in the last value schema (JSON path) */
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
    d->last[0] = d->last[1] = NULL;
    d->layout.vs = NULL;
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

/* The cached schema for text[0..len), parsing it on a miss; *entry is its cache entry. */
static const cs_schema_t *schema_cached_entry(env_decoder_t *d, const char *text, size_t len, env_cached_t **entry,
                                              char *err, size_t errlen);

static const cs_schema_t *schema_cached(env_decoder_t *d, const char *text, size_t len, char *err, size_t errlen)
{
    env_cached_t *e;
    return schema_cached_entry(d, text, len, &e, err, errlen);
}

static const cs_schema_t *schema_cached_entry(env_decoder_t *d, const char *text, size_t len, env_cached_t **entry,
                                              char *err, size_t errlen)
{
    uint64_t h = buf_hash(text, len, 0);
    env_cached_t **slot = &d->slots[h % ENV_CACHE_SLOTS];
    for (env_cached_t *c = *slot; c; c = c->next)
        if (c->hash == h && c->len == len && !memcmp(c->text, text, len)) {
            *entry = c;
            return c->schema;
        }
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
    *entry = c;
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


/* ---- the typed reader: payload JSON read straight into values under a known schema ----
 * Bounds-checked cursor over [p, end); no DOM, no allocation but the values' own (in the arena). */

typedef struct jr {
    const char *p, *end;
    arena_t *a;
    char *err;
    size_t errlen;
} jr_t;

static int jr_fail(jr_t *r, const char *what, const char *path)
{
    snprintf(r->err, r->errlen, "%s%s%s at byte %zu", path ? path : "", path ? ": " : "", what,
             (size_t)(r->end - r->p));
    return -1;
}

static void jr_ws(jr_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

static bool jr_lit(jr_t *r, const char *lit, size_t n)
{
    if ((size_t)(r->end - r->p) >= n && !memcmp(r->p, lit, n)) {
        r->p += n;
        return true;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int jr_hex4(jr_t *r, unsigned *out)
{
    if (r->end - r->p < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(r->p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    r->p += 4;
    *out = v;
    return 0;
}

/* A JSON string (cursor on its opening quote), unescaped into the arena, NUL-terminated. */
static int jr_string(jr_t *r, const char **out, size_t *outlen, const char *path)
{
    if (r->p >= r->end || *r->p != '"')
        return jr_fail(r, "expected a string", path);
    const char *s = ++r->p;
    const char *q = s;
    while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    if (q < r->end && *q == '"') {   /* no escapes: one copy */
        *out = arena_strndup(r->a, s, (size_t)(q - s));
        *outlen = (size_t)(q - s);
        r->p = q + 1;
        return 0;
    }
    /* with escapes: the unescaped text is never longer than the escaped one */
    const char *e = q;
    while (e < r->end && *e != '"') {
        if (*e == '\\')
            e++;
        e++;
    }
    if (e >= r->end)
        return jr_fail(r, "unterminated string", path);
    char *o = arena_alloc(r->a, (size_t)(e - s) + 1), *w = o;
    r->p = s;
    while (r->p < r->end && *r->p != '"') {
        unsigned char c = (unsigned char)*r->p;
        if (c < 0x20)
            return jr_fail(r, "control character in a string", path);
        if (c != '\\') {
            *w++ = (char)c;
            r->p++;
            continue;
        }
        if (++r->p >= r->end)
            return jr_fail(r, "unterminated escape", path);
        char x = *r->p++;
        switch (x) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '/': *w++ = '/'; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u': {
            unsigned u;
            if (jr_hex4(r, &u) < 0)
                return jr_fail(r, "bad \\u escape", path);
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (!jr_lit(r, "\\u", 2) || jr_hex4(r, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                    return jr_fail(r, "unpaired surrogate in \\u escape", path);
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF)
                return jr_fail(r, "unpaired surrogate in \\u escape", path);
            if (u < 0x80)
                *w++ = (char)u;
            else if (u < 0x800) {
                *w++ = (char)(0xC0 | u >> 6);
                *w++ = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                *w++ = (char)(0xE0 | u >> 12);
                *w++ = (char)(0x80 | (u >> 6 & 0x3F));
                *w++ = (char)(0x80 | (u & 0x3F));
            } else {
                *w++ = (char)(0xF0 | u >> 18);
                *w++ = (char)(0x80 | (u >> 12 & 0x3F));
                *w++ = (char)(0x80 | (u >> 6 & 0x3F));
                *w++ = (char)(0x80 | (u & 0x3F));
            }
            break;
        }
        default:
            return jr_fail(r, "bad escape", path);
        }
    }
    if (r->p >= r->end)
        return jr_fail(r, "unterminated string", path);
    r->p++;
    *w = '\0';
    *out = o;
    *outlen = (size_t)(w - o);
    return 0;
}

/* The span of a JSON number at the cursor; *integral: no fraction or exponent. */
static int jr_number(jr_t *r, const char **s, size_t *n, bool *integral, const char *path)
{
    const char *b = r->p, *q = r->p;
    *integral = true;
    if (q < r->end && *q == '-')
        q++;
    if (q >= r->end || *q < '0' || *q > '9')
        return jr_fail(r, "expected a number", path);
    while (q < r->end && *q >= '0' && *q <= '9')
        q++;
    if (q < r->end && *q == '.') {
        *integral = false;
        q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return jr_fail(r, "bad number", path);
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        *integral = false;
        q++;
        if (q < r->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= r->end || *q < '0' || *q > '9')
            return jr_fail(r, "bad number", path);
        while (q < r->end && *q >= '0' && *q <= '9')
            q++;
    }
    *s = b;
    *n = (size_t)(q - b);
    r->p = q;
    return 0;
}

static int jr_skip(jr_t *r, int depth);

static int jr_skip_container(jr_t *r, char close, int depth)
{
    r->p++;
    jr_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        jr_ws(r);
        if (close == '}') {
            const char *k;
            size_t kl;
            if (jr_string(r, &k, &kl, NULL) < 0)
                return -1;
            jr_ws(r);
            if (!jr_lit(r, ":", 1))
                return jr_fail(r, "expected ':'", NULL);
            jr_ws(r);
        }
        if (jr_skip(r, depth + 1) < 0)
            return -1;
        jr_ws(r);
        if (jr_lit(r, ",", 1))
            continue;
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return 0;
        }
        return jr_fail(r, "expected ',' or the end of a container", NULL);
    }
}

static int jr_skip(jr_t *r, int depth)
{
    if (depth > ENV_MAX_DEPTH)
        return jr_fail(r, "nested too deep", NULL);
    jr_ws(r);
    if (r->p >= r->end)
        return jr_fail(r, "unexpected end", NULL);
    const char *s;
    size_t n;
    bool integral;
    switch (*r->p) {
    case '{': return jr_skip_container(r, '}', depth);
    case '[': return jr_skip_container(r, ']', depth);
    case '"': return jr_string(r, &s, &n, NULL);
    case 't': return jr_lit(r, "true", 4) ? 0 : jr_fail(r, "bad literal", NULL);
    case 'f': return jr_lit(r, "false", 5) ? 0 : jr_fail(r, "bad literal", NULL);
    case 'n': return jr_lit(r, "null", 4) ? 0 : jr_fail(r, "bad literal", NULL);
    default: return jr_number(r, &s, &n, &integral, NULL);
    }
}

static int jr_value(jr_t *r, const cs_schema_t *s, cv_value_t *out, const char *path, int depth);

/* Whether NUL-terminated name is exactly the kl bytes at k (no strlen: field names are matched per field
 * of every record). */
static inline bool name_is(const char *name, const char *k, size_t kl)
{
    size_t i = 0;
    while (i < kl && name[i] && name[i] == k[i])
        i++;
    return i == kl && !name[kl];
}

/* '[' values ']' into an arena list (grown by doubling). */
static int jr_list(jr_t *r, const cs_schema_t *items, cv_value_t *out, const char *path, int depth, bool pairs,
                   const cs_schema_t *keys)
{
    size_t cap = 8, n = 0;
    cv_value_t *v = arena_alloc(r->a, cap * sizeof *v);
    r->p++;
    jr_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        goto done;
    }
    for (;;) {
        if (n + 2 > cap) {
            cv_value_t *nv = arena_alloc(r->a, 2 * cap * sizeof *nv);
            memcpy(nv, v, n * sizeof *v);
            v = nv;
            cap *= 2;
        }
        jr_ws(r);
        if (pairs) {   /* a map with non-string keys: [[k, v], ...] */
            if (!jr_lit(r, "[", 1))
                return jr_fail(r, "expected a [key, value] pair", path);
            if (jr_value(r, keys, &v[n++], path, depth + 1) < 0)
                return -1;
            jr_ws(r);
            if (!jr_lit(r, ",", 1))
                return jr_fail(r, "expected ','", path);
            if (jr_value(r, items, &v[n++], path, depth + 1) < 0)
                return -1;
            jr_ws(r);
            if (!jr_lit(r, "]", 1))
                return jr_fail(r, "expected ']'", path);
        } else if (jr_value(r, items, &v[n++], path, depth + 1) < 0)
            return -1;
        jr_ws(r);
        if (jr_lit(r, ",", 1))
            continue;
        if (jr_lit(r, "]", 1))
            break;
        return jr_fail(r, "expected ',' or ']'", path);
    }
done:
    out->null = false;
    out->u.list.v = v;
    out->u.list.n = n;
    return 0;
}

static int jr_value(jr_t *r, const cs_schema_t *s, cv_value_t *out, const char *path, int depth)
{
    if (depth > ENV_MAX_DEPTH)
        return jr_fail(r, "nested too deep", path);
    jr_ws(r);
    if (r->p >= r->end)
        return jr_fail(r, "unexpected end", path);
    if (jr_lit(r, "null", 4)) {
        *out = cv_null();
        return 0;
    }
    const char *t;
    size_t n;
    bool integral;
    char num[64];
    switch (s->type) {
    case CT_INT8:
    case CT_INT16:
    case CT_INT32:
    case CT_INT64: {
        if (jr_number(r, &t, &n, &integral, path) < 0)
            return -1;
        if (!integral || n >= sizeof num)
            goto mismatch;
        /* the span is '-'? digits (jr_number checked it): accumulate as unsigned, overflow past int64 fails */
        bool neg = *t == '-', over = false;
        uint64_t u = 0;
        for (size_t i = neg; i < n; i++) {
            unsigned d = (unsigned)(t[i] - '0');
            if (u > (UINT64_MAX - d) / 10)
                over = true;
            u = u * 10 + d;
        }
        over |= neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX;
        long long x = neg ? (long long)(0 - u) : (long long)u;
        if (over || (s->type == CT_INT8 && (x < INT8_MIN || x > INT8_MAX)) ||
            (s->type == CT_INT16 && (x < INT16_MIN || x > INT16_MAX)) ||
            (s->type == CT_INT32 && (x < INT32_MIN || x > INT32_MAX))) {
            memcpy(num, t, n);
            num[n] = '\0';
            snprintf(r->err, r->errlen, "%s: %s does not fit %s", path, num, ct_type_name(s->type));
            return -1;
        }
        *out = cv_int(x);
        return 0;
    }
    case CT_FLOAT32:
    case CT_FLOAT64:
        if (*r->p == '"') {
            if (jr_string(r, &t, &n, path) < 0)
                return -1;
            if (!strcmp(t, "NaN"))
                *out = cv_float(NAN);
            else if (!strcmp(t, "Infinity"))
                *out = cv_float(INFINITY);
            else if (!strcmp(t, "-Infinity"))
                *out = cv_float(-INFINITY);
            else
                goto mismatch;
            return 0;
        }
        if (jr_number(r, &t, &n, &integral, path) < 0)
            return -1;
        if (n >= sizeof num)
            goto mismatch;
        memcpy(num, t, n);
        num[n] = '\0';
        *out = cv_float(strtod(num, NULL));
        return 0;
    case CT_BOOLEAN:
        if (jr_lit(r, "true", 4))
            *out = cv_bool(true);
        else if (jr_lit(r, "false", 5))
            *out = cv_bool(false);
        else
            goto mismatch;
        return 0;
    case CT_STRING:
        if (*r->p != '"')
            goto mismatch;
        if (jr_string(r, &t, &n, path) < 0)
            return -1;
        *out = cv_str(t, n);
        return 0;
    case CT_BYTES: {
        if (*r->p != '"')
            goto mismatch;
        if (jr_string(r, &t, &n, path) < 0)
            return -1;
        const unsigned char *b;
        size_t bl;
        if (env_base64_decode(r->a, t, n, &b, &bl) < 0) {
            snprintf(r->err, r->errlen, "%s: bytes value is not base64", path);
            return -1;
        }
        *out = cv_str((const char *)b, bl);
        return 0;
    }
    case CT_ARRAY:
        if (*r->p != '[')
            goto mismatch;
        return jr_list(r, s->items, out, path, depth, false, NULL);
    case CT_MAP:
        if (*r->p == '[')
            return jr_list(r, s->items, out, path, depth, true, s->keys);
        if (*r->p != '{')
            goto mismatch;
        {
            size_t cap = 8, cnt = 0;
            cv_value_t *v = arena_alloc(r->a, cap * sizeof *v);
            r->p++;
            jr_ws(r);
            if (!jr_lit(r, "}", 1)) {
                for (;;) {
                    if (cnt + 2 > cap) {
                        cv_value_t *nv = arena_alloc(r->a, 2 * cap * sizeof *nv);
                        memcpy(nv, v, cnt * sizeof *v);
                        v = nv;
                        cap *= 2;
                    }
                    jr_ws(r);
                    if (jr_string(r, &t, &n, path) < 0)
                        return -1;
                    v[cnt++] = cv_str(t, n);
                    jr_ws(r);
                    if (!jr_lit(r, ":", 1))
                        return jr_fail(r, "expected ':'", path);
                    if (jr_value(r, s->items, &v[cnt++], path, depth + 1) < 0)
                        return -1;
                    jr_ws(r);
                    if (jr_lit(r, ",", 1))
                        continue;
                    if (jr_lit(r, "}", 1))
                        break;
                    return jr_fail(r, "expected ',' or '}'", path);
                }
            }
            out->null = false;
            out->u.list.v = v;
            out->u.list.n = cnt;
            return 0;
        }
    case CT_STRUCT: {
        if (*r->p != '{')
            goto mismatch;
        *out = cv_list(r->a, s->nfields);
        r->p++;
        jr_ws(r);
        if (jr_lit(r, "}", 1))
            return 0;
        size_t hint = 0;
        for (;;) {
            jr_ws(r);
            if (r->p >= r->end || *r->p != '"')
                return jr_fail(r, "expected a field name", path);
            /* field names are compared unescaped only when they hold no escape (the usual case) */
            const char *ks = r->p + 1, *ke = ks;
            while (ke < r->end && *ke != '"' && *ke != '\\')
                ke++;
            int fi = -1;
            if (ke < r->end && *ke == '"') {
                size_t kl = (size_t)(ke - ks);
                r->p = ke + 1;
                if (hint < s->nfields && name_is(s->fields[hint].name, ks, kl))
                    fi = (int)hint;
                else
                    for (size_t i = 0; i < s->nfields; i++)
                        if (name_is(s->fields[i].name, ks, kl)) {
                            fi = (int)i;
                            break;
                        }
            } else {
                if (jr_string(r, &t, &n, path) < 0)
                    return -1;
                fi = strlen(t) == n ? cs_field_index(s, t) : -1;
            }
            jr_ws(r);
            if (!jr_lit(r, ":", 1))
                return jr_fail(r, "expected ':'", path);
            if (fi >= 0) {
                if (jr_value(r, s->fields[fi].schema, &out->u.list.v[fi], s->fields[fi].name, depth + 1) < 0)
                    return -1;
                hint = (size_t)fi + 1;
            } else if (jr_skip(r, depth + 1) < 0)
                return -1;
            jr_ws(r);
            if (jr_lit(r, ",", 1))
                continue;
            if (jr_lit(r, "}", 1))
                return 0;
            return jr_fail(r, "expected ',' or '}'", path);
        }
    }
    }
mismatch:
    snprintf(r->err, r->errlen, "%s: JSON value does not match schema type %s%s%s", path, ct_type_name(s->type),
             s->name ? " " : "", s->name ? s->name : "");
    return -1;
}

/* The whole of [p, p+n) is one value of schema s (and nothing after it). */
static int jr_read(arena_t *a, const cs_schema_t *s, const char *p, size_t n, cv_value_t *out, const char *path,
                   char *err, size_t errlen)
{
    jr_t r = { p, p + n, a, err, errlen };
    if (jr_value(&r, s, out, path, 0) < 0)
        return -1;
    jr_ws(&r);
    if (r.p != r.end)
        return jr_fail(&r, "trailing bytes after the value", path);
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

/* One record's schema (NULL: schemaless) and payload: as a span (*span, when the record has walcast's and
 * JsonConverter's layout, parsed by the typed reader) or as a jansson value (caller decrefs). */
static int record_parse(env_decoder_t *d, int which, const char *p, size_t n, const cs_schema_t **schema,
                        json_t **payload, const char **span, size_t *spanlen, const char *what, char *err,
                        size_t errlen)
{
    const char *st, *pt;
    size_t sl, pl;
    json_error_t je;
    *schema = NULL;
    *payload = NULL;
    *span = NULL;
    *spanlen = 0;
    /* the steady state: {"schema":<the same bytes as last time>,"payload":...} */
    static const char pre[] = "{\"schema\":", mid[] = ",\"payload\":";
    env_cached_t *last = d->last[which];
    size_t pre_l = sizeof pre - 1, mid_l = sizeof mid - 1;
    if (last && n > pre_l + last->len + mid_l + 1 && !memcmp(p, pre, pre_l) &&
        !memcmp(p + pre_l, last->text, last->len) && !memcmp(p + pre_l + last->len, mid, mid_l)) {
        size_t at = pre_l + last->len + mid_l, end = n;
        while (end > at && (p[end - 1] == ' ' || p[end - 1] == '\n' || p[end - 1] == '\r' || p[end - 1] == '\t'))
            end--;
        if (end > at + 1 && p[end - 1] == '}') {
            *schema = last->schema;
            *span = p + at;
            *spanlen = end - 1 - at;
            return 0;
        }
    }
    if (split_record(p, n, &st, &sl, &pt, &pl)) {
        env_cached_t *e = NULL;
        if (!(*schema = schema_cached_entry(d, st, sl, &e, err, errlen)))
            return -1;
        d->last[which] = e;
        *span = pt;
        *spanlen = pl;
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


static void layout_init(env_layout_t *L, const cs_schema_t *vs)
{
    L->vs = vs;
    L->op = cs_field_index(vs, "op");
    L->ts_ms = cs_field_index(vs, "ts_ms");
    L->after = cs_field_index(vs, "after");
    L->before = cs_field_index(vs, "before");
    L->source = cs_field_index(vs, "source");
    if (L->source >= 0 && vs->fields[L->source].schema->type != CT_STRUCT)
        L->source = -1;
    const cs_schema_t *ss = L->source >= 0 ? vs->fields[L->source].schema : NULL;
    L->s_name = ss ? cs_field_index(ss, "name") : -1;
    L->s_db = ss ? cs_field_index(ss, "db") : -1;
    L->s_schema = ss ? cs_field_index(ss, "schema") : -1;
    L->s_table = ss ? cs_field_index(ss, "table") : -1;
    L->s_ts_ms = ss ? cs_field_index(ss, "ts_ms") : -1;
    L->s_ts_us = ss ? cs_field_index(ss, "ts_us") : -1;
    L->s_lsn = ss ? cs_field_index(ss, "lsn") : -1;
    L->s_seq = ss ? cs_field_index(ss, "sequence") : -1;
    L->s_txid = ss ? cs_field_index(ss, "txId") : -1;
}

/* The last LSN of source.sequence (["<last commit lsn>","<lsn>"], decimal): where a row without
 * source.lsn was emitted (the high watermark of a snapshot chunk); 0 if none. */
static uint64_t sequence_lsn(const char *seq)
{
    const char *end = seq ? strrchr(seq, '"') : NULL;
    if (!end)
        return 0;
    const char *p = end;
    while (p > seq && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == end || p == seq || p[-1] != '"' || end - p > 20)
        return 0;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

static const char *field_str(const cs_schema_t *s, const cv_value_t *v, int i)
{
    if (i < 0 || v->u.list.v[i].null || s->fields[i].schema->type != CT_STRING)
        return "";
    return v->u.list.v[i].u.s.p;
}

static int64_t field_int(const cs_schema_t *s, const cv_value_t *v, int i, int64_t dflt)
{
    if (i < 0 || v->u.list.v[i].null)
        return dflt;
    ct_type_t t = s->fields[i].schema->type;
    if (t == CT_INT8 || t == CT_INT16 || t == CT_INT32 || t == CT_INT64)
        return v->u.list.v[i].u.i;
    if (t == CT_STRING) {
        char *end;
        long long x = strtoll(v->u.list.v[i].u.s.p, &end, 10);
        if (*v->u.list.v[i].u.s.p && !*end)
            return x;
    }
    return dflt;
}

/* A value with a schema, read by the typed reader: the envelope struct's parts into ev. */
static int envelope_extract_at(const env_layout_t *L, cv_value_t env, env_event_t *ev, char *err, size_t errlen);

static int envelope_typed(env_decoder_t *d, arena_t *a, const cs_schema_t *vs, const char *span, size_t len,
                          env_event_t *ev, char *err, size_t errlen)
{
    cv_value_t env;
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema is %s, not a Debezium envelope struct", ct_type_name(vs->type));
        return -1;
    }
    if (jr_read(a, vs, span, len, &env, "value", err, errlen) < 0)
        return -1;
    if (d->layout.vs != vs)
        layout_init(&d->layout, vs);
    return envelope_extract_at(&d->layout, env, ev, err, errlen);
}

/* The parts of a decoded envelope struct (any input format) into ev. */
static int envelope_extract(const cs_schema_t *vs, cv_value_t env, env_event_t *ev, char *err, size_t errlen)
{
    env_layout_t L;
    layout_init(&L, vs);
    return envelope_extract_at(&L, env, ev, err, errlen);
}

static int envelope_extract_at(const env_layout_t *L, cv_value_t env, env_event_t *ev, char *err, size_t errlen)
{
    const cs_schema_t *vs = L->vs;
    if (env.null) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    const char *op = field_str(vs, &env, L->op);
    if (strlen(op) != 1 || !strchr("crudtm", op[0])) {
        snprintf(err, errlen, "value has no Debezium op (got '%s'); is this a Debezium change event?",
                 *op ? op : "(missing)");
        return -1;
    }
    ev->op = (env_op_t)op[0];
    ev->ts_ms = field_int(vs, &env, L->ts_ms, 0);
    int si = L->source;
    if (si >= 0 && !env.u.list.v[si].null) {
        const cs_schema_t *ss = vs->fields[si].schema;
        const cv_value_t *sv = &env.u.list.v[si];
        ev->source.name = field_str(ss, sv, L->s_name);
        ev->source.db = field_str(ss, sv, L->s_db);
        ev->source.schema = field_str(ss, sv, L->s_schema);
        ev->source.table = field_str(ss, sv, L->s_table);
        ev->source.ts_ms = field_int(ss, sv, L->s_ts_ms, 0);
        ev->source.ts_us = field_int(ss, sv, L->s_ts_us, ev->source.ts_ms * 1000);
        int64_t lsn = field_int(ss, sv, L->s_lsn, 0);
        ev->source.lsn = lsn > 0 ? (uint64_t)lsn : sequence_lsn(field_str(ss, sv, L->s_seq));
        ev->source.txid = field_int(ss, sv, L->s_txid, -1);
    }
    if (ev->op == ENV_TRUNCATE || ev->op == ENV_MESSAGE)
        return 0;
    int ai = L->after, bi = L->before;
    const cs_schema_t *rs = ai >= 0 ? vs->fields[ai].schema : bi >= 0 ? vs->fields[bi].schema : NULL;
    if (!rs || rs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema '%s' has no before/after row struct", vs->name ? vs->name : "");
        return -1;
    }
    ev->row_schema = rs;
    /* before and after share the row schema in Debezium's envelope; a before of another shape is not used */
    ev->has_after = ai >= 0 && !env.u.list.v[ai].null;
    ev->has_before = bi >= 0 && !env.u.list.v[bi].null && vs->fields[bi].schema->nfields == rs->nfields;
    if (ev->has_after)
        ev->after = env.u.list.v[ai];
    if (ev->has_before)
        ev->before = env.u.list.v[bi];
    if ((ev->op == ENV_DELETE && !ev->has_before && !ev->key_schema) || (ev->op != ENV_DELETE && !ev->has_after)) {
        snprintf(err, errlen, "op '%c' event without its %s row", op[0], ev->op == ENV_DELETE ? "before" : "after");
        return -1;
    }
    return 0;
}


/* ---- Avro (Confluent wire format) ----
 * The writer schema (fetched by id through the caller's callback, parsed once per id) is turned into
 * Connect schemas the way AvroData reads connect.* properties, and the binary body is decoded against it.
 * Why not avro-c (issue 12: avro-c unless our own decoder measures clearly faster): tests/bench/bench_avro.c,
 * run by make bench, decodes the same Debezium events into the same env_event_t both ways, and this decoder
 * is 3-5x faster than avro-c's resolved writer + generic value (3x faster than avro-c even without
 * resolution): avro-c allocates per string and goes through a function table per value. avro-c would not
 * give the Connect schemas either (connect.* properties, Union structs, MapEntry maps are AvroData's).
 * avro-c is the oracle instead: tests/unit/test_avro_oracle.c encodes random records of every type with it
 * and checks that this decoder reads what avro-c reads, and fails where avro-c fails. */

typedef enum { AV_NULL, AV_BOOLEAN, AV_INT, AV_LONG, AV_FLOAT, AV_DOUBLE, AV_BYTES, AV_STRING, AV_RECORD, AV_ENUM,
               AV_ARRAY, AV_MAP, AV_UNION, AV_FIXED } av_kind_t;

typedef struct av_node av_node_t;
struct av_node {
    av_kind_t kind;
    const char *fullname;       /* records, enums, fixed */
    av_node_t **fields;         /* record: one per field; union: branches */
    size_t n;
    av_node_t *items;           /* array items, map values */
    const char **symbols;       /* enum */
    size_t size;                /* fixed */
    int null_branch;            /* union: index of "null", -1 if none */
    bool as_struct;             /* union other than [null, T] / [T, null]: AvroData's Union struct */
    bool entries;               /* array of io.confluent.connect.avro.MapEntry records: a Connect map */
    const cs_schema_t *cs;      /* the Connect schema this node decodes into */
};

typedef struct av_schema {
    int32_t id;
    av_node_t *root;
    struct av_schema *next;
} av_schema_t;

typedef struct av_ctx {
    arena_t *a;
    av_node_t **named;          /* records/enums/fixed by full name, for references */
    size_t nnamed, capnamed;
    char *err;
    size_t errlen;
} av_ctx_t;

static const char *av_full(av_ctx_t *c, const char *ns, const char *name)
{
    if (strchr(name, '.') || !ns || !*ns)
        return arena_strdup(c->a, name);
    size_t l = strlen(ns) + strlen(name) + 2;
    char *f = arena_alloc(c->a, l);
    snprintf(f, l, "%s.%s", ns, name);
    return f;
}

static av_node_t *av_lookup(av_ctx_t *c, const char *ns, const char *name)
{
    const char *full = av_full(c, ns, name);
    for (size_t i = 0; i < c->nnamed; i++)
        if (!strcmp(c->named[i]->fullname, full) || !strcmp(c->named[i]->fullname, name))
            return c->named[i];
    return NULL;
}

static void av_define(av_ctx_t *c, av_node_t *n)
{
    if (c->nnamed == c->capnamed) {
        size_t cap = c->capnamed ? 2 * c->capnamed : 16;
        av_node_t **v = arena_alloc(c->a, cap * sizeof *v);
        if (c->nnamed)
            memcpy(v, c->named, c->nnamed * sizeof *v);
        c->named = v;
        c->capnamed = cap;
    }
    c->named[c->nnamed++] = n;
}

/* connect.name / connect.version / connect.parameters / connect.type onto s (AvroData's reading). */
static void av_connect_props(av_ctx_t *c, json_t *j, cs_schema_t *s)
{
    if (!json_is_object(j))
        return;
    const char *cn = json_string_value(json_object_get(j, "connect.name"));
    if (cn)
        s->name = arena_strdup(c->a, cn);
    json_t *v = json_object_get(j, "connect.version");
    if (json_is_integer(v))
        s->version = (int)json_integer_value(v);
    json_t *p = json_object_get(j, "connect.parameters");
    if (json_is_object(p)) {
        const char *k;
        json_t *pv;
        json_object_foreach(p, k, pv) {
            if (json_is_string(pv))
                cs_param_add(s, arena_strdup(c->a, k), arena_strdup(c->a, json_string_value(pv)));
        }
    }
    /* Avro logical types name the Connect type when connect.name does not (AvroData: decimal on bytes,
     * date and time-millis on int, timestamp-millis on long; others stay plain) */
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt || s->name)
        return;
    if (!strcmp(lt, "decimal") && s->type == CT_BYTES) {
        s->name = "org.apache.kafka.connect.data.Decimal";
        char num[24];
        json_t *sc = json_object_get(j, "scale");
        if (json_is_integer(sc) && !cs_param_get(s, "scale")) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(sc));
            cs_param_add(s, "scale", arena_strdup(c->a, num));
        }
        json_t *pr = json_object_get(j, "precision");
        if (json_is_integer(pr) && json_integer_value(pr) != 64 && !cs_param_get(s, "connect.decimal.precision")) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(pr));
            cs_param_add(s, "connect.decimal.precision", arena_strdup(c->a, num));
        }
    } else if (!strcmp(lt, "date") && s->type == CT_INT32)
        s->name = "org.apache.kafka.connect.data.Date";
    else if (!strcmp(lt, "time-millis") && s->type == CT_INT32)
        s->name = "org.apache.kafka.connect.data.Time";
    else if (!strcmp(lt, "timestamp-millis") && s->type == CT_INT64)
        s->name = "org.apache.kafka.connect.data.Timestamp";
    else
        return;
    if (!s->version)
        s->version = 1;
}

/* The Connect field name AvroData gives a union member: a record's or enum's short name, else the Avro
 * type name (enhanced.avro.schema.support=false, the default). */
static const char *av_member_name(const av_node_t *n)
{
    static const char *const kinds[] = { "null", "boolean", "int", "long", "float", "double", "bytes", "string",
                                         "record", "enum", "array", "map", "union", "fixed" };
    if (n->kind == AV_RECORD || n->kind == AV_ENUM) {
        const char *dot = strrchr(n->fullname, '.');
        return dot ? dot + 1 : n->fullname;
    }
    return kinds[n->kind];
}

static av_node_t *av_parse(av_ctx_t *c, json_t *j, const char *ns, int depth);

static av_node_t *av_new(av_ctx_t *c, av_kind_t k, ct_type_t t)
{
    av_node_t *n = arena_zalloc(c->a, sizeof *n);
    n->kind = k;
    n->null_branch = -1;
    n->cs = cs_new(c->a, t, false);
    return n;
}

static av_node_t *av_primitive(av_ctx_t *c, const char *t, json_t *props)
{
    static const struct { const char *n; av_kind_t k; ct_type_t t; } prim[] = {
        { "null", AV_NULL, CT_STRING }, { "boolean", AV_BOOLEAN, CT_BOOLEAN }, { "int", AV_INT, CT_INT32 },
        { "long", AV_LONG, CT_INT64 }, { "float", AV_FLOAT, CT_FLOAT32 }, { "double", AV_DOUBLE, CT_FLOAT64 },
        { "bytes", AV_BYTES, CT_BYTES }, { "string", AV_STRING, CT_STRING },
    };
    for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
        if (!strcmp(prim[i].n, t)) {
            av_node_t *n = av_new(c, prim[i].k, prim[i].t);
            const char *ct = json_string_value(json_object_get(props, "connect.type"));
            if (ct && !strcmp(ct, "int8"))
                ((cs_schema_t *)n->cs)->type = CT_INT8;
            else if (ct && !strcmp(ct, "int16"))
                ((cs_schema_t *)n->cs)->type = CT_INT16;
            av_connect_props(c, props, (cs_schema_t *)n->cs);
            return n;
        }
    return NULL;
}

static av_node_t *av_parse(av_ctx_t *c, json_t *j, const char *ns, int depth)
{
    if (depth > ENV_MAX_DEPTH) {
        snprintf(c->err, c->errlen, "Avro schema nested deeper than %d levels", ENV_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *t = json_string_value(j);
        av_node_t *n = av_primitive(c, t, NULL);
        if (!n && !(n = av_lookup(c, ns, t)))
            snprintf(c->err, c->errlen, "Avro schema names type '%s', which is not defined before", t);
        return n;
    }
    if (json_is_array(j)) {
        /* a union: [null, T] and [T, null] are an optional T; any other union is AvroData's struct
         * io.confluent.connect.avro.Union with one optional field per non-null member, named by
         * av_member_name, optional itself when null is a member */
        av_node_t *u = av_new(c, AV_UNION, CT_STRUCT);
        u->n = json_array_size(j);
        u->fields = arena_alloc(c->a, (u->n + 1) * sizeof *u->fields);
        const cs_schema_t *other = NULL;
        for (size_t i = 0; i < u->n; i++) {
            if (!(u->fields[i] = av_parse(c, json_array_get(j, i), ns, depth + 1)))
                return NULL;
            if (u->fields[i]->kind == AV_UNION) {
                snprintf(c->err, c->errlen, "Avro union directly inside a union (not allowed by the Avro spec)");
                return NULL;
            }
            if (u->fields[i]->kind != AV_NULL)
                other = u->fields[i]->cs;
            else if (u->null_branch < 0)
                u->null_branch = (int)i;
            else {
                snprintf(c->err, c->errlen, "Avro union with null twice");
                return NULL;
            }
        }
        if (u->n == 2 && u->null_branch >= 0) {
            cs_schema_t *opt = cs_copy(c->a, other);
            opt->optional = true;
            u->cs = opt;
            return u;
        }
        u->as_struct = true;
        cs_schema_t *st = (cs_schema_t *)u->cs;
        st->name = "io.confluent.connect.avro.Union";
        st->optional = u->null_branch >= 0;
        for (size_t i = 0; i < u->n; i++) {
            if ((int)i == u->null_branch)
                continue;
            const char *fname = av_member_name(u->fields[i]);
            if (cs_field_index(st, fname) >= 0) {
                snprintf(c->err, c->errlen, "Avro union has two members named %s for Kafka Connect (AvroData "
                                            "refuses such a union too)", fname);
                return NULL;
            }
            cs_schema_t *fs = cs_copy(c->a, u->fields[i]->cs);
            fs->optional = true;
            cs_field_add(c->a, st, fname, fs);
        }
        return u;
    }
    if (!json_is_object(j)) {
        snprintf(c->err, c->errlen, "Avro schema element is not a name, union or object");
        return NULL;
    }
    json_t *tj = json_object_get(j, "type");
    if (json_is_array(tj) || json_is_object(tj))
        return av_parse(c, tj, ns, depth + 1);
    const char *t = json_string_value(tj);
    if (!t) {
        snprintf(c->err, c->errlen, "Avro schema object without a type");
        return NULL;
    }
    if (!strcmp(t, "record") || !strcmp(t, "error")) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *rns = json_string_value(json_object_get(j, "namespace"));
        if (!name) {
            snprintf(c->err, c->errlen, "Avro record without a name");
            return NULL;
        }
        av_node_t *n = av_new(c, AV_RECORD, CT_STRUCT);
        n->fullname = av_full(c, rns ? rns : ns, name);
        const char *inner_ns = n->fullname;
        const char *dot = strrchr(inner_ns, '.');
        char *nsbuf = dot ? arena_strndup(c->a, inner_ns, (size_t)(dot - inner_ns)) : NULL;
        cs_schema_t *cs = (cs_schema_t *)n->cs;
        cs->name = n->fullname;
        av_connect_props(c, j, cs);
        av_define(c, n);
        json_t *fields = json_object_get(j, "fields");
        if (!json_is_array(fields)) {
            snprintf(c->err, c->errlen, "Avro record %s has no fields", n->fullname);
            return NULL;
        }
        n->n = json_array_size(fields);
        n->fields = arena_alloc(c->a, (n->n + 1) * sizeof *n->fields);
        for (size_t i = 0; i < n->n; i++) {
            json_t *f = json_array_get(fields, i);
            const char *fn = json_string_value(json_object_get(f, "name"));
            if (!fn) {
                snprintf(c->err, c->errlen, "field %zu of Avro record %s has no name", i, n->fullname);
                return NULL;
            }
            if (!(n->fields[i] = av_parse(c, json_object_get(f, "type"), nsbuf, depth + 1)))
                return NULL;
            cs_field_add(c->a, cs, arena_strdup(c->a, fn), n->fields[i]->cs);
        }
        return n;
    }
    if (!strcmp(t, "enum")) {
        av_node_t *n = av_new(c, AV_ENUM, CT_STRING);
        const char *name = json_string_value(json_object_get(j, "name"));
        n->fullname = av_full(c, json_string_value(json_object_get(j, "namespace")) ? json_string_value(json_object_get(j, "namespace")) : ns, name ? name : "enum");
        json_t *sy = json_object_get(j, "symbols");
        n->n = json_array_size(sy);
        n->symbols = arena_alloc(c->a, (n->n + 1) * sizeof *n->symbols);
        for (size_t i = 0; i < n->n; i++) {
            const char *v = json_string_value(json_array_get(sy, i));
            n->symbols[i] = arena_strdup(c->a, v ? v : "");
        }
        av_connect_props(c, j, (cs_schema_t *)n->cs);
        if (!n->cs->name)
            ((cs_schema_t *)n->cs)->name = n->fullname;
        av_define(c, n);
        return n;
    }
    if (!strcmp(t, "fixed")) {
        av_node_t *n = av_new(c, AV_FIXED, CT_BYTES);
        const char *name = json_string_value(json_object_get(j, "name"));
        n->fullname = av_full(c, json_string_value(json_object_get(j, "namespace")) ? json_string_value(json_object_get(j, "namespace")) : ns, name ? name : "fixed");
        json_t *sz = json_object_get(j, "size");
        n->size = json_is_integer(sz) && json_integer_value(sz) >= 0 ? (size_t)json_integer_value(sz) : 0;
        av_connect_props(c, j, (cs_schema_t *)n->cs);
        av_define(c, n);
        return n;
    }
    if (!strcmp(t, "array") || !strcmp(t, "map")) {
        bool arr = !strcmp(t, "array");
        av_node_t *n = av_new(c, arr ? AV_ARRAY : AV_MAP, arr ? CT_ARRAY : CT_MAP);
        if (!(n->items = av_parse(c, json_object_get(j, arr ? "items" : "values"), ns, depth + 1)))
            return NULL;
        cs_schema_t *cs = (cs_schema_t *)n->cs;
        cs->items = n->items->cs;
        if (!arr)
            cs->keys = cs_new(c->a, CT_STRING, false);
        else if (n->items->kind == AV_RECORD && !strcmp(n->items->fullname, "io.confluent.connect.avro.MapEntry")) {
            /* AvroData writes a map whose keys are not strings as an array of MapEntry{key, value} */
            const cs_schema_t *es = n->items->cs;
            if (es->nfields != 2 || strcmp(es->fields[0].name, "key") || strcmp(es->fields[1].name, "value")) {
                snprintf(c->err, c->errlen, "Avro array of io.confluent.connect.avro.MapEntry records whose fields "
                                            "are not key and value");
                return NULL;
            }
            n->entries = true;
            cs->type = CT_MAP;
            cs->keys = es->fields[0].schema;
            cs->items = es->fields[1].schema;
        }
        av_connect_props(c, j, cs);
        return n;
    }
    av_node_t *n = av_primitive(c, t, j);
    if (!n)
        snprintf(c->err, c->errlen, "Avro type '%s' is not supported", t);
    return n;
}

/* The binary body: bounds-checked reads. */
typedef struct av_rd {
    const unsigned char *p, *end;
    arena_t *a;
    char *err;
    size_t errlen;
    char path[128];             /* where a failure happened, built while unwinding (error path only) */
    size_t plen;
} av_rd_t;

/* Prepends a field name or an index to the failure's path. */
static void av_path(av_rd_t *r, const char *name, int64_t index)
{
    char part[64];
    int n = name ? snprintf(part, sizeof part, ".%s", name) : snprintf(part, sizeof part, "[%lld]", (long long)index);
    if (n < 0 || (size_t)n >= sizeof part || r->plen + (size_t)n >= sizeof r->path)
        return;
    memmove(r->path + n, r->path, r->plen + 1);
    memcpy(r->path, part, (size_t)n);
    r->plen += (size_t)n;
}

static int av_long(av_rd_t *r, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            snprintf(r->err, r->errlen, "Avro body truncated in a varint");
            return -1;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    snprintf(r->err, r->errlen, "Avro varint longer than 10 bytes");
    return -1;
}

static int av_take(av_rd_t *r, size_t n, const unsigned char **out)
{
    if ((size_t)(r->end - r->p) < n) {
        snprintf(r->err, r->errlen, "Avro body truncated: %zu bytes needed, %zu left", n, (size_t)(r->end - r->p));
        return -1;
    }
    *out = r->p;
    r->p += n;
    return 0;
}

static int av_value(av_rd_t *r, const av_node_t *n, cv_value_t *out, int depth)
{
    if (depth > ENV_MAX_DEPTH) {
        snprintf(r->err, r->errlen, "Avro value nested too deep");
        return -1;
    }
    int64_t x;
    const unsigned char *b;
    switch (n->kind) {
    case AV_NULL:
        *out = cv_null();
        return 0;
    case AV_BOOLEAN:
        if (av_take(r, 1, &b) < 0)
            return -1;
        *out = cv_bool(*b != 0);
        return 0;
    case AV_INT:
    case AV_LONG:
        if (av_long(r, &x) < 0)
            return -1;
        if (n->kind == AV_INT && (x < INT32_MIN || x > INT32_MAX)) {
            snprintf(r->err, r->errlen, "Avro int %lld out of the 32-bit range", (long long)x);
            return -1;
        }
        *out = cv_int(x);
        return 0;
    case AV_FLOAT: {
        if (av_take(r, 4, &b) < 0)
            return -1;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        *out = cv_float(f);
        return 0;
    }
    case AV_DOUBLE: {
        if (av_take(r, 8, &b) < 0)
            return -1;
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | b[i];
        double d;
        memcpy(&d, &u, 8);
        *out = cv_float(d);
        return 0;
    }
    case AV_BYTES:
    case AV_STRING:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0) {
            snprintf(r->err, r->errlen, "Avro negative length %lld", (long long)x);
            return -1;
        }
        if (av_take(r, (size_t)x, &b) < 0)
            return -1;
        *out = cv_str(arena_strndup(r->a, (const char *)b, (size_t)x), (size_t)x);
        return 0;
    case AV_FIXED:
        if (av_take(r, n->size, &b) < 0)
            return -1;
        *out = cv_str(arena_memdup(r->a, b, n->size ? n->size : 1), n->size);
        return 0;
    case AV_ENUM:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0 || (size_t)x >= n->n) {
            snprintf(r->err, r->errlen, "Avro enum index %lld out of range", (long long)x);
            return -1;
        }
        *out = cv_str(n->symbols[x], strlen(n->symbols[x]));
        return 0;
    case AV_UNION:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0 || (size_t)x >= n->n) {
            snprintf(r->err, r->errlen, "Avro union branch %lld out of range", (long long)x);
            return -1;
        }
        if (n->as_struct && x != n->null_branch) {   /* the member's field set, the others null */
            size_t fi = (size_t)x - (n->null_branch >= 0 && n->null_branch < x);
            *out = cv_list(r->a, n->cs->nfields);
            return av_value(r, n->fields[x], &out->u.list.v[fi], depth + 1);
        }
        return av_value(r, n->fields[x], out, depth + 1);
    case AV_RECORD:
        *out = cv_list(r->a, n->n);
        for (size_t i = 0; i < n->n; i++)
            if (av_value(r, n->fields[i], &out->u.list.v[i], depth + 1) < 0) {
                av_path(r, n->cs->fields[i].name, 0);
                return -1;
            }
        return 0;
    case AV_ARRAY:
    case AV_MAP: {
        bool map = n->kind == AV_MAP;
        size_t cap = 8, cnt = 0;
        cv_value_t *v = arena_alloc(r->a, cap * sizeof *v);
        for (;;) {
            int64_t items;
            if (av_long(r, &items) < 0)
                return -1;
            if (items == 0)
                break;
            if (items < 0) {   /* a block with its byte size */
                int64_t bytes;
                if (items == INT64_MIN || av_long(r, &bytes) < 0)
                    return -1;
                items = -items;
            }
            if ((uint64_t)items > (uint64_t)(r->end - r->p)) {   /* every item takes a byte at least */
                snprintf(r->err, r->errlen, "Avro block of %lld items in %zu bytes", (long long)items,
                         (size_t)(r->end - r->p));
                return -1;
            }
            for (int64_t i = 0; i < items; i++) {
                if (cnt + 2 > cap) {
                    cv_value_t *nv = arena_alloc(r->a, 2 * cap * sizeof *nv);
                    memcpy(nv, v, cnt * sizeof *v);
                    v = nv;
                    cap *= 2;
                }
                if (map) {
                    int64_t kl;
                    if (av_long(r, &kl) < 0 || kl < 0 || av_take(r, (size_t)kl, &b) < 0) {
                        if (!r->err[0])
                            snprintf(r->err, r->errlen, "bad Avro map key");
                        return -1;
                    }
                    v[cnt++] = cv_str(arena_strndup(r->a, (const char *)b, (size_t)kl), (size_t)kl);
                }
                if (n->entries) {   /* MapEntry{key, value} -> a key, value pair */
                    cv_value_t e;
                    if (av_value(r, n->items, &e, depth + 1) < 0) {
                        av_path(r, NULL, (int64_t)cnt / 2);
                        return -1;
                    }
                    v[cnt++] = e.u.list.v[0];
                    v[cnt++] = e.u.list.v[1];
                } else if (av_value(r, n->items, &v[cnt], depth + 1) < 0) {
                    av_path(r, NULL, (int64_t)(map ? cnt / 2 : cnt));
                    return -1;
                } else
                    cnt++;
            }
        }
        out->null = false;
        out->u.list.v = v;
        out->u.list.n = cnt;
        return 0;
    }
    }
    return -1;
}

/* The parsed writer schema of id, from the decoder's cache or through fetch. */
static const av_node_t *av_schema_for(env_decoder_t *d, int32_t id, env_schema_fetch_fn fetch, void *ctx, char *err,
                                      size_t errlen)
{
    for (av_schema_t *s = d->avro; s; s = s->next)
        if (s->id == id)
            return s->root;
    buf_t text;
    buf_init(&text);
    const av_node_t *root = NULL;
    if (!fetch || fetch(ctx, id, &text, err, errlen) < 0) {
        if (!fetch)
            snprintf(err, errlen, "Avro record (schema id %d) but no schema registry is configured: set "
                                  "value.converter.schema.registry.url", id);
        goto out;
    }
    json_error_t je;
    json_t *j = json_loadb(text.data, text.len, JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(err, errlen, "schema %d from the registry is not JSON: %s", id, je.text);
        goto out;
    }
    av_ctx_t c = { d->arena, NULL, 0, 0, err, errlen };
    av_node_t *n = av_parse(&c, j, NULL, 0);
    json_decref(j);
    if (!n)
        goto out;
    av_schema_t *s = arena_zalloc(d->arena, sizeof *s);
    s->id = id;
    s->root = n;
    s->next = d->avro;
    d->avro = s;
    d->parses++;
    root = n;
out:
    buf_free(&text);
    return root;
}

/* One Confluent wire-format record: magic 0, 4-byte big-endian schema id, Avro body. */
static int av_record(env_decoder_t *d, arena_t *a, const char *p, size_t n, env_schema_fetch_fn fetch, void *ctx,
                     const cs_schema_t **schema, cv_value_t *out, const char *what, char *err, size_t errlen)
{
    if (n < 5 || p[0] != 0) {
        snprintf(err, errlen, "%s is not in the Confluent wire format (magic byte 0, schema id, Avro body)", what);
        return -1;
    }
    int32_t id = (int32_t)((uint32_t)(unsigned char)p[1] << 24 | (uint32_t)(unsigned char)p[2] << 16 |
                           (uint32_t)(unsigned char)p[3] << 8 | (uint32_t)(unsigned char)p[4]);
    const av_node_t *root = av_schema_for(d, id, fetch, ctx, err, errlen);
    if (!root)
        return -1;
    av_rd_t r = { (const unsigned char *)p + 5, (const unsigned char *)p + n, a, err, errlen, "", 0 };
    err[0] = '\0';
    if (av_value(&r, root, out, 0) < 0) {
        /* what failed, then where: "value.after.price: Avro body truncated ..." (schema id for the registry) */
        char why[256];
        snprintf(why, sizeof why, "%s", err[0] ? err : "bad Avro body");
        snprintf(err, errlen, "%s%s (schema id %d): %s", what, r.path, id, why);
        return -1;
    }
    if (r.p != r.end) {
        snprintf(err, errlen, "%s: %zu bytes after the Avro body", what, (size_t)(r.end - r.p));
        return -1;
    }
    *schema = root->cs;
    return 0;
}

int env_decode_avro(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_schema_fetch_fn fetch, void *ctx, env_event_t *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
    if (key && klen) {
        const cs_schema_t *ks;
        cv_value_t kv;
        if (av_record(d, a, key, klen, fetch, ctx, &ks, &kv, "key", err, errlen) < 0)
            return -1;
        if (ks->type != CT_STRUCT) {
            snprintf(err, errlen, "key schema is %s, not a record", ct_type_name(ks->type));
            return -1;
        }
        if (!kv.null) {
            ev->key_schema = ks;
            ev->key = kv;
        }
    }
    if (!value || !vlen) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    const cs_schema_t *vs;
    cv_value_t env;
    if (av_record(d, a, value, vlen, fetch, ctx, &vs, &env, "value", err, errlen) < 0)
        return -1;
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema is %s, not a Debezium envelope record", ct_type_name(vs->type));
        return -1;
    }
    return envelope_extract(vs, env, ev, err, errlen);
}

int env_decode_json(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_event_t *ev, char *err, size_t errlen)
{
    int rc = -1;
    json_t *kp = NULL, *vp = NULL;
    const cs_schema_t *ks = NULL, *vs = NULL;
    const char *span;
    size_t spanlen;
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
    if (key && klen) {
        if (record_parse(d, 0, key, klen, &ks, &kp, &span, &spanlen, "key", err, errlen) < 0)
            goto out;
        if (span) {
            cv_value_t kv;
            if (ks->type != CT_STRUCT) {
                snprintf(err, errlen, "key schema is %s, not a struct", ct_type_name(ks->type));
                goto out;
            }
            if (jr_read(a, ks, span, spanlen, &kv, "key", err, errlen) < 0)
                goto out;
            if (!kv.null) {
                ev->key_schema = ks;
                ev->key = kv;
            }
        } else if (!json_is_null(kp)) {
            if (!ks) {
                ks = schema_infer(a, kp);
                ev->key_schemaless = true;
            }
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
    if (record_parse(d, 1, value, vlen, &vs, &vp, &span, &spanlen, "value", err, errlen) < 0)
        goto out;
    if (span) {
        rc = envelope_typed(d, a, vs, span, spanlen, ev, err, errlen);
        goto out;
    }
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
        ev->source.lsn = lsn > 0 ? (uint64_t)lsn : sequence_lsn(json_string_value(json_object_get(src, "sequence")));
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
            ev->row_schemaless = true;
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
