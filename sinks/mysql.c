/* mysql.c: the MySQL/MariaDB apply target (libmariadb): what MySQL does differently under sinks/sql.c
 * (statements, tables, offsets shared there): values as escaped literals, DDL's implicit commit, the catalog
 * from information_schema, truncation as DELETE, conflicts read with SELECT ... FOR UPDATE. */
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/log.h"
#include "sinks/conflict.h"
#include "sinks/dialect.h"
#include "sinks/sql.h"
#include "sinks/target.h"

/* one statement stays well under max_allowed_packet (16 MB by default) */
#define MY_MAX_STMT (4u << 20)

static const sql_ops_t my_sql_ops;

struct sk_target {
    sql_conn_t s;   /* first: what sinks/sql.c keeps */
    MYSQL *db;
    buf_t val;
    /* Runs of creates ('c') in upsert mode go as plain multi-row INSERTs (no ON DUPLICATE KEY UPDATE) where
     * a failure can be redone: source_wins, no conflict log, no per-table policy. A duplicate key rolls the
     * batch back (WC_ABORT) and that table upserts for the rest of the session. WALCAST_SINK_COPY=off: never. */
    bool optimism_ok;
    char **pessimistic;
    size_t npessimistic;
    unsigned last_errno;
    /* One round trip per batch (source_wins, no conflict log, no per-table policy, not insert.mode=update:
     * nothing needs a statement's answer before COMMIT): START TRANSACTION, the batch's statements, its
     * offsets and COMMIT go as one multi-statement query; with a deferred commit its results are read
     * (my_commit_wait) while the next batch is read and decoded. What must read an answer (the catalog, DDL)
     * sends what was gathered first. A statement's failure ends the query (COMMIT is never reached). */
    bool batch_ok;
    bool gather;             /* in a batch transaction: statements are gathered in batch */
    bool defer;              /* defer_commit(t, true): COMMIT is sent, its outcome read by my_commit_wait */
    bool sent;               /* a gathered query was sent and its results are not read yet */
    bool commit_pending;     /* ... and it ended with COMMIT */
    buf_t batch;
    struct my_stmt {
        const char *what;
        char *optimistic;    /* a plain INSERT of creates into this table (a duplicate key: WC_ABORT) */
    } *stmts;
    size_t nstmts, capstmts;
    const char *cur_optimistic;   /* set by my_upsert around its plain INSERT */
};

static wc_status_t gathered_send(sk_target_t *t, bool wait, char *err, size_t errlen);

/* What to do about a value the server found out of range for its column (1264). */
#define MY_WIDER_HINT                                                                                        \
    "alter the column to a type that holds the value (ALTER TABLE ... MODIFY COLUMN ... DOUBLE: approximate; " \
    "VARCHAR(n)/TEXT: exact text), or for a numeric set decimal.handling.mode=string (or double) on the source "  \
    "connector"

static wc_status_t fail(sk_target_t *t, const char *what, char *err, size_t errlen)
{
    unsigned e = mysql_errno(t->db);
    t->last_errno = e;
    snprintf(err, errlen, "%s: %u %s%s", what, e, mysql_error(t->db),
             e == ER_WARN_DATA_OUT_OF_RANGE ? "; " MY_WIDER_HINT : "");
    return wc_status_mysql(e);
}

static wc_status_t q(sk_target_t *t, const char *sql, size_t len, const char *what, char *err, size_t errlen)
{
    wc_status_t st;
    if (t->nstmts && (st = gathered_send(t, true, err, errlen)))
        return st;
    if (mysql_real_query(t->db, sql, len))
        return fail(t, what, err, errlen);
    MYSQL_RES *r = mysql_store_result(t->db);
    if (r)
        mysql_free_result(r);
    else if (mysql_field_count(t->db))
        return fail(t, what, err, errlen);
    return WC_OK;
}

static wc_status_t qs(sk_target_t *t, const char *sql, const char *what, char *err, size_t errlen)
{
    return q(t, sql, strlen(sql), what, err, errlen);
}

static void my_close(sk_target_t *t)
{
    if (!t)
        return;
    sql_free(&t->s);
    buf_free(&t->val);
    buf_free(&t->batch);
    for (size_t i = 0; i < t->nstmts; i++)
        free(t->stmts[i].optimistic);
    free(t->stmts);
    for (size_t i = 0; i < t->npessimistic; i++)
        free(t->pessimistic[i]);
    free(t->pessimistic);
    if (t->db)
        mysql_close(t->db);
    free(t);
}

/* A string literal: '...' escaped for the connection's character set. */
static void lit(sk_target_t *t, buf_t *b, const char *s, size_t n)
{
    buf_reserve(b, 2 * n + 3);
    b->data[b->len++] = '\'';
    b->len += mysql_real_escape_string(t->db, b->data + b->len, s, (unsigned long)n);
    b->data[b->len++] = '\'';
}

static wc_status_t my_connect(const sk_config_t *cfg, sk_target_t **out, char *err, size_t errlen)
{
    const sk_url_t *u = &cfg->conn;
    MYSQL *db = mysql_init(NULL);
    if (!db) {
        snprintf(err, errlen, "mysql_init failed (out of memory)");
        return WC_RETRY;
    }
    unsigned timeout = 10;
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* CLIENT_MULTI_STATEMENTS: a batch's statements go as one query (see batch_ok) */
    if (!mysql_real_connect(db, u->host ? u->host : "127.0.0.1", u->user, u->password, u->database,
                            (unsigned)u->port, NULL, CLIENT_MULTI_STATEMENTS)) {
        unsigned e = mysql_errno(db);
        snprintf(err, errlen, "cannot connect to MySQL/MariaDB at %s:%d: %u %s", u->host ? u->host : "127.0.0.1",
                 u->port ? u->port : 3306, e, mysql_error(db));
        mysql_close(db);
        return wc_status_mysql(e);
    }
    sk_target_t *t = xcalloc(1, sizeof *t);
    sql_init(&t->s, &my_sql_ops, cfg, SK_DIALECT_MYSQL);
    t->s.fold_case = true;   /* MySQL column names are case-insensitive */
    t->s.max_bytes = MY_MAX_STMT;
    t->db = db;
    buf_init(&t->val);
    const char *cm = getenv("WALCAST_SINK_COPY");
    t->optimism_ok = cfg->policy == SK_POLICY_SOURCE_WINS && !cfg->conflict_log && !cfg->ntable_policies &&
                     cfg->insert_mode == SK_INSERT_UPSERT && !(cm && !strcmp(cm, "off"));
    t->batch_ok = cfg->policy == SK_POLICY_SOURCE_WINS && !cfg->conflict_log && !cfg->ntable_policies &&
                  cfg->insert_mode != SK_INSERT_UPDATE;
    buf_init(&t->batch);
    wc_status_t st = qs(t, "SET time_zone = '+00:00', autocommit = 0", "session settings", err, errlen);
    if (st) {
        my_close(t);
        return st;
    }
    *out = t;
    return WC_OK;
}

/* ---- the batch as one query ---- */

static void stmts_clear(sk_target_t *t)
{
    for (size_t i = 0; i < t->nstmts; i++)
        free(t->stmts[i].optimistic);
    t->nstmts = 0;
    buf_reset(&t->batch);
}

/* Adds one statement to the gathered query. */
static void gather(sk_target_t *t, const char *sql, size_t len, const char *what)
{
    if (t->nstmts == t->capstmts) {
        t->capstmts = t->capstmts ? 2 * t->capstmts : 16;
        t->stmts = xrealloc(t->stmts, t->capstmts * sizeof *t->stmts);
    }
    t->stmts[t->nstmts++] = (struct my_stmt){ what, t->cur_optimistic ? xstrdup(t->cur_optimistic) : NULL };
    if (t->batch.len)
        buf_puts(&t->batch, ";\n");
    buf_append(&t->batch, sql, len);
}

/* Reads the results of the gathered query (each statement's, up to the first failure). A duplicate key of a
 * plain INSERT of creates is the optimistic path's: that table upserts from now on and the batch is applied
 * again (WC_ABORT). */
static wc_status_t gathered_results(sk_target_t *t, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    size_t i = 0;
    t->sent = false;
    t->commit_pending = false;
    int rc = mysql_read_query_result(t->db) ? 1 : 0;
    for (;;) {
        if (rc > 0) {
            const struct my_stmt *m = i < t->nstmts ? &t->stmts[i] : NULL;
            st = fail(t, m ? m->what : "the batch", err, errlen);
            if (st == WC_PERMANENT && t->last_errno == ER_DUP_ENTRY && m && m->optimistic) {
                log_info("a create event met an existing row: upserting into this table from now on", "table=%s",
                         log_esc(m->optimistic));
                t->pessimistic = xrealloc(t->pessimistic, (t->npessimistic + 1) * sizeof *t->pessimistic);
                t->pessimistic[t->npessimistic++] = xstrdup(m->optimistic);
                st = WC_ABORT;
            }
            break;
        }
        if (rc < 0)
            break;
        MYSQL_RES *r = mysql_store_result(t->db);
        if (r)
            mysql_free_result(r);
        i++;
        rc = mysql_next_result(t->db);
    }
    stmts_clear(t);
    return st;
}

/* Sends the gathered statements as one query; wait: read their results now, else my_commit_wait does. */
static wc_status_t gathered_send(sk_target_t *t, bool wait, char *err, size_t errlen)
{
    if (mysql_send_query(t->db, t->batch.data, t->batch.len)) {
        wc_status_t st = fail(t, t->nstmts ? t->stmts[0].what : "the batch", err, errlen);
        stmts_clear(t);
        return st;
    }
    t->sent = true;
    return wait ? gathered_results(t, err, errlen) : WC_OK;
}

/* A query's result set; NULL after fail() has filled err. */
static MYSQL_RES *query_rows(sk_target_t *t, const char *what, wc_status_t *st, char *err, size_t errlen)
{
    MYSQL_RES *r = NULL;
    if (t->nstmts && (*st = gathered_send(t, true, err, errlen)))
        return NULL;
    if (mysql_real_query(t->db, t->s.sql.data, t->s.sql.len) || !(r = mysql_store_result(t->db)))
        *st = fail(t, what, err, errlen);
    return r;
}

static wc_status_t my_read_offsets(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                                   size_t errlen)
{
    wc_status_t st = sql_read_offsets(t, name, offs, n, err, errlen);
    /* end the implicit transaction of the SELECT (autocommit is off) */
    return st ? st : qs(t, "COMMIT", "COMMIT", err, errlen);
}

static wc_status_t my_begin(sk_target_t *t, char *err, size_t errlen)
{
    if (t->batch_ok) {
        stmts_clear(t);
        t->gather = true;
        gather(t, "START TRANSACTION", strlen("START TRANSACTION"), "START TRANSACTION");
        return WC_OK;
    }
    return qs(t, "START TRANSACTION", "START TRANSACTION", err, errlen);
}

/* ---- what sinks/sql.c asks of MySQL (sql_ops_t) ---- */

static void my_start(sk_target_t *t)
{
    buf_reset(&t->s.sql);
}

static bool numeric_literal(const cs_schema_t *s)
{
    if (s->name && !strcmp(s->name, "io.debezium.data.Bits"))
        return true;
    if (s->name)
        return false;
    return s->type <= CT_BOOLEAN;   /* ints, floats, boolean: digits only */
}

/* The digits of decimal text v[0..n) ([-]digits[.digits]) before the point, leading zeros not counted, and
 * after it, trailing zeros not counted. */
static void dec_digits(const char *v, size_t n, size_t *intd, size_t *fracd)
{
    size_t i = n && v[0] == '-' ? 1 : 0, dot = i;
    while (i < n && v[i] == '0')
        i++;
    while (dot < n && v[dot] != '.')
        dot++;
    *intd = dot > i ? dot - i : 0;
    size_t end = n;
    while (end > dot + 1 && v[end - 1] == '0')
        end--;
    *fracd = end > dot + 1 ? end - dot - 1 : 0;
}

/* A decimal value (text v[0..n)) into a decimal(prec,scale) column: MySQL/MariaDB rounds away the digits past
 * the scale with only a Note (1265), even in strict mode, and refuses too many integer digits (1264). Both
 * are refused here, naming the record, the column, the value and what to do; -1 with err. A column of
 * another type (the user's DOUBLE, VARCHAR) is not looked at. */
static int decimal_fits(sk_target_t *t, const sk_change_t *c, size_t f, const char *v, size_t n, char *err,
                        size_t errlen)
{
    const char *col = c->table->row->fields[f].name;
    const sql_decimal_t *d = sql_col_decimal(&t->s, c->table->name, col);
    if (!d)
        return 0;
    size_t intd, fracd;
    dec_digits(v, n, &intd, &fracd);
    bool frac = fracd > (size_t)d->scale;
    if (!frac && intd <= (size_t)(d->prec - d->scale))
        return 0;
    char shown[96];
    if (n < sizeof shown)
        snprintf(shown, sizeof shown, "%.*s", (int)n, v);
    else
        snprintf(shown, sizeof shown, "%.40s...%.40s", v, v + n - 40);
    char why[160];
    if (frac)
        snprintf(why, sizeof why, "%zu digits after the decimal point, the column keeps %d (MariaDB/MySQL would round "
                 "it with only a Note: the digits would be lost)", fracd, d->scale);
    else
        snprintf(why, sizeof why, "%zu digits before the decimal point, the column holds %d", intd,
                 d->prec - d->scale);
    snprintf(err, errlen, "column %s of %s[%d]@%" PRId64 ": the value %s does not fit column %s of table %s, "
             "decimal(%d,%d): %s; alter the column to a type that holds it (ALTER TABLE %s MODIFY COLUMN %s DOUBLE: "
             "approximate; VARCHAR(n)/TEXT: exact text) or set decimal.handling.mode=string (or double) on the source "
             "connector", col, c->topic, c->partition, c->offset, shown, col, c->table->name, d->prec, d->scale, why,
             c->table->name, col);
    return -1;
}

/* Field f of row c as an SQL literal. */
static int my_field(sk_target_t *t, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    const cs_schema_t *fs = c->table->row->fields[f].schema;
    buf_t *b = &t->s.sql;
    dl_kind_t k;
    int prec, scale;
    buf_reset(&t->val);
    if (sql_value(&t->val, SK_DIALECT_MYSQL, c, f, &k, err, errlen) < 0)
        return -1;
    if (k == DL_TEXT && dl_my_decimal(fs, &prec, &scale) &&
        decimal_fits(t, c, f, t->val.data, t->val.len, err, errlen) < 0)
        return -1;
    if (k == DL_NULL)
        buf_puts(b, "NULL");
    else if (k == DL_BINARY) {
        static const char hx[] = "0123456789abcdef";
        buf_puts(b, "X'");
        buf_reserve(b, 2 * t->val.len + 1);
        for (size_t i = 0; i < t->val.len; i++) {
            b->data[b->len++] = hx[(unsigned char)t->val.data[i] >> 4];
            b->data[b->len++] = hx[(unsigned char)t->val.data[i] & 15];
        }
        buf_putc(b, '\'');
    } else if (numeric_literal(fs))
        buf_append(b, t->val.data, t->val.len);
    else
        lit(t, b, t->val.data, t->val.len);
    return 0;
}

/* Text as a literal; numbers (walcast's own, never from a record) bare. */
static void my_text(sk_target_t *t, const char *v, size_t n, sql_kind_t k)
{
    if (!v)
        buf_puts(&t->s.sql, "NULL");
    else if (k == SQL_INT || k == SQL_BIGINT)
        buf_append(&t->s.sql, v, n);
    else
        lit(t, &t->s.sql, v, n);
}

static wc_status_t my_rows(sk_target_t *t, const char *what, sql_row_fn row, void *ctx, char *err, size_t errlen)
{
    wc_status_t st = WC_OK;
    MYSQL_RES *r = query_rows(t, what, &st, err, errlen);
    if (!r)
        return st;
    MYSQL_ROW v;
    while ((v = mysql_fetch_row(r)))
        row(ctx, (const char *const *)v);
    mysql_free_result(r);
    return WC_OK;
}

static wc_status_t my_run(sk_target_t *t, const char *what, long *affected, char *err, size_t errlen)
{
    if (t->gather) {
        /* one packet stays under max_allowed_packet: what was gathered goes first when this would pass it */
        wc_status_t st;
        if (t->batch.len && t->batch.len + t->s.sql.len > 2 * MY_MAX_STMT && (st = gathered_send(t, true, err, errlen)))
            return st;
        gather(t, t->s.sql.data, t->s.sql.len, what);
        if (affected)
            *affected = -1;   /* not known before COMMIT (the conflict counts that need it are off here) */
        return WC_OK;
    }
    if (mysql_real_query(t->db, t->s.sql.data, t->s.sql.len))
        return fail(t, what, err, errlen);
    if (affected)
        *affected = (long)mysql_affected_rows(t->db);
    return WC_OK;
}

/* DDL commits implicitly in MySQL: the batch's own transaction starts again after it. */
static wc_status_t my_ddl(sk_target_t *t, const char *what, char *err, size_t errlen)
{
    wc_status_t st = q(t, t->s.sql.data, t->s.sql.len, what, err, errlen);
    /* another task of the sink (tasks.max > 1) created the table or added the column first (1050, 1060): the
     * batch is applied again and finds it done */
    if (st == WC_PERMANENT && (t->last_errno == 1050 || t->last_errno == 1060))
        st = WC_RETRY;
    return st ? st : qs(t, "START TRANSACTION", "START TRANSACTION", err, errlen);
}

/* One column of the catalog: its name, and a decimal's precision and scale (the check of decimal_fits). */
static void column_row(void *ctx, const char *const *v)
{
    sql_table_t *pt = ctx;
    if (!v[0])
        return;
    sql_table_add_col(pt, v[0]);
    if (v[1] && !strcasecmp(v[1], "decimal") && v[2] && v[3] && atoi(v[2]) > 0)
        pt->dec[pt->ncols - 1] = (sql_decimal_t){ atoi(v[2]), atoi(v[3]) };
}

static wc_status_t my_columns(sk_target_t *t, const char *table, sql_table_t *pt, char *err, size_t errlen)
{
    buf_t *b = &t->s.sql;
    buf_reset(b);
    buf_puts(b, "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    lit(t, b, table, strlen(table));
    return my_rows(t, "reading the columns of a target table", column_row, pt, err, errlen);
}

static wc_status_t my_truncate(sk_target_t *t, const sk_table_t *tab, char *err, size_t errlen)
{
    buf_t *b = &t->s.sql;
    buf_reset(b);
    buf_puts(b, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    lit(t, b, tab->name, strlen(tab->name));
    wc_status_t st = WC_OK;
    MYSQL_RES *r = query_rows(t, "looking up a table to truncate", &st, err, errlen);
    if (!r)
        return st;
    bool exists = mysql_num_rows(r) > 0;
    mysql_free_result(r);
    if (!exists)
        return WC_OK;
    /* TRUNCATE commits implicitly in MySQL; DELETE keeps the batch one transaction */
    buf_reset(b);
    buf_puts(b, "DELETE FROM ");
    sql_ident(&t->s, b, tab->name);
    return my_run(t, "TRUNCATE (DELETE FROM)", NULL, err, errlen);
}

static bool pessimistic(const sk_target_t *t, const char *name)
{
    for (size_t i = 0; i < t->npessimistic; i++)
        if (!strcmp(t->pessimistic[i], name))
            return true;
    return false;
}

/* The upserts of one table: the creates of a run first as plain multi-row INSERTs (speculative insertion
 * and the update list are InnoDB's work for every row of ON DUPLICATE KEY UPDATE), the rest upserted. */
static wc_status_t my_upsert(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                             size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    if (!t->optimism_ok || mode != SK_INSERT_UPSERT || !tab->npk || tab->policy != SK_POLICY_SOURCE_WINS ||
        tab->version_column || pessimistic(t, tab->name))
        return sql_upsert(t, tab, mode, ch, n, cc, err, errlen);
    const sk_change_t **v;
    size_t nc = sql_creates_first(ch, n, &v);
    if (nc < 2) {
        free(v);
        return sql_upsert(t, tab, mode, ch, n, cc, err, errlen);
    }
    t->cur_optimistic = tab->name;   /* gathered: a duplicate key is found by gathered_results */
    wc_status_t st = sql_upsert(t, tab, SK_INSERT_INSERT, v, nc, cc, err, errlen);
    t->cur_optimistic = NULL;
    if (st == WC_PERMANENT && t->last_errno == ER_DUP_ENTRY) {
        log_info("a create event met an existing row: upserting into this table from now on", "table=%s",
                 log_esc(tab->name));
        t->pessimistic = xrealloc(t->pessimistic, (t->npessimistic + 1) * sizeof *t->pessimistic);
        t->pessimistic[t->npessimistic++] = xstrdup(tab->name);
        st = WC_ABORT;
    }
    if (st == WC_OK && n > nc)
        st = sql_upsert(t, tab, mode, v + nc, n - nc, cc, err, errlen);
    free(v);
    return st;
}

static const sql_ops_t my_sql_ops = {
    .start = my_start, .field = my_field, .text = my_text, .run = my_run, .rows = my_rows,   /* statements */
    .ddl = my_ddl, .columns = my_columns, .upsert = my_upsert, .truncate = my_truncate,      /* tables */
};

/* ---- conflicts (decided by cf_apply in conflict.c) ---- */

/* The rows the changes' keys have, locked (SELECT ... FOR UPDATE), into ex[i]. */
static wc_status_t my_fetch_existing(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                                     sk_existing_t *ex, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    buf_t *b = &t->s.sql;
    size_t from = 0;
    while (from < n) {
        buf_reset(b);
        buf_puts(b, "SELECT v.ord, ");
        if (tab->version_column) {
            buf_puts(b, "__wc_t.");
            sql_ident(&t->s, b, tab->version_column);
        } else
            buf_puts(b, "NULL");
        buf_puts(b, ", JSON_OBJECT(");
        for (size_t f = 0; f < rs->nfields; f++) {
            if (f)
                buf_puts(b, ", ");
            lit(t, b, rs->fields[f].name, strlen(rs->fields[f].name));
            buf_puts(b, ", __wc_t.");
            sql_ident(&t->s, b, rs->fields[f].name);
        }
        buf_puts(b, ") FROM ");
        sql_ident(&t->s, b, tab->name);
        buf_puts(b, " __wc_t JOIN (");
        for (size_t cnt = 0; from < n && (cnt == 0 || b->len < MY_MAX_STMT); from++, cnt++) {
            buf_printf(b, "%sSELECT %zu AS ord", cnt ? " UNION ALL " : "", from);
            for (size_t k = 0; k < tab->npk; k++) {
                buf_puts(b, ", ");
                if (my_field(t, ch[from], (size_t)cs_field_index(rs, tab->pk[k]), err, errlen) < 0)
                    return WC_PERMANENT;
                buf_printf(b, " AS k%zu", k);
            }
        }
        buf_puts(b, ") v ON ");
        sql_key_match(&t->s, b, tab);
        buf_puts(b, " FOR UPDATE");
        wc_status_t st = sql_existing_read(t, ex, n, err, errlen);
        if (st)
            return st;
    }
    return WC_OK;
}

/* walcast check: the privileges the sink needs on its database, granted to the user globally or on the
 * database (roles and table-level grants are not looked at): SELECT, INSERT, UPDATE always (upserts, the
 * offsets), DELETE (deletes, truncates, an offsets reset), CREATE (walcast_sink_offsets) and, under
 * schema.evolution=basic, ALTER. */
static size_t my_check_rights(sk_target_t *t, sk_check_t *out, size_t max)
{
    static const char *const needed[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER" };
    const sk_config_t *cfg = t->s.cfg;
    if (!max)
        return 0;
    sk_check_t *c = &out[0];
    c->name = "target_rights";
    c->key = "connection.username";
    static const char sql[] =
        "SELECT CURRENT_USER(), DATABASE(), GROUP_CONCAT(DISTINCT p.PRIVILEGE_TYPE) FROM (SELECT CONCAT('''', "
        "SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') AS g) u "
        "LEFT JOIN (SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES UNION ALL "
        "SELECT GRANTEE, PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES WHERE DATABASE() LIKE TABLE_SCHEMA) p "
        "ON p.GRANTEE = u.g";
    MYSQL_RES *r = NULL;
    MYSQL_ROW row = NULL;
    if (mysql_real_query(t->db, sql, sizeof sql - 1) || !(r = mysql_store_result(t->db)) || !(row = mysql_fetch_row(r))) {
        c->ok = false;
        snprintf(c->message, sizeof c->message, "cannot read the user's privileges: %s", mysql_error(t->db));
        snprintf(c->fix, sizeof c->fix, "let the user read information_schema (it always may on MariaDB and MySQL)");
        goto out;
    }
    const char *user = row[0] ? row[0] : "?", *db = row[1] ? row[1] : "?", *have = row[2] ? row[2] : "";
    char missing[128] = "", want[128] = "";
    size_t ml = 0, wl = 0, nneeded = cfg->schema_evolution ? 6 : 5;
    for (size_t i = 0; i < nneeded; i++) {
        const char *p = needed[i];
        wl += (size_t)snprintf(want + wl, sizeof want - wl, "%s%s", wl ? ", " : "", p);
        bool found = false;   /* a whole word of the comma list */
        for (const char *h = have; *h && !found;) {
            size_t n = strcspn(h, ",");
            found = n == strlen(p) && !strncmp(h, p, n);
            h += n + (h[n] == ',');
        }
        if (!found)
            ml += (size_t)snprintf(missing + ml, sizeof missing - ml, "%s%s", ml ? ", " : "", p);
    }
    c->ok = !ml;
    if (c->ok) {
        snprintf(c->message, sizeof c->message, "%s has %s on `%s`", user, want, db);
    } else {
        const char *at = strrchr(user, '@');
        snprintf(c->message, sizeof c->message, "%s lacks %s on `%s` (the sink needs %s%s)", user, missing, db, want,
                 cfg->schema_evolution ? ": ALTER for schema.evolution=basic" : "");
        snprintf(c->fix, sizeof c->fix, "GRANT %s ON `%s`.* TO '%.*s'@'%s';", missing, db,
                 at ? (int)(at - user) : (int)strlen(user), user, at ? at + 1 : "%");
    }
out:
    if (r)
        mysql_free_result(r);
    return 1;
}

static wc_status_t my_commit(sk_target_t *t, char *err, size_t errlen)
{
    if (t->gather) {
        t->gather = false;
        gather(t, "COMMIT", strlen("COMMIT"), "COMMIT");
        wc_status_t st = gathered_send(t, !t->defer, err, errlen);
        if (st == WC_OK && t->sent)
            t->commit_pending = true;
        if (st != WC_OK)
            sql_tables_clear(&t->s);
        return st;
    }
    if (mysql_commit(t->db))
        return fail(t, "COMMIT", err, errlen);
    return WC_OK;
}

static void my_defer_commit(sk_target_t *t, bool on)
{
    t->defer = on;
}

/* The outcome of a batch whose query my_commit only sent. */
static wc_status_t my_commit_wait(sk_target_t *t, char *err, size_t errlen)
{
    if (!t->commit_pending)
        return WC_OK;
    wc_status_t st = gathered_results(t, err, errlen);
    if (st != WC_OK)
        sql_tables_clear(&t->s);
    return st;
}

static void my_rollback(sk_target_t *t)
{
    if (!t)
        return;
    sql_tables_clear(&t->s);
    t->gather = false;
    if (t->db && t->sent) {   /* the answers of a query on its way come first */
        char e[256];
        gathered_results(t, e, sizeof e);
    }
    stmts_clear(t);
    if (t->db)
        mysql_rollback(t->db);
}

const sk_target_ops_t sk_mysql_ops = {
    .name = "mysql",
    /* the session, and what only MySQL reads its own way */
    .connect = my_connect, .close = my_close, .begin = my_begin, .commit = my_commit, .rollback = my_rollback,
    .defer_commit = my_defer_commit, .commit_wait = my_commit_wait,
    .read_offsets = my_read_offsets, .fetch_existing = my_fetch_existing, .check_rights = my_check_rights,
    /* sinks/sql.c */
    .ensure_table = sql_ensure_table, .apply = sql_apply, .log_conflicts = sql_log_conflicts,
    .store_offsets = sql_store_offsets, .delete_offsets = sql_delete_offsets,
};
