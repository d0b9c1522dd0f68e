/* test_cstore.c: Kafka Connect's config and status record formats (as KafkaConfigBackingStore and
 * KafkaStatusBackingStore write them), reading a config topic back, tombstones included, and the status
 * records' delivery on librdkafka's mock cluster (a worker cut off from Kafka). */
#include "tests/unit/testutil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <time.h>

#include "agent/cstore.h"
#include "agent/kafka_cli.h"
#include "agent/ktopic.h"
#include "agent/log.h"
#include "schemas/clock.h"

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

/* ---- status records on the mock cluster ------------------------------------------------------ */

static volatile int owned_now;   /* the fake worker's answer: does it still run what a status is about? */

static bool fake_owns(void *ctx, const char *name, int task)
{
    (void)ctx;
    (void)name;
    (void)task;
    return __atomic_load_n(&owned_now, __ATOMIC_SEQ_CST);
}

typedef struct mock_store {
    void *mock;
    char *bs;
    rd_kafka_mock_cluster_t *mc;
    cfg_map_t wm;
    worker_config_t w;
} mock_store_t;

/* A mock cluster with Connect's three topics, and worker keys with session.timeout.ms=2000 (statuses are
 * delivered within 1 s or failed). */
static void mock_store_start(mock_store_t *m)
{
    char err[512];
    memset(m, 0, sizeof *m);
    m->mock = kcli_mock_start(1, &m->bs, err, sizeof err);
    assert_non_null(m->mock);
    m->mc = rd_kafka_handle_mock_cluster((rd_kafka_t *)m->mock);
    assert_non_null(m->mc);
    rd_kafka_mock_topic_create(m->mc, "connect-configs", 1, 1);
    rd_kafka_mock_topic_create(m->mc, "connect-status", 1, 1);
    rd_kafka_mock_topic_create(m->mc, "connect-offsets", 1, 1);
    cfg_map_set(&m->wm, "session.timeout.ms", "2000");
    m->w.bootstrap_servers = m->bs;
    m->w.offset_topic = "connect-offsets";
}

static cst_t *mock_store_open(mock_store_t *m)
{
    char err[512];
    cst_t *s = cst_open(&m->wm, &m->w, err, sizeof err);
    if (!s)
        print_message("cst_open: %s\n", err);
    assert_non_null(s);
    return s;
}

static void mock_store_stop(mock_store_t *m)
{
    cfg_map_free(&m->wm);
    free(m->bs);
    kcli_mock_stop(m->mock);
}

/* Waits (bounded) until the store has no status record in flight or queued; false when it still has. */
static bool status_settled(cst_t *s, int within_ms)
{
    for (int64_t until = wc_mono_ms() + within_ms; cst_status_queued(s) > 0;) {
        if (wc_mono_ms() > until)
            return false;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    return true;
}

typedef struct seen {
    char text[512];   /* the worker_ids of status-connector-c6's records, in the topic's order */
} seen_t;

static void on_status_rec(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen, const char *value,
                          size_t vlen)
{
    (void)partition;
    (void)offset;
    seen_t *sn = ctx;
    static const char want[] = "status-connector-c6";
    if (!key || klen != sizeof want - 1 || memcmp(key, want, klen))
        return;
    const char *w = value ? strstr(value, "\"worker_id\":\"") : NULL;
    char id[64] = "tombstone";
    if (w && w + 13 < value + vlen) {
        const char *b = w + 13, *e = memchr(b, '"', (size_t)(value + vlen - b));
        if (e && (size_t)(e - b) < sizeof id)
            snprintf(id, sizeof id, "%.*s", (int)(e - b), b);
    }
    size_t len = strlen(sn->text);
    snprintf(sn->text + len, sizeof sn->text - len, "%s%s", len ? " " : "", id);
}

static void read_c6(mock_store_t *m, seen_t *sn)
{
    char err[512];
    cfg_map_t none = { 0 };
    memset(sn, 0, sizeof *sn);
    assert_int_equal(ktop_read_all(m->bs, &none, "connect-status", "status topic", on_status_rec, sn, err, sizeof err), 0);
}

/* Worker w1's store on a new mock cluster whose broker then goes down (w1 cut off from Kafka), with w1's
 * RUNNING of c6 written while it runs c6. */
static cst_t *w1_cut_off(mock_store_t *m)
{
    mock_store_start(m);
    cst_t *w1 = mock_store_open(m);
    __atomic_store_n(&owned_now, 1, __ATOMIC_SEQ_CST);
    cst_set_owner(w1, fake_owns, NULL);
    wrk_store_t s1;
    cst_store(w1, &s1);
    assert_int_equal(rd_kafka_mock_broker_set_down(m->mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    s1.status(s1.ctx, "c6", -1, WRK_RUNNING, NULL, "w1:8083", false);
    return w1;
}

/* Worker w3 took c6 over: its RUNNING, delivered. */
static cst_t *w3_takes_over(mock_store_t *m)
{
    cst_t *w3 = mock_store_open(m);
    wrk_store_t s3;
    cst_store(w3, &s3);
    s3.status(s3.ctx, "c6", -1, WRK_RUNNING, NULL, "w3:8083", false);
    assert_true(status_settled(w3, 10000));
    return w3;
}

/* A worker cut off from Kafka just as it started connector c6 (its RUNNING status queued) and whose
 * membership ends meanwhile: its status must not land once Kafka is reachable again, over the status of
 * the worker that took c6 over (test_cluster.sh's cutmid, fencecut's report: librdkafka's default 300 s
 * message.timeout.ms kept the record, delivered 39 s later at the restore, and REST named the old worker).
 * The store fails it within half the session timeout; not running c6 any more, it does not send it again. */
static void test_status_not_sent_after_lost(void **st)
{
    (void)st;
    mock_store_t m;
    cst_t *w1 = w1_cut_off(&m);
    __atomic_store_n(&owned_now, 0, __ATOMIC_SEQ_CST);   /* the verdict: c6 is another worker's now */
    bool settled = status_settled(w1, 10000);
    assert_int_equal(rd_kafka_mock_broker_set_up(m.mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* the new owner's status, then anything w1 still had is given its chance to land */
    cst_t *w3 = w3_takes_over(&m);
    bool settled_after = status_settled(w1, 10000);
    seen_t sn;
    read_c6(&m, &sn);
    print_message("status-connector-c6 in the topic: %s (w1's record settled while Kafka was away: %s)\n", sn.text,
                  settled ? "yes" : "no");
    assert_true(settled);
    assert_true(settled_after);
    assert_string_equal(sn.text, "w3:8083");
    cst_free(w3);
    cst_free(w1);
    mock_store_stop(&m);
}

/* The same status while the worker still runs c6 is sent again after each failed delivery, and lands
 * once Kafka is reachable: bounded delivery loses no status of a connector the worker runs. */
static void test_status_resent_while_owned(void **st)
{
    (void)st;
    mock_store_t m;
    cst_t *w1 = w1_cut_off(&m);
    /* two delivery timeouts of the store's own (1 s each): the record is failed and sent again twice */
    struct timespec ts = { 2, 500 * 1000000L };
    nanosleep(&ts, NULL);
    assert_int_equal(cst_status_queued(w1), 1);
    assert_int_equal(rd_kafka_mock_broker_set_up(m.mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_true(status_settled(w1, 10000));
    seen_t sn;
    read_c6(&m, &sn);
    print_message("status-connector-c6 in the topic: %s\n", sn.text);
    assert_string_equal(sn.text, "w1:8083");
    cst_free(w1);
    mock_store_stop(&m);
}

/* A lost membership drops the queued statuses at once (cst_status_drop), without waiting for their
 * delivery timeout; they never land. */
static void test_status_drop(void **st)
{
    (void)st;
    mock_store_t m;
    cst_t *w1 = w1_cut_off(&m);
    __atomic_store_n(&owned_now, 0, __ATOMIC_SEQ_CST);
    int64_t t0 = wc_mono_ms();
    cst_status_drop(w1);
    assert_true(status_settled(w1, 5000));
    int64_t took = wc_mono_ms() - t0;
    print_message("dropped in %lld ms\n", (long long)took);
    assert_true(took < 500);   /* not the 1 s delivery timeout */
    assert_int_equal(rd_kafka_mock_broker_set_up(m.mc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    cst_t *w3 = w3_takes_over(&m);
    seen_t sn;
    read_c6(&m, &sn);
    assert_string_equal(sn.text, "w3:8083");
    cst_free(w3);
    cst_free(w1);
    mock_store_stop(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_topic_records),
        cmocka_unit_test(test_status_not_sent_after_lost),
        cmocka_unit_test(test_status_resent_while_owned),
        cmocka_unit_test(test_status_drop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
