/* test_transform.c: schemas/transform.c and transform_dbz.c: configuration errors (naming transform and
 * key), ExtractNewRecordState in each delete.tombstone.handling.mode with add.fields/add.headers/
 * route.by.field/drop.fields, the predicates with negate, RegexRouter, ReplaceField, Filter and the
 * header transforms, what the JSON converter then writes (schema names, optionality) and the error path. */
#include "tests/unit/tf_testutil.h"

#include "schemas/converter.h"
#include "schemas/transform.h"

typedef struct fx {
    arena_t *a;
    cs_schema_t *key, *row, *src, *txn, *env, *hb;
    rec_codec_t kc, vc, hbc;
    conv_t *conv, *conv_plain;
    tu_chain_t tc;   /* the chain under test: chain() */
} fx_t;

static void fx_init(fx_t *f)
{
    arena_t *a = f->a = arena_new(8192);
    f->tc = (tu_chain_t){ 0 };
    f->key = named(a, CT_STRUCT, false, "srv.public.t.Key", 0);
    cs_field_add(a, f->key, "id", cs_new(a, CT_INT32, false));
    f->row = named(a, CT_STRUCT, true, "srv.public.t.Value", 0);
    cs_field_add(a, f->row, "id", cs_new(a, CT_INT32, false));
    cs_field_add(a, f->row, "name", cs_new(a, CT_STRING, true));
    cs_field_add(a, f->row, "n", cs_new(a, CT_INT64, true));
    f->src = named(a, CT_STRUCT, false, "io.debezium.connector.postgresql.Source", 1);
    cs_field_add(a, f->src, "db", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->src, "table", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->src, "ts_ms", cs_new(a, CT_INT64, false));
    cs_schema_t *snap = named(a, CT_STRING, true, "io.debezium.data.Enum", 1);
    cs_param_add(snap, "allowed", "true,last,false");
    cv_value_t *def = arena_alloc(a, sizeof *def);
    *def = cv_str("false", 5);
    snap->def = def;
    cs_field_add(a, f->src, "snapshot", snap);
    f->txn = named(a, CT_STRUCT, true, "event.block", 1);
    cs_field_add(a, f->txn, "id", cs_new(a, CT_STRING, false));
    f->env = named(a, CT_STRUCT, false, "srv.public.t.Envelope", 2);
    cs_field_add(a, f->env, "before", f->row);
    cs_field_add(a, f->env, "after", f->row);
    cs_field_add(a, f->env, "source", f->src);
    cs_field_add(a, f->env, "transaction", f->txn);
    cs_field_add(a, f->env, "op", cs_new(a, CT_STRING, false));
    cs_field_add(a, f->env, "ts_ms", cs_new(a, CT_INT64, true));
    f->hb = named(a, CT_STRUCT, false, "io.debezium.connector.common.Heartbeat", 0);
    cs_field_add(a, f->hb, "ts_ms", cs_new(a, CT_INT64, false));
    rec_codec_bind(&f->kc, f->key);
    rec_codec_bind(&f->vc, f->env);
    rec_codec_bind(&f->hbc, f->hb);
    conv_side_t js = { .kind = CONV_JSON, .schemas = true }, plain = { .kind = CONV_JSON, .schemas = false };
    f->conv = conv_new(&js, &js);
    f->conv_plain = conv_new(&plain, &plain);
}

static void fx_free(fx_t *f)
{
    tu_chain_free(&f->tc);
    rec_codec_free(&f->kc);
    rec_codec_free(&f->vc);
    rec_codec_free(&f->hbc);
    conv_free(f->conv);
    conv_free(f->conv_plain);
    arena_free(f->a);
}

static cv_value_t *row(fx_t *f, int id, const char *name)
{
    cv_value_t *v = arena_alloc(f->a, sizeof *v);
    *v = cv_list(f->a, 3);
    v->u.list.v[0] = cv_int(id);
    v->u.list.v[1] = name ? cv_str(name, strlen(name)) : cv_null();
    v->u.list.v[2] = cv_null();
    return v;
}

/* An event: op 'c', 'u', 'd' or 't' (truncate: before and after null), or 0 for a tombstone. */
static rec_event_t event(fx_t *f, char op, bool in_txn)
{
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "srv.public.t";
    ev.op = op;
    ev.kc = &f->kc;
    cv_value_t *k = arena_alloc(f->a, sizeof *k);
    *k = cv_list(f->a, 1);
    k->u.list.v[0] = cv_int(7);
    ev.key = k;
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "__debezium.context.taskId", .value = "0", .len = 1 };
    if (!op)
        return ev;
    cv_value_t *e = arena_alloc(f->a, sizeof *e);
    *e = cv_list(f->a, 6);
    if (op == 'd')
        e->u.list.v[0] = *row(f, 7, "old");
    if (op == 'c' || op == 'u')
        e->u.list.v[1] = *row(f, 7, "Some.Topic");
    cv_value_t s = cv_list(f->a, 4);
    s.u.list.v[0] = cv_str("postgres", 8);
    s.u.list.v[1] = cv_str("t", 1);
    s.u.list.v[2] = cv_int(1700000000000);
    s.u.list.v[3] = cv_null();
    e->u.list.v[2] = s;
    if (in_txn) {
        cv_value_t t = cv_list(f->a, 1);
        t.u.list.v[0] = cv_str("42:100", 6);
        e->u.list.v[3] = t;
    }
    char ops[2] = { op, 0 };
    e->u.list.v[4] = cv_str(arena_strdup(f->a, ops), 1);
    e->u.list.v[5] = cv_int(1700000000001);
    ev.vc = &f->vc;
    ev.value = e;
    return ev;
}

/* chain(f, KV): the chain of the transforms KV configures, the fixture's chain under test */
static tf_chain_t *chain(fx_t *f, const char *const *kv)
{
    return tu_chain(&f->tc, kv);
}

/* Runs the chain on ev and encodes the result with conv. */
static out_t run(fx_t *f, tf_chain_t *c, conv_t *conv, const rec_event_t *ev)
{
    return tu_run(f->a, c, conv, ev);
}

#define ROW_FIELDS "\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"n\"}"

static void test_config_errors(void **st)
{
    (void)st;
    spec_error((const char *const[]){ "transforms", "u", NULL }, "transforms.u.type is required");
    spec_error((const char *const[]){ "transforms", "u", "transforms.u.type", "com.acme.Magic", NULL },
               "transforms.u.type: com.acme.Magic is not a transform walcast runs; supported: io.debezium.transforms.ExtractNewRecordState");
    spec_error((const char *const[]){ "transforms", "f", "transforms.f.type", "io.debezium.transforms.Filter", NULL },
               "use org.apache.kafka.connect.transforms.Filter with a predicate");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "io.debezium.transforms.ContentBasedRouter", NULL },
               "RegexRouter");
    spec_error((const char *const[]){ "transforms", "u", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                      "transforms.u.add.feilds", "op", NULL },
               "transforms.u.add.feilds: unknown option of io.debezium.transforms.ExtractNewRecordState; it takes: delete.tombstone.handling.mode");
    spec_error((const char *const[]){ "transforms", "u", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                      "transforms.u.drop.tombstones", "false", NULL },
               "removed in Debezium 3; use delete.tombstone.handling.mode");
    spec_error((const char *const[]){ "transforms", "u", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                      "transforms.u.delete.tombstone.handling.mode", "none", NULL },
               "transforms.u.delete.tombstone.handling.mode: 'none' is not one of drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "org.apache.kafka.connect.transforms.RegexRouter",
                                      "transforms.r.regex", "a(b", "transforms.r.replacement", "x", NULL },
               "transforms.r.regex: invalid regular expression 'a(b'");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "RegexRouter", "transforms.r.regex", "a(b)",
                                      "transforms.r.replacement", "x$2", NULL },
               "transforms.r.replacement: no group 2");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "RegexRouter", "transforms.r.regex", "a", NULL },
               "transforms.r.replacement is required");
    spec_error((const char *const[]){ "transforms", "d", "transforms.d.type", "org.apache.kafka.connect.transforms.Filter",
                                      "transforms.d.predicate", "nope", NULL },
               "transforms.d.predicate: 'nope' is not one of predicates=");
    spec_error((const char *const[]){ "transforms", "d", "transforms.d.type", "Filter", "transforms.d.predicate", "p",
                                      "predicates", "p", "predicates.p.type", "TopicNameMatches", NULL },
               "predicates.p.pattern is required");
    spec_error((const char *const[]){ "transforms", "d", "transforms.d.type", "Filter", "transforms.d.negate", "yes", NULL },
               "transforms.d.negate: 'yes' is not a boolean");
    spec_error((const char *const[]){ "transforms", "d,d", "transforms.d.type", "Filter", NULL }, "alias 'd' is listed twice");
    spec_error((const char *const[]){ "transforms", "x", "transforms.x.type", "ReplaceField$Value",
                                      "transforms.x.renames", "a:b:c", NULL },
               "transforms.x.renames: invalid rename mapping 'a:b:c'");
    spec_error((const char *const[]){ "transforms", "u", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                      "transforms.u.add.headers", "a,b,c,d,e,f,g,h,i,j,k,l", NULL },
               "the chain may add 12 headers");
    tf_spec_t *none = spec((const char *const[]){ "transforms", " ", "name", "x", NULL });
    assert_null(none);
}

static void test_unwrap_default(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type",
                                                     "io.debezium.transforms.ExtractNewRecordState", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.dropped);
    assert_string_equal(o.topic, "srv.public.t");
    /* addFields copies the struct's basics: a required struct, whatever the after field's optionality */
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS "],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
                                 "\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null}}");
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
                               "\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"id\":7}}");
    assert_ptr_equal(o.ev.kc, &f.kc);   /* the key is the event's, its cache too */
    rec_codec_t *vc = o.ev.vc;
    ev = event(&f, 'u', false);
    o = run(&f, c, f.conv, &ev);
    assert_ptr_equal(o.ev.vc, vc);      /* one derived schema, one converter cache */
    /* delete: the after schema (optional) with a null payload, not a Kafka tombstone */
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv, &ev);
    assert_false(o.dropped);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS "],\"optional\":true,\"name\":\"srv.public.t.Value\"},"
                                 "\"payload\":null}");
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "null");
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_true(o.dropped);
    ev = event(&f, 't', false);
    o = run(&f, c, f.conv, &ev);
    assert_true(o.dropped);
    /* not an envelope: unchanged */
    rec_event_t hb;
    memset(&hb, 0, sizeof hb);
    hb.topic = "__debezium-heartbeat.srv";
    cv_value_t hv = cv_list(f.a, 1);
    hv.u.list.v[0] = cv_int(5);
    hb.vc = &f.hbc;
    hb.value = &hv;
    o = run(&f, c, f.conv_plain, &hb);
    assert_false(o.dropped);
    assert_string_equal(o.value, "{\"ts_ms\":5}");
    assert_ptr_equal(o.ev.vc, &f.hbc);
    fx_free(&f);
}

static void test_unwrap_modes(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type",
                                                     "io.debezium.transforms.ExtractNewRecordState",
                                                     "transforms.unwrap.delete.tombstone.handling.mode", "rewrite", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS ",{\"type\":\"string\",\"optional\":true,\"field\":\"__deleted\"}],"
                                 "\"optional\":false,\"name\":\"srv.public.t.Value\"},\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,\"__deleted\":\"false\"}}");
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "{\"id\":7,\"name\":\"old\",\"n\":null,\"__deleted\":\"true\"}");
    ev = event(&f, 0, false);
    assert_true(run(&f, c, f.conv, &ev).dropped);

    c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.unwrap.delete.tombstone.handling.mode", "Rewrite-With-Tombstone",
                                         "transforms.unwrap.add.headers", "op,source.db", NULL });
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_false(o.dropped);
    assert_true(o.value_null);
    assert_string_equal(header(&o, "__op"), "d");
    assert_null(header(&o, "__source_db"));
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "{\"id\":7,\"name\":\"old\",\"n\":null,\"__deleted\":\"true\"}");
    assert_string_equal(header(&o, "__op"), "d");
    assert_string_equal(header(&o, "__source_db"), "postgres");
    assert_int_equal(o.ev.nheaders, 3);
    /* Debezium's tombstone shares its delete's header object, which add.headers changed in place: the
     * tombstone carries the delete's __op and __source_db, then its own __op */
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.ev.nheaders, 4);
    assert_string_equal(o.ev.headers[1].key, "__op");
    assert_string_equal(o.ev.headers[2].key, "__source_db");
    assert_memory_equal(o.ev.headers[2].value, "postgres", 8);
    assert_string_equal(o.ev.headers[3].key, "__op");
    /* ... only right after its delete */
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.ev.nheaders, 2);

    c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.unwrap.delete.tombstone.handling.mode", "delete-to-tombstone", NULL });
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv, &ev);
    assert_false(o.dropped);
    assert_true(o.value_null);
    assert_false(o.key_null);
    ev = event(&f, 0, false);
    assert_true(run(&f, c, f.conv, &ev).dropped);

    c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.unwrap.delete.tombstone.handling.mode", "drop", NULL });
    ev = event(&f, 'd', false);
    assert_true(run(&f, c, f.conv, &ev).dropped);
    ev = event(&f, 'c', false);
    assert_false(run(&f, c, f.conv, &ev).dropped);
    fx_free(&f);
}

static void test_unwrap_fields_route(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type",
                                                     "io.debezium.transforms.ExtractNewRecordState",
                                                     "transforms.unwrap.add.fields", "op, table,source.ts_ms:when,snapshot,id,nosuch",
                                                     "transforms.unwrap.add.fields.prefix", "_",
                                                     "transforms.unwrap.route.by.field", "name", NULL });
    rec_event_t ev = event(&f, 'c', true);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "Some.Topic");
    assert_string_equal(o.value,
        "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS ",{\"type\":\"string\",\"optional\":true,\"field\":\"_op\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"_table\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"_when\"},"
        "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"true,last,false\"},\"field\":\"_snapshot\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"_id\"}],"
        "\"optional\":false,\"name\":\"srv.public.t.Value\"},\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,\"_op\":\"c\","
        "\"_table\":\"t\",\"_when\":1700000000000,\"_snapshot\":null,\"_id\":\"42:100\"}}");
    /* routed: its own converter cache (Avro subjects are per topic) */
    assert_ptr_not_equal(o.ev.vc, &f.vc);
    /* outside a transaction: the transaction struct is null, so is _id */
    ev = event(&f, 'u', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,\"_op\":\"u\",\"_table\":\"t\",\"_when\":1700000000000,"
                                 "\"_snapshot\":null,\"_id\":null}");
    /* delete (tombstone mode): routed by before's field, no fields added to a null value */
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.topic, "old");
    assert_string_equal(o.value, "null");

    /* route.by.field on a field that is not a string: the record's error, naming the transform */
    c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.unwrap.route.by.field", "id", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "transform unwrap (io.debezium.transforms.ExtractNewRecordState) failed on a record of topic srv.public.t"));
    assert_non_null(strstr(o.err, "field id is a int32, not a string"));

    /* add.fields naming a struct the envelope lacks: Debezium fails every record */
    c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.unwrap.add.fields", "nosuch.x", NULL });
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "no struct nosuch"));
    fx_free(&f);
}

static void test_unwrap_drop_fields(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "h,unwrap", "transforms.h.type", "InsertHeader",
                                                     "transforms.h.header", "drop", "transforms.h.value.literal", "[id, name, n]",
                                                     "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState",
                                                     "transforms.unwrap.drop.fields.header.name", "drop", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv_plain, &ev);
    /* keep.schema.compatible: only optional fields go */
    assert_string_equal(o.value, "{\"id\":7}");
    fx_free(&f);
}

static void test_predicates_and_kafka(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){
        "transforms", "route,drop,keep,tomb,hdr,dh", "predicates", "isT,hasH,tomb",
        "predicates.isT.type", "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        "predicates.isT.pattern", "srv\\.public\\.(t|u)",
        "predicates.hasH.type", "org.apache.kafka.connect.transforms.predicates.HasHeaderKey", "predicates.hasH.name", "skip",
        "predicates.tomb.type", "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
        "transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex", "srv\\.([a-z]+)\\.(.*)", "transforms.route.replacement", "cdc_$2_\\$$1",
        "transforms.route.predicate", "isT",
        "transforms.drop.type", "org.apache.kafka.connect.transforms.Filter", "transforms.drop.predicate", "hasH",
        "transforms.keep.type", "org.apache.kafka.connect.transforms.ReplaceField$Value",
        "transforms.keep.exclude", "source,transaction", "transforms.keep.renames", "op:operation,ts_ms:at",
        "transforms.tomb.type", "Filter", "transforms.tomb.predicate", "tomb",
        "transforms.hdr.type", "InsertHeader", "transforms.hdr.header", "via", "transforms.hdr.value.literal", "walcast",
        "transforms.dh.type", "DropHeaders", "transforms.dh.headers", "__debezium.context.taskId",
        NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "cdc_t_$public");
    assert_string_equal(o.value, "{\"before\":null,\"after\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null},\"operation\":\"c\",\"at\":1700000000001}");
    assert_string_equal(header(&o, "via"), "walcast");
    assert_null(header(&o, "__debezium.context.taskId"));
    assert_int_equal(o.ev.nheaders, 1);
    /* the pattern must match the whole topic */
    ev = event(&f, 'c', false);
    ev.topic = "srv.public.tt";
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.topic, "srv.public.tt");
    ev = event(&f, 'c', false);
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "skip", .value = NULL, .len = 0 };
    assert_true(run(&f, c, f.conv_plain, &ev).dropped);
    ev = event(&f, 0, false);
    assert_true(run(&f, c, f.conv_plain, &ev).dropped);

    /* negate: drop everything but tombstones */
    c = chain(&f, (const char *const[]){ "transforms", "f", "predicates", "t", "predicates.t.type", "RecordIsTombstone",
                                         "transforms.f.type", "Filter", "transforms.f.predicate", "t", "transforms.f.negate", "true", NULL });
    ev = event(&f, 'c', false);
    assert_true(run(&f, c, f.conv_plain, &ev).dropped);
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_false(o.dropped);
    assert_true(o.value_null);

    /* ReplaceField on a key: include */
    c = chain(&f, (const char *const[]){ "transforms", "k", "transforms.k.type", "ReplaceField$Key", "transforms.k.renames", "id:key_id", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"key_id\"}],"
                               "\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"key_id\":7}}");
    fx_free(&f);
}

static void test_kafka_fields(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    /* unwrap, then the row's name as the key, the id hoisted, the value renamed */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,k,x,h,m",
        "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.k.type", "org.apache.kafka.connect.transforms.ValueToKey", "transforms.k.fields", "name,id",
        "transforms.x.type", "org.apache.kafka.connect.transforms.ExtractField$Key", "transforms.x.field", "name",
        "transforms.h.type", "org.apache.kafka.connect.transforms.HoistField$Key", "transforms.h.field", "wrapped",
        "transforms.m.type", "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value",
        "transforms.m.schema.name", "com.acme.Row", "transforms.m.schema.version", "3", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"wrapped\"}],"
                               "\"optional\":false},\"payload\":{\"wrapped\":\"Some.Topic\"}}");
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS "],\"optional\":false,\"name\":\"com.acme.Row\",\"version\":3},"
                                 "\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null}}");
    /* the delete's null value: ValueToKey needs a struct (Kafka: DataException) -> the error path */
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "transform k (org.apache.kafka.connect.transforms.ValueToKey)"));

    c = chain(&f, (const char *const[]){ "transforms", "x", "transforms.x.type", "ExtractField$Value", "transforms.x.field", "nope", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "Unknown field: nope"));
    /* ExtractField of a delete's null after: a null value, which RecordIsTombstone then sees */
    c = chain(&f, (const char *const[]){ "transforms", "x,f", "predicates", "t", "predicates.t.type", "RecordIsTombstone",
                                         "transforms.x.type", "ExtractField$Value", "transforms.x.field", "after",
                                         "transforms.f.type", "Filter", "transforms.f.predicate", "t", NULL });
    ev = event(&f, 'd', false);
    assert_true(run(&f, c, f.conv, &ev).dropped);
    ev = event(&f, 'c', false);
    assert_false(run(&f, c, f.conv, &ev).dropped);
    /* a tombstone passes ExtractField untouched (and the Filter drops it) */
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_true(o.dropped);
    spec_error((const char *const[]){ "transforms", "m", "transforms.m.type", "SetSchemaMetadata$Key", NULL },
               "transforms.m: neither schema.name nor schema.version is set");
    spec_error((const char *const[]){ "transforms", "m", "transforms.m.type", "SetSchemaMetadata$Key",
                                      "transforms.m.schema.version", "x1", NULL },
               "transforms.m.schema.version: 'x1' is not a version number");
    spec_error((const char *const[]){ "transforms", "k", "transforms.k.type", "ValueToKey", NULL },
               "transforms.k.fields: a non-empty list");
    fx_free(&f);
}

static void test_kafka_insert_mask_header(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,i,m,h",
        "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.i.type", "InsertField$Value", "transforms.i.topic.field", "topic!", "transforms.i.partition.field", "part",
        "transforms.i.static.field", "origin", "transforms.i.static.value", "pg",
        "transforms.m.type", "MaskField$Value", "transforms.m.fields", "name,id",
        "transforms.h.type", "HeaderFrom$Value", "transforms.h.fields", "origin,n", "transforms.h.headers", "o,nn",
        "transforms.h.operation", "move", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},{\"type\":\"string\",\"optional\":false,\"field\":\"topic\"},"
        "{\"type\":\"int32\",\"optional\":true,\"field\":\"part\"}],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
        "\"payload\":{\"id\":0,\"name\":\"\",\"topic\":\"srv.public.t\",\"part\":null}}");
    assert_string_equal(header(&o, "o"), "pg");
    assert_string_equal(header(&o, "nn"), "(null)");

    /* replacement: converted to the field's type; a number that does not parse fails the record */
    c = chain(&f, (const char *const[]){ "transforms", "u,m", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.m.type", "MaskField$Value", "transforms.m.fields", "id",
                                         "transforms.m.replacement", "-12", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "{\"id\":-12,\"name\":\"Some.Topic\",\"n\":null}");
    c = chain(&f, (const char *const[]){ "transforms", "u,m", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
                                         "transforms.m.type", "MaskField$Value", "transforms.m.fields", "id",
                                         "transforms.m.replacement", "x9", NULL });
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    assert_non_null(strstr(o.err, "Unable to convert x9"));
    /* MaskField on a tombstone: Kafka's requireMap(null) fails too */
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    spec_error((const char *const[]){ "transforms", "i", "transforms.i.type", "InsertField$Value", NULL },
               "transforms.i: no field insertion configured");
    spec_error((const char *const[]){ "transforms", "i", "transforms.i.type", "InsertField$Value",
                                      "transforms.i.static.field", "x", NULL }, "no value specified for static field x");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", "HeaderFrom$Key", "transforms.h.fields", "a,b",
                                      "transforms.h.headers", "x", "transforms.h.operation", "copy", NULL },
               "1 header names for 2 fields");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", "HeaderFrom$Key", "transforms.h.fields", "a",
                                      "transforms.h.headers", "x", "transforms.h.operation", "steal", NULL },
               "transforms.h.operation: 'steal' is not one of move, copy");
    fx_free(&f);
}

static void test_kafka_flatten(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    /* the whole envelope flattened: nested fields under parent_name, optional under an optional parent */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "r,fl", "transforms.r.type", "ReplaceField$Value",
        "transforms.r.include", "after,source,op", "transforms.fl.type", "Flatten$Value", "transforms.fl.delimiter", "_", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":true,\"field\":\"after_id\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"after_name\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"after_n\"},"
        "{\"type\":\"string\",\"optional\":false,\"field\":\"source_db\"},{\"type\":\"string\",\"optional\":false,\"field\":\"source_table\"},"
        "{\"type\":\"int64\",\"optional\":false,\"field\":\"source_ts_ms\"},{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\","
        "\"version\":1,\"parameters\":{\"allowed\":\"true,last,false\"},\"default\":\"false\",\"field\":\"source_snapshot\"},"
        "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}],\"optional\":false,\"name\":\"srv.public.t.Envelope\",\"version\":2},"
        "\"payload\":{\"after_id\":7,\"after_name\":\"Some.Topic\",\"after_n\":null,\"source_db\":\"postgres\",\"source_table\":\"t\","
        "\"source_ts_ms\":1700000000000,\"source_snapshot\":\"false\",\"op\":\"c\"}}");
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.value, "{\"after_id\":null,\"after_name\":null,\"after_n\":null,\"source_db\":\"postgres\",\"source_table\":\"t\","
                                 "\"source_ts_ms\":1700000000000,\"source_snapshot\":\"false\",\"op\":\"d\"}");
    fx_free(&f);
}

static void test_logical_table_router(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "r", "transforms.r.type", "io.debezium.transforms.ByLogicalTableRouter",
        "transforms.r.topic.regex", "srv\\.public\\.(t|u)", "transforms.r.topic.replacement", "srv.all.tables",
        "transforms.r.key.field.regex", "srv\\.public\\.(.*)", "transforms.r.key.field.replacement", "tbl_$1", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "srv.all.tables");
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
        "{\"type\":\"string\",\"optional\":false,\"field\":\"__dbz__physicalTableIdentifier\"}],\"optional\":false,"
        "\"name\":\"srv.all.tables.Key\"},\"payload\":{\"id\":7,\"__dbz__physicalTableIdentifier\":\"tbl_t\"}}");
    assert_non_null(strstr(o.value, "\"optional\":true,\"name\":\"srv.all.tables.Value\",\"field\":\"before\"}"));
    assert_non_null(strstr(o.value, "\"optional\":false,\"name\":\"srv.all.tables.Envelope\",\"version\":2}"));
    /* a tombstone: topic and key, no value */
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.key, "{\"id\":7,\"__dbz__physicalTableIdentifier\":\"tbl_t\"}");
    assert_true(o.value_null);
    /* no match: untouched */
    ev = event(&f, 'c', false);
    ev.topic = "srv.other.t";
    o = run(&f, c, f.conv_plain, &ev);
    assert_string_equal(o.topic, "srv.other.t");
    assert_string_equal(o.key, "{\"id\":7}");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "io.debezium.transforms.ByLogicalTableRouter",
                                      "transforms.r.topic.regex", "x", NULL }, "transforms.r.topic.replacement is required");
    spec_error((const char *const[]){ "transforms", "r", "transforms.r.type", "io.debezium.transforms.ByLogicalTableRouter",
                                      "transforms.r.topic.regex", "x", "transforms.r.topic.replacement", "y",
                                      "transforms.r.key.field.regex", "(.*)", NULL },
               "key.field.replacement must be non-empty if key.field.regex is set");
    fx_free(&f);
}

/* A null value under a schema goes to Avro as a Kafka null, with nothing registered. */
static void test_avro_null_value(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    conv_side_t js = { .kind = CONV_JSON, .schemas = true }, av = { .kind = CONV_AVRO };
    conv_t *conv = conv_new(&js, &av);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "unwrap", "transforms.unwrap.type",
                                                     "io.debezium.transforms.ExtractNewRecordState", NULL });
    rec_event_t ev = event(&f, 'd', false);
    out_t o = run(&f, c, conv, &ev);   /* no registry: any registration would fail */
    assert_true(o.value_null);
    assert_false(o.key_null);
    conv_free(conv);
    fx_free(&f);
}

/* A row of the types Cast and TimestampConverter read specially: Connect Decimal (bytes),
 * Date/Time/Timestamp, raw bytes, floats, an optional boolean with a default, text, an int64 Unix time
 * and a timestamp as text. */
typedef struct cast_fx {
    cs_schema_t *s;
    rec_codec_t vc;
} cast_fx_t;

static rec_event_t cast_event(fx_t *f, cast_fx_t *cf, bool flag_null)
{
    arena_t *a = f->a;
    cs_schema_t *s = cf->s = named(a, CT_STRUCT, false, "srv.public.c.Value", 0);
    cs_schema_t *dec = named(a, CT_BYTES, false, "org.apache.kafka.connect.data.Decimal", 1);
    cs_param_add(dec, "scale", "2");
    cs_field_add(a, s, "dec", dec);
    cs_schema_t *dsm = named(a, CT_BYTES, false, "org.apache.kafka.connect.data.Decimal", 1);
    cs_param_add(dsm, "scale", "10");
    cs_field_add(a, s, "dsm", dsm);
    cs_field_add(a, s, "d", named(a, CT_INT32, false, "org.apache.kafka.connect.data.Date", 1));
    cs_field_add(a, s, "ts", named(a, CT_INT64, false, "org.apache.kafka.connect.data.Timestamp", 1));
    cs_field_add(a, s, "tm", named(a, CT_INT32, false, "org.apache.kafka.connect.data.Time", 1));
    cs_field_add(a, s, "raw", cs_new(a, CT_BYTES, false));
    cs_field_add(a, s, "f", cs_new(a, CT_FLOAT32, false));
    cs_field_add(a, s, "big", cs_new(a, CT_FLOAT64, false));
    cs_schema_t *flag = cs_new(a, CT_BOOLEAN, true);
    cv_value_t *def = arena_alloc(a, sizeof *def);
    *def = cv_bool(true);
    flag->def = def;
    cs_field_add(a, s, "flag", flag);
    cs_field_add(a, s, "txt", cs_new(a, CT_STRING, false));
    cs_field_add(a, s, "unix", cs_new(a, CT_INT64, false));
    cs_field_add(a, s, "when", cs_new(a, CT_STRING, true));
    rec_codec_bind(&cf->vc, s);
    cv_value_t *v = arena_alloc(a, sizeof *v);
    *v = cv_list(a, 12);
    v->u.list.v[0] = cv_str("\x30\x39", 2);           /* 12345, scale 2 */
    v->u.list.v[1] = cv_str("\x01", 1);               /* 1, scale 10 */
    v->u.list.v[2] = cv_int(19000);
    v->u.list.v[3] = cv_int(1700000000123);
    v->u.list.v[4] = cv_int(3723004);
    v->u.list.v[5] = cv_str("\xde\xad\xbe\xef", 4);
    v->u.list.v[6] = cv_float((float)1.1);
    v->u.list.v[7] = cv_float(1e300);
    v->u.list.v[8] = flag_null ? cv_null() : cv_bool(false);
    v->u.list.v[9] = cv_str(" 12", 3);
    v->u.list.v[10] = cv_int(1700000000);
    v->u.list.v[11] = cv_str("2023-11-14T22:13:20.123+01:00", 29);
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "srv.public.c";
    ev.op = 'c';
    ev.vc = &cf->vc;
    ev.value = v;
    return ev;
}

static void test_cast_config(void **st)
{
    (void)st;
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value", NULL },
               "transforms.c.spec");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", " ", NULL }, "transforms.c.spec: Must specify at least one field to cast");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", "a:b:c", NULL }, "transforms.c.spec: invalid cast mapping 'a:b:c'");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Key",
                                      "transforms.c.spec", "x:bytes", NULL },
               "transforms.c.spec: Cast transformation does not support casting to BYTES; supported types are [INT8");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", "x:foo", NULL }, "transforms.c.spec: Invalid type found in casting spec: foo");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", "a:int8,,b:int8", NULL }, "transforms.c.spec: Invalid type found in casting spec: ");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", "int8,a:int16", NULL }, "may only specify a single cast in their spec");
    spec_error((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                      "transforms.c.spec", "a:int8", "transforms.c.replace.null.with.default", "maybe", NULL },
               "transforms.c.replace.null.with.default");
    /* String.split(":") drops trailing empty parts: "a:int8:" is a:int8, "int64:" the whole value */
    tf_spec_free(spec((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                              "transforms.c.spec", " a : INT8: , b:String", NULL }));
    tf_spec_free(spec((const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Key",
                                              "transforms.c.spec", "int64:", NULL }));
}

static void test_cast_fields(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,c",
        "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec", "id:string,n:float64,nope:int8", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
                                 "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},{\"type\":\"double\",\"optional\":true,\"field\":\"n\"}],"
                                 "\"optional\":false,\"name\":\"srv.public.t.Value\"},\"payload\":{\"id\":\"7\",\"name\":\"Some.Topic\",\"n\":null}}");
    /* a tombstone: Cast leaves a null value as it is */
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
                                         "transforms.c.spec", "string", NULL });
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.dropped);
    assert_true(o.value_null);

    /* Integer.parseInt("Some.Topic"): the error path with Kafka's message */
    c = chain(&f, (const char *const[]){ "transforms", "u,c",
        "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec", "name:int32", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "transform c (org.apache.kafka.connect.transforms.Cast$Value)") ||
        !strstr(o.err, "Value (Some.Topic) was out of range for requested data type"))
        fail_msg("%s", o.err);

    /* the key: a field cast, and a whole-key cast of a struct (not a type Cast reads) */
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Key",
                                         "transforms.c.spec", "id:int8", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int8\",\"optional\":false,\"field\":\"id\"}],"
                               "\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"id\":7}}");
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Key",
                                         "transforms.c.spec", "int64", NULL });
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Cast transformation does not support casting from STRUCT"))
        fail_msg("%s", o.err);

    /* a whole-value cast keeps the schema's name, version and parameters (copySchemaBasics) */
    c = chain(&f, (const char *const[]){ "transforms", "u,x,c",
        "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.x.type", "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.x.field", "id",
        "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value", "transforms.c.spec", "boolean", NULL });
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"boolean\",\"optional\":false},\"payload\":true}");
    fx_free(&f);
}

static void test_cast_types(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    cast_fx_t cf;
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "c",
        "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec", "dec:string,dsm:string,d:string,ts:string,tm:string,raw:string,f:string,big:string,flag:string", NULL });
    rec_event_t ev = cast_event(&f, &cf, false);
    out_t o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"dec\":\"123.45\",\"dsm\":\"1E-10\",\"d\":\"2022-01-08\",\"ts\":\"2023-11-14T22:13:20.123Z\","
                                 "\"tm\":\"01:02:03.004Z\",\"raw\":\"3q2+7w==\",\"f\":\"1.1\",\"big\":\"1.0E300\",\"flag\":\"false\",\"txt\":\" 12\","
                                 "\"unix\":1700000000,\"when\":\"2023-11-14T22:13:20.123+01:00\"}");
    rec_codec_free(&cf.vc);

    /* numbers: BigDecimal.intValue/doubleValue, a logical date as its days/millis, Java's narrowing
     * (d2i saturates, then (byte)), a null field with a default: the default unless replace.null.with.default=false */
    const char *const kv[] = { "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec", "dec:int32,dsm:float64,d:int64,ts:int32,f:float64,big:int8,flag:int8", NULL };
    c = chain(&f, kv);
    ev = cast_event(&f, &cf, true);
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_OK);
    if (!strstr(o.value, "{\"dec\":123,\"dsm\":1.0E-10,\"d\":19000,\"ts\":-807049093,") ||
        !strstr(o.value, "\"f\":1.100000023841858,\"big\":-1,\"flag\":1,"))
        fail_msg("%s", o.value);
    /* the field's default is cast too, the logical name is dropped */
    o = run(&f, c, f.conv, &ev);
    if (!strstr(o.value, "{\"type\":\"int8\",\"optional\":true,\"default\":1,\"field\":\"flag\"}") ||
        !strstr(o.value, "{\"type\":\"int64\",\"optional\":false,\"field\":\"d\"}"))
        fail_msg("%s", o.value);
    rec_codec_free(&cf.vc);
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec", "flag:int8", "transforms.c.replace.null.with.default", "false", NULL });
    ev = cast_event(&f, &cf, true);
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_OK);
    /* (JsonConverter's own replace.null.with.default then writes the default: look before it) */
    assert_true(o.ev.value->u.list.v[8].null);
    rec_codec_free(&cf.vc);

    /* Integer.parseInt does not trim; bytes other than a Decimal cast only to a string */
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec", "txt:int32", NULL });
    ev = cast_event(&f, &cf, false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Value ( 12) was out of range for requested data type"))
        fail_msg("%s", o.err);
    c = chain(&f, (const char *const[]){ "transforms", "c", "transforms.c.type", "org.apache.kafka.connect.transforms.Cast$Value",
        "transforms.c.spec", "txt:float32,raw:int64", NULL });
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Unexpected type in Cast transformation"))
        fail_msg("%s", o.err);
    rec_codec_free(&cf.vc);
    fx_free(&f);
}

static void test_timestamp_config(void **st)
{
    (void)st;
#define TSC "org.apache.kafka.connect.transforms.TimestampConverter$Value"
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, NULL }, "transforms.t.target.type");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "date", NULL },
               "transforms.t.target.type: Invalid value date: String must be one of: string, unix, Date, Time, Timestamp");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string", NULL },
               "transforms.t.format: TimestampConverter requires format option to be specified when using string timestamps");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string",
                                      "transforms.t.format", " ", NULL }, "requires format option");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "unix",
                                      "transforms.t.format", "yyyy-ww", NULL },
               "transforms.t.format: the pattern letter 'w' (week number) is a valid SimpleDateFormat letter but walcast does not run it");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string",
                                      "transforms.t.format", "HH:mm b", NULL }, "(Illegal pattern character 'b')");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string",
                                      "transforms.t.format", "HH 'o''clock", NULL }, "(Unterminated quote)");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string",
                                      "transforms.t.format", "XXXX", NULL }, "(invalid ISO 8601 format: length=4)");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "unix",
                                      "transforms.t.unix.precision", "millis", NULL },
               "transforms.t.unix.precision: Invalid value millis");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "unix",
                                      "transforms.t.fields", "x", NULL }, "transforms.t.fields");
    tf_spec_free(spec((const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", "string",
                                              "transforms.t.format", "'it''s' yyyy-MM-dd'T'HH:mm:ss.SSSXXX zzzz a h K k E D F u G", NULL }));
}

/* One TimestampConverter$Value over cast_event's row; o->value is the schemaless JSON (or o->st the error). */
static out_t ts_run(fx_t *f, const char *field, const char *type, const char *format, const char *precision, bool schemas)
{
    const char *kv[16] = { "transforms", "t", "transforms.t.type", TSC, "transforms.t.target.type", type };
    int n = 6;
    if (field) {
        kv[n++] = "transforms.t.field";
        kv[n++] = field;
    }
    if (format) {
        kv[n++] = "transforms.t.format";
        kv[n++] = format;
    }
    if (precision) {
        kv[n++] = "transforms.t.unix.precision";
        kv[n++] = precision;
    }
    kv[n] = NULL;
    tf_chain_t *c = chain(f, kv);
    cast_fx_t cf;
    rec_event_t ev = cast_event(f, &cf, false);
    out_t o = run(f, c, schemas ? f->conv : f->conv_plain, &ev);
    rec_codec_free(&cf.vc);
    return o;
}

static void expect_in(const out_t *o, const char *want)
{
    if (o->st != WC_OK)
        fail_msg("error: %s", o->err);
    if (!strstr(o->value, want))
        fail_msg("\"%s\" lacks \"%s\"", o->value, want);
}

static void test_timestamp_fields(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    out_t o = ts_run(&f, "ts", "string", "EEE, d MMM yyyy HH:mm:ss.SSS XXX G", NULL, false);
    expect_in(&o, "\"ts\":\"Tue, 14 Nov 2023 22:13:20.123 Z AD\"");
    o = ts_run(&f, "ts", "unix", NULL, "microseconds", false);
    expect_in(&o, "\"ts\":1700000000123000,");
    o = ts_run(&f, "tm", "string", "HH:mm", NULL, false);
    expect_in(&o, "\"tm\":\"01:02\",");
    /* a Date to a Timestamp: Connect's Timestamp schema, the field's optionality kept */
    o = ts_run(&f, "d", "Timestamp", NULL, NULL, true);
    expect_in(&o, "{\"type\":\"int64\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,\"field\":\"d\"}");
    expect_in(&o, "\"d\":1641600000000,");
    /* text parsed by the pattern (its zone honoured), then Unix seconds to a Date */
    o = ts_run(&f, "when", "unix", "yyyy-MM-dd'T'HH:mm:ss.SSSXXX", NULL, true);
    expect_in(&o, "{\"type\":\"int64\",\"optional\":true,\"field\":\"when\"}");
    expect_in(&o, "\"when\":1699996400123}");
    o = ts_run(&f, "unix", "Date", NULL, "seconds", false);
    expect_in(&o, "\"unix\":19675,");
    /* a field that is not there: the value as it was */
    o = ts_run(&f, "nosuch", "Date", NULL, NULL, false);
    expect_in(&o, "\"ts\":1700000000123,");
    /* the error path: a type that is no timestamp, text the pattern does not match */
    o = ts_run(&f, "big", "Date", NULL, NULL, false);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "transform t (org.apache.kafka.connect.transforms.TimestampConverter$Value)") ||
        !strstr(o.err, "Schema Schema{FLOAT64} does not correspond to a known timestamp type format"))
        fail_msg("%s", o.err);
    o = ts_run(&f, "txt", "unix", "HH:mm", NULL, false);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Could not parse timestamp: value ( 12) does not match pattern (HH:mm)"))
        fail_msg("%s", o.err);
    o = ts_run(&f, "txt", "unix", NULL, NULL, false);
    assert_int_equal(o.st, WC_PERMANENT);

    /* the whole value after ExtractField: Connect's Time schema */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "x,t",
        "transforms.x.type", "org.apache.kafka.connect.transforms.ExtractField$Value", "transforms.x.field", "ts",
        "transforms.t.type", TSC, "transforms.t.target.type", "Time", NULL });
    cast_fx_t cf;
    rec_event_t ev = cast_event(&f, &cf, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Time\","
                                 "\"version\":1},\"payload\":80000123}");
    rec_codec_free(&cf.vc);

    /* the key: a struct is no timestamp; a tombstone's null value stays null */
    c = chain(&f, (const char *const[]){ "transforms", "k,t",
        "transforms.k.type", "org.apache.kafka.connect.transforms.TimestampConverter$Key", "transforms.k.target.type", "unix",
        "transforms.t.type", TSC, "transforms.t.field", "ts", "transforms.t.target.type", "unix", NULL });
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Schema Schema{srv.public.t.Key:STRUCT} does not correspond to a known timestamp type format"))
        fail_msg("%s", o.err);
    c = chain(&f, (const char *const[]){ "transforms", "t", "transforms.t.type", TSC, "transforms.t.field", "ts",
                                         "transforms.t.target.type", "unix", NULL });
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.dropped);
    assert_true(o.value_null);
#undef TSC
    fx_free(&f);
}

/* PartitionRouting over the fixture's events: the partition (or none) it picks. Expected values computed by
 * Debezium 3.6.1's own code (Integer/String.hashCode, io.debezium.util.MurmurHash3, computePartition). */
static out_t part_run(fx_t *f, const char *fields, const char *num, const char *fn, char op)
{
    const char *kv[12] = { "transforms", "p", "transforms.p.type", "io.debezium.transforms.partitions.PartitionRouting",
                           "transforms.p.partition.payload.fields", fields, "transforms.p.partition.topic.num", num };
    int n = 8;
    if (fn) {
        kv[n++] = "transforms.p.partition.hash.function";
        kv[n++] = fn;
    }
    kv[n] = NULL;
    tf_chain_t *c = chain(f, kv);
    rec_event_t ev = event(f, op, false);
    return run(f, c, f->conv, &ev);
}

static void test_partition_routing(void **st)
{
    (void)st;
    const char *P = "io.debezium.transforms.partitions.PartitionRouting";
    spec_error((const char *const[]){ "transforms", "p", "transforms.p.type", P, "transforms.p.partition.topic.num", "3", NULL },
               "transforms.p.partition.payload.fields");
    spec_error((const char *const[]){ "transforms", "p", "transforms.p.type", P, "transforms.p.partition.payload.fields", "after.id",
                                      NULL }, "transforms.p.partition.topic.num");
    spec_error((const char *const[]){ "transforms", "p", "transforms.p.type", P, "transforms.p.partition.payload.fields", "a,,b",
                                      "transforms.p.partition.topic.num", "3", NULL }, "has an empty element");
    spec_error((const char *const[]){ "transforms", "p", "transforms.p.type", P, "transforms.p.partition.payload.fields", "a",
                                      "transforms.p.partition.topic.num", "0", NULL }, "transforms.p.partition.topic.num: '0' is not a positive integer");
    spec_error((const char *const[]){ "transforms", "p", "transforms.p.type", P, "transforms.p.partition.payload.fields", "a",
                                      "transforms.p.partition.topic.num", "3", "transforms.p.partition.hash.function", "sha1", NULL },
               "transforms.p.partition.hash.function: 'sha1' is not one of java, murmur");
    fx_t f;
    fx_init(&f);
    out_t o = part_run(&f, "after.id, after.name", "7", NULL, 'c');
    assert_int_equal(o.st, WC_OK);
    assert_true(o.ev.has_partition);
    assert_int_equal(o.ev.partition, 4);
    o = part_run(&f, "after.id,after.name", "7", " Murmur ", 'c');
    assert_int_equal(o.ev.partition, 2);
    o = part_run(&f, "change.name", "3", NULL, 'd');   /* a delete: change is before */
    assert_true(o.ev.has_partition);
    assert_int_equal(o.ev.partition, 1);
    o = part_run(&f, "source.db,source.table", "11", NULL, 'u');
    assert_int_equal(o.ev.partition, 5);
    o = part_run(&f, "source.db,source.table,nosuch,after.nosuch,nosuch.x,source.db.x", "11", "murmur", 'u');
    assert_int_equal(o.ev.partition, 7);
    /* none of the fields there, a tombstone: the partition stays the producer's */
    o = part_run(&f, "nosuch,after.nosuch,change", "11", NULL, 'c');
    assert_int_equal(o.st, WC_OK);
    assert_false(o.ev.has_partition);
    o = part_run(&f, "after.id", "11", NULL, 0);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.ev.has_partition);
    /* through a null struct (Debezium: a NullPointerException) and a struct field: the error path */
    o = part_run(&f, "before.id", "11", NULL, 'c');
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Unprocessable message: before.id of partition.payload.fields goes through before, which is null"))
        fail_msg("%s", o.err);
    o = part_run(&f, "source", "11", NULL, 'c');
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "field source of partition.payload.fields is a STRUCT"))
        fail_msg("%s", o.err);
    /* InsertField sees the partition PartitionRouting chose and a timestamp a record has (Connect's
     * kafkaPartition() and timestamp()) */
    tf_spec_t *si = spec((const char *const[]){ "transforms", "p,i", "transforms.p.type", P,
        "transforms.p.partition.payload.fields", "after.id,after.name", "transforms.p.partition.topic.num", "7",
        "transforms.i.type", "org.apache.kafka.connect.transforms.InsertField$Value", "transforms.i.partition.field", "part",
        "transforms.i.timestamp.field", "when!", NULL });
    tf_chain_t *ci = tf_chain_new(si);
    rec_event_t evi = event(&f, 'c', false);
    evi.has_ts = true;
    evi.ts_ms = 1700000000123;
    o = run(&f, ci, f.conv_plain, &evi);
    assert_int_equal(o.st, WC_OK);
    if (!strstr(o.value, "\"part\":4,\"when\":1700000000123}"))
        fail_msg("%s", o.value);
    evi.has_ts = false;   /* none: the required field fails the record */
    o = run(&f, ci, f.conv_plain, &evi);
    assert_int_equal(o.st, WC_PERMANENT);
    tf_chain_free(ci);
    tf_spec_free(si);
    /* after ExtractNewRecordState the value is no envelope: as it is */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,p", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.p.type", P, "transforms.p.partition.payload.fields", "after.id,id", "transforms.p.partition.topic.num", "3", NULL });
    rec_event_t ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.ev.has_partition);
    fx_free(&f);
}

static void test_timestamp_router(void **st)
{
    (void)st;
    const char *T = "org.apache.kafka.connect.transforms.TimestampRouter";
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", T, "transforms.t.timestamp.format", "YYYY", NULL },
               "transforms.t.timestamp.format: the pattern letter 'Y'");
    spec_error((const char *const[]){ "transforms", "t", "transforms.t.type", T, "transforms.t.timestamp.format", "yyyyMMdd'", NULL },
               "transforms.t.timestamp.format: 'yyyyMMdd'' is not a java.text.SimpleDateFormat pattern (Unterminated quote)");
    fx_t f;
    fx_init(&f);
    /* a Debezium change event has no record timestamp: Kafka's DataException, the error path */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "t", "transforms.t.type", T, NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "transform t (org.apache.kafka.connect.transforms.TimestampRouter)") ||
        !strstr(o.err, "Timestamp missing on record (topic srv.public.t)"))
        fail_msg("%s", o.err);
    /* a record with one (what the outbox EventRouter sets): topic.format's defaults */
    ev.has_ts = true;
    ev.ts_ms = 1700000000123;
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.topic, "srv.public.t-20231114");
    c = chain(&f, (const char *const[]){ "transforms", "t", "transforms.t.type", T, "transforms.t.topic.format", "${timestamp}/${topic}/${topic}",
                                         "transforms.t.timestamp.format", "yyyy-MM-dd'T'HH 'h'", NULL });
    o = run(&f, c, f.conv, &ev);
    assert_string_equal(o.topic, "2023-11-14T22 h/srv.public.t/srv.public.t");
    fx_free(&f);
}

/* InsertField's offset.field: a sink record's Kafka offset (SinkRecord.kafkaOffset), in makeUpdatedSchema's
 * order (topic, partition, offset, timestamp, static); a source record has none (requireSinkRecord). */
static void test_insert_field_offset(void **st)
{
    (void)st;
    fx_t f;
    fx_init(&f);
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,i,k", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.i.type", "org.apache.kafka.connect.transforms.InsertField$Value", "transforms.i.static.field", "origin",
        "transforms.i.static.value", "pg", "transforms.i.timestamp.field", "ts", "transforms.i.offset.field", "off!",
        "transforms.i.partition.field", "part", "transforms.i.topic.field", "topic",
        "transforms.k.type", "org.apache.kafka.connect.transforms.InsertField$Key", "transforms.k.offset.field", "koff", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "offset.field: only a sink record has a Kafka offset"))
        fail_msg("%s", o.err);
    ev.has_offset = true;
    ev.offset = 9000000000LL;
    ev.has_partition = true;
    ev.partition = 2;
    ev.has_ts = true;
    ev.ts_ms = 1700000000123;
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"n\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"topic\"},{\"type\":\"int32\",\"optional\":true,\"field\":\"part\"},"
        "{\"type\":\"int64\",\"optional\":false,\"field\":\"off\"},{\"type\":\"int64\",\"optional\":true,"
        "\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1,\"field\":\"ts\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"origin\"}],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
        "\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,\"topic\":\"srv.public.t\",\"part\":2,\"off\":9000000000,"
        "\"ts\":1700000000123,\"origin\":\"pg\"}}");
    assert_string_equal(o.key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"koff\"}],\"optional\":false,\"name\":\"srv.public.t.Key\"},"
        "\"payload\":{\"id\":7,\"koff\":9000000000}}");
    fx_free(&f);
}

/* Debezium's HeaderToValue: configuration errors; headers into the value under their Connect schema
 * (typed by the transform that made them, or read from bytes as SimpleHeaderConverter does on a sink),
 * move and copy, nested a.b fields (a new optional struct, or into an existing struct), the value
 * schema cached per value schema, and the records it refuses. */
#define HTV "io.debezium.transforms.HeaderToValue"
static void test_header_to_value(void **st)
{
    (void)st;
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.fields", "a",
                                      "transforms.h.operation", "copy", NULL }, "transforms.h.headers: A value is required");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a",
                                      "transforms.h.operation", "copy", NULL }, "transforms.h.fields: A value is required");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a",
                                      "transforms.h.fields", "b", NULL }, "transforms.h.operation is required");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a",
                                      "transforms.h.fields", "b", "transforms.h.operation", "rename", NULL },
               "transforms.h.operation");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a,b",
                                      "transforms.h.fields", "b", "transforms.h.operation", "move", NULL },
               "'fields' config must have the same number of elements as 'headers' config");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a,,b",
                                      "transforms.h.fields", "b,c,d", "transforms.h.operation", "move", NULL },
               "transforms.h.headers: Empty string element(s) not permitted");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a",
                                      "transforms.h.fields", " x y ", "transforms.h.operation", "move", NULL },
               "transforms.h.fields: Element(s) containing space not permitted");
    spec_error((const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "a",
                                      "transforms.h.fields", "b", "transforms.h.operation", "move", "transforms.h.field", "x",
                                      NULL }, "transforms.h.field");
    fx_t f;
    fx_init(&f);
    /* after unwrap with add.headers (headers typed by the envelope's fields): one top-level, one nested
     * into a new optional struct; move removes them */
    tf_chain_t *c = chain(&f, (const char *const[]){ "transforms", "u,h", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.u.add.headers", "op,source.db,source.ts_ms", "transforms.h.type", HTV,
        "transforms.h.headers", "__op,__source_db,__source_ts_ms", "transforms.h.fields", "op_h,meta.db,meta.ts", "transforms.h.operation", "move", NULL });
    rec_event_t ev = event(&f, 'c', false);
    out_t o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    /* add.headers' schemas: the field's, optional (FieldReference.getSchema) */
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS ",{\"type\":\"string\",\"optional\":true,\"field\":\"op_h\"},"
        "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":true,\"field\":\"db\"},"
        "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts\"}],\"optional\":true,\"field\":\"meta\"}],"
        "\"optional\":false,\"name\":\"srv.public.t.Value\"},\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,"
        "\"op_h\":\"c\",\"meta\":{\"db\":\"postgres\",\"ts\":1700000000000}}}");
    assert_null(header(&o, "__op"));
    assert_null(header(&o, "__source_db"));
    assert_non_null(header(&o, "__debezium.context.taskId"));

    /* copy: the headers stay, byte for byte; an untyped header (a sink record's) read as SimpleHeaderConverter
     * does: "0" is an int8, "-40000" an int32, "true" a boolean, "a:b" and "" strings */
    c = chain(&f, (const char *const[]){ "transforms", "u,h", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.u.add.headers", "op", "transforms.h.type", HTV,
        "transforms.h.headers", "__debezium.context.taskId,__op,i32,yes,colon,empty",
        "transforms.h.fields", "task,op_h,i,b,s,e", "transforms.h.operation", "copy", NULL });
    ev = event(&f, 'u', false);
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "empty", .value = "", .len = 0 };
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "colon", .value = "a:b", .len = 3 };
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "yes", .value = "true", .len = 4 };
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "i32", .value = "-40000", .len = 6 };
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    /* in header order, not config order */
    assert_string_equal(o.value, "{\"schema\":{\"type\":\"struct\"," ROW_FIELDS ",{\"type\":\"int8\",\"optional\":false,\"field\":\"task\"},"
        "{\"type\":\"string\",\"optional\":false,\"field\":\"e\"},{\"type\":\"string\",\"optional\":false,\"field\":\"s\"},"
        "{\"type\":\"boolean\",\"optional\":false,\"field\":\"b\"},{\"type\":\"int32\",\"optional\":false,\"field\":\"i\"},"
        "{\"type\":\"string\",\"optional\":true,\"field\":\"op_h\"}],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
        "\"payload\":{\"id\":7,\"name\":\"Some.Topic\",\"n\":null,\"task\":0,\"e\":\"\",\"s\":\"a:b\",\"b\":true,\"i\":-40000,\"op_h\":\"u\"}}");
    assert_string_equal(header(&o, "__op"), "u");
    assert_string_equal(header(&o, "i32"), "-40000");
    assert_int_equal(o.ev.nheaders, 6);
    /* the same value schema again, without i32: the cached schema's required i stays null */
    ev = event(&f, 'u', false);
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "empty", .value = "", .len = 0 };
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "colon", .value = "a:b", .len = 3 };
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "yes", .value = "true", .len = 4 };
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "null value for field that is required") || !strstr(o.err, "(i: no header gave it)"))
        fail_msg("%s", o.err);
    /* ... and with a header of another type under that name */
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "i32", .value = "x", .len = 1 };
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Invalid Java object for schema with type INT32: class java.lang.String for field: \"i\""))
        fail_msg("%s", o.err);
    /* bytes walcast cannot type as Connect would: the record fails naming the header */
    ev.headers[ev.nheaders - 1] = (rec_header_t){ .key = "i32", .value = "12.5", .len = 4 };
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "header i32: walcast cannot tell which Connect type") || !strstr(o.err, "'12.5'"))
        fail_msg("%s", o.err);
    const char *untyped[] = { "[1,2]", "{\"a\":1}", "2024-01-01", "1e5", "99999999999999999999", "-5,x", "  [1]" };
    for (size_t i = 0; i < sizeof untyped / sizeof untyped[0]; i++) {
        ev.headers[ev.nheaders - 1] = (rec_header_t){ .key = "i32", .value = untyped[i], .len = strlen(untyped[i]) };
        o = run(&f, c, f.conv, &ev);
        assert_int_equal(o.st, WC_PERMANENT);
    }

    /* no header named: the record as it was (the envelope); a nested field into an existing struct
     * (source, rebuilt as Debezium does: copySchemaBasics, required); a typed header from HeaderFrom */
    c = chain(&f, (const char *const[]){ "transforms", "hf,h", "transforms.hf.type", "HeaderFrom$Value",
        "transforms.hf.fields", "op", "transforms.hf.headers", "hop", "transforms.hf.operation", "copy",
        "transforms.h.type", HTV, "transforms.h.headers", "hop,none", "transforms.h.fields", "source.op,x",
        "transforms.h.operation", "move", NULL });
    ev = event(&f, 'd', false);
    o = run(&f, c, f.conv_plain, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_string_equal(o.value, "{\"before\":{\"id\":7,\"name\":\"old\",\"n\":null},\"after\":null,\"source\":{\"db\":\"postgres\","
        "\"table\":\"t\",\"ts_ms\":1700000000000,\"snapshot\":\"false\",\"op\":\"d\"},\"transaction\":null,\"op\":\"d\",\"ts_ms\":1700000000001}");
    assert_null(header(&o, "hop"));
    assert_string_equal(o.ev.vc->schema->fields[2].schema->name, "io.debezium.connector.postgresql.Source");
    assert_false(o.ev.vc->schema->fields[2].schema->optional);
    /* an existing field takes a header's value only of its Java class: a Timestamp (java.util.Date) is no Long */
    c = chain(&f, (const char *const[]){ "transforms", "u,i,hf,h", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.i.type", "InsertField$Value", "transforms.i.timestamp.field", "when",
        "transforms.hf.type", "HeaderFrom$Value", "transforms.hf.fields", "when", "transforms.hf.headers", "hw",
        "transforms.hf.operation", "move", "transforms.h.type", HTV, "transforms.h.headers", "hw",
        "transforms.h.fields", "n", "transforms.h.operation", "move", NULL });
    ev = event(&f, 'c', false);
    ev.has_ts = true;
    ev.ts_ms = 1700000000123;
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Invalid Java object for schema with type INT64: class java.util.Date for field: \"n\""))
        fail_msg("%s", o.err);
    /* a primitive on the path fails the record; so does a null header (no schema) and a non-struct value */
    c = chain(&f, (const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "__debezium.context.taskId",
        "transforms.h.fields", "op.task", "transforms.h.operation", "copy", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Field 'op' is a primitive type, not a struct. Cannot add nested field 'op.task'."))
        fail_msg("%s", o.err);
    /* a tombstone passes */
    ev = event(&f, 0, false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_OK);
    assert_false(o.dropped);
    assert_true(o.value_null);
    /* Debezium's isContainedIn is a substring test: "xid.y" puts field id (an int) on the path, and its
     * value is then required to be a struct */
    c = chain(&f, (const char *const[]){ "transforms", "u,h", "transforms.u.type", "io.debezium.transforms.ExtractNewRecordState",
        "transforms.h.type", HTV, "transforms.h.headers", "__debezium.context.taskId",
        "transforms.h.fields", "xid.y", "transforms.h.operation", "copy", NULL });
    ev = event(&f, 'c', false);
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "Only Struct objects supported for [Nested field], found: java.lang.Integer (field id)"))
        fail_msg("%s", o.err);
    c = chain(&f, (const char *const[]){ "transforms", "h", "transforms.h.type", HTV, "transforms.h.headers", "skip",
        "transforms.h.fields", "sk", "transforms.h.operation", "copy", NULL });
    ev = event(&f, 'c', false);
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "skip", .value = NULL, .len = 0 };
    o = run(&f, c, f.conv, &ev);
    assert_int_equal(o.st, WC_PERMANENT);
    if (!strstr(o.err, "fieldSchema for field sk cannot be null"))
        fail_msg("%s", o.err);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_unwrap_default),
        cmocka_unit_test(test_unwrap_modes),
        cmocka_unit_test(test_unwrap_fields_route),
        cmocka_unit_test(test_unwrap_drop_fields),
        cmocka_unit_test(test_predicates_and_kafka),
        cmocka_unit_test(test_kafka_fields),
        cmocka_unit_test(test_kafka_insert_mask_header),
        cmocka_unit_test(test_kafka_flatten),
        cmocka_unit_test(test_logical_table_router),
        cmocka_unit_test(test_avro_null_value),
        cmocka_unit_test(test_cast_config),
        cmocka_unit_test(test_cast_fields),
        cmocka_unit_test(test_cast_types),
        cmocka_unit_test(test_timestamp_config),
        cmocka_unit_test(test_timestamp_fields),
        cmocka_unit_test(test_partition_routing),
        cmocka_unit_test(test_timestamp_router),
        cmocka_unit_test(test_insert_field_offset),
        cmocka_unit_test(test_header_to_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
