/* bench_json_dec.c: the sink's JSON input (JsonConverter records, key + value) decoded into env_event_t by
 * schemas/json_dec.c's reader, next to jansson's parse alone of the same payloads (json_dec_split takes the
 * schema off as before, json_loadb the payload, no walk into values: the floor of a jansson-based reader), on the same Debezium change events with schemas (schemas.enable=true,
 * a few KB a record) and without; records per CPU second of the process (a loaded machine steals wall time, not
 * CPU time) and CPU ns per record, medians of several runs. The sinks read JSON with jansson too
 * until issue 22; the commit that removed it measured both (its message has the figures).
 * Usage: bench_json_dec [records per run] [runs] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/json.h"
#include "schemas/json_dec.h"
#include "sinks/envelope.h"
#include "tests/bench/orders.h"

#define DISTINCT 1024   /* distinct encoded events, decoded round-robin */
#define MAX_RUNS 99

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* jansson's DOM of a record's payload (the schema split off by json_dec_split); NULL on bad JSON. */
static json_t *payload_dom(json_dec_t *jd, int slot, arena_t *a, const buf_t *b)
{
    const cs_schema_t *s;
    const char *p;
    size_t n;
    char err[256];
    if (json_dec_split(jd, slot, a, b->data, b->len, &s, &p, &n, err, sizeof err) < 0)
        return NULL;
    return json_loadb(p, n, JSON_DECODE_ANY, NULL);
}

/* records per CPU second over n records, decoded by d or (d NULL) their payloads parsed by jansson; *check sums what came
 * out. */
static int run(env_decoder_t *d, arena_t *a, buf_t *keys, buf_t *vals, long n, double *rate, long *check)
{
    static json_dec_t *jd;
    if (!jd)
        jd = json_dec_new();
    env_event_t ev;
    char err[512];
    struct timespec t0, t1;
    long sum = 0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    for (long i = 0; i < n; i++) {
        const buf_t *k = &keys[i % DISTINCT], *v = &vals[i % DISTINCT];
        if ((i & 255) == 0)
            arena_reset(a);   /* the sink resets its arena per batch */
        if (!d) {
            json_t *kj = payload_dom(jd, 0, a, k), *vj = payload_dom(jd, 1, a, v);
            if (!kj || !vj) {
                fprintf(stderr, "bench_json_dec: jansson cannot parse a payload\n");
                return -1;
            }
            sum += (long)json_object_size(vj);
            json_decref(kj);
            json_decref(vj);
            continue;
        }
        if (env_decode_json(d, a, k->data, k->len, v->data, v->len, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "bench_json_dec: %s\n", err);
            return -1;
        }
        sum += ev.after.u.list.v[0].u.i + (long)ev.source.lsn + ev.op + (long)ev.after.u.list.n;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    *rate = (double)n / ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    *check = sum;
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > MAX_RUNS || n < 1)
        return 2;
    arena_t *sa = arena_new(65536), *a = arena_new(65536);
    cs_schema_t *key = key_schema(sa), *env = envelope_schema(sa, row_schema(sa));
    buf_t ks, vs;
    buf_init(&ks);
    buf_init(&vs);
    json_enc_schema(&ks, key);
    json_enc_schema(&vs, env);
    json_plan_t *kp = json_plan_new(key), *vp = json_plan_new(env);
    static buf_t keys[2][DISTINCT], vals[2][DISTINCT];   /* [0] with schemas, [1] without */
    size_t bytes[2] = { 0, 0 };
    for (long i = 0; i < DISTINCT; i++) {
        cv_value_t kv = cv_list(sa, 1), ev = envelope_value(sa, i);
        kv.u.list.v[0] = cv_int(i);
        for (int w = 0; w < 2; w++) {
            buf_init(&keys[w][i]);
            buf_init(&vals[w][i]);
            json_enc_envelope(&keys[w][i], w ? NULL : ks.data, w ? 0 : ks.len, kp, &kv);
            json_enc_envelope(&vals[w][i], w ? NULL : vs.data, w ? 0 : vs.len, vp, &ev);
            bytes[w] += keys[w][i].len + vals[w][i].len;
        }
    }
    json_plan_free(kp);
    json_plan_free(vp);
    static const char *const form[2] = { "with schemas", "without schemas" };
    printf("== sink JSON decode: Debezium change events (key + value), median of %d runs x %ld records, CPU time\n", runs, n);
    for (int w = 0; w < 2; w++) {
        double rate[2][MAX_RUNS];
        long check[2];
        env_decoder_t *d[2] = { env_decoder_new(), NULL };
        for (int r = 0; r < runs; r++)   /* the two take turns: load on the machine hits both alike */
            for (int m = 0; m < 2; m++)
                if (run(d[m], a, keys[w], vals[w], n, &rate[m][r], &check[m]) < 0)
                    return 1;
        double own = median(rate[0], runs), jan = median(rate[1], runs);
        printf("%-16s %5.0f bytes/record: schemas/json_dec.c %10.0f records/s (%5.0f CPU ns/record) | jansson's "
               "parse alone %10.0f records/s | %.2fx\n", form[w], (double)bytes[w] / DISTINCT, own, 1e9 / own, jan,
               own / jan);
        env_decoder_free(d[0]);
    }
    for (int w = 0; w < 2; w++)
        for (long i = 0; i < DISTINCT; i++) {
            buf_free(&keys[w][i]);
            buf_free(&vals[w][i]);
        }
    buf_free(&ks);
    buf_free(&vs);
    arena_free(sa);
    arena_free(a);
    return 0;
}
