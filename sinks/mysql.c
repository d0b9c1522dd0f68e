/* mysql.c: the MySQL/MariaDB apply target (libmariadb): multi-row INSERT ... ON DUPLICATE KEY UPDATE,
 * batched deletes, tables created/evolved from the event schema, offsets in walcast_sink_offsets. */
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
#include "sinks/target.h"

/* one statement stays well under max_allowed_packet (16 MB by default) */
#define MY_MAX_STMT (4u << 20)

typedef struct my_table {
    char *name;
    char **cols;
    size_t ncols;
    const cs_schema_t *checked;
    struct my_table *next;
} my_table_t;

struct sk_target {
    MYSQL *db;
    const sk_config_t *cfg;
    bool quote;
    my_table_t *tables;
    buf_t sql, val, esc;
};

static wc_status_t fail(sk_target_t *t, const char *what, char *err, size_t errlen)
{
    unsigned e = mysql_errno(t->db);
    snprintf(err, errlen, "%s: %u %s", what, e, mysql_error(t->db));
    return wc_status_mysql(e);
}

static wc_status_t q(sk_target_t *t, const char *sql, size_t len, const char *what, char *err, size_t errlen)
{
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

static void tables_clear(sk_target_t *t)
{
    my_table_t *n;
    for (my_table_t *p = t->tables; p; p = n) {
        n = p->next;
        for (size_t i = 0; i < p->ncols; i++)
            free(p->cols[i]);
        free(p->cols);
        free(p->name);
        free(p);
    }
    t->tables = NULL;
}

static void my_close(sk_target_t *t)
{
    if (!t)
        return;
    if (t->db)
        mysql_close(t->db);
    tables_clear(t);
    buf_free(&t->sql);
    buf_free(&t->val);
    buf_free(&t->esc);
    free(t);
}

static void ident(sk_target_t *t, buf_t *b, const char *name)
{
    dl_ident(b, SK_DIALECT_MYSQL, name, t->quote);
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
    if (!mysql_real_connect(db, u->host ? u->host : "127.0.0.1", u->user, u->password, u->database,
                            (unsigned)u->port, NULL, 0)) {
        unsigned e = mysql_errno(db);
        snprintf(err, errlen, "cannot connect to MySQL/MariaDB at %s:%d: %u %s", u->host ? u->host : "127.0.0.1",
                 u->port ? u->port : 3306, e, mysql_error(db));
        mysql_close(db);
        return wc_status_mysql(e);
    }
    sk_target_t *t = xcalloc(1, sizeof *t);
    t->db = db;
    t->cfg = cfg;
    t->quote = cfg->quote_identifiers;
    buf_init(&t->sql);
    buf_init(&t->val);
    buf_init(&t->esc);
    wc_status_t st = qs(t, "SET time_zone = '+00:00', autocommit = 0", "session settings", err, errlen);
    if (st) {
        my_close(t);
        return st;
    }
    *out = t;
    return WC_OK;
}

static wc_status_t my_read_offsets(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                                   size_t errlen)
{
    *offs = NULL;
    *n = 0;
    wc_status_t st = qs(t,
                        "CREATE TABLE IF NOT EXISTS walcast_sink_offsets (sink varchar(255) NOT NULL, "
                        "topic varchar(255) NOT NULL, `partition` int NOT NULL, `offset` bigint NOT NULL, "
                        "PRIMARY KEY (sink, topic, `partition`)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                        "creating walcast_sink_offsets", err, errlen);
    if (st)
        return st == WC_PERMANENT ? WC_RETRY : st;
    if (t->cfg->conflict_log) {
        st = qs(t,
                "CREATE TABLE IF NOT EXISTS walcast_conflicts (at datetime(6) NOT NULL DEFAULT now(6), "
                "sink varchar(255) NOT NULL, table_name varchar(255) NOT NULL, `key` longtext, type varchar(64) NOT NULL, "
                "policy varchar(32) NOT NULL, incoming longtext, existing longtext) DEFAULT CHARSET=utf8mb4",
                "creating walcast_conflicts", err, errlen);
        if (st)
            return st == WC_PERMANENT ? WC_RETRY : st;
    }
    buf_t *b = &t->sql;
    buf_reset(b);
    buf_puts(b, "SELECT topic, `partition`, `offset` FROM walcast_sink_offsets WHERE sink = ");
    lit(t, b, name, strlen(name));
    if (mysql_real_query(t->db, b->data, b->len))
        return fail(t, "reading walcast_sink_offsets", err, errlen);
    MYSQL_RES *r = mysql_store_result(t->db);
    if (!r)
        return fail(t, "reading walcast_sink_offsets", err, errlen);
    size_t rows = (size_t)mysql_num_rows(r);
    *offs = xcalloc(rows + 1, sizeof **offs);
    MYSQL_ROW row;
    size_t i = 0;
    while ((row = mysql_fetch_row(r)) && i < rows) {
        (*offs)[i].topic = xstrdup(row[0]);
        (*offs)[i].partition = (int32_t)atoi(row[1]);
        (*offs)[i].offset = strtoll(row[2], NULL, 10);
        i++;
    }
    *n = i;
    mysql_free_result(r);
    /* end the implicit transaction of the SELECT (autocommit is off) */
    return qs(t, "COMMIT", "COMMIT", err, errlen);
}

static wc_status_t my_begin(sk_target_t *t, char *err, size_t errlen)
{
    return qs(t, "START TRANSACTION", "START TRANSACTION", err, errlen);
}

static my_table_t *table_find(sk_target_t *t, const char *name)
{
    for (my_table_t *p = t->tables; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static bool has_col(const my_table_t *p, const char *c)
{
    for (size_t i = 0; i < p->ncols; i++)
        if (!strcasecmp(p->cols[i], c))   /* MySQL column names are case-insensitive */
            return true;
    return false;
}

static void add_col(my_table_t *p, const char *c)
{
    p->cols = xrealloc(p->cols, (p->ncols + 1) * sizeof *p->cols);
    p->cols[p->ncols++] = xstrdup(c);
}

static bool is_pk(const sk_table_t *tab, const char *c)
{
    for (size_t k = 0; k < tab->npk; k++)
        if (!strcmp(tab->pk[k], c))
            return true;
    return false;
}

static wc_status_t my_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen)
{
    my_table_t *pt = table_find(t, tab->name);
    if (pt && pt->checked == tab->row)
        return WC_OK;
    wc_status_t st;
    bool exists = true;
    buf_t *b = &t->sql;
    if (!pt) {
        buf_reset(b);
        buf_puts(b, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                    "TABLE_NAME = ");
        lit(t, b, tab->name, strlen(tab->name));
        if (mysql_real_query(t->db, b->data, b->len))
            return fail(t, "reading the columns of a target table", err, errlen);
        MYSQL_RES *r = mysql_store_result(t->db);
        if (!r)
            return fail(t, "reading the columns of a target table", err, errlen);
        pt = xcalloc(1, sizeof *pt);
        pt->name = xstrdup(tab->name);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(r)))
            add_col(pt, row[0]);
        exists = pt->ncols > 0;
        mysql_free_result(r);
        pt->next = t->tables;
        t->tables = pt;
    }
    const cs_schema_t *rs = tab->row;
    if (!exists) {
        if (!evolve) {
            snprintf(err, errlen, "table %s does not exist in the target; create it or set schema.evolution=basic",
                     tab->name);
            return WC_PERMANENT;
        }
        buf_reset(b);
        buf_puts(b, "CREATE TABLE ");
        ident(t, b, tab->name);
        buf_puts(b, " (");
        for (size_t i = 0; i < rs->nfields; i++) {
            if (i)
                buf_puts(b, ", ");
            ident(t, b, rs->fields[i].name);
            buf_putc(b, ' ');
            bool key = is_pk(tab, rs->fields[i].name);
            dl_type(b, SK_DIALECT_MYSQL, rs->fields[i].schema, key);
            buf_puts(b, !rs->fields[i].schema->optional || key ? " NOT NULL" : " NULL");
            add_col(pt, rs->fields[i].name);
        }
        if (tab->version_column && cs_field_index(rs, tab->version_column) < 0) {
            buf_puts(b, ", ");
            ident(t, b, tab->version_column);
            buf_puts(b, " varbinary(255) NULL");
            add_col(pt, tab->version_column);
        }
        if (tab->npk) {
            buf_puts(b, ", PRIMARY KEY (");
            for (size_t k = 0; k < tab->npk; k++) {
                if (k)
                    buf_puts(b, ", ");
                ident(t, b, tab->pk[k]);
            }
            buf_putc(b, ')');
        }
        buf_puts(b, ") DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
        /* DDL commits implicitly in MySQL: the batch's own transaction starts again after it */
        if ((st = q(t, b->data, b->len, "CREATE TABLE", err, errlen)) ||
            (st = qs(t, "START TRANSACTION", "START TRANSACTION", err, errlen)))
            return st;
        log_info("target table created", "table=%s columns=%zu", log_esc(tab->name), rs->nfields);
        pt->checked = rs;
        return WC_OK;
    }
    for (size_t i = 0; i <= rs->nfields; i++) {
        const char *cn = i < rs->nfields ? rs->fields[i].name : tab->version_column;
        if (!cn || has_col(pt, cn))
            continue;
        if (!evolve) {
            snprintf(err, errlen, "table %s has no column %s; add it or set schema.evolution=basic", tab->name, cn);
            return WC_PERMANENT;
        }
        buf_reset(b);
        buf_puts(b, "ALTER TABLE ");
        ident(t, b, tab->name);
        buf_puts(b, " ADD COLUMN ");
        ident(t, b, cn);
        buf_putc(b, ' ');
        if (i < rs->nfields)
            dl_type(b, SK_DIALECT_MYSQL, rs->fields[i].schema, false);
        else
            buf_puts(b, "varbinary(255)");
        buf_puts(b, " NULL");
        if ((st = q(t, b->data, b->len, "ALTER TABLE ADD COLUMN", err, errlen)) ||
            (st = qs(t, "START TRANSACTION", "START TRANSACTION", err, errlen)))
            return st;
        log_info("target column added", "table=%s column=%s", log_esc(tab->name), log_esc(cn));
        add_col(pt, cn);
    }
    pt->checked = rs;
    return WC_OK;
}

static bool numeric_literal(const cs_schema_t *s)
{
    if (s->name && !strcmp(s->name, "io.debezium.data.Bits"))
        return true;
    if (s->name)
        return false;
    return s->type <= CT_BOOLEAN;   /* ints, floats, boolean: digits only */
}

/* Appends field f of row c as an SQL literal. */
static int put_value(sk_target_t *t, buf_t *b, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    const cs_schema_t *fs = c->table->row->fields[f].schema;
    dl_kind_t k;
    char e[256];
    buf_reset(&t->val);
    if (dl_value(&t->val, SK_DIALECT_MYSQL, fs, &c->row.u.list.v[f], &k, e, sizeof e) < 0) {
        snprintf(err, errlen, "column %s of %s[%d]@%" PRId64 ": %s", c->table->row->fields[f].name, c->topic,
                 c->partition, c->offset, e);
        return -1;
    }
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

static wc_status_t run(sk_target_t *t, const char *what, unsigned long long *affected, char *err, size_t errlen)
{
    if (mysql_real_query(t->db, t->sql.data, t->sql.len))
        return fail(t, what, err, errlen);
    if (affected)
        *affected = mysql_affected_rows(t->db);
    return WC_OK;
}

static wc_status_t upsert(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                          size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    bool ver = tab->version_column && cs_field_index(rs, tab->version_column) < 0;
    size_t from = 0;
    while (from < n) {
        buf_t *b = &t->sql;
        buf_reset(b);
        buf_puts(b, "INSERT INTO ");
        ident(t, b, tab->name);
        buf_puts(b, " (");
        for (size_t i = 0; i < rs->nfields; i++) {
            if (i)
                buf_puts(b, ", ");
            ident(t, b, rs->fields[i].name);
        }
        if (ver) {
            buf_puts(b, ", ");
            ident(t, b, tab->version_column);
        }
        buf_puts(b, ") VALUES ");
        size_t cnt = 0;
        for (; from < n && (cnt == 0 || b->len < MY_MAX_STMT); from++, cnt++) {
            const sk_change_t *c = ch[from];
            buf_puts(b, cnt ? ",(" : "(");
            for (size_t f = 0; f < rs->nfields; f++) {
                if (f)
                    buf_putc(b, ',');
                if (put_value(t, b, c, f, err, errlen) < 0)
                    return WC_PERMANENT;
            }
            if (ver) {
                char vt[256];
                size_t vl = sk_version_text(&c->version, vt, sizeof vt);
                buf_putc(b, ',');
                lit(t, b, vt, vl);
            }
            buf_putc(b, ')');
        }
        /* only source_wins comes here for a table with a key: cf_apply decides every other policy first */
        if (tab->npk && mode != SK_INSERT_INSERT) {
            size_t nset = 0;
            for (size_t f = 0; f <= rs->nfields; f++) {
                const char *cn = f < rs->nfields ? rs->fields[f].name : (ver ? tab->version_column : NULL);
                if (!cn || is_pk(tab, cn))
                    continue;
                buf_puts(b, nset++ ? ", " : " ON DUPLICATE KEY UPDATE ");
                ident(t, b, cn);
                buf_puts(b, " = VALUES(");
                ident(t, b, cn);
                buf_putc(b, ')');
            }
            if (!nset) {   /* a table of key columns only */
                buf_puts(b, " ON DUPLICATE KEY UPDATE ");
                ident(t, b, tab->pk[0]);
                buf_puts(b, " = ");
                ident(t, b, tab->pk[0]);
            }
        }
        unsigned long long affected = 0;
        wc_status_t st = run(t, "INSERT", &affected, err, errlen);
        if (st)
            return st;
        (void)cc;
    }
    return WC_OK;
}

static wc_status_t update_rows(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                               sk_conflict_count_t *cc, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    for (size_t r = 0; r < n; r++) {
        buf_t *b = &t->sql;
        buf_reset(b);
        buf_puts(b, "UPDATE ");
        ident(t, b, tab->name);
        size_t nset = 0;
        for (size_t f = 0; f < rs->nfields; f++) {
            if (is_pk(tab, rs->fields[f].name))
                continue;
            buf_puts(b, nset++ ? ", " : " SET ");
            ident(t, b, rs->fields[f].name);
            buf_puts(b, " = ");
            if (put_value(t, b, ch[r], f, err, errlen) < 0)
                return WC_PERMANENT;
        }
        if (!nset)
            continue;
        for (size_t k = 0; k < tab->npk; k++) {
            int f = cs_field_index(rs, tab->pk[k]);
            buf_puts(b, k ? " AND " : " WHERE ");
            ident(t, b, tab->pk[k]);
            buf_puts(b, " = ");
            if (put_value(t, b, ch[r], (size_t)f, err, errlen) < 0)
                return WC_PERMANENT;
        }
        unsigned long long affected = 0;
        wc_status_t st = run(t, "UPDATE", &affected, err, errlen);
        if (st)
            return st;
        if (!affected && cc)
            cc->n[SK_CONFLICT_UPDATE_MISSING]++;
    }
    return WC_OK;
}

static wc_status_t delete_rows(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                               sk_conflict_count_t *cc, char *err, size_t errlen)
{
    if (!tab->npk) {
        snprintf(err, errlen, "table %s has no primary key to delete by", tab->name);
        return WC_PERMANENT;
    }
    const cs_schema_t *rs = tab->row;
    size_t from = 0;
    while (from < n) {
        buf_t *b = &t->sql;
        buf_reset(b);
        buf_puts(b, "DELETE FROM ");
        ident(t, b, tab->name);
        buf_puts(b, " WHERE (");
        for (size_t k = 0; k < tab->npk; k++) {
            if (k)
                buf_puts(b, ", ");
            ident(t, b, tab->pk[k]);
        }
        buf_puts(b, ") IN (");
        size_t cnt = 0;
        for (; from < n && (cnt == 0 || b->len < MY_MAX_STMT); from++, cnt++) {
            buf_puts(b, cnt ? ",(" : "(");
            for (size_t k = 0; k < tab->npk; k++) {
                if (k)
                    buf_putc(b, ',');
                if (put_value(t, b, ch[from], (size_t)cs_field_index(rs, tab->pk[k]), err, errlen) < 0)
                    return WC_PERMANENT;
            }
            buf_putc(b, ')');
        }
        buf_putc(b, ')');
        unsigned long long affected = 0;
        wc_status_t st = run(t, "DELETE", &affected, err, errlen);
        if (st)
            return st;
        if (affected < cnt && cc)
            cc->n[SK_CONFLICT_DELETE_MISSING] += cnt - affected;
    }
    return WC_OK;
}

static wc_status_t truncate_table(sk_target_t *t, const sk_table_t *tab, char *err, size_t errlen)
{
    buf_t *b = &t->sql;
    buf_reset(b);
    buf_puts(b, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ");
    lit(t, b, tab->name, strlen(tab->name));
    if (mysql_real_query(t->db, b->data, b->len))
        return fail(t, "looking up a table to truncate", err, errlen);
    MYSQL_RES *r = mysql_store_result(t->db);
    if (!r)
        return fail(t, "looking up a table to truncate", err, errlen);
    bool exists = mysql_num_rows(r) > 0;
    mysql_free_result(r);
    if (!exists)
        return WC_OK;
    /* TRUNCATE commits implicitly in MySQL; DELETE keeps the batch one transaction */
    buf_reset(b);
    buf_puts(b, "DELETE FROM ");
    ident(t, b, tab->name);
    return run(t, "TRUNCATE (DELETE FROM)", NULL, err, errlen);
}

/* ---- conflicts (the same decisions as the PostgreSQL target, sinks/conflict.c) ---- */

/* ---- conflicts (decided by cf_apply in conflict.c) ---- */

/* The rows the changes' keys have, locked (SELECT ... FOR UPDATE), into ex[i]. */
static wc_status_t my_fetch_existing(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                                     sk_existing_t *ex, char *err, size_t errlen)
{
    const cs_schema_t *rs = tab->row;
    size_t from = 0;
    while (from < n) {
        buf_t *b = &t->sql;
        buf_reset(b);
        buf_puts(b, "SELECT v.ord, ");
        if (tab->version_column) {
            buf_puts(b, "__wc_t.");
            ident(t, b, tab->version_column);
        } else
            buf_puts(b, "NULL");
        buf_puts(b, ", JSON_OBJECT(");
        for (size_t f = 0; f < rs->nfields; f++) {
            if (f)
                buf_puts(b, ", ");
            lit(t, b, rs->fields[f].name, strlen(rs->fields[f].name));
            buf_puts(b, ", __wc_t.");
            ident(t, b, rs->fields[f].name);
        }
        buf_puts(b, ") FROM ");
        ident(t, b, tab->name);
        buf_puts(b, " __wc_t JOIN (");
        size_t cnt = 0;
        for (; from < n && (cnt == 0 || b->len < MY_MAX_STMT); from++, cnt++) {
            buf_printf(b, "%sSELECT %zu AS ord", cnt ? " UNION ALL " : "", from);
            for (size_t k = 0; k < tab->npk; k++) {
                buf_puts(b, ", ");
                if (put_value(t, b, ch[from], (size_t)cs_field_index(rs, tab->pk[k]), err, errlen) < 0)
                    return WC_PERMANENT;
                buf_printf(b, " AS k%zu", k);
            }
        }
        buf_puts(b, ") v ON ");
        for (size_t k = 0; k < tab->npk; k++) {
            if (k)
                buf_puts(b, " AND ");
            buf_puts(b, "__wc_t.");
            ident(t, b, tab->pk[k]);
            buf_printf(b, " = v.k%zu", k);
        }
        buf_puts(b, " FOR UPDATE");
        if (mysql_real_query(t->db, b->data, b->len))
            return fail(t, "reading the rows a batch may conflict with", err, errlen);
        MYSQL_RES *r = mysql_store_result(t->db);
        if (!r)
            return fail(t, "reading the rows a batch may conflict with", err, errlen);
        MYSQL_ROW row;
        while ((row = mysql_fetch_row(r))) {
            size_t ord = (size_t)strtoull(row[0], NULL, 10);
            if (ord >= n)
                continue;
            ex[ord].found = true;
            ex[ord].ver = row[1] ? xstrdup(row[1]) : NULL;
            ex[ord].row = row[2] ? xstrdup(row[2]) : NULL;
        }
        mysql_free_result(r);
    }
    return WC_OK;
}

/* One INSERT for the batch's conflicts: (sink, table, key, type, policy, incoming, existing). */
static wc_status_t my_log_conflicts(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n,
                                   char *err, size_t errlen)
{
    buf_t *b = &t->sql;
    buf_reset(b);
    buf_puts(b, "INSERT INTO walcast_conflicts (sink, table_name, `key`, type, policy, incoming, existing) VALUES ");
    const char *pn = cf_policy_name(tab->policy);
    for (size_t i = 0; i < n; i++) {
        const char *tn = cf_type_name(v[i].type);
        const char *col[] = { t->cfg->name, tab->name, v[i].key, tn, pn, v[i].incoming, v[i].existing };
        buf_puts(b, i ? ",(" : "(");
        for (size_t k = 0; k < sizeof col / sizeof *col; k++) {
            if (k)
                buf_putc(b, ',');
            if (col[k])
                lit(t, b, col[k], strlen(col[k]));
            else
                buf_puts(b, "NULL");
        }
        buf_putc(b, ')');
    }
    return run(t, "logging conflicts", NULL, err, errlen);
}

static wc_status_t my_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                            size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    if (!n)
        return WC_OK;
    switch (ch[0]->op) {
    case SK_OP_TRUNCATE:
        return truncate_table(t, tab, err, errlen);
    case SK_OP_DELETE:
        return delete_rows(t, tab, ch, n, cc, err, errlen);
    case SK_OP_UPSERT:
        if (mode == SK_INSERT_UPDATE)
            return update_rows(t, tab, ch, n, cc, err, errlen);
        return upsert(t, tab, mode, ch, n, cc, err, errlen);
    }
    return WC_PERMANENT;
}

static wc_status_t my_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                    size_t errlen)
{
    if (!n)
        return WC_OK;
    buf_t *b = &t->sql;
    buf_reset(b);
    buf_puts(b, "INSERT INTO walcast_sink_offsets (sink, topic, `partition`, `offset`) VALUES ");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, i ? ",(" : "(");
        lit(t, b, name, strlen(name));
        buf_putc(b, ',');
        lit(t, b, offs[i].topic, strlen(offs[i].topic));
        buf_printf(b, ",%d,%" PRId64 ")", offs[i].partition, offs[i].offset);
    }
    buf_puts(b, " ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`)");
    return run(t, "storing offsets", NULL, err, errlen);
}

static wc_status_t my_delete_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                     size_t errlen)
{
    buf_t *b = &t->sql;
    wc_status_t st = WC_OK;
    for (size_t i = 0; i < (n ? n : 1) && st == WC_OK; i++) {
        buf_reset(b);
        buf_puts(b, "DELETE FROM walcast_sink_offsets WHERE sink = ");
        lit(t, b, name, strlen(name));
        if (n) {
            buf_puts(b, " AND topic = ");
            lit(t, b, offs[i].topic, strlen(offs[i].topic));
            buf_printf(b, " AND `partition` = %d", offs[i].partition);
        }
        st = run(t, "deleting offsets", NULL, err, errlen);
    }
    return st;
}

/* walcast check: the privileges the sink needs on its database, granted to the user globally or on the
 * database (roles and table-level grants are not looked at): SELECT, INSERT, UPDATE always (upserts, the
 * offsets), DELETE (deletes, truncates, an offsets reset), CREATE (walcast_sink_offsets) and, under
 * schema.evolution=basic, ALTER. */
static size_t my_check_rights(sk_target_t *t, sk_check_t *out, size_t max)
{
    static const char *const needed[] = { "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER" };
    const sk_config_t *cfg = t->cfg;
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
    if (mysql_commit(t->db))
        return fail(t, "COMMIT", err, errlen);
    return WC_OK;
}

static void my_rollback(sk_target_t *t)
{
    if (!t)
        return;
    tables_clear(t);
    if (t->db)
        mysql_rollback(t->db);
}

const sk_target_ops_t sk_mysql_ops = {
    .name = "mysql",
    .connect = my_connect,
    .close = my_close,
    .read_offsets = my_read_offsets,
    .begin = my_begin,
    .ensure_table = my_ensure_table,
    .apply = my_apply,
    .fetch_existing = my_fetch_existing,
    .log_conflicts = my_log_conflicts,
    .store_offsets = my_store_offsets,
    .delete_offsets = my_delete_offsets,
    .check_rights = my_check_rights,
    .commit = my_commit,
    .rollback = my_rollback,
};
