/* streamed.h: large transactions that pgoutput streams before they commit (protocol 2): their
 * messages are kept in the spill store and replayed as one ordinary transaction at Stream Commit. */
#ifndef WALCAST_STREAMED_H
#define WALCAST_STREAMED_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/spill.h"
#include "decoder/pgoutput.h"
#include "schemas/status.h"

/* What a replay drives, in order: begin, each kept message, commit. */
typedef struct strm_ops {
    /* Already published before a restart (commit_lsn below the stored offsets): dropped unreplayed. */
    bool (*published)(void *ctx, uint64_t commit_lsn);
    wc_status_t (*begin)(void *ctx, uint32_t xid, uint64_t final_lsn, int64_t commit_time, uint64_t lsn, char *err,
                         size_t errlen);
    wc_status_t (*message)(void *ctx, const pgo_msg_t *m, uint64_t lsn, char *err, size_t errlen);
    wc_status_t (*commit)(void *ctx, uint32_t xid, uint64_t commit_lsn, uint64_t end_lsn, int64_t commit_time,
                          char *err, size_t errlen);
    /* A Relation message inside a stream: installed at once (see streamed.c). */
    wc_status_t (*relation)(void *ctx, const pgo_msg_t *m, char *err, size_t errlen);
    /* Every few thousand replayed messages: status updates, commits, queue bounds, stop requests. */
    wc_status_t (*progress)(void *ctx, uint32_t xid, char *err, size_t errlen);
} strm_ops_t;

typedef struct strm strm_t;

strm_t *strm_new(const char *spill_dir, size_t mem_limit, int proto_version, const strm_ops_t *ops, void *ctx,
                 char *err, size_t errlen);
void strm_free(strm_t *s);
/* A new replication connection: the server streams in-progress transactions again from their start. */
void strm_reset(strm_t *s);
/* Offers one decoded message (cd: its raw bytes and LSN). Stream control and messages inside a
 * Stream Start/Stop block are taken (*taken = true); anything else is the caller's to handle. */
wc_status_t strm_take(strm_t *s, const pgo_msg_t *m, uint64_t lsn, const uint8_t *raw, size_t rawlen, bool *taken,
                      char *err, size_t errlen);

typedef struct strm_stats {
    uint64_t replayed_txns, skipped_txns;
    spl_stats_t spill;
} strm_stats_t;
strm_stats_t strm_stats(const strm_t *s);

#endif
