/* metrics.c: GET /metrics (Prometheus text format 0.0.4). Names and meanings follow Debezium 3.6.1's
 * MXBeans (pipeline/metrics/traits/ MXBeans) as the JMX exporter example configuration of
 * debezium-examples/monitoring names them: debezium_metrics_<Attribute>{plugin,name,context}, and
 * RowsScanned with table= (Debezium keeps it per table: the exporter's key= rule); the worker's counts as
 * that configuration names Connect's: kafka_connect_worker_metrics_<attribute>; Connect's per-connector
 * and per-task beans as the Strimzi/Connect exporter rules name them (kafka_connect_connector_status,
 * kafka_connect_worker_connector_<state>_task_count, kafka_connect_source_task_*, kafka_connect_sink_task_*,
 * kafka_connect_connector_task_offset_commit_*). The exporter shows booleans as 1/0 and leaves out string
 * and map attributes (LastEvent, ChunkId, SourceEventPosition...), and so does this; like it, the Debezium
 * series are untyped (a counter would need a _total suffix Debezium's names do not have). walcast's own
 * series are walcast_*, in base units (bytes, seconds). promtool check metrics finds three things only, all
 * the exporters' names, kept so that dashboards and alerts written for them match: Debezium's camelCase,
 * Connect's *_count gauges and its *_time_ms names. */
#include "agent/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/clock.h"
#include "sinks/conflict.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static met_source_t *reg_head;
static met_sink_t *sink_head;

met_source_t *met_source_open(const char *connector, const char *topic_prefix, const char *slot)
{
    met_source_t *m = xcalloc(1, sizeof *m);
    m->name = xstrdup(topic_prefix ? topic_prefix : "");
    m->connector = xstrdup(connector ? connector : "");
    m->slot = xstrdup(slot ? slot : "");
    atomic_init(&m->behind_ms, -1);
    atomic_init(&m->wal_status, MET_WAL_UNKNOWN);
    pthread_mutex_init(&m->tlock, NULL);
    pthread_mutex_lock(&reg_lock);
    met_source_t **p = &reg_head;
    while (*p)
        p = &(*p)->next;   /* in the order they started */
    *p = m;
    pthread_mutex_unlock(&reg_lock);
    return m;
}

static void tables_clear(met_source_t *m)
{
    for (size_t i = 0; i < m->ntables; i++)
        free(m->tnames[i]);
    free(m->tnames);
    free(m->trows);
    m->tnames = NULL;
    m->trows = NULL;
    m->ntables = 0;
}

void met_source_close(met_source_t *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&reg_lock);
    for (met_source_t **p = &reg_head; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    tables_clear(m);
    pthread_mutex_destroy(&m->tlock);
    free(m->name);
    free(m->connector);
    free(m->slot);
    free(m);
}

void met_source_set_tables(met_source_t *m, const char *const *names, const uint64_t *rows, size_t n)
{
    pthread_mutex_lock(&m->tlock);
    bool same = n == m->ntables;
    for (size_t i = 0; same && i < n; i++)
        same = !strcmp(names[i], m->tnames[i]);
    if (!same) {
        tables_clear(m);
        m->tnames = xcalloc(n + 1, sizeof *m->tnames);
        m->trows = xcalloc(n + 1, sizeof *m->trows);
        for (size_t i = 0; i < n; i++)
            m->tnames[i] = xstrdup(names[i]);
        m->ntables = n;
    }
    for (size_t i = 0; i < n; i++)
        m->trows[i] = rows[i];
    pthread_mutex_unlock(&m->tlock);
}

met_sink_t *met_sink_open(const char *connector)
{
    return met_sink_open_task(connector, -1);
}

met_sink_t *met_sink_open_task(const char *connector, int task)
{
    met_sink_t *m = xcalloc(1, sizeof *m);
    m->connector = xstrdup(connector ? connector : "");
    m->task = task;
    atomic_init(&m->st.lag_records, -1);
    atomic_init(&m->st.lag_bytes, -1);
    atomic_init(&m->st.e2e_last_us, -1);
    pthread_mutex_lock(&reg_lock);
    met_sink_t **p = &sink_head;
    while (*p)
        p = &(*p)->next;
    *p = m;
    pthread_mutex_unlock(&reg_lock);
    return m;
}

void met_sink_close(met_sink_t *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&reg_lock);
    for (met_sink_t **p = &sink_head; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    pthread_mutex_unlock(&reg_lock);
    free(m->connector);
    free(m);
}

/* A label value: backslash, double quote and newline escaped (the text format's rules). */
void met_put_label(buf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            buf_putc(b, '\\');
        if (*v == '\n') {
            buf_puts(b, "\\n");
            continue;
        }
        buf_putc(b, *v);
    }
}

typedef enum { SNAP, STRM } ctx_t;
typedef int64_t (*get_fn)(const met_source_t *m, int64_t now_ms);

typedef struct attr {
    const char *name, *help;
    get_fn get[2];                /* [SNAP], [STRM]; NULL: not in that context's MXBean */
} attr_t;

#define LD(f) atomic_load_explicit(&m->f, memory_order_relaxed)
static int64_t g_connected(const met_source_t *m, int64_t n) { (void)n; return LD(connected); }
static int64_t g_seen(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(seen); }
static int64_t g_snap_seen(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(snap_read); }
static int64_t g_zero(const met_source_t *m, int64_t n) { (void)m; (void)n; return 0; }
static int64_t g_created(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(created); }
static int64_t g_updated(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(updated); }
static int64_t g_deleted(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(deleted); }
static int64_t g_filtered(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(filtered); }
static int64_t g_erroneous(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(erroneous); }
static int64_t g_txns(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(committed_txns); }
static int64_t g_behind(const met_source_t *m, int64_t n) { (void)n; return LD(behind_ms); }
/* StreamingStatistics: -1 before the first observation, as MilliSecondsBehindSource */
static int64_t g_behind_min(const met_source_t *m, int64_t n) { (void)n; return LD(behind_n) ? LD(behind_min) : -1; }
static int64_t g_behind_max(const met_source_t *m, int64_t n) { (void)n; return LD(behind_n) ? LD(behind_max) : -1; }
static int64_t g_behind_avg(const met_source_t *m, int64_t n)
{
    (void)n;
    int64_t c = LD(behind_n);
    return c ? LD(behind_sum) / c : -1;
}
static int64_t g_queue_cap(const met_source_t *m, int64_t n) { (void)n; return LD(queue_capacity); }
static int64_t g_skipped(const met_source_t *m, int64_t n) { (void)n; return LD(snap_skipped); }
/* Debezium: -1 before the first event */
static int64_t g_since(const met_source_t *m, int64_t n)
{
    int64_t t = LD(last_event_ms);
    return t ? n - t : -1;
}
static int64_t g_snap_since(const met_source_t *m, int64_t n)
{
    int64_t t = LD(snap_last_event_ms);
    return t ? n - t : -1;
}
static int64_t g_total_tables(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(tables_total); }
static int64_t g_remaining(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(tables_remaining); }
static int64_t g_running(const met_source_t *m, int64_t n) { (void)n; return LD(snap_running); }
static int64_t g_completed(const met_source_t *m, int64_t n) { (void)n; return LD(snap_completed); }
static int64_t g_aborted(const met_source_t *m, int64_t n) { (void)n; return LD(snap_aborted); }
/* Debezium: from the start to now while running, to the end after */
static int64_t g_duration(const met_source_t *m, int64_t n)
{
    int64_t s = LD(snap_started_ms), e = LD(snap_ended_ms);
    if (!s)
        return 0;
    return ((e ? e : n) - s) / 1000;
}
#undef LD

/* Debezium 3.6.1's numeric attributes in its MXBeans' order: CommonEventMetrics, QueueMetrics,
 * ConnectionMetrics, StreamingMetrics, StreamingStatistics, SnapshotMetrics (the String and Map<String,
 * String> ones the JMX exporter does not turn into samples; the per-table maps: RowsScanned below). */
static const attr_t attrs[] = {
    { "MilliSecondsSinceLastEvent", "Milliseconds since the connector read the last event; -1 before the first.", { g_snap_since, g_since } },
    { "TotalNumberOfEventsSeen", "Events (change records, count) the connector has read since it started.", { g_snap_seen, g_seen } },
    { "TotalNumberOfCreateEventsSeen", "Create events (count) seen since the start.", { g_zero, g_created } },
    { "TotalNumberOfUpdateEventsSeen", "Update events (count) seen since the start.", { g_zero, g_updated } },
    { "TotalNumberOfDeleteEventsSeen", "Delete events (count) seen since the start.", { g_zero, g_deleted } },
    { "NumberOfEventsFiltered", "Events (count) left out by the include/exclude filters since the start.", { g_zero, g_filtered } },
    { "NumberOfErroneousEvents", "Events (count) that failed and were skipped (errors.tolerance=all) since the start.", { g_zero, g_erroneous } },
    { "QueueTotalCapacity", "Capacity (count of records) of the queue between reader and producer: max.queue.size (walcast has no such queue; nothing waits in it).", { g_queue_cap, g_queue_cap } },
    { "QueueRemainingCapacity", "Free places (count of records) in that queue: always the whole capacity in walcast.", { g_queue_cap, g_queue_cap } },
    { "MaxQueueSizeInBytes", "Byte limit (bytes) of that queue; 0: none (walcast has no queue).", { g_zero, g_zero } },
    { "CurrentQueueSizeInBytes", "Bytes waiting in that queue (bytes): always 0 in walcast.", { g_zero, g_zero } },
    { "Connected", "1 while the connector is connected to the database (boolean).", { NULL, g_connected } },
    { "MilliSecondsBehindSource", "Milliseconds between the source commit of the last event and its processing; -1 before the first.", { NULL, g_behind } },
    { "NumberOfCommittedTransactions", "Source transactions (count) processed since the start.", { NULL, g_txns } },
    { "NumberOfUnchangedEventsSkipped", "Update events (count) skipped because no captured column changed (skip.messages.without.change: not applied by walcast, 0).", { NULL, g_zero } },
    { "MilliSecondsBehindSourceMinValue", "Smallest MilliSecondsBehindSource (milliseconds) seen since the start; -1 before the first.", { NULL, g_behind_min } },
    { "MilliSecondsBehindSourceMaxValue", "Largest MilliSecondsBehindSource (milliseconds) seen since the start; -1 before the first.", { NULL, g_behind_max } },
    { "MilliSecondsBehindSourceAverageValue", "Mean MilliSecondsBehindSource (milliseconds) since the start; -1 before the first.", { NULL, g_behind_avg } },
    { "TotalTableCount", "Tables (count) the snapshot reads.", { g_total_tables, NULL } },
    { "RemainingTableCount", "Tables (count) the snapshot has still to read.", { g_remaining, NULL } },
    { "SnapshotRunning", "1 while a snapshot runs (boolean).", { g_running, NULL } },
    { "SnapshotPaused", "1 while the snapshot is paused (boolean; walcast's initial snapshot never pauses: 0).", { g_zero, NULL } },
    { "SnapshotAborted", "1 when the snapshot was aborted (boolean).", { g_aborted, NULL } },
    { "SnapshotCompleted", "1 when the snapshot completed (boolean).", { g_completed, NULL } },
    { "SnapshotSkipped", "1 when this run takes no initial snapshot (snapshot.mode no_data, or one was completed before) (boolean).", { g_skipped, NULL } },
    { "SnapshotDurationInSeconds", "Seconds the snapshot has taken so far, or took.", { g_duration, NULL } },
    { "SnapshotPausedDurationInSeconds", "Seconds the snapshot spent paused (0: it never pauses).", { g_zero, NULL } },
};

/* "# HELP name help\n# TYPE name type\n" */
static void family(buf_t *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{connector="c"[,task="0"]} value */
static void sample_c(buf_t *b, const char *name, const char *connector, bool task, const char *value)
{
    buf_printf(b, "%s{connector=\"", name);
    met_put_label(b, connector);
    buf_printf(b, "\"%s} %s\n", task ? ",task=\"0\"" : "", value);
}

static void sample_ci(buf_t *b, const char *name, const char *connector, bool task, int64_t v)
{
    char t[32];
    snprintf(t, sizeof t, "%" PRId64, v);
    sample_c(b, name, connector, task, t);
}

static void sample_cf(buf_t *b, const char *name, const char *connector, bool task, double v)
{
    char t[64];
    snprintf(t, sizeof t, "%.6g", v);
    sample_c(b, name, connector, task, t);
}

/* connector="…" and, for a sink running several tasks, task="n" */
static void sink_labels(buf_t *b, const met_sink_t *m)
{
    buf_puts(b, "connector=\"");
    met_put_label(b, m->connector);
    buf_putc(b, '"');
    if (m->task >= 0)
        buf_printf(b, ",task=\"%d\"", m->task);
}

/* Connect's status attribute values (lower case) */
static const char *status_label(wrk_state_t st)
{
    switch (st) {
    case WRK_UNASSIGNED: return "unassigned";
    case WRK_RUNNING: return "running";
    case WRK_PAUSED: return "paused";
    case WRK_STOPPED: return "stopped";
    case WRK_FAILED: return "failed";
    case WRK_RESTARTING: return "restarting";
    }
    return "unassigned";
}

/* Connect's worker: connector and task counts (Debezium's exporter example), each connector's status and
 * its task's, and its task counts by state (the Connect exporter rules' names). */
static void render_worker(buf_t *b, wrk_t *w)
{
    char **names = NULL;
    size_t n = w ? wrk_names(w, &names) : 0;
    wrk_info_t *info = xcalloc(n + 1, sizeof *info);
    bool *ok = xcalloc(n + 1, sizeof *ok);
    int64_t tasks = 0;
    for (size_t i = 0; i < n; i++) {
        ok[i] = wrk_info(w, names[i], &info[i]) == WRK_OK;
        if (ok[i])
            tasks += info[i].ntasks;
    }
    family(b, "kafka_connect_worker_metrics_connector_count", "gauge", "Connectors (count) in this worker.");
    buf_printf(b, "kafka_connect_worker_metrics_connector_count %zu\n", n);
    family(b, "kafka_connect_worker_metrics_task_count", "gauge", "Tasks (count) in this worker.");
    buf_printf(b, "kafka_connect_worker_metrics_task_count %" PRId64 "\n", tasks);
    family(b, "kafka_connect_connector_status", "gauge",
           "1 for the connector's current state (label status: running, paused, stopped, failed, unassigned, restarting; boolean).");
    for (size_t i = 0; i < n; i++)
        if (ok[i]) {
            buf_puts(b, "kafka_connect_connector_status{connector=\"");
            met_put_label(b, names[i]);
            buf_printf(b, "\",type=\"%s\",status=\"%s\"} 1\n", info[i].sink ? "sink" : "source", status_label(info[i].state));
        }
    family(b, "kafka_connect_connector_task_status", "gauge",
           "1 for the task's current state (label status, as kafka_connect_connector_status; boolean).");
    for (size_t i = 0; i < n; i++)
        if (ok[i] && info[i].ntasks) {
            buf_puts(b, "kafka_connect_connector_task_status{connector=\"");
            met_put_label(b, names[i]);
            buf_printf(b, "\",task=\"0\",status=\"%s\"} 1\n", status_label(info[i].task_state));
        }
    static const struct { const char *state; int st; } by[] = {
        { "running", WRK_RUNNING }, { "paused", WRK_PAUSED }, { "failed", WRK_FAILED },
        { "unassigned", WRK_UNASSIGNED }, { "restarting", WRK_RESTARTING }, { "destroyed", -1 }, { "total", -2 },
    };
    for (size_t k = 0; k < sizeof by / sizeof *by; k++) {
        char fam[96], help[160];
        snprintf(fam, sizeof fam, "kafka_connect_worker_connector_%s_task_count", by[k].state);
        snprintf(help, sizeof help, "Tasks (count) of the connector %s in this worker.",
                 by[k].st == -2 ? "in any state" : by[k].state);
        family(b, fam, "gauge", help);
        for (size_t i = 0; i < n; i++)
            if (ok[i])
                sample_ci(b, fam, names[i], false,
                          by[k].st == -2 ? info[i].ntasks : info[i].ntasks && (int)info[i].task_state == by[k].st);
    }
    for (size_t i = 0; i < n; i++) {
        if (ok[i])
            wrk_info_free(&info[i]);
        free(names[i]);
    }
    free(ok);
    free(info);
    free(names);
}

/* A commit time in ms from histogram h: its mean (max false) or its slowest. */
static void sample_commit_ms(buf_t *b, const char *fam, const char *connector, const hist_t *h, bool max)
{
    uint64_t c = atomic_load_explicit(&h->count, memory_order_relaxed);
    int64_t sum = atomic_load_explicit(&h->sum_us, memory_order_relaxed);
    sample_cf(b, fam, connector, true,
              max ? (double)atomic_load_explicit(&h->max_us, memory_order_relaxed) / 1000 : c ? (double)sum / 1000 / (double)c : 0);
}

/* Connect's task metrics: source-record poll/write, sink-record read/send (totals and per-second rates
 * over the last 30 s of the sampler's ring), offset commit times. */
static int64_t task_total(const met_source_t *m, const met_sink_t *k, int idx)
{
    if (m)
        return idx == MS_EVENTS ? (int64_t)(atomic_load_explicit(&m->seen, memory_order_relaxed) +
                                            atomic_load_explicit(&m->snap_read, memory_order_relaxed))
                                : (int64_t)atomic_load_explicit(&m->written, memory_order_relaxed);
    return (int64_t)atomic_load_explicit(idx == MK_READ ? &k->st.read : &k->st.applied, memory_order_relaxed);
}

static void render_tasks(buf_t *b)
{
    static const struct { const char *name, *help; bool sink, rate; int idx; } fams[] = {
        { "kafka_connect_source_task_source_record_poll_total", "Records (count) the task read from the source (before transforms).", false, false, MS_EVENTS },
        { "kafka_connect_source_task_source_record_poll_rate", "Records per second read from the source, over the last 30 seconds.", false, true, MS_EVENTS },
        { "kafka_connect_source_task_source_record_write_total", "Records (count) the task produced to Kafka (after transforms).", false, false, MS_WRITTEN },
        { "kafka_connect_source_task_source_record_write_rate", "Records per second produced to Kafka, over the last 30 seconds.", false, true, MS_WRITTEN },
        { "kafka_connect_sink_task_sink_record_read_total", "Records (count) the sink task read from Kafka.", true, false, MK_READ },
        { "kafka_connect_sink_task_sink_record_read_rate", "Records per second read from Kafka, over the last 30 seconds.", true, true, MK_READ },
        { "kafka_connect_sink_task_sink_record_send_total", "Records (count) the sink task applied to the target (committed).", true, false, MK_APPLIED },
        { "kafka_connect_sink_task_sink_record_send_rate", "Records per second applied to the target, over the last 30 seconds.", true, true, MK_APPLIED },
    };
    for (size_t f = 0; f < sizeof fams / sizeof *fams; f++) {
        family(b, fams[f].name, fams[f].rate ? "gauge" : "counter", fams[f].help);
        const met_source_t *m = fams[f].sink ? NULL : reg_head;
        const met_sink_t *k = fams[f].sink ? sink_head : NULL;
        for (; m || k; m = m ? m->next : NULL, k = k ? k->next : NULL) {
            const char *c = m ? m->connector : k->connector;
            if (fams[f].rate)
                sample_cf(b, fams[f].name, c, true, met_ring_rate(m ? &m->ring : &k->ring, fams[f].idx, 30000));
            else
                sample_ci(b, fams[f].name, c, true, task_total(m, k, fams[f].idx));
        }
    }
    /* offset commits: a source's Kafka transaction commit (its offsets go in it), a sink's target
     * transaction (its offsets are stored in it) */
    for (int k = 0; k < 2; k++) {
        const char *fam = k ? "kafka_connect_connector_task_offset_commit_max_time_ms"
                            : "kafka_connect_connector_task_offset_commit_avg_time_ms";
        family(b, fam, "gauge", k ? "Milliseconds the slowest offset commit took (sources: the Kafka transaction commit; sinks: the target transaction), since the start."
                                  : "Milliseconds an offset commit takes on average (sources: the Kafka transaction commit; sinks: the target transaction), since the start.");
        for (const met_source_t *m = reg_head; m; m = m->next)
            sample_commit_ms(b, fam, m->connector, &m->kafka_commit, k);
        for (const met_sink_t *m = sink_head; m; m = m->next)
            sample_commit_ms(b, fam, m->connector, &m->st.apply, k);
    }
}

static const char *const wal_status_names[] = { "reserved", "extended", "unreserved", "lost" };

const char *met_wal_status_name(int st)
{
    return st >= 0 && st < 4 ? wal_status_names[st] : "";
}

/* connector="c",slot="s" */
static void slot_labels(buf_t *b, const met_source_t *m)
{
    buf_puts(b, "connector=\"");
    met_put_label(b, m->connector);
    buf_puts(b, "\",slot=\"");
    met_put_label(b, m->slot);
    buf_puts(b, "\"");
}

/* walcast's own series: the slot, the Kafka side, the sinks. */
static void render_walcast(buf_t *b)
{
    static const char *const slot[][2] = {
        { "walcast_slot_lag_bytes", "Bytes of WAL between the server's WAL end and the slot's confirmed_flush_lsn (what the connector has still to publish)." },
        { "walcast_slot_wal_retained_bytes", "Bytes of WAL the server keeps for the slot (the server's WAL end minus the slot's restart_lsn)." },
        { "walcast_slot_safe_wal_size_bytes", "Bytes of WAL that can still be written before the slot is in danger of losing WAL (safe_wal_size; absent when unlimited)." },
        { "walcast_slot_max_wal_keep_size_bytes", "The server's max_slot_wal_keep_size in bytes; -1: unlimited." },
    };
    for (int k = 0; k < 4; k++) {
        family(b, slot[k][0], "gauge", slot[k][1]);
        for (const met_source_t *m = reg_head; m; m = m->next) {
            if (!atomic_load_explicit(&m->slot_known, memory_order_relaxed))
                continue;
            int64_t v = atomic_load_explicit(k == 0 ? &m->slot_lag : k == 1 ? &m->wal_retained : k == 2 ? &m->safe_wal_size
                                                                                                         : &m->max_keep,
                                             memory_order_relaxed);
            if (k == 2 && v < 0)
                continue;
            buf_printf(b, "%s{", slot[k][0]);
            slot_labels(b, m);
            buf_printf(b, "} %" PRId64 "\n", v);
        }
    }
    family(b, "walcast_slot_wal_status", "gauge",
           "1 for the slot's current wal_status (reserved, extended, unreserved, lost), 0 for the others (boolean; PostgreSQL 13 and later).");
    for (const met_source_t *m = reg_head; m; m = m->next) {
        int ws = atomic_load_explicit(&m->wal_status, memory_order_relaxed);
        if (!atomic_load_explicit(&m->slot_known, memory_order_relaxed) || ws < 0)
            continue;
        for (int i = 0; i < 4; i++) {
            buf_puts(b, "walcast_slot_wal_status{");
            slot_labels(b, m);
            buf_printf(b, ",wal_status=\"%s\"} %d\n", wal_status_names[i], ws == i);
        }
    }
    buf_t lab;
    buf_init(&lab);
    family(b, "walcast_source_commit_to_kafka_commit_seconds", "histogram",
           "Seconds from a source transaction's commit to the commit of the Kafka transaction that holds its events.");
    for (const met_source_t *m = reg_head; m; m = m->next) {
        buf_reset(&lab);
        buf_puts(&lab, "connector=\"");
        met_put_label(&lab, m->connector);
        buf_puts(&lab, "\"");
        hist_render(b, &m->src_to_kafka, "walcast_source_commit_to_kafka_commit_seconds", buf_cstr(&lab));
    }
    family(b, "walcast_kafka_transaction_commit_seconds", "histogram",
           "Seconds a Kafka transaction commit takes (commit request to committed, offsets included).");
    for (const met_source_t *m = reg_head; m; m = m->next) {
        buf_reset(&lab);
        buf_puts(&lab, "connector=\"");
        met_put_label(&lab, m->connector);
        buf_puts(&lab, "\"");
        hist_render(b, &m->kafka_commit, "walcast_kafka_transaction_commit_seconds", buf_cstr(&lab));
    }
    /* sinks */
    static const char *const sk[][3] = {
        { "walcast_sink_consumer_lag_records", "gauge", "Records (count) in the sink's topic partitions not applied yet (may count one transaction marker per partition); -1: not known yet." },
        { "walcast_sink_consumer_lag_bytes", "gauge", "Bytes not applied yet, estimated: records behind times the mean size (key and value) of the records read; -1: not known yet." },
        { "walcast_sink_records_applied_total", "counter", "Records (count) applied to the target and committed with their offsets." },
        { "walcast_sink_batches_applied_total", "counter", "Target transactions (count) committed." },
        { "walcast_sink_dead_letters_total", "counter", "Records (count) sent to the dead-letter topic, or skipped under errors.tolerance=all without one." },
        { "walcast_sink_retries_total", "counter", "Target transactions or connections (count) retried after a transient error." },
        { "walcast_sink_end_to_end_lag_last_seconds", "gauge", "Seconds from the source commit of the newest change applied to its target commit; -1: nothing applied yet." },
    };
    for (int k = 0; k < 7; k++) {
        family(b, sk[k][0], sk[k][1], sk[k][2]);
        for (const met_sink_t *m = sink_head; m; m = m->next) {
            const sk_stats_t *st = &m->st;
            int64_t v;
            switch (k) {
            case 0: v = atomic_load_explicit(&st->lag_records, memory_order_relaxed); break;
            case 1: v = atomic_load_explicit(&st->lag_bytes, memory_order_relaxed); break;
            case 2: v = (int64_t)atomic_load_explicit(&st->applied, memory_order_relaxed); break;
            case 3: v = (int64_t)atomic_load_explicit(&st->batches, memory_order_relaxed); break;
            case 4: v = (int64_t)atomic_load_explicit(&st->dead, memory_order_relaxed); break;
            case 5: v = (int64_t)atomic_load_explicit(&st->retries, memory_order_relaxed); break;
            default: v = atomic_load_explicit(&st->e2e_last_us, memory_order_relaxed); break;
            }
            char num[64];
            if (k == 6)
                snprintf(num, sizeof num, "%.6g", v < 0 ? -1 : (double)v / 1e6);
            else
                snprintf(num, sizeof num, "%" PRId64, v);
            buf_printf(b, "%s{", sk[k][0]);
            sink_labels(b, m);
            buf_printf(b, "} %s\n", num);
        }
    }
    family(b, "walcast_sink_conflicts_total", "counter",
           "Conflicts (count) met applying changes, by type (PostgreSQL 18's names) and outcome (applied: the change was written; skipped: the target's row was kept).");
    for (const met_sink_t *m = sink_head; m; m = m->next)
        for (int t = 0; t < SK_CONFLICT_NTYPES; t++) {
            uint64_t all = atomic_load_explicit(&m->st.conflicts[t], memory_order_relaxed);
            uint64_t skipped = atomic_load_explicit(&m->st.conflicts_skipped[t], memory_order_relaxed);
            for (int o = 0; o < 2; o++) {
                buf_puts(b, "walcast_sink_conflicts_total{");
                sink_labels(b, m);
                buf_printf(b, ",type=\"%s\",outcome=\"%s\"} %" PRIu64 "\n", cf_type_name((sk_conflict_t)t),
                           o ? "skipped" : "applied", o ? skipped : all - skipped);
            }
        }
    static const char *const sh[][2] = {
        { "walcast_sink_end_to_end_lag_seconds", "Seconds from the source commit of each change to the commit of the target transaction that applied it." },
        { "walcast_sink_apply_seconds", "Seconds a batch takes from its first record read to its target commit confirmed." },
    };
    for (int k = 0; k < 2; k++) {
        family(b, sh[k][0], "histogram", sh[k][1]);
        for (const met_sink_t *m = sink_head; m; m = m->next) {
            buf_reset(&lab);
            sink_labels(&lab, m);
            hist_render(b, k ? &m->st.apply : &m->st.e2e, sh[k][0], buf_cstr(&lab));
        }
    }
    buf_free(&lab);
}

void met_render(buf_t *b, wrk_t *w, int64_t now_ms)
{
    pthread_mutex_lock(&reg_lock);
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
        const attr_t *at = &attrs[a];
        buf_printf(b, "# HELP debezium_metrics_%s %s\n# TYPE debezium_metrics_%s untyped\n", at->name, at->help, at->name);
        for (const met_source_t *m = reg_head; m; m = m->next)
            for (int c = 0; c < 2; c++) {
                if (!at->get[c])
                    continue;
                buf_printf(b, "debezium_metrics_%s{plugin=\"postgres\",name=\"", at->name);
                met_put_label(b, m->name);
                buf_printf(b, "\",context=\"%s\"} %lld\n", c == SNAP ? "snapshot" : "streaming",
                           (long long)at->get[c](m, now_ms));
            }
    }
    /* RowsScanned: per table, as Debezium keeps it (its MXBean's map; the exporter's key= becomes table=) */
    family(b, "debezium_metrics_RowsScanned", "untyped", "Rows (count) the snapshot has read from each table (label table).");
    for (met_source_t *m = reg_head; m; m = m->next) {
        pthread_mutex_lock(&m->tlock);
        for (size_t i = 0; i < m->ntables; i++) {
            buf_puts(b, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"");
            met_put_label(b, m->name);
            buf_puts(b, "\",context=\"snapshot\",table=\"");
            met_put_label(b, m->tnames[i]);
            buf_printf(b, "\"} %" PRIu64 "\n", m->trows[i]);
        }
        pthread_mutex_unlock(&m->tlock);
    }
    render_tasks(b);
    render_walcast(b);
    pthread_mutex_unlock(&reg_lock);
    render_worker(b, w);
}

void met_handle(void *worker, const http_req_t *req, http_resp_t *resp)
{
    if (http_refuse(req, resp, strcmp(req->path, "/metrics") == 0))
        return;
    buf_t b;
    buf_init(&b);
    met_render(&b, worker, wc_wall_us() / 1000);
    resp->status = 200;
    resp->body = xstrdup(buf_cstr(&b));
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_free(&b);
}

/* ---- the history ring and its sampler -------------------------------------------------------------- */

static void ring_put(met_ring_t *r, int64_t t_ms, const int64_t *v, int nv)
{
    met_sample_t *s = &r->s[r->head];
    s->t_ms = t_ms;
    for (int i = 0; i < MET_NVALS; i++)
        s->v[i] = i < nv ? v[i] : -1;
    r->head = (r->head + 1) % MET_RING;
    if (r->n < MET_RING)
        r->n++;
}

double met_ring_rate(const met_ring_t *r, int idx, int64_t window_ms)
{
    if (r->n < 2)
        return 0;
    const met_sample_t *last = &r->s[(r->head + MET_RING - 1) % MET_RING], *first = last;
    for (size_t k = 2; k <= r->n; k++) {
        const met_sample_t *s = &r->s[(r->head + MET_RING - k) % MET_RING];
        if (last->t_ms - s->t_ms > window_ms)
            break;
        first = s;
    }
    if (first == last || last->t_ms <= first->t_ms || first->v[idx] < 0 || last->v[idx] < first->v[idx])
        return 0;
    return (double)(last->v[idx] - first->v[idx]) * 1000.0 / (double)(last->t_ms - first->t_ms);
}

void met_sample_all(int64_t now_ms)
{
    pthread_mutex_lock(&reg_lock);
    for (met_source_t *m = reg_head; m; m = m->next) {
        int64_t v[MS_NVALS];
        bool slot = atomic_load_explicit(&m->slot_known, memory_order_relaxed);
        v[MS_EVENTS] = (int64_t)(atomic_load_explicit(&m->seen, memory_order_relaxed) +
                                 atomic_load_explicit(&m->snap_read, memory_order_relaxed));
        v[MS_WRITTEN] = (int64_t)atomic_load_explicit(&m->written, memory_order_relaxed);
        v[MS_BEHIND_MS] = atomic_load_explicit(&m->behind_ms, memory_order_relaxed);
        v[MS_SLOT_LAG] = slot ? atomic_load_explicit(&m->slot_lag, memory_order_relaxed) : -1;
        v[MS_WAL_RETAINED] = slot ? atomic_load_explicit(&m->wal_retained, memory_order_relaxed) : -1;
        ring_put(&m->ring, now_ms, v, MS_NVALS);
    }
    for (met_sink_t *m = sink_head; m; m = m->next) {
        int64_t v[MK_NVALS], e2e = atomic_load_explicit(&m->st.e2e_last_us, memory_order_relaxed);
        v[MK_READ] = (int64_t)atomic_load_explicit(&m->st.read, memory_order_relaxed);
        v[MK_APPLIED] = (int64_t)atomic_load_explicit(&m->st.applied, memory_order_relaxed);
        v[MK_E2E_MS] = e2e < 0 ? -1 : e2e / 1000;
        v[MK_LAG_RECORDS] = atomic_load_explicit(&m->st.lag_records, memory_order_relaxed);
        v[MK_DEAD] = (int64_t)atomic_load_explicit(&m->st.dead, memory_order_relaxed);
        uint64_t c = 0;
        for (int t = 0; t < SK_CONFLICT_NTYPES; t++)
            c += atomic_load_explicit(&m->st.conflicts[t], memory_order_relaxed);
        v[MK_CONFLICTS] = (int64_t)c;
        ring_put(&m->ring, now_ms, v, MK_NVALS);
    }
    pthread_mutex_unlock(&reg_lock);
}

void met_with_registry(void (*fn)(void *ctx, const met_source_t *sources, const met_sink_t *sinks), void *ctx)
{
    pthread_mutex_lock(&reg_lock);
    fn(ctx, reg_head, sink_head);
    pthread_mutex_unlock(&reg_lock);
}

static pthread_mutex_t smp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t smp_cond = PTHREAD_COND_INITIALIZER;
static bool smp_running, smp_stop;
static pthread_t smp_thread;

static void *sampler(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-metrics");   /* in top -H and perf's per-thread figures */
    (void)arg;
    pthread_mutex_lock(&smp_lock);
    while (!smp_stop) {
        pthread_mutex_unlock(&smp_lock);
        met_sample_all(wc_wall_us() / 1000);
        pthread_mutex_lock(&smp_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        while (!smp_stop && pthread_cond_timedwait(&smp_cond, &smp_lock, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&smp_lock);
    return NULL;
}

void met_sampler_start(void)
{
    pthread_mutex_lock(&smp_lock);
    if (!smp_running) {
        smp_stop = false;
        smp_running = pthread_create(&smp_thread, NULL, sampler, NULL) == 0;
    }
    pthread_mutex_unlock(&smp_lock);
}

void met_sampler_stop(void)
{
    pthread_mutex_lock(&smp_lock);
    bool was = smp_running;
    smp_stop = true;
    smp_running = false;
    pthread_cond_broadcast(&smp_cond);
    pthread_mutex_unlock(&smp_lock);
    if (was)
        pthread_join(smp_thread, NULL);
}
