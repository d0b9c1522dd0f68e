/* encq.h: the encoder threads of a source connector's stream (walcast.encode.threads). The read
 * thread decodes; each record it builds is copied into a bounded ring in stream order; encoder threads
 * run the transforms and the converter on them; the read thread sends the encoded records in the same
 * order it queued them, so what reaches Kafka (per key, per partition, per transaction) is exactly
 * what encoding on the read thread would produce. Reading and decoding, encoding, and producing
 * (librdkafka's threads) overlap. */
#ifndef WALCAST_ENCQ_H
#define WALCAST_ENCQ_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "schemas/record.h"
#include "schemas/status.h"

typedef struct encq encq_t;

/* Sends one encoded record (the read thread's Kafka transaction). */
typedef wc_status_t (*encq_send_fn)(void *ctx, const rec_t *r, char *err, size_t errlen);
/* Called about every 50 ms while the read thread waits for an encoder: keep other connections alive. */
typedef void (*encq_wait_fn)(void *ctx);

/* nthreads >= 1 encoder threads, each with its own converter, registry clients (Avro) and transform
 * chain; records of one schema (a table version) always go to the same thread, so a schema's converter
 * caches have one writer. *stop ends registry waits. NULL with err on failure. */
encq_t *encq_new(const conn_config_t *cfg, int nthreads, volatile sig_atomic_t *stop, char *err, size_t errlen);
/* Stops the threads; what is queued is dropped. */
void encq_free(encq_t *q);
/* Queues the n records of one decoder call (copied with everything they point to but their schemas,
 * their topic's table and its converter caches, which must live until the records are sent: drain
 * before a table version is replaced). While the queue is full (by records or bytes) it sends what is
 * encoded, waiting for the encoders meanwhile. */
wc_status_t encq_push(encq_t *q, const rec_event_t *ev, size_t n, encq_send_fn send, encq_wait_fn wait, void *ctx,
                      char *err, size_t errlen);
/* Sends the records encoded so far, in queue order, without waiting. A record an encoder failed on
 * stops it: its status and text are returned (it stays queued until encq_reset). */
wc_status_t encq_send_ready(encq_t *q, encq_send_fn send, void *ctx, char *err, size_t errlen);
/* Sends everything queued, waiting for the encoders (they always finish: on *stop a registry wait ends
 * with an error, returned here). */
wc_status_t encq_drain(encq_t *q, encq_send_fn send, encq_wait_fn wait, void *ctx, char *err, size_t errlen);
/* Drops everything queued (after a failure: the Kafka transaction is aborted and the slot resent). */
void encq_reset(encq_t *q);
bool encq_empty(const encq_t *q);
/* Records a transform failed on and that were skipped (errors.tolerance=all). */
uint64_t encq_skipped(const encq_t *q);

#endif
