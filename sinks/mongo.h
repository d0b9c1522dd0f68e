/* mongo.h: the MongoDB apply target (sk_mongo_ops, libmongoc), and its pure parts exposed for tests:
 * documents and _id from Connect rows, batch reduction, per-document versions. */
#ifndef WALCAST_SINK_MONGO_H
#define WALCAST_SINK_MONGO_H

#include <bson/bson.h>

#include "sinks/target.h"

/* The default name of the version field every document carries (DESIGN.md "Exactly-once"). */
#define MONGO_VERSION_FIELD "__walcast_version"
/* The collection of consumed positions, one document per (sink, topic, partition). */
#define MONGO_OFFSETS_COLLECTION "walcast_sink_offsets"

/* Flags of the document builders. MONGO_DECIMAL_AS_STRING: Connect Decimals as their exact decimal
 * text instead of Decimal128, for servers without Decimal128 (FerretDB 1.x closes the connection on
 * one); the target sets it when buildInfo names a FerretDB v1. */
#define MONGO_DECIMAL_AS_STRING 1u

/* _id as Debezium's MongoDB sink builds it: a document of the key columns (tab->pk, in key order)
 * taken from row, e.g. {"id": 7} or {"a": 1, "b": "x"}. A table without key columns is refused
 * (Debezium would invent an ObjectId for creates and could never update or delete that document). */
int mongo_id_build(const sk_table_t *tab, const cv_value_t *row, const bool *has, unsigned flags, bson_t *id,
                   char *err, size_t errlen);

/* The replacement document of an upsert: _id, every non-key column of row (as Debezium's sink, key
 * columns live only in _id), then the version field vfield = vtext. */
int mongo_doc_build(const sk_table_t *tab, const cv_value_t *row, const bool *has, unsigned flags,
                    const bson_t *id, const char *vfield, const char *vtext, bson_t *doc, char *err, size_t errlen);

/* One Connect value as BSON field `key` of parent: Connect types and the Connect logical types
 * (Decimal -> Decimal128, Date/Time/Timestamp -> BSON date); Debezium's semantic types stay the
 * integers/strings they are on the wire. */
int mongo_value_append(bson_t *parent, const char *key, const cs_schema_t *s, const cv_value_t *v, unsigned flags,
                       char *err, size_t errlen);

/* Batch reduction: given the _id of each of n changes (in log order), writes into keep[] the indexes
 * of the last change of each distinct _id, in ascending order; returns how many. Pure. */
size_t mongo_reduce(const bson_t *ids, size_t n, size_t *keep);

/* The version as text: sk_version_text's (conflict.c). Returns the length (truncated to outlen-1). */
size_t mongo_version_text(const sk_version_t *v, char *out, size_t outlen);

/* <0, 0, >0 as a is older than, the same as, newer than b (conflict.h cf_version_newer). */
int mongo_version_cmp(const sk_version_t *a, const sk_version_t *b);

/* The collection of conflicts met (conflict.log.enabled=true): the fields of the SQL targets' walcast_conflicts
 * table (at, sink, table_name, key, type, policy, incoming, existing), key/incoming/existing as sub-documents. */
#define MONGO_CONFLICTS_COLLECTION "walcast_conflicts"

/* A libmongoc error as the project's classification: transient network/server-selection/failover
 * errors are WC_RETRY, refused logins WC_FATAL, the rest WC_PERMANENT. */
wc_status_t mongo_classify(const bson_error_t *e);

#endif
