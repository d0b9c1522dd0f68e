/* json_dec.h: JsonConverter records read back into Connect schemas and values, the inverse of json.h, for the
 * sinks. Pure: bytes in, values out. One bounds-checked reader; the schema part of a record is parsed once. */
#ifndef WALCAST_JSON_DEC_H
#define WALCAST_JSON_DEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"
#include "schemas/connect.h"

/* The name json_dec_infer gives the JSON text of an object or array (Debezium's io.debezium.data.Json). */
#define JSON_DEC_JSON_NAME "io.debezium.data.Json"

/* Decoder state: the Connect schemas parsed so far, by their text (not thread-safe: one per consumer). */
typedef struct json_dec json_dec_t;

json_dec_t *json_dec_new(void);
void json_dec_free(json_dec_t *d);

/* The cache is bounded (JD_CACHE_MAX schemas): a new schema past the bound drops all of them first, and
 * every schema returned before is gone (its memory reused). json_dec_keep: from now on they are dropped only
 * by json_dec_trim, which the caller calls when nothing decoded is in use any more (a sink: between batches).
 * json_dec_generation changes each time they are dropped (what is cached by a schema's address must check it). */
void json_dec_keep(json_dec_t *d);
void json_dec_trim(json_dec_t *d);
uint64_t json_dec_generation(const json_dec_t *d);

/* A record's parts: with schemas ({"schema":S,"payload":P}, any member order) *schema is S, parsed once per
 * text (a cache hit when the record starts with the last schema of the same slot, 0 for keys and 1 for
 * values, costs no hash), and [*payload, +*plen) is P; any other JSON is a record without schema: *schema NULL
 * and the payload all of it. a holds scratch (member names). -1 with err only when S is not a Connect schema;
 * bad JSON is found by the payload's reader. */
int json_dec_split(json_dec_t *d, int slot, arena_t *a, const char *p, size_t n, const cs_schema_t **schema,
                   const char **payload, size_t *plen, char *err, size_t errlen);

/* Reading JSON that came without schema (the schema json_dec_infer gave, or one built from it): strings must
 * be UTF-8, and a JSON_DEC_JSON_NAME string takes any JSON value as its text. */
#define JSON_DEC_INFERRED 1u

/* The whole of p[0..n) as one value of schema s into *out (strings, lists in arena a): JsonConverter's
 * layout (bytes base64, maps as objects or [key, value] pairs, NaN/Infinity as strings), unknown struct
 * members skipped, absent ones null. -1 with err naming the field path and what is wrong. */
int json_dec_read(arena_t *a, const cs_schema_t *s, const char *p, size_t n, unsigned flags, cv_value_t *out,
                  const char *path, char *err, size_t errlen);

/* p[0..n) read without schema: the schema is what the JSON types say (integers int64, other numbers float64,
 * booleans, strings, null an optional string; all optional); objects are structs down to levels deep (1: the
 * top object's members are values), deeper objects and arrays their JSON text, blanks between tokens
 * dropped, as JSON_DEC_JSON_NAME strings. Read as JSON_DEC_INFERRED. */
int json_dec_infer(arena_t *a, const char *p, size_t n, int levels, const cs_schema_t **schema, cv_value_t *out,
                   const char *path, char *err, size_t errlen);

/* The value of member name of the object p[0..n) (the last, if the name is given twice): its span; -1 when
 * there is no such member or p is no valid object. */
int json_dec_member(arena_t *a, const char *p, size_t n, const char *name, const char **span, size_t *len);

/* Base64 (standard or URL-safe alphabet, padding optional) into arena a; -1 on bad input. */
int json_dec_base64(arena_t *a, const char *s, size_t n, const unsigned char **out, size_t *outlen);

/* Schemas parsed so far (tests). */
size_t json_dec_parses(const json_dec_t *d);

#endif
