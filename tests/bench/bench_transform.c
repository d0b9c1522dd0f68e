/* bench_transform.c: what the transform chain itself costs per record, without Kafka or PostgreSQL: the
 * same Debezium change events (a 10-column row) JSON-encoded as they are, and through unwrap + RegexRouter +
 * ReplaceField (scripts/bench.sh's chain) then encoded, and the chain alone; ns/record, medians.
 * Usage: bench_transform [records per run] [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/converter.h"
#include "schemas/transform.h"

static cs_schema_t *named(arena_t *a, ct_type_t t, bool opt, const char *name, int version)
{
    cs_schema_t *s = cs_new(a, t, opt);
    s->name = name;
    s->version = version;
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 500000;
    int runs = argc > 2 ? atoi(argv[2]) : 7;
    arena_t *a = arena_new(1 << 16);
    cs_schema_t *key = named(a, CT_STRUCT, false, "bench.public.bench.Key", 0);
    cs_field_add(a, key, "id", cs_new(a, CT_INT32, false));
    cs_schema_t *row = named(a, CT_STRUCT, true, "bench.public.bench.Value", 0);
    static const char *cols[] = { "id", "v", "t", "c4", "c5", "c6", "c7", "c8", "c9", "c10" };
    for (int i = 0; i < 10; i++)
        cs_field_add(a, row, cols[i], cs_new(a, i < 2 ? CT_INT32 : i == 2 ? CT_STRING : CT_INT64, i >= 2));
    cs_schema_t *src = named(a, CT_STRUCT, false, "io.debezium.connector.postgresql.Source", 1);
    static const char *sf[] = { "version", "connector", "name", "ts_ms", "db", "schema", "table", "lsn" };
    for (int i = 0; i < 8; i++)
        cs_field_add(a, src, sf[i], cs_new(a, i == 3 || i == 7 ? CT_INT64 : CT_STRING, i == 7));
    cs_schema_t *env = named(a, CT_STRUCT, false, "bench.public.bench.Envelope", 2);
    cs_field_add(a, env, "before", row);
    cs_field_add(a, env, "after", row);
    cs_field_add(a, env, "source", src);
    cs_field_add(a, env, "op", cs_new(a, CT_STRING, false));
    cs_field_add(a, env, "ts_ms", cs_new(a, CT_INT64, true));
    rec_codec_t kc, vc;
    rec_codec_bind(&kc, key);
    rec_codec_bind(&vc, env);
    cv_value_t k = cv_list(a, 1), r = cv_list(a, 10), s = cv_list(a, 8), e = cv_list(a, 5);
    for (int i = 0; i < 10; i++)
        r.u.list.v[i] = i == 2 ? cv_str("row 12345", 9) : cv_int(12345 + i);
    for (int i = 0; i < 8; i++)
        s.u.list.v[i] = i == 3 || i == 7 ? cv_int(1700000000000LL + i) : cv_str("bench", 5);
    e.u.list.v[1] = r;
    e.u.list.v[2] = s;
    e.u.list.v[3] = cv_str("c", 1);
    e.u.list.v[4] = cv_int(1700000000001LL);
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "bench.public.bench";
    ev.op = 'c';
    ev.kc = &kc;
    ev.key = &k;
    ev.vc = &vc;
    ev.value = &e;
    const tf_kv_t kv[] = {
        { "transforms", "unwrap,route,edit" },
        { "transforms.unwrap.type", "io.debezium.transforms.ExtractNewRecordState" },
        { "transforms.unwrap.add.fields", "op,source.ts_ms" },
        { "transforms.route.type", "org.apache.kafka.connect.transforms.RegexRouter" },
        { "transforms.route.regex", "bench\\.public\\.(.*)" },
        { "transforms.route.replacement", "chain_bench_$1" },
        { "transforms.edit.type", "org.apache.kafka.connect.transforms.ReplaceField$Value" },
        { "transforms.edit.exclude", "t" },
        { "transforms.edit.renames", "v:value" },
    };
    tf_spec_t *spec;
    char err[512];
    if (tf_spec_parse(kv, sizeof kv / sizeof kv[0], &spec, err, sizeof err) < 0) {
        fprintf(stderr, "bench_transform: %s\n", err);
        return 1;
    }
    tf_chain_t *chain = tf_chain_new(spec);
    arena_t *ta = arena_new(1 << 16);
    conv_side_t js = { .kind = CONV_JSON, .schemas = true };
    conv_t *conv = conv_new(&js, &js);
    double *t[3];
    for (int m = 0; m < 3; m++)
        t[m] = calloc((size_t)runs, sizeof(double));
    size_t bytes[2] = { 0, 0 };
    for (int run = 0; run < runs; run++)
        for (int m = 0; m < 3; m++) {
            double t0 = now_s();
            for (long i = 0; i < n; i++) {
                rec_t out;
                rec_event_t tev;
                bool dropped;
                if (m == 0) {
                    conv_encode(conv, &ev, &out, err, sizeof err);
                    bytes[0] = out.valuelen;
                    continue;
                }
                arena_reset(ta);
                if (tf_chain_apply(chain, ta, &ev, &tev, &dropped, err, sizeof err) != WC_OK || dropped) {
                    fprintf(stderr, "bench_transform: %s\n", err);
                    return 1;
                }
                if (m == 1) {
                    conv_encode(conv, &tev, &out, err, sizeof err);
                    bytes[1] = out.valuelen;
                }
            }
            t[m][run] = (now_s() - t0) * 1e9 / (double)n;
        }
    for (int m = 0; m < 3; m++)
        qsort(t[m], (size_t)runs, sizeof(double), cmp);
    printf("transform chain (unwrap + RegexRouter + ReplaceField), JSON with schemas, %ld records x %d runs, medians:\n", n, runs);
    printf("  encode the envelope as it is       %8.0f ns/record  (value %zu bytes)\n", t[0][runs / 2], bytes[0]);
    printf("  chain, then encode                 %8.0f ns/record  (value %zu bytes)\n", t[1][runs / 2], bytes[1]);
    printf("  the chain alone                    %8.0f ns/record  (%.1f%% of encoding the envelope)\n", t[2][runs / 2],
           100.0 * t[2][runs / 2] / t[0][runs / 2]);
    tf_chain_free(chain);
    tf_spec_free(spec);
    conv_free(conv);
    rec_codec_free(&kc);
    rec_codec_free(&vc);
    arena_free(ta);
    arena_free(a);
    for (int m = 0; m < 3; m++)
        free(t[m]);
    return 0;
}
