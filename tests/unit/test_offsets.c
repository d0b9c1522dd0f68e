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

/* The offsets topic as walcast creates it: Connect's 25 partitions by default, the worker's keys when set. */
static void test_topic_create(void **s)
{
    (void)s;
    char err[256];
    cfg_map_t m = { 0 };
    worker_config_t w;
    assert_int_equal(cfg_parse_properties("bootstrap.servers=k:9092\n", &m, err, sizeof err), 0);
    assert_int_equal(cfg_worker_parse(&m, &w, err, sizeof err), 0);
    ktop_create_t c = off_topic_create(&w);
    assert_string_equal(c.key, "offset.storage.topic");
    assert_int_equal(c.partitions, 25);
    assert_int_equal(c.replication, -1);
    assert_false(c.required);
    cfg_worker_free(&w);
    cfg_map_free(&m);
    assert_int_equal(cfg_parse_properties("bootstrap.servers=k:9092\noffset.storage.partitions=3\n"
                                          "offset.storage.replication.factor=2\n", &m, err, sizeof err), 0);
    assert_int_equal(cfg_worker_parse(&m, &w, err, sizeof err), 0);
    c = off_topic_create(&w);
    assert_int_equal(c.partitions, 3);
    assert_int_equal(c.replication, 2);
    cfg_worker_free(&w);
    cfg_map_free(&m);
    /* refused, naming the key: as Connect's DistributedConfig (partitions >= 1; replication -1 or >= 1) */
    const char *bad[] = { "offset.storage.partitions=0", "offset.storage.partitions=x", "offset.storage.replication.factor=0",
                          "offset.storage.replication.factor=-2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "bootstrap.servers=k:9092\n%s\n", bad[i]);
        assert_int_equal(cfg_parse_properties(text, &m, err, sizeof err), 0);
        assert_int_equal(cfg_worker_parse(&m, &w, err, sizeof err), -1);
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(strchr(bad[i], '=') - bad[i]), bad[i]);
        assert_non_null(strstr(err, key));
        cfg_map_free(&m);
    }
}

/* Connect's rule for its topics: cleanup.policy compact alone (with delete, old offsets go after retention.ms). */
static void test_policy_compact_only(void **s)
{
    (void)s;
    assert_true(ktop_policy_compact_only("compact"));
    assert_true(ktop_policy_compact_only(" compact "));
    assert_false(ktop_policy_compact_only("delete"));
    assert_false(ktop_policy_compact_only("compact,delete"));
    assert_false(ktop_policy_compact_only("delete, compact"));
    assert_false(ktop_policy_compact_only("compacted"));
    assert_false(ktop_policy_compact_only(""));
    assert_false(ktop_policy_compact_only(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_debezium_values),
        cmocka_unit_test(test_not_offsets),
        cmocka_unit_test(test_skip_decisions),
        cmocka_unit_test(test_topic_create),
        cmocka_unit_test(test_policy_compact_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
