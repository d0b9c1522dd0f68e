/* test_check.c: the offline part of walcast check / config/validate: each configuration error lands on
 * the key it is about, with a fix; a valid configuration gives one OK result. */
#include "tests/unit/testutil.h"

#include "agent/check.h"
#include "agent/log.h"

static const char *base =
    "name=c1\n"
    "database.hostname=db\n"
    "database.user=u\n"
    "database.password=s3cret\n"
    "database.dbname=app\n"
    "topic.prefix=srv\n";

static const chk_result_t *check_with(const char *text, chk_list_t *l)
{
    cfg_map_t m = { 0 };
    char err[512];
    assert_int_equal(cfg_parse_properties(text, &m, err, sizeof err), 0);
    chk_opts_t o = { .offline = true };
    worker_config_t w = { 0 };
    chk_connector(NULL, &w, &m, &o, l);
    cfg_map_free(&m);
    assert_true(l->n >= 1);
    return &l->v[0];
}

static void test_config_errors_by_key(void **s)
{
    (void)s;
    static const struct { const char *extra, *key; } cases[] = {
        { "database.port=99999\n", "database.port" },
        { "slot.name=Bad-Slot\n", "slot.name" },
        { "publication.autocreate.mode=sometimes\n", "publication.autocreate.mode" },
        { "snapshot.mode=custom\n", "snapshot.mode" },
        { "value.converter=io.confluent.connect.avro.AvroConverter\n", "value.converter" },
        { "plugin.name=wal2json\n", "plugin.name" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text, "%s%s", base, cases[i].extra);
        chk_list_t l = { 0 };
        const chk_result_t *r = check_with(text, &l);
        assert_false(r->ok);
        assert_string_equal(r->name, "config");
        assert_string_equal(r->key, cases[i].key);
        assert_non_null(r->fix);
        assert_null(strstr(r->message, "s3cret"));
        assert_int_equal(chk_failures(&l), 1);
        chk_list_free(&l);
    }
    /* a missing required key is attributed to that key, though it is not in the map */
    chk_list_t l = { 0 };
    const chk_result_t *r = check_with("name=c1\ndatabase.hostname=db\ndatabase.user=u\ndatabase.dbname=app\n", &l);
    assert_false(r->ok);
    assert_string_equal(r->key, "topic.prefix");
    chk_list_free(&l);
    /* offline and valid: one OK line, nothing contacted */
    r = check_with(base, &l);
    assert_true(r->ok);
    assert_null(r->fix);
    assert_int_equal(chk_failures(&l), 0);
    chk_list_free(&l);
}

/* Config providers are resolved (with the worker's providers) before the configuration is checked; a
 * provider's failure lands on the key whose variable failed, and never shows a resolved value. */
static void test_config_providers(void **s)
{
    (void)s;
    cfg_map_t wm = { 0 }, m = { 0 };
    char err[512];
    assert_int_equal(cfg_parse_properties("config.providers=env\nconfig.providers.env.class="
                                          "org.apache.kafka.common.config.provider.EnvVarConfigProvider\n",
                                          &wm, err, sizeof err), 0);
    setenv("WC_CHECK_PORT", "99999", 1);
    setenv("WC_CHECK_PW", "s3cret-env", 1);
    char text[1024];
    snprintf(text, sizeof text, "%sdatabase.port=${env:WC_CHECK_PORT}\ndatabase.password=${env:WC_CHECK_PW}\n", base);
    assert_int_equal(cfg_parse_properties(text, &m, err, sizeof err), 0);
    chk_opts_t o = { .offline = true };
    worker_config_t w = { 0 };
    chk_list_t l = { 0 };
    assert_int_equal(chk_connector(&wm, &w, &m, &o, &l), 1);
    assert_false(l.v[0].ok);
    assert_string_equal(l.v[0].key, "database.port");
    assert_non_null(strstr(l.v[0].message, "'99999'"));
    chk_list_free(&l);
    /* the written config is untouched */
    assert_string_equal(cfg_get(&m, "database.port"), "${env:WC_CHECK_PORT}");
    /* a provider that fails: on the key that names it */
    cfg_map_set(&m, "database.port", "5432");
    cfg_map_set(&m, "database.sslpassword", "${env:/a/path:WC_CHECK_PW}");
    assert_int_equal(chk_connector(&wm, &w, &m, &o, &l), 1);
    assert_string_equal(l.v[0].key, "database.sslpassword");
    assert_null(strstr(l.v[0].message, "s3cret"));
    chk_list_free(&l);
    cfg_map_set(&m, "database.sslpassword", "${env:WC_CHECK_PW}");
    assert_int_equal(chk_connector(&wm, &w, &m, &o, &l), 0);
    chk_list_free(&l);
    cfg_map_free(&m);
    cfg_map_free(&wm);
}

static void test_print(void **s)
{
    (void)s;
    chk_list_t l = { 0 };
    chk_add(&l, "wal_level", "database.hostname", false, "ALTER SYSTEM SET wal_level = logical; then restart",
            "wal_level=%s", "replica");
    chk_add(&l, "kafka", "bootstrap.servers", true, "never shown", "reachable");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    chk_print(&l, f);
    fclose(f);
    assert_string_equal(text, "FAIL wal_level: wal_level=replica\n     fix: ALTER SYSTEM SET wal_level = logical; "
                              "then restart\nOK   kafka: reachable\n");
    assert_null(l.v[1].fix);
    free(text);
    chk_list_free(&l);
}

int main(void)
{
    log_set_level(LOG_FATAL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors_by_key),
        cmocka_unit_test(test_config_providers),
        cmocka_unit_test(test_print),
    };
    return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
