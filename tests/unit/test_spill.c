/* test_spill.c: streamed in-progress transactions kept in memory and in zstd spill files: order,
 * interleaved transactions, subtransaction aborts in memory and on file, whole aborts, reset. */
#include "tests/unit/testutil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/spill.h"

typedef struct got {
    uint64_t lsn[20000];
    char text[20000][32];
    size_t n;
} got_t;
static got_t g;

static wc_status_t collect(void *ctx, uint64_t lsn, const uint8_t *msg, size_t len, char *err, size_t errlen)
{
    (void)ctx; (void)err; (void)errlen;
    g.lsn[g.n] = lsn;
    snprintf(g.text[g.n], sizeof g.text[g.n], "%.*s", (int)len, (const char *)msg);
    g.n++;
    return WC_OK;
}

static void put(spl_store_t *s, uint32_t xid, uint32_t sub, uint64_t lsn)
{
    char m[32], err[256];
    int n = snprintf(m, sizeof m, "x%u-s%u-%llu", xid, sub, (unsigned long long)lsn);
    assert_int_equal(spl_append(s, xid, sub, lsn, (const uint8_t *)m, (size_t)n, err, sizeof err), 0);
}

static char dir[64];

static void test_memory_and_files(void **st)
{
    (void)st;
    char err[256];
    /* 64 KiB budget: the 5000-message transaction goes to its file, the small one stays in memory */
    spl_store_t *s = spl_new(dir, 64 * 1024, err, sizeof err);
    assert_non_null(s);
    for (uint64_t i = 1; i <= 5000; i++) {
        put(s, 700, 700, i);
        if (i % 1000 == 0)
            put(s, 701, 701, 100000 + i);
    }
    spl_stats_t ss = spl_stats(s);
    assert_true(ss.spilled_bytes > 0);
    assert_true(ss.mem_bytes <= 64 * 1024);
    assert_true(ss.peak_mem_bytes <= 64 * 1024 + 64);
    assert_true(ss.file_bytes < ss.spilled_bytes / 2);   /* compressed */
    assert_int_equal(ss.open_txns, 2);
    g.n = 0;
    assert_int_equal(spl_replay(s, 700, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 5000);
    for (size_t i = 0; i < g.n; i++)
        assert_int_equal(g.lsn[i], i + 1);
    assert_string_equal(g.text[4999], "x700-s700-5000");
    g.n = 0;
    assert_int_equal(spl_replay(s, 701, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 5);
    assert_int_equal(spl_stats(s).open_txns, 0);
    assert_int_equal(spl_stats(s).mem_bytes, 0);
    /* a transaction never seen replays nothing */
    g.n = 0;
    assert_int_equal(spl_replay(s, 999, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 0);
    spl_free(s);
}

static void test_subxact_abort(void **st)
{
    (void)st;
    char err[256];
    spl_store_t *s = spl_new(dir, 4 * 1024, err, sizeof err);
    /* top 800: 1..100 top, 101..300 sub 801 (goes to file), 301..310 sub 802 nested after it,
     * abort 801 (cut on file, 802 goes too), 311..320 sub 803, abort 803 (cut in memory), 321..330 top */
    uint64_t l = 1;
    for (; l <= 100; l++) put(s, 800, 800, l);
    for (; l <= 300; l++) put(s, 800, 801, l);
    for (; l <= 310; l++) put(s, 800, 802, l);
    spl_abort(s, 800, 801);
    for (; l <= 320; l++) put(s, 800, 803, l);
    spl_abort(s, 800, 803);
    for (; l <= 330; l++) put(s, 800, 800, l);
    /* an unknown subtransaction abort changes nothing */
    spl_abort(s, 800, 12345);
    /* a whole transaction abort drops it */
    put(s, 900, 900, 1);
    spl_abort(s, 900, 900);
    g.n = 0;
    assert_int_equal(spl_replay(s, 900, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(spl_replay(s, 800, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 110);
    for (size_t i = 0; i < 100; i++)
        assert_int_equal(g.lsn[i], i + 1);
    for (size_t i = 100; i < 110; i++)
        assert_int_equal(g.lsn[i], 321 + (i - 100));
    spl_free(s);
}

static void test_reset_and_no_leftovers(void **st)
{
    (void)st;
    char err[256];
    spl_store_t *s = spl_new(dir, 1024, err, sizeof err);
    for (uint64_t i = 1; i <= 500; i++)
        put(s, 1, 1, i);
    spl_reset(s);
    assert_int_equal(spl_stats(s).open_txns, 0);
    g.n = 0;
    assert_int_equal(spl_replay(s, 1, collect, NULL, err, sizeof err), 0);
    assert_int_equal(g.n, 0);
    spl_free(s);
    /* spill files are unlinked at creation: nothing is left in the directory */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        files += e->d_name[0] != '.';
    closedir(d);
    assert_int_equal(files, 0);
    /* an unusable directory is a clear error */
    assert_null(spl_new("/proc/walcast-no-such-dir", 1024, err, sizeof err));
    assert_non_null(strstr(err, "walcast.spill.dir"));
    /* checked at start: a file is not a directory; a directory open to others is made private */
    char path[300];
    snprintf(path, sizeof path, "%s.file", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_null(spl_new(path, 1024, err, sizeof err));
    assert_non_null(strstr(err, "is not a directory"));
    unlink(path);
    chmod(dir, 0755);
    s = spl_new(dir, 1024, err, sizeof err);
    assert_non_null(s);
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    spl_free(s);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/walcast-test-spill-%d", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_and_files),
        cmocka_unit_test(test_subxact_abort),
        cmocka_unit_test(test_reset_and_no_leftovers),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return rc;
}
