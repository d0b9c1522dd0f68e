/* metrics.h: GET /metrics, the Prometheus text exposition of every connector of the process: Debezium's
 * PostgreSQL streaming and snapshot metrics named as Debezium's JMX exporter example names them, and
 * Kafka Connect's worker counts. Connectors publish figures with atomic stores (no lock, no allocation);
 * a scrape only reads them. */
#ifndef WALCAST_METRICS_H
#define WALCAST_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "agent/http.h"
#include "agent/worker.h"
#include "schemas/buf.h"

/* The figures of one source connector (Debezium's MXBean attributes). Written by the connector's thread
 * only, read by scrapes: each field on its own is exact, together they may be a moment apart. */
typedef struct met_source {
    char *name;                   /* topic.prefix: Debezium's server=, the exporter's name= label */
    atomic_int connected;
    /* streaming context */
    atomic_uint_fast64_t seen, created, updated, deleted, filtered, erroneous, committed_txns;
    atomic_int_fast64_t last_event_ms;    /* wall clock, Unix epoch ms; 0: none yet */
    atomic_int_fast64_t behind_ms;        /* source commit -> processing of the last event; -1: none yet */
    /* snapshot context */
    atomic_uint_fast64_t snap_read;       /* op 'r' events */
    atomic_int_fast64_t snap_last_event_ms;
    atomic_int snap_running, snap_completed, snap_aborted;
    atomic_uint_fast64_t tables_total, tables_remaining, rows_scanned;
    atomic_int_fast64_t snap_started_ms, snap_ended_ms;   /* 0: not yet */
    struct met_source *next;
} met_source_t;

/* Registers a source connector under its topic.prefix (shown from now on); NULL never. */
met_source_t *met_source_open(const char *topic_prefix);
/* Unregisters and frees (waits for a running scrape). NULL is ignored. */
void met_source_close(met_source_t *m);

/* The exposition of every registered source and of worker w (may be NULL), at wall time now_ms. */
void met_render(buf_t *b, wrk_t *w, int64_t now_ms);
/* http_handler_fn for "/metrics" (ctx: the wrk_t). */
void met_handle(void *worker, const http_req_t *req, http_resp_t *resp);

#endif
