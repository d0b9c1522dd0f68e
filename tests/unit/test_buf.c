/* test_buf.c: schemas/buf.h, the byte buffer, arena and the project's one hash (FNV-1a, 64-bit). */
#include "tests/unit/testutil.h"

#include "schemas/buf.h"

static void test_hash(void **s)
{
    (void)s;
    /* the published FNV-1a 64-bit test vectors (Fowler/Noll/Vo) */
    assert_true(buf_hash("", 0, 0) == 0xcbf29ce484222325ULL);
    assert_true(buf_hash("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
    assert_true(buf_hash("foobar", 6, 0) == 0x85944171f73967e8ULL);
    /* a result continues the hash over more bytes */
    assert_true(buf_hash("bar", 3, buf_hash("foo", 3, 0)) == buf_hash("foobar", 6, 0));
    /* another seed, another hash (the transforms keep apart hashes of different things by seed) */
    assert_true(buf_hash("foobar", 6, 2) != buf_hash("foobar", 6, 0));
}

/* Integer text: every digit count, both signs, the extremes (buf_put_u64 writes two digits per division) */
static void test_integers(void **s)
{
    (void)s;
    buf_t b;
    buf_init(&b);
    char want[32];
    /* 0, then for each power of ten p up to 10^19: p - 1, p, p + 1; then UINT64_MAX */
    uint64_t cases[64];
    size_t n = 0;
    cases[n++] = 0;
    for (uint64_t p = 10, d = 1; d <= 19; d++, p *= 10) {
        cases[n++] = p - 1;
        cases[n++] = p;
        cases[n++] = p + 1;
    }
    cases[n++] = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        buf_reset(&b);
        buf_put_u64(&b, cases[i]);
        snprintf(want, sizeof want, "%llu", (unsigned long long)cases[i]);
        assert_string_equal(buf_cstr(&b), want);
    }
    int64_t sv[] = { 0, -1, 7, -9, 10, -10, 99, -100, 1234567890123LL, INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof sv / sizeof sv[0]; i++) {
        buf_reset(&b);
        buf_put_i64(&b, sv[i]);
        snprintf(want, sizeof want, "%lld", (long long)sv[i]);
        assert_string_equal(buf_cstr(&b), want);
    }
    buf_reset(&b);
    buf_put_u64(&b, 1700000000000000000ULL);
    assert_string_equal(buf_cstr(&b), "1700000000000000000");
    /* the 8-digit chunks (zeros inside a chunk, a chunk all zeros, each digit count of the top one), and
     * pseudo-random values of every size, several to one buffer (written in place at its end) */
    uint64_t chunky[] = { 100000000ULL, 100000001ULL, 1000000000000000ULL, 10000000000000000ULL,
                          10000000000000001ULL, 1000000000000000001ULL, 10000000100000001ULL, 12345678000000009ULL,
                          1765000000123456789ULL, 99999999999999999ULL, 18000000000000000000ULL };
    for (size_t i = 0; i < sizeof chunky / sizeof chunky[0]; i++) {
        buf_reset(&b);
        buf_put_u64(&b, chunky[i]);
        snprintf(want, sizeof want, "%llu", (unsigned long long)chunky[i]);
        assert_string_equal(buf_cstr(&b), want);
    }
    uint64_t x = 88172645463325252ULL;
    char all[64 * 24];
    for (int round = 0; round < 2000; round++) {
        buf_reset(&b);
        size_t at = 0;
        for (int i = 0; i < 64; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t v = x >> (i % 64);
            buf_put_u64(&b, v);
            buf_putc(&b, ',');
            at += (size_t)snprintf(all + at, sizeof all - at, "%llu,", (unsigned long long)v);
        }
        assert_int_equal(b.len, at);
        assert_memory_equal(b.data, all, at);
    }
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
