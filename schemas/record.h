/* record.h: the Kafka record as walcast produces it, before encoding (a change event as Connect values
 * with the schemas' converter caches) and after (key and value bytes, headers). */
#ifndef WALCAST_RECORD_H
#define WALCAST_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"
#include "schemas/connect.h"
#include "schemas/json.h"

/* A header: its bytes (what the converter writes: SimpleHeaderConverter's text), and, when walcast made it,
 * the Connect schema and value it has in Kafka Connect (Header.schema(), Header.value(); HeaderToValue puts
 * them into the value). schema NULL: only the bytes are known (a sink record's headers: HeaderToValue parses
 * them as SimpleHeaderConverter would). cv: valid while the record's values are (NULL: a null value). */
typedef struct rec_header {
    const char *key;
    const void *value;
    size_t len;
    const cs_schema_t *schema;
    const cv_value_t *cv;
} rec_header_t;

/* Debezium's own headers take at most 5; transforms may add up to the rest (checked at start). */
#define REC_MAX_HEADERS 16

/* One encoded Kafka record. value NULL is a tombstone; key NULL a null key. */
typedef struct rec {
    const char *topic;
    const void *key;
    size_t keylen;
    const void *value;
    size_t valuelen;
    rec_header_t headers[REC_MAX_HEADERS];
    int nheaders;
    char op;                      /* c u d t m r, 0 for tombstones and connector-wide records */
    bool has_partition;           /* a transform chose the partition (else the producer's partitioner) */
    int32_t partition;
    bool has_ts;                  /* a transform set the record timestamp (else the producer's clock) */
    int64_t ts_ms;
} rec_t;

/* One schema as a converter writes it, cached by whoever owns the schema (a table version): the
 * schema text (JSON converter envelope part, or Avro schema), the registry id and the JSON payload's
 * rendered keys. Filled by the converter at the first record that needs them, and made again when the
 * codec's schema is another one than they were made for (uid). */
typedef struct rec_codec {
    const cs_schema_t *schema;
    bool ready;
    buf_t text;
    int32_t id;                   /* Avro: registry id */
    uint64_t uid;                 /* the schema text and id were made for (ready) */
    json_plan_t *plan;            /* JSON: NULL until the first record */
} rec_codec_t;

static inline void rec_codec_bind(rec_codec_t *c, const cs_schema_t *s)
{
    c->schema = s;
    c->ready = false;
    c->id = -1;
    c->uid = 0;
    c->plan = NULL;
    buf_init(&c->text);
}

static inline void rec_codec_free(rec_codec_t *c)
{
    buf_free(&c->text);
    json_plan_free(c->plan);
    c->plan = NULL;
    c->ready = false;
}

/* One record before encoding: values live in the builder's arena, valid during the emit call. */
typedef struct rec_event {
    const char *topic;
    rec_codec_t *kc;              /* NULL, or key NULL: null key */
    const cv_value_t *key;
    rec_codec_t *vc;
    const cv_value_t *value;      /* NULL: tombstone */
    rec_header_t headers[REC_MAX_HEADERS];
    int nheaders;
    char op;
    bool has_partition;           /* as in rec_t */
    int32_t partition;
    bool has_ts;
    int64_t ts_ms;
    bool has_offset;              /* a sink record's Kafka offset (SinkRecord.kafkaOffset, InsertField's offset.field) */
    int64_t offset;
} rec_event_t;

#endif
