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
    avro_dec_t *avro;               /* Avro writer schemas by registry id */
    size_t parses;
    size_t cached;
    env_layout_t layout;            /* the envelope's field indices in the last value schema (JSON path) */
};

env_decoder_t *env_decoder_new(void)
{
    env_decoder_t *d = xcalloc(1, sizeof *d);
    d->arena = arena_new(64 * 1024);
    d->avro = avro_dec_new();
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
    avro_dec_free(d->avro);
    free(d);
}

size_t env_schema_parses(const env_decoder_t *d)
{
    return d->parses + avro_dec_parses(d->avro);
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


int env_decode_avro(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    avro_dec_fetch_fn fetch, void *ctx, env_event_t *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
    if (key && klen) {
        const cs_schema_t *ks;
        cv_value_t kv;
        if (avro_dec_record(d->avro, a, key, klen, fetch, ctx, &ks, &kv, "key", err, errlen) < 0)
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
    if (avro_dec_record(d->avro, a, value, vlen, fetch, ctx, &vs, &env, "value", err, errlen) < 0)
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
