/* streamed.c: Stream Start/Stop/Abort/Commit of pgoutput protocol 2 over spill.c. Kept messages are
 * parsed once, at replay, into this module's arena; the transaction's begin is handed over before
 * its first message and its commit after the last, so nothing synthetic is built. */
#include "agent/streamed.h"

#include <stdio.h>
#include <stdlib.h>

#include "agent/log.h"

/* Messages replayed between two progress calls. */
#define STRM_PROGRESS_EVERY 4096

struct strm {
    spl_store_t *spill;
    strm_ops_t ops;
    void *ctx;
    int proto_version;
    arena_t *arena;               /* one replayed message at a time */
    uint32_t xid;                 /* inside a Stream Start/Stop block: its top-level xid */
    /* the replay under way */
    uint32_t replay_xid;
    uint64_t commit_lsn;
    int64_t commit_time;
    bool began;
    uint64_t replayed;
    uint64_t replayed_txns, skipped_txns;
};

strm_t *strm_new(const char *spill_dir, size_t mem_limit, int proto_version, const strm_ops_t *ops, void *ctx,
                 char *err, size_t errlen)
{
    spl_store_t *sp = spl_new(spill_dir, mem_limit, err, errlen);
    if (!sp)
        return NULL;
    strm_t *s = xcalloc(1, sizeof *s);
    s->spill = sp;
    s->ops = *ops;
    s->ctx = ctx;
    s->proto_version = proto_version;
    s->arena = arena_new(64 * 1024);
    return s;
}

void strm_free(strm_t *s)
{
    if (!s)
        return;
    spl_free(s->spill);
    arena_free(s->arena);
    free(s);
}

void strm_reset(strm_t *s)
{
    s->xid = 0;
    spl_reset(s->spill);
}

strm_stats_t strm_stats(const strm_t *s)
{
    return (strm_stats_t){ .replayed_txns = s->replayed_txns, .skipped_txns = s->skipped_txns,
                           .spill = spl_stats(s->spill) };
}

static wc_status_t replay_one(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
    strm_t *s = ctx;
    wc_status_t st;
    if (!s->began) {
        s->began = true;
        if ((st = s->ops.begin(s->ctx, s->replay_xid, s->commit_lsn, s->commit_time, lsn, err, errlen)) != WC_OK)
            return st;
    }
    if ((++s->replayed % STRM_PROGRESS_EVERY) == 0 &&
        (st = s->ops.progress(s->ctx, s->replay_xid, err, errlen)) != WC_OK)
        return st;
    pgo_state_t ps = { .proto_version = s->proto_version, .in_stream = true };
    pgo_msg_t m;
    arena_reset(s->arena);
    if (pgo_parse(&ps, msg, len, s->arena, &m, err, errlen) < 0)
        return WC_RETRY;   /* kept bytes the parser took once already: damaged in memory or on disk */
    return s->ops.message(s->ctx, &m, lsn, err, errlen);
}

/* Stream Commit: the kept messages become one ordinary source transaction. */
static wc_status_t commit(strm_t *s, const pgo_msg_t *m, char *err, size_t errlen)
{
    uint32_t xid = m->xid;
    uint64_t commit_lsn = m->u.commit.commit_lsn, end_lsn = m->u.commit.end_lsn;
    int64_t commit_time = m->u.commit.commit_time;
    if (s->ops.published(s->ctx, commit_lsn)) {
        spl_abort(s->spill, xid, xid);
        s->skipped_txns++;
        return WC_OK;
    }
    s->replay_xid = xid;
    s->commit_lsn = commit_lsn;
    s->commit_time = commit_time;
    s->began = false;
    s->replayed = 0;
    wc_status_t st = spl_replay(s->spill, xid, replay_one, s, err, errlen);
    if (st != WC_OK)
        return st;
    /* nothing of it was kept (no captured change): still a transaction, as Debezium sees it */
    if (!s->began && (st = s->ops.begin(s->ctx, xid, commit_lsn, commit_time, commit_lsn, err, errlen)) != WC_OK)
        return st;
    log_debug("streamed transaction replayed", "xid=%u messages=%llu", xid, (unsigned long long)s->replayed);
    s->replayed_txns++;
    return s->ops.commit(s->ctx, xid, commit_lsn, end_lsn, commit_time, err, errlen);
}

wc_status_t strm_take(strm_t *s, const pgo_msg_t *m, uint64_t lsn, const uint8_t *raw, size_t rawlen, bool *taken,
                      char *err, size_t errlen)
{
    *taken = true;
    switch (m->type) {
    case PGO_STREAM_START:
        s->xid = m->xid;
        return WC_OK;
    case PGO_STREAM_STOP:
        s->xid = 0;
        return WC_OK;
    case PGO_STREAM_ABORT:
        spl_abort(s->spill, m->xid, m->u.stream_abort.subxid);
        return WC_OK;
    case PGO_STREAM_COMMIT:
        return commit(s, m, err, errlen);
    case PGO_MESSAGE:
        if (!(m->u.message.flags & PGO_MESSAGE_TRANSACTIONAL))
            break;           /* non-transactional: published at once */
        /* fall through */
    case PGO_INSERT:
    case PGO_UPDATE:
    case PGO_DELETE:
    case PGO_TRUNCATE:
    case PGO_RELATION:
    case PGO_TYPE:
    case PGO_ORIGIN:
        if (!s->xid)
            break;
        /* A Relation is installed at once as well as kept for the replay: once a streamed
         * transaction commits, pgoutput counts its Relation messages as sent for later ordinary
         * transactions too, so walcast must know them even when it drops that transaction as already
         * published (its changes are not decoded then). Concurrent changes of a table whose shape a
         * streamed transaction alters cannot happen: ALTER TABLE holds its lock until commit. */
        if (m->type == PGO_RELATION) {
            wc_status_t st = s->ops.relation(s->ctx, m, err, errlen);
            if (st != WC_OK)
                return st;
        }
        return spl_append(s->spill, s->xid, m->xid ? m->xid : s->xid, lsn, raw, rawlen, err, errlen) < 0 ? WC_RETRY
                                                                                                            : WC_OK;
    default:
        break;
    }
    *taken = false;
    return WC_OK;
}
