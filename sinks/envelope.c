/* envelope.c: Debezium change events (JsonConverter or AvroConverter records) decoded into row changes: the
 * record's schema and value come from schemas/json_dec.c or schemas/avro_dec.c, the envelope's parts from here. */
#include "sinks/envelope.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json_dec.h"


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
    uint64_t layout_gen;            /* json_dec_generation when it was found: a dropped schema's address may
                                       come back as another schema's */
    env_layout_t alayout;           /* the same for the last Avro value schema (avro_dec keeps every writer
                                       schema for the decoder's life: its address is never another's) */
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

void env_decoder_keep(env_decoder_t *d)
{
    json_dec_keep(d->json);
}

void env_decoder_trim(env_decoder_t *d)
{
    json_dec_trim(d->json);
}

size_t env_schema_parses(const env_decoder_t *d)
{
    return json_dec_parses(d->json) + avro_dec_parses(d->avro);
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

static bool is_envelope(const cs_schema_t *vs);
static int flat_event(const cs_schema_t *vs, cv_value_t v, env_event_t *ev, char *err, size_t errlen);

static int envelope_typed(env_decoder_t *d, arena_t *a, const cs_schema_t *vs, const char *span, size_t len,
                          env_event_t *ev, char *err, size_t errlen)
{
    cv_value_t env;
    if (!is_envelope(vs)) {
        /* a row some transform already took out of its envelope (ExtractNewRecordState on the source) */
        if (json_dec_read(a, vs, span, len, 0, &env, "value", err, errlen) < 0)
            return -1;
        return flat_event(vs, env, ev, err, errlen);
    }
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema is %s, not a Debezium envelope struct", ct_type_name(vs->type));
        return -1;
    }
    if (json_dec_read(a, vs, span, len, 0, &env, "value", err, errlen) < 0)
        return -1;
    if (d->layout.vs != vs || d->layout_gen != json_dec_generation(d->json)) {
        layout_init(&d->layout, vs);
        d->layout_gen = json_dec_generation(d->json);
    }
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



/* The row schema of a schemaless update: the after's (as), where the after's value is null (a null says no
 * type) the before's (bs) type of that column. as itself when nothing is null in the after. */
static const cs_schema_t *row_schema_merge(arena_t *a, const cs_schema_t *as, const cv_value_t *after,
                                           const cs_schema_t *bs)
{
    cs_schema_t *m = NULL;
    for (size_t i = 0; i < as->nfields; i++) {
        int bi = after->u.list.v[i].null ? cs_field_index(bs, as->fields[i].name) : -1;
        if (bi < 0)
            continue;
        if (!m) {
            m = cs_new(a, CT_STRUCT, as->optional);
            for (size_t k = 0; k < as->nfields; k++)
                cs_field_add(a, m, as->fields[k].name, as->fields[k].schema);
        }
        m->fields[i].schema = bs->fields[bi].schema;
    }
    return m ? m : as;
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
    ev->row_schema = rs = row_schema_merge(a, rs, &ev->after, vs->fields[bi].schema);
    const char *span;
    size_t len;
    if (json_dec_member(a, p, n, "before", &span, &len) < 0) {
        snprintf(err, errlen, "value has no before member");   /* cannot happen: it was just read */
        return -1;
    }
    return json_dec_read(a, rs, span, len, JSON_DEC_INFERRED, &ev->before, "before", err, errlen);
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

/* A JSON record's value (not empty) into ev. */
static int json_value(env_decoder_t *d, arena_t *a, const char *value, size_t vlen, env_event_t *ev, char *err,
                      size_t errlen)
{
    const cs_schema_t *vs;
    const char *span;
    size_t len;
    if (json_dec_split(d->json, 1, a, value, vlen, &vs, &span, &len, err, errlen) < 0)
        return -1;
    if (vs)
        return envelope_typed(d, a, vs, span, len, ev, err, errlen);
    return envelope_schemaless(a, span, len, ev, err, errlen);
}

int env_decode_json(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_event_t *ev, char *err, size_t errlen)
{
    event_init(ev);
    if (key && klen && json_key(d, a, key, klen, ev, err, errlen) < 0)
        return -1;
    if (!value || !vlen) {
        ev->op = ENV_TOMBSTONE;
        return 0;
    }
    return json_value(d, a, value, vlen, ev, err, errlen);
}

/* Each side in its own format, as Connect's key.converter and value.converter are set apart (e.g. a
 * JsonConverter key beside an AvroConverter value): the wire format's magic byte 0 starts an Avro side, and
 * never a JSON one. */
int env_decode_avro(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    avro_dec_fetch_fn fetch, void *ctx, env_event_t *ev, char *err, size_t errlen)
{
    event_init(ev);
    if (key && klen && key[0] != 0) {
        if (json_key(d, a, key, klen, ev, err, errlen) < 0)
            return -1;
    } else if (key && klen) {
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
    if (value[0] != 0)
        return json_value(d, a, value, vlen, ev, err, errlen);
    const cs_schema_t *vs;
    cv_value_t env;
    if (avro_dec_record(d->avro, a, value, vlen, fetch, ctx, &vs, &env, "value", err, errlen) < 0)
        return -1;
    if (!is_envelope(vs))
        return flat_event(vs, env, ev, err, errlen);
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema is %s, not a Debezium envelope record", ct_type_name(vs->type));
        return -1;
    }
    if (d->alayout.vs != vs)
        layout_init(&d->alayout, vs);   /* once per schema, not ~14 field lookups by name per record */
    return envelope_extract_at(&d->alayout, env, ev, err, errlen);
}

/* ---- records as a sink's transforms see them, and rows out of their envelope ----
 * Debezium's sinks take a record whose value schema is no Debezium envelope as a "flattened" row, as
 * ExtractNewRecordState leaves it: its value is the row (written per insert.mode), a null value a delete by
 * the key. */

/* Debezium's test (the name ends in .Envelope); a schema without a name is read as an envelope, as walcast
 * always read it (its errors say what is missing). */
static bool is_envelope(const cs_schema_t *vs)
{
    size_t n = vs && vs->name ? strlen(vs->name) : 0;
    return !vs || !vs->name || (n >= 9 && !strcmp(vs->name + n - 9, ".Envelope"));
}

static int flat_event(const cs_schema_t *vs, cv_value_t v, env_event_t *ev, char *err, size_t errlen)
{
    ev->flat = true;
    if (v.null) {
        ev->op = ev->key_schema ? ENV_DELETE : ENV_TOMBSTONE;   /* no key: nothing to delete by */
        return 0;
    }
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value is a %s, neither a Debezium envelope nor a row struct", ct_type_name(vs->type));
        return -1;
    }
    ev->op = ENV_CREATE;
    ev->flat = true;
    ev->row_schema = vs;
    ev->has_after = true;
    ev->after = v;
    return 0;
}

int env_decode_record(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                      avro_dec_fetch_fn fetch, void *ctx, env_record_t *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    for (int side = 0; side < 2; side++) {
        const char *p = side ? value : key;
        size_t n = side ? vlen : klen;
        const char *what = side ? "value" : "key";
        const cs_schema_t **sp = side ? &r->vs : &r->ks;
        cv_value_t *vp = side ? &r->value : &r->key;
        if (!p || !n)
            continue;
        if (p[0] == 0 && fetch) {
            if (avro_dec_record(d->avro, a, p, n, fetch, ctx, sp, vp, what, err, errlen) < 0)
                return -1;
            continue;
        }
        const char *span;
        size_t len;
        if (json_dec_split(d->json, side, a, p, n, sp, &span, &len, err, errlen) < 0)
            return -1;
        if (!*sp) {
            cv_value_t v;
            const cs_schema_t *is;
            if (json_dec_infer(a, span, len, 1, &is, &v, what, err, errlen) < 0)
                return -1;
            if (!v.null) {
                /* Connect's transforms read a schemaless record as maps, which walcast's do not take */
                snprintf(err, errlen, "the record's %s has no schema (JsonConverter with %s.converter.schemas.enable="
                         "false): transforms on a sink need records with schemas; set %s.converter.schemas.enable=true "
                         "on the connector that writes the topic", what, what, what);
                return -1;
            }
            *vp = cv_null();
            continue;
        }
        if (json_dec_read(a, *sp, span, len, 0, vp, what, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int env_event_from_record(const cs_schema_t *ks, const cv_value_t *key, const cs_schema_t *vs, const cv_value_t *value,
                          env_event_t *ev, char *err, size_t errlen)
{
    memset(ev, 0, sizeof *ev);
    ev->source.name = ev->source.db = ev->source.schema = ev->source.table = "";
    ev->source.txid = -1;
    if (ks && key && !key->null) {
        if (ks->type != CT_STRUCT) {
            snprintf(err, errlen, "the key is a %s after the transforms; the sinks need a struct key", ct_type_name(ks->type));
            return -1;
        }
        ev->key_schema = ks;
        ev->key = *key;
    }
    if (!vs) {
        /* a Kafka null: Debezium's sinks delete by the key (the delete event before it, if any, did already) */
        ev->op = ev->key_schema ? ENV_DELETE : ENV_TOMBSTONE;
        return 0;
    }
    cv_value_t v = value ? *value : cv_null();
    if (!is_envelope(vs))
        return flat_event(vs, v, ev, err, errlen);
    if (vs->type != CT_STRUCT) {
        snprintf(err, errlen, "value schema is %s, not a Debezium envelope struct", ct_type_name(vs->type));
        return -1;
    }
    return envelope_extract(vs, v, ev, err, errlen);
}
