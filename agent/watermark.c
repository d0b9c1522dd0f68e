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

/* The table of chunk ti for its dispatch: the version installed for the chunk before, when that one's
 * signature was checked (the watermark thread checks every chunk's signature again just before its low
 * watermark: snap_wm_message reads a chunk again when the table changed); else the signature is read here and
 * the table installed again when it changed (a column added since is read too; the version it replaces is
 * freed: records of it still queued for the stream's encoder threads go out first). NULL: err says why. */
static rel_table_t *wm_table(snap_t *s, size_t ti, wc_status_t *rc, char *err, size_t errlen)
{
    uint32_t relid = s->relids[ti];
    rel_table_t *t = rel_cache_get(s->rels, relid);
    if (t && s->wm_sig && s->wm_sig_relid == relid && s->wm_sig_version == t->version)
        return t;
    if (!s->wm_connected) {
        if ((*rc = repl_connect(&s->wm_conn, s->cfg, err, errlen)) != WC_OK)
            return NULL;
        s->wm_connected = true;
    }
    char rid[16];
    snprintf(rid, sizeof rid, "%u", relid);
    const char *pv[1] = { rid };
    *rc = WC_RETRY;
    PGresult *r = snap_query(s->wm_conn.sql, SIG_SQL, 1, pv, err, errlen);
    if (!r)
        return NULL;
    char *sig = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0) ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
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
    /* a change between the signature and the install: the watermark thread reads another signature */
    s->wm_sig = sig;
    s->wm_sig_relid = relid;
    s->wm_sig_version = t->version;
    return t;
}

bool snap_wm_busy(const snap_t *s)
{
    return s && !s->paused && snap_active(s);
}

bool snap_wm_inflight(const snap_t *s)
{
    return s && s->nwm > 0;
}

void snap_wm_free(snap_wm_t *w)
{
    if (!w)
        return;
    if (w->rows)
        PQclear(w->rows);
    free(w->sig);
    free(w->sql);
    snap_strv_free(w->params, (size_t)w->nparams);
    snap_strv_free(w->keynames, w->nkeynames);
    for (size_t i = 0; i < w->nseen; i++)
        free(w->seen[i].key);
    free(w->seen);
    snap_strv_free(w->keys, w->nkeys);
    snap_xsnap_free(&w->xs);
    free(w->read_sig);
    free(w);
}

void snap_wm_drop(snap_t *s, size_t i)
{
    pthread_mutex_lock(&s->wm_mu);
    snap_wm_t *w = s->wm[i];
    memmove(&s->wm[i], &s->wm[i + 1], (s->nwm - i - 1) * sizeof *s->wm);
    s->nwm--;
    pthread_mutex_unlock(&s->wm_mu);
    snap_wm_free(w);
}

/* Drops every chunk in flight; what the watermark thread reads now is thrown away when it is done (wm_gen). */
static void wm_drop_all(snap_t *s)
{
    pthread_mutex_lock(&s->wm_mu);
    snap_wm_t *old[SNAP_WM_DEPTH];
    size_t n = s->nwm;
    memcpy(old, s->wm, n * sizeof *old);
    s->nwm = 0;
    s->wm_gen++;
    s->wm_failed = false;
    pthread_mutex_unlock(&s->wm_mu);
    for (size_t i = 0; i < n; i++)
        snap_wm_free(old[i]);
}

void snap_wm_reset(snap_t *s)
{
    wm_drop_all(s);
    free(s->wm_sig);
    s->wm_sig = NULL;
    if (s->wm_connected) {
        repl_close(&s->wm_conn);
        s->wm_connected = false;
    }
}

void snap_wm_stop(snap_t *s)
{
    if (s->wm_thread_on) {
        pthread_mutex_lock(&s->wm_mu);
        s->wm_quit = true;
        pthread_cond_broadcast(&s->wm_cv);
        pthread_mutex_unlock(&s->wm_mu);
        pthread_join(s->wm_thread, NULL);
        s->wm_thread_on = false;
    }
    snap_wm_reset(s);
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

/* ---- the watermark thread: reads the dispatched chunks one after the other on its own connection ---- */

/* One chunk's job, copied from its snap_wm_t under wm_mu (the connector thread may drop the chunk meanwhile). */
typedef struct wm_job {
    const snap_wm_t *w;           /* identity only: found again under wm_mu with gen and nonce */
    uint64_t gen;
    char nonce[32];
    uint32_t relid;
    char *sql;
    char **params;
    int nparams;
    char **keynames;
    size_t nkeynames;
} wm_job_t;

static char **strv_copy(char *const *v, size_t n)
{
    char **o = xcalloc(n ? n : 1, sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = v[i] ? xstrdup(v[i]) : NULL;
    return o;
}

/* The oldest chunk not taken yet, its job copied (under wm_mu); false: none. */
static bool wm_take(snap_t *s, wm_job_t *j)
{
    if (s->wm_failed)
        return false;
    for (size_t i = 0; i < s->nwm; i++) {
        snap_wm_t *w = s->wm[i];
        if (w->taken)
            continue;
        w->taken = true;
        j->w = w;
        j->gen = s->wm_gen;
        memcpy(j->nonce, w->nonce, sizeof j->nonce);
        j->relid = w->relid;
        j->sql = xstrdup(w->sql);
        j->params = strv_copy(w->params, (size_t)w->nparams);
        j->nparams = w->nparams;
        j->keynames = strv_copy(w->keynames, w->nkeynames);
        j->nkeynames = w->nkeynames;
        return true;
    }
    return false;
}

static void wm_job_free(wm_job_t *j)
{
    free(j->sql);
    snap_strv_free(j->params, (size_t)j->nparams);
    snap_strv_free(j->keynames, j->nkeynames);
    memset(j, 0, sizeof *j);
}

/* The chunk of job j if it is still in flight (under wm_mu). */
static snap_wm_t *wm_find(snap_t *s, const wm_job_t *j)
{
    if (j->gen != s->wm_gen)
        return NULL;
    for (size_t i = 0; i < s->nwm; i++)
        if (s->wm[i] == j->w && strcmp(s->wm[i]->nonce, j->nonce) == 0)
            return s->wm[i];
    return NULL;
}

/* The statements the watermark thread prepared on its connection: each chunk's SELECT (one text per table
 * version and chunk shape) and wm_sig (the snapshot and SIG_SQL), planned once instead of every chunk. */
#define WM_PREPARED_MAX 8
typedef struct wm_prep {
    char *sql[WM_PREPARED_MAX];   /* statement wm_<i> */
    int n;
    bool sig;
} wm_prep_t;

static void wm_prep_clear(wm_prep_t *p)
{
    for (int i = 0; i < p->n; i++)
        free(p->sql[i]);
    memset(p, 0, sizeof *p);
}

/* The name of sql prepared on pc (prepared now if it was not; beyond WM_PREPARED_MAX texts, all are
 * deallocated first). NULL: err says why. */
static const char *wm_prepared(PGconn *pc, wm_prep_t *p, const char *sql, int nparams, char *name, size_t namelen,
                               char *err, size_t errlen)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->sql[i], sql) == 0) {
            snprintf(name, namelen, "wm_%d", i);
            return name;
        }
    if (p->n == WM_PREPARED_MAX) {
        wm_prep_clear(p);   /* wm_sig too: DEALLOCATE ALL drops it */
        if (snap_exec_ok(pc, "DEALLOCATE ALL", err, errlen) < 0)
            return NULL;
    }
    snprintf(name, namelen, "wm_%d", p->n);
    PGresult *r = PQprepare(pc, name, sql, nparams, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *m = PQresultErrorMessage(r);
        snprintf(err, errlen, "snapshot query failed: %.*s", (int)strcspn(m, "\n"), m);
        PQclear(r);
        return NULL;
    }
    PQclear(r);
    p->sql[p->n++] = xstrdup(sql);
    return name;
}

/* Reads job j: the low watermark; in one REPEATABLE READ transaction the snapshot, the table's catalog
 * signature and the chunk; the keys of its rows; hands them over; then the high watermark, so that the
 * connector thread has the rows by the time the stream brings it. Four round trips, statements prepared once
 * on it (prep): those that take no parameter of the caller's go together (the nonce, walcast's own hex and digits,
 * and the relid are written as literals). -1: err says why. */
static int wm_read(snap_t *s, repl_t *r, wm_prep_t *prep, const wm_job_t *j, char *err, size_t errlen)
{
    PGconn *pc = r->sql;
    char msg[96];
    PGresult *rows = NULL, *xr = NULL;
    snap_xsnap_t xs = { 0 };
    char **keys = NULL, *sig = NULL;
    size_t n = 0;
    int rc = -1;
    buf_t q;
    buf_init(&q);
    if (!prep->sig) {
        buf_puts(&q, "PREPARE wm_sig(oid) AS SELECT pg_current_snapshot()::text, (");
        buf_puts(&q, SIG_SQL);
        buf_puts(&q, ")");
        if (snap_exec_ok(pc, buf_cstr(&q), err, errlen) < 0)
            goto out;
        prep->sig = true;
        buf_reset(&q);
    }
    char sname[32];
    if (!wm_prepared(pc, prep, j->sql, j->nparams, sname, sizeof sname, err, errlen))
        goto out;
    snprintf(msg, sizeof msg, "low:%s", j->nonce);
    if (emit_message(pc, msg, err, errlen) < 0)
        goto out;
    buf_printf(&q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; EXECUTE wm_sig(%u)", j->relid);
    xr = PQexec(pc, buf_cstr(&q));
    if (PQresultStatus(xr) != PGRES_TUPLES_OK || PQntuples(xr) != 1) {
        const char *m = PQresultErrorMessage(xr);
        snprintf(err, errlen, "snapshot chunk's snapshot and catalog signature: %.*s", (int)strcspn(m, "\n"), m);
        goto rollback;
    }
    if (snap_xsnap_parse(PQgetvalue(xr, 0, 0), &xs) < 0) {
        snprintf(err, errlen, "cannot parse pg_current_snapshot() '%s'", PQgetvalue(xr, 0, 0));
        goto rollback;
    }
    sig = PQgetisnull(xr, 0, 1) ? NULL : xstrdup(PQgetvalue(xr, 0, 1));
    rows = PQexecPrepared(pc, sname, j->nparams, (const char *const *)j->params, NULL, NULL, 0);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
        const char *m = PQresultErrorMessage(rows);
        snprintf(err, errlen, "snapshot query failed: %.*s", (int)strcspn(m, "\n"), m);
        goto rollback;
    }
    n = (size_t)PQntuples(rows);
    keys = xcalloc(n ? n : 1, sizeof *keys);
    if (j->nkeynames) {
        int kf[64];
        pgo_col_t tmp[64];
        const pgo_col_t *kc[64];
        for (size_t k = 0; k < j->nkeynames; k++)
            kf[k] = snap_res_col(rows, j->keynames[k]);
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < j->nkeynames; k++) {
                int f = kf[k];
                tmp[k].kind = f < 0 || PQgetisnull(rows, (int)i, f) ? PGO_COL_NULL : PGO_COL_TEXT;
                tmp[k].data = f < 0 ? NULL : PQgetvalue(rows, (int)i, f);
                tmp[k].len = f < 0 ? 0 : (uint32_t)PQgetlength(rows, (int)i, f);
                kc[k] = &tmp[k];
            }
            keys[i] = key_text(kc, j->nkeynames);
        }
    }
    pthread_mutex_lock(&s->wm_mu);
    snap_wm_t *w = wm_find(s, j);
    if (w) {
        w->rows = rows;
        w->keys = keys;
        w->nkeys = n;
        w->xs = xs;
        w->read_sig = sig;
        w->ready = true;
        rows = NULL;
        keys = NULL;
        sig = NULL;
        memset(&xs, 0, sizeof xs);
    }
    pthread_mutex_unlock(&s->wm_mu);
    /* the chunk's transaction ends, and the high watermark follows in the same round trip. A walsender sends
     * only flushed WAL, and nothing flushes a non-transactional message: a transaction with an xid, committed
     * synchronously, does, but only when it wrote WAL itself (RecordTransactionCommit: an xid alone commits
     * asynchronously, and the chunk waited for the WAL writer, up to wal_writer_delay, 200 ms by default). So
     * the message is written inside it (still non-transactional: decoded where it is written, before the
     * commit). local: flushed here, without waiting for a synchronous standby (a logical walsender sends what
     * is flushed locally) */
    buf_reset(&q);
    buf_printf(&q, "COMMIT; BEGIN; SET LOCAL synchronous_commit = local; SELECT pg_logical_emit_message(false, '%s', "
               "'high:%s'); SELECT txid_current(); COMMIT", SNAP_WM_PREFIX, j->nonce);
    if (snap_exec_ok(pc, buf_cstr(&q), err, errlen) < 0)
        goto rollback;
    log_debug("snapshot chunk read (watermarks)", "relid=%u nonce=%s rows=%zu", j->relid, j->nonce, n);
    rc = 0;
    goto out;
rollback: {
        char e2[64];
        snap_exec_ok(pc, "ROLLBACK", e2, sizeof e2);
    }
out:
    buf_free(&q);
    PQclear(xr);
    if (rows)
        PQclear(rows);
    snap_strv_free(keys, n);
    snap_xsnap_free(&xs);
    free(sig);
    return rc;
}

static void *wm_main(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-wm");   /* in top -H and the bench's per-thread CPU */
    snap_t *s = arg;
    repl_t r;
    bool connected = false;
    uint64_t conn_gen = 0;
    wm_prep_t prep = { 0 };
    char err[512];
    pthread_mutex_lock(&s->wm_mu);
    for (;;) {
        wm_job_t j;
        while (!s->wm_quit && !wm_take(s, &j))
            pthread_cond_wait(&s->wm_cv, &s->wm_mu);
        if (s->wm_quit)
            break;
        /* a reset (the connector reconnects) since this connection was made: a new one */
        bool fresh = connected && conn_gen != j.gen;
        pthread_mutex_unlock(&s->wm_mu);
        if (fresh) {
            repl_close(&r);
            wm_prep_clear(&prep);
            connected = false;
        }
        int rc = 0;
        if (!connected) {
            rc = repl_connect(&r, s->cfg, err, sizeof err) == WC_OK ? 0 : -1;
            connected = rc == 0;
            conn_gen = j.gen;
        }
        if (rc == 0)
            rc = wm_read(s, &r, &prep, &j, err, sizeof err);
        pthread_mutex_lock(&s->wm_mu);
        if (rc < 0) {
            if (j.gen == s->wm_gen && !s->wm_failed) {
                s->wm_failed = true;
                snprintf(s->wm_err, sizeof s->wm_err, "snapshot chunk (watermarks): %.470s", err);
            }
            if (connected) {
                pthread_mutex_unlock(&s->wm_mu);
                repl_close(&r);
                wm_prep_clear(&prep);
                connected = false;
                pthread_mutex_lock(&s->wm_mu);
            }
        }
        wm_job_free(&j);
    }
    pthread_mutex_unlock(&s->wm_mu);
    if (connected)
        repl_close(&r);
    wm_prep_clear(&prep);
    return NULL;
}

/* The first chunk to read that is not in flight; plan.nchunks: none. */
static size_t wm_next_chunk(const snap_t *s)
{
    for (size_t i = 0; i < s->plan.nchunks; i++) {
        if (s->plan.chunks[i].state != SNAP_TODO)
            continue;
        bool inflight = false;
        for (size_t k = 0; k < s->nwm && !inflight; k++)
            inflight = s->wm[k]->chunk == i;
        if (!inflight)
            return i;
    }
    return s->plan.nchunks;
}

wc_status_t snap_wm_step(snap_t *s, char *err, size_t errlen)
{
    if (!s || !s->have_plan || s->finished || s->paused)
        return WC_OK;
    pthread_mutex_lock(&s->wm_mu);
    bool failed = s->wm_failed;
    if (failed)
        snprintf(err, errlen, "%s", s->wm_err);
    pthread_mutex_unlock(&s->wm_mu);
    if (failed)
        return WC_RETRY;
    while (s->nwm < SNAP_WM_DEPTH) {
        size_t ci = wm_next_chunk(s);
        if (ci == s->plan.nchunks)
            return WC_OK;
        snap_chunk_t *c = &s->plan.chunks[ci];
        size_t ti = c->table;
        snap_table_t *st = &s->plan.tables[ti];
        if (!s->relids[ti]) {
            /* dropped since: nothing to read */
            log_warn("table of the snapshot no longer exists; skipped", "table=%s.%s", st->schema, st->name);
            snap_chunk_emitted(s, ci, 0);
            continue;
        }
        wc_status_t trc;
        rel_table_t *t = wm_table(s, ti, &trc, err, errlen);
        if (!t)
            return trc;
        if (!st->started_us)
            st->started_us = wc_wall_us();
        snap_wm_t *w = xcalloc(1, sizeof *w);
        w->chunk = ci;
        w->relid = s->relids[ti];
        w->version = t->version;
        w->sig = s->wm_sig ? xstrdup(s->wm_sig) : NULL;
        snprintf(w->nonce, sizeof w->nonce, "%llx-%llu", (unsigned long long)wc_wall_us(), (unsigned long long)++s->seq);
        buf_t sql;
        buf_init(&sql);
        arena_reset(s->arena);
        snap_chunk_sql(&sql, &s->plan, c, snap_rel_cols(t, s->arena), t->ncols);
        w->sql = xstrdup(buf_cstr(&sql));
        buf_free(&sql);
        const char *pv[128];
        w->nparams = snap_chunk_params(&s->plan, c, pv);
        w->params = strv_copy((char *const *)pv, (size_t)w->nparams);
        /* the event key columns (primary key), as text: a chunk of a table without one drops nothing */
        if (t->nkeys && t->nkeys <= 64) {
            w->nkeynames = t->nkeys;
            w->keynames = xcalloc(t->nkeys, sizeof *w->keynames);
            for (size_t k = 0; k < t->nkeys; k++)
                w->keynames[k] = xstrdup(t->cols[t->keys[k]].name);
        }
        pthread_mutex_lock(&s->wm_mu);
        s->wm[s->nwm++] = w;
        pthread_cond_signal(&s->wm_cv);
        pthread_mutex_unlock(&s->wm_mu);
        if (!s->wm_thread_on) {
            int e = pthread_create(&s->wm_thread, NULL, wm_main, s);
            if (e) {
                snprintf(err, errlen, "cannot start the snapshot's watermark thread: %s", strerror(e));
                return WC_RETRY;
            }
            s->wm_thread_on = true;
        }
    }
    return WC_OK;
}

/* Records the key of a streamed change (its new and old tuple) for every chunk in flight of its table: at
 * the chunk's high watermark it drops the row read for that key when the change came inside the window
 * (after the low watermark) or from a transaction the chunk's snapshot does not see. */
void snap_wm_change(snap_t *s, const rel_table_t *t, const pgo_msg_t *m, uint32_t xid)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nwm; i++) {
        snap_wm_t *w = s->wm[i];
        if (t->relid != w->relid || !w->nkeynames)
            continue;
        const pgo_tuple_t *tups[2] = { NULL, NULL };
        if (m->type == PGO_INSERT || m->type == PGO_UPDATE)
            tups[0] = &m->u.change.new_tuple;
        if (m->u.change.old_kind)
            tups[1] = &m->u.change.old_tuple;
        const pgo_col_t *kc[64];
        for (int u = 0; u < 2; u++) {
            if (!tups[u])
                continue;
            for (size_t k = 0; k < w->nkeynames; k++) {
                int c = rel_column_index(t, w->keynames[k]);
                kc[k] = c >= 0 && (size_t)c < tups[u]->ncols ? &tups[u]->cols[c] : NULL;
            }
            if (w->nseen == w->capseen) {
                w->capseen = w->capseen ? w->capseen * 2 : 16;
                w->seen = xrealloc(w->seen, w->capseen * sizeof *w->seen);
            }
            w->seen[w->nseen++] = (snap_wm_seen_t){ .key = key_text(kc, w->nkeynames), .xid = xid, .window = w->window };
        }
    }
}

wc_status_t snap_wm_message(snap_t *s, const pgo_msg_t *m, uint64_t lsn, bool *ours, char *err, size_t errlen)
{
    *ours = m->u.message.prefix && strcmp(m->u.message.prefix, SNAP_WM_PREFIX) == 0;
    if (!*ours || !s)
        return WC_OK;
    char content[96];
    size_t n = m->u.message.content_len < sizeof content - 1 ? m->u.message.content_len : sizeof content - 1;
    memcpy(content, m->u.message.content, n);
    content[n] = 0;
    const char *nonce = content + (content[0] == 'l' ? 4 : 5);
    size_t wi = s->nwm;
    for (size_t i = 0; i < s->nwm; i++)
        if (strcmp(s->wm[i]->nonce, nonce) == 0)
            wi = i;
    if (wi == s->nwm)
        return WC_OK;   /* another run's watermark (before a restart or a reset): nothing to do */
    snap_wm_t *w = s->wm[wi];
    if (content[0] == 'l') {
        w->window = true;
        return WC_OK;
    }
    pthread_mutex_lock(&s->wm_mu);
    bool ready = w->ready;
    pthread_mutex_unlock(&s->wm_mu);
    if (!ready) {
        snprintf(err, errlen, "the high watermark of snapshot chunk %zu arrived before its rows were handed over", w->chunk);
        return WC_RETRY;
    }
    size_t ci = w->chunk;
    rel_table_t *t = rel_cache_get(s->rels, w->relid);
    if (!t || t->version != w->version || (w->sig ? !w->read_sig || strcmp(w->sig, w->read_sig) != 0 : w->read_sig != NULL)) {
        /* the table changed since the version its SELECT listed the columns of: read again with the new one */
        log_debug("snapshot chunk read again: its table changed while it was read", "chunk=%zu", ci);
        if (s->wm_sig_relid == w->relid) {
            free(s->wm_sig);
            s->wm_sig = NULL;
        }
        snap_wm_drop(s, wi);
        return WC_OK;
    }
    /* high watermark: the chunk's rows not touched meanwhile */
    int nrows = PQntuples(w->rows), last = -1;
    bool *dropped = xcalloc((size_t)(nrows ? nrows : 1), sizeof *dropped);
    for (size_t k = 0; k < w->nseen; k++) {
        if (!w->seen[k].window && snap_xsnap_visible(&w->xs, w->seen[k].xid))
            continue;
        for (int r = 0; r < nrows; r++)
            if (!dropped[r] && w->keys[r] && strcmp(w->keys[r], w->seen[k].key) == 0)
                dropped[r] = true;
    }
    wc_status_t st = s->hooks.txn_ensure(s->hooks.ctx, err, errlen);
    if (st != WC_OK) {
        free(dropped);
        return st;
    }
    bool last_chunk = true;
    for (size_t i = 0; i < s->plan.nchunks; i++)
        if (i != ci && s->plan.chunks[i].state == SNAP_TODO)
            last_chunk = false;
    for (int r = 0; r < nrows; r++)
        if (!dropped[r])
            last = r;
    int *map = arena_alloc(s->arena, (t->ncols ? t->ncols : 1) * sizeof *map);
    snap_col_map(t, w->rows, map);
    arena_t *a = arena_new(16 * 1024);
    for (int r = 0; r < nrows; r++) {
        if (dropped[r])
            continue;
        arena_reset(a);
        pgo_tuple_t tup = { 0 };
        tup.cols = arena_alloc(a, (t->ncols ? t->ncols : 1) * sizeof *tup.cols);
        snap_row_tuple(t, w->rows, r, map, &tup);
        evt_pos_t pos = { .lsn = lsn, .now_us = wc_wall_us(), .no_lsn = true };
        pos.snapshot = s->incremental ? "incremental" : last_chunk && r == last ? "last" : "true";
        evt_out_t out;
        st = s->hooks.publish(s->hooks.ctx, evt_read(s->evt, a, &pos, t, &tup, &out, err, errlen), &out, err, errlen);
        if (st != WC_OK)
            break;
    }
    arena_free(a);
    free(dropped);
    if (st != WC_OK)
        return st;
    log_debug("snapshot chunk emitted at its high watermark", "chunk=%zu rows=%d", ci, nrows);
    snap_prog_unrows(s, ci);   /* a read before (its window cut short) no longer counts */
    snap_prog_rows(s, ci, (uint64_t)nrows);
    snap_chunk_emitted(s, ci, 0);
    snap_wm_drop(s, wi);
    return WC_OK;
}
