/* test_txn.c: agent/txn.c, the Kafka transaction cycle, on librdkafka's mock cluster inside the test
 * process: when a commit is due (events, max.ms, min.ms once caught up), the pipelined commit and the
 * flush position it makes safe, no offset record without a known position, and the rewind's verdict
 * (a record refused for good stops the connector instead of looping); the producers' turns; the next
 * transaction producing while the previous one commits, and aborted with it when that commit fails. */
#include "tests/unit/testutil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
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
    /* the next transaction opens on the third producer while the commit runs */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_true(txn_open(t));
    assert_string_equal(txn_transactional_id(t), "walcast-unit/2");
    assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    assert_false(txn_due(t, true, repl_clock_us(), NULL));   /* not before the running commit is collected */
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_false(txn_committing(t));
    assert_int_equal(txn_flushed(t), 0x100);
    assert_int_equal(txn_stored(t)->lsn, 0x100);
    assert_true(txn_open(t));
    assert_string_equal(txn_transactional_id(t), "walcast-unit/2");
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    /* the turn comes back to the first one, whose transaction ended two cycles before (a fourth producer
     * takes turns only with lanes: test_lanes) */
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

/* A batch refused as too large (MESSAGE_TOO_LARGE for a batch of small records): the rewind goes on (RETRY)
 * with small batches, and a later txn_t of the same connector name in this process (a restart through REST,
 * or after an error) starts with small batches instead of meeting the refusal again; another name does not. */
static void test_refused_batches_remembered(void **s)
{
    (void)s;
    char err[512], *bs = NULL;
    void *mock = kcli_mock_start(1, &bs, err, sizeof err);
    assert_non_null(mock);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster((rd_kafka_t *)mock);
    rd_kafka_mock_topic_create(mc, "t", 1, 1);
    rd_kafka_mock_topic_create(mc, "offsets", 1, 1);
    conn_config_t c = { .name = "unit-refused", .topic_prefix = "srv", .txn_max_ms = 60000, .txn_max_events = 1000 };
    conn_config_t other = c;
    other.name = "unit-refused-not";
    worker_config_t w = { .bootstrap_servers = bs, .offset_topic = "offsets" };
    txn_t *t = txn_new(&c, &w, NULL, NULL, err, sizeof err);
    assert_non_null(t);
    assert_false(txn_small_batches(t));
    assert_int_equal(txn_start(t, &stop, err, sizeof err), WC_OK);
    /* (the data records' request and the offset record's: which goes first is librdkafka's choice) */
    rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 2, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    for (int i = 0; i < 20; i++) {
        rec_t r = record("{\"id\":1}");
        assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
    }
    txn_pending(t)->found = true;
    wc_status_t st = txn_commit(t, true, err, sizeof err);
    assert_int_not_equal(st, WC_OK);
    assert_int_equal(txn_rewind(t, st, err, sizeof err), WC_RETRY);
    assert_true(txn_small_batches(t));
    txn_free(t);

    t = txn_new(&c, &w, NULL, NULL, err, sizeof err);
    assert_non_null(t);
    assert_true(txn_small_batches(t));
    txn_free(t);
    t = txn_new(&other, &w, NULL, NULL, err, sizeof err);
    assert_non_null(t);
    assert_false(txn_small_batches(t));
    txn_free(t);
    kcli_mock_stop(mock);
    free(bs);
}

/* Each pipelined test: a mock cluster of one broker with topics t and offsets, and a started txn_t whose
 * slot is confirmed at 0x50. */
typedef struct fx {
    void *mock;
    rd_kafka_mock_cluster_t *mc;
    char *bs;
    conn_config_t c;
    worker_config_t w;
    txn_t *t;
} fx_t;

static int fx_setup(void **state)
{
    char err[512];
    fx_t *f = calloc(1, sizeof *f);
    f->mock = kcli_mock_start(1, &f->bs, err, sizeof err);
    assert_non_null(f->mock);
    f->mc = rd_kafka_handle_mock_cluster((rd_kafka_t *)f->mock);
    rd_kafka_mock_topic_create(f->mc, "t", 1, 1);
    rd_kafka_mock_topic_create(f->mc, "offsets", 1, 1);
    f->c.name = "unit";
    f->c.topic_prefix = "srv";
    f->c.txn_max_ms = 60000;
    f->c.txn_max_events = 1000;
    f->w.bootstrap_servers = f->bs;
    f->w.offset_topic = "offsets";
    f->t = txn_new(&f->c, &f->w, NULL, NULL, err, sizeof err);
    assert_non_null(f->t);
    assert_int_equal(txn_start(f->t, &stop, err, sizeof err), WC_OK);
    txn_flushed_at_least(f->t, 0x50);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    txn_free(f->t);
    kcli_mock_stop(f->mock);
    free(f->bs);
    free(f);
    return 0;
}

/* Polls until every record sent is produced and acknowledged (within 5 s of t0). */
static void wait_produced(txn_t *t, int64_t t0)
{
    char err[512];
    while ((txn_deferred_bytes(t) || txn_stats(t).in_flight) && repl_clock_us() - t0 < 5000000)
        assert_int_equal(txn_poll(t, 10, err, sizeof err), WC_OK);
    assert_int_equal(txn_deferred_bytes(t), 0);
    assert_int_equal(txn_stats(t).in_flight, 0);
}

static void set_pending(txn_t *t, uint64_t lsn)
{
    off_pos_t *p = txn_pending(t);
    p->found = true;
    p->lsn = p->lsn_commit = p->lsn_proc = lsn;
}

/* The keys (or values) of a topic's partition 0 in offset order (read from the start, n of them within
 * 10 s), each up to 255 bytes. */
static int read_topic(const char *bs, const char *topic, bool values, char out[][256], int n)
{
    char err[512];
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    rd_kafka_conf_set(cc, "bootstrap.servers", bs, err, sizeof err);
    rd_kafka_conf_set(cc, "group.id", "unit-txn-read", err, sizeof err);
    rd_kafka_t *c = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, sizeof err);
    assert_non_null(c);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    assert_int_equal(rd_kafka_assign(c, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    int seen = 0;
    for (int i = 0; i < 100 && seen < n; i++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
        if (!m)
            continue;
        const void *d = values ? m->payload : m->key;
        size_t len = values ? m->len : m->key_len;
        if (!m->err && len < 256) {
            memcpy(out[seen], d, len);
            out[seen++][len] = 0;
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    return seen;
}

/* While a commit runs (its EndTxn held back by the broker), the next transaction's records are produced
 * and acknowledged; they come after the committing transaction's in the log; the flush position moves
 * only as each commit is collected, in order. */
static void test_pipelined(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    rec_t a = record("a"), b = record("b"), c2 = record("c");
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
    set_pending(t, 0x100);
    /* the next EndTxn is answered after 1.5 s */
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 26 /* EndTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 1500), 0);
    int64_t t0 = repl_clock_us();
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &c2, err, sizeof err), WC_OK);
    set_pending(t, 0x200);
    /* b and c go out and are acknowledged while the first commit still waits for its EndTxn */
    wait_produced(t, t0);
    assert_true(txn_committing(t));
    assert_string_equal(txn_transactional_id(t), "walcast-unit/1");
    assert_true(repl_clock_us() - t0 < 1500000);
    assert_int_equal(txn_flushed(t), 0x50);
    assert_false(txn_due(t, true, repl_clock_us(), NULL));   /* its commit waits for the first */
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_flushed(t), 0x100);
    assert_true(txn_due(t, true, repl_clock_us(), NULL));
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_flushed(t), 0x200);
    assert_int_equal(txn_stored(t)->lsn, 0x200);
    assert_int_equal(txn_stats(t).commits, 2);

    char keys[4][256];
    assert_int_equal(read_topic(f->bs, "t", false, keys, 3), 3);
    assert_string_equal(keys[0], "a");
    assert_string_equal(keys[1], "b");
    assert_string_equal(keys[2], "c");
}

/* A transaction's commit needs no AddPartitionsToTxn: the offsets partition was registered with its first
 * records, by a copy of the previous offset record, whether they were produced at once or held while the
 * previous commit ran. The copy comes after the record it copies, and each transaction's own offset
 * record after its copy. */
static void test_offsets_registered_early(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    rec_t a = record("a"), b = record("b"), c2 = record("c"), d = record("d");
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
    set_pending(t, 0x100);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);

    /* produced at once (no commit running) */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    set_pending(t, 0x200);
    wait_produced(t, repl_clock_us());
    /* the next AddPartitionsToTxn is answered after 2 s */
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 24 /* AddPartitionsToTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 2000), 0);
    int64_t t0 = repl_clock_us();
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_true(repl_clock_us() - t0 < 1000000);

    /* held while the previous commit runs, then produced (that delayed AddPartitionsToTxn is c's) */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &c2, err, sizeof err), WC_OK);
    set_pending(t, 0x300);
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 26 /* EndTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 1000), 0);
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &d, err, sizeof err), WC_OK);
    set_pending(t, 0x400);
    wait_produced(t, repl_clock_us());
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 24 /* AddPartitionsToTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 2000), 0);
    t0 = repl_clock_us();
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_true(repl_clock_us() - t0 < 1000000);
    assert_int_equal(txn_stored(t)->lsn, 0x400);

    /* 0x100, its copy, 0x200, its copy, 0x300, its copy, 0x400 */
    static char v[8][256];
    assert_int_equal(read_topic(f->bs, "offsets", true, v, 8), 7);
    for (int i = 0; i < 6; i += 2) {
        assert_string_equal(v[i], v[i + 1]);
        assert_string_not_equal(v[i + 1], v[i + 2]);
    }
}

/* A start: the three producers' InitProducerId run at once (fencing), not one after the other. Each is
 * answered 700 ms late: in turn they took >= 2.1 s, together ~0.7 s. The start's marks are in order; then
 * starts after a committed transaction (records and its marker in the offsets topic) find its offsets.
 * (The offsets read's promptness after the last record needs a real broker's fetch wait: the mock answers
 * at once. tests/integration/test_start_quick.sh checks it.) */
static void test_start_quick(void **s)
{
    fx_t *f = *s;
    char err[512];
    txn_free(f->t);
    f->t = txn_new(&f->c, &f->w, NULL, NULL, err, sizeof err);
    assert_non_null(f->t);
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 22 /* InitProducerId */, 3,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 700,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 700,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 700), 0);
    int64_t t0 = repl_clock_us();
    assert_int_equal(txn_start(f->t, &stop, err, sizeof err), WC_OK);
    int64_t took = repl_clock_us() - t0;
    print_message("txn_start with InitProducerId answered 700 ms late: %lld ms\n", (long long)took / 1000);
    assert_true(took >= 700000);
    assert_true(took < 1500000);
    txn_start_times_t tt = txn_start_times(f->t);
    assert_true(tt.ready.wall_us > 0 && tt.offsets.wall_us >= tt.ready.wall_us);
    assert_int_equal(tt.first_record.wall_us, 0);

    /* offset records of a committed transaction, then a new start reads them */
    txn_flushed_at_least(f->t, 0x50);
    rec_t a = record("a");
    assert_int_equal(txn_ensure(f->t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(f->t, &a, err, sizeof err), WC_OK);
    assert_true(txn_start_times(f->t).first_record.wall_us >= tt.offsets.wall_us);
    set_pending(f->t, 0x100);
    assert_int_equal(txn_commit(f->t, true, err, sizeof err), WC_OK);
    for (int i = 0; i < 3; i++) {
        txn_free(f->t);
        f->t = txn_new(&f->c, &f->w, NULL, NULL, err, sizeof err);
        assert_non_null(f->t);
        assert_int_equal(txn_start(f->t, &stop, err, sizeof err), WC_OK);
        assert_true(txn_stored(f->t)->found);
        assert_int_equal(txn_stored(f->t)->lsn, 0x100);
        tt = txn_start_times(f->t);
        assert_true(tt.ready.wall_us > 0 && tt.offsets.wall_us >= tt.ready.wall_us);
    }
}

/* The offsets reader is opened while the producers are fenced, but reads the topic's ends only after: an
 * offset record committed by an older instance in between (here while the new one's InitProducerId are
 * answered 1 s late) is the one the new instance resumes from. */
typedef struct start_job {
    txn_t *t;
    wc_status_t st;
    char err[512];
} start_job_t;

static void *start_main(void *arg)
{
    start_job_t *j = arg;
    j->st = txn_start(j->t, &stop, j->err, sizeof j->err);
    return NULL;
}

static void test_start_reads_after_fencing(void **s)
{
    fx_t *f = *s;
    char err[512];
    rec_t a = record("a");
    assert_int_equal(txn_ensure(f->t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(f->t, &a, err, sizeof err), WC_OK);
    set_pending(f->t, 0x100);
    assert_int_equal(txn_commit(f->t, true, err, sizeof err), WC_OK);

    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 22 /* InitProducerId */, 3,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 1000,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 1000,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 1000), 0);
    start_job_t j = { .t = txn_new(&f->c, &f->w, NULL, NULL, err, sizeof err) };
    assert_non_null(j.t);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, start_main, &j), 0);
    /* the new instance's reader is open and its producers not all fenced yet (bounded wait) */
    int64_t t0 = repl_clock_us();
    while (!txn_start_times(j.t).reader_open.wall_us && repl_clock_us() - t0 < 5000000)
        txn_poll(f->t, 5, err, sizeof err);
    assert_true(txn_start_times(j.t).reader_open.wall_us > 0);
    assert_int_equal(txn_start_times(j.t).ready.wall_us, 0);
    /* the older instance commits once more meanwhile */
    assert_int_equal(txn_ensure(f->t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(f->t, &a, err, sizeof err), WC_OK);
    set_pending(f->t, 0x200);
    assert_int_equal(txn_commit(f->t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_start_times(j.t).ready.wall_us, 0);   /* still within the fencing */
    pthread_join(th, NULL);
    assert_int_equal(j.st, WC_OK);
    assert_true(txn_stored(j.t)->found);
    assert_int_equal(txn_stored(j.t)->lsn, 0x200);
    txn_free(j.t);
}

/* Records kept while a commit runs (its records not all acknowledged) are kept in one buffer, handed on
 * from producer to producer with the turn: each producer has its turn at keeping them, and a buffer per
 * producer held RSS on all of them at once (up to 16 MB each in a snapshot, 64 MB in a stream: issue 21). */
static void test_kept_records_one_buffer(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    static char value[32 << 10];
    memset(value, 'v', sizeof value);
    for (int cycle = 0; cycle < 4; cycle++) {
        rec_t a = record("a");
        assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
        assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
        set_pending(t, 0x100 + (uint64_t)cycle * 0x100);
        /* the committing transaction's records are acknowledged 300 ms late: the next one keeps its own */
        assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 0 /* Produce */, 1,
                                                                      RD_KAFKA_RESP_ERR_NO_ERROR, 300), 0);
        assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
        assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
        for (int i = 0; i < 40; i++) {
            rec_t r = record("b");
            r.value = value;
            r.valuelen = sizeof value;
            assert_int_equal(txn_send(t, &r, err, sizeof err), WC_OK);
        }
        assert_true(txn_deferred_bytes(t) > (1u << 20));   /* kept, not produced */
        set_pending(t, 0x180 + (uint64_t)cycle * 0x100);
        assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
        wait_produced(t, repl_clock_us());
        /* one buffer of 2 MB in all (before: one on each producer in turn, 6 MB) */
        assert_true(txn_deferred_allocated(t) <= (2u << 20));
        assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    }
    assert_int_equal(txn_stats(t).commits, 8);
}

/* The running commit fails (abortable) after the next transaction produced its records: both are
 * aborted, the flush position and the stored offsets stay where the last successful commit left them,
 * and the next cycle goes on from there. */
static void test_pipelined_failed(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    rec_t a = record("a"), b = record("b");
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
    set_pending(t, 0x100);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_flushed(t), 0x100);

    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    set_pending(t, 0x200);
    /* the next EndTxn fails, late */
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 26 /* EndTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID, 1000), 0);
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    rec_t x = record("x");
    assert_int_equal(txn_send(t, &x, err, sizeof err), WC_OK);
    set_pending(t, 0x300);
    int64_t t0 = repl_clock_us();
    wait_produced(t, t0);   /* x was produced into the pipelined transaction */
    assert_string_equal(txn_transactional_id(t), "walcast-unit/2");
    wc_status_t st = txn_collect(t, true, err, sizeof err);
    assert_int_equal(st, WC_ABORT);
    assert_int_equal(txn_flushed(t), 0x100);
    assert_int_equal(txn_rewind(t, st, err, sizeof err), WC_RETRY);
    assert_false(txn_open(t));
    assert_false(txn_committing(t));
    assert_int_equal(txn_flushed(t), 0x100);
    assert_int_equal(txn_stored(t)->lsn, 0x100);
    assert_int_equal(txn_pending(t)->lsn, 0x100);
    assert_int_equal(txn_stats(t).commits, 1);

    /* the slot sends b and x again: they commit once, after a */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &x, err, sizeof err), WC_OK);
    set_pending(t, 0x300);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_flushed(t), 0x300);
    assert_int_equal(txn_stored(t)->lsn, 0x300);
}

/* Is the offset record with this lsn (decimal) in the value? */
static bool has_lsn(const char *value, uint64_t lsn)
{
    char k[64];
    snprintf(k, sizeof k, ",\"lsn\":%llu,", (unsigned long long)lsn);
    return strstr(value, k) != NULL;
}

/* A transaction opened before its first record (at a source transaction's BEGIN) and released while it has
 * none: the copy of the offset record waits for that first record, so that both partitions are registered in
 * one AddPartitionsToTxn. Produced alone, the copy's partition was registered by itself and the first
 * record's a few ms later in a second request (broker request log: 1 commit in 5 with two). */
static void test_offsets_copy_with_first_record(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    rec_t a = record("a"), b = record("b");
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
    set_pending(t, 0x100);
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 26 /* EndTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 800), 0);
    int64_t t0 = repl_clock_us();
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);   /* open, no record yet */
    wait_produced(t, t0);                                      /* a's records in the log: released */
    assert_int_equal(rd_kafka_mock_broker_push_request_error_rtts(f->mc, 1, 24 /* AddPartitionsToTxn */, 1,
                                                                  RD_KAFKA_RESP_ERR_NO_ERROR, 0), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(txn_poll(t, 5, err, sizeof err), WC_OK);
    size_t left = 0;
    assert_int_equal(rd_kafka_mock_broker_error_stack_cnt(f->mc, 1, 24, &left), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(left, 1);   /* nothing registered yet */
    assert_true(repl_clock_us() - t0 < 800000);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    set_pending(t, 0x200);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(rd_kafka_mock_broker_error_stack_cnt(f->mc, 1, 24, &left), RD_KAFKA_RESP_ERR_NO_ERROR);
    assert_int_equal(left, 0);
    assert_int_equal(txn_flushed(t), 0x200);
    /* 0x100, its copy (with b), 0x200 */
    static char v[4][256];
    assert_int_equal(read_topic(f->bs, "offsets", true, v, 3), 3);
    assert_string_equal(v[0], v[1]);
    assert_true(has_lsn(v[2], 0x200));
}

/* The offsets hook's lanes, in commit order */
typedef struct lanes_seen {
    int lane[16];
    int n;
} lanes_seen_t;

static void lanes_offsets(void *ctx, int lane, off_pos_t *p)
{
    lanes_seen_t *l = ctx;
    (void)p;
    if (l->n < 16)
        l->lane[l->n++] = lane;
}

static void lanes_nop(void *ctx) { (void)ctx; }

/* Lanes (the initial snapshot, issue 21): two transactions open at once on two producers, both producing at
 * once (nothing held behind the other's delivery); commits one after the other, each naming its lane to the
 * offsets hook; lanes off commits the other lane's transaction; a rewind aborts both, and what follows runs
 * on one producer again. Consumers (read_committed) see each committed record once and no aborted one. */
static void test_lanes(void **s)
{
    fx_t *f = *s;
    txn_t *t = f->t;
    char err[512];
    lanes_seen_t seen = { 0 };
    txn_snap_hooks_t h = { .ctx = &seen, .offsets = lanes_offsets, .committed = lanes_nop, .rewound = lanes_nop };
    txn_set_snap_hooks(t, &h);
    rec_t a = record("a"), b = record("b"), c = record("c"), d = record("d"), e = record("e"), x = record("x"),
          g = record("g");
    set_pending(t, 0x100);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &a, err, sizeof err), WC_OK);
    assert_int_equal(txn_set_lanes(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_stats(t).in_flight, 0);   /* a is in the log before the second lane sends */
    char id0[64], id1[64];
    snprintf(id0, sizeof id0, "%s", txn_transactional_id(t));
    txn_lane(t, 1);
    assert_false(txn_open(t));
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &b, err, sizeof err), WC_OK);
    snprintf(id1, sizeof id1, "%s", txn_transactional_id(t));
    assert_string_not_equal(id0, id1);
    txn_lane(t, 0);
    assert_true(txn_open(t));
    assert_string_equal(txn_transactional_id(t), id0);
    assert_int_equal(txn_send(t, &c, err, sizeof err), WC_OK);
    /* both lanes' records acknowledged with both transactions open */
    wait_produced(t, repl_clock_us());
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);   /* lane 0: a, c */
    txn_lane(t, 1);
    assert_true(txn_open(t));
    assert_false(txn_due(t, true, repl_clock_us(), NULL));   /* after the running commit only */
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);   /* lane 1: b */
    assert_int_equal(txn_stats(t).commits, 2);
    /* lanes off: lane 1's open transaction commits (after lane 0's running one), lane 0's stays open */
    txn_lane(t, 0);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &x, err, sizeof err), WC_OK);
    assert_int_equal(txn_commit(t, false, err, sizeof err), WC_OK);   /* lane 0: x */
    txn_lane(t, 1);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &d, err, sizeof err), WC_OK);
    txn_lane(t, 0);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    set_pending(t, 0x200);
    assert_int_equal(txn_set_lanes(t, false, err, sizeof err), WC_OK);   /* lane 1: d */
    assert_true(txn_committing(t));
    assert_int_equal(txn_collect(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_stats(t).commits, 4);
    assert_int_equal(txn_stored(t)->lsn, 0x200);
    assert_int_equal(seen.n, 4);
    assert_int_equal(seen.lane[0], 0);
    assert_int_equal(seen.lane[1], 1);
    assert_int_equal(seen.lane[2], 0);
    assert_int_equal(seen.lane[3], 1);
    assert_true(txn_open(t));   /* lane 0's, empty */
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);

    /* both lanes open, then a failure: both aborted */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_set_lanes(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &e, err, sizeof err), WC_OK);
    txn_lane(t, 1);
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &e, err, sizeof err), WC_OK);
    wait_produced(t, repl_clock_us());
    snprintf(err, sizeof err, "test failure");
    assert_int_equal(txn_rewind(t, WC_ABORT, err, sizeof err), WC_RETRY);
    assert_false(txn_open(t));
    txn_lane(t, 1);   /* lanes are off: no effect */
    assert_int_equal(txn_ensure(t, err, sizeof err), WC_OK);
    assert_int_equal(txn_send(t, &g, err, sizeof err), WC_OK);
    set_pending(t, 0x300);
    assert_int_equal(txn_commit(t, true, err, sizeof err), WC_OK);
    assert_int_equal(txn_stored(t)->lsn, 0x300);

    /* (librdkafka's mock cluster does not hide aborted records from read_committed consumers: the two e are
     * read too; the crash tests check that on a real broker) */
    char keys[8][256];
    assert_int_equal(read_topic(f->bs, "t", false, keys, 8), 8);
    assert_string_equal(keys[0], "a");
    int n[26] = { 0 };
    for (int i = 0; i < 8; i++)
        n[keys[i][0] - 'a']++;
    assert_true(n['a' - 'a'] == 1 && n['b' - 'a'] == 1 && n['c' - 'a'] == 1 && n['d' - 'a'] == 1 && n['x' - 'a'] == 1 &&
                n['g' - 'a'] == 1 && n['e' - 'a'] == 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_refused_batches_remembered),
        cmocka_unit_test_setup_teardown(test_pipelined, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_failed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_offsets_copy_with_first_record, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_lanes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_kept_records_one_buffer, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_offsets_registered_early, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_quick, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_reads_after_fencing, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
