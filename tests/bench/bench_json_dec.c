/* bench_json_dec.c: the sink's JSON input (JsonConverter records, key + value) decoded into env_event_t by the
 * two JSON readers walcast had: schemas/json_dec.c's cursor reader and jansson (a DOM, then walked), on the same
 * Debezium change events with schemas (schemas.enable=true, a few KB a record) and without; records/s, medians
 * of several runs next to each other. Usage: bench_json_dec [records per run] [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/json.h"
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

/* records/s of one reader over n records; *check sums what came out (the readers must agree). */
static int run(env_decoder_t *d, arena_t *a, buf_t *keys, buf_t *vals, long n, double *rate, long *check)
{
    env_event_t ev;
    char err[512];
    struct timespec t0, t1;
    long sum = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        const buf_t *k = &keys[i % DISTINCT], *v = &vals[i % DISTINCT];
        if ((i & 255) == 0)
            arena_reset(a);   /* the sink resets its arena per batch */
        if (env_decode_json(d, a, k->data, k->len, v->data, v->len, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "bench_json_dec: %s\n", err);
            return -1;
        }
        sum += ev.after.u.list.v[0].u.i + (long)ev.source.lsn + ev.op + (long)ev.after.u.list.n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
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
    static buf_t keys[2][DISTINCT], vals[2][DISTINCT];   /* [0] with schemas, [1] without */
    size_t bytes[2] = { 0, 0 };
    for (long i = 0; i < DISTINCT; i++) {
        cv_value_t kv = cv_list(sa, 1), ev = envelope_value(sa, i);
        kv.u.list.v[0] = cv_int(i);
        for (int w = 0; w < 2; w++) {
            /* without schemas: updates without before (REPLICA IDENTITY DEFAULT, most tables): a before whose
             * column is set where the after's is null fails both readers (the row's type comes off the after) */
            if (w)
                ev.u.list.v[0] = cv_null();
            buf_init(&keys[w][i]);
            buf_init(&vals[w][i]);
            json_enc_envelope(&keys[w][i], w ? NULL : ks.data, w ? 0 : ks.len, key, &kv);
            json_enc_envelope(&vals[w][i], w ? NULL : vs.data, w ? 0 : vs.len, env, &ev);
            bytes[w] += keys[w][i].len + vals[w][i].len;
        }
    }
    static const char *const form[2] = { "with schemas", "without schemas" };
    printf("== sink JSON decode: Debezium change events (key + value), median of %d runs x %ld records\n", runs, n);
    for (int w = 0; w < 2; w++) {
        double rate[2][MAX_RUNS];
        long check[2][MAX_RUNS];
        env_decoder_t *d[2] = { env_decoder_new(), env_decoder_new() };
        env_decoder_use_jansson(d[1], true);
        for (int r = 0; r < runs; r++)   /* the readers take turns: load on the machine hits both alike */
            for (int m = 0; m < 2; m++)
                if (run(d[m], a, keys[w], vals[w], n, &rate[m][r], &check[m][r]) < 0)
                    return 1;
        if (check[0][0] != check[1][0]) {
            fprintf(stderr, "bench_json_dec: the readers disagree %s (checksums %ld, %ld)\n", form[w], check[0][0],
                    check[1][0]);
            return 1;
        }
        double own = median(rate[0], runs), jan = median(rate[1], runs);
        printf("%-16s %5.0f bytes/record: cursor reader (schemas/json_dec.c) %10.0f records/s | jansson %10.0f "
               "records/s | %.2fx\n", form[w], (double)bytes[w] / DISTINCT, own, jan, own / jan);
        env_decoder_free(d[0]);
        env_decoder_free(d[1]);
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
