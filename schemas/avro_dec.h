/* avro_dec.h: Confluent AvroConverter records (magic byte 0, schema id, Avro binary) read back into Connect
 * schemas and values, the inverse of avro.h, for the sinks. Pure: bytes in, values out; schemas come in by id. */
#ifndef WALCAST_AVRO_DEC_H
#define WALCAST_AVRO_DEC_H

#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"
#include "schemas/connect.h"

/* Fetches the Avro writer schema text of a registry id into out (the decoder asks once per id and caches the
 * parsed schema); -1 with err when it cannot. */
typedef int (*avro_dec_fetch_fn)(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen);

/* Decoder state: the writer schemas parsed so far, by id (not thread-safe: one per consumer). */
typedef struct avro_dec avro_dec_t;

avro_dec_t *avro_dec_new(void);
void avro_dec_free(avro_dec_t *d);

/* Decodes one wire-format record p[0..n) into *schema and *out (values in arena a, schemas in the decoder).
 * The writer schema's connect.* properties and logical types give the Connect types (Decimal, Date/Time/
 * Timestamp, Debezium time types, int8/int16) as AvroData reads them; a union other than [null, T] /
 * [T, null] is AvroData's struct io.confluent.connect.avro.Union (one optional field per member: records and
 * enums by short name, else the Avro type name; only the written member set), an array of
 * io.confluent.connect.avro.MapEntry records a map. what ("key", "value") starts the error text, which names
 * the field path and the schema id. Returns 0, or -1 with err (never crashes). */
int avro_dec_record(avro_dec_t *d, arena_t *a, const char *p, size_t n, avro_dec_fetch_fn fetch, void *ctx,
                    const cs_schema_t **schema, cv_value_t *out, const char *what, char *err, size_t errlen);

/* Writer schemas parsed so far (tests). */
size_t avro_dec_parses(const avro_dec_t *d);

#endif
