/* connector.c: one PostgreSQL source connector's lifecycle (start, reconnect with backoff, stop) and
 * what it does with each message the slot sends: the skip decisions against the stored offsets,
 * events for the current Kafka transaction, heartbeats and the idle position. The read loop is
 * replication.c's, the Kafka transaction cycle txn.c's, streamed transactions streamed.c's. */
#include "schemas/clock.h"
#include "agent/connector.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/coder.h"
#include "agent/encq.h"
#include "agent/log.h"
#include "agent/offsets.h"
#include "agent/replication.h"
#include "agent/snapshot.h"
#include "agent/streamed.h"
#include "agent/txn.h"
#include "decoder/event.h"
#include "decoder/pgoutput.h"
#include "agent/metrics.h"
#include "schemas/converter.h"
#include "schemas/registry.h"
#include "schemas/transform.h"

/* Records queued in librdkafka while a streamed transaction is replayed from memory or disk. */
#define REPLAY_MAX_QUEUED 30000
/* Snapshot rows queued in librdkafka, and bytes of them kept while a commit runs (peak RSS, issue 21). */
#define SNAP_MAX_QUEUED 5000
#define SNAP_MAX_DEFERRED (12u << 20)

typedef struct conn_state {
    const conn_config_t *cfg;
    const worker_config_t *wcfg;
    volatile sig_atomic_t *stop;
    repl_t repl;
    txn_t *txn;
    strm_t *strm;                 /* walcast.streaming: in-progress transactions */
    evt_ctx_t *evt;
    coder_t coder;                /* this thread's transforms and converter */
    encq_t *encq;                 /* walcast.encode.threads: streamed records are encoded there; NULL: here */
    rel_cache_t *rels;
    pgt_catalog_t *types;
    arena_t *msg_arena;           /* one message: its parse and the values of its events */
    pgo_state_t pgo;
    /* the source transaction being read */
    bool in_txn;
    bool skip_txn;                /* already in Kafka (the stored offsets say so) */
    bool skip_origin;             /* made by a session with an origin of walcast.skip.origins */
    bool begin_pending;           /* its BEGIN event waits for its first change (an Origin may come first) */
    uint64_t begin_lsn;
    uint32_t xid;
    int64_t commit_time_us;       /* Unix epoch */
    uint64_t last_commit_lsn;     /* for source.sequence */
    uint64_t idle_target;         /* server position with nothing of ours before it (keepalive) */
    bool was_held;                /* reading paused while a commit waits (logged once per pause) */
    int64_t next_log_us, next_idle_commit_us, next_heartbeat_us;   /* repl_clock_us */
    uint64_t txns, skipped, origin_skipped;
    /* snapshots (agent/snapshot.c); the hooks are marked "snapshot:" below */
    snap_t *snap;                 /* the initial snapshot (snapshot.mode) */
    snap_t *isnap;                /* incremental snapshots: signals, tables added to a filtered publication */
    bool snap_needed;             /* a snapshot is to be planned at the next connection */
    bool snapshotting;            /* the exported snapshot is being read: the replication connection is idle */
    char *snap_resume, *inc_resume; /* chunks a crash left, from the stored offsets */
    char *pub_added;              /* tables walcast added to the publication whose rows are still to be read */
    met_source_t *met;            /* GET /metrics: figures published by met_publish */
    int64_t next_slot_poll_us;    /* repl_clock_us: the slot's figures are read every SLOT_POLL_US */
    uint64_t met_seen, met_read;  /* events at the last met_publish (a change moves MilliSecondsSinceLastEvent) */
    int64_t met_behind_commit_us; /* the source commit the last StreamingStatistics observation was of */
    bool met_tables_final;        /* the finished snapshot's rows per table are published */
    /* the start's timeline (log_start), wall_us 0: not yet. conn_run entered (configuration parsed),
     * producers made, PostgreSQL's part beside Kafka's begun and done (pg_early: connections, checks,
     * types), Kafka's start joined, the first session begun, slot and publication ready,
     * START_REPLICATION answered */
    wc_mark_t t_entry, t_created, t_pg_begin, t_connected, t_joined, t_session, t_prepared, t_streaming;
    bool start_logged;
    bool pg_early;                /* repl holds connections opened by pg_early for the next session */
} conn_state_t;

static void met_publish(conn_state_t *s, int64_t commit_time_us);

/* While Kafka's queue is full or the registry is away we still owe the server status updates
 * (wal_sender_timeout). */
static void keep_server(conn_state_t *s)
{
    if (s->snapshotting)
        return;   /* snapshot: no COPY yet, and the exported snapshot lives while the connection is idle */
    repl_confirm(&s->repl, txn_flushed(s->txn));
    repl_status_if_due(&s->repl);
}

static void on_queue_full(void *ctx) { keep_server(ctx); }

/* Between schema registry retries: keep the replication connection and Kafka's callbacks alive. */
static bool on_registry_wait(void *ctx, int ms, const char *why)
{
    conn_state_t *s = ctx;
    char err[256];
    log_warn("schema registry unavailable; retrying (nothing is lost: events wait for their schema id)",
             "connector=%s reason=\"%s\" retry_in_ms=%d", s->cfg->name, log_esc(why), ms);
    for (int waited = 0; waited < ms; waited += 50) {
        if (*s->stop)
            return false;
        txn_poll(s->txn, 50, err, sizeof err);
        keep_server(s);
    }
    return !*s->stop;
}

sr_config_t conn_registry_config(const cfg_conv_t *v)
{
    sr_config_t sc = { .urls = v->urls, .user_info = v->user_info, .ca_file = v->ca_file,
                       .cert_file = v->cert_file, .cert_type = v->cert_type, .key_file = v->key_file,
                       .key_password = v->key_password, .verify_host = v->verify_host,
                       .auto_register = v->auto_register, .use_latest = v->use_latest };
    return sc;
}

/* One record through the transforms, encoded, sent. */
static wc_status_t publish_one(conn_state_t *s, const rec_event_t *ev, char *err, size_t errlen)
{
    rec_t r;
    bool none;
    wc_status_t st = coder_encode(&s->coder, ev, &r, &none, err, errlen);
    if (st != WC_OK || none)
        return st;
    return txn_send(s->txn, &r, err, errlen);
}

static wc_status_t encq_send(void *ctx, const rec_t *r, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    return txn_send(s->txn, r, err, errlen);
}

/* While the read thread waits for an encoder thread (its registry away, or the ring full). */
static void encq_wait(void *ctx)
{
    conn_state_t *s = ctx;
    char err[256];
    txn_poll(s->txn, 0, err, sizeof err);   /* a delivery failure is reported by the next txn_poll/commit */
    keep_server(s);
}

/* Sends every record the encoder threads hold, in order: before anything that ends or depends on what
 * the open Kafka transaction holds (a commit), before a table version they may point to is replaced,
 * and before records encoded here (snapshot rows) follow them. */
static wc_status_t drain(conn_state_t *s, char *err, size_t errlen)
{
    return s->encq ? encq_drain(s->encq, encq_send, encq_wait, s, err, errlen) : WC_OK;
}

/* txn_commit after drain: the offset record covers exactly the records produced in its transaction. */
static wc_status_t commit(conn_state_t *s, bool block, char *err, size_t errlen)
{
    wc_status_t st = drain(s, err, errlen);
    return st != WC_OK ? st : txn_commit(s->txn, block, err, errlen);
}

static void log_not_converted(conn_state_t *s)
{
    if (*evt_warnings(s->evt))
        log_msg(s->cfg->evt.convert_failure == EVT_CONVERT_SKIP ? LOG_DEBUG : LOG_WARN,
                "value not converted, sent as null (event.converting.failure.handling.mode)", "connector=%s detail=\"%s\"",
                s->cfg->name, log_esc(evt_warnings(s->evt)));
}

/* The publish step on this thread: after what the encoder threads hold, the records in order (encode,
 * then send; while the registry is away, coder_encode waits here through on_registry_wait). */
static wc_status_t publish_here(conn_state_t *s, wc_status_t st, const evt_out_t *out, char *err, size_t errlen)
{
    log_not_converted(s);
    if (st == WC_OK && out->n)
        st = drain(s, err, errlen);
    for (size_t i = 0; st == WC_OK && i < out->n; i++)
        st = publish_one(s, &out->ev[i], err, errlen);
    return st;
}

/* The connector's one publish step: the records a decoder call returned, in order. With encoder
 * threads (walcast.encode.threads) they are queued for them (copied) and sent in queue order as they
 * are encoded; a transform or converter failure there is returned by a later publish, drain or commit,
 * always before the commit of the Kafka transaction that would have held the record. st is the decoder
 * call's status: nothing is published when it failed. */
static wc_status_t publish(conn_state_t *s, wc_status_t st, const evt_out_t *out, char *err, size_t errlen)
{
    if (!s->encq)
        return publish_here(s, st, out, err, errlen);
    log_not_converted(s);
    if (st != WC_OK)
        return st;
    return encq_push(s->encq, out->ev, out->n, encq_send, encq_wait, s, err, errlen);
}

/* ---- snapshot hooks: snapshot rows use this connector's Kafka transaction cycle ------------ */

static wc_status_t snap_drain(void *ctx, char *err, size_t errlen)
{
    return drain(ctx, err, errlen);
}

static wc_status_t snap_txn_ensure(void *ctx, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    wc_status_t st = drain(s, err, errlen);
    return st != WC_OK ? st : txn_ensure(s->txn, err, errlen);
}

/* Snapshot rows the connector thread built: the one publish step. */
static wc_status_t snap_publish(void *ctx, wc_status_t st, const evt_out_t *out, char *err, size_t errlen)
{
    return publish_here(ctx, st, out, err, errlen);
}

/* A snapshot row a reader thread encoded. */
static wc_status_t snap_send(void *ctx, const rec_t *r, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    wc_status_t st = drain(s, err, errlen);
    return st != WC_OK ? st : txn_send(s->txn, r, err, errlen);
}

/* Only whole chunks are in the open transaction: commit when one is due. */
static wc_status_t snap_chunk_done(void *ctx, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    met_publish(s, 0);
    if (txn_due(s->txn, false, repl_clock_us(), NULL))
        return commit(s, false, err, errlen);
    return WC_OK;
}

/* While snapshot rows flow: delivery reports, commit outcomes, and the bound on records kept while a
 * commit runs. */
static wc_status_t snap_service(void *ctx, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    /* memory (peak RSS, issue 21): snapshot rows come faster than the broker takes them. Outside a
     * commit librdkafka's queue would hold the difference (up to queue.buffering.max.kbytes); during one
     * the records kept for the next transaction (txn_held's bound is 32 MB, and they are copied into
     * librdkafka's queue when it ends). The readers go on filling their few batches meanwhile. */
    txn_throttle(s->txn, SNAP_MAX_QUEUED, s->stop);
    bool wait = txn_held(s->txn) || (txn_committing(s->txn) && txn_deferred_bytes(s->txn) > SNAP_MAX_DEFERRED);
    wc_status_t st = txn_poll(s->txn, 0, err, errlen);
    if (st == WC_OK)
        st = txn_collect(s->txn, wait, err, errlen);
    if (st == WC_OK && *s->stop) {
        snprintf(err, errlen, "stopped during the snapshot");
        st = WC_RETRY;
    }
    return st;
}

/* The initial snapshot's lanes: two Kafka transactions open at once (txn_set_lanes). */
static wc_status_t snap_lanes(void *ctx, bool on, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    wc_status_t st = drain(s, err, errlen);
    return st != WC_OK ? st : txn_set_lanes(s->txn, on, err, errlen);
}

static void snap_lane(void *ctx, int lane)
{
    conn_state_t *s = ctx;
    txn_lane(s->txn, lane);
}

/* txn_snap_hooks_t: the snapshot keys of each offset record, and the outcome of its commit. */
static void snap_offsets_hook(void *ctx, int lane, off_pos_t *p)
{
    conn_state_t *s = ctx;
    bool b1, b2, b3;
    snap_offsets(s->snap, lane, &p->snapshot, &p->last_snapshot_record, &p->snapshot_completed,
                 (const char **)&p->snap_state);
    snap_offsets(s->isnap, lane, &b1, &b2, &b3, (const char **)&p->inc_state);
}

static void snap_committed_hook(void *ctx)
{
    conn_state_t *s = ctx;
    snap_committed(s->snap);
    snap_committed(s->isnap);
}

static void snap_rewound_hook(void *ctx)
{
    conn_state_t *s = ctx;
    snap_rewind(s->snap);   /* chunks not committed are read again */
    snap_rewind(s->isnap);
}

/* Before streaming. A slot created just now with an exported snapshot: every row is read inside it
 * (the stream starts at its consistent point). Otherwise (the slot existed, or a crash left chunks)
 * the chunks are read with watermarks while streaming (snap_wm_step in on_tick). *done is set when
 * snapshot.mode=initial_only is done (stop rather than stream). */
static wc_status_t snapshot_before_stream(conn_state_t *s, bool *done, char *err, size_t errlen)
{
    const conn_config_t *c = s->cfg;
    wc_status_t rc;
    *done = false;
    if (s->inc_resume) {
        if ((rc = snap_restore(s->isnap, s->inc_resume, err, errlen)) != WC_OK)
            return rc;
        free(s->inc_resume);
        s->inc_resume = NULL;
    }
    if (s->snap_resume) {
        if ((rc = snap_restore(s->snap, s->snap_resume, err, errlen)) != WC_OK)
            return rc;
        free(s->snap_resume);
        s->snap_resume = NULL;
        s->snap_needed = false;
        return WC_OK;
    }
    if (!s->snap_needed)
        return WC_OK;
    for (int waited = 0; waited < c->snapshot_delay_ms && !*s->stop; waited += 100)
        txn_poll(s->txn, 100, err, errlen);
    if (!s->repl.slot_created || !s->repl.snapshot_name[0]) {
        const off_pos_t *stored = txn_stored(s->txn);
        if ((rc = snap_plan_fresh(s->snap, stored->found ? stored->lsn : s->repl.slot_confirmed, err, errlen)) != WC_OK)
            return rc;
        s->snap_needed = false;
        return WC_OK;
    }
    uint64_t cp = s->repl.consistent_point;
    char l[32];
    pgo_lsn_format(cp, l);
    log_info("snapshot started", "connector=%s mode=%s consistent_point=%s snapshot=%s threads=%d", c->name,
             c->snapshot_mode, l, s->repl.snapshot_name, c->snapshot_max_threads);
    off_pos_t *p = txn_pending(s->txn);
    p->found = true;
    p->lsn = p->lsn_proc = p->lsn_commit = cp;
    p->mid_txn = false;
    p->ts_usec = wc_wall_us();
    txn_flushed_at_least(s->txn, cp);
    s->snapshotting = true;
    rc = txn_ensure(s->txn, err, errlen);
    if (rc == WC_OK)
        rc = snap_run_exported(s->snap, s->repl.snapshot_name, cp, s->stop, err, errlen);
    s->snapshotting = false;
    if (rc != WC_OK) {
        /* the chunks committed so far stay done; the others are read with watermarks from the next
         * connection on (the exported snapshot dies with this one) */
        if (snap_plan(s->snap)->nchunks)
            s->snap_needed = false;
        return rc;
    }
    txn_pending(s->txn)->txid = snap_plan(s->snap)->txid;
    /* the completion goes into a committed offset record before the stream starts */
    if ((rc = txn_ensure(s->txn, err, errlen)) != WC_OK || (rc = commit(s, true, err, errlen)) != WC_OK)
        return rc;
    s->snap_needed = false;
    if (strcmp(c->snapshot_mode, "initial_only") == 0) {
        log_info("snapshot.mode=initial_only: snapshot done, not streaming", "connector=%s", c->name);
        *done = true;
    }
    return WC_OK;
}

static wc_status_t install_relation(conn_state_t *s, const pgo_msg_t *m, char *err, size_t errlen)
{
    /* queued records point to the table version this one replaces (its schemas and converter caches) */
    wc_status_t st = drain(s, err, errlen);
    if (st != WC_OK)
        return st;
    arena_t *a = arena_new(8192);
    rel_catinfo_t info;
    rel_table_t *t;
    if ((st = repl_table_info(&s->repl, m->u.relation.relid, a, &info, err, errlen)) != WC_OK)
        goto out;
    if (rel_cache_put(s->rels, s->types, m, &info, &t, err, errlen) < 0) {
        /* a type created after we loaded the catalog: reload once */
        if ((st = repl_load_types(&s->repl, s->types, err, errlen)) != WC_OK)
            goto out;
        if (rel_cache_put(s->rels, s->types, m, &info, &t, err, errlen) < 0) {
            st = WC_RETRY;
            goto out;
        }
    }
    if ((st = evt_table_prepare(s->evt, t, err, errlen)) != WC_OK)
        goto out;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].type.kind == PGT_UNKNOWN && !s->cfg->evt.types.include_unknown)
            log_warn("column of an unsupported type is left out of events (set include.unknown.datatypes=true to get its raw text as bytes)",
                     "table=%s.%s column=%s type=%s", t->nspname, t->relname, t->cols[i].name,
                     t->cols[i].type.typname ? t->cols[i].type.typname : "?");
    log_debug("relation", "table=%s.%s relid=%u version=%u captured=%d", t->nspname, t->relname, t->relid,
              t->version, evt_table_captured(t));
out:
    arena_free(a);
    return st;
}

static bool published_change(const conn_state_t *s, uint64_t data_start)
{
    return off_change_published(txn_stored(s->txn), data_start);
}

static evt_pos_t position(const conn_state_t *s, uint64_t lsn)
{
    return (evt_pos_t){ .xid = s->xid, .commit_time_us = s->commit_time_us, .lsn = lsn,
                        .last_commit_lsn = s->last_commit_lsn, .now_us = wc_wall_us() };
}

/* BEGIN of a source transaction (final_lsn: its commit record's start). */
static wc_status_t tx_begin(conn_state_t *s, uint32_t xid, uint64_t final_lsn, int64_t commit_time, uint64_t lsn,
                            char *err, size_t errlen)
{
    s->in_txn = true;
    s->xid = xid;
    s->commit_time_us = commit_time + PGO_EPOCH_OFFSET_US;
    /* committed to Kafka before a crash, sent again by the slot: dropped */
    s->skip_txn = off_txn_published(txn_stored(s->txn), final_lsn);
    s->skip_origin = false;
    if (s->skip_txn)
        return WC_OK;
    s->begin_pending = true;
    s->begin_lsn = lsn;
    return txn_ensure(s->txn, err, errlen);
}

/* The transaction's BEGIN event (provide.transaction.metadata), before its first change: pgoutput
 * sends the Origin message after Begin, and a skipped origin's transaction has no events at all. */
static wc_status_t begin_events(conn_state_t *s, char *err, size_t errlen)
{
    if (!s->begin_pending)
        return WC_OK;
    s->begin_pending = false;
    evt_pos_t pos = position(s, s->begin_lsn);
    evt_out_t out;
    return publish(s, evt_tx_begin(s->evt, s->msg_arena, &pos, &out, err, errlen), &out, err, errlen);
}

/* COMMIT at WAL position lsn (the END record's and the next source.sequence's), ending at end_lsn:
 * the offsets of the next Kafka commit move past it; a commit may be due now. */
static wc_status_t tx_commit(conn_state_t *s, uint64_t lsn, uint64_t end_lsn, char *err, size_t errlen)
{
    wc_status_t st;
    if (!s->in_txn) {
        snprintf(err, errlen, "pgoutput Commit without Begin at %llX", (unsigned long long)lsn);
        return WC_RETRY;
    }
    evt_pos_t pos = position(s, lsn);
    evt_out_t out;
    s->last_commit_lsn = lsn;
    s->in_txn = false;
    if (s->skip_txn) {
        s->skip_txn = false;
        s->skipped++;
    } else {
        /* a skipped origin's transaction: no events, but the offsets move past it */
        if (s->skip_origin)
            s->origin_skipped++;
        else if ((st = begin_events(s, err, errlen)) != WC_OK ||
                 (st = publish(s, evt_tx_end(s->evt, s->msg_arena, &pos, &out, err, errlen), &out, err, errlen)) != WC_OK)
            return st;
        else
            txn_note_source_commit(s->txn, s->commit_time_us, s->xid);   /* its latency to the Kafka commit */
        s->skip_origin = false;
        off_pos_t *p = txn_pending(s->txn);
        p->found = true;
        p->lsn = p->lsn_commit = p->lsn_proc = end_lsn;
        p->mid_txn = false;
        p->txid = s->xid;
        p->ts_usec = s->commit_time_us;
        s->txns++;
        met_publish(s, s->commit_time_us);
    }
    s->xid = 0;
    s->commit_time_us = 0;
    if (txn_due(s->txn, false, repl_clock_us(), NULL))
        return commit(s, false, err, errlen);
    return WC_OK;
}

/* One decoded message at WAL position data_start (live, or replayed from a streamed transaction). */
static wc_status_t handle_msg(conn_state_t *s, const pgo_msg_t *m, uint64_t data_start, char *err, size_t errlen)
{
    evt_pos_t pos = position(s, data_start);
    evt_out_t out;
    wc_status_t st;
    switch (m->type) {
    case PGO_BEGIN:
        return tx_begin(s, m->xid, m->u.begin.final_lsn, m->u.begin.commit_time, data_start, err, errlen);
    case PGO_COMMIT:
        return tx_commit(s, data_start, m->u.commit.end_lsn, err, errlen);
    case PGO_ORIGIN:
        if (s->in_txn && !s->skip_txn && flt_origin_skipped(&s->cfg->filters, m->u.origin.name)) {
            s->skip_origin = true;
            s->begin_pending = false;
            log_debug("transaction of a skipped replication origin", "xid=%u origin=%s", s->xid, m->u.origin.name);
        }
        return WC_OK;
    case PGO_TYPE:
        return WC_OK;
    case PGO_RELATION:
        return install_relation(s, m, err, errlen);
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE: {
        if (s->skip_txn || s->skip_origin || published_change(s, data_start))
            return WC_OK;
        if ((st = begin_events(s, err, errlen)) != WC_OK)
            return st;
        rel_table_t *t = rel_cache_get(s->rels, m->u.change.relid);
        if (!t) {
            snprintf(err, errlen, "pgoutput %s for relation id %u that no Relation message described",
                     pgo_msgtype_name(m->type), m->u.change.relid);
            return WC_RETRY;
        }
        /* snapshot: a change newer than a chunk being read; a row of the signal table */
        snap_wm_change(s->snap, t, m, s->xid);
        snap_wm_change(s->isnap, t, m, s->xid);
        if (m->type == PGO_INSERT && snap_is_signal_table(s->isnap, t) &&
            (st = snap_signal_row(s->isnap, t, &m->u.change.new_tuple, err, errlen)) != WC_OK)
            return st;
        return publish(s, evt_change(s->evt, s->msg_arena, &pos, t, m, &out, err, errlen), &out, err, errlen);
    }
    case PGO_TRUNCATE:
        if (s->skip_txn || s->skip_origin || published_change(s, data_start))
            return WC_OK;
        if ((st = begin_events(s, err, errlen)) != WC_OK)
            return st;
        for (uint32_t i = 0; i < m->u.truncate.nrelids; i++) {
            rel_table_t *t = rel_cache_get(s->rels, m->u.truncate.relids[i]);
            if (t && (st = publish(s, evt_truncate(s->evt, s->msg_arena, &pos, t, &out, err, errlen), &out, err,
                                   errlen)) != WC_OK)
                return st;
        }
        return WC_OK;
    case PGO_MESSAGE: {
        pos.lsn = m->u.message.lsn;
        /* snapshot: chunk watermarks are walcast's own, never published */
        bool ours, ours_inc;
        if ((st = snap_wm_message(s->snap, m, data_start, &ours, err, errlen)) != WC_OK ||
            (st = snap_wm_message(s->isnap, m, data_start, &ours_inc, err, errlen)) != WC_OK)
            return st;
        if (ours || ours_inc)
            return WC_OK;
        if (m->u.message.flags & PGO_MESSAGE_TRANSACTIONAL) {
            if (s->skip_txn || s->skip_origin)
                return WC_OK;
            if ((st = begin_events(s, err, errlen)) != WC_OK)
                return st;
            return publish(s, evt_message(s->evt, s->msg_arena, &pos, m, &out, err, errlen), &out, err, errlen);
        }
        /* outside any transaction: published once, tracked by its own LSN */
        if (off_message_published(txn_stored(s->txn), data_start))
            return WC_OK;
        if ((st = txn_ensure(s->txn, err, errlen)) != WC_OK)
            return st;
        pos.xid = 0;
        pos.commit_time_us = 0;
        if ((st = publish(s, evt_message(s->evt, s->msg_arena, &pos, m, &out, err, errlen), &out, err, errlen)) != WC_OK)
            return st;
        off_pos_t *p = txn_pending(s->txn);
        p->found = true;
        if (data_start > p->lsn)
            p->lsn = p->lsn_proc = data_start;
        return WC_OK;
    }
    default:
        snprintf(err, errlen, "unexpected pgoutput %s message: walcast did not request streaming or two-phase decoding",
                 pgo_msgtype_name(m->type));
        return WC_FATAL;
    }
}

/* ---- streamed transactions (strm_ops_t) ------------------------------------------------- */

static bool strm_published(void *ctx, uint64_t commit_lsn)
{
    return off_txn_published(txn_stored(((conn_state_t *)ctx)->txn), commit_lsn);
}

static wc_status_t strm_begin(void *ctx, uint32_t xid, uint64_t final_lsn, int64_t commit_time, uint64_t lsn,
                              char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    arena_reset(s->msg_arena);
    return tx_begin(s, xid, final_lsn, commit_time, lsn, err, errlen);
}

static wc_status_t strm_message(void *ctx, const pgo_msg_t *m, uint64_t lsn, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    arena_reset(s->msg_arena);
    return handle_msg(s, m, lsn, err, errlen);
}

static wc_status_t strm_commit(void *ctx, uint32_t xid, uint64_t commit_lsn, uint64_t end_lsn, int64_t commit_time,
                               char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    (void)xid;
    (void)commit_time;
    (void)commit_lsn;
    arena_reset(s->msg_arena);
    return tx_commit(s, end_lsn, end_lsn, err, errlen);
}

static wc_status_t strm_relation(void *ctx, const pgo_msg_t *m, char *err, size_t errlen)
{
    return install_relation(ctx, m, err, errlen);
}

/* A long replay still owes the server status updates, collects background commits, and keeps
 * librdkafka's queue (and so memory) short while it outruns Kafka. */
static wc_status_t strm_progress(void *ctx, uint32_t xid, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    wc_status_t st = txn_collect(s->txn, false, err, errlen);
    if (st != WC_OK)
        return st;
    keep_server(s);
    txn_throttle(s->txn, REPLAY_MAX_QUEUED, s->stop);
    if (*s->stop) {
        snprintf(err, errlen, "stopped during the replay of streamed transaction %u; the server sends it again", xid);
        return WC_RETRY;
    }
    return WC_OK;
}

static const strm_ops_t strm_ops = { strm_published, strm_begin, strm_message, strm_commit, strm_relation,
                                     strm_progress };

/* ---- the read loop's handler (repl_handler_t) ------------------------------------------- */

static wc_status_t on_xlogdata(void *ctx, const pgo_copydata_t *cd, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    pgo_msg_t m;
    wc_status_t st;
    arena_reset(s->msg_arena);
    if (pgo_parse(&s->pgo, cd->payload, cd->payload_len, s->msg_arena, &m, err, errlen) < 0) {
        char tmp[512], lsn[32];
        snprintf(tmp, sizeof tmp, "%.500s", err);
        pgo_lsn_format(cd->data_start, lsn);
        snprintf(err, errlen, "at LSN %s: %s", lsn, tmp);
        return WC_RETRY;
    }
    bool taken = false;
    if (s->strm && (st = strm_take(s->strm, &m, cd->data_start, cd->payload, cd->payload_len, &taken, err, errlen)) != WC_OK)
        return st;
    if (!taken && (st = handle_msg(s, &m, cd->data_start, err, errlen)) != WC_OK)
        return st;
    if (s->encq && (st = encq_send_ready(s->encq, encq_send, s, err, errlen)) != WC_OK)
        return st;
    /* a commit runs: collect its outcome once it is done */
    return txn_collect(s->txn, false, err, errlen);
}

static void on_keepalive(void *ctx, uint64_t wal_end)
{
    conn_state_t *s = ctx;
    /* Nothing in flight: the server's position holds nothing left for us to publish. It is recorded
     * in the offsets topic (idle_commit) before the slot is confirmed past it. */
    if (!s->in_txn && wal_end > s->idle_target)
        s->idle_target = wal_end;
}

static bool on_paused(void *ctx)
{
    conn_state_t *s = ctx;
    /* While a commit runs and the records kept for the next transaction reach their bound (Kafka
     * slow or away), nothing more is read: the loop goes on collecting the commit's outcome and
     * sending status updates (so wal_sender_timeout never fires), and the server waits. */
    bool held = txn_held(s->txn);
    if (held && !s->was_held)
        log_info("reading paused: a Kafka commit is still running and the records kept for the next one reached "
                 "their bound", "connector=%s", s->cfg->name);
    s->was_held = held;
    return held;
}

/* Chunks are being read with watermarks and the open Kafka transaction holds no streamed source transaction
 * (only snapshot rows): the stream is caught up between every two chunks, and committing then made a Kafka
 * transaction per chunk (~390 for 1M rows of 1,024-row chunks), or one per status.update.interval.ms through
 * idle_commit; so that transaction commits after walcast.transaction.max.ms/.events, as when behind the
 * server. Once it holds a streamed source transaction it commits as soon as the stream is caught up, i.e.
 * after the chunk being emitted, not after max.ms. */
static bool wm_reading(const conn_state_t *s)
{
    return (snap_wm_busy(s->snap) || snap_wm_busy(s->isnap)) && !txn_holds_source(s->txn);
}

/* Records the idle position in the offsets topic (at most once per status interval); not while chunks are
 * read with watermarks (wm_reading: the stream is not idle then). */
static wc_status_t idle_commit(conn_state_t *s, int64_t now, int64_t *deadline, char *err, size_t errlen)
{
    if (s->in_txn || txn_committing(s->txn) || s->idle_target <= txn_flushed(s->txn) || wm_reading(s))
        return WC_OK;
    if (now < s->next_idle_commit_us) {
        if (s->next_idle_commit_us < *deadline)
            *deadline = s->next_idle_commit_us;
        return WC_OK;
    }
    wc_status_t st = txn_ensure(s->txn, err, errlen);
    if (st != WC_OK)
        return st;
    off_pos_t *p = txn_pending(s->txn);
    p->found = true;
    if (s->idle_target > p->lsn)
        p->lsn = p->lsn_proc = s->idle_target;
    s->next_idle_commit_us = now + (int64_t)s->cfg->status_interval_ms * 1000;
    return commit(s, false, err, errlen);
}

/* heartbeat.interval.ms: runs heartbeat.action.query, then publishes a heartbeat record inside the
 * current (or a new) Kafka transaction, which also carries the offsets forward. */
static wc_status_t heartbeat(conn_state_t *s, int64_t now, int64_t *deadline, char *err, size_t errlen)
{
    if (s->cfg->heartbeat_interval_ms <= 0 || s->in_txn)
        return WC_OK;
    if (now < s->next_heartbeat_us) {
        if (s->next_heartbeat_us < *deadline)
            *deadline = s->next_heartbeat_us;
        return WC_OK;
    }
    s->next_heartbeat_us = now + (int64_t)s->cfg->heartbeat_interval_ms * 1000;
    if (s->cfg->heartbeat_action_query && repl_exec(&s->repl, s->cfg->heartbeat_action_query, err, errlen) != WC_OK)
        log_warn("heartbeat.action.query failed", "error=\"%s\"", log_esc(err));
    wc_status_t st = txn_ensure(s->txn, err, errlen);
    if (st != WC_OK)
        return st;
    arena_reset(s->msg_arena);
    evt_out_t out;
    return publish(s, evt_heartbeat(s->evt, s->msg_arena, wc_wall_us(), &out, err, errlen), &out, err, errlen);
}

/* GET /metrics: the figures log_progress shows, as atomic stores (at each source transaction's end and
 * each tick; never per event). commit_time_us: the source commit just processed, or 0. */
static void met_publish(conn_state_t *s, int64_t commit_time_us)
{
    met_source_t *m = s->met;
    const evt_stats_t *st = evt_stats(s->evt);
    int64_t now_ms = wc_wall_us() / 1000;
    uint64_t seen = st->created + st->updated + st->deleted + st->truncated + st->messages;
    if (seen != s->met_seen)
        atomic_store_explicit(&m->last_event_ms, now_ms, memory_order_relaxed);
    /* snapshot rows: those built on this thread and those the reader threads encoded */
    uint64_t read = st->read + snap_encoded_rows(s->snap) + snap_encoded_rows(s->isnap);
    if (read != s->met_read)
        atomic_store_explicit(&m->snap_last_event_ms, now_ms, memory_order_relaxed);
    s->met_seen = seen;
    s->met_read = read;
    atomic_store_explicit(&m->seen, seen, memory_order_relaxed);
    atomic_store_explicit(&m->created, st->created, memory_order_relaxed);
    atomic_store_explicit(&m->updated, st->updated, memory_order_relaxed);
    atomic_store_explicit(&m->deleted, st->deleted, memory_order_relaxed);
    atomic_store_explicit(&m->filtered, st->filtered, memory_order_relaxed);
    atomic_store_explicit(&m->erroneous, atomic_load(&s->coder.skipped) + (s->encq ? encq_skipped(s->encq) : 0),
                          memory_order_relaxed);
    atomic_store_explicit(&m->committed_txns, s->txns, memory_order_relaxed);
    atomic_store_explicit(&m->snap_read, read, memory_order_relaxed);
    atomic_store_explicit(&m->written, txn_stats(s->txn).records, memory_order_relaxed);
    if (commit_time_us > 0) {
        int64_t behind = now_ms - commit_time_us / 1000;
        atomic_store_explicit(&m->behind_ms, behind, memory_order_relaxed);
        /* StreamingStatistics, once per source commit seen (this thread is the only writer) */
        if (commit_time_us != s->met_behind_commit_us) {
            s->met_behind_commit_us = commit_time_us;
            int64_t c = atomic_load_explicit(&m->behind_n, memory_order_relaxed);
            if (!c || behind < atomic_load_explicit(&m->behind_min, memory_order_relaxed))
                atomic_store_explicit(&m->behind_min, behind, memory_order_relaxed);
            if (!c || behind > atomic_load_explicit(&m->behind_max, memory_order_relaxed))
                atomic_store_explicit(&m->behind_max, behind, memory_order_relaxed);
            atomic_fetch_add_explicit(&m->behind_sum, behind, memory_order_relaxed);
            atomic_store_explicit(&m->behind_n, c + 1, memory_order_relaxed);
        }
    }
    /* snapshot: the initial one (snapshot.mode) */
    const snap_progress_t *sp = s->snap ? snap_progress(s->snap) : NULL;
    if (sp) {
        atomic_store_explicit(&m->snap_running, sp->running, memory_order_relaxed);
        atomic_store_explicit(&m->snap_completed, sp->completed, memory_order_relaxed);
        atomic_store_explicit(&m->tables_total, sp->tables_total, memory_order_relaxed);
        atomic_store_explicit(&m->tables_remaining, sp->tables_remaining, memory_order_relaxed);
        atomic_store_explicit(&m->rows_scanned, sp->rows_scanned, memory_order_relaxed);
        if (sp->started_us)
            atomic_store_explicit(&m->snap_started_ms, sp->started_us / 1000, memory_order_relaxed);
        if (sp->completed && !atomic_load_explicit(&m->snap_ended_ms, memory_order_relaxed))
            atomic_store_explicit(&m->snap_ended_ms, now_ms, memory_order_relaxed);
        /* RowsScanned per table: the plan's tables (kept after completion until a new plan); copied while
         * the snapshot runs and once after, not at every source transaction */
        const snap_plan_t *pl = snap_plan(s->snap);
        if (pl && pl->ntables && (sp->running || !s->met_tables_final)) {
            s->met_tables_final = !sp->running;
            char **names = xcalloc(pl->ntables, sizeof *names);
            uint64_t *rows = xcalloc(pl->ntables, sizeof *rows);
            for (size_t i = 0; i < pl->ntables; i++) {
                size_t n = strlen(pl->tables[i].schema) + strlen(pl->tables[i].name) + 2;
                names[i] = xmalloc(n);
                snprintf(names[i], n, "%s.%s", pl->tables[i].schema, pl->tables[i].name);
                rows[i] = pl->tables[i].rows;
            }
            met_source_set_tables(m, (const char *const *)names, rows, pl->ntables);
            for (size_t i = 0; i < pl->ntables; i++)
                free(names[i]);
            free(rows);
            free(names);
        }
    }
}

/* How often GET /metrics's slot figures are read from pg_replication_slots (one small query). */
#define SLOT_POLL_US 2000000

/* The slot's lag, WAL retained, wal_status and safe_wal_size for GET /metrics, every SLOT_POLL_US. A
 * failure only leaves the figures as they were (a lost connection is the publication check's to report). */
static void slot_poll(conn_state_t *s, int64_t now, int64_t *deadline)
{
    if (now < s->next_slot_poll_us) {
        if (s->next_slot_poll_us < *deadline)
            *deadline = s->next_slot_poll_us;
        return;
    }
    s->next_slot_poll_us = now + SLOT_POLL_US;
    char sql[640];
    /* wal_status, safe_wal_size and max_slot_wal_keep_size came with PostgreSQL 13 */
    snprintf(sql, sizeof sql, "SELECT pg_wal_lsn_diff(x.w, confirmed_flush_lsn)::bigint, pg_wal_lsn_diff(x.w, restart_lsn)::bigint, "
             "%s FROM pg_replication_slots, (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() "
             "ELSE pg_current_wal_lsn() END AS w) x WHERE slot_name = $1",
             s->repl.server_version >= 130000 ? "wal_status, safe_wal_size, (SELECT setting::bigint FROM pg_settings WHERE "
                                                "name = 'max_slot_wal_keep_size')"
                                              : "NULL, NULL, -1");
    const char *params[1] = { s->cfg->slot_name };
    char err[256];
    PGresult *res = repl_query(&s->repl, sql, 1, params, err, sizeof err);
    if (!res) {
        log_debug("slot figures not read", "connector=%s error=\"%s\"", s->cfg->name, log_esc(err));
        return;
    }
    if (PQntuples(res) == 1) {
        met_source_t *m = s->met;
        static const char *const ws[] = { "reserved", "extended", "unreserved", "lost" };
        int status = MET_WAL_UNKNOWN;
        for (int i = 0; i < 4 && !PQgetisnull(res, 0, 2); i++)
            if (!strcmp(PQgetvalue(res, 0, 2), ws[i]))
                status = i;
        long long keep = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
        atomic_store_explicit(&m->slot_lag, PQgetisnull(res, 0, 0) ? 0 : strtoll(PQgetvalue(res, 0, 0), NULL, 10),
                              memory_order_relaxed);
        atomic_store_explicit(&m->wal_retained, PQgetisnull(res, 0, 1) ? 0 : strtoll(PQgetvalue(res, 0, 1), NULL, 10),
                              memory_order_relaxed);
        atomic_store_explicit(&m->safe_wal_size, PQgetisnull(res, 0, 3) ? -1 : strtoll(PQgetvalue(res, 0, 3), NULL, 10),
                              memory_order_relaxed);
        atomic_store_explicit(&m->max_keep, keep < 0 ? -1 : keep * 1048576LL, memory_order_relaxed);
        atomic_store_explicit(&m->wal_status, status, memory_order_relaxed);
        atomic_store_explicit(&m->slot_known, 1, memory_order_relaxed);
    }
    PQclear(res);
}

static void log_progress(conn_state_t *s)
{
    char fl[32], rl[32];
    pgo_lsn_format(txn_flushed(s->txn), fl);
    pgo_lsn_format(s->repl.received_lsn, rl);
    const evt_stats_t *st = evt_stats(s->evt);
    txn_stats_t ts = txn_stats(s->txn);
    log_info("streaming", "connector=%s received_lsn=%s flushed_lsn=%s transactions=%llu origin_skipped=%llu records=%llu created=%llu updated=%llu deleted=%llu in_flight=%d kafka_commits=%llu slowest_commit_ms=%lld",
             s->cfg->name, rl, fl, (unsigned long long)s->txns, (unsigned long long)s->origin_skipped, (unsigned long long)ts.records,
             (unsigned long long)st->created, (unsigned long long)st->updated, (unsigned long long)st->deleted,
             ts.in_flight, (unsigned long long)ts.commits, (long long)(ts.slowest_commit_us / 1000));
    /* snapshot: progress (snap_progress_t, also for the metrics endpoint to come) */
    for (int i = 0; i < 2; i++) {
        const snap_t *sn = i ? s->isnap : s->snap;
        const snap_progress_t *sp = sn ? snap_progress(sn) : NULL;
        if (sp && sp->running)
            log_info(i ? "incremental snapshot" : "snapshot", "connector=%s rows_scanned=%llu tables_remaining=%zu of=%zu chunks_done=%zu of=%zu rows_per_s=%.0f",
                     s->cfg->name, (unsigned long long)sp->rows_scanned, sp->tables_remaining, sp->tables_total,
                     sp->chunks_done, sp->chunks_total, sp->rows_per_s);
    }
    if (s->strm) {
        strm_stats_t ss = strm_stats(s->strm);
        log_info("streamed transactions", "connector=%s replayed=%llu open=%zu memory_bytes=%zu peak_memory_bytes=%zu spilled_bytes=%llu spill_file_bytes=%llu",
                 s->cfg->name, (unsigned long long)ss.replayed_txns, ss.spill.open_txns, ss.spill.mem_bytes,
                 ss.spill.peak_mem_bytes, (unsigned long long)ss.spill.spilled_bytes,
                 (unsigned long long)ss.spill.file_bytes);
    }
    s->next_log_us = repl_clock_us() + 30 * 1000000LL;
}

/* Tables walcast has just added to the publication (publication.autocreate.mode=filtered): PostgreSQL
 * never sent what was written to them before, and adding them does not change that (pgoutput reads the
 * publication as it was when the change was written), so only reading their rows makes up for it: an
 * incremental snapshot of them, when signals are enabled. Kept until that is planned. */
static wc_status_t pub_added_snapshot(conn_state_t *s, char *err, size_t errlen)
{
    char *more = repl_take_pub_added(&s->repl);
    if (more) {
        if (s->pub_added) {
            char *both = xmalloc(strlen(s->pub_added) + strlen(more) + 2);
            sprintf(both, "%s\n%s", s->pub_added, more);
            free(more);
            more = both;
        }
        free(s->pub_added);
        s->pub_added = more;
    }
    /* a new snapshot plans every published table, these too; without isnap (not filtered) nothing is added */
    if (!s->pub_added || s->snap_needed || !s->isnap) {
        free(s->pub_added);
        s->pub_added = NULL;
        return WC_OK;
    }
    snap_signal_t sig;
    memset(&sig, 0, sizeof sig);
    sig.kind = SNAP_SIG_EXECUTE;
    buf_t names;
    buf_init(&names);
    char *list = xstrdup(s->pub_added), *save = NULL;
    for (char *n = strtok_r(list, "\n", &save); n; n = strtok_r(NULL, "\n", &save)) {
        buf_t re;
        buf_init(&re);
        buf_puts(&re, "^(");
        for (const char *p = n; *p; p++) {
            if (strchr(".[]()*+?{}|^$\\", *p))
                buf_putc(&re, '\\');
            buf_putc(&re, *p);
        }
        buf_puts(&re, ")$");
        sig.collections.re = xrealloc(sig.collections.re, (sig.collections.n + 1) * sizeof *sig.collections.re);
        if (regcomp(&sig.collections.re[sig.collections.n], buf_cstr(&re), REG_EXTENDED | REG_NOSUB) == 0)
            sig.collections.n++;
        buf_free(&re);
        if (names.len)
            buf_putc(&names, ',');
        buf_puts(&names, n);
    }
    free(list);
    wc_status_t st = snap_signal_apply(s->isnap, &sig, err, errlen);
    snap_signal_free(&sig);
    if (st == WC_OK) {
        log_info("incremental snapshot of the tables added to the publication", "connector=%s tables=%s", s->cfg->name,
                 log_esc(buf_cstr(&names)));
        free(s->pub_added);
        s->pub_added = NULL;
    }
    buf_free(&names);
    return st;   /* on failure the tables are kept: planned again after a reconnect */
}

/* The start's timeline, once a Kafka transaction has committed after the first record: with WALCAST_LOG=debug one
 * "start-up trace" line, marks=NAME:WALL_US:CPU_US,... (Unix epoch us; the process's CPU time then;
 * scripts/bench.sh prints it beside each drain): process loaded, configuration parsed (the connector's
 * thread runs), producers made, every InitProducerId answered, offsets read; beside those PostgreSQL's
 * part begun and done (connections, checks, types; after the join when it failed there); Kafka's start
 * joined, the first session begun, slot and publication ready, replication started, first record
 * produced, first Kafka commit collected. */
static void log_start(conn_state_t *s)
{
    s->start_logged = true;
    if (log_get_level() > LOG_DEBUG)
        return;
    txn_start_times_t tt = txn_start_times(s->txn);
    const wc_mark_t m[] = { s->t_entry, s->t_created, tt.ready, tt.offsets, s->t_pg_begin, s->t_connected, s->t_joined,
                            s->t_session, s->t_prepared, s->t_streaming, tt.first_record, wc_mark_now() };
    const char *names[] = { "config", "producers", "ready", "offsets", "pg_begin", "connected", "joined", "session",
                            "prepared", "streaming", "first_record", "first_commit" };
    char marks[1024];
    int n = snprintf(marks, sizeof marks, "process:%lld:0", log_process_start_us());
    for (size_t i = 0; i < sizeof m / sizeof m[0] && n > 0 && (size_t)n < sizeof marks; i++)
        n += snprintf(marks + n, sizeof marks - (size_t)n, ",%s:%lld:%lld", names[i], (long long)m[i].wall_us,
                      (long long)m[i].cpu_us);
    log_debug("start-up trace", "connector=%s marks=%s", s->cfg->name, marks);
}

/* Timed work: the running commit's outcome, delivery failures, a due commit, the idle position,
 * heartbeats, the flush position for the next status update, the progress line. */
static wc_status_t on_tick(void *ctx, bool caught_up, int64_t *deadline, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    wc_status_t st;
    if ((st = txn_collect(s->txn, false, err, errlen)) != WC_OK || (st = txn_poll(s->txn, 0, err, errlen)) != WC_OK)
        return st;
    if (!s->start_logged && s->t_streaming.wall_us && txn_stats(s->txn).commits &&
        txn_start_times(s->txn).first_record.wall_us)
        log_start(s);
    if (s->encq && (st = encq_send_ready(s->encq, encq_send, s, err, errlen)) != WC_OK)
        return st;
    int64_t now = repl_clock_us();
    if (!s->in_txn && txn_due(s->txn, caught_up && !wm_reading(s), now, deadline) && (st = commit(s, false, err, errlen)) != WC_OK)
        return st;
    if ((st = idle_commit(s, now, deadline, err, errlen)) != WC_OK || (st = heartbeat(s, now, deadline, err, errlen)) != WC_OK)
        return st;
    /* snapshot: the next chunk by the watermark method (between source transactions), and signals
     * from signal.kafka.topic */
    if (!s->in_txn && ((st = snap_wm_step(s->snap, err, errlen)) != WC_OK ||
                       (!snap_active(s->snap) && (st = snap_wm_step(s->isnap, err, errlen)) != WC_OK)))
        return st;
    /* snapshot.mode=initial_only: done once the snapshot is, also when it finished here, with watermark
     * reads after the exported snapshot was interrupted (that path stops in snapshot_before_stream).
     * snap_finished: its completion is in a committed offset record */
    if (!s->in_txn && !*s->stop && snap_finished(s->snap) && strcmp(s->cfg->snapshot_mode, "initial_only") == 0) {
        log_info("snapshot.mode=initial_only: snapshot done, not streaming", "connector=%s", s->cfg->name);
        *s->stop = 1;
        return WC_OK;
    }
    if ((st = snap_signal_kafka_poll(s->isnap, err, errlen)) != WC_OK)
        return st;
    if (!s->in_txn && ((st = repl_check_publication(&s->repl, now, deadline, err, errlen)) != WC_OK ||
                       (st = pub_added_snapshot(s, err, errlen)) != WC_OK))
        return st;
    repl_confirm(&s->repl, txn_flushed(s->txn));
    met_publish(s, 0);
    if (!s->in_txn)
        slot_poll(s, now, deadline);
    if (now >= s->next_log_us)
        log_progress(s);
    if (s->next_log_us < *deadline)
        *deadline = s->next_log_us;
    return WC_OK;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

/* Stored offsets that cannot be this server's: another cluster (its system identifier), or a
 * position beyond the server's WAL end (a restored or promoted database, a new cluster under an old
 * connector name, a corrupt record). Trusting them would skip every change up to that position and
 * confirm the slot past WAL never published. Refused, unless snapshot.mode asks for a new start. */
static wc_status_t offsets_foreign(conn_state_t *s, char *err, size_t errlen)
{
    const off_pos_t *stored = txn_stored(s->txn);
    char st[32], sv[32];
    pgo_lsn_format(stored->lsn, st);
    pgo_lsn_format(s->repl.server_lsn, sv);
    if (stored->system_id[0] && strcmp(stored->system_id, s->repl.system_id) != 0)
        snprintf(err, errlen, "the stored offsets in %s belong to database system %s, but this server is system %s: "
                 "they are another cluster's. Use a new connector name (or offset.storage.topic) for this database, "
                 "or set snapshot.mode=when_needed to start anew from the slot",
                 s->wcfg->offset_topic, stored->system_id, s->repl.system_id);
    else if (stored->lsn > s->repl.server_lsn)
        snprintf(err, errlen, "the stored offsets in %s say %s was published, but this server's WAL ends at %s: "
                 "they come from another database or an earlier life of this one (restored from a backup, a promoted "
                 "replica). Use a new connector name (or offset.storage.topic), or set snapshot.mode=when_needed to "
                 "start anew from the slot", s->wcfg->offset_topic, st, sv);
    else
        return WC_OK;
    if (strcmp(s->cfg->snapshot_mode, "when_needed") != 0 && strcmp(s->cfg->snapshot_mode, "always") != 0)
        return WC_FATAL;
    log_warn("stored offsets ignored: a new start was asked for (snapshot.mode); the tables are read again",
             "connector=%s reason=\"%s\"", s->cfg->name, log_esc(err));
    txn_forget_stored(s->txn);
    s->snap_needed = true;   /* snapshot: when_needed/always read the tables anew (with watermarks: the slot exists) */
    return WC_OK;
}

/* The slot confirmed past the stored offsets: WAL in between is gone unpublished. */
static wc_status_t slot_ahead(conn_state_t *s, char *err, size_t errlen)
{
    const off_pos_t *stored = txn_stored(s->txn);
    /* snap_needed: every table is read anew (Debezium's offsets of an unfinished snapshot, which it
     * takes again from the start), which makes up for any WAL the slot is past. Debezium's initial_only
     * connector leaves no slot behind, so the one walcast creates here is always past its offsets. */
    if (!stored->found || s->repl.slot_confirmed <= stored->lsn || s->snap_needed)
        return WC_OK;
    char sl[32], st[32];
    pgo_lsn_format(s->repl.slot_confirmed, sl);
    pgo_lsn_format(stored->lsn, st);
    if (strcmp(s->cfg->snapshot_mode, "when_needed") != 0 && strcmp(s->cfg->snapshot_mode, "always") != 0) {
        snprintf(err, errlen, "slot \"%s\" is confirmed up to %s but the offsets topic %s says only %s was published: "
                 "the WAL in between is gone and its changes were never sent. Point offset.storage.topic at this "
                 "connector's offsets, or drop the slot and start again with a new snapshot (snapshot.mode=when_needed)",
                 s->cfg->slot_name, sl, s->wcfg->offset_topic, st);
        return WC_FATAL;
    }
    log_warn("the slot is ahead of the stored offsets; changes in between were never published: the tables are read again",
             "slot_lsn=%s offset_lsn=%s snapshot.mode=%s", sl, st, s->cfg->snapshot_mode);
    s->snap_needed = true;   /* snapshot: a new snapshot (with watermarks) makes up for the lost changes */
    return WC_OK;
}

/* One replication connection's life: WC_OK on a requested stop; else what the failure asks for
 * (WC_RETRY: reconnect; WC_FATAL / WC_PERMANENT: stop), after the rewind. */
static wc_status_t session(conn_state_t *s, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    bool early = s->pg_early;   /* connected, checked and the types loaded beside Kafka's start (pg_early) */
    s->pg_early = false;
    if (!s->t_streaming.wall_us)
        s->t_session = wc_mark_now();
    if (!early && (st = repl_connect(&s->repl, s->cfg, err, errlen)) != WC_OK)
        return st;
    if (!s->t_streaming.wall_us && !early)
        s->t_connected = wc_mark_now();
    atomic_store(&s->met->connected, 1);
    s->repl.export_snapshot = s->snap_needed;   /* snapshot: a new slot exports its snapshot */
    if ((st = repl_prepare(&s->repl, err, errlen)) != WC_OK ||
        (!early && (st = repl_load_types(&s->repl, s->types, err, errlen)) != WC_OK))
        goto out;
    if (!s->t_streaming.wall_us)
        s->t_prepared = wc_mark_now();
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    s->pgo.in_stream = false;
    if (s->strm)
        strm_reset(s->strm);
    txn_set_origin(s->txn, s->repl.system_id, s->repl.timeline);
    if (txn_stored(s->txn)->found && (st = offsets_foreign(s, err, errlen)) != WC_OK)
        goto out;
    if ((st = slot_ahead(s, err, errlen)) != WC_OK)
        goto out;
    if (s->cfg->topics.started)   /* the slot exists: every change from now on is captured */
        s->cfg->topics.started(s->cfg->topics.ctx);
    if (!txn_stored(s->txn)->found)
        txn_flushed_at_least(s->txn, s->repl.slot_confirmed);
    {
        /* snapshot: before the stream (or planned for watermarks while it runs) */
        bool done;
        if ((st = snapshot_before_stream(s, &done, err, errlen)) != WC_OK)
            goto out;
        if (done) {
            *s->stop = 1;
            goto out;
        }
    }
    if (s->repl.slot_created)   /* created after they were added: the slot decodes all its changes with them */
        free(repl_take_pub_added(&s->repl));
    if ((st = pub_added_snapshot(s, err, errlen)) != WC_OK ||
        (st = repl_start(&s->repl, 0, s->strm != NULL, err, errlen)) != WC_OK)
        goto out;
    char lsn[32];
    pgo_lsn_format(s->repl.slot_confirmed, lsn);
    if (!s->t_streaming.wall_us) {
        /* the first start: how long it took (since the process was loaded), and its three parts */
        s->t_streaming = wc_mark_now();
        txn_start_times_t tt = txn_start_times(s->txn);
        /* PostgreSQL's part: beside Kafka's start (pg_early), then in the session */
        int64_t pg_us = s->t_streaming.wall_us - s->t_session.wall_us;
        if (s->t_connected.wall_us < s->t_session.wall_us)
            pg_us += s->t_connected.wall_us - s->t_pg_begin.wall_us;
        log_info("replication started", "connector=%s slot=%s publication=%s from_lsn=%s startup_ms=%lld kafka_ms=%lld "
                 "offsets_ms=%lld postgres_ms=%lld", s->cfg->name, s->cfg->slot_name, s->cfg->publication_name, lsn,
                 (s->t_streaming.wall_us - log_process_start_us()) / 1000, (long long)(tt.ready.wall_us - s->t_entry.wall_us) / 1000,
                 (long long)(tt.offsets.wall_us - tt.ready.wall_us) / 1000, (long long)pg_us / 1000);
    } else {
        log_info("replication started", "connector=%s slot=%s publication=%s from_lsn=%s", s->cfg->name,
                 s->cfg->slot_name, s->cfg->publication_name, lsn);
    }
    repl_confirm(&s->repl, txn_flushed(s->txn));
    repl_handler_t h = { on_xlogdata, on_keepalive, on_tick, on_paused, txn_wake_fd(s->txn) };
    if ((st = repl_loop(&s->repl, &h, s, s->stop, err, errlen)) != WC_OK)
        goto out;
    /* Requested stop: commit whole source transactions, abort a partial one (the slot sends it
     * again), confirm what is committed, end COPY cleanly. What the encoder threads hold goes first;
     * when it cannot, the open transaction is aborted. */
    {
        wc_status_t ds = drain(s, err, errlen);
        if (ds != WC_OK) {
            log_warn("records still being encoded on stop are sent again on restart", "connector=%s error=\"%s\"",
                     s->cfg->name, log_esc(err));
            if (s->encq)
                encq_reset(s->encq);
        }
        txn_shutdown(s->txn, s->in_txn || ds != WC_OK);
    }
    repl_confirm(&s->repl, txn_flushed(s->txn));
    repl_send_status(&s->repl, false);
    repl_stop(&s->repl);
    log_progress(s);
out:
    atomic_store(&s->met->connected, 0);
    if (st != WC_OK) {
        /* Rewind: the slot sends everything after the last confirmed position again and the stored
         * offset filters what was committed. The old connection's idle position says nothing about
         * the new one: kept, it made the first idle commit after a rewind confirm the slot past
         * transactions still to come (lost changes, found by test_kafka_abort.sh). Records still
         * queued for the encoder threads go with the aborted transaction. */
        if (s->encq)
            encq_reset(s->encq);
        st = txn_rewind(s->txn, st, err, errlen);
        s->in_txn = false;
        s->skip_txn = false;
        s->skip_origin = false;
        s->begin_pending = false;
        s->idle_target = 0;
        evt_tx_reset(s->evt);
    }
    repl_close(&s->repl);
    return st;
}

static void drop_slot(const conn_config_t *cfg)
{
    repl_t r;
    char err[512];
    if (repl_connect(&r, cfg, err, sizeof err) != WC_OK) {
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

/* Logs why the connector stops and keeps it for the caller (the task's trace in the REST status). */
static void conn_fatal(char *why, size_t whylen, const char *name, const char *what, const char *err)
{
    log_msg(LOG_FATAL, what, "connector=%s error=\"%s\"", name, log_esc(err));
    if (why)
        snprintf(why, whylen, "%s: %s", what, err);
}

/* txn_start on a thread of its own (conn_run). */
typedef struct kafka_start {
    txn_t *txn;
    volatile sig_atomic_t *stop;
    pthread_t thread;
    wc_status_t st;
    char err[1024];
} kafka_start_t;

static void *kafka_start_main(void *arg)
{
    kafka_start_t *ks = arg;
    ks->st = txn_start(ks->txn, ks->stop, ks->err, sizeof ks->err);
    return NULL;
}

/* PostgreSQL's part of a start that needs no stored offsets, beside Kafka's (conn_run): the SQL and
 * replication connections, their checks (wal_level, REPLICATION), the type catalogue. Not IDENTIFY_SYSTEM
 * (its WAL end must be read after the offsets: repl_prepare), the slot or the publication. On a failure
 * nothing is kept: the session connects again and reports it (and retries) as always. */
static void pg_early(conn_state_t *s)
{
    char err[1024];
    s->t_pg_begin = wc_mark_now();
    if (repl_connect(&s->repl, s->cfg, err, sizeof err) != WC_OK)
        return;
    if (repl_open(&s->repl, err, sizeof err) != WC_OK || repl_load_types(&s->repl, s->types, err, sizeof err) != WC_OK) {
        repl_close(&s->repl);
        return;
    }
    s->t_connected = wc_mark_now();
    s->pg_early = true;
}

int conn_run(const conn_config_t *cfg, const worker_config_t *w, volatile sig_atomic_t *stop, char *why, size_t whylen)
{
    conn_state_t s;
    memset(&s, 0, sizeof s);
    s.t_entry = wc_mark_now();
    s.cfg = cfg;
    s.wcfg = w;
    s.stop = stop;
    s.pgo.proto_version = cfg->streaming ? 2 : 1;
    s.msg_arena = arena_new(64 * 1024);
    s.types = pgt_catalog_new();
    s.rels = rel_cache_new(evt_table_free);
    s.met = met_source_open(cfg->name, cfg->topic_prefix, cfg->slot_name);
    char err[1024];
    int rc = 1;
    wc_status_t st;
    if ((s.txn = txn_new(cfg, w, on_queue_full, &s, err, sizeof err)))
        txn_set_hists(s.txn, &s.met->src_to_kafka, &s.met->kafka_commit);
    s.t_created = wc_mark_now();
    if (!s.txn) {
        conn_fatal(why, whylen, cfg->name, "cannot start the Kafka producer", err);
        goto out;
    }
    {
        /* Kafka's start (every producer fenced, then the stored offsets read) runs on a thread of its own
         * while this one opens PostgreSQL's connections, checks them and loads the types (pg_early): none
         * of that depends on the offsets, and nothing is read from the slot or changed on the server
         * before both are done (the publication and the slot come in session). One after the other they
         * added up in every start (issue 21). */
        kafka_start_t ks = { .txn = s.txn, .stop = stop, .st = WC_OK };
        bool threaded = pthread_create(&ks.thread, NULL, kafka_start_main, &ks) == 0;
        if (!threaded)
            kafka_start_main(&ks);
        pg_early(&s);
        if (threaded)
            pthread_join(ks.thread, NULL);
        s.t_joined = wc_mark_now();
        if ((st = ks.st) != WC_OK) {
            if (*stop) {
                rc = 0;
                goto out;
            }
            conn_fatal(why, whylen, cfg->name, "cannot start Kafka transactions or read the stored offsets", ks.err);
            goto out;
        }
    }
    const off_pos_t *stored = txn_stored(s.txn);
    if (stored->found) {
        char l[32], lc[32];
        pgo_lsn_format(stored->lsn, l);
        pgo_lsn_format(stored->lsn_commit, lc);
        log_info("resuming from stored offsets", "connector=%s topic=%s lsn=%s lsn_commit=%s", cfg->name, w->offset_topic, l, lc);
    }
    if (cfg->streaming &&
        !(s.strm = strm_new(cfg->spill_dir, (size_t)cfg->memory_limit_mb << 20, 2, &strm_ops, &s, err, sizeof err))) {
        conn_fatal(why, whylen, cfg->name, "cannot prepare streaming of large transactions", err);
        goto out;
    }
    if (!coder_open(&s.coder, cfg, "record skipped (errors.tolerance=all)", true, on_registry_wait, &s, err, sizeof err)) {
        conn_fatal(why, whylen, cfg->name, "cannot set up the converters", err);
        goto out;
    }
    s.evt = evt_new(&cfg->evt);
    if (cfg->encode_threads > 0 && !(s.encq = encq_new(cfg, cfg->encode_threads, stop, err, sizeof err))) {
        conn_fatal(why, whylen, cfg->name, "cannot start the encoder threads", err);
        goto out;
    }
    if (s.encq)
        log_info("encoder threads started", "connector=%s threads=%d", cfg->name, cfg->encode_threads);
    {
        /* snapshot: what to read before (or while) streaming */
        snap_hooks_t hk = { .ctx = &s, .drain = snap_drain, .txn_ensure = snap_txn_ensure, .chunk_done = snap_chunk_done, .service = snap_service,
                             .publish = snap_publish, .send = snap_send, .lanes = snap_lanes, .lane = snap_lane };
        txn_snap_hooks_t th = { .ctx = &s, .offsets = snap_offsets_hook, .committed = snap_committed_hook,
                                .rewound = snap_rewound_hook };
        s.snap = snap_new(cfg, s.types, s.evt, &hk);
        txn_set_snap_hooks(s.txn, &th);
        bool no_data = strcmp(cfg->snapshot_mode, "no_data") == 0 || strcmp(cfg->snapshot_mode, "never") == 0;
        char *state = txn_take_snap_state(s.txn, false), *inc = txn_take_snap_state(s.txn, true);
        if (stored->found && stored->snapshot && !stored->snapshot_completed && !no_data) {
            if (state)
                s.snap_resume = xstrdup(state);
            else
                s.snap_needed = true;   /* Debezium's offsets mid-snapshot: read everything again */
        } else if (!no_data && (!stored->found || strcmp(cfg->snapshot_mode, "always") == 0)) {
            s.snap_needed = true;
        }
        /* Debezium's SnapshotSkipped: this run reads no initial snapshot */
        atomic_store(&s.met->snap_skipped, !s.snap_needed && !s.snap_resume);
        atomic_store(&s.met->queue_capacity, cfg->max_queue_size);
        /* incremental snapshots: on signals, and under publication.autocreate.mode=filtered for the tables
         * walcast adds to the publication while it runs (pub_added_snapshot) */
        if (cfg->signal_collection || cfg->signal_kafka || cfg->pub_mode == PUB_FILTERED) {
            s.isnap = snap_new(cfg, s.types, s.evt, &hk);
            snap_set_incremental(s.isnap);
            if (inc)
                s.inc_resume = xstrdup(inc);
            if (cfg->signal_kafka && snap_signal_kafka_open(s.isnap, w, err, sizeof err) != WC_OK) {
                free(state);
                free(inc);
                conn_fatal(why, whylen, cfg->name, "cannot listen for signals on Kafka", err);
                goto out;
            }
        }
        free(state);
        free(inc);
        /* snapshot.mode=initial_only with stored offsets and no snapshot to finish (a completed snapshot's,
         * or a streaming connector's): nothing to read and nothing to stream. Debezium 3.6.1 likewise
         * skips the snapshot (InitialSnapshotter.shouldSnapshotData) and then returns from streamEvents
         * ("Streaming is disabled for snapshot mode initial_only"); it opens no replication connection. */
        if (!s.snap_needed && !s.snap_resume && strcmp(cfg->snapshot_mode, "initial_only") == 0) {
            log_info("snapshot.mode=initial_only: snapshot done, not streaming", "connector=%s reason=\"%s\"", cfg->name,
                     "offsets are stored and hold no unfinished snapshot");
            *stop = 1;
        }
    }
    int backoff_ms = 1000;
    while (!*stop) {
        int64_t started = repl_clock_us();
        st = session(&s, err, sizeof err);
        if (st == WC_OK)
            break;
        if (st == WC_FATAL || st == WC_PERMANENT) {
            conn_fatal(why, whylen, cfg->name, "connector failed", err);
            goto out;
        }
        if (*stop) {
            log_info("stopped while waiting", "connector=%s reason=\"%s\"", cfg->name, log_esc(err));
            break;
        }
        if (repl_clock_us() - started > 60 * 1000000LL)
            backoff_ms = 1000;
        if (repl_slot_busy())
            backoff_ms = 500;   /* a slot being handed over from another worker: taken as soon as it is free */
        log_error("replication interrupted; reconnecting", "connector=%s error=\"%s\" retry_in_ms=%d", cfg->name, log_esc(err),
                  backoff_ms);
        for (int waited = 0; waited < backoff_ms && !*stop; waited += 100)
            txn_poll(s.txn, 100, err, sizeof err);
        backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    }
    rc = 0;
    if (cfg->slot_drop_on_stop)
        drop_slot(cfg);
out:
    if (s.pg_early)
        repl_close(&s.repl);   /* opened beside Kafka's start, never used by a session */
    encq_free(s.encq);
    snap_free(s.snap);
    snap_free(s.isnap);
    free(s.snap_resume);
    free(s.inc_resume);
    free(s.pub_added);
    evt_free(s.evt);
    coder_close(&s.coder);
    strm_free(s.strm);
    rel_cache_free(s.rels);
    txn_free(s.txn);
    pgt_catalog_free(s.types);
    arena_free(s.msg_arena);
    met_source_close(s.met);
    return rc;
}
