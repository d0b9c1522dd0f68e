/* sql.c: what the SQL targets share (sql.h): the table cache, CREATE/ALTER, the statements of a batch,
 * walcast's own tables and the dispatch of apply; values, execution and catalog reads through the
 * target's sql_ops_t. */
#include "sinks/sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/log.h"
#include "sinks/conflict.h"
#include "sinks/dialect.h"

static sql_conn_t *conn_of(sk_target_t *t)
{
    return (sql_conn_t *)(void *)t;   /* the first member of an SQL target */
}

void sql_init(sql_conn_t *s, const sql_ops_t *ops, const sk_config_t *cfg, sk_dialect_t d)
{
    memset(s, 0, sizeof *s);
    s->ops = ops;
    s->cfg = cfg;
    s->dialect = d;
    s->quote = cfg->quote_identifiers;
    buf_init(&s->sql);
}

void sql_free(sql_conn_t *s)
{
    sql_tables_clear(s);
    buf_free(&s->sql);
}

void sql_ident(const sql_conn_t *s, buf_t *b, const char *name)
{
    dl_ident(b, s->dialect, name, s->quote);
}

/* walcast's own column names, always quoted (partition, offset and key are reserved words) */
static void own_ident(const sql_conn_t *s, buf_t *b, const char *name)
{
    dl_ident(b, s->dialect, name, true);
}

bool sql_is_pk(const sk_table_t *tab, const char *c)
{
    for (size_t k = 0; k < tab->npk; k++)
        if (!strcmp(tab->pk[k], c))
            return true;
    return false;
}

bool sql_version_added(const sk_table_t *tab)
{
    return tab->version_column && cs_field_index(tab->row, tab->version_column) < 0;
}

static void pk_list(const sql_conn_t *s, buf_t *b, const sk_table_t *tab)
{
    for (size_t k = 0; k < tab->npk; k++) {
        if (k)
            buf_puts(b, ", ");
        sql_ident(s, b, tab->pk[k]);
    }
}

/* "<verb> <table> (" */
static void table_open(const sql_conn_t *s, buf_t *b, const char *verb, const sk_table_t *tab)
{
    buf_puts(b, verb);
    sql_ident(s, b, tab->name);
    buf_puts(b, " (");
}

void sql_insert_head(const sql_conn_t *s, buf_t *b, const sk_table_t *tab, bool ver)
{
    const cs_schema_t *rs = tab->row;
    table_open(s, b, "INSERT INTO ", tab);
    for (size_t i = 0; i < rs->nfields; i++) {
        if (i)
            buf_puts(b, ", ");
        sql_ident(s, b, rs->fields[i].name);
    }
    if (ver) {
        buf_puts(b, ", ");
        sql_ident(s, b, tab->version_column);
    }
    buf_putc(b, ')');
}

void sql_upsert_tail(const sql_conn_t *s, buf_t *b, const sk_table_t *tab, sk_insert_mode_t mode, bool ver)
{
    const cs_schema_t *rs = tab->row;
    bool my = s->dialect == SK_DIALECT_MYSQL;
    if (!tab->npk || mode == SK_INSERT_INSERT)
        return;
    if (my)
        buf_puts(b, " ON DUPLICATE KEY UPDATE ");
    else {
        buf_puts(b, " ON CONFLICT (");
        pk_list(s, b, tab);
        buf_puts(b, ") DO ");
    }
    size_t nset = 0;
    for (size_t f = 0; f < rs->nfields + (ver ? 1 : 0); f++) {
        const char *cn = f < rs->nfields ? rs->fields[f].name : tab->version_column;
        if (sql_is_pk(tab, cn))
            continue;
        buf_puts(b, nset++ ? ", " : my ? "" : "UPDATE SET ");
        sql_ident(s, b, cn);
        buf_puts(b, my ? " = VALUES(" : " = EXCLUDED.");
        sql_ident(s, b, cn);
        if (my)
            buf_putc(b, ')');
    }
    if (nset)
        return;
    /* a table of key columns only */
    if (my) {
        sql_ident(s, b, tab->pk[0]);
        buf_puts(b, " = ");
        sql_ident(s, b, tab->pk[0]);
    } else
        buf_puts(b, "NOTHING");
}

int sql_value(buf_t *out, sk_dialect_t d, const sk_change_t *c, size_t f, dl_kind_t *k, char *err, size_t errlen)
{
    const cs_schema_t *rs = c->table->row;
    char e[256];
    if (dl_value(out, d, rs->fields[f].schema, &c->row.u.list.v[f], k, e, sizeof e) == 0)
        return 0;
    snprintf(err, errlen, "column %s of %s[%d]@%" PRId64 ": %s", rs->fields[f].name, c->topic, c->partition,
             c->offset, e);
    return -1;
}

/* ---- the table cache ---- */

sql_table_t *sql_table_find(const sql_conn_t *s, const char *name)
{
    for (sql_table_t *p = s->tables; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

/* The index of column c in p's columns; -1: none. */
static long col_index(const sql_conn_t *s, const sql_table_t *p, const char *c)
{
    for (size_t i = 0; i < p->ncols; i++)
        if (s->fold_case ? !strcasecmp(p->cols[i], c) : !strcmp(p->cols[i], c))
            return (long)i;
    return -1;
}

static bool has_col(const sql_conn_t *s, const sql_table_t *p, const char *c)
{
    return col_index(s, p, c) >= 0;
}

void sql_table_add_col(sql_table_t *p, const char *c)
{
    p->cols = xrealloc(p->cols, (p->ncols + 1) * sizeof *p->cols);
    p->dec = xrealloc(p->dec, (p->ncols + 1) * sizeof *p->dec);
    p->dec[p->ncols] = (sql_decimal_t){ 0, 0 };
    p->cols[p->ncols++] = xstrdup(c);
}

const sql_decimal_t *sql_col_decimal(const sql_conn_t *s, const char *table, const char *col)
{
    const sql_table_t *p = sql_table_find(s, table);
    long i = p ? col_index(s, p, col) : -1;
    return i >= 0 && p->dec[i].prec > 0 ? &p->dec[i] : NULL;
}

/* The last column added to p: a decimal(prec,scale) one (its type as dl_type creates it for schema fs in
 * MySQL). */
static void col_decimal_from(sql_table_t *p, sk_dialect_t d, const cs_schema_t *fs)
{
    int prec, scale;
    if (p->ncols && d == SK_DIALECT_MYSQL && dl_my_decimal(fs, &prec, &scale))
        p->dec[p->ncols - 1] = (sql_decimal_t){ prec, scale };
}

static void column_row(void *ctx, const char *const *v)
{
    if (v[0])
        sql_table_add_col(ctx, v[0]);
}

wc_status_t sql_columns_read(sk_target_t *t, sql_table_t *pt, char *err, size_t errlen)
{
    return conn_of(t)->ops->rows(t, "reading the columns of a target table", column_row, pt, err, errlen);
}

static void table_free(sql_table_t *p)
{
    for (size_t i = 0; i < p->ncols; i++)
        free(p->cols[i]);
    free(p->cols);
    free(p->dec);
    free(p->name);
    free(p);
}

void sql_tables_clear(sql_conn_t *s)
{
    sql_table_t *n;
    for (sql_table_t *p = s->tables; p; p = n) {
        n = p->next;
        table_free(p);
    }
    s->tables = NULL;
}

/* ---- CREATE / ALTER ---- */

/* A nullable column's word (MySQL says NULL; PostgreSQL nothing) and the version column's type. */
static const char *null_word(sk_dialect_t d)
{
    return d == SK_DIALECT_MYSQL ? " NULL" : "";
}

static const char *version_type(sk_dialect_t d)
{
    return d == SK_DIALECT_MYSQL ? "varbinary(255)" : "text COLLATE \"C\"";
}

static wc_status_t create_table(sk_target_t *t, const sk_table_t *tab, sql_table_t *pt, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    const cs_schema_t *rs = tab->row;
    buf_t *b = &s->sql;
    buf_reset(b);
    table_open(s, b, "CREATE TABLE ", tab);
    for (size_t i = 0; i < rs->nfields; i++) {
        if (i)
            buf_puts(b, ", ");
        sql_ident(s, b, rs->fields[i].name);
        buf_putc(b, ' ');
        bool key = sql_is_pk(tab, rs->fields[i].name);
        dl_type(b, s->dialect, rs->fields[i].schema, key);
        buf_puts(b, !rs->fields[i].schema->optional || key ? " NOT NULL" : null_word(s->dialect));
        sql_table_add_col(pt, rs->fields[i].name);
        col_decimal_from(pt, s->dialect, rs->fields[i].schema);
    }
    if (sql_version_added(tab)) {
        buf_puts(b, ", ");
        sql_ident(s, b, tab->version_column);
        buf_printf(b, " %s%s", version_type(s->dialect), null_word(s->dialect));
        sql_table_add_col(pt, tab->version_column);
    }
    if (tab->npk) {
        buf_puts(b, ", PRIMARY KEY (");
        pk_list(s, b, tab);
        buf_putc(b, ')');
    }
    buf_putc(b, ')');
    if (s->dialect == SK_DIALECT_MYSQL)
        buf_puts(b, " DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
    wc_status_t st = s->ops->ddl(t, "CREATE TABLE", err, errlen);
    if (st)
        return st;
    log_info("target table created", "table=%s columns=%zu", log_esc(tab->name), rs->nfields);
    pt->checked = rs;
    return WC_OK;
}

wc_status_t sql_ensure_table(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    sql_table_t *pt = sql_table_find(s, tab->name);
    if (pt && pt->checked == tab->row)
        return WC_OK;
    wc_status_t st;
    bool exists = true;
    if (!pt) {
        pt = xcalloc(1, sizeof *pt);
        pt->name = xstrdup(tab->name);
        if ((st = s->ops->columns(t, tab->name, pt, err, errlen))) {
            table_free(pt);
            return st;
        }
        exists = pt->ncols > 0;
        pt->next = s->tables;
        s->tables = pt;
    }
    const cs_schema_t *rs = tab->row;
    if (!exists) {
        if (!evolve) {
            snprintf(err, errlen, "table %s does not exist in the target; create it or set schema.evolution=basic",
                     tab->name);
            return WC_PERMANENT;
        }
        return create_table(t, tab, pt, err, errlen);
    }
    for (size_t i = 0; i <= rs->nfields; i++) {
        const char *cn = i < rs->nfields ? rs->fields[i].name : tab->version_column;
        if (!cn || has_col(s, pt, cn))
            continue;
        if (!evolve) {
            snprintf(err, errlen, "table %s has no column %s; add it or set schema.evolution=basic", tab->name, cn);
            return WC_PERMANENT;
        }
        buf_t *b = &s->sql;
        buf_reset(b);
        buf_puts(b, "ALTER TABLE ");
        sql_ident(s, b, tab->name);
        buf_puts(b, " ADD COLUMN ");
        sql_ident(s, b, cn);
        buf_putc(b, ' ');
        if (i < rs->nfields)
            dl_type(b, s->dialect, rs->fields[i].schema, false);
        else
            buf_puts(b, version_type(s->dialect));
        buf_puts(b, null_word(s->dialect));
        if ((st = s->ops->ddl(t, "ALTER TABLE ADD COLUMN", err, errlen)))
            return st;
        log_info("target column added", "table=%s column=%s", log_esc(tab->name), log_esc(cn));
        sql_table_add_col(pt, cn);
        if (i < rs->nfields)
            col_decimal_from(pt, s->dialect, rs->fields[i].schema);
    }
    pt->checked = rs;
    return WC_OK;
}

wc_status_t sql_create_own_tables(sk_target_t *t, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    bool my = s->dialect == SK_DIALECT_MYSQL;
    buf_t *b = &s->sql;
    buf_reset(b);
    buf_puts(b, my ? "CREATE TABLE IF NOT EXISTS walcast_sink_offsets (sink varchar(255) NOT NULL, "
                     "topic varchar(255) NOT NULL, `partition` int NOT NULL, `offset` bigint NOT NULL, "
                     "PRIMARY KEY (sink, topic, `partition`)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
                   : "CREATE TABLE IF NOT EXISTS walcast_sink_offsets (sink text NOT NULL, topic text NOT NULL, "
                     "\"partition\" integer NOT NULL, \"offset\" bigint NOT NULL, "
                     "PRIMARY KEY (sink, topic, \"partition\"))");
    wc_status_t st = s->ops->ddl(t, "creating walcast_sink_offsets", err, errlen);
    if (st == WC_OK && s->cfg->conflict_log) {
        buf_reset(b);
        buf_puts(b, my ? "CREATE TABLE IF NOT EXISTS walcast_conflicts (at datetime(6) NOT NULL DEFAULT now(6), "
                         "sink varchar(255) NOT NULL, table_name varchar(255) NOT NULL, `key` longtext, "
                         "type varchar(64) NOT NULL, policy varchar(32) NOT NULL, incoming longtext, existing longtext) "
                         "DEFAULT CHARSET=utf8mb4"
                       : "CREATE TABLE IF NOT EXISTS walcast_conflicts (at timestamptz NOT NULL DEFAULT now(), "
                         "sink text NOT NULL, table_name text NOT NULL, key json, type text NOT NULL, "
                         "policy text NOT NULL, incoming json, existing json)");
        st = s->ops->ddl(t, "creating walcast_conflicts", err, errlen);
    }
    return st == WC_PERMANENT ? WC_RETRY : st;   /* two sinks creating them at once: the loser retries */
}

/* ---- the statements of a batch ---- */

/* Rows one statement may carry when each has per values. */
static size_t rows_max(const sql_conn_t *s, size_t per)
{
    if (!s->max_params)
        return SIZE_MAX;
    size_t r = s->max_params / (per ? per : 1);
    return r > 1000 ? 1000 : r;
}

/* Whether the statement takes one more row (it has cnt of at most rows). */
static bool room(const sql_conn_t *s, size_t cnt, size_t rows)
{
    return cnt < rows && (cnt == 0 || !s->max_bytes || s->sql.len < s->max_bytes);
}

/* "(v,...),(v,...)" for ch[*from..n) while the statement has room for rows (keys: the key fields only;
 * ver: the version text last); how many, SIZE_MAX with err when a value cannot be written (poison). */
static size_t tuples(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n, size_t *from,
                     size_t rows, bool keys, bool ver, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    size_t nf = keys ? tab->npk : tab->row->nfields, cnt = 0;
    for (; *from < n && room(s, cnt, rows); (*from)++, cnt++) {
        const sk_change_t *c = ch[*from];
        buf_puts(&s->sql, cnt ? ",(" : "(");
        for (size_t i = 0; i < nf; i++) {
            if (i)
                buf_putc(&s->sql, ',');
            size_t f = keys ? (size_t)cs_field_index(tab->row, tab->pk[i]) : i;
            if (s->ops->field(t, c, f, err, errlen) < 0)
                return SIZE_MAX;
        }
        if (ver) {
            char vt[256];
            size_t vl = sk_version_text(&c->version, vt, sizeof vt);
            buf_putc(&s->sql, ',');
            s->ops->text(t, vt, vl, SQL_TEXT);
        }
        buf_putc(&s->sql, ')');
    }
    return cnt;
}

wc_status_t sql_upsert(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                       size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    const cs_schema_t *rs = tab->row;
    bool ver = sql_version_added(tab);
    size_t rows = rows_max(s, rs->nfields + (ver ? 1 : 0));
    buf_t *b = &s->sql;
    for (size_t from = 0; from < n;) {
        s->ops->start(t);
        sql_insert_head(s, b, tab, ver);
        buf_puts(b, " VALUES ");
        size_t cnt = tuples(t, tab, ch, n, &from, rows, false, ver, err, errlen);
        if (cnt == SIZE_MAX)
            return WC_PERMANENT;
        sql_upsert_tail(s, b, tab, mode, ver);
        long affected = 0;
        wc_status_t st = s->ops->run(t, "INSERT", &affected, err, errlen);
        if (st)
            return st;
        if (s->count_upserts && affected >= 0 && affected < (long)cnt && cc)
            cc->n[SK_CONFLICT_INSERT_EXISTS] += (uint64_t)((long)cnt - affected);
    }
    return WC_OK;
}

size_t sql_creates_first(const sk_change_t *const *ch, size_t n, const sk_change_t ***out)
{
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
        nc += ch[i]->src_op == 'c';
    const sk_change_t **v = xmalloc((n ? n : 1) * sizeof *v);
    size_t a = 0, b = nc;
    for (size_t i = 0; i < n; i++)
        v[ch[i]->src_op == 'c' ? a++ : b++] = ch[i];
    *out = v;
    return nc;
}

/* insert.mode=update: UPDATE per row (rows that are not there are not created, as Debezium does). */
static wc_status_t update_rows(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                               sk_conflict_count_t *cc, char *err, size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    const cs_schema_t *rs = tab->row;
    buf_t *b = &s->sql;
    for (size_t r = 0; r < n; r++) {
        s->ops->start(t);
        buf_puts(b, "UPDATE ");
        sql_ident(s, b, tab->name);
        size_t nset = 0;
        for (size_t f = 0; f < rs->nfields; f++) {
            if (sql_is_pk(tab, rs->fields[f].name))
                continue;
            buf_puts(b, nset++ ? ", " : " SET ");
            sql_ident(s, b, rs->fields[f].name);
            buf_puts(b, " = ");
            if (s->ops->field(t, ch[r], f, err, errlen) < 0)
                return WC_PERMANENT;
        }
        if (!nset)
            continue;
        for (size_t k = 0; k < tab->npk; k++) {
            buf_puts(b, k ? " AND " : " WHERE ");
            sql_ident(s, b, tab->pk[k]);
            buf_puts(b, " = ");
            if (s->ops->field(t, ch[r], (size_t)cs_field_index(rs, tab->pk[k]), err, errlen) < 0)
                return WC_PERMANENT;
        }
        long affected = 0;
        wc_status_t st = s->ops->run(t, "UPDATE", &affected, err, errlen);
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
    sql_conn_t *s = conn_of(t);
    if (!tab->npk) {
        snprintf(err, errlen, "table %s has no primary key to delete by", tab->name);
        return WC_PERMANENT;
    }
    size_t rows = rows_max(s, tab->npk);
    buf_t *b = &s->sql;
    for (size_t from = 0; from < n;) {
        s->ops->start(t);
        buf_puts(b, "DELETE FROM ");
        sql_ident(s, b, tab->name);
        buf_puts(b, " WHERE (");
        pk_list(s, b, tab);
        buf_puts(b, ") IN (");
        size_t cnt = tuples(t, tab, ch, n, &from, rows, true, false, err, errlen);
        if (cnt == SIZE_MAX)
            return WC_PERMANENT;
        buf_putc(b, ')');
        long affected = 0;
        wc_status_t st = s->ops->run(t, "DELETE", &affected, err, errlen);
        if (st)
            return st;
        if (affected >= 0 && affected < (long)cnt && cc)
            cc->n[SK_CONFLICT_DELETE_MISSING] += (uint64_t)((long)cnt - affected);
    }
    return WC_OK;
}

wc_status_t sql_apply(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                      size_t n, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    const sql_ops_t *o = conn_of(t)->ops;
    if (!n)
        return WC_OK;
    switch (ch[0]->op) {
    case SK_OP_TRUNCATE:
        return o->truncate(t, tab, err, errlen);
    case SK_OP_DELETE:
        return delete_rows(t, tab, ch, n, cc, err, errlen);
    case SK_OP_UPSERT:
        if (mode == SK_INSERT_UPDATE)
            return update_rows(t, tab, ch, n, cc, err, errlen);
        return o->upsert(t, tab, mode, ch, n, cc, err, errlen);
    }
    return WC_PERMANENT;
}

/* ---- conflicts (decided by cf_apply in conflict.c) ---- */

void sql_key_match(const sql_conn_t *s, buf_t *b, const sk_table_t *tab)
{
    for (size_t k = 0; k < tab->npk; k++) {
        if (k)
            buf_puts(b, " AND ");
        buf_puts(b, "__wc_t.");
        sql_ident(s, b, tab->pk[k]);
        buf_printf(b, " = v.k%zu", k);
    }
}

typedef struct existing_ctx {
    sk_existing_t *ex;
    size_t n;
} existing_ctx_t;

static void existing_row(void *ctx, const char *const *v)
{
    existing_ctx_t *x = ctx;
    size_t i = (size_t)strtoull(v[0], NULL, 10);
    if (i >= x->n)
        return;
    x->ex[i].found = true;
    x->ex[i].ver = v[1] ? xstrdup(v[1]) : NULL;
    x->ex[i].row = v[2] ? xstrdup(v[2]) : NULL;
}

wc_status_t sql_existing_read(sk_target_t *t, sk_existing_t *ex, size_t n, char *err, size_t errlen)
{
    existing_ctx_t x = { ex, n };
    return conn_of(t)->ops->rows(t, "reading the rows a batch may conflict with", existing_row, &x, err, errlen);
}

static void text_value(sk_target_t *t, const char *v, sql_kind_t k)
{
    conn_of(t)->ops->text(t, v, v ? strlen(v) : 0, k);
}

/* One INSERT for the batch's conflicts: (sink, table, key, type, policy, incoming, existing). */
wc_status_t sql_log_conflicts(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n, char *err,
                              size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    buf_t *b = &s->sql;
    s->ops->start(t);
    buf_puts(b, "INSERT INTO walcast_conflicts (sink, table_name, ");
    own_ident(s, b, "key");
    buf_puts(b, ", type, policy, incoming, existing) VALUES ");
    for (size_t i = 0; i < n; i++) {
        const char *col[] = { s->cfg->name, tab->name, v[i].key, cf_type_name(v[i].type), cf_policy_name(tab->policy),
                              v[i].incoming, v[i].existing };
        static const sql_kind_t kind[] = { SQL_TEXT, SQL_TEXT, SQL_JSON, SQL_TEXT, SQL_TEXT, SQL_JSON, SQL_JSON };
        buf_puts(b, i ? ",(" : "(");
        for (size_t k = 0; k < sizeof col / sizeof *col; k++) {
            if (k)
                buf_putc(b, ',');
            text_value(t, col[k], kind[k]);
        }
        buf_putc(b, ')');
    }
    return s->ops->run(t, "logging conflicts", NULL, err, errlen);
}

/* ---- offsets ---- */

typedef struct offsets_ctx {
    sk_offset_t *v;
    size_t n, cap;
} offsets_ctx_t;

static void offset_row(void *ctx, const char *const *v)
{
    offsets_ctx_t *x = ctx;
    if (x->n + 1 >= x->cap) {
        x->cap = x->cap ? 2 * x->cap : 16;
        x->v = xrealloc(x->v, x->cap * sizeof *x->v);
    }
    x->v[x->n++] = (sk_offset_t){ xstrdup(v[0] ? v[0] : ""), (int32_t)atoi(v[1] ? v[1] : "0"),
                                  strtoll(v[2] ? v[2] : "0", NULL, 10) };
    memset(&x->v[x->n], 0, sizeof x->v[x->n]);
}

wc_status_t sql_read_offsets(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                             size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    *offs = NULL;
    *n = 0;
    wc_status_t st = sql_create_own_tables(t, err, errlen);
    if (st)
        return st;
    s->ops->start(t);
    buf_puts(&s->sql, "SELECT topic, ");
    own_ident(s, &s->sql, "partition");
    buf_puts(&s->sql, ", ");
    own_ident(s, &s->sql, "offset");
    buf_puts(&s->sql, " FROM walcast_sink_offsets WHERE sink = ");
    text_value(t, name, SQL_TEXT);
    offsets_ctx_t x = { xcalloc(1, sizeof *x.v), 0, 1 };
    st = s->ops->rows(t, "reading walcast_sink_offsets", offset_row, &x, err, errlen);
    if (st) {
        for (size_t i = 0; i < x.n; i++)
            free(x.v[i].topic);
        free(x.v);
        return st;
    }
    *offs = x.v;
    *n = x.n;
    return WC_OK;
}

/* "<sink> = v AND topic = v AND partition = v" (topic and partition of o when o is not NULL). */
static void offset_match(sk_target_t *t, const char *name, const sk_offset_t *o)
{
    sql_conn_t *s = conn_of(t);
    char num[32];
    buf_puts(&s->sql, "sink = ");
    text_value(t, name, SQL_TEXT);
    if (!o)
        return;
    buf_puts(&s->sql, " AND topic = ");
    text_value(t, o->topic, SQL_TEXT);
    buf_puts(&s->sql, " AND ");
    own_ident(s, &s->sql, "partition");
    buf_puts(&s->sql, " = ");
    snprintf(num, sizeof num, "%d", o->partition);
    text_value(t, num, SQL_INT);
}

wc_status_t sql_store_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                              size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    buf_t *b = &s->sql;
    if (!n)
        return WC_OK;
    s->ops->start(t);
    buf_puts(b, "INSERT INTO walcast_sink_offsets (sink, topic, ");
    own_ident(s, b, "partition");
    buf_puts(b, ", ");
    own_ident(s, b, "offset");
    buf_puts(b, ") VALUES ");
    for (size_t i = 0; i < n; i++) {
        char num[32];
        buf_puts(b, i ? ",(" : "(");
        text_value(t, name, SQL_TEXT);
        buf_putc(b, ',');
        text_value(t, offs[i].topic, SQL_TEXT);
        buf_putc(b, ',');
        snprintf(num, sizeof num, "%d", offs[i].partition);
        text_value(t, num, SQL_INT);
        buf_putc(b, ',');
        snprintf(num, sizeof num, "%" PRId64, offs[i].offset);
        text_value(t, num, SQL_BIGINT);
        buf_putc(b, ')');
    }
    if (s->dialect == SK_DIALECT_MYSQL)
        buf_puts(b, " ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`)");
    else
        buf_puts(b, " ON CONFLICT (sink, topic, \"partition\") DO UPDATE SET \"offset\" = EXCLUDED.\"offset\"");
    return s->ops->run(t, "storing offsets", NULL, err, errlen);
}

wc_status_t sql_delete_offsets(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                               size_t errlen)
{
    sql_conn_t *s = conn_of(t);
    wc_status_t st = WC_OK;
    for (size_t i = 0; i < (n ? n : 1) && st == WC_OK; i++) {
        s->ops->start(t);
        buf_puts(&s->sql, "DELETE FROM walcast_sink_offsets WHERE ");
        offset_match(t, name, n ? &offs[i] : NULL);
        st = s->ops->run(t, "deleting offsets", NULL, err, errlen);
    }
    return st;
}
