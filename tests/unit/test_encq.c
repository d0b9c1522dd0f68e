/* test_encq.c: the stream's encoder threads (walcast.encode.threads): records come out encoded in the
 * order they were queued, whatever thread encoded them; what they pointed to may change after the push
 * (the copy); a failed send stops the sending and keeps the rest for encq_reset; a full ring makes the
 * push send what is encoded and wait. */
#include "tests/unit/testutil.h"

#include "agent/config.h"
#include "agent/encq.h"
#include "agent/log.h"
#include "schemas/connect.h"
#include "schemas/record.h"

static volatile sig_atomic_t stop_flag;

typedef struct sink {
    int n;
    int fail_at;                  /* the send that fails (-1: none) */
    char **values;
    char **topics;
} sink_t;

static wc_status_t collect(void *ctx, const rec_t *r, char *err, size_t errlen)
{
    sink_t *k = ctx;
    if (k->n == k->fail_at) {
        snprintf(err, errlen, "refused");
        return WC_ABORT;
    }
    k->values = realloc(k->values, (size_t)(k->n + 1) * sizeof *k->values);
    k->topics = realloc(k->topics, (size_t)(k->n + 1) * sizeof *k->topics);
    k->values[k->n] = strndup(r->value, r->valuelen);
    k->topics[k->n] = strdup(r->topic);
    k->n++;
    return WC_OK;
}

static int waits;
static void on_wait(void *ctx) { (void)ctx; waits++; }

static void sink_free(sink_t *k)
{
    for (int i = 0; i < k->n; i++) {
        free(k->values[i]);
        free(k->topics[i]);
    }
    free(k->values);
    free(k->topics);
    memset(k, 0, sizeof *k);
}

static void parse_cfg(conn_config_t *c)
{
    cfg_map_t m = { 0 };
    char err[256];
    const char *text = "name=c1\ndatabase.hostname=db\ndatabase.user=u\ndatabase.password=p\ndatabase.dbname=app\n"
                       "topic.prefix=srv\nvalue.converter.schemas.enable=false\nkey.converter.schemas.enable=false\n";
    assert_int_equal(cfg_parse_properties(text, &m, err, sizeof err), 0);
    assert_int_equal(cfg_connector_parse(&m, c, err, sizeof err), 0);
    assert_int_equal(c->encode_threads, 0);   /* the default: off (experimental) */
    cfg_map_free(&m);
}

/* n records over ntables topics (one codec each), pushed with their strings overwritten after each push. */
static void run(int nthreads, int n, int ntables)
{
    conn_config_t c;
    parse_cfg(&c);
    char err[256];
    encq_t *q = encq_new(&c, nthreads, &stop_flag, err, sizeof err);
    assert_non_null(q);
    rec_codec_t codec[8];
    char topics[8][16];
    for (int t = 0; t < ntables; t++) {
        rec_codec_bind(&codec[t], cs_primitive(CT_STRING));
        snprintf(topics[t], sizeof topics[t], "t%d", t);
    }
    sink_t k = { .fail_at = -1 };
    for (int i = 0; i < n; i++) {
        char text[32], topic[16];
        int t = i % ntables;
        snprintf(text, sizeof text, "v%06d", i);
        snprintf(topic, sizeof topic, "%s", topics[t]);
        cv_value_t v = cv_str(text, strlen(text));
        rec_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.topic = topic;
        ev.vc = &codec[t];
        ev.value = &v;
        assert_int_equal(encq_push(q, &ev, 1, collect, on_wait, &k, err, sizeof err), WC_OK);
        memset(text, 'X', sizeof text - 1);   /* the queue holds its own copy */
        memset(topic, 'Y', sizeof topic - 1);
    }
    assert_int_equal(encq_drain(q, collect, on_wait, &k, err, sizeof err), WC_OK);
    assert_true(encq_empty(q));
    assert_int_equal(k.n, n);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "\"v%06d\"", i);
        assert_string_equal(k.values[i], want);
        assert_string_equal(k.topics[i], topics[i % ntables]);
    }
    sink_free(&k);
    encq_free(q);
    for (int t = 0; t < ntables; t++)
        rec_codec_free(&codec[t]);
    cfg_connector_free(&c);
}

static void test_order_one_thread(void **s)
{
    (void)s;
    run(1, 5000, 1);   /* more than the ring holds: the push sends and waits */
}

static void test_order_three_threads(void **s)
{
    (void)s;
    run(3, 20000, 5);
}

/* A send that fails is returned; nothing after it is sent; encq_reset drops the rest and the queue works
 * again. */
static void test_send_failure_and_reset(void **s)
{
    (void)s;
    conn_config_t c;
    parse_cfg(&c);
    char err[256];
    encq_t *q = encq_new(&c, 2, &stop_flag, err, sizeof err);
    assert_non_null(q);
    rec_codec_t codec;
    rec_codec_bind(&codec, cs_primitive(CT_STRING));
    sink_t k = { .fail_at = 10 };
    for (int i = 0; i < 20; i++) {
        char text[16];
        snprintf(text, sizeof text, "r%d", i);
        cv_value_t v = cv_str(text, strlen(text));
        rec_event_t ev = { .topic = "t", .vc = &codec, .value = &v };
        /* the pushes themselves may already send (and fail): only the drain's result is checked */
        (void)encq_push(q, &ev, 1, collect, on_wait, &k, err, sizeof err);
    }
    assert_int_equal(encq_drain(q, collect, on_wait, &k, err, sizeof err), WC_ABORT);
    assert_string_equal(err, "refused");
    assert_int_equal(k.n, 10);
    assert_false(encq_empty(q));
    encq_reset(q);
    assert_true(encq_empty(q));
    k.fail_at = -1;
    cv_value_t v = cv_str("after", 5);
    rec_event_t ev = { .topic = "t", .vc = &codec, .value = &v };
    assert_int_equal(encq_push(q, &ev, 1, collect, on_wait, &k, err, sizeof err), WC_OK);
    assert_int_equal(encq_drain(q, collect, on_wait, &k, err, sizeof err), WC_OK);
    assert_int_equal(k.n, 11);
    assert_string_equal(k.values[10], "\"after\"");
    sink_free(&k);
    encq_free(q);
    rec_codec_free(&codec);
    cfg_connector_free(&c);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_one_thread),
        cmocka_unit_test(test_order_three_threads),
        cmocka_unit_test(test_send_failure_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
