/* test_envelope.c: the Debezium envelope decoder of the sinks: JSON with and without schemas, every op,
 * tombstones, the schema cache, Connect types (Decimal bytes, arrays, maps), and bad input of every kind. */
#include "testutil.h"

#include "schemas/avro.h"
#include "sinks/envelope.h"

static const char *KEY_S =
    "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
    "\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"id\":7}}";

#define ROW_SCHEMA(n, f)                                                                                            \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"                  \
    "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},"                                                  \
    "{\"type\":\"bytes\",\"optional\":true,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"      \
    "\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},\"field\":\"price\"},"                  \
    "{\"type\":\"int64\",\"optional\":true,\"name\":\"io.debezium.time.MicroTimestamp\",\"version\":1,\"field\":\"ts\"}," \
    "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":true},\"optional\":true,\"field\":\"tags\"},"  \
    "{\"type\":\"double\",\"optional\":true,\"field\":\"f\"},{\"type\":\"boolean\",\"optional\":true,\"field\":\"ok\"}]," \
    "\"optional\":true,\"name\":\"" n "\",\"field\":\"" f "\"}"

static const char *VAL_S =
    "{\"schema\":{\"type\":\"struct\",\"fields\":[" ROW_SCHEMA("srv.public.t.Value", "before") "," ROW_SCHEMA("srv.public.t.Value", "after") ","
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}],"
    "\"optional\":false,\"name\":\"srv.public.t.Envelope\",\"version\":2},"
    "\"payload\":{\"before\":null,\"after\":{\"id\":7,\"name\":\"it's \\u00fc \\\"q\\\"\",\"price\":\"BNI=\",\"ts\":1700000000123456,"
    "\"tags\":[\"a\",null],\"f\":\"NaN\",\"ok\":true},"
    "\"source\":{\"name\":\"srv\",\"ts_ms\":1700000000000,\"db\":\"postgres\",\"schema\":\"public\",\"table\":\"t\","
    "\"txId\":745,\"lsn\":24023128},\"op\":\"c\",\"ts_ms\":1700000000456}}";

/* A snapshot chunk row emitted at a high watermark: source.lsn null, its position in source.sequence
 * (issue 17: the sinks order it by that LSN). */
static const char *VAL_WM =
    "{\"schema\":{\"type\":\"struct\",\"fields\":[" ROW_SCHEMA("srv.public.t.Value", "before") "," ROW_SCHEMA("srv.public.t.Value", "after") ","
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},{\"type\":\"string\",\"optional\":true,\"field\":\"sequence\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}],"
    "\"optional\":false,\"name\":\"srv.public.t.Envelope\",\"version\":2},"
    "\"payload\":{\"before\":null,\"after\":{\"id\":7},"
    "\"source\":{\"name\":\"srv\",\"ts_ms\":1700000000000,\"sequence\":\"[\\\"24023100\\\",\\\"24023999\\\"]\",\"lsn\":null},"
    "\"op\":\"r\"}}";

static void test_watermark_position(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256] = "";
    assert_int_equal(env_decode_json(d, a, NULL, 0, VAL_WM, strlen(VAL_WM), &ev, err, sizeof err), 0);
    assert_int_equal(ev.op, ENV_READ);
    assert_int_equal(ev.source.lsn, 24023999);
    /* source.lsn, when there, wins; a sequence without a last LSN gives none */
    assert_int_equal(env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, strlen(VAL_S), &ev, err, sizeof err), 0);
    assert_int_equal(ev.source.lsn, 24023128);
    arena_free(a);
    env_decoder_free(d);
}

static void test_with_schema(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256] = "";
    for (int round = 0; round < 3; round++) {
        assert_int_equal(env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, strlen(VAL_S), &ev, err, sizeof err), 0);
        assert_int_equal(ev.op, ENV_CREATE);
        assert_non_null(ev.key_schema);
        assert_int_equal(ev.key_schema->nfields, 1);
        assert_int_equal(ev.key.u.list.v[0].u.i, 7);
        assert_true(ev.has_after);
        assert_false(ev.has_before);
        const cs_schema_t *rs = ev.row_schema;
        assert_non_null(rs);
        assert_int_equal(rs->nfields, 7);
        assert_string_equal(rs->fields[2].schema->name, "org.apache.kafka.connect.data.Decimal");
        assert_string_equal(cs_param_get(rs->fields[2].schema, "scale"), "2");
        const cv_value_t *v = ev.after.u.list.v;
        assert_int_equal(v[0].u.i, 7);
        assert_int_equal(v[1].u.s.n, strlen("it's \xc3\xbc \"q\""));
        assert_memory_equal(v[1].u.s.p, "it's \xc3\xbc \"q\"", v[1].u.s.n);
        assert_int_equal(v[2].u.s.n, 2);   /* 0x04d2 = 1234 -> 12.34 */
        assert_int_equal((unsigned char)v[2].u.s.p[0], 0x04);
        assert_int_equal((unsigned char)v[2].u.s.p[1], 0xd2);
        assert_int_equal(v[3].u.i, 1700000000123456LL);
        assert_int_equal(v[4].u.list.n, 2);
        assert_true(v[4].u.list.v[1].null);
        assert_true(v[5].u.f != v[5].u.f);  /* NaN */
        assert_true(v[6].u.b);
        assert_string_equal(ev.source.name, "srv");
        assert_string_equal(ev.source.table, "t");
        assert_int_equal(ev.source.lsn, 24023128);
        assert_int_equal(ev.source.txid, 745);
        assert_int_equal(ev.source.ts_us, 1700000000000000LL);
        assert_false(ev.key_schemaless || ev.row_schemaless);   /* the types are known */
        arena_reset(a);
    }
    /* the key schema and the value schema, each parsed once */
    assert_int_equal(env_schema_parses(d), 2);
    arena_free(a);
    env_decoder_free(d);
}

static int decode(env_decoder_t *d, arena_t *a, const char *k, const char *v, env_event_t *ev, char *err)
{
    return env_decode_json(d, a, k, k ? strlen(k) : 0, v, v ? strlen(v) : 0, ev, err, 256);
}

static void test_schemaless_ops(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256];
    assert_int_equal(decode(d, a, "{\"id\":1}", "{\"before\":{\"id\":1,\"v\":\"x\"},\"after\":{\"id\":1,\"v\":\"y\",\"j\":{\"a\":[1]}},"
                     "\"source\":{\"lsn\":\"5\",\"ts_us\":9},\"op\":\"u\"}", &ev, err), 0);
    assert_int_equal(ev.op, ENV_UPDATE);
    assert_true(ev.has_before && ev.has_after);
    /* the types were read off the JSON values: the JDBC sinks refuse this record (issue 17 item 3) */
    assert_true(ev.key_schemaless && ev.row_schemaless);
    assert_int_equal(ev.row_schema->nfields, 3);
    assert_string_equal(ev.row_schema->fields[2].schema->name, "io.debezium.data.Json");
    assert_memory_equal(ev.after.u.list.v[2].u.s.p, "{\"a\":[1]}", 9);
    assert_int_equal(ev.source.lsn, 5);
    assert_int_equal(ev.source.ts_us, 9);
    assert_int_equal(decode(d, a, "{\"id\":1}", "{\"before\":{\"id\":1},\"after\":null,\"op\":\"d\"}", &ev, err), 0);
    assert_int_equal(ev.op, ENV_DELETE);
    assert_true(ev.has_before);
    assert_false(ev.has_after);
    /* tombstone: a key and a null value */
    assert_int_equal(decode(d, a, "{\"id\":1}", NULL, &ev, err), 0);
    assert_int_equal(ev.op, ENV_TOMBSTONE);
    assert_int_equal(decode(d, a, "{\"id\":1}", "null", &ev, err), 0);
    assert_int_equal(ev.op, ENV_TOMBSTONE);
    assert_int_equal(decode(d, a, NULL, "{\"op\":\"t\",\"source\":{\"table\":\"x\"}}", &ev, err), 0);
    assert_int_equal(ev.op, ENV_TRUNCATE);
    assert_string_equal(ev.source.table, "x");
    assert_int_equal(decode(d, a, NULL, "{\"op\":\"r\",\"after\":{\"id\":2}}", &ev, err), 0);
    assert_int_equal(ev.op, ENV_READ);
    /* a delete known only by its key */
    assert_int_equal(decode(d, a, "{\"id\":3}", "{\"op\":\"d\",\"before\":null}", &ev, err), 0);
    assert_null(ev.row_schema);
    assert_non_null(ev.key_schema);
    assert_true(ev.key_schemaless);
    assert_false(ev.row_schemaless);
    /* a schemaless key beside a value with its schema */
    assert_int_equal(decode(d, a, "{\"id\":4}", VAL_S, &ev, err), 0);
    assert_true(ev.key_schemaless);
    assert_false(ev.row_schemaless);
    arena_free(a);
    env_decoder_free(d);
}

/* Without schemas, an update that sets a column to null: the after's null gives the column no type, so the
 * before's value gives it (the record failed: "q: JSON value does not match schema type string"). */
static void test_schemaless_update_to_null(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256];
    assert_int_equal(decode(d, a, "{\"id\":1}", "{\"before\":{\"id\":1,\"q\":5,\"j\":[1]},\"after\":{\"id\":1,\"q\":null,"
                     "\"j\":null},\"op\":\"u\"}", &ev, err), 0);
    assert_true(ev.has_before && ev.has_after);
    assert_int_equal(ev.row_schema->nfields, 3);
    assert_int_equal(ev.row_schema->fields[1].schema->type, CT_INT64);
    assert_string_equal(ev.row_schema->fields[2].schema->name, "io.debezium.data.Json");
    assert_int_equal(ev.before.u.list.v[1].u.i, 5);
    assert_memory_equal(ev.before.u.list.v[2].u.s.p, "[1]", 3);
    assert_true(ev.after.u.list.v[1].null && ev.after.u.list.v[2].null);
    /* a column whose types differ (not null on either side) still fails the record */
    assert_int_equal(decode(d, a, "{\"id\":1}", "{\"before\":{\"id\":1,\"q\":\"x\"},\"after\":{\"id\":1,\"q\":2},"
                     "\"op\":\"u\"}", &ev, err), -1);
    assert_non_null(strstr(err, "q"));
    arena_free(a);
    env_decoder_free(d);
}

static void test_bad_input(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256];
    const char *bad[] = {
        "{", "[1,2]", "{\"op\":\"x\",\"after\":{}}", "{\"after\":{\"id\":1}}", "{\"op\":\"c\"}",
        "{\"op\":\"c\",\"after\":5}", "{\"op\":\"u\",\"after\":{\"id\":1},\"before\":7}",
        "{\"schema\":{\"type\":\"nope\"},\"payload\":{}}",
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int8\",\"field\":\"after\"}]},\"payload\":{\"op\":\"c\",\"after\":1}}",
        "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"op\":\"c\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(decode(d, a, NULL, bad[i], &ev, err), -1);
        assert_true(err[0] != '\0');
    }
    /* a value that does not fit its schema names the column */
    char *v = strdup(VAL_S);
    char *p = strstr(v, "\"id\":7,\"name\"");
    memcpy(p, "\"id\":\"7\"", 8);
    assert_int_equal(decode(d, a, KEY_S, v, &ev, err), -1);
    assert_non_null(strstr(err, "id"));
    free(v);
    /* every truncation of a good record fails cleanly, or decodes (never crashes) */
    size_t n = strlen(VAL_S);
    for (size_t i = 0; i < n; i++) {
        arena_reset(a);
        int rc = env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, i, &ev, err, sizeof err);
        assert_true(rc == -1 || i == 0);
    }
    /* an int32 out of range */
    assert_int_equal(decode(d, a, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int8\",\"field\":\"x\"}]},\"payload\":{\"x\":300}}",
                            "{\"op\":\"d\",\"before\":null}", &ev, err), -1);
    /* the base64 decoder's own cases are in test_json_dec.c (schemas/json_dec.c) */
    arena_free(a);
    env_decoder_free(d);
}


/* The typed reader (records with a schema): escapes, surrogate pairs, maps both ways, nested arrays,
 * unknown fields skipped, and what it must refuse. */
static void test_typed_reader(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256];
    const char *sch =
        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"optional\":true,\"field\":\"after\",\"fields\":["
        "{\"type\":\"string\",\"optional\":true,\"field\":\"s\"},"
        "{\"type\":\"map\",\"keys\":{\"type\":\"string\"},\"values\":{\"type\":\"int32\"},\"optional\":true,\"field\":\"m\"},"
        "{\"type\":\"map\",\"keys\":{\"type\":\"int32\"},\"values\":{\"type\":\"string\"},\"optional\":true,\"field\":\"p\"},"
        "{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"int64\"}},\"optional\":true,\"field\":\"aa\"},"
        "{\"type\":\"float\",\"optional\":true,\"field\":\"f\"},{\"type\":\"int16\",\"optional\":true,\"field\":\"i\"}]},"
        "{\"type\":\"string\",\"field\":\"op\"}]},\"payload\":";
    char rec[2048];
    snprintf(rec, sizeof rec, "%s%s}", sch,
             "{\"op\":\"c\",\"extra\":{\"x\":[1,{\"y\":null}],\"z\":\"q\\\"\"},\"after\":{\"s\":\"a\\\"b\\\\c\\n\\u00fc\\ud83d\\ude00/\\/\","
             "\"m\":{\"k1\":1,\"k\\u0032\":-2},\"p\":[[3,\"three\"]],\"aa\":[[1,2],[],[-9223372036854775808]],"
             "\"f\":-1.5e-3,\"i\":-32768,\"unknown\":[true,false,null]}}");
    assert_int_equal(decode(d, a, NULL, rec, &ev, err), 0);
    const cv_value_t *v = ev.after.u.list.v;
    assert_string_equal(v[0].u.s.p, "a\"b\\c\n\xc3\xbc\xf0\x9f\x98\x80//");
    assert_int_equal(v[1].u.list.n, 4);
    assert_string_equal(v[1].u.list.v[2].u.s.p, "k2");
    assert_int_equal(v[1].u.list.v[3].u.i, -2);
    assert_int_equal(v[2].u.list.n, 2);
    assert_int_equal(v[2].u.list.v[0].u.i, 3);
    assert_int_equal(v[3].u.list.n, 3);
    assert_int_equal(v[3].u.list.v[0].u.list.n, 2);
    assert_int_equal(v[3].u.list.v[1].u.list.n, 0);
    assert_true(v[3].u.list.v[2].u.list.v[0].u.i == INT64_MIN);
    assert_true(v[4].u.f == -1.5e-3);
    assert_int_equal(v[5].u.i, -32768);
    /* int64 at both ends */
    snprintf(rec, sizeof rec, "%s%s}", sch, "{\"op\":\"c\",\"after\":{\"aa\":[[9223372036854775807,-0,-9223372036854775808]]}}");
    assert_int_equal(decode(d, a, NULL, rec, &ev, err), 0);
    v = ev.after.u.list.v;
    assert_true(v[3].u.list.v[0].u.list.v[0].u.i == INT64_MAX);
    assert_true(v[3].u.list.v[0].u.list.v[1].u.i == 0);
    assert_true(v[3].u.list.v[0].u.list.v[2].u.i == INT64_MIN);
    /* refused: overflow, a fraction for an int, a lone surrogate, a bad escape, trailing bytes, a raw control
     * character, a number where a string belongs */
    const char *bad[] = {
        "{\"op\":\"c\",\"after\":{\"i\":32768}}", "{\"op\":\"c\",\"after\":{\"i\":1.5}}",
        "{\"op\":\"c\",\"after\":{\"s\":\"\\ud83d\"}}", "{\"op\":\"c\",\"after\":{\"s\":\"\\x\"}}",
        "{\"op\":\"c\",\"after\":{}} x", "{\"op\":\"c\",\"after\":{\"s\":\"a\x01\"}}", "{\"op\":\"c\",\"after\":{\"s\":5}}",
        "{\"op\":\"c\",\"after\":{\"aa\":[[1,]]}}", "{\"op\":\"c\",\"after\":{\"m\":{\"a\" 1}}}",
        "{\"op\":\"c\",\"after\":{\"aa\":[[9223372036854775808]]}}",
        "{\"op\":\"c\",\"after\":{\"aa\":[[-9223372036854775809]]}}",
        "{\"op\":\"c\",\"after\":{\"aa\":[[99999999999999999999999]]}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(rec, sizeof rec, "%s%s}", sch, bad[i]);
        err[0] = '\0';
        assert_int_equal(decode(d, a, NULL, rec, &ev, err), -1);
        assert_true(err[0] != '\0');
    }
    arena_free(a);
    env_decoder_free(d);
}

/* Avro: records encoded by walcast's own AvroConverter encoder (checked against avro-c in test_avro) decode
 * to the same values, through a schema fetched once per id. */
static const char *avro_schema_text;
static int avro_fetches;

static int fetch_schema(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    (void)ctx;
    if (id != 77) {
        snprintf(err, errlen, "no schema %d", id);
        return -1;
    }
    avro_fetches++;
    buf_puts(out, avro_schema_text);
    return 0;
}

static void test_avro(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    char err[512] = "";
    /* the envelope: before/after the same Value record, source, op, ts_ms */
    cs_schema_t *row = cs_new(a, CT_STRUCT, true);
    row->name = "srv.public.t.Value";
    cs_field_add(a, row, "id", cs_new(a, CT_INT32, false));
    cs_field_add(a, row, "name", cs_new(a, CT_STRING, true));
    cs_schema_t *dec = cs_new(a, CT_BYTES, true);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    dec->version = 1;
    cs_param_add(dec, "scale", "2");
    cs_field_add(a, row, "price", dec);
    cs_schema_t *ts = cs_new(a, CT_INT64, true);
    ts->name = "io.debezium.time.MicroTimestamp";
    ts->version = 1;
    cs_field_add(a, row, "ts", ts);
    cs_field_add(a, row, "small", cs_new(a, CT_INT16, true));
    cs_schema_t *arr = cs_new(a, CT_ARRAY, true);
    arr->items = cs_new(a, CT_STRING, true);
    cs_field_add(a, row, "tags", arr);
    cs_field_add(a, row, "f", cs_new(a, CT_FLOAT64, true));
    cs_field_add(a, row, "ok", cs_new(a, CT_BOOLEAN, true));
    cs_schema_t *src = cs_new(a, CT_STRUCT, false);
    src->name = "io.debezium.connector.postgresql.Source";
    cs_field_add(a, src, "name", cs_new(a, CT_STRING, false));
    cs_field_add(a, src, "ts_ms", cs_new(a, CT_INT64, false));
    cs_field_add(a, src, "table", cs_new(a, CT_STRING, false));
    cs_field_add(a, src, "lsn", cs_new(a, CT_INT64, true));
    cs_schema_t *env = cs_new(a, CT_STRUCT, false);
    env->name = "srv.public.t.Envelope";
    cs_field_add(a, env, "before", row);
    cs_field_add(a, env, "after", row);
    cs_field_add(a, env, "source", src);
    cs_field_add(a, env, "op", cs_new(a, CT_STRING, false));
    cs_field_add(a, env, "ts_ms", cs_new(a, CT_INT64, true));
    buf_t sb, vb;
    buf_init(&sb);
    buf_init(&vb);
    assert_int_equal(avro_enc_schema(&sb, env, true, err, sizeof err), 0);
    avro_schema_text = buf_cstr(&sb);
    cv_value_t after = cv_list(a, row->nfields);
    after.u.list.v[0] = cv_int(7);
    after.u.list.v[1] = cv_str("it's \xc3\xbc", 7);
    after.u.list.v[2] = cv_str("\x04\xd2", 2);
    after.u.list.v[3] = cv_int(1700000000123456LL);
    after.u.list.v[4] = cv_int(-32768);
    after.u.list.v[5] = cv_list(a, 2);
    after.u.list.v[5].u.list.v[0] = cv_str("x", 1);
    after.u.list.v[6] = cv_float(-2.5);
    after.u.list.v[7] = cv_bool(true);
    cv_value_t sv = cv_list(a, src->nfields);
    sv.u.list.v[0] = cv_str("srv", 3);
    sv.u.list.v[1] = cv_int(1700000000000LL);
    sv.u.list.v[2] = cv_str("t", 1);
    sv.u.list.v[3] = cv_int(24023128);
    cv_value_t ev_v = cv_list(a, env->nfields);
    ev_v.u.list.v[1] = after;
    ev_v.u.list.v[2] = sv;
    ev_v.u.list.v[3] = cv_str("c", 1);
    ev_v.u.list.v[4] = cv_int(1700000000456LL);
    avro_enc_header(&vb, 77);
    assert_int_equal(avro_enc_value(&vb, env, &ev_v, err, sizeof err), 0);
    env_decoder_t *d = env_decoder_new();
    env_event_t ev;
    for (int round = 0; round < 2; round++) {
        assert_int_equal(env_decode_avro(d, a, NULL, 0, vb.data, vb.len, fetch_schema, NULL, &ev, err, sizeof err), 0);
        assert_int_equal(ev.op, ENV_CREATE);
        const cs_schema_t *rs = ev.row_schema;
        assert_int_equal(rs->nfields, 8);
        assert_string_equal(rs->fields[2].schema->name, "org.apache.kafka.connect.data.Decimal");
        assert_string_equal(cs_param_get(rs->fields[2].schema, "scale"), "2");
        assert_string_equal(rs->fields[3].schema->name, "io.debezium.time.MicroTimestamp");
        assert_int_equal(rs->fields[4].schema->type, CT_INT16);
        const cv_value_t *v = ev.after.u.list.v;
        assert_int_equal(v[0].u.i, 7);
        assert_string_equal(v[1].u.s.p, "it's \xc3\xbc");
        assert_memory_equal(v[2].u.s.p, "\x04\xd2", 2);
        assert_int_equal(v[3].u.i, 1700000000123456LL);
        assert_int_equal(v[4].u.i, -32768);
        assert_int_equal(v[5].u.list.n, 2);
        assert_true(v[5].u.list.v[1].null);
        assert_true(v[6].u.f == -2.5);
        assert_true(v[7].u.b);
        assert_false(ev.has_before);
        assert_string_equal(ev.source.name, "srv");
        assert_int_equal(ev.source.lsn, 24023128);
    }
    assert_int_equal(avro_fetches, 1);
    /* every truncation fails cleanly; an unknown id and a missing registry are errors */
    for (size_t i = 0; i < vb.len; i++)
        assert_int_equal(env_decode_avro(d, a, NULL, 0, vb.data, i, fetch_schema, NULL, &ev, err, sizeof err),
                         i == 0 ? 0 : -1);
    vb.data[4] = 78;
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb.data, vb.len, fetch_schema, NULL, &ev, err, sizeof err), -1);
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb.data, vb.len, NULL, NULL, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema.registry.url"));
    env_decoder_free(d);
    buf_free(&sb);
    buf_free(&vb);
    arena_free(a);
}

/* An envelope schema with its fields in the given order (same bytes in another order: same length). */
#define ENV_FIELD_BEFORE ROW_SCHEMA("srv.public.t.Value", "before")
#define ENV_FIELD_AFTER ROW_SCHEMA("srv.public.t.Value", "after")
#define ENV_FIELD_SOURCE                                                                                            \
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"name\"}],"              \
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"}"
#define ENV_FIELD_OP "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}"
#define ENV_TAIL "],\"optional\":false,\"name\":\"srv.public.t.Envelope\"},"                                     \
    "\"payload\":{\"op\":\"u\",\"source\":{\"name\":\"srv\"},\"after\":{\"id\":8},\"before\":{\"id\":7}}}"
static const char *ENV_A = "{\"schema\":{\"type\":\"struct\",\"fields\":[" ENV_FIELD_BEFORE "," ENV_FIELD_AFTER ","
                           ENV_FIELD_SOURCE "," ENV_FIELD_OP ENV_TAIL;
static const char *ENV_B = "{\"schema\":{\"type\":\"struct\",\"fields\":[" ENV_FIELD_OP "," ENV_FIELD_SOURCE ","
                           ENV_FIELD_AFTER "," ENV_FIELD_BEFORE ENV_TAIL;

/* n records of n distinct schemas (flattened rows): they fill the decoder's schema cache */
static void fill_cache(env_decoder_t *d, arena_t *a, int from, int n)
{
    char rec[256], err[256] = "";
    env_event_t ev;
    for (int i = from; i < from + n; i++) {
        snprintf(rec, sizeof rec, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":true,"
                 "\"field\":\"x\"}],\"optional\":false,\"name\":\"r%d\"},\"payload\":{\"x\":%d}}", i, i);
        assert_int_equal(env_decode_json(d, a, NULL, 0, rec, strlen(rec), &ev, err, sizeof err), 0);
    }
}

/* The schema cache is bounded: past 4096 schemas it starts over and a schema's address can come back as another
 * schema's. The envelope's field positions were cached by the schema's address alone: the envelope of another
 * field order that came back at it was read with the old positions ('op' read from 'after': "no Debezium op").
 * And a sink's batch holds events whose schemas must stay valid until the batch is dropped (env_decoder_keep). */
static void test_schema_cache_starts_over(void **st)
{
    (void)st;
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    env_event_t ev;
    char err[256] = "";
    assert_int_equal(env_decode_json(d, a, NULL, 0, ENV_A, strlen(ENV_A), &ev, err, sizeof err), 0);
    assert_int_equal(ev.op, ENV_UPDATE);
    assert_int_equal(ev.after.u.list.v[0].u.i, 8);
    const cs_schema_t *first = ev.row_schema;
    fill_cache(d, a, 0, 4095);   /* 4096 cached: the next new schema starts the cache over */
    arena_reset(a);
    err[0] = '\0';
    int rc = env_decode_json(d, a, NULL, 0, ENV_B, strlen(ENV_B), &ev, err, sizeof err);
    assert_string_equal(err, "");
    assert_int_equal(rc, 0);
    assert_int_equal(ev.op, ENV_UPDATE);
    assert_int_equal(ev.after.u.list.v[0].u.i, 8);
    assert_int_equal(ev.before.u.list.v[0].u.i, 7);
    (void)first;
    env_decoder_free(d);

    /* kept: the first event's schemas stay as they were through 5000 new ones, until trimmed */
    d = env_decoder_new();
    env_decoder_keep(d);
    arena_reset(a);
    assert_int_equal(env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, strlen(VAL_S), &ev, err, sizeof err), 0);
    const cs_schema_t *rs = ev.row_schema, *ks = ev.key_schema;
    fill_cache(d, a, 0, 5000);
    assert_int_equal(env_schema_parses(d), 5002);   /* nothing dropped: each parsed once */
    assert_int_equal(rs->nfields, 7);
    assert_string_equal(rs->fields[1].name, "name");
    assert_string_equal(rs->fields[2].schema->name, "org.apache.kafka.connect.data.Decimal");
    assert_int_equal(ks->nfields, 1);
    assert_string_equal(ks->fields[0].name, "id");
    env_decoder_trim(d);   /* between batches: over the bound, dropped */
    assert_int_equal(env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, strlen(VAL_S), &ev, err, sizeof err), 0);
    assert_int_equal(env_schema_parses(d), 5004);   /* parsed again */
    assert_int_equal(ev.op, ENV_CREATE);
    env_decoder_trim(d);   /* under the bound: kept */
    assert_int_equal(env_decode_json(d, a, KEY_S, strlen(KEY_S), VAL_S, strlen(VAL_S), &ev, err, sizeof err), 0);
    assert_int_equal(env_schema_parses(d), 5004);
    arena_free(a);
    env_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_schema),
        cmocka_unit_test(test_schema_cache_starts_over),
        cmocka_unit_test(test_watermark_position),
        cmocka_unit_test(test_schemaless_ops),
        cmocka_unit_test(test_schemaless_update_to_null),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_typed_reader),
        cmocka_unit_test(test_avro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
