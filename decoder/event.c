/* event.c: Debezium change events from pgoutput changes. Schemas (and their JSON text) are built once
 * per table version; each change builds values in the per-message arena and returns unencoded records to
 * its caller (evt_out_t), which encodes and publishes them. */
#include "decoder/event.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/json.h"


typedef struct evt_colmap {
    int col;            /* index in rel_table cols */
    int mask;           /* column.mask.with.N.chars, -1 none */
    int trunc;          /* column.truncate.to.N.chars, -1 none */
    const flt_rule_t *hash;
    int maxlen;         /* declared length for hash truncation, -1 none */
    bool key;           /* a key column: null cannot stand for a value it fails to convert */
    bool has_default;   /* its field schema has a default (what the JSON converter writes for null) */
} evt_colmap_t;

typedef struct evt_table {
    bool captured;
    char *topic;
    arena_t *arena;
    cs_schema_t *key_schema;      /* NULL: null key */
    cs_schema_t *value_schema;
    cs_schema_t *env_schema;
    rec_codec_t kc, vc;
    evt_colmap_t *fields;         /* one per value field */
    size_t nfields;
    int *key_fields;              /* value-field index of each key field, -1: not in the value */
    evt_colmap_t *key_cols;       /* the column of each key field */
    size_t nkey;
    char *collection;             /* "schema.table" for transaction metadata */
} evt_table_t;

typedef struct evt_txcount {
    char *collection;
    int64_t n;
} evt_txcount_t;

/* Debezium names the data collection of a logical decoding message by Java's Object.toString of a new
 * id object per message: this class name, '@', the object's identity hash in hex. */
#define EVT_MSG_COLLECTION "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@"

struct evt_ctx {
    evt_config_t cfg;
    arena_t *arena;               /* long-lived: fixed schemas */
    cs_schema_t *source_schema;
    cs_schema_t *block_schema;
    cs_schema_t *msg_block_schema;
    rec_codec_t msg_kc, msg_vc;
    char *msg_topic;
    rec_codec_t hb_kc, hb_vc;
    char *hb_topic;
    rec_codec_t tx_kc, tx_vc;
    char *tx_topic;
    /* the open source transaction (provide.transaction.metadata) */
    bool tx_open;
    uint32_t tx_xid;
    int64_t tx_total;
    evt_txcount_t *tx_counts;     /* per data collection, in first-seen order */
    size_t tx_ncounts, tx_capcounts;
    char run_id[40];              /* __debezium.context.runId */
    cv_value_t ctx_hv[4];         /* the context headers' values (STRING): logical name, task id, connector, run id */
    cv_value_t src_version, src_name, src_db;   /* the source block's fixed strings */
    int64_t last_commit_us;       /* commit time of the last transaction seen (non-transactional messages) */
    uint64_t nontx_lsn;           /* LSN of the last non-transactional message: Debezium's last commit */
    uint32_t ident_seed;          /* stand-in for Java identity hashes */
    buf_t hb, hb2;                /* header scratch */
    buf_t warnings;               /* evt_warnings */
    uint64_t cur_lsn;             /* the change being converted, for messages */
    wc_status_t fail_status;      /* what a failed row_value/key_value asks for */
    evt_stats_t stats;
};

enum { SRC_VERSION, SRC_CONNECTOR, SRC_NAME, SRC_TS_MS, SRC_SNAPSHOT, SRC_DB, SRC_SEQUENCE, SRC_TS_US,
       SRC_TS_NS, SRC_SCHEMA, SRC_TABLE, SRC_TXID, SRC_LSN, SRC_XMIN, SRC_ORIGIN, SRC_ORIGIN_LSN, SRC_NFIELDS };
enum { ENV_BEFORE, ENV_AFTER, ENV_SOURCE, ENV_TRANSACTION, ENV_OP, ENV_TS_MS, ENV_TS_US, ENV_TS_NS, ENV_NFIELDS };

static cs_schema_t *prim(arena_t *a, ct_type_t t, bool optional) { return cs_new(a, t, optional); }

static cs_schema_t *struct_schema(arena_t *a, const char *name, int version, bool optional)
{
    cs_schema_t *s = cs_new(a, CT_STRUCT, optional);
    s->name = name;
    s->version = version;
    return s;
}


static void build_fixed_schemas(evt_ctx_t *e)
{
    arena_t *a = e->arena;
    cs_schema_t *s = struct_schema(a, "io.debezium.connector.postgresql.Source", 1, false);
    cs_field_add(a, s, "version", prim(a, CT_STRING, false));
    cs_field_add(a, s, "connector", prim(a, CT_STRING, false));
    cs_field_add(a, s, "name", prim(a, CT_STRING, false));
    cs_field_add(a, s, "ts_ms", prim(a, CT_INT64, false));
    cs_schema_t *snap = cs_new(a, CT_STRING, true);
    snap->name = "io.debezium.data.Enum";
    snap->version = 1;
    cs_param_add(snap, "allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental");
    cv_value_t *def = arena_alloc(a, sizeof *def);
    *def = cv_str("false", 5);
    snap->def = def;
    cs_field_add(a, s, "snapshot", snap);
    cs_field_add(a, s, "db", prim(a, CT_STRING, false));
    cs_field_add(a, s, "sequence", prim(a, CT_STRING, true));
    cs_field_add(a, s, "ts_us", prim(a, CT_INT64, true));
    cs_field_add(a, s, "ts_ns", prim(a, CT_INT64, true));
    cs_field_add(a, s, "schema", prim(a, CT_STRING, false));
    cs_field_add(a, s, "table", prim(a, CT_STRING, false));
    cs_field_add(a, s, "txId", prim(a, CT_INT64, true));
    cs_field_add(a, s, "lsn", prim(a, CT_INT64, true));
    cs_field_add(a, s, "xmin", prim(a, CT_INT64, true));
    cs_field_add(a, s, "origin", prim(a, CT_STRING, true));
    cs_field_add(a, s, "origin_lsn", prim(a, CT_INT64, true));
    e->source_schema = s;

    cs_schema_t *b = struct_schema(a, "event.block", 1, true);
    cs_field_add(a, b, "id", prim(a, CT_STRING, false));
    cs_field_add(a, b, "total_order", prim(a, CT_INT64, false));
    cs_field_add(a, b, "data_collection_order", prim(a, CT_INT64, false));
    e->block_schema = b;

    cs_schema_t *mk = struct_schema(a, "io.debezium.connector.postgresql.MessageKey", 1, false);
    cs_field_add(a, mk, "prefix", prim(a, CT_STRING, true));
    cs_schema_t *mb = struct_schema(a, "io.debezium.connector.postgresql.Message", 1, false);
    cs_field_add(a, mb, "prefix", prim(a, CT_STRING, true));
    cs_field_add(a, mb, "content", prim(a, e->cfg.types.binary == PGT_BINARY_BYTES ? CT_BYTES : CT_STRING, true));
    e->msg_block_schema = mb;
    cs_schema_t *mv = struct_schema(a, "io.debezium.connector.postgresql.MessageValue", 1, false);
    cs_field_add(a, mv, "op", prim(a, CT_STRING, false));
    cs_field_add(a, mv, "ts_ms", prim(a, CT_INT64, true));
    cs_field_add(a, mv, "source", e->source_schema);
    cs_field_add(a, mv, "transaction", e->block_schema);
    cs_field_add(a, mv, "message", mb);
    rec_codec_bind(&e->msg_kc, mk);
    rec_codec_bind(&e->msg_vc, mv);
    size_t tl = strlen(e->cfg.prefix) + 16;
    e->msg_topic = arena_alloc(a, tl);
    snprintf(e->msg_topic, tl, "%s.message", e->cfg.prefix);

    cs_schema_t *hk = struct_schema(a, "io.debezium.connector.common.ServerNameKey", 1, false);
    cs_field_add(a, hk, "serverName", prim(a, CT_STRING, false));
    cs_schema_t *hv = struct_schema(a, "io.debezium.connector.common.Heartbeat", 1, false);
    cs_field_add(a, hv, "ts_ms", prim(a, CT_INT64, false));
    rec_codec_bind(&e->hb_kc, hk);
    rec_codec_bind(&e->hb_vc, hv);
    /* Debezium's topic naming strategy joins these with topic.delimiter too (the message topic it does
     * not: "<prefix>.message" is fixed) */
    const char *delim = e->cfg.delimiter ? e->cfg.delimiter : ".";
    tl = strlen(e->cfg.prefix) + strlen(delim) + 32;
    e->hb_topic = arena_alloc(a, tl);
    snprintf(e->hb_topic, tl, "__debezium-heartbeat%s%s", delim, e->cfg.prefix);

    cs_schema_t *tk = struct_schema(a, "io.debezium.connector.common.TransactionMetadataKey", 1, false);
    cs_field_add(a, tk, "id", prim(a, CT_STRING, false));
    cs_schema_t *tc = struct_schema(a, "event.collection", 1, true);
    cs_field_add(a, tc, "data_collection", prim(a, CT_STRING, false));
    cs_field_add(a, tc, "event_count", prim(a, CT_INT64, false));
    cs_schema_t *tarr = cs_new(a, CT_ARRAY, true);
    tarr->items = tc;
    cs_schema_t *tv = struct_schema(a, "io.debezium.connector.common.TransactionMetadataValue", 1, false);
    cs_field_add(a, tv, "status", prim(a, CT_STRING, false));
    cs_field_add(a, tv, "id", prim(a, CT_STRING, false));
    cs_field_add(a, tv, "event_count", prim(a, CT_INT64, true));
    cs_field_add(a, tv, "data_collections", tarr);
    cs_field_add(a, tv, "ts_ms", prim(a, CT_INT64, false));
    rec_codec_bind(&e->tx_kc, tk);
    rec_codec_bind(&e->tx_vc, tv);
    tl = strlen(e->cfg.prefix) + strlen(delim) + 16;
    e->tx_topic = arena_alloc(a, tl);
    snprintf(e->tx_topic, tl, "%s%stransaction", e->cfg.prefix, delim);
}

/* A UUIDv7 (RFC 9562: 48-bit Unix milliseconds, version, random bits, variant), as the runId Debezium
 * 3.6 gives each connector run. The one place this module reads a clock and randomness; an agent that
 * wants a known id passes run_id in the config. */
static void make_run_id(char out[40])
{
    uint8_t b[16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (RAND_bytes(b, sizeof b) != 1) {
        uint64_t x = ms ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)(uintptr_t)out;
        for (int i = 0; i < 16; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            b[i] = (uint8_t)x;
        }
    }
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    snprintf(out, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
             b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

evt_ctx_t *evt_new(const evt_config_t *cfg)
{
    evt_ctx_t *e = xcalloc(1, sizeof *e);
    e->cfg = *cfg;
    if (!e->cfg.delimiter)
        e->cfg.delimiter = ".";
    if (!e->cfg.placeholder)
        e->cfg.placeholder = "__debezium_unavailable_value";
    if (!e->cfg.version)
        e->cfg.version = "walcast";
    if (e->cfg.run_id)
        snprintf(e->run_id, sizeof e->run_id, "%s", e->cfg.run_id);
    else
        make_run_id(e->run_id);
    const char *ctx[4] = { e->cfg.prefix, "0", "postgresql", e->run_id };
    for (int i = 0; i < 4; i++)
        e->ctx_hv[i] = cv_str(ctx[i], strlen(ctx[i]));
    e->src_version = cv_str(e->cfg.version, strlen(e->cfg.version));
    e->src_name = cv_str(e->cfg.prefix, strlen(e->cfg.prefix));
    e->src_db = cv_str(e->cfg.dbname, strlen(e->cfg.dbname));
    e->ident_seed = 0x2545f491u;
    e->arena = arena_new(16 * 1024);
    buf_init(&e->hb);
    buf_init(&e->hb2);
    buf_init(&e->warnings);
    build_fixed_schemas(e);
    return e;
}

void evt_free(evt_ctx_t *e)
{
    if (!e)
        return;
    buf_free(&e->hb);
    buf_free(&e->hb2);
    buf_free(&e->warnings);
    rec_codec_free(&e->msg_kc);
    rec_codec_free(&e->msg_vc);
    rec_codec_free(&e->hb_kc);
    rec_codec_free(&e->hb_vc);
    rec_codec_free(&e->tx_kc);
    rec_codec_free(&e->tx_vc);
    evt_tx_reset(e);
    free(e->tx_counts);
    arena_free(e->arena);
    free(e);
}

const char *evt_run_id(const evt_ctx_t *e) { return e->run_id; }

const evt_stats_t *evt_stats(const evt_ctx_t *e) { return &e->stats; }
const char *evt_warnings(const evt_ctx_t *e) { return e->warnings.len ? e->warnings.data : ""; }   /* NUL-ended */

/* Starts the conversion of one change: no warnings yet, position for messages. */
static void convert_begin(evt_ctx_t *e, const evt_pos_t *pos)
{
    buf_reset(&e->warnings);
    e->cur_lsn = pos->lsn;
    e->fail_status = WC_RETRY;
}

void evt_table_free(void *user)
{
    evt_table_t *et = user;
    if (!et)
        return;
    rec_codec_free(&et->kc);
    rec_codec_free(&et->vc);
    arena_free(et->arena);
}

bool evt_table_captured(const rel_table_t *t)
{
    const evt_table_t *et = t->user;
    return et && et->captured;
}

const char *evt_table_topic(const rel_table_t *t)
{
    const evt_table_t *et = t->user;
    return et ? et->topic : NULL;
}

void evt_topic_name(char *out, size_t outlen, const char *prefix, const char *delim, const char *schema,
                    const char *table)
{
    snprintf(out, outlen, "%s%s%s%s%s", prefix, delim, schema, delim, table);
    /* One '_' per Java char, as Debezium's sanitizer walks the String: a non-ASCII letter is one
     * char (one '_', not one per UTF-8 byte), a character beyond the BMP two (a surrogate pair). */
    size_t n = strlen(out), j = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)out[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        size_t len = 1, chars = 1;
        if (c >= 0xc2 && c <= 0xdf)
            len = 2;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, chars = 2;
        for (size_t k = 1; k < len; k++)
            if (i + k >= n || ((unsigned char)out[i + k] & 0xc0) != 0x80)
                len = 1, chars = 1;   /* not well-formed: this byte alone (one replacement char) */
        if (ok) {
            out[j++] = (char)c;
        } else {
            for (size_t k = 0; k < chars; k++)
                out[j++] = '_';
        }
        i += len;
    }
    out[j] = '\0';
    if (j > 249)
        out[249] = '\0';
}

static bool is_plain_string_type(const rel_column_t *col)
{
    if (col->type.kind != PGT_TEXT || !col->type.typname)
        return false;
    const char *n = col->type.typname;
    return !strcmp(n, "text") || !strcmp(n, "varchar") || !strcmp(n, "bpchar") || !strcmp(n, "char") ||
           !strcmp(n, "name");
}

wc_status_t evt_table_prepare(evt_ctx_t *e, rel_table_t *t, char *err, size_t errlen)
{
    evt_table_t *et = arena_zalloc(t->arena, sizeof *et);
    /* et itself lives in the table arena; its own arena holds schemas */
    et->arena = arena_new(16 * 1024);
    buf_init(&et->kc.text);
    buf_init(&et->vc.text);
    t->user = et;
    const flt_filters_t *f = e->cfg.filters;
    et->captured = !f || flt_table_included(f, t->nspname, t->relname);
    if (!et->captured)
        return 0;
    arena_t *a = et->arena;
    char topic[512];
    evt_topic_name(topic, sizeof topic, e->cfg.prefix, e->cfg.delimiter, t->nspname, t->relname);
    et->topic = arena_strdup(a, topic);
    size_t cl = strlen(t->nspname) + strlen(t->relname) + 2;
    et->collection = arena_alloc(a, cl);
    snprintf(et->collection, cl, "%s.%s", t->nspname, t->relname);
    char name[600];

    cs_schema_t *vs = cs_new(a, CT_STRUCT, true);
    snprintf(name, sizeof name, "%s.Value", topic);
    vs->name = avro_adjust_name(a, arena_strdup(a, name), e->cfg.schema_names, false);
    et->fields = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *et->fields);
    for (size_t i = 0; i < t->ncols; i++) {
        rel_column_t *col = &t->cols[i];
        if (f && !flt_column_included(f, t->nspname, t->relname, col->name))
            continue;
        cs_schema_t *fs = pgt_schema(a, &col->type, !col->not_null, &e->cfg.types);
        if (!fs)
            continue;   /* unknown type: dropped, as Debezium does without include.unknown.datatypes */
        evt_colmap_t *cm = &et->fields[et->nfields];
        cm->col = (int)i;
        cm->mask = cm->trunc = cm->maxlen = -1;
        cm->hash = NULL;
        cm->key = cm->has_default = false;
        if (f && is_plain_string_type(col)) {
            cm->mask = flt_mask_len(f, t->nspname, t->relname, col->name);
            cm->trunc = flt_truncate_len(f, t->nspname, t->relname, col->name);
            cm->hash = flt_hash_rule(f, t->nspname, t->relname, col->name);
            if (cm->hash && col->typmod >= 4)
                cm->maxlen = col->typmod - 4;
            if (cm->mask >= 0 || cm->hash)
                cs_param_add(fs, "masked", "true");
            if (cm->trunc >= 0) {
                char n[16];
                snprintf(n, sizeof n, "%d", cm->trunc);
                cs_param_add(fs, "truncateLength", arena_strdup(a, n));
            }
        }
        cv_value_t dv;
        if (pgt_default(a, &col->type, &e->cfg.types, col->default_expr, &dv)) {
            cv_value_t *d = arena_alloc(a, sizeof *d);
            *d = dv;
            fs->def = d;
            cm->has_default = true;
        }
        /* No doc from column comments, whatever include.schema.comments says: Debezium's PostgreSQL
         * connector never reads them (neither its pgoutput relation path nor its JDBC metadata path sets a
         * column comment; only the MySQL and Oracle DDL parsers do), and a doc in the key schema changes
         * the key bytes and so the partition (issue 18, item 3; differential test types_diff.sh) */
        cs_field_add(a, vs, avro_adjust_name(a, col->name, e->cfg.field_names, true), fs);
        et->nfields++;
    }
    et->value_schema = vs;

    /* Key columns: message.key.columns, else the primary key / first unique index. */
    int *keycols = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof(int));
    size_t nk = 0;
    const flt_keycols_t *kc = f ? flt_key_columns(f, t->nspname, t->relname) : NULL;
    if (kc) {
        for (size_t k = 0; k < kc->ncols; k++) {
            int idx = rel_column_index(t, kc->cols[k]);
            if (idx < 0) {
                snprintf(err, errlen, "message.key.columns names column \"%s\" which table \"%s\".\"%s\" does not have",
                         kc->cols[k], t->nspname, t->relname);
                return WC_FATAL;
            }
            keycols[nk++] = idx;
        }
    } else {
        for (size_t k = 0; k < t->nkeys; k++)
            keycols[nk++] = t->keys[k];
    }
    et->key_fields = arena_alloc(a, (nk ? nk : 1) * sizeof(int));
    et->key_cols = arena_alloc(a, (nk ? nk : 1) * sizeof *et->key_cols);
    if (nk) {
        cs_schema_t *ks = cs_new(a, CT_STRUCT, false);
        snprintf(name, sizeof name, "%s.Key", topic);
        ks->name = avro_adjust_name(a, arena_strdup(a, name), e->cfg.schema_names, false);
        for (size_t k = 0; k < nk; k++) {
            int vf = -1;
            for (size_t j = 0; j < et->nfields; j++)
                if (et->fields[j].col == keycols[k])
                    vf = (int)j;
            const rel_column_t *col = &t->cols[keycols[k]];
            const cs_schema_t *kfs;
            if (vf >= 0) {
                kfs = vs->fields[vf].schema;
                et->fields[vf].key = true;
                et->key_cols[et->nkey] = et->fields[vf];
            } else {
                /* left out of the value by a column filter: Debezium keeps it in the key, typed but
                 * optional and without default (it reads the column's catalog facts through the same
                 * filter, finds none and takes "optional") */
                kfs = pgt_schema(a, &col->type, true, &e->cfg.types);
                if (!kfs) {
                    snprintf(err, errlen, "key column \"%s\" of table \"%s\".\"%s\" has a type walcast cannot convert; exclude the table or set message.key.columns",
                             col->name, t->nspname, t->relname);
                    return WC_FATAL;
                }
                et->key_cols[et->nkey] = (evt_colmap_t){ .col = keycols[k], .mask = -1, .trunc = -1, .maxlen = -1, .key = true };
            }
            et->key_fields[et->nkey++] = vf;
            cs_field_add(a, ks, avro_adjust_name(a, col->name, e->cfg.field_names, true), kfs);
        }
        et->key_schema = ks;
        rec_codec_bind(&et->kc, ks);
    }

    cs_schema_t *env = cs_new(a, CT_STRUCT, false);
    snprintf(name, sizeof name, "%s.Envelope", topic);
    env->name = avro_adjust_name(a, arena_strdup(a, name), e->cfg.schema_names, false);
    env->version = 2;
    cs_field_add(a, env, "before", vs);
    cs_field_add(a, env, "after", vs);
    cs_field_add(a, env, "source", e->source_schema);
    cs_field_add(a, env, "transaction", e->block_schema);
    cs_field_add(a, env, "op", prim(a, CT_STRING, false));
    cs_field_add(a, env, "ts_ms", prim(a, CT_INT64, true));
    cs_field_add(a, env, "ts_us", prim(a, CT_INT64, true));
    cs_field_add(a, env, "ts_ns", prim(a, CT_INT64, true));
    et->env_schema = env;
    rec_codec_bind(&et->vc, env);
    return WC_OK;
}

/* ---- values ----------------------------------------------------------------------------- */

static size_t utf8_prefix_len(const char *s, size_t n, int chars)
{
    size_t i = 0;
    int c = 0;
    while (i < n && c < chars) {
        unsigned char b = (unsigned char)s[i];
        size_t w = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        i += w;
        c++;
    }
    return i > n ? n : i;
}

static cv_value_t hash_value(arena_t *a, const flt_rule_t *r, const char *s, size_t n, int maxlen)
{
    const EVP_MD *md = EVP_get_digestbyname(r->alg);
    unsigned char dig[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!md || !ctx) {
        EVP_MD_CTX_free(ctx);
        return cv_null();
    }
    EVP_DigestInit_ex(ctx, md, NULL);
    EVP_DigestUpdate(ctx, r->salt, strlen(r->salt));
    EVP_DigestUpdate(ctx, s, n);
    EVP_DigestFinal_ex(ctx, dig, &dl);
    EVP_MD_CTX_free(ctx);
    char *hex = arena_alloc(a, dl * 2 + 1);
    for (unsigned i = 0; i < dl; i++)
        snprintf(hex + i * 2, 3, "%02x", dig[i]);
    size_t len = dl * 2;
    if (maxlen >= 0 && (size_t)maxlen < len)
        len = (size_t)maxlen;
    return cv_str(hex, len);
}

/* Converts one column of a tuple; old supplies the real value of an unchanged TOASTed column. */
static int column_value(evt_ctx_t *e, arena_t *a, const rel_table_t *t, const evt_colmap_t *cm,
                        const pgo_tuple_t *tup, const pgo_tuple_t *old, bool fill_required, cv_value_t *out,
                        char *err, size_t errlen)
{
    const rel_column_t *col = &t->cols[cm->col];
    const pgo_col_t *pc = (size_t)cm->col < tup->ncols ? &tup->cols[cm->col] : NULL;
    if (pc && pc->kind == PGO_COL_UNCHANGED && old && (size_t)cm->col < old->ncols &&
        old->cols[cm->col].kind == PGO_COL_TEXT)
        pc = &old->cols[cm->col];
    if (!pc || pc->kind == PGO_COL_NULL) {
        *out = cv_null();
        if (fill_required && col->not_null)
            *out = pgt_zero(a, &col->type, &e->cfg.types);
    } else if (pc->kind == PGO_COL_UNCHANGED) {
        *out = pgt_unavailable(a, &col->type, &e->cfg.types, e->cfg.placeholder);
        return 0;
    } else if (pc->kind == PGO_COL_BINARY) {
        snprintf(err, errlen, "column \"%s\" arrived in binary format, which walcast does not request", col->name);
        e->fail_status = WC_RETRY;
        return -1;
    } else if (pgt_value(a, &col->type, &e->cfg.types, pc->data, pc->len, out, err, errlen) < 0) {
        /* Debezium's TableSchemaBuilder: event.converting.failure.handling.mode; the value is left null */
        char why[256], lsn[32];
        snprintf(why, sizeof why, "%s", err);
        pgo_lsn_format(e->cur_lsn, lsn);
        bool required = col->not_null && !cm->has_default;
        if (e->cfg.convert_failure == EVT_CONVERT_FAIL || cm->key || required) {
            snprintf(err, errlen, "table \"%s\".\"%s\" column \"%s\" (%s) at LSN %s: %s; %s", t->nspname, t->relname,
                     col->name, col->type.typname ? col->type.typname : "?", lsn, why,
                     e->cfg.convert_failure == EVT_CONVERT_FAIL
                         ? "the connector stops (event.converting.failure.handling.mode=fail; warn or skip send null)"
                         : "null cannot stand for it (a key column, or NOT NULL without default); exclude the column or table");
            e->fail_status = WC_PERMANENT;
            return -1;
        }
        if (e->warnings.len)
            buf_putc(&e->warnings, '\n');
        buf_printf(&e->warnings, "table \"%s\".\"%s\" column \"%s\" (%s) at LSN %s: %s; sent as null", t->nspname,
                   t->relname, col->name, col->type.typname ? col->type.typname : "?", lsn, why);
        buf_cstr(&e->warnings);
        e->stats.conversion_failures++;
        *out = cv_null();
        return 0;
    }
    if (cm->trunc >= 0 && !out->null)
        out->u.s.n = utf8_prefix_len(out->u.s.p, out->u.s.n, cm->trunc);
    if (cm->mask >= 0) {
        char *m = arena_alloc(a, (size_t)cm->mask + 1);
        memset(m, '*', (size_t)cm->mask);
        *out = cv_str(m, (size_t)cm->mask);
    }
    if (cm->hash && !out->null)
        *out = hash_value(a, cm->hash, out->u.s.p, out->u.s.n, cm->maxlen);
    return 0;
}

static int row_value(evt_ctx_t *e, arena_t *a, const rel_table_t *t, const evt_table_t *et,
                     const pgo_tuple_t *tup, const pgo_tuple_t *old, bool fill_required, cv_value_t *out,
                     char *err, size_t errlen)
{
    *out = cv_list(a, et->nfields);
    for (size_t i = 0; i < et->nfields; i++)
        if (column_value(e, a, t, &et->fields[i], tup, old, fill_required, &out->u.list.v[i], err, errlen) < 0)
            return -1;
    return 0;
}

/* The key of a row: from its value fields, and from the tuple for key columns the value leaves out. */
static int key_value(evt_ctx_t *e, arena_t *a, const rel_table_t *t, const evt_table_t *et, const cv_value_t *row,
                     const pgo_tuple_t *tup, cv_value_t *out, char *err, size_t errlen)
{
    *out = cv_list(a, et->nkey);
    for (size_t i = 0; i < et->nkey; i++) {
        if (et->key_fields[i] >= 0)
            out->u.list.v[i] = row->u.list.v[et->key_fields[i]];
        else if (column_value(e, a, t, &et->key_cols[i], tup, NULL, false, &out->u.list.v[i], err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* A null slot of a cv_list (all zero but null) given a value in place: a cv_int()/cv_str() copied in went
 * through the stack with a store-forwarding stall per value (the source block has 16 fields a row). */
static inline void slot_int(cv_value_t *slot, int64_t i)
{
    slot->null = false;
    slot->u.i = i;
}

static inline void slot_str(cv_value_t *slot, const char *p, size_t n)
{
    slot->null = false;
    slot->u.s.p = p;
    slot->u.s.n = n;
}

static cv_value_t source_value(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const char *schema,
                               const char *table)
{
    cv_value_t s = cv_list(a, SRC_NFIELDS);
    cv_value_t *v = s.u.list.v;
    v[SRC_VERSION] = e->src_version;
    slot_str(&v[SRC_CONNECTOR], "postgresql", 10);
    v[SRC_NAME] = e->src_name;
    int64_t ts_us = pos->commit_time_us ? pos->commit_time_us : pos->now_us;
    slot_int(&v[SRC_TS_MS], ts_us / 1000);
    /* streaming: null, as Debezium leaves it; the converters write the field's default "false", and a
     * transform that reads the raw value (ExtractNewRecordState's add.fields=source.snapshot) sees null */
    if (pos->snapshot)
        slot_str(&v[SRC_SNAPSHOT], pos->snapshot, strlen(pos->snapshot));
    v[SRC_DB] = e->src_db;
    /* Debezium treats a non-transactional message as a committed unit of its own: its LSN is the last
     * commit LSN for the message and for what follows until the next commit. The text is
     * ["<last commit>","<lsn>"] or [null,"<lsn>"], written without printf (once per row). */
    uint64_t last_commit = pos->last_commit_lsn > e->nontx_lsn ? pos->last_commit_lsn : e->nontx_lsn;
    char seq[64];
    buf_t sb = { .data = seq, .len = 0, .cap = sizeof seq };   /* 47 bytes at most: never grows */
    if (last_commit) {
        buf_append(&sb, "[\"", 2);
        buf_put_u64(&sb, last_commit);
        buf_append(&sb, "\",\"", 3);
    } else {
        buf_append(&sb, "[null,\"", 7);
    }
    buf_put_u64(&sb, pos->lsn);
    buf_append(&sb, "\"]", 2);
    slot_str(&v[SRC_SEQUENCE], arena_memdup(a, seq, sb.len), sb.len);
    slot_int(&v[SRC_TS_US], ts_us);
    slot_int(&v[SRC_TS_NS], ts_us * 1000);
    slot_str(&v[SRC_SCHEMA], schema, strlen(schema));
    slot_str(&v[SRC_TABLE], table, strlen(table));
    if (pos->xid)
        slot_int(&v[SRC_TXID], pos->xid);
    if (!pos->no_lsn)
        slot_int(&v[SRC_LSN], (int64_t)pos->lsn);
    return s;
}

static void add_context_headers(evt_ctx_t *e, rec_event_t *r)
{
    if (!e->cfg.extended_headers)
        return;
    /* DebeziumHeaderProducer: each a String under Schema.STRING_SCHEMA */
    static const char *const keys[4] = { "__debezium.context.connectorLogicalName", "__debezium.context.taskId",
                                         "__debezium.context.connectorName", "__debezium.context.runId" };
    for (int i = 0; i < 4; i++)
        r->headers[r->nheaders++] = (rec_header_t){ .key = keys[i], .value = e->ctx_hv[i].u.s.p,
                                                    .len = e->ctx_hv[i].u.s.n, .schema = cs_primitive(CT_STRING),
                                                    .cv = &e->ctx_hv[i] };
}

/* Every evt_* call that builds records starts here: out and the warnings hold this call's only. */
static void out_begin(evt_ctx_t *e, evt_out_t *out)
{
    out->n = 0;
    buf_reset(&e->warnings);
}

/* The next record of out (at most EVT_OUT_MAX per call: the callers below never build more). */
static rec_event_t *out_next(evt_out_t *out)
{
    rec_event_t *r = &out->ev[out->n++];
    /* all but the header slots (nheaders 0: the builders fill them in order) */
    memset(r, 0, offsetof(rec_event_t, headers));
    memset(&r->nheaders, 0, sizeof *r - offsetof(rec_event_t, nheaders));
    return r;
}

/* A copy of v in a, so that the record outlives the builder's stack frame. */
static const cv_value_t *out_value(arena_t *a, const cv_value_t *v)
{
    if (!v)
        return NULL;
    cv_value_t *c = arena_alloc(a, sizeof *c);
    *c = *v;
    return c;
}

/* Adds one data event (or a tombstone when env is NULL) to out; the caller's converter encodes it. */
static void emit_event(evt_ctx_t *e, arena_t *a, evt_out_t *out, evt_table_t *et, const cv_value_t *key,
                       const cv_value_t *env, char op, const char *hkey, const buf_t *hval, const cv_value_t *hcv)
{
    rec_event_t *r = out_next(out);
    r->topic = et->topic;
    r->op = op;
    if (et->key_schema && key) {
        r->kc = &et->kc;
        r->key = out_value(a, key);
    }
    r->vc = &et->vc;
    r->value = out_value(a, env);
    if (hkey && hval)
        r->headers[r->nheaders++] = (rec_header_t){ .key = hkey, .value = hval->data, .len = hval->len,
                                                    .schema = et->key_schema, .cv = out_value(a, hcv) };   /* a key Struct */
    add_context_headers(e, r);
}

static char *tx_id(arena_t *a, uint32_t xid, uint64_t lsn)
{
    char *id = arena_alloc(a, 48);
    snprintf(id, 48, "%u:%llu", xid, (unsigned long long)lsn);
    return id;
}

/* The `transaction` block of a data event: counts it (total and per data collection) in the open
 * transaction. */
static cv_value_t tx_block(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const char *collection)
{
    if (!e->cfg.tx_metadata || !e->tx_open)
        return cv_null();
    evt_txcount_t *c = NULL;
    for (size_t i = e->tx_ncounts; i-- > 0;) {
        if (strcmp(e->tx_counts[i].collection, collection) == 0) {
            c = &e->tx_counts[i];
            break;
        }
    }
    if (!c) {
        if (e->tx_ncounts == e->tx_capcounts) {
            e->tx_capcounts = e->tx_capcounts ? e->tx_capcounts * 2 : 8;
            e->tx_counts = xrealloc(e->tx_counts, e->tx_capcounts * sizeof *e->tx_counts);
        }
        c = &e->tx_counts[e->tx_ncounts++];
        c->collection = xstrdup(collection);
        c->n = 0;
    }
    c->n++;
    e->tx_total++;
    cv_value_t b = cv_list(a, 3);
    const char *id = tx_id(a, e->tx_xid, pos->lsn);
    b.u.list.v[0] = cv_str(id, strlen(id));
    b.u.list.v[1] = cv_int(e->tx_total);
    b.u.list.v[2] = cv_int(c->n);
    return b;
}

static cv_value_t envelope(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const rel_table_t *t,
                           const cv_value_t *before, const cv_value_t *after, const char *op)
{
    cv_value_t env = cv_list(a, ENV_NFIELDS);
    cv_value_t *v = env.u.list.v;
    if (before)
        v[ENV_BEFORE] = *before;
    if (after)
        v[ENV_AFTER] = *after;
    v[ENV_SOURCE] = source_value(e, a, pos, t->nspname, t->relname);
    v[ENV_TRANSACTION] = tx_block(e, a, pos, ((const evt_table_t *)t->user)->collection);
    slot_str(&v[ENV_OP], op, 1);
    slot_int(&v[ENV_TS_MS], pos->now_us / 1000);
    slot_int(&v[ENV_TS_US], pos->now_us);
    slot_int(&v[ENV_TS_NS], pos->now_us * 1000);
    return env;
}

/* True when some key column's old text differs from the new one (unchanged-TOAST counts as same). */
static bool key_changed(const rel_table_t *t, const evt_table_t *et, const pgo_tuple_t *old, const pgo_tuple_t *nw)
{
    for (size_t k = 0; k < et->nkey; k++) {
        int c = et->key_cols[k].col;
        if ((size_t)c >= old->ncols || (size_t)c >= nw->ncols)
            continue;
        const pgo_col_t *o = &old->cols[c], *n = &nw->cols[c];
        if (o->kind != PGO_COL_TEXT || n->kind == PGO_COL_UNCHANGED)
            continue;
        if (n->kind != PGO_COL_TEXT || o->len != n->len || memcmp(o->data, n->data, o->len) != 0)
            return true;
    }
    (void)t;
    return false;
}

wc_status_t evt_change(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_msg_t *m,
                       evt_out_t *out, char *err, size_t errlen)
{
    out_begin(e, out);
    evt_table_t *et = t->user;
    if (!et || !et->captured) {
        e->stats.filtered++;
        return 0;
    }
    if (t->ncols == 0) {
        /* a table without columns: Debezium emits nothing for it and counts nothing in the
         * transaction's END record */
        e->stats.filtered++;
        return WC_OK;
    }
    convert_begin(e, pos);
    const pgo_tuple_t *old = m->u.change.old_kind ? &m->u.change.old_tuple : NULL;
    cv_value_t before, after, key, env;
    switch (m->type) {
    case PGO_INSERT:
        if (e->cfg.skipped_ops & EVT_OP_C) {
            e->stats.filtered++;
            return 0;
        }
        if (row_value(e, a, t, et, &m->u.change.new_tuple, NULL, false, &after, err, errlen) < 0 ||
            key_value(e, a, t, et, &after, &m->u.change.new_tuple, &key, err, errlen) < 0)
            return e->fail_status;
        env = envelope(e, a, pos, t, NULL, &after, "c");
        e->stats.created++;
        emit_event(e, a, out, et, &key, &env, 'c', NULL, NULL, NULL);
        return WC_OK;
    case PGO_UPDATE: {
        const pgo_tuple_t *full_old = m->u.change.old_kind == 'O' ? old : NULL;
        if (row_value(e, a, t, et, &m->u.change.new_tuple, full_old, false, &after, err, errlen) < 0 ||
            key_value(e, a, t, et, &after, &m->u.change.new_tuple, &key, err, errlen) < 0)
            return e->fail_status;
        if (old && et->nkey && key_changed(t, et, old, &m->u.change.new_tuple)) {
            /* Primary key change: delete (old key) + tombstone + create (new key), as Debezium does. */
            cv_value_t oldrow, oldkey;
            if (row_value(e, a, t, et, old, NULL, m->u.change.old_kind == 'K', &oldrow, err, errlen) < 0 ||
                key_value(e, a, t, et, &oldrow, old, &oldkey, err, errlen) < 0)
                return e->fail_status;
            buf_reset(&e->hb);
            json_enc_header_value(&e->hb, et->key_schema, &key);
            buf_reset(&e->hb2);
            json_enc_header_value(&e->hb2, et->key_schema, &oldkey);
            if (!(e->cfg.skipped_ops & EVT_OP_D)) {
                env = envelope(e, a, pos, t, &oldrow, NULL, "d");
                e->stats.deleted++;
                emit_event(e, a, out, et, &oldkey, &env, 'd', "__debezium.newkey", &e->hb, &key);
                if (e->cfg.tombstones) {
                    /* Debezium derives the tombstone from the delete record, headers included */
                    e->stats.tombstones++;
                    emit_event(e, a, out, et, &oldkey, NULL, 0, "__debezium.newkey", &e->hb, &key);
                }
            }
            if (e->cfg.skipped_ops & EVT_OP_C)
                return 0;
            env = envelope(e, a, pos, t, NULL, &after, "c");
            e->stats.created++;
            emit_event(e, a, out, et, &key, &env, 'c', "__debezium.oldkey", &e->hb2, &oldkey);
            return WC_OK;
        }
        if (e->cfg.skipped_ops & EVT_OP_U) {
            e->stats.filtered++;
            return 0;
        }
        bool has_before = false;
        if (old && (m->u.change.old_kind == 'O' || t->replident == 'i')) {
            if (row_value(e, a, t, et, old, NULL, false, &before, err, errlen) < 0)
                return e->fail_status;
            has_before = true;
        }
        env = envelope(e, a, pos, t, has_before ? &before : NULL, &after, "u");
        e->stats.updated++;
        emit_event(e, a, out, et, &key, &env, 'u', NULL, NULL, NULL);
        return WC_OK;
    }
    case PGO_DELETE:
        if (e->cfg.skipped_ops & EVT_OP_D) {
            e->stats.filtered++;
            return 0;
        }
        if (row_value(e, a, t, et, old, NULL, m->u.change.old_kind == 'K', &before, err, errlen) < 0 ||
            key_value(e, a, t, et, &before, old, &key, err, errlen) < 0)
            return e->fail_status;
        env = envelope(e, a, pos, t, &before, NULL, "d");
        e->stats.deleted++;
        emit_event(e, a, out, et, &key, &env, 'd', NULL, NULL, NULL);
        if (e->cfg.tombstones) {
            e->stats.tombstones++;
            emit_event(e, a, out, et, &key, NULL, 0, NULL, NULL, NULL);
        }
        return WC_OK;
    default:
        snprintf(err, errlen, "evt_change called with a %s message", pgo_msgtype_name(m->type));
        return WC_FATAL;
    }
}

/* Snapshot rows (agent/snapshot.c): an insert's conversion with op 'r' and the snapshot marker. */
wc_status_t evt_read(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_tuple_t *tup,
                     evt_out_t *out, char *err, size_t errlen)
{
    out_begin(e, out);
    evt_table_t *et = t->user;
    if (!et || !et->captured) {
        e->stats.filtered++;
        return WC_OK;
    }
    cv_value_t after, key, env;
    convert_begin(e, pos);
    if (row_value(e, a, t, et, tup, NULL, false, &after, err, errlen) < 0 ||
        key_value(e, a, t, et, &after, tup, &key, err, errlen) < 0)
        return e->fail_status;
    env = envelope(e, a, pos, t, NULL, &after, "r");
    e->stats.read++;
    emit_event(e, a, out, et, &key, &env, 'r', NULL, NULL, NULL);
    return WC_OK;
}

wc_status_t evt_truncate(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, evt_out_t *out, char *err,
                         size_t errlen)
{
    (void)err;
    (void)errlen;
    out_begin(e, out);
    evt_table_t *et = t->user;
    if (!et || !et->captured || (e->cfg.skipped_ops & EVT_OP_T)) {
        e->stats.filtered++;
        return 0;
    }
    cv_value_t env = envelope(e, a, pos, t, NULL, NULL, "t");
    e->stats.truncated++;
    emit_event(e, a, out, et, NULL, &env, 't', NULL, NULL, NULL);
    return WC_OK;
}

/* Adds a record of one of the connector-wide topics (messages, heartbeats, transactions) to out. */
static void emit_fixed(evt_ctx_t *e, arena_t *a, evt_out_t *out, const char *topic, rec_codec_t *kc,
                       const cv_value_t *key, rec_codec_t *vc, const cv_value_t *val, char op, bool headers)
{
    rec_event_t *r = out_next(out);
    r->topic = topic;
    r->op = op;
    r->kc = kc;
    r->key = out_value(a, key);
    r->vc = vc;
    r->value = out_value(a, val);
    if (headers)
        add_context_headers(e, r);
}

void evt_tx_reset(evt_ctx_t *e)
{
    for (size_t i = 0; i < e->tx_ncounts; i++)
        free(e->tx_counts[i].collection);
    e->tx_ncounts = 0;
    e->tx_total = 0;
    e->tx_open = false;
}

/* Debezium keeps the per-collection counts in a java.util.HashMap and lists them in its iteration
 * order (pgt_java_hashmap_order). */
static void tx_hashmap_order(const evt_txcount_t *c, size_t n, size_t *order)
{
    const char **keys = xmalloc((n ? n : 1) * sizeof *keys);
    for (size_t i = 0; i < n; i++)
        keys[i] = c[i].collection;
    pgt_java_hashmap_order(keys, n, order);
    free(keys);
}

static void tx_record(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, bool end, evt_out_t *out)
{
    const char *id = tx_id(a, e->tx_xid, pos->lsn);
    cv_value_t key = cv_list(a, 1);
    key.u.list.v[0] = cv_str(id, strlen(id));
    cv_value_t val = cv_list(a, 5);
    val.u.list.v[0] = end ? cv_str("END", 3) : cv_str("BEGIN", 5);
    val.u.list.v[1] = key.u.list.v[0];
    if (end) {
        val.u.list.v[2] = cv_int(e->tx_total);
        cv_value_t arr = cv_list(a, e->tx_ncounts);
        size_t *order = arena_alloc(a, (e->tx_ncounts ? e->tx_ncounts : 1) * sizeof *order);
        tx_hashmap_order(e->tx_counts, e->tx_ncounts, order);
        for (size_t i = 0; i < e->tx_ncounts; i++) {
            const evt_txcount_t *tc = &e->tx_counts[order[i]];
            cv_value_t c = cv_list(a, 2);
            c.u.list.v[0] = cv_str(arena_strdup(a, tc->collection), strlen(tc->collection));
            c.u.list.v[1] = cv_int(tc->n);
            arr.u.list.v[i] = c;
        }
        val.u.list.v[3] = arr;
    }
    val.u.list.v[4] = cv_int((pos->commit_time_us ? pos->commit_time_us : pos->now_us) / 1000);
    emit_fixed(e, a, out, e->tx_topic, &e->tx_kc, &key, &e->tx_vc, &val, 0, false);
}

wc_status_t evt_tx_begin(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, evt_out_t *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    out_begin(e, out);
    if (pos->commit_time_us)
        e->last_commit_us = pos->commit_time_us;
    if (!e->cfg.tx_metadata)
        return 0;
    evt_tx_reset(e);
    e->tx_open = true;
    e->tx_xid = pos->xid;
    tx_record(e, a, pos, false, out);
    return WC_OK;
}

wc_status_t evt_tx_end(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, evt_out_t *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    out_begin(e, out);
    if (!e->cfg.tx_metadata || !e->tx_open)
        return 0;
    tx_record(e, a, pos, true, out);
    evt_tx_reset(e);
    return WC_OK;
}

wc_status_t evt_message(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const pgo_msg_t *m, evt_out_t *out, char *err,
                        size_t errlen)
{
    out_begin(e, out);
    const char *prefix = m->u.message.prefix;
    bool transactional = pos->xid || pos->commit_time_us;
    if (transactional && pos->commit_time_us)
        e->last_commit_us = pos->commit_time_us;
    /* Debezium takes a non-transactional message's LSN as the last commit also when its prefix
     * filter drops the message */
    int64_t prev_commit_us = e->last_commit_us;
    if (!transactional)
        e->nontx_lsn = pos->lsn;
    if (e->cfg.filters && !flt_message_included(e->cfg.filters, prefix)) {
        e->stats.filtered++;
        return 0;
    }
    cv_value_t key = cv_list(a, 1);
    key.u.list.v[0] = cv_str(prefix, strlen(prefix));
    cv_value_t blk = cv_list(a, 2);
    blk.u.list.v[0] = cv_str(prefix, strlen(prefix));
    pgt_coltype_t bt = { .kind = PGT_BYTEA };
    uint8_t *hexin = arena_alloc(a, m->u.message.content_len * 2 + 3);
    hexin[0] = '\\';
    hexin[1] = 'x';
    static const char hx[] = "0123456789abcdef";
    for (uint32_t i = 0; i < m->u.message.content_len; i++) {
        hexin[2 + i * 2] = (uint8_t)hx[m->u.message.content[i] >> 4];
        hexin[3 + i * 2] = (uint8_t)hx[m->u.message.content[i] & 15];
    }
    if (pgt_value(a, &bt, &e->cfg.types, (const char *)hexin, m->u.message.content_len * 2 + 2, &blk.u.list.v[1],
                  err, errlen) < 0)
        return WC_RETRY;
    cv_value_t val = cv_list(a, 5);
    val.u.list.v[0] = cv_str("m", 1);
    val.u.list.v[1] = cv_int(pos->now_us / 1000);   /* Debezium: the time it processed the message */
    if (transactional) {
        val.u.list.v[2] = source_value(e, a, pos, "", "");
        /* a data event of its own collection, named as Debezium's Object.toString names it: the
         * identity hash differs per message and per run, so a pseudo-random one stands in */
        e->ident_seed ^= e->ident_seed << 13;
        e->ident_seed ^= e->ident_seed >> 17;
        e->ident_seed ^= e->ident_seed << 5;
        char coll[sizeof EVT_MSG_COLLECTION + 16];
        snprintf(coll, sizeof coll, "%s%x", EVT_MSG_COLLECTION, (e->ident_seed & 0x7fffffffu) | 1u);
        val.u.list.v[3] = tx_block(e, a, pos, coll);
    } else {
        /* non-transactional: Debezium's source block keeps the last transaction's commit time and
         * takes the message's own LSN as the last commit */
        evt_pos_t p = *pos;
        p.commit_time_us = prev_commit_us;
        val.u.list.v[2] = source_value(e, a, &p, "", "");
        val.u.list.v[3] = cv_null();
    }
    val.u.list.v[4] = blk;
    e->stats.messages++;
    /* Debezium's message records carry no headers */
    emit_fixed(e, a, out, e->msg_topic, &e->msg_kc, &key, &e->msg_vc, &val, 'm', false);
    return WC_OK;
}

wc_status_t evt_heartbeat(evt_ctx_t *e, arena_t *a, int64_t now_us, evt_out_t *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    out_begin(e, out);
    cv_value_t key = cv_list(a, 1);
    key.u.list.v[0] = cv_str(e->cfg.prefix, strlen(e->cfg.prefix));
    cv_value_t val = cv_list(a, 1);
    val.u.list.v[0] = cv_int(now_us / 1000);
    emit_fixed(e, a, out, e->hb_topic, &e->hb_kc, &key, &e->hb_vc, &val, 0, false);
    return WC_OK;
}
