/* snapshot.c: the rows that existed before the stream, as Debezium's op 'r' events, consistent with
 * the stream, parallel, exactly-once and resumable. Reasoning (also in README.md, "Snapshots"):
 *
 * Initial snapshot. The slot is created with an exported snapshot (CREATE_REPLICATION_SLOT ...
 * (SNAPSHOT 'export')); its consistent point C is where the stream of that slot starts. A planner
 * connection and snapshot.max.threads reader connections import it (BEGIN ISOLATION LEVEL REPEATABLE
 * READ; SET TRANSACTION SNAPSHOT) before the replication connection runs any other command, so
 * every row they read is the database exactly at C: rows + the stream from C = the database, nothing
 * missed or doubled. Tables are split into primary-key ranges of walcast.snapshot.chunk.rows rows
 * (boundaries read in key order inside the same snapshot); readers fetch chunks with a cursor
 * (snapshot.fetch.size rows a fetch, at most two fetches queued per chunk: bounded memory) and the
 * connector thread emits them in plan order, so the markers come out as Debezium writes them.
 *
 * Exactly-once. Rows go through the same Kafka transactions as streamed changes. A Kafka transaction
 * is committed only at a chunk boundary, and its offset record lists the chunks not yet emitted
 * (walcast_snapshot), so a committed chunk is never read again and an aborted one always is.
 *
 * Resume. After a crash the exported snapshot is gone (it lived as long as the replication
 * connection). The chunks left are read by the watermark method of DBLog (the machinery of
 * incremental snapshots) while the slot streams from C: for each chunk walcast writes a low
 * watermark (pg_logical_emit_message, non-transactional, so it is decoded at its own WAL position),
 * reads the chunk in a REPEATABLE READ transaction whose snapshot S it records
 * (pg_current_snapshot()), writes a high watermark, and keeps the rows in memory. Streamed changes
 * are published as usual; a change of the chunk's table that arrives after the low watermark, or
 * whose transaction S does not see, removes its key from the buffer (the change is newer than or
 * absent from the row read); at the high watermark the rows left are emitted. Every transaction S
 * sees committed before the high watermark was written, so it is streamed before the rows; a
 * transaction S does not see either streams before the high watermark (its key dropped, its event
 * carries the newer state) or after it (its event follows the row). So for every key the last event
 * a consumer sees carries the current state. The one assumption: a transaction whose commit walcast
 * had already received before it wrote the low watermark is visible to S (PostgreSQL marks a commit
 * visible right after flushing it, before a walsender can decode it).
 */
#include "agent/snapshot.h"
#include "agent/snapshot_int.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "agent/coder.h"
#include "agent/connector.h"
#include "agent/log.h"
#include "agent/replication.h"
#include "schemas/converter.h"
#include "schemas/transform.h"


static char **strv_dup(const char *const *v, size_t n)
{
    if (!v)
        return NULL;
    char **o = xcalloc(n ? n : 1, sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = xstrdup(v[i]);
    return o;
}

void snap_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ------------------------------------------------------------------ pure parts */

void snap_plan_free(snap_plan_t *p)
{
    for (size_t i = 0; i < p->nchunks; i++) {
        size_t nk = p->tables[p->chunks[i].table].nkey;
        snap_strv_free(p->chunks[i].lo, nk);
        snap_strv_free(p->chunks[i].hi, nk);
    }
    for (size_t i = 0; i < p->ntables; i++) {
        snap_table_t *t = &p->tables[i];
        free(t->schema);
        free(t->name);
        snap_strv_free(t->key, t->nkey);
        snap_strv_free(t->keytype, t->nkey);
        free(t->override);
        free(t->filter);
    }
    free(p->chunks);
    free(p->tables);
    memset(p, 0, sizeof *p);
}

size_t snap_plan_add_table(snap_plan_t *p, const char *schema, const char *name, size_t nkey, const char *const *key,
                           const char *const *keytype, const char *override)
{
    p->tables = xrealloc(p->tables, (p->ntables + 1) * sizeof *p->tables);
    snap_table_t *t = &p->tables[p->ntables];
    memset(t, 0, sizeof *t);
    t->schema = xstrdup(schema);
    t->name = xstrdup(name);
    t->nkey = nkey;
    t->key = strv_dup(key, nkey);
    t->keytype = strv_dup(keytype, nkey);
    t->override = xstrdup(override);
    return p->ntables++;
}

void snap_plan_add_chunk(snap_plan_t *p, size_t ti, const char *const *lo, const char *const *hi)
{
    p->chunks = xrealloc(p->chunks, (p->nchunks + 1) * sizeof *p->chunks);
    snap_chunk_t *c = &p->chunks[p->nchunks++];
    memset(c, 0, sizeof *c);
    c->table = ti;
    size_t nk = p->tables[ti].nkey;
    c->lo = nk ? strv_dup(lo, nk) : NULL;
    c->hi = nk ? strv_dup(hi, nk) : NULL;
    p->tables[ti].chunks++;
}

static void key_tuple(buf_t *b, const snap_table_t *t)
{
    buf_putc(b, '(');
    for (size_t k = 0; k < t->nkey; k++) {
        if (k)
            buf_putc(b, ',');
        buf_put_quoted(b, t->key[k], '"');
    }
    buf_putc(b, ')');
}

/* ($n::type, ...): the bound's texts cast to the key columns' types (type names from format_type,
 * which quotes what needs quoting). */
static void param_tuple(buf_t *b, const snap_table_t *t, int first)
{
    buf_putc(b, '(');
    for (size_t k = 0; k < t->nkey; k++)
        buf_printf(b, "%s$%d::%s", k ? "," : "", first + (int)k, t->keytype[k]);
    buf_putc(b, ')');
}

void snap_chunk_sql(buf_t *b, const snap_plan_t *p, const snap_chunk_t *c, const char *const *cols, size_t ncols)
{
    const snap_table_t *t = &p->tables[c->table];
    if (t->override) {
        buf_puts(b, t->override);
        return;
    }
    buf_puts(b, "SELECT ");
    if (!cols || !ncols)
        buf_putc(b, '*');
    for (size_t i = 0; cols && i < ncols; i++) {
        if (i)
            buf_putc(b, ',');
        buf_put_quoted(b, cols[i], '"');
    }
    buf_puts(b, " FROM ");
    buf_put_quoted(b, t->schema, '"');
    buf_putc(b, '.');
    buf_put_quoted(b, t->name, '"');
    if (t->filter) {
        buf_puts(b, " WHERE (");
        buf_puts(b, t->filter);
        buf_puts(b, ")");
    }
    if (!t->nkey)
        return;
    int n = 1;
    if (c->lo || c->hi)
        buf_puts(b, t->filter ? " AND " : " WHERE ");
    if (c->lo) {
        key_tuple(b, t);
        buf_puts(b, " > ");
        param_tuple(b, t, n);
        n += (int)t->nkey;
    }
    if (c->hi) {
        if (c->lo)
            buf_puts(b, " AND ");
        key_tuple(b, t);
        buf_puts(b, " <= ");
        param_tuple(b, t, n);
    }
    buf_puts(b, " ORDER BY ");
    for (size_t k = 0; k < t->nkey; k++) {
        if (k)
            buf_putc(b, ',');
        buf_put_quoted(b, t->key[k], '"');
    }
}

int snap_chunk_params(const snap_plan_t *p, const snap_chunk_t *c, const char **params)
{
    const snap_table_t *t = &p->tables[c->table];
    int n = 0;
    if (t->override || !t->nkey)
        return 0;
    for (size_t k = 0; c->lo && k < t->nkey; k++)
        params[n++] = c->lo[k];
    for (size_t k = 0; c->hi && k < t->nkey; k++)
        params[n++] = c->hi[k];
    return n;
}

/* Debezium's RelationalSnapshotChangeEventSource: the last row of the last table is "last" (its
 * buffering receiver marks the last record of all), the first row of the first table "first",
 * then the last and first of each table. */
const char *snap_marker(bool first_table, bool first_in_table, bool last_in_table, bool last_of_all)
{
    if (last_of_all)
        return "last";
    if (first_table && first_in_table)
        return "first";
    if (last_in_table)
        return "last_in_data_collection";
    if (first_in_table)
        return "first_in_data_collection";
    return "true";
}

static json_t *strv_json(char *const *v, size_t n)
{
    if (!v)
        return json_null();
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

void snap_state_json(const snap_plan_t *p, buf_t *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "lsn", json_integer((json_int_t)p->lsn));
    json_object_set_new(o, "txId", json_integer((json_int_t)p->txid));
    json_t *tables = json_array();
    for (size_t ti = 0; ti < p->ntables; ti++) {
        const snap_table_t *t = &p->tables[ti];
        json_t *chunks = json_array();
        for (size_t i = 0; i < p->nchunks; i++) {
            const snap_chunk_t *c = &p->chunks[i];
            /* still to read: not read yet, or read into a Kafka transaction that is not this offset record's
             * (the other lane's, snap_offsets) */
            if (c->table != ti || (c->state != SNAP_TODO && c->state != SNAP_EMITTED))
                continue;
            json_t *r = json_array();
            json_array_append_new(r, strv_json(c->lo, t->nkey));
            json_array_append_new(r, strv_json(c->hi, t->nkey));
            json_array_append_new(chunks, r);
        }
        if (!json_array_size(chunks)) {
            json_decref(chunks);
            continue;
        }
        json_t *jt = json_object();
        json_object_set_new(jt, "schema", json_string(t->schema));
        json_object_set_new(jt, "table", json_string(t->name));
        json_object_set_new(jt, "key", strv_json(t->key, t->nkey));
        json_object_set_new(jt, "types", strv_json(t->keytype, t->nkey));
        if (t->override)
            json_object_set_new(jt, "override", json_string(t->override));
        if (t->filter)
            json_object_set_new(jt, "filter", json_string(t->filter));
        json_object_set_new(jt, "chunks", chunks);
        json_array_append_new(tables, jt);
    }
    json_object_set_new(o, "tables", tables);
    char *s = json_dumps(o, JSON_COMPACT);
    buf_puts(b, s);
    free(s);
    json_decref(o);
}

static bool json_strv(json_t *a, size_t n, const char **out)
{
    if (!json_is_array(a) || json_array_size(a) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v))
            return false;
        out[i] = json_string_value(v);
    }
    return true;
}

int snap_state_parse(const char *text, snap_plan_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    json_t *tables = o ? json_object_get(o, "tables") : NULL;
    if (!json_is_object(o) || !json_is_array(tables)) {
        snprintf(err, errlen, "walcast_snapshot in the offsets is not a snapshot plan: %s", o ? "no tables" : je.text);
        json_decref(o);
        return -1;
    }
    p->lsn = (uint64_t)json_integer_value(json_object_get(o, "lsn"));
    p->txid = (int64_t)json_integer_value(json_object_get(o, "txId"));
    size_t i;
    json_t *jt;
    json_array_foreach(tables, i, jt) {
        json_t *key = json_object_get(jt, "key"), *types = json_object_get(jt, "types"), *chunks = json_object_get(jt, "chunks");
        json_t *schema = json_object_get(jt, "schema"), *table = json_object_get(jt, "table");
        json_t *ov = json_object_get(jt, "override");
        size_t nk = json_is_array(key) ? json_array_size(key) : 0;
        const char *kv[64], *tv[64], *lo[64], *hi[64];
        if (!json_is_string(schema) || !json_is_string(table) || !json_is_array(chunks) || nk > 64 ||
            (nk && (!json_strv(key, nk, kv) || !json_strv(types, nk, tv)))) {
            snprintf(err, errlen, "walcast_snapshot in the offsets: table %zu is malformed", i);
            json_decref(o);
            snap_plan_free(p);
            return -1;
        }
        size_t ti = snap_plan_add_table(p, json_string_value(schema), json_string_value(table), nk, kv, tv,
                                        json_is_string(ov) ? json_string_value(ov) : NULL);
        json_t *jf = json_object_get(jt, "filter");
        if (json_is_string(jf))
            p->tables[ti].filter = xstrdup(json_string_value(jf));
        size_t j;
        json_t *c;
        json_array_foreach(chunks, j, c) {
            json_t *jl = json_array_get(c, 0), *jh = json_array_get(c, 1);
            bool ok = json_is_array(c) && json_array_size(c) == 2 && (json_is_null(jl) || json_strv(jl, nk, lo)) &&
                      (json_is_null(jh) || json_strv(jh, nk, hi));
            if (!ok) {
                snprintf(err, errlen, "walcast_snapshot in the offsets: chunk %zu of %s.%s is malformed", j,
                         json_string_value(schema), json_string_value(table));
                json_decref(o);
                snap_plan_free(p);
                return -1;
            }
            snap_plan_add_chunk(p, ti, json_is_null(jl) ? NULL : lo, json_is_null(jh) ? NULL : hi);
        }
    }
    json_decref(o);
    return 0;
}

int snap_xsnap_parse(const char *s, snap_xsnap_t *x)
{
    memset(x, 0, sizeof *x);
    char *end;
    x->xmin = strtoull(s, &end, 10);
    if (*end != ':')
        return -1;
    x->xmax = strtoull(end + 1, &end, 10);
    if (*end != ':')
        return -1;
    const char *p = end + 1;
    while (*p) {
        uint64_t v = strtoull(p, &end, 10);
        if (end == p)
            return -1;
        x->xip = xrealloc(x->xip, (x->nxip + 1) * sizeof *x->xip);
        x->xip[x->nxip++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return 0;
}

void snap_xsnap_free(snap_xsnap_t *x)
{
    free(x->xip);
    memset(x, 0, sizeof *x);
}

bool snap_xsnap_visible(const snap_xsnap_t *x, uint32_t xid)
{
    /* widen the 32-bit xid with xmax's epoch; one beyond xmax is from the epoch before */
    uint64_t full = (x->xmax & ~(uint64_t)0xffffffff) | xid;
    if (full > x->xmax && full >= ((uint64_t)1 << 32))
        full -= (uint64_t)1 << 32;
    if (full < x->xmin)
        return true;
    if (full >= x->xmax)
        return false;
    for (size_t i = 0; i < x->nxip; i++)
        if (x->xip[i] == full)
            return false;
    return true;
}

bool snap_included(const flt_list_t *l, const char *schema, const char *table)
{
    if (!l || !l->n)
        return true;
    char name[1024];
    snprintf(name, sizeof name, "%s.%s", schema, table);
    return flt_list_match(l, name);
}

/* ------------------------------------------------------------------ agent side */


static void batch_free(snap_batch_t *b)
{
    if (b->res)
        PQclear(b->res);
    buf_free(&b->data);
    free(b->recs);
    free(b);
}

snap_t *snap_new(const conn_config_t *cfg, pgt_catalog_t *types, evt_ctx_t *evt, const snap_hooks_t *hooks)
{
    snap_t *s = xcalloc(1, sizeof *s);
    s->cfg = cfg;
    s->types = types;
    s->evt = evt;
    s->hooks = *hooks;
    s->arena = arena_new(64 * 1024);
    buf_init(&s->state);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->wm_mu, NULL);
    pthread_cond_init(&s->wm_cv, NULL);
    return s;
}

void snap_free(snap_t *s)
{
    if (!s)
        return;
    snap_wm_stop(s);
    if (s->sigrk) {
        rd_kafka_consumer_close(s->sigrk);
        rd_kafka_destroy(s->sigrk);
    }
    snap_plan_free(&s->plan);
    rel_cache_free(s->rels);
    free(s->relids);
    snap_colmap_free(&s->colmap);
    arena_free(s->arena);
    buf_free(&s->state);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->wm_mu);
    pthread_cond_destroy(&s->wm_cv);
    free(s);
}

const snap_progress_t *snap_progress(const snap_t *s) { return &s->prog; }

uint64_t snap_encoded_rows(const snap_t *s) { return s ? s->encoded_rows : 0; }
const snap_plan_t *snap_plan(const snap_t *s) { return &s->plan; }
bool snap_finished(const snap_t *s) { return s->finished; }

bool snap_active(const snap_t *s)
{
    if (!s->have_plan || s->finished)
        return false;
    for (size_t i = 0; i < s->plan.nchunks; i++)
        if (s->plan.chunks[i].state == SNAP_TODO)
            return true;
    return false;
}

void snap_prog_reset(snap_t *s)
{
    snap_progress_t *p = &s->prog;
    p->running = true;
    p->completed = false;
    p->tables_total = s->plan.ntables;
    p->tables_remaining = s->plan.ntables;
    p->chunks_total = s->plan.nchunks;
    p->chunks_done = 0;
    p->rows_scanned = 0;
    p->started_us = wc_wall_us();
}

void snap_prog_rows(snap_t *s, size_t ci, uint64_t n)
{
    s->plan.chunks[ci].rows += n;
    s->plan.tables[s->plan.chunks[ci].table].rows += n;
    s->prog.rows_scanned += n;
    double secs = (double)(wc_wall_us() - s->prog.started_us) / 1e6;
    s->prog.rows_per_s = secs > 0 ? (double)s->prog.rows_scanned / secs : 0;
}

void snap_prog_unrows(snap_t *s, size_t ci)
{
    snap_chunk_t *c = &s->plan.chunks[ci];
    snap_table_t *t = &s->plan.tables[c->table];
    t->rows -= c->rows <= t->rows ? c->rows : t->rows;
    s->prog.rows_scanned -= c->rows <= s->prog.rows_scanned ? c->rows : s->prog.rows_scanned;
    c->rows = 0;
}

/* One log line per table when its last chunk is emitted. */
static void table_chunk_emitted(snap_t *s, size_t ti)
{
    snap_table_t *t = &s->plan.tables[ti];
    t->chunks_done++;
    s->prog.chunks_done++;
    if (t->chunks_done < t->chunks || t->finished)
        return;
    t->finished = true;
    if (s->prog.tables_remaining)
        s->prog.tables_remaining--;
    double secs = t->started_us ? (double)(wc_wall_us() - t->started_us) / 1e6 : 0;
    log_info("snapshot of table finished", "connector=%s table=%s.%s rows=%llu chunks=%zu seconds=%.3f tables_remaining=%zu",
             s->cfg->name, t->schema, t->name, (unsigned long long)t->rows, t->chunks, secs, s->prog.tables_remaining);
}

void snap_offsets(snap_t *s, int lane, bool *snapshot, bool *last, bool *completed, const char **state)
{
    *snapshot = *last = *completed = false;
    *state = NULL;
    /* snapshot.mode=initial_only never streams: every record after the completion's says it, as Debezium's
     * last offset does (a snapshot finished with watermarks still commits what streamed on the way out) */
    if (s && s->finished && !s->incremental && strcmp(s->cfg->snapshot_mode, "initial_only") == 0) {
        *snapshot = *last = *completed = true;
        return;
    }
    if (!s || !s->have_plan || s->finished || s->completion_committing)
        return;
    if (s->incremental) {
        /* only walcast's own key: the chunks left (Debezium's incremental_snapshot_* keys are not written) */
        bool todo = false;
        for (size_t i = 0; i < s->plan.nchunks; i++) {
            snap_chunk_t *c = &s->plan.chunks[i];
            if (c->state == SNAP_EMITTED && c->lane == lane)
                c->state = SNAP_COMMITTING;
            if (c->state == SNAP_TODO || c->state == SNAP_EMITTED)
                todo = true;
        }
        if (!todo && !snap_wm_inflight(s)) {
            s->completion_committing = true;
            return;
        }
        buf_reset(&s->state);
        snap_state_json(&s->plan, &s->state);
        *state = buf_cstr(&s->state);
        return;
    }
    bool todo = false;
    for (size_t i = 0; i < s->plan.nchunks; i++) {
        snap_chunk_t *c = &s->plan.chunks[i];
        if (c->state == SNAP_EMITTED && c->lane == lane)
            c->state = SNAP_COMMITTING;
        if (c->state == SNAP_TODO || c->state == SNAP_EMITTED)
            todo = true;
    }
    *snapshot = true;
    if (!todo && !snap_wm_inflight(s)) {
        *last = *completed = true;
        s->completion_committing = true;
    }
    buf_reset(&s->state);
    snap_state_json(&s->plan, &s->state);
    *state = buf_cstr(&s->state);
}

void snap_committed(snap_t *s)
{
    if (!s || !s->have_plan)
        return;
    for (size_t i = 0; i < s->plan.nchunks; i++)
        if (s->plan.chunks[i].state == SNAP_COMMITTING)
            s->plan.chunks[i].state = SNAP_DONE;
    if (s->completion_committing && !s->finished) {
        s->finished = true;
        s->prog.running = false;
        s->prog.completed = true;
        log_info("snapshot completed", "connector=%s tables=%zu chunks=%zu rows=%llu rows_per_s=%.0f", s->cfg->name,
                 s->plan.ntables, s->plan.nchunks, (unsigned long long)s->prog.rows_scanned, s->prog.rows_per_s);
    }
}

void snap_rewind(snap_t *s)
{
    if (!s || !s->have_plan)
        return;
    s->completion_committing = false;
    for (size_t i = 0; i < s->plan.nchunks; i++) {
        snap_chunk_t *c = &s->plan.chunks[i];
        /* read again: its rows (also those of a chunk cut short) are counted then */
        if (c->state != SNAP_DONE)
            snap_prog_unrows(s, i);
        if (c->state == SNAP_EMITTED || c->state == SNAP_COMMITTING) {
            c->state = SNAP_TODO;
            snap_table_t *t = &s->plan.tables[c->table];
            if (t->chunks_done)
                t->chunks_done--;
            if (t->finished) {
                t->finished = false;
                s->prog.tables_remaining++;
            }
            if (s->prog.chunks_done)
                s->prog.chunks_done--;
        }
    }
    snap_wm_reset(s);
}

int snap_exec_ok(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(r);
        snprintf(err, errlen, "%.60s: %.*s", sql, (int)strcspn(m, "\n"), m);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

PGresult *snap_query(PGconn *c, const char *sql, int n, const char *const *params, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorMessage(r);
        snprintf(err, errlen, "snapshot query failed: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* snapshot.isolation.mode: an imported snapshot needs REPEATABLE READ (a SERIALIZABLE transaction
 * cannot import a walsender's snapshot), so every mode reads at the slot's snapshot; the others are
 * accepted for Debezium's sake and said so. */
static const char *isolation_sql(const conn_config_t *cfg)
{
    (void)cfg;
    return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
}

static int import_snapshot(PGconn *c, const conn_config_t *cfg, const char *name, char *err, size_t errlen)
{
    if (snap_exec_ok(c, isolation_sql(cfg), err, errlen) < 0)
        return -1;
    buf_t b;
    buf_init(&b);
    char *lit = PQescapeLiteral(c, name, strlen(name));
    buf_printf(&b, "SET TRANSACTION SNAPSHOT %s", lit ? lit : "''");
    PQfreemem(lit);
    int rc = snap_exec_ok(c, buf_cstr(&b), err, errlen);
    buf_free(&b);
    return rc;
}

bool snap_is_signal_name(const conn_config_t *cfg, const char *schema, const char *table)
{
    if (!cfg->signal_collection)
        return false;
    char full[1024];
    snprintf(full, sizeof full, "%s.%s", schema, table);
    return strcmp(full, cfg->signal_collection) == 0;
}

/* Whether t has no row (after the key lo, when given). */
static int table_empty(PGconn *c, const snap_table_t *t, const char *const *lo, bool *empty, char *err, size_t errlen)
{
    buf_t sql;
    buf_init(&sql);
    buf_puts(&sql, "SELECT 1 FROM ");
    buf_put_quoted(&sql, t->schema, '"');
    buf_putc(&sql, '.');
    buf_put_quoted(&sql, t->name, '"');
    if (lo) {
        buf_puts(&sql, " WHERE ");
        key_tuple(&sql, t);
        buf_puts(&sql, " > ");
        param_tuple(&sql, t, 1);
    }
    buf_puts(&sql, " LIMIT 1");
    PGresult *r = snap_query(c, buf_cstr(&sql), lo ? (int)t->nkey : 0, lo, err, errlen);
    buf_free(&sql);
    if (!r)
        return -1;
    *empty = PQntuples(r) == 0;
    PQclear(r);
    return 0;
}

/* The captured tables (publication, include/exclude lists, snapshot.include.collection.list) with
 * their primary keys; chunk boundaries read in key order when chunk_bounds. */
int snap_plan_build(snap_t *s, PGconn *c, bool chunk_bounds, const snap_signal_t *sig, char *err, size_t errlen)
{
    const conn_config_t *cfg = s->cfg;
    const char *params[1] = { cfg->publication_name };
    PGresult *tabs = snap_query(c,
                           "SELECT n.nspname, c.relname, c.oid::text, c.reltuples::bigint FROM pg_publication_tables pt "
                           "JOIN pg_namespace n ON n.nspname = pt.schemaname "
                           "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
                           "WHERE pt.pubname = $1 ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"",
                           1, params, err, errlen);
    if (!tabs)
        return -1;
    int rc = -1;
    buf_t sql;
    buf_init(&sql);
    for (int i = 0; i < PQntuples(tabs); i++) {
        const char *ns = PQgetvalue(tabs, i, 0), *rel = PQgetvalue(tabs, i, 1), *oid = PQgetvalue(tabs, i, 2);
        if (!flt_table_included(&cfg->filters, ns, rel))
            continue;
        if (sig ? !snap_included(&sig->collections, ns, rel) || !sig->collections.n
                : !snap_included(&cfg->snapshot_include, ns, rel))
            continue;
        if (sig && snap_is_signal_name(cfg, ns, rel))
            continue;
        const char *kp[1] = { oid };
        PGresult *keys = snap_query(c,
                               "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
                               "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord) "
                               "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                               "WHERE i.indrelid = $1::oid AND i.indisprimary ORDER BY k.ord", 1, kp, err, errlen);
        if (!keys)
            goto out;
        size_t nk = (size_t)PQntuples(keys);
        const char *kn[64], *kt[64];
        if (nk > 64)
            nk = 0;
        for (size_t k = 0; k < nk; k++) {
            kn[k] = PQgetvalue(keys, (int)k, 0);
            kt[k] = PQgetvalue(keys, (int)k, 1);
        }
        char full[1024];
        snprintf(full, sizeof full, "%s.%s", ns, rel);
        const char *override = sig ? NULL : cfg_get(&cfg->snapshot_overrides, full);
        size_t ti = snap_plan_add_table(&s->plan, ns, rel, override ? 0 : nk, kn, kt, override);
        const char *filter = sig ? snap_signal_filter(sig, ns, rel) : NULL;
        if (filter)
            s->plan.tables[ti].filter = xstrdup(filter);
        s->relids = xrealloc(s->relids, s->plan.ntables * sizeof *s->relids);
        s->relids[ti] = (uint32_t)strtoul(oid, NULL, 10);
        PQclear(keys);
        snap_table_t *t = &s->plan.tables[ti];
        if (override)
            log_info("snapshot of table uses snapshot.select.statement.overrides (read whole)", "table=%s", full);
        else if (!t->nkey)
            log_info("table has no primary key: its snapshot is read whole, in one chunk", "table=%s", full);
        if (!t->nkey || !chunk_bounds) {
            if (!override && table_empty(c, t, NULL, &s->plan.tables[ti].empty, err, errlen) < 0)
                goto out;
            snap_plan_add_chunk(&s->plan, ti, NULL, NULL);
            continue;
        }
        /* boundaries: every chunk_rows-th key in key order (an index-only walk of the key) */
        buf_reset(&sql);
        buf_puts(&sql, "SELECT ");
        for (size_t k = 0; k < t->nkey; k++) {
            if (k)
                buf_putc(&sql, ',');
            buf_put_quoted(&sql, t->key[k], '"');
        }
        buf_puts(&sql, " FROM ");
        buf_put_quoted(&sql, t->schema, '"');
        buf_putc(&sql, '.');
        buf_put_quoted(&sql, t->name, '"');
        size_t base = sql.len;
        char **lo = NULL;
        for (;;) {
            sql.len = base;
            snap_chunk_t probe = { .table = ti, .lo = lo };
            if (lo) {
                buf_puts(&sql, " WHERE ");
                key_tuple(&sql, t);
                buf_puts(&sql, " > ");
                param_tuple(&sql, t, 1);
            }
            buf_puts(&sql, " ORDER BY ");
            for (size_t k = 0; k < t->nkey; k++) {
                if (k)
                    buf_putc(&sql, ',');
                buf_put_quoted(&sql, t->key[k], '"');
            }
            buf_printf(&sql, " OFFSET %d LIMIT 1", (s->incremental ? cfg->incremental_chunk_rows : cfg->snapshot_chunk_rows) - 1);
            const char *pv[64];
            int np = lo ? snap_chunk_params(&s->plan, &probe, pv) : 0;
            PGresult *r = snap_query(c, buf_cstr(&sql), np, pv, err, errlen);
            if (!r) {
                snap_strv_free(lo, t->nkey);
                goto out;
            }
            if (PQntuples(r) == 0) {
                PQclear(r);
                /* the last chunk is never empty (an encoder thread marks the last row of a table
                 * from the plan): no row after the last boundary closes the chunk before it */
                bool none;
                if (table_empty(c, t, (const char *const *)lo, &none, err, errlen) < 0) {
                    snap_strv_free(lo, t->nkey);
                    goto out;
                }
                if (!lo)
                    t->empty = none;
                if (lo && none) {
                    snap_chunk_t *prev = &s->plan.chunks[s->plan.nchunks - 1];
                    snap_strv_free(prev->hi, t->nkey);
                    prev->hi = NULL;
                } else {
                    snap_plan_add_chunk(&s->plan, ti, (const char *const *)lo, NULL);
                }
                break;
            }
            const char *hi[64];
            for (size_t k = 0; k < t->nkey; k++)
                hi[k] = PQgetvalue(r, 0, (int)k);
            snap_plan_add_chunk(&s->plan, ti, (const char *const *)lo, hi);
            snap_strv_free(lo, t->nkey);
            lo = strv_dup(hi, t->nkey);
            PQclear(r);
            t = &s->plan.tables[ti];
        }
        snap_strv_free(lo, t->nkey);
    }
    rc = 0;
out:
    buf_free(&sql);
    PQclear(tabs);
    return rc;
}

/* Installs a snapshot table's relation (as pgoutput would describe it) and its event state. */
static rel_table_t *table_install_in(snap_t *s, repl_t *r, size_t ti, bool fresh, rel_cache_t *rels, evt_ctx_t *evt,
                                     char *err, size_t errlen)
{
    uint32_t relid = s->relids[ti];
    rel_table_t *t = rel_cache_get(rels, relid);
    if (t && !fresh)
        return t;
    char rid[16];
    snprintf(rid, sizeof rid, "%u", relid);
    const char *params[1] = { rid };
    PGresult *res = snap_query(r->sql,
                          "SELECT a.attname, a.atttypid, a.atttypmod, c.relreplident, "
                          "EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY(i.indkey)) "
                          "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
                          "WHERE c.oid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum",
                          1, params, err, errlen);
    if (!res)
        return NULL;
    arena_t *a = arena_new(8192);
    pgo_msg_t m = { .type = PGO_RELATION };
    int n = PQntuples(res);
    m.u.relation.relid = relid;
    m.u.relation.nspname = s->plan.tables[ti].schema;
    m.u.relation.relname = s->plan.tables[ti].name;
    m.u.relation.replident = n ? PQgetvalue(res, 0, 3)[0] : 'd';
    m.u.relation.natts = (uint16_t)n;
    m.u.relation.atts = arena_zalloc(a, (size_t)(n ? n : 1) * sizeof *m.u.relation.atts);
    for (int i = 0; i < n; i++) {
        pgo_att_t *at = &m.u.relation.atts[i];
        at->name = arena_strdup(a, PQgetvalue(res, i, 0));
        at->typid = (uint32_t)strtoul(PQgetvalue(res, i, 1), NULL, 10);
        at->typmod = (int32_t)strtol(PQgetvalue(res, i, 2), NULL, 10);
        at->flags = PQgetvalue(res, i, 4)[0] == 't' ? PGO_ATT_KEY : 0;
    }
    PQclear(res);
    rel_catinfo_t info;
    if (repl_table_info(r, relid, a, &info, err, errlen) != WC_OK || rel_cache_put(rels, s->types, &m, &info, &t, err, errlen) < 0 ||
        evt_table_prepare(evt, t, err, errlen) != WC_OK)
        t = NULL;
    arena_free(a);
    return t;
}

rel_table_t *snap_table_install(snap_t *s, repl_t *r, size_t ti, bool fresh, char *err, size_t errlen)
{
    return table_install_in(s, r, ti, fresh, s->rels, s->evt, err, errlen);
}

/* Column names of the relation, for the chunk SELECT. */
const char **snap_rel_cols(const rel_table_t *t, arena_t *a)
{
    const char **c = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *c);
    for (size_t i = 0; i < t->ncols; i++)
        c[i] = t->cols[i].name;
    return c;
}

/* Maps result columns onto the relation's (by name: an override may list them in any order). */
int snap_row_tuple(const rel_table_t *t, PGresult *res, int row, const int *map, pgo_tuple_t *tup)
{
    for (size_t i = 0; i < t->ncols; i++) {
        pgo_col_t *c = &tup->cols[i];
        int f = map[i];
        if (f < 0 || PQgetisnull(res, row, f)) {
            c->kind = PGO_COL_NULL;
            c->len = 0;
            c->data = NULL;
        } else {
            c->kind = PGO_COL_TEXT;
            c->data = PQgetvalue(res, row, f);
            c->len = (uint32_t)PQgetlength(res, row, f);
        }
    }
    tup->ncols = (uint16_t)t->ncols;
    return 0;
}

int snap_res_col(const PGresult *res, const char *name)
{
    int f = PQfnumber(res, name);
    if (f >= 0)
        return f;
    buf_t q;
    buf_init(&q);
    buf_put_quoted(&q, name, '"');
    f = PQfnumber(res, buf_cstr(&q));
    buf_free(&q);
    return f;
}

void snap_col_map(const rel_table_t *t, PGresult *res, int *map)
{
    for (size_t i = 0; i < t->ncols; i++)
        map[i] = snap_res_col(res, t->cols[i].name);
}

const int *snap_colmap_for(snap_colmap_t *m, const rel_table_t *t, PGresult *res)
{
    if (m->res != res || m->table != t) {
        size_t n = t->ncols ? t->ncols : 1;
        if (n > m->cap) {
            m->map = xrealloc(m->map, n * sizeof *m->map);
            m->cap = n;
        }
        snap_col_map(t, res, m->map);
        m->res = res;
        m->table = t;
    }
    return m->map;
}

void snap_colmap_forget(snap_colmap_t *m)
{
    m->res = NULL;
    m->table = NULL;
}

void snap_colmap_free(snap_colmap_t *m)
{
    free(m->map);
    *m = (snap_colmap_t){ 0 };
}

/* ---- the exported run: reader threads ---- */


typedef struct reader_arg {
    snap_t *s;
    int id;
} reader_arg_t;

static void reader_fail_status(snap_t *s, const char *e, wc_status_t st)
{
    pthread_mutex_lock(&s->mu);
    if (!s->reader_failed) {
        s->reader_failed = true;
        s->reader_status = st;
        snprintf(s->reader_err, sizeof s->reader_err, "%s", e);
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void reader_fail(snap_t *s, const char *e)
{
    pthread_mutex_lock(&s->mu);
    if (!s->reader_failed) {
        s->reader_failed = true;
        s->reader_status = WC_RETRY;
        snprintf(s->reader_err, sizeof s->reader_err, "%s", e);
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Batches queued per chunk before its reader waits (memory: see ENC_BATCH_BYTES). */
#define SNAP_QUEUED_MAX 2

/* Queues one batch for the chunk (consumed: freed on failure); waits while SNAP_QUEUED_MAX are queued.
 * Wake-ups go only where they are waited for: the connector thread waits for the chunk it sends (emitting),
 * a reader for room in its own chunk (slot.room). With one condition variable for all, every batch woke
 * every thread: with 2 readers the one reading ahead was woken by each batch the connector took from the
 * other's chunk, and the connector by each batch queued ahead (~1.6x the context switches of one reader,
 * issue 21), on 2 cores where librdkafka's broker thread, which builds the next Produce request, waits
 * for a core meanwhile. */
static bool push_batch_b(snap_t *s, size_t ci, snap_batch_t *b)
{
    pthread_mutex_lock(&s->mu);
    if (s->slots[ci].queued >= SNAP_QUEUED_MAX && !s->quit) {
        int64_t t0 = wc_mono_us();
        while (s->slots[ci].queued >= SNAP_QUEUED_MAX && !s->quit) {
            pthread_cond_wait(&s->slots[ci].room, &s->mu);
            if (s->slots[ci].queued >= SNAP_QUEUED_MAX && !s->quit)
                s->needless_wakeups++;
        }
        s->wait_queue_us += wc_mono_us() - t0;
    }
    if (s->quit) {
        pthread_mutex_unlock(&s->mu);
        batch_free(b);
        return false;
    }
    snap_slot_t *sl = &s->slots[ci];
    if (sl->tail)
        sl->tail->next = b;
    else
        sl->head = b;
    sl->tail = b;
    sl->queued++;
    if (ci == s->emitting || ci == s->emitting2)
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return true;
}

/* Rows (NULL: the chunk's end) for the connector thread to encode. */
static bool push_batch(snap_t *s, size_t ci, PGresult *res)
{
    snap_batch_t *b = xcalloc(1, sizeof *b);
    b->res = res;
    return push_batch_b(s, ci, b);
}

/* ---- parallel encoding: each reader has its own event builder, converter and relations ---- */

/* Logs the values the reader's last evt_read sent as null (event.converting.failure.handling.mode). */
static void log_conversions(const snap_t *s, const evt_ctx_t *e)
{
    if (*evt_warnings(e))
        log_msg(s->cfg->evt.convert_failure == EVT_CONVERT_SKIP ? LOG_DEBUG : LOG_WARN,
                "value not converted, sent as null (event.converting.failure.handling.mode)", "connector=%s detail=\"%s\"",
                s->cfg->name, log_esc(evt_warnings(e)));
}


typedef struct enc_ctx {
    snap_t *s;
    evt_ctx_t *evt;
    coder_t coder;                /* this reader's own converter, registry clients (Avro, see enc_open) and
                                   * transform chain (schema caches are per thread) */
    rel_cache_t *rels;
    arena_t *arena;
    snap_batch_t *out;
    snap_colmap_t colmap;
    wc_status_t st;               /* the last evt_read's status */
} enc_ctx_t;

static size_t enc_put(buf_t *b, const void *p, size_t n)
{
    size_t off = b->len;
    buf_append(b, p, n);
    return off;
}

/* A record the reader's decoder call built: encoded into the batch being filled. */
static wc_status_t enc_event(enc_ctx_t *x, const rec_event_t *ev, char *err, size_t errlen)
{
    rec_t r;
    bool none;
    wc_status_t st = coder_encode(&x->coder, ev, &r, &none, err, errlen);
    if (st != WC_OK || none)
        return st;
    snap_batch_t *b = x->out;
    if (b->nrecs == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 256;
        b->recs = xrealloc(b->recs, b->cap * sizeof *b->recs);
    }
    enc_rec_t *e = &b->recs[b->nrecs++];
    memset(e, 0, sizeof *e);
    e->topic = enc_put(&b->data, r.topic, strlen(r.topic) + 1);
    e->key = r.key ? enc_put(&b->data, r.key, r.keylen) : SIZE_MAX;
    e->keylen = r.keylen;
    e->value = r.value ? enc_put(&b->data, r.value, r.valuelen) : SIZE_MAX;
    e->valuelen = r.valuelen;
    e->nheaders = r.nheaders;
    for (int i = 0; i < r.nheaders; i++) {
        e->hkey[i] = r.headers[i].key;
        e->hval[i] = r.headers[i].value ? enc_put(&b->data, r.headers[i].value, r.headers[i].len) : SIZE_MAX;
        e->hlen[i] = r.headers[i].len;
    }
    e->op = r.op;
    e->has_partition = r.has_partition;
    e->partition = r.partition;
    e->has_ts = r.has_ts;
    e->ts_ms = r.ts_ms;
    return WC_OK;
}

static rel_table_t *table_install_in(snap_t *s, repl_t *r, size_t ti, bool fresh, rel_cache_t *rels, evt_ctx_t *evt,
                                     char *err, size_t errlen);

static bool enc_quitting(void *ctx)
{
    snap_t *s = ctx;
    pthread_mutex_lock(&s->mu);
    bool quit = s->quit || s->reader_failed;
    pthread_mutex_unlock(&s->mu);
    return quit;
}

/* coder_wait_fn of a reader's registry client: sleeps while the registry is away, until the run quits (the
 * connector thread keeps Kafka served meanwhile, waiting for this reader's batches). */
static bool enc_registry_wait(void *ctx, int ms, const char *why)
{
    enc_ctx_t *x = ctx;
    snap_t *s = x->s;
    log_warn("schema registry unavailable; snapshot reader retrying (nothing is lost: rows wait for their schema id)",
             "connector=%s reason=\"%s\" retry_in_ms=%d", s->cfg->name, log_esc(why), ms);
    return coder_nap(ms, enc_quitting, s);
}

/* Avro converters: each reader has registry clients of its own. The connector's client cannot serve
 * here: its id cache and curl handle have no lock, and its wait hook polls the connector's Kafka
 * transaction and replication connection, which belong to the connector thread. A reader's client
 * registers each snapshot table's schema once more (the registry answers with the same id). */
static bool enc_open(enc_ctx_t *x, snap_t *s, repl_t *r, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    x->s = s;
    evt_config_t ec = s->cfg->evt;
    ec.run_id = evt_run_id(s->evt);
    x->evt = evt_new(&ec);
    if (!coder_open(&x->coder, s->cfg, "snapshot row skipped (errors.tolerance=all)", false, enc_registry_wait, x, err,
                    errlen))
        return false;
    x->rels = rel_cache_new(evt_table_free);
    x->arena = arena_new(64 * 1024);
    for (size_t ti = 0; ti < s->plan.ntables; ti++)
        if (!table_install_in(s, r, ti, false, x->rels, x->evt, err, errlen))
            return false;
    return true;
}

static void enc_close(enc_ctx_t *x)
{
    evt_free(x->evt);
    coder_close(&x->coder);
    rel_cache_free(x->rels);
    arena_free(x->arena);
    snap_colmap_free(&x->colmap);
}

/* Encodes one row; the markers come from the plan (a chunk is never empty but for an empty table). */
static int enc_row(enc_ctx_t *x, size_t ci, PGresult *res, int row, bool first_in_table, bool last_in_table,
                   char *err, size_t errlen)
{
    snap_t *s = x->s;
    const snap_chunk_t *c = &s->plan.chunks[ci];
    rel_table_t *t = rel_cache_get(x->rels, s->relids[c->table]);
    /* SELECT *: with a map made for another table's result a generated column would shift what follows it */
    const int *map = snap_colmap_for(&x->colmap, t, res);
    arena_reset(x->arena);
    pgo_tuple_t tup = { 0 };
    tup.cols = arena_alloc(x->arena, (t->ncols ? t->ncols : 1) * sizeof *tup.cols);
    snap_row_tuple(t, res, row, map, &tup);
    bool last_of_all = last_in_table;
    for (size_t tj = c->table + 1; last_of_all && tj < s->plan.ntables; tj++)
        last_of_all = s->plan.tables[tj].empty;
    evt_pos_t pos = { .xid = (uint32_t)s->plan.txid, .commit_time_us = s->plan.tables[c->table].started_us,
                      .lsn = s->plan.lsn, .now_us = wc_wall_us() };
    pos.snapshot = snap_marker(c->table == 0, first_in_table, last_in_table, last_of_all);
    evt_out_t out;
    x->st = evt_read(x->evt, x->arena, &pos, t, &tup, &out, err, errlen);
    log_conversions(s, x->evt);
    for (size_t i = 0; x->st == WC_OK && i < out.n; i++)
        x->st = enc_event(x, &out.ev[i], err, errlen);
    return x->st == WC_OK ? 0 : -1;
}

/* Encoded bytes a reader gathers before it hands a batch over: with at most two batches queued per
 * chunk (push_batch_b), what the readers hold stays near threads x 3 x this. */
#define ENC_BATCH_BYTES (1024 * 1024)

static snap_batch_t *enc_batch(void)
{
    snap_batch_t *b = xcalloc(1, sizeof *b);
    b->encoded = true;
    buf_init(&b->data);
    return b;
}

/* A FETCH sent without waiting for its rows (fetch_rows collects them): the backend produces the next
 * fetch while the reader encodes the one before. */
static int fetch_send(PGconn *c, const char *fetch, char *err, size_t errlen)
{
    if (PQsendQuery(c, fetch))
        return 0;
    const char *m = PQerrorMessage(c);
    snprintf(err, errlen, "snapshot query failed: %.*s", (int)strcspn(m, "\n"), m);
    return -1;
}

static PGresult *fetch_rows(PGconn *c, char *err, size_t errlen)
{
    PGresult *r = PQgetResult(c), *more;
    while ((more = PQgetResult(c)) != NULL)
        PQclear(more);
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        return r;
    const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    snprintf(err, errlen, "snapshot query failed: %.*s", (int)strcspn(m, "\n"), m);
    PQclear(r);
    return NULL;
}

/* Reads and encodes chunk ci through the open cursor. In its table's last chunk every row but the last of
 * each fetch at once, that one when the next fetch tells whether it ends the table (its marker); in any
 * other chunk no row ends the table, so every row at once and the fetch's result is cleared before the
 * next one is taken (peak RSS: a reader kept three results of snapshot.fetch.size rows, issue 21). */
static int enc_chunk(enc_ctx_t *x, repl_t *r, size_t ci, const char *fetch, char *err, size_t errlen)
{
    snap_t *s = x->s;
    const snap_chunk_t *c = &s->plan.chunks[ci];
    bool first_chunk = ci == 0 || s->plan.chunks[ci - 1].table != c->table;
    bool last_chunk = ci + 1 == s->plan.nchunks || s->plan.chunks[ci + 1].table != c->table;
    PGresult *held = NULL;
    int held_row = 0;
    uint64_t n_in_chunk = 0;
    snap_colmap_forget(&x->colmap);   /* the results it was made for are cleared by now */
    bool pending = fetch_send(r->sql, fetch, err, errlen) == 0;
    if (!pending)
        goto fail;
    for (;;) {
        PGresult *res = fetch_rows(r->sql, err, errlen);
        pending = false;
        if (!res)
            goto fail;
        int n = PQntuples(res);
        /* the next fetch runs meanwhile (none after the empty one that ends the chunk) */
        if (n && fetch_send(r->sql, fetch, err, errlen) < 0) {
            PQclear(res);
            goto fail;
        }
        pending = n > 0;
        x->out = enc_batch();
        if (held) {
            if (enc_row(x, ci, held, held_row, first_chunk && n_in_chunk == 0, n == 0 && last_chunk, err, errlen) < 0) {
                PQclear(res);
                batch_free(x->out);
                goto fail;
            }
            x->out->nrows++;
            n_in_chunk++;
            PQclear(held);
            held = NULL;
        }
        for (int i = 0; i + (last_chunk ? 1 : 0) < n; i++) {
            if (enc_row(x, ci, res, i, first_chunk && n_in_chunk == 0, false, err, errlen) < 0) {
                PQclear(res);
                batch_free(x->out);
                goto fail;
            }
            x->out->nrows++;
            n_in_chunk++;
            /* memory: a full batch goes now, not at the fetch's end (a fetch of JSON with schemas is tens of MB) */
            if (x->out->data.len >= ENC_BATCH_BYTES) {
                if (!push_batch_b(s, ci, x->out)) {
                    x->out = NULL;
                    PQclear(res);
                    goto fail;
                }
                x->out = enc_batch();
            }
        }
        if (n && last_chunk) {
            held = res;
            held_row = n - 1;
        } else {
            PQclear(res);
        }
        if (x->out->nrecs || x->out->nrows) {
            if (!push_batch_b(s, ci, x->out))
                goto fail;
        } else {
            batch_free(x->out);
        }
        x->out = NULL;
        if (!n)
            return 0;
    }
fail:
    if (held)
        PQclear(held);
    if (pending) {   /* the connection is closed by the failing reader; its fetch ends first */
        PGresult *left;
        while ((left = PQgetResult(r->sql)) != NULL)
            PQclear(left);
    }
    return -1;
}

static void *reader_main(void *argp)
{
    pthread_setname_np(pthread_self(), "walcast-snap");   /* in top -H and perf's per-thread figures */
    reader_arg_t *arg = argp;
    snap_t *s = arg->s;
    char err[512];
    repl_t r;
    bool imported = false;
    if (repl_connect(&r, s->cfg, err, sizeof err) != WC_OK) {
        reader_fail(s, err);
        goto done;
    }
    if (import_snapshot(r.sql, s->cfg, s->snapshot_name, err, sizeof err) < 0) {
        reader_fail(s, err);
        goto out;
    }
    imported = true;
    pthread_mutex_lock(&s->mu);
    s->imported++;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    buf_t sql, fetch;
    buf_init(&sql);
    buf_init(&fetch);
    buf_printf(&fetch, "FETCH %d FROM wc_snap", s->cfg->snapshot_fetch_size);
    enc_ctx_t x;
    bool enc = s->parallel;
    if (enc && !enc_open(&x, s, &r, err, sizeof err)) {
        reader_fail(s, err);
        enc_close(&x);
        buf_free(&sql);
        buf_free(&fetch);
        goto out;
    }
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->next_chunk < s->plan.nchunks && s->plan.chunks[s->next_chunk].state != SNAP_TODO)
            s->next_chunk++;
        size_t ci = s->next_chunk++;
        bool quit = s->quit || s->reader_failed;
        pthread_mutex_unlock(&s->mu);
        if (quit || ci >= s->plan.nchunks)
            break;
        const snap_chunk_t *c = &s->plan.chunks[ci];
        buf_reset(&sql);
        buf_puts(&sql, "DECLARE wc_snap NO SCROLL CURSOR FOR ");
        /* the columns of the relation, by name, are picked from the result (col_map) */
        snap_chunk_sql(&sql, &s->plan, c, NULL, 0);
        const char *pv[128];
        int np = snap_chunk_params(&s->plan, c, pv);
        PGresult *res = snap_query(r.sql, buf_cstr(&sql), np, pv, err, sizeof err);
        if (!res) {
            reader_fail(s, err);
            break;
        }
        PQclear(res);
        bool ok = true;
        if (enc) {
            pthread_mutex_lock(&s->mu);
            if (!s->plan.tables[c->table].started_us)
                s->plan.tables[c->table].started_us = wc_wall_us();
            pthread_mutex_unlock(&s->mu);
            if (enc_chunk(&x, &r, ci, buf_cstr(&fetch), err, sizeof err) < 0) {
                /* a value that cannot be converted (event.converting.failure.handling.mode=fail, a key
                 * column) fails again on every retry: permanent */
                reader_fail_status(s, err, x.st == WC_PERMANENT ? WC_PERMANENT : WC_RETRY);
                break;
            }
        }
        for (; !enc;) {
            res = snap_query(r.sql, buf_cstr(&fetch), 0, NULL, err, sizeof err);
            if (!res) {
                reader_fail(s, err);
                ok = false;
                break;
            }
            if (PQntuples(res) == 0) {
                PQclear(res);
                break;
            }
            if (!push_batch(s, ci, res)) {
                ok = false;
                break;
            }
        }
        if (!ok)
            break;
        if (snap_exec_ok(r.sql, "CLOSE wc_snap", err, sizeof err) < 0) {
            reader_fail(s, err);
            break;
        }
        if (!push_batch(s, ci, NULL))
            break;
    }
    buf_free(&sql);
    buf_free(&fetch);
    if (enc)
        enc_close(&x);
out:
    repl_close(&r);
done:
    if (!imported) {
        pthread_mutex_lock(&s->mu);
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    free(arg);
    return NULL;
}

static bool slot_ready(const snap_t *s, size_t ci) { return ci != SIZE_MAX && s->slots[ci].head; }

/* The next batch of chunk ci[0] or ci[1] (SIZE_MAX: none; blocking), that of ci[pref] when both have one;
 * *which says whose it is. NULL res at a chunk's end. */
static wc_status_t pop_batch2(snap_t *s, const size_t ci2[2], int pref, volatile sig_atomic_t *stop, snap_batch_t **out,
                              int *which, char *err, size_t errlen)
{
    int64_t t0 = wc_mono_us();
    size_t ci = SIZE_MAX;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (slot_ready(s, ci2[pref]) || slot_ready(s, ci2[!pref])) {
            *which = slot_ready(s, ci2[pref]) ? pref : !pref;
            ci = ci2[*which];
        }
        if (s->reader_failed) {
            snprintf(err, errlen, "snapshot reader failed: %s", s->reader_err);
            wc_status_t rs = s->reader_status == WC_PERMANENT ? WC_PERMANENT : WC_RETRY;
            pthread_mutex_unlock(&s->mu);
            return rs;
        }
        if (ci != SIZE_MAX)
            break;
        if (*stop) {
            snprintf(err, errlen, "stopped during the snapshot");
            pthread_mutex_unlock(&s->mu);
            return WC_RETRY;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        bool woken = pthread_cond_timedwait(&s->cv, &s->mu, &ts) == 0;
        bool ready = slot_ready(s, ci2[0]) || slot_ready(s, ci2[1]);
        if (woken && !ready && !s->reader_failed)
            s->needless_wakeups++;
        if (!ready) {
            /* keep Kafka served while waiting for the database */
            pthread_mutex_unlock(&s->mu);
            int64_t t1 = wc_mono_us();
            wc_status_t st = s->hooks.service(s->hooks.ctx, err, errlen);
            s->service_us += wc_mono_us() - t1;
            t0 += wc_mono_us() - t1;
            if (st != WC_OK)
                return st;
            pthread_mutex_lock(&s->mu);
        }
    }
    snap_batch_t *b = s->slots[ci].head;
    s->slots[ci].head = b->next;
    if (!b->next)
        s->slots[ci].tail = NULL;
    if (s->slots[ci].queued-- >= SNAP_QUEUED_MAX)   /* its reader may wait for this room */
        pthread_cond_signal(&s->slots[ci].room);
    pthread_mutex_unlock(&s->mu);
    s->wait_batch_us += wc_mono_us() - t0;
    *out = b;
    return WC_OK;
}

/* The next batch of chunk ci (blocking); NULL res at its end. */
static wc_status_t pop_batch(snap_t *s, size_t ci, volatile sig_atomic_t *stop, snap_batch_t **out, char *err,
                             size_t errlen)
{
    const size_t ci2[2] = { ci, SIZE_MAX };
    int which;
    return pop_batch2(s, ci2, 0, stop, out, &which, err, errlen);
}

/* The row waiting for the next one: its marker depends on what follows (Debezium's lookahead). */
typedef struct held_row {
    bool set;
    PGresult *res;                /* owned when own_res */
    bool own_res;
    int row;
    size_t chunk, table;
    bool first_in_table;
    bool chunk_ended;             /* its chunk's end was seen: emitting it completes the chunk */
} held_row_t;

static wc_status_t emit_row(snap_t *s, const held_row_t *h, bool last_in_table, bool last_of_all, char *err,
                            size_t errlen)
{
    rel_table_t *t = rel_cache_get(s->rels, s->relids[h->table]);
    arena_reset(s->arena);
    pgo_tuple_t tup = { 0 };
    tup.cols = arena_alloc(s->arena, (t->ncols ? t->ncols : 1) * sizeof *tup.cols);
    snap_row_tuple(t, h->res, h->row, snap_colmap_for(&s->colmap, t, h->res), &tup);
    snap_table_t *st = &s->plan.tables[h->table];
    evt_pos_t pos = { .xid = (uint32_t)s->plan.txid, .commit_time_us = st->started_us, .lsn = s->plan.lsn,
                      .now_us = wc_wall_us() };
    pos.snapshot = snap_marker(h->table == 0, h->first_in_table, last_in_table, last_of_all);
    evt_out_t out;
    wc_status_t rst = evt_read(s->evt, s->arena, &pos, t, &tup, &out, err, errlen);
    return s->hooks.publish(s->hooks.ctx, rst, &out, err, errlen);
}


void snap_chunk_emitted(snap_t *s, size_t ci, int lane)
{
    s->plan.chunks[ci].state = SNAP_EMITTED;
    s->plan.chunks[ci].lane = lane;
    table_chunk_emitted(s, s->plan.chunks[ci].table);
}

/* Emits the held row; completes its chunk if that ended. */
static wc_status_t flush_held(snap_t *s, held_row_t *h, bool last_in_table, bool last_of_all, char *err,
                              size_t errlen)
{
    if (!h->set)
        return WC_OK;
    wc_status_t st = emit_row(s, h, last_in_table, last_of_all, err, errlen);
    if (st != WC_OK)
        return st;
    h->set = false;
    if (h->own_res) {
        PQclear(h->res);
        snap_colmap_forget(&s->colmap);
    }
    h->res = NULL;
    if (h->chunk_ended) {
        snap_chunk_emitted(s, h->chunk, 0);
        return s->hooks.chunk_done(s->hooks.ctx, err, errlen);
    }
    return WC_OK;
}

static void stop_readers(snap_t *s, pthread_t *th, int nth)
{
    pthread_mutex_lock(&s->mu);
    s->quit = true;
    pthread_cond_broadcast(&s->cv);
    for (size_t i = 0; i < s->nslots; i++)
        pthread_cond_broadcast(&s->slots[i].room);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < s->nslots; i++) {
        for (snap_batch_t *b = s->slots[i].head, *n; b; b = n) {
            n = b->next;
            batch_free(b);
        }
        pthread_cond_destroy(&s->slots[i].room);
    }
    free(s->slots);
    s->slots = NULL;
    s->nslots = 0;
}

/* Plans inside the exported snapshot on the planner's connection: the relations, the xid Debezium
 * reports as txId, the chunks of every table. */
static wc_status_t plan_exported(snap_t *s, repl_t *planner, const char *snapshot_name, uint64_t lsn, char *err,
                                 size_t errlen)
{
    if (import_snapshot(planner->sql, s->cfg, snapshot_name, err, errlen) < 0)
        return WC_RETRY;
    s->snapshot_name = snapshot_name;
    /* readers import the snapshot before anything else can end it */
    s->quit = false;
    s->wait_queue_us = s->wait_batch_us = s->send_us = s->service_us = 0;
    s->needless_wakeups = 0;
    s->lane_chunks = 0;
    s->reader_failed = false;
    s->reader_status = WC_OK;
    s->imported = 0;
    s->next_chunk = 0;
    snap_plan_free(&s->plan);
    free(s->relids);
    s->relids = NULL;
    s->finished = s->completion_committing = false;
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    /* txid_current() in a read-only transaction is refused: Debezium's txId is the snapshot
     * transaction's; ours reads the xid the exported snapshot would assign next (xmax) */
    PGresult *tx = snap_query(planner->sql, "SELECT pg_snapshot_xmax(pg_current_snapshot())::text", 0, NULL, err, errlen);
    if (!tx)
        return WC_RETRY;
    int64_t txid = strtoll(PQgetvalue(tx, 0, 0), NULL, 10);
    PQclear(tx);
    int64_t t0 = wc_wall_us();
    if (snap_plan_build(s, planner->sql, true, NULL, err, errlen) < 0)
        return WC_RETRY;
    s->plan.lsn = lsn;
    s->plan.txid = txid;
    s->have_plan = true;
    /* readers build and encode their own rows (walcast.snapshot.parallel.encode, the default; Avro too,
     * with registry clients of their own: enc_open); the connector thread only sends them, in plan order */
    s->parallel = s->cfg->snapshot_parallel_encode;
    for (size_t ti = 0; ti < s->plan.ntables; ti++)
        if (!snap_table_install(s, planner, ti, false, err, errlen))
            return WC_RETRY;
    snap_prog_reset(s);
    log_info("snapshot planned", "connector=%s tables=%zu chunks=%zu chunk_rows=%d threads=%d plan_ms=%lld", s->cfg->name,
             s->plan.ntables, s->plan.nchunks, s->cfg->snapshot_chunk_rows, s->cfg->snapshot_max_threads,
             (long long)((wc_wall_us() - t0) / 1000));
    return WC_OK;
}

/* Starts the readers (at most one per chunk, 64 in all) and waits until each holds the snapshot. */
static wc_status_t start_readers(snap_t *s, pthread_t *th, int *nth, char *err, size_t errlen)
{
    s->nslots = s->plan.nchunks ? s->plan.nchunks : 1;
    s->slots = xcalloc(s->nslots, sizeof *s->slots);
    for (size_t i = 0; i < s->nslots; i++)
        pthread_cond_init(&s->slots[i].room, NULL);
    s->emitting = 0;
    s->emitting2 = SIZE_MAX;
    int want = s->cfg->snapshot_max_threads;
    if ((size_t)want > s->plan.nchunks)
        want = (int)s->plan.nchunks;
    if (want > 64)
        want = 64;
    for (int i = 0; i < want; i++) {
        reader_arg_t *a = xcalloc(1, sizeof *a);
        a->s = s;
        a->id = i;
        if (pthread_create(&th[*nth], NULL, reader_main, a) != 0) {
            free(a);
            snprintf(err, errlen, "cannot start a snapshot reader thread");
            return WC_RETRY;
        }
        (*nth)++;
    }
    pthread_mutex_lock(&s->mu);
    while (s->imported < *nth && !s->reader_failed)
        pthread_cond_wait(&s->cv, &s->mu);
    bool failed = s->reader_failed;
    wc_status_t rs = s->reader_status == WC_PERMANENT ? WC_PERMANENT : WC_RETRY;
    pthread_mutex_unlock(&s->mu);
    if (failed) {
        snprintf(err, errlen, "snapshot reader failed: %s", s->reader_err);
        return rs;
    }
    return WC_OK;
}

/* Records a reader encoded (walcast.snapshot.parallel.encode): sent in order. */
static wc_status_t send_encoded(snap_t *s, snap_batch_t *b, size_t ci, char *err, size_t errlen)
{
    wc_status_t rc = WC_OK;
    int64_t t0 = wc_mono_us();
    for (size_t i = 0; i < b->nrecs && rc == WC_OK; i++) {
        const enc_rec_t *e = &b->recs[i];
        rec_t rec = { .topic = b->data.data + e->topic, .keylen = e->keylen, .valuelen = e->valuelen,
                      .nheaders = e->nheaders, .op = e->op, .has_partition = e->has_partition,
                      .partition = e->partition, .has_ts = e->has_ts, .ts_ms = e->ts_ms };
        rec.key = e->key == SIZE_MAX ? NULL : b->data.data + e->key;
        rec.value = e->value == SIZE_MAX ? NULL : b->data.data + e->value;
        for (int k = 0; k < e->nheaders; k++)
            rec.headers[k] = (rec_header_t){ .key = e->hkey[k], .len = e->hlen[k],
                                             .value = e->hval[k] == SIZE_MAX ? NULL : b->data.data + e->hval[k] };
        rc = s->hooks.send(s->hooks.ctx, &rec, err, errlen);
    }
    s->encoded_rows += (uint64_t)b->nrows;
    snap_prog_rows(s, ci, (uint64_t)b->nrows);
    batch_free(b);
    int64_t t1 = wc_mono_us();
    s->send_us += t1 - t0;
    if (rc == WC_OK)
        rc = s->hooks.service(s->hooks.ctx, err, errlen);
    s->service_us += wc_mono_us() - t1;
    return rc;
}

/* Emits chunk ci's rows in order as the readers deliver them. Each row is held until the next one is
 * seen, since its snapshot marker depends on what follows; *h carries it across chunks. */
static wc_status_t emit_chunk(snap_t *s, size_t ci, held_row_t *h, volatile sig_atomic_t *stop, char *err,
                              size_t errlen)
{
    size_t ti = s->plan.chunks[ci].table;
    snap_table_t *st = &s->plan.tables[ti];
    wc_status_t rc;
    pthread_mutex_lock(&s->mu);
    s->emitting = ci;   /* its reader's batches wake this thread from now on */
    pthread_mutex_unlock(&s->mu);
    if (!st->started_us)
        st->started_us = wc_wall_us();
    bool seen_row_in_table = st->rows > 0;
    for (;;) {
        snap_batch_t *b;
        if ((rc = pop_batch(s, ci, stop, &b, err, errlen)) != WC_OK)
            return rc;
        /* the commit that chunk_done started may have ended while we waited, with nothing deferred to
         * open the next Kafka transaction: open it before this batch's rows are produced */
        if ((rc = s->hooks.txn_ensure(s->hooks.ctx, err, errlen)) != WC_OK) {
            batch_free(b);
            return rc;
        }
        if (b->encoded) {
            /* the chunk ends at its end marker */
            if ((rc = send_encoded(s, b, ci, err, errlen)) != WC_OK)
                return rc;
            continue;
        }
        PGresult *res = b->res;
        b->res = NULL;
        batch_free(b);
        if (!res && s->parallel) {
            snap_chunk_emitted(s, ci, 0);
            return s->hooks.chunk_done(s->hooks.ctx, err, errlen);
        }
        if (!res) {
            if (h->set && h->chunk == ci)
                h->chunk_ended = true;
            else
                snap_chunk_emitted(s, ci, 0);
            return WC_OK;
        }
        int n = PQntuples(res);
        for (int row = 0; row < n; row++) {
            /* a row of another table follows: the held one was its table's last */
            if (h->set && (rc = flush_held(s, h, h->table != ti, false, err, errlen)) != WC_OK) {
                PQclear(res);
                return rc;
            }
            *h = (held_row_t){ .set = true, .res = res, .row = row, .chunk = ci, .table = ti,
                               .own_res = row == n - 1,   /* the last row of a batch keeps its result alive */
                               .first_in_table = !seen_row_in_table };
            seen_row_in_table = true;
        }
        if (!n)
            PQclear(res);
        snap_prog_rows(s, ci, (uint64_t)n);
        if ((rc = s->hooks.service(s->hooks.ctx, err, errlen)) != WC_OK)
            return rc;
    }
}

/* Neither the first nor the last chunk of its table: with lanes, its rows may reach the partition before
 * those of an earlier chunk (markers: first_in_data_collection, last_in_data_collection and last stay where
 * Debezium puts them, at the table's first and last records in the partition). */
static bool chunk_inner(const snap_t *s, size_t ci)
{
    const snap_chunk_t *c = s->plan.chunks;
    return ci > 0 && ci + 1 < s->plan.nchunks && c[ci - 1].table == c[ci].table && c[ci + 1].table == c[ci].table;
}

static void set_emitting(snap_t *s, size_t a, size_t b)
{
    pthread_mutex_lock(&s->mu);
    s->emitting = a;
    s->emitting2 = b;
    pthread_mutex_unlock(&s->mu);
}

/* Chunks [from, to), inner chunks of one table, on two Kafka transaction lanes at once (txn_set_lanes;
 * librdkafka sends one request at a time per partition and producer): each chunk whole on one lane, its
 * batches sent as its reader delivers them, and the lane takes the next chunk when its chunk ends. */
static wc_status_t emit_lanes(snap_t *s, size_t from, size_t to, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
    wc_status_t rc = s->hooks.lanes(s->hooks.ctx, true, err, errlen);
    if (rc != WC_OK)
        return rc;
    size_t at[2], next = from;
    at[0] = next++;
    at[1] = next < to ? next++ : SIZE_MAX;
    set_emitting(s, at[0], at[1]);
    int pref = 0;
    while (at[0] != SIZE_MAX || at[1] != SIZE_MAX) {
        snap_batch_t *b;
        int l;
        if ((rc = pop_batch2(s, at, pref, stop, &b, &l, err, errlen)) != WC_OK)
            return rc;
        pref = !l;   /* the other lane first next time: both producers kept fed */
        s->hooks.lane(s->hooks.ctx, l);
        if ((rc = s->hooks.txn_ensure(s->hooks.ctx, err, errlen)) != WC_OK) {
            batch_free(b);
            return rc;
        }
        if (b->encoded) {
            if ((rc = send_encoded(s, b, at[l], err, errlen)) != WC_OK)
                return rc;
            continue;
        }
        batch_free(b);   /* the chunk's end (readers encode: no rows come here) */
        snap_chunk_emitted(s, at[l], l);
        s->lane_chunks++;
        if ((rc = s->hooks.chunk_done(s->hooks.ctx, err, errlen)) != WC_OK)
            return rc;
        at[l] = next < to ? next++ : SIZE_MAX;
        set_emitting(s, at[0], at[1]);
    }
    s->hooks.lane(s->hooks.ctx, 0);
    return s->hooks.lanes(s->hooks.ctx, false, err, errlen);
}

wc_status_t snap_run_exported(snap_t *s, const char *snapshot_name, uint64_t lsn, volatile sig_atomic_t *stop,
                              char *err, size_t errlen)
{
    repl_t planner;
    pthread_t th[64];
    int nth = 0;
    held_row_t h = { 0 };
    wc_status_t rc = repl_connect(&planner, s->cfg, err, errlen);
    if (rc != WC_OK)
        return rc;
    if ((rc = plan_exported(s, &planner, snapshot_name, lsn, err, errlen)) != WC_OK ||
        (rc = start_readers(s, th, &nth, err, errlen)) != WC_OK)
        goto out;
    /* the planner's transaction can end now: every reader holds the snapshot */
    snap_exec_ok(planner.sql, "COMMIT", err, errlen);
    /* lanes for runs of at least two inner chunks, when readers encode (the connector thread only sends) and
     * more than one reads */
    bool lanes = s->cfg->snapshot_lanes && s->parallel && nth >= 2 && s->hooks.lanes && s->hooks.lane;
    for (size_t ci = 0; ci < s->plan.nchunks; ci++) {
        size_t end = ci;
        while (lanes && end < s->plan.nchunks && chunk_inner(s, end) &&
               s->plan.chunks[end].table == s->plan.chunks[ci].table)
            end++;
        if (end - ci >= 2) {
            rc = emit_lanes(s, ci, end, stop, err, errlen);
            ci = end - 1;
        } else
            rc = emit_chunk(s, ci, &h, stop, err, errlen);
        if (rc != WC_OK)
            goto out;
    }
    /* rows before the held one are in Kafka's hands; the held one is the last of all */
    rc = flush_held(s, &h, true, true, err, errlen);
    if (rc == WC_OK)
        log_info("snapshot threads", "connector=%s readers=%d seconds=%.3f readers_waiting_for_queue_s=%.3f "
                 "waiting_for_readers_s=%.3f sending_s=%.3f serving_kafka_s=%.3f needless_wakeups=%llu lane_chunks=%llu", s->cfg->name, nth,
                 (double)(wc_wall_us() - s->prog.started_us) / 1e6, (double)s->wait_queue_us / 1e6,
                 (double)s->wait_batch_us / 1e6, (double)s->send_us / 1e6, (double)s->service_us / 1e6,
                 (unsigned long long)s->needless_wakeups, (unsigned long long)s->lane_chunks);
out:
    if (h.set && h.own_res)
        PQclear(h.res);
    stop_readers(s, th, nth);
    repl_close(&planner);
    /* No rewind here: the caller's transaction rewind (txn_rewind's rewound hook) rewinds the chunks once
     * it knows whether a commit still running went through. Rewound here first, the chunks of a commit
     * that then succeeded stayed to be read again: published twice. */
    if (rc != WC_OK)
        log_warn("exported snapshot interrupted: the chunks not committed are read again with watermarks",
                 "connector=%s error=\"%s\"", s->cfg->name, log_esc(err));
    return rc;
}

wc_status_t snap_plan_fresh(snap_t *s, uint64_t lsn, char *err, size_t errlen)
{
    repl_t r;
    wc_status_t rc = repl_connect(&r, s->cfg, err, errlen);
    if (rc != WC_OK)
        return rc;
    snap_plan_free(&s->plan);
    free(s->relids);
    s->relids = NULL;
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    s->finished = s->completion_committing = false;
    rc = WC_RETRY;
    if (snap_exec_ok(r.sql, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0 ||
        snap_plan_build(s, r.sql, true, NULL, err, errlen) < 0)
        goto out;
    snap_exec_ok(r.sql, "COMMIT", err, errlen);
    s->plan.lsn = lsn;
    s->have_plan = true;
    snap_prog_reset(s);
    log_info("snapshot planned (read with watermarks while streaming)", "connector=%s tables=%zu chunks=%zu", s->cfg->name,
             s->plan.ntables, s->plan.nchunks);
    rc = WC_OK;
out:
    repl_close(&r);
    return rc;
}

wc_status_t snap_restore(snap_t *s, const char *state_json, char *err, size_t errlen)
{
    snap_plan_free(&s->plan);
    if (snap_state_parse(state_json, &s->plan, err, errlen) < 0)
        return WC_RETRY;
    repl_t r;
    wc_status_t rc = repl_connect(&r, s->cfg, err, errlen);
    if (rc != WC_OK)
        return rc;
    free(s->relids);
    s->relids = xcalloc(s->plan.ntables ? s->plan.ntables : 1, sizeof *s->relids);
    rel_cache_free(s->rels);
    s->rels = rel_cache_new(evt_table_free);
    rc = WC_RETRY;
    for (size_t ti = 0; ti < s->plan.ntables; ti++) {
        buf_t q;
        buf_init(&q);
        buf_put_quoted(&q, s->plan.tables[ti].schema, '"');
        buf_putc(&q, '.');
        buf_put_quoted(&q, s->plan.tables[ti].name, '"');
        const char *pv[1] = { buf_cstr(&q) };
        PGresult *res = snap_query(r.sql, "SELECT to_regclass($1)::oid::text", 1, pv, err, errlen);
        buf_free(&q);
        if (!res)
            goto out;
        s->relids[ti] = PQgetisnull(res, 0, 0) ? 0 : (uint32_t)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
    }
    s->have_plan = true;
    s->finished = s->completion_committing = false;
    snap_prog_reset(s);
    log_info("resuming the snapshot: the chunks not yet published are read with watermarks while streaming",
             "connector=%s tables=%zu chunks=%zu", s->cfg->name, s->plan.ntables, s->plan.nchunks);
    rc = WC_OK;
out:
    repl_close(&r);
    return rc;
}
