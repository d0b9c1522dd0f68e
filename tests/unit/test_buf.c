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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
