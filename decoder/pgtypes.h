/* pgtypes.h: PostgreSQL types (catalog entries and resolved column types) and the conversion of their
 * text output to Debezium's Connect schemas and values, under every handling mode Debezium has. */
#ifndef WALCAST_PGTYPES_H
#define WALCAST_PGTYPES_H

#include <stdbool.h>
#include <stdint.h>

#include "schemas/connect.h"

typedef enum {
    PGT_UNKNOWN, PGT_BOOL, PGT_INT2, PGT_INT4, PGT_INT8, PGT_OID, PGT_FLOAT4, PGT_FLOAT8,
    PGT_NUMERIC, PGT_MONEY, PGT_TEXT, PGT_DATE, PGT_TIME, PGT_TIMETZ, PGT_TIMESTAMP,
    PGT_TIMESTAMPTZ, PGT_INTERVAL, PGT_BYTEA, PGT_JSON, PGT_XML, PGT_UUID, PGT_ENUM, PGT_POINT,
    PGT_HSTORE, PGT_LTREE, PGT_TSVECTOR, PGT_BIT, PGT_ARRAY
} pgt_kind_t;

/* One pg_type row, as the agent reads it from the catalog (or the built-in table). */
typedef struct pgt_typeinfo {
    uint32_t oid;
    const char *nspname;
    const char *typname;
    char typtype;          /* b base, e enum, d domain, c composite, r range, m multirange, p pseudo */
    uint32_t typelem;      /* arrays: element type */
    uint32_t typbasetype;  /* domains */
    int32_t typtypmod;     /* domains */
    const char *enum_labels;  /* enums: labels in sort order, comma-joined */
} pgt_typeinfo_t;

typedef struct pgt_catalog pgt_catalog_t;
pgt_catalog_t *pgt_catalog_new(void);
void pgt_catalog_free(pgt_catalog_t *c);
/* Copies ti into the catalog, replacing any entry with the same oid. */
void pgt_catalog_put(pgt_catalog_t *c, const pgt_typeinfo_t *ti);
/* Catalog entry, else the built-in entry for core types, else NULL. */
const pgt_typeinfo_t *pgt_catalog_get(const pgt_catalog_t *c, uint32_t oid);

/* A column's type after domains are unwrapped: what the converters work from. */
typedef struct pgt_coltype {
    pgt_kind_t kind;
    int32_t typmod;
    bool varbit;                 /* PGT_BIT: varying */
    bool bpchar;
    const char *typname;         /* for warnings */
    const char *enum_labels;     /* PGT_ENUM */
    struct pgt_coltype *elem;    /* PGT_ARRAY */
    bool domain;                 /* resolved through a domain */
    bool vector;                 /* PGT_ARRAY: int2vector/oidvector ("1 2 3", not an array literal) */
} pgt_coltype_t;

/* Resolves typid/typmod through domains and arrays; -1 if an oid is not in the catalog. */
int pgt_resolve(const pgt_catalog_t *c, arena_t *a, uint32_t typid, int32_t typmod, pgt_coltype_t *out,
                char *err, size_t errlen);

typedef enum { PGT_DECIMAL_PRECISE, PGT_DECIMAL_DOUBLE, PGT_DECIMAL_STRING } pgt_decimal_mode_t;
typedef enum { PGT_TIME_ADAPTIVE, PGT_TIME_ADAPTIVE_MICRO, PGT_TIME_CONNECT } pgt_time_mode_t;
typedef enum { PGT_BINARY_BYTES, PGT_BINARY_BASE64, PGT_BINARY_BASE64_URL, PGT_BINARY_HEX } pgt_binary_mode_t;
typedef enum { PGT_INTERVAL_NUMERIC, PGT_INTERVAL_STRING } pgt_interval_mode_t;
typedef enum { PGT_HSTORE_JSON, PGT_HSTORE_MAP } pgt_hstore_mode_t;

typedef struct pgt_opts {
    pgt_decimal_mode_t decimal;
    pgt_time_mode_t time;
    pgt_binary_mode_t binary;
    pgt_interval_mode_t interval;
    pgt_hstore_mode_t hstore;
    int money_fraction_digits;
    bool include_unknown;
} pgt_opts_t;

void pgt_opts_default(pgt_opts_t *o);

/* Field schema for a column of this type; NULL when the type is not captured (unknown types). */
cs_schema_t *pgt_schema(arena_t *a, const pgt_coltype_t *t, bool optional, const pgt_opts_t *o);
/* Converts the text output of the type to a value of pgt_schema's shape. */
int pgt_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n,
              cv_value_t *out, char *err, size_t errlen);
/* The type's zero ("", 0, false, epoch...): Debezium's fallback for required columns without a value. */
cv_value_t pgt_zero(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o);
/* The value for an unchanged TOASTed column: the placeholder in the type's shape (null if it has none). */
cv_value_t pgt_unavailable(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *placeholder);
/* Parses a column default expression (pg_get_expr text). A literal gives its value; a function call
 * or other expression gives the type's zero; NULL or no default gives false (no schema default). */
bool pgt_default(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *expr, cv_value_t *out);

/* Helpers shared with tests and the event builder. */
/* The iteration order of a java.util.HashMap<String,?> filled with keys (UTF-8, NUL-ended) in this order:
 * by bucket (String.hashCode spread as HashMap.hash does, 16 buckets doubled while more than 3/4 full),
 * in insertion order within a bucket. (A bucket of 8 or more keys is treeified in Java; not modelled.) */
void pgt_java_hashmap_order(const char *const *keys, size_t n, size_t *order);
int64_t pgt_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Minimal big-endian two's complement of a decimal digit string (Java BigInteger.toByteArray). */
size_t pgt_decimal_bytes(arena_t *a, const char *digits, size_t n, bool negative, uint8_t **out);

#endif
