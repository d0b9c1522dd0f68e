/* publisher.c: librdkafka producer wrapper. QUEUE_FULL is handled by polling, never by dropping;
 * the embedded mode keeps a mock cluster alive on its own rd_kafka_t handle. */
#include "schemas/clock.h"
#include "agent/publisher.h"

#include <librdkafka/rdkafka.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/log.h"

typedef struct topic_slot {
    char *name;
    rd_kafka_topic_t *rkt;
    wc_topic_mark_t mark;         /* told to the worker's topic tracking */
    bool fresh;                   /* met since the last commit started, for the first time (see ask_fresh) */
} topic_slot_t;

struct pub {
    rd_kafka_t *rk;
    pub_ack_fn ack;
    pub_wait_fn wait;
    void *ctx;
    topic_slot_t *topics;
    size_t ntopics, captopics;
    topic_slot_t *last;
    wc_topic_hook_t hook;         /* topic tracking: each topic produced to is told to the worker */
    bool transactional;
    /* walcast's own limit on one record (producer.message.max.bytes, 1,000,000 by default): librdkafka's
     * message.max.bytes, which also bounds its batches, is set higher for larger batches (pub_new) */
    long long record_max, lib_max;
    /* the batches are walcast's default, larger than PUB_SMALL_BATCH: a batch the broker refuses as too
     * large is sent again in small ones (dr_cb, batch_refused; txn.c's txn_rewind) */
    bool big_batches;
    atomic_bool batch_refused;
    char *txn_id;                 /* transactional.id, or NULL */
    bool txn_open;
    int64_t txn_began_ms;         /* monotonic clock at pub_txn_begin */
    int64_t txn_timeout_ms;       /* transaction.timeout.ms as configured */
    volatile sig_atomic_t *stop;  /* the caller's stop flag (from pub_txn_init) */
    /* Pipelined commit: commit_transaction runs on its own thread while the caller keeps
     * decoding; records sent meanwhile are kept here and produced into the next transaction. */
    bool committing;
    /* The commit thread lives as long as the producer (started by the first commit): pub_txn_commit_start
     * hands it a commit through commit_go, it answers through commit_done; both under commit_mu. */
    pthread_t committer;
    bool committer_started;
    pthread_mutex_t commit_mu;
    pthread_cond_t commit_cv;     /* signalled when commit_go, commit_quit or commit_done is set */
    bool commit_go, commit_quit;
    wc_status_t commit_status;
    atomic_bool commit_done;      /* set by the commit thread when a commit ends */
    int wake_fd;                  /* eventfd: see pub_wake_fd (own_wake_fd or one set by pub_set_wake_fd) */
    int own_wake_fd;
    char commit_err[512];
    /* the topics the committing transaction holds that this producer met in it for the first time (names,
     * handed to the commit thread with commit_go and freed by it; see ask_fresh) */
    char **fresh;
    size_t nfresh, nfresh_cap;
    pub_commit_times_t times;     /* of the last commit (the latency trace) */
    int64_t last_dr_us;           /* the arrival of the newest report that left nothing in flight */
    buf_t deferred;               /* records kept while held or committing (see defer_record) */
    size_t deferred_at;           /* where the next one to produce starts (the ones before it are produced) */
    size_t ndeferred;
    bool held;                    /* pub_txn_hold: records sent are kept in deferred */
    /* records produced and delivery reports served since the producer was made: when they are equal,
     * every record produced so far is in its partition's log (pub_txn_delivered) */
    atomic_uint_fast64_t nsent, nacked;
    atomic_bool commit_running;   /* between commit_go and commit_done: dr_cb wakes the caller on the last report */
    /* The next transaction is begun on the commit thread right after a successful commit: librdkafka's
     * begin_transaction waits for its main thread to run the request, a scheduling delay under load that
     * held the caller's read loop (and every change arriving meanwhile) for up to tens of ms. Whoever moves
     * it from PRE_NONE first begins: the commit thread (PRE_RUNNING, then PRE_DONE: pub_txn_begin takes
     * it) or pub_txn_begin itself (PRE_TAKEN). */
    atomic_int prebegin;
    uint64_t room_waits, room_flushes;   /* make_room: waits for room in the queue, and those that flushed */
};

enum { PRE_NONE, PRE_RUNNING, PRE_DONE, PRE_TAKEN };

/* Errors that the same record meets again however often it is sent. */
static bool error_permanent(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
        return true;
    default:
        return false;
    }
}

/* "cannot produce to topic T: <error> (key K, N bytes)" plus what to change, for a refused record. */
static void record_error(char *err, size_t errlen, const char *topic, rd_kafka_resp_err_t e, const void *key,
                         size_t keylen, size_t len)
{
    char k[128];
    size_t n = 0;
    for (size_t i = 0; i < keylen && n + 4 < sizeof k; i++) {
        unsigned char c = ((const unsigned char *)key)[i];
        k[n++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    if (keylen && n < keylen && n + 4 <= sizeof k)
        memcpy(k + n, "...", 3), n += 3;
    k[n] = 0;
    const char *hint = "";
    if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || e == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE)
        hint = ": raise producer.message.max.bytes in the worker file and the topic's max.message.bytes (the "
               "broker's message.max.bytes for new topics), or leave the column out (column.exclude.list)";
    else if (e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED || e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED)
        hint = ": grant walcast's principal WRITE on the topic (and on its transactional.id)";
    snprintf(err, errlen, "cannot produce to topic %s: %s (key %s, %zu bytes)%s", topic, rd_kafka_err2str(e),
             keylen ? k : "null", len, hint);
}

static void wake(pub_t *p);
static void forget_deferred(pub_t *p);

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    pub_t *p = opaque;
    (void)rk;
    if (p->ack) {
        char e[768];   /* filled on an error only (was zeroed, 768 bytes, for every record) */
        wc_status_t st = !m->err ? WC_OK : error_permanent(m->err) ? WC_PERMANENT : WC_ABORT;
        if (m->err)
            record_error(e, sizeof e, rd_kafka_topic_name(m->rkt), m->err, m->key, m->key_len, m->len);
        /* The broker refuses a whole batch as too large (the topic's max.message.bytes, compressed): with
         * big batches and a record a small batch holds with others, it was the batch, not the record
         * (rows that do not compress). Sent again in small batches after the rewind, so not permanent. */
        if (p->big_batches && m->key_len + m->len < PUB_SMALL_BATCH &&
            (m->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || m->err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE)) {
            st = WC_ABORT;
            atomic_store(&p->batch_refused, true);
            snprintf(e, sizeof e, "Kafka refused a batch of records to topic %s as too large: %s",
                     rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
        }
        p->ack(p->ctx, (uint64_t)(uintptr_t)m->_private, st, m->err ? e : NULL);
    }
    /* the last report of a committing transaction, served on the commit thread: the caller may now
     * produce the next transaction's records (pub_txn_delivered). Its arrival is the commit's flushed_us: the
     * clock is read for a report that leaves nothing in flight, not for every record (a clock_gettime per
     * row showed in the read thread's profile) */
    uint64_t acked = atomic_fetch_add(&p->nacked, 1) + 1, sent = atomic_load(&p->nsent);
    if (acked >= sent)
        p->last_dr_us = wc_wall_us();
    if (acked == sent && atomic_load(&p->commit_running))
        wake(p);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 3)
        log_error("kafka client", "facility=%s detail=\"%s\"", fac, log_esc(buf));
    else if (level <= 4)
        log_warn("kafka client", "facility=%s detail=\"%s\"", fac, log_esc(buf));
}

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka producer setting %s=%s: %s", k, cfg_is_secret(k) ? "****" : v, e);
        return -1;
    }
    return 0;
}

pub_t *pub_new(const worker_config_t *w, const char *client_id, const char *transactional_id, pub_ack_fn ack,
               pub_wait_fn wait, void *ctx, char *err, size_t errlen)
{
    return pub_new_batches(w, client_id, transactional_id, false, ack, wait, ctx, err, errlen);
}

pub_t *pub_new_batches(const worker_config_t *w, const char *client_id, const char *transactional_id,
                       bool small_batches, pub_ack_fn ack, pub_wait_fn wait, void *ctx, char *err, size_t errlen)
{
    pub_t *p = xcalloc(1, sizeof *p);
    p->wake_fd = p->own_wake_fd = -1;
    pthread_mutex_init(&p->commit_mu, NULL);
    pthread_cond_init(&p->commit_cv, NULL);
    p->ack = ack;
    p->wait = wait;
    p->ctx = ctx;
    buf_init(&p->deferred);
    const char *bs = w->bootstrap_servers;
    if (!bs || !*bs || strcmp(bs, "embedded") == 0) {
        snprintf(err, errlen, "bootstrap.servers=embedded must be resolved by starting the embedded Kafka first");
        goto fail;
    }
    /* Batches of PUB_BATCH_BYTES: librdkafka 2.0.2 has one Produce request in flight per partition (its limit
     * of 5 counts messages, README Batching), so a backlog drains at a batch per round trip; JSON with
     * schemas records (~3.6 KB, ~30 bytes compressed) filled a 1 MB batch with ~10 KB on the wire. A batch
     * is bounded by batch.size and message.max.bytes both, and message.max.bytes is also librdkafka's
     * limit on one record: walcast checks that limit itself (record_max, produce), so users keep theirs.
     * The user's producer.batch.size and producer.message.max.bytes are taken as given. */
    p->record_max = PUB_SMALL_BATCH;
    long long batch = small_batches ? PUB_SMALL_BATCH : PUB_BATCH_BYTES, lib_max = 0;
    bool user_batch = false, user_max = false, zstd = true;
    for (size_t i = 0; i < w->producer.n; i++) {
        const char *k = w->producer.kv[i].key;
        if (strcmp(k, "compression.type") == 0 || strcmp(k, "compression.codec") == 0)
            zstd = strcmp(w->producer.kv[i].value, "zstd") == 0;
        if (strcmp(k, "message.max.bytes") == 0) {
            p->record_max = lib_max = strtoll(w->producer.kv[i].value, NULL, 10);
            user_max = true;
        } else if (strcmp(k, "batch.size") == 0) {
            batch = strtoll(w->producer.kv[i].value, NULL, 10);
            user_batch = true;
        }
    }
    if (!user_max)
        lib_max = batch > p->record_max ? batch : p->record_max;
    p->lib_max = lib_max;
    p->big_batches = !user_batch && (batch < lib_max ? batch : lib_max) > PUB_SMALL_BATCH;
    char batch_s[32], lib_max_s[32], queue_kb[32];
    snprintf(batch_s, sizeof batch_s, "%lld", batch);
    snprintf(lib_max_s, sizeof lib_max_s, "%lld", lib_max);
    /* the queue holds at least two of the largest batch or record (one larger than the queue would never fit) */
    snprintf(queue_kb, sizeof queue_kb, "%lld", lib_max / 512 + 1 > 4096 ? lib_max / 512 + 1 : 4096);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[512];
    if (conf_set(conf, "bootstrap.servers", bs, err, errlen) < 0 ||
        conf_set(conf, "client.id", client_id, err, errlen) < 0 ||
        conf_set(conf, "enable.idempotence", "true", err, errlen) < 0 ||
        /* Kafka's Java producer (so Kafka Connect and Debezium) partitions by murmur2 of the key;
         * librdkafka's default (CRC32) would put the same key on another partition. */
        conf_set(conf, "partitioner", "murmur2_random", err, errlen) < 0 ||
        /* at level 1 (librdkafka's default is 3): faster and smaller on these records; librdkafka makes a
         * zstd stream per batch, whose fresh window page-faulted on every 1 MB batch, but a 4 MB batch
         * pays that once for four times the records (README, Compression). Only for zstd: a user's other
         * codec keeps its own default level. */
        conf_set(conf, "compression.type", "zstd", err, errlen) < 0 ||
        (zstd && conf_set(conf, "compression.level", "1", err, errlen) < 0) ||
        /* librdkafka 2.0.2's broker thread busy-polls (poll with timeout 0, in a loop) while a partition has
         * messages it may not send yet: the idempotent producer's 5 requests are in flight and the first
         * queued message is older than linger.ms (or a flush, so a commit, is running). A drain spent ~2
         * such polls per row and ~40% of the broker thread's CPU on them (README, Batching).
         * So: a linger that only ends a batch nobody commits (commit_transaction flushes, whatever linger),
         * batches that fill by size or count, and no more queued than about the requests in flight. */
        conf_set(conf, "linger.ms", "500", err, errlen) < 0 ||
        (!user_batch && conf_set(conf, "batch.size", batch_s, err, errlen) < 0) ||
        (!user_max && conf_set(conf, "message.max.bytes", lib_max_s, err, errlen) < 0) ||
        conf_set(conf, "batch.num.messages", "2000", err, errlen) < 0 ||
        conf_set(conf, "queue.buffering.max.kbytes", queue_kb, err, errlen) < 0 ||
        conf_set(conf, "queue.buffering.max.messages", "100000", err, errlen) < 0 ||
        /* A value above 1 KB goes into the batch by reference: librdkafka 2.0.2 copies every value of up to
         * message.copy.max.bytes (64 KB by default) into a batch buffer of up to 4 MB, kept until the batch
         * is acknowledged, though the record holds its own copy (RD_KAFKA_MSG_F_COPY) until then anyway.
         * Snapshots peaked 1-18 MB lower; CPU per row did not change (zstd copies its input into its own
         * window either way). Smaller values are still copied: a reference costs two buffer segments and a
         * zstd call of its own (README, Batching). */
        conf_set(conf, "message.copy.max.bytes", PUB_COPY_MAX, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    /* A huge source transaction is one Kafka transaction: allow Kafka's default broker maximum
     * (transaction.max.timeout.ms, 15 min); producer.transaction.timeout.ms overrides. */
    if (transactional_id && conf_set(conf, "transaction.timeout.ms", "900000", err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    for (size_t i = 0; i < w->producer.n; i++) {
        if (conf_set(conf, w->producer.kv[i].key, w->producer.kv[i].value, err, errlen) < 0) {
            rd_kafka_conf_destroy(conf);
            goto fail;
        }
    }
    if (transactional_id && conf_set(conf, "transactional.id", transactional_id, err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!p->rk) {
        snprintf(err, errlen, "cannot create the Kafka producer: %s", e);
        goto fail;
    }
    /* one descriptor wakes the caller's poll: librdkafka writes to it when delivery reports wait on an
     * empty main queue, the commit thread when it ends */
    p->wake_fd = p->own_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->wake_fd < 0) {
        snprintf(err, errlen, "cannot create the producer's wake-up descriptor: %s", strerror(errno));
        goto fail;
    }
    rd_kafka_queue_t *mq = rd_kafka_queue_get_main(p->rk);
    static const uint64_t one = 1;
    rd_kafka_queue_io_event_enable(mq, p->wake_fd, &one, sizeof one);
    rd_kafka_queue_destroy(mq);
    p->transactional = transactional_id != NULL;
    p->txn_id = transactional_id ? xstrdup(transactional_id) : NULL;
    p->txn_timeout_ms = 900000;
    for (size_t i = 0; i < w->producer.n; i++)
        if (strcmp(w->producer.kv[i].key, "transaction.timeout.ms") == 0)
            p->txn_timeout_ms = strtoll(w->producer.kv[i].value, NULL, 10);
    return p;
fail:
    pub_free(p);
    return NULL;
}

void pub_free(pub_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntopics; i++) {
        rd_kafka_topic_destroy(p->topics[i].rkt);
        free(p->topics[i].name);
    }
    free(p->topics);
    if (p->committer_started) {
        /* a running commit ends first (as a join of it did before) */
        pthread_mutex_lock(&p->commit_mu);
        p->commit_quit = true;
        pthread_cond_broadcast(&p->commit_cv);
        pthread_mutex_unlock(&p->commit_mu);
        pthread_join(p->committer, NULL);
    }
    if (p->rk)
        rd_kafka_destroy(p->rk);
    if (p->own_wake_fd >= 0)
        close(p->own_wake_fd);
    forget_deferred(p);
    buf_free(&p->deferred);
    for (size_t i = 0; i < p->nfresh; i++)
        free(p->fresh[i]);
    free(p->fresh);
    free(p->txn_id);
    pthread_cond_destroy(&p->commit_cv);
    pthread_mutex_destroy(&p->commit_mu);
    free(p);
}

/* track: a connector's record (told to topic tracking), not the offset record of a commit. */
static rd_kafka_topic_t *topic_get(pub_t *p, const char *name, bool track)
{
    topic_slot_t *s = NULL;
    if (p->last && strcmp(p->last->name, name) == 0)
        s = p->last;
    for (size_t i = 0; !s && i < p->ntopics; i++)
        if (strcmp(p->topics[i].name, name) == 0)
            s = &p->topics[i];
    if (!s) {
        if (p->ntopics == p->captopics) {
            p->captopics = p->captopics ? p->captopics * 2 : 16;
            p->topics = xrealloc(p->topics, p->captopics * sizeof *p->topics);
        }
        s = &p->topics[p->ntopics++];
        s->name = xstrdup(name);
        rd_kafka_topic_conf_t *tc = NULL;
        if (!track) {
            /* the offsets topic: Java's partitioner whatever producer.partitioner says for the data, as
             * Connect's offsets producer does; a key on two partitions would be read back in no set order */
            char e[256];
            tc = rd_kafka_default_topic_conf_dup(p->rk);
            if (rd_kafka_topic_conf_set(tc, "partitioner", "murmur2_random", e, sizeof e) != RD_KAFKA_CONF_OK) {
                rd_kafka_topic_conf_destroy(tc);
                tc = NULL;   /* (not reached: a name librdkafka has) */
            }
        }
        s->rkt = rd_kafka_topic_new(p->rk, name, tc);
        s->mark = 0;
        s->fresh = true;
    }
    p->last = s;
    if (track)
        wc_topic_track(&p->hook, &s->mark, s->name);
    return s->rkt;
}

void pub_set_topic_hook(pub_t *p, const wc_topic_hook_t *h)
{
    p->hook = h ? *h : (wc_topic_hook_t){ 0 };
}

static void put_u32(buf_t *b, size_t v)
{
    uint32_t x = (uint32_t)v;
    buf_append(b, &x, sizeof x);
}

static void put_blob(buf_t *b, const void *d, size_t len, bool null)
{
    put_u32(b, null ? UINT32_MAX : len);
    if (!null)
        buf_append(b, d, len);
}

/* Layout: topic, key, value, nheaders, (hkey, hvalue)*, partition, timestamp; blobs are u32 length (UINT32_MAX =
 * null) + bytes. The value is kept here too and copied by librdkafka when produced (RD_KAFKA_MSG_F_COPY), as a
 * record sent outside a commit is: a block of its own per value, handed over with RD_KAFKA_MSG_F_FREE, saved that
 * copy but cost a malloc of a few KB per record, the read thread's largest single cost in a JSON-with-schemas
 * drain (13% of its samples under defer_record's malloc, the heap grown and trimmed again commit after commit:
 * page faults 7%), where this buffer is reused. */
static void defer_record(pub_t *p, const rec_t *r)
{
    buf_t *b = &p->deferred;
    put_blob(b, r->topic, strlen(r->topic) + 1, false);
    put_blob(b, r->key, r->keylen, r->key == NULL);
    put_blob(b, r->value, r->valuelen, r->value == NULL);
    put_u32(b, (size_t)r->nheaders);
    for (int i = 0; i < r->nheaders; i++) {
        put_blob(b, r->headers[i].key, strlen(r->headers[i].key) + 1, false);
        put_blob(b, r->headers[i].value, r->headers[i].len, r->headers[i].value == NULL);
    }
    put_blob(b, r->has_partition ? &r->partition : NULL, sizeof r->partition, !r->has_partition);
    put_blob(b, r->has_ts ? &r->ts_ms : NULL, sizeof r->ts_ms, !r->has_ts);
    p->ndeferred++;
}

static const uint8_t *get_blob(const uint8_t *at, const void **d, size_t *len)
{
    uint32_t n;
    memcpy(&n, at, sizeof n);
    at += sizeof n;
    if (n == UINT32_MAX) {
        *d = NULL;
        *len = 0;
        return at;
    }
    *d = at;
    *len = n;
    return at + n;
}

static wc_status_t produce(pub_t *p, const rec_t *r, uint64_t tag, int flags, char *err, size_t errlen);

/* Forgets the kept records. */
static void forget_deferred(pub_t *p)
{
    buf_reset(&p->deferred);
    p->deferred_at = 0;
    p->ndeferred = 0;
}

/* Produces the records kept during a commit into the (new) open transaction. On failure the ones produced
 * are not kept any more; the others are, until the rewind drops them (pub_discard_deferred). */
static wc_status_t drain_deferred(pub_t *p, char *err, size_t errlen)
{
    const uint8_t *at = (const uint8_t *)p->deferred.data + p->deferred_at, *end = (const uint8_t *)p->deferred.data + p->deferred.len;
    while (at < end) {
        rec_t r;
        memset(&r, 0, sizeof r);
        const void *d;
        size_t len;
        at = get_blob(at, &d, &len);
        r.topic = d;
        at = get_blob(at, &r.key, &r.keylen);
        at = get_blob(at, &r.value, &r.valuelen);
        uint32_t nh;
        memcpy(&nh, at, sizeof nh);
        at += sizeof nh;
        r.nheaders = (int)nh;
        for (uint32_t i = 0; i < nh; i++) {
            at = get_blob(at, &d, &len);
            r.headers[i].key = d;
            at = get_blob(at, &r.headers[i].value, &r.headers[i].len);
        }
        at = get_blob(at, &d, &len);
        if ((r.has_partition = d != NULL))
            memcpy(&r.partition, d, sizeof r.partition);
        at = get_blob(at, &d, &len);
        if ((r.has_ts = d != NULL))
            memcpy(&r.ts_ms, d, sizeof r.ts_ms);
        wc_status_t st = produce(p, &r, 0, RD_KAFKA_MSG_F_COPY, err, errlen);
        if (st != WC_OK)
            return st;
        atomic_fetch_add(&p->nsent, 1);
        p->deferred_at = (size_t)(at - (const uint8_t *)p->deferred.data);
        p->ndeferred--;
    }
    forget_deferred(p);
    return WC_OK;
}

wc_status_t pub_send(pub_t *p, const rec_t *r, uint64_t tag, char *err, size_t errlen)
{
    if (p->committing || p->held) {
        defer_record(p, r);
        return WC_OK;
    }
    wc_status_t st = produce(p, r, tag, RD_KAFKA_MSG_F_COPY, err, errlen);
    if (st == WC_OK)
        atomic_fetch_add(&p->nsent, 1);
    return st;
}

wc_status_t pub_txn_hold(pub_t *p, bool hold, char *err, size_t errlen)
{
    p->held = hold;
    return !hold && p->txn_open && p->ndeferred ? drain_deferred(p, err, errlen) : WC_OK;
}

bool pub_txn_held(const pub_t *p) { return p->held; }

bool pub_txn_delivered(const pub_t *p) { return atomic_load(&p->nacked) >= atomic_load(&p->nsent); }

/* Room comes from delivery reports: wait for the next. Only when none came is the queue sent at once,
 * whatever linger.ms (with many partitions the queue fills before any partition's batch does, and the wait
 * would last the linger). Not a flush every time: while librdkafka 2.0.2 flushes, its broker thread spins
 * (poll with timeout 0) for as long as a request is in flight (README, Batching). For a full queue and
 * pub_push (the snapshot's and replay's throttles: a snapshot of small records flushed each time). */
static void make_room(pub_t *p)
{
    /* Up to 10 ms (rd_kafka_poll returns with the first report): the answer to the one Produce request in
     * flight comes after librdkafka has built and compressed a 4 MB batch and the broker has checked it,
     * 2-5 ms in a drain, so a 2 ms wait ended in a flush for most batches, and the broker thread spun through
     * each flush (zero-timeout polls per 1000 rows of a 1M-row JSON-with-schemas drain 32-111 against 3-13;
     * README, Batching). Only when no report came is the queue flushed, for 1 ms: that sends what waits on
     * linger (no batch full, nothing in flight); the answers come with the next waits. An earlier rule (a
     * 10 ms flush for the next 16 full queues after such a wait) kept the broker thread spinning too. */
    int before = rd_kafka_outq_len(p->rk);
    p->room_waits++;
    rd_kafka_poll(p->rk, 10);
    if (rd_kafka_outq_len(p->rk) >= before) {
        p->room_flushes++;
        rd_kafka_flush(p->rk, 1);
    }
}

void pub_room_counts(const pub_t *p, uint64_t *waits, uint64_t *flushes)
{
    *waits = p->room_waits;
    *flushes = p->room_flushes;
}

/* bytes of an unsigned LEB128 varint of zigzag(v) */
static size_t varint_size(size_t v)
{
    size_t n = 1;
    for (uint64_t z = (uint64_t)v << 1; z >= 0x80; z >>= 7)
        n++;
    return n;
}

/* A record's size as librdkafka 2.0.2 weighs it against message.max.bytes (rd_kafka_msg_max_wire_size: the
 * largest v2 record overhead, key, value and the headers as serialised). */
static size_t record_size(const rec_t *r)
{
    size_t n = 36 + (r->key ? r->keylen : 0) + (r->value ? r->valuelen : 0);
    for (int i = 0; i < r->nheaders; i++) {
        size_t k = strlen(r->headers[i].key), v = r->headers[i].value ? r->headers[i].len : 0;
        n += k + v + varint_size(k) + varint_size(v);
    }
    return n;
}

/* flags: librdkafka's message flags (RD_KAFKA_MSG_F_COPY: it copies the value; RD_KAFKA_MSG_F_FREE would have it
 * take the value's block over, only when WC_OK is returned). */
static wc_status_t produce(pub_t *p, const rec_t *r, uint64_t tag, int flags, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = topic_get(p, r->topic, tag != UINT64_MAX);   /* UINT64_MAX: the offset record */
    /* walcast's limit on a record, when below librdkafka's (see pub_new) */
    if (p->record_max < p->lib_max && record_size(r) > (size_t)p->record_max) {
        record_error(err, errlen, r->topic, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, r->key, r->keylen, r->valuelen);
        return WC_PERMANENT;
    }
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (r->nheaders) {
            hdrs = rd_kafka_headers_new((size_t)r->nheaders);
            for (int i = 0; i < r->nheaders; i++)
                rd_kafka_header_add(hdrs, r->headers[i].key, -1, r->headers[i].value, (ssize_t)r->headers[i].len);
        }
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(flags),
            RD_KAFKA_V_KEY(r->key, r->keylen), RD_KAFKA_V_VALUE((void *)r->value, r->valuelen),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE((void *)(uintptr_t)tag),
            RD_KAFKA_V_PARTITION(r->has_partition ? r->partition : RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_TIMESTAMP(r->has_ts ? r->ts_ms : 0), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            return WC_OK;
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            make_room(p);
            if (p->wait)
                p->wait(p->ctx);
            continue;
        }
        record_error(err, errlen, r->topic, e, r->key, r->keylen, r->valuelen);
        return error_permanent(e) ? WC_PERMANENT : WC_ABORT;
    }
}

/* While a commit runs, its thread serves the delivery reports (rd_kafka_flush polls). */
int pub_wake_fd(const pub_t *p) { return p->wake_fd; }

const char *pub_transactional_id(const pub_t *p) { return p->txn_id; }

void pub_set_wake_fd(pub_t *p, int fd)
{
    p->wake_fd = fd;
    rd_kafka_queue_t *mq = rd_kafka_queue_get_main(p->rk);
    static const uint64_t one = 1;
    rd_kafka_queue_io_event_enable(mq, fd, &one, sizeof one);
    rd_kafka_queue_destroy(mq);
}

wc_status_t pub_metadata(pub_t *p, int timeout_ms, int *nbrokers, int *ntopics, char *err, size_t errlen)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(p->rk, 1, NULL, &md, timeout_ms);
    if (e) {
        snprintf(err, errlen, "no answer from Kafka within %d ms: %s", timeout_ms, rd_kafka_err2str(e));
        return WC_RETRY;
    }
    *nbrokers = md->broker_cnt;
    *ntopics = md->topic_cnt;
    rd_kafka_metadata_destroy(md);
    return WC_OK;
}

static void wake(pub_t *p)
{
    static const uint64_t one = 1;
    ssize_t n = write(p->wake_fd, &one, sizeof one);
    (void)n;   /* a full counter already wakes the reader */
}

/* pub_poll and pub_push: the wake-up descriptor drained; a producer whose commit runs has its reports
 * served by the commit's thread, so the caller only waits. */
static void serve(pub_t *p, int timeout_ms, bool push)
{
    uint64_t drained;
    while (read(p->wake_fd, &drained, sizeof drained) > 0)
        ;
    if (p->committing) {
        if (timeout_ms > 0)
            usleep((useconds_t)timeout_ms * 1000);
        return;
    }
    if (push)
        make_room(p);
    else
        rd_kafka_poll(p->rk, timeout_ms);
}

void pub_poll(pub_t *p, int timeout_ms) { serve(p, timeout_ms, false); }

int pub_flush(pub_t *p, int timeout_ms)
{
    return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

void pub_push(pub_t *p, int timeout_ms) { serve(p, timeout_ms, true); }

int pub_outstanding(const pub_t *p) { return rd_kafka_outq_len(p->rk); }

int pub_setting(const pub_t *p, const char *key, char *out, size_t outlen)
{
    size_t n = outlen;
    return rd_kafka_conf_get(rd_kafka_conf(p->rk), key, out, &n) == RD_KAFKA_CONF_OK ? 0 : -1;
}

bool pub_txn_open(const pub_t *p) { return p->txn_open; }

bool pub_txn_expired(const pub_t *p)
{
    return (p->txn_open || p->committing) && wc_mono_ms() - p->txn_began_ms >= p->txn_timeout_ms;
}

bool pub_txn_committing(const pub_t *p) { return p->committing; }

size_t pub_deferred(const pub_t *p) { return p->ndeferred; }

size_t pub_deferred_bytes(const pub_t *p) { return p->deferred.len - p->deferred_at; }
size_t pub_deferred_allocated(const pub_t *p) { return p->deferred.cap; }

bool pub_batch_refused(const pub_t *p) { return atomic_load(&p->batch_refused); }

void pub_swap_deferred(pub_t *a, pub_t *b)
{
    if (a->ndeferred || b->ndeferred)
        return;
    /* (with nothing kept, deferred_at is 0 on both: forget_deferred) */
    buf_t x = a->deferred;
    a->deferred = b->deferred;
    b->deferred = x;
}

static wc_status_t classify(rd_kafka_error_t *ke, const char *what, char *err, size_t errlen)
{
    wc_status_t st = rd_kafka_error_txn_requires_abort(ke) ? WC_ABORT : WC_FATAL;
    rd_kafka_resp_err_t code = rd_kafka_error_code(ke);
    /* only a fenced producer means that another process took the transactional id; other fatal errors
     * (e.g. after a failed step before this one, logged there) say only what librdkafka says */
    bool fenced = code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                  code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
    snprintf(err, errlen, "%s: %s%s", what, rd_kafka_error_string(ke),
             fenced ? " (fenced: another walcast with the same connector name has taken over)"
             : rd_kafka_error_is_fatal(ke) ? " (a fatal producer error: its cause is in the log lines before)"
                                           : "");
    rd_kafka_error_destroy(ke);
    return st;
}

wc_status_t pub_txn_init_once(pub_t *p, int timeout_ms, char *err, size_t errlen)
{
    rd_kafka_error_t *ke = rd_kafka_init_transactions(p->rk, timeout_ms);
    if (!ke)
        return WC_OK;
    if (!rd_kafka_error_is_retriable(ke))
        return classify(ke, "cannot initialise Kafka transactions", err, errlen);
    snprintf(err, errlen, "%s", rd_kafka_error_string(ke));
    rd_kafka_error_destroy(ke);
    return WC_RETRY;
}

/* The slices of init_transactions between looks at *stop. A stopped caller frees the producer (pub_free) at
 * once, and must be able to: librdkafka keeps an unfinished InitProducerId queued after the call returns
 * and sends it when Kafka answers again. A zombie cut off from Kafka while its connector started (its
 * stop came during the cut) sent it at the restore, from a call that still waited out its 5 s: the epoch
 * it took fenced the new owner's producer, whose connector then FAILED and ran nowhere (test_cluster.sh's
 * cut phase, CI of 4257702; its cutmid phase met it in the first of four cuts). */
#define INIT_SLICE_MS 200
#define INIT_SAY_MS 5000

wc_status_t pub_txn_init(pub_t *p, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    p->stop = stop;
    int waited = 0;
    /* err is written only when it fails: a rewind renews a producer with its failure's reason in err and
     * reports that reason, not a slice's "timed out" or CONCURRENT_TRANSACTIONS that passed */
    char e[512];
    while (!*stop) {
        wc_status_t st = pub_txn_init_once(p, INIT_SLICE_MS, e, sizeof e);   /* a later call resumes it */
        if (st == WC_OK)
            return WC_OK;
        if (st != WC_RETRY) {
            snprintf(err, errlen, "%s", e);
            return st;
        }
        waited += INIT_SLICE_MS;
        if (waited % INIT_SAY_MS == 0)
            log_warn("Kafka is not reachable yet; retrying", "error=\"%s\" waited_ms=%d", log_esc(e), waited);
    }
    snprintf(err, errlen, "stopped while waiting for Kafka");
    return WC_RETRY;
}

wc_status_t pub_txn_begin(pub_t *p, char *err, size_t errlen)
{
    int pre = PRE_NONE;
    if (!atomic_compare_exchange_strong(&p->prebegin, &pre, PRE_TAKEN)) {
        while ((pre = atomic_load(&p->prebegin)) == PRE_RUNNING)   /* the commit thread is at it: rare */
            usleep(100);
        /* PRE_DONE: begun already; PRE_NONE: the commit thread's attempt failed, its error comes again */
        if (pre == PRE_NONE && !atomic_compare_exchange_strong(&p->prebegin, &pre, PRE_TAKEN))
            pre = atomic_load(&p->prebegin);
    }
    if (pre != PRE_DONE) {
        rd_kafka_error_t *ke = rd_kafka_begin_transaction(p->rk);
        atomic_store(&p->prebegin, PRE_NONE);
        if (ke)
            return classify(ke, "cannot begin a Kafka transaction", err, errlen);
    }
    atomic_store(&p->prebegin, PRE_NONE);
    p->txn_open = true;
    p->txn_began_ms = wc_mono_ms();
    if (p->ndeferred && !p->held)
        return drain_deferred(p, err, errlen);
    return WC_OK;
}

/* Asks Kafka for the metadata of the committing transaction's fresh topics, one request each, without waiting
 * for the answers: librdkafka applies an answer to its topic state whoever asked (rd_kafka_handle_Metadata), and
 * a blocking request here held the commit: the flush pauses between two commit_transaction calls, and a record
 * waiting on linger.ms was sent only after the answers (two requests of 12 ms each on a loaded broker). */
static void ask_fresh(pub_t *p)
{
    for (size_t i = 0; i < p->nfresh; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, p->fresh[i], NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (!rkt)
            continue;
        if (rd_kafka_metadata(p->rk, 0, rkt, &md, 0) == RD_KAFKA_RESP_ERR_NO_ERROR && md)
            rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
    }
}

/* Retried for as long as Kafka stays away (a line every 30 s says so), until the commit succeeds,
 * fails for good, or walcast is told to stop; the broker aborts a transaction left open past
 * transaction.timeout.ms, and the caller then starts a new producer (pub_txn_expired).
 * A topic this producer met for the first time in the transaction may not have existed when librdkafka
 * asked for it (the broker auto-creates it on that request and answers UNKNOWN_TOPIC_OR_PART); librdkafka
 * 2.0.2 asks again only on its 1 s timer, and the commit waited for it: the first commit of a new connector,
 * and of a new table's topic, took up to 1 s more (0.66 s in a start measured with the broker's request log).
 * So for such topics walcast asks itself: at the commit's start, then while the records are flushed, after
 * 10, 20, 40, 80, then every 100 ms, for up to 10 s (then librdkafka's own timer again); commit_transaction
 * comes after that flush and finds the records delivered.
 * Not by calling commit_transaction with short timeouts and resuming it: librdkafka 2.0.2 keeps one result
 * slot per API call (txn_curr_api), and a step of it (an op to its main thread) that outlasts the call's timeout
 * leaves its result there for the next step of the resumed call to take as its own: under load (a slow main
 * thread) a resumed commit_transaction got "Operation not valid in state BeginCommit" (its begin-commit op ran
 * twice, the second one's result taken by the commit step) and the transaction was aborted and sent again.
 * So commit_transaction is called once per commit with a long timeout, as before, and again only when Kafka
 * is away (30 s). */
static void flush_fresh(pub_t *p)
{
    int64_t began = wc_mono_ms();
    int step_ms = 10;
    ask_fresh(p);
    while (p->nfresh > 0 && rd_kafka_outq_len(p->rk) > 0 && wc_mono_ms() - began < 10000 &&
           !(p->stop && *p->stop)) {
        if (rd_kafka_flush(p->rk, step_ms) == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        ask_fresh(p);
        step_ms = step_ms * 2 > 100 ? 100 : step_ms * 2;
    }
}

static wc_status_t commit_blocking(pub_t *p, char *err, size_t errlen)
{
    int64_t began = wc_mono_ms();
    flush_fresh(p);
    for (;;) {
        p->times.api_calls++;
        rd_kafka_error_t *ke = rd_kafka_commit_transaction(p->rk, 30000);
        if (!ke)
            return WC_OK;
        if (rd_kafka_error_is_retriable(ke)) {
            if (p->stop && *p->stop) {
                /* told to stop while Kafka is away: the transaction stays open for the broker to abort */
                snprintf(err, errlen, "stopped while waiting for Kafka to commit: %s", rd_kafka_error_string(ke));
                rd_kafka_error_destroy(ke);
                return WC_ABORT;
            }
            log_warn("Kafka transaction commit still waiting for the broker; retrying", "waited_s=%lld error=\"%s\"",
                     (long long)((wc_mono_ms() - began) / 1000), log_esc(rd_kafka_error_string(ke)));
            rd_kafka_error_destroy(ke);
            continue;
        }
        return classify(ke, "cannot commit the Kafka transaction", err, errlen);
    }
}

/* The commit thread: waits for a commit to run (commit_go), runs it, reports it (commit_done and the
 * wake-up descriptor); ends on commit_quit once no commit is pending. */
static void *committer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-commit");   /* in top -H and bench.sh's per-thread CPU */
    pub_t *p = arg;
    pthread_mutex_lock(&p->commit_mu);
    for (;;) {
        while (!p->commit_go && !p->commit_quit)
            pthread_cond_wait(&p->commit_cv, &p->commit_mu);
        if (!p->commit_go)
            break;
        p->commit_go = false;
        pthread_mutex_unlock(&p->commit_mu);
        p->commit_status = commit_blocking(p, p->commit_err, sizeof p->commit_err);
        for (size_t i = 0; i < p->nfresh; i++)
            free(p->fresh[i]);
        p->nfresh = 0;
        bool ok = p->commit_status == WC_OK;
        p->times.committed_us = wc_wall_us();
        /* the offset record is the last one produced: its delivery report comes after every other's */
        p->times.flushed_us = p->last_dr_us > p->times.start_us ? p->last_dr_us : p->times.start_us;
        atomic_store(&p->commit_running, false);
        pthread_mutex_lock(&p->commit_mu);
        atomic_store(&p->commit_done, true);   /* after the outcome and times: they are read once it is seen */
        pthread_cond_broadcast(&p->commit_cv);
        pthread_mutex_unlock(&p->commit_mu);
        /* woken outside the lock: the caller collecting the commit does not wait for this thread to run */
        wake(p);
        /* this producer's next transaction, begun here rather than on the caller's thread (see prebegin) */
        int pre = PRE_NONE;
        if (ok && atomic_compare_exchange_strong(&p->prebegin, &pre, PRE_RUNNING)) {
            rd_kafka_error_t *ke = rd_kafka_begin_transaction(p->rk);
            if (ke)
                rd_kafka_error_destroy(ke);   /* pub_txn_begin tries again and reports it */
            atomic_store(&p->prebegin, ke ? PRE_NONE : PRE_DONE);
        }
        pthread_mutex_lock(&p->commit_mu);
    }
    pthread_mutex_unlock(&p->commit_mu);
    return NULL;
}

/* An offset record into the open transaction, produced whether records are held or not. */
wc_status_t pub_txn_offset(pub_t *p, const char *offset_topic, const buf_t *key, const buf_t *value, char *err,
                           size_t errlen)
{
    rec_t r;
    memset(&r, 0, sizeof r);
    r.topic = offset_topic;
    r.key = key->data;
    r.keylen = key->len;
    r.value = value->data;
    r.valuelen = value->len;
    wc_status_t st = produce(p, &r, UINT64_MAX, RD_KAFKA_MSG_F_COPY, err, errlen);
    if (st == WC_OK)
        atomic_fetch_add(&p->nsent, 1);
    return st;
}

/* Produces the offset record into the open transaction; the commit itself runs on the commit thread. */
wc_status_t pub_txn_commit_start(pub_t *p, const char *offset_topic, const buf_t *key, const buf_t *value,
                                  char *err, size_t errlen)
{
    wc_status_t st = pub_txn_offset(p, offset_topic, key, value, err, errlen);
    if (st != WC_OK)
        return st;
    if (!p->committer_started) {
        if (pthread_create(&p->committer, NULL, committer_main, p) != 0) {
            snprintf(err, errlen, "cannot start the Kafka commit thread");
            return WC_ABORT;
        }
        p->committer_started = true;
    }
    /* (the commit thread is idle: its last commit was collected) */
    for (size_t i = 0; i < p->ntopics; i++) {
        if (!p->topics[i].fresh)
            continue;
        p->topics[i].fresh = false;
        if (p->nfresh == p->nfresh_cap) {
            p->nfresh_cap = p->nfresh_cap ? p->nfresh_cap * 2 : 4;
            p->fresh = xrealloc(p->fresh, p->nfresh_cap * sizeof *p->fresh);
        }
        p->fresh[p->nfresh++] = xstrdup(p->topics[i].name);
    }
    p->txn_open = false;
    p->committing = true;
    p->times = (pub_commit_times_t){ .start_us = wc_wall_us() };
    p->commit_err[0] = 0;
    p->commit_status = WC_OK;
    atomic_store(&p->commit_running, true);
    pthread_mutex_lock(&p->commit_mu);
    atomic_store(&p->commit_done, false);
    p->commit_go = true;
    pthread_cond_broadcast(&p->commit_cv);
    pthread_mutex_unlock(&p->commit_mu);
    return WC_OK;
}

pub_commit_times_t pub_txn_commit_times(const pub_t *p) { return p->times; }

bool pub_txn_commit_ready(const pub_t *p) { return !p->committing || atomic_load(&p->commit_done); }

wc_status_t pub_txn_commit_wait(pub_t *p, char *err, size_t errlen)
{
    if (!p->committing)
        return WC_OK;
    if (!atomic_load(&p->commit_done)) {   /* (ended: no lock needed, see committer_main) */
        pthread_mutex_lock(&p->commit_mu);
        while (!atomic_load(&p->commit_done))
            pthread_cond_wait(&p->commit_cv, &p->commit_mu);
        pthread_mutex_unlock(&p->commit_mu);
    }
    wc_status_t st = p->commit_status;
    p->committing = false;
    if (st != WC_OK) {
        snprintf(err, errlen, "%s", p->commit_err);
        /* the transaction is still open on the broker side: abort it before anything else */
        p->txn_open = true;
    }
    return st;
}

void pub_discard_deferred(pub_t *p)
{
    forget_deferred(p);
}

wc_status_t pub_txn_abort(pub_t *p, char *err, size_t errlen)
{
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *ke = rd_kafka_abort_transaction(p->rk, 60000);
        if (!ke) {
            p->txn_open = false;
            return WC_OK;
        }
        if (rd_kafka_error_is_retriable(ke) && p->stop && *p->stop) {
            /* stopping while Kafka is away: the broker aborts it at transaction.timeout.ms, or the
             * next instance's InitProducerId does */
            snprintf(err, errlen, "stopped before Kafka could abort the transaction: %s", rd_kafka_error_string(ke));
            rd_kafka_error_destroy(ke);
            return WC_RETRY;
        }
        if (rd_kafka_error_is_retriable(ke) && attempt < 10) {
            rd_kafka_error_destroy(ke);
            continue;
        }
        classify(ke, "cannot abort the Kafka transaction", err, errlen);
        return WC_FATAL;
    }
}
