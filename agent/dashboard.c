/* dashboard.c: GET /dashboard (the page, embedded at build time from agent/dashboard.html) and
 * GET /dashboard/data (JSON: each connector's state and last error from the worker, each source's and
 * sink's figures as GET /metrics shows them, and the sampler's 15-minute ring). */
#include "agent/dashboard.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agent/metrics.h"
#include "schemas/clock.h"
#include "schemas/json.h"

/* agent/dashboard.html, NUL-terminated (the Makefile rebuilds this object when the page changes) */
__asm__(".section .rodata\n"
        ".global wc_dashboard_html\n"
        "wc_dashboard_html:\n"
        ".incbin \"agent/dashboard.html\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char wc_dashboard_html[];

static void jstr(buf_t *b, const char *s)
{
    json_enc_string(b, s ? s : "", s ? strlen(s) : 0);
}

static void jkey(buf_t *b, const char *k)
{
    buf_printf(b, "\"%s\":", k);
}

#define LD(p) atomic_load_explicit(&(p), memory_order_relaxed)

/* "name":[v, v, ...] of ring value idx, oldest first (-1 stays -1: not known then) */
static void ring_series(buf_t *b, const met_ring_t *r, const char *name, int idx)
{
    jkey(b, name);
    buf_putc(b, '[');
    for (size_t k = 0; k < r->n; k++) {
        const met_sample_t *s = &r->s[(r->head + MET_RING - r->n + k) % MET_RING];
        buf_printf(b, "%s%" PRId64, k ? "," : "", idx < 0 ? s->t_ms : s->v[idx]);
    }
    buf_putc(b, ']');
}

static void source_json(buf_t *b, const met_source_t *m, int64_t now_ms)
{
    buf_putc(b, '{');
    jkey(b, "connector"), jstr(b, m->connector);
    buf_putc(b, ','), jkey(b, "name"), jstr(b, m->name);
    buf_putc(b, ','), jkey(b, "slot"), jstr(b, m->slot);
    buf_printf(b, ",\"connected\":%d", LD(m->connected));
    buf_printf(b, ",\"events_total\":%" PRIu64, (uint64_t)(LD(m->seen) + LD(m->snap_read)));
    buf_printf(b, ",\"poll_rate\":%.6g", met_ring_rate(&m->ring, MS_EVENTS, 30000));
    buf_printf(b, ",\"behind_ms\":%" PRId64, (int64_t)LD(m->behind_ms));
    bool slot = LD(m->slot_known);
    buf_printf(b, ",\"slot_known\":%s", slot ? "true" : "false");
    if (slot) {
        buf_printf(b, ",\"slot_lag\":%" PRId64 ",\"wal_retained\":%" PRId64 ",\"safe_wal_size\":%" PRId64
                      ",\"max_keep\":%" PRId64,
                   (int64_t)LD(m->slot_lag), (int64_t)LD(m->wal_retained), (int64_t)LD(m->safe_wal_size),
                   (int64_t)LD(m->max_keep));
        buf_puts(b, ",\"wal_status\":"), jstr(b, met_wal_status_name(LD(m->wal_status)));
    }
    buf_printf(b, ",\"snapshot\":{\"running\":%d,\"completed\":%d,\"tables_total\":%" PRIu64 ",\"tables_remaining\":%" PRIu64
                  ",\"rows\":%" PRIu64 ",\"started_ms\":%" PRId64 ",\"ended_ms\":%" PRId64 "}",
               LD(m->snap_running), LD(m->snap_completed), (uint64_t)LD(m->tables_total), (uint64_t)LD(m->tables_remaining),
               (uint64_t)LD(m->snap_read), (int64_t)LD(m->snap_started_ms), (int64_t)LD(m->snap_ended_ms));
    buf_printf(b, ",\"now_ms\":%" PRId64 ",\"hist\":{", now_ms);
    ring_series(b, &m->ring, "t", -1);
    buf_putc(b, ','), ring_series(b, &m->ring, "events", MS_EVENTS);
    buf_putc(b, ','), ring_series(b, &m->ring, "behind_ms", MS_BEHIND_MS);
    buf_putc(b, ','), ring_series(b, &m->ring, "slot_lag", MS_SLOT_LAG);
    buf_putc(b, ','), ring_series(b, &m->ring, "wal_retained", MS_WAL_RETAINED);
    buf_puts(b, "}}");
}

static void sink_json(buf_t *b, const met_sink_t *m)
{
    const sk_stats_t *st = &m->st;
    uint64_t conflicts = 0;
    for (int t = 0; t < SK_CONFLICT_NTYPES; t++)
        conflicts += LD(st->conflicts[t]);
    int64_t e2e = LD(st->e2e_last_us);
    buf_putc(b, '{');
    jkey(b, "connector"), jstr(b, m->connector);
    if (m->task >= 0)
        buf_printf(b, ",\"task\":%d", m->task);
    buf_printf(b, ",\"applied_total\":%" PRIu64 ",\"send_rate\":%.6g,\"lag_records\":%" PRId64 ",\"lag_bytes\":%" PRId64
                  ",\"conflicts\":%" PRIu64 ",\"dead\":%" PRIu64 ",\"retries\":%" PRIu64,
               (uint64_t)LD(st->applied), met_ring_rate(&m->ring, MK_APPLIED, 30000), (int64_t)LD(st->lag_records),
               (int64_t)LD(st->lag_bytes), conflicts, (uint64_t)LD(st->dead), (uint64_t)LD(st->retries));
    /* seconds as /metrics shows them (walcast_sink_end_to_end_lag_last_seconds), and ms for the page */
    if (e2e < 0)
        buf_puts(b, ",\"e2e_last_s\":-1,\"e2e_last_ms\":-1");
    else
        buf_printf(b, ",\"e2e_last_s\":%.6g,\"e2e_last_ms\":%.3f", (double)e2e / 1e6, (double)e2e / 1e3);
    buf_puts(b, ",\"hist\":{");
    ring_series(b, &m->ring, "t", -1);
    buf_putc(b, ','), ring_series(b, &m->ring, "e2e_ms", MK_E2E_MS);
    buf_putc(b, ','), ring_series(b, &m->ring, "lag_records", MK_LAG_RECORDS);
    buf_putc(b, ','), ring_series(b, &m->ring, "applied", MK_APPLIED);
    buf_puts(b, "}}");
}
#undef LD

typedef struct dash_ctx {
    buf_t *b;
    int64_t now_ms;
} dash_ctx_t;

static void registry_json(void *ctx, const met_source_t *sources, const met_sink_t *sinks)
{
    dash_ctx_t *c = ctx;
    buf_puts(c->b, ",\"sources\":[");
    for (const met_source_t *m = sources; m; m = m->next) {
        if (m != sources)
            buf_putc(c->b, ',');
        source_json(c->b, m, c->now_ms);
    }
    buf_puts(c->b, "],\"sinks\":[");
    for (const met_sink_t *m = sinks; m; m = m->next) {
        if (m != sinks)
            buf_putc(c->b, ',');
        sink_json(c->b, m);
    }
    buf_putc(c->b, ']');
}

void dash_data(buf_t *b, wrk_t *w, int64_t now_ms)
{
    char **names = NULL;
    size_t n = w ? wrk_names(w, &names) : 0;
    buf_printf(b, "{\"now_ms\":%" PRId64 ",\"connectors\":[", now_ms);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        wrk_info_t in;
        if (wrk_info(w, names[i], &in) == WRK_OK) {
            buf_puts(b, first ? "{" : ",{");
            first = false;
            jkey(b, "name"), jstr(b, names[i]);
            buf_printf(b, ",\"type\":\"%s\",\"state\":\"%s\",\"task_state\":\"%s\",\"error\":", in.sink ? "sink" : "source",
                       wrk_state_name(in.state), in.ntasks ? wrk_state_name(in.task_state) : "");
            /* the first line of the trace: the error itself */
            const char *tr = in.task_trace ? in.task_trace : in.trace;
            if (tr)
                json_enc_string(b, tr, strcspn(tr, "\n"));
            else
                buf_puts(b, "null");
            buf_putc(b, '}');
            wrk_info_free(&in);
        }
        free(names[i]);
    }
    free(names);
    buf_putc(b, ']');
    dash_ctx_t c = { b, now_ms };
    met_with_registry(registry_json, &c);
    buf_putc(b, '}');
}

void dash_handle(void *worker, const http_req_t *req, http_resp_t *resp)
{
    bool page = !strcmp(req->path, "/dashboard") || !strcmp(req->path, "/dashboard/");
    if (http_refuse(req, resp, page || strcmp(req->path, "/dashboard/data") == 0))
        return;
    resp->status = 200;
    if (page) {
        resp->body = xstrdup(wc_dashboard_html);
        resp->content_type = "text/html; charset=utf-8";
        return;
    }
    buf_t b;
    buf_init(&b);
    dash_data(&b, worker, wc_wall_us() / 1000);
    resp->body = xstrdup(buf_cstr(&b));
    buf_free(&b);
}
