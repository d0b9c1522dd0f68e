/* test_sql.c: sinks/sql.c, what the SQL targets share, over a fake target that writes each value as its
 * text and keeps every statement it is asked to run: the CREATE/ALTER of both dialects, the upsert tails
 * (ON CONFLICT / ON DUPLICATE KEY UPDATE, a table of key columns only, insert.mode=insert), statements cut by
 * PostgreSQL's parameter limit and by MySQL's length, deletes, offsets and the conflict log. */
#include "testutil.h"

#include "sinks/sql.h"

#define MAX_STMTS 16

struct sk_target {
    sql_conn_t s;                 /* first, as sql.c wants */
    char *stmts[MAX_STMTS];       /* what ran (run, ddl, truncate, rows), in order */
    size_t nstmts;
    size_t nruns;                 /* every run, also past MAX_STMTS */
    const char *cols[4];          /* what the catalog has for any table (NULL-terminated) */
    const char *const *rows[4];   /* what a query returns */
    long affected;                /* what run says it changed; -2: as many rows as VALUES */
};

static void keep(sk_target_t *t, const char *what)
{
    t->nruns++;
    if (t->nstmts < MAX_STMTS)
        t->stmts[t->nstmts++] = strdup(what);
}

static void fk_start(sk_target_t *t)
{
    buf_reset(&t->s.sql);
}

static int fk_field(sk_target_t *t, const sk_change_t *c, size_t f, char *err, size_t errlen)
{
    dl_kind_t k;
    buf_t v;
    buf_init(&v);
    int rc = sql_value(&v, t->s.dialect, c, f, &k, err, errlen);
    if (rc == 0)
        buf_printf(&t->s.sql, "%s", k == DL_NULL ? "NULL" : buf_cstr(&v));
    buf_free(&v);
    return rc;
}

static void fk_text(sk_target_t *t, const char *v, size_t n, sql_kind_t k)
{
    static const char *const tag[] = { [SQL_TEXT] = "", [SQL_JSON] = ":json", [SQL_INT] = ":int",
                                       [SQL_BIGINT] = ":bigint" };
    if (v)
        buf_printf(&t->s.sql, "'%.*s'%s", (int)n, v, tag[k]);
    else
        buf_puts(&t->s.sql, "NULL");
}

static wc_status_t fk_run(sk_target_t *t, const char *what, long *affected, char *err, size_t errlen)
{
    (void)what, (void)err, (void)errlen;
    keep(t, buf_cstr(&t->s.sql));
    if (affected)
        *affected = t->affected;
    return WC_OK;
}

static wc_status_t fk_ddl(sk_target_t *t, const char *what, char *err, size_t errlen)
{
    (void)what, (void)err, (void)errlen;
    keep(t, buf_cstr(&t->s.sql));
    return WC_OK;
}

static wc_status_t fk_rows(sk_target_t *t, const char *what, sql_row_fn row, void *ctx, char *err, size_t errlen)
{
    (void)what, (void)err, (void)errlen;
    keep(t, buf_cstr(&t->s.sql));
    for (size_t i = 0; i < 4 && t->rows[i]; i++)
        row(ctx, t->rows[i]);
    return WC_OK;
}

static wc_status_t fk_columns(sk_target_t *t, const char *table, sql_table_t *pt, char *err, size_t errlen)
{
    (void)table, (void)err, (void)errlen;
    for (size_t i = 0; i < 4 && t->cols[i]; i++)
        sql_table_add_col(pt, t->cols[i]);
    return WC_OK;
}

static wc_status_t fk_truncate(sk_target_t *t, const sk_table_t *tab, char *err, size_t errlen)
{
    (void)tab, (void)err, (void)errlen;
    keep(t, "TRUNCATE");
    return WC_OK;
}

static const sql_ops_t fk_ops = {
    .start = fk_start, .field = fk_field, .text = fk_text, .run = fk_run, .rows = fk_rows,
    .ddl = fk_ddl, .columns = fk_columns, .upsert = sql_upsert, .truncate = fk_truncate,
};

static sk_config_t fk_cfg = { .name = "s1", .conflict_log = true };

static sk_target_t *fk_new(sk_dialect_t d)
{
    sk_target_t *t = calloc(1, sizeof *t);
    sql_init(&t->s, &fk_ops, &fk_cfg, d);
    t->s.fold_case = d == SK_DIALECT_MYSQL;
    t->affected = -2;
    return t;
}

static void fk_free(sk_target_t *t)
{
    for (size_t i = 0; i < t->nstmts; i++)
        free(t->stmts[i]);
    sql_free(&t->s);
    free(t);
}

/* items (id int64 key, v optional string), or with key only */
typedef struct fixture {
    arena_t *a;
    cs_schema_t *row;
    const char *pk[1];
    sk_table_t tab;
    cv_value_t vals[8][2];
    sk_change_t ch[8];
    const sk_change_t *chp[8];
} fixture_t;

static void fixture_init(fixture_t *f, bool key_only, const char *version_column)
{
    memset(f, 0, sizeof *f);
    f->a = arena_new(4096);
    f->row = cs_new(f->a, CT_STRUCT, false);
    cs_field_add(f->a, f->row, "id", cs_new(f->a, CT_INT64, false));
    if (!key_only)
        cs_field_add(f->a, f->row, "v", cs_new(f->a, CT_STRING, true));
    f->pk[0] = "id";
    f->tab = (sk_table_t){ .name = "items", .row = f->row, .pk = f->pk, .npk = 1, .version_column = version_column };
    for (size_t i = 0; i < 8; i++) {
        f->vals[i][0] = (cv_value_t){ .u.i = (int64_t)i + 1 };
        f->vals[i][1] = (cv_value_t){ .u.s = { "x", 1 } };
        f->ch[i] = (sk_change_t){ .op = SK_OP_UPSERT, .table = &f->tab, .topic = "tp", .src_op = 'c',
                                  .version = { .source = "src", .lsn = 16 + i, .ts_us = 1 } };
        f->ch[i].row.u.list.v = f->vals[i];
        f->ch[i].row.u.list.n = f->row->nfields;
        f->chp[i] = &f->ch[i];
    }
}

static void fixture_free(fixture_t *f)
{
    arena_free(f->a);
}

/* Frees both targets and the fixture (a NULL target is fine). */
static void done(sk_target_t *pg, sk_target_t *my, fixture_t *f)
{
    if (pg)
        fk_free(pg);
    if (my)
        fk_free(my);
    fixture_free(f);
}

static void test_create_and_alter(void **st)
{
    (void)st;
    fixture_t f;
    fixture_init(&f, false, "__walcast_version");
    char err[256] = "";
    sk_target_t *pg = fk_new(SK_DIALECT_POSTGRES), *my = fk_new(SK_DIALECT_MYSQL);
    /* no such table: refused without schema.evolution, created with it (and cached: no second read) */
    assert_int_equal(sql_ensure_table(pg, &f.tab, false, err, sizeof err), WC_PERMANENT);
    assert_non_null(strstr(err, "table items does not exist in the target; create it or set schema.evolution=basic"));
    sql_tables_clear(&pg->s);
    assert_int_equal(sql_ensure_table(pg, &f.tab, true, err, sizeof err), WC_OK);
    assert_int_equal(sql_ensure_table(pg, &f.tab, true, err, sizeof err), WC_OK);
    assert_int_equal(pg->nstmts, 1);
    assert_string_equal(pg->stmts[0], "CREATE TABLE items (id bigint NOT NULL, v text, __walcast_version text "
                                      "COLLATE \"C\", PRIMARY KEY (id))");
    assert_int_equal(sql_ensure_table(my, &f.tab, true, err, sizeof err), WC_OK);
    assert_int_equal(my->nstmts, 1);
    assert_non_null(strstr(my->stmts[0], "CREATE TABLE items (id bigint NOT NULL, v "));
    assert_non_null(strstr(my->stmts[0], " NULL, __walcast_version varbinary(255) NULL, PRIMARY KEY (id)) "
                                         "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"));
    fk_free(pg);
    fk_free(my);
    /* a table that lacks a column: ALTER (MySQL: names compare without case, NULL said) */
    pg = fk_new(SK_DIALECT_POSTGRES);
    my = fk_new(SK_DIALECT_MYSQL);
    pg->cols[0] = my->cols[0] = "ID";
    pg->cols[1] = my->cols[1] = "v";
    assert_int_equal(sql_ensure_table(pg, &f.tab, false, err, sizeof err), WC_PERMANENT);
    assert_non_null(strstr(err, "table items has no column id; add it or set schema.evolution=basic"));
    sql_tables_clear(&pg->s);
    assert_int_equal(sql_ensure_table(pg, &f.tab, true, err, sizeof err), WC_OK);
    assert_int_equal(pg->nstmts, 2);
    assert_string_equal(pg->stmts[0], "ALTER TABLE items ADD COLUMN id bigint");
    assert_string_equal(pg->stmts[1], "ALTER TABLE items ADD COLUMN __walcast_version text COLLATE \"C\"");
    assert_int_equal(sql_ensure_table(my, &f.tab, true, err, sizeof err), WC_OK);
    assert_int_equal(my->nstmts, 1);
    assert_string_equal(my->stmts[0], "ALTER TABLE items ADD COLUMN __walcast_version varbinary(255) NULL");
    done(pg, my, &f);
}

static void test_upserts(void **st)
{
    (void)st;
    fixture_t f;
    char err[256] = "";
    sk_conflict_count_t cc = { 0 };
    fixture_init(&f, false, NULL);
    sk_target_t *pg = fk_new(SK_DIALECT_POSTGRES), *my = fk_new(SK_DIALECT_MYSQL);
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPSERT, f.chp, 2, &cc, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[0], "INSERT INTO items (id, v) VALUES (1,x),(2,x) ON CONFLICT (id) DO UPDATE SET "
                                      "v = EXCLUDED.v");
    assert_int_equal(sql_apply(my, &f.tab, SK_INSERT_UPSERT, f.chp, 2, &cc, err, sizeof err), WC_OK);
    assert_string_equal(my->stmts[0], "INSERT INTO items (id, v) VALUES (1,x),(2,x) ON DUPLICATE KEY UPDATE "
                                      "v = VALUES(v)");
    /* insert.mode=insert: no tail */
    assert_int_equal(sql_apply(my, &f.tab, SK_INSERT_INSERT, f.chp, 1, &cc, err, sizeof err), WC_OK);
    assert_string_equal(my->stmts[1], "INSERT INTO items (id, v) VALUES (1,x)");
    /* insert.mode=update: one UPDATE a row, a row not there counted */
    pg->affected = 0;
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPDATE, f.chp, 1, &cc, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[1], "UPDATE items SET v = x WHERE id = 1");
    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_MISSING], 1);
    fk_free(pg);
    fk_free(my);
    fixture_free(&f);
    /* a table of key columns only, with the version column written beside the row */
    fixture_init(&f, true, "__walcast_version");
    pg = fk_new(SK_DIALECT_POSTGRES);
    my = fk_new(SK_DIALECT_MYSQL);
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPSERT, f.chp, 1, &cc, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[0], "INSERT INTO items (id, __walcast_version) VALUES (1,'v0003:src:s:0000000000000010:"
                                      "8000000000000001') ON CONFLICT (id) DO UPDATE SET __walcast_version = "
                                      "EXCLUDED.__walcast_version");
    fixture_free(&f);
    fixture_init(&f, true, NULL);
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPSERT, f.chp, 1, &cc, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[1], "INSERT INTO items (id) VALUES (1) ON CONFLICT (id) DO NOTHING");
    assert_int_equal(sql_apply(my, &f.tab, SK_INSERT_UPSERT, f.chp, 1, &cc, err, sizeof err), WC_OK);
    assert_string_equal(my->stmts[0], "INSERT INTO items (id) VALUES (1) ON DUPLICATE KEY UPDATE id = id");
    /* PostgreSQL counts the rows DO NOTHING left (count_upserts); MySQL's affected rows do not tell */
    pg->s.count_upserts = true;
    pg->affected = 1;
    memset(&cc, 0, sizeof cc);
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPSERT, f.chp, 3, &cc, err, sizeof err), WC_OK);
    assert_int_equal(cc.n[SK_CONFLICT_INSERT_EXISTS], 2);
    done(pg, my, &f);
}

static void test_statement_limits(void **st)
{
    (void)st;
    fixture_t f;
    char err[256] = "";
    fixture_init(&f, false, NULL);
    /* 2500 deletes: PostgreSQL's statements stop at 1000 rows (max_params), MySQL's at its length */
    const sk_change_t **many = malloc(2500 * sizeof *many);
    for (size_t i = 0; i < 2500; i++)
        many[i] = &f.ch[i % 8];
    sk_target_t *pg = fk_new(SK_DIALECT_POSTGRES), *my = fk_new(SK_DIALECT_MYSQL);
    pg->s.max_params = 65535;
    my->s.max_bytes = 4000;
    pg->affected = my->affected = 0;
    sk_conflict_count_t cc = { 0 };
    for (size_t i = 0; i < 8; i++)
        f.ch[i].op = SK_OP_DELETE;
    assert_int_equal(sql_apply(pg, &f.tab, SK_INSERT_UPSERT, many, 2500, &cc, err, sizeof err), WC_OK);
    assert_int_equal(pg->nruns, 3);
    assert_int_equal(strncmp(pg->stmts[0], "DELETE FROM items WHERE (id) IN ((1),(2),", 41), 0);
    assert_int_equal(cc.n[SK_CONFLICT_DELETE_MISSING], 2500);   /* nothing was there */
    assert_int_equal(sql_apply(my, &f.tab, SK_INSERT_UPSERT, many, 2500, &cc, err, sizeof err), WC_OK);
    assert_in_range(my->nruns, 3, 2500 / 600);   /* ~4 bytes a row: a statement stops past 4000 bytes */
    for (size_t i = 0; i < my->nstmts; i++)
        assert_in_range(strlen(my->stmts[i]), 1, 4000 + 8);
    free(many);
    done(pg, my, &f);
}

static void test_own_tables(void **st)
{
    (void)st;
    char err[256] = "";
    sk_target_t *pg = fk_new(SK_DIALECT_POSTGRES), *my = fk_new(SK_DIALECT_MYSQL);
    sk_offset_t offs[2] = { { "a", 0, 5 }, { "b", 3, 7 } };
    assert_int_equal(sql_store_offsets(pg, "s1", offs, 2, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[0], "INSERT INTO walcast_sink_offsets (sink, topic, \"partition\", \"offset\") VALUES "
                                      "('s1','a','0':int,'5':bigint),('s1','b','3':int,'7':bigint) ON CONFLICT (sink, "
                                      "topic, \"partition\") DO UPDATE SET \"offset\" = EXCLUDED.\"offset\"");
    assert_int_equal(sql_store_offsets(my, "s1", offs, 1, err, sizeof err), WC_OK);
    assert_string_equal(my->stmts[0], "INSERT INTO walcast_sink_offsets (sink, topic, `partition`, `offset`) VALUES "
                                      "('s1','a','0':int,'5':bigint) ON DUPLICATE KEY UPDATE `offset` = VALUES(`offset`)");
    /* every position of the sink, or the ones given */
    assert_int_equal(sql_delete_offsets(my, "s1", NULL, 0, err, sizeof err), WC_OK);
    assert_string_equal(my->stmts[1], "DELETE FROM walcast_sink_offsets WHERE sink = 's1'");
    assert_int_equal(sql_delete_offsets(pg, "s1", offs, 2, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[2], "DELETE FROM walcast_sink_offsets WHERE sink = 's1' AND topic = 'b' AND "
                                      "\"partition\" = '3':int");
    /* read back: the tables created first (conflict log asked), then the rows */
    static const char *const r0[] = { "a", "0", "5" }, *const r1[] = { "b", "3", "7" };
    my->rows[0] = r0;
    my->rows[1] = r1;
    sk_offset_t *got = NULL;
    size_t n = 0;
    assert_int_equal(sql_read_offsets(my, "s1", &got, &n, err, sizeof err), WC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(got[1].topic, "b");
    assert_int_equal(got[1].partition, 3);
    assert_int_equal(got[1].offset, 7);
    assert_null(got[2].topic);
    assert_non_null(strstr(my->stmts[2], "CREATE TABLE IF NOT EXISTS walcast_sink_offsets"));
    assert_non_null(strstr(my->stmts[3], "CREATE TABLE IF NOT EXISTS walcast_conflicts"));
    assert_string_equal(my->stmts[4], "SELECT topic, `partition`, `offset` FROM walcast_sink_offsets WHERE sink = 's1'");
    for (size_t i = 0; i < n; i++)
        free(got[i].topic);
    free(got);
    fk_free(pg);
    fk_free(my);
}

static void test_conflict_log(void **st)
{
    (void)st;
    fixture_t f;
    char err[256] = "";
    fixture_init(&f, false, "__walcast_version");
    f.tab.policy = SK_POLICY_NEWER_WINS;
    sk_target_t *pg = fk_new(SK_DIALECT_POSTGRES);
    sk_conflict_rec_t v = { SK_CONFLICT_UPDATE_MISSING, "{\"id\":1}", NULL, NULL, &f.ch[0], 0 };
    assert_int_equal(sql_log_conflicts(pg, &f.tab, &v, 1, err, sizeof err), WC_OK);
    assert_string_equal(pg->stmts[0], "INSERT INTO walcast_conflicts (sink, table_name, \"key\", type, policy, incoming, "
                                      "existing) VALUES ('s1','items','{\"id\":1}':json,'update_missing','newer_wins',"
                                      "NULL,NULL)");
    /* what fetch_existing read: by the change's index, found, version and row kept */
    static const char *const r0[] = { "1", "v1", "{}" }, *const r1[] = { "9", NULL, NULL };
    pg->rows[0] = r0;
    pg->rows[1] = r1;   /* an index past the changes: ignored */
    sk_existing_t ex[2] = { 0 };
    assert_int_equal(sql_existing_read(pg, ex, 2, err, sizeof err), WC_OK);
    assert_false(ex[0].found);
    assert_true(ex[1].found);
    assert_string_equal(ex[1].ver, "v1");
    assert_string_equal(ex[1].row, "{}");
    free(ex[1].ver);
    free(ex[1].row);
    done(pg, NULL, &f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_alter),
        cmocka_unit_test(test_upserts),
        cmocka_unit_test(test_statement_limits),
        cmocka_unit_test(test_own_tables),
        cmocka_unit_test(test_conflict_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
