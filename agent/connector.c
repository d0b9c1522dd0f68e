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
#include "agent/publisher.h"
#include "agent/replication.h"
#include "decoder/event.h"
#include "decoder/pgoutput.h"

/* One source transaction in flight: done once COMMIT is seen, flushable once nothing is pending. */
typedef struct trk {
    uint64_t end_lsn;
    uint32_t pending;
    bool done;
} trk_t;

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

    uint64_t received_lsn;        /* write position reported to the server */
    uint64_t flushed_lsn;         /* everything before it is acknowledged by Kafka */
    uint64_t last_commit_lsn;     /* for source.sequence */
    bool in_txn;
    uint32_t xid;
    int64_t commit_time_us;       /* Unix epoch */

    trk_t *trk;
    size_t trk_cap;
    uint64_t trk_head, trk_tail;  /* live trackers are [head, tail) */
    uint64_t cur_trk;

    bool delivery_failed;
    char delivery_err[256];
    int64_t next_status_us;
    int64_t next_log_us;
    uint64_t events_sent, txns;
} conn_state_t;

static int64_t now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static trk_t *trk_at(conn_state_t *s, uint64_t seq) { return &s->trk[seq & (s->trk_cap - 1)]; }

static uint64_t trk_push(conn_state_t *s)
{
    if (s->trk_tail - s->trk_head == s->trk_cap) {
        size_t ncap = s->trk_cap * 2;
        trk_t *n = malloc(ncap * sizeof *n);
        if (!n)
            abort();
        for (uint64_t q = s->trk_head; q < s->trk_tail; q++)
            n[q & (ncap - 1)] = *trk_at(s, q);
        free(s->trk);
        s->trk = n;
        s->trk_cap = ncap;
    }
    uint64_t seq = s->trk_tail++;
    trk_t *t = trk_at(s, seq);
    t->end_lsn = 0;
    t->pending = 0;
    t->done = false;
    return seq;
}

static void trk_advance(conn_state_t *s)
{
    while (s->trk_head < s->trk_tail) {
        trk_t *t = trk_at(s, s->trk_head);
        if (!t->done || t->pending)
            break;
        if (t->end_lsn > s->flushed_lsn)
            s->flushed_lsn = t->end_lsn;
        s->trk_head++;
    }
}

static void on_ack(void *ctx, uint64_t tag, int err, const char *errstr)
{
    conn_state_t *s = ctx;
    if (tag >= s->trk_head && tag < s->trk_tail) {
        trk_t *t = trk_at(s, tag);
        if (t->pending)
            t->pending--;
    }
    if (err && !s->delivery_failed) {
        s->delivery_failed = true;
        snprintf(s->delivery_err, sizeof s->delivery_err, "Kafka did not accept a record: %s", errstr ? errstr : "?");
    }
}

static void send_status(conn_state_t *s, bool reply)
{
    char err[256];
    if (repl_send_status(&s->repl, s->received_lsn, s->flushed_lsn, reply, err, sizeof err) < 0)
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

static int on_emit(void *ctx, const evt_record_t *r, char *err, size_t errlen)
{
    conn_state_t *s = ctx;
    trk_at(s, s->cur_trk)->pending++;
    if (pub_send(s->pub, r, s->cur_trk, err, errlen) < 0) {
        trk_at(s, s->cur_trk)->pending--;
        return -1;
    }
    s->events_sent++;
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
    evt_pos_t pos = { .xid = s->xid, .commit_time_us = s->commit_time_us, .lsn = cd->data_start,
                      .last_commit_lsn = s->last_commit_lsn, .now_us = now_us() };
    switch (m.type) {
    case PGO_BEGIN:
        s->in_txn = true;
        s->xid = m.xid;
        s->commit_time_us = m.u.begin.commit_time + PGO_EPOCH_OFFSET_US;
        s->cur_trk = trk_push(s);
        return 0;
    case PGO_COMMIT: {
        if (!s->in_txn) {
            snprintf(err, errlen, "pgoutput Commit without Begin at %llX", (unsigned long long)cd->data_start);
            return -1;
        }
        trk_t *t = trk_at(s, s->cur_trk);
        t->end_lsn = m.u.commit.end_lsn;
        t->done = true;
        s->last_commit_lsn = cd->data_start;
        s->in_txn = false;
        s->xid = 0;
        s->commit_time_us = 0;
        s->txns++;
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
        rel_table_t *t = rel_cache_get(s->rels, m.u.change.relid);
        if (!t) {
            snprintf(err, errlen, "pgoutput %s for relation id %u that no Relation message described",
                     pgo_msgtype_name(m.type), m.u.change.relid);
            return -1;
        }
        return evt_change(s->evt, s->msg_arena, &pos, t, &m, err, errlen);
    }
    case PGO_TRUNCATE:
        for (uint32_t i = 0; i < m.u.truncate.nrelids; i++) {
            rel_table_t *t = rel_cache_get(s->rels, m.u.truncate.relids[i]);
            if (t && evt_truncate(s->evt, s->msg_arena, &pos, t, err, errlen) < 0)
                return -1;
        }
        return 0;
    case PGO_MESSAGE: {
        bool transactional = m.u.message.flags & 1;
        if (!transactional) {
            /* outside any transaction: its own tracker, flushable at its LSN once acknowledged */
            uint64_t saved = s->cur_trk;
            s->cur_trk = trk_push(s);
            pos.xid = 0;
            pos.commit_time_us = 0;
            pos.lsn = m.u.message.lsn;
            int rc = evt_message(s->evt, s->msg_arena, &pos, &m, err, errlen);
            trk_t *t = trk_at(s, s->cur_trk);
            t->end_lsn = cd->data_start;
            t->done = true;
            s->cur_trk = saved;
            return rc;
        }
        pos.lsn = m.u.message.lsn;
        return evt_message(s->evt, s->msg_arena, &pos, &m, err, errlen);
    }
    default:
        snprintf(err, errlen, "unexpected pgoutput %s message: walcast did not request streaming or two-phase decoding",
                 pgo_msgtype_name(m.type));
        return -1;
    }
}

static int handle_copydata(conn_state_t *s, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    pgo_copydata_t cd;
    if (pgo_parse_copydata(buf, len, &cd, err, errlen) < 0)
        return -1;
    if (cd.kind == 'k') {
        if (cd.wal_end > s->received_lsn)
            s->received_lsn = cd.wal_end;
        trk_advance(s);
        /* Nothing in flight: the server's position holds nothing left for us to publish. */
        if (!s->in_txn && s->trk_head == s->trk_tail && cd.wal_end > s->flushed_lsn)
            s->flushed_lsn = cd.wal_end;
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
    log_info("streaming", "connector=%s received_lsn=%s flushed_lsn=%s transactions=%llu records=%llu created=%llu updated=%llu deleted=%llu in_flight=%d",
             s->cfg->name, rl, fl, (unsigned long long)s->txns, (unsigned long long)s->events_sent,
             (unsigned long long)st->created, (unsigned long long)st->updated, (unsigned long long)st->deleted,
             pub_outstanding(s->pub));
    s->next_log_us = now_us() + 30 * 1000000LL;
}

/* One connection's lifetime. Returns 0 on requested stop, -1 to reconnect, -2 on a fatal error. */
static int stream_once(conn_state_t *s, char *err, size_t errlen)
{
    int rc = -1;
    if (repl_connect(&s->repl, s->cfg, err, errlen) < 0)
        return s->repl.fatal ? -2 : -1;
    if (repl_prepare(&s->repl, err, errlen) < 0) {
        /* "slot in use" may clear when the previous walsender exits; the rest needs the user */
        rc = s->repl.fatal && !strstr(err, "is in use") ? -2 : -1;
        goto out;
    }
    if (repl_load_types(&s->repl, s->types, err, errlen) < 0)
        goto out;
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    s->pgo.in_stream = false;
    if (s->repl.slot_confirmed > s->flushed_lsn)
        s->flushed_lsn = s->repl.slot_confirmed;
    if (repl_start(&s->repl, 0, err, errlen) < 0)
        goto out;
    char lsn[32];
    pgo_lsn_format(s->repl.slot_confirmed, lsn);
    log_info("replication started", "connector=%s slot=%s publication=%s from_lsn=%s", s->cfg->name,
             s->cfg->slot_name, s->cfg->publication_name, lsn);
    s->next_status_us = now_us() + (int64_t)s->cfg->status_interval_ms * 1000;
    unsigned batch = 0;
    while (!*s->stop) {
        char *buf = NULL;
        int n = PQgetCopyData(s->repl.stream, &buf, 1);
        if (n > 0) {
            int hr = handle_copydata(s, (const uint8_t *)buf, (size_t)n, err, errlen);
            PQfreemem(buf);
            if (hr < 0)
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
        pub_poll(s->pub, 0);
        if (s->delivery_failed) {
            snprintf(err, errlen, "%s", s->delivery_err);
            s->delivery_failed = false;
            goto out;
        }
        trk_advance(s);
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
            struct pollfd pfd = { .fd = PQsocket(s->repl.stream), .events = POLLIN };
            if (poll(&pfd, 1, (int)wait_ms) < 0 && errno != EINTR) {
                snprintf(err, errlen, "poll on the replication socket failed: %s", strerror(errno));
                goto out;
            }
            if (PQconsumeInput(s->repl.stream) == 0) {
                const char *m = PQerrorMessage(s->repl.stream);
                snprintf(err, errlen, "replication connection lost: %.*s", (int)strcspn(m, "\n"), m);
                goto out;
            }
        }
    }
    /* Requested stop: let Kafka acknowledge what is queued, confirm it, end COPY cleanly. */
    if (pub_flush(s->pub, 15000) < 0)
        log_warn("Kafka did not acknowledge every record before shutdown; they will be sent again on restart", "in_flight=%d",
                 pub_outstanding(s->pub));
    pub_poll(s->pub, 0);
    trk_advance(s);
    send_status(s, false);
    repl_stop(&s->repl);
    log_progress(s);
    rc = 0;
out:
    if (rc != 0 && s->in_txn) {
        /* The open transaction will be sent again from the slot; its tracker must not block the queue. */
        trk_at(s, s->cur_trk)->done = true;
        s->in_txn = false;
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
    s.pgo.proto_version = 1;
    s.trk_cap = 1024;
    s.trk = calloc(s.trk_cap, sizeof *s.trk);
    s.msg_arena = arena_new(64 * 1024);
    s.types = pgt_catalog_new();
    s.rels = rel_cache_new(evt_table_free);
    char err[1024];
    int rc = 1;
    char client_id[256];
    snprintf(client_id, sizeof client_id, "walcast-%s", cfg->name);
    s.pub = pub_new(w, client_id, on_ack, on_wait, &s, err, sizeof err);
    if (!s.pub) {
        log_msg(LOG_FATAL, "cannot start the Kafka producer", "connector=%s error=\"%s\"", cfg->name, log_esc(err));
        goto out;
    }
    evt_config_t ec = cfg->evt;
    s.evt = evt_new(&ec, on_emit, &s);
    if (strcmp(cfg->snapshot_mode, "no_data") != 0 && strcmp(cfg->snapshot_mode, "never") != 0)
        log_warn("snapshots are not implemented yet; streaming changes only (as snapshot.mode=no_data)",
                 "connector=%s snapshot.mode=%s", cfg->name, cfg->snapshot_mode);
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
        if (now_us() - started > 60 * 1000000LL)
            backoff_ms = 1000;
        log_error("replication interrupted; reconnecting", "connector=%s error=\"%s\" retry_in_ms=%d", cfg->name, log_esc(err),
                  backoff_ms);
        for (int waited = 0; waited < backoff_ms && !*stop; waited += 100) {
            pub_poll(s.pub, 100);
            trk_advance(&s);
        }
        backoff_ms = backoff_ms * 2 > 30000 ? 30000 : backoff_ms * 2;
    }
    rc = 0;
    if (cfg->slot_drop_on_stop)
        drop_slot(cfg);
out:
    rel_cache_free(s.rels);
    evt_free(s.evt);
    pub_free(s.pub);
    pgt_catalog_free(s.types);
    arena_free(s.msg_arena);
    free(s.trk);
    return rc;
}
