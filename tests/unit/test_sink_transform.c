/* test_sink_transform.c: what a sink's transforms see and give (sinks/envelope.c env_decode_record and
 * env_event_from_record, with schemas/transform.c between them): a Debezium envelope unwrapped by
 * ExtractNewRecordState becomes the row it carries (create/update/read: upsert; delete: a delete by key in
 * every delete.tombstone.handling.mode that keeps one), an envelope left as it is reads as before, and a
 * topic a source already unwrapped is read as rows too (no transforms on the sink). */
#include "testutil.h"

#include "schemas/transform.h"
#include "sinks/envelope.h"

#define ROW(n, f)                                                                                                 \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"                  \
    "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"}],\"optional\":true,\"name\":\"" n "\",\"field\":\"" f "\"}"

static const char *KEY = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
                         "\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"id\":7}}";

#define ENV_SCHEMA                                                                                                \
    "{\"schema\":{\"type\":\"struct\",\"fields\":[" ROW("srv.public.t.Value", "before") "," ROW("srv.public.t.Value", "after") "," \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"                 \
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}]," \
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"             \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}]," \
    "\"optional\":false,\"name\":\"srv.public.t.Envelope\",\"version\":2},\"payload\":"

static const char *CREATE = ENV_SCHEMA "{\"before\":null,\"after\":{\"id\":7,\"name\":\"seven\"},"
                            "\"source\":{\"name\":\"srv\",\"ts_ms\":1700000000000,\"lsn\":100},\"op\":\"c\",\"ts_ms\":1}}";
static const char *DELETE = ENV_SCHEMA "{\"before\":{\"id\":7,\"name\":null},\"after\":null,"
                            "\"source\":{\"name\":\"srv\",\"ts_ms\":1700000000000,\"lsn\":200},\"op\":\"d\",\"ts_ms\":1}}";

static tf_spec_t *spec(const char *mode)
{
    tf_kv_t kv[3] = { { "transforms", "unwrap" }, { "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState" },
                      { "transforms.unwrap.delete.tombstone.handling.mode", mode } };
    tf_spec_t *s = NULL;
    char err[512];
    if (tf_spec_parse(kv, mode ? 3 : 2, &s, err, sizeof err) < 0)
        fail_msg("%s", err);
    return s;
}

/* What the sink does with one record under chain c: *dropped, or ev. */
static int through(env_decoder_t *d, arena_t *a, tf_chain_t *c, const char *val, env_event_t *ev, bool *dropped, char *err)
{
    env_record_t raw;
    if (env_decode_record(d, a, KEY, strlen(KEY), val, val ? strlen(val) : 0, NULL, NULL, &raw, err, 512) < 0)
        return -1;
    rec_codec_t kc, vc;
    rec_event_t in, out;
    memset(&in, 0, sizeof in);
    in.topic = "srv.public.t";
    rec_codec_bind(&kc, raw.ks);
    in.kc = &kc;
    in.key = &raw.key;
    if (raw.vs && !raw.value.null) {
        rec_codec_bind(&vc, raw.vs);
        in.vc = &vc;
        in.value = &raw.value;
    }
    if (tf_chain_apply(c, a, &in, &out, dropped, err, 512) != WC_OK)
        return -1;
    if (*dropped)
        return 0;
    return env_event_from_record(out.kc ? out.kc->schema : NULL, out.key, out.vc ? out.vc->schema : NULL, out.value,
                                 ev, err, 512);
}

static void test_unwrapped_on_the_sink(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    char err[512] = "";
    env_event_t ev;
    bool dropped;
    const char *modes[] = { NULL, "rewrite", "delete-to-tombstone", "rewrite-with-tombstone", "drop" };
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        tf_spec_t *s = spec(modes[m]);
        tf_chain_t *c = tf_chain_new(s);
        /* a create: the row, upserted */
        assert_int_equal(through(d, a, c, CREATE, &ev, &dropped, err), 0);
        assert_false(dropped);
        assert_int_equal(ev.op, ENV_CREATE);
        assert_true(ev.has_after);
        assert_string_equal(ev.row_schema->name, "srv.public.t.Value");
        assert_int_equal(ev.after.u.list.v[0].u.i, 7);
        assert_string_equal(ev.after.u.list.v[1].u.s.p, "seven");
        assert_int_equal(ev.row_schema->nfields, m == 1 || m == 3 ? 3 : 2);   /* rewrite: __deleted */
        assert_non_null(ev.key_schema);
        /* the delete */
        int rc = through(d, a, c, DELETE, &ev, &dropped, err);
        assert_int_equal(rc, 0);
        if (m == 4) {
            assert_true(dropped);
        } else if (m == 1 || m == 3) {
            /* rewrite: a row with __deleted=true (Debezium's sinks write it as a row, not a delete) */
            assert_false(dropped);
            assert_int_equal(ev.op, ENV_CREATE);
            assert_string_equal(ev.row_schema->fields[2].name, "__deleted");
            assert_string_equal(ev.after.u.list.v[2].u.s.p, "true");
        } else {
            /* tombstone: a null under the row schema; delete-to-tombstone: a Kafka null: both delete by key */
            assert_false(dropped);
            assert_int_equal(ev.op, ENV_DELETE);
            assert_false(ev.has_before);
            assert_null(ev.row_schema);
            assert_int_equal(ev.key.u.list.v[0].u.i, 7);
        }
        /* the tombstone after it: dropped, except by rewrite-with-tombstone (then a delete by key) */
        rc = through(d, a, c, NULL, &ev, &dropped, err);
        assert_int_equal(rc, 0);
        if (m == 3) {
            assert_false(dropped);
            assert_int_equal(ev.op, ENV_DELETE);
        } else
            assert_true(dropped);
        tf_chain_free(c);
        tf_spec_free(s);
    }
    env_decoder_free(d);
    arena_free(a);
}

static void test_envelope_kept(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    char err[512] = "";
    tf_kv_t kv[4] = { { "transforms", "route" }, { "transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter" },
                      { "transforms.route.regex", "srv\\.public\\.(.*)" }, { "transforms.route.replacement", "copy_$1" } };
    tf_spec_t *s = NULL;
    assert_int_equal(tf_spec_parse(kv, 4, &s, err, sizeof err), 0);
    tf_chain_t *c = tf_chain_new(s);
    env_event_t ev, direct;
    bool dropped;
    assert_int_equal(through(d, a, c, DELETE, &ev, &dropped, err), 0);
    assert_int_equal(env_decode_json(d, a, KEY, strlen(KEY), DELETE, strlen(DELETE), &direct, err, sizeof err), 0);
    assert_int_equal(ev.op, ENV_DELETE);
    assert_true(ev.has_before);
    assert_int_equal(ev.source.lsn, direct.source.lsn);
    assert_int_equal(ev.source.ts_ms, direct.source.ts_ms);
    assert_string_equal(ev.source.name, "srv");
    tf_chain_free(c);
    tf_spec_free(s);
    env_decoder_free(d);
    arena_free(a);
}

static void test_source_unwrapped_topic(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    char err[512] = "";
    env_event_t ev;
    /* what a source with ExtractNewRecordState writes: the row under its Value schema, then a null under it */
    const char *row = "{\"schema\":" ROW("srv.public.t.Value", "x") ",\"payload\":{\"id\":7,\"name\":\"seven\"}}";
    const char *gone = "{\"schema\":" ROW("srv.public.t.Value", "x") ",\"payload\":null}";
    assert_int_equal(env_decode_json(d, a, KEY, strlen(KEY), row, strlen(row), &ev, err, sizeof err), 0);
    assert_int_equal(ev.op, ENV_CREATE);
    assert_int_equal(ev.after.u.list.v[0].u.i, 7);
    assert_string_equal(ev.source.name, "");
    assert_int_equal(env_decode_json(d, a, KEY, strlen(KEY), gone, strlen(gone), &ev, err, sizeof err), 0);
    assert_int_equal(ev.op, ENV_DELETE);
    assert_int_equal(ev.key.u.list.v[0].u.i, 7);
    /* a schemaless record is refused for transforms, saying what to set */
    env_record_t raw;
    assert_int_equal(env_decode_record(d, a, NULL, 0, "{\"id\":1}", 8, NULL, NULL, &raw, err, sizeof err), -1);
    assert_non_null(strstr(err, "value.converter.schemas.enable=true"));
    /* a key that a transform made a string: refused (the sinks need struct keys) */
    cs_schema_t *ks = cs_new(a, CT_STRING, false);
    cv_value_t k = cv_str("x", 1);
    assert_int_equal(env_event_from_record(ks, &k, NULL, NULL, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "the sinks need a struct key"));
    env_decoder_free(d);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unwrapped_on_the_sink),
        cmocka_unit_test(test_envelope_kept),
        cmocka_unit_test(test_source_unwrapped_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
