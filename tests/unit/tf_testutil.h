/* tf_testutil.h: what the transform unit tests (test_transform.c, test_transform_outbox.c) share: a
 * named schema, a chain's configuration parsed or refused, the chain under test, a chain run on an event
 * and its result encoded, a header of that result. */
#ifndef WALCAST_TF_TESTUTIL_H
#define WALCAST_TF_TESTUTIL_H

#include "tests/unit/testutil.h"

#include "schemas/converter.h"
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

/* The chain under test and its configuration, in a test's fixture: tu_chain() builds one (freeing the one
 * before), tu_chain_free() frees the last. Zeroed: none yet. */
typedef struct tu_chain {
    tf_spec_t *spec;
    tf_chain_t *chain;
} tu_chain_t;

static inline void tu_chain_free(tu_chain_t *h)
{
    tf_chain_free(h->chain);
    tf_spec_free(h->spec);
    h->chain = NULL;
    h->spec = NULL;
}

/* The chain of the transforms KV configures, kept in h. */
static inline tf_chain_t *tu_chain(tu_chain_t *h, const char *const *kv)
{
    tu_chain_free(h);
    h->spec = spec(kv);
    h->chain = tf_chain_new(h->spec);
    return h->chain;
}

/* What a chain made of an event: dropped, an error (st, err), or the event (ev) and its record as text. */
typedef struct out {
    bool dropped;
    wc_status_t st;
    char topic[256];
    char key[1024], value[4096];
    bool key_null, value_null;
    rec_event_t ev;
    char err[1024];
} out_t;

/* Runs chain c on ev (in arena a) and encodes the result with conv. */
static inline out_t tu_run(arena_t *a, tf_chain_t *c, conv_t *conv, const rec_event_t *ev)
{
    out_t o;
    memset(&o, 0, sizeof o);
    o.st = tf_chain_apply(c, a, ev, &o.ev, &o.dropped, o.err, sizeof o.err);
    if (o.st != WC_OK || o.dropped)
        return o;
    rec_t r;
    char err[512];
    if (conv_encode(conv, &o.ev, &r, err, sizeof err) != WC_OK)
        fail_msg("encode: %s", err);
    snprintf(o.topic, sizeof o.topic, "%s", r.topic);
    o.key_null = !r.key;
    o.value_null = !r.value;
    if (r.key)
        snprintf(o.key, sizeof o.key, "%.*s", (int)r.keylen, (const char *)r.key);
    if (r.value)
        snprintf(o.value, sizeof o.value, "%.*s", (int)r.valuelen, (const char *)r.value);
    return o;
}

/* The value of header K of o's event as text (a NUL-terminated copy, "(null)" for a null value), NULL when
 * the event has no such header. The copy lasts until the next call. */
static inline const char *header(const out_t *o, const char *k)
{
    static char buf[1024];
    for (int i = 0; i < o->ev.nheaders; i++)
        if (!strcmp(o->ev.headers[i].key, k)) {
            if (!o->ev.headers[i].value)
                return "(null)";
            snprintf(buf, sizeof buf, "%.*s", (int)o->ev.headers[i].len, (const char *)o->ev.headers[i].value);
            return buf;
        }
    return NULL;
}

#endif
