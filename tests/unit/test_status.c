/* test_status.c: schemas/status.c, the one classification of server errors that the source and every SQL
 * target share: PostgreSQL SQLSTATEs, failed libpq connection attempts, MySQL/MariaDB error numbers. */
#include "tests/unit/testutil.h"

#include "schemas/status.h"

static void test_sqlstate(void **st)
{
    (void)st;
    /* refusals only a person can lift: the sink stops instead of retrying forever (issue 17 item 5) */
    const char *fatal[] = { "28P01", "28000", "3D000", "42501", "53400", "57P04", "25006", "XX001", NULL };
    for (int i = 0; fatal[i]; i++)
        assert_int_equal(wc_status_sqlstate(fatal[i]), WC_FATAL);
    /* what passes by itself */
    const char *retry[] = { "08006", "08001", "08P01", "40001", "40P01", "53300", "53200", "53100", "57P01", "57P02",
                            "57P03", "57014", "55P03", "55006", "58000", "58030", "25P03", "25P04", NULL };
    for (int i = 0; retry[i]; i++)
        assert_int_equal(wc_status_sqlstate(retry[i]), WC_RETRY);
    /* the record or statement is wrong: never retried */
    const char *perm[] = { "23505", "23502", "22P02", "22001", "42P01", "42703", "0A000", "54000", "XX000", "58P01", NULL };
    for (int i = 0; perm[i]; i++)
        assert_int_equal(wc_status_sqlstate(perm[i]), WC_PERMANENT);
    assert_int_equal(wc_status_sqlstate(NULL), WC_RETRY);   /* no answer: the connection broke */
    assert_int_equal(wc_status_sqlstate(""), WC_RETRY);
}

static void test_pg_connect(void **st)
{
    (void)st;
    assert_int_equal(wc_status_pg_connect("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  password "
                                          "authentication failed for user \"app\""), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database "
                                          "\"nosuch\" does not exist"), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("FATAL:  role \"ghost\" does not exist"), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("FATAL:  no pg_hba.conf entry for host \"10.0.0.1\""), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("FATAL:  permission denied for database \"app\""), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("fe_sendauth: no password supplied"), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("invalid sslmode value: \"sometimes\""), WC_FATAL);
    assert_int_equal(wc_status_pg_connect("connection to server at \"127.0.0.1\", port 1 failed: Connection refused"),
                     WC_RETRY);
    assert_int_equal(wc_status_pg_connect("FATAL:  the database system is starting up"), WC_RETRY);
    assert_int_equal(wc_status_pg_connect("FATAL:  sorry, too many clients already"), WC_RETRY);
    assert_int_equal(wc_status_pg_connect(NULL), WC_RETRY);
}

static void test_mysql(void **st)
{
    (void)st;
    const unsigned fatal[] = { 1045, 1044, 1049, 1142, 1143, 1227, 1290, 1698, 1836, 4151, 0 };
    for (int i = 0; fatal[i]; i++)
        assert_int_equal(wc_status_mysql(fatal[i]), WC_FATAL);
    const unsigned retry[] = { 2002, 2003, 2006, 2013, 2055, 1040, 1053, 1205, 1213, 1226, 1927, 0 };
    for (int i = 0; retry[i]; i++)
        assert_int_equal(wc_status_mysql(retry[i]), WC_RETRY);
    const unsigned perm[] = { 1062, 1064, 1146, 1054, 1366, 2020, 0 };
    for (int i = 0; perm[i]; i++)
        assert_int_equal(wc_status_mysql(perm[i]), WC_PERMANENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlstate),
        cmocka_unit_test(test_pg_connect),
        cmocka_unit_test(test_mysql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
