/* postgres.c: the PostgreSQL apply target (libpq) under sinks/sql.c (statements, tables, offsets shared
 * there): values as $n parameters, upserts through unnest with binary arrays prepared once per session,
 * pipeline mode and deferred commits, conflicts read FOR UPDATE, replication origins, walcast check. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "schemas/json.h"
#include "sinks/conflict.h"
#include "sinks/dialect.h"
#include "sinks/sql.h"
#include "sinks/target.h"

#define PG_MAX_PARAMS 65535

static const sql_ops_t pg_sql_ops;

struct sk_target {
    sql_conn_t s;            /* first: what sinks/sql.c keeps */
    PGconn *conn;
    buf_t vals;
    size_t np;               /* parameters of the statement being built */
    size_t *voff;            /* per parameter: offset into vals, or SIZE_MAX for NULL */
    int *vlen;
    int *vfmt;               /* per parameter: 0 text, 1 binary (only upsert_unnest sends binary) */
    bool anybin;             /* some parameter of the statement being built is binary */
    const char **pv;
    size_t pcap;
    bool in_txn;
    bool pipeline_ok;        /* no statement of a batch needs its result before COMMIT (no conflict handling) */
    bool commit_ts;          /* track_commit_timestamp=on: a row written locally is versioned by its commit time */
    bool pipe;               /* in pipeline mode: statements sent, results read at COMMIT */
    bool defer;              /* commit may return once COMMIT is sent (defer_commit) */
    bool commit_pending;     /* a sent COMMIT whose results commit_wait has not read yet */
    size_t npending;         /* statements sent in pipeline mode whose results are not read yet */
    char **prepared;         /* SQL texts prepared in this session as statements wc_<index> */
    size_t nprepared;
    /* Create events ('c') in upsert mode go as plain INSERTs when pipelining: on a mirror the row is not
     * there, and ON CONFLICT's speculative insertion (pre-check, lock, confirm) is a third of the server's
     * work. A unique violation then rolls the batch back (WC_ABORT) and the tables involved take ON
     * CONFLICT for the rest of the session. */
    char **optimistic;       /* tables that got plain INSERTs in the open transaction */
    size_t noptimistic;
    char **pessimistic;      /* tables that met an existing row: always ON CONFLICT */
    size_t npessimistic;
    char **nocopy;           /* tables a COPY failed on for another reason than a unique violation */
    size_t nocopy_n;
    char last_ss[6];         /* SQLSTATE of the last failure fail() saw */
    /* Those plain INSERTs go as COPY ... FROM STDIN where the table takes it (copy_check): binary when
     * every column has a binary form, else text. WALCAST_SINK_COPY=binary|text|off (bench, diagnosis). */
    int copy_mode;           /* COPY_AUTO, COPY_TEXT, COPY_OFF */
    struct copy_table *copy_tables;   /* what copy_check found, per table and column types */
    buf_t copy;              /* the COPY data being built */
    /* COPYs of the open transaction, held until COMMIT (or a TRUNCATE or DDL in between): they go with it
     * as one simple query, "COPY ...; COPY ...; COMMIT", whose results a deferred commit reads later */
    struct held_copy *held;
    size_t nheld;
    bool copy_pending;       /* the results of such a COPY/COMMIT query are not read yet */
    /* A pipelining session sends BEGIN with the batch's first statement (pipe_open), not before: a batch
     * that is only COPYs and its offsets then goes as one simple query, "BEGIN; <offsets>; COPY ...; COMMIT",
     * with no pipeline to drain first (a round trip per batch). */
    bool begin_due;          /* in a batch transaction whose BEGIN is not sent yet */
    bool literal;            /* pg_text writes values as literals (a statement for held_pre) */
    bool literal_bad;        /* ... and one could not be (PQescapeLiteral failed) */
    buf_t held_pre;          /* statements that go before the held COPYs, with literal values */
};

typedef struct held_copy {
    char *table, *sql;
    buf_t data;
} held_copy_t;

enum { COPY_AUTO, COPY_TEXT, COPY_OFF };

/* A table COPY was checked for: its column types as walcast writes them (sig) and whether the server's
 * table has exactly those (else the INSERT path, whose casts to the table's types COPY would not do). */
typedef struct copy_table {
    char *name, *sig;
    bool ok;
    bool said;   /* "creates go through COPY" was logged */
    struct copy_table *next;
} copy_table_t;

/* SQLSTATE -> classification (the source's own, schemas/status.c); never the message text. */
static wc_status_t classify(const PGresult *r, PGconn *c)
{
    if (PQstatus(c) != CONNECTION_OK)
        return WC_RETRY;
    return wc_status_sqlstate(r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL);
}

static wc_status_t fail(sk_target_t *t, PGresult *r, const char *what, char *err, size_t errlen)
{
    wc_status_t st = classify(r, t->conn);
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = PQerrorMessage(t->conn);
    const char *ss = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(t->last_ss, sizeof t->last_ss, "%s", ss ? ss : "");
    snprintf(err, errlen, "%s: %s%s%s", what, ss ? ss : "", ss ? " " : "", m);
    size_t l = strlen(err);
    while (l && (err[l - 1] == '\n' || err[l - 1] == ' '))
        err[--l] = '\0';
    for (char *p = err; *p; p++)
        if (*p == '\n')
            *p = ' ';
    PQclear(r);
    return st;
}

static wc_status_t exec(sk_target_t *t, const char *sql, const char *what, char *err, size_t errlen)
{
    PGresult *r = PQexec(t->conn, sql);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
        return fail(t, r, what, err, errlen);
    PQclear(r);
    return WC_OK;
}

static void optimistic_clear(sk_target_t *t)
{
    for (size_t i = 0; i < t->noptimistic; i++)
        free(t->optimistic[i]);
    free(t->optimistic);
    t->optimistic = NULL;
    t->noptimistic = 0;
}

static bool in_list(char *const *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], name))
            return true;
    return false;
}

/* A failure of a transaction that sent plain INSERTs: a unique violation means a create met its row; the
 * batch is applied again (WC_ABORT) with ON CONFLICT for those tables. */
static wc_status_t optimism_check(sk_target_t *t, wc_status_t st)
{
    if (st == WC_PERMANENT && t->noptimistic && !strcmp(t->last_ss, "23505")) {
        for (size_t i = 0; i < t->noptimistic; i++) {
            if (in_list(t->pessimistic, t->npessimistic, t->optimistic[i]))
                continue;
            log_info("a create event met an existing row: upserting into this table from now on",
                     "table=%s", log_esc(t->optimistic[i]));
            t->pessimistic = xrealloc(t->pessimistic, (t->npessimistic + 1) * sizeof *t->pessimistic);
            t->pessimistic[t->npessimistic++] = xstrdup(t->optimistic[i]);
        }
        st = WC_ABORT;
    }
    if (st != WC_OK)
        optimistic_clear(t);
    return st;
}

static void copy_tables_clear(sk_target_t *t)
{
    copy_table_t *n;
    for (copy_table_t *p = t->copy_tables; p; p = n) {
        n = p->next;
        free(p->name);
        free(p->sig);
        free(p);
    }
    t->copy_tables = NULL;
}

static void held_clear(sk_target_t *t)
{
    for (size_t i = 0; i < t->nheld; i++) {
        free(t->held[i].table);
        free(t->held[i].sql);
        buf_free(&t->held[i].data);
    }
    t->nheld = 0;
    buf_reset(&t->held_pre);
}

/* Pipeline mode, opened with the batch's BEGIN if that is still due. */
static wc_status_t pipe_open(sk_target_t *t, char *err, size_t errlen)
{
    if (!t->pipe) {
        if (!PQenterPipelineMode(t->conn))
            return fail(t, NULL, "entering pipeline mode", err, errlen);
        t->pipe = true;
    }
    if (t->begin_due) {
        const char *none[1] = { NULL };
        if (!PQsendQueryParams(t->conn, "BEGIN", 0, NULL, none, NULL, NULL, 0))
            return fail(t, NULL, "BEGIN", err, errlen);
        t->npending++;
        t->begin_due = false;
    }
    return WC_OK;
}

static wc_status_t pipe_drain(sk_target_t *t, bool sync, char *err, size_t errlen);

/* Before a statement whose answer is read now: BEGIN if due, and what the pipeline holds applied (a sync
 * inside the transaction block does not commit). */
static wc_status_t in_step(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st;
    if (t->begin_due && (st = pipe_open(t, err, errlen)))
        return st;
    return t->pipe ? pipe_drain(t, true, err, errlen) : WC_OK;
}

static void pg_close(sk_target_t *t)
{
    if (!t)
        return;
    copy_tables_clear(t);
    held_clear(t);
    free(t->held);
    buf_free(&t->copy);
    buf_free(&t->held_pre);
    if (t->conn)
        PQfinish(t->conn);
    sql_free(&t->s);
    for (size_t i = 0; i < t->nprepared; i++)
        free(t->prepared[i]);
    free(t->prepared);
    optimistic_clear(t);
    for (size_t i = 0; i < t->npessimistic; i++)
        free(t->pessimistic[i]);
    free(t->pessimistic);
    for (size_t i = 0; i < t->nocopy_n; i++)
        free(t->nocopy[i]);
    free(t->nocopy);
    buf_free(&t->vals);
    free(t->voff);
    free(t->vlen);
    free(t->vfmt);
    free(t->pv);
    free(t);
}

static wc_status_t pg_connect(const sk_config_t *cfg, sk_target_t **out, char *err, size_t errlen)
{
    const char *kw[16], *vv[16];
    int n = 0;
    char port[16], app[128];
    const sk_url_t *u = &cfg->conn;
    if (u->host) {
        kw[n] = "host";
        vv[n++] = u->host;
    }
    if (u->port) {
        snprintf(port, sizeof port, "%d", u->port);
        kw[n] = "port";
        vv[n++] = port;
    }
    if (u->database) {
        kw[n] = "dbname";
        vv[n++] = u->database;
    }
    if (u->user) {
        kw[n] = "user";
        vv[n++] = u->user;
    }
    if (u->password) {
        kw[n] = "password";
        vv[n++] = u->password;
    }
    snprintf(app, sizeof app, "walcast-sink-%s", cfg->name);
    kw[n] = "application_name";
    vv[n++] = app;
    kw[n] = "connect_timeout";
    vv[n++] = "10";
    kw[n] = NULL;
    vv[n] = NULL;
    PGconn *c = PQconnectdbParams(kw, vv, 0);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(err, errlen, "cannot connect to PostgreSQL at %s:%s: %s", u->host ? u->host : "(default)",
                 u->port ? port : "(default)", PQerrorMessage(c));
        size_t l = strlen(err);
        while (l && err[l - 1] == '\n')
            err[--l] = '\0';
        /* refused logins and missing databases stop the sink; an unreachable or starting server is retried */
        wc_status_t st = PQconnectionNeedsPassword(c) ? WC_FATAL : wc_status_pg_connect(PQerrorMessage(c));
        PQfinish(c);
        return st;
    }
    sk_target_t *t = xcalloc(1, sizeof *t);
    sql_init(&t->s, &pg_sql_ops, cfg, SK_DIALECT_POSTGRES);
    t->s.max_params = PG_MAX_PARAMS;
    t->s.count_upserts = true;
    t->conn = c;
    /* pipeline mode: the batch's statements, its offsets and COMMIT go in one round trip */
    t->pipeline_ok = cfg->policy == SK_POLICY_SOURCE_WINS && !cfg->conflict_log && !cfg->ntable_policies &&
                     cfg->insert_mode != SK_INSERT_UPDATE;
    buf_init(&t->vals);
    buf_init(&t->copy);
    buf_init(&t->held_pre);
    const char *cm = getenv("WALCAST_SINK_COPY");
    t->copy_mode = cm && !strcmp(cm, "off") ? COPY_OFF : cm && !strcmp(cm, "text") ? COPY_TEXT : COPY_AUTO;
    wc_status_t st = exec(t, "SET TIME ZONE 'UTC'; SET datestyle = 'ISO, YMD'; SET intervalstyle = 'postgres'; "
                             "SET extra_float_digits = 3",
                          "session settings", err, errlen);
    if (st == WC_OK) {
        PGresult *r = PQexec(c, "SELECT current_setting('track_commit_timestamp') = 'on'");
        t->commit_ts = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
        PQclear(r);
    }
    if (st == WC_OK && cfg->origin_name) {
        /* apply sessions carry a replication origin so that a source connector can skip their changes (no
         * echo between two databases replicating into each other) */
        const char *p[1] = { cfg->origin_name };
        PGresult *r = PQexecParams(c,
                                   "SELECT pg_replication_origin_create($1) WHERE pg_replication_origin_oid($1) IS NULL",
                                   1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            PQclear(r);
            r = PQexecParams(c, "SELECT pg_replication_origin_session_setup($1)", 1, NULL, p, NULL, NULL, 0);
        }
        const char *ss = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (PQresultStatus(r) == PGRES_TUPLES_OK)
            PQclear(r);
        else if (ss && !strcmp(ss, "42501")) {
            /* not allowed to use replication origins: apply without one, and say what that means */
            log_warn("the target user may not use replication origins; applying without one (a source connector "
                     "on this database will capture these changes again: GRANT EXECUTE ON FUNCTION "
                     "pg_replication_origin_session_setup, pg_replication_origin_create to the user, or use a "
                     "superuser)", "connector=%s origin=%s", log_esc(cfg->name), log_esc(cfg->origin_name));
            PQclear(r);
        } else
            st = fail(t, r, "setting up the replication origin", err, errlen);
    }
    if (st != WC_OK) {
        pg_close(t);
        return st;
    }
    *out = t;
    return WC_OK;
}

static wc_status_t pg_begin(sk_target_t *t, char *err, size_t errlen)
{
    optimistic_clear(t);
    held_clear(t);
    if (t->pipeline_ok) {
        /* BEGIN goes with the first statement (pipe_open, in_step, copy_send): no round trip of its own */
        t->begin_due = true;
        t->in_txn = true;
        return WC_OK;
    }
    wc_status_t st = exec(t, "BEGIN", "BEGIN", err, errlen);
    if (st == WC_OK)
        t->in_txn = true;
    return st;
}

static wc_status_t copy_send(sk_target_t *t, bool commit, bool wait, char *err, size_t errlen);

static wc_status_t pg_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen)
{
    const sql_table_t *pt = sql_table_find(&t->s, tab->name);
    if (pt && pt->checked == tab->row)
        return WC_OK;
    /* the catalog is read in step: what was sent is applied first (a sync inside the transaction block
     * does not commit) */
    wc_status_t st;
    if (t->nheld && (st = copy_send(t, false, true, err, errlen)))
        return st;
    if ((st = in_step(t, err, errlen)))
        return st;
    return sql_ensure_table(t, tab, evolve, err, errlen);
}

/* ---- parameters ---- */

static void params_reset(sk_target_t *t)
{
    buf_reset(&t->vals);
    t->anybin = false;
    t->np = 0;
}

static void params_need(sk_target_t *t, size_t n)
{
    if (n <= t->pcap)
        return;
    size_t cap = t->pcap ? t->pcap : 1024;
    while (cap < n)
        cap *= 2;
    t->voff = xrealloc(t->voff, cap * sizeof *t->voff);
    t->vlen = xrealloc(t->vlen, cap * sizeof *t->vlen);
    t->vfmt = xrealloc(t->vfmt, cap * sizeof *t->vfmt);
    t->pv = xrealloc(t->pv, cap * sizeof *t->pv);
    t->pcap = cap;
}

/* Appends parameter number i (0-based) for field f of row c. */
static int param_field(sk_target_t *t, size_t i, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    dl_kind_t k;
    size_t at = t->vals.len;
    if (sql_value(&t->vals, SK_DIALECT_POSTGRES, c, f, &k, err, errlen) < 0)
        return -1;
    t->vfmt[i] = 0;
    if (k == DL_NULL) {
        t->voff[i] = SIZE_MAX;
    } else {
        t->voff[i] = at;
        t->vlen[i] = (int)(t->vals.len - at);
        buf_putc(&t->vals, '\0');
    }
    return 0;
}

static void param_text(sk_target_t *t, size_t i, const char *s, size_t n)
{
    t->voff[i] = t->vals.len;
    t->vlen[i] = (int)n;
    t->vfmt[i] = 0;
    buf_append(&t->vals, s, n);
    buf_putc(&t->vals, '\0');
}

/* Parameter i in PostgreSQL's binary format (the bytes its type's receive function reads). */
static void param_binary(sk_target_t *t, size_t i, const char *s, size_t n)
{
    param_text(t, i, s, n);
    t->vfmt[i] = 1;
    t->anybin = true;
}

/* Runs t->s.sql with the collected parameters. Inside a batch transaction of a pipelining session it is
 * only sent (results are read at COMMIT) and *affected is -1. */
static wc_status_t run_params_ex(sk_target_t *t, size_t np, bool prepare, const char *what, long *affected, char *err,
                                 size_t errlen)
{
    for (size_t i = 0; i < np; i++)
        t->pv[i] = t->voff[i] == SIZE_MAX ? NULL : t->vals.data + t->voff[i];
    const int *lens = t->anybin ? t->vlen : NULL, *fmts = t->anybin ? t->vfmt : NULL;
    /* statements whose text repeats batch after batch are prepared once per session */
    const char *sql = buf_cstr(&t->s.sql);
    char name[32] = "";
    if (prepare) {
        size_t i = 0;
        while (i < t->nprepared && strcmp(t->prepared[i], sql))
            i++;
        if (i == t->nprepared && !t->pipe && t->nprepared < 256) {
            snprintf(name, sizeof name, "wc_%zu", i);
            PGresult *r = PQprepare(t->conn, name, sql, (int)np, NULL);
            if (PQresultStatus(r) != PGRES_COMMAND_OK)
                return fail(t, r, what, err, errlen);
            PQclear(r);
            t->prepared = xrealloc(t->prepared, (t->nprepared + 1) * sizeof *t->prepared);
            t->prepared[t->nprepared++] = xstrdup(sql);
        } else if (i < t->nprepared)
            snprintf(name, sizeof name, "wc_%zu", i);
    }
    if (t->pipeline_ok && t->in_txn) {
        wc_status_t st = pipe_open(t, err, errlen);
        if (st)
            return st;
        int ok = name[0] ? PQsendQueryPrepared(t->conn, name, (int)np, t->pv, lens, fmts, 0)
                         : PQsendQueryParams(t->conn, sql, (int)np, NULL, t->pv, lens, fmts, 0);
        if (!ok)
            return fail(t, NULL, what, err, errlen);
        t->npending++;
        if (affected)
            *affected = -1;
        return WC_OK;
    }
    PGresult *r = name[0] ? PQexecPrepared(t->conn, name, (int)np, t->pv, lens, fmts, 0)
                          : PQexecParams(t->conn, sql, (int)np, NULL, t->pv, lens, fmts, 0);
    ExecStatusType es = PQresultStatus(r);
    if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK)
        return fail(t, r, what, err, errlen);
    if (affected)
        *affected = atol(PQcmdTuples(r));
    PQclear(r);
    return WC_OK;
}

static wc_status_t run_params(sk_target_t *t, size_t np, const char *what, long *affected, char *err, size_t errlen)
{
    return run_params_ex(t, np, false, what, affected, err, errlen);
}

static bool unnest_ok(sk_target_t *t, const cs_schema_t *rs);
static wc_status_t upsert_unnest(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                                 const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                                 size_t errlen);

/* Upserts of more than one row of a table without array columns go through unnest (prepared once). */
static wc_status_t pg_upsert(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                             size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    if (n > 1 && unnest_ok(t, tab->row))
        return upsert_unnest(t, tab, mode, ch, n, cc, err, errlen);
    return sql_upsert(t, tab, mode, ch, n, cc, err, errlen);
}

/* Appends the text of one element of a PostgreSQL array literal ("..." with \ and " escaped, or NULL). */
static int array_elem(sk_target_t *t, buf_t *b, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    dl_kind_t k;
    size_t at = t->vals.len;
    if (sql_value(&t->vals, SK_DIALECT_POSTGRES, c, f, &k, err, errlen) < 0)
        return -1;
    if (k == DL_NULL) {
        buf_puts(b, "NULL");
        return 0;
    }
    buf_reserve(b, 2 * (t->vals.len - at) + 2);
    b->data[b->len++] = '"';
    for (size_t i = at; i < t->vals.len; i++) {
        char ch = t->vals.data[i];
        if (ch == '"' || ch == '\\')
            b->data[b->len++] = '\\';
        b->data[b->len++] = ch;
    }
    b->data[b->len++] = '"';
    t->vals.len = at;
    return 0;
}

/* Whether every column can travel as one array parameter (unnest flattens arrays of arrays). */
static bool unnest_ok(sk_target_t *t, const cs_schema_t *rs)
{
    for (size_t f = 0; f < rs->nfields; f++) {
        buf_t *b = &t->s.sql;
        buf_reset(b);
        dl_type(b, SK_DIALECT_POSTGRES, rs->fields[f].schema, false);
        if (b->len >= 2 && !memcmp(b->data + b->len - 2, "[]", 2))
            return false;
    }
    return true;
}

/* ---- binary array parameters ----
 * The columns whose values have a fixed binary form travel as binary arrays (array_recv): the server then
 * parses no array literal and no element text (array_in, int4in, timestamptz_in were a fifth of its time).
 * Other columns, and a column with a value the fast path does not take, go as text arrays as before. */

typedef enum { BK_NONE, BK_INT2, BK_INT4, BK_INT8, BK_FLOAT4, BK_FLOAT8, BK_BOOL, BK_TEXT, BK_BYTEA, BK_TSTZ_ZONED,
               BK_TS_MILLI, BK_TS_MICRO, BK_TS_NANO, BK_DATE } bin_kind_t;

/* built-in type OIDs (pg_type.dat; fixed across releases) */
static const uint32_t bin_oid[] = { [BK_INT2] = 21, [BK_INT4] = 23, [BK_INT8] = 20, [BK_FLOAT4] = 700,
                                    [BK_FLOAT8] = 701, [BK_BOOL] = 16, [BK_TEXT] = 25, [BK_BYTEA] = 17,
                                    [BK_TSTZ_ZONED] = 1184, [BK_TS_MILLI] = 1114, [BK_TS_MICRO] = 1114,
                                    [BK_TS_NANO] = 1114, [BK_DATE] = 1082 };

/* The binary kind of a column: the same type dl_type gives it, for values dl_value would write plainly. */
static bin_kind_t bin_kind(const cs_schema_t *s)
{
    if (s->name) {
        const char *n = s->name;
        if (!strcmp(n, "io.debezium.time.ZonedTimestamp"))
            return s->type == CT_STRING ? BK_TSTZ_ZONED : BK_NONE;
        if (!strcmp(n, "io.debezium.time.MicroTimestamp"))
            return s->type == CT_INT64 ? BK_TS_MICRO : BK_NONE;
        if (!strcmp(n, "io.debezium.time.NanoTimestamp"))
            return s->type == CT_INT64 ? BK_TS_NANO : BK_NONE;
        if (!strcmp(n, "io.debezium.time.Timestamp") || !strcmp(n, "org.apache.kafka.connect.data.Timestamp"))
            return s->type == CT_INT64 ? BK_TS_MILLI : BK_NONE;
        if (!strcmp(n, "io.debezium.time.Date") || !strcmp(n, "org.apache.kafka.connect.data.Date"))
            return s->type == CT_INT32 ? BK_DATE : BK_NONE;
        return BK_NONE;
    }
    switch (s->type) {
    case CT_INT8:
    case CT_INT16: return BK_INT2;
    case CT_INT32: return BK_INT4;
    case CT_INT64: return BK_INT8;
    case CT_FLOAT32: return BK_FLOAT4;
    case CT_FLOAT64: return BK_FLOAT8;
    case CT_BOOLEAN: return BK_BOOL;
    case CT_STRING: return BK_TEXT;
    case CT_BYTES: return BK_BYTEA;
    default: return BK_NONE;
    }
}

static void put_be32(buf_t *b, uint32_t v)
{
    unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                           (unsigned char)v };
    buf_append(b, x, 4);
}

static void put_be64(buf_t *b, uint64_t v)
{
    put_be32(b, (uint32_t)(v >> 32));
    put_be32(b, (uint32_t)v);
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil) */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    *out = v;
    return true;
}

/* ZonedTimestamp text as Debezium writes it in UTC (YYYY-MM-DDTHH:MM:SS[.f{1,6}]Z) -> microseconds since
 * 1970; false for any other form (offsets, more digits, out of range: the text path takes those). */
static bool zoned_us(const char *p, size_t n, int64_t *us)
{
    unsigned y, mo, d, h, mi, sec, frac = 0;
    if (n < 20 || p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[n - 1] != 'Z' ||
        !digits(p, 4, &y) || !digits(p + 5, 2, &mo) || !digits(p + 8, 2, &d) || !digits(p + 11, 2, &h) ||
        !digits(p + 14, 2, &mi) || !digits(p + 17, 2, &sec))
        return false;
    size_t nf = n - 20;
    if (nf) {
        if (p[19] != '.' || nf < 2 || nf > 7 || !digits(p + 20, (int)nf - 1, &frac))
            return false;
        for (size_t i = nf - 1; i < 6; i++)
            frac *= 10;
    }
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 ||
        mi > 59 || sec > 59)
        return false;
    *us = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + frac;
    return true;
}

/* PostgreSQL's epoch (2000-01-01) in microseconds and days since 1970 */
#define PG_EPOCH_US 946684800000000LL
#define PG_EPOCH_DAYS 10957
/* years 1..9999, the range where text and binary surely agree (others go as text) */
#define BIN_MIN_US (-62135596800000000LL)
#define BIN_MAX_US (253402300799999999LL)

/* One value in PostgreSQL's binary format (its length, then the bytes its type's receive function reads;
 * -1 for NULL) into b; false (b undefined) when the value does not take the binary path. */
static bool bin_elem(buf_t *b, bin_kind_t k, const cv_value_t *v)
{
    if (v->null) {
        put_be32(b, 0xFFFFFFFFu);
        return true;
    }
    int64_t x = v->u.i, us;
    switch (k) {
    case BK_INT2:
        if (x < INT16_MIN || x > INT16_MAX)
            return false;
        put_be32(b, 2);
        buf_putc(b, (char)((uint16_t)x >> 8));
        buf_putc(b, (char)(uint16_t)x);
        return true;
    case BK_INT4:
        if (x < INT32_MIN || x > INT32_MAX)
            return false;
        put_be32(b, 4);
        put_be32(b, (uint32_t)x);
        return true;
    case BK_INT8:
        put_be32(b, 8);
        put_be64(b, (uint64_t)x);
        return true;
    case BK_FLOAT4: {
        float fv = (float)v->u.f;
        uint32_t bits;
        memcpy(&bits, &fv, 4);
        put_be32(b, 4);
        put_be32(b, bits);
        return true;
    }
    case BK_FLOAT8: {
        uint64_t bits;
        memcpy(&bits, &v->u.f, 8);
        put_be32(b, 8);
        put_be64(b, bits);
        return true;
    }
    case BK_BOOL:
        put_be32(b, 1);
        buf_putc(b, v->u.b ? 1 : 0);
        return true;
    case BK_TEXT:
        if (v->u.s.n > INT32_MAX || memchr(v->u.s.p, 0, v->u.s.n))
            return false;   /* the text path says why */
        /* fall through */
    case BK_BYTEA:
        if (v->u.s.n > INT32_MAX)
            return false;
        put_be32(b, (uint32_t)v->u.s.n);
        buf_append(b, v->u.s.p, v->u.s.n);
        return true;
    case BK_TSTZ_ZONED:
    case BK_TS_MILLI:
    case BK_TS_MICRO:
    case BK_TS_NANO:
        if (k == BK_TSTZ_ZONED) {
            if (!zoned_us(v->u.s.p, v->u.s.n, &us))
                return false;
        } else if (k == BK_TS_MILLI) {
            if (x < BIN_MIN_US / 1000 || x > BIN_MAX_US / 1000)
                return false;
            us = x * 1000;
        } else
            us = k == BK_TS_MICRO ? x : x / 1000;
        if (us < BIN_MIN_US || us > BIN_MAX_US)
            return false;
        put_be32(b, 8);
        put_be64(b, (uint64_t)(us - PG_EPOCH_US));
        return true;
    case BK_DATE:
        if (x < BIN_MIN_US / 86400000000LL || x > BIN_MAX_US / 86400000000LL)
            return false;
        put_be32(b, 4);
        put_be32(b, (uint32_t)(int32_t)(x - PG_EPOCH_DAYS));
        return true;
    case BK_NONE:
        return false;
    }
    return false;
}

/* Column f of rows ch[0..n) as one binary array into b; false (b undefined) when a value does not take
 * the binary path. */
static bool bin_array(buf_t *b, bin_kind_t k, const sk_change_t *const *ch, size_t n, size_t f)
{
    buf_reset(b);
    put_be32(b, 1);                 /* dimensions */
    put_be32(b, 0);                 /* has-null flag: array_recv finds the NULLs itself */
    put_be32(b, bin_oid[k]);
    put_be32(b, (uint32_t)n);
    put_be32(b, 1);                 /* lower bound */
    for (size_t r = 0; r < n; r++)
        if (!bin_elem(b, k, &ch[r]->row.u.list.v[f]))
            return false;
    return true;
}

/* The upsert as INSERT ... SELECT * FROM unnest($1::type[], ...): one parameter per column whatever the
 * number of rows, so the statement text repeats and is prepared once (no parse and plan per batch). */
static wc_status_t upsert_unnest_one(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                                     const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                                     size_t errlen);

/* ---- COPY for runs of creates ----
 * The creates the optimistic path would send as a plain INSERT go as COPY <table> (<columns>) FROM STDIN:
 * the server then runs no executor per statement and no unnest, only each column's input (text) or receive
 * (binary) function. COPY is not allowed in pipeline mode, so what the batch sent so far is drained first
 * (one round trip; a sync inside the transaction block does not commit) and the statements after it are
 * pipelined again. A unique violation is the optimistic path's (WC_ABORT, that table upserts from then on);
 * any other permanent failure sends the table back to INSERT for the session and the batch is applied
 * again (WC_ABORT), so that a poison record is found and dead-lettered by the INSERT path as before. */

/* Decimal text ("-12.340") as numeric's binary form (numeric_recv: ndigits, weight, sign, dscale, then
 * base-10000 digits); false for any other text. */
static bool numeric_bin(buf_t *b, const char *p, size_t n)
{
    bool neg = n && p[0] == '-';
    size_t i = neg, ni = 0, nf = 0;
    while (i + ni < n && p[i + ni] >= '0' && p[i + ni] <= '9')
        ni++;
    const char *ip = p + i, *fp = p + i + ni;
    if (i + ni < n) {
        if (p[i + ni] != '.')
            return false;
        fp++;
        while (i + ni + 1 + nf < n && fp[nf] >= '0' && fp[nf] <= '9')
            nf++;
        if (i + ni + 1 + nf != n || !nf)
            return false;
    }
    if (!ni || nf > 1000 || ni > 1000)
        return false;
    /* groups of 4 digits aligned on the decimal point */
    size_t gi = (ni + 3) / 4, gf = (nf + 3) / 4, ng = gi + gf;
    uint16_t g[512];
    for (size_t k = 0; k < ng; k++) {
        unsigned v = 0;
        for (size_t d = 0; d < 4; d++) {
            /* digit position: integer digits right-aligned in gi groups, fraction digits left-aligned */
            long pos = (long)(k * 4 + d) - (long)(gi * 4 - ni);
            int dig = 0;
            if (pos >= 0 && (size_t)pos < ni)
                dig = ip[pos] - '0';
            else if (pos >= (long)ni && (size_t)pos - ni < nf)
                dig = fp[pos - (long)ni] - '0';
            v = v * 10 + (unsigned)dig;
        }
        g[k] = (uint16_t)v;
    }
    size_t lo = 0, hi = ng;
    int weight = (int)gi - 1;
    while (lo < hi && !g[lo]) {
        lo++;
        weight--;
    }
    while (hi > lo && !g[hi - 1])
        hi--;
    if (lo == hi) {
        weight = 0;
        neg = false;
    }
    put_be32(b, (uint32_t)(8 + 2 * (hi - lo)));
    unsigned char h[8] = { (unsigned char)((hi - lo) >> 8), (unsigned char)(hi - lo),
                           (unsigned char)((uint16_t)weight >> 8), (unsigned char)(uint16_t)weight,
                           neg ? 0x40 : 0, 0, (unsigned char)(nf >> 8), (unsigned char)nf };
    buf_append(b, h, 8);
    for (size_t k = lo; k < hi; k++) {
        buf_putc(b, (char)(g[k] >> 8));
        buf_putc(b, (char)g[k]);
    }
    return true;
}

static bool is_decimal(const cs_schema_t *s)
{
    return s->name && ((!strcmp(s->name, "org.apache.kafka.connect.data.Decimal") && s->type == CT_BYTES) ||
                       (!strcmp(s->name, "io.debezium.data.VariableScaleDecimal") && s->type == CT_STRUCT));
}

/* "..." with \ and " escaped, as an element of an array literal */
static void arr_str(buf_t *b, const char *s, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

/* Whether COPY may write tab: a plain or partitioned table without rules (COPY skips rules, INSERT runs
 * them) whose columns have exactly the types walcast writes (INSERT casts to another type, COPY reads
 * the value as the column's type). Asked once per session, table and row schema; out of pipeline mode. */
static wc_status_t copy_check(sk_target_t *t, const sk_table_t *tab, copy_table_t **out, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    buf_t sig, names, types, id;
    buf_init(&sig);
    buf_init(&names);
    buf_init(&types);
    buf_init(&id);
    wc_status_t st = WC_OK;
    buf_putc(&names, '{');
    buf_putc(&types, '{');
    for (size_t f = 0; f < rs->nfields; f++) {
        size_t at = sig.len;
        dl_type(&sig, SK_DIALECT_POSTGRES, rs->fields[f].schema, false);
        buf_putc(&names, f ? ',' : ' ');
        arr_str(&names, rs->fields[f].name, strlen(rs->fields[f].name));
        buf_putc(&types, f ? ',' : ' ');
        arr_str(&types, sig.data + at, sig.len - at);
        buf_putc(&sig, '\x1f');
        buf_puts(&sig, rs->fields[f].name);
        buf_putc(&sig, '\x1e');
    }
    buf_putc(&names, '}');
    buf_putc(&types, '}');
    copy_table_t *ct = t->copy_tables;
    while (ct && (strcmp(ct->name, tab->name) || strcmp(ct->sig, buf_cstr(&sig))))
        ct = ct->next;
    if (ct) {
        *out = ct;
        goto out;
    }
    /* the catalog is read in step: what was sent is applied first (a sync inside the transaction block does
     * not commit) */
    if ((st = in_step(t, err, errlen)))
        goto out;
    sql_ident(&t->s, &id, tab->name);
    const char *p[3] = { buf_cstr(&id), buf_cstr(&names), buf_cstr(&types) };
    PGresult *r = PQexecParams(t->conn,
                               "SELECT c.relkind IN ('r', 'p') AND NOT c.relhasrules AND (SELECT count(*) FROM "
                               "unnest($2::text[], $3::text[]) w(col, typ) JOIN pg_attribute a ON a.attrelid = c.oid "
                               "AND a.attname = w.col AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = "
                               "to_regtype(w.typ)) = cardinality($2::text[]) FROM pg_class c WHERE c.oid = "
                               "to_regclass($1)",
                               3, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        st = fail(t, r, "checking a table for COPY", err, errlen);
        goto out;
    }
    ct = xcalloc(1, sizeof *ct);
    ct->name = xstrdup(tab->name);
    ct->sig = xstrdup(buf_cstr(&sig));
    ct->ok = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    ct->next = t->copy_tables;
    t->copy_tables = ct;
    *out = ct;
    if (!ct->ok)
        log_info("target table is not COPY's (a view, rules, or column types other than walcast's): creates go as "
                 "INSERT", "table=%s", log_esc(tab->name));
out:
    buf_free(&sig);
    buf_free(&names);
    buf_free(&types);
    buf_free(&id);
    return st;
}

/* The rows as COPY's binary format into t->copy; false when a column or value has no binary form here. */
static bool copy_binary(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n)
{
    const cs_schema_t *rs = tab->row;
    buf_t *b = &t->copy;
    bin_kind_t kind[1600];
    if (rs->nfields > 1600)
        return false;
    for (size_t f = 0; f < rs->nfields; f++) {
        kind[f] = bin_kind(rs->fields[f].schema);
        if (kind[f] == BK_NONE && !is_decimal(rs->fields[f].schema))
            return false;
    }
    buf_reset(b);
    buf_append(b, "PGCOPY\n\377\r\n\0", 11);
    put_be32(b, 0);   /* flags */
    put_be32(b, 0);   /* header extension */
    for (size_t r = 0; r < n; r++) {
        buf_putc(b, (char)(rs->nfields >> 8));
        buf_putc(b, (char)rs->nfields);
        for (size_t f = 0; f < rs->nfields; f++) {
            const cv_value_t *v = &ch[r]->row.u.list.v[f];
            if (kind[f] != BK_NONE) {
                if (!bin_elem(b, kind[f], v))
                    return false;
                continue;
            }
            dl_kind_t k;
            char e[256];
            size_t at = t->vals.len;
            if (sql_value(&t->vals, SK_DIALECT_POSTGRES, ch[r], f, &k, e, sizeof e) < 0)
                return false;   /* the text path says why */
            bool good = k == DL_NULL ? (put_be32(b, 0xFFFFFFFFu), true)
                                     : numeric_bin(b, t->vals.data + at, t->vals.len - at);
            t->vals.len = at;
            if (!good)
                return false;
        }
    }
    buf_putc(b, (char)0xFF);   /* trailer: -1 */
    buf_putc(b, (char)0xFF);
    return true;
}

/* The rows as COPY's text format into t->copy (values as the INSERT path writes them); -1 with err when a
 * value cannot be written (poison). */
static int copy_text(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n, char *err,
                     size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    buf_t *b = &t->copy;
    buf_reset(b);
    for (size_t r = 0; r < n; r++) {
        for (size_t f = 0; f < rs->nfields; f++) {
            if (f)
                buf_putc(b, '\t');
            dl_kind_t k;
            size_t at = t->vals.len;
            if (sql_value(&t->vals, SK_DIALECT_POSTGRES, ch[r], f, &k, err, errlen) < 0)
                return -1;
            if (k == DL_NULL) {
                buf_puts(b, "\\N");
                continue;
            }
            buf_reserve(b, 2 * (t->vals.len - at));
            for (size_t i = at; i < t->vals.len; i++) {
                char c = t->vals.data[i];
                const char *esc = c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
                if (esc)
                    buf_append(b, esc, 2);
                else
                    b->data[b->len++] = c;
            }
            t->vals.len = at;
        }
        buf_putc(b, '\n');
    }
    return 0;
}

/* The creates ch[0..n) of tab as a COPY held until the transaction's COMMIT (copy_send); *used false
 * (nothing held) when the table or session does not take COPY, so that the caller sends its INSERT. */
static wc_status_t copy_rows(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                             bool *used, char *err, size_t errlen)
{
    *used = false;
    if (t->copy_mode == COPY_OFF || in_list(t->nocopy, t->nocopy_n, tab->name))
        return WC_OK;
    wc_status_t st;
    copy_table_t *ct = NULL;
    if ((st = copy_check(t, tab, &ct, err, errlen)) || !ct->ok)
        return st;
    params_reset(t);
    bool bin = t->copy_mode == COPY_AUTO && copy_binary(t, tab, ch, n);
    if (!bin && copy_text(t, tab, ch, n, err, errlen) < 0)
        return WC_PERMANENT;
    *used = true;
    if (!ct->said) {
        ct->said = true;
        log_info("creates go through COPY", "table=%s format=%s", log_esc(tab->name), bin ? "binary" : "text");
    }
    buf_t q;
    buf_init(&q);
    buf_puts(&q, "COPY ");
    sql_ident(&t->s, &q, tab->name);
    buf_puts(&q, " (");
    for (size_t f = 0; f < tab->row->nfields; f++) {
        if (f)
            buf_puts(&q, ", ");
        sql_ident(&t->s, &q, tab->row->fields[f].name);
    }
    buf_puts(&q, bin ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN");
    t->held = xrealloc(t->held, (t->nheld + 1) * sizeof *t->held);
    held_copy_t *h = &t->held[t->nheld++];
    h->table = xstrdup(tab->name);
    h->sql = xstrdup(buf_cstr(&q));
    buf_free(&q);
    h->data = t->copy;   /* the buffer moves to the held COPY */
    buf_init(&t->copy);
    return WC_OK;
}

/* What a failed COPY means: a unique violation is the optimistic path's (WC_ABORT, ON CONFLICT for its
 * tables); any other permanent failure sends the tables of the held COPYs back to INSERT for the session
 * and the batch is applied again (WC_ABORT), where the INSERT path finds a poison record as before. */
static wc_status_t copy_outcome(sk_target_t *t, wc_status_t st, const char *err)
{
    if (st == WC_PERMANENT && strcmp(t->last_ss, "23505")) {
        for (size_t i = 0; i < t->nheld; i++) {
            if (in_list(t->nocopy, t->nocopy_n, t->held[i].table))
                continue;
            log_info("COPY into a target table failed: sending its creates as INSERT from now on", "table=%s error=%s",
                     log_esc(t->held[i].table), log_esc(err));
            t->nocopy = xrealloc(t->nocopy, (t->nocopy_n + 1) * sizeof *t->nocopy);
            t->nocopy[t->nocopy_n++] = xstrdup(t->held[i].table);
        }
        optimistic_clear(t);
        st = WC_ABORT;
    }
    held_clear(t);
    return optimism_check(t, st);
}

/* Reads the results of the COPY query copy_send sent (up to its end); a COMMIT that answers ROLLBACK is
 * WC_RETRY, as in the pipeline. */
static wc_status_t copy_results_raw(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    PGresult *r;
    t->copy_pending = false;
    while ((r = PQgetResult(t->conn))) {
        ExecStatusType es = PQresultStatus(r);
        if (es == PGRES_COPY_IN) {   /* only after a failure: end that COPY too */
            PQclear(r);
            PQputCopyEnd(t->conn, "abandoned");
            continue;
        }
        if (es == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "ROLLBACK") && st == WC_OK) {
            snprintf(err, errlen, "COMMIT was rolled back");
            st = WC_RETRY;
        }
        if (es != PGRES_COMMAND_OK && st == WC_OK)
            st = fail(t, r, "COPY", err, errlen);
        else
            PQclear(r);
        if (PQstatus(t->conn) != CONNECTION_OK)
            break;
    }
    return st;
}

static wc_status_t copy_results(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st = copy_results_raw(t, err, errlen);
    return copy_outcome(t, st, err);
}

/* Sends the held COPYs (and COMMIT when commit) as one simple query, after what the pipeline holds: the
 * COPY data streams while the server reads it. With wait false the results are left for copy_results
 * (a deferred commit); else they are read here. */
static wc_status_t copy_send(sk_target_t *t, bool commit, bool wait, char *err, size_t errlen)
{
    wc_status_t st;
    if (t->pipe && (st = pipe_drain(t, true, err, errlen))) {
        held_clear(t);
        return st;
    }
    buf_t q;
    buf_init(&q);
    if (t->begin_due)
        buf_puts(&q, "BEGIN; ");
    t->begin_due = false;
    buf_append(&q, t->held_pre.data, t->held_pre.len);
    for (size_t i = 0; i < t->nheld; i++)
        buf_printf(&q, "%s%s", i ? "; " : "", t->held[i].sql);
    if (commit)
        buf_puts(&q, "; COMMIT");
    int ok = PQsendQuery(t->conn, buf_cstr(&q));
    buf_free(&q);
    if (!ok)
        return copy_outcome(t, fail(t, NULL, "COPY", err, errlen), err);
    t->copy_pending = true;
    for (size_t i = 0; i < t->nheld; i++) {
        PGresult *r;
        /* the previous COPY's outcome comes first: a failure ends the query */
        while ((r = PQgetResult(t->conn)) && PQresultStatus(r) == PGRES_COMMAND_OK)
            PQclear(r);
        if (!r || PQresultStatus(r) != PGRES_COPY_IN) {
            st = r ? fail(t, r, "COPY", err, errlen) : fail(t, NULL, "COPY", err, errlen);
            char e2[256];
            copy_results_raw(t, e2, sizeof e2);   /* the rest, if any */
            return copy_outcome(t, st, err);
        }
        PQclear(r);
        const held_copy_t *h = &t->held[i];
        int put = 1;
        for (size_t at = 0; at < h->data.len && put == 1; at += 1u << 20)   /* an int length at a time */
            put = PQputCopyData(t->conn, h->data.data + at, (int)(h->data.len - at < (1u << 20) ? h->data.len - at : 1u << 20));
        if (put != 1 || PQputCopyEnd(t->conn, NULL) != 1) {
            st = fail(t, NULL, "COPY", err, errlen);
            t->copy_pending = false;
            return copy_outcome(t, st, err);
        }
    }
    if (!wait)
        return WC_OK;
    return copy_results(t, err, errlen);
}

static wc_status_t upsert_unnest(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                                 const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                                 size_t errlen)
{
    /* plain INSERTs for creates only where a failure can be redone (pipelined batch, source_wins, no
     * conflict log: nothing is counted or logged per row) and the table has not met a row yet */
    if (mode != SK_INSERT_UPSERT || !tab->npk || !t->pipeline_ok || !t->in_txn || tab->policy != SK_POLICY_SOURCE_WINS ||
        tab->version_column || in_list(t->pessimistic, t->npessimistic, tab->name))
        return upsert_unnest_one(t, tab, mode, ch, n, cc, err, errlen);
    const sk_change_t **v;
    size_t nc = sql_creates_first(ch, n, &v);
    if (nc < 2) {
        free(v);
        return upsert_unnest_one(t, tab, mode, ch, n, cc, err, errlen);
    }
    if (!in_list(t->optimistic, t->noptimistic, tab->name)) {
        t->optimistic = xrealloc(t->optimistic, (t->noptimistic + 1) * sizeof *t->optimistic);
        t->optimistic[t->noptimistic++] = xstrdup(tab->name);
    }
    bool copied = false;
    wc_status_t st = copy_rows(t, tab, v, nc, &copied, err, errlen);
    if (st == WC_OK && !copied)
        st = upsert_unnest_one(t, tab, SK_INSERT_INSERT, v, nc, cc, err, errlen);
    if (st == WC_OK && n - nc)
        st = n - nc > 1 ? upsert_unnest_one(t, tab, mode, v + nc, n - nc, cc, err, errlen)
                        : sql_upsert(t, tab, mode, v + nc, 1, cc, err, errlen);
    free(v);
    return st;
}

static wc_status_t upsert_unnest_one(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode,
                                     const sk_change_t *const *ch, size_t n, sk_conflict_count_t *cc, char *err,
                                     size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    bool ver = sql_version_added(tab);
    size_t ncol = rs->nfields + (ver ? 1 : 0);
    buf_t arr;
    buf_init(&arr);
    params_reset(t);
    params_need(t, ncol + 1);
    /* the arrays, one column at a time, into the parameter buffer */
    for (size_t f = 0; f < ncol; f++) {
        bin_kind_t bk = f < rs->nfields ? bin_kind(rs->fields[f].schema) : BK_NONE;
        if (bk != BK_NONE && bin_array(&arr, bk, ch, n, f)) {
            param_binary(t, f, arr.data, arr.len);
            continue;
        }
        buf_reset(&arr);
        buf_putc(&arr, '{');
        for (size_t r = 0; r < n; r++) {
            if (r)
                buf_putc(&arr, ',');
            if (f < rs->nfields) {
                if (array_elem(t, &arr, ch[r], f, err, errlen) < 0) {
                    buf_free(&arr);
                    return WC_PERMANENT;
                }
            } else {
                char vt[256];
                size_t vl = sk_version_text(&ch[r]->version, vt, sizeof vt);
                buf_putc(&arr, '"');
                for (size_t i = 0; i < vl; i++) {   /* the source id is free text */
                    if (vt[i] == '"' || vt[i] == '\\')
                        buf_putc(&arr, '\\');
                    buf_putc(&arr, vt[i]);
                }
                buf_putc(&arr, '"');
            }
        }
        buf_putc(&arr, '}');
        param_text(t, f, arr.data, arr.len);
    }
    buf_free(&arr);
    buf_t *b = &t->s.sql;
    buf_reset(b);
    sql_insert_head(&t->s, b, tab, ver);
    buf_puts(b, " SELECT * FROM unnest(");
    for (size_t f = 0; f < ncol; f++) {
        buf_printf(b, "%s$%zu::", f ? ", " : "", f + 1);
        if (f < rs->nfields)
            dl_type(b, SK_DIALECT_POSTGRES, rs->fields[f].schema, false);
        else
            buf_puts(b, "text");
        buf_puts(b, "[]");
    }
    buf_putc(b, ')');
    sql_upsert_tail(&t->s, b, tab, mode, ver);
    long affected = 0;
    wc_status_t st = run_params_ex(t, ncol, true, "INSERT", &affected, err, errlen);
    if (st == WC_OK && affected >= 0 && affected < (long)n && cc)
        cc->n[SK_CONFLICT_INSERT_EXISTS] +=
            (uint64_t)((long)n - affected);
    return st;
}

static wc_status_t pg_truncate(sk_target_t *t, const sk_table_t *tab, char *err, size_t errlen)
{
    /* a sync inside the transaction block does not commit: what was sent is applied, then go on in step */
    if (t->nheld) {
        wc_status_t st = copy_send(t, false, true, err, errlen);
        if (st)
            return st;
    }
    wc_status_t ist = in_step(t, err, errlen);
    if (ist)
        return ist;
    buf_reset(&t->s.sql);
    sql_ident(&t->s, &t->s.sql, tab->name);
    const char *p[1] = { buf_cstr(&t->s.sql) };
    PGresult *r = PQexecParams(t->conn, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(t, r, "looking up a table to truncate", err, errlen);
    bool exists = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!exists)
        return WC_OK;
    buf_t q;
    buf_init(&q);
    buf_puts(&q, "TRUNCATE TABLE ");
    sql_ident(&t->s, &q, tab->name);
    wc_status_t st = exec(t, buf_cstr(&q), "TRUNCATE", err, errlen);
    buf_free(&q);
    return st;
}

/* ---- conflicts (decided by cf_apply in conflict.c) ---- */

/* The rows the batch's keys already have in the target (locked until commit), into ex[i]. */
static wc_status_t pg_fetch_existing(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                                     sk_existing_t *ex, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    size_t per = PG_MAX_PARAMS / (tab->npk + 1);
    if (per > 1000)
        per = 1000;
    for (size_t from = 0; from < n; from += per) {
        size_t cnt = n - from < per ? n - from : per;
        buf_t *b = &t->s.sql;
        buf_reset(b);
        params_reset(t);
        params_need(t, cnt * (tab->npk + 1));
        buf_puts(b, "SELECT v.ord, ");
        if (tab->version_column && t->commit_ts) {
            /* a row last written by a local session (no replication origin) is as new as its commit: the
             * version a source connector on this database gives that change (bidirectional newer_wins) */
            buf_puts(b, "CASE WHEN __wc_c.roident = 0 AND __wc_c.timestamp IS NOT NULL THEN lpad(to_hex("
                        "(extract(epoch FROM __wc_c.timestamp) * 1000000)::bigint # (-9223372036854775807 - 1)), "
                        "16, '0') || '0000000000000000' ELSE __wc_t.");
            sql_ident(&t->s, b, tab->version_column);
            buf_puts(b, "::text END");
        } else if (tab->version_column) {
            buf_puts(b, "__wc_t.");
            sql_ident(&t->s, b, tab->version_column);
            buf_puts(b, "::text");
        } else
            buf_puts(b, "NULL::text");
        buf_puts(b, ", row_to_json(__wc_t)::text FROM (VALUES ");
        size_t pi = 0;
        for (size_t r = 0; r < cnt; r++) {
            char num[32];
            int l = snprintf(num, sizeof num, "%zu", from + r);
            buf_printf(b, "%s($%zu::bigint", r ? "," : "", pi + 1);
            param_text(t, pi++, num, (size_t)l);
            for (size_t k = 0; k < tab->npk; k++) {
                int f = cs_field_index(rs, tab->pk[k]);
                buf_printf(b, ",$%zu::", pi + 1);
                dl_type(b, SK_DIALECT_POSTGRES, rs->fields[f].schema, true);
                if (param_field(t, pi++, ch[from + r], (size_t)f, err, errlen) < 0)
                    return WC_PERMANENT;
            }
            buf_putc(b, ')');
        }
        buf_puts(b, ") AS v(ord");
        for (size_t k = 0; k < tab->npk; k++)
            buf_printf(b, ", k%zu", k);
        buf_puts(b, ") JOIN ");
        sql_ident(&t->s, b, tab->name);
        buf_puts(b, " __wc_t ON ");
        sql_key_match(&t->s, b, tab);
        if (tab->version_column && t->commit_ts)
            buf_puts(b, " LEFT JOIN LATERAL pg_xact_commit_timestamp_origin(__wc_t.xmin) __wc_c ON true");
        buf_puts(b, " FOR UPDATE OF __wc_t");
        t->np = pi;
        wc_status_t st = sql_existing_read(t, ex, n, err, errlen);
        if (st)
            return st;
    }
    return WC_OK;
}

/* ---- what sinks/sql.c asks of PostgreSQL (sql_ops_t): values as $n parameters ---- */

static void pg_start(sk_target_t *t)
{
    buf_reset(&t->s.sql);
    params_reset(t);
}

static int pg_field(sk_target_t *t, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    params_need(t, t->np + 1);
    buf_printf(&t->s.sql, "$%zu", t->np + 1);
    return param_field(t, t->np++, c, f, err, errlen);
}

static void pg_text(sk_target_t *t, const char *v, size_t n, sql_kind_t k)
{
    static const char *const cast[] = { [SQL_TEXT] = "", [SQL_JSON] = "::json", [SQL_INT] = "::integer",
                                        [SQL_BIGINT] = "::bigint" };
    if (t->literal) {   /* for held_pre: the statement goes in a simple query */
        char *l = v ? PQescapeLiteral(t->conn, v, n) : NULL;
        t->literal_bad |= v && !l;
        buf_puts(&t->s.sql, l ? l : "NULL");
        buf_puts(&t->s.sql, cast[k]);
        if (l)
            PQfreemem(l);
        return;
    }
    params_need(t, t->np + 1);
    buf_printf(&t->s.sql, "$%zu%s", t->np + 1, cast[k]);
    if (v)
        param_text(t, t->np++, v, n);
    else {
        t->vfmt[t->np] = 0;
        t->voff[t->np++] = SIZE_MAX;
    }
}

static wc_status_t pg_run(sk_target_t *t, const char *what, long *affected, char *err, size_t errlen)
{
    if (t->literal) {
        buf_append(&t->held_pre, t->s.sql.data, t->s.sql.len);
        buf_puts(&t->held_pre, "; ");
        if (affected)
            *affected = -1;
        return WC_OK;
    }
    return run_params(t, t->np, what, affected, err, errlen);
}

/* The batch's offsets: where the batch so far is only held COPYs (nothing sent, BEGIN still due), they go in
 * the COPYs' query before them, so that the batch is one simple query and nothing waits for a pipeline. */
static wc_status_t pg_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                    size_t errlen)
{
    if (!t->nheld || !t->begin_due || t->pipe)
        return sql_store_offsets(t, name, offs, n, err, errlen);
    size_t at = t->held_pre.len;
    t->literal = true;
    t->literal_bad = false;
    wc_status_t st = sql_store_offsets(t, name, offs, n, err, errlen);
    t->literal = false;
    if (st == WC_OK && t->literal_bad) {   /* a name the escaping refused: as a parameter, in the pipeline */
        t->held_pre.len = at;
        st = sql_store_offsets(t, name, offs, n, err, errlen);
    }
    return st;
}

static wc_status_t pg_rows(sk_target_t *t, const char *what, sql_row_fn row, void *ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < t->np; i++)
        t->pv[i] = t->voff[i] == SIZE_MAX ? NULL : t->vals.data + t->voff[i];
    PGresult *r = PQexecParams(t->conn, buf_cstr(&t->s.sql), (int)t->np, NULL, t->pv, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail(t, r, what, err, errlen);
    const char *v[8] = { NULL };
    for (int i = 0; i < PQntuples(r); i++) {
        for (int c = 0; c < PQnfields(r) && c < 8; c++)
            v[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
        row(ctx, v);
    }
    PQclear(r);
    return WC_OK;
}

static wc_status_t pg_ddl(sk_target_t *t, const char *what, char *err, size_t errlen)
{
    wc_status_t st = exec(t, buf_cstr(&t->s.sql), what, err, errlen);
    /* the tasks of one sink (tasks.max > 1) may create or evolve a table at the same time: the later one's
     * CREATE TABLE (IF NOT EXISTS too: 23505 on pg_type) or ADD COLUMN (42P07, 42701) fails; its batch is
     * applied again and then finds the table done */
    if (st == WC_PERMANENT && (!strcmp(t->last_ss, "23505") || !strcmp(t->last_ss, "42P07") ||
                               !strcmp(t->last_ss, "42701")))
        st = WC_RETRY;
    return st;
}

/* The table's columns from the catalog (none: no such table). */
static wc_status_t pg_columns(sk_target_t *t, const char *table, sql_table_t *pt, char *err, size_t errlen)
{
    buf_t name;
    buf_init(&name);
    sql_ident(&t->s, &name, table);
    pg_start(t);
    buf_puts(&t->s.sql, "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = to_regclass(");
    pg_text(t, name.data, name.len, SQL_TEXT);
    buf_puts(&t->s.sql, ") AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
    buf_free(&name);
    return sql_columns_read(t, pt, err, errlen);
}

static const sql_ops_t pg_sql_ops = {
    .start = pg_start, .field = pg_field, .text = pg_text, .run = pg_run, .rows = pg_rows,   /* statements */
    .ddl = pg_ddl, .columns = pg_columns, .upsert = pg_upsert, .truncate = pg_truncate,     /* tables */
};

/* Reads every result of the pipeline up to its sync point and leaves pipeline mode; the first failure
 * is returned (later statements only say they were skipped). sync false: no sync is sent (none was, or
 * one was already: synced). */
static wc_status_t pipe_drain_ex(sk_target_t *t, bool sync, bool synced, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    if (sync && !PQpipelineSync(t->conn)) {
        st = fail(t, NULL, "sending the batch", err, errlen);
        sync = false;
    }
    if (sync || synced) {
        int nulls = 0;
        for (;;) {
            PGresult *r = PQgetResult(t->conn);
            if (!r) {
                /* a NULL ends each statement's results; more NULLs than statements: nothing will come */
                if (++nulls > (int)t->npending + 2 || PQstatus(t->conn) != CONNECTION_OK)
                    break;
                continue;
            }
            nulls = 0;
            ExecStatusType es = PQresultStatus(r);
            if (es == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if (es == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "ROLLBACK") && st == WC_OK) {
                snprintf(err, errlen, "COMMIT was rolled back");
                st = WC_RETRY;
            }
            if (es != PGRES_COMMAND_OK && es != PGRES_TUPLES_OK && es != PGRES_PIPELINE_ABORTED && st == WC_OK)
                st = fail(t, r, "applying the batch", err, errlen);
            else
                PQclear(r);
        }
    }
    PQexitPipelineMode(t->conn);
    t->pipe = false;
    t->npending = 0;
    return optimism_check(t, st);
}

static wc_status_t pipe_drain(sk_target_t *t, bool sync, char *err, size_t errlen)
{
    return pipe_drain_ex(t, sync, false, err, errlen);
}

static void pg_defer_commit(sk_target_t *t, bool on)
{
    t->defer = on;
}

/* The outcome of a COMMIT that pg_commit only sent. */
static wc_status_t pg_commit_wait(sk_target_t *t, char *err, size_t errlen)
{
    if (!t->commit_pending)
        return WC_OK;
    t->commit_pending = false;
    wc_status_t st = t->copy_pending ? copy_results(t, err, errlen) : pipe_drain_ex(t, false, true, err, errlen);
    if (st != WC_OK)
        sql_tables_clear(&t->s);
    return st;
}

static wc_status_t pg_commit(sk_target_t *t, char *err, size_t errlen)
{
    if (t->nheld) {
        /* the held COPYs and COMMIT in one query after the pipeline: with a deferred commit the server
         * applies them while the next batch is read */
        wc_status_t st = copy_send(t, true, !t->defer, err, errlen);
        t->in_txn = false;
        if (st == WC_OK && t->defer && t->copy_pending) {
            t->commit_pending = true;
            return WC_OK;
        }
        if (st != WC_OK)
            sql_tables_clear(&t->s);
        return st;
    }
    if (t->pipe) {
        const char *none[1] = { NULL };
        wc_status_t st = WC_OK;
        if (!PQsendQueryParams(t->conn, "COMMIT", 0, NULL, none, NULL, NULL, 0))
            st = fail(t, NULL, "COMMIT", err, errlen);
        else
            t->npending++;
        if (st == WC_OK && t->defer) {
            /* sent with its sync (PQpipelineSync flushes); the results are read by pg_commit_wait */
            if (!PQpipelineSync(t->conn)) {
                st = fail(t, NULL, "sending the batch", err, errlen);
                char e[256];
                pipe_drain(t, false, e, sizeof e);
                t->in_txn = false;
                sql_tables_clear(&t->s);
                return st;
            }
            t->in_txn = false;
            t->commit_pending = true;
            return WC_OK;
        }
        char derr[512] = "";
        wc_status_t ds = pipe_drain(t, true, derr, sizeof derr);
        t->in_txn = false;
        if (st == WC_OK && ds != WC_OK) {
            snprintf(err, errlen, "%s", derr);
            st = ds;
        }
        if (st != WC_OK)
            sql_tables_clear(&t->s);
        return st;
    }
    if (t->begin_due) {   /* nothing of the batch was sent */
        t->begin_due = false;
        t->in_txn = false;
        return WC_OK;
    }
    PGresult *r = PQexec(t->conn, "COMMIT");
    t->in_txn = false;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail(t, r, "COMMIT", err, errlen);
    /* COMMIT of a failed transaction answers ROLLBACK */
    bool rolled_back = !strcmp(PQcmdStatus(r), "ROLLBACK");
    PQclear(r);
    if (rolled_back) {
        snprintf(err, errlen, "COMMIT was rolled back");
        sql_tables_clear(&t->s);
        return WC_RETRY;
    }
    return WC_OK;
}

static void pg_rollback(sk_target_t *t)
{
    if (!t)
        return;
    /* tables created or altered in the transaction are gone again: forget what we saw */
    sql_tables_clear(&t->s);
    copy_tables_clear(t);
    if (t->conn && t->copy_pending) {
        char e[256];
        if (PQstatus(t->conn) == CONNECTION_OK)
            copy_results_raw(t, e, sizeof e);
        t->copy_pending = false;
    }
    held_clear(t);
    t->begin_due = false;
    t->literal = false;
    if (t->conn && t->pipe) {
        /* a deferred COMMIT was sent with its sync: read up to it, send no other */
        char e[256];
        bool ok = PQstatus(t->conn) == CONNECTION_OK;
        pipe_drain_ex(t, ok && !t->commit_pending, ok && t->commit_pending, e, sizeof e);
    }
    t->commit_pending = false;
    if (t->conn && PQstatus(t->conn) == CONNECTION_OK && PQtransactionStatus(t->conn) != PQTRANS_IDLE)
        PQclear(PQexec(t->conn, "ROLLBACK"));
    t->in_txn = false;
}

/* A one-row query's first row as text values (NULL: the query failed; the caller PQclears). */
static PGresult *one_row(sk_target_t *t, const char *sql, int n, const char *const *p)
{
    PGresult *r = PQexecParams(t->conn, sql, n, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
        PQclear(r);
        return NULL;
    }
    return r;
}

static size_t pg_check_rights(sk_target_t *t, sk_check_t *out, size_t max)
{
    const sk_config_t *cfg = t->s.cfg;
    size_t n = 0;
    buf_t user, name, q, privs, bad;
    buf_init(&user);
    buf_init(&name);
    buf_init(&q);
    buf_init(&privs);
    buf_init(&bad);
    PGresult *r = one_row(t, "SELECT current_user, current_schema(), has_schema_privilege(current_schema(), 'CREATE'), "
                             "(SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR "
                             "(has_function_privilege('pg_replication_origin_session_setup(text)', 'EXECUTE') AND "
                             "has_function_privilege('pg_replication_origin_create(text)', 'EXECUTE'))",
                          0, NULL);
    if (!r)
        goto out;
    dl_ident(&user, SK_DIALECT_POSTGRES, PQgetvalue(r, 0, 0), true);
    const char *schema = PQgetisnull(r, 0, 1) ? "" : PQgetvalue(r, 0, 1);
    bool create = PQgetvalue(r, 0, 2)[0] == 't', origins = PQgetvalue(r, 0, 3)[0] == 't';
    if (cfg->schema_evolution && n < max) {
        sk_check_t *c = &out[n++];
        c->name = "target_schema";
        c->key = "schema.evolution";
        c->ok = create && *schema;
        if (c->ok)
            snprintf(c->message, sizeof c->message, "schema.evolution=basic: the user may create tables in schema %s", schema);
        else {
            buf_reset(&q);
            dl_ident(&q, SK_DIALECT_POSTGRES, *schema ? schema : "public", true);
            snprintf(c->message, sizeof c->message, "schema.evolution=basic creates tables and columns, but the user may "
                     "not create in schema %s", *schema ? schema : "(none on the search_path)");
            snprintf(c->fix, sizeof c->fix, "GRANT CREATE ON SCHEMA %s TO %s;", buf_cstr(&q), buf_cstr(&user));
        }
    }
    if (cfg->origin_name && n < max) {
        sk_check_t *c = &out[n++];
        c->name = "target_origin";
        c->key = "walcast.origin.name";
        c->ok = true;   /* the sink applies without an origin then: not a reason to refuse to start */
        snprintf(c->message, sizeof c->message, origins ? "apply sessions carry replication origin %s"
                 : "the user may not use replication origins: changes are applied without origin %s, so a source "
                   "connector on this database would capture them again (GRANT EXECUTE ON FUNCTION "
                   "pg_replication_origin_session_setup(text), pg_replication_origin_create(text) TO the user)",
                 cfg->origin_name);
    }
    PQclear(r);
    /* the tables of a topics list, when their names do not depend on the records (${source.…}) */
    if (!cfg->topics || strstr(cfg->table_format, "${source.") || n >= max)
        goto out;
    buf_puts(&privs, "SELECT, INSERT, UPDATE");
    if (cfg->delete_enabled)
        buf_puts(&privs, ", DELETE");
    if (cfg->truncate_enabled)
        buf_puts(&privs, ", TRUNCATE");
    size_t nbad = 0, nmissing = 0, nok = 0;
    char *topics = xstrdup(cfg->topics);
    buf_t missing;
    buf_init(&missing);
    for (char *save = NULL, *tp = strtok_r(topics, ",", &save); tp; tp = strtok_r(NULL, ",", &save)) {
        while (*tp == ' ')
            tp++;
        if (!*tp)
            continue;
        buf_reset(&name);
        dl_table_name(&name, cfg->table_format, tp, NULL, NULL, NULL);
        buf_reset(&q);
        sql_ident(&t->s, &q, buf_cstr(&name));
        const char *p[2] = { buf_cstr(&q), buf_cstr(&privs) };
        r = one_row(t, "SELECT c.oid IS NOT NULL, coalesce(has_table_privilege(c.oid, $2), false) "
                       "FROM (SELECT to_regclass($1) AS oid) c", 2, p);
        if (!r)
            continue;
        bool exists = PQgetvalue(r, 0, 0)[0] == 't', may = PQgetvalue(r, 0, 1)[0] == 't';
        PQclear(r);
        if (!exists && !cfg->schema_evolution) {
            buf_printf(&missing, "%s%s", nmissing++ ? ", " : "", buf_cstr(&q));
        } else if (exists && !may) {
            buf_printf(&bad, "%s%s", nbad++ ? ", " : "", buf_cstr(&q));
        } else
            nok++;
    }
    free(topics);
    sk_check_t *c = &out[n++];
    c->name = "target_tables";
    c->key = "topics";
    c->ok = !nbad && !nmissing;
    if (nmissing) {
        snprintf(c->message, sizeof c->message, "target table(s) %s do not exist and schema.evolution=none",
                 buf_cstr(&missing));
        snprintf(c->fix, sizeof c->fix, "create them, or set schema.evolution=basic");
    } else if (nbad) {
        snprintf(c->message, sizeof c->message, "the user may not %s target table(s) %s", buf_cstr(&privs), buf_cstr(&bad));
        snprintf(c->fix, sizeof c->fix, "GRANT %s ON %s TO %s;", buf_cstr(&privs), buf_cstr(&bad), buf_cstr(&user));
    } else
        snprintf(c->message, sizeof c->message, "%zu target table(s) writable (%s)%s", nok, buf_cstr(&privs),
                 cfg->schema_evolution ? "; missing ones are created" : "");
    buf_free(&missing);
out:
    buf_free(&user);
    buf_free(&name);
    buf_free(&q);
    buf_free(&privs);
    buf_free(&bad);
    return n;
}

const sk_target_ops_t sk_postgres_ops = {
    .name = "postgresql",
    /* the session (pipelined, deferred commits), and what only PostgreSQL does its own way */
    .connect = pg_connect, .close = pg_close, .begin = pg_begin, .commit = pg_commit, .rollback = pg_rollback,
    .defer_commit = pg_defer_commit, .commit_wait = pg_commit_wait, .check_rights = pg_check_rights,
    .ensure_table = pg_ensure_table, .fetch_existing = pg_fetch_existing,
    /* sinks/sql.c */
    .read_offsets = sql_read_offsets, .apply = sql_apply, .log_conflicts = sql_log_conflicts,
    .store_offsets = pg_store_offsets, .delete_offsets = sql_delete_offsets,
};
