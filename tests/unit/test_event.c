/* test_event.c: Debezium events from captured pgoutput bytes: ops, keys, delete fallbacks, key change
 * (d + tombstone + c with headers), TOAST placeholder, skipped operations, tombstones off, no schemas;
 * and what the differential test against Debezium 3.6.1 found (tests/reference): context headers with
 * runId, no headers on messages, heartbeat schema versions, no column comments as doc (whatever
 * include.schema.comments says), topic.delimiter in heartbeat and transaction topics,
 * truncateLength, messages in transaction metadata, data_collections in Java HashMap order,
 * non-transactional messages' source block. */
#include "tests/unit/testutil.h"

#include "decoder/event.h"
#include "schemas/converter.h"

#define MAXMSG 64
#define MAXREC 64
static uint8_t *fx[MAXMSG];
static size_t fxlen[MAXMSG];
static size_t nfx;

typedef struct trec {
    char topic[128];
    char key[1024];
    char value[4096];
    bool has_key, has_value;
    char hdr[256];
    char hdrkeys[512];  /* every header key, comma-separated, in order */
    char runid[64];
    char typed[256];    /* the headers' Connect schema and value (HeaderToValue reads them) */
    char op;
} trec_t;
static trec_t recs[MAXREC];
static int nrec;

/* the JSON converter pair the tests choose (schemas.enable per side) */
static conv_side_t key_side = { .kind = CONV_JSON }, value_side = { .kind = CONV_JSON };

static void set_schemas(bool key, bool value)
{
    key_side.schemas = key;
    value_side.schemas = value;
}

static wc_status_t emit(void *ctx, const rec_event_t *ev, char *err, size_t errlen)
{
    (void)ctx;
    conv_t *cv = conv_new(&key_side, &value_side);
    rec_t rr, *r = &rr;
    assert_int_equal(conv_encode(cv, ev, r, err, errlen), WC_OK);
    trec_t *x = &recs[nrec++];
    memset(x, 0, sizeof *x);
    snprintf(x->topic, sizeof x->topic, "%s", r->topic);
    x->has_key = r->key != NULL;
    x->has_value = r->value != NULL;
    if (r->key)
        snprintf(x->key, sizeof x->key, "%.*s", (int)r->keylen, (const char *)r->key);
    if (r->value)
        snprintf(x->value, sizeof x->value, "%.*s", (int)r->valuelen, (const char *)r->value);
    for (int i = 0; i < r->nheaders; i++) {
        size_t l = strlen(x->hdrkeys);
        snprintf(x->hdrkeys + l, sizeof x->hdrkeys - l, "%s%s", l ? "," : "", r->headers[i].key);
        if (strcmp(r->headers[i].key, "__debezium.context.runId") == 0)
            snprintf(x->runid, sizeof x->runid, "%.*s", (int)r->headers[i].len, (const char *)r->headers[i].value);
    }
    for (int i = 0; i < r->nheaders; i++)
        if (strncmp(r->headers[i].key, "__debezium.context", 18) != 0)
            snprintf(x->hdr, sizeof x->hdr, "%s=%.*s", r->headers[i].key, (int)r->headers[i].len,
                     (const char *)r->headers[i].value);
    for (int i = 0; i < ev->nheaders; i++) {
        const rec_header_t *h = &ev->headers[i];
        size_t l = strlen(x->typed);
        if (!strncmp(h->key, "__debezium.context", 18))   /* STRING, the header's own text */
            snprintf(x->typed + l, sizeof x->typed - l, "%s", h->schema && h->schema->type == CT_STRING && !h->schema->optional &&
                     h->cv && h->cv->u.s.n == h->len && !memcmp(h->cv->u.s.p, h->value, h->len) ? "s" : "?");
        else
            snprintf(x->typed + l, sizeof x->typed - l, "[%s %s id=%lld]", h->key, h->schema && h->schema->name ? h->schema->name : "-",
                     h->cv && h->schema && h->schema->type == CT_STRUCT ? (long long)h->cv->u.list.v[0].u.i : -1LL);
    }
    x->op = r->op;
    conv_free(cv);
    return WC_OK;
}

/* The records the last decoder call returned, published to recs in order when it succeeded. */
static evt_out_t tout;
static wc_status_t drain(wc_status_t st, const evt_out_t *out, char *err, size_t errlen)
{
    for (size_t i = 0; st == WC_OK && i < out->n; i++)
        st = emit(NULL, &out->ev[i], err, errlen);
    return st;
}

/* Replays every fixture message through relcache + event builder. */
static const char *trunc_rule;   /* column.truncate.to.2.chars for the next replay, or NULL */

static void replay(evt_config_t *cfg)
{
    static const rel_catcol_t fxcols[] = { { "id", true, NULL, NULL }, { "name", false, "'anon'::text", "who" },
                                           { "n", true, NULL, NULL }, { "big", false, NULL, NULL } };
    static const char *const fxkey[] = { "id" };
    static const rel_catcol_t fullcols[] = { { "id", true, NULL, NULL }, { "v", false, NULL, NULL } };
    rel_catinfo_t info_fx = { fxcols, 4, fxkey, 1 }, info_full = { fullcols, 2, fxkey, 1 };
    flt_filters_t f;
    char err0[256];
    flt_init(&f);
    if (trunc_rule)
        assert_int_equal(flt_add_truncate(&f, 2, trunc_rule, "column.truncate.to.2.chars", err0, sizeof err0), 0);
    cfg->filters = &f;
    cfg->prefix = "srv";
    cfg->dbname = "db";
    nrec = 0;
    evt_ctx_t *e = evt_new(cfg);
    rel_cache_t *rc = rel_cache_new(evt_table_free);
    arena_t *a = arena_new(8192);
    pgo_state_t st = { 1, false };
    char err[512];
    evt_pos_t pos = { .xid = 1, .commit_time_us = 1000000, .lsn = 100, .now_us = 5000000 };
    for (size_t i = 0; i < nfx; i++) {
        pgo_msg_t m;
        arena_reset(a);
        assert_int_equal(pgo_parse(&st, fx[i], fxlen[i], a, &m, err, sizeof err), 0);
        if (cfg->tx_metadata)
            pos.lsn = 100 + i;
        if (m.type == PGO_BEGIN) {
            pos.xid = m.xid;
            assert_int_equal(drain(evt_tx_begin(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
        } else if (m.type == PGO_COMMIT) {
            assert_int_equal(drain(evt_tx_end(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
        } else if (m.type == PGO_RELATION) {
            rel_table_t *t;
            bool full = strcmp(m.u.relation.relname, "fxfull") == 0;
            assert_int_equal(rel_cache_put(rc, NULL, &m, full ? &info_full : &info_fx, &t, err, sizeof err), 0);
            assert_int_equal(evt_table_prepare(e, t, err, sizeof err), 0);
        } else if (m.type == PGO_INSERT || m.type == PGO_UPDATE || m.type == PGO_DELETE) {
            assert_int_equal(drain(evt_change(e, a, &pos, rel_cache_get(rc, m.u.change.relid), &m, &tout, err, sizeof err), &tout, err, sizeof err), 0);
        } else if (m.type == PGO_TRUNCATE) {
            for (uint32_t k = 0; k < m.u.truncate.nrelids; k++)
                assert_int_equal(drain(evt_truncate(e, a, &pos, rel_cache_get(rc, m.u.truncate.relids[k]), &tout, err, sizeof err), &tout, err, sizeof err), 0);
        }
    }
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);
    flt_free(&f);
}

static evt_config_t base_cfg(void)
{
    evt_config_t c;
    memset(&c, 0, sizeof c);
    pgt_opts_default(&c.types);
    c.tombstones = true;
    set_schemas(false, false);
    c.skipped_ops = EVT_OP_T;
    c.extended_headers = true;
    c.version = "walcast-test";
    return c;
}

static void test_ops_and_keys(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    replay(&c);
    /* c c u u [d tomb c] d tomb | c u d tomb ; truncate skipped */
    const char ops[] = { 'c', 'c', 'u', 'u', 'd', 0, 'c', 'd', 0, 'c', 'u', 'd', 0 };
    assert_int_equal(nrec, (int)sizeof ops);
    for (int i = 0; i < nrec; i++)
        assert_int_equal(recs[i].op, ops[i]);
    assert_string_equal(recs[0].topic, "srv.public.fx");
    assert_string_equal(recs[0].key, "{\"id\":1}");
    assert_non_null(strstr(recs[0].value, "\"after\":{\"id\":1,\"name\":\"one\",\"n\":\"AJY=\",\"big\":null}"));
    assert_non_null(strstr(recs[0].value, "\"source\":{\"version\":\"walcast-test\",\"connector\":\"postgresql\",\"name\":\"srv\",\"ts_ms\":1000,\"snapshot\":\"false\",\"db\":\"db\",\"sequence\":\"[null,\\\"100\\\"]\""));
    assert_non_null(strstr(recs[0].value, "\"op\":\"c\",\"ts_ms\":5000,\"ts_us\":5000000,\"ts_ns\":5000000000}"));
    /* unchanged TOAST value in an update: the placeholder */
    assert_non_null(strstr(recs[3].value, "\"big\":\"__debezium_unavailable_value\""));
    /* key change: delete of the old key carrying the new key, tombstone, create carrying the old key */
    assert_string_equal(recs[4].key, "{\"id\":1}");
    assert_string_equal(recs[4].hdr, "__debezium.newkey={\"id\":3}");
    assert_false(recs[5].has_value);
    assert_string_equal(recs[5].key, "{\"id\":1}");
    assert_string_equal(recs[5].hdr, "__debezium.newkey={\"id\":3}");   /* the tombstone keeps the delete's headers */
    assert_string_equal(recs[6].key, "{\"id\":3}");
    assert_string_equal(recs[6].hdr, "__debezium.oldkey={\"id\":1}");
    /* typed as Debezium's: the key Struct under the key schema */
    assert_string_equal(recs[4].typed, "[__debezium.newkey srv.public.fx.Key id=3]ssss");
    assert_string_equal(recs[5].typed, "[__debezium.newkey srv.public.fx.Key id=3]ssss");
    assert_string_equal(recs[6].typed, "[__debezium.oldkey srv.public.fx.Key id=1]ssss");
    /* DEFAULT identity delete: key columns, NOT NULL fallbacks, nullable nulls (name's default shows) */
    assert_non_null(strstr(recs[7].value, "\"before\":{\"id\":3,\"name\":\"anon\",\"n\":\"AA==\",\"big\":null},\"after\":null"));
    /* FULL identity update has the whole old row */
    assert_non_null(strstr(recs[10].value, "\"before\":{\"id\":1,\"v\":\"a\"},\"after\":{\"id\":1,\"v\":\"b\"}"));
    assert_string_equal(recs[9].topic, "srv.public.fxfull");
}

static void test_options(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    c.tombstones = false;
    c.skipped_ops = EVT_OP_U;
    replay(&c);
    /* c c [d c] d | c d t t */
    const char ops[] = { 'c', 'c', 'd', 'c', 'd', 'c', 'd', 't', 't' };
    assert_int_equal(nrec, (int)sizeof ops);
    for (int i = 0; i < nrec; i++)
        assert_int_equal(recs[i].op, ops[i]);
    assert_false(recs[7].has_key);
    assert_non_null(strstr(recs[7].value, "\"before\":null,\"after\":null"));
    c = base_cfg();
    set_schemas(true, true);
    replay(&c);
    assert_true(strncmp(recs[0].key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],\"optional\":false,\"name\":\"srv.public.fx.Key\"},\"payload\":{\"id\":1}}", 200) == 0);
    /* column comments only with include.schema.comments=true (Debezium's default is false) */
    assert_non_null(strstr(recs[0].value, "{\"type\":\"string\",\"optional\":true,\"default\":\"anon\",\"field\":\"name\"}"));
    assert_non_null(strstr(recs[0].value, "\"name\":\"srv.public.fx.Envelope\",\"version\":2},\"payload\":"));
    /* nor with include.schema.comments=true: Debezium's PostgreSQL connector never reads column comments
     * (issue 18, item 3: the doc changed the key bytes and so the partition) */
    c.schema_comments = true;
    replay(&c);
    assert_non_null(strstr(recs[0].value, "{\"type\":\"string\",\"optional\":true,\"default\":\"anon\",\"field\":\"name\"}"));
    assert_null(strstr(recs[0].value, "\"doc\":\"who\""));
    /* column.truncate.to.N.chars: the value cut, the field schema says so */
    c = base_cfg();
    value_side.schemas = true;
    trunc_rule = "public.fx.name";
    replay(&c);
    trunc_rule = NULL;
    assert_non_null(strstr(recs[0].value, "{\"type\":\"string\",\"optional\":true,\"parameters\":{\"truncateLength\":\"2\"},\"default\":\"anon\",\"field\":\"name\"}"));
    assert_non_null(strstr(recs[0].value, "\"name\":\"on\""));
}

/* Context headers as Debezium 3.6 writes them on data events and tombstones: logical name, task id,
 * connector name, then a runId (a UUIDv7, one per connector run); none on transaction records. */
static void test_context_headers(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    c.tx_metadata = true;
    replay(&c);
    const char *ctx = "__debezium.context.connectorLogicalName,__debezium.context.taskId,"
                      "__debezium.context.connectorName,__debezium.context.runId";
    char run[64] = "";
    for (int i = 0; i < nrec; i++) {
        if (strcmp(recs[i].topic, "srv.transaction") == 0) {
            assert_string_equal(recs[i].hdrkeys, "");
            continue;
        }
        const char *k = recs[i].hdrkeys;
        if (strncmp(k, "__debezium.newkey,", 18) == 0 || strncmp(k, "__debezium.oldkey,", 18) == 0)
            k += 18;
        assert_string_equal(k, ctx);
        /* each typed STRING (Schema.STRING_SCHEMA), its value the header's text */
        const char *t = strstr(recs[i].typed, "ssss");
        assert_non_null(t);
        assert_string_equal(t, "ssss");
        if (!run[0])
            snprintf(run, sizeof run, "%s", recs[i].runid);
        assert_string_equal(recs[i].runid, run);   /* the same for the whole run */
    }
    assert_int_equal(strlen(run), 36);
    assert_int_equal(run[14], '7');                   /* version 7 */
    assert_non_null(strchr("89ab", run[19]));        /* RFC 4122 variant */
    for (int i = 0; i < 36; i++)
        assert_true(i == 8 || i == 13 || i == 18 || i == 23 ? run[i] == '-' : strchr("0123456789abcdef", run[i]) != NULL);
    c.run_id = "given-run-id";
    replay(&c);
    assert_string_equal(recs[1].runid, "given-run-id");
}

/* A relation message with one int4 key column "id" (proto 1). */
static void put_table(evt_ctx_t *e, rel_cache_t *rc, arena_t *a, uint32_t relid, const char *rel)
{
    static const rel_catcol_t cols[] = { { "id", true, NULL, NULL } };
    static const char *const key[] = { "id" };
    rel_catinfo_t info = { cols, 1, key, 1 };
    tu_bytes_t b = { .n = 0 };
    tu_u8(&b, 'R'); tu_u32(&b, relid); tu_str(&b, "public"); tu_str(&b, rel); tu_u8(&b, 'd'); tu_u16(&b, 1);
    tu_u8(&b, 1); tu_str(&b, "id"); tu_u32(&b, 23); tu_u32(&b, 0xffffffff);
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    char err[256];
    rel_table_t *t;
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
    assert_int_equal(rel_cache_put(rc, NULL, &m, &info, &t, err, sizeof err), 0);
    assert_int_equal(evt_table_prepare(e, t, err, sizeof err), 0);
}

static void insert(evt_ctx_t *e, rel_cache_t *rc, arena_t *a, const evt_pos_t *pos, uint32_t relid, const char *id)
{
    tu_bytes_t b = { .n = 0 };
    tu_u8(&b, 'I'); tu_u32(&b, relid); tu_u8(&b, 'N'); tu_u16(&b, 1); tu_textcol(&b, id);
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    char err[256];
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
    assert_int_equal(drain(evt_change(e, a, pos, rel_cache_get(rc, relid), &m, &tout, err, sizeof err), &tout, err, sizeof err), 0);
}

static void message(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, bool transactional)
{
    tu_bytes_t b = { .n = 0 };
    tu_u8(&b, 'M'); tu_u8(&b, transactional ? 1 : 0); tu_u64(&b, pos->lsn); tu_str(&b, "audit");
    tu_u32(&b, 2); tu_mem(&b, "hi", 2);
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    char err[256];
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
    assert_int_equal(drain(evt_message(e, a, pos, &m, &tout, err, sizeof err), &tout, err, sizeof err), 0);
}

/* What Debezium 3.6.1 does with logical decoding messages and transaction metadata (found by the
 * differential test): a transactional message is a data event of its own collection (counted in
 * total_order and event_count, listed in data_collections under the name Debezium's Object.toString
 * gives it), messages carry no headers, their envelope ts_ms is the agent's clock; data_collections
 * come in java.util.HashMap order; a non-transactional message has the previous transaction's commit
 * time and its own LSN as lsn_commit, which later events keep as the last commit until the next one. */
static void test_messages_and_tx(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    c.tx_metadata = true;
    c.prefix = "srv";
    c.dbname = "db";
    nrec = 0;
    evt_ctx_t *e = evt_new(&c);
    rel_cache_t *rc = rel_cache_new(evt_table_free);
    arena_t *a = arena_new(8192);
    char err[256];
    put_table(e, rc, a, 1, "evolve");
    put_table(e, rc, a, 2, "ident_default");
    evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 100, .last_commit_lsn = 50, .now_us = 9000000 };
    assert_int_equal(drain(evt_tx_begin(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    pos.lsn = 110;
    insert(e, rc, a, &pos, 1, "1");
    pos.lsn = 120;
    message(e, a, &pos, true);
    pos.lsn = 130;
    insert(e, rc, a, &pos, 2, "1");
    pos.lsn = 140;
    insert(e, rc, a, &pos, 2, "2");
    pos.lsn = 150;
    assert_int_equal(drain(evt_tx_end(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    assert_int_equal(nrec, 6);
    assert_string_equal(recs[2].topic, "srv.message");
    assert_string_equal(recs[2].hdrkeys, "");
    assert_non_null(strstr(recs[2].value, "\"op\":\"m\",\"ts_ms\":9000,"));
    assert_non_null(strstr(recs[2].value, "\"transaction\":{\"id\":\"7:120\",\"total_order\":2,\"data_collection_order\":1}"));
    assert_non_null(strstr(recs[4].value, "\"transaction\":{\"id\":\"7:140\",\"total_order\":4,\"data_collection_order\":2}"));
    /* "public.ident_default" hashes to bucket 5 of 16, "public.evolve" to 14 */
    const char *end = recs[5].value;
    assert_non_null(strstr(end, "\"status\":\"END\",\"id\":\"7:150\",\"event_count\":4,\"data_collections\":["));
    const char *idf = strstr(end, "{\"data_collection\":\"public.ident_default\",\"event_count\":2}");
    const char *evo = strstr(end, "{\"data_collection\":\"public.evolve\",\"event_count\":1}");
    const char *msg = strstr(end, "{\"data_collection\":\"io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@");
    assert_non_null(idf);
    assert_non_null(evo);
    assert_non_null(msg);
    assert_true(idf < evo);
    assert_non_null(strstr(msg, "\",\"event_count\":1}"));

    /* a non-transactional message: no xid, previous commit time, [own LSN, own LSN] */
    evt_pos_t nt = { .xid = 0, .commit_time_us = 0, .lsn = 500, .last_commit_lsn = 150, .now_us = 9500000 };
    message(e, a, &nt, false);
    assert_non_null(strstr(recs[6].value, "\"ts_ms\":1000,\"snapshot\":\"false\",\"db\":\"db\",\"sequence\":\"[\\\"500\\\",\\\"500\\\"]\""));
    assert_non_null(strstr(recs[6].value, "\"txId\":null,\"lsn\":500,"));
    assert_non_null(strstr(recs[6].value, "\"transaction\":null"));
    /* the next transaction's events: lsn_commit is the message's LSN */
    evt_pos_t p2 = { .xid = 8, .commit_time_us = 2000000, .lsn = 600, .last_commit_lsn = 150, .now_us = 9600000 };
    assert_int_equal(drain(evt_tx_begin(e, a, &p2, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    p2.lsn = 610;
    insert(e, rc, a, &p2, 1, "3");
    assert_non_null(strstr(recs[8].value, "\"sequence\":\"[\\\"500\\\",\\\"610\\\"]\""));
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);

    /* a message left out by message.prefix.exclude.list still counts as Debezium's last commit */
    flt_filters_t f;
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.msg_exc, "audit", "message.prefix.exclude.list", err, sizeof err), 0);
    c.filters = &f;
    nrec = 0;
    e = evt_new(&c);
    rc = rel_cache_new(evt_table_free);
    a = arena_new(8192);
    put_table(e, rc, a, 1, "evolve");
    message(e, a, &nt, false);
    assert_int_equal(nrec, 0);
    assert_int_equal(drain(evt_tx_begin(e, a, &p2, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    insert(e, rc, a, &p2, 1, "3");
    assert_non_null(strstr(recs[1].value, "\"sequence\":\"[\\\"500\\\",\\\"610\\\"]\""));
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);
    flt_free(&f);
}

/* A column filter that leaves out a key column: Debezium keeps it in the key (its schema optional, since
 * the column's catalog facts are read through the same filter) and leaves it out of the value. */
static void test_key_column_filtered(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    set_schemas(true, true);
    c.prefix = "srv";
    c.dbname = "db";
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.col_exc, "public\\.evolve\\.id", "column.exclude.list", err, sizeof err), 0);
    c.filters = &f;
    nrec = 0;
    evt_ctx_t *e = evt_new(&c);
    rel_cache_t *rc = rel_cache_new(evt_table_free);
    arena_t *a = arena_new(8192);
    put_table(e, rc, a, 1, "evolve");
    evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 100, .now_us = 9000000 };
    insert(e, rc, a, &pos, 1, "42");
    assert_int_equal(nrec, 1);
    assert_string_equal(recs[0].key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":true,\"field\":\"id\"}],\"optional\":false,\"name\":\"srv.public.evolve.Key\"},\"payload\":{\"id\":42}}");
    assert_non_null(strstr(recs[0].value, "{\"type\":\"struct\",\"fields\":[],\"optional\":true,\"name\":\"srv.public.evolve.Value\",\"field\":\"before\"}"));
    assert_non_null(strstr(recs[0].value, "\"after\":{},"));
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);
    flt_free(&f);
}

/* Heartbeat key and value schemas carry version 1, as Debezium's do. */
static void test_heartbeat_schemas(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    set_schemas(true, true);
    c.prefix = "srv";
    c.dbname = "db";
    nrec = 0;
    evt_ctx_t *e = evt_new(&c);
    arena_t *a = arena_new(1024);
    char err[256];
    assert_int_equal(drain(evt_heartbeat(e, a, 7000000, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    assert_string_equal(recs[0].key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"serverName\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.ServerNameKey\",\"version\":1},\"payload\":{\"serverName\":\"srv\"}}");
    assert_string_equal(recs[0].value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\",\"version\":1},\"payload\":{\"ts_ms\":7000}}");
    assert_string_equal(recs[0].hdrkeys, "");
    assert_string_equal(recs[0].topic, "__debezium-heartbeat.srv");
    evt_free(e);
    /* issue 18, item 4: topic.delimiter joins the heartbeat and transaction topics too (Debezium's
     * topic naming strategy), not the message topic */
    c.delimiter = "_";
    c.tx_metadata = true;
    nrec = 0;
    e = evt_new(&c);
    assert_int_equal(drain(evt_heartbeat(e, a, 7000000, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    assert_string_equal(recs[0].topic, "__debezium-heartbeat_srv");
    evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 100, .now_us = 9000000 };
    assert_int_equal(drain(evt_tx_begin(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    assert_string_equal(recs[1].topic, "srv_transaction");
    message(e, a, &pos, false);
    assert_string_equal(recs[2].topic, "srv.message");
    arena_free(a);
    evt_free(e);
}

/* provide.transaction.metadata: BEGIN/END on <prefix>.transaction around each source transaction,
 * ids "<xid>:<lsn of that record>", data events numbered in total and per table. */
static void test_tx_metadata(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    c.tx_metadata = true;
    replay(&c);
    int begins = 0, ends = 0;
    for (int i = 0; i < nrec; i++) {
        if (strcmp(recs[i].topic, "srv.transaction") != 0)
            continue;
        if (strstr(recs[i].value, "\"status\":\"BEGIN\""))
            begins++;
        else
            ends++;
    }
    assert_true(begins >= 2);
    assert_int_equal(begins, ends);
    /* the first transaction: BEGIN, then c c u u [d tomb c] d tomb, END */
    assert_string_equal(recs[0].topic, "srv.transaction");
    char id[64];
    assert_int_equal(sscanf(recs[0].key, "{\"id\":\"%63[^\"]\"}", id), 1);
    assert_non_null(strchr(id, ':'));
    char want[256];
    snprintf(want, sizeof want, "{\"status\":\"BEGIN\",\"id\":\"%s\",\"event_count\":null,\"data_collections\":null,\"ts_ms\":1000}", id);
    assert_string_equal(recs[0].value, want);
    assert_false(recs[0].hdr[0]);
    unsigned xid;
    assert_int_equal(sscanf(id, "%u:", &xid), 1);
    assert_non_null(strstr(recs[1].value, "\"transaction\":{\"id\":\""));
    assert_non_null(strstr(recs[1].value, "\"total_order\":1,\"data_collection_order\":1}"));
    assert_non_null(strstr(recs[2].value, "\"total_order\":2,\"data_collection_order\":2}"));
    /* the key change counts its d and c, not the tombstone */
    int end = 1;
    while (strcmp(recs[end].topic, "srv.transaction") != 0)
        end++;
    int data = 0;
    for (int i = 1; i < end; i++)
        data += recs[i].has_value;
    snprintf(want, sizeof want, "\"event_count\":%d,\"data_collections\":[{\"data_collection\":\"public.fx\",\"event_count\":%d}]", data, data);
    assert_non_null(strstr(recs[end].value, "\"status\":\"END\""));
    assert_non_null(strstr(recs[end].value, want));
    /* without the option: no transaction records, null blocks */
    c = base_cfg();
    replay(&c);
    for (int i = 0; i < nrec; i++) {
        assert_string_not_equal(recs[i].topic, "srv.transaction");
        if (recs[i].has_value)
            assert_non_null(strstr(recs[i].value, "\"transaction\":null"));
    }
}

static void test_topic_names(void **s)
{
    (void)s;
    char t[300];
    evt_topic_name(t, sizeof t, "srv", ".", "Odd Schema", "We\"ird; DROP");
    assert_string_equal(t, "srv.Odd_Schema.We_ird__DROP");
    /* one '_' per Java char, as Debezium: u-umlaut is one, an emoji (surrogate pair) two, a stray byte one */
    evt_topic_name(t, sizeof t, "srv", ".", "s", "\xc3\xbc");
    assert_string_equal(t, "srv.s._");
    evt_topic_name(t, sizeof t, "srv", ".", "s", "a\xf0\x9f\x98\x80" "b\xe2\x82\xac" "c\xff" "d");
    assert_string_equal(t, "srv.s.a__b_c_d");
    char longname[400];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    evt_topic_name(t, sizeof t, "srv", ".", "s", longname);
    assert_int_equal(strlen(t), 249);
}

/* Issue 18, item 1: a value walcast cannot convert stalled the connector (WC_RETRY for ever). Debezium's
 * event.converting.failure.handling.mode: warn (default) and skip send null and report table, column and
 * LSN; fail stops. A key column or a NOT NULL column without default cannot be null: it always fails. */
static wc_status_t convert_insert(evt_convert_mode_t mode, const char *id, const char *v, const char *w, char *err,
                                  size_t errlen, char *warnings, size_t wlen)
{
    static const rel_catcol_t cols[] = { { "id", true, NULL, NULL }, { "v", false, NULL, NULL },
                                         { "w", true, NULL, NULL } };
    static const char *const key[] = { "id" };
    rel_catinfo_t info = { cols, 3, key, 1 };
    evt_config_t c = base_cfg();
    c.prefix = "srv";
    c.dbname = "db";
    c.convert_failure = mode;
    nrec = 0;
    evt_ctx_t *e = evt_new(&c);
    rel_cache_t *rc = rel_cache_new(evt_table_free);
    arena_t *a = arena_new(8192);
    tu_bytes_t b = { .n = 0 };
    tu_u8(&b, 'R'); tu_u32(&b, 5); tu_str(&b, "public"); tu_str(&b, "conv"); tu_u8(&b, 'd'); tu_u16(&b, 3);
    tu_u8(&b, 1); tu_str(&b, "id"); tu_u32(&b, 23); tu_u32(&b, 0xffffffff);
    tu_u8(&b, 0); tu_str(&b, "v"); tu_u32(&b, 23); tu_u32(&b, 0xffffffff);
    tu_u8(&b, 0); tu_str(&b, "w"); tu_u32(&b, 23); tu_u32(&b, 0xffffffff);
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    rel_table_t *t;
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, errlen), 0);
    assert_int_equal(rel_cache_put(rc, NULL, &m, &info, &t, err, errlen), 0);
    assert_int_equal(evt_table_prepare(e, t, err, errlen), 0);
    b.n = 0;
    tu_u8(&b, 'I'); tu_u32(&b, 5); tu_u8(&b, 'N'); tu_u16(&b, 3);
    tu_textcol(&b, id); tu_textcol(&b, v); tu_textcol(&b, w);
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, errlen), 0);
    evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 0x16B3748, .now_us = 9000000 };
    wc_status_t rc2 = drain(evt_change(e, a, &pos, t, &m, &tout, err, errlen), &tout, err, errlen);
    snprintf(warnings, wlen, "%s", evt_warnings(e));
    if (rc2 == WC_OK && *warnings)
        assert_int_equal(evt_stats(e)->conversion_failures, 1);
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);
    return rc2;
}

static void test_conversion_failure_modes(void **s)
{
    (void)s;
    char err[512], w[512];
    set_schemas(false, false);
    assert_int_equal(convert_insert(EVT_CONVERT_WARN, "1", "x1", "3", err, sizeof err, w, sizeof w), WC_OK);
    assert_int_equal(nrec, 1);
    assert_non_null(strstr(recs[0].value, "\"after\":{\"id\":1,\"v\":null,\"w\":3}"));
    assert_string_equal(w, "table \"public\".\"conv\" column \"v\" (int4) at LSN 0/16B3748: invalid integer text 'x1' for int4; sent as null");
    assert_int_equal(convert_insert(EVT_CONVERT_SKIP, "1", "x1", "3", err, sizeof err, w, sizeof w), WC_OK);
    assert_int_equal(nrec, 1);
    assert_non_null(strstr(w, "column \"v\""));
    /* fail: the connector stops, with table, column and LSN */
    assert_int_equal(convert_insert(EVT_CONVERT_FAIL, "1", "x1", "3", err, sizeof err, w, sizeof w), WC_PERMANENT);
    assert_int_equal(nrec, 0);
    assert_non_null(strstr(err, "table \"public\".\"conv\" column \"v\" (int4) at LSN 0/16B3748: invalid integer text 'x1'"));
    assert_non_null(strstr(err, "event.converting.failure.handling.mode=fail"));
    /* key column and NOT NULL column without default: never null, in any mode */
    assert_int_equal(convert_insert(EVT_CONVERT_WARN, "k1", "2", "3", err, sizeof err, w, sizeof w), WC_PERMANENT);
    assert_non_null(strstr(err, "column \"id\""));
    assert_int_equal(convert_insert(EVT_CONVERT_SKIP, "1", "2", "w3", err, sizeof err, w, sizeof w), WC_PERMANENT);
    assert_non_null(strstr(err, "column \"w\""));
    /* convertible rows: no warning */
    assert_int_equal(convert_insert(EVT_CONVERT_WARN, "1", "2", "3", err, sizeof err, w, sizeof w), WC_OK);
    assert_string_equal(w, "");
}

/* Issue 18, item 6: a table without columns. Debezium emits no event for it and counts none in the
 * transaction's END record. */
static void test_table_without_columns(void **s)
{
    (void)s;
    evt_config_t c = base_cfg();
    c.prefix = "srv";
    c.dbname = "db";
    c.tx_metadata = true;
    nrec = 0;
    evt_ctx_t *e = evt_new(&c);
    rel_cache_t *rc = rel_cache_new(evt_table_free);
    arena_t *a = arena_new(8192);
    char err[256];
    rel_catinfo_t info = { NULL, 0, NULL, 0 };
    tu_bytes_t b = { .n = 0 };
    tu_u8(&b, 'R'); tu_u32(&b, 9); tu_str(&b, "public"); tu_str(&b, "nocols"); tu_u8(&b, 'd'); tu_u16(&b, 0);
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    rel_table_t *t;
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
    assert_int_equal(rel_cache_put(rc, NULL, &m, &info, &t, err, sizeof err), 0);
    assert_int_equal(evt_table_prepare(e, t, err, sizeof err), 0);
    put_table(e, rc, a, 1, "plain");
    evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 100, .now_us = 9000000 };
    assert_int_equal(drain(evt_tx_begin(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    b.n = 0;
    tu_u8(&b, 'I'); tu_u32(&b, 9); tu_u8(&b, 'N'); tu_u16(&b, 0);
    assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
    assert_int_equal(drain(evt_change(e, a, &pos, t, &m, &tout, err, sizeof err), &tout, err, sizeof err), WC_OK);
    insert(e, rc, a, &pos, 1, "1");
    pos.lsn = 200;
    assert_int_equal(drain(evt_tx_end(e, a, &pos, &tout, err, sizeof err), &tout, err, sizeof err), 0);
    assert_int_equal(nrec, 3);   /* BEGIN, the plain insert, END */
    assert_string_equal(recs[1].topic, "srv.public.plain");
    assert_non_null(strstr(recs[2].value, "\"event_count\":1,"));
    assert_null(strstr(recs[2].value, "nocols"));
    arena_free(a);
    rel_cache_free(rc);
    evt_free(e);
}

/* A relation that changes mid-stream (a column added): the next row's event carries the new schema and the
 * new field, never what the converter cached for the old table version (schema text, JSON keys), with and
 * without schemas. */
static void test_relation_change_mid_stream(void **s)
{
    (void)s;
    for (int schemas = 0; schemas < 2; schemas++) {
        evt_config_t c = base_cfg();
        c.prefix = "srv";
        c.dbname = "db";
        set_schemas(schemas, schemas);
        nrec = 0;
        evt_ctx_t *e = evt_new(&c);
        rel_cache_t *rc = rel_cache_new(evt_table_free);
        arena_t *a = arena_new(8192);
        char err[256];
        evt_pos_t pos = { .xid = 7, .commit_time_us = 1000000, .lsn = 100, .now_us = 9000000 };
        put_table(e, rc, a, 5, "evo");
        insert(e, rc, a, &pos, 5, "1");
        insert(e, rc, a, &pos, 5, "2");
        /* version 2: id, extra text */
        static const rel_catcol_t cols[] = { { "id", true, NULL, NULL }, { "extra", false, NULL, NULL } };
        static const char *const key[] = { "id" };
        rel_catinfo_t info = { cols, 2, key, 1 };
        tu_bytes_t b = { .n = 0 };
        tu_u8(&b, 'R'); tu_u32(&b, 5); tu_str(&b, "public"); tu_str(&b, "evo"); tu_u8(&b, 'd'); tu_u16(&b, 2);
        tu_u8(&b, 1); tu_str(&b, "id"); tu_u32(&b, 23); tu_u32(&b, 0xffffffff);
        tu_u8(&b, 0); tu_str(&b, "extra"); tu_u32(&b, 25); tu_u32(&b, 0xffffffff);
        pgo_state_t st = { 1, false };
        pgo_msg_t m;
        rel_table_t *t;
        assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
        assert_int_equal(rel_cache_put(rc, NULL, &m, &info, &t, err, sizeof err), 0);
        assert_int_equal(evt_table_prepare(e, t, err, sizeof err), 0);
        b.n = 0;
        tu_u8(&b, 'I'); tu_u32(&b, 5); tu_u8(&b, 'N'); tu_u16(&b, 2); tu_textcol(&b, "3"); tu_textcol(&b, "x");
        assert_int_equal(pgo_parse(&st, b.b, b.n, a, &m, err, sizeof err), 0);
        assert_int_equal(drain(evt_change(e, a, &pos, rel_cache_get(rc, 5), &m, &tout, err, sizeof err), &tout, err,
                               sizeof err), 0);
        assert_int_equal(nrec, 3);
        assert_null(strstr(recs[1].value, "extra"));
        assert_non_null(strstr(recs[1].value, "\"after\":{\"id\":2}"));
        assert_non_null(strstr(recs[2].value, "\"after\":{\"id\":3,\"extra\":\"x\"}"));
        if (schemas) {
            assert_null(strstr(recs[0].value, "\"field\":\"extra\""));
            assert_non_null(strstr(recs[2].value, "{\"type\":\"string\",\"optional\":true,\"field\":\"extra\"}"));
        }
        arena_free(a);
        rel_cache_free(rc);
        evt_free(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relation_change_mid_stream),
        cmocka_unit_test(test_ops_and_keys),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_topic_names),
        cmocka_unit_test(test_tx_metadata),
        cmocka_unit_test(test_context_headers),
        cmocka_unit_test(test_messages_and_tx),
        cmocka_unit_test(test_heartbeat_schemas),
        cmocka_unit_test(test_conversion_failure_modes),
        cmocka_unit_test(test_table_without_columns),
        cmocka_unit_test(test_key_column_filtered),
    };
    return cmocka_run_group_tests_name("event", tests, tu_fixtures_setup, tu_fixtures_teardown);
}
