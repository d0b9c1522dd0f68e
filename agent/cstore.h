/* cstore.h: Kafka Connect's config and status topics, in Connect's own record formats, so that connector
 * configs and target states survive a restart and a Connect cluster's connectors can be taken over (and
 * handed back): config.storage.topic ("connector-<n>", "target-state-<n>", "task-<n>-0", "commit-<n>")
 * and status.storage.topic ("status-connector-<n>", "status-task-<n>-0"). */
#ifndef WALCAST_CSTORE_H
#define WALCAST_CSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/ktopic.h"
#include "agent/worker.h"

typedef struct cst cst_t;

/* One connector as the config topic holds it now. */
typedef struct cst_conn {
    char *name;
    cfg_map_t config;
    wrk_target_t target;
} cst_conn_t;

/* Opens the store on the worker's Kafka: topic names from config.storage.topic (connect-configs) and
 * status.storage.topic (connect-status); creates them and offset.storage.topic (connect-offsets), compacted as
 * Connect does, when missing (ktop_ensure).
 * Refuses (NULL, err) while a Kafka Connect worker is a member of group.id (connect-cluster): two
 * workers would run the same connectors. */
cst_t *cst_open(const cfg_map_t *wm, const worker_config_t *w, char *err, size_t errlen);
void cst_free(cst_t *s);
/* Creates a topic (compacted) unless it exists (ktop_ensure on the store's client): 0, or -1 and err. */
int cst_ensure_topic(cst_t *s, const char *topic, const ktop_create_t *c, char *err, size_t errlen);

/* Reads the config topic to its end: every connector it holds, with its target state (sorted by name).
 * Free with cst_conns_free. */
int cst_load(cst_t *s, cst_conn_t **out, size_t *n, char *err, size_t errlen);
void cst_conns_free(cst_conn_t *v, size_t n);

/* wrk_store_t over the topics: each write of the config topic waits until Kafka has it; a status is not
 * waited for, and is delivered within half of session.timeout.ms or failed. A failed status is sent again
 * only while it is the newest of its key and owns says this worker still runs it. */
void cst_store(cst_t *s, wrk_store_t *out);
/* Whether this worker runs connector name's task now (task -1: the connector itself); any thread. */
typedef bool (*cst_owns_fn)(void *ctx, const char *name, int task);
/* Set before the first status is written (NULL: a single worker, every status is its own), and to NULL before
 * the worker behind owns is freed: once this returns, no call of the old owns is under way. */
void cst_set_owner(cst_t *s, cst_owns_fn owns, void *ctx);
/* Fails every status record not delivered yet (their delivery reports come as for a timeout): this worker
 * lost its cluster membership, and what they are about is another worker's now. */
void cst_status_drop(cst_t *s);
/* Status records written and neither delivered nor failed yet. */
int cst_status_queued(cst_t *s);

/* Reads the status topic's active topics (status-topic-<topic>:connector-<name>) into the worker. */
int cst_load_topics(cst_t *s, wrk_t *w, char *err, size_t errlen);

/* Connect's offsets endpoints over offset.storage.topic, for a source connector (store is the cst_t):
 * get: the newest offset of each of its partitions as Connect's JSON array [{"partition":…,"offset":…}]
 * (malloc'd); alter: writes such an array (an offset null removes the partition); reset: a tombstone for
 * each of its partitions. The records go where the connector's own go (same key bytes, murmur2). */
int cst_offsets_get(void *store, const char *name, char **json, char *err, size_t errlen);
int cst_offsets_alter(void *store, const char *name, const char *json, char *err, size_t errlen);
int cst_offsets_reset(void *store, const char *name, char *err, size_t errlen);

/* The record formats (pure; tested without Kafka). Values are JSON as Connect's internal JsonConverter
 * (schemas.enable=false) writes them; the caller frees. */
char *cst_config_value(const cfg_map_t *config);
char *cst_target_value(wrk_target_t t);
char *cst_status_value(wrk_state_t state, const char *trace, const char *worker_id, int generation);
char *cst_topic_value(const char *name, const char *topic, int64_t discover_ms);
/* The connector and topic of a status-topic key, as KafkaStatusBackingStore parses them; -1 if not one. */
int cst_topic_parse(const char *key, size_t klen, char **name, char **topic);
/* Applies one config-topic record to the connectors read so far (a tombstone removes). */
void cst_apply(cst_conn_t **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen);

#endif
