/* test_mongo.c: the MongoDB target's pure parts (_id and documents as Debezium's MongoDB sink builds
 * them, batch reduction, version order); with WALCAST_TEST_MONGODB_URI set, sk_mongo_ops end to end. */
#include "tests/unit/testutil.h"

#include <stdbool.h>

#include "sinks/mongo.h"

#include <mongoc/mongoc.h>

/* A table t(id int32 key, name string, price Decimal(scale 2), tags array<string>, at Timestamp). */
typedef struct {
    arena_t *a;
    cs_schema_t *row;
    sk_table_t tab;
} fixture_t;

static const char *const pk_id[] = { "id" };
static const char *const pk_two[] = { "b", "a" };

static fixture_t *fx_new(void)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->a = arena_new(4096);
    f->row = cs_new(f->a, CT_STRUCT, false);
    cs_field_add(f->a, f->row, "id", cs_new(f->a, CT_INT32, false));
    cs_field_add(f->a, f->row, "name", cs_new(f->a, CT_STRING, true));
    cs_schema_t *dec = cs_new(f->a, CT_BYTES, true);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    cs_param_add(dec, "scale", "2");
    cs_field_add(f->a, f->row, "price", dec);
    cs_schema_t *arr = cs_new(f->a, CT_ARRAY, true);
    arr->items = cs_new(f->a, CT_STRING, false);
    cs_field_add(f->a, f->row, "tags", arr);
    cs_schema_t *ts = cs_new(f->a, CT_INT64, true);
    ts->name = "org.apache.kafka.connect.data.Timestamp";
    cs_field_add(f->a, f->row, "at", ts);
    f->tab.name = "srv_public_t";
    f->tab.row = f->row;
    f->tab.pk = pk_id;
    f->tab.npk = 1;
    f->tab.policy = SK_POLICY_SOURCE_WINS;
    return f;
}

static void fx_free(fixture_t *f)
{
    arena_free(f->a);
    free(f);
}

static cv_value_t fx_row(fixture_t *f, int id, const char *name)
{
    cv_value_t r = cv_list(f->a, 5);
    r.u.list.v[0] = cv_int(id);
    r.u.list.v[1] = name ? cv_str(name, strlen(name)) : cv_null();
    static const unsigned char price[] = { 0xff, 0x85 };   /* -123 unscaled: -1.23 */
    r.u.list.v[2] = cv_str((const char *)price, sizeof price);
    cv_value_t tags = cv_list(f->a, 2);
    tags.u.list.v[0] = cv_str("a", 1);
    tags.u.list.v[1] = cv_str("b", 1);
    r.u.list.v[3] = tags;
    r.u.list.v[4] = cv_int(1700000000123);
    return r;
}

static char *json_of(const bson_t *b)
{
    size_t n;
    return bson_as_relaxed_extended_json(b, &n);
}

static void test_id_and_doc(void **s)
{
    (void)s;
    fixture_t *f = fx_new();
    cv_value_t r = fx_row(f, 7, "seven");
    char err[256] = "";
    bson_t id = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    assert_int_equal(mongo_id_build(&f->tab, &r, NULL, 0, &id, err, sizeof err), 0);
    char *j = json_of(&id);
    assert_string_equal(j, "{ \"id\" : 7 }");
    bson_free(j);
    assert_int_equal(mongo_doc_build(&f->tab, &r, NULL, 0, &id, MONGO_VERSION_FIELD, "v1", &doc, err, sizeof err), 0);
    j = json_of(&doc);
    /* key columns live only in _id (as Debezium's sink); Decimal -> Decimal128, Timestamp -> date */
    assert_string_equal(j, "{ \"_id\" : { \"id\" : 7 }, \"name\" : \"seven\", \"price\" : { \"$numberDecimal\" : "
                           "\"-1.23\" }, \"tags\" : [ \"a\", \"b\" ], \"at\" : { \"$date\" : "
                           "\"2023-11-14T22:13:20.123Z\" }, \"__walcast_version\" : \"v1\" }");
    bson_free(j);
    bson_destroy(&id);
    bson_destroy(&doc);

    /* a composite key in key order, a column not present in a delete's row is left out */
    f->tab.pk = pk_two;
    f->tab.npk = 2;
    cs_schema_t *two = cs_new(f->a, CT_STRUCT, false);
    cs_field_add(f->a, two, "a", cs_new(f->a, CT_INT64, false));
    cs_field_add(f->a, two, "b", cs_new(f->a, CT_STRING, false));
    f->tab.row = two;
    cv_value_t r2 = cv_list(f->a, 2);
    r2.u.list.v[0] = cv_int(1);
    r2.u.list.v[1] = cv_str("x", 1);
    bson_init(&id);
    assert_int_equal(mongo_id_build(&f->tab, &r2, NULL, 0, &id, err, sizeof err), 0);
    j = json_of(&id);
    assert_string_equal(j, "{ \"b\" : \"x\", \"a\" : 1 }");
    bson_free(j);
    bson_destroy(&id);
    bool has[2] = { true, false };
    bson_init(&id);
    assert_int_equal(mongo_id_build(&f->tab, &r2, has, 0, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "key column \"b\" is missing"));
    bson_destroy(&id);
    /* no key columns: refused with a message that says what to do */
    f->tab.npk = 0;
    bson_init(&id);
    assert_int_equal(mongo_id_build(&f->tab, &r2, NULL, 0, &id, err, sizeof err), -1);
    assert_non_null(strstr(err, "primary key"));
    bson_destroy(&id);
    fx_free(f);
}

static void test_values(void **s)
{
    (void)s;
    arena_t *a = arena_new(1024);
    char err[256] = "";
    bson_t b = BSON_INITIALIZER;
    cs_schema_t *dec = cs_new(a, CT_BYTES, false);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    cs_param_add(dec, "scale", "0");
    static const unsigned char big[] = { 0x01, 0x00 };   /* 256 */
    cv_value_t v = cv_str((const char *)big, 2);
    assert_int_equal(mongo_value_append(&b, "d", dec, &v, 0, err, sizeof err), 0);
    cs_schema_t *date = cs_new(a, CT_INT32, false);
    date->name = "org.apache.kafka.connect.data.Date";
    v = cv_int(1);
    assert_int_equal(mongo_value_append(&b, "day", date, &v, 0, err, sizeof err), 0);
    cs_schema_t *sem = cs_new(a, CT_INT64, false);
    sem->name = "io.debezium.time.MicroTimestamp";   /* Debezium semantic types stay integers */
    v = cv_int(5);
    assert_int_equal(mongo_value_append(&b, "us", sem, &v, 0, err, sizeof err), 0);
    cs_schema_t *map = cs_new(a, CT_MAP, false);
    map->keys = cs_new(a, CT_STRING, false);
    map->items = cs_new(a, CT_INT32, true);
    v = cv_list(a, 4);
    v.u.list.v[0] = cv_str("k1", 2);
    v.u.list.v[1] = cv_int(1);
    v.u.list.v[2] = cv_str("k2", 2);
    v.u.list.v[3] = cv_null();
    assert_int_equal(mongo_value_append(&b, "m", map, &v, 0, err, sizeof err), 0);
    assert_int_equal(mongo_value_append(&b, "ds", dec, &(cv_value_t){ .u.s = { (const char *)big, 2 } },
                                        MONGO_DECIMAL_AS_STRING, err, sizeof err), 0);
    char *j = json_of(&b);
    assert_string_equal(j, "{ \"d\" : { \"$numberDecimal\" : \"256\" }, \"day\" : { \"$date\" : "
                           "\"1970-01-02T00:00:00Z\" }, \"us\" : 5, \"m\" : { \"k1\" : 1, \"k2\" : null }, \"ds\" : \"256\" }");
    bson_free(j);
    /* a map with non-string keys has no BSON form: an error naming the field */
    map->keys = cs_new(a, CT_INT32, false);
    assert_int_equal(mongo_value_append(&b, "m2", map, &v, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"m2\""));
    bson_destroy(&b);
    arena_free(a);
}

static void test_reduce(void **s)
{
    (void)s;
    int keys[] = { 1, 2, 1, 3, 2, 1, 4 };
    size_t n = sizeof keys / sizeof keys[0], keep[8];
    bson_t ids[8];
    for (size_t i = 0; i < n; i++) {
        bson_init(&ids[i]);
        BSON_APPEND_INT32(&ids[i], "id", keys[i]);
    }
    size_t m = mongo_reduce(ids, n, keep);
    /* the last change of each key, in log order */
    assert_int_equal(m, 4);
    assert_int_equal(keep[0], 3);
    assert_int_equal(keep[1], 4);
    assert_int_equal(keep[2], 5);
    assert_int_equal(keep[3], 6);
    assert_int_equal(mongo_reduce(ids, 0, keep), 0);
    for (size_t i = 0; i < n; i++)
        bson_destroy(&ids[i]);
    /* many keys (the table grows past its first size), each twice */
    enum { N = 5000 };
    bson_t *many = calloc(2 * N, sizeof *many);
    size_t *k2 = calloc(2 * N, sizeof *k2);
    for (size_t i = 0; i < 2 * N; i++) {
        bson_init(&many[i]);
        BSON_APPEND_INT64(&many[i], "id", (int64_t)(i % N));
    }
    assert_int_equal(mongo_reduce(many, 2 * N, k2), N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(k2[i], N + i);
    for (size_t i = 0; i < 2 * N; i++)
        bson_destroy(&many[i]);
    free(many);
    free(k2);
}

static void test_version(void **s)
{
    (void)s;
    sk_version_t a = { .ts_us = 1700000000000000, .lsn = 0x10, .source = "srv" };
    sk_version_t b = a, c = a, d = a;
    b.lsn = 0x11;
    c.ts_us += 1;
    c.lsn = 1;
    d.source = "srw";
    char ta[128], tb[128], tc[128], td[128];
    mongo_version_text(&a, ta, sizeof ta);
    mongo_version_text(&b, tb, sizeof tb);
    mongo_version_text(&c, tc, sizeof tc);
    mongo_version_text(&d, td, sizeof td);
    assert_string_equal(ta, "80060a24181e40000000000000000010srv");
    sk_version_t old = { .ts_us = -1, .lsn = 0, .source = "" };   /* before 1970 sorts first */
    char tn[128];
    mongo_version_text(&old, tn, sizeof tn);
    assert_true(mongo_version_cmp(&old, &a) < 0 && strcmp(tn, ta) < 0);
    assert_true(mongo_version_cmp(&a, &b) < 0 && strcmp(ta, tb) < 0);
    assert_true(mongo_version_cmp(&b, &c) < 0 && strcmp(tb, tc) < 0);   /* time first, then LSN */
    assert_true(mongo_version_cmp(&a, &d) < 0 && strcmp(ta, td) < 0);
    assert_int_equal(mongo_version_cmp(&a, &a), 0);
    assert_true(mongo_version_cmp(&c, &a) > 0);
    char small[8];
    assert_int_equal(mongo_version_text(&a, small, sizeof small), 7);
}

static void test_classify(void **s)
{
    (void)s;
    bson_error_t e = { .domain = MONGOC_ERROR_STREAM, .code = MONGOC_ERROR_STREAM_SOCKET };
    assert_int_equal(mongo_classify(&e), WC_RETRY);
    e = (bson_error_t){ .domain = MONGOC_ERROR_SERVER_SELECTION, .code = MONGOC_ERROR_SERVER_SELECTION_FAILURE };
    assert_int_equal(mongo_classify(&e), WC_RETRY);
    e = (bson_error_t){ .domain = MONGOC_ERROR_CLIENT, .code = MONGOC_ERROR_CLIENT_AUTHENTICATE };
    assert_int_equal(mongo_classify(&e), WC_FATAL);
    e = (bson_error_t){ .domain = MONGOC_ERROR_SERVER, .code = 91 };
    assert_int_equal(mongo_classify(&e), WC_RETRY);
    e = (bson_error_t){ .domain = MONGOC_ERROR_SERVER, .code = 2 };
    assert_int_equal(mongo_classify(&e), WC_PERMANENT);
}

/* ---- against a server: WALCAST_TEST_MONGODB_URI (tests/integration/test_sink_mongo_target.sh sets it) ---- */

static sk_change_t mk(fixture_t *f, sk_op_t op, int id, const char *name, int64_t ts, uint64_t lsn, int64_t off)
{
    sk_change_t c = { .op = op, .table = &f->tab, .row = fx_row(f, id, name), .topic = "srv.public.t",
                      .partition = 0, .offset = off };
    c.version.ts_us = ts;
    c.version.lsn = lsn;
    c.version.source = "srv";
    return c;
}

static char *find_name(mongoc_client_t *cl, const char *db, int id)
{
    mongoc_collection_t *c = mongoc_client_get_collection(cl, db, "srv_public_t");
    bson_t q = BSON_INITIALIZER, sub;
    bson_append_document_begin(&q, "_id", 3, &sub);
    BSON_APPEND_INT32(&sub, "id", id);
    bson_append_document_end(&q, &sub);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &q, NULL, NULL);
    const bson_t *d;
    char *name = NULL;
    if (mongoc_cursor_next(cur, &d)) {
        bson_iter_t it;
        name = strdup(bson_iter_init_find(&it, d, "name") && BSON_ITER_HOLDS_UTF8(&it) ? bson_iter_utf8(&it, NULL) : "?");
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&q);
    mongoc_collection_destroy(c);
    return name ? name : strdup("(absent)");
}

static void apply_all(sk_target_t *t, fixture_t *f, sk_change_t *chs, size_t n, sk_conflict_count_t *cc)
{
    const sk_change_t **p = calloc(n, sizeof *p);
    char err[512] = "";
    for (size_t i = 0; i < n; i++)
        p[i] = &chs[i];
    wc_status_t st = sk_mongo_ops.apply(t, &f->tab, SK_INSERT_UPSERT, p, n, cc, err, sizeof err);
    if (st != WC_OK)
        fail_msg("apply: %d %s", st, err);
    free(p);
}

static void test_live(void **s)
{
    (void)s;
    const char *uri = getenv("WALCAST_TEST_MONGODB_URI");
    if (!uri || !*uri)
        skip();
    char db[64];
    snprintf(db, sizeof db, "walcast_unit_%d", (int)getpid());
    sk_config_t cfg = { .name = "mongo-unit" };
    cfg.mongo_uri = (char *)uri;
    cfg.mongo_database = db;
    sk_target_t *t = NULL;
    char err[512] = "";
    assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_OK);
    fixture_t *f = fx_new();
    f->tab.policy = SK_POLICY_NEWER_WINS;
    sk_offset_t *offs = NULL;
    size_t noffs = 9;
    assert_int_equal(sk_mongo_ops.read_offsets(t, cfg.name, &offs, &noffs, err, sizeof err), WC_OK);
    assert_int_equal(noffs, 0);

    /* 100 upserts (more than one write command on FerretDB) with key 5 three times: one write per key */
    enum { N = 100 };
    sk_change_t *chs = calloc(N + 2, sizeof *chs);
    for (int i = 0; i < N; i++)
        chs[i] = mk(f, SK_OP_UPSERT, i, "v1", 1000, 100 + (uint64_t)i, i);
    chs[N] = mk(f, SK_OP_UPSERT, 5, "five-a", 1000, 5000, N);
    chs[N + 1] = mk(f, SK_OP_UPSERT, 5, "five-b", 1000, 5001, N + 1);
    sk_conflict_count_t cc = { { 0 } };
    assert_int_equal(sk_mongo_ops.begin(t, err, sizeof err), WC_OK);
    apply_all(t, f, chs, N + 2, &cc);
    sk_offset_t o = { .topic = "srv.public.t", .partition = 0, .offset = N + 2 };
    assert_int_equal(sk_mongo_ops.store_offsets(t, cfg.name, &o, 1, err, sizeof err), WC_OK);
    assert_int_equal(sk_mongo_ops.commit(t, err, sizeof err), WC_OK);
    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS], 0);
    mongoc_client_t *cl = mongoc_client_new(uri);
    char *nm = find_name(cl, db, 5);
    assert_string_equal(nm, "five-b");
    free(nm);

    /* the same batch replayed (a crash before the offsets): nothing changes, no conflicts counted
     * under newer_wins for equal versions */
    apply_all(t, f, chs, N + 2, &cc);
    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS], 0);
    nm = find_name(cl, db, 5);
    assert_string_equal(nm, "five-b");
    free(nm);

    /* stale upserts (older versions) are skipped and counted, in the middle of a batch: the ones after
     * them are still applied (FerretDB stops a command at the first write error) */
    sk_change_t mix[4];
    mix[0] = mk(f, SK_OP_UPSERT, 1, "stale", 999, 1, 0);
    mix[1] = mk(f, SK_OP_UPSERT, 2, "two-new", 2000, 1, 0);
    mix[2] = mk(f, SK_OP_UPSERT, 3, "stale", 1000, 102, 0);   /* same ts, lower LSN than stored 103 */
    mix[3] = mk(f, SK_OP_UPSERT, 4, "four-new", 2000, 2, 0);
    apply_all(t, f, mix, 4, &cc);
    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS], 2);
    const char *want[] = { "v1", "two-new", "v1", "four-new" };
    for (int i = 0; i < 4; i++) {
        nm = find_name(cl, db, i + 1);
        assert_string_equal(nm, want[i]);
        free(nm);
    }

    /* deletes: a newer one deletes, an older one than the stored version does not */
    sk_change_t del[3];
    del[0] = mk(f, SK_OP_DELETE, 6, NULL, 3000, 1, 0);
    del[1] = mk(f, SK_OP_DELETE, 2, NULL, 1500, 1, 0);   /* stored two-new is at 2000 */
    del[2] = mk(f, SK_OP_DELETE, 100000, NULL, 3000, 1, 0);   /* never there */
    apply_all(t, f, del, 3, &cc);
    nm = find_name(cl, db, 6);
    assert_string_equal(nm, "(absent)");
    free(nm);
    nm = find_name(cl, db, 2);
    assert_string_equal(nm, "two-new");
    free(nm);
    assert_int_equal(cc.n[SK_CONFLICT_DELETE_ORIGIN_DIFFERS], 1);
    assert_int_equal(cc.n[SK_CONFLICT_DELETE_MISSING], 1);

    /* an upsert older than... nothing: a deleted document comes back with a newer version */
    sk_change_t back = mk(f, SK_OP_UPSERT, 6, "six-again", 4000, 1, 0);
    apply_all(t, f, &back, 1, &cc);
    nm = find_name(cl, db, 6);
    assert_string_equal(nm, "six-again");
    free(nm);

    /* offsets read back; stored again (upsert of the same position) */
    assert_int_equal(sk_mongo_ops.read_offsets(t, cfg.name, &offs, &noffs, err, sizeof err), WC_OK);
    assert_int_equal(noffs, 1);
    assert_string_equal(offs[0].topic, "srv.public.t");
    assert_int_equal(offs[0].partition, 0);
    assert_int_equal(offs[0].offset, N + 2);
    free(offs[0].topic);
    free(offs);
    o.offset = N + 10;
    assert_int_equal(sk_mongo_ops.store_offsets(t, cfg.name, &o, 1, err, sizeof err), WC_OK);
    assert_int_equal(sk_mongo_ops.read_offsets(t, cfg.name, &offs, &noffs, err, sizeof err), WC_OK);
    assert_int_equal(noffs, 1);
    assert_int_equal(offs[0].offset, N + 10);
    free(offs[0].topic);
    free(offs);

    /* truncate empties the collection */
    sk_change_t tr = { .op = SK_OP_TRUNCATE, .table = &f->tab };
    apply_all(t, f, &tr, 1, &cc);
    nm = find_name(cl, db, 4);
    assert_string_equal(nm, "(absent)");
    free(nm);

    bson_error_t e;
    mongoc_database_t *d = mongoc_client_get_database(cl, db);
    mongoc_database_drop(d, &e);
    mongoc_database_destroy(d);
    mongoc_client_destroy(cl);
    fx_free(f);
    free(chs);
    sk_mongo_ops.close(t);

    /* a server that is not there: WC_RETRY, and the error does not show the URI's password */
    cfg.mongo_uri = "mongodb://walcast:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=200";
    assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_RETRY);
    assert_null(strstr(err, "s3cret"));
    cfg.mongo_database = NULL;
    assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_FATAL);
    assert_non_null(strstr(err, "sink.database"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_and_doc),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_reduce),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
