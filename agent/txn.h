/* txn.h: the Kafka transaction cycle of one source connector: begin, produce, the offset record,
 * the pipelined commit, abort and rewind, and the flush position they make safe to confirm. */
#ifndef WALCAST_TXN_H
#define WALCAST_TXN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/offsets.h"
#include "agent/publisher.h"
#include "schemas/hist.h"
#include "schemas/record.h"
#include "schemas/clock.h"
#include "schemas/status.h"

typedef struct txn txn_t;

/* One transactional producer per connector (transactional.id walcast-<name>): a second instance
 * fences the first. wait is called while the producer queue is full (keep other connections alive). */
txn_t *txn_new(const conn_config_t *cfg, const worker_config_t *w, pub_wait_fn wait, void *wait_ctx, char *err,
               size_t errlen);
void txn_free(txn_t *t);
/* init_transactions, then the newest stored offsets (read_committed). WC_RETRY when told to stop. */
wc_status_t txn_start(txn_t *t, volatile sig_atomic_t *stop, char *err, size_t errlen);

/* The newest offset committed to Kafka (found=false: none). */
const off_pos_t *txn_stored(const txn_t *t);
/* What the next commit records: the caller advances it as source transactions end. */
off_pos_t *txn_pending(txn_t *t);
/* Forgets the stored offsets (a new start was asked for). */
void txn_forget_stored(txn_t *t);
/* Everything up to it is committed with its offset record: the slot may be confirmed to it. */
uint64_t txn_flushed(const txn_t *t);
/* Nothing of ours lies before lsn (the slot's confirmed position when no offsets are stored). */
void txn_flushed_at_least(txn_t *t, uint64_t lsn);
/* The database the offsets belong to, written into each offset record. */
void txn_set_origin(txn_t *t, const char *system_id, uint32_t timeline);

/* Opens a Kafka transaction unless one is open; while a commit runs, on the next producer (pipelined: its
 * records are produced once the committing transaction's are all acknowledged, see txn.c). */
wc_status_t txn_ensure(txn_t *t, char *err, size_t errlen);
wc_status_t txn_send(txn_t *t, const rec_t *r, char *err, size_t errlen);
/* Is a commit due at a source-transaction boundary (walcast.transaction.max.ms / .max.events, or
 * min.ms once caught up)? Also lowers *deadline_us to when it will be due. */
bool txn_due(const txn_t *t, bool caught_up, int64_t now_us, int64_t *deadline_us);
/* The open transaction holds the events of a streamed source transaction (txn_note_source_commit since its
 * begin), not only snapshot rows or heartbeats. */
bool txn_holds_source(const txn_t *t);
/* Commits the open transaction with the offset record of txn_pending, after collecting a running commit
 * (waiting for it); the commit runs in the background unless block. */
wc_status_t txn_commit(txn_t *t, bool block, char *err, size_t errlen);
/* Collects the outcome of a background commit once it has ended (waits for it if block). On failure the
 * caller must txn_rewind: nothing commits after a failed commit. */
wc_status_t txn_collect(txn_t *t, bool block, char *err, size_t errlen);
/* Keeps librdkafka's queue (and so memory) under max records while a replay outruns Kafka. */
void txn_throttle(txn_t *t, int max_queued, volatile sig_atomic_t *stop);
/* Serves delivery reports; a failed record is reported here, classified (WC_ABORT/WC_PERMANENT). */
wc_status_t txn_poll(txn_t *t, int timeout_ms, char *err, size_t errlen);
/* After a failure classified cause (err holds its text): keep what a finished commit stored, abort
 * the open transaction, drop records kept for the next one, start a new producer when the broker
 * expired ours. Returns what the connector must do now: WC_RETRY (reconnect and go on from the stored
 * offsets) or WC_FATAL / WC_PERMANENT (stop; err names the cause). */
wc_status_t txn_rewind(txn_t *t, wc_status_t cause, char *err, size_t errlen);
/* Lanes (the initial snapshot, walcast's rows of distinct keys): on, a second Kafka transaction is open at
 * once on another producer, so two producers send at once (librdkafka 2.0.2 sends one request at a time per
 * partition and producer); commits stay one after the other. On waits until everything sent so far is in
 * the log; off commits the other lane's transaction (after the one running) and holds what follows until
 * it is in the log. txn_rewind and txn_shutdown end them too (the other lane's transaction aborted). */
wc_status_t txn_set_lanes(txn_t *t, bool on, char *err, size_t errlen);
/* With lanes on, makes lane (0 or 1) the one txn_ensure, txn_send, txn_due, txn_commit and txn_throttle
 * act on. */
void txn_lane(txn_t *t, int lane);
/* Requested stop: commits (or, mid source transaction, aborts) what is open. */
void txn_shutdown(txn_t *t, bool mid_source_txn);

/* Snapshots (agent/snapshot.c): offsets fills the snapshot keys of each offset record just before it
 * is written; committed follows the commit that held them, rewound a failure (txn_rewind). */
typedef struct txn_snap_hooks {
    void *ctx;
    /* lane: the lane whose transaction commits (0 without lanes): only its chunks are named committed */
    void (*offsets)(void *ctx, int lane, off_pos_t *pending);
    void (*committed)(void *ctx);
    void (*rewound)(void *ctx);
} txn_snap_hooks_t;
void txn_set_snap_hooks(txn_t *t, const txn_snap_hooks_t *h);
/* The stored offsets' walcast_snapshot (incremental: walcast_incremental) state, handed over to the
 * caller (malloc'd, or NULL) and cleared here. */
char *txn_take_snap_state(txn_t *t, bool incremental);

bool txn_open(const txn_t *t);
/* Its producers send small batches: a batch was refused as too large, by this txn_t or an earlier one of the
 * same connector name in this process. */
bool txn_small_batches(const txn_t *t);
/* A commit runs (or its failure awaits txn_rewind). */
bool txn_committing(const txn_t *t);
/* Reading pauses while a commit runs and the records kept for the pipelined transaction (the committing
 * one's not all acknowledged yet) exceed their bound. */
bool txn_held(const txn_t *t);
/* Bytes of the records kept for the pipelined transaction (for a caller with a tighter bound: snapshots). */
size_t txn_deferred_bytes(const txn_t *t);
/* Bytes all the producers hold allocated for kept records (peak RSS: only the one keeping records now is large). */
size_t txn_deferred_allocated(const txn_t *t);
/* Readable when txn_poll / txn_collect have work (see pub_wake_fd). */
int txn_wake_fd(const txn_t *t);
/* The transactional.id of the producer whose transaction is open (or opens next): walcast-<name>,
 * walcast-<name>/1 and walcast-<name>/2 take turns, one Kafka transaction each (see txn.c). */
const char *txn_transactional_id(const txn_t *t);

/* GET /metrics: src_to_kafka gets, per source transaction, the time from its commit (Unix epoch us, as
 * noted by txn_note_source_commit) to the commit of the Kafka transaction holding it; commit gets each
 * Kafka commit's duration. Either may be NULL. */
void txn_set_hists(txn_t *t, hist_t *src_to_kafka, hist_t *commit);
/* A source transaction (xid) committed at commit_us (Unix epoch us) ended in the open Kafka transaction
 * (also for the latency trace, see src_commit_done). */
void txn_note_source_commit(txn_t *t, int64_t commit_us, uint32_t xid);

/* The start's marks (wall_us 0: not yet): the offsets reader opened (while the producers are fenced),
 * every producer's InitProducerId answered, the stored offsets read, the first record handed to a producer. */
typedef struct txn_start_times {
    wc_mark_t reader_open, ready, offsets, first_record;
} txn_start_times_t;
txn_start_times_t txn_start_times(const txn_t *t);

typedef struct txn_stats {
    uint64_t commits, records;
    int64_t slowest_commit_us;
    int in_flight;
} txn_stats_t;
txn_stats_t txn_stats(const txn_t *t);

#endif
