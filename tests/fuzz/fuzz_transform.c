/* fuzz_transform.c: libFuzzer target for transform configurations (transforms=, predicates= and every
 * transform's options, schemas/transform*.c): a configuration parsed, then its chain run over a change
 * event of each kind (insert, update, delete, tombstone, truncate, a non-envelope record) and JSON-encoded.
 * The rows are outbox rows too; the key fuzz.payload (not a transform key) is their payload text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/log.h"
#include "schemas/converter.h"
#include "schemas/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cs_schema_t *named(arena_t *a, ct_type_t t, bool opt, const char *name)
{
    cs_schema_t *s = cs_new(a, t, opt);
    s->name = name;
    return s;
}

/* The chain over one event: op c, u, d, t (before and after null), 0 (tombstone) or h (heartbeat). */
static void run(tf_chain_t *c, conv_t *conv, arena_t *a, char op, const char *payload)
{
    cs_schema_t *key = named(a, CT_STRUCT, false, "p.s.t.Key");
    cs_field_add(a, key, "id", cs_new(a, CT_INT32, false));
    cs_schema_t *row = named(a, CT_STRUCT, true, "p.s.t.Value");
    cs_field_add(a, row, "id", cs_new(a, CT_INT32, false));
    cs_field_add(a, row, "name", cs_new(a, CT_STRING, true));
    /* the types Cast and TimestampConverter read specially */
    cs_schema_t *dec = named(a, CT_BYTES, false, "org.apache.kafka.connect.data.Decimal");
    cs_param_add(dec, "scale", "2");
    cs_field_add(a, row, "amount", dec);
    cs_field_add(a, row, "f", cs_new(a, CT_FLOAT64, true));
    cs_field_add(a, row, "d", named(a, CT_INT32, false, "org.apache.kafka.connect.data.Date"));
    cs_field_add(a, row, "ts", named(a, CT_INT64, true, "org.apache.kafka.connect.data.Timestamp"));
    cs_field_add(a, row, "raw", cs_new(a, CT_BYTES, true));
    cs_schema_t *flag = cs_new(a, CT_BOOLEAN, true);
    static const cv_value_t flag_def = { .null = false, .u.b = true };
    flag->def = &flag_def;
    cs_field_add(a, row, "flag", flag);
    /* an outbox row's columns (EventRouter) */
    cs_field_add(a, row, "aggregatetype", cs_new(a, CT_STRING, false));
    cs_field_add(a, row, "aggregateid", cs_new(a, CT_STRING, true));
    cs_field_add(a, row, "payload", named(a, CT_STRING, true, "io.debezium.data.Json"));
    cs_field_add(a, row, "part", cs_new(a, CT_INT32, true));
    cs_schema_t *src = named(a, CT_STRUCT, false, "io.debezium.connector.postgresql.Source");
    cs_field_add(a, src, "db", cs_new(a, CT_STRING, false));
    cs_field_add(a, src, "lsn", cs_new(a, CT_INT64, true));
    cs_schema_t *env = named(a, CT_STRUCT, false, op == 'h' ? "io.debezium.connector.common.Heartbeat" : "p.s.t.Envelope");
    cs_field_add(a, env, "before", row);
    cs_field_add(a, env, "after", row);
    cs_field_add(a, env, "source", src);
    cs_field_add(a, env, "op", cs_new(a, CT_STRING, false));
    rec_codec_t kc, vc;
    rec_codec_bind(&kc, key);
    rec_codec_bind(&vc, env);
    cv_value_t k = cv_list(a, 1);
    k.u.list.v[0] = cv_int(1);
    cv_value_t r = cv_list(a, 12);
    r.u.list.v[0] = cv_int(1);
    r.u.list.v[1] = cv_str("Topic.X", 7);
    r.u.list.v[2] = cv_str("\x80\x01", 2);
    r.u.list.v[3] = cv_float(-1e19);
    r.u.list.v[4] = cv_int(-3);
    r.u.list.v[5] = cv_int(1700000000123);
    r.u.list.v[6] = cv_str("\x00\xff", 2);
    r.u.list.v[7] = cv_null();
    r.u.list.v[8] = cv_str("Order", 5);
    r.u.list.v[9] = cv_str("o-1", 3);
    r.u.list.v[10] = payload ? cv_str(payload, strlen(payload)) : cv_null();
    r.u.list.v[11] = cv_int(0);
    cv_value_t s = cv_list(a, 2);
    s.u.list.v[0] = cv_str("db", 2);
    s.u.list.v[1] = cv_int(42);
    cv_value_t e = cv_list(a, 4);
    if (op == 'd')
        e.u.list.v[0] = r;
    else if (op != 't')
        e.u.list.v[1] = r;
    e.u.list.v[2] = s;
    e.u.list.v[3] = cv_str(op == 'd' ? "d" : op == 'u' ? "u" : "c", 1);
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "p.s.t";
    ev.op = op;
    ev.kc = &kc;
    ev.key = &k;
    if (op) {
        ev.vc = &vc;
        ev.value = &e;
    }
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "__debezium.newkey", .value = "{\"id\":2}", .len = 8 };
    if (op == 'd') {   /* a record timestamp (TimestampRouter), as the outbox EventRouter sets one */
        ev.has_ts = true;
        ev.ts_ms = -62135769600001;
    }
    rec_event_t out;
    bool dropped;
    char err[1024];
    if (tf_chain_apply(c, a, &ev, &out, &dropped, err, sizeof err) == WC_OK && !dropped) {
        rec_t rec;
        conv_encode(conv, &out, &rec, err, sizeof err);
    }
    rec_codec_free(&kc);
    rec_codec_free(&vc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_FATAL);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char err[1024];
    cfg_map_t m = { 0 };
    if (cfg_parse_properties(text, &m, err, sizeof err) == 0) {
        tf_kv_t *kv = calloc(m.n + 1, sizeof *kv);
        for (size_t i = 0; i < m.n; i++)
            kv[i] = (tf_kv_t){ m.kv[i].key, m.kv[i].value };
        tf_spec_t *spec = NULL;
        if (tf_spec_parse(kv, m.n, &spec, err, sizeof err) == 0 && spec) {
            tf_chain_t *c = tf_chain_new(spec);
            arena_t *a = arena_new(4096);
            conv_side_t js = { .kind = CONV_JSON, .schemas = true };
            conv_t *conv = conv_new(&js, &js);
            const char *payload = NULL;
            for (size_t i = 0; i < m.n; i++)
                if (!strcmp(m.kv[i].key, "fuzz.payload"))
                    payload = m.kv[i].value;
            const char ops[] = { 'c', 'u', 'd', 't', 0, 'h', 'c' };
            for (size_t i = 0; i < sizeof ops; i++)
                run(c, conv, a, ops[i], payload);
            conv_free(conv);
            arena_free(a);
            tf_chain_free(c);
        }
        tf_spec_free(spec);
        free(kv);
    }
    cfg_map_free(&m);
    free(text);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
