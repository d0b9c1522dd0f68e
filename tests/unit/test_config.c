/* test_config.c: .properties and JSON parsing, and validation errors that name key, value and the
 * allowed values. */
#include "tests/unit/testutil.h"

#include "agent/cfgprov.h"
#include "agent/config.h"
#include "agent/log.h"

#include <sys/stat.h>
#include <unistd.h>

static const char *base =
    "name=c1\n"
    "database.hostname=db\n"
    "database.user=u\n"
    "database.password=s3cret\n"
    "database.dbname=app\n"
    "topic.prefix=srv\n";

static int parse_with(const char *extra, conn_config_t *c, char *err, size_t errlen)
{
    cfg_map_t m = { 0 };
    char text[4096];
    snprintf(text, sizeof text, "%s%s", base, extra);
    assert_int_equal(cfg_parse_properties(text, &m, err, errlen), 0);
    int rc = cfg_connector_parse(&m, c, err, errlen);
    cfg_map_free(&m);
    return rc;
}

static void test_properties_syntax(void **s)
{
    (void)s;
    cfg_map_t m = { 0 };
    char err[256];
    const char *t = "# comment\n! also\n a = 1 \nb:2\nc 3\nlong=x\\\n    y\nesc=tab\\there\nempty=\n";
    assert_int_equal(cfg_parse_properties(t, &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, "a"), "1");
    assert_string_equal(cfg_get(&m, "b"), "2");
    assert_string_equal(cfg_get(&m, "c"), "3");
    assert_string_equal(cfg_get(&m, "long"), "xy");
    assert_string_equal(cfg_get(&m, "esc"), "tab\there");
    assert_string_equal(cfg_get(&m, "empty"), "");
    cfg_map_free(&m);
}

/* As java.util.Properties (Connect's and FileConfigProvider's reader): values and keys of any length
 * (they were cut at 8191 and 1023 bytes without a word), \uXXXX escapes as UTF-8. */
static void test_properties_long_and_unicode(void **s)
{
    (void)s;
    size_t n = 20000;
    char *text = malloc(2 * n + 64);
    char *long_key = malloc(2001), *long_val = malloc(n + 1);
    memset(long_key, 'k', 2000);
    long_key[2000] = 0;
    for (size_t i = 0; i < n; i++)
        long_val[i] = (char)('a' + i % 26);
    long_val[n] = 0;
    snprintf(text, 2 * n + 64, "%s=1\nq=%s\nu=\\u00e9t\\u00E9 \\ud83d\\ude00\\u12\\f.\n", long_key, long_val);
    cfg_map_t m = { 0 };
    char err[256];
    assert_int_equal(cfg_parse_properties(text, &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, long_key), "1");
    assert_string_equal(cfg_get(&m, "q"), long_val);
    assert_string_equal(cfg_get(&m, "u"), "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80u12\f.");
    cfg_map_free(&m);
    free(text);
    free(long_key);
    free(long_val);
}

static void test_json_forms(void **s)
{
    (void)s;
    cfg_map_t m = { 0 };
    char err[256];
    assert_int_equal(cfg_parse_json("{\"name\":\"inventory\",\"config\":{\"database.port\":5433,\"tombstones.on.delete\":false}}", &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, "name"), "inventory");
    assert_string_equal(cfg_get(&m, "database.port"), "5433");
    assert_string_equal(cfg_get(&m, "tombstones.on.delete"), "false");
    cfg_map_free(&m);
    assert_int_equal(cfg_parse_json("{\"name\":\"flat\",\"topic.prefix\":\"p\"}", &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, "topic.prefix"), "p");
    cfg_map_free(&m);
    assert_int_equal(cfg_parse_json("{\"name\": ", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid JSON at line 1"));
    assert_int_equal(cfg_parse_json("[1]", &m, err, sizeof err), -1);
    assert_int_equal(cfg_parse_json("{\"a\":{\"b\":1}}", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"a\""));
    cfg_map_free(&m);
}

static void test_defaults(void **s)
{
    (void)s;
    conn_config_t c;
    char err[512];
    assert_int_equal(parse_with("", &c, err, sizeof err), 0);
    assert_string_equal(c.port, "5432");
    assert_string_equal(c.slot_name, "debezium");
    assert_string_equal(c.publication_name, "dbz_publication");
    assert_int_equal(c.pub_mode, PUB_ALL_TABLES);
    assert_int_equal(c.status_interval_ms, 10000);
    /* a backlog commits every 500 ms (250,000 events) at most: each commit stalls the Produce pipeline */
    assert_int_equal(c.txn_max_ms, 500);
    assert_int_equal(c.txn_max_events, 250000);
    assert_int_equal(c.txn_min_ms, 0);
    assert_true(c.evt.tombstones);
    assert_true(c.key_conv.side.schemas && c.value_conv.side.schemas);
    assert_int_equal(c.evt.skipped_ops, EVT_OP_T);
    assert_int_equal(c.evt.types.decimal, PGT_DECIMAL_PRECISE);
    assert_string_equal(c.evt.placeholder, "__debezium_unavailable_value");
    assert_string_equal(c.evt.version, "walcast-0.1.0");
    assert_int_equal(c.evt.convert_failure, EVT_CONVERT_WARN);   /* Debezium's default */
    cfg_connector_free(&c);
    /* event.converting.failure.handling.mode (issue 18 item 1) */
    assert_int_equal(parse_with("event.converting.failure.handling.mode=fail\n", &c, err, sizeof err), 0);
    assert_int_equal(c.evt.convert_failure, EVT_CONVERT_FAIL);
    cfg_connector_free(&c);
    assert_int_equal(parse_with("event.converting.failure.handling.mode=SKIP\n", &c, err, sizeof err), 0);
    assert_int_equal(c.evt.convert_failure, EVT_CONVERT_SKIP);
    cfg_connector_free(&c);
    assert_int_equal(parse_with("event.converting.failure.handling.mode=retry\n", &c, err, sizeof err), -1);
    assert_string_equal(err, "invalid value 'retry' for event.converting.failure.handling.mode; allowed values: warn, skip, fail");
}

static void test_errors_name_key_value_allowed(void **s)
{
    (void)s;
    conn_config_t c;
    char err[512];
    cfg_map_t m = { 0 };
    assert_int_equal(cfg_parse_properties("name=x\ndatabase.hostname=h\n", &m, err, sizeof err), 0);
    assert_int_equal(cfg_connector_parse(&m, &c, err, sizeof err), -1);
    assert_string_equal(err, "missing required configuration key database.user");
    cfg_map_free(&m);
    /* Debezium keys that would change the records, not implemented yet: refused, saying so */
    assert_int_equal(parse_with("column.propagate.source.type=.*\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "column.propagate.source.type is not implemented by walcast yet"));
    /* transforms: parsed at start (schemas/transform.c); a bad one names the transform and the key */
    assert_int_equal(parse_with("transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"
                                "errors.tolerance=all\n", &c, err, sizeof err), 0);
    assert_non_null(c.transforms);
    assert_true(c.errors_tolerance_all);
    cfg_connector_free(&c);
    assert_int_equal(parse_with("transforms=unwrap\ntransforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState\n"
                                "transforms.unwrap.delete.handling.mode=rewrite\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "transforms.unwrap.delete.handling.mode: removed in Debezium 3"));
    assert_int_equal(parse_with("transforms=j\ntransforms.j.type=io.debezium.transforms.Filter\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "transforms.j.type: io.debezium.transforms.Filter runs scripts"));
    assert_int_equal(parse_with("errors.tolerance=some\n", &c, err, sizeof err), -1);
    assert_int_equal(parse_with("column.propagate.source.type=.*\n", &c, err, sizeof err), -1);
    assert_int_equal(parse_with("heartbeat.topics.prefix=hb\n", &c, err, sizeof err), -1);
    /* signals and snapshot settings are implemented: accepted, checked */
    assert_int_equal(parse_with("signal.data.collection=public.signals\nsignal.enabled.channels=source,kafka\n"
                                "snapshot.max.threads=3\nsnapshot.include.collection.list=public\\.a.*\n", &c, err, sizeof err), 0);
    assert_string_equal(c.signal_collection, "public.signals");
    assert_true(c.signal_source && c.signal_kafka);
    assert_int_equal(c.snapshot_max_threads, 3);
    assert_int_equal(c.incremental_chunk_rows, 1024);
    cfg_connector_free(&c);
    assert_int_equal(parse_with("signal.enabled.channels=pigeon\n", &c, err, sizeof err), -1);
    assert_int_equal(parse_with("snapshot.select.statement.overrides=public.t\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "snapshot.select.statement.overrides.public.t is not set"));
    assert_int_equal(parse_with("snapshot.isolation.mode=chaos\n", &c, err, sizeof err), -1);
    /* ... but not their defaults, nor keys that change nothing in the records (warned about once) */
    assert_int_equal(parse_with("transforms=\nheartbeat.topics.prefix=__debezium-heartbeat\nxmin.fetch.interval.ms=0\n"
                                "tasks.max=1\nmax.batch.size=4096\nerrors.tolerance=none\n", &c, err, sizeof err), 0);
    cfg_connector_free(&c);
    assert_int_equal(parse_with("decimal.handling.mode=exact\n", &c, err, sizeof err), -1);
    assert_string_equal(err, "invalid value 'exact' for decimal.handling.mode; allowed values: precise, double, string");
    assert_int_equal(parse_with("plugin.name=wal2json\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "only pgoutput"));
    assert_int_equal(parse_with("table.include.list=public.(broken\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "table.include.list: invalid regular expression 'public.(broken'"));
    assert_int_equal(parse_with("database.port=99999\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "database.port"));
    assert_int_equal(parse_with("status.update.interval.ms=soon\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "'soon' for status.update.interval.ms"));
    assert_int_equal(parse_with("skipped.operations=c,x\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "skipped.operations"));
    assert_int_equal(parse_with("tombstones.on.delete=yes\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "allowed values: true, false"));
    assert_int_equal(parse_with("slot.name=Bad-Slot\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "slot.name"));
    assert_int_equal(parse_with("table.include.list=a\ntable.exclude.list=b\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot both be set"));
    assert_int_equal(parse_with("column.mask.hash.SHA-256.with.salt.x=public.t.c\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "v1"));
    assert_int_equal(parse_with("message.key.columns=public.t\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema.table:col1,col2"));
    assert_int_equal(parse_with("value.converter=io.confluent.connect.avro.AvroConverter\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "value.converter.schema.registry.url"));
    assert_int_equal(parse_with("key.converter=io.apicurio.X\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "'io.apicurio.X' for key.converter"));
    /* stacked quantifiers and huge repeat counts make glibc's regcomp allocate without bound (fuzzer) */
    assert_int_equal(parse_with("table.include.list=public.a++++++++++++++++++++++++++++++++++++++++\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "table.include.list: invalid regular expression"));
    assert_non_null(strstr(err, "quantifier"));
    assert_int_equal(parse_with("column.exclude.list=(a{200}){200}\n", &c, err, sizeof err), -1);
    assert_int_equal(parse_with("column.exclude.list=x{1000}\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "255"));
    assert_int_equal(parse_with("table.include.list=public\\.a+,b*,c?,d{1,3}\n", &c, err, sizeof err), 0);
    cfg_connector_free(&c);
    /* the password never appears in an error */
    assert_null(strstr(err, "s3cret"));
}

static void test_filters_and_rules(void **s)
{
    (void)s;
    conn_config_t c;
    char err[512];
    assert_int_equal(parse_with("table.include.list=public\\.keep.*,other.t\n"
                                "column.exclude.list=public.keep1.secret\n"
                                "column.mask.with.3.chars=public.keep1.pw\n"
                                "column.truncate.to.2.chars=public.keep1.note\n"
                                "message.key.columns=public.keep1:a,b;other.t:z\n"
                                "skipped.operations=none\n", &c, err, sizeof err), 0);
    assert_true(flt_table_included(&c.filters, "public", "keep1"));
    assert_false(flt_table_included(&c.filters, "public", "drop"));
    assert_false(flt_table_included(&c.filters, "xpublic", "keep1"));   /* anchored */
    assert_true(flt_table_included(&c.filters, "other", "t"));
    assert_false(flt_column_included(&c.filters, "public", "keep1", "secret"));
    assert_true(flt_column_included(&c.filters, "public", "keep1", "secretx"));
    assert_int_equal(flt_mask_len(&c.filters, "public", "keep1", "pw"), 3);
    assert_int_equal(flt_truncate_len(&c.filters, "public", "keep1", "note"), 2);
    const flt_keycols_t *k = flt_key_columns(&c.filters, "other", "t");
    assert_non_null(k);
    assert_int_equal(k->ncols, 1);
    assert_string_equal(k->cols[0], "z");
    assert_int_equal(c.evt.skipped_ops, 0);
    cfg_connector_free(&c);
}

static void test_converters(void **s)
{
    (void)s;
    conn_config_t c;
    char err[1024];
    const char *avro = "key.converter=io.confluent.connect.avro.AvroConverter\n"
                       "key.converter.schema.registry.url=http://a:1,http://b:2\n"
                       "value.converter=io.confluent.connect.avro.AvroConverter\n"
                       "value.converter.schema.registry.url=https://r:8081\n"
                       "value.converter.basic.auth.credentials.source=USER_INFO\n"
                       "value.converter.basic.auth.user.info=fred:s3cr3t\n"
                       "value.converter.schema.registry.ssl.truststore.location=/ca.pem\n"
                       "value.converter.schema.registry.ssl.truststore.type=PEM\n"
                       "value.converter.schema.registry.ssl.endpoint.identification.algorithm=\n"
                       "value.converter.auto.register.schemas=false\n"
                       "value.converter.use.latest.version=true\n"
                       "value.converter.connect.meta.data=false\n"
                       "value.converter.value.subject.name.strategy=io.confluent.kafka.serializers.subject.RecordNameStrategy\n"
                       "schema.name.adjustment.mode=avro\nfield.name.adjustment.mode=avro_unicode\n";
    assert_int_equal(parse_with(avro, &c, err, sizeof err), 0);
    assert_true(c.key_conv.avro);
    assert_int_equal(c.key_conv.side.kind, CONV_AVRO);
    assert_string_equal(c.key_conv.urls, "http://a:1,http://b:2");
    assert_true(c.key_conv.auto_register);
    assert_false(c.key_conv.use_latest);
    assert_true(c.key_conv.side.meta);
    assert_int_equal(c.key_conv.side.subject, CONV_SUBJ_TOPIC);
    assert_string_equal(c.value_conv.user_info, "fred:s3cr3t");
    assert_string_equal(c.value_conv.ca_file, "/ca.pem");
    assert_false(c.value_conv.verify_host);
    assert_false(c.value_conv.auto_register);
    assert_true(c.value_conv.use_latest);
    assert_false(c.value_conv.side.meta);
    assert_int_equal(c.value_conv.side.subject, CONV_SUBJ_RECORD);
    assert_int_equal(c.evt.schema_names, AVRO_ADJUST_AVRO);
    assert_int_equal(c.evt.field_names, AVRO_ADJUST_UNICODE);
    cfg_connector_free(&c);
    /* JSON keys, Avro values: independent */
    assert_int_equal(parse_with("value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url=http://r\n",
                                &c, err, sizeof err), 0);
    assert_int_equal(c.key_conv.side.kind, CONV_JSON);
    assert_int_equal(c.value_conv.side.kind, CONV_AVRO);
    cfg_connector_free(&c);
    /* errors name the key and what to do; a secret never appears in one */
    assert_int_equal(parse_with("value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url=http://r\n"
                                "value.converter.basic.auth.credentials.source=USER_INFO\nvalue.converter.basic.auth.user.info=nocolon-s3cr3t\n",
                                &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "user:password"));
    assert_null(strstr(err, "s3cr3t"));
    assert_int_equal(parse_with("value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url=http://r\n"
                                "value.converter.schema.registry.ssl.truststore.location=/t.jks\nvalue.converter.schema.registry.ssl.truststore.type=JKS\n",
                                &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "PEM"));
    assert_int_equal(parse_with("value.converter=io.confluent.connect.avro.AvroConverter\nvalue.converter.schema.registry.url=http://r\n"
                                "value.converter.basic.auth.credentials.source=SASL_INHERIT\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "USER_INFO"));
    assert_int_equal(parse_with("schema.name.adjustment.mode=weird\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema.name.adjustment.mode"));
}

static void test_converter_inheritance(void **s)
{
    (void)s;
    cfg_map_t w = { 0 }, m = { 0 };
    char err[256];
    assert_int_equal(cfg_parse_properties("key.converter=io.confluent.connect.avro.AvroConverter\n"
                                          "key.converter.schema.registry.url=http://r:8081\n"
                                          "value.converter=org.apache.kafka.connect.json.JsonConverter\n"
                                          "value.converter.schemas.enable=false\nbootstrap.servers=b:9092\n", &w, err, sizeof err), 0);
    /* the connector sets its own value converter: only the key converter (and its settings) come over */
    assert_int_equal(cfg_parse_properties("value.converter=org.apache.kafka.connect.json.JsonConverter\n", &m, err, sizeof err), 0);
    cfg_inherit_converters(&w, &m);
    assert_string_equal(cfg_get(&m, "key.converter"), "io.confluent.connect.avro.AvroConverter");
    assert_string_equal(cfg_get(&m, "key.converter.schema.registry.url"), "http://r:8081");
    assert_null(cfg_get(&m, "value.converter.schemas.enable"));
    assert_null(cfg_get(&m, "bootstrap.servers"));
    cfg_map_free(&w);
    cfg_map_free(&m);
}

/* A URL is shown unless it holds a password (user:password@ or a password= parameter): then it is a
 * secret like a password key (REST bodies, logs). */
static void test_secret_values(void **s)
{
    (void)s;
    assert_true(cfg_is_secret_value("database.password", "x"));
    assert_false(cfg_is_secret_value("connection.url", "jdbc:postgresql://db:5432/target"));
    assert_false(cfg_is_secret_value("connection.url", "jdbc:mysql://user@db:3306/t?useSSL=false"));
    assert_true(cfg_is_secret_value("connection.url", "jdbc:postgresql://db:5432/t?user=u&password=s3cr3t"));
    assert_true(cfg_is_secret_value("connection.url", "jdbc:mysql://db/t?PASSWORD=s3cr3t"));
    assert_true(cfg_is_secret_value("connection.url", "postgresql://u:s3cr3t@db:5432/t"));
    assert_true(cfg_is_secret_value("value.converter.schema.registry.url", "https://u:p@registry:8081"));
    assert_false(cfg_is_secret_value("value.converter.schema.registry.url", "http://registry:8081/apis/ccompat/v7"));
    /* only URL-valued keys are read this way: a table name with an @ is no secret */
    assert_false(cfg_is_secret_value("table.include.list", "public.a:b@c"));
}

static void test_secret_keys(void **s)
{
    (void)s;
    assert_true(cfg_is_secret("database.password"));
    assert_true(cfg_is_secret("producer.sasl.jaas.config"));
    assert_true(cfg_is_secret("value.converter.basic.auth.user.info"));
    assert_false(cfg_is_secret("database.user"));
    /* key material, tokens, any spelling */
    assert_true(cfg_is_secret("producer.ssl.key.pem"));
    assert_true(cfg_is_secret("producer.ssl.keystore.key"));
    assert_true(cfg_is_secret("producer.sasl.oauthbearer.client.secret"));
    assert_true(cfg_is_secret("producer.sasl.oauthbearer.config"));
    assert_true(cfg_is_secret("some.Access.Token"));
    assert_true(cfg_is_secret("database.sslpassword"));
    assert_false(cfg_is_secret("producer.compression.type"));
    /* a JSON syntax error never echoes the text near it (a password, here) */
    cfg_map_t m = { 0 };
    char err[512];
    assert_int_equal(cfg_parse_json("{\"database.password\": \"s3cr3t-p4ss\" x}", &m, err, sizeof err), -1);
    assert_null(strstr(err, "s3cr3t"));
    assert_null(strstr(err, "'x'"));
    assert_int_equal(cfg_parse_json("{\"database.password\": s3cr3tp4ss}", &m, err, sizeof err), -1);
    assert_null(strstr(err, "s3"));
    assert_non_null(strstr(err, "line 1 column"));
    cfg_map_free(&m);
}

/* ---- config providers (Kafka's ConfigTransformer and its three providers) ---- */

#define PROV "org.apache.kafka.common.config.provider."

static char prov_dir[64];

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int prov_setup(void **s)
{
    (void)s;
    snprintf(prov_dir, sizeof prov_dir, "/tmp/walcast-cfgprov.XXXXXX");
    assert_non_null(mkdtemp(prov_dir));
    write_file(prov_dir, "secrets.properties", "db.password=s3cr3t-file\nhost = db.internal\nnested=${env:WC_PROV_PW}\nk\\:colon=c\n");
    char sub[128];
    snprintf(sub, sizeof sub, "%s/dir", prov_dir);
    mkdir(sub, 0700);
    write_file(sub, "pw", "s3cr3t-dir\n");
    snprintf(sub, sizeof sub, "%s/dir/subdir", prov_dir);
    mkdir(sub, 0700);
    setenv("WC_PROV_PW", "s3cr3t-env", 1);
    setenv("OTHER_PROV_VAR", "other", 1);
    return 0;
}

static int prov_teardown(void **s)
{
    (void)s;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", prov_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void workers(cfg_map_t *w, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text,
             "config.providers=file,env,dir\n"
             "config.providers.file.class=" PROV "FileConfigProvider\n"
             "config.providers.env.class=" PROV "EnvVarConfigProvider\n"
             "config.providers.dir.class=" PROV "DirectoryConfigProvider\n%s", extra);
    char err[256];
    assert_int_equal(cfg_parse_properties(text, w, err, sizeof err), 0);
}

/* Resolves one value v under worker extra settings; returns it (static buffer) or "ERROR: err". */
static const char *resolve1(const char *extra, const char *v)
{
    static char out[1024];
    cfg_map_t w = { 0 }, m = { 0 };
    workers(&w, extra);
    cfg_map_set(&m, "database.password", v);
    char err[512];
    if (cfgprov_resolve(&w, &m, err, sizeof err) < 0)
        snprintf(out, sizeof out, "ERROR: %s", err);
    else
        snprintf(out, sizeof out, "%s", cfg_get(&m, "database.password"));
    cfg_map_free(&w);
    cfg_map_free(&m);
    return out;
}

static void test_providers_resolve(void **s)
{
    (void)s;
    char v[512];
    snprintf(v, sizeof v, "${file:%s/secrets.properties:db.password}", prov_dir);
    assert_string_equal(resolve1("", v), "s3cr3t-file");
    snprintf(v, sizeof v, "pre-${file:%s/secrets.properties:host}-${env:WC_PROV_PW}-post", prov_dir);
    assert_string_equal(resolve1("", v), "pre-db.internal-s3cr3t-env-post");
    assert_string_equal(resolve1("", "${env:WC_PROV_PW}"), "s3cr3t-env");
    /* the directory provider: the whole file, trailing newline included (Kafka does not trim) */
    snprintf(v, sizeof v, "${dir:%s/dir:pw}", prov_dir);
    assert_string_equal(resolve1("", v), "s3cr3t-dir\n");
    /* a key with ':' in it: the path ends at the second ':' */
    snprintf(v, sizeof v, "${file:%s/secrets.properties:k:colon}", prov_dir);
    assert_string_equal(resolve1("", v), "c");
    /* one pass: a value that holds a variable is not resolved again */
    snprintf(v, sizeof v, "${file:%s/secrets.properties:nested}", prov_dir);
    assert_string_equal(resolve1("", v), "${env:WC_PROV_PW}");
}

static void test_providers_left_as_written(void **s)
{
    (void)s;
    char v[512];
    static const char *same[] = {
        "${vault:secret/db:password}",   /* a provider that is not declared */
        "${env:WC_NO_SUCH_VARIABLE}",    /* no such key */
        "${topic}", "${source.db}",      /* no ':': not a variable (the sink's table name format) */
        "${env:WC_PROV_PW",              /* unterminated */
        "${a${env:WC_PROV_PW}",          /* Java's matcher takes provider "a${env" here: not declared */
        "${:x}", "$ {env:WC_PROV_PW}", "",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        assert_string_equal(resolve1("", same[i]), same[i]);
    /* after a non-variable ${...} the matcher goes on */
    assert_string_equal(resolve1("", "${x} ${env:WC_PROV_PW}"), "${x} s3cr3t-env");
    snprintf(v, sizeof v, "${file:%s/secrets.properties:nokey}", prov_dir);
    assert_string_equal(resolve1("", v), v);
    snprintf(v, sizeof v, "${file::db.password}");                 /* empty path: nothing */
    assert_string_equal(resolve1("", v), v);
    snprintf(v, sizeof v, "${dir:%s/dir:subdir}", prov_dir);       /* not a regular file */
    assert_string_equal(resolve1("", v), v);
    snprintf(v, sizeof v, "${dir:%s/dir:../secrets.properties}", prov_dir);
    assert_string_equal(resolve1("", v), v);
    snprintf(v, sizeof v, "${dir:%s/secrets.properties:x}", prov_dir); /* not a directory */
    assert_string_equal(resolve1("", v), v);
    /* a provider named without a class is ignored, as Kafka does */
    cfg_map_t w = { 0 }, m = { 0 };
    char err[256];
    assert_int_equal(cfg_parse_properties("config.providers=env,x\nconfig.providers.env.class=" PROV "EnvVarConfigProvider\n",
                                          &w, err, sizeof err), 0);
    cfg_map_set(&m, "a", "${x:y}");
    cfg_map_set(&m, "b", "${env:WC_PROV_PW}");
    assert_int_equal(cfgprov_resolve(&w, &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, "a"), "${x:y}");
    assert_string_equal(cfg_get(&m, "b"), "s3cr3t-env");
    cfg_map_free(&w);
    cfg_map_free(&m);
    /* no config.providers: nothing is touched */
    cfg_map_set(&m, "b", "${env:WC_PROV_PW}");
    assert_int_equal(cfgprov_resolve(&w, &m, err, sizeof err), 0);
    assert_string_equal(cfg_get(&m, "b"), "${env:WC_PROV_PW}");
    cfg_map_free(&m);
}

static void test_providers_params(void **s)
{
    (void)s;
    char extra[512], v[512];
    /* allowed.paths: normalised, whole names */
    snprintf(extra, sizeof extra, "config.providers.file.param.allowed.paths=%s/dir\n"
             "config.providers.dir.param.allowed.paths=%s/dir\n", prov_dir, prov_dir);
    snprintf(v, sizeof v, "${file:%s/secrets.properties:db.password}", prov_dir);
    assert_string_equal(resolve1(extra, v), v);
    snprintf(v, sizeof v, "${file:%s/dir/../secrets.properties:db.password}", prov_dir);
    assert_string_equal(resolve1(extra, v), v);
    snprintf(v, sizeof v, "${dir:%s/dir/./:pw}", prov_dir);
    assert_string_equal(resolve1(extra, v), "s3cr3t-dir\n");
    snprintf(v, sizeof v, "${dir:%s/dir/subdir/..:pw}", prov_dir);
    assert_string_equal(resolve1(extra, v), "s3cr3t-dir\n");
    snprintf(v, sizeof v, "${dir:%s/di:pw}", prov_dir);
    assert_string_equal(resolve1(extra, v), v);
    /* allowlist.pattern: the whole name must match */
    const char *al = "config.providers.env.param.allowlist.pattern=WC_.*\n";
    assert_string_equal(resolve1(al, "${env:WC_PROV_PW}"), "s3cr3t-env");
    assert_string_equal(resolve1(al, "${env:OTHER_PROV_VAR}"), "${env:OTHER_PROV_VAR}");
    assert_string_equal(resolve1("config.providers.env.param.allowlist.pattern=PROV\n", "${env:WC_PROV_PW}"),
                        "${env:WC_PROV_PW}");
}

static void test_providers_errors(void **s)
{
    (void)s;
    char v[512];
    const char *r;
    r = resolve1("", "${env:/some/path:WC_PROV_PW}");
    assert_non_null(strstr(r, "ERROR: database.password: "));
    assert_non_null(strstr(r, "path is not supported by EnvVarConfigProvider"));
    snprintf(v, sizeof v, "${file:%s/missing.properties:db.password}", prov_dir);
    r = resolve1("", v);
    assert_non_null(strstr(r, "ERROR: database.password: config provider file could not read properties from file"));
    assert_non_null(strstr(r, "missing.properties"));
    r = resolve1("config.providers.file.param.allowed.paths=relative/dir\n", "x");
    assert_non_null(strstr(r, "allowed.paths: path 'relative/dir' is not absolute"));
    r = resolve1("config.providers.dir.param.allowed.paths=/no/such/dir\n", "x");
    assert_non_null(strstr(r, "path '/no/such/dir' does not exist"));
    r = resolve1("config.providers.env.param.allowlist.pattern=(\n", "x");
    assert_non_null(strstr(r, "config.providers.env.param.allowlist.pattern: invalid regular expression '('"));
    r = resolve1("config.providers.env.param.allowlist.pattern=a++\n", "x");
    assert_non_null(strstr(r, "a quantifier directly after another quantifier"));
    r = resolve1("config.providers.file.class=com.example.VaultConfigProvider\n", "x");
    assert_non_null(strstr(r, "invalid value 'com.example.VaultConfigProvider' for config.providers.file.class"));
    /* no error ever holds a resolved value */
    snprintf(v, sizeof v, "${env:WC_PROV_PW}${file:%s/missing.properties:x}", prov_dir);
    r = resolve1("", v);
    assert_non_null(strstr(r, "ERROR"));
    assert_null(strstr(r, "s3cr3t"));
}

/* A worker config resolves its own values with its own providers; the written map is kept by resolving
 * a copy, as walcast does for connector configs. */
static void test_providers_worker_and_copy(void **s)
{
    (void)s;
    cfg_map_t w = { 0 };
    char err[256];
    workers(&w, "bootstrap.servers=${env:WC_PROV_PW}\n");
    assert_int_equal(cfgprov_resolve(&w, &w, err, sizeof err), 0);
    assert_string_equal(cfg_get(&w, "bootstrap.servers"), "s3cr3t-env");
    cfg_map_t raw = { 0 }, run = { 0 };
    cfg_map_set(&raw, "database.password", "${env:WC_PROV_PW}");
    cfg_map_copy(&run, &raw);
    assert_int_equal(cfgprov_resolve(&w, &run, err, sizeof err), 0);
    assert_string_equal(cfg_get(&run, "database.password"), "s3cr3t-env");
    assert_string_equal(cfg_get(&raw, "database.password"), "${env:WC_PROV_PW}");
    cfg_map_free(&w);
    cfg_map_free(&raw);
    cfg_map_free(&run);
}

/* issue 17.4: a misspelt key is ignored, and table.inlcude.list ignored captured every table. A key one
 * or two edits away from a known one is an error that names it; other unknown keys stay warnings. */
static void test_misspelt_keys(void **s)
{
    (void)s;
    conn_config_t c;
    char err[512];
    assert_int_equal(parse_with("table.inlcude.list=public.orders\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "'table.inlcude.list'"));
    assert_non_null(strstr(err, "did you mean table.include.list?"));
    assert_int_equal(parse_with("schema.exclude.lists=x\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean schema.exclude.list?"));
    assert_int_equal(parse_with("database.pasword=x\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean database.password?"));
    assert_null(strstr(err, "s3cret"));
    /* walcast's own keys and Kafka Connect's are known too */
    assert_int_equal(parse_with("walcast.streamng=true\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean walcast.streaming?"));
    assert_int_equal(parse_with("walcast.transaction.max.event=10\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean walcast.transaction.max.events?"));
    assert_int_equal(parse_with("task.max=1\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean tasks.max?"));
    assert_int_equal(parse_with("value.convertr=org.apache.kafka.connect.json.JsonConverter\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean value.converter?"));
    assert_int_equal(parse_with("transfroms.unwrap.type=x\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean transforms."));
    /* a column rule that is none of the three forms would be ignored */
    assert_int_equal(parse_with("column.mask.with.5.char=public.t.c\n", &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "column.mask.with.N.chars"));
    /* far from every known key: a warning, not an error; known keys and families are accepted */
    assert_int_equal(parse_with("no.such.key=1\nwalcast.something.else.entirely=1\ntable.include.list=public.orders\n"
                                "value.converter.schemas.enable=false\nsnapshot.select.statement.overrides.public.t=SELECT 1\n"
                                "producer.override.linger.ms=5\ndatabase.query.timeout.ms=600000\n", &c, err, sizeof err), 0);
    cfg_connector_free(&c);
    /* the worker file: a misspelt bootstrap.servers would mean the in-memory embedded Kafka */
    cfg_map_t w = { 0 };
    worker_config_t wc;
    assert_int_equal(cfg_parse_properties("bootstrap.server=k:9092\n", &w, err, sizeof err), 0);
    assert_int_equal(cfg_worker_parse(&w, &wc, err, sizeof err), -1);
    assert_non_null(strstr(err, "did you mean bootstrap.servers?"));
    cfg_worker_free(&wc);
    cfg_map_free(&w);
    assert_int_equal(cfg_parse_properties("bootstrap.servers=k:9092\noffset.storage.topic=o\ngroup.id=g\n"
                                          "producer.linger.ms=5\nlisteners=http://:8083\nsome.plugin.thing=1\n", &w, err, sizeof err), 0);
    assert_int_equal(cfg_worker_parse(&w, &wc, err, sizeof err), 0);
    assert_string_equal(wc.bootstrap_servers, "k:9092");
    assert_string_equal(cfg_get(&wc.producer, "linger.ms"), "5");
    cfg_worker_free(&wc);
    cfg_map_free(&w);
}

/* issue 17.7: `walcast run worker.properties connector.properties` (Connect standalone's order): the
 * first file is a worker file when it has bootstrap.servers and no connector.class. */
static void test_worker_file_detection(void **s)
{
    (void)s;
    cfg_map_t m = { 0 };
    char err[256];
    assert_int_equal(cfg_parse_properties("bootstrap.servers=k:9092\noffset.storage.topic=o\n", &m, err, sizeof err), 0);
    assert_true(cfg_is_worker(&m));
    cfg_map_free(&m);
    assert_int_equal(cfg_parse_properties(base, &m, err, sizeof err), 0);
    assert_false(cfg_is_worker(&m));
    cfg_map_set(&m, "connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    cfg_map_set(&m, "bootstrap.servers", "k:9092");
    assert_false(cfg_is_worker(&m));
    cfg_map_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_properties_syntax),
        cmocka_unit_test(test_properties_long_and_unicode),
        cmocka_unit_test(test_json_forms),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors_name_key_value_allowed),
        cmocka_unit_test(test_filters_and_rules),
        cmocka_unit_test(test_converters),
        cmocka_unit_test(test_secret_keys),
        cmocka_unit_test(test_secret_values),
        cmocka_unit_test(test_converter_inheritance),
        cmocka_unit_test_setup_teardown(test_providers_resolve, prov_setup, prov_teardown),
        cmocka_unit_test_setup_teardown(test_providers_left_as_written, prov_setup, prov_teardown),
        cmocka_unit_test_setup_teardown(test_providers_params, prov_setup, prov_teardown),
        cmocka_unit_test_setup_teardown(test_providers_errors, prov_setup, prov_teardown),
        cmocka_unit_test_setup_teardown(test_providers_worker_and_copy, prov_setup, prov_teardown),
        cmocka_unit_test(test_misspelt_keys),
        cmocka_unit_test(test_worker_file_detection),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
