/* envelope.h: Debezium change-event envelopes (Kafka key + value bytes) decoded into schemas/ values:
 * op, key struct, before/after rows with their Connect schema, source position. Pure: bytes in, values out. */
#ifndef WALCAST_SINK_ENVELOPE_H
#define WALCAST_SINK_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/avro_dec.h"
#include "schemas/buf.h"
#include "schemas/connect.h"

typedef enum {
    ENV_TOMBSTONE = 0,  /* null value: nothing to apply (the delete came just before) */
    ENV_CREATE = 'c',
    ENV_READ = 'r',
    ENV_UPDATE = 'u',
    ENV_DELETE = 'd',
    ENV_TRUNCATE = 't',
    ENV_MESSAGE = 'm'   /* logical decoding message: nothing to apply */
} env_op_t;

/* The parts of source{} the sinks use; strings point into the event's arena ("" when absent). */
typedef struct env_source {
    const char *name;      /* topic.prefix of the source connector */
    const char *db, *schema, *table;
    int64_t ts_ms;         /* commit time */
    int64_t ts_us;         /* commit time in µs (source.ts_us, else ts_ms * 1000) */
    uint64_t lsn;          /* 0 if none */
    int64_t txid;          /* -1 if none */
} env_source_t;

typedef struct env_event {
    env_op_t op;
    const cs_schema_t *key_schema;   /* NULL: no key (null key bytes) */
    cv_value_t key;
    const cs_schema_t *row_schema;   /* the after (else before) struct schema; NULL for t/tombstone */
    bool has_before, has_after;
    cv_value_t before, after;        /* structs over row_schema */
    env_source_t source;
    int64_t ts_ms;                   /* envelope ts_ms */
    /* JsonConverter with schemas.enable=false: the key's / the rows' types were read off the JSON values
     * (integers int64, numbers float64, objects and arrays JSON text), not known. A Debezium numeric is then
     * base64 text, a timestamp a bare integer: the JDBC sinks refuse such records, MongoDB takes the JSON
     * values as they are (as Debezium's MongoDB sink does). */
    bool key_schemaless, row_schemaless;
    bool flat;                       /* a row out of its envelope (env_event_from_record): no before, no source */
} env_event_t;

/* Decoder state: caches parsed schemas by their text, so a steady stream parses each schema once. */
typedef struct env_decoder env_decoder_t;

env_decoder_t *env_decoder_new(void);
void env_decoder_free(env_decoder_t *d);

/* The schemas of decoded events stay valid until env_decoder_trim (a sink holds a batch of events); without
 * this call a long run of new schemas may drop them while events are in use. env_decoder_trim: drops the
 * cached schemas if there are too many; call it only when no decoded event is in use. */
void env_decoder_keep(env_decoder_t *d);
void env_decoder_trim(env_decoder_t *d);

/* Decodes one JsonConverter record, with ({"schema":…,"payload":…}) or without schemas; key may be
 * NULL/0 (no key), value NULL/0 is a tombstone. Values live in arena a (reset by the caller per batch);
 * schemas live in the decoder. Returns 0, or -1 with err naming what is wrong (never crashes). */
int env_decode_json(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    env_event_t *ev, char *err, size_t errlen);

/* Decodes one AvroConverter record (Confluent wire format: magic 0, schema id, Avro binary), key and value
 * each, through schemas/avro_dec.h (writer schemas come through fetch once per id). Same results as
 * env_decode_json. A side that does not start with the magic byte is read as JsonConverter's (the key and
 * value converters are set apart, e.g. a JSON key beside an Avro value). */
int env_decode_avro(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                    avro_dec_fetch_fn fetch, void *ctx, env_event_t *ev, char *err, size_t errlen);

/* One record as Connect hands it to a sink's transforms: key and value under their schemas (a NULL schema:
 * a Kafka null). Values in arena a, schemas in the decoder. */
typedef struct env_record {
    const cs_schema_t *ks, *vs;
    cv_value_t key, value;
} env_record_t;

/* Decodes a record's key and value, JsonConverter's (with schemas: transforms need them) or AvroConverter's
 * (fetch given), without reading them as a change event. -1 with err naming what is wrong. */
int env_decode_record(env_decoder_t *d, arena_t *a, const char *key, size_t klen, const char *value, size_t vlen,
                      avro_dec_fetch_fn fetch, void *ctx, env_record_t *r, char *err, size_t errlen);

/* The change a (transformed) record makes, as env_decode_* read it: a Debezium envelope (value schema named
 * *.Envelope) as it is; any other struct a row as ExtractNewRecordState leaves it (op ENV_CREATE: written per
 * insert.mode), a null value or a Kafka null (vs NULL) a delete by the key (ENV_TOMBSTONE without key).
 * Records decoded by env_decode_json/avro get the same reading of rows out of their envelope. */
int env_event_from_record(const cs_schema_t *ks, const cv_value_t *key, const cs_schema_t *vs, const cv_value_t *value,
                          env_event_t *ev, char *err, size_t errlen);

/* Schemas parsed so far (tests). */
size_t env_schema_parses(const env_decoder_t *d);

#endif
