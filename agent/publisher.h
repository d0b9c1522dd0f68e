/* publisher.h: the librdkafka producer: idempotent, zstd by default, keyed records with headers,
 * delivery reports turned into per-record acknowledgements; optionally hosts the embedded mock cluster. */
#ifndef WALCAST_PUBLISHER_H
#define WALCAST_PUBLISHER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "decoder/event.h"

typedef struct pub pub_t;

/* Called from pub_poll/pub_flush (the caller's thread) once per record: err 0 on success; on failure
 * errstr names the topic, the key and the size, and permanent says that sending the same record
 * again cannot work (too large, not authorised, refused as invalid): stop, do not rewind. */
typedef void (*pub_ack_fn)(void *ctx, uint64_t tag, int err, bool permanent, const char *errstr);
/* Called while the producer queue is full, so the caller can keep other connections alive. */
typedef void (*pub_wait_fn)(void *ctx);

/* transactional_id: NULL for a plain idempotent producer; else call pub_txn_init before use. */
pub_t *pub_new(const worker_config_t *w, const char *client_id, const char *transactional_id, pub_ack_fn ack,
               pub_wait_fn wait, void *ctx, char *err, size_t errlen);
void pub_free(pub_t *p);
/* Queues one record; on a full queue polls (and calls wait) until there is room. -1 on an error
 * that may pass (abort and rewind), -2 on one that cannot (the record is refused for good). */
int pub_send(pub_t *p, const evt_record_t *r, uint64_t tag, char *err, size_t errlen);
void pub_poll(pub_t *p, int timeout_ms);
/* Waits until every queued record is acknowledged; -1 on timeout. */
int pub_flush(pub_t *p, int timeout_ms);
int pub_outstanding(const pub_t *p);

/* librdkafka's error triage for transactions (INTRODUCTION.md): unclassified errors count as fatal. */
typedef enum { PUB_OK = 0, PUB_ABORTABLE = 1, PUB_FATAL = 2, PUB_PENDING = 3 } pub_status_t;

/* init_transactions (fences any older producer with the same transactional.id), retried every 5 s
 * while Kafka is unreachable and *stop is unset. */
pub_status_t pub_txn_init(pub_t *p, volatile sig_atomic_t *stop, char *err, size_t errlen);
pub_status_t pub_txn_begin(pub_t *p, char *err, size_t errlen);
/* Pipelined commit: produces the offset record, then commits on a background thread. Until
 * pub_txn_commit_wait reports the outcome, pub_send keeps records in memory (the caller bounds
 * them with pub_deferred_bytes); pub_txn_begin produces them into the next transaction. */
pub_status_t pub_txn_commit_start(pub_t *p, const char *offset_topic, const buf_t *key, const buf_t *value,
                                  char *err, size_t errlen);
/* PUB_PENDING while the commit runs (block=false); the commit's outcome once it ended. On failure
 * the transaction counts as open again and must be aborted. */
pub_status_t pub_txn_commit_wait(pub_t *p, bool block, char *err, size_t errlen);
bool pub_txn_committing(const pub_t *p);
/* Records kept for the next transaction, and dropping them (rewind after a failure). */
size_t pub_deferred(const pub_t *p);
size_t pub_deferred_bytes(const pub_t *p);
void pub_discard_deferred(pub_t *p);
/* Aborts the open transaction; PUB_FATAL if even that fails; PUB_ABORTABLE when told to stop while
 * Kafka is away (the transaction is left for the broker to abort). */
pub_status_t pub_txn_abort(pub_t *p, char *err, size_t errlen);
bool pub_txn_open(const pub_t *p);
/* True when the open (or committing) transaction began longer ago than transaction.timeout.ms: the
 * broker has aborted it and bumped the producer epoch itself, so a "fenced" answer means our own
 * stall (a long Kafka outage, a frozen process), not another instance: a new producer may go on. */
bool pub_txn_expired(const pub_t *p);

#endif
