/* connect.h: the event data model, Kafka Connect-style schemas and schemaless values.
 * Schemas are long-lived (built once per table version in an arena); values are per message. */
#ifndef WALCAST_CONNECT_H
#define WALCAST_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/buf.h"

typedef enum {
    CT_INT8, CT_INT16, CT_INT32, CT_INT64, CT_FLOAT32, CT_FLOAT64,
    CT_BOOLEAN, CT_STRING, CT_BYTES, CT_ARRAY, CT_MAP, CT_STRUCT
} ct_type_t;

typedef struct cs_schema cs_schema_t;
typedef struct cv_value cv_value_t;

typedef struct cs_param {
    const char *key;
    const char *value;
} cs_param_t;

typedef struct cs_field {
    const char *name;
    const cs_schema_t *schema;
} cs_field_t;

#define CS_MAX_PARAMS 4

struct cs_schema {
    ct_type_t type;
    bool optional;
    const char *name;      /* semantic or struct name; NULL if none */
    int version;           /* 0: none */
    const char *doc;
    cs_param_t params[CS_MAX_PARAMS];
    size_t nparams;
    const cv_value_t *def; /* default value; NULL if none */
    cs_field_t *fields;    /* CT_STRUCT */
    size_t nfields, capfields;
    const cs_schema_t *items;  /* CT_ARRAY element, CT_MAP value */
    const cs_schema_t *keys;   /* CT_MAP key */
    uint64_t uid;              /* unique per schema made by cs_new/cs_copy (caches key on it: an address
                                * may be reused by a later table version, a uid never is) */
};

/* A value carries no type: it is always read together with its schema. */
struct cv_value {
    bool null;
    union {
        int64_t i;            /* all integer types */
        double f;             /* float32 and float64 */
        bool b;
        struct { const char *p; size_t n; } s;  /* string (UTF-8) and bytes */
        struct { cv_value_t *v; size_t n; } list; /* struct: one per field; array: items; map: 2n (key, value) */
    } u;
};

const char *ct_type_name(ct_type_t t);

cs_schema_t *cs_new(arena_t *a, ct_type_t type, bool optional);
/* Connect's Schema.INT8_SCHEMA … STRING_SCHEMA, BYTES_SCHEMA: required, unnamed, shared and immutable
 * (NULL for ARRAY, MAP, STRUCT). */
const cs_schema_t *cs_primitive(ct_type_t t);
/* Their optional twins (Schema.OPTIONAL_INT8_SCHEMA …). */
const cs_schema_t *cs_primitive_optional(ct_type_t t);
/* A copy that differs only in optionality (and has no default). */
cs_schema_t *cs_copy(arena_t *a, const cs_schema_t *s);
void cs_param_add(cs_schema_t *s, const char *key, const char *value);
/* Appends a field; the struct's field array grows inside arena a. */
void cs_field_add(arena_t *a, cs_schema_t *s, const char *name, const cs_schema_t *fs);
int  cs_field_index(const cs_schema_t *s, const char *name);
const char *cs_param_get(const cs_schema_t *s, const char *key);

static inline cv_value_t cv_null(void) { cv_value_t v = { .null = true }; return v; }
static inline cv_value_t cv_int(int64_t i) { cv_value_t v = { .null = false, .u.i = i }; return v; }
static inline cv_value_t cv_float(double f) { cv_value_t v = { .null = false, .u.f = f }; return v; }
static inline cv_value_t cv_bool(bool b) { cv_value_t v = { .null = false, .u.b = b }; return v; }
static inline cv_value_t cv_str(const char *p, size_t n)
{
    cv_value_t v = { .null = false };
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}
/* A struct/array/map value with n zeroed (null) slots from the arena. */
cv_value_t cv_list(arena_t *a, size_t n);

#endif
