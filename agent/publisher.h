/* publisher.h: the librdkafka producer: idempotent, zstd by default, keyed records with headers,
 * delivery reports turned into per-record acknowledgements; optionally hosts the embedded mock cluster. */
#ifndef WALCAST_PUBLISHER_H
#define WALCAST_PUBLISHER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "schemas/record.h"
#include "schemas/status.h"
#include "schemas/tracking.h"

typedef struct pub pub_t;

/* Called from pub_poll/pub_flush (the caller's thread) once per record: WC_OK on success; on failure
 * errstr names the topic, the key and the size, and the status says what may help: WC_ABORT (abort
 * and rewind) or WC_PERMANENT (the same record cannot work again: too large, not authorised, refused
 * as invalid; stop, do not rewind). */
typedef void (*pub_ack_fn)(void *ctx, uint64_t tag, wc_status_t st, const char *errstr);
/* Called while the producer queue is full, so the caller can keep other connections alive. */
typedef void (*pub_wait_fn)(void *ctx);

/* A batch's bytes before compression (librdkafka's batch.size, README Batching) by default, and after a batch
 * was refused as too large (pub_batch_refused); also walcast's default limit on one record. */
#define PUB_BATCH_BYTES 4000000
#define PUB_SMALL_BATCH 1000000
/* librdkafka's message.copy.max.bytes for walcast's producers: larger values are not copied into the batch
 * (see pub_new) */
#define PUB_COPY_MAX "1024"

/* transactional_id: NULL for a plain idempotent producer; else call pub_txn_init before use. */
pub_t *pub_new(const worker_config_t *w, const char *client_id, const char *transactional_id, pub_ack_fn ack,
               pub_wait_fn wait, void *ctx, char *err, size_t errlen);
/* The same; small_batches: batches of PUB_SMALL_BATCH (unless producer.batch.size says otherwise). */
pub_t *pub_new_batches(const worker_config_t *w, const char *client_id, const char *transactional_id,
                       bool small_batches, pub_ack_fn ack, pub_wait_fn wait, void *ctx, char *err, size_t errlen);
void pub_free(pub_t *p);
/* Topic tracking: h->seen is called (on the sending thread) for each topic records are sent to, once per
 * epoch of h (copied; NULL: off). */
void pub_set_topic_hook(pub_t *p, const wc_topic_hook_t *h);
/* Queues one record; on a full queue polls (and calls wait) until there is room. WC_ABORT on an
 * error that may pass (abort and rewind), WC_PERMANENT on one that cannot (refused for good). */
wc_status_t pub_send(pub_t *p, const rec_t *r, uint64_t tag, char *err, size_t errlen);
/* Serves delivery reports (and clears the wake-up descriptor). */
void pub_poll(pub_t *p, int timeout_ms);
/* Readable when pub_poll has work (delivery reports waiting) or a background commit has ended: a
 * caller's poll(2) loop watches it beside its sockets instead of waking on a fixed period. */
int pub_wake_fd(const pub_t *p);
/* Another producer's descriptor (the caller watches one for both; see txn.c's two producers); fd must
 * outlive p. */
void pub_set_wake_fd(pub_t *p, int fd);
/* Its transactional.id (NULL when not transactional). */
const char *pub_transactional_id(const pub_t *p);
/* A metadata request (all topics) within timeout_ms: WC_OK with the cluster's broker and topic counts,
 * WC_RETRY when no broker answered (err says why). */
wc_status_t pub_metadata(pub_t *p, int timeout_ms, int *nbrokers, int *ntopics, char *err, size_t errlen);
/* Waits until every queued record is acknowledged; -1 on timeout. */
int pub_flush(pub_t *p, int timeout_ms);
/* Waits for a delivery report, and when none came what is queued is sent now whatever linger.ms: for a
 * caller that waits until fewer records are outstanding (with linger.ms=500 and many partitions no batch
 * fills, and the wait would last the linger). Not a flush every time: see make_room in publisher.c. */
void pub_push(pub_t *p, int timeout_ms);
int pub_outstanding(const pub_t *p);
/* The producer's value of a librdkafka setting as it took it (defaults and producer.* applied); -1 if unknown. */
int pub_setting(const pub_t *p, const char *key, char *out, size_t outlen);

/* Transactions follow librdkafka's error triage (INTRODUCTION.md): retriable errors are retried here,
 * "requires abort" is WC_ABORT, everything else (fenced, unclassified) WC_FATAL. */
/* init_transactions (fences any older producer with the same transactional.id), retried while Kafka is
 * unreachable and *stop is unset; WC_RETRY within 200 ms of *stop being set. Then free the producer at
 * once: its unfinished InitProducerId, still queued in librdkafka, would be sent when Kafka answers again
 * and fence the producer of whoever runs the connector by then. err is left as it was on success. */
wc_status_t pub_txn_init(pub_t *p, volatile sig_atomic_t *stop, char *err, size_t errlen);
/* One attempt of init_transactions within timeout_ms: WC_RETRY when it may pass (Kafka unreachable, the
 * coordinator not ready), else as pub_txn_init. */
wc_status_t pub_txn_init_once(pub_t *p, int timeout_ms, char *err, size_t errlen);
wc_status_t pub_txn_begin(pub_t *p, char *err, size_t errlen);
/* Pipelined commit: produces the offset record, then commits on a background thread. Until
 * pub_txn_commit_wait reports the outcome, pub_send keeps records in memory (the caller bounds
 * them with pub_deferred_bytes); pub_txn_begin produces them into the next transaction. */
wc_status_t pub_txn_commit_start(pub_t *p, const char *offset_topic, const buf_t *key, const buf_t *value,
                                  char *err, size_t errlen);
/* An offset record produced into the open transaction at once, even while it is held (pub_txn_hold):
 * txn.c registers the offsets partition with each transaction early this way (see struct txn). */
wc_status_t pub_txn_offset(pub_t *p, const char *offset_topic, const buf_t *key, const buf_t *value, char *err,
                           size_t errlen);
/* The last commit's moments (Unix epoch us, for the latency trace): commit_transaction called (the
 * offset record produced), the last delivery report before its end, its end; and how many times
 * commit_transaction was called for it (1 unless Kafka was away: see commit_blocking). Read after
 * pub_txn_commit_wait. */
typedef struct pub_commit_times {
    int64_t start_us, flushed_us, committed_us;
    int api_calls;
} pub_commit_times_t;
pub_commit_times_t pub_txn_commit_times(const pub_t *p);
/* True once the running commit has ended (or none runs): pub_txn_commit_wait will not block. */
bool pub_txn_commit_ready(const pub_t *p);
/* Waits for the running commit and returns its outcome. On failure the transaction counts as open
 * again and must be aborted. */
wc_status_t pub_txn_commit_wait(pub_t *p, char *err, size_t errlen);
bool pub_txn_committing(const pub_t *p);
/* Held (the previous transaction, on another producer, still has records without a delivery report):
 * records sent are kept in memory instead of produced, so none can reach a partition's log before the
 * previous transaction's. Released, the kept ones are produced into the open transaction at once. */
wc_status_t pub_txn_hold(pub_t *p, bool hold, char *err, size_t errlen);
bool pub_txn_held(const pub_t *p);
/* Every record produced so far (the offset record of a running commit too) has its delivery report:
 * it is in its partition's log. While a commit runs, the last report also wakes pub_wake_fd. */
bool pub_txn_delivered(const pub_t *p);
/* Records kept for the next transaction, and dropping them (rewind after a failure). */
size_t pub_deferred(const pub_t *p);
size_t pub_deferred_bytes(const pub_t *p);
/* The bytes its buffer holds allocated (kept for the next records to keep, see pub_swap_deferred) */
size_t pub_deferred_allocated(const pub_t *p);
/* A batch of this producer's was refused by the broker as too large while it sent batches larger than
 * PUB_SMALL_BATCH (its records were reported WC_ABORT, not WC_PERMANENT): the records go again through a
 * producer made with small_batches (txn.c, txn_rewind). */
bool pub_batch_refused(const pub_t *p);
/* Waits for room in a full producer queue (or pub_push) since the producer was made, and how many of them
 * ended in a flush because no delivery report came (each flush spins librdkafka 2.0.2's broker thread). */
void pub_room_counts(const pub_t *p, uint64_t *waits, uint64_t *flushes);
/* Swaps the two producers' buffers for kept records, when neither keeps any: txn.c hands the one buffer
 * grown to the bound of kept records on to the producer whose turn comes (peak RSS, issue 21). */
void pub_swap_deferred(pub_t *a, pub_t *b);
void pub_discard_deferred(pub_t *p);
/* Aborts the open transaction; WC_FATAL if even that fails; WC_RETRY when told to stop while Kafka
 * is away (the transaction is left for the broker to abort). */
wc_status_t pub_txn_abort(pub_t *p, char *err, size_t errlen);
bool pub_txn_open(const pub_t *p);
/* True when the open (or committing) transaction began longer ago than transaction.timeout.ms: the
 * broker has aborted it and bumped the producer epoch itself, so a "fenced" answer means our own
 * stall (a long Kafka outage, a frozen process), not another instance: a new producer may go on. */
bool pub_txn_expired(const pub_t *p);

#endif
