/* metrics.c: GET /metrics (Prometheus text format 0.0.4). Names and meanings follow Debezium 3.6.1's
 * MXBeans (pipeline/metrics/traits/ MXBeans) as the JMX exporter example configuration of
 * debezium-examples/monitoring names them: debezium_metrics_<Attribute>{plugin,name,context}; the
 * worker's counts as that configuration names Connect's: kafka_connect_worker_metrics_<attribute>.
 * The exporter shows booleans as 1/0 and leaves out string and map attributes (LastEvent, ChunkId,
 * SourceEventPosition...), and so does this; like it, the Debezium series are untyped (a counter would
 * need a _total suffix Debezium's names do not have). promtool check metrics finds two things only, both
 * the exporters' names, kept so that dashboards and alerts written for them match: Debezium's camelCase,
 * and Connect's *_count gauges. */
#include "agent/metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/clock.h"

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static met_source_t *reg_head;

met_source_t *met_source_open(const char *topic_prefix)
{
    met_source_t *m = xcalloc(1, sizeof *m);
    m->name = xstrdup(topic_prefix ? topic_prefix : "");
    atomic_init(&m->behind_ms, -1);
    pthread_mutex_lock(&reg_lock);
    met_source_t **p = &reg_head;
    while (*p)
        p = &(*p)->next;   /* in the order they started */
    *p = m;
    pthread_mutex_unlock(&reg_lock);
    return m;
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
    free(m->name);
    free(m);
}

/* A label value: backslash, double quote and newline escaped (the text format's rules). */
static void put_label(buf_t *b, const char *v)
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
static int64_t g_rows(const met_source_t *m, int64_t n) { (void)n; return (int64_t)LD(rows_scanned); }
#undef LD

/* Debezium's attributes in its MXBeans' order: CommonEventMetrics, ConnectionMetrics, StreamingMetrics,
 * SnapshotMetrics. */
static const attr_t attrs[] = {
    { "MilliSecondsSinceLastEvent", "Milliseconds since the connector read the last event; -1 before the first.", { g_snap_since, g_since } },
    { "TotalNumberOfEventsSeen", "Events (change records, count) the connector has read since it started.", { g_snap_seen, g_seen } },
    { "TotalNumberOfCreateEventsSeen", "Create events (count) seen since the start.", { g_zero, g_created } },
    { "TotalNumberOfUpdateEventsSeen", "Update events (count) seen since the start.", { g_zero, g_updated } },
    { "TotalNumberOfDeleteEventsSeen", "Delete events (count) seen since the start.", { g_zero, g_deleted } },
    { "NumberOfEventsFiltered", "Events (count) left out by the include/exclude filters since the start.", { g_zero, g_filtered } },
    { "NumberOfErroneousEvents", "Events (count) that failed and were skipped (errors.tolerance=all) since the start.", { g_zero, g_erroneous } },
    { "Connected", "1 while the connector is connected to the database (boolean).", { NULL, g_connected } },
    { "MilliSecondsBehindSource", "Milliseconds between the source commit of the last event and its processing; -1 before the first.", { NULL, g_behind } },
    { "NumberOfCommittedTransactions", "Source transactions (count) processed since the start.", { NULL, g_txns } },
    { "TotalTableCount", "Tables (count) the snapshot reads.", { g_total_tables, NULL } },
    { "RemainingTableCount", "Tables (count) the snapshot has still to read.", { g_remaining, NULL } },
    { "SnapshotRunning", "1 while a snapshot runs (boolean).", { g_running, NULL } },
    { "SnapshotAborted", "1 when the snapshot was aborted (boolean).", { g_aborted, NULL } },
    { "SnapshotCompleted", "1 when the snapshot completed (boolean).", { g_completed, NULL } },
    { "SnapshotDurationInSeconds", "Seconds the snapshot has taken so far, or took.", { g_duration, NULL } },
    { "RowsScanned", "Rows (count) the snapshot has read.", { g_rows, NULL } },
};

static void render_worker(buf_t *b, wrk_t *w)
{
    char **names = NULL;
    size_t n = w ? wrk_names(w, &names) : 0;
    int64_t tasks = 0;
    for (size_t i = 0; i < n; i++) {
        wrk_info_t info;
        if (wrk_info(w, names[i], &info) == WRK_OK) {
            tasks += info.ntasks;
            wrk_info_free(&info);
        }
        free(names[i]);
    }
    free(names);
    buf_printf(b, "# HELP kafka_connect_worker_metrics_connector_count Connectors (count) in this worker.\n"
                  "# TYPE kafka_connect_worker_metrics_connector_count gauge\n"
                  "kafka_connect_worker_metrics_connector_count %zu\n", n);
    buf_printf(b, "# HELP kafka_connect_worker_metrics_task_count Tasks (count) in this worker.\n"
                  "# TYPE kafka_connect_worker_metrics_task_count gauge\n"
                  "kafka_connect_worker_metrics_task_count %lld\n", (long long)tasks);
}

void met_render(buf_t *b, wrk_t *w, int64_t now_ms)
{
    pthread_mutex_lock(&reg_lock);
    for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
        const attr_t *at = &attrs[a];
        buf_printf(b, "# HELP debezium_metrics_%s %s\n# TYPE debezium_metrics_%s untyped\n", at->name, at->help,
                   at->name);
        for (const met_source_t *m = reg_head; m; m = m->next)
            for (int c = 0; c < 2; c++) {
                if (!at->get[c])
                    continue;
                buf_printf(b, "debezium_metrics_%s{plugin=\"postgres\",name=\"", at->name);
                put_label(b, m->name);
                buf_printf(b, "\",context=\"%s\"} %lld\n", c == SNAP ? "snapshot" : "streaming",
                           (long long)at->get[c](m, now_ms));
            }
    }
    pthread_mutex_unlock(&reg_lock);
    render_worker(b, w);
}

void met_handle(void *worker, const http_req_t *req, http_resp_t *resp)
{
    if (strcmp(req->path, "/metrics") != 0) {
        resp->status = 404;
        resp->body = xstrdup("{\"error_code\":404,\"message\":\"HTTP 404 Not Found\"}");
        return;
    }
    if (strcmp(req->method, "GET") != 0) {
        resp->status = 405;
        resp->body = xstrdup("{\"error_code\":405,\"message\":\"HTTP 405 Method Not Allowed\"}");
        return;
    }
    buf_t b;
    buf_init(&b);
    met_render(&b, worker, wc_wall_us() / 1000);
    resp->status = 200;
    resp->body = xstrdup(buf_cstr(&b));
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    buf_free(&b);
}
