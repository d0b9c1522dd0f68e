/* test_offsets.c: Kafka Connect offset records: the key, walcast's value and Debezium's, read back,
 * and what is refused as an offset (a record that is not one must never stand in for one). */
#include "tests/unit/testutil.h"

#include "agent/offsets.h"

static void test_key(void **s)
{
    (void)s;
    buf_t b;
    buf_init(&b);
    off_key(&b, "inventory \"x\"", "db1");
    assert_string_equal(buf_cstr(&b), "[\"inventory \\\"x\\\"\",{\"server\":\"db1\"}]");
    /* compared as JSON: spacing and key order of another writer do not matter */
    const char *spaced = "[ \"inventory \\\"x\\\"\" , { \"server\" : \"db1\" } ]";
    assert_true(off_key_matches(spaced, strlen(spaced), "inventory \"x\"", "db1"));
    assert_false(off_key_matches(b.data, b.len, "inventory \"x\"", "db2"));
    assert_false(off_key_matches(b.data, b.len, "inventory", "db1"));
    assert_false(off_key_matches("not json", 8, "inventory", "db1"));
    buf_free(&b);
}

static void test_round_trip(void **s)
{
    (void)s;
    off_pos_t p = { .found = true, .lsn = 23129408, .lsn_commit = 23129408, .lsn_proc = 23129408, .txid = 775,
                    .ts_usec = 1700000000000000, .timeline = 1 };
    snprintf(p.system_id, sizeof p.system_id, "%s", "7301234567890123456");
    buf_t b;
    buf_init(&b);
    off_value(&b, &p);
    off_pos_t q;
    assert_true(off_parse_value(b.data, b.len, &q));
    assert_true(q.found);
    assert_int_equal(q.lsn, p.lsn);
    assert_int_equal(q.lsn_commit, p.lsn_commit);
    assert_int_equal(q.lsn_proc, p.lsn_proc);
    assert_int_equal(q.txid, 775);
    assert_string_equal(q.system_id, "7301234567890123456");
    assert_int_equal(q.timeline, 1);
    assert_false(q.mid_txn);   /* walcast's offsets are always at transaction ends */
    buf_free(&b);
}

static void test_debezium_values(void **s)
{
    (void)s;
    off_pos_t q;
    /* Debezium after a commit */
    const char *commit = "{\"transaction_id\":null,\"lsn_proc\":100,\"messageType\":\"COMMIT\",\"lsn_commit\":100,"
                         "\"lsn\":100,\"txId\":7,\"ts_usec\":1}";
    assert_true(off_parse_value(commit, strlen(commit), &q));
    assert_false(q.mid_txn);
    assert_string_equal(q.system_id, "");
    /* Debezium after a change event: the transaction holding lsn_proc was published up to it only */
    const char *mid = "{\"lsn_proc\":90,\"messageType\":\"INSERT\",\"lsn_commit\":90,\"lsn\":90,\"txId\":8,\"ts_usec\":1}";
    assert_true(off_parse_value(mid, strlen(mid), &q));
    assert_true(q.mid_txn);
    assert_int_equal(q.lsn_proc, 90);
    /* no lsn_commit yet: the lsn stands for it */
    const char *first = "{\"lsn\":55}";
    assert_true(off_parse_value(first, strlen(first), &q));
    assert_int_equal(q.lsn_commit, 55);
}

static void test_not_offsets(void **s)
{
    (void)s;
    off_pos_t q;
    const char *bad[] = { "", "null", "[]", "{}", "{\"lsn\":\"0/16B3740\"}", "{\"lsn\":null}", "{\"lsn\":1.5}",
                          "{\"lsn\":12", "{\"lsn_commit\":5}" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(off_parse_value(bad[i], strlen(bad[i]), &q));
}

/* The skip decisions after a restart, for walcast's offsets (at transaction ends) and Debezium's
 * (after a change event, mid transaction). */
static void test_skip_decisions(void **s)
{
    (void)s;
    off_pos_t none = { 0 };
    assert_false(off_txn_published(&none, 1));
    assert_false(off_change_published(&none, 1));
    assert_false(off_message_published(&none, 1));
    /* walcast: last published transaction's commit record at 0x100, ending at 0x130 */
    off_pos_t w = { .found = true, .lsn = 0x130, .lsn_commit = 0x130, .lsn_proc = 0x130 };
    assert_true(off_txn_published(&w, 0x100));     /* the same transaction, sent again */
    assert_true(off_txn_published(&w, 0x50));
    assert_false(off_txn_published(&w, 0x130));    /* a commit record at the stored end: a new one */
    assert_false(off_txn_published(&w, 0x200));
    assert_false(off_change_published(&w, 0x120)); /* never mid transaction: decided at BEGIN */
    assert_true(off_message_published(&w, 0x130));
    assert_false(off_message_published(&w, 0x131));
    /* Debezium: stored after a change at 0x180 of a transaction whose commit comes later */
    off_pos_t d = { .found = true, .lsn = 0x180, .lsn_commit = 0x130, .lsn_proc = 0x180, .mid_txn = true };
    assert_false(off_txn_published(&d, 0x300));    /* that transaction is not skipped whole... */
    assert_true(off_change_published(&d, 0x170));  /* ...but its changes up to lsn_proc are */
    assert_true(off_change_published(&d, 0x180));
    assert_false(off_change_published(&d, 0x190));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_debezium_values),
        cmocka_unit_test(test_not_offsets),
        cmocka_unit_test(test_skip_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
