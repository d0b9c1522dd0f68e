/* test_cstore.c: Kafka Connect's config and status record formats (as KafkaConfigBackingStore and
 * KafkaStatusBackingStore write them) and reading a config topic back, tombstones included. */
#include "tests/unit/testutil.h"

#include "agent/cstore.h"
#include "agent/log.h"

static void test_values(void **s)
{
    (void)s;
    cfg_map_t m = { 0 };
    cfg_map_set(&m, "connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    cfg_map_set(&m, "name", "inv");
    char *v = cst_config_value(&m);
    assert_string_equal(v, "{\"properties\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",\"name\":\"inv\"}}");
    free(v);
    cfg_map_free(&m);
    v = cst_target_value(WRK_STARTED);
    assert_string_equal(v, "{\"state\":\"STARTED\",\"state.v2\":\"STARTED\"}");
    free(v);
    /* workers that predate STOPPED read "state": Connect writes PAUSED there */
    v = cst_target_value(WRK_TARGET_STOPPED);
    assert_string_equal(v, "{\"state\":\"PAUSED\",\"state.v2\":\"STOPPED\"}");
    free(v);
    v = cst_status_value(WRK_FAILED, "boom", "h:8083", 3);
    assert_string_equal(v, "{\"state\":\"FAILED\",\"trace\":\"boom\",\"worker_id\":\"h:8083\",\"generation\":3}");
    free(v);
    v = cst_status_value(WRK_RUNNING, NULL, "h:8083", 1);
    assert_string_equal(v, "{\"state\":\"RUNNING\",\"trace\":null,\"worker_id\":\"h:8083\",\"generation\":1}");
    free(v);
}

static void apply(cst_conn_t **v, size_t *n, const char *k, const char *val)
{
    cst_apply(v, n, k, strlen(k), val, val ? strlen(val) : 0);
}
#define APPLY(k, val) apply(&v, &n, k, val)

static void test_apply(void **s)
{
    (void)s;
    log_set_level(LOG_FATAL);
    cst_conn_t *v = NULL;
    size_t n = 0;
    /* Connect writes a new connector's target state before its config */
    APPLY("target-state-a", "{\"state\":\"PAUSED\",\"state.v2\":\"STOPPED\"}");
    APPLY("connector-a", "{\"properties\":{\"name\":\"a\",\"x\":\"1\"}}");
    APPLY("task-a-0", "{\"properties\":{\"name\":\"a\"}}");
    APPLY("commit-a", "{\"tasks\":1}");
    APPLY("connector-b", "{\"properties\":{\"name\":\"b\"}}");
    APPLY("target-state-c", "{\"state\":\"PAUSED\"}");   /* an older worker's record, no state.v2 */
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "a");
    assert_int_equal(v[0].target, WRK_TARGET_STOPPED);
    assert_string_equal(cfg_get(&v[0].config, "x"), "1");
    assert_int_equal(v[1].target, WRK_STARTED);
    assert_int_equal(v[2].target, WRK_TARGET_PAUSED);
    APPLY("connector-a", "{\"properties\":{\"name\":\"a\",\"x\":\"2\"}}");
    assert_string_equal(cfg_get(&v[0].config, "x"), "2");
    APPLY("connector-b", NULL);   /* tombstone */
    assert_int_equal(n, 2);
    assert_string_equal(v[1].name, "c");
    APPLY("connector-a", "not json");   /* ignored, the older config stays */
    assert_string_equal(cfg_get(&v[0].config, "x"), "2");
    /* Connect's records walcast does not write (a session key, exactly-once task-count and fencing records,
     * restart requests) change nothing: read past and left in the topic as they are */
    APPLY("session-key", "{\"key\":\"c2VjcmV0\",\"algorithm\":\"HmacSHA256\",\"creation-timestamp\":1}");
    APPLY("tasks-fencing-a", "{\"task-count\":1}");
    APPLY("restart-connector-a", "{\"include-tasks\":true,\"only-failed\":false}");
    APPLY("task-a-1", "{\"properties\":{\"name\":\"a\"}}");
    APPLY("commit-a", "{\"tasks\":2}");
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "a");
    assert_int_equal(v[0].target, WRK_TARGET_STOPPED);
    assert_string_equal(cfg_get(&v[0].config, "x"), "2");
    assert_int_equal(v[0].config.n, 2);
    cst_conns_free(v, n);
}

/* Active topics as KafkaStatusBackingStore writes and parses them. */
static void test_topic_records(void **s)
{
    (void)s;
    char *v = cst_topic_value("inv", "dc.public.t", 1733400000123);
    assert_string_equal(v, "{\"topic\":{\"name\":\"dc.public.t\",\"connector\":\"inv\",\"task\":0,"
                           "\"discoverTimestamp\":1733400000123}}");
    free(v);
    char *name, *topic;
    const char *k = "status-topic-dc.public.t:connector-inv:2";
    assert_int_equal(cst_topic_parse(k, strlen(k), &name, &topic), 0);
    assert_string_equal(topic, "dc.public.t");
    assert_string_equal(name, "inv:2");   /* a connector name may hold ':' */
    free(name);
    free(topic);
    const char *bad[] = { "status-topic-", "status-topic-:connector-x", "status-topic-t:connector-", "status-topic-t",
                          "status-topic-t:conn-x", "status-task-x-0", "status-connector-x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cst_topic_parse(bad[i], strlen(bad[i]), &name, &topic), -1);
        assert_null(name);
        assert_null(topic);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_topic_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
