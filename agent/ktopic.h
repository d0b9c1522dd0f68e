/* ktopic.h: reading a whole Kafka topic to its end with read_committed, for the worker's stores (Connect's
 * offsets, config and status topics): every record in order, to a callback. */
#ifndef WALCAST_KTOPIC_H
#define WALCAST_KTOPIC_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"

/* One record, in partition order; value NULL is a tombstone. */
typedef void (*ktop_record_fn)(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen,
                               const char *value, size_t vlen);

/* Reads every partition of topic from its start to the end it has now (its high watermark, so another
 * producer's open transaction is waited for, up to 16 min, rather than read past), read_committed.
 * overrides: the producer's settings, whose security.*, sasl.* and ssl.* keys apply here too. what names
 * the topic in errors ("offsets topic"). A missing topic is created by the broker's auto-creation when
 * allowed; else -1 and err. */
int ktop_read_all(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                  ktop_record_fn fn, void *ctx, char *err, size_t errlen);

/* What to create when the topic is missing, as Kafka Connect's backing stores do (compacted). */
typedef struct ktop_create {
    const char *key;      /* the worker key that names the topic, for messages ("offset.storage.topic") */
    int partitions;
    int replication;      /* -1: the broker's default.replication.factor */
    const char *partitions_key, *replication_key;   /* the keys that set them (NULL: none) */
    bool required;        /* walcast's own topic, of no use otherwise: a refused creation is KTOP_FAILED */
    bool plain;           /* not compacted: the broker's cleanup.policy, not checked (a sink's dead-letter topic, as
                           * Connect creates it) */
    const char *where;    /* where the keys are set, for messages (NULL: "the worker file") */
} ktop_create_t;

typedef enum ktop_ensured {
    KTOP_NO_ANSWER = -2,  /* err: Kafka did not answer in time (retry) */
    KTOP_FAILED = -1,     /* err: Kafka refused the creation for a reason the user must fix (replication factor...) */
    KTOP_CREATED = 0,
    KTOP_EXISTS = 1,      /* used as it is; a warning when its cleanup.policy is not compact */
    KTOP_REFUSED = 2,     /* no CREATE permission, or no CreateTopics (librdkafka's mock cluster): warned; the topic
                           * is taken to exist or to be auto-created, as Connect's TopicAdmin does */
} ktop_ensured_t;

/* Creates topic compacted (c) unless it exists, with CreateTopics and DescribeConfigs sent at once on rk (any
 * client); bootstrap only names the broker in the fix a warning gives. */
struct rd_kafka_s;
ktop_ensured_t ktop_ensure(struct rd_kafka_s *rk, const char *bootstrap, const char *topic, const ktop_create_t *c,
                           int timeout_ms, char *err, size_t errlen);
/* ktop_ensure on a client of its own, made with overrides' security settings and destroyed before it returns. */
ktop_ensured_t ktop_ensure_new(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const ktop_create_t *c,
                               int timeout_ms, char *err, size_t errlen);
/* What ktop_ensure would do, asked of Kafka without doing it (CreateTopics with validate_only, on a client of its own
 * made with overrides' security settings) and without logging: KTOP_CREATED when the topic is missing and would be
 * created as c says; KTOP_EXISTS with its cleanup.policy in policy ("" when it cannot be read); KTOP_REFUSED,
 * KTOP_FAILED or KTOP_NO_ANSWER with the reason (and a fix) in err. For `walcast check`. */
ktop_ensured_t ktop_probe(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const ktop_create_t *c,
                          int timeout_ms, char *policy, size_t policylen, char *err, size_t errlen);
/* Warns (once per topic and process) when topic's cleanup.policy is not compact alone (DescribeConfigs); silent
 * when it cannot be told (no DESCRIBE_CONFIGS permission). */
void ktop_check_compacted(struct rd_kafka_s *rk, const char *bootstrap, const char *topic, const char *key, int timeout_ms);
/* A cleanup.policy value ("compact", "delete", "compact,delete"): true when it is compact alone, as Connect
 * requires of its topics (with delete too, old offsets go after retention.ms). */
bool ktop_policy_compact_only(const char *policy);

/* ktop_read_all in two steps, so that the clients are made, connected and the topic's partitions known
 * (ktop_open) while the caller still fences the topic's other writers; ktop_read then probes the ends and
 * reads as ktop_read_all does (once); ktop_close frees (NULL is fine). Not patient: NULL as soon as a
 * metadata request fails (Kafka not reachable), after at most its 5 s timeout; patient: as ktop_read_all.
 * create: the topic is created first when missing (ktop_ensure, before any request that would make the broker
 * auto-create it); NULL: left to the broker's auto-creation. */
typedef struct ktop_reader ktop_reader_t;
ktop_reader_t *ktop_open(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                         const ktop_create_t *create, bool patient, char *err, size_t errlen);
int ktop_read(ktop_reader_t *r, ktop_record_fn fn, void *ctx, char *err, size_t errlen);
/* ktop_read looks at *stop while it waits (another producer's open transaction holds it back for up to 16 min):
 * once set, it returns KTOP_STOPPED at once. */
#define KTOP_STOPPED (-2)
void ktop_set_stop(ktop_reader_t *r, volatile sig_atomic_t *stop);
void ktop_close(ktop_reader_t *r);

/* The security settings of the producer (security.*, sasl.*, ssl.*) onto another client's conf. */
struct rd_kafka_conf_s;
void ktop_conf_security(struct rd_kafka_conf_s *conf, const cfg_map_t *overrides);

#endif
