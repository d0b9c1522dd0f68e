/* hist.c: fixed-bucket latency histograms (see hist.h). */
#include "schemas/hist.h"

#include <inttypes.h>

const int64_t hist_bounds_us[HIST_NBOUNDS] = { 1000,    5000,    10000,   25000,    50000,    100000,   250000,  500000,
                                               1000000, 2500000, 5000000, 10000000, 30000000, 60000000, 300000000 };

void hist_observe(hist_t *h, int64_t us)
{
    if (us < 0)
        us = 0;
    int i = 0;
    while (i < HIST_NBOUNDS && us > hist_bounds_us[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    if (us > atomic_load_explicit(&h->max_us, memory_order_relaxed))
        atomic_store_explicit(&h->max_us, us, memory_order_relaxed);
}

void hist_render(buf_t *b, const hist_t *h, const char *name, const char *labels)
{
    const char *sep = labels && *labels ? "," : "";
    uint64_t cum = 0;
    for (int i = 0; i <= HIST_NBOUNDS; i++) {
        cum += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < HIST_NBOUNDS)
            buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels ? labels : "", sep,
                       (double)hist_bounds_us[i] / 1e6, cum);
        else
            buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels ? labels : "", sep, cum);
    }
    /* the count after the buckets: a scrape between an observation's adds never shows +Inf < count */
    const char *open = labels && *labels ? "{" : "", *close = labels && *labels ? "}" : "";
    buf_printf(b, "%s_sum%s%s%s %.6f\n", name, open, labels ? labels : "", close,
               (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
    buf_printf(b, "%s_count%s%s%s %" PRIu64 "\n", name, open, labels ? labels : "", close, cum);
}
