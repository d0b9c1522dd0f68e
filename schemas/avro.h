/* avro.h: Confluent AvroConverter encoding of Kafka Connect schemas and values: the Avro schema text
 * exactly as AvroData + Avro's Schema.toString write it, the binary body, and the wire-format header. */
#ifndef WALCAST_AVRO_H
#define WALCAST_AVRO_H

#include <stdbool.h>
#include <stdint.h>

#include "schemas/connect.h"

/* schema.name.adjustment.mode / field.name.adjustment.mode */
typedef enum { AVRO_ADJUST_NONE, AVRO_ADJUST_AVRO, AVRO_ADJUST_UNICODE } avro_adjust_t;

/* The Avro schema JSON of s (AvroData.fromConnectSchema with connect.meta.data=meta, then Avro's
 * compact Schema.toString: key order, namespaces relative to the enclosing record, records used a
 * second time referenced by name). Fails when a record or field name is not a valid Avro name. */
int avro_enc_schema(buf_t *b, const cs_schema_t *s, bool meta, char *err, size_t errlen);

/* Avro binary body of v under s (a null with a schema default encodes the default). Fails on a
 * null for a required field without default, as AvroData does. */
int avro_enc_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v, char *err, size_t errlen);

/* Confluent wire-format header: magic byte 0 and the 4-byte big-endian schema id. */
void avro_enc_header(buf_t *b, int32_t id);

/* True when name is a valid Avro name (full: dot-separated names, as record full names are). */
bool avro_name_valid(const char *name, bool full);

/* Debezium's SchemaNameAdjuster: schema full names (field=false) or field names (field=true) made
 * valid for Avro: `avro` replaces each invalid character with '_' (a leading digit keeps the digit
 * after it), `avro_unicode` with _uXXXX. Returns name itself when nothing changes. */
const char *avro_adjust_name(arena_t *a, const char *name, avro_adjust_t mode, bool field);

#endif
