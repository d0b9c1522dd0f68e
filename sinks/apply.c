/* apply.c: a sink's consumer loop: read_committed records in batches, decoded, reduced to one change per
 * key, applied to the target with the consumed offsets in the same transaction; positions come from the target. */
#include "schemas/clock.h"
#include "sinks/apply.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "agent/log.h"
#include "schemas/registry.h"
#include "sinks/conflict.h"
#include "sinks/dialect.h"
#include "sinks/envelope.h"

/* One consumed record of the pending batch; raw bytes are kept for the dead-letter topic. */
typedef struct sink_rec {
    const char *topic;
    const char *dest;    /* the topic after the sink's transforms (table names, Kafka coordinates): topic if none */
    int32_t partition;
    int64_t offset;
    const char *key, *val;
    size_t klen, vlen;
    bool ok;             /* decoded; false: poison already handled */
    bool key_moved;      /* carries __debezium.oldkey: the create half of a primary-key change */
    env_event_t ev;
    rd_kafka_message_t *msg;   /* the consumed message key and val point into (held until the batch is
                                  dropped: no copy per record); NULL when they live in the arena */
} sink_rec_t;

/* A destination table of the current batch: name + row schema (a schema change makes a new entry). */
typedef struct btable {
    sk_table_t t;
    const char *topic;
    const cs_schema_t *src_row;  /* the event's row schema (t.row without the version column, if it had one) */
    bool kafka_cols;      /* primary.key.mode=kafka: t.row ends with __connect_topic/partition/offset */
    int drop_idx;         /* the version column's index in src_row (a row that came from a target of another
                             sink, bidirectional setups): the version is this sink's, not the row's; -1: none */
    int *pk_idx;          /* index of each pk column in t.row */
    struct btable *next;
    /* unchanged TOASTed columns: a table of fewer columns for rows that lack some (see narrow_to) */
    const struct btable *base;   /* the whole table this one narrows, NULL: whole */
    const bool *absent;          /* which of base's columns this one lacks */
    struct btable *narrowed;     /* whole tables: their narrowed variants of this batch */
} btable_t;

/* Where the sink thread's time goes (logged as "sink stage times" when it stops; scripts/bench_sink.sh
 * prints it): wall time per stage; for the stages run once per batch also the thread's CPU time and how often
 * it blocked (voluntary context switches). The per-record stages (poll, decode) are timed only with
 * WALCAST_SINK_STAGE_TIMES=1 (four clock reads a record, ~5% of the thread's CPU); their CPU is the
 * thread's total minus the batch stages'. */
typedef enum {
    SP_POLL,      /* consumer polls that returned a record */
    SP_EMPTY,     /* consumer polls that returned nothing (waiting for a fetch) */
    SP_DECODE,    /* decoding (and transforming) a record into the batch */
    SP_PLAN,      /* the batch's changes: tables, reduction per key, offsets */
    SP_SEND,      /* BEGIN, tables ensured, statements built and sent */
    SP_OFFSETS,   /* the offsets row */
    SP_COMMIT,    /* COMMIT (and what is held for it: COPY data), sent or waited for */
    SP_SETTLE,    /* waiting for the outcome of the deferred commit of the batch before */
    SP_DONE,      /* counting, group offsets */
    SP_N
} sp_stage_t;

static const char *const sp_name[SP_N] = { "poll", "empty_poll", "decode", "plan", "send", "offsets", "commit",
                                           "settle", "done" };

typedef struct sp_acc {
    int64_t wall_ns[SP_N], cpu_ns[SP_N];
    long blocks[SP_N];
    uint64_t rows, batches;
    int64_t at_ns, cpu_at_ns, runq_at_ns;   /* when this copy was taken: the window's end */
} sp_acc_t;

typedef struct sp_mark {
    int64_t wall, cpu;
    long vcsw;
} sp_mark_t;

typedef struct tracked_topic {
    char *topic;
    wc_topic_mark_t mark;
} tracked_topic_t;

/* The thread that wakes the fetcher (fetch_wake). */
typedef struct waker {
    pthread_t th;
    bool started, want, quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rd_kafka_t *rk;
    char topic[256];
    int32_t partition;
    _Atomic uint64_t wakes;   /* requests made */
} waker_t;

typedef struct sink {
    tracked_topic_t *tracked;     /* topic tracking: the topics consumed so far, told to the worker */
    size_t ntracked;
    const sk_config_t *cfg;
    const sk_kafka_t *kafka;
    volatile sig_atomic_t *stop;
    const sk_target_ops_t *ops;
    sk_target_t *tgt;
    rd_kafka_t *rk;
    rd_kafka_t *dlq;
    env_decoder_t *dec;
    tf_chain_t *tf;          /* transforms=: after decoding, before applying; NULL: none */
    char **flat_topics;      /* topics whose records came out of their envelope: a Kafka null there deletes */
    size_t nflat;
    arena_t *arena;          /* the batch: records, values, changes */
    sink_rec_t *recs;
    size_t nrec, caprec;
    btable_t *tables;        /* of this batch (arena) */
    sr_client_t *registry;   /* Avro input: writer schemas by id (created on the first Avro record) */
    wc_status_t cb_status;   /* what rebalance_cb met (a callback returns nothing): WC_OK, or the sink stops */
    char err[1024];          /* why the sink stops: the err of every step below (sk_run's why) */
    uint64_t applied, batches, dead;
    sk_conflict_count_t conflicts;
    /* a batch whose COMMIT was sent but not confirmed (targets with commit_wait): the next batch is read
     * and decoded meanwhile; its records are gone, so a failure rewinds to the offsets stored in the target */
    bool defer;              /* ask the target to defer the commit of the batch being applied */
    bool pending;
    bool sync_next;          /* after a deferred failure: the next batch waits for its commit (poison search) */
    size_t pend_nrec;
    sk_offset_t *pend_offs;  /* malloc'ed, topics too */
    size_t pend_noffs;
    int64_t pend_src_us;
    /* the positions shown to the consumer group (lag only), committed at most once a second */
    rd_kafka_topic_partition_list_t *grp;
    int64_t grp_next_ms;
    buf_t tmp;
    buf_t keyval;            /* key_text's value text */
    /* how far the target is behind (the progress line) */
    int64_t last_src_us;     /* source commit time of the newest change applied */
    int64_t last_apply_us;   /* when it was applied */
    int64_t next_progress_ms;
    /* GET /metrics (sk_stats_t, NULL: none) */
    sk_stats_t *stats;
    uint64_t read, read_bytes, retries;
    int64_t batch_start_us;  /* wall time the batch's first record was read */
    int64_t pend_start_us;   /* the same for the batch whose commit is on its way */
    int64_t *pend_ts;        /* its records' source commit times (0: none), pend_nrec of them */
    int64_t next_stats_ms;
    /* stage times: cur accumulates; last is cur as of the last committed batch (the idle time after it is no
     * work); the window starts when the first record is read */
    sp_acc_t prof, prof_last;
    int64_t prof_t0, prof_cpu0, prof_runq0;
    bool prof_rec;           /* WALCAST_SINK_STAGE_TIMES=1: the per-record stages are timed too */
    /* waking the fetcher (fetch_wake): the consumer queue, its limits, the last wake */
    rd_kafka_queue_t *cq;
    int64_t q_max_bytes, q_min_msgs;
    int64_t wake_next_us;
    waker_t waker;
} sink_t;

static int64_t sp_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Nanoseconds this thread waited runnable for a CPU (preempted by other load), from the scheduler's
 * statistics; 0 where the kernel does not keep them. */
static int64_t sp_runq_ns(void)
{
    FILE *f = fopen("/proc/thread-self/schedstat", "r");
    long long on = 0, wait = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lld %lld", &on, &wait) != 2)
        wait = 0;
    fclose(f);
    return wait;
}

static void sp_begin(sp_mark_t *m, bool cpu)
{
    m->wall = sp_ns(CLOCK_MONOTONIC);
    m->cpu = -1;
    if (cpu) {
        struct rusage ru;
        m->cpu = sp_ns(CLOCK_THREAD_CPUTIME_ID);
        m->vcsw = getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
    }
}

static void sp_end(sink_t *s, sp_stage_t st, const sp_mark_t *m)
{
    s->prof.wall_ns[st] += sp_ns(CLOCK_MONOTONIC) - m->wall;
    if (m->cpu >= 0) {
        struct rusage ru;
        s->prof.cpu_ns[st] += sp_ns(CLOCK_THREAD_CPUTIME_ID) - m->cpu;
        if (getrusage(RUSAGE_THREAD, &ru) == 0)
            s->prof.blocks[st] += ru.ru_nvcsw - m->vcsw;
    }
}

/* The window starts (the first record read) */
static void sp_start(sink_t *s)
{
    if (s->prof_t0)
        return;
    memset(&s->prof, 0, sizeof s->prof);
    s->prof_t0 = sp_ns(CLOCK_MONOTONIC);
    s->prof_cpu0 = sp_ns(CLOCK_THREAD_CPUTIME_ID);
    s->prof_runq0 = sp_runq_ns();
}

/* A batch committed: the window reaches here */
static void sp_batch(sink_t *s, size_t nrec)
{
    if (!s->prof_t0)
        return;
    s->prof.rows += nrec;
    s->prof.batches++;
    s->prof.at_ns = sp_ns(CLOCK_MONOTONIC);
    s->prof.cpu_at_ns = sp_ns(CLOCK_THREAD_CPUTIME_ID);
    s->prof.runq_at_ns = sp_runq_ns();
    s->prof_last = s->prof;
}

static void sp_log(const sink_t *s)
{
    const sp_acc_t *a = &s->prof_last;
    if (!s->prof_t0 || !a->batches)
        return;
    char kv[1536];
    size_t at = (size_t)snprintf(kv, sizeof kv, "connector=%s task=%d rows=%" PRIu64 " batches=%" PRIu64
                                 " window_ms=%.1f thread_cpu_ms=%.1f runqueue_ms=%.1f fetch_wakes=%" PRIu64, log_esc(s->cfg->name),
                                 s->cfg->task, a->rows, a->batches, (a->at_ns - s->prof_t0) / 1e6,
                                 (a->cpu_at_ns - s->prof_cpu0) / 1e6, (a->runq_at_ns - s->prof_runq0) / 1e6, (uint64_t)atomic_load(&s->waker.wakes));
    for (int i = 0; i < SP_N && at < sizeof kv; i++) {
        if (i < SP_PLAN && !s->prof_rec)
            continue;
        at += (size_t)snprintf(kv + at, sizeof kv - at, " %s_ms=%.1f", sp_name[i], a->wall_ns[i] / 1e6);
        if (i >= SP_PLAN && at < sizeof kv)
            at += (size_t)snprintf(kv + at, sizeof kv - at, " %s_cpu_ms=%.1f %s_blocks=%ld", sp_name[i],
                                   a->cpu_ns[i] / 1e6, sp_name[i], a->blocks[i]);
    }
    log_info("sink stage times", "%s", kv);
}

/* Progress line interval: how far each target is behind, every few seconds. */
#define SINK_PROGRESS_MS 5000

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Waits ms in slices so that a stop request ends it; false when stopping. */
static bool backoff_wait(sink_t *s, int ms)
{
    for (int waited = 0; waited < ms; waited += 100) {
        if (*s->stop)
            return false;
        sleep_ms(ms - waited < 100 ? ms - waited : 100);
    }
    return !*s->stop;
}

static int next_backoff(const sink_t *s, int cur)
{
    int n = cur ? cur * 2 : 100;
    return n > s->cfg->retry_backoff_max_ms ? s->cfg->retry_backoff_max_ms : n;
}

/* ---- target session ---- */

static wc_status_t target_open(sink_t *s)
{
    int wait = 0;
    for (;;) {
        if (*s->stop)
            return WC_FATAL;
        char err[512] = "";
        wc_status_t st = s->ops->connect(s->cfg, &s->tgt, err, sizeof err);
        if (st == WC_OK)
            return WC_OK;
        if (st != WC_RETRY) {
            snprintf(s->err, sizeof s->err, "cannot connect to the %s target: %s", s->ops->name, err);
            return st;
        }
        wait = next_backoff(s, wait);
        s->retries++;
        log_warn("target not reachable, retrying", "connector=%s target=%s error=\"%s\" retry_in_ms=%d",
                 log_esc(s->cfg->name), s->ops->name, log_esc(err), wait);
        if (!backoff_wait(s, wait))
            return WC_FATAL;
    }
}

static void target_reset(sink_t *s)
{
    if (s->tgt) {
        s->ops->rollback(s->tgt);
        s->ops->close(s->tgt);
        s->tgt = NULL;
    }
}

/* ---- Kafka ---- */

/* Java consumer settings librdkafka does not know: renamed, or ignored with a warning. */
static const char *const java_consumer[][2] = {
    { "fetch.max.wait.ms", "fetch.wait.max.ms" }, { "max.poll.records", NULL }, { "key.deserializer", NULL },
    { "value.deserializer", NULL }, { "default.api.timeout.ms", NULL }, { "interceptor.classes", NULL },
};

static wc_status_t conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen);

/* A consumer setting from the worker (consumer.*) or the sink (consumer.override.*). */
static wc_status_t consumer_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof java_consumer / sizeof *java_consumer; i++) {
        if (strcmp(k, java_consumer[i][0]))
            continue;
        if (java_consumer[i][1])
            return conf_set(c, java_consumer[i][1], v, err, errlen);
        log_warn("Kafka consumer setting of the Java client ignored", "key=%s", k);
        return WC_OK;
    }
    return conf_set(c, k, v, err, errlen);
}

static wc_status_t conf_set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(c, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka setting %s: %s", k, e);
        return WC_FATAL;
    }
    return WC_OK;
}

static void drop_batch(sink_t *s)
{
    for (size_t i = 0; i < s->nrec; i++)
        if (s->recs[i].msg)
            rd_kafka_message_destroy(s->recs[i].msg);
    s->nrec = 0;
    s->tables = NULL;
    arena_reset(s->arena);
    env_decoder_trim(s->dec);   /* nothing decoded is in use now: the schema cache may start over */
}

/* Reads the target's stored offsets, retrying transient errors; WC_FATAL when stopping or failed (s->err
 * says why when failed). */
static wc_status_t stored_offsets(sink_t *s, sk_offset_t **offs, size_t *n)
{
    int wait = 0;
    for (;;) {
        char err[512] = "";
        if (!s->tgt && target_open(s) != WC_OK)
            return WC_FATAL;
        wc_status_t st = s->ops->read_offsets(s->tgt, s->cfg->name, offs, n, err, sizeof err);
        if (st == WC_OK)
            return WC_OK;
        target_reset(s);
        if (st != WC_RETRY) {
            snprintf(s->err, sizeof s->err, "cannot read walcast_sink_offsets: %s", err);
            return WC_FATAL;
        }
        wait = next_backoff(s, wait);
        log_warn("reading stored offsets failed, retrying", "connector=%s error=\"%s\" retry_in_ms=%d",
                 log_esc(s->cfg->name), log_esc(err), wait);
        if (!backoff_wait(s, wait))
            return WC_FATAL;
    }
}

static wc_status_t settle(sink_t *s, bool seek);

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    sink_t *s = opaque;
    /* a commit on its way settles first (the session is needed); whatever was read but not applied is
     * read again from the positions stored in the target */
    if (settle(s, false) == WC_FATAL)
        s->cb_status = WC_FATAL;
    drop_batch(s);
    if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, NULL);
        return;
    }
    sk_offset_t *offs = NULL;
    size_t n = 0;
    if (stored_offsets(s, &offs, &n) != WC_OK) {
        s->cb_status = WC_FATAL;
        rd_kafka_assign(rk, NULL);
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        p->offset = RD_KAFKA_OFFSET_BEGINNING;
        for (size_t k = 0; k < n; k++)
            if (offs[k].partition == p->partition && !strcmp(offs[k].topic, p->topic))
                p->offset = offs[k].offset;
        log_info("sink partition assigned", "connector=%s task=%d topic=%s partition=%d offset=%" PRId64,
                 log_esc(s->cfg->name), s->cfg->task, log_esc(p->topic), p->partition, p->offset);
    }
    for (size_t k = 0; k < n; k++)
        free(offs[k].topic);
    free(offs);
    rd_kafka_assign(rk, parts);
}

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (level <= 3)
        log_warn("kafka", "facility=%s detail=\"%s\"", fac, log_esc(buf));
}

/* A numeric setting of c (0 if it cannot be read). */
static int64_t conf_int(rd_kafka_conf_t *c, const char *k)
{
    char v[64];
    size_t n = sizeof v;
    return rd_kafka_conf_get(c, k, v, &n) == RD_KAFKA_CONF_OK ? strtoll(v, NULL, 10) : 0;
}

/* librdkafka 2.0.2 stops fetching while the consumer queue holds queued.max.messages.kbytes (or
 * queued.min.messages), and decides to fetch again only when its broker thread wakes up: on a response, an
 * op, or at the latest a second later. Debezium's JSON with schemas compresses ~80:1, so one fetch fills the
 * queue, the sink drains it in a fraction of that second and then waits, idle, for the next fetch
 * (bench_sink.sh: empty polls 50-65% of the sink's time on a quiet machine). So before a batch is applied
 * (full, or because the queue ran empty), if the queue has fallen well below its limits while the broker holds
 * at least a batch more (the partition's high watermark as of the last fetch: a sink that keeps up wakes
 * nothing), the fetcher is woken: a ListOffsets request to the partition's leader (the watermarks, thrown
 * away) is an op on that broker's thread, which then finds the queue has room and fetches while the sink
 * applies what it holds. The request waits for that broker thread (tens of ms while it reads a fetch), so a
 * thread of its own sends it; requests are coalesced, and made at most every WAKE_EVERY_US. */
#define WAKE_EVERY_US 20000

static void *waker_main(void *arg)
{
    waker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->want && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit)
            break;
        w->want = false;
        char topic[256];
        snprintf(topic, sizeof topic, "%s", w->topic);
        int32_t part = w->partition;
        pthread_mutex_unlock(&w->mu);
        int64_t lo, hi;
        (void)rd_kafka_query_watermark_offsets(w->rk, topic, part, &lo, &hi, 1000);
        pthread_mutex_lock(&w->mu);
        atomic_fetch_add(&w->wakes, 1);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void waker_start(sink_t *s)
{
    waker_t *w = &s->waker;
    w->rk = s->rk;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->started = pthread_create(&w->th, NULL, waker_main, w) == 0;
    if (!w->started) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
    }
}

static void waker_stop(sink_t *s)
{
    waker_t *w = &s->waker;
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->started = false;
}

/* Before a batch is applied: wakes the fetcher of the partition of r (the batch's last record) when the
 * consumer queue has fallen well below its limits while the broker holds more (see above). */
static void fetch_wake(sink_t *s, const sink_rec_t *r)
{
    waker_t *w = &s->waker;
    int64_t now = wc_wall_us();
    if (!w->started || !s->cq || now < s->wake_next_us || !s->read || !r->msg)
        return;
    int64_t qn = (int64_t)rd_kafka_queue_length(s->cq), avg = (int64_t)(s->read_bytes / s->read) + 1;
    if ((s->q_min_msgs && qn >= s->q_min_msgs / 2) || (s->q_max_bytes && qn * avg >= s->q_max_bytes / 2))
        return;   /* far from empty: the fetcher fetches again before the sink runs out */
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(s->rk, r->topic, r->partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi - (r->offset + 1) - qn < (int64_t)s->cfg->batch_size)
        return;   /* as far as the last fetch told, not a batch more to fetch (transaction markers count too) */
    pthread_mutex_lock(&w->mu);
    snprintf(w->topic, sizeof w->topic, "%s", r->topic);
    w->partition = r->partition;
    w->want = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    s->wake_next_us = now + WAKE_EVERY_US;
}

static wc_status_t consumer_new(sink_t *s, char *err, size_t errlen)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    char group[512], member[540];
    snprintf(group, sizeof group, "connect-%s", s->cfg->name);
    /* one member per task (tasks.max > 1): the group splits the partitions between them; task 0 keeps the
     * name a single-task sink always had */
    if (s->cfg->task > 0)
        snprintf(member, sizeof member, "%s-%d", group, s->cfg->task);
    else
        snprintf(member, sizeof member, "%s", group);
    if (conf_set(c, "bootstrap.servers", s->kafka->bootstrap, err, errlen) != WC_OK ||
        conf_set(c, "group.id", group, err, errlen) != WC_OK ||
        conf_set(c, "client.id", member, err, errlen) != WC_OK ||
        /* static membership: a restarted sink (after a crash) takes its partitions back at once instead of
         * waiting out the dead member's session; unique per task */
        conf_set(c, "group.instance.id", member, err, errlen) != WC_OK ||
        conf_set(c, "isolation.level", "read_committed", err, errlen) != WC_OK ||
        conf_set(c, "enable.auto.commit", "false", err, errlen) != WC_OK ||
        conf_set(c, "enable.auto.offset.store", "false", err, errlen) != WC_OK ||
        conf_set(c, "auto.offset.reset", "earliest", err, errlen) != WC_OK ||
        conf_set(c, "enable.partition.eof", "false", err, errlen) != WC_OK ||
        conf_set(c, "topic.metadata.refresh.interval.ms", "5000", err, errlen) != WC_OK ||
        conf_set(c, "fetch.wait.max.ms", "100", err, errlen) != WC_OK ||
        /* Debezium's JSON with schemas compresses about 80:1, so one fetch of max.partition.fetch.bytes
         * (1 MB) fills more than librdkafka's default 64 MB queue on its own, and the next fetch then waits
         * until the sink has drained it: the sink sat idle in poll half of the time (bench_sink.sh) */
        conf_set(c, "queued.max.messages.kbytes", "131072", err, errlen) != WC_OK)
        goto fail;
    for (size_t i = 0; i < s->kafka->nconsumer_props; i++)
        if (consumer_set(c, s->kafka->consumer_props[2 * i], s->kafka->consumer_props[2 * i + 1], err, errlen) != WC_OK)
            goto fail;
    for (size_t i = 0; i < s->cfg->nconsumer_override; i++)
        if (consumer_set(c, s->cfg->consumer_override[2 * i], s->cfg->consumer_override[2 * i + 1], err, errlen) != WC_OK)
            goto fail;
    s->q_max_bytes = conf_int(c, "queued.max.messages.kbytes") * 1024;
    s->q_min_msgs = conf_int(c, "queued.min.messages");
    rd_kafka_conf_set_opaque(c, s);
    rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
    rd_kafka_conf_set_log_cb(c, kafka_log_cb);
    char e[256];
    s->rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (!s->rk) {
        snprintf(err, errlen, "cannot create the Kafka consumer: %s", e);
        return WC_FATAL;
    }
    rd_kafka_poll_set_consumer(s->rk);
    s->cq = rd_kafka_queue_get_consumer(s->rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(4);
    if (s->cfg->topics_regex) {
        char *re = xmalloc(strlen(s->cfg->topics_regex) + 2);
        sprintf(re, "%s%s", s->cfg->topics_regex[0] == '^' ? "" : "^", s->cfg->topics_regex);
        rd_kafka_topic_partition_list_add(subs, re, RD_KAFKA_PARTITION_UA);
        free(re);
    } else {
        char *t = xstrdup(s->cfg->topics), *save = NULL;
        for (char *p = strtok_r(t, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            while (*p == ' ')
                p++;
            char *e2 = p + strlen(p);
            while (e2 > p && e2[-1] == ' ')
                *--e2 = '\0';
            if (*p)
                rd_kafka_topic_partition_list_add(subs, p, RD_KAFKA_PARTITION_UA);
        }
        free(t);
    }
    rd_kafka_resp_err_t re = rd_kafka_subscribe(s->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (re) {
        snprintf(err, errlen, "cannot subscribe: %s", rd_kafka_err2str(re));
        return WC_FATAL;
    }
    return WC_OK;
fail:
    rd_kafka_conf_destroy(c);
    return WC_FATAL;
}

/* ---- dead letters ---- */

static void dlq_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    if (m->err)
        *(int *)m->_private = -1;
    else
        *(int *)m->_private = 1;
}

/* Sends r to the dead-letter topic with Kafka Connect's __connect.errors.* headers and waits for the
 * broker's acknowledgement (the record's offset is stored only after). */
static wc_status_t dlq_send(sink_t *s, const sink_rec_t *r, const char *stage, const char *klass, const char *why)
{
    char err[512];
    if (!s->dlq) {
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        if (conf_set(c, "bootstrap.servers", s->kafka->bootstrap, err, sizeof err) != WC_OK ||
            conf_set(c, "enable.idempotence", "true", err, sizeof err) != WC_OK) {
            rd_kafka_conf_destroy(c);
            snprintf(s->err, sizeof s->err, "dead-letter producer: %s", err);
            return WC_FATAL;
        }
        for (size_t i = 0; i < s->kafka->nproducer_props; i++)
            if (conf_set(c, s->kafka->producer_props[2 * i], s->kafka->producer_props[2 * i + 1], err, sizeof err) != WC_OK) {
                rd_kafka_conf_destroy(c);
                snprintf(s->err, sizeof s->err, "dead-letter producer: %s", err);
                return WC_FATAL;
            }
        rd_kafka_conf_set_dr_msg_cb(c, dlq_dr_cb);
        rd_kafka_conf_set_log_cb(c, kafka_log_cb);
        if (!(s->dlq = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err))) {
            snprintf(s->err, sizeof s->err, "cannot create the dead-letter producer: %s", err);
            return WC_FATAL;
        }
    }
    rd_kafka_headers_t *h = rd_kafka_headers_new(10);
    if (s->cfg->dlq_context_headers) {
        char num[32];
        rd_kafka_header_add(h, "__connect.errors.topic", -1, r->topic, -1);
        snprintf(num, sizeof num, "%d", r->partition);
        rd_kafka_header_add(h, "__connect.errors.partition", -1, num, -1);
        snprintf(num, sizeof num, "%" PRId64, r->offset);
        rd_kafka_header_add(h, "__connect.errors.offset", -1, num, -1);
        rd_kafka_header_add(h, "__connect.errors.connector.name", -1, s->cfg->name, -1);
        snprintf(num, sizeof num, "%d", s->cfg->task);
        rd_kafka_header_add(h, "__connect.errors.task.id", -1, num, -1);
        rd_kafka_header_add(h, "__connect.errors.stage", -1, stage, -1);
        rd_kafka_header_add(h, "__connect.errors.class.name", -1, klass, -1);
        rd_kafka_header_add(h, "__connect.errors.exception.class.name", -1,
                            "org.apache.kafka.connect.errors.DataException", -1);
        rd_kafka_header_add(h, "__connect.errors.exception.message", -1, why, -1);
        rd_kafka_header_add(h, "__connect.errors.exception.stacktrace", -1, why, -1);
    }
    int done = 0;
    for (int wait = 0;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            s->dlq, RD_KAFKA_V_TOPIC(s->cfg->dlq_topic), RD_KAFKA_V_KEY(r->key, r->klen),
            RD_KAFKA_V_VALUE((void *)r->val, r->vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_OPAQUE(&done), RD_KAFKA_V_END);
        if (!e)
            break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_headers_destroy(h);
            snprintf(s->err, sizeof s->err, "cannot produce to dead-letter topic %s: %s", s->cfg->dlq_topic,
                     rd_kafka_err2str(e));
            return WC_FATAL;
        }
        rd_kafka_poll(s->dlq, 100);
        if (*s->stop && ++wait > 100) {
            rd_kafka_headers_destroy(h);
            return WC_FATAL;
        }
    }
    while (!done) {
        rd_kafka_poll(s->dlq, 100);
        if (*s->stop && !done) {
            rd_kafka_flush(s->dlq, 5000);
            rd_kafka_poll(s->dlq, 0);
            break;
        }
    }
    if (done != 1) {
        snprintf(s->err, sizeof s->err, "the dead-letter topic %s did not take record %s[%d]@%" PRId64,
                 s->cfg->dlq_topic, r->topic, r->partition, r->offset);
        return WC_FATAL;
    }
    s->dead++;
    log_warn("record sent to the dead-letter topic", "connector=%s topic=%s partition=%d offset=%" PRId64
             " dlq=%s reason=\"%s\"", log_esc(s->cfg->name), log_esc(r->topic), r->partition, r->offset,
             log_esc(s->cfg->dlq_topic), log_esc(why));
    return WC_OK;
}

/* A poison record: dead-lettered under errors.tolerance=all, else the sink fails naming it. */
static wc_status_t poison(sink_t *s, const sink_rec_t *r, const char *stage, const char *klass, const char *why)
{
    if (s->cfg->errors_tolerance_all && s->cfg->dlq_topic)
        return dlq_send(s, r, stage, klass, why);
    if (s->cfg->errors_tolerance_all) {
        s->dead++;
        log_warn("record skipped (errors.tolerance=all, no dead-letter topic)", "connector=%s topic=%s partition=%d "
                 "offset=%" PRId64 " reason=\"%s\"", log_esc(s->cfg->name), log_esc(r->topic), r->partition,
                 r->offset, log_esc(why));
        return WC_OK;
    }
    snprintf(s->err, sizeof s->err, "record %s[%d]@%" PRId64 " cannot be applied: %s", r->topic, r->partition,
             r->offset, why);
    return WC_FATAL;
}

/* ---- batch building ---- */

static const char *const connect_kafka_pk[] = { "__connect_topic", "__connect_partition", "__connect_offset" };

/* The pk column names for a table of row schema rs, from key schema ks (record_key) or the config. */
static wc_status_t table_pk(sink_t *s, btable_t *bt, const cs_schema_t *ks, char *err, size_t errlen)
{
    const sk_config_t *c = s->cfg;
    const cs_schema_t *rs = bt->t.row;
    const char **pk = arena_alloc(s->arena, (rs->nfields + 4) * sizeof *pk);
    size_t n = 0;
    if (c->pk_mode == SK_PK_NONE) {
    } else if (c->pk_mode == SK_PK_KAFKA) {
        for (size_t i = 0; i < 3; i++)
            pk[n++] = connect_kafka_pk[i];
    } else if (c->pk_fields) {
        char *f = arena_strdup(s->arena, c->pk_fields), *save = NULL;
        for (char *p = strtok_r(f, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            while (*p == ' ')
                p++;
            if (cs_field_index(rs, p) < 0) {
                snprintf(err, errlen, "primary.key.fields names '%s', which table %s has no column for", p,
                         bt->t.name);
                return WC_PERMANENT;
            }
            if (n < rs->nfields)
                pk[n++] = p;
        }
    } else if (c->pk_mode == SK_PK_RECORD_KEY) {
        if (!ks) {
            snprintf(err, errlen, "primary.key.mode=record_key but the record has no key");
            return WC_PERMANENT;
        }
        for (size_t i = 0; i < ks->nfields && n < rs->nfields; i++) {
            if (cs_field_index(rs, ks->fields[i].name) < 0) {
                snprintf(err, errlen, "key field '%s' is not a column of the row", ks->fields[i].name);
                return WC_PERMANENT;
            }
            pk[n++] = ks->fields[i].name;
        }
    } else {
        snprintf(err, errlen, "primary.key.mode=record_value needs primary.key.fields");
        return WC_PERMANENT;
    }
    bt->t.pk = pk;
    bt->t.npk = n;
    bt->pk_idx = arena_alloc(s->arena, (n + 1) * sizeof(int));
    for (size_t i = 0; i < n; i++)
        bt->pk_idx[i] = cs_field_index(rs, pk[i]);
    return WC_OK;
}

static btable_t *table_for(sink_t *s, const sink_rec_t *r, const cs_schema_t *rs, char *err, size_t errlen)
{
    buf_reset(&s->tmp);
    dl_table_name(&s->tmp, s->cfg->table_format, r->dest, r->ev.source.db, r->ev.source.schema, r->ev.source.table);
    const char *name = buf_cstr(&s->tmp);
    for (btable_t *t = s->tables; t; t = t->next)
        if (t->t.row == rs && !strcmp(t->t.name, name))
            return t;
    btable_t *bt = arena_zalloc(s->arena, sizeof *bt);
    bt->t.name = arena_strdup(s->arena, name);
    bt->t.row = rs;
    bt->src_row = rs;
    bt->drop_idx = -1;
    bt->topic = r->dest;
    bt->t.policy = cf_policy_for(s->cfg, bt->t.name);
    bt->t.version_column =
        (bt->t.policy != SK_POLICY_SOURCE_WINS || s->cfg->conflict_log) ? s->cfg->version_column : NULL;
    if (rs && bt->t.version_column && (bt->drop_idx = cs_field_index(rs, bt->t.version_column)) >= 0) {
        cs_schema_t *p = arena_alloc(s->arena, sizeof *p);
        *p = *rs;
        p->fields = arena_alloc(s->arena, rs->nfields * sizeof *p->fields);
        p->nfields = p->capfields = 0;
        for (size_t i = 0; i < rs->nfields; i++)
            if ((int)i != bt->drop_idx)
                p->fields[p->nfields++] = rs->fields[i];
        p->capfields = p->nfields;
        bt->t.row = p;
    }
    if (rs && s->cfg->pk_mode == SK_PK_KAFKA) {
        /* primary.key.mode=kafka: the record's coordinates are three more columns and the key */
        const cs_schema_t *base = bt->t.row;
        cs_schema_t *p = arena_alloc(s->arena, sizeof *p);
        *p = *base;
        p->fields = arena_alloc(s->arena, (base->nfields + 3) * sizeof *p->fields);
        memcpy(p->fields, base->fields, base->nfields * sizeof *p->fields);
        static const ct_type_t kt[3] = { CT_STRING, CT_INT32, CT_INT64 };
        for (size_t i = 0; i < 3; i++) {
            cs_schema_t *fs = cs_new(s->arena, kt[i], false);
            p->fields[base->nfields + i].name = connect_kafka_pk[i];
            p->fields[base->nfields + i].schema = fs;
        }
        p->nfields = p->capfields = base->nfields + 3;
        bt->t.row = p;
        bt->kafka_cols = true;
    }
    if (rs && table_pk(s, bt, r->ev.key_schema, err, errlen) != WC_OK)
        return NULL;
    bt->next = s->tables;
    s->tables = bt;
    return bt;
}

/* Text that identifies the key of row v in table bt (for reduction). */
static const char *key_text(sink_t *s, const btable_t *bt, const cv_value_t *v, size_t *len)
{
    buf_reset(&s->tmp);
    buf_puts(&s->tmp, bt->t.name);
    buf_putc(&s->tmp, 0);
    for (size_t i = 0; i < bt->t.npk; i++) {
        int fi = bt->pk_idx[i];
        const cv_value_t *fv = &v->u.list.v[fi];
        if (fv->null) {
            buf_puts(&s->tmp, "N;");
            continue;
        }
        buf_t *one = &s->keyval;   /* one buffer for the sink's life: no allocation per key */
        buf_reset(one);
        dl_kind_t k;
        char e[64];
        if (dl_value(one, SK_DIALECT_POSTGRES, bt->t.row->fields[fi].schema, fv, &k, e, sizeof e) < 0) {
            buf_reset(one);
            buf_puts(one, "?");
        }
        buf_put_u64(&s->tmp, one->len);
        buf_putc(&s->tmp, ':');
        buf_append(&s->tmp, one->data, one->len);
    }
    *len = s->tmp.len;
    return arena_memdup(s->arena, s->tmp.data, s->tmp.len);
}

typedef struct chg {
    sk_change_t c;
    const btable_t *bt;
    const char *key;
    size_t klen;
    bool collapsed;       /* a later change replaced an earlier one of the same key */
    bool dead;            /* replaced */
    bool *absent;         /* upsert: columns that hold the unavailable-value placeholder (NULL: none) */
} chg_t;

typedef struct plan {
    chg_t *v;
    size_t n, cap;
} plan_t;

static chg_t *plan_add(sink_t *s, plan_t *p)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        chg_t *nv = arena_alloc(s->arena, cap * sizeof *nv);
        if (p->n)
            memcpy(nv, p->v, p->n * sizeof *nv);
        p->v = nv;
        p->cap = cap;
    }
    chg_t *c = &p->v[p->n++];
    memset(c, 0, sizeof *c);
    return c;
}

/* A row of the event's shape in the table's shape (without a version column it carried). */
static cv_value_t project(sink_t *s, const btable_t *bt, const sink_rec_t *r, cv_value_t row)
{
    if ((bt->drop_idx < 0 && !bt->kafka_cols) || row.null)
        return row;
    cv_value_t p = cv_list(s->arena, bt->t.row->nfields);
    size_t k = 0;
    for (size_t i = 0; i < row.u.list.n && i < bt->src_row->nfields; i++)
        if ((int)i != bt->drop_idx)
            p.u.list.v[k++] = row.u.list.v[i];
    if (bt->kafka_cols) {
        size_t at = bt->t.row->nfields - 3;
        p.u.list.v[at] = cv_str(r->dest, strlen(r->dest));
        p.u.list.v[at + 1] = cv_int(r->partition);
        p.u.list.v[at + 2] = cv_int(r->offset);
    }
    return p;
}

static void fill_change(sink_t *s, const sink_rec_t *r, chg_t *c, sk_op_t op, const btable_t *bt, cv_value_t row)
{
    (void)s;
    c->c.op = op;
    c->c.table = &bt->t;
    c->c.row = row;
    c->bt = bt;
    c->c.version.ts_us = r->ev.source.ts_us;
    c->c.version.lsn = r->ev.source.lsn;
    c->c.version.source = r->ev.source.name;
    c->c.version.snapshot = r->ev.op == ENV_READ;
    c->c.topic = r->topic;
    c->c.partition = r->partition;
    c->c.offset = r->offset;
    c->c.src_op = op == SK_OP_DELETE ? 'd' : (char)r->ev.op;
}

static bool key_differs(const btable_t *bt, const cv_value_t *a, const cv_value_t *b)
{
    for (size_t i = 0; i < bt->t.npk; i++) {
        const cv_value_t *x = &a->u.list.v[bt->pk_idx[i]], *y = &b->u.list.v[bt->pk_idx[i]];
        if (x->null != y->null)
            return true;
        if (x->null)
            continue;
        const cs_schema_t *fs = bt->t.row->fields[bt->pk_idx[i]].schema;
        if (fs->type == CT_STRING || fs->type == CT_BYTES) {
            if (x->u.s.n != y->u.s.n || memcmp(x->u.s.p, y->u.s.p, x->u.s.n))
                return true;
        } else if (fs->type == CT_FLOAT32 || fs->type == CT_FLOAT64) {
            if (x->u.f != y->u.f)
                return true;
        } else if (fs->type == CT_BOOLEAN) {
            if (x->u.b != y->u.b)
                return true;
        } else if (fs->type <= CT_INT64) {
            if (x->u.i != y->u.i)
                return true;
        }
    }
    return false;
}

/* ---- unchanged TOASTed values ----
 * An update that leaves a TOASTed column unchanged carries unavailable.value.placeholder instead of the
 * value (text and json: the string; bytea: its bytes; text arrays: [placeholder]; hstore as json: a map
 * of it). Writing it would overwrite the target's value with the placeholder, so such a column is left
 * out of the write and keeps what the target has: a value an earlier change of the same key in the batch
 * carried is taken over first; what is still absent goes through a table of fewer columns (SQL targets)
 * or the has[] mask (MongoDB: $set of the present fields). */

static bool is_placeholder(const sink_t *s, const cs_schema_t *fs, const cv_value_t *v)
{
    if (v->null || !s->cfg->placeholder)
        return false;
    const char *ph = s->cfg->placeholder;
    size_t pl = strlen(ph);
    if (fs->type == CT_STRING || (fs->type == CT_BYTES && !fs->name)) {
        if (v->u.s.n == pl && !memcmp(v->u.s.p, ph, pl))
            return true;
        /* hstore in json mode: {"<ph>":"<ph>"} */
        return fs->type == CT_STRING && v->u.s.n == 2 * pl + 7 && v->u.s.p[0] == '{' && v->u.s.p[1] == '"' &&
               !memcmp(v->u.s.p + 2, ph, pl) && !memcmp(v->u.s.p + 2 + pl, "\":\"", 3) &&
               !memcmp(v->u.s.p + 5 + pl, ph, pl) && !memcmp(v->u.s.p + 5 + 2 * pl, "\"}", 2);
    }
    if (fs->type == CT_ARRAY && fs->items && v->u.list.n == 1)
        return (fs->items->type == CT_STRING || fs->items->type == CT_BYTES) &&
               is_placeholder(s, fs->items, &v->u.list.v[0]);
    return false;
}

/* Marks c's placeholder columns absent (an update's upsert only; key columns never). */
static void find_absent(sink_t *s, chg_t *c)
{
    const cs_schema_t *rs = c->bt->t.row;
    const cv_value_t *v = c->c.row.u.list.v;
    for (size_t i = 0; i < rs->nfields && i < c->c.row.u.list.n; i++) {
        if (!is_placeholder(s, rs->fields[i].schema, &v[i]))
            continue;
        bool key = false;
        for (size_t k = 0; k < c->bt->t.npk; k++)
            key |= c->bt->pk_idx[k] == (int)i;
        if (key)
            continue;
        if (!c->absent) {
            c->absent = arena_zalloc(s->arena, rs->nfields);
            cv_value_t copy = cv_list(s->arena, c->c.row.u.list.n);   /* the record's own row stays as decoded */
            memcpy(copy.u.list.v, v, c->c.row.u.list.n * sizeof *v);
            c->c.row = copy;
            v = copy.u.list.v;
        }
        c->absent[i] = true;
    }
}

/* c replaces o (same key): absent columns take o's values when o had them. */
static void take_over(chg_t *c, const chg_t *o)
{
    if (!c->absent || o->c.op != SK_OP_UPSERT || o->bt->t.row != c->bt->t.row)
        return;
    bool left = false;
    for (size_t i = 0; i < c->bt->t.row->nfields; i++) {
        if (c->absent[i] && !(o->absent && o->absent[i])) {
            c->c.row.u.list.v[i] = o->c.row.u.list.v[i];
            c->absent[i] = false;
        }
        left |= c->absent[i];
    }
    if (!left)
        c->absent = NULL;
}

/* c (with absent columns) onto the variant of its table without them (SQL targets), or onto has[]. */
static void narrow_to(sink_t *s, chg_t *c)
{
    btable_t *bt = (btable_t *)c->bt;
    const cs_schema_t *rs = bt->t.row;
    if (s->cfg->conn.dialect == SK_DIALECT_MONGODB) {
        bool *has = arena_alloc(s->arena, rs->nfields);
        for (size_t i = 0; i < rs->nfields; i++)
            has[i] = !c->absent[i];
        c->c.has = has;
        return;
    }
    btable_t *nb = bt->narrowed;
    while (nb && memcmp(nb->absent, c->absent, rs->nfields))
        nb = nb->next;
    if (!nb) {
        nb = arena_alloc(s->arena, sizeof *nb);
        *nb = *bt;
        cs_schema_t *p = arena_alloc(s->arena, sizeof *p);
        *p = *rs;
        p->fields = arena_alloc(s->arena, rs->nfields * sizeof *p->fields);
        p->nfields = 0;
        for (size_t i = 0; i < rs->nfields; i++)
            if (!c->absent[i])
                p->fields[p->nfields++] = rs->fields[i];
        p->capfields = p->nfields;
        nb->t.row = p;
        nb->src_row = p;
        nb->drop_idx = -1;
        nb->kafka_cols = false;
        nb->pk_idx = arena_alloc(s->arena, (bt->t.npk + 1) * sizeof(int));
        for (size_t k = 0; k < bt->t.npk; k++)
            nb->pk_idx[k] = cs_field_index(p, bt->t.pk[k]);
        nb->base = bt;
        nb->absent = c->absent;
        nb->narrowed = NULL;
        nb->next = bt->narrowed;
        bt->narrowed = nb;
    }
    cv_value_t row = cv_list(s->arena, nb->t.row->nfields);
    size_t k = 0;
    for (size_t i = 0; i < rs->nfields; i++)
        if (!c->absent[i])
            row.u.list.v[k++] = c->c.row.u.list.v[i];
    c->bt = nb;
    c->c.table = &nb->t;
    c->c.row = row;
}

/* The row changes of records [from, to): -1 with *bad set to the poison record. */
static wc_status_t plan_build(sink_t *s, size_t from, size_t to, plan_t *p, size_t *bad, char *err, size_t errlen)
{
    for (size_t i = from; i < to; i++) {
        sink_rec_t *r = &s->recs[i];
        if (!r->ok)
            continue;
        env_event_t *ev = &r->ev;
        if (ev->op == ENV_TOMBSTONE || ev->op == ENV_MESSAGE)
            continue;
        if (ev->op == ENV_TRUNCATE) {
            if (!s->cfg->truncate_enabled)
                continue;
            btable_t *bt = table_for(s, r, NULL, err, errlen);
            if (!bt)
                goto bad;
            fill_change(s, r, plan_add(s, p), SK_OP_TRUNCATE, bt, cv_null());
            continue;
        }
        if (ev->op == ENV_DELETE && !s->cfg->delete_enabled)
            continue;
        const cs_schema_t *rs = ev->row_schema;
        cv_value_t row;
        if (!rs) {   /* a delete known only by its key */
            rs = ev->key_schema;
            row = ev->key;
        } else
            row = ev->op == ENV_DELETE ? ev->before : ev->after;
        if (!rs) {
            snprintf(err, errlen, "delete without key or before row");
            goto bad;
        }
        btable_t *bt = table_for(s, r, rs, err, errlen);
        if (!bt)
            goto bad;
        if (ev->op == ENV_DELETE && !ev->has_before && ev->key_schema && rs != ev->key_schema) {
            /* key values into a row of the table's shape */
            row = cv_list(s->arena, rs->nfields);
            for (size_t k = 0; k < ev->key_schema->nfields; k++) {
                int fi = cs_field_index(rs, ev->key_schema->fields[k].name);
                if (fi >= 0)
                    row.u.list.v[fi] = ev->key.u.list.v[k];
            }
        }
        row = project(s, bt, r, row);
        bool key_changed = false;
        if (ev->op == ENV_UPDATE && ev->has_before && bt->t.npk) {
            cv_value_t before = project(s, bt, r, ev->before);
            key_changed = key_differs(bt, &before, &row);
            if (key_changed && s->cfg->delete_enabled)
                fill_change(s, r, plan_add(s, p), SK_OP_DELETE, bt, before);
        }
        chg_t *c = plan_add(s, p);
        fill_change(s, r, c, ev->op == ENV_DELETE ? SK_OP_DELETE : SK_OP_UPSERT, bt, row);
        if (ev->op == ENV_UPDATE || ev->flat)   /* an unwrapped update carries the placeholder too */
            find_absent(s, c);
        /* Debezium sends a primary-key change as a delete of the old key and a create of the new one
         * carrying __debezium.oldkey: for conflicts that create is an update onto a new key */
        c->c.key_changed = key_changed || (r->key_moved && ev->op == ENV_CREATE);
        if (c->c.key_changed)
            c->c.src_op = 'u';
        continue;
    bad:
        *bad = i;
        return WC_PERMANENT;
    }
    /* reduce: the last change of each key wins, between truncates */
    size_t cap = 1;
    while (cap < 2 * p->n + 2)
        cap <<= 1;
    int64_t *slot = arena_alloc(s->arena, cap * sizeof *slot);
    for (size_t i = 0; i < cap; i++)
        slot[i] = -1;
    for (size_t i = 0; i < p->n; i++) {
        chg_t *c = &p->v[i];
        if (c->c.op == SK_OP_TRUNCATE) {
            for (size_t k = 0; k < cap; k++)
                slot[k] = -1;
            continue;
        }
        if (!c->bt->t.npk)
            continue;
        c->key = key_text(s, c->bt, &c->c.row, &c->klen);
        uint64_t h = buf_hash(c->key, c->klen, 0);
        for (size_t k = h & (cap - 1);; k = (k + 1) & (cap - 1)) {
            if (slot[k] < 0) {
                slot[k] = (int64_t)i;
                break;
            }
            chg_t *o = &p->v[slot[k]];
            if (o->klen == c->klen && !memcmp(o->key, c->key, c->klen)) {
                o->dead = true;
                c->collapsed = true;
                /* what the target should hold before the batch is what the first change of the key
                 * expected: conflicts are judged by it (an insert then an update of a new row is no
                 * update_missing) */
                c->c.src_op = o->c.src_op;
                c->c.key_changed = o->c.key_changed;
                take_over(c, o);
                slot[k] = (int64_t)i;
                break;
            }
        }
    }
    for (size_t i = 0; i < p->n; i++)
        if (!p->v[i].dead && p->v[i].absent)
            narrow_to(s, &p->v[i]);
    return WC_OK;
}

/* Offsets to store for records [from, to): the next offset of each topic-partition. */
static size_t plan_offsets(sink_t *s, size_t from, size_t to, sk_offset_t **out)
{
    sk_offset_t *o = arena_alloc(s->arena, (to - from + 1) * sizeof *o);
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        sink_rec_t *r = &s->recs[i];
        size_t k = 0;
        for (; k < n; k++)
            if (o[k].partition == r->partition && !strcmp(o[k].topic, r->topic))
                break;
        if (k == n) {
            o[n].topic = (char *)r->topic;
            o[n].partition = r->partition;
            o[n].offset = r->offset + 1;
            n++;
        } else if (r->offset + 1 > o[k].offset)
            o[k].offset = r->offset + 1;
    }
    *out = o;
    return n;
}

static wc_status_t plan_send(sink_t *s, plan_t *p, char *err, size_t errlen);

/* One target transaction for the plan: tables ensured, changes applied grouped by table and op, offsets. */
static wc_status_t plan_apply(sink_t *s, plan_t *p, const sk_offset_t *offs, size_t noffs, char *err, size_t errlen)
{
    const sk_target_ops_t *o = s->ops;
    sp_mark_t pm;
    sp_begin(&pm, true);
    wc_status_t st = plan_send(s, p, err, errlen);
    sp_end(s, SP_SEND, &pm);
    if (st)
        return st;
    sp_begin(&pm, true);
    st = o->store_offsets(s->tgt, s->cfg->name, offs, noffs, err, errlen);
    sp_end(s, SP_OFFSETS, &pm);
    if (st)
        return st;
    sp_begin(&pm, true);
    st = o->commit(s->tgt, err, errlen);
    sp_end(s, SP_COMMIT, &pm);
    return st;
}

/* BEGIN, the tables, the changes grouped by table and op (plan_apply's first part). */
static wc_status_t plan_send(sink_t *s, plan_t *p, char *err, size_t errlen)
{
    const sk_target_ops_t *o = s->ops;
    wc_status_t st = o->begin(s->tgt, err, errlen);
    if (st)
        return st;
    /* tables first: MySQL commits DDL implicitly, so nothing of the batch may precede it */
    for (size_t i = 0; i < p->n; i++) {
        chg_t *c = &p->v[i];
        if (c->dead || c->c.op == SK_OP_TRUNCATE)
            continue;
        const btable_t *whole = c->bt->base ? c->bt->base : c->bt;   /* a narrowed table is created whole */
        if ((st = o->ensure_table(s->tgt, &whole->t, s->cfg->schema_evolution, err, errlen)))
            return st;
    }
    const sk_change_t **grp = arena_alloc(s->arena, (p->n + 1) * sizeof *grp);
    bool *done = arena_zalloc(s->arena, p->n + 1);
    size_t seg = 0;
    while (seg < p->n) {
        size_t end = seg;
        while (end < p->n && p->v[end].c.op != SK_OP_TRUNCATE)
            end++;
        /* deletes before upserts: each key has one change left, so the order across keys is free */
        for (int pass = 0; pass < 2; pass++) {
            sk_op_t want = pass == 0 ? SK_OP_DELETE : SK_OP_UPSERT;
            for (size_t i = seg; i < end; i++) {
                chg_t *c = &p->v[i];
                if (done[i] || c->dead || c->c.op != want)
                    continue;
                sk_insert_mode_t mode = s->cfg->insert_mode;
                size_t n = 0;
                for (size_t k = i; k < end; k++) {
                    chg_t *d = &p->v[k];
                    if (done[k] || d->dead || d->c.op != want || d->bt != c->bt)
                        continue;
                    /* an insert whose key was seen earlier in the batch may meet the row: upsert it */
                    sk_insert_mode_t m = (mode == SK_INSERT_INSERT && d->collapsed) ? SK_INSERT_UPSERT : mode;
                    sk_insert_mode_t m0 = (mode == SK_INSERT_INSERT && c->collapsed) ? SK_INSERT_UPSERT : mode;
                    if (m != m0)
                        continue;
                    grp[n++] = &d->c;
                    done[k] = true;
                }
                if (c->collapsed && mode == SK_INSERT_INSERT)
                    mode = SK_INSERT_UPSERT;
                if ((st = cf_apply(o, s->tgt, s->cfg, &c->bt->t, mode, grp, n, &s->conflicts, err, errlen)))
                    return st;
            }
        }
        if (end < p->n) {   /* the truncate: the target ignores a table it does not have */
            chg_t *c = &p->v[end];
            grp[0] = &c->c;
            if ((st = cf_apply(o, s->tgt, s->cfg, &c->bt->t, s->cfg->insert_mode, grp, 1, &s->conflicts, err, errlen)))
                return st;
            end++;
        }
        seg = end;
    }
    return WC_OK;
}

/* Applies records [from, to) in one transaction, retrying transient errors forever (until stop). */
static wc_status_t apply_range(sink_t *s, size_t from, size_t to, size_t *bad, char *err, size_t errlen)
{
    plan_t p = { 0 };
    *bad = SIZE_MAX;
    sp_mark_t pm;
    sp_begin(&pm, true);
    wc_status_t bst = plan_build(s, from, to, &p, bad, err, errlen);
    sk_offset_t *offs;
    size_t noffs = plan_offsets(s, from, to, &offs);
    sp_end(s, SP_PLAN, &pm);
    if (bst != WC_OK)
        return WC_PERMANENT;
    int wait = 0, redo = 0;
    for (;;) {
        if (!s->tgt && target_open(s) != WC_OK)
            return WC_FATAL;
        if (s->ops->defer_commit)
            s->ops->defer_commit(s->tgt, s->defer);
        sk_conflict_count_t before = s->conflicts;
        wc_status_t st = plan_apply(s, &p, offs, noffs, err, errlen);
        if (st == WC_OK)
            return WC_OK;
        s->conflicts = before;
        s->ops->rollback(s->tgt);
        if (st != WC_RETRY && st != WC_ABORT)
            return st;
        /* WC_ABORT: the session is fine and the target changed its approach: apply again at once (a few
         * times; after that it is handled as a transient error) */
        if (st == WC_ABORT && ++redo <= 3)
            continue;
        target_reset(s);
        wait = next_backoff(s, wait);
        s->retries++;
        log_warn("target transaction failed, retrying the batch", "connector=%s target=%s error=\"%s\" "
                 "retry_in_ms=%d", log_esc(s->cfg->name), s->ops->name, log_esc(err), wait);
        if (!backoff_wait(s, wait))
            return WC_FATAL;
    }
}

static void pend_free(sink_t *s)
{
    free(s->pend_ts);
    s->pend_ts = NULL;
    for (size_t i = 0; i < s->pend_noffs; i++)
        free(s->pend_offs[i].topic);
    free(s->pend_offs);
    s->pend_offs = NULL;
    s->pend_noffs = 0;
    s->pending = false;
}

/* Shows the applied positions to the consumer group: at most once a second, or now when force. */
static void group_commit(sink_t *s, bool force)
{
    int64_t now = wc_wall_us() / 1000;
    if (!s->grp || !s->grp->cnt || (!force && now < s->grp_next_ms))
        return;
    rd_kafka_commit(s->rk, s->grp, 1);
    rd_kafka_topic_partition_list_destroy(s->grp);
    s->grp = NULL;
    s->grp_next_ms = now + 1000;
}

/* The figures of GET /metrics that change per batch (relaxed stores: the scrape reads them). */
static void stats_publish(sink_t *s)
{
    sk_stats_t *k = s->stats;
    if (!k)
        return;
    atomic_store_explicit(&k->read, s->read, memory_order_relaxed);
    atomic_store_explicit(&k->applied, s->applied, memory_order_relaxed);
    atomic_store_explicit(&k->batches, s->batches, memory_order_relaxed);
    atomic_store_explicit(&k->dead, s->dead, memory_order_relaxed);
    atomic_store_explicit(&k->retries, s->retries, memory_order_relaxed);
    for (int i = 0; i < SK_CONFLICT_NTYPES; i++) {
        atomic_store_explicit(&k->conflicts[i], s->conflicts.n[i], memory_order_relaxed);
        atomic_store_explicit(&k->conflicts_skipped[i], s->conflicts.skipped[i], memory_order_relaxed);
    }
}

/* The source commit times of records [0, n) of the batch (0: none, or not applied). */
static int64_t *batch_ts(const sink_t *s, size_t n)
{
    int64_t *ts = xmalloc((n + 1) * sizeof *ts);
    for (size_t i = 0; i < n; i++)
        ts[i] = s->recs[i].ok ? s->recs[i].ev.source.ts_us : 0;
    return ts;
}

/* A batch applied and committed: counted, its positions shown to the group (lag only). ts: the source
 * commit times of its nrec records (end-to-end lag), start_us: when its first record was read. */
static void batch_done(sink_t *s, size_t nrec, const sk_offset_t *offs, size_t noffs, int64_t src_us,
                       const int64_t *ts, int64_t start_us)
{
    sp_mark_t pm;
    sp_begin(&pm, true);
    s->applied += nrec;
    s->batches++;
    if (src_us > s->last_src_us)
        s->last_src_us = src_us;
    s->last_apply_us = wc_wall_us();
    if (s->stats) {
        for (size_t i = 0; i < nrec; i++)
            if (ts[i] > 0)
                hist_observe(&s->stats->e2e, s->last_apply_us - ts[i]);
        if (src_us > 0)
            atomic_store_explicit(&s->stats->e2e_last_us, s->last_apply_us - src_us, memory_order_relaxed);
        if (start_us > 0)
            hist_observe(&s->stats->apply, s->last_apply_us - start_us);
        stats_publish(s);
    }
    /* the group's committed offsets only show progress (lag); positions come from the target */
    if (!s->grp)
        s->grp = rd_kafka_topic_partition_list_new((int)noffs);
    for (size_t i = 0; i < noffs; i++) {
        rd_kafka_topic_partition_t *p = rd_kafka_topic_partition_list_find(s->grp, offs[i].topic, offs[i].partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(s->grp, offs[i].topic, offs[i].partition);
        p->offset = offs[i].offset;
    }
    group_commit(s, false);
    sp_end(s, SP_DONE, &pm);
    sp_batch(s, nrec);
}

/* Puts the consumer back on the positions stored in the target (after a deferred commit failed: what
 * was read since is dropped and read again). WC_FATAL when stopping or failed. */
static wc_status_t rewind_to_target(sink_t *s)
{
    drop_batch(s);
    sk_offset_t *offs = NULL;
    size_t n = 0;
    if (stored_offsets(s, &offs, &n) != WC_OK)
        return WC_FATAL;
    rd_kafka_topic_partition_list_t *as = NULL;
    wc_status_t rc = WC_OK;
    if (rd_kafka_assignment(s->rk, &as) == RD_KAFKA_RESP_ERR_NO_ERROR && as && as->cnt) {
        for (int i = 0; i < as->cnt; i++) {
            rd_kafka_topic_partition_t *p = &as->elems[i];
            p->offset = RD_KAFKA_OFFSET_BEGINNING;
            for (size_t k = 0; k < n; k++)
                if (offs[k].partition == p->partition && !strcmp(offs[k].topic, p->topic))
                    p->offset = offs[k].offset;
        }
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, as, 10000);
        bool failed = e != NULL;
        for (int i = 0; i < as->cnt && !failed; i++)
            failed = as->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
        if (failed) {
            /* a partition assigned a moment ago can refuse the seek (librdkafka 2.0.2 answered "Timed out
             * waiting for 1 remaining partition seek(s)" within milliseconds when the first batch after the
             * assignment failed): the assignment again, at the stored offsets, as the rebalance does */
            log_warn("seek back to the stored offsets failed, assigning the partitions again at them",
                     "connector=%s error=\"%s\"", log_esc(s->cfg->name),
                     log_esc(e ? rd_kafka_error_string(e) : rd_kafka_err2str(as->elems[0].err)));
            for (int i = 0; i < as->cnt; i++)
                as->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
            rd_kafka_resp_err_t ae = rd_kafka_assign(s->rk, as);
            if (ae) {
                snprintf(s->err, sizeof s->err, "cannot seek back to the stored offsets: %s; nor assign the partitions "
                         "at them: %s", e ? rd_kafka_error_string(e) : "seek failed", rd_kafka_err2str(ae));
                rc = WC_FATAL;
            }
        }
        if (e)
            rd_kafka_error_destroy(e);
    }
    if (as)
        rd_kafka_topic_partition_list_destroy(as);
    for (size_t k = 0; k < n; k++)
        free(offs[k].topic);
    free(offs);
    return rc;
}

/* Waits for the outcome of the deferred commit, if any. On failure the batch read since is dropped and,
 * when seek, the consumer goes back to the stored offsets; the next batch then commits synchronously so
 * that a permanent error finds its record. Returns WC_OK (confirmed or nothing pending), WC_ABORT (the
 * commit failed: the batch is read again) or WC_FATAL (the sink must stop). */
static wc_status_t settle(sink_t *s, bool seek)
{
    if (!s->pending)
        return WC_OK;
    char err[1024] = "";
    sp_mark_t pm;
    sp_begin(&pm, true);
    wc_status_t st = s->tgt ? s->ops->commit_wait(s->tgt, err, sizeof err) : WC_RETRY;
    sp_end(s, SP_SETTLE, &pm);
    if (st == WC_OK) {
        batch_done(s, s->pend_nrec, s->pend_offs, s->pend_noffs, s->pend_src_us, s->pend_ts, s->pend_start_us);
        pend_free(s);
        return WC_OK;
    }
    pend_free(s);
    if (st == WC_ABORT) {   /* the target applies it differently next time, on the same session */
        log_info("target rolled the last batch back to apply it again; reading it again from the stored offsets",
                 "connector=%s target=%s error=\"%s\"", log_esc(s->cfg->name), s->ops->name, log_esc(err));
        s->ops->rollback(s->tgt);
    } else {
        log_warn("target commit failed after the next batch was read; reading again from the stored offsets",
                 "connector=%s target=%s error=\"%s\"", log_esc(s->cfg->name), s->ops->name, log_esc(err));
        s->retries++;   /* the batch is applied again */
        target_reset(s);
    }
    s->sync_next = true;
    if (!seek)
        return WC_ABORT;
    return rewind_to_target(s) != WC_OK ? WC_FATAL : WC_ABORT;
}

static wc_status_t flush(sink_t *s)
{
    if (!s->nrec)
        return WC_OK;
    wc_status_t sr = settle(s, true);
    if (sr == WC_FATAL)
        return WC_FATAL;
    if (sr == WC_ABORT)   /* the batch was dropped: it is read again */
        return WC_OK;
    char err[1024] = "";
    size_t bad;
    s->defer = s->ops->commit_wait && !s->sync_next;
    wc_status_t st = apply_range(s, 0, s->nrec, &bad, err, sizeof err);
    if (st == WC_OK && s->defer) {
        /* committed or on its way: what the confirmation needs outlives the batch */
        sk_offset_t *offs;
        size_t n = plan_offsets(s, 0, s->nrec, &offs);
        s->pend_offs = xmalloc((n + 1) * sizeof *s->pend_offs);
        for (size_t i = 0; i < n; i++) {
            s->pend_offs[i] = offs[i];
            s->pend_offs[i].topic = xstrdup(offs[i].topic);
        }
        s->pend_noffs = n;
        s->pend_nrec = s->nrec;
        s->pend_ts = s->stats ? batch_ts(s, s->nrec) : NULL;
        s->pend_start_us = s->batch_start_us;
        s->pend_src_us = 0;
        for (size_t i = 0; i < s->nrec; i++)
            if (s->recs[i].ok && s->recs[i].ev.source.ts_us > s->pend_src_us)
                s->pend_src_us = s->recs[i].ev.source.ts_us;
        s->pending = true;
        s->defer = false;
        drop_batch(s);
        return WC_OK;
    }
    s->defer = false;
    if (st == WC_PERMANENT) {
        /* find the poison: one record per transaction from here on */
        log_warn("batch refused by the target, applying it record by record", "connector=%s error=\"%s\"",
                 log_esc(s->cfg->name), log_esc(err));
        for (size_t i = 0; i < s->nrec; i++) {
            st = apply_range(s, i, i + 1, &bad, err, sizeof err);
            if (st == WC_PERMANENT) {
                if (poison(s, &s->recs[i], "TASK_PUT", "io.debezium.connector.jdbc.JdbcSinkTask", err) != WC_OK)
                    return WC_FATAL;
                /* move the stored position past it */
                s->recs[i].ok = false;
                st = apply_range(s, i, i + 1, &bad, err, sizeof err);
            }
            if (st != WC_OK) {
                if (st != WC_FATAL || !*s->stop)
                    snprintf(s->err, sizeof s->err, "applying record %s[%d]@%" PRId64 ": %s", s->recs[i].topic,
                             s->recs[i].partition, s->recs[i].offset, err);
                return WC_FATAL;
            }
        }
    } else if (st != WC_OK) {
        if (!*s->stop)
            snprintf(s->err, sizeof s->err, "applying a batch of %zu records from %s[%d]@%" PRId64 ": %s", s->nrec,
                     s->recs[0].topic, s->recs[0].partition, s->recs[0].offset, err);
        return WC_FATAL;
    }
    int64_t src_us = 0;
    for (size_t i = 0; i < s->nrec; i++)
        if (s->recs[i].ok && s->recs[i].ev.source.ts_us > src_us)
            src_us = s->recs[i].ev.source.ts_us;
    sk_offset_t *offs;
    size_t n = plan_offsets(s, 0, s->nrec, &offs);
    int64_t *ts = s->stats ? batch_ts(s, s->nrec) : NULL;
    batch_done(s, s->nrec, offs, n, src_us, ts, s->batch_start_us);
    free(ts);
    s->sync_next = false;
    drop_batch(s);
    return WC_OK;
}

/* Records behind = the partitions' high watermarks (as the last fetches saw them) minus the consumer's
 * positions, plus the batch read but not applied yet. */
static int64_t records_behind(sink_t *s)
{
    rd_kafka_topic_partition_list_t *as = NULL;
    int64_t behind = 0;
    if (rd_kafka_assignment(s->rk, &as) == RD_KAFKA_RESP_ERR_NO_ERROR && as) {
        rd_kafka_position(s->rk, as);
        for (int i = 0; i < as->cnt; i++) {
            int64_t lo, hi;
            rd_kafka_topic_partition_t *p = &as->elems[i];
            if (rd_kafka_get_watermark_offsets(s->rk, p->topic, p->partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi < 0)
                continue;
            int64_t pos = p->offset >= 0 ? p->offset : lo;
            if (hi > pos)
                behind += hi - pos;
        }
        rd_kafka_topic_partition_list_destroy(as);
    }
    /* transaction markers occupy offsets too: a record or two per partition is not lag */
    return behind + (int64_t)s->nrec;
}

/* Once a second: the consumer lag for GET /metrics (bytes: records behind times the mean size read). */
static void stats_lag(sink_t *s)
{
    int64_t now = wc_wall_us() / 1000;
    if (!s->stats || now < s->next_stats_ms)
        return;
    s->next_stats_ms = now + 1000;
    int64_t behind = records_behind(s);
    atomic_store_explicit(&s->stats->lag_records, behind, memory_order_relaxed);
    atomic_store_explicit(&s->stats->lag_bytes, s->read ? (int64_t)(s->read_bytes / s->read) * behind : 0,
                          memory_order_relaxed);
    stats_publish(s);
}

/* Records behind (at most: see records_behind); time behind = how old the newest applied change was when
 * applied (0 when caught up). */
static void log_progress(sink_t *s)
{
    int64_t behind = records_behind(s);
    int64_t lag_ms = s->last_src_us && s->last_apply_us > s->last_src_us ? (s->last_apply_us - s->last_src_us) / 1000 : 0;
    log_info("sink progress", "connector=%s target=%s applied=%" PRIu64 " dead_letters=%" PRIu64
             " records_behind_at_most=%" PRId64 " last_change_lag_ms=%" PRId64, log_esc(s->cfg->name), s->ops->name,
             s->applied, s->dead, behind, lag_ms);
}

static bool registry_wait(void *ctx, int ms, const char *why)
{
    sink_t *s = ctx;
    log_warn("schema registry not answering, retrying", "connector=%s reason=\"%s\" retry_in_ms=%d",
             log_esc(s->cfg->name), log_esc(why), ms);
    return backoff_wait(s, ms);
}

/* avro_dec_fetch_fn over the registry client (GET /schemas/ids/{id}); the decoder caches by id. */
static int fetch_schema(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    sink_t *s = ctx;
    if (!s->cfg->registry_url) {
        snprintf(err, errlen, "Avro record (schema id %d) but no schema registry is configured: set "
                              "value.converter.schema.registry.url", id);
        return -1;
    }
    if (!s->registry) {
        sr_config_t rc = { .urls = s->cfg->registry_url, .user_info = s->cfg->registry_user_info,
                           .verify_host = true, .backoff_max_ms = s->cfg->retry_backoff_max_ms };
        if (!(s->registry = sr_new(&rc, err, errlen)))
            return -1;
    }
    wc_status_t st;
    const char *why;
    int ms;
    while ((st = sr_schema_by_id(s->registry, id, out, err, errlen)) == WC_RETRY &&
           (ms = sr_retry_in_ms(s->registry, &why)) > 0 && registry_wait(s, ms, why))
        ;
    return st == WC_OK ? 0 : -1;
}

/* A JDBC target creates and writes columns by their Connect types. A schemaless record (JsonConverter with
 * schemas.enable=false) has none, and guessed ones write a numeric as base64 text and a timestamp as an
 * integer: such a record is refused as undecodable (dead letter or stop), as Debezium's JDBC sink refuses
 * it. MongoDB stores the JSON values as they are, as Debezium's MongoDB sink does. */
static wc_status_t refuse_schemaless(const sink_t *s, const env_event_t *ev, char *err, size_t errlen)
{
    if (s->cfg->conn.dialect == SK_DIALECT_MONGODB)
        return WC_OK;
    bool row_op = ev->op == ENV_CREATE || ev->op == ENV_READ || ev->op == ENV_UPDATE || ev->op == ENV_DELETE;
    const char *which = ev->row_schemaless ? "value"
                        : row_op && ev->key_schemaless && s->cfg->pk_mode == SK_PK_RECORD_KEY ? "key" : NULL;
    if (!which)
        return WC_OK;
    snprintf(err, errlen, "the record's %s has no schema (JsonConverter with %s.converter.schemas.enable=false): a JDBC "
             "sink needs the column types and never guesses them; set %s.converter.schemas.enable=true (or use "
             "io.confluent.connect.avro.AvroConverter) on the connector that writes the topic", which, which, which);
    return WC_PERMANENT;
}

/* A record out of its envelope marks its topic; a Kafka null on such a topic is a delete by its key, as in
 * Debezium's sinks (on an envelope topic it is the tombstone after a delete event, nothing to do). */
static void flat_tombstone(sink_t *s, sink_rec_t *r)
{
    size_t i = 0;
    while (i < s->nflat && strcmp(s->flat_topics[i], r->topic))
        i++;
    if (r->ev.flat && i == s->nflat) {
        s->flat_topics = xrealloc(s->flat_topics, (s->nflat + 1) * sizeof *s->flat_topics);
        s->flat_topics[s->nflat++] = xstrdup(r->topic);
    }
    if (r->ev.op == ENV_TOMBSTONE && r->ev.key_schema && i < s->nflat && !r->val)
        r->ev.op = ENV_DELETE;
}

/* transforms= on a sink: the record decoded as Connect's converters give it, the chain run over it (as Connect
 * runs a sink's chain), the result read as a change (env_event_from_record). A record the chain drops
 * applies nothing; its offset is stored with the batch. *in_chain: the failure is the chain's. */
static wc_status_t transform_record(sink_t *s, sink_rec_t *r, rd_kafka_message_t *m, bool avro, bool *in_chain, char *err,
                            size_t errlen)
{
    env_record_t raw;
    if (env_decode_record(s->dec, s->arena, r->key, r->klen, r->val, r->vlen, avro ? fetch_schema : NULL, s, &raw, err,
                          errlen) < 0)
        return WC_PERMANENT;
    rec_codec_t kc, vc;   /* the chain reads only their schemas */
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = r->topic;
    if (raw.ks && !raw.key.null) {
        rec_codec_bind(&kc, raw.ks);
        ev.kc = &kc;
        ev.key = &raw.key;
    }
    if (raw.vs && !raw.value.null) {
        rec_codec_bind(&vc, raw.vs);
        ev.vc = &vc;
        ev.value = &raw.value;
    }
    rd_kafka_headers_t *hdrs;
    if (!rd_kafka_message_headers(m, &hdrs)) {
        const char *name;
        const void *v;
        size_t len;
        /* Debezium's records carry at most 5; room is left for the headers the chain adds */
        for (size_t i = 0; ev.nheaders < REC_MAX_HEADERS / 2 && !rd_kafka_header_get_all(hdrs, i, &name, &v, &len); i++) {
            rec_header_t *h = &ev.headers[ev.nheaders++];
            *h = (rec_header_t){ .key = arena_strdup(s->arena, name), .value = v, .len = len };
            if (s->cfg->header_strings) {
                /* StringConverter.toConnectHeader: an optional string (null bytes: null); else the chain
                 * reads the bytes as SimpleHeaderConverter does */
                h->schema = cs_primitive_optional(CT_STRING);
                if (v) {
                    cv_value_t *cv = arena_alloc(s->arena, sizeof *cv);
                    *cv = cv_str(v, len);
                    h->cv = cv;
                }
            }
        }
    }
    /* a sink record's kafkaPartition() and timestamp() (TimestampRouter, InsertField read them) */
    ev.has_partition = true;
    ev.partition = m->partition;
    int64_t ts = rd_kafka_message_timestamp(m, NULL);
    if (ts >= 0) {
        ev.has_ts = true;
        ev.ts_ms = ts;
    }
    ev.has_offset = true;   /* SinkRecord.kafkaOffset() (InsertField's offset.field) */
    ev.offset = m->offset;
    rec_event_t out;
    bool dropped;
    if (tf_chain_apply(s->tf, s->arena, &ev, &out, &dropped, err, errlen) != WC_OK) {
        *in_chain = true;
        return WC_PERMANENT;
    }
    if (err[0])
        log_warn("transform warning", "connector=%s warning=\"%s\"", log_esc(s->cfg->name), log_esc(err));
    if (dropped) {
        memset(&r->ev, 0, sizeof r->ev);
        r->ev.op = ENV_TOMBSTONE;
        r->ev.source.name = r->ev.source.db = r->ev.source.schema = r->ev.source.table = "";
        return WC_OK;
    }
    r->dest = strcmp(out.topic, r->topic) ? arena_strdup(s->arena, out.topic) : r->topic;
    const cs_schema_t *vs = out.vc ? out.vc->schema : NULL;
    if (env_event_from_record(out.kc ? out.kc->schema : NULL, out.key, vs, out.value, &r->ev, err, errlen) < 0) {
        *in_chain = true;
        return WC_PERMANENT;
    }
    return WC_OK;
}

/* Connect's topic tracking: each topic consumed from is told to the worker (once per reset epoch). */
static void track_topic(sink_t *s, const char *topic)
{
    if (!s->kafka->topics.seen)
        return;
    size_t i = 0;
    while (i < s->ntracked && strcmp(s->tracked[i].topic, topic))
        i++;
    if (i == s->ntracked) {
        s->tracked = xrealloc(s->tracked, (s->ntracked + 1) * sizeof *s->tracked);
        s->tracked[s->ntracked++] = (tracked_topic_t){ xstrdup(topic), 0 };
    }
    wc_topic_track(&s->kafka->topics, &s->tracked[i].mark, topic);
}

/* Takes one consumed message into the batch (decoding it), and m with it (destroyed with the batch);
 * WC_FATAL when the sink must stop. */
static wc_status_t add_record(sink_t *s, rd_kafka_message_t *m)
{
    if (s->nrec == s->caprec) {
        s->caprec = s->caprec ? s->caprec * 2 : 1024;
        s->recs = xrealloc(s->recs, s->caprec * sizeof *s->recs);
    }
    sink_rec_t *r = &s->recs[s->nrec++];
    memset(r, 0, sizeof *r);
    const char *tn = rd_kafka_topic_name(m->rkt);
    r->topic = s->nrec > 1 && !strcmp(r[-1].topic, tn) ? r[-1].topic : arena_strdup(s->arena, tn);
    track_topic(s, tn);
    r->partition = m->partition;
    r->offset = m->offset;
    r->msg = m;
    r->key = m->key;
    r->klen = m->key ? m->key_len : 0;
    r->val = m->payload;
    r->vlen = m->payload ? m->len : 0;
    r->dest = r->topic;
    if (s->nrec == 1)
        s->batch_start_us = wc_wall_us();
    s->read++;
    s->read_bytes += r->klen + r->vlen;
    char err[1024];
    /* AvroConverter records start with the wire format's magic byte 0, JsonConverter's never do (each side
     * is read in its own format: env_decode_avro) */
    bool avro = (r->vlen && r->val[0] == 0) || (r->klen && r->key[0] == 0);
    bool in_chain = false;
    wc_status_t dst;
    if (s->tf)
        dst = transform_record(s, r, m, avro, &in_chain, err, sizeof err);
    else
        dst = (avro ? env_decode_avro(s->dec, s->arena, r->key, r->klen, r->val, r->vlen, fetch_schema, s, &r->ev, err,
                                      sizeof err)
                    : env_decode_json(s->dec, s->arena, r->key, r->klen, r->val, r->vlen, &r->ev, err, sizeof err)) == 0
                  ? WC_OK : WC_PERMANENT;
    if (dst == WC_OK)
        dst = refuse_schemaless(s, &r->ev, err, sizeof err);
    if (dst == WC_OK)
        flat_tombstone(s, r);
    if (dst == WC_OK) {
        r->ok = true;
        rd_kafka_headers_t *hdrs;
        const void *hv;
        size_t hl;
        /* only a create can be the second half of a primary-key change (plan_build); the headers are parsed
         * (allocated, ~5 mallocs with Debezium's context headers) only for those */
        r->key_moved = r->ev.op == ENV_CREATE && !rd_kafka_message_headers(m, &hdrs) &&
                       !rd_kafka_header_get_last(hdrs, "__debezium.oldkey", &hv, &hl);
        return WC_OK;
    }
    /* everything before it is applied first, so a failure names the first record not applied; the batch
     * arena is reset by that, so the record's bytes wait outside it */
    r->msg = NULL;
    s->nrec--;
    /* a deferred commit settles first: if it failed, the consumer went back and this record (like those
     * before it) is read again, so it is neither dead-lettered nor stored now */
    wc_status_t sr = settle(s, true);
    if (sr != WC_OK) {
        rd_kafka_message_destroy(m);
        return sr == WC_FATAL ? WC_FATAL : WC_OK;
    }
    s->sync_next = true;   /* the records before it commit in step */
    char *topic = xstrdup(r->topic), *key = r->key ? xmalloc(r->klen + 1) : NULL, *val = r->val ? xmalloc(r->vlen + 1) : NULL;
    if (key)
        memcpy(key, r->key, r->klen);
    if (val)
        memcpy(val, r->val, r->vlen);
    int32_t part = r->partition;
    int64_t off = r->offset;
    size_t klen = r->klen, vlen = r->vlen;
    wc_status_t frc = flush(s);
    if (frc == WC_OK) {
        s->nrec = 1;
        r = &s->recs[0];
        memset(r, 0, sizeof *r);
        r->topic = arena_strdup(s->arena, topic);
        r->partition = part;
        r->offset = off;
        r->key = key ? arena_memdup(s->arena, key, klen) : NULL;
        r->klen = klen;
        r->val = val ? arena_memdup(s->arena, val, vlen) : NULL;
        r->vlen = vlen;
    }
    free(topic);
    free(key);
    free(val);
    rd_kafka_message_destroy(m);
    if (frc != WC_OK)
        return WC_FATAL;
    if (poison(s, &s->recs[0], in_chain ? "TRANSFORMATION" : "VALUE_CONVERTER",
               in_chain ? "transforms" : avro ? "io.confluent.connect.avro.AvroConverter" : "org.apache.kafka.connect.json.JsonConverter",
               err) != WC_OK)
        return WC_FATAL;
    s->recs[0].ok = false;
    return flush(s);
}

const sk_target_ops_t *sk_target_ops_for(const sk_config_t *c)
{
    switch (c->conn.dialect) {
    case SK_DIALECT_POSTGRES: return &sk_postgres_ops;
    case SK_DIALECT_MYSQL: return &sk_mysql_ops;
    case SK_DIALECT_MONGODB: return &sk_mongo_ops ? &sk_mongo_ops : NULL;
    }
    return NULL;
}

wc_status_t sk_run(const sk_config_t *cfg, const sk_kafka_t *k, sk_stats_t *stats, volatile sig_atomic_t *stop,
                   char *why, size_t whylen)
{
    sink_t s = { 0 };
    wc_status_t rc = WC_FATAL;
    s.cfg = cfg;
    s.stats = stats;
    s.kafka = k;
    s.stop = stop;
    s.ops = sk_target_ops_for(cfg);
    s.dec = env_decoder_new();
    env_decoder_keep(s.dec);   /* a batch's events keep their schemas until it is dropped (drop_batch) */
    if (cfg->transforms)
        s.tf = tf_chain_new(cfg->transforms);
    s.arena = arena_new(1 << 20);
    buf_init(&s.tmp);
    buf_init(&s.keyval);
    const char *stt = getenv("WALCAST_SINK_STAGE_TIMES");
    s.prof_rec = stt && !strcmp(stt, "1");
    char err[768];
    if (!s.ops) {
        snprintf(s.err, sizeof s.err, "this build has no MongoDB target");
        goto out;
    }
    log_info("sink starting", "connector=%s task=%d target=%s group=connect-%s topics=%s", log_esc(cfg->name), cfg->task,
             s.ops->name, log_esc(cfg->name), log_esc(cfg->topics ? cfg->topics : cfg->topics_regex));
    if (target_open(&s) != WC_OK)
        goto out;
    if (consumer_new(&s, err, sizeof err) != WC_OK) {
        snprintf(s.err, sizeof s.err, "%s", err);
        goto out;
    }
    waker_start(&s);
    s.next_progress_ms = wc_wall_us() / 1000 + SINK_PROGRESS_MS;
    while (!*stop && s.cb_status == WC_OK) {
        if (wc_wall_us() / 1000 >= s.next_progress_ms) {
            log_progress(&s);
            s.next_progress_ms = wc_wall_us() / 1000 + SINK_PROGRESS_MS;
        }
        stats_lag(&s);
        sp_mark_t pm;
        if (s.prof_rec)
            sp_begin(&pm, false);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s.rk, s.nrec ? 0 : 200);
        if (m && !m->err)
            sp_start(&s);
        if (s.prof_rec)
            sp_end(&s, m ? SP_POLL : SP_EMPTY, &pm);
        if (s.cb_status != WC_OK)
            break;
        if (!m) {
            if (s.nrec)
                fetch_wake(&s, &s.recs[s.nrec - 1]);
            if (s.nrec && flush(&s) != WC_OK)
                goto out;
            if (!s.nrec && settle(&s, true) == WC_FATAL)   /* idle: confirm the last batch */
                goto out;
            if (!s.nrec)
                group_commit(&s, true);
            continue;
        }
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
                char fe[256];
                rd_kafka_fatal_error(s.rk, fe, sizeof fe);
                snprintf(s.err, sizeof s.err, "Kafka consumer failed: %s", fe);
                rd_kafka_message_destroy(m);
                goto out;
            }
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_debug("consumer", "connector=%s error=\"%s\"", log_esc(cfg->name),
                          log_esc(rd_kafka_message_errstr(m)));
            rd_kafka_message_destroy(m);
            continue;
        }
        /* the chain is about to start its schema caches over: the batch's records point into them */
        if (s.tf && tf_chain_full(s.tf) && s.nrec && flush(&s) != WC_OK) {
            rd_kafka_message_destroy(m);
            goto out;
        }
        if (s.prof_rec)
            sp_begin(&pm, false);
        wc_status_t ast = add_record(&s, m);
        if (s.prof_rec)
            sp_end(&s, SP_DECODE, &pm);
        if (ast != WC_OK)
            goto out;
        if (s.nrec >= (size_t)cfg->batch_size) {
            fetch_wake(&s, &s.recs[s.nrec - 1]);
            if (flush(&s) != WC_OK)
                goto out;
        }
    }
    if (s.cb_status == WC_OK && s.nrec && flush(&s) != WC_OK)
        goto out;
    if (s.cb_status == WC_OK && settle(&s, false) == WC_FATAL)
        goto out;
    rc = s.cb_status == WC_OK ? WC_OK : WC_FATAL;
out:
    stats_publish(&s);
    sp_log(&s);
    if (rc != WC_OK && !*stop)
        log_msg(LOG_ERROR, "sink failed", "connector=%s error=\"%s\"", log_esc(cfg->name), log_esc(s.err));
    log_info("sink stopped", "connector=%s task=%d records=%" PRIu64 " batches=%" PRIu64 " dead_letters=%" PRIu64,
             log_esc(cfg->name), cfg->task, s.applied, s.batches, s.dead);
    drop_batch(&s);   /* the held messages go back before the consumer closes */
    waker_stop(&s);
    if (s.cq)
        rd_kafka_queue_destroy(s.cq);
    if (s.rk)
        group_commit(&s, true);
    if (s.grp)
        rd_kafka_topic_partition_list_destroy(s.grp);
    if (s.rk) {
        rd_kafka_consumer_close(s.rk);
        rd_kafka_destroy(s.rk);
    }
    if (s.dlq) {
        rd_kafka_flush(s.dlq, 5000);
        rd_kafka_destroy(s.dlq);
    }
    target_reset(&s);
    pend_free(&s);
    env_decoder_free(s.dec);
    tf_chain_free(s.tf);
    for (size_t i = 0; i < s.nflat; i++)
        free(s.flat_topics[i]);
    free(s.flat_topics);
    sr_free(s.registry);
    arena_free(s.arena);
    free(s.recs);
    for (size_t i = 0; i < s.ntracked; i++)
        free(s.tracked[i].topic);
    free(s.tracked);
    buf_free(&s.tmp);
    buf_free(&s.keyval);
    /* a stop request while retrying is a clean stop, not a failure */
    rc = (rc != WC_OK && *stop && s.cb_status == WC_OK && !s.err[0]) ? WC_OK : rc;
    if (rc != WC_OK && why)
        snprintf(why, whylen, "sink failed: %s", s.err[0] ? s.err : "see the log");
    return rc;
}
