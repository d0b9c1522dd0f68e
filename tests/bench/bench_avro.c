/* bench_avro.c: the sink's Avro input decoded on the same Debezium change events (Confluent wire format, key +
 * value) by walcast's decoder (schemas/avro_dec.c, through sinks/envelope.c) and by avro-c with schema
 * resolution (and without, the floor of what avro-c costs), each into an env_event_t; records/s, medians.
 * Usage: bench_avro [records per run] [runs] */
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "schemas/avro.h"
#include "sinks/envelope.h"
#include "tests/bench/orders.h"

#define DISTINCT 1024   /* distinct encoded events, decoded round-robin */

static const char *schema_text[3];   /* by registry id 1 (key) and 2 (value) */

static int fetch(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    (void)ctx;
    if (id < 1 || id > 2) {
        snprintf(err, errlen, "no schema %d", id);
        return -1;
    }
    buf_puts(out, schema_text[id]);
    return 0;
}

/* ---- avro-c: a resolved writer per schema id (writer schema from the registry, reader schema the sink's),
 * the generic value walked into the same cv_value_t tree walcast's decoder builds ---- */
typedef struct ac_side {
    avro_schema_t writer, reader;
    avro_value_iface_t *resolver, *reader_class, *writer_class;
    avro_value_t wval, rval, plain;   /* plain: a generic value of the writer schema, read without resolution */
} ac_side_t;

static int ac_open(ac_side_t *s, const char *text)
{
    if (avro_schema_from_json_length(text, strlen(text), &s->writer) ||
        avro_schema_from_json_length(text, strlen(text), &s->reader)) {
        fprintf(stderr, "avro-c: %s\n", avro_strerror());
        return -1;
    }
    if (!(s->resolver = avro_resolved_writer_new(s->writer, s->reader)) ||
        !(s->reader_class = avro_generic_class_from_schema(s->reader)) ||
        !(s->writer_class = avro_generic_class_from_schema(s->writer)) ||
        avro_generic_value_new(s->reader_class, &s->rval) || avro_resolved_writer_new_value(s->resolver, &s->wval) ||
        avro_generic_value_new(s->writer_class, &s->plain)) {
        fprintf(stderr, "avro-c: %s\n", avro_strerror());
        return -1;
    }
    avro_resolved_writer_set_dest(&s->wval, &s->rval);
    return 0;
}

static void ac_close(ac_side_t *s)
{
    avro_value_decref(&s->wval);
    avro_value_decref(&s->rval);
    avro_value_decref(&s->plain);
    avro_value_iface_decref(s->writer_class);
    avro_value_iface_decref(s->resolver);
    avro_value_iface_decref(s->reader_class);
    avro_schema_decref(s->writer);
    avro_schema_decref(s->reader);
}

static int ac_walk(arena_t *a, avro_value_t *v, cv_value_t *out)
{
    const char *p;
    const void *bp;
    size_t n;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    int b;
    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        *out = cv_null();
        return 0;
    case AVRO_BOOLEAN:
        avro_value_get_boolean(v, &b);
        *out = cv_bool(b);
        return 0;
    case AVRO_INT32:
        avro_value_get_int(v, &i32);
        *out = cv_int(i32);
        return 0;
    case AVRO_INT64:
        avro_value_get_long(v, &i64);
        *out = cv_int(i64);
        return 0;
    case AVRO_FLOAT:
        avro_value_get_float(v, &f);
        *out = cv_float(f);
        return 0;
    case AVRO_DOUBLE:
        avro_value_get_double(v, &d);
        *out = cv_float(d);
        return 0;
    case AVRO_STRING:
        avro_value_get_string(v, &p, &n);   /* n counts the NUL */
        *out = cv_str(arena_strndup(a, p, n ? n - 1 : 0), n ? n - 1 : 0);
        return 0;
    case AVRO_BYTES:
        avro_value_get_bytes(v, &bp, &n);
        *out = cv_str(arena_strndup(a, bp, n), n);
        return 0;
    case AVRO_UNION: {
        avro_value_t br;
        if (avro_value_get_current_branch(v, &br))
            return -1;
        return ac_walk(a, &br, out);
    }
    case AVRO_RECORD:
    case AVRO_ARRAY: {
        avro_value_get_size(v, &n);
        *out = cv_list(a, n);
        for (size_t k = 0; k < n; k++) {
            avro_value_t c;
            avro_value_get_by_index(v, k, &c, NULL);
            if (ac_walk(a, &c, &out->u.list.v[k]) < 0)
                return -1;
        }
        return 0;
    }
    default:
        fprintf(stderr, "avro-c walk: type %d not in the bench schema\n", avro_value_get_type(v));
        return -1;
    }
}

static const char *cv_text(const cv_value_t *v)
{
    return v->null ? "" : v->u.s.p;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (runs < 1 || runs > 99 || n < 1)
        return 2;
    arena_t *sa = arena_new(65536);
    char err[512];
    cs_schema_t *key = key_schema(sa);
    cs_schema_t *env = envelope_schema(sa, row_schema(sa));
    buf_t kt, vt;
    buf_init(&kt);
    buf_init(&vt);
    if (avro_enc_schema(&kt, key, true, err, sizeof err) < 0 || avro_enc_schema(&vt, env, true, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    schema_text[1] = buf_cstr(&kt);
    schema_text[2] = buf_cstr(&vt);
    buf_t keys[DISTINCT], vals[DISTINCT];
    size_t bytes = 0;
    for (long i = 0; i < DISTINCT; i++) {
        buf_init(&keys[i]);
        buf_init(&vals[i]);
        cv_value_t kv = cv_list(sa, 1), ev = envelope_value(sa, i);
        kv.u.list.v[0] = cv_int(i);
        avro_enc_header(&keys[i], 1);
        avro_enc_header(&vals[i], 2);
        if (avro_enc_value(&keys[i], key, &kv, err, sizeof err) < 0 || avro_enc_value(&vals[i], env, &ev, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        bytes += keys[i].len + vals[i].len;
    }

    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    env_event_t ev;
    /* the Connect schemas of both paths: converted once per schema id, as the decoder does */
    if (env_decode_avro(d, a, keys[0].data, keys[0].len, vals[0].data, vals[0].len, fetch, NULL, &ev, err, sizeof err) < 0) {
        fprintf(stderr, "walcast decoder: %s\n", err);
        return 1;
    }
    const cs_schema_t *kschema = ev.key_schema, *rschema = ev.row_schema;
    ac_side_t ak, av;
    if (ac_open(&ak, schema_text[1]) < 0 || ac_open(&av, schema_text[2]) < 0)
        return 1;
    avro_reader_t rd = avro_reader_memory("", 0);

    double rate[3][99];
    long check[3] = { 0, 0, 0 };
    for (int r = 0; r < runs; r++)
        for (int m = 0; m < 3; m++) {
            struct timespec t0, t1;
            long sum = 0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            for (long i = 0; i < n; i++) {
                const buf_t *k = &keys[i % DISTINCT], *v = &vals[i % DISTINCT];
                if ((i & 255) == 0)
                    arena_reset(a);   /* the sink resets its arena per batch */
                if (m == 0) {
                    if (env_decode_avro(d, a, k->data, k->len, v->data, v->len, fetch, NULL, &ev, err, sizeof err) < 0) {
                        fprintf(stderr, "walcast decoder: %s\n", err);
                        return 1;
                    }
                } else {
                    /* avro-c: both records through their resolved writers (m 1) or straight into a value of
                     * the writer schema (m 2), walked into the event */
                    cv_value_t kv, e;
                    avro_reader_memory_set_source(rd, k->data + 5, (int64_t)k->len - 5);
                    avro_value_t *kin = m == 1 ? &ak.wval : &ak.plain, *kout = m == 1 ? &ak.rval : &ak.plain;
                    avro_value_t *vin = m == 1 ? &av.wval : &av.plain, *vout = m == 1 ? &av.rval : &av.plain;
                    if (avro_value_read(rd, kin) || ac_walk(a, kout, &kv) < 0) {
                        fprintf(stderr, "avro-c: %s\n", avro_strerror());
                        return 1;
                    }
                    avro_reader_memory_set_source(rd, v->data + 5, (int64_t)v->len - 5);
                    if (avro_value_read(rd, vin) || ac_walk(a, vout, &e) < 0) {
                        fprintf(stderr, "avro-c: %s\n", avro_strerror());
                        return 1;
                    }
                    memset(&ev, 0, sizeof ev);
                    ev.key_schema = kschema;
                    ev.key = kv;
                    ev.row_schema = rschema;
                    ev.op = (env_op_t)cv_text(&e.u.list.v[3])[0];
                    ev.has_before = !e.u.list.v[0].null;
                    ev.has_after = !e.u.list.v[1].null;
                    ev.before = e.u.list.v[0];
                    ev.after = e.u.list.v[1];
                    const cv_value_t *s = e.u.list.v[2].u.list.v;
                    ev.source.name = cv_text(&s[2]);
                    ev.source.db = cv_text(&s[5]);
                    ev.source.schema = cv_text(&s[9]);
                    ev.source.table = cv_text(&s[10]);
                    ev.source.ts_ms = s[3].u.i;
                    ev.source.ts_us = s[7].null ? s[3].u.i * 1000 : s[7].u.i;
                    ev.source.lsn = s[12].null ? 0 : (uint64_t)s[12].u.i;
                    ev.source.txid = s[11].null ? -1 : s[11].u.i;
                    ev.ts_ms = e.u.list.v[4].null ? 0 : e.u.list.v[4].u.i;
                }
                sum += ev.after.u.list.v[0].u.i + (long)ev.source.lsn + ev.op;
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
            rate[m][r] = (double)n / s;
            if (r == 0)
                check[m] = sum;
        }
    if (check[0] != check[1] || check[0] != check[2]) {
        fprintf(stderr, "bench_avro: the decoders disagree (checksums %ld, %ld, %ld)\n", check[0], check[1], check[2]);
        return 1;
    }
    for (int m = 0; m < 3; m++)   /* sort for the median */
        for (int i = 1; i < runs; i++)
            for (int j = i; j > 0 && rate[m][j - 1] > rate[m][j]; j--) {
                double t = rate[m][j];
                rate[m][j] = rate[m][j - 1];
                rate[m][j - 1] = t;
            }
    double own = rate[0][runs / 2], ac = rate[1][runs / 2], plain = rate[2][runs / 2];
    printf("== sink Avro decode: Debezium change events (key + value, %.0f bytes/record), median of %d runs x %ld\n",
           (double)bytes / DISTINCT, runs, n);
    printf("%-58s %12.0f records/s (min %.0f, max %.0f)\n", "walcast decoder (schemas/avro_dec.c)", own, rate[0][0],
           rate[0][runs - 1]);
    printf("%-58s %12.0f records/s (min %.0f, max %.0f)\n", "avro-c 1.11 (generic value, resolved writer, walked)", ac,
           rate[1][0], rate[1][runs - 1]);
    printf("%-58s %12.0f records/s (min %.0f, max %.0f)\n", "avro-c 1.11 without resolution (writer schema only)", plain,
           rate[2][0], rate[2][runs - 1]);
    printf("walcast / avro-c: %.2fx (%.2fx without resolution)\n", own / ac, own / plain);
    avro_reader_free(rd);
    ac_close(&ak);
    ac_close(&av);
    env_decoder_free(d);
    arena_free(a);
    for (long i = 0; i < DISTINCT; i++) {
        buf_free(&keys[i]);
        buf_free(&vals[i]);
    }
    buf_free(&kt);
    buf_free(&vt);
    arena_free(sa);
    return 0;
}
