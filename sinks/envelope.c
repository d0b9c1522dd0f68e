/* envelope.c: Debezium change events (JsonConverter or AvroConverter records) decoded into row changes: the
 * record's schema and value come from schemas/json_dec.c or schemas/avro_dec.c, the envelope's parts from here. */
#include "sinks/envelope.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json_dec.h"

#define ENV_MAX_DEPTH 32

/* Where the envelope's parts sit in a value schema: field indices found once per schema (a topic's
 * records share one), not by name per record. -1: no such field. */
typedef struct env_layout {
    const cs_schema_t *vs;
    int op, ts_ms, source, after, before;
    int s_name, s_db, s_schema, s_table, s_ts_ms, s_ts_us, s_lsn, s_seq, s_txid;   /* in source's struct */
} env_layout_t;

struct env_decoder {
    json_dec_t *json;               /* Connect schemas of JSON records, by their text */
    avro_dec_t *avro;               /* Avro writer schemas by registry id */
    env_layout_t layout;            /* the envelope's field indices in the last value schema (JSON path) */
    bool jansson;                   /* read JSON payloads with jansson (the bench's comparison) */
};

env_decoder_t *env_decoder_new(void)
{
    env_decoder_t *d = xcalloc(1, sizeof *d);
    d->json = json_dec_new();
    d->avro = avro_dec_new();
    return d;
}

void env_decoder_free(env_decoder_t *d)
{
    if (!d)
        return;
    json_dec_free(d->json);
    avro_dec_free(d->avro);
    free(d);
}

size_t env_schema_parses(const env_decoder_t *d)
{
    return json_dec_parses(d->json) + avro_dec_parses(d->avro);
}

void env_decoder_use_jansson(env_decoder_t *d, bool on)
{
    d->jansson = on;
}

/* An event with no parts yet: strings "", no transaction id. */
static void event_init(env_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
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
    if (json_dec_read(a, vs, span, len, 0, &env, "value", err, errlen) < 0)
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

/* op, ts_ms and the source position of an envelope struct (any input format) into ev. */
static int envelope_head(const env_layout_t *L, cv_value_t env, env_event_t *ev, char *err, size_t errlen)
{
    const cs_schema_t *vs = L->vs;
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
    return 0;
}

/* The parts of a decoded envelope struct into ev; the rows are structs of the value schema. */
static int envelope_extract_at(const env_layout_t *L, cv_value_t env, env_event_t *ev, char *err, size_t errlen)
{
    const cs_schema_t *vs = L->vs;
    if (env.null) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    if (envelope_head(L, env, ev, err, errlen) < 0)
        return -1;
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
        snprintf(err, errlen, "op '%c' event without its %s row", (char)ev->op,
                 ev->op == ENV_DELETE ? "before" : "after");
        return -1;
    }
    return 0;
}



/* A value without schema: the envelope's types read off its JSON (its objects structs, theirs JSON text).
 * The rows take the after's (else the before's) schema; a before beside an after is read again under it. */
static int envelope_schemaless(arena_t *a, const char *p, size_t n, env_event_t *ev, char *err, size_t errlen)
{
    const cs_schema_t *vs;
    cv_value_t env;
    if (json_dec_infer(a, p, n, 2, &vs, &env, "value", err, errlen) < 0)
        return -1;
    if (env.null) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value payload is not a JSON object");
        return -1;
    }
    env_layout_t L;
    layout_init(&L, vs);
    if (envelope_head(&L, env, ev, err, errlen) < 0)
        return -1;
    if (ev->op == ENV_TRUNCATE || ev->op == ENV_MESSAGE)
        return 0;
    int ai = L.after, bi = L.before;
    ev->has_after = ai >= 0 && !env.u.list.v[ai].null;
    ev->has_before = bi >= 0 && !env.u.list.v[bi].null;
    if ((ev->op == ENV_DELETE && !ev->has_before && !ev->key_schema) || (ev->op != ENV_DELETE && !ev->has_after)) {
        snprintf(err, errlen, "op '%c' event without its %s row", (char)ev->op,
                 ev->op == ENV_DELETE ? "before" : "after");
        return -1;
    }
    int ri = ev->has_after ? ai : ev->has_before ? bi : -1;
    if (ri < 0)
        return 0;   /* a delete known by its key only */
    const cs_schema_t *rs = vs->fields[ri].schema;
    if (rs->type != CT_STRUCT) {
        snprintf(err, errlen, "before/after is not a JSON object");
        return -1;
    }
    ev->row_schema = rs;
    ev->row_schemaless = true;
    if (ev->has_after)
        ev->after = env.u.list.v[ai];
    if (!ev->has_before)
        return 0;
    if (vs->fields[bi].schema->type != CT_STRUCT) {
        snprintf(err, errlen, "before is not a JSON object");
        return -1;
    }
    if (!ev->has_after) {
        ev->before = env.u.list.v[bi];
        return 0;
    }
    const char *span;
    size_t len;
    if (json_dec_member(a, p, n, "before", &span, &len) < 0) {
        snprintf(err, errlen, "value has no before member");   /* cannot happen: it was just read */
        return -1;
    }
    return json_dec_read(a, rs, span, len, JSON_DEC_INFERRED, &ev->before, "before", err, errlen);
}


int env_decode_avro(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    avro_dec_fetch_fn fetch, void *ctx, env_event_t *ev, char *err, size_t errlen)
{
    event_init(ev);
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


/* A JSON record's key into ev: a struct, with its schema or typed off its JSON. */
static int json_key(env_decoder_t *d, arena_t *a, const char *key, size_t klen, env_event_t *ev, char *err,
                    size_t errlen)
{
    const cs_schema_t *ks;
    const char *span;
    size_t len;
    cv_value_t kv;
    if (json_dec_split(d->json, 0, a, key, klen, &ks, &span, &len, err, errlen) < 0)
        return -1;
    if (ks) {
        if (ks->type != CT_STRUCT) {
            snprintf(err, errlen, "key schema is %s, not a struct", ct_type_name(ks->type));
            return -1;
        }
        if (json_dec_read(a, ks, span, len, 0, &kv, "key", err, errlen) < 0)
            return -1;
    } else {
        if (json_dec_infer(a, span, len, 1, &ks, &kv, "key", err, errlen) < 0)
            return -1;
        if (!kv.null && ks->type != CT_STRUCT) {
            snprintf(err, errlen, "key is not a struct (a JSON object)");
            return -1;
        }
        ev->key_schemaless = !kv.null;
    }
    if (!kv.null) {
        ev->key_schema = ks;
        ev->key = kv;
    }
    return 0;
}

static int decode_json_jansson(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value,
                               size_t vlen, env_event_t *ev, char *err, size_t errlen);

int env_decode_json(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_event_t *ev, char *err, size_t errlen)
{
    if (d->jansson)
        return decode_json_jansson(d, a, key, klen, value, vlen, ev, err, errlen);
    event_init(ev);
    if (key && klen && json_key(d, a, key, klen, ev, err, errlen) < 0)
        return -1;
    if (!value || !vlen) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    const cs_schema_t *vs;
    const char *span;
    size_t len;
    if (json_dec_split(d->json, 1, a, value, vlen, &vs, &span, &len, err, errlen) < 0)
        return -1;
    if (vs)
        return envelope_typed(d, a, vs, span, len, ev, err, errlen);
    return envelope_schemaless(a, span, len, ev, err, errlen);
}

/* ---- the jansson reader (JSON payloads through a DOM), kept for one commit: make bench compares the two ---- */

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
        if (json_dec_base64(a, json_string_value(j), json_string_length(j), &p, &n) < 0) {
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



/* A record's payload as a jansson value (caller decrefs); its schema (NULL: none) from json_dec_split. */
static int payload_dom(env_decoder_t *d, int slot, arena_t *a, const char *p, size_t n, const cs_schema_t **schema,
                       json_t **payload, const char *what, char *err, size_t errlen)
{
    const char *span;
    size_t len;
    json_error_t je;
    if (json_dec_split(d->json, slot, a, p, n, schema, &span, &len, err, errlen) < 0)
        return -1;
    if (!(*payload = json_loadb(span, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je))) {
        snprintf(err, errlen, "%s is not valid JSON: %s at column %d", what, je.text, je.column);
        return -1;
    }
    return 0;
}

static int decode_json_jansson(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value,
                               size_t vlen, env_event_t *ev, char *err, size_t errlen)
{
    int rc = -1;
    json_t *kp = NULL, *vp = NULL;
    const cs_schema_t *ks = NULL, *vs = NULL;
    event_init(ev);
    if (key && klen) {
        if (payload_dom(d, 0, a, key, klen, &ks, &kp, "key", err, errlen) < 0)
            goto out;
        if (!json_is_null(kp)) {
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
    if (payload_dom(d, 1, a, value, vlen, &vs, &vp, "value", err, errlen) < 0)
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
