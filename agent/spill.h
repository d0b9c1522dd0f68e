/* spill.h: in-progress transactions streamed by pgoutput (protocol 2), kept until their Stream Commit:
 * in memory up to a budget, beyond it in zstd-compressed files; subtransaction aborts cut them short. */
#ifndef WALCAST_SPILL_H
#define WALCAST_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/status.h"

typedef struct spl_store spl_store_t;

/* dir: where spill files go (created if missing); mem_limit: bytes kept in memory over all
 * transactions before the largest one is compressed to its file. */
spl_store_t *spl_new(const char *dir, size_t mem_limit, char *err, size_t errlen);
void spl_free(spl_store_t *s);

/* Appends one pgoutput message of top-level transaction xid, made by (sub)transaction subxid. */
int spl_append(spl_store_t *s, uint32_t xid, uint32_t subxid, uint64_t lsn, const uint8_t *msg, size_t len,
               char *err, size_t errlen);
/* Stream Abort: subxid == xid drops the transaction; else that subtransaction and everything after it. */
void spl_abort(spl_store_t *s, uint32_t xid, uint32_t subxid);

typedef wc_status_t (*spl_replay_fn)(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len, char *err, size_t errlen);
/* Stream Commit: hands every kept message of xid to fn in order, then drops the transaction. A
 * transaction never seen (nothing of it captured) replays nothing. fn's status ends the replay; a
 * damaged or unreadable spill file is WC_RETRY (the server streams the transaction again). */
wc_status_t spl_replay(spl_store_t *s, uint32_t xid, spl_replay_fn fn, void *ctx, char *err, size_t errlen);
/* Drops everything (reconnect: the server streams in-progress transactions again). */
void spl_reset(spl_store_t *s);

typedef struct spl_stats {
    size_t mem_bytes;         /* kept in memory now */
    size_t peak_mem_bytes;
    uint64_t spilled_bytes;   /* uncompressed bytes written to files, ever */
    uint64_t file_bytes;      /* compressed bytes written, ever */
    size_t open_txns;
} spl_stats_t;
spl_stats_t spl_stats(const spl_store_t *s);

#endif
