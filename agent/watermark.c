/* watermark.c: the watermark method of DBLog for the snapshot module (see snapshot.c's header): a chunk
 * read between a low and a high watermark while the slot streams, its keys dropped when a change of them
 * arrives inside the window or from a transaction its snapshot does not see, the rest emitted at the high
 * watermark. Used to resume an interrupted initial snapshot and by incremental snapshots. */
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

#include "agent/log.h"
#include "agent/replication.h"
#include "schemas/converter.h"

/* ---- watermark method ---- */

/* Key text of a row: each key column's text with its length (NULL as -1), so no two keys collide. */
static char *key_text(const pgo_col_t *const *cols, size_t n)
{
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (!cols[i] || cols[i]->kind != PGO_COL_TEXT) {
            buf_puts(&b, "-1:");
            continue;
        }
        buf_printf(&b, "%u:", cols[i]->len);
        buf_append(&b, cols[i]->data, cols[i]->len);
    }
    char *s = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

/* What snap_table_install reads of a table (snapshot.c's table_install_in, replication.c's repl_table_info),
 * as one text: its columns (name, type, modifier, generated, not null, default, comment), its replica
 * identity and its indexes (name, columns, primary, unique, replica identity, expression, partial). Equal
 * texts: the installed version still describes the table, and the chunk reads it without the three catalog
 * queries, the schema building and the drain of a reinstall (~1.5 ms of ~10 a chunk of 1,024 rows). */
static const char SIG_SQL[] =
    "SELECT c.relreplident::text || '|' || "
    "coalesce((SELECT string_agg(concat_ws(',', quote_ident(a.attname), a.atttypid, a.atttypmod, quote_literal(a.attgenerated::text), "
    "a.attnotnull, quote_nullable(pg_get_expr(d.adbin, d.adrelid)), quote_nullable(col_description(a.attrelid, a.attnum))), "
    "';' ORDER BY a.attnum) FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
    "WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') || '|' || "
    "coalesce((SELECT string_agg(concat_ws(',', quote_ident(ic.relname), i.indkey::text, i.indisprimary, i.indisunique, i.indisreplident, "
    "i.indexprs IS NULL, i.indpred IS NULL), ';' ORDER BY ic.relname) "
    "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), '') "
    "FROM pg_class c WHERE c.oid = $1::oid";

/* The table of chunk ti as it is now: the installed version when its catalog signature is unchanged
 * since the last chunk, else installed again (a column added since the last chunk is read too; the
 * version it replaces is freed: records of it still queued for the stream's encoder threads go out
 * first). NULL: err says why. */
static rel_table_t *wm_table(snap_t *s, size_t ti, wc_status_t *rc, char *err, size_t errlen)
{
    uint32_t relid = s->relids[ti];
    char rid[16];
    snprintf(rid, sizeof rid, "%u", relid);
    const char *pv[1] = { rid };
    *rc = WC_RETRY;
    PGresult *r = snap_query(s->wm_conn.sql, SIG_SQL, 1, pv, err, errlen);
    if (!r)
        return NULL;
    char *sig = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    rel_table_t *t = rel_cache_get(s->rels, relid);
    if (t && sig && s->wm_sig && s->wm_sig_relid == relid && s->wm_sig_version == t->version &&
        strcmp(sig, s->wm_sig) == 0) {
        free(sig);
        return t;
    }
    free(s->wm_sig);
    s->wm_sig = NULL;
    if (s->hooks.drain && (*rc = s->hooks.drain(s->hooks.ctx, err, errlen)) != WC_OK) {
        free(sig);
        return NULL;
    }
    *rc = WC_RETRY;
    t = snap_table_install(s, &s->wm_conn, ti, true, err, errlen);
    if (!t) {
        free(sig);
        return NULL;
    }
    /* a change between the signature and the install: the next chunk sees another signature */
    s->wm_sig = sig;
    s->wm_sig_relid = relid;
    s->wm_sig_version = t->version;
    return t;
}

void snap_wm_reset(snap_t *s)
{
    if (s->wm.open && s->plan.chunks[s->wm.chunk].state == SNAP_EMITTED)
        s->plan.chunks[s->wm.chunk].state = SNAP_TODO;
    snap_wm_clear(&s->wm);
    free(s->wm_sig);
    s->wm_sig = NULL;
    if (s->wm_connected) {
        repl_close(&s->wm_conn);
        s->wm_connected = false;
    }
}

static int emit_message(PGconn *c, const char *content, char *err, size_t errlen)
{
    const char *pv[2] = { SNAP_WM_PREFIX, content };
    PGresult *r = snap_query(c, "SELECT pg_logical_emit_message(false, $1, $2)", 2, pv, err, errlen);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

wc_status_t snap_wm_step(snap_t *s, char *err, size_t errlen)
{
    if (!s || !s->have_plan || s->finished || s->wm.open || s->paused)
        return WC_OK;
    size_t ci = s->plan.nchunks;
    for (size_t i = 0; i < s->plan.nchunks; i++)
        if (s->plan.chunks[i].state == SNAP_TODO) {
            ci = i;
            break;
        }
    if (ci == s->plan.nchunks)
        return WC_OK;
    snap_chunk_t *c = &s->plan.chunks[ci];
    size_t ti = c->table;
    snap_table_t *st = &s->plan.tables[ti];
    if (!s->wm_connected) {
        wc_status_t rc = repl_connect(&s->wm_conn, s->cfg, err, errlen);
        if (rc != WC_OK)
            return rc;
        s->wm_connected = true;
    }
    if (!s->relids[ti]) {
        /* dropped since: nothing to read */
        log_warn("table of the snapshot no longer exists; skipped", "table=%s.%s", st->schema, st->name);
        snap_chunk_emitted(s, ci, 0);
        return WC_OK;
    }
    wc_status_t trc;
    rel_table_t *t = wm_table(s, ti, &trc, err, errlen);
    if (!t)
        return trc;
    if (!st->started_us)
        st->started_us = wc_wall_us();
    snap_wm_t *w = &s->wm;
    memset(w, 0, sizeof *w);
    w->chunk = ci;
    w->relid = s->relids[ti];
    snprintf(w->nonce, sizeof w->nonce, "%llx-%llu", (unsigned long long)wc_wall_us(), (unsigned long long)++s->seq);
    char msg[96];
    snprintf(msg, sizeof msg, "low:%s", w->nonce);
    PGconn *pc = s->wm_conn.sql;
    if (emit_message(pc, msg, err, errlen) < 0)
        return WC_RETRY;
    if (snap_exec_ok(pc, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err, errlen) < 0)
        return WC_RETRY;
    PGresult *xs = snap_query(pc, "SELECT pg_current_snapshot()::text", 0, NULL, err, errlen);
    if (!xs) {
        snap_exec_ok(pc, "ROLLBACK", err, errlen);
        return WC_RETRY;
    }
    if (snap_xsnap_parse(PQgetvalue(xs, 0, 0), &w->xs) < 0) {
        snprintf(err, errlen, "cannot parse pg_current_snapshot() '%s'", PQgetvalue(xs, 0, 0));
        PQclear(xs);
        return WC_RETRY;
    }
    PQclear(xs);
    buf_t sql;
    buf_init(&sql);
    arena_reset(s->arena);
    snap_chunk_sql(&sql, &s->plan, c, snap_rel_cols(t, s->arena), t->ncols);
    const char *pv[128];
    int np = snap_chunk_params(&s->plan, c, pv);
    w->rows = snap_query(pc, buf_cstr(&sql), np, pv, err, errlen);
    buf_free(&sql);
    if (!w->rows) {
        char e2[64];
        snap_exec_ok(pc, "ROLLBACK", e2, sizeof e2);
        snap_wm_clear(w);
        return WC_RETRY;
    }
    if (snap_exec_ok(pc, "COMMIT", err, errlen) < 0) {
        snap_wm_clear(w);
        return WC_RETRY;
    }
    int n = PQntuples(w->rows);
    w->dropped = xcalloc((size_t)(n ? n : 1), sizeof *w->dropped);
    w->keys = xcalloc((size_t)(n ? n : 1), sizeof *w->keys);
    w->nkeys = (size_t)n;
    int *map = arena_alloc(s->arena, (t->ncols ? t->ncols : 1) * sizeof *map);
    snap_col_map(t, w->rows, map);
    /* keys: the event key columns (primary key), as text */
    size_t nk = t->nkeys;
    const pgo_col_t **kc = arena_alloc(s->arena, (nk ? nk : 1) * sizeof *kc);
    pgo_col_t *tmp = arena_alloc(s->arena, (nk ? nk : 1) * sizeof *tmp);
    for (int r = 0; r < n; r++) {
        for (size_t k = 0; k < nk; k++) {
            int f = map[t->keys[k]];
            tmp[k].kind = f < 0 || PQgetisnull(w->rows, r, f) ? PGO_COL_NULL : PGO_COL_TEXT;
            tmp[k].data = f < 0 ? NULL : PQgetvalue(w->rows, r, f);
            tmp[k].len = f < 0 ? 0 : (uint32_t)PQgetlength(w->rows, r, f);
            kc[k] = &tmp[k];
        }
        w->keys[r] = nk ? key_text(kc, nk) : NULL;
    }
    snap_prog_unrows(s, ci);   /* a read before (its window cut short) no longer counts */
    snap_prog_rows(s, ci, (uint64_t)n);
    snprintf(msg, sizeof msg, "high:%s", w->nonce);
    /* a walsender sends only flushed WAL, and nothing flushes a non-transactional message: a
     * transaction with an xid, committed synchronously, does, but only when it wrote WAL itself
     * (RecordTransactionCommit: an xid alone commits asynchronously, and the chunk waited for the WAL
     * writer, up to wal_writer_delay, 200 ms by default). So the message is written inside it (still
     * non-transactional: decoded where it is written, before the commit). local: flushed here, without
     * waiting for a synchronous standby (a logical walsender sends what is flushed locally) */
    if (snap_exec_ok(pc, "BEGIN; SET LOCAL synchronous_commit = local", err, errlen) < 0)
        goto high_failed;
    if (emit_message(pc, msg, err, errlen) < 0 || snap_exec_ok(pc, "SELECT txid_current(); COMMIT", err, errlen) < 0) {
        char e2[64];
        snap_exec_ok(pc, "ROLLBACK", e2, sizeof e2);
        goto high_failed;
    }
    w->open = true;
    log_debug("snapshot chunk read (watermarks)", "table=%s.%s chunk=%zu rows=%d", st->schema, st->name, ci, n);
    return WC_OK;
high_failed:
    snap_wm_clear(w);
    return WC_RETRY;
}

void snap_wm_change(snap_t *s, const rel_table_t *t, const pgo_msg_t *m, uint32_t xid)
{
    snap_wm_t *w = s ? &s->wm : NULL;
    if (!w || !w->open || t->relid != w->relid || !w->nkeys)
        return;
    if (!w->window && snap_xsnap_visible(&w->xs, xid))
        return;
    const rel_table_t *st = rel_cache_get(s->rels, w->relid);
    if (!st || !st->nkeys)
        return;
    const pgo_tuple_t *tups[2] = { NULL, NULL };
    if (m->type == PGO_INSERT || m->type == PGO_UPDATE)
        tups[0] = &m->u.change.new_tuple;
    if (m->u.change.old_kind)
        tups[1] = &m->u.change.old_tuple;
    const pgo_col_t *kc[64];
    for (int i = 0; i < 2; i++) {
        if (!tups[i] || st->nkeys > 64)
            continue;
        for (size_t k = 0; k < st->nkeys; k++) {
            int c = rel_column_index(t, st->cols[st->keys[k]].name);
            kc[k] = c >= 0 && (size_t)c < tups[i]->ncols ? &tups[i]->cols[c] : NULL;
        }
        char *key = key_text(kc, st->nkeys);
        for (size_t r = 0; r < w->nkeys; r++)
            if (!w->dropped[r] && w->keys[r] && strcmp(w->keys[r], key) == 0)
                w->dropped[r] = true;
        free(key);
    }
}

wc_status_t snap_wm_message(snap_t *s, const pgo_msg_t *m, uint64_t lsn, bool *ours, char *err, size_t errlen)
{
    *ours = m->u.message.prefix && strcmp(m->u.message.prefix, SNAP_WM_PREFIX) == 0;
    if (!*ours || !s)
        return WC_OK;
    snap_wm_t *w = &s->wm;
    char content[96];
    size_t n = m->u.message.content_len < sizeof content - 1 ? m->u.message.content_len : sizeof content - 1;
    memcpy(content, m->u.message.content, n);
    content[n] = 0;
    if (!w->open || strcmp(content + (content[0] == 'l' ? 4 : 5), w->nonce) != 0)
        return WC_OK;   /* another run's watermark (before a restart): nothing to do */
    if (content[0] == 'l') {
        w->window = true;
        return WC_OK;
    }
    /* high watermark: the chunk's rows not touched meanwhile */
    wc_status_t st = s->hooks.txn_ensure(s->hooks.ctx, err, errlen);
    if (st != WC_OK)
        return st;
    rel_table_t *t = rel_cache_get(s->rels, w->relid);
    size_t ci = w->chunk;
    bool last_chunk = true;
    for (size_t i = 0; i < s->plan.nchunks; i++)
        if (i != ci && s->plan.chunks[i].state == SNAP_TODO)
            last_chunk = false;
    int nrows = PQntuples(w->rows), last = -1;
    for (int r = 0; r < nrows; r++)
        if (!w->dropped[r])
            last = r;
    int *map = arena_alloc(s->arena, (t->ncols ? t->ncols : 1) * sizeof *map);
    snap_col_map(t, w->rows, map);
    for (int r = 0; r < nrows; r++) {
        if (w->dropped[r])
            continue;
        arena_t *a = arena_new(16 * 1024);
        pgo_tuple_t tup = { 0 };
        tup.cols = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *tup.cols);
        snap_row_tuple(t, w->rows, r, map, &tup);
        evt_pos_t pos = { .lsn = lsn, .now_us = wc_wall_us(), .no_lsn = true };
        pos.snapshot = s->incremental ? "incremental" : last_chunk && r == last ? "last" : "true";
        evt_out_t out;
        st = s->hooks.publish(s->hooks.ctx, evt_read(s->evt, a, &pos, t, &tup, &out, err, errlen), &out, err, errlen);
        arena_free(a);
        if (st != WC_OK)
            return st;
    }
    log_debug("snapshot chunk emitted at its high watermark", "chunk=%zu rows=%d", ci, nrows);
    snap_chunk_emitted(s, ci, 0);
    snap_wm_clear(w);
    return WC_OK;
}
