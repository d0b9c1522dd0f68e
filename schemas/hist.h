/* hist.h: a latency histogram with fixed buckets, written by one thread with relaxed atomic adds and read
 * by any (GET /metrics renders it as a Prometheus histogram in seconds). No lock, no allocation. */
#ifndef WALCAST_HIST_H
#define WALCAST_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "schemas/buf.h"

/* Upper bounds of the buckets, microseconds (the last bucket, +Inf, is implied). */
#define HIST_NBOUNDS 15
extern const int64_t hist_bounds_us[HIST_NBOUNDS];

typedef struct hist {
    atomic_uint_fast64_t bucket[HIST_NBOUNDS + 1];   /* not cumulative; [HIST_NBOUNDS]: above the last bound */
    atomic_uint_fast64_t count;
    atomic_int_fast64_t sum_us;
    atomic_int_fast64_t max_us;
} hist_t;

/* One observation of us microseconds (a negative one, clocks apart, counts as 0). */
void hist_observe(hist_t *h, int64_t us);
/* The samples of h in the text format: name_bucket{labels,le="..."} (cumulative), name_sum (seconds),
 * name_count; labels is the label text without braces (may be ""). */
void hist_render(buf_t *b, const hist_t *h, const char *name, const char *labels);

#endif
