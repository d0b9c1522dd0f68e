/* test_sink.c: the sinks' pure parts: identifiers and type mapping per dialect, value text (dates, times,
 * decimals, bits, arrays), table names from collection.name.format, version text order, and the sink
 * configuration (connection.url forms, Debezium keys, errors that never show the password). */
#include "testutil.h"

#include "agent/config.h"
#include "agent/log.h"
#include "sinks/conflict.h"
#include "sinks/dialect.h"

static const char *ident(sk_dialect_t d, const char *n, bool q)
{
    static buf_t b;
    buf_reset(&b);
    dl_ident(&b, d, n, q);
    return buf_cstr(&b);
}

static void test_identifiers(void **st)
{
    (void)st;
    assert_string_equal(ident(SK_DIALECT_POSTGRES, "items", false), "items");
    assert_string_equal(ident(SK_DIALECT_POSTGRES, "items", true), "\"items\"");
    assert_string_equal(ident(SK_DIALECT_POSTGRES, "Mixed", false), "\"Mixed\"");
    assert_string_equal(ident(SK_DIALECT_POSTGRES, "select", false), "\"select\"");
    assert_string_equal(ident(SK_DIALECT_POSTGRES, "a\"b; drop", false), "\"a\"\"b; drop\"");
    assert_string_equal(ident(SK_DIALECT_MYSQL, "a`b", false), "`a``b`");
    assert_string_equal(ident(SK_DIALECT_MYSQL, "x\"y", true), "`x\"y`");
}

static const char *type(sk_dialect_t d, const cs_schema_t *s, bool key)
{
    static buf_t b;
    buf_reset(&b);
    dl_type(&b, d, s, key);
    return buf_cstr(&b);
}

static void test_types(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    cs_schema_t *dec = cs_new(a, CT_BYTES, true);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    cs_param_add(dec, "scale", "2");
    cs_param_add(dec, "connect.decimal.precision", "10");
    assert_string_equal(type(SK_DIALECT_POSTGRES, dec, false), "numeric(10,2)");
    assert_string_equal(type(SK_DIALECT_MYSQL, dec, false), "decimal(10,2)");
    cs_schema_t *ts = cs_new(a, CT_INT64, true);
    ts->name = "io.debezium.time.MicroTimestamp";
    assert_string_equal(type(SK_DIALECT_POSTGRES, ts, false), "timestamp(6)");
    assert_string_equal(type(SK_DIALECT_MYSQL, ts, false), "datetime(6)");
    /* millisecond types: Debezium's sink creates the default precision 6 (tests/reference/sink_diff.sh) */
    cs_schema_t *msts = cs_new(a, CT_INT64, true);
    msts->name = "io.debezium.time.Timestamp";
    assert_string_equal(type(SK_DIALECT_POSTGRES, msts, false), "timestamp(6)");
    assert_string_equal(type(SK_DIALECT_MYSQL, msts, false), "datetime(6)");
    cs_schema_t *mstm = cs_new(a, CT_INT32, true);
    mstm->name = "io.debezium.time.Time";
    assert_string_equal(type(SK_DIALECT_POSTGRES, mstm, false), "time(6)");
    assert_string_equal(type(SK_DIALECT_MYSQL, mstm, false), "time(6)");
    cs_schema_t *z = cs_new(a, CT_STRING, true);
    z->name = "io.debezium.time.ZonedTimestamp";
    assert_string_equal(type(SK_DIALECT_POSTGRES, z, false), "timestamp(6) with time zone");
    cs_schema_t *str = cs_new(a, CT_STRING, true);
    assert_string_equal(type(SK_DIALECT_POSTGRES, str, true), "text");
    assert_string_equal(type(SK_DIALECT_MYSQL, str, true), "varchar(255)");
    assert_string_equal(type(SK_DIALECT_MYSQL, str, false), "longtext");
    cs_schema_t *arr = cs_new(a, CT_ARRAY, true);
    arr->items = cs_new(a, CT_INT32, true);
    assert_string_equal(type(SK_DIALECT_POSTGRES, arr, false), "integer[]");
    cs_schema_t *u = cs_new(a, CT_STRING, true);
    u->name = "io.debezium.data.Uuid";
    assert_string_equal(type(SK_DIALECT_POSTGRES, u, false), "uuid");
    cs_schema_t *j = cs_new(a, CT_STRING, true);
    j->name = "io.debezium.data.Json";
    assert_string_equal(type(SK_DIALECT_POSTGRES, j, false), "json");
    assert_string_equal(type(SK_DIALECT_POSTGRES, cs_new(a, CT_INT8, true), false), "smallint");
    assert_string_equal(type(SK_DIALECT_MYSQL, cs_new(a, CT_INT8, true), false), "tinyint");
    arena_free(a);
}

static const char *val(sk_dialect_t d, const cs_schema_t *s, cv_value_t v, int *rc)
{
    static buf_t b;
    char err[128];
    dl_kind_t k;
    buf_reset(&b);
    *rc = dl_value(&b, d, s, &v, &k, err, sizeof err);
    return k == DL_NULL ? "(null)" : buf_cstr(&b);
}

static void test_values(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    int rc;
    cs_schema_t *date = cs_new(a, CT_INT32, true);
    date->name = "io.debezium.time.Date";
    assert_string_equal(val(SK_DIALECT_POSTGRES, date, cv_int(19782), &rc), "2024-02-29");
    assert_string_equal(val(SK_DIALECT_POSTGRES, date, cv_int(-719162), &rc), "0001-01-01");
    assert_string_equal(val(SK_DIALECT_POSTGRES, date, cv_int(-719163), &rc), "0001-12-31 BC");
    assert_string_equal(val(SK_DIALECT_POSTGRES, date, cv_null(), &rc), "(null)");
    cs_schema_t *ts = cs_new(a, CT_INT64, true);
    ts->name = "io.debezium.time.MicroTimestamp";
    assert_string_equal(val(SK_DIALECT_POSTGRES, ts, cv_int(1709251199123456LL), &rc), "2024-02-29 23:59:59.123456");
    assert_string_equal(val(SK_DIALECT_POSTGRES, ts, cv_int(-1), &rc), "1969-12-31 23:59:59.999999");
    cs_schema_t *tm = cs_new(a, CT_INT64, true);
    tm->name = "io.debezium.time.MicroTime";
    assert_string_equal(val(SK_DIALECT_MYSQL, tm, cv_int(47655000001LL), &rc), "13:14:15.000001");
    cs_schema_t *z = cs_new(a, CT_STRING, true);
    z->name = "io.debezium.time.ZonedTimestamp";
    assert_string_equal(val(SK_DIALECT_MYSQL, z, cv_str("2024-01-01T08:00:00.5Z", 22), &rc), "2024-01-01 08:00:00.5");
    assert_string_equal(val(SK_DIALECT_POSTGRES, z, cv_str("2024-01-01T08:00:00.5Z", 22), &rc), "2024-01-01T08:00:00.5Z");
    cs_schema_t *dec = cs_new(a, CT_BYTES, true);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    cs_param_add(dec, "scale", "2");
    assert_string_equal(val(SK_DIALECT_POSTGRES, dec, cv_str("\x04\xd2", 2), &rc), "12.34");
    assert_string_equal(val(SK_DIALECT_POSTGRES, dec, cv_str("\xff", 1), &rc), "-0.01");
    cs_schema_t *bits = cs_new(a, CT_BYTES, true);
    bits->name = "io.debezium.data.Bits";
    cs_param_add(bits, "length", "10");
    assert_string_equal(val(SK_DIALECT_POSTGRES, bits, cv_str("\x05\x02", 2), &rc), "1000000101");
    assert_string_equal(val(SK_DIALECT_MYSQL, bits, cv_str("\x05\x02", 2), &rc), "517");
    cs_schema_t *by = cs_new(a, CT_BYTES, true);
    assert_string_equal(val(SK_DIALECT_POSTGRES, by, cv_str("\x00\xff", 2), &rc), "\\x00ff");
    cs_schema_t *b = cs_new(a, CT_BOOLEAN, true);
    assert_string_equal(val(SK_DIALECT_POSTGRES, b, cv_bool(true), &rc), "t");
    assert_string_equal(val(SK_DIALECT_MYSQL, b, cv_bool(false), &rc), "0");
    cs_schema_t *f = cs_new(a, CT_FLOAT64, true);
    assert_string_equal(val(SK_DIALECT_POSTGRES, f, cv_float(0.1), &rc), "0.10000000000000001");
    val(SK_DIALECT_MYSQL, f, cv_float(0.0 / 0.0), &rc);
    assert_int_equal(rc, -1);
    cs_schema_t *s = cs_new(a, CT_STRING, true);
    val(SK_DIALECT_POSTGRES, s, cv_str("a\0b", 3), &rc);
    assert_int_equal(rc, -1);
    cs_schema_t *arr = cs_new(a, CT_ARRAY, true);
    arr->items = s;
    cv_value_t av = cv_list(a, 3);
    av.u.list.v[0] = cv_str("x y", 3);
    av.u.list.v[1] = cv_str("q\"\\", 3);
    assert_string_equal(val(SK_DIALECT_POSTGRES, arr, av, &rc), "{\"x y\",\"q\\\"\\\\\",NULL}");
    assert_string_equal(val(SK_DIALECT_MYSQL, arr, av, &rc), "[\"x y\",\"q\\\"\\\\\",null]");
    arena_free(a);
}

static void test_table_names_and_versions(void **st)
{
    (void)st;
    buf_t b;
    buf_init(&b);
    dl_table_name(&b, "${topic}", "srv.public.items", "db", "public", "items");
    assert_string_equal(buf_cstr(&b), "srv_public_items");
    buf_reset(&b);
    dl_table_name(&b, "t_${source.schema}.${source.table}", "x", "db", "public", "it.ems");
    assert_string_equal(buf_cstr(&b), "t_public_it_ems");
    buf_free(&b);
    char v1[128], v2[128], v3[128];
    sk_version_t a = { .ts_us = -5, .lsn = 10, .source = "b" }, c = { .ts_us = 3, .lsn = 1, .source = "a" },
                 d = { .ts_us = 3, .lsn = 2, .source = "" };
    sk_version_text(&a, v1, sizeof v1);
    sk_version_text(&c, v2, sizeof v2);
    sk_version_text(&d, v3, sizeof v3);
    /* three sources: by time (before 1970 first), then LSN */
    assert_true(cf_version_newer(v2, v1) && !cf_version_newer(v1, v2));
    assert_true(cf_version_newer(v3, v2) && !cf_version_newer(v2, v3));
    assert_string_equal(v2, "v0001:a:s:0000000000000001:8000000000000003");
    assert_string_equal(cf_type_name(SK_CONFLICT_DELETE_MISSING), "delete_missing");
}

static int parse(const char *props, sk_config_t *c, char *err)
{
    cfg_map_t m = { 0 };
    assert_int_equal(cfg_parse_properties(props, &m, err, 512), 0);
    int rc = cfg_sink_parse(&m, c, err, 512);
    cfg_map_free(&m);
    return rc;
}

static void test_config(void **st)
{
    (void)st;
    log_set_level(LOG_FATAL);
    char err[512];
    sk_config_t c;
    const char *base = "name=s\nconnector.class=io.debezium.connector.jdbc.JdbcSinkConnector\ntopics=a, b\n";
    char props[1024];
    snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://db.example:6543/app?sslmode=require\n"
             "connection.username=u\nconnection.password=s3cret\ninsert.mode=upsert\nprimary.key.mode=record_key\n"
             "delete.enabled=true\nconflict.policy.orders=newer_wins\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_int_equal(c.conn.dialect, SK_DIALECT_POSTGRES);
    assert_string_equal(c.conn.host, "db.example");
    assert_int_equal(c.conn.port, 6543);
    assert_string_equal(c.conn.database, "app");
    assert_string_equal(c.conn.user, "u");
    assert_string_equal(c.conn.password, "s3cret");
    assert_int_equal(c.insert_mode, SK_INSERT_UPSERT);
    assert_int_equal(c.batch_size, 500);
    assert_string_equal(c.table_format, "${topic}");
    assert_int_equal(cf_policy_for(&c, "orders"), SK_POLICY_NEWER_WINS);
    assert_int_equal(cf_policy_for(&c, "other"), SK_POLICY_SOURCE_WINS);
    assert_false(c.header_strings);   /* SimpleHeaderConverter's reading of the headers */
    assert_int_equal(c.tasks_max, 1);
    assert_int_equal(c.task, 0);
    cfg_sink_free(&c);
    /* tasks.max: that many tasks; 0, text or more than SK_TASKS_MAX refused with the key named */
    snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://h/d\ntasks.max=3\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_int_equal(c.tasks_max, 3);
    cfg_sink_free(&c);
    const char *bad_tasks[] = { "0", "two", "65" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://h/d\ntasks.max=%s\n", base, bad_tasks[i]);
        assert_int_equal(parse(props, &c, err), -1);
        assert_non_null(strstr(err, "tasks.max"));
    }
    /* header.converter=StringConverter: HeaderToValue gets each header as an optional string */
    snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://h/d\n"
             "header.converter=org.apache.kafka.connect.storage.StringConverter\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_true(c.header_strings);
    cfg_sink_free(&c);
    snprintf(props, sizeof props, "%sconnection.url=mysql://root:p%%40ss@[::1]:3307/t\ntable.name.format=x_${topic}\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_int_equal(c.conn.dialect, SK_DIALECT_MYSQL);
    assert_string_equal(c.conn.host, "::1");
    assert_int_equal(c.conn.port, 3307);
    assert_string_equal(c.conn.password, "p@ss");
    assert_string_equal(c.table_format, "x_${topic}");
    cfg_sink_free(&c);
    snprintf(props, sizeof props, "%sconnection.url=jdbc:mariadb://h/d?user=a&password=b\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_string_equal(c.conn.user, "a");
    assert_string_equal(c.conn.password, "b");
    cfg_sink_free(&c);
    /* transforms on a sink: parsed as a source's; a bad option names the sink, the transform and the key */
    snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://h/d\ntransforms=unwrap\n"
             "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_non_null(c.transforms);
    cfg_sink_free(&c);
    snprintf(props, sizeof props, "%sconnection.url=jdbc:postgresql://h/d\ntransforms=unwrap\n"
             "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"
             "transforms.unwrap.delete.tombstone.handling.mode=sometimes\n", base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_non_null(strstr(err, "sink s: transforms.unwrap.delete.tombstone.handling.mode: 'sometimes' is not one of"));
    /* errors: name the key, never the password */
    snprintf(props, sizeof props, "%sconnection.url=jdbc:oracle:thin:u/topsecret@h:1521\n", base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_null(strstr(err, "topsecret"));
    assert_non_null(strstr(err, "connection.url"));
    snprintf(props, sizeof props, "%sconnection.url=postgresql://u:topsecret@h:99999/d\n", base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_null(strstr(err, "topsecret"));
    snprintf(props, sizeof props, "%sconnection.url=postgresql://h/d\ninsert.mode=upsert\n", base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_non_null(strstr(err, "primary.key.mode"));
    assert_int_equal(parse("name=s\nconnector.class=io.debezium.connector.jdbc.JdbcSinkConnector\nconnection.url=postgresql://h/d\n",
                           &c, err), -1);
    assert_non_null(strstr(err, "topics"));
    snprintf(props, sizeof props, "%sconnection.url=postgresql://h/d\nconflict.policy=sometimes\n", base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_non_null(strstr(err, "conflict.policy"));
    /* consumer.override.*: kept (prefix cut), except what exactly-once apply needs */
    snprintf(props, sizeof props, "%sconnection.url=postgresql://h/d\nconsumer.override.fetch.min.bytes=10\n"
             "consumer.override.group.id=mine\nconsumer.override.isolation.level=read_committed\n", base);
    assert_int_equal(parse(props, &c, err), 0);
    assert_int_equal(c.nconsumer_override, 2);
    assert_string_equal(c.consumer_override[0], "fetch.min.bytes");
    assert_string_equal(c.consumer_override[1], "10");
    assert_string_equal(c.consumer_override[2], "group.id");
    cfg_sink_free(&c);
    snprintf(props, sizeof props, "%sconnection.url=postgresql://h/d\nconsumer.override.isolation.level=read_uncommitted\n",
             base);
    assert_int_equal(parse(props, &c, err), -1);
    assert_non_null(strstr(err, "consumer.override.isolation.level"));
    /* MongoDB: Debezium 3.x's class (debezium-connector-mongodb) and the older sink-package name */
    const char *mongo_classes[] = { "io.debezium.connector.mongodb.MongoDbSinkConnector",
                                    "io.debezium.connector.mongodb.sink.MongoDbSinkConnector" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(props, sizeof props, "name=m\nconnector.class=%s\ntopics=a\n"
                 "mongodb.connection.string=mongodb://h:27017\nsink.database=d\n", mongo_classes[i]);
        cfg_map_t m = { 0 };
        assert_int_equal(cfg_parse_properties(props, &m, err, 512), 0);
        assert_true(cfg_is_sink(&m));
        cfg_map_free(&m);
        assert_int_equal(parse(props, &c, err), 0);
        assert_int_equal(c.conn.dialect, SK_DIALECT_MONGODB);
        assert_string_equal(c.mongo_database, "d");
        cfg_sink_free(&c);
    }
}

/* ---- conflicts: cf_decide per type and policy, cf_apply over a fake target ---- */

static arena_t *cf_arena;
static cs_schema_t *cf_row;
static const char *const cf_pk[] = { "id" };

static sk_table_t cf_table(sk_policy_t pol)
{
    if (!cf_arena) {
        cf_arena = arena_new(4096);
        cf_row = cs_new(cf_arena, CT_STRUCT, false);
        cs_field_add(cf_arena, cf_row, "id", cs_new(cf_arena, CT_INT32, false));
        cs_field_add(cf_arena, cf_row, "v", cs_new(cf_arena, CT_STRING, true));
    }
    sk_table_t t = { .name = "t", .row = cf_row, .pk = cf_pk, .npk = 1, .policy = pol,
                     .version_column = "__walcast_version" };
    return t;
}

static sk_change_t cf_change(sk_op_t op, char src_op, int id, int64_t ts, const char *source)
{
    sk_change_t c = { .op = op, .src_op = src_op, .topic = "tp", .partition = 0, .offset = id };
    c.row = cv_list(cf_arena, 2);
    c.row.u.list.v[0] = cv_int(id);
    c.row.u.list.v[1] = cv_str("x", 1);
    c.version.ts_us = ts;
    c.version.source = source;
    return c;
}

static const char *cf_ver(int64_t ts, const char *source)
{
    static char v[4][128];
    static int k;
    sk_version_t x = { .ts_us = ts, .lsn = 0, .source = source };
    char *o = v[k++ & 3];
    sk_version_text(&x, o, 128);
    return o;
}

static void test_conflict_decide(void **st)
{
    (void)st;
    sk_table_t src = cf_table(SK_POLICY_SOURCE_WINS), nw = cf_table(SK_POLICY_NEWER_WINS),
               tw = cf_table(SK_POLICY_TARGET_WINS), er = cf_table(SK_POLICY_ERROR);
    sk_change_t ins = cf_change(SK_OP_UPSERT, 'c', 1, 100, "a"), upd = cf_change(SK_OP_UPSERT, 'u', 1, 100, "a"),
                del = cf_change(SK_OP_DELETE, 'd', 1, 100, "a"), moved = cf_change(SK_OP_UPSERT, 'u', 2, 100, "a");
    moved.key_changed = true;
    cf_decision_t d;
    /* insert_exists; nothing when the key is new */
    d = cf_decide(&src, &ins, true, cf_ver(50, "a"), false);
    assert_int_equal(d.type, SK_CONFLICT_INSERT_EXISTS);
    assert_true(d.apply);
    assert_int_equal(cf_decide(&src, &ins, false, NULL, false).type, -1);
    assert_false(cf_decide(&tw, &ins, true, NULL, false).apply);
    assert_true(cf_decide(&er, &ins, true, NULL, false).fail);
    /* update_missing, update_origin_differs; same source: no conflict */
    assert_int_equal(cf_decide(&src, &upd, false, NULL, false).type, SK_CONFLICT_UPDATE_MISSING);
    d = cf_decide(&tw, &upd, true, cf_ver(50, "b"), false);
    assert_int_equal(d.type, SK_CONFLICT_UPDATE_ORIGIN_DIFFERS);
    assert_false(d.apply);
    d = cf_decide(&tw, &upd, true, cf_ver(50, "a"), false);
    assert_int_equal(d.type, -1);
    assert_true(d.apply);
    /* one engine for every target (issue 22 item 3): a row of the change's own source that is not older is a
     * replay (skipped, no conflict) under every policy; target_wins keeps only what is not walcast's own
     * from this source (an insert meeting an older row of its own source overwrites it) */
    d = cf_decide(&src, &upd, true, cf_ver(200, "a"), false);
    assert_int_equal(d.type, -1);
    assert_false(d.apply);
    assert_false(cf_decide(&er, &ins, true, cf_ver(200, "a"), false).fail);
    d = cf_decide(&tw, &ins, true, cf_ver(50, "a"), false);
    assert_int_equal(d.type, SK_CONFLICT_INSERT_EXISTS);
    assert_true(d.apply);
    /* a snapshot row meeting walcast's own older row of its source (an incremental snapshot) is no conflict,
     * under error too; meeting another's row it is insert_exists */
    sk_change_t snap = cf_change(SK_OP_UPSERT, 'r', 1, 100, "a");
    snap.version.snapshot = true;
    snap.version.lsn = 500;
    d = cf_decide(&er, &snap, true, cf_ver(50, "a"), false);
    assert_int_equal(d.type, -1);
    assert_true(d.apply && !d.fail);
    d = cf_decide(&er, &snap, true, cf_ver(50, "b"), false);
    assert_int_equal(d.type, SK_CONFLICT_INSERT_EXISTS);
    assert_true(d.fail);
    assert_int_equal(cf_decide(&src, &snap, true, NULL, true).type, SK_CONFLICT_INSERT_EXISTS);
    /* a SQL row without a version (written before the version column was added) is not someone else's:
     * no conflict, and target_wins updates it; where every row walcast writes has a version (MongoDB) it is */
    d = cf_decide(&tw, &upd, true, NULL, false);
    assert_int_equal(d.type, -1);
    assert_true(d.apply);
    d = cf_decide(&tw, &upd, true, NULL, true);
    assert_int_equal(d.type, SK_CONFLICT_UPDATE_ORIGIN_DIFFERS);
    assert_false(d.apply);
    /* update_exists: a primary-key change onto a key another row has; onto a free key: nothing (this
     * was reported as update_missing before) */
    d = cf_decide(&src, &moved, true, cf_ver(50, "a"), false);
    assert_int_equal(d.type, SK_CONFLICT_UPDATE_EXISTS);
    assert_true(d.apply);
    assert_false(cf_decide(&tw, &moved, true, NULL, false).apply);
    assert_true(cf_decide(&er, &moved, true, NULL, false).fail);
    d = cf_decide(&src, &moved, false, NULL, false);
    assert_int_equal(d.type, -1);
    assert_true(d.apply);
    /* delete_missing (nothing to do), delete_origin_differs */
    d = cf_decide(&src, &del, false, NULL, false);
    assert_int_equal(d.type, SK_CONFLICT_DELETE_MISSING);
    assert_false(d.apply);
    d = cf_decide(&tw, &del, true, cf_ver(50, "b"), false);
    assert_int_equal(d.type, SK_CONFLICT_DELETE_ORIGIN_DIFFERS);
    assert_false(d.apply);
    assert_true(cf_decide(&src, &del, true, cf_ver(50, "b"), false).apply);
    /* newer_wins: stale changes skipped, newer applied, equal (a replay) skipped */
    assert_false(cf_decide(&nw, &upd, true, cf_ver(200, "b"), false).apply);
    assert_true(cf_decide(&nw, &upd, true, cf_ver(50, "b"), false).apply);
    assert_false(cf_decide(&nw, &upd, true, cf_ver(100, "a"), false).apply);
    assert_false(cf_decide(&nw, &del, true, cf_ver(200, "b"), false).apply);
    /* reduced in a batch: an insert then a delete expects no row (so none is no conflict), a delete then a
     * re-insert expects one */
    sk_change_t ins_del = cf_change(SK_OP_DELETE, 'c', 1, 100, "a"), del_ins = cf_change(SK_OP_UPSERT, 'd', 1, 100, "a");
    assert_int_equal(cf_decide(&src, &ins_del, false, NULL, false).type, -1);
    assert_false(cf_decide(&src, &ins_del, false, NULL, false).apply);
    assert_int_equal(cf_decide(&src, &ins_del, true, NULL, false).type, SK_CONFLICT_INSERT_EXISTS);
    assert_false(cf_decide(&tw, &ins_del, true, NULL, false).apply);
    assert_int_equal(cf_decide(&src, &del_ins, false, NULL, false).type, SK_CONFLICT_UPDATE_MISSING);
    assert_int_equal(cf_decide(&src, &del_ins, true, cf_ver(1, "a"), false).type, -1);
}

/* The order of versions (issue 17): within a source its commit order, never its clock. A snapshot row sits at
 * its snapshot's position (source.lsn = the consistent point, or a watermark chunk's high watermark) with the
 * time its table was read, which may be later than the commit time of a change streamed after it. */
static const char *vt(int64_t ts, uint64_t lsn, const char *source, bool snapshot)
{
    static char v[8][128];
    static int k;
    sk_version_t x = { .ts_us = ts, .lsn = lsn, .source = source, .snapshot = snapshot };
    char *o = v[k++ & 7];
    sk_version_text(&x, o, 128);
    return o;
}

static void test_version_order(void **st)
{
    (void)st;
    /* the snapshot row of a table read at t=900 from the consistent point 100; a change committed at t=500
     * (after the consistent point, before the table was read): newer, though earlier by the clock */
    char snap[128], chg[128];
    strcpy(snap, vt(900, 100, "a", true));
    strcpy(chg, vt(500, 150, "a", false));
    assert_true(cf_version_newer(chg, snap));
    assert_false(cf_version_newer(snap, chg));
    /* a transaction open across the snapshot point: its change has a smaller LSN and still comes after */
    assert_true(cf_version_newer(vt(500, 90, "a", false), snap));
    /* a snapshot row after a streamed change of a smaller LSN (an incremental snapshot, a re-snapshot) is newer;
     * one before a change of a larger LSN (a replayed batch) is not */
    assert_true(cf_version_newer(vt(100, 200, "a", true), chg));
    assert_false(cf_version_newer(vt(100, 120, "a", true), chg));
    assert_false(cf_version_newer(snap, snap));
    /* streamed changes of one source: LSN, then time; equal is a replay */
    assert_true(cf_version_newer(vt(100, 151, "a", false), chg));
    assert_false(cf_version_newer(vt(9000, 149, "a", false), chg));
    assert_false(cf_version_newer(chg, chg));
    assert_true(cf_version_newer(vt(600, 150, "a", false), chg));
    /* two sources: their clocks (last writer wins), then LSN, then source id */
    assert_true(cf_version_newer(vt(600, 1, "b", false), chg));
    assert_false(cf_version_newer(vt(400, 999, "b", false), chg));
    assert_true(cf_version_newer(vt(500, 151, "b", false), chg));
    assert_true(cf_version_newer(vt(500, 150, "b", false), chg));
    assert_false(cf_version_newer(chg, vt(500, 150, "b", false)));
    /* texts of the old form (time, LSN, source id), as targets hold them from before: still ordered, as
     * streamed changes */
    const char *old = "80000000000001f40000000000000096a";   /* ts 500, lsn 150, source a */
    assert_true(cf_version_same_source(old, chg));
    assert_false(cf_version_newer(chg, old));
    assert_true(cf_version_newer(vt(1, 151, "a", false), old));
    assert_true(cf_version_newer(vt(600, 1, "b", false), old));
    assert_false(cf_version_newer(vt(100, 151, "a", true), vt(1, 200, "a", false)));
    /* a local write (PostgreSQL commit timestamp, no source id) against a source */
    assert_true(cf_version_newer("80000000000002580000000000000000", chg));
    assert_false(cf_version_same_source("80000000000002580000000000000000", chg));
    /* what walcast did not write is older than anything, and of no source */
    assert_true(cf_version_newer(chg, "hand-written"));
    assert_true(cf_version_newer(chg, "v0009:a:s:zz"));
    assert_false(cf_version_same_source(chg, "hand-written"));
    /* the versions of a source share a prefix and sort bytewise in its order among themselves */
    size_t p = cf_version_prefix(chg);
    assert_int_equal(p, strlen("v0001:a:"));
    assert_int_equal(cf_version_prefix(old), 0);
    assert_int_equal(cf_version_prefix(vt(1, 1, "ab", false)), strlen("v0002:ab:"));
    assert_true(strcmp(snap, chg) < 0 && strcmp(chg, vt(1, 151, "a", false)) < 0);
    /* a long source id is cut, never overflows */
    char longsrc[300];
    memset(longsrc, 'x', sizeof longsrc - 1);
    longsrc[sizeof longsrc - 1] = 0;
    char small[40];
    sk_version_t x = { .ts_us = 1, .lsn = 1, .source = longsrc };
    assert_int_equal(sk_version_text(&x, small, sizeof small), sizeof small - 1);
}

/* A fake target: key 1 exists (other source), key 2 does not; records what it is asked to write. */
static int fk_applied[8], fk_napplied, fk_logged, fk_log_types[8];
static sk_policy_t fk_policy_seen;

static wc_status_t fk_fetch(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                            sk_existing_t *ex, char *err, size_t errlen)
{
    (void)t, (void)tab, (void)err, (void)errlen;
    for (size_t i = 0; i < n; i++)
        if (ch[i]->row.u.list.v[0].u.i == 1) {
            ex[i].found = true;
            ex[i].ver = xstrdup(cf_ver(500, "other"));
            ex[i].row = xstrdup("{\"id\":1,\"v\":\"theirs\"}");
        }
    return WC_OK;
}

static wc_status_t fk_log(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n, char *err,
                          size_t errlen)
{
    (void)t, (void)tab, (void)err, (void)errlen;
    for (size_t i = 0; i < n; i++) {
        assert_non_null(strstr(v[i].key, "\"id\":"));
        if (v[i].type == SK_CONFLICT_INSERT_EXISTS) {
            assert_string_equal(v[i].existing, "{\"id\":1,\"v\":\"theirs\"}");
            assert_non_null(v[i].incoming);
        }
        fk_log_types[fk_logged++] = (int)v[i].type;
    }
    return WC_OK;
}

static wc_status_t fk_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                            size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    (void)t, (void)mode, (void)cc, (void)err, (void)errlen;
    fk_policy_seen = tab->policy;
    for (size_t i = 0; i < n; i++)
        fk_applied[fk_napplied++] = (int)ch[i]->row.u.list.v[0].u.i;
    return WC_OK;
}

static void test_conflict_apply(void **st)
{
    (void)st;
    sk_target_ops_t ops = { .name = "fake", .fetch_existing = fk_fetch, .log_conflicts = fk_log, .apply = fk_apply };
    sk_config_t cfg = { .name = "s", .conflict_log = true };
    sk_table_t tw = cf_table(SK_POLICY_TARGET_WINS);
    sk_change_t a = cf_change(SK_OP_UPSERT, 'c', 1, 100, "a"), b = cf_change(SK_OP_UPSERT, 'c', 2, 100, "a");
    const sk_change_t *ch[] = { &a, &b };
    sk_conflict_count_t cc = { 0 };
    char err[256] = "";
    assert_int_equal(cf_apply(&ops, NULL, &cfg, &tw, SK_INSERT_INSERT, ch, 2, &cc, err, sizeof err), WC_OK);
    /* target_wins: key 1 kept as the target has it, key 2 written, under source_wins (decided) */
    assert_int_equal(fk_napplied, 1);
    assert_int_equal(fk_applied[0], 2);
    assert_int_equal(fk_policy_seen, SK_POLICY_SOURCE_WINS);
    assert_int_equal(cc.n[SK_CONFLICT_INSERT_EXISTS], 1);
    assert_int_equal(cc.skipped[SK_CONFLICT_INSERT_EXISTS], 1);   /* the outcome GET /metrics shows */
    assert_int_equal(fk_logged, 1);
    assert_int_equal(fk_log_types[0], SK_CONFLICT_INSERT_EXISTS);
    /* error: nothing written, the record named */
    sk_table_t er = cf_table(SK_POLICY_ERROR);
    fk_napplied = fk_logged = 0;
    assert_int_equal(cf_apply(&ops, NULL, &cfg, &er, SK_INSERT_INSERT, ch, 2, &cc, err, sizeof err), WC_PERMANENT);
    assert_int_equal(fk_napplied, 0);
    assert_non_null(strstr(err, "insert_exists"));
    assert_non_null(strstr(err, "tp[0]@1"));
    /* source_wins without a conflict log reads nothing: the target's own statement counts */
    cfg.conflict_log = false;
    sk_table_t src = cf_table(SK_POLICY_SOURCE_WINS);
    ops.fetch_existing = NULL;   /* would crash if called */
    assert_int_equal(cf_apply(&ops, NULL, &cfg, &src, SK_INSERT_UPSERT, ch, 2, &cc, err, sizeof err), WC_OK);
    assert_int_equal(fk_napplied, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifiers),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_table_names_and_versions),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_conflict_decide),
        cmocka_unit_test(test_version_order),
        cmocka_unit_test(test_conflict_apply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
