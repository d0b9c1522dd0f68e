/* test_pgoutput.c: the pgoutput reader against bytes captured from PostgreSQL 15, hand-built
 * messages for the stream and two-phase types, and every truncation of every message. */
#include "tests/unit/testutil.h"

#include "decoder/pgoutput.h"


static void test_fixture_sequence(void **state)
{
    (void)state;
    const char *expect = "BRIICBUCBUCBUCBDCBRICBUCBDCBRRTC";
    pgo_state_t st = { 1, false };
    arena_t *a = arena_new(4096);
    char err[256];
    assert_int_equal(nfx, strlen(expect));
    for (size_t i = 0; i < nfx; i++) {
        pgo_msg_t m;
        arena_reset(a);
        assert_int_equal(pgo_parse(&st, fx[i], fxlen[i], a, &m, err, sizeof err), 0);
        assert_int_equal(m.type, expect[i]);
    }
    arena_free(a);
}

static void test_fixture_fields(void **state)
{
    (void)state;
    pgo_state_t st = { 1, false };
    arena_t *a = arena_new(4096);
    char err[256];
    pgo_msg_t m;
    /* Begin */
    assert_int_equal(pgo_parse(&st, fx[0], fxlen[0], a, &m, err, sizeof err), 0);
    assert_true(m.xid > 0);
    assert_true(m.u.begin.final_lsn > 0);
    /* Relation fx(id int4 key, name text, n numeric(6,2), big text) */
    assert_int_equal(pgo_parse(&st, fx[1], fxlen[1], a, &m, err, sizeof err), 0);
    assert_string_equal(m.u.relation.nspname, "public");
    assert_string_equal(m.u.relation.relname, "fx");
    assert_int_equal(m.u.relation.replident, 'd');
    assert_int_equal(m.u.relation.natts, 4);
    assert_string_equal(m.u.relation.atts[0].name, "id");
    assert_int_equal(m.u.relation.atts[0].flags, 1);
    assert_int_equal(m.u.relation.atts[0].typid, 23);
    assert_int_equal(m.u.relation.atts[2].typid, 1700);
    assert_int_equal(m.u.relation.atts[2].typmod, (6 << 16 | 2) + 4);
    /* Insert (1,'one',1.50,NULL) */
    assert_int_equal(pgo_parse(&st, fx[2], fxlen[2], a, &m, err, sizeof err), 0);
    assert_int_equal(m.u.change.new_tuple.ncols, 4);
    assert_int_equal(m.u.change.new_tuple.cols[0].kind, 't');
    assert_memory_equal(m.u.change.new_tuple.cols[1].data, "one", 3);
    assert_memory_equal(m.u.change.new_tuple.cols[2].data, "1.50", 4);
    assert_int_equal(m.u.change.new_tuple.cols[3].kind, 'n');
    /* Update of a row with a TOASTed column keeps it as 'u' */
    assert_int_equal(pgo_parse(&st, fx[9], fxlen[9], a, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGO_UPDATE);
    assert_int_equal(m.u.change.new_tuple.cols[3].kind, 'u');
    /* Key change: old key tuple 'K' */
    assert_int_equal(pgo_parse(&st, fx[12], fxlen[12], a, &m, err, sizeof err), 0);
    assert_int_equal(m.u.change.old_kind, 'K');
    assert_memory_equal(m.u.change.old_tuple.cols[0].data, "1", 1);
    assert_memory_equal(m.u.change.new_tuple.cols[0].data, "3", 1);
    /* FULL identity update carries 'O' */
    assert_int_equal(pgo_parse(&st, fx[22], fxlen[22], a, &m, err, sizeof err), 0);
    assert_int_equal(m.u.change.old_kind, 'O');
    /* Truncate of two relations */
    assert_int_equal(pgo_parse(&st, fx[30], fxlen[30], a, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGO_TRUNCATE);
    assert_int_equal(m.u.truncate.nrelids, 2);
    /* Commit */
    assert_int_equal(pgo_parse(&st, fx[31], fxlen[31], a, &m, err, sizeof err), 0);
    assert_true(m.u.commit.end_lsn > m.u.commit.commit_lsn);
    arena_free(a);
}

/* Every proper prefix of every message must fail cleanly, and name what was truncated. */
static void test_every_truncation_fails(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    for (size_t i = 0; i < nfx; i++) {
        for (size_t cut = 0; cut < fxlen[i]; cut++) {
            pgo_state_t st = { 1, false };
            pgo_msg_t m;
            uint8_t *copy = malloc(cut ? cut : 1);   /* exact-size copy: ASan catches over-reads */
            memcpy(copy, fx[i], cut);
            err[0] = '\0';
            assert_int_equal(pgo_parse(&st, copy, cut, a, &m, err, sizeof err), -1);
            assert_true(err[0] != '\0');
            free(copy);
            arena_reset(a);
        }
    }
    arena_free(a);
}

static void test_trailing_bytes_fail(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    uint8_t buf[512];
    memcpy(buf, fx[0], fxlen[0]);
    buf[fxlen[0]] = 0;
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    assert_int_equal(pgo_parse(&st, buf, fxlen[0] + 1, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "trailing"));
    arena_free(a);
}

static void test_unknown_type_and_kind(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    uint8_t bad[] = { 'Z', 1, 2, 3 };
    assert_int_equal(pgo_parse(&st, bad, sizeof bad, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown pgoutput message type 0x5a"));
    /* insert with column kind 'x' */
    tu_bytes_t t = { .n = 0 };
    tu_u8(&t, 'I'); tu_u32(&t, 16384); tu_u8(&t, 'N'); tu_u16(&t, 1); tu_u8(&t, 'x');
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown column kind 0x78"));
    /* update with an unknown tuple marker */
    t.n = 0;
    tu_u8(&t, 'U'); tu_u32(&t, 16384); tu_u8(&t, 'Q');
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "tuple marker"));
    /* a column length beyond the message */
    t.n = 0;
    tu_u8(&t, 'I'); tu_u32(&t, 16384); tu_u8(&t, 'N'); tu_u16(&t, 1); tu_u8(&t, 't'); tu_u32(&t, 0x7fffff00); tu_str(&t, "x");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    /* relation with a bad replica identity */
    t.n = 0;
    tu_u8(&t, 'R'); tu_u32(&t, 1); tu_str(&t, "s"); tu_str(&t, "t"); tu_u8(&t, 'z'); tu_u16(&t, 0);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "replica identity"));
    /* truncate claiming more relations than bytes */
    t.n = 0;
    tu_u8(&t, 'T'); tu_u32(&t, 1000000); tu_u8(&t, 0); tu_u32(&t, 5);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    /* a commit with a flag no protocol version defines */
    t.n = 0;
    tu_u8(&t, 'C'); tu_u8(&t, 1); tu_u64(&t, 100); tu_u64(&t, 120); tu_u64(&t, 0);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown flags 0x01"));
    t.b[1] = 0;
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    arena_free(a);
}

static void test_message_and_origin(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    pgo_state_t st = { 1, false };
    pgo_msg_t m;
    tu_bytes_t t = { .n = 0 };
    tu_u8(&t, 'M'); tu_u8(&t, 1); tu_u64(&t, 0x1234); tu_str(&t, "audit"); tu_u32(&t, 3); tu_mem(&t, "a\0b", 3);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGO_MESSAGE);
    assert_int_equal(m.u.message.flags, 1);
    assert_int_equal(m.u.message.lsn, 0x1234);
    assert_string_equal(m.u.message.prefix, "audit");
    assert_int_equal(m.u.message.content_len, 3);
    assert_memory_equal(m.u.message.content, "a\0b", 3);
    t.n = 0;
    tu_u8(&t, 'O'); tu_u64(&t, 77); tu_str(&t, "node1");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_string_equal(m.u.origin.name, "node1");
    t.n = 0;
    tu_u8(&t, 'Y'); tu_u32(&t, 90000); tu_str(&t, "public"); tu_str(&t, "mood");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_string_equal(m.u.type.typname, "mood");
    arena_free(a);
}

static void test_stream_messages(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    pgo_state_t st = { 2, false };
    pgo_msg_t m;
    tu_bytes_t t = { .n = 0 };
    /* Stream Stop before Start is a protocol error */
    tu_u8(&t, 'E');
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    t.n = 0;
    tu_u8(&t, 'S'); tu_u32(&t, 900); tu_u8(&t, 1);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_true(st.in_stream);
    assert_int_equal(m.xid, 900);
    /* inside the stream, changes carry the xid first */
    t.n = 0;
    tu_u8(&t, 'I'); tu_u32(&t, 900); tu_u32(&t, 16384); tu_u8(&t, 'N'); tu_u16(&t, 1); tu_textcol(&t, "42");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_int_equal(m.xid, 900);
    assert_int_equal(m.u.change.relid, 16384);
    t.n = 0;
    tu_u8(&t, 'E');
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_false(st.in_stream);
    t.n = 0;
    tu_u8(&t, 'c'); tu_u32(&t, 900); tu_u8(&t, 0); tu_u64(&t, 10); tu_u64(&t, 20); tu_u64(&t, 30);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_int_equal(m.type, PGO_STREAM_COMMIT);
    assert_int_equal(m.u.commit.end_lsn, 20);
    /* abort, protocol 2 and protocol 4 (parallel) layouts */
    t.n = 0;
    tu_u8(&t, 'A'); tu_u32(&t, 900); tu_u32(&t, 901);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_false(m.u.stream_abort.has_lsn);
    tu_u64(&t, 55); tu_u64(&t, 66);
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_true(m.u.stream_abort.has_lsn);
    assert_int_equal(m.u.stream_abort.abort_lsn, 55);
    arena_free(a);
}

static void test_twophase_messages(void **state)
{
    (void)state;
    arena_t *a = arena_new(4096);
    char err[256];
    pgo_state_t st = { 3, false };
    pgo_msg_t m;
    tu_bytes_t t = { .n = 0 };
    tu_u8(&t, 'b'); tu_u64(&t, 1); tu_u64(&t, 2); tu_u64(&t, 3); tu_u32(&t, 700); tu_str(&t, "gid1");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_int_equal(m.xid, 700);
    assert_string_equal(m.u.twophase.gid, "gid1");
    const char kinds[] = { 'P', 'K', 'p' };
    for (int i = 0; i < 3; i++) {
        t.n = 0;
        tu_u8(&t, (uint8_t)kinds[i]); tu_u8(&t, 0); tu_u64(&t, 1); tu_u64(&t, 2); tu_u64(&t, 3); tu_u32(&t, 700); tu_str(&t, "g");
        assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
        assert_int_equal(m.type, kinds[i]);
        assert_int_equal(m.u.twophase.end_lsn, 2);
    }
    t.n = 0;
    tu_u8(&t, 'r'); tu_u8(&t, 0); tu_u64(&t, 1); tu_u64(&t, 2); tu_u64(&t, 3); tu_u64(&t, 4); tu_u32(&t, 700); tu_str(&t, "g");
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), 0);
    assert_int_equal(m.u.twophase.rollback_end_lsn, 2);
    assert_int_equal(m.u.twophase.rollback_time, 4);
    /* gid without its terminator */
    t.n--;
    assert_int_equal(pgo_parse(&st, t.b, t.n, a, &m, err, sizeof err), -1);
    arena_free(a);
}

static void test_copydata(void **state)
{
    (void)state;
    char err[256];
    pgo_copydata_t cd;
    tu_bytes_t t = { .n = 0 };
    tu_u8(&t, 'k'); tu_u64(&t, 0x10); tu_u64(&t, 5); tu_u8(&t, 1);
    assert_int_equal(pgo_parse_copydata(t.b, t.n, &cd, err, sizeof err), 0);
    assert_int_equal(cd.kind, 'k');
    assert_int_equal(cd.wal_end, 0x10);
    assert_true(cd.reply_requested);
    assert_int_equal(pgo_parse_copydata(t.b, t.n - 1, &cd, err, sizeof err), -1);
    t.n = 0;
    tu_u8(&t, 'w'); tu_u64(&t, 0x20); tu_u64(&t, 0x30); tu_u64(&t, 9); tu_u8(&t, 'B');
    assert_int_equal(pgo_parse_copydata(t.b, t.n, &cd, err, sizeof err), 0);
    assert_int_equal(cd.data_start, 0x20);
    assert_int_equal(cd.payload_len, 1);
    assert_int_equal(pgo_parse_copydata(t.b, 25, &cd, err, sizeof err), -1);
    assert_int_equal(pgo_parse_copydata(t.b, 10, &cd, err, sizeof err), -1);
    uint8_t x = 'q';
    assert_int_equal(pgo_parse_copydata(&x, 1, &cd, err, sizeof err), -1);
    assert_non_null(strstr(err, "0x71"));
    assert_int_equal(pgo_parse_copydata(&x, 0, &cd, err, sizeof err), -1);
}

static void test_status_and_lsn(void **state)
{
    (void)state;
    uint8_t out[34];
    assert_int_equal(pgo_build_status(out, 0x0102030405060708ULL, 2, 3, 4, true), 34);
    assert_int_equal(out[0], 'r');
    assert_int_equal(out[1], 0x01);
    assert_int_equal(out[8], 0x08);
    assert_int_equal(out[16], 2);
    assert_int_equal(out[33], 1);
    char s[32];
    pgo_lsn_format(0x16B3748ULL, s);
    assert_string_equal(s, "0/16B3748");
    pgo_lsn_format(0xA00000001ULL, s);
    assert_string_equal(s, "A/1");
    uint64_t l;
    assert_true(pgo_lsn_parse("A/1", &l));
    assert_int_equal(l, 0xA00000001ULL);
    assert_false(pgo_lsn_parse("A/1x", &l));
    assert_false(pgo_lsn_parse("12", &l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_sequence),
        cmocka_unit_test(test_fixture_fields),
        cmocka_unit_test(test_every_truncation_fails),
        cmocka_unit_test(test_trailing_bytes_fail),
        cmocka_unit_test(test_unknown_type_and_kind),
        cmocka_unit_test(test_message_and_origin),
        cmocka_unit_test(test_stream_messages),
        cmocka_unit_test(test_twophase_messages),
        cmocka_unit_test(test_copydata),
        cmocka_unit_test(test_status_and_lsn),
    };
    return cmocka_run_group_tests_name("pgoutput", tests, tu_fixtures_setup, tu_fixtures_teardown);
}
