/* connector.c: the streaming state machine (after pg_recvlogical.c): non-blocking reads, poll timeout
 * bounded by the next status deadline, keepalive replies at once, and a flush LSN that advances only
 * over source transactions whose every record Kafka has acknowledged. */
#include "agent/connector.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/offsets.h"
#include "agent/publisher.h"
#include "agent/replication.h"
#include "agent/snapshot.h"
#include "agent/spill.h"
#include "decoder/event.h"
#include "decoder/pgoutput.h"
#include "schemas/registry.h"

/* Records kept in memory while a Kafka commit runs; beyond this the read loop waits for it. */
#define DEFER_MAX_BYTES (32u << 20)
/* Records queued in librdkafka while a streamed transaction is replayed from memory or disk. */
#define REPLAY_MAX_QUEUED 30000

typedef struct conn_state {
    const conn_config_t *cfg;
    const worker_config_t *wcfg;
    volatile sig_atomic_t *stop;
    repl_t repl;
    pub_t *pub;
    evt_ctx_t *evt;
    rel_cache_t *rels;
    pgt_catalog_t *types;
    arena_t *msg_arena;
    pgo_state_t pgo;
    spl_store_t *spill;           /* walcast.streaming: in-progress transactions */
    sr_client_t *sr_key, *sr_value; /* Avro converters' schema registries */
    uint32_t stream_xid;          /* inside a Stream Start/Stop block: its top-level xid */
    bool replay_began;            /* replaying a streamed transaction: BEGIN handled */
    uint64_t replayed;
    uint64_t streamed_txns;
    uint64_t pending_commit_lsn;  /* the streamed transaction being replayed */
    int64_t pending_commit_time;
    uint64_t received_lsn;        /* write position reported to the server */
    uint64_t flushed_lsn;         /* committed to Kafka (with its offset record): safe to confirm */
    uint64_t last_commit_lsn;     /* for source.sequence */
    bool in_txn;
    bool skip_txn;                /* this source transaction is already in Kafka (offsets say so) */
    uint32_t xid;
    int64_t commit_time_us;       /* Unix epoch */

    off_pos_t stored;             /* newest offset committed to Kafka */
    off_pos_t pending;            /* offset of everything decoded so far (the next commit's record) */
    off_pos_t committing;         /* offset record of the commit running in the background */
    bool want_txn;                /* records arrived during a commit: open the next transaction after it */
    int64_t ktxn_start_us;
    int64_t commit_start_us;      /* when the running commit was started */
    int64_t commit_max_us;        /* slowest Kafka commit so far */
    uint64_t ktxn_events;
    int status;                   /* PUB_ABORTABLE / PUB_FATAL once the Kafka side failed */
    bool renew_producer;          /* the broker expired our transaction: replace the producer */
    bool was_held;                /* reading paused while a commit waits (logged once per pause) */
    buf_t offkey, offval;

    bool delivery_failed;
    bool delivery_permanent;      /* the failed record would fail again: stop instead of rewinding */
    char delivery_err[1024];
    int64_t next_status_us;
    int64_t next_log_us;
    int64_t next_idle_commit_us;
    int64_t next_heartbeat_us;
    uint64_t idle_target;         /* server position with nothing of ours before it (keepalive) */
    uint64_t events_sent, txns, skipped, ktxns;
    /* snapshots (agent/snapshot.c): hooks marked "snapshot:" below */
    snap_t *snap;
    bool snap_needed;             /* a snapshot is to be planned at the next connection */
    char *snap_resume;            /* walcast_snapshot of the stored offsets: chunks left by a crash */
    snap_t *isnap;                /* incremental snapshots (signals), when signals are enabled */
    char *inc_resume;             /* walcast_incremental of the stored offsets */
} conn_state_t;

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void on_ack(void *ctx, uint64_t tag, int err, bool permanent, const char *errstr)
{
    conn_state_t *s = ctx;
    (void)tag;
    if (err && !s->delivery_failed) {
        s->delivery_failed = true;
        s->delivery_permanent = permanent;
        snprintf(s->delivery_err, sizeof s->delivery_err, "Kafka did not accept a record: %s", errstr ? errstr : "?");
    }
}

static void send_status(conn_state_t *s, bool reply)
{
    char err[256];
    /* never confirm more than the server has sent (or had confirmed already) */
    uint64_t sent = s->received_lsn > s->repl.slot_confirmed ? s->received_lsn : s->repl.slot_confirmed;
    uint64_t flush = s->flushed_lsn < sent ? s->flushed_lsn : sent;
    if (repl_send_status(&s->repl, s->received_lsn, flush, reply, err, sizeof err) < 0)
        log_warn("status update failed", "error=\"%s\"", log_esc(err));
    s->next_status_us = now_us() + (int64_t)s->cfg->status_interval_ms * 1000;
}

/* While Kafka's queue is full we still owe the server status updates (wal_sender_timeout). */
static void on_wait(void *ctx)
{
    conn_state_t *s = ctx;
    if (now_us() >= s->next_status_us && s->repl.stream)
        send_status(s, false);
}

/* Between schema registry retries: keep the replication connection and Kafka's callbacks alive. */
static bool on_registry_wait(void *ctx, int ms, const char *why)
{
    conn_state_t *s = ctx;
    log_warn("schema registry unavailable; retrying (nothing is lost: events wait for their schema id)",
             "connector=%s reason=\"%s\" retry_in_ms=%d", s->cfg->name, log_esc(why), ms);
    for (int waited = 0; waited < ms; waited += 50) {
        if (*s->stop)
            return false;
        pub_poll(s->pub, 50);
        on_wait(s);
    }
    return !*s->stop;
}

/* evt_schema_id_fn: the schema's id from the key or value converter's registry. */
static int on_schema_id(void *ctx, bool key, const char *subject, const char *schema, size_t len, int32_t *id,
                        char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    sr_client_t *c = key ? s->sr_key : s->sr_value;
    uint64_t before = sr_requests(c);
    int rc = sr_schema_id(c, subject, schema, len, id, err, errlen);
    if (rc == SR_OK) {
        if (sr_requests(c) != before)
            log_info("schema registered", "connector=%s subject=%s id=%d", s->cfg->name, subject, *id);
        return 0;
    }
    return rc == SR_FATAL ? -2 : -1;
}

static sr_client_t *registry_new(conn_state_t *s, const cfg_conv_t *v, char *err, size_t errlen)
{
    sr_config_t sc = { .urls = v->urls, .user_info = v->user_info, .ca_file = v->ca_file,
                       .cert_file = v->cert_file, .cert_type = v->cert_type, .key_file = v->key_file,
                       .key_password = v->key_password, .verify_host = v->verify_host,
                       .auto_register = v->auto_register, .use_latest = v->use_latest };
    return sr_new(&sc, on_registry_wait, s, err, errlen);
}

/* Opens a Kafka transaction if none is open (after a running commit, if there is one). */
static int ktxn_ensure(conn_state_t *s, char *err, size_t errlen)
{
    if (pub_txn_open(s->pub))
        return 0;
    if (pub_txn_committing(s->pub)) {
        s->want_txn = true;
        return 0;
    }
    s->ktxn_events = pub_deferred(s->pub);
    pub_status_t st = pub_txn_begin(s->pub, err, errlen);
    if (st != PUB_OK) {
        s->status = st;
        return -1;
    }
    s->ktxn_start_us = now_us();
    log_debug("kafka transaction begun", "n=%llu", (unsigned long long)s->ktxns + 1);
    return 0;
}

/* Collects the outcome of a background commit (waiting for it if block); only then may the slot
 * be confirmed up to its offset record. */
static int ktxn_finish(conn_state_t *s, bool block, char *err, size_t errlen)
{
    if (!pub_txn_committing(s->pub))
        return 0;
    pub_status_t st = pub_txn_commit_wait(s->pub, block, err, errlen);
    if (st == PUB_PENDING)
        return 0;
    if (st != PUB_OK) {
        s->status = st;
        return -1;
    }
    s->stored = s->committing;
    snap_committed(s->snap);   /* snapshot: the chunks of this transaction are done */
    snap_committed(s->isnap);
    s->ktxns++;
    if (now_us() - s->commit_start_us > s->commit_max_us)
        s->commit_max_us = now_us() - s->commit_start_us;
    log_debug("kafka transaction committed", "n=%llu lsn=%llu", (unsigned long long)s->ktxns,
              (unsigned long long)s->stored.lsn);
    if (s->stored.lsn > s->flushed_lsn)
        s->flushed_lsn = s->stored.lsn;
    if (s->want_txn || pub_deferred(s->pub)) {
        s->want_txn = false;
        return ktxn_ensure(s, err, errlen);
    }
    return 0;
}

/* Commits the open Kafka transaction together with the offset record. The commit runs in the
 * background while decoding goes on; block waits for its outcome. */
static int ktxn_commit(conn_state_t *s, bool block, char *err, size_t errlen)
{
    if (pub_txn_committing(s->pub) && ktxn_finish(s, true, err, errlen) < 0)
        return -1;
    if (!pub_txn_open(s->pub))
        return 0;
    if (s->delivery_failed) {
        snprintf(err, errlen, "%s", s->delivery_err);
        s->status = s->delivery_permanent ? PUB_FATAL : PUB_ABORTABLE;
        return -1;
    }
    buf_reset(&s->offval);
    snprintf(s->pending.system_id, sizeof s->pending.system_id, "%s", s->repl.system_id);
    s->pending.timeline = s->repl.timeline;
    /* no offset record without a known position: before any change (a heartbeat first), the
     * position is where the slot was confirmed when streaming started */
    if (!s->pending.found && s->flushed_lsn) {
        s->pending.found = true;
        s->pending.lsn = s->pending.lsn_proc = s->pending.lsn_commit = s->flushed_lsn;
    }
    if (!s->pending.found) {
        snprintf(err, errlen, "no known position to record in the offsets topic yet");
        s->status = PUB_ABORTABLE;
        return -1;
    }
    /* snapshot: the chunks still to read go into the same offset record as the rows */
    snap_offsets(s->snap, &s->pending.snapshot, &s->pending.last_snapshot_record, &s->pending.snapshot_completed,
                 (const char **)&s->pending.snap_state);
    bool b1, b2, b3;
    snap_offsets(s->isnap, &b1, &b2, &b3, (const char **)&s->pending.inc_state);
    off_value(&s->offval, &s->pending);
    s->committing = s->pending;
    s->commit_start_us = now_us();
    pub_status_t st = pub_txn_commit_start(s->pub, s->wcfg->offset_topic, &s->offkey, &s->offval, err, errlen);
    if (st != PUB_OK) {
        s->status = st;
        return -1;
    }
    return block ? ktxn_finish(s, true, err, errlen) : 0;
}

/* A Kafka commit is due at a source-transaction boundary after walcast.transaction.max.ms or
 * .max.events, or as soon as the reader has caught up with the server (caught_up: nothing more is
 * waiting on the socket), so that a quiet stream is not held back for max.ms. */
static bool ktxn_due(const conn_state_t *s, bool caught_up)
{
    const conn_config_t *c = s->cfg;
    if (!pub_txn_open(s->pub) || pub_txn_committing(s->pub) || s->in_txn)
        return false;
    int64_t age = now_us() - s->ktxn_start_us;
    return age >= (int64_t)c->txn_max_ms * 1000 || s->ktxn_events >= (uint64_t)c->txn_max_events ||
           (caught_up && age >= (int64_t)c->txn_min_ms * 1000);
}

/* Records the idle position in the offsets topic (at most once per status interval). */
static int idle_commit(conn_state_t *s, char *err, size_t errlen)
{
    if (s->in_txn || pub_txn_committing(s->pub) || s->idle_target <= s->flushed_lsn || now_us() < s->next_idle_commit_us)
        return 0;
    if (ktxn_ensure(s, err, errlen) < 0)
        return -1;
    s->pending.found = true;
    if (s->idle_target > s->pending.lsn)
        s->pending.lsn = s->pending.lsn_proc = s->idle_target;
    s->next_idle_commit_us = now_us() + (int64_t)s->cfg->status_interval_ms * 1000;
    return ktxn_commit(s, false, err, errlen);
}

/* heartbeat.interval.ms: runs heartbeat.action.query, then publishes a heartbeat record inside the
 * current (or a new) Kafka transaction, which also carries the offsets forward. */
static int heartbeat(conn_state_t *s, char *err, size_t errlen)
{
    if (s->cfg->heartbeat_interval_ms <= 0 || now_us() < s->next_heartbeat_us)
        return 0;
    s->next_heartbeat_us = now_us() + (int64_t)s->cfg->heartbeat_interval_ms * 1000;
    if (s->cfg->heartbeat_action_query && repl_exec(&s->repl, s->cfg->heartbeat_action_query, err, errlen) < 0)
        log_warn("heartbeat.action.query failed", "error=\"%s\"", log_esc(err));
    if (ktxn_ensure(s, err, errlen) < 0)
        return -1;
    arena_reset(s->msg_arena);
    return evt_heartbeat(s->evt, s->msg_arena, now_us(), err, errlen);
}

/* ---- snapshot hooks: the snapshot's rows use this connector's Kafka transaction cycle ---- */

static int snap_txn_ensure(void *ctx, char *err, size_t errlen)
{
    return ktxn_ensure(ctx, err, errlen);
}

/* Only whole chunks are in the open transaction: commit when one is due. */
static int snap_chunk_done(void *ctx, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    if (ktxn_due(s, false))
        return ktxn_commit(s, false, err, errlen);
    return 0;
}

/* While snapshot rows flow: Kafka callbacks, commit outcomes, delivery failures, and a bound on
 * the records kept while a commit runs. */
static int snap_service(void *ctx, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    pub_poll(s->pub, 0);
    if (pub_txn_committing(s->pub) &&
        ktxn_finish(s, pub_deferred_bytes(s->pub) > DEFER_MAX_BYTES, err, errlen) < 0)
        return -1;
    if (!pub_txn_committing(s->pub) && s->delivery_failed) {
        snprintf(err, errlen, "%s", s->delivery_err);
        s->status = s->delivery_permanent ? PUB_FATAL : PUB_ABORTABLE;
        return -1;
    }
    if (*s->stop) {
        snprintf(err, errlen, "stopped during the snapshot");
        return -1;
    }
    return 0;
}

/* snapshot: before streaming. A slot created just now with an exported snapshot: every row is read
 * inside it (the stream starts at its consistent point). Otherwise (the slot existed, or a crash
 * left chunks) the chunks are read with watermarks while streaming (snap_wm_step in the loop).
 * Returns 1 when snapshot.mode=initial_only is done (stop), 0 to stream, -1 on failure. */
static int snapshot_before_stream(conn_state_t *s, char *err, size_t errlen)
{
    const conn_config_t *c = s->cfg;
    if (s->inc_resume) {
        if (snap_restore(s->isnap, s->inc_resume, err, errlen) < 0)
            return -1;
        free(s->inc_resume);
        s->inc_resume = NULL;
    }
    if (s->snap_resume) {
        if (snap_restore(s->snap, s->snap_resume, err, errlen) < 0)
            return -1;
        free(s->snap_resume);
        s->snap_resume = NULL;
        s->snap_needed = false;
        return 0;
    }
    if (!s->snap_needed)
        return 0;
    for (int waited = 0; waited < c->snapshot_delay_ms && !*s->stop; waited += 100)
        usleep(100 * 1000);
    if (!s->repl.slot_created || !s->repl.snapshot_name[0]) {
        uint64_t from = s->stored.found ? s->stored.lsn : s->repl.slot_confirmed;
        if (snap_plan_fresh(s->snap, from, err, errlen) < 0)
            return -1;
        s->snap_needed = false;
        return 0;
    }
    uint64_t cp = s->repl.consistent_point;
    char l[32];
    pgo_lsn_format(cp, l);
    log_info("snapshot started", "connector=%s mode=%s consistent_point=%s snapshot=%s threads=%d", c->name,
             c->snapshot_mode, l, s->repl.snapshot_name, c->snapshot_max_threads);
    s->pending.found = true;
    s->pending.lsn = s->pending.lsn_proc = s->pending.lsn_commit = cp;
    s->pending.mid_txn = false;
    s->pending.ts_usec = now_us();
    if (s->flushed_lsn < cp)
        s->flushed_lsn = cp;
    if (ktxn_ensure(s, err, errlen) < 0)
        return -1;
    if (snap_run_exported(s->snap, s->repl.snapshot_name, cp, s->stop, err, errlen) < 0)
        return -1;
    s->pending.txid = snap_plan(s->snap)->txid;
    /* the completion goes into a committed offset record before the stream starts */
    if (ktxn_ensure(s, err, errlen) < 0 || ktxn_commit(s, true, err, errlen) < 0)
        return -1;
    s->snap_needed = false;
    if (strcmp(c->snapshot_mode, "initial_only") == 0) {
        log_info("snapshot.mode=initial_only: snapshot done, not streaming", "connector=%s", c->name);
        return 1;
    }
    return 0;
}

static int on_emit(void *ctx, const evt_record_t *r, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    int rc = pub_send(s->pub, r, 0, err, errlen);
    if (rc < 0) {
        s->status = rc == -2 ? PUB_FATAL : PUB_ABORTABLE;
        return -1;
    }
    s->events_sent++;
    s->ktxn_events++;
    return 0;
}

static int install_relation(conn_state_t *s, const pgo_msg_t *m, char *err, size_t errlen)
{
    arena_t *a = arena_new(8192);
    rel_catinfo_t info;
    int rc = -1;
    rel_table_t *t;
    if (repl_table_info(&s->repl, m->u.relation.relid, a, &info, err, errlen) < 0)
        goto out;
    if (rel_cache_put(s->rels, s->types, m, &info, &t, err, errlen) < 0) {
        /* a type created after we loaded the catalog: reload once */
        if (repl_load_types(&s->repl, s->types, err, errlen) < 0 ||
            rel_cache_put(s->rels, s->types, m, &info, &t, err, errlen) < 0)
            goto out;
    }
    if (evt_table_prepare(s->evt, t, err, errlen) < 0)
        goto out;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].type.kind == PGT_UNKNOWN && !s->cfg->evt.types.include_unknown)
            log_warn("column of an unsupported type is left out of events (set include.unknown.datatypes=true to get its raw text as bytes)",
                     "table=%s.%s column=%s type=%s", t->nspname, t->relname, t->cols[i].name,
                     t->cols[i].type.typname ? t->cols[i].type.typname : "?");
    log_debug("relation", "table=%s.%s relid=%u version=%u captured=%d", t->nspname, t->relname, t->relid,
              t->version, evt_table_captured(t));
    rc = 0;
out:
    arena_free(a);
    return rc;
}

/* A change Debezium published before it handed over: its offset stored after a change event
 * (lsn_proc = that change's LSN) covers the start of the source transaction holding it. walcast's
 * own offsets are always at transaction ends, where whole transactions are skipped at BEGIN. */
static bool published_change(const conn_state_t *s, uint64_t data_start)
{
    return s->stored.found && s->stored.mid_txn && data_start <= s->stored.lsn_proc;
}

/* One decoded message at WAL position data_start (live, or replayed from a streamed transaction). */
static int handle_msg(conn_state_t *s, const pgo_msg_t *mp, uint64_t data_start, char *err, size_t errlen)
{
    const pgo_msg_t m = *mp;
    evt_pos_t pos = { .xid = s->xid, .commit_time_us = s->commit_time_us, .lsn = data_start,
                      .last_commit_lsn = s->last_commit_lsn, .now_us = now_us() };
    switch (m.type) {
    case PGO_BEGIN:
        s->in_txn = true;
        s->xid = m.xid;
        s->commit_time_us = m.u.begin.commit_time + PGO_EPOCH_OFFSET_US;
        /* Committed to Kafka before a crash, sent again by the slot: drop it (final_lsn is the commit
         * record's start, which lies before the stored end LSN only for published transactions). */
        s->skip_txn = s->stored.found && m.u.begin.final_lsn < s->stored.lsn_commit;
        if (s->skip_txn)
            return 0;
        if (ktxn_ensure(s, err, errlen) < 0)
            return -1;
        pos.xid = s->xid;
        pos.commit_time_us = s->commit_time_us;
        return evt_tx_begin(s->evt, s->msg_arena, &pos, err, errlen);
    case PGO_COMMIT: {
        if (!s->in_txn) {
            snprintf(err, errlen, "pgoutput Commit without Begin at %llX", (unsigned long long)data_start);
            return -1;
        }
        s->last_commit_lsn = data_start;
        s->in_txn = false;
        if (s->skip_txn) {
            s->skip_txn = false;
            s->skipped++;
        } else {
            if (evt_tx_end(s->evt, s->msg_arena, &pos, err, errlen) < 0)
                return -1;
            s->pending.found = true;
            s->pending.lsn = s->pending.lsn_commit = s->pending.lsn_proc = m.u.commit.end_lsn;
            s->pending.mid_txn = false;
            s->pending.txid = s->xid;
            s->pending.ts_usec = s->commit_time_us;
            s->txns++;
        }
        s->xid = 0;
        s->commit_time_us = 0;
        if (ktxn_due(s, false))
            return ktxn_commit(s, false, err, errlen);
        return 0;
    }
    case PGO_ORIGIN:
    case PGO_TYPE:
        return 0;
    case PGO_RELATION:
        return install_relation(s, &m, err, errlen);
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE: {
        if (s->skip_txn || published_change(s, data_start))
            return 0;
        rel_table_t *t = rel_cache_get(s->rels, m.u.change.relid);
        if (!t) {
            snprintf(err, errlen, "pgoutput %s for relation id %u that no Relation message described",
                     pgo_msgtype_name(m.type), m.u.change.relid);
            return -1;
        }
        snap_wm_change(s->snap, t, &m, s->xid);   /* snapshot: a newer state than the chunk read */
        snap_wm_change(s->isnap, t, &m, s->xid);
        /* snapshot: a row of the signal table (signal.data.collection) asks for an incremental snapshot */
        if (m.type == PGO_INSERT && snap_is_signal_table(s->isnap, t) &&
            snap_signal_row(s->isnap, t, &m.u.change.new_tuple, err, errlen) < 0)
            return -1;
        return evt_change(s->evt, s->msg_arena, &pos, t, &m, err, errlen);
    }
    case PGO_TRUNCATE:
        if (s->skip_txn || published_change(s, data_start))
            return 0;
        for (uint32_t i = 0; i < m.u.truncate.nrelids; i++) {
            rel_table_t *t = rel_cache_get(s->rels, m.u.truncate.relids[i]);
            if (t && evt_truncate(s->evt, s->msg_arena, &pos, t, err, errlen) < 0)
                return -1;
        }
        return 0;
    case PGO_MESSAGE: {
        bool transactional = m.u.message.flags & PGO_MESSAGE_TRANSACTIONAL, ours;
        /* snapshot: chunk watermarks are walcast's own, never published */
        bool ours_inc;
        if (snap_wm_message(s->snap, &m, data_start, &ours, err, errlen) < 0 ||
            snap_wm_message(s->isnap, &m, data_start, &ours_inc, err, errlen) < 0)
            return -1;
        if (ours || ours_inc)
            return 0;
        pos.lsn = m.u.message.lsn;
        if (transactional) {
            if (s->skip_txn)
                return 0;
            return evt_message(s->evt, s->msg_arena, &pos, &m, err, errlen);
        }
        /* outside any transaction: published once, tracked by its own LSN */
        if (s->stored.found && data_start <= s->stored.lsn)
            return 0;
        if (ktxn_ensure(s, err, errlen) < 0)
            return -1;
        pos.xid = 0;
        pos.commit_time_us = 0;
        if (evt_message(s->evt, s->msg_arena, &pos, &m, err, errlen) < 0)
            return -1;
        s->pending.found = true;
        if (data_start > s->pending.lsn)
            s->pending.lsn = s->pending.lsn_proc = data_start;
        return 0;
    }
    default:
        snprintf(err, errlen, "unexpected pgoutput %s message: walcast did not request streaming or two-phase decoding",
                 pgo_msgtype_name(m.type));
        return -1;
    }
}

/* Replays one kept message of a streamed transaction; its BEGIN goes first, at the first message. */
static int replay_one(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    pgo_state_t st = { .proto_version = s->pgo.proto_version, .in_stream = true };
    pgo_msg_t m;
    arena_reset(s->msg_arena);
    if (pgo_parse(&st, msg, len, s->msg_arena, &m, err, errlen) < 0)
        return -1;
    if (!s->replay_began) {
        s->replay_began = true;
        pgo_msg_t b = { .type = PGO_BEGIN, .xid = s->stream_xid };
        b.u.begin.final_lsn = s->pending_commit_lsn;
        b.u.begin.commit_time = s->pending_commit_time;
        if (handle_msg(s, &b, lsn, err, errlen) < 0)
            return -1;
        arena_reset(s->msg_arena);
        if (pgo_parse(&st, msg, len, s->msg_arena, &m, err, errlen) < 0)
            return -1;
    }
    /* a long replay still owes the server status updates and collects background commits */
    if ((++s->replayed & 4095) == 0) {
        if (pub_txn_committing(s->pub) && ktxn_finish(s, false, err, errlen) < 0)
            return -1;
        if (now_us() >= s->next_status_us)
            send_status(s, false);
        /* replay outruns Kafka: keep librdkafka's queue (and so memory) short while it does */
        while (!pub_txn_committing(s->pub) && pub_outstanding(s->pub) > REPLAY_MAX_QUEUED && !*s->stop)
            pub_poll(s->pub, 5);
        if (*s->stop) {
            snprintf(err, errlen, "stopped during the replay of streamed transaction %u; the server sends it again", s->stream_xid);
            return -1;
        }
    }
    return handle_msg(s, &m, lsn, err, errlen);
}

/* Stream Commit: the kept messages become one ordinary source transaction. */
static int stream_commit(conn_state_t *s, const pgo_msg_t *m, char *err, size_t errlen)
{
    uint32_t xid = m->xid;
    uint64_t commit_lsn = m->u.commit.commit_lsn, end_lsn = m->u.commit.end_lsn;
    int64_t commit_time = m->u.commit.commit_time;
    if (s->stored.found && commit_lsn < s->stored.lsn_commit) {
        spl_abort(s->spill, xid, xid);   /* published before a restart */
        s->skipped++;
        return 0;
    }
    s->stream_xid = xid;
    s->pending_commit_lsn = commit_lsn;
    s->pending_commit_time = commit_time;
    s->replay_began = false;
    s->replayed = 0;
    int rc = spl_replay(s->spill, xid, replay_one, s, err, errlen);
    s->stream_xid = 0;
    if (rc < 0)
        return -1;
    if (!s->replay_began) {
        pgo_msg_t b = { .type = PGO_BEGIN, .xid = xid };
        b.u.begin.final_lsn = commit_lsn;
        b.u.begin.commit_time = commit_time;
        if (handle_msg(s, &b, commit_lsn, err, errlen) < 0)
            return -1;
    }
    pgo_msg_t c = { .type = PGO_COMMIT };
    c.u.commit.commit_lsn = commit_lsn;
    c.u.commit.end_lsn = end_lsn;
    c.u.commit.commit_time = commit_time;
    log_debug("streamed transaction replayed", "xid=%u messages=%llu", xid, (unsigned long long)s->replayed);
    s->streamed_txns++;
    return handle_msg(s, &c, end_lsn, err, errlen);
}

static int handle_xlogdata(conn_state_t *s, const pgo_copydata_t *cd, char *err, size_t errlen)
{
    pgo_msg_t m;
    arena_reset(s->msg_arena);
    if (pgo_parse(&s->pgo, cd->payload, cd->payload_len, s->msg_arena, &m, err, errlen) < 0) {
        char tmp[512], lsn[32];
        snprintf(tmp, sizeof tmp, "%.500s", err);
        pgo_lsn_format(cd->data_start, lsn);
        snprintf(err, errlen, "at LSN %s: %s", lsn, tmp);
        return -1;
    }
    if (s->spill) {
        switch (m.type) {
        case PGO_STREAM_START:
            s->stream_xid = m.xid;
            return 0;
        case PGO_STREAM_STOP:
            s->stream_xid = 0;
            return 0;
        case PGO_STREAM_ABORT:
            spl_abort(s->spill, m.xid, m.u.stream_abort.subxid);
            return 0;
        case PGO_STREAM_COMMIT:
            return stream_commit(s, &m, err, errlen);
        case PGO_MESSAGE:
            if (!(m.u.message.flags & PGO_MESSAGE_TRANSACTIONAL))
                break;           /* non-transactional: published at once */
            /* fall through */
        case PGO_INSERT:
        case PGO_UPDATE:
        case PGO_DELETE:
        case PGO_TRUNCATE:
        case PGO_RELATION:
            /* Installed at once as well as kept for the replay: once a streamed transaction commits,
             * pgoutput counts its Relation messages as sent for later ordinary transactions too, so
             * walcast must know them even when it drops that transaction as already published (its
             * changes are not decoded then). Concurrent changes of a table whose shape a streamed
             * transaction alters cannot happen: ALTER TABLE holds its lock until commit. */
            if (m.type == PGO_RELATION && s->stream_xid && install_relation(s, &m, err, errlen) < 0)
                return -1;
            /* fall through */
        case PGO_TYPE:
        case PGO_ORIGIN:
            if (s->stream_xid)
                return spl_append(s->spill, s->stream_xid, m.xid ? m.xid : s->stream_xid, cd->data_start,
                                  cd->payload, cd->payload_len, err, errlen);
            break;
        default:
            break;
        }
    }
    return handle_msg(s, &m, cd->data_start, err, errlen);
}

static int handle_copydata(conn_state_t *s, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    pgo_copydata_t cd;
    if (pgo_parse_copydata(buf, len, &cd, err, errlen) < 0)
        return -1;
    if (cd.kind == 'k') {
        if (cd.wal_end > s->received_lsn)
            s->received_lsn = cd.wal_end;
        /* Nothing in flight: the server's position holds nothing left for us to publish. It is
         * recorded in the offsets topic (idle_commit) before the slot is confirmed past it. */
        if (!s->in_txn && cd.wal_end > s->idle_target)
            s->idle_target = cd.wal_end;
        if (cd.reply_requested)
            send_status(s, false);
        return 0;
    }
    if (cd.data_start > s->received_lsn)
        s->received_lsn = cd.data_start;
    return handle_xlogdata(s, &cd, err, errlen);
}

static void log_progress(conn_state_t *s)
{
    char fl[32], rl[32];
    pgo_lsn_format(s->flushed_lsn, fl);
    pgo_lsn_format(s->received_lsn, rl);
    const evt_stats_t *st = evt_stats(s->evt);
    log_info("streaming", "connector=%s received_lsn=%s flushed_lsn=%s transactions=%llu records=%llu created=%llu updated=%llu deleted=%llu in_flight=%d kafka_commits=%llu slowest_commit_ms=%lld",
             s->cfg->name, rl, fl, (unsigned long long)s->txns, (unsigned long long)s->events_sent,
             (unsigned long long)st->created, (unsigned long long)st->updated, (unsigned long long)st->deleted,
             pub_outstanding(s->pub), (unsigned long long)s->ktxns, (long long)(s->commit_max_us / 1000));
    if (s->spill) {
        spl_stats_t ss = spl_stats(s->spill);
        log_info("streamed transactions", "connector=%s replayed=%llu open=%zu memory_bytes=%zu peak_memory_bytes=%zu spilled_bytes=%llu spill_file_bytes=%llu",
                 s->cfg->name, (unsigned long long)s->streamed_txns, ss.open_txns, ss.mem_bytes, ss.peak_mem_bytes,
                 (unsigned long long)ss.spilled_bytes, (unsigned long long)ss.file_bytes);
    }
    s->next_log_us = now_us() + 30 * 1000000LL;
}

/* One connection's lifetime. Returns 0 on requested stop, -1 to reconnect, -2 on a fatal error. */
/* Stored offsets that cannot be this server's: another cluster (its system identifier), or a
 * position beyond the server's WAL end (a restored or promoted database, a new cluster under an old
 * connector name, a corrupt record). Trusting them would skip every change up to that position and
 * confirm the slot past WAL never published. Refused, unless snapshot.mode asks for a new start. */
static int offsets_foreign(conn_state_t *s, char *err, size_t errlen)
{
    char st[32], sv[32];
    pgo_lsn_format(s->stored.lsn, st);
    pgo_lsn_format(s->repl.server_lsn, sv);
    if (s->stored.system_id[0] && strcmp(s->stored.system_id, s->repl.system_id) != 0)
        snprintf(err, errlen, "the stored offsets in %s belong to database system %s, but this server is system %s: "
                 "they are another cluster's. Use a new connector name (or offset.storage.topic) for this database, "
                 "or set snapshot.mode=when_needed to start anew from the slot",
                 s->wcfg->offset_topic, s->stored.system_id, s->repl.system_id);
    else if (s->stored.lsn > s->repl.server_lsn)
        snprintf(err, errlen, "the stored offsets in %s say %s was published, but this server's WAL ends at %s: "
                 "they come from another database or an earlier life of this one (restored from a backup, a promoted "
                 "replica). Use a new connector name (or offset.storage.topic), or set snapshot.mode=when_needed to "
                 "start anew from the slot", s->wcfg->offset_topic, st, sv);
    else
        return 0;
    if (strcmp(s->cfg->snapshot_mode, "when_needed") != 0 && strcmp(s->cfg->snapshot_mode, "always") != 0)
        return -1;
    log_warn("stored offsets ignored: a new start was asked for (snapshot.mode)", "connector=%s reason=\"%s\"",
             s->cfg->name, log_esc(err));
    memset(&s->stored, 0, sizeof s->stored);
    s->pending = s->stored;
    s->flushed_lsn = 0;
    return 0;
}

static int stream_once(conn_state_t *s, char *err, size_t errlen)
{
    int rc = -1;
    if (repl_connect(&s->repl, s->cfg, err, errlen) < 0)
        return s->repl.fatal ? -2 : -1;
    s->repl.export_snapshot = s->snap_needed;   /* snapshot: a new slot exports its snapshot */
    if (repl_prepare(&s->repl, err, errlen) < 0) {
        /* transient failures (connection lost, lock timeout, slot still held) are retried */
        rc = s->repl.fatal ? -2 : -1;
        goto out;
    }
    if (repl_load_types(&s->repl, s->types, err, errlen) < 0)
        goto out;
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    s->pgo.in_stream = false;
    s->stream_xid = 0;
    if (s->spill)
        spl_reset(s->spill);
    if (s->stored.found && offsets_foreign(s, err, errlen) < 0) {
        rc = -2;
        goto out;
    }
    if (s->stored.found && s->repl.slot_confirmed > s->stored.lsn) {
        char sl[32], st[32];
        pgo_lsn_format(s->repl.slot_confirmed, sl);
        pgo_lsn_format(s->stored.lsn, st);
        if (strcmp(s->cfg->snapshot_mode, "when_needed") != 0 && strcmp(s->cfg->snapshot_mode, "always") != 0) {
            snprintf(err, errlen, "slot \"%s\" is confirmed up to %s but the offsets topic %s says only %s was published: "
                     "the WAL in between is gone and its changes were never sent. Point offset.storage.topic at this "
                     "connector's offsets, or drop the slot and start again with a new snapshot (snapshot.mode=when_needed)",
                     s->cfg->slot_name, sl, s->wcfg->offset_topic, st);
            rc = -2;
            goto out;
        }
        log_warn("the slot is ahead of the stored offsets; changes in between were never published and snapshots are not implemented yet",
                 "slot_lsn=%s offset_lsn=%s snapshot.mode=%s", sl, st, s->cfg->snapshot_mode);
    }
    if (!s->stored.found && s->repl.slot_confirmed > s->flushed_lsn)
        s->flushed_lsn = s->repl.slot_confirmed;
    {
        int sr = snapshot_before_stream(s, err, errlen);
        if (sr == 1) {
            rc = 0;
            *s->stop = 1;
            goto out;
        }
        if (sr < 0)
            goto out;
    }
    if (repl_start(&s->repl, 0, s->spill != NULL, err, errlen) < 0) {
        if (s->repl.fatal)
            rc = -2;
        goto out;
    }
    char lsn[32];
    pgo_lsn_format(s->repl.slot_confirmed, lsn);
    log_info("replication started", "connector=%s slot=%s publication=%s from_lsn=%s", s->cfg->name,
             s->cfg->slot_name, s->cfg->publication_name, lsn);
    s->next_status_us = now_us() + (int64_t)s->cfg->status_interval_ms * 1000;
    unsigned batch = 0;
    while (!*s->stop) {
        char *buf = NULL;
        /* While a commit runs and the records kept for the next transaction reach their bound (Kafka
         * slow or away), nothing more is read: the loop goes on collecting the commit's outcome and
         * sending status updates (so wal_sender_timeout never fires), and the server waits. */
        bool held = pub_txn_committing(s->pub) && pub_deferred_bytes(s->pub) > DEFER_MAX_BYTES;
        if (held && !s->was_held)
            log_info("reading paused: a Kafka commit is still running and the records kept for the next one reached "
                     "their bound", "connector=%s kept_bytes=%zu", s->cfg->name, pub_deferred_bytes(s->pub));
        s->was_held = held;
        int n = held ? 0 : PQgetCopyData(s->repl.stream, &buf, 1);
        if (n > 0) {
            int hr = handle_copydata(s, (const uint8_t *)buf, (size_t)n, err, errlen);
            PQfreemem(buf);
            if (hr < 0)
                goto out;
            /* a commit runs: collect its outcome once it is done */
            if (pub_txn_committing(s->pub) && ktxn_finish(s, false, err, errlen) < 0)
                goto out;
            if (ktxn_due(s, false) && ktxn_commit(s, false, err, errlen) < 0)
                goto out;
            if (++batch < 256)
                continue;
        } else if (n == -1) {
            PGresult *res = PQgetResult(s->repl.stream);
            const char *m = res ? PQresultErrorMessage(res) : "";
            snprintf(err, errlen, "the server ended replication: %.*s", (int)strcspn(m, "\n"), *m ? m : "no reason given");
            if (res)
                PQclear(res);
            goto out;
        } else if (n == -2) {
            const char *m = PQerrorMessage(s->repl.stream);
            snprintf(err, errlen, "replication connection lost: %.*s", (int)strcspn(m, "\n"), m);
            goto out;
        }
        batch = 0;
        if (ktxn_finish(s, false, err, errlen) < 0)
            goto out;
        pub_poll(s->pub, 0);
        if (!pub_txn_committing(s->pub) && s->delivery_failed) {
            snprintf(err, errlen, "%s", s->delivery_err);
            s->status = s->delivery_permanent ? PUB_FATAL : PUB_ABORTABLE;
            goto out;
        }
        if (ktxn_due(s, n == 0) && ktxn_commit(s, false, err, errlen) < 0)
            goto out;
        if (idle_commit(s, err, errlen) < 0)
            goto out;
        /* snapshot: the next chunk by the watermark method, between source transactions */
        if (!s->in_txn && snap_wm_step(s->snap, err, errlen) < 0)
            goto out;
        if (!s->in_txn && !snap_active(s->snap) && snap_wm_step(s->isnap, err, errlen) < 0)
            goto out;
        if (snap_signal_kafka_poll(s->isnap, err, errlen) < 0)
            goto out;
        if (!s->in_txn && heartbeat(s, err, errlen) < 0)
            goto out;
        int64_t t = now_us();
        if (t >= s->next_status_us)
            send_status(s, false);
        if (t >= s->next_log_us)
            log_progress(s);
        if (n == 0) {
            int64_t wait_ms = (s->next_status_us - t) / 1000;
            if (wait_ms > 100)
                wait_ms = 100;
            if (wait_ms < 0)
                wait_ms = 0;
            /* held: the socket is not watched (and libpq's buffer does not grow), only the clock */
            struct pollfd pfd = { .fd = held ? -1 : PQsocket(s->repl.stream), .events = POLLIN };
            if (poll(&pfd, 1, (int)wait_ms) < 0 && errno != EINTR) {
                snprintf(err, errlen, "poll on the replication socket failed: %s", strerror(errno));
                goto out;
            }
            if (!held && PQconsumeInput(s->repl.stream) == 0) {
                const char *m = PQerrorMessage(s->repl.stream);
                snprintf(err, errlen, "replication connection lost: %.*s", (int)strcspn(m, "\n"), m);
                goto out;
            }
        }
    }
    /* Requested stop: commit whole source transactions, abort a partial one (the slot sends it
     * again), confirm what is committed, end COPY cleanly. */
    if (ktxn_finish(s, true, err, errlen) < 0)
        goto out;
    if (s->in_txn) {
        if (pub_txn_open(s->pub) && pub_txn_abort(s->pub, err, errlen) != PUB_OK)
            log_warn("cannot abort the Kafka transaction on shutdown", "error=\"%s\"", log_esc(err));
    } else if (ktxn_commit(s, true, err, errlen) < 0) {
        log_warn("cannot commit the last Kafka transaction on shutdown; it will be sent again on restart",
                 "error=\"%s\"", log_esc(err));
        if (pub_txn_open(s->pub))
            pub_txn_abort(s->pub, err, errlen);
    }
    send_status(s, false);
    repl_stop(&s->repl);
    log_progress(s);
    rc = 0;
out:
    if (rc != 0) {
        /* Rewind: drop the uncommitted Kafka transaction; the slot sends everything after the
         * last confirmed position again and the stored offset filters what was committed. */
        char aerr[512];
        if (pub_txn_committing(s->pub) && pub_txn_commit_wait(s->pub, true, aerr, sizeof aerr) == PUB_OK) {
            s->stored = s->committing;
            if (s->stored.lsn > s->flushed_lsn)
                s->flushed_lsn = s->stored.lsn;
        }
        pub_discard_deferred(s->pub);
        bool expired = pub_txn_expired(s->pub);
        if (pub_txn_open(s->pub) && pub_txn_abort(s->pub, aerr, sizeof aerr) == PUB_FATAL) {
            /* the abort's error names the real cause (fenced by another instance, ...); the
             * first symptom, e.g. records purged from the queue, does not */
            log_error("first symptom of the failure", "error=\"%s\"", log_esc(err));
            snprintf(err, errlen, "%s", aerr);
            s->status = PUB_FATAL;
        }
        if (s->status == PUB_FATAL && expired) {
            /* the broker aborted the transaction at its timeout and bumped our epoch: this producer
             * is done, but nobody else took over; a new one resumes from the stored offsets */
            log_warn("the Kafka transaction outlived transaction.timeout.ms and the broker aborted it; starting a new producer",
                     "connector=%s error=\"%s\"", s->cfg->name, log_esc(err));
            s->renew_producer = true;
            s->status = PUB_OK;
        }
        s->in_txn = false;
        s->skip_txn = false;
        s->want_txn = false;
        /* The old connection's idle position says nothing about the new one: the slot sends again
         * what follows the last confirmed position, and none of it is published yet. Kept, it made
         * the first idle commit after a rewind confirm the slot past transactions still to come
         * (lost changes, found by test_kafka_abort.sh). */
        s->idle_target = 0;
        evt_tx_reset(s->evt);
        snap_rewind(s->snap);   /* snapshot: chunks not committed are read again */
        snap_rewind(s->isnap);
        s->pending = s->stored;
        if (s->delivery_permanent) {
            /* the same record would be refused again after a rewind: stop, name it */
            snprintf(err, errlen, "%s", s->delivery_err);
            s->status = PUB_FATAL;
        }
        s->delivery_failed = false;
        s->delivery_permanent = false;
        if (s->status == PUB_FATAL || evt_error_fatal(s->evt))
            rc = -2;
        s->status = PUB_OK;
    }
    repl_close(&s->repl);
    return rc;
}

static void drop_slot(const conn_config_t *cfg)
{
    repl_t r;
    char err[512];
    if (repl_connect(&r, cfg, err, sizeof err) < 0) {
        log_warn("cannot drop the slot on stop", "error=\"%s\"", log_esc(err));
        return;
    }
    const char *params[1] = { cfg->slot_name };
    PGresult *res = PQexecParams(r.sql, "SELECT pg_drop_replication_slot($1)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        log_warn("cannot drop the slot on stop", "slot=%s error=\"%s\"", cfg->slot_name, log_esc(PQresultErrorMessage(res)));
    else
        log_info("replication slot dropped (slot.drop.on.stop=true)", "slot=%s", cfg->slot_name);
    PQclear(res);
    repl_close(&r);
}

int conn_run(const conn_config_t *cfg, const worker_config_t *w, volatile sig_atomic_t *stop)
{
    conn_state_t s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    s.wcfg = w;
    s.stop = stop;
    s.pgo.proto_version = cfg->streaming ? 2 : 1;
    buf_init(&s.offkey);
    buf_init(&s.offval);
    off_key(&s.offkey, cfg->name, cfg->topic_prefix);
    s.msg_arena = arena_new(64 * 1024);
    s.types = pgt_catalog_new();
    s.rels = rel_cache_new(evt_table_free);
    char err[1024];
    int rc = 1;
    char client_id[256];
    snprintf(client_id, sizeof client_id, "walcast-%s", cfg->name);
    /* One transactional.id per connector: a second instance fences the first (exactly-once). */
    s.pub = pub_new(w, client_id, client_id, on_ack, on_wait, &s, err, sizeof err);
    if (!s.pub) {
        log_msg(LOG_FATAL, "cannot start the Kafka producer", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    if (pub_txn_init(s.pub, stop, err, sizeof err) != PUB_OK) {
        if (*stop) {
            rc = 0;
            goto out;
        }
        log_msg(LOG_FATAL, "cannot start Kafka transactions", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    if (off_read(w->bootstrap_servers, &w->producer, w->offset_topic, cfg->name, cfg->topic_prefix, &s.stored, err,
                 sizeof err) < 0) {
        log_msg(LOG_FATAL, "cannot read the stored offsets", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    if (s.stored.found) {
        char l[32], lc[32];
        pgo_lsn_format(s.stored.lsn, l);
        pgo_lsn_format(s.stored.lsn_commit, lc);
        log_info("resuming from stored offsets", "connector=%s topic=%s lsn=%s lsn_commit=%s", cfg->name, w->offset_topic, l, lc);
        s.flushed_lsn = s.stored.lsn;
    }
    s.pending = s.stored;
    if (cfg->streaming) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s", cfg->spill_dir);
        s.spill = spl_new(dir, (size_t)cfg->memory_limit_mb << 20, err, sizeof err);
        if (!s.spill) {
            log_msg(LOG_FATAL, "cannot prepare streaming of large transactions", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
            goto out;
        }
    }
    evt_config_t ec = cfg->evt;
    if (cfg->key_conv.avro && !(s.sr_key = registry_new(&s, &cfg->key_conv, err, sizeof err))) {
        log_msg(LOG_FATAL, "invalid key.converter schema registry settings", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    if (cfg->value_conv.avro && !(s.sr_value = registry_new(&s, &cfg->value_conv, err, sizeof err))) {
        log_msg(LOG_FATAL, "invalid value.converter schema registry settings", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    ec.schema_id = on_schema_id;
    ec.schema_id_ctx = &s;
    s.evt = evt_new(&ec, on_emit, &s);
    /* snapshot: what to read before (or while) streaming */
    {
        snap_hooks_t hk = { .ctx = &s, .txn_ensure = snap_txn_ensure, .chunk_done = snap_chunk_done, .service = snap_service };
        s.snap = snap_new(cfg, s.types, s.evt, &hk);
        bool no_data = strcmp(cfg->snapshot_mode, "no_data") == 0 || strcmp(cfg->snapshot_mode, "never") == 0;
        if (s.stored.found && s.stored.snapshot && !s.stored.snapshot_completed && !no_data) {
            if (s.stored.snap_state)
                s.snap_resume = xstrdup(s.stored.snap_state);
            else
                s.snap_needed = true;   /* Debezium's offsets mid-snapshot: read everything again */
        } else if (!no_data && (!s.stored.found || strcmp(cfg->snapshot_mode, "always") == 0)) {
            s.snap_needed = true;
        }
        if (cfg->signal_collection || cfg->signal_kafka) {
            s.isnap = snap_new(cfg, s.types, s.evt, &hk);
            snap_set_incremental(s.isnap);
            if (s.stored.inc_state)
                s.inc_resume = xstrdup(s.stored.inc_state);
            if (cfg->signal_kafka && snap_signal_kafka_open(s.isnap, w, err, sizeof err) < 0) {
                log_msg(LOG_FATAL, "cannot listen for signals on Kafka", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
                goto out;
            }
        }
        off_pos_release(&s.stored);
        s.pending = s.stored;
    }
    int backoff_ms = 1000;
    while (!*stop) {
        int64_t started = now_us();
        int r = stream_once(&s, err, sizeof err);
        if (r == 0) {
            rc = 0;
            break;
        }
        if (r == -2) {
            log_msg(LOG_FATAL, "connector failed", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
            goto out;
        }
        if (*stop) {
            log_info("stopped while waiting", "connector=%s reason=\"%s\"", cfg->name, log_esc(err));
            break;
        }
        if (now_us() - started > 60 * 1000000LL)
            backoff_ms = 1000;
        if (s.renew_producer) {
            s.renew_producer = false;
            pub_free(s.pub);
            s.pub = pub_new(w, client_id, client_id, on_ack, on_wait, &s, err, sizeof err);
            if (!s.pub || pub_txn_init(s.pub, stop, err, sizeof err) != PUB_OK) {
                if (*stop)
                    break;
                log_msg(LOG_FATAL, "cannot start a new Kafka producer", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
                goto out;
            }
        }
        log_error("replication interrupted; reconnecting", "connector=%s error=\"%s\" retry_in_ms=%d", cfg->name, log_esc(err),
                  backoff_ms);
        for (int waited = 0; waited < backoff_ms && !*stop; waited += 100)
            pub_poll(s.pub, 100);
        backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    }
    rc = 0;
    if (cfg->slot_drop_on_stop)
        drop_slot(cfg);
out:
    snap_free(s.snap);
    free(s.snap_resume);
    snap_free(s.isnap);
    free(s.inc_resume);
    sr_free(s.sr_key);
    sr_free(s.sr_value);
    spl_free(s.spill);
    rel_cache_free(s.rels);
    evt_free(s.evt);
    pub_free(s.pub);
    pgt_catalog_free(s.types);
    arena_free(s.msg_arena);
    buf_free(&s.offkey);
    buf_free(&s.offval);
    return rc;
}
