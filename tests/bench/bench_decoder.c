/* bench_decoder.c: decoder-only cost (pgoutput parse + event + JSON or Avro encoding, no Kafka) on a captured
 * Insert of scripts/bench.sh's table, to separate walcast's own CPU cost per row from librdkafka's: CPU ns per
 * row (the process's CPU clock), median of the runs. Usage: bench_decoder [rows per run] [runs] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decoder/event.h"
#include "schemas/converter.h"

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t bytes;
static conv_t *conv;
static wc_status_t emit(void *ctx, const rec_event_t *ev, char *err, size_t errlen)
{
    (void)ctx;
    /* Avro without a registry: fixed ids, as if the registry had answered */
    if (ev->kc && ev->kc->id < 0)
        ev->kc->id = 1;
    if (ev->vc && ev->vc->id < 0)
        ev->vc->id = 2;
    rec_t r;
    wc_status_t st = conv_encode(conv, ev, &r, err, errlen);
    bytes += r.keylen + r.valuelen;
    return st;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 1 || runs < 1 || runs > 99) {
        fprintf(stderr, "usage: bench_decoder [rows per run] [runs 1..99]\n");
        return 2;
    }
    /* Relation bench(id int4, v int4, t text) and Insert (42, 42, 'row 42') */
    static const uint8_t rel[] = { 'R', 0, 0, 0x40, 0, 'p', 'u', 'b', 'l', 'i', 'c', 0, 'b', 'e', 'n', 'c', 'h', 0, 'd', 0, 3,
                                   1, 'i', 'd', 0, 0, 0, 0, 23, 0xff, 0xff, 0xff, 0xff,
                                   0, 'v', 0, 0, 0, 0, 23, 0xff, 0xff, 0xff, 0xff,
                                   0, 't', 0, 0, 0, 0, 25, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t ins[] = { 'I', 0, 0, 0x40, 0, 'N', 0, 3, 't', 0, 0, 0, 2, '4', '2', 't', 0, 0, 0, 2, '4', '2',
                                   't', 0, 0, 0, 6, 'r', 'o', 'w', ' ', '4', '2' };
    for (int mode = 0; mode < 3; mode++) {
        int schemas = mode == 1;
        evt_config_t c;
        memset(&c, 0, sizeof c);
        pgt_opts_default(&c.types);
        c.prefix = "bench";
        c.dbname = "postgres";
        c.tombstones = c.extended_headers = true;
        conv_side_t side = { .kind = mode == 2 ? CONV_AVRO : CONV_JSON, .schemas = schemas, .meta = true };
        conv = conv_new(&side, &side);
        flt_filters_t f;
        flt_init(&f);
        c.filters = &f;
        evt_ctx_t *e = evt_new(&c);
        rel_cache_t *rc = rel_cache_new(evt_table_free);
        arena_t *a = arena_new(65536);
        pgo_state_t st = { 1, false };
        pgo_msg_t m;
        char err[256];
        static const rel_catcol_t cols[] = { { "id", true, NULL, NULL }, { "v", true, NULL, NULL }, { "t", false, NULL, NULL } };
        static const char *const key[] = { "id" };
        rel_catinfo_t info = { cols, 3, key, 1 };
        rel_table_t *t;
        pgo_parse(&st, rel, sizeof rel, a, &m, err, sizeof err);
        if (rel_cache_put(rc, NULL, &m, &info, &t, err, sizeof err) < 0 || evt_table_prepare(e, t, err, sizeof err) != WC_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        evt_out_t out;
        double per[99];
        long i = 0;
        for (int r = 0; r < runs; r++) {
            double t0 = cpu_s();
            bytes = 0;
            for (long j = 0; j < n; j++, i++) {
                arena_reset(a);
                evt_pos_t pos = { .xid = 700, .commit_time_us = 1700000000000000 + i, .lsn = 0x3000000 + (uint64_t)i * 120,
                                  .last_commit_lsn = 0x2ffff00, .now_us = 1700000000100000 + i };
                if (pgo_parse(&st, ins, sizeof ins, a, &m, err, sizeof err) < 0 ||
                    evt_change(e, a, &pos, rel_cache_get(rc, 0x4000), &m, &out, err, sizeof err) != WC_OK ||
                    (out.n && emit(NULL, &out.ev[0], err, sizeof err) != WC_OK)) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
            }
            per[r] = (cpu_s() - t0) * 1e9 / (double)n;
        }
        qsort(per, (size_t)runs, sizeof per[0], cmp);
        printf("bench_decoder %-17s %8.0f CPU ns/row (median of %d x %ld rows, min %.0f), %5.0f bytes/row\n",
               mode == 2 ? "Avro" : schemas ? "JSON, schemas" : "JSON, no schemas", per[runs / 2], runs, n, per[0],
               (double)bytes / (double)n);
        arena_free(a);
        rel_cache_free(rc);
        evt_free(e);
        conv_free(conv);
        flt_free(&f);
    }
    return 0;
}
