/* ktopic.h: reading a whole Kafka topic to its end with read_committed, for the worker's stores (Connect's
 * offsets, config and status topics): every record in order, to a callback. */
#ifndef WALCAST_KTOPIC_H
#define WALCAST_KTOPIC_H

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

/* ktop_read_all in two steps, so that the clients are made, connected and the topic's partitions known
 * (ktop_open) while the caller still fences the topic's other writers; ktop_read then probes the ends and
 * reads as ktop_read_all does (once); ktop_close frees (NULL is fine). Not patient: NULL as soon as a
 * metadata request fails (Kafka not reachable), after at most its 5 s timeout; patient: as ktop_read_all. */
typedef struct ktop_reader ktop_reader_t;
ktop_reader_t *ktop_open(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                         bool patient, char *err, size_t errlen);
int ktop_read(ktop_reader_t *r, ktop_record_fn fn, void *ctx, char *err, size_t errlen);
void ktop_close(ktop_reader_t *r);

/* The security settings of the producer (security.*, sasl.*, ssl.*) onto another client's conf. */
struct rd_kafka_conf_s;
void ktop_conf_security(struct rd_kafka_conf_s *conf, const cfg_map_t *overrides);

#endif
