/* test_streamed.c: agent/streamed.c over spill.c: messages inside Stream Start/Stop are kept, not
 * handled; at Stream Commit the transaction is handed over as begin, each kept message (parsed once),
 * commit; a subtransaction abort cuts its part; a transaction already published is dropped unreplayed;
 * a streamed Relation is installed at once (R) and replayed in its place (r). */
#include "tests/unit/testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#include "agent/streamed.h"

static struct {
    char calls[256];      /* B(egin) I(nsert) R(elation, at once) C(ommit) */
    uint64_t final_lsn, end_lsn, first_lsn;
    int32_t values[16];
    int nvalues;
    bool published;
} g;

static void call(char c)
{
    size_t n = strlen(g.calls);
    if (n + 1 < sizeof g.calls)
        g.calls[n] = c;
}

static bool ops_published(void *ctx, uint64_t commit_lsn) { (void)ctx; (void)commit_lsn; return g.published; }
static wc_status_t ops_begin(void *ctx, uint32_t xid, uint64_t final_lsn, int64_t t, uint64_t lsn, char *err, size_t errlen)
{
    (void)ctx; (void)xid; (void)t; (void)err; (void)errlen;
    call('B');
    g.final_lsn = final_lsn;
    g.first_lsn = lsn;
    return WC_OK;
}
static wc_status_t ops_message(void *ctx, const pgo_msg_t *m, uint64_t lsn, char *err, size_t errlen)
{
    (void)ctx; (void)lsn; (void)err; (void)errlen;
    call(m->type == PGO_INSERT ? 'I' : m->type == PGO_RELATION ? 'r' : '?');
    if (m->type == PGO_INSERT && g.nvalues < 16)
        g.values[g.nvalues++] = atoi(m->u.change.new_tuple.cols[0].data);
    return WC_OK;
}
static wc_status_t ops_commit(void *ctx, uint32_t xid, uint64_t commit_lsn, uint64_t end_lsn, int64_t t, char *err, size_t errlen)
{
    (void)ctx; (void)xid; (void)commit_lsn; (void)t; (void)err; (void)errlen;
    call('C');
    g.end_lsn = end_lsn;
    return WC_OK;
}
static wc_status_t ops_relation(void *ctx, const pgo_msg_t *m, char *err, size_t errlen)
{
    (void)ctx; (void)m; (void)err; (void)errlen;
    call('R');
    return WC_OK;
}
static wc_status_t ops_progress(void *ctx, uint32_t xid, char *err, size_t errlen)
{
    (void)ctx; (void)xid; (void)err; (void)errlen;
    return WC_OK;
}
static const strm_ops_t ops = { ops_published, ops_begin, ops_message, ops_commit, ops_relation, ops_progress };

/* wire bytes */
static size_t put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; return 4; }
static size_t put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); return 8; }

static size_t stream_start(uint8_t *p, uint32_t xid) { p[0] = 'S'; put32(p + 1, xid); p[5] = 1; return 6; }
static size_t stream_stop(uint8_t *p) { p[0] = 'E'; return 1; }
static size_t insert(uint8_t *p, uint32_t xid, int v)
{
    char txt[16];
    int l = snprintf(txt, sizeof txt, "%d", v);
    size_t n = 0;
    p[n++] = 'I';
    n += put32(p + n, xid);
    n += put32(p + n, 0x4000);
    p[n++] = 'N';
    p[n++] = 0;
    p[n++] = 1;
    p[n++] = 't';
    n += put32(p + n, (uint32_t)l);
    memcpy(p + n, txt, (size_t)l);
    return n + (size_t)l;
}
static size_t relation(uint8_t *p, uint32_t xid)
{
    size_t n = 0;
    p[n++] = 'R';
    n += put32(p + n, xid);
    n += put32(p + n, 0x4000);
    memcpy(p + n, "public\0t\0", 9);
    n += 9;
    p[n++] = 'd';
    p[n++] = 0;
    p[n++] = 1;
    p[n++] = 1;
    memcpy(p + n, "id\0", 3);
    n += 3;
    n += put32(p + n, 23);
    n += put32(p + n, 0xffffffff);
    return n;
}
static size_t stream_abort(uint8_t *p, uint32_t xid, uint32_t sub) { p[0] = 'A'; put32(p + 1, xid); put32(p + 5, sub); return 9; }
static size_t stream_commit(uint8_t *p, uint32_t xid, uint64_t commit_lsn, uint64_t end_lsn)
{
    size_t n = 0;
    p[n++] = 'c';
    n += put32(p + n, xid);
    p[n++] = 0;
    n += put64(p + n, commit_lsn);
    n += put64(p + n, end_lsn);
    n += put64(p + n, 1000);
    return n;
}

/* Parses raw as the connector does and offers it; returns whether streamed.c took it. */
static bool offer(strm_t *s, pgo_state_t *ps, arena_t *a, const uint8_t *raw, size_t len, uint64_t lsn)
{
    pgo_msg_t m;
    char err[256];
    bool taken = false;
    arena_reset(a);
    assert_int_equal(pgo_parse(ps, raw, len, a, &m, err, sizeof err), 0);
    assert_int_equal(strm_take(s, &m, lsn, raw, len, &taken, err, sizeof err), WC_OK);
    return taken;
}

static void test_replay(void **st)
{
    (void)st;
    memset(&g, 0, sizeof g);
    char dir[] = "/tmp/walcast-strm-XXXXXX", err[256];
    assert_non_null(mkdtemp(dir));
    strm_t *s = strm_new(dir, 1 << 20, 2, &ops, NULL, err, sizeof err);
    assert_non_null(s);
    pgo_state_t ps = { .proto_version = 2 };
    arena_t *a = arena_new(4096);
    uint8_t b[256];

    /* xid 7: a relation and two inserts in one block, one insert of subtransaction 8 in the next */
    assert_true(offer(s, &ps, a, b, stream_start(b, 7), 0x10));
    assert_true(offer(s, &ps, a, b, relation(b, 7), 0x11));
    assert_true(offer(s, &ps, a, b, insert(b, 7, 1), 0x12));
    assert_true(offer(s, &ps, a, b, insert(b, 7, 2), 0x13));
    assert_true(offer(s, &ps, a, b, stream_stop(b), 0x14));
    assert_string_equal(g.calls, "R");          /* the relation at once; nothing else yet */
    assert_true(offer(s, &ps, a, b, stream_start(b, 7), 0x20));
    assert_true(offer(s, &ps, a, b, insert(b, 8, 3), 0x21));
    assert_true(offer(s, &ps, a, b, stream_stop(b), 0x22));
    /* an ordinary message outside any stream block is the caller's */
    uint8_t beg[] = { 'B', 0, 0, 0, 0, 0, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9 };
    assert_false(offer(s, &ps, a, beg, sizeof beg, 0x23));
    /* subtransaction 8 aborts: its insert is cut */
    assert_true(offer(s, &ps, a, b, stream_abort(b, 7, 8), 0x24));
    assert_true(offer(s, &ps, a, b, stream_commit(b, 7, 0x40, 0x48), 0x40));
    assert_string_equal(g.calls, "RBrIIC");      /* begin, the kept relation (r), two inserts, commit */
    assert_int_equal(g.nvalues, 2);
    assert_int_equal(g.values[0], 1);
    assert_int_equal(g.values[1], 2);
    assert_int_equal(g.final_lsn, 0x40);
    assert_int_equal(g.first_lsn, 0x11);
    assert_int_equal(g.end_lsn, 0x48);
    assert_int_equal(strm_stats(s).replayed_txns, 1);

    /* published before a restart: dropped without replay */
    memset(g.calls, 0, sizeof g.calls);
    g.published = true;
    assert_true(offer(s, &ps, a, b, stream_start(b, 9), 0x50));
    assert_true(offer(s, &ps, a, b, insert(b, 9, 4), 0x51));
    assert_true(offer(s, &ps, a, b, stream_stop(b), 0x52));
    assert_true(offer(s, &ps, a, b, stream_commit(b, 9, 0x60, 0x68), 0x60));
    assert_string_equal(g.calls, "");
    assert_int_equal(strm_stats(s).skipped_txns, 1);
    assert_int_equal(strm_stats(s).spill.open_txns, 0);

    /* nothing kept (no captured change): still begin + commit */
    g.published = false;
    assert_true(offer(s, &ps, a, b, stream_commit(b, 11, 0x70, 0x78), 0x70));
    assert_string_equal(g.calls, "BC");

    arena_free(a);
    strm_free(s);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
