/* metrics.h: GET /metrics, the Prometheus text exposition of every connector and sink of the process:
 * Debezium's PostgreSQL streaming and snapshot metrics named as Debezium's JMX exporter example names them,
 * Kafka Connect's worker, connector and task metrics as the Connect JMX exporter configurations (Debezium's,
 * Strimzi's) name them, and walcast's own series (slot, Kafka commits, sinks). Connectors publish figures
 * with atomic stores (no lock, no allocation on the event path); a scrape only reads them. A sampler
 * thread keeps the last 15 minutes of the main figures once a second (the dashboard's history). */
#ifndef WALCAST_METRICS_H
#define WALCAST_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "agent/http.h"
#include "agent/worker.h"
#include "schemas/buf.h"
#include "schemas/hist.h"
#include "sinks/apply.h"

/* The history ring: one sample a second, 15 minutes. */
#define MET_RING 900

/* What a sample holds. Sources: */
enum { MS_EVENTS, MS_WRITTEN, MS_BEHIND_MS, MS_SLOT_LAG, MS_WAL_RETAINED, MS_NVALS };
/* Sinks: */
enum { MK_READ, MK_APPLIED, MK_E2E_MS, MK_LAG_RECORDS, MK_DEAD, MK_CONFLICTS, MK_NVALS };
#define MET_NVALS 6

typedef struct met_sample {
    int64_t t_ms;                 /* wall clock, Unix epoch ms */
    int64_t v[MET_NVALS];         /* -1: not known */
} met_sample_t;

typedef struct met_ring {
    met_sample_t s[MET_RING];
    size_t head, n;               /* next slot to write, samples held */
} met_ring_t;

/* wal_status of pg_replication_slots (PostgreSQL 13+). */
typedef enum { MET_WAL_UNKNOWN = -1, MET_WAL_RESERVED, MET_WAL_EXTENDED, MET_WAL_UNRESERVED, MET_WAL_LOST } met_wal_status_t;

/* The figures of one source connector. Written by the connector's thread only, read by scrapes: each
 * field on its own is exact, together they may be a moment apart. */
typedef struct met_source {
    char *name;                   /* topic.prefix: Debezium's server=, the exporter's name= label */
    char *connector;              /* the connector's name (Connect's connector= label) */
    char *slot;                   /* slot.name */
    atomic_int connected;
    /* streaming context */
    atomic_uint_fast64_t seen, created, updated, deleted, filtered, erroneous, committed_txns;
    atomic_int_fast64_t last_event_ms;    /* wall clock, Unix epoch ms; 0: none yet */
    atomic_int_fast64_t behind_ms;        /* source commit -> processing of the last event; -1: none yet */
    /* StreamingStatistics: behind_ms's min, max and sum over its observations (one per metrics update
     * with a new source commit), count behind_n; written by the connector thread only */
    atomic_int_fast64_t behind_min, behind_max, behind_sum, behind_n;
    /* QueueMetrics: max.queue.size as configured (walcast has no queue between the reader and the
     * producer: nothing is ever queued) */
    atomic_int_fast64_t queue_capacity;
    /* snapshot context */
    atomic_uint_fast64_t snap_read;       /* op 'r' events */
    atomic_int_fast64_t snap_last_event_ms;
    atomic_int snap_running, snap_completed, snap_aborted, snap_skipped;
    atomic_uint_fast64_t tables_total, tables_remaining, rows_scanned;
    atomic_int_fast64_t snap_started_ms, snap_ended_ms;   /* 0: not yet */
    /* per table: RowsScanned{table=} (met_source_set_tables) */
    pthread_mutex_t tlock;
    size_t ntables;
    char **tnames;                /* "schema.table" */
    uint64_t *trows;
    /* Kafka */
    atomic_uint_fast64_t written;         /* records produced to Kafka (Connect's source-record-write) */
    hist_t src_to_kafka;                  /* source commit -> the Kafka commit holding it, per source transaction */
    hist_t kafka_commit;                  /* Kafka transaction commit: commit request -> committed */
    /* the slot (pg_replication_slots, read every few seconds); slot_known 0: not read yet */
    atomic_int slot_known;
    atomic_int_fast64_t slot_lag, wal_retained, safe_wal_size, max_keep; /* bytes; safe -1: NULL; max_keep -1: unlimited */
    atomic_int wal_status;                /* met_wal_status_t */
    met_ring_t ring;                      /* under the registry's lock */
    struct met_source *next;
} met_source_t;

typedef struct met_sink {
    char *connector;
    int task;          /* the task of a sink with tasks.max > 1 (series labelled task="n"); -1: one task */
    sk_stats_t st;
    met_ring_t ring;
    struct met_sink *next;
} met_sink_t;

/* Registers a source connector (shown from now on); NULL never. */
met_source_t *met_source_open(const char *connector, const char *topic_prefix, const char *slot);
/* Unregisters and frees (waits for a running scrape). NULL is ignored. */
void met_source_close(met_source_t *m);
/* The snapshot's tables and rows scanned in each (copied; n = 0 clears). */
void met_source_set_tables(met_source_t *m, const char *const *names, const uint64_t *rows, size_t n);

met_sink_t *met_sink_open(const char *connector);
/* The same for task n of a sink that runs several. */
met_sink_t *met_sink_open_task(const char *connector, int task);
void met_sink_close(met_sink_t *m);

/* The exposition of every registered source and sink and of worker w (may be NULL), at wall time now_ms. */
void met_render(buf_t *b, wrk_t *w, int64_t now_ms);
/* http_handler_fn for "/metrics" (ctx: the wrk_t). */
void met_handle(void *worker, const http_req_t *req, http_resp_t *resp);

/* Takes one sample of every source and sink into its ring (the sampler does it once a second). */
void met_sample_all(int64_t now_ms);
/* Per second over the last window_ms of ring value idx (0 with fewer than two samples). */
double met_ring_rate(const met_ring_t *r, int idx, int64_t window_ms);
/* Starts / stops the sampler thread (idempotent). */
void met_sampler_start(void);
void met_sampler_stop(void);

/* For the dashboard: runs fn under the registry's lock (sources and sinks as they are now). */
void met_with_registry(void (*fn)(void *ctx, const met_source_t *sources, const met_sink_t *sinks), void *ctx);
/* A label value with the text format's escapes (also what the dashboard's JSON strings need, minus \n). */
void met_put_label(buf_t *b, const char *v);
/* A wal_status name ("reserved", ...; "" when unknown). */
const char *met_wal_status_name(int s);

#endif
