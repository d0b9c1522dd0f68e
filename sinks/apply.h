/* apply.h: one sink's apply loop: a read_committed consumer (group connect-<name>) positioned from the
 * offsets stored in the target, batches of decoded changes applied with their offsets in one transaction. */
#ifndef WALCAST_SINK_APPLY_H
#define WALCAST_SINK_APPLY_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "schemas/hist.h"
#include "schemas/tracking.h"
#include "sinks/target.h"

/* Kafka client settings of the worker: bootstrap servers and librdkafka key/value pairs for the consumer
 * (consumer.*, consumer.override.*) and the dead-letter producer (producer.*). */
typedef struct sk_kafka {
    const char *bootstrap;
    const char *const *consumer_props;   /* key, value, key, value, ... */
    size_t nconsumer_props;              /* pairs */
    const char *const *producer_props;
    size_t nproducer_props;
    wc_topic_hook_t topics;              /* Connect's topic tracking (seen NULL: off) */
} sk_kafka_t;

/* What a sink shows on GET /metrics and the dashboard: written by the sink's thread only (relaxed atomic
 * stores, once per batch and once a second), read by scrapes. */
typedef struct sk_stats {
    atomic_uint_fast64_t read;            /* records consumed */
    atomic_uint_fast64_t applied;         /* records applied and committed in the target */
    atomic_uint_fast64_t batches;         /* target transactions committed */
    atomic_uint_fast64_t dead;            /* records dead-lettered (or skipped under errors.tolerance=all) */
    atomic_uint_fast64_t retries;         /* target transactions retried after a transient error, connects retried */
    atomic_uint_fast64_t conflicts[SK_CONFLICT_NTYPES], conflicts_skipped[SK_CONFLICT_NTYPES];
    atomic_int_fast64_t lag_records;      /* consumer lag: records behind the partitions' ends; -1: not known yet */
    atomic_int_fast64_t lag_bytes;        /* the same in bytes, estimated from the mean size of the records read */
    atomic_int_fast64_t e2e_last_us;      /* end-to-end lag of the newest change applied: its source commit to its
                                             target commit; -1: nothing applied yet */
    hist_t e2e;                           /* end-to-end lag of every change applied */
    hist_t apply;                         /* batch: first record read to target commit confirmed */
} sk_stats_t;

/* The target implementation for cfg's dialect (NULL: MongoDB when this build has no MongoDB target). */
const sk_target_ops_t *sk_target_ops_for(const sk_config_t *cfg);

/* Runs the sink until *stop is set (WC_OK) or it fails (WC_FATAL, after logging the reason: topic,
 * partition, offset and why; the reason also goes into why when given). Transient target errors are retried with backoff and never skip a record.
 * @locality: its own thread; owns its consumer, producer and target session. */
/* stats (may be NULL): figures for GET /metrics, written as the sink runs. */
wc_status_t sk_run(const sk_config_t *cfg, const sk_kafka_t *k, sk_stats_t *stats, volatile sig_atomic_t *stop, char *why,
           size_t whylen);

#endif
