/* apply.h: one sink's apply loop: a read_committed consumer (group connect-<name>) positioned from the
 * offsets stored in the target, batches of decoded changes applied with their offsets in one transaction. */
#ifndef WALCAST_SINK_APPLY_H
#define WALCAST_SINK_APPLY_H

#include <signal.h>
#include <stddef.h>

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

/* The target implementation for cfg's dialect (NULL: MongoDB when this build has no MongoDB target). */
const sk_target_ops_t *sk_target_ops_for(const sk_config_t *cfg);

/* Runs the sink until *stop is set (0) or it fails (-1, after logging the reason: topic, partition,
 * offset and why; the reason also goes into why when given). Transient target errors are retried with backoff and never skip a record.
 * @locality: its own thread; owns its consumer, producer and target session. */
int sk_run(const sk_config_t *cfg, const sk_kafka_t *k, volatile sig_atomic_t *stop, char *why, size_t whylen);

#endif
