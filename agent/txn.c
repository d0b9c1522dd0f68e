/* txn.c: the Kafka transaction cycle. Records of whole source transactions and one offset record go
 * into one Kafka transaction; its commit runs on the publisher's thread while the next transaction,
 * on the next producer, already takes records, and only its success moves the flush position the
 * slot may be confirmed to (DESIGN.md, exactly-once). */
#include "schemas/clock.h"
#include "agent/txn.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/ktopic.h"
#include "agent/log.h"
#include "agent/replication.h"

/* Records kept in memory while the previous transaction's records are not all in the log yet (see
 * struct txn); beyond this the read loop waits for its commit. */
#define DEFER_MAX_BYTES (32u << 20)
/* Producers taking turns (see struct txn) */
#define TXN_PRODUCERS 4

/* A source transaction in a Kafka transaction: its commit (Unix epoch us), when its last record was
 * handed to the producer (the same clock), its xid. */
typedef struct src_note {
    int64_t commit_us, queued_us;
    uint32_t xid;
} src_note_t;

/* The open transaction of a lane that is not the current one (txn_set_lanes): what struct txn holds for
 * the current one. */
typedef struct lane {
    pub_t *pub;                   /* NULL: no producer given to it yet */
    size_t cur;
    uint64_t events;
    int64_t started_us;
    bool offsets_due;
} lane_t;

struct txn {
    const conn_config_t *cfg;
    const worker_config_t *w;
    volatile sig_atomic_t *stop;
    pub_wait_fn wait;
    void *wait_ctx;
    char client_id[256];
    /* TXN_PRODUCERS producers take turns, one Kafka transaction each: after EndTxn the coordinator still
     * writes the markers, and the next AddPartitionsToTxn of the same transactional.id meanwhile is
     * refused (CONCURRENT_TRANSACTIONS) and retried by librdkafka 2.0.2 a hard-coded 20 ms later. A
     * producer's turn starts (its records produced, its partitions registered) while the commit before it
     * still runs, so its own previous EndTxn was answered TXN_PRODUCERS - 2 whole cycles before (with two
     * producers, none: a short cycle under load met the refusal). ring[0]'s transactional.id is
     * walcast-<name>, ring[i]'s walcast-<name>/i. Under load the refusal still meets 1.3-2.8% of the
     * commits (broker request log, make bench BENCH_REQUEST_LOG=1, load 20-38): the coordinator's markers
     * and CompleteCommit then trail EndTxn by 10-120 ms. Five producers were tried in the same runs: 0-3.9%
     * (median 1.5% against 2.1%), no better latency p99 and 6 MB more RSS, so three stayed; a fourth came
     * with the snapshot's lanes (below), so that the producer a lane takes after its commit is never the one
     * whose commit has just ended; without lanes it takes no turn (pick_free). The ring is walked in turn
     * (next_free): without lanes ring[cur + 1] of the first three.
     * Pipelined: prev (ring[cur - 1]) is the producer whose commit runs, or NULL; pub = ring[cur] holds
     * the open transaction, which takes records meanwhile. Its records are produced as soon as every
     * record of prev's transaction has its delivery report (until then they are kept in memory, held):
     * a record of the next transaction must not reach a partition's log before one of the previous, or
     * a read_committed consumer would see the two out of order. pub's commit_transaction is called only
     * once prev's commit has been collected and succeeded, so the Kafka transactions still commit
     * strictly one after the other; when prev's commit fails, pub's transaction is aborted with it
     * (txn_rewind). The third producer has neither.
     * The offsets partition is registered with a transaction (AddPartitionsToTxn) together with its first
     * records: a copy of the previous commit's offset record goes out with them (offsets_due). When the
     * offset record was produced only at commit, the commit waited for that registration (librdkafka's
     * 1 ms timer for new partitions, one AddPartitionsToTxn round trip) and for a second Produce request:
     * 3.0 of the 8.2 ms p50 on a quiet machine went to "commit called -> records acknowledged" (issue 21).
     * The copy lands after the previous commit's offset record (records of pub go out only once prev's
     * are in the log), is visible only if this transaction commits, and this transaction's own offset
     * record follows it in the same partition: readers, which take the last record of the key, see the
     * same thing, and the offsets topic takes one more record per transaction (compacted away).
     * Lanes (txn_set_lanes, the initial snapshot with two readers or more; issue 21): librdkafka 2.0.2 keeps
     * one Produce request in flight per partition and producer, and builds (zstd) the next batch only once
     * the last one is answered, so everything one producer sends to a topic goes through one chain of round
     * trips whatever the number of readers. With lanes, two transactions are open at once on two producers,
     * each fed whole chunks by the snapshot, so two chains run at once. The current lane is the one in pub,
     * cur, events, started_us and offsets_due; the other one's are in other (txn_lane swaps them). Nothing is
     * held then (rows of distinct keys, in no order between chunks), but commits stay strictly one after the
     * other, and each offset record names only the chunks of its own lane and those already committed
     * (txn_snap_hooks_t's lane): a crash between the two lanes' commits loses the other lane's transaction
     * and its chunks are read again, none is published twice. Lanes end with the other lane's transaction
     * committed and what follows held until it is in the log: per-key order for what streams next. */
    pub_t *ring[TXN_PRODUCERS];
    size_t cur;
    size_t next_free;             /* where the search for a free producer starts (pick_free) */
    pub_t *pub;
    pub_t *prev;
    bool lanes;
    int lane;                     /* the current lane (0 or 1) */
    lane_t other;
    bool offsets_due;             /* the open transaction has not produced its copy of the offset record yet */
    int wake_fd;                  /* eventfd both producers wake the caller's poll with */
    buf_t offkey, offval;
    off_pos_t stored;             /* newest offset committed to Kafka */
    off_pos_t pending;            /* offset of everything decoded so far (the next commit's record) */
    off_pos_t committing;         /* offset record of the commit running in the background */
    uint64_t flushed;             /* committed to Kafka (with its offset record): safe to confirm */
    char system_id[32];
    uint32_t timeline;
    int64_t started_us;           /* the open transaction's begin */
    int64_t commit_start_us;
    int64_t commit_max_us;
    uint64_t events;              /* records in the open transaction */
    uint64_t commits, records;
    /* the first failed delivery of the open transaction */
    wc_status_t delivery;
    char delivery_err[1024];
    txn_snap_hooks_t snap;        /* snapshots: their keys in the offset records */
    bool small_batches;           /* a batch was refused as too large: producers made since send small ones */
    /* GET /metrics and the latency trace: the source transactions in the open Kafka transaction and in
     * the one committing */
    hist_t *h_src, *h_commit;
    txn_start_times_t times;      /* the start's marks (txn_start_times) */
    src_note_t *src_open, *src_committing;
    size_t nsrc_open, nsrc_committing, capsrc_open, capsrc_committing;
    uint64_t src_txns;            /* source transactions in the open Kafka transaction (txn_holds_source) */
};

void txn_set_hists(txn_t *t, hist_t *src_to_kafka, hist_t *commit)
{
    t->h_src = src_to_kafka;
    t->h_commit = commit;
}

void txn_note_source_commit(txn_t *t, int64_t commit_us, uint32_t xid)
{
    t->src_txns++;
    if ((!t->h_src && log_get_level() > LOG_DEBUG) || commit_us <= 0)
        return;
    if (t->nsrc_open == t->capsrc_open) {
        t->capsrc_open = t->capsrc_open ? t->capsrc_open * 2 : 64;
        t->src_open = xrealloc(t->src_open, t->capsrc_open * sizeof *t->src_open);
    }
    t->src_open[t->nsrc_open++] = (src_note_t){ .commit_us = commit_us, .queued_us = wc_wall_us(), .xid = xid };
}

/* The commit started: what was noted so far belongs to it (the arrays swap, keeping their memory). */
static void src_commit_started(txn_t *t)
{
    src_note_t *a = t->src_committing;
    size_t cap = t->capsrc_committing;
    t->src_committing = t->src_open;
    t->capsrc_committing = t->capsrc_open;
    t->nsrc_committing = t->nsrc_open;
    t->src_open = a;
    t->capsrc_open = cap;
    t->nsrc_open = 0;
}

/* The commit succeeded after took_us: observed into the histograms. With WALCAST_LOG=debug, one
 * "latency trace" line per source transaction gives its way through walcast, all on the Unix epoch
 * clock in us: source_commit (the server's commit time), queued (its last record handed to the
 * producer), commit_start (the offset record produced, commit_transaction called), flushed (every
 * record of the Kafka transaction acknowledged by the broker), committed (EndTxn answered; the
 * markers, then the consumers' last stable offset, follow). scripts/bench.sh joins them on the xid
 * with its consumer's arrival times. */
static void src_commit_done(txn_t *t, const pub_t *p, int64_t took_us)
{
    if (t->h_commit)
        hist_observe(t->h_commit, took_us);
    int64_t now = wc_wall_us();
    for (size_t i = 0; t->h_src && i < t->nsrc_committing; i++)
        hist_observe(t->h_src, now - t->src_committing[i].commit_us);
    if (log_get_level() <= LOG_DEBUG) {
        pub_commit_times_t ct = pub_txn_commit_times(p);
        for (size_t i = 0; i < t->nsrc_committing; i++) {
            const src_note_t *n = &t->src_committing[i];
            log_debug("latency trace", "xid=%u source_commit_us=%lld queued_us=%lld commit_start_us=%lld flushed_us=%lld committed_us=%lld",
                      n->xid, (long long)n->commit_us, (long long)n->queued_us, (long long)ct.start_us,
                      (long long)ct.flushed_us, (long long)ct.committed_us);
        }
    }
    t->nsrc_committing = 0;
}

/* the replication loop's clock: deadlines compare with it */
static int64_t now_us(void) { return wc_mono_us(); }

static void on_ack(void *ctx, uint64_t tag, wc_status_t st, const char *errstr)
{
    txn_t *t = ctx;
    (void)tag;
    /* the first failure names the cause, unless a later one is worse: a record refused for good
     * must not hide behind the purge errors an abort reports for the others */
    if (st != WC_OK && (t->delivery == WC_OK || st > t->delivery)) {
        t->delivery = st;
        snprintf(t->delivery_err, sizeof t->delivery_err, "Kafka did not accept a record: %s", errstr ? errstr : "?");
    }
}

static void on_wait(void *ctx)
{
    txn_t *t = ctx;
    if (t->wait)
        t->wait(t->wait_ctx);
}

/* The connectors (by name) whose batches a broker refused as too large, for the rest of the process: a
 * restart (through REST, or after an error) makes its producers with small batches from the start instead
 * of meeting the refusal, and its abort, once more. */
static pthread_mutex_t refused_mu = PTHREAD_MUTEX_INITIALIZER;
static char **refused_names;
static size_t nrefused;

static bool refused_before(const char *name)
{
    bool found = false;
    pthread_mutex_lock(&refused_mu);
    for (size_t i = 0; i < nrefused && !found; i++)
        found = strcmp(refused_names[i], name) == 0;
    pthread_mutex_unlock(&refused_mu);
    return found;
}

static void refused_note(const char *name)
{
    if (refused_before(name))
        return;
    pthread_mutex_lock(&refused_mu);
    refused_names = xrealloc(refused_names, (nrefused + 1) * sizeof *refused_names);
    refused_names[nrefused++] = xstrdup(name);
    pthread_mutex_unlock(&refused_mu);
}

bool txn_small_batches(const txn_t *t) { return t->small_batches; }

static bool make_producer(txn_t *t, pub_t **p, const char *transactional_id, char *err, size_t errlen)
{
    *p = pub_new_batches(t->w, t->client_id, transactional_id, t->small_batches, on_ack, on_wait, t, err, errlen);
    if (!*p)
        return false;
    pub_set_topic_hook(*p, &t->cfg->topics);
    pub_set_wake_fd(*p, t->wake_fd);
    return true;
}

txn_t *txn_new(const conn_config_t *cfg, const worker_config_t *w, pub_wait_fn wait, void *wait_ctx, char *err,
               size_t errlen)
{
    txn_t *t = xcalloc(1, sizeof *t);
    t->cfg = cfg;
    t->w = w;
    t->wait = wait;
    t->wait_ctx = wait_ctx;
    if ((t->small_batches = refused_before(cfg->name)))
        log_info("Kafka refused a batch of this connector as too large before: its producers send batches of "
                 "1,000,000 bytes", "connector=%s", cfg->name);
    snprintf(t->client_id, sizeof t->client_id, "walcast-%s", cfg->name);
    buf_init(&t->offkey);
    buf_init(&t->offval);
    off_key(&t->offkey, cfg->name, cfg->topic_prefix);
    t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->wake_fd < 0) {
        snprintf(err, errlen, "cannot create the producers' wake-up descriptor: %s", strerror(errno));
        txn_free(t);
        return NULL;
    }
    for (size_t i = 0; i < TXN_PRODUCERS; i++) {
        char id[sizeof t->client_id + 16];
        snprintf(id, sizeof id, i ? "%s/%zu" : "%s", t->client_id, i);
        if (!make_producer(t, &t->ring[i], id, err, errlen)) {
            txn_free(t);
            return NULL;
        }
    }
    t->pub = t->ring[0];
    t->next_free = 1;
    return t;
}

void txn_free(txn_t *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        pub_free(t->ring[i]);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    buf_free(&t->offkey);
    buf_free(&t->offval);
    free(t->src_open);
    free(t->src_committing);
    free(t);
}

/* One producer's InitProducerId (pub_txn_init), on a thread of its own (txn_start). */
typedef struct init_job {
    pub_t *pub;
    volatile sig_atomic_t *stop;
    pthread_t thread;
    bool threaded;
    wc_status_t st;
    char err[1024];
} init_job_t;

static void *init_main(void *arg)
{
    init_job_t *j = arg;
    j->st = pub_txn_init(j->pub, j->stop, j->err, sizeof j->err);
    return NULL;
}

wc_status_t txn_start(txn_t *t, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    t->stop = stop;
    /* All fenced before the offsets are read: an older instance commits on none after that. The producers'
     * InitProducerId run at once, each blocking on a thread of its own: one after the other their round
     * trips (connections, FindCoordinator, InitProducerId) added up, three times over to a remote broker
     * (on a local one the three take ~12 ms either way: the broker seems to answer them in turn; issue 21).
     * Every one is waited for, whatever the others' outcome. */
    init_job_t jobs[TXN_PRODUCERS];
    memset(jobs, 0, sizeof jobs);
    for (size_t i = 0; i < TXN_PRODUCERS; i++) {
        jobs[i] = (init_job_t){ .pub = t->ring[i], .stop = stop };
        /* a thread that cannot be made: its producer is started below, on this thread */
        jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, init_main, &jobs[i]) == 0;
    }
    /* Meanwhile the offsets reader's clients are made and connected and the topic's partitions learnt
     * (ktop_open reads no offset and no end): 3-10 ms of every start. Its ends and records are read only
     * after every producer is fenced. When it cannot be opened now (Kafka not there yet: it gives up at
     * the first failed request, so a stop is not held up), it is opened after the fencing, as before. */
    char oerr[1024];
    ktop_create_t oc = off_topic_create(t->w);
    ktop_reader_t *rd = ktop_open(t->w->bootstrap_servers, &t->w->producer, t->w->offset_topic, "offsets topic", &oc, false,
                                  oerr, sizeof oerr);
    if (rd)
        t->times.reader_open = wc_mark_now();
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        if (!jobs[i].threaded)
            init_main(&jobs[i]);
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        if (jobs[i].threaded)
            pthread_join(jobs[i].thread, NULL);
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        if (jobs[i].st != WC_OK) {
            ktop_close(rd);
            snprintf(err, errlen, "%s", jobs[i].err);
            return jobs[i].st;
        }
    t->times.ready = wc_mark_now();
    if (!rd && !(rd = ktop_open(t->w->bootstrap_servers, &t->w->producer, t->w->offset_topic, "offsets topic", &oc, true,
                                err, errlen)))
        return WC_FATAL;
    /* a stop while another producer's open transaction holds the read back ends it (it may wait 16 min) */
    ktop_set_stop(rd, stop);
    int orc = off_read_from(rd, t->w->offset_topic, t->cfg->name, t->cfg->topic_prefix, &t->stored, err, errlen);
    ktop_close(rd);
    if (orc == KTOP_STOPPED)
        return WC_RETRY;
    if (orc < 0)
        return WC_FATAL;
    t->times.offsets = wc_mark_now();
    if (t->stored.found)
        t->flushed = t->stored.lsn;
    t->pending = t->stored;
    return WC_OK;
}

txn_start_times_t txn_start_times(const txn_t *t) { return t->times; }

const off_pos_t *txn_stored(const txn_t *t) { return &t->stored; }
off_pos_t *txn_pending(txn_t *t) { return &t->pending; }
uint64_t txn_flushed(const txn_t *t) { return t->flushed; }
bool txn_open(const txn_t *t) { return pub_txn_open(t->pub); }
bool txn_committing(const txn_t *t) { return t->prev != NULL; }
int txn_wake_fd(const txn_t *t) { return t->wake_fd; }
const char *txn_transactional_id(const txn_t *t) { return pub_transactional_id(t->pub); }

bool txn_held(const txn_t *t)
{
    return t->prev && pub_deferred_bytes(t->pub) > DEFER_MAX_BYTES;
}

size_t txn_deferred_bytes(const txn_t *t) { return pub_deferred_bytes(t->pub); }

size_t txn_deferred_allocated(const txn_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        n += pub_deferred_allocated(t->ring[i]);
    return n;
}

void txn_forget_stored(txn_t *t)
{
    memset(&t->stored, 0, sizeof t->stored);
    t->pending = t->stored;
    t->flushed = 0;
}

void txn_flushed_at_least(txn_t *t, uint64_t lsn)
{
    if (lsn > t->flushed)
        t->flushed = lsn;
}

void txn_set_origin(txn_t *t, const char *system_id, uint32_t timeline)
{
    snprintf(t->system_id, sizeof t->system_id, "%s", system_id);
    t->timeline = timeline;
}

txn_stats_t txn_stats(const txn_t *t)
{
    int in_flight = 0;
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        in_flight += pub_outstanding(t->ring[i]);
    return (txn_stats_t){ .commits = t->commits, .records = t->records, .slowest_commit_us = t->commit_max_us,
                          .in_flight = in_flight };
}

/* The copy of the last offset record, produced with the open transaction's first records (see struct txn) */
static wc_status_t offsets_early(txn_t *t, char *err, size_t errlen)
{
    if (!t->offsets_due)
        return WC_OK;
    t->offsets_due = false;
    return pub_txn_offset(t->pub, t->w->offset_topic, &t->offkey, &t->offval, err, errlen);
}

/* The records held in pub go out once every record of prev's transaction is in the log. */
static wc_status_t release(txn_t *t, char *err, size_t errlen)
{
    if (!pub_txn_held(t->pub) || (t->prev && !pub_txn_delivered(t->prev)))
        return WC_OK;
    /* the copy goes with the first records (txn_send when none is kept yet: a transaction is opened at a
     * source transaction's BEGIN): produced alone, its partition was registered in an AddPartitionsToTxn of
     * its own and the records' in a second one (1 ms timer and a round trip more, in 1 commit of 5) */
    wc_status_t st = pub_txn_open(t->pub) && pub_deferred(t->pub) ? offsets_early(t, err, errlen) : WC_OK;
    return st == WC_OK ? pub_txn_hold(t->pub, false, err, errlen) : st;
}

wc_status_t txn_ensure(txn_t *t, char *err, size_t errlen)
{
    if (pub_txn_open(t->pub))
        return WC_OK;
    t->events = pub_deferred(t->pub);
    wc_status_t st = pub_txn_begin(t->pub, err, errlen);
    if (st != WC_OK)
        return st;
    t->started_us = now_us();
    /* none before the first commit of this process, nor after a rewind: the commit registers it then */
    t->offsets_due = t->offval.len > 0;
    log_debug("kafka transaction begun", "n=%llu", (unsigned long long)t->commits + 1);
    return WC_OK;
}

wc_status_t txn_send(txn_t *t, const rec_t *r, char *err, size_t errlen)
{
    wc_status_t st = pub_txn_open(t->pub) ? WC_OK : txn_ensure(t, err, errlen);
    if (st == WC_OK)
        st = release(t, err, errlen);
    if (st == WC_OK && !pub_txn_held(t->pub))
        st = offsets_early(t, err, errlen);
    if (st == WC_OK)
        st = pub_send(t->pub, r, 0, err, errlen);
    if (st != WC_OK)
        return st;
    if (!t->records)
        t->times.first_record = wc_mark_now();
    t->records++;
    t->events++;
    return WC_OK;
}

bool txn_holds_source(const txn_t *t)
{
    return t->src_txns > 0;
}

bool txn_due(const txn_t *t, bool caught_up, int64_t now, int64_t *deadline_us)
{
    const conn_config_t *c = t->cfg;
    if (!pub_txn_open(t->pub) || t->prev)
        return false;
    if (t->events >= (uint64_t)c->txn_max_events)
        return true;
    int64_t due = t->started_us + (int64_t)c->txn_max_ms * 1000;
    if (caught_up && t->started_us + (int64_t)c->txn_min_ms * 1000 < due)
        due = t->started_us + (int64_t)c->txn_min_ms * 1000;
    if (now >= due)
        return true;
    if (deadline_us && due < *deadline_us)
        *deadline_us = due;
    return false;
}

/* prev's commit succeeded: its offset record is the stored one, the slot may be confirmed to it. */
static void committed(txn_t *t)
{
    t->stored = t->committing;
    if (t->snap.committed)
        t->snap.committed(t->snap.ctx);
    if (t->stored.lsn > t->flushed)
        t->flushed = t->stored.lsn;
}

wc_status_t txn_collect(txn_t *t, bool block, char *err, size_t errlen)
{
    if (!t->prev || (!block && !pub_txn_commit_ready(t->prev)))
        return WC_OK;
    if (!pub_txn_committing(t->prev)) {
        /* its failure was collected: nothing commits after it before txn_rewind */
        snprintf(err, errlen, "the previous Kafka commit failed; the open transaction cannot commit after it");
        return WC_ABORT;
    }
    wc_status_t st = pub_txn_commit_wait(t->prev, err, errlen);
    if (st != WC_OK)
        return st;   /* prev's transaction counts as open again (prev stays set): txn_rewind aborts it and pub's */
    committed(t);
    t->commits++;
    int64_t took = now_us() - t->commit_start_us;
    if (took > t->commit_max_us)
        t->commit_max_us = took;
    src_commit_done(t, t->prev, took);
    log_debug("kafka transaction committed", "n=%llu lsn=%llu", (unsigned long long)t->commits,
              (unsigned long long)t->stored.lsn);
    t->prev = NULL;
    /* what the open transaction still holds goes out now (pub_txn_delivered may not have been seen) */
    return release(t, err, errlen);
}

/* A producer with no transaction and no turn (neither lane's, nor committing), the ring walked in turn. The
 * fourth takes turns only with lanes: each producer that takes turns keeps its own librdkafka buffers (and
 * its broker thread its own heap arena), so without lanes three are enough (see struct txn). */
static size_t pick_free(txn_t *t)
{
    size_t n = t->lanes ? TXN_PRODUCERS : TXN_PRODUCERS - 1;
    for (size_t k = 0; k < n; k++) {
        size_t i = (t->next_free + k) % n;
        pub_t *p = t->ring[i];
        if (p != t->pub && p != t->prev && p != t->other.pub && !pub_txn_open(p)) {
            t->next_free = (i + 1) % n;
            return i;
        }
    }
    /* not reached: at most three have a turn with lanes, two without */
    size_t i = t->next_free % n;
    t->next_free = (i + 1) % n;
    return i;
}

static void lane_swap(txn_t *t)
{
    lane_t cur = { .pub = t->pub, .cur = t->cur, .events = t->events, .started_us = t->started_us,
                   .offsets_due = t->offsets_due };
    t->pub = t->other.pub;
    t->cur = t->other.cur;
    t->events = t->other.events;
    t->started_us = t->other.started_us;
    t->offsets_due = t->other.offsets_due;
    t->other = cur;
    t->lane = !t->lane;
    if (!t->pub) {   /* the lane's first turn */
        t->cur = pick_free(t);
        t->pub = t->ring[t->cur];
        t->events = 0;
        t->offsets_due = false;
        char e[64];
        pub_txn_hold(t->pub, false, e, sizeof e);   /* nothing kept: produces nothing */
    }
}

void txn_lane(txn_t *t, int lane)
{
    if (t->lanes && lane != t->lane)
        lane_swap(t);
}

/* Lanes end: back on lane 0, the other lane carries no open transaction and no producer. */
static void lanes_off(txn_t *t)
{
    if (t->lane)
        lane_swap(t);
    t->other = (lane_t){ 0 };
    t->lanes = false;
}

wc_status_t txn_set_lanes(txn_t *t, bool on, char *err, size_t errlen)
{
    wc_status_t st;
    if (on == t->lanes)
        return WC_OK;
    if (on) {
        /* everything sent so far in the log first: what the second lane sends cannot overtake it (a table's
         * first record, first_in_data_collection, stays its first in the partition) */
        if ((st = txn_collect(t, true, err, errlen)) != WC_OK || (st = release(t, err, errlen)) != WC_OK)
            return st;
        while (!pub_txn_delivered(t->pub)) {
            if (t->stop && *t->stop) {
                snprintf(err, errlen, "stopped during the snapshot");
                return WC_RETRY;
            }
            pub_poll(t->pub, 10);
            if (t->delivery != WC_OK) {
                snprintf(err, errlen, "%s", t->delivery_err);
                return t->delivery;
            }
        }
        t->lanes = true;
        t->lane = 0;
        t->other = (lane_t){ 0 };
        log_debug("kafka transaction lanes on", "connector=%s", t->cfg->name);
        return WC_OK;
    }
    if (t->lane)
        lane_swap(t);
    if (t->other.pub && pub_txn_open(t->other.pub)) {
        /* the other lane's transaction commits now, after the commit running (txn_commit collects it) */
        lane_swap(t);
        st = txn_commit(t, false, err, errlen);
        lane_swap(t);
        if (st != WC_OK)
            return st;
    }
    lanes_off(t);
    /* what comes next waits until the committing lane's records are in the log (release): order per
     * partition again, for the changes that stream after the snapshot */
    return t->prev ? pub_txn_hold(t->pub, true, err, errlen) : WC_OK;
}

wc_status_t txn_commit(txn_t *t, bool block, char *err, size_t errlen)
{
    wc_status_t st;
    if (t->prev && (st = txn_collect(t, true, err, errlen)) != WC_OK)
        return st;
    if (!pub_txn_open(t->pub))
        return WC_OK;
    if (t->delivery != WC_OK) {
        snprintf(err, errlen, "%s", t->delivery_err);
        return t->delivery;
    }
    snprintf(t->pending.system_id, sizeof t->pending.system_id, "%s", t->system_id);
    t->pending.timeline = t->timeline;
    /* no offset record without a known position: before any change (a heartbeat first), the
     * position is where the slot was confirmed when streaming started */
    if (!t->pending.found && t->flushed) {
        t->pending.found = true;
        t->pending.lsn = t->pending.lsn_proc = t->pending.lsn_commit = t->flushed;
    }
    if (!t->pending.found) {
        snprintf(err, errlen, "no known position to record in the offsets topic yet");
        return WC_ABORT;
    }
    if (t->snap.offsets)
        t->snap.offsets(t->snap.ctx, t->lane, &t->pending);
    t->offsets_due = false;
    buf_reset(&t->offval);
    off_value(&t->offval, &t->pending);
    t->committing = t->pending;
    t->commit_start_us = now_us();
    src_commit_started(t);
    t->src_txns = 0;
    if ((st = pub_txn_commit_start(t->pub, t->w->offset_topic, &t->offkey, &t->offval, err, errlen)) != WC_OK)
        return st;
    /* the next producer's turn: its transaction takes records while this one commits, holding them
     * until this one's are all in the log */
    t->prev = t->pub;
    t->cur = pick_free(t);
    t->pub = t->ring[t->cur];
    /* records are kept by one producer at a time, the open one: the buffer they grew goes with its turn.
     * Each producer growing its own held up to 3 x 16 MB in a snapshot's RSS (3 x 64 MB streaming); freed
     * after use instead, glibc's mmap threshold rose to its size and the arenas kept more (issue 21). */
    pub_swap_deferred(t->prev, t->pub);
    if ((st = pub_txn_hold(t->pub, !t->lanes, err, errlen)) != WC_OK)
        return st;
    return block ? txn_collect(t, true, err, errlen) : WC_OK;
}

wc_status_t txn_poll(txn_t *t, int timeout_ms, char *err, size_t errlen)
{
    for (size_t i = 0; i < TXN_PRODUCERS; i++)   /* prev's reports are served by its commit; the third has */
        if (i != t->cur)                           /* nothing in flight, its events (errors) are served all the same */
            pub_poll(t->ring[i], 0);
    wc_status_t st = release(t, err, errlen);
    if (st != WC_OK)
        return st;
    pub_poll(t->pub, timeout_ms);
    if (!t->prev && t->delivery != WC_OK) {
        snprintf(err, errlen, "%s", t->delivery_err);
        return t->delivery;
    }
    return WC_OK;
}

void txn_throttle(txn_t *t, int max_queued, volatile sig_atomic_t *stop)
{
    while (pub_outstanding(t->pub) > max_queued && !*stop)
        pub_push(t->pub, 5);
}

/* ring[i] replaced by a new producer under the same transactional.id (its transaction aborted or gone). */
static wc_status_t renew(txn_t *t, size_t i, char *err, size_t errlen)
{
    char id[sizeof t->client_id + 16];
    snprintf(id, sizeof id, "%s", pub_transactional_id(t->ring[i]));
    bool was_pub = t->pub == t->ring[i];
    pub_free(t->ring[i]);
    t->ring[i] = NULL;
    if (was_pub)
        t->pub = NULL;
    if (!make_producer(t, &t->ring[i], id, err, errlen))
        return WC_FATAL;
    if (was_pub)
        t->pub = t->ring[i];
    wc_status_t st = pub_txn_init(t->ring[i], t->stop, err, errlen);
    return st == WC_OK ? WC_OK : st == WC_RETRY ? WC_RETRY : WC_FATAL;
}

wc_status_t txn_rewind(txn_t *t, wc_status_t cause, char *err, size_t errlen)
{
    char aerr[512];
    /* both lanes' transactions are aborted below with the rest (every open one is) */
    lanes_off(t);
    /* a commit that went through before the failure still counts; a failed one is open again and
     * aborted below with the transaction that followed it */
    if (t->prev && pub_txn_committing(t->prev) && pub_txn_commit_wait(t->prev, aerr, sizeof aerr) == WC_OK)
        committed(t);
    t->prev = NULL;
    /* the last offset record produced may be the failed commit's: no copy of it */
    t->offsets_due = false;
    buf_reset(&t->offval);
    pub_discard_deferred(t->pub);
    pub_txn_hold(t->pub, false, aerr, sizeof aerr);   /* nothing kept: produces nothing */
    bool fatal_abort = false, renewed = false;
    /* the older transaction first: ring[cur + 1] has none open, ring[cur + 2] is the one that committed */
    for (size_t k = 1; k <= TXN_PRODUCERS; k++) {
        size_t i = (t->cur + k) % TXN_PRODUCERS;
        if (!pub_txn_open(t->ring[i]))
            continue;
        bool expired = pub_txn_expired(t->ring[i]);
        wc_status_t a = pub_txn_abort(t->ring[i], aerr, sizeof aerr);
        if (a == WC_FATAL) {
            /* the abort's error names the real cause (fenced by another instance, ...); the first
             * symptom, e.g. records purged from the queue, does not */
            log_error("first symptom of the failure", "error=\"%s\"", log_esc(err));
            snprintf(err, errlen, "%s", aerr);
        }
        /* not when told to stop: a worker that lost the connector (cut off from Kafka longer than the
         * transaction timeout) is fenced by the new owner, and a new producer of its own would fence
         * that owner in turn */
        if ((a == WC_FATAL || cause == WC_FATAL) && expired && !(t->stop && *t->stop)) {
            /* the broker aborted ring[i]'s transaction at its timeout and bumped its epoch: that producer is
             * done, but nobody else took over; a new one under the same id goes on */
            log_warn("the Kafka transaction outlived transaction.timeout.ms and the broker aborted it; starting a new producer",
                     "connector=%s error=\"%s\"", t->cfg->name, log_esc(err));
            wc_status_t r = renew(t, i, err, errlen);
            if (r != WC_OK)
                return r;
            renewed = true;
        } else if (a == WC_FATAL)
            fatal_abort = true;
    }
    /* a fatal cause (the commit of an expired transaction fenced) is cured by the new producer */
    wc_status_t st = fatal_abort || (cause == WC_FATAL && !renewed) ? WC_FATAL : cause == WC_FATAL ? WC_RETRY : cause;
    /* the failed commit may have returned before its delivery reports were served */
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        pub_poll(t->ring[i], 0);
    bool refused = false;
    for (size_t i = 0; i < TXN_PRODUCERS; i++)
        refused = refused || pub_batch_refused(t->ring[i]);
    if (refused && !t->small_batches && st != WC_FATAL && t->delivery != WC_PERMANENT && !(t->stop && *t->stop)) {
        /* records that do not compress (the broker bounds a batch compressed): small batches from now on,
         * for every producer of the connector, and the transaction sent again after the rewind */
        log_warn("Kafka refused a batch as too large (the topic's max.message.bytes bounds a compressed batch, and "
                 "these records do not compress); the transaction was aborted and is sent again, in batches of "
                 "1,000,000 bytes from now on (also after a restart of the connector, until walcast restarts). To avoid it, set producer.batch.size=1000000 in the worker file or "
                 "raise the topic's max.message.bytes", "connector=%s batch_bytes=%d error=\"%s\"", t->cfg->name,
                 PUB_BATCH_BYTES, log_esc(t->delivery_err));
        t->small_batches = true;
        refused_note(t->cfg->name);
        for (size_t i = 0; i < TXN_PRODUCERS && st != WC_FATAL; i++) {
            wc_status_t r = renew(t, i, err, errlen);
            if (r != WC_OK)
                st = r;   /* (the rest of the rewind still runs) */
        }
    }
    if (t->delivery == WC_PERMANENT) {
        /* the same record would be refused again after a rewind: stop, name it */
        snprintf(err, errlen, "%s", t->delivery_err);
        st = WC_PERMANENT;
    }
    t->delivery = WC_OK;
    t->pending = t->stored;
    t->nsrc_open = t->nsrc_committing = 0;   /* sent again after the rewind, noted again then */
    t->src_txns = 0;
    if (t->snap.rewound)
        t->snap.rewound(t->snap.ctx);
    return st == WC_FATAL || st == WC_PERMANENT ? st : WC_RETRY;
}

void txn_shutdown(txn_t *t, bool mid_source_txn)
{
    char err[512];
    if (t->lanes) {
        /* stopped during a snapshot's lanes: the other lane's chunks are read again on restart (the offset
         * record committed below names none of them) */
        if (t->lane)
            lane_swap(t);
        if (t->other.pub && pub_txn_open(t->other.pub) && pub_txn_abort(t->other.pub, err, sizeof err) != WC_OK)
            log_warn("cannot abort a snapshot lane's Kafka transaction on shutdown", "error=\"%s\"", log_esc(err));
        lanes_off(t);
    }
    if (txn_collect(t, true, err, sizeof err) != WC_OK) {
        log_warn("the last Kafka commit failed on shutdown; it will be sent again on restart", "error=\"%s\"", log_esc(err));
        t->prev = NULL;
        for (size_t k = 1; k <= TXN_PRODUCERS; k++)   /* the failed one (open again), then the one after it */
            if (pub_txn_open(t->ring[(t->cur + k) % TXN_PRODUCERS]))
                pub_txn_abort(t->ring[(t->cur + k) % TXN_PRODUCERS], err, sizeof err);
        return;
    }
    if (mid_source_txn) {
        /* a partial source transaction: the slot sends it again */
        if (pub_txn_open(t->pub) && pub_txn_abort(t->pub, err, sizeof err) != WC_OK)
            log_warn("cannot abort the Kafka transaction on shutdown", "error=\"%s\"", log_esc(err));
    } else if (txn_commit(t, true, err, sizeof err) != WC_OK) {
        log_warn("cannot commit the last Kafka transaction on shutdown; it will be sent again on restart",
                 "error=\"%s\"", log_esc(err));
        if (pub_txn_open(t->pub))
            pub_txn_abort(t->pub, err, sizeof err);
    }
}

void txn_set_snap_hooks(txn_t *t, const txn_snap_hooks_t *h) { t->snap = *h; }

char *txn_take_snap_state(txn_t *t, bool incremental)
{
    char **p = incremental ? &t->stored.inc_state : &t->stored.snap_state;
    char *v = *p;
    *p = NULL;
    if (incremental)
        t->pending.inc_state = NULL;
    else
        t->pending.snap_state = NULL;
    return v;
}
