/* test_transform_outbox.c: schemas/transform_outbox.c, Debezium's outbox EventRouter: routing, key, id
 * header, timestamp, additional fields (header, envelope, partition), deletes, updates and tombstones,
 * payload JSON expansion (inferred schemas as the JSON converter then writes them) and its failures. */
#include "tests/unit/tf_testutil.h"

#include "schemas/converter.h"
#include "schemas/transform.h"

typedef struct fx {
    arena_t *a;
    cs_schema_t *key, *row, *env, *hb;
    rec_codec_t kc, vc, hbc;
    conv_t *conv;
    tu_chain_t tc;   /* the chain under test: chain() */
} fx_t;

enum { F_ID, F_AGGTYPE, F_AGGID, F_TYPE, F_PAYLOAD, F_TS, F_PART, F_VER, NF };

static void fx_init(fx_t *f)
{
    arena_t *a = f->a = arena_new(8192);
    f->tc = (tu_chain_t){ 0 };
    f->key = named(a, CT_STRUCT, false, "srv.public.outbox.Key", 0);
    cs_field_add(a, f->key, "id", named(a, CT_STRING, false, "io.debezium.data.Uuid", 1));
    f->row = named(a, CT_STRUCT, true, "srv.public.outbox.Value", 0);
    cs_field_add(a, f->row, "id", named(a, CT_STRING, false, "io.debezium.data.Uuid", 1));
    cs_field_add(a, f->row, "aggregatetype", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->row, "aggregateid", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->row, "type", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->row, "payload", named(a, CT_STRING, true, "io.debezium.data.Json", 1));
    cs_field_add(a, f->row, "ts", named(a, CT_INT64, true, "io.debezium.time.MicroTimestamp", 1));
    cs_field_add(a, f->row, "part", cs_new(a, CT_INT32, true));
    cs_field_add(a, f->row, "ver", cs_new(a, CT_INT32, true));
    cs_schema_t *src = named(a, CT_STRUCT, false, "io.debezium.connector.postgresql.Source", 1);
    cs_field_add(a, src, "db", cs_new(a, CT_STRING, false));
    f->env = named(a, CT_STRUCT, false, "srv.public.outbox.Envelope", 2);
    cs_field_add(a, f->env, "before", f->row);
    cs_field_add(a, f->env, "after", f->row);
    cs_field_add(a, f->env, "source", src);
    cs_field_add(a, f->env, "op", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->env, "ts_ms", cs_new(a, CT_INT64, true));
    f->hb = named(a, CT_STRUCT, false, "io.debezium.connector.common.Heartbeat", 0);
    cs_field_add(a, f->hb, "ts_ms", cs_new(a, CT_INT64, false));
    rec_codec_bind(&f->kc, f->key);
    rec_codec_bind(&f->vc, f->env);
    rec_codec_bind(&f->hbc, f->hb);
    conv_side_t js = { .kind = CONV_JSON, .schemas = true };
    f->conv = conv_new(&js, &js);
}

static void fx_free(fx_t *f)
{
    tu_chain_free(&f->tc);
    rec_codec_free(&f->kc);
    rec_codec_free(&f->vc);
    rec_codec_free(&f->hbc);
    conv_free(f->conv);
    arena_free(f->a);
}

static cv_value_t sv(const char *s)
{
    return s ? cv_str(s, strlen(s)) : cv_null();
}

/* An outbox row's event: op 'c', 'r', 'u' or 'd', or 0 for a tombstone. */
static rec_event_t event(fx_t *f, char op, const char *aggtype, const char *payload)
{
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "srv.public.outbox";
    ev.op = op;
    ev.kc = &f->kc;
    cv_value_t *k = arena_alloc(f->a, sizeof *k);
    *k = cv_list(f->a, 1);
    k->u.list.v[0] = sv("6f1c5a1e-0000-4000-8000-000000000001");
    ev.key = k;
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "__debezium.context.taskId", .value = "0", .len = 1 };
    if (!op)
        return ev;
    cv_value_t r = cv_list(f->a, NF);
    r.u.list.v[F_ID] = sv("6f1c5a1e-0000-4000-8000-000000000001");
    r.u.list.v[F_AGGTYPE] = sv(aggtype);
    r.u.list.v[F_AGGID] = sv("order-17");
    r.u.list.v[F_TYPE] = sv("OrderCreated");
    r.u.list.v[F_PAYLOAD] = sv(payload);
    r.u.list.v[F_TS] = cv_int(1700000000123456);
    r.u.list.v[F_PART] = cv_int(2);
    r.u.list.v[F_VER] = cv_int(3);
    cv_value_t *e = arena_alloc(f->a, sizeof *e);
    *e = cv_list(f->a, 5);
    if (op == 'd')
        e->u.list.v[0] = r;
    else
        e->u.list.v[1] = r;
    cv_value_t s = cv_list(f->a, 1);
    s.u.list.v[0] = sv("postgres");
    e->u.list.v[2] = s;
    char ops[2] = { op, 0 };
    e->u.list.v[3] = cv_str(arena_strdup(f->a, ops), 1);
    e->u.list.v[4] = cv_int(1700000000999);
    ev.vc = &f->vc;
    ev.value = e;
    return ev;
}

/* chain(f, KV): the chain of the transforms KV configures, the fixture's chain under test */
static tf_chain_t *chain(fx_t *f, const char *const *kv)
{
    return tu_chain(&f->tc, kv);
}

static out_t run(fx_t *f, tf_chain_t *c, const rec_event_t *ev)
{
    return tu_run(f->a, c, f->conv, ev);
}

#define T "io.debezium.transforms.outbox.EventRouter"
#define JSON_SCHEMA_F(f) "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\",\"version\":1,\"field\":\"" f "\"}"
#define JSON_SCHEMA "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Json\",\"version\":1}"

static void test_outbox_config(void **st)
{
    (void)st;
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.fields.additional.placement",
                                      "type:somewhere", NULL },
               "transforms.o.table.fields.additional.placement: 'type:somewhere' is not field:placement");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.fields.additional.placement",
                                      "a:header:b:c", NULL }, "is not field:placement");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.fields.additional.placement",
                                      "type:envelope:payload", NULL }, "two fields named payload");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.route.topic.replacement",
                                      "x.${nope}", NULL }, "no group named 'nope'");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.op.invalid.behavior",
                                      "shrug", NULL }, "transforms.o.table.op.invalid.behavior: 'shrug' is not one of warn, error, fatal");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.field.event.idd", "x", NULL },
               "transforms.o.table.field.event.idd: unknown option");
    spec_error((const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.route.topic.regex", "(a", NULL },
               "transforms.o.route.topic.regex: invalid regular expression");
    /* accepted: the simple name, tracing keys (ignored, as Debezium without OpenTelemetry does) */
    tf_spec_free(spec((const char *const[]){ "transforms", "o", "transforms.o.type", "EventRouter",
                                             "transforms.o.tracing.span.context.field", "tracingspancontext", NULL }));
}

static void test_outbox_default(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "outbox", "transforms.outbox.type", T, NULL });
    rec_event_t ev = event(&f, 'c', "Order", "{\"a\":1}");
    out_t o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.dropped);
    assert_string_equal(o.topic, "outbox.event.Order");
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"order-17\"}");
    assert_string_equal(o.value, "{\"schema\":" JSON_SCHEMA ",\"payload\":\"{\\\"a\\\":1}\"}");
    assert_string_equal(header(&o, "id"), "6f1c5a1e-0000-4000-8000-000000000001");
    assert_non_null(header(&o, "__debezium.context.taskId"));
    assert_true(o.ev.has_ts);
    assert_true(o.ev.ts_ms == 1700000000999);
    assert_false(o.ev.has_partition);
    assert_string_equal(o.err, "");
    /* snapshot reads route the same */
    ev = event(&f, 'r', "Customer", "{}");
    o = run(&f, c, &ev);
    assert_string_equal(o.topic, "outbox.event.Customer");
    /* deletes and tombstones: dropped, quietly */
    ev = event(&f, 'd', "Order", "{}");
    o = run(&f, c, &ev);
    assert_true(o.dropped);
    assert_string_equal(o.err, "");
    ev = event(&f, 0, NULL, NULL);
    o = run(&f, c, &ev);
    assert_true(o.dropped);
    /* an update: dropped with a warning */
    ev = event(&f, 'u', "Order", "{}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_true(o.dropped);
    assert_non_null(strstr(o.err, "Unexpected update message received and ignored (table.op.invalid.behavior=warn)"));
    /* not an envelope: unchanged */
    rec_event_t hb;
    memset(&hb, 0, sizeof hb);
    hb.topic = "__debezium-heartbeat.srv";
    hb.vc = &f.hbc;
    cv_value_t hv = cv_list(f.a, 1);
    hv.u.list.v[0] = cv_int(5);
    hb.value = &hv;
    o = run(&f, c, &hb);
    assert_string_equal(o.topic, "__debezium-heartbeat.srv");
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
                                 "\"field\":\"ts_ms\"}],\"optional\":false,\"name\":\"io.debezium.connector.common.Heartbeat\"},"
                                 "\"payload\":{\"ts_ms\":5}}");
    /* fatal */
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.op.invalid.behavior", "FATAL", NULL });
    ev = event(&f, 'u', "Order", "{}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "Unexpected update message received, fail"));
    fx_free(&f);
}

static void test_outbox_fields(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){
        "transforms", "outbox", "transforms.outbox.type", T,
        "transforms.outbox.table.fields.additional.placement", " type:envelope:eventType , aggregateid:header ,part:partition,id:envelope",
        "transforms.outbox.table.field.event.timestamp", "ts",
        "transforms.outbox.table.field.event.key", "type",
        "transforms.outbox.route.topic.regex", "(?<kind>[A-Z])(?<rest>[a-z]*)",
        "transforms.outbox.route.topic.replacement", "events.${rest}.$1", NULL });
    rec_event_t ev = event(&f, 'c', "Order", "{\"a\":1}");
    out_t o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "events.rder.O");
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"OrderCreated\"}");
    assert_string_equal(o.value,
        "{\"schema\":{\"type\":\"struct\",\"fields\":[" JSON_SCHEMA_F("payload") ",{\"type\":\"string\",\"optional\":false,"
        "\"field\":\"eventType\"},{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Uuid\",\"version\":1,"
        "\"field\":\"id\"}],\"optional\":false,\"name\":\"srv.public.outbox.Order.Value\"},\"payload\":{\"payload\":"
        "\"{\\\"a\\\":1}\",\"eventType\":\"OrderCreated\",\"id\":\"6f1c5a1e-0000-4000-8000-000000000001\"}}");
    assert_string_equal(header(&o, "aggregateid"), "order-17");
    assert_true(o.ev.has_partition);
    assert_int_equal(o.ev.partition, 2);
    assert_true(o.ev.ts_ms == 1700000000123);
    /* a regex that does not match keeps the value as the topic; the value schema keeps the first name
     * (Debezium caches it by payload schema) */
    ev = event(&f, 'c', "lower", "{\"a\":1}");
    o = run(&f, c, &ev);
    assert_string_equal(o.topic, "lower");
    assert_non_null(strstr(o.value, "\"name\":\"srv.public.outbox.Order.Value\""));
    /* a missing field: the record fails, or with ignore, the field is left out */
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T,
                                         "transforms.o.table.fields.additional.placement", "nope:envelope,type:header", NULL });
    ev = event(&f, 'c', "Order", "{}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "Unable to find field nope in event"));
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.field.additional.missing", "ignore",
                                         "transforms.o.table.fields.additional.placement", "nope:envelope,type:header", NULL });
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(header(&o, "type"), "OrderCreated");
    assert_non_null(strstr(o.value, "\"fields\":[" JSON_SCHEMA_F("payload") "],"));
    /* a schema version: the value schema is versioned and cached by version */
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.field.event.schema.version", "ver",
                                         "transforms.o.table.fields.additional.placement", "type:envelope", NULL });
    o = run(&f, c, &ev);
    assert_non_null(strstr(o.value, "\"name\":\"srv.public.outbox.Order.Value\",\"version\":3}"));
    fx_free(&f);
}

static void test_outbox_tombstone(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.route.tombstone.on.empty.payload",
                                                     "true", NULL });
    rec_event_t ev = event(&f, 'c', "Order", " \t ");
    out_t o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "outbox.event.Order");
    assert_true(o.value_null);
    assert_false(o.key_null);
    ev = event(&f, 'c', "Order", NULL);
    o = run(&f, c, &ev);
    assert_true(o.value_null);
    /* without it, a null payload is a null under the payload's schema */
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, NULL });
    o = run(&f, c, &ev);
    assert_string_equal(o.value, "{\"schema\":" JSON_SCHEMA ",\"payload\":null}");
    fx_free(&f);
}

static void test_outbox_expand(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.expand.json.payload",
                                                     "true", NULL });
    rec_event_t ev = event(&f, 'c', "Order",
        "{\"id\":7,\"big\":3000000000,\"price\":1.5,\"ok\":true,\"nothing\":null,\"tags\":[\"a\",null],\"empty\":[],"
        "\"cust\":{\"name\":\"x\",\"addr\":{\"zip\":\"1\"}},\"lines\":[{\"sku\":\"a\",\"n\":1},{\"sku\":\"b\",\"note\":\"n\"},"
        "{\"sku\":\"c\",\"n\":2}],\"id\":8} trailing");
    out_t o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.err, "");
    assert_string_equal(o.value,
        "{\"schema\":{\"type\":\"struct\",\"fields\":["
        "{\"type\":\"int32\",\"optional\":true,\"field\":\"id\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"big\"},"
        "{\"type\":\"double\",\"optional\":true,\"field\":\"price\"},"
        "{\"type\":\"boolean\",\"optional\":true,\"field\":\"ok\"},"
        "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":true},\"optional\":true,\"field\":\"tags\"},"
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},"
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"zip\"}],\"optional\":true,"
        "\"name\":\"payload.cust.addr\",\"field\":\"addr\"}],\"optional\":true,\"name\":\"payload.cust\",\"field\":\"cust\"},"
        "{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"sku\"},"
        "{\"type\":\"int32\",\"optional\":true,\"field\":\"n\"},{\"type\":\"string\",\"optional\":true,\"field\":\"note\"}],"
        "\"optional\":false,\"name\":\"payload.lines\"},\"optional\":true,\"field\":\"lines\"}"
        "],\"optional\":true,\"name\":\"payload\"},"
        "\"payload\":{\"id\":8,\"big\":3000000000,\"price\":1.5,\"ok\":true,\"tags\":[\"a\",null],"
        "\"cust\":{\"name\":\"x\",\"addr\":{\"zip\":\"1\"}},\"lines\":[{\"sku\":\"a\",\"n\":1,\"note\":null},"
        "{\"sku\":\"b\",\"n\":null,\"note\":\"n\"},{\"sku\":\"c\",\"n\":2,\"note\":null}]}}");
    /* the same shape again: the same schema object (the converter's cache holds) */
    const cs_schema_t *first = o.ev.vc->schema;
    o = run(&f, c, &ev);
    assert_ptr_equal(o.ev.vc->schema, first);
    /* not JSON: kept as text, with a warning */
    ev = event(&f, 'c', "Order", "plain text");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":" JSON_SCHEMA ",\"payload\":\"plain text\"}");
    assert_non_null(strstr(o.err, "JSON expansion failed"));
    ev = event(&f, 'c', "Order", "{\"a\":[1,\"x\"]}");
    o = run(&f, c, &ev);
    assert_non_null(strstr(o.value, "\"payload\":\"{\\\"a\\\":[1,\\\"x\\\"]}\""));
    assert_non_null(strstr(o.err, "homogenous"));
    ev = event(&f, 'c', "Order", "{\"a\":[1,3000000000]}");
    o = run(&f, c, &ev);
    assert_non_null(strstr(o.err, "homogenous"));
    ev = event(&f, 'c', "Order", "{\"a\":[null]}");
    o = run(&f, c, &ev);
    assert_non_null(strstr(o.err, "unrecognized member schema"));
    ev = event(&f, 'c', "Order", "{\"a\":");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_non_null(strstr(o.err, "JSON expansion failed"));
    /* what fails the record in Debezium fails it here */
    ev = event(&f, 'c', "Order", "[1,2]");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "a JSON array"));
    ev = event(&f, 'c', "Order", "{\"a\":[{\"n\":1},{\"n\":3000000000}]}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    ev = event(&f, 'c', "Order", "{\"a\":123456789012345678901234567890}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "64-bit"));
    /* optional_bytes keeps nulls; avro field names */
    c = chain(&f, (const char *const[]){ "transforms", "o", "transforms.o.type", T, "transforms.o.table.expand.json.payload", "true",
                                         "transforms.o.table.json.payload.null.behavior", "optional_bytes",
                                         "transforms.o.field.name.adjustment.mode", "avro",
                                         "transforms.o.table.fields.additional.placement", "type:envelope", NULL });
    ev = event(&f, 'c', "Order", "{\"nothing\":null,\"a-b\":1}");
    o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value,
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":["
        "{\"type\":\"bytes\",\"optional\":true,\"field\":\"nothing\"},{\"type\":\"int32\",\"optional\":true,\"field\":\"a_b\"}],"
        "\"optional\":true,\"name\":\"payload\",\"field\":\"payload\"},{\"type\":\"string\",\"optional\":false,\"field\":\"type\"}],"
        "\"optional\":false,\"name\":\"srv.public.outbox.Order.Value\"},\"payload\":{\"payload\":{\"nothing\":null,\"a_b\":null},"
        "\"type\":\"OrderCreated\"}}");
    fx_free(&f);
}

/* A null timestamp column falls back to the envelope's ts_ms even when the column has a default:
 * Debezium reads it with Struct.getInt64, which takes no default (found by transforms_diff.sh's tr2). */
static void test_outbox_ts_default(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    cs_schema_t *ts = (cs_schema_t *)f.row->fields[F_TS].schema;
    cv_value_t *def = arena_alloc(f.a, sizeof *def);
    *def = cv_int(1000);
    ts->def = def;
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "outbox", "transforms.outbox.type", T,
                                                     "transforms.outbox.table.field.event.timestamp", "ts", NULL });
    rec_event_t ev = event(&f, 'c', "Order", "{\"a\":1}");
    ((cv_value_t *)ev.value)->u.list.v[1].u.list.v[F_TS] = cv_null();
    out_t o = run(&f, c, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_true(o.ev.has_ts);
    assert_true(o.ev.ts_ms == 1700000000999);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbox_config),
        cmocka_unit_test(test_outbox_default),
        cmocka_unit_test(test_outbox_fields),
        cmocka_unit_test(test_outbox_tombstone),
        cmocka_unit_test(test_outbox_expand),
        cmocka_unit_test(test_outbox_ts_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
