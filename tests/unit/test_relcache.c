/* test_relcache.c: the relation cache: a Relation message merged with catalog facts (nullability,
 * defaults, comments, key columns), versions bumped on every new Relation message, a failed install
 * keeping the old version, composite columns resolved as unknown. */
#include "tests/unit/testutil.h"

#include "decoder/relcache.h"

static int freed;
static void free_user(void *u) { (void)u; freed++; }

/* A Relation message for table s.t with columns (id int4 key, v text[, extra]). */
static pgo_msg_t relation(arena_t *a, uint32_t relid, bool extra, uint32_t extra_type)
{
    pgo_msg_t m;
    memset(&m, 0, sizeof m);
    m.type = PGO_RELATION;
    m.u.relation.relid = relid;
    m.u.relation.nspname = "s";
    m.u.relation.relname = "t";
    m.u.relation.replident = 'd';
    m.u.relation.natts = extra ? 3 : 2;
    pgo_att_t *atts = arena_zalloc(a, 3 * sizeof *atts);
    atts[0] = (pgo_att_t){ .flags = PGO_ATT_KEY, .name = "id", .typid = 23, .typmod = -1 };
    atts[1] = (pgo_att_t){ .flags = 0, .name = "v", .typid = 25, .typmod = -1 };
    atts[2] = (pgo_att_t){ .flags = 0, .name = "x", .typid = extra_type, .typmod = -1 };
    m.u.relation.atts = atts;
    return m;
}

static void test_put_get_versions(void **s)
{
    (void)s;
    arena_t *a = arena_new(4096);
    pgt_catalog_t *types = pgt_catalog_new();
    rel_cache_t *c = rel_cache_new(free_user);
    char err[256];
    rel_catcol_t cols[] = { { "id", true, NULL, NULL }, { "v", false, "'dflt'::text", "a comment" }, { "x", false, NULL, NULL } };
    const char *key[] = { "id" };
    rel_catinfo_t info = { cols, 2, key, 1 };
    pgo_msg_t m = relation(a, 16384, false, 0);
    rel_table_t *t;
    assert_int_equal(rel_cache_put(c, types, &m, &info, &t, err, sizeof err), 0);
    assert_ptr_equal(rel_cache_get(c, 16384), t);
    assert_null(rel_cache_get(c, 16385));
    assert_string_equal(t->nspname, "s");
    assert_int_equal(t->ncols, 2);
    assert_true(t->cols[0].ident_key);
    assert_true(t->cols[0].not_null);
    assert_false(t->cols[1].not_null);
    assert_string_equal(t->cols[1].default_expr, "'dflt'::text");
    assert_string_equal(t->cols[1].comment, "a comment");
    assert_int_equal(t->nkeys, 1);
    assert_int_equal(t->keys[0], 0);
    assert_int_equal(rel_column_index(t, "v"), 1);
    assert_int_equal(rel_column_index(t, "nope"), -1);
    unsigned v1 = t->version;
    t->user = &freed;

    /* a new Relation message (a column added): a new version, the old one's user state freed */
    info.ncols = 3;
    pgo_msg_t m2 = relation(a, 16384, true, 25);
    rel_table_t *t2;
    assert_int_equal(rel_cache_put(c, types, &m2, &info, &t2, err, sizeof err), 0);
    assert_int_equal(t2->ncols, 3);
    assert_true(t2->version > v1);
    assert_int_equal(freed, 1);

    /* a column of a type the catalog does not know: refused, the previous version stays */
    pgo_msg_t m3 = relation(a, 16384, true, 999999);
    rel_table_t *t3 = NULL;
    assert_int_equal(rel_cache_put(c, types, &m3, &info, &t3, err, sizeof err), -1);
    assert_non_null(strstr(err, "999999"));
    assert_ptr_equal(rel_cache_get(c, 16384), t2);

    /* a composite type: resolved, as a type no converter handles */
    pgt_typeinfo_t comp = { .oid = 70000, .nspname = "public", .typname = "pair", .typtype = 'c' };
    pgt_catalog_put(types, &comp);
    pgo_msg_t m4 = relation(a, 16384, true, 70000);
    rel_table_t *t4;
    assert_int_equal(rel_cache_put(c, types, &m4, &info, &t4, err, sizeof err), 0);
    assert_int_equal(t4->cols[2].type.kind, PGT_UNKNOWN);

    rel_cache_free(c);
    pgt_catalog_free(types);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
