/* json.h: Kafka Connect JsonConverter encoding of schemas/ values (compact, Jackson-compatible).
 * Numbers follow Java's Double.toString/Float.toString; bytes are base64. */
#ifndef WALCAST_JSON_H
#define WALCAST_JSON_H

#include "schemas/connect.h"

/* Schema object exactly as JsonConverter.asJsonSchema writes it (key order included). */
void json_enc_schema(buf_t *b, const cs_schema_t *s);
/* Payload of value v under schema s; a null with a schema default writes the default. */
void json_enc_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v);
/* A struct schema's field keys ("name": with its comma and brace) rendered once, for the converter's hot
 * path: json_plan_enc writes the same bytes as json_enc_value, copying each key instead of escaping it again.
 * Nested structs reached through struct fields get their own keys; arrays and maps take json_enc_value's
 * path. A plan stays tied to the schema it was made from (json_plan_schema; its uid tells a later schema at
 * the same address apart). */
typedef struct json_plan json_plan_t;
json_plan_t *json_plan_new(const cs_schema_t *s);
void json_plan_free(json_plan_t *p);
const cs_schema_t *json_plan_schema(const json_plan_t *p);
uint64_t json_plan_uid(const json_plan_t *p);
void json_plan_enc(buf_t *b, const json_plan_t *p, const cv_value_t *v);
/* {"schema":<schema_json>,"payload":<value>} when schema_json is given, else the bare payload. */
void json_enc_envelope(buf_t *b, const char *schema_json, size_t schema_len, const json_plan_t *p,
                       const cv_value_t *v);

void json_enc_string(buf_t *b, const char *p, size_t n);
/* Kafka Connect's SimpleHeaderConverter text (Values.convertToString) of a value: used for the
 * __debezium.newkey/oldkey headers. Strings escape only \ and ", Decimals are plain numbers. */
void json_enc_header_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v);
/* Plain decimal text of a big-endian two's complement unscaled value and a scale (BigDecimal.toPlainString). */
void json_enc_decimal_text(buf_t *b, const unsigned char *p, size_t n, int scale);
void json_enc_f64(buf_t *b, double d);
void json_enc_f32(buf_t *b, float f);
void json_enc_base64(buf_t *b, const unsigned char *p, size_t n, bool url_safe);
/* Java's Double.toString text (no quoting of NaN/Infinity); returns length. */
size_t json_java_double(char *out, size_t outlen, double d, bool is_float);
/* java.lang.String.hashCode of UTF-8 text (over its UTF-16 code units). */
int32_t json_java_string_hash(const char *s, size_t n);

#endif
