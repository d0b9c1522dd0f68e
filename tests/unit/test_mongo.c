/* test_mongo.c: the MongoDB target's pure parts (_id and documents as Debezium's MongoDB sink builds
 * them, batch reduction, version order); with WALCAST_TEST_MONGODB_URI set, sk_mongo_ops end to end. */
#include "tests/unit/testutil.h"

#include <inttypes.h>
#include <stdbool.h>

#include "sinks/conflict.h"
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
    assert_string_equal(ta, "v0003:srv:s:0000000000000010:80060a24181e4000");
    sk_version_t old = { .ts_us = -1, .lsn = 0, .source = "" };   /* before 1970 sorts first */
    char tn[128];
    mongo_version_text(&old, tn, sizeof tn);
    assert_true(mongo_version_cmp(&old, &a) < 0);
    assert_true(mongo_version_cmp(&a, &b) < 0 && strcmp(ta, tb) < 0);
    /* one source: its commit order (LSN), not its clock (issue 17) */
    assert_true(mongo_version_cmp(&c, &b) < 0 && strcmp(tc, tb) < 0);
    assert_true(mongo_version_cmp(&a, &d) < 0);   /* two sources: time, LSN, then source id */
    assert_int_equal(mongo_version_cmp(&a, &a), 0);
    assert_true(mongo_version_cmp(&c, &a) < 0);
    char small[8];
    assert_int_equal(mongo_version_text(&a, small, sizeof small), 7);
}

/* cf_decide as MongoDB uses it (a document without a version is someone else's): every conflict type under
 * every policy, replays, foreign documents (no version, another source id). Versions: the change is at ts
 * 500 from srcA. */
static void test_decide(void **s)
{
    (void)s;
    sk_version_t vA = { .ts_us = 500, .lsn = 10, .source = "srcA" };
    char same[128], same_old[128], same_new[128], other_old[128], other_new[128];
    sk_version_t v = vA;
    mongo_version_text(&v, same, sizeof same);
    v.ts_us = 100;
    mongo_version_text(&v, same_old, sizeof same_old);
    v.ts_us = 900;
    mongo_version_text(&v, same_new, sizeof same_new);
    v.source = "srcB";
    mongo_version_text(&v, other_new, sizeof other_new);
    v.ts_us = 100;
    mongo_version_text(&v, other_old, sizeof other_old);
    enum { N_ = -1, IE = SK_CONFLICT_INSERT_EXISTS, UOD = SK_CONFLICT_UPDATE_ORIGIN_DIFFERS,
           UE = SK_CONFLICT_UPDATE_EXISTS, UM = SK_CONFLICT_UPDATE_MISSING, DOD = SK_CONFLICT_DELETE_ORIGIN_DIFFERS,
           DM = SK_CONFLICT_DELETE_MISSING };
    struct {
        char op;               /* c, u, k (upsert half of a key change), d */
        bool exists;
        const char *stored;    /* NULL: no version */
        int type;
        bool sw, nw, tw;       /* applied under source_wins, newer_wins, target_wins */
    } cases[] = {
        { 'c', false, NULL, N_, true, true, true },
        { 'c', true, NULL, IE, true, true, false },            /* someone else's document */
        { 'c', true, other_old, IE, true, true, false },
        { 'c', true, other_new, IE, true, false, false },
        { 'c', true, same_old, IE, true, true, true },          /* ours, older: the same source may overwrite */
        { 'c', true, same, N_, false, false, false },           /* a replay of this very change */
        { 'c', true, same_new, N_, false, false, false },       /* a replay of an older change */
        { 'u', false, NULL, UM, true, true, true },
        { 'u', true, same_old, N_, true, true, true },          /* the normal follow-up update */
        { 'u', true, NULL, UOD, true, true, false },
        { 'u', true, other_old, UOD, true, true, false },
        { 'u', true, other_new, UOD, true, false, false },
        { 'u', true, same, N_, false, false, false },
        { 'k', false, NULL, N_, true, true, true },
        { 'k', true, NULL, UE, true, true, false },
        { 'k', true, other_new, UE, true, false, false },
        { 'k', true, same_old, UE, true, true, true },
        { 'k', true, same, N_, false, false, false },
        { 'd', false, NULL, DM, false, false, false },
        { 'd', true, same_old, N_, true, true, true },
        { 'd', true, NULL, DOD, true, true, false },
        { 'd', true, other_old, DOD, true, true, false },
        { 'd', true, other_new, DOD, true, false, false },
        { 'd', true, same_new, N_, false, false, false },
        { 'r', true, same_old, N_, true, true, true },          /* a snapshot row read again: no conflict */
        { 'r', true, other_old, IE, true, true, false },
        { 'r', true, NULL, IE, true, true, false },
        { 'D', false, NULL, N_, false, false, false },          /* an insert then a delete in one batch */
        { 'D', true, NULL, IE, true, true, false },
        { 'U', false, NULL, UM, true, true, true },             /* a delete then a re-insert: expected the row */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* 'D': a delete whose key's first change was an insert; 'U': an upsert whose first was a delete */
        char op = cases[i].op;
        sk_change_t c = { .op = op == 'd' || op == 'D' ? SK_OP_DELETE : SK_OP_UPSERT, .version = vA,
                          .src_op = op == 'k' ? 'u' : op == 'D' ? 'c' : op == 'U' ? 'd' : op,
                          .key_changed = op == 'k' };
        const sk_policy_t pol[] = { SK_POLICY_SOURCE_WINS, SK_POLICY_NEWER_WINS, SK_POLICY_TARGET_WINS,
                                    SK_POLICY_ERROR };
        const bool want[] = { cases[i].sw, cases[i].nw, cases[i].tw };
        for (int p = 0; p < 4; p++) {
            sk_table_t tab = { .name = "t", .policy = pol[p], .version_column = MONGO_VERSION_FIELD };
            cf_decision_t d = cf_decide(&tab, &c, cases[i].exists, cases[i].stored, sk_mongo_ops.unversioned_foreign);
            if (d.type != cases[i].type || (p < 3 && d.apply != want[p]) || d.fail != (p == 3 && d.type >= 0))
                fail_msg("case %zu (%c exists=%d stored=%s) policy %d: type %d apply %d fail %d", i, cases[i].op,
                         cases[i].exists, cases[i].stored ? cases[i].stored : "-", p, d.type, d.apply, d.fail);
        }
    }
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
    c.src_op = op == SK_OP_DELETE ? 'd' : 'u';
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

/* The settings of the live test running (cf_apply reads conflict.log.enabled from them). */
static const sk_config_t *live_cfg;

/* As apply.c applies a group of changes: through the one conflict engine (conflict.c cf_apply). */
static wc_status_t live_apply(sk_target_t *t, fixture_t *f, const sk_change_t *const *ch, size_t n,
                              sk_conflict_count_t *cc, char *err, size_t errlen)
{
    return cf_apply(&sk_mongo_ops, t, live_cfg, &f->tab, SK_INSERT_UPSERT, ch, n, cc, err, errlen);
}

static void apply_all(sk_target_t *t, fixture_t *f, sk_change_t *chs, size_t n, sk_conflict_count_t *cc)
{
    const sk_change_t **p = calloc(n, sizeof *p);
    char err[512] = "";
    for (size_t i = 0; i < n; i++)
        p[i] = &chs[i];
    /* writes are sent at commit */
    wc_status_t st = sk_mongo_ops.begin(t, err, sizeof err);
    if (st == WC_OK)
        st = live_apply(t, f, p, n, cc, err, sizeof err);
    if (st == WC_OK)
        st = sk_mongo_ops.commit(t, err, sizeof err);
    if (st != WC_OK)
        fail_msg("apply: %d %s", st, err);
    free(p);
}

/* One batch of deletes then upserts (as apply.c hands them), committed, or rolled back on failure. */
static wc_status_t apply_batch(sk_target_t *t, fixture_t *f, const sk_change_t **del, size_t ndel,
                               const sk_change_t **up, size_t nup, sk_conflict_count_t *cc, char *err, size_t errlen)
{
    wc_status_t st = sk_mongo_ops.begin(t, err, errlen);
    if (st == WC_OK && ndel)
        st = live_apply(t, f, del, ndel, cc, err, errlen);
    if (st == WC_OK && nup)
        st = live_apply(t, f, up, nup, cc, err, errlen);
    if (st == WC_OK)
        st = sk_mongo_ops.commit(t, err, errlen);
    else
        sk_mongo_ops.rollback(t);
    return st;
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
    live_cfg = &cfg;
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
    for (int i = 0; i < N + 2; i++)
        chs[i].src_op = 'c';
    sk_conflict_count_t cc = { { 0 }, { 0 } };
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

    /* stale upserts (older versions of another source) are skipped and counted, in the middle of a batch:
     * the ones after them are still applied */
    sk_change_t mix[4];
    mix[0] = mk(f, SK_OP_UPSERT, 1, "stale", 999, 1, 0);
    mix[0].version.source = "other";
    mix[1] = mk(f, SK_OP_UPSERT, 2, "two-new", 2000, 1000, 0);   /* later in the source: a larger LSN */
    mix[2] = mk(f, SK_OP_UPSERT, 3, "stale", 1000, 102, 0);   /* same ts, lower LSN than stored 103 */
    mix[2].version.source = "other";
    mix[3] = mk(f, SK_OP_UPSERT, 4, "four-new", 2000, 1001, 0);
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
    del[0] = mk(f, SK_OP_DELETE, 6, NULL, 3000, 2000, 0);
    del[1] = mk(f, SK_OP_DELETE, 2, NULL, 1500, 1, 0);   /* stored two-new is at 2000 */
    del[1].version.source = "other";
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
    sk_change_t back = mk(f, SK_OP_UPSERT, 6, "six-again", 4000, 3000, 0);
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
    assert_int_equal(sk_mongo_ops.begin(t, err, sizeof err), WC_OK);
    assert_int_equal(sk_mongo_ops.store_offsets(t, cfg.name, &o, 1, err, sizeof err), WC_OK);
    sk_mongo_ops.rollback(t);   /* a rolled-back batch stores nothing */
    assert_int_equal(sk_mongo_ops.read_offsets(t, cfg.name, &offs, &noffs, err, sizeof err), WC_OK);
    assert_int_equal(offs[0].offset, N + 2);
    free(offs[0].topic);
    free(offs);
    assert_int_equal(sk_mongo_ops.begin(t, err, sizeof err), WC_OK);
    assert_int_equal(sk_mongo_ops.store_offsets(t, cfg.name, &o, 1, err, sizeof err), WC_OK);
    assert_int_equal(sk_mongo_ops.commit(t, err, sizeof err), WC_OK);
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

/* A document {_id: {id: <id as kind>}, name, [vfield: ver]} written directly (as another writer would):
 * kind 'i' int32, 'l' int64, 'd' double. */
static void seed(mongoc_client_t *cl, const char *db, int id, char kind, const char *name, const char *ver)
{
    mongoc_collection_t *c = mongoc_client_get_collection(cl, db, "srv_public_t");
    bson_t d = BSON_INITIALIZER, sub;
    bson_error_t e;
    bson_append_document_begin(&d, "_id", 3, &sub);
    if (kind == 'l')
        BSON_APPEND_INT64(&sub, "id", id);
    else if (kind == 'd')
        BSON_APPEND_DOUBLE(&sub, "id", id);
    else
        BSON_APPEND_INT32(&sub, "id", id);
    bson_append_document_end(&d, &sub);
    BSON_APPEND_UTF8(&d, "name", name);
    if (ver)
        BSON_APPEND_UTF8(&d, MONGO_VERSION_FIELD, ver);
    if (!mongoc_collection_insert_one(c, &d, NULL, NULL, &e))
        fail_msg("seeding %d: %s", id, e.message);
    bson_destroy(&d);
    mongoc_collection_destroy(c);
}

/* Sets the version of document {id: id} (as walcast's own, from an older change). */
static void seed_version(mongoc_client_t *cl, const char *db, int id, const char *ver)
{
    mongoc_collection_t *c = mongoc_client_get_collection(cl, db, "srv_public_t");
    bson_t q = BSON_INITIALIZER, sub, u = BSON_INITIALIZER, set;
    bson_error_t e;
    bson_append_document_begin(&q, "_id", 3, &sub);
    BSON_APPEND_INT32(&sub, "id", id);
    bson_append_document_end(&q, &sub);
    bson_append_document_begin(&u, "$set", 4, &set);
    BSON_APPEND_UTF8(&set, MONGO_VERSION_FIELD, ver);
    bson_append_document_end(&u, &set);
    if (!mongoc_collection_update_one(c, &q, &u, NULL, NULL, &e))
        fail_msg("update: %s", e.message);
    bson_destroy(&q);
    bson_destroy(&u);
    mongoc_collection_destroy(c);
}

/* The conflict log as "id:type" pairs in _id order of the key, and how many entries have an existing
 * document and an incoming row. */
static char *conflicts_of(mongoc_client_t *cl, const char *db, int *nexisting, int *nincoming)
{
    mongoc_collection_t *c = mongoc_client_get_collection(cl, db, MONGO_CONFLICTS_COLLECTION);
    bson_t q = BSON_INITIALIZER, opts = BSON_INITIALIZER, sort;
    bson_append_document_begin(&opts, "sort", 4, &sort);
    BSON_APPEND_INT32(&sort, "key.id", 1);
    bson_append_document_end(&opts, &sort);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &q, &opts, NULL);
    const bson_t *d;
    char out[1024] = "";
    *nexisting = *nincoming = 0;
    while (mongoc_cursor_next(cur, &d)) {
        bson_iter_t it, k;
        int64_t id = -1;
        const char *type = "?";
        if (bson_iter_init_find(&it, d, "key") && bson_iter_recurse(&it, &k) && bson_iter_find(&k, "id"))
            id = bson_iter_as_int64(&k);
        if (bson_iter_init_find(&it, d, "type") && BSON_ITER_HOLDS_UTF8(&it))
            type = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, d, "existing") && BSON_ITER_HOLDS_DOCUMENT(&it))
            (*nexisting)++;
        if (bson_iter_init_find(&it, d, "incoming") && BSON_ITER_HOLDS_DOCUMENT(&it))
            (*nincoming)++;
        assert_true(bson_iter_init_find(&it, d, "at") && BSON_ITER_HOLDS_DATE_TIME(&it));
        assert_true(bson_iter_init_find(&it, d, "sink") && BSON_ITER_HOLDS_UTF8(&it));
        assert_true(bson_iter_init_find(&it, d, "table_name") && BSON_ITER_HOLDS_UTF8(&it));
        assert_true(bson_iter_init_find(&it, d, "policy") && BSON_ITER_HOLDS_UTF8(&it));
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%" PRId64 ":%s", *out ? "," : "", id, type);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&q);
    bson_destroy(&opts);
    mongoc_collection_destroy(c);
    return strdup(out);
}

/* Every conflict type under every policy against pre-seeded documents: someone else's (no version, or
 * another source's; keys stored as int64 and double where walcast writes int32), ours (same source), and
 * absent; then the same batches replayed (no second log entry, nothing changes). */
static void test_live_conflicts(void **s)
{
    (void)s;
    const char *uri = getenv("WALCAST_TEST_MONGODB_URI");
    if (!uri || !*uri)
        skip();
    mongoc_client_t *cl = mongoc_client_new(uri);
    sk_version_t vo = { .ts_us = 100, .lsn = 1, .source = "other" }, vn = vo, vs = vo;
    vn.ts_us = 900;
    vs.source = "srv";
    char other_old[128], other_new[128], same_old[128];
    mongo_version_text(&vo, other_old, sizeof other_old);
    mongo_version_text(&vn, other_new, sizeof other_new);
    mongo_version_text(&vs, same_old, sizeof same_old);
    const sk_policy_t pols[] = { SK_POLICY_SOURCE_WINS, SK_POLICY_NEWER_WINS, SK_POLICY_TARGET_WINS, SK_POLICY_ERROR };
    const char *final[] = { "a1,a2,a3,-,-,a6,a7,a8", "a1,seed2,a3,-,-,a6,a7,a8", "seed1,seed2,a3,-,seed5,seed6,a7,seed8",
                            "seed1,seed2,-,-,seed5,seed6,seed7,seed8" };
    for (int p = 0; p < 4; p++) {
        char db[64], err[512] = "";
        snprintf(db, sizeof db, "walcast_unitc_%d_%d", (int)getpid(), p);
        sk_config_t cfg = { .name = "mongo-unit", .conflict_log = true, .policy = pols[p] };
        cfg.mongo_uri = (char *)uri;
        cfg.mongo_database = db;
        live_cfg = &cfg;
        sk_target_t *t = NULL;
        assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_OK);
        seed(cl, db, 1, 'i', "seed1", other_old);
        seed(cl, db, 2, 'i', "seed2", other_new);
        seed(cl, db, 5, 'i', "seed5", other_old);
        seed(cl, db, 6, 'l', "seed6", NULL);
        seed(cl, db, 7, 'i', "seed7", same_old);
        seed(cl, db, 8, 'd', "seed8", NULL);
        fixture_t *f = fx_new();
        f->tab.policy = pols[p];
        f->tab.version_column = MONGO_VERSION_FIELD;
        sk_change_t up[6], del[2];
        up[0] = mk(f, SK_OP_UPSERT, 1, "a1", 500, 1, 0);
        up[0].src_op = 'c';                                  /* insert_exists */
        up[1] = mk(f, SK_OP_UPSERT, 2, "a2", 500, 2, 1);     /* update_origin_differs (newer) */
        up[2] = mk(f, SK_OP_UPSERT, 3, "a3", 500, 3, 2);     /* update_missing */
        up[3] = mk(f, SK_OP_UPSERT, 6, "a6", 500, 4, 3);     /* update_origin_differs (no version) */
        up[4] = mk(f, SK_OP_UPSERT, 7, "a7", 500, 5, 4);     /* ours: no conflict */
        up[5] = mk(f, SK_OP_UPSERT, 8, "a8", 500, 6, 5);
        up[5].key_changed = true;                            /* update_exists */
        del[0] = mk(f, SK_OP_DELETE, 4, NULL, 500, 7, 6);    /* delete_missing */
        del[1] = mk(f, SK_OP_DELETE, 5, NULL, 500, 8, 7);    /* delete_origin_differs */
        for (int round = 0; round < 2; round++) {
            sk_conflict_count_t cc = { { 0 }, { 0 } };
            const sk_change_t *pu[6], *pd[2];
            for (int i = 0; i < 6; i++)
                pu[i] = &up[i];
            pd[0] = &del[0];
            pd[1] = &del[1];
            wc_status_t st;
            if (pols[p] == SK_POLICY_ERROR) {
                st = apply_batch(t, f, pd, 2, pu, 6, &cc, err, sizeof err);
                assert_int_equal(st, WC_PERMANENT);
                assert_non_null(strstr(err, "conflict delete_missing"));
                assert_non_null(strstr(err, "srv.public.t[0]@6"));
                /* a batch whose upserts fail after its deletes were decided: nothing of it is written
                 * (the writes wait for commit), not even the delete of walcast's own document 7 */
                sk_change_t d7 = mk(f, SK_OP_DELETE, 7, NULL, 500, 9, 8);
                const sk_change_t *p7 = &d7;
                st = apply_batch(t, f, &p7, 1, pu, 6, &cc, err, sizeof err);
                assert_int_equal(st, WC_PERMANENT);
                assert_non_null(strstr(err, "conflict insert_exists"));
            } else {
                st = apply_batch(t, f, pd, 2, pu, 6, &cc, err, sizeof err);
                if (st != WC_OK)
                    fail_msg("policy %d: %s", p, err);
                if (round == 0) {
                    assert_int_equal(cc.n[SK_CONFLICT_INSERT_EXISTS], 1);
                    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_ORIGIN_DIFFERS], 2);
                    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_MISSING], 1);
                    assert_int_equal(cc.n[SK_CONFLICT_UPDATE_EXISTS], 1);
                    assert_int_equal(cc.n[SK_CONFLICT_DELETE_MISSING], 1);
                    assert_int_equal(cc.n[SK_CONFLICT_DELETE_ORIGIN_DIFFERS], 1);
                }
            }
            char got[256] = "";
            const int ids[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
            for (int i = 0; i < 8; i++) {
                char *nm = find_name(cl, db, ids[i]);
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
                         strcmp(nm, "(absent)") ? nm : "-");
                free(nm);
            }
            if (strcmp(got, final[p]))
                fail_msg("policy %d round %d: documents %s, expected %s", p, round, got, final[p]);
            int nex, nin;
            char *log = conflicts_of(cl, db, &nex, &nin);
            const char *want = pols[p] == SK_POLICY_ERROR ? "" :
                "1:insert_exists,2:update_origin_differs,3:update_missing,4:delete_missing,"
                "5:delete_origin_differs,6:update_origin_differs,8:update_exists";
            if (strcmp(log, want))
                fail_msg("policy %d round %d: conflicts %s, expected %s", p, round, log, want);
            if (pols[p] != SK_POLICY_ERROR) {
                assert_int_equal(nex, 5);   /* 3 and 4 had none */
                assert_int_equal(nin, 5);   /* the deletes have none */
            }
            free(log);
        }
        fx_free(f);
        sk_mongo_ops.close(t);
        bson_error_t e;
        mongoc_database_t *d = mongoc_client_get_database(cl, db);
        mongoc_database_drop(d, &e);
        mongoc_database_destroy(d);
    }
    mongoc_client_destroy(cl);
}

/* target_wins against another writer that gets in between apply (read, decide, queue) and commit (write):
 * a document that appears where an insert was queued, and one of walcast's own that someone else rewrites
 * where a compare-and-swap update was queued. Commit says WC_RETRY; the batch again then leaves both
 * documents as the other writer made them and logs the conflicts. */
static void test_live_race(void **s)
{
    (void)s;
    const char *uri = getenv("WALCAST_TEST_MONGODB_URI");
    if (!uri || !*uri)
        skip();
    mongoc_client_t *cl = mongoc_client_new(uri);
    char db[64], err[512] = "", same_old[128];
    snprintf(db, sizeof db, "walcast_unitr_%d", (int)getpid());
    sk_version_t vs = { .ts_us = 100, .lsn = 1, .source = "srv" };
    mongo_version_text(&vs, same_old, sizeof same_old);
    sk_config_t cfg = { .name = "mongo-unit", .conflict_log = true, .policy = SK_POLICY_TARGET_WINS };
    cfg.mongo_uri = (char *)uri;
    cfg.mongo_database = db;
    live_cfg = &cfg;
    sk_target_t *t = NULL;
    assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_OK);
    seed(cl, db, 7, 'i', "seed7", same_old);
    fixture_t *f = fx_new();
    f->tab.policy = SK_POLICY_TARGET_WINS;
    f->tab.version_column = MONGO_VERSION_FIELD;
    sk_change_t up[2];
    up[0] = mk(f, SK_OP_UPSERT, 20, "a20", 500, 1, 0);
    up[0].src_op = 'c';
    up[1] = mk(f, SK_OP_UPSERT, 7, "a7", 500, 2, 1);
    const sk_change_t *pu[2] = { &up[0], &up[1] };
    sk_conflict_count_t cc = { { 0 }, { 0 } };
    for (int which = 0; which < 2; which++) {
        assert_int_equal(sk_mongo_ops.begin(t, err, sizeof err), WC_OK);
        assert_int_equal(live_apply(t, f, pu, 2, &cc, err, sizeof err), WC_OK);
        /* the other writer, between the read and the write */
        if (which == 0) {
            seed(cl, db, 20, 'i', "theirs20", NULL);
        } else {
            mongoc_collection_t *c = mongoc_client_get_collection(cl, db, "srv_public_t");
            bson_t q = BSON_INITIALIZER, sub, r = BSON_INITIALIZER;
            bson_error_t e;
            bson_append_document_begin(&q, "_id", 3, &sub);
            BSON_APPEND_INT32(&sub, "id", 7);
            bson_append_document_end(&q, &sub);
            BSON_APPEND_UTF8(&r, "name", "theirs7");
            if (!mongoc_collection_replace_one(c, &q, &r, NULL, NULL, &e))
                fail_msg("replace: %s", e.message);
            bson_destroy(&q);
            bson_destroy(&r);
            mongoc_collection_destroy(c);
        }
        wc_status_t st = sk_mongo_ops.commit(t, err, sizeof err);
        if (st != WC_RETRY)
            fail_msg("round %d: commit gave %d (%s), expected WC_RETRY", which, st, err);
        assert_non_null(strstr(err, "another writer"));
        sk_mongo_ops.rollback(t);
        /* apply.c applies the batch again */
        assert_int_equal(sk_mongo_ops.begin(t, err, sizeof err), WC_OK);
        assert_int_equal(live_apply(t, f, pu, 2, &cc, err, sizeof err), WC_OK);
        if (sk_mongo_ops.commit(t, err, sizeof err) != WC_OK)
            fail_msg("round %d: the retried batch: %s", which, err);
        char *n20 = find_name(cl, db, 20), *n7 = find_name(cl, db, 7);
        assert_string_equal(n20, "theirs20");
        assert_string_equal(n7, which == 0 ? "a7" : "theirs7");
        free(n20);
        free(n7);
        if (which == 0) {   /* the second round: 7 is walcast's again (an older version), the change newer */
            up[1].version.lsn = 3;
            seed_version(cl, db, 7, same_old);
        }
    }
    int nex, nin;
    char *log = conflicts_of(cl, db, &nex, &nin);
    assert_string_equal(log, "7:update_origin_differs,20:insert_exists");
    free(log);
    fx_free(f);
    sk_mongo_ops.close(t);
    bson_error_t e;
    mongoc_database_t *d = mongoc_client_get_database(cl, db);
    mongoc_database_drop(d, &e);
    mongoc_database_destroy(d);
    mongoc_client_destroy(cl);
}

/* source_wins without a conflict log: inserts ('c') go as one insert, and those that meet a document fall
 * back to the version-guarded upsert: an older one is replaced, a newer one stays; updates ('u') upsert. */
static void test_live_guarded(void **s)
{
    (void)s;
    const char *uri = getenv("WALCAST_TEST_MONGODB_URI");
    if (!uri || !*uri)
        skip();
    mongoc_client_t *cl = mongoc_client_new(uri);
    char db[64], err[512] = "", older[128], newer[128];
    snprintf(db, sizeof db, "walcast_unitg_%d", (int)getpid());
    sk_version_t v = { .ts_us = 100, .lsn = 1, .source = "srv" };
    mongo_version_text(&v, older, sizeof older);
    v.ts_us = 900;
    mongo_version_text(&v, newer, sizeof newer);
    sk_config_t cfg = { .name = "mongo-unit" };
    cfg.mongo_uri = (char *)uri;
    cfg.mongo_database = db;
    live_cfg = &cfg;
    sk_target_t *t = NULL;
    assert_int_equal(sk_mongo_ops.connect(&cfg, &t, err, sizeof err), WC_OK);
    seed(cl, db, 2, 'i', "seed2", older);
    seed(cl, db, 3, 'l', "seed3", newer);
    fixture_t *f = fx_new();
    sk_change_t up[5];
    for (int i = 0; i < 5; i++) {
        up[i] = mk(f, SK_OP_UPSERT, i + 1, "new", 500, 1, i);
        up[i].src_op = i < 4 ? 'c' : 'u';
    }
    sk_conflict_count_t cc = { { 0 }, { 0 } };
    apply_all(t, f, up, 5, &cc);
    apply_all(t, f, up, 5, &cc);   /* a replay */
    const char *want[] = { "new", "new", "seed3", "new", "new" };
    for (int i = 0; i < 5; i++) {
        char *nm = find_name(cl, db, i + 1);
        assert_string_equal(nm, want[i]);
        free(nm);
    }
    /* an update without its name (an unchanged TOASTed value): the stored name stays, guarded ($set
     * upsert) and under newer_wins (compare-and-swap $set) */
    static const bool has[] = { true, false, true, true, true };
    for (int round = 0; round < 2; round++) {
        f->tab.policy = round ? SK_POLICY_NEWER_WINS : SK_POLICY_SOURCE_WINS;
        f->tab.version_column = round ? MONGO_VERSION_FIELD : NULL;
        sk_change_t part = mk(f, SK_OP_UPSERT, 1, "must not land", 600 + round, 1, 9);
        part.has = has;
        apply_all(t, f, &part, 1, &cc);
        char *nm = find_name(cl, db, 1);
        assert_string_equal(nm, "new");
        free(nm);
    }
    fx_free(f);
    sk_mongo_ops.close(t);
    bson_error_t e;
    mongoc_database_t *d = mongoc_client_get_database(cl, db);
    mongoc_database_drop(d, &e);
    mongoc_database_destroy(d);
    mongoc_client_destroy(cl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_and_doc),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_reduce),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_live_conflicts),
        cmocka_unit_test(test_live_race),
        cmocka_unit_test(test_live_guarded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
