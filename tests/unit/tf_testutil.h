/* tf_testutil.h: what the transform unit tests (test_transform.c, test_transform_outbox.c) share: a
 * named schema, and a chain's configuration parsed or refused. */
#ifndef WALCAST_TF_TESTUTIL_H
#define WALCAST_TF_TESTUTIL_H

#include "tests/unit/testutil.h"

#include "schemas/transform.h"

static inline cs_schema_t *named(arena_t *a, ct_type_t t, bool opt, const char *name, int version)
{
    cs_schema_t *s = cs_new(a, t, opt);
    s->name = name;
    s->version = version;
    return s;
}

/* The configuration of KV (key, value, ..., NULL), which must parse. */
static inline tf_spec_t *spec(const char *const *kv)
{
    tf_kv_t l[64];
    size_t n = 0;
    for (; kv[n * 2]; n++)
        l[n] = (tf_kv_t){ kv[n * 2], kv[n * 2 + 1] };
    tf_spec_t *s = NULL;
    char err[1024];
    if (tf_spec_parse(l, n, &s, err, sizeof err) < 0)
        fail_msg("spec refused: %s", err);
    return s;
}

/* KV must be refused with an error that contains WANT. */
static inline void spec_error(const char *const *kv, const char *want)
{
    tf_kv_t l[64];
    size_t n = 0;
    for (; kv[n * 2]; n++)
        l[n] = (tf_kv_t){ kv[n * 2], kv[n * 2 + 1] };
    tf_spec_t *s = NULL;
    char err[4096] = "";
    assert_int_equal(tf_spec_parse(l, n, &s, err, sizeof err), -1);
    assert_null(s);
    if (!strstr(err, want))
        fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

#endif
