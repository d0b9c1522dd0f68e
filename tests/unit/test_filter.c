/* test_filter.c: Debezium's include/exclude lists (anchored regexes, schema then table then column),
 * message prefixes, column masks/truncation/hashing and message.key.columns, as decoder/filter.c
 * applies them. */
#include "tests/unit/testutil.h"

#include "decoder/filter.h"

static void test_lists_are_anchored(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.table_inc, "public\\.orders, inv\\.item.*", "table.include.list", err, sizeof err), 0);
    assert_true(flt_table_included(&f, "public", "orders"));
    assert_false(flt_table_included(&f, "public", "orders_old"));     /* whole name, not a prefix */
    assert_false(flt_table_included(&f, "xpublic", "orders"));
    assert_true(flt_table_included(&f, "inv", "items"));
    assert_false(flt_table_included(&f, "public", "items"));
    flt_free(&f);
}

static void test_schema_and_table_exclusion(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.schema_exc, "audit", "schema.exclude.list", err, sizeof err), 0);
    assert_int_equal(flt_list_compile(&f.table_exc, "public\\.tmp_.*", "table.exclude.list", err, sizeof err), 0);
    assert_false(flt_table_included(&f, "audit", "log"));
    assert_false(flt_table_included(&f, "public", "tmp_1"));
    assert_true(flt_table_included(&f, "public", "t"));
    assert_true(flt_table_included(&f, "other", "tmp_1"));
    flt_free(&f);
}

static void test_columns(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.col_exc, "public\\.users\\.(password|ssn)", "column.exclude.list", err, sizeof err), 0);
    assert_false(flt_column_included(&f, "public", "users", "password"));
    assert_true(flt_column_included(&f, "public", "users", "name"));
    assert_true(flt_column_included(&f, "public", "other", "password"));
    assert_int_equal(flt_add_mask(&f, 5, "public\\.users\\.email", "column.mask.with.5.chars", err, sizeof err), 0);
    assert_int_equal(flt_add_truncate(&f, 3, "public\\..*\\.note", "column.truncate.to.3.chars", err, sizeof err), 0);
    assert_int_equal(flt_mask_len(&f, "public", "users", "email"), 5);
    assert_int_equal(flt_mask_len(&f, "public", "users", "name"), -1);
    assert_int_equal(flt_truncate_len(&f, "public", "anything", "note"), 3);
    assert_int_equal(flt_add_hash(&f, "SHA-256", "salt", "public\\.users\\.name", "column.mask.hash.SHA-256.with.salt.salt",
                                  err, sizeof err), 0);
    const flt_rule_t *h = flt_hash_rule(&f, "public", "users", "name");
    assert_non_null(h);
    assert_string_equal(h->alg, "SHA-256");
    assert_string_equal(h->salt, "salt");
    assert_null(flt_hash_rule(&f, "public", "users", "email"));
    flt_free(&f);
}

static void test_bad_regex_names_the_key(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_true(flt_list_compile(&f.table_inc, "public\\.(unclosed", "table.include.list", err, sizeof err) < 0);
    assert_non_null(strstr(err, "table.include.list"));
    flt_free(&f);
}

static void test_messages_and_key_columns(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_int_equal(flt_list_compile(&f.msg_exc, "internal.*", "message.prefix.exclude.list", err, sizeof err), 0);
    assert_false(flt_message_included(&f, "internal-audit"));
    assert_true(flt_message_included(&f, "app"));
    assert_int_equal(flt_set_key_columns(&f, "public.orders:customer,day;inv.items:sku", err, sizeof err), 0);
    const flt_keycols_t *k = flt_key_columns(&f, "public", "orders");
    assert_non_null(k);
    assert_int_equal(k->ncols, 2);
    assert_string_equal(k->cols[0], "customer");
    assert_string_equal(k->cols[1], "day");
    assert_null(flt_key_columns(&f, "public", "other"));
    assert_true(flt_set_key_columns(&f, "no-colon-here", err, sizeof err) < 0);
    flt_free(&f);
}

/* walcast.skip.origins: anchored like the other lists; no list skips nothing */
static void test_origins(void **s)
{
    (void)s;
    flt_filters_t f;
    char err[256];
    flt_init(&f);
    assert_false(flt_origin_skipped(&f, "walcast_a"));
    assert_int_equal(flt_list_compile(&f.origin_skip, "walcast.*", "walcast.skip.origins", err, sizeof err), 0);
    assert_true(flt_origin_skipped(&f, "walcast_sink_a"));
    assert_false(flt_origin_skipped(&f, "pg_walcast"));
    assert_false(flt_origin_skipped(&f, NULL));
    flt_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lists_are_anchored),
        cmocka_unit_test(test_schema_and_table_exclusion),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_bad_regex_names_the_key),
        cmocka_unit_test(test_messages_and_key_columns),
        cmocka_unit_test(test_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
