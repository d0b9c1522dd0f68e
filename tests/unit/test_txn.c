/* test_txn.c: agent/txn.c, the Kafka transaction cycle, on librdkafka's mock cluster inside the test
 * process: when a commit is due (events, max.ms, min.ms once caught up), the pipelined commit and the
 * flush position it makes safe, no offset record without a known position, and the rewind's verdict
 * (a record refused for good stops the connector instead of looping); the two producers' turns. */
#include "tests/unit/testutil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include "agent/kafka_cli.h"
#include "agent/replication.h"
#include "agent/txn.h"

static volatile sig_atomic_t stop;

static rec_t record(const char *key)
{
    rec_t r;
    memset(&r, 0, sizeof r);
    r.topic = "t";
    r.key = key;
    r.keylen = strlen(key);
    r.value = "{}";
    r.valuelen = 2;
    return r;
}

static void test_cycle(void **s)
{
    (void)s;
    char err[512], *bs = NULL;
    void *mock = kcli_mock_start(1, &bs, err, sizeof err);
    assert_non_null(mock);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster((rd_kafka_t *)mock);
    rd_kafka_mock_topic_create(mc, "t", 1, 1);
    rd_kafka_mock_topic_create(mc, "offsets", 1, 1);

    conn_config_t c;
    memset(&c, 0, sizeof c);
    c.name = "unit";
    c.topic_prefix = "srv";
    c.txn_max_ms = 60000;
    c.txn_min_ms = 0;
    c.txn_max_events = 3;
    worker_config_t w;
    memset(&w, 0, sizeof w);
    w.bootstrap_servers = bs;
    w.offset_topic = "offsets";

    txn_t *t = txn_new(&c, &w, NULL, NULL, err, sizeof err);
    assert_non_null(t);
    assert_int_equal(txn_start(t, &stop, err, sizeof err), WC_OK);
    assert_false(txn_stored(t)->found);
    assert_int_equal(txn_flushed(t), 0);

    /* no offset record without a known position */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_true(txn_open(t));
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_ABORT);
    assert_non_null(strstr(err, "no known position"));
    assert_int_equal(txn_rewind(t, WC_ABORT, err, sizeof err), WC_RETRY);
    assert_false(txn_open(t));

    /* the slot's confirmed position counts as known */
    txn_flushed_at_least(t, 0x50);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    rec_t r = record("{\"id\":1}");
    assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    int64_t now = repl_clock_us(), deadline = now + 3600 * 1000000LL;
    assert_false(txn_due(t, false, now, &deadline));
    assert_true(deadline <= now + 60000 * 1000LL);   /* transaction.max.ms */
    assert_true(txn_due(t, true, now, &deadline));    /* caught up, min.ms 0 */
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_stored(t)->lsn, 0x50);

    /* a pipelined commit: the flush position moves only once it is collected */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    /* three producers take turns (the first transaction above committed on walcast-unit) */
    assert_string_equal(txn_transactional_id(t), "walcast-unit/1");
    for (int i = 0; i < 3; i++)
        assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    assert_true(txn_due(t, false, repl_clock_us(), NULL));   /* transaction.max.events */
    off_pos_t *p = txn_pending(t);
    p->found = true;
    p->lsn = p->lsn_commit = p->lsn_proc = 0x100;
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
    assert_true(txn_committing(t));
    assert_int_equal(txn_flushed(t), 0x50);
    /* records sent meanwhile are kept for the next transaction */
    assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_false(txn_committing(t));
    assert_int_equal(txn_flushed(t), 0x100);
    assert_int_equal(txn_stored(t)->lsn, 0x100);
    assert_true(txn_open(t));                               /* opened for the kept record */
    assert_string_equal(txn_transactional_id(t), "walcast-unit/2");   /* on the third producer */
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    /* the turn comes back to the first one, whose transaction ended two cycles before */
    assert_string_equal(txn_transactional_id(t), "walcast-unit");
    assert_int_equal(txn_stats(t).commits, 3);
    assert_int_equal(txn_stats(t).records, 5);

    /* a record too large for the producer: refused at once, for good */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    static char big[2 << 20];
    memset(big, 'x', sizeof big);
    rec_t b = record("{\"id\":2}");
    b.value = big;
    b.valuelen = sizeof big;
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_PERMANENT);
    assert_non_null(strstr(err, "topic t"));
    assert_int_equal(txn_rewind(t, WC_PERMANENT, err, sizeof err), WC_PERMANENT);

    /* refused by the broker at delivery: the commit fails (abort), the rewind says stop */
    txn_free(t);
    t = txn_new(&c, &w, NULL, NULL, err, sizeof err);
    assert_int_equal(txn_start(t, &stop, err, sizeof err), WC_OK);
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 1, RD_KAFKA_RESP_ERR_INVALID_RECORD);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    txn_pending(t)->found = true;
    wc_status_t st = txn_commit(t, true, err, sizeof err);
    assert_int_not_equal(st, WC_OK);
    assert_int_equal(txn_rewind(t, st, err, sizeof err), WC_PERMANENT);
    assert_non_null(strstr(err, "cannot produce to topic"));

    txn_free(t);
    kcli_mock_stop(mock);
    free(bs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
