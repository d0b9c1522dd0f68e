/* pgtypes.c: PostgreSQL text output -> Debezium Connect values, one converter per type family.
 * Inputs are the server's text format under the session settings the agent sets (TimeZone=UTC,
 * DateStyle=ISO, IntervalStyle=postgres, bytea_output=hex, extra_float_digits=3). */
#include "decoder/pgtypes.h"

#include <openssl/evp.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json.h"

/* ---- catalog ---------------------------------------------------------------------------- */

static const pgt_typeinfo_t builtins[] = {
    { 16, "pg_catalog", "bool", 'b', 0, 0, -1, NULL },       { 17, "pg_catalog", "bytea", 'b', 0, 0, -1, NULL },
    { 18, "pg_catalog", "char", 'b', 0, 0, -1, NULL },       { 19, "pg_catalog", "name", 'b', 0, 0, -1, NULL },
    { 20, "pg_catalog", "int8", 'b', 0, 0, -1, NULL },       { 21, "pg_catalog", "int2", 'b', 0, 0, -1, NULL },
    { 23, "pg_catalog", "int4", 'b', 0, 0, -1, NULL },       { 25, "pg_catalog", "text", 'b', 0, 0, -1, NULL },
    { 26, "pg_catalog", "oid", 'b', 0, 0, -1, NULL },        { 114, "pg_catalog", "json", 'b', 0, 0, -1, NULL },
    { 142, "pg_catalog", "xml", 'b', 0, 0, -1, NULL },       { 600, "pg_catalog", "point", 'b', 0, 0, -1, NULL },
    { 650, "pg_catalog", "cidr", 'b', 0, 0, -1, NULL },      { 700, "pg_catalog", "float4", 'b', 0, 0, -1, NULL },
    { 701, "pg_catalog", "float8", 'b', 0, 0, -1, NULL },    { 774, "pg_catalog", "macaddr8", 'b', 0, 0, -1, NULL },
    { 790, "pg_catalog", "money", 'b', 0, 0, -1, NULL },     { 829, "pg_catalog", "macaddr", 'b', 0, 0, -1, NULL },
    { 869, "pg_catalog", "inet", 'b', 0, 0, -1, NULL },      { 1042, "pg_catalog", "bpchar", 'b', 0, 0, -1, NULL },
    { 1043, "pg_catalog", "varchar", 'b', 0, 0, -1, NULL },  { 1082, "pg_catalog", "date", 'b', 0, 0, -1, NULL },
    { 1083, "pg_catalog", "time", 'b', 0, 0, -1, NULL },     { 1114, "pg_catalog", "timestamp", 'b', 0, 0, -1, NULL },
    { 1184, "pg_catalog", "timestamptz", 'b', 0, 0, -1, NULL }, { 1186, "pg_catalog", "interval", 'b', 0, 0, -1, NULL },
    { 1266, "pg_catalog", "timetz", 'b', 0, 0, -1, NULL },   { 1560, "pg_catalog", "bit", 'b', 0, 0, -1, NULL },
    { 1562, "pg_catalog", "varbit", 'b', 0, 0, -1, NULL },   { 1700, "pg_catalog", "numeric", 'b', 0, 0, -1, NULL },
    { 2950, "pg_catalog", "uuid", 'b', 0, 0, -1, NULL },     { 3614, "pg_catalog", "tsvector", 'b', 0, 0, -1, NULL },
    { 3802, "pg_catalog", "jsonb", 'b', 0, 0, -1, NULL },    { 3904, "pg_catalog", "int4range", 'r', 0, 0, -1, NULL },
    { 3906, "pg_catalog", "numrange", 'r', 0, 0, -1, NULL }, { 3908, "pg_catalog", "tsrange", 'r', 0, 0, -1, NULL },
    { 3910, "pg_catalog", "tstzrange", 'r', 0, 0, -1, NULL }, { 3912, "pg_catalog", "daterange", 'r', 0, 0, -1, NULL },
    { 3926, "pg_catalog", "int8range", 'r', 0, 0, -1, NULL },
    { 1000, "pg_catalog", "_bool", 'b', 16, 0, -1, NULL },   { 1001, "pg_catalog", "_bytea", 'b', 17, 0, -1, NULL },
    { 1002, "pg_catalog", "_char", 'b', 18, 0, -1, NULL },   { 1003, "pg_catalog", "_name", 'b', 19, 0, -1, NULL },
    { 1005, "pg_catalog", "_int2", 'b', 21, 0, -1, NULL },   { 1007, "pg_catalog", "_int4", 'b', 23, 0, -1, NULL },
    { 1009, "pg_catalog", "_text", 'b', 25, 0, -1, NULL },   { 1014, "pg_catalog", "_bpchar", 'b', 1042, 0, -1, NULL },
    { 1015, "pg_catalog", "_varchar", 'b', 1043, 0, -1, NULL }, { 1016, "pg_catalog", "_int8", 'b', 20, 0, -1, NULL },
    { 1021, "pg_catalog", "_float4", 'b', 700, 0, -1, NULL }, { 1022, "pg_catalog", "_float8", 'b', 701, 0, -1, NULL },
    { 1028, "pg_catalog", "_oid", 'b', 26, 0, -1, NULL },    { 1040, "pg_catalog", "_macaddr", 'b', 829, 0, -1, NULL },
    { 1041, "pg_catalog", "_inet", 'b', 869, 0, -1, NULL },  { 651, "pg_catalog", "_cidr", 'b', 650, 0, -1, NULL },
    { 1115, "pg_catalog", "_timestamp", 'b', 1114, 0, -1, NULL }, { 1182, "pg_catalog", "_date", 'b', 1082, 0, -1, NULL },
    { 1183, "pg_catalog", "_time", 'b', 1083, 0, -1, NULL }, { 1185, "pg_catalog", "_timestamptz", 'b', 1184, 0, -1, NULL },
    { 1187, "pg_catalog", "_interval", 'b', 1186, 0, -1, NULL }, { 1231, "pg_catalog", "_numeric", 'b', 1700, 0, -1, NULL },
    { 1270, "pg_catalog", "_timetz", 'b', 1266, 0, -1, NULL }, { 2951, "pg_catalog", "_uuid", 'b', 2950, 0, -1, NULL },
    { 199, "pg_catalog", "_json", 'b', 114, 0, -1, NULL },   { 3807, "pg_catalog", "_jsonb", 'b', 3802, 0, -1, NULL },
    { 143, "pg_catalog", "_xml", 'b', 142, 0, -1, NULL },    { 791, "pg_catalog", "_money", 'b', 790, 0, -1, NULL },
    { 1561, "pg_catalog", "_bit", 'b', 1560, 0, -1, NULL },  { 1563, "pg_catalog", "_varbit", 'b', 1562, 0, -1, NULL },
    { 1017, "pg_catalog", "_point", 'b', 600, 0, -1, NULL },
    { 22, "pg_catalog", "int2vector", 'b', 21, 0, -1, NULL }, { 30, "pg_catalog", "oidvector", 'b', 26, 0, -1, NULL },
    { 603, "pg_catalog", "box", 'b', 600, 0, -1, NULL },     { 1020, "pg_catalog", "_box", 'b', 603, 0, -1, NULL },
    { 718, "pg_catalog", "circle", 'b', 0, 0, -1, NULL },    { 719, "pg_catalog", "_circle", 'b', 718, 0, -1, NULL },
    { 3643, "pg_catalog", "_tsvector", 'b', 3614, 0, -1, NULL },
};

struct pgt_catalog {
    pgt_typeinfo_t *v;
    size_t n, cap;
};

pgt_catalog_t *pgt_catalog_new(void)
{
    pgt_catalog_t *c = xcalloc(1, sizeof *c);
    return c;
}

static void typeinfo_free(pgt_typeinfo_t *t)
{
    free((char *)t->nspname);
    free((char *)t->typname);
    free((char *)t->enum_labels);
}

void pgt_catalog_free(pgt_catalog_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        typeinfo_free(&c->v[i]);
    free(c->v);
    free(c);
}

void pgt_catalog_put(pgt_catalog_t *c, const pgt_typeinfo_t *ti)
{
    pgt_typeinfo_t copy = *ti;
    copy.nspname = xstrdup(ti->nspname);
    copy.typname = xstrdup(ti->typname);
    copy.enum_labels = xstrdup(ti->enum_labels);
    for (size_t i = 0; i < c->n; i++) {
        if (c->v[i].oid == ti->oid) {
            typeinfo_free(&c->v[i]);
            c->v[i] = copy;
            return;
        }
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 64;
        c->v = xrealloc(c->v, c->cap * sizeof *c->v);
    }
    c->v[c->n++] = copy;
}

const pgt_typeinfo_t *pgt_catalog_get(const pgt_catalog_t *c, uint32_t oid)
{
    if (c)
        for (size_t i = 0; i < c->n; i++)
            if (c->v[i].oid == oid)
                return &c->v[i];
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (builtins[i].oid == oid)
            return &builtins[i];
    return NULL;
}

static pgt_kind_t kind_by_name(const char *n, bool *bpchar, bool *varbit)
{
    static const struct { const char *name; pgt_kind_t kind; } names[] = {
        { "bool", PGT_BOOL }, { "int2", PGT_INT2 }, { "int4", PGT_INT4 }, { "int8", PGT_INT8 },
        { "oid", PGT_OID }, { "float4", PGT_FLOAT4 }, { "float8", PGT_FLOAT8 }, { "numeric", PGT_NUMERIC },
        { "money", PGT_MONEY }, { "text", PGT_TEXT }, { "varchar", PGT_TEXT }, { "bpchar", PGT_TEXT },
        { "name", PGT_TEXT }, { "char", PGT_TEXT }, { "citext", PGT_TEXT }, { "inet", PGT_TEXT },
        { "cidr", PGT_TEXT }, { "macaddr", PGT_TEXT }, { "macaddr8", PGT_TEXT }, { "date", PGT_DATE },
        { "time", PGT_TIME }, { "timetz", PGT_TIMETZ }, { "timestamp", PGT_TIMESTAMP },
        { "timestamptz", PGT_TIMESTAMPTZ }, { "interval", PGT_INTERVAL }, { "bytea", PGT_BYTEA },
        { "json", PGT_JSON }, { "jsonb", PGT_JSON }, { "xml", PGT_XML }, { "uuid", PGT_UUID },
        { "point", PGT_POINT }, { "hstore", PGT_HSTORE }, { "ltree", PGT_LTREE },
        { "tsvector", PGT_TSVECTOR }, { "bit", PGT_BIT }, { "varbit", PGT_BIT },
    };
    *bpchar = strcmp(n, "bpchar") == 0;
    *varbit = strcmp(n, "varbit") == 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].name, n) == 0)
            return names[i].kind;
    return PGT_UNKNOWN;
}

int pgt_resolve(const pgt_catalog_t *c, arena_t *a, uint32_t typid, int32_t typmod, pgt_coltype_t *out,
                char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->typmod = typmod;
    for (int depth = 0; depth < 16; depth++) {
        const pgt_typeinfo_t *ti = pgt_catalog_get(c, typid);
        if (!ti) {
            snprintf(err, errlen, "type oid %u is not in the type catalog", typid);
            return -1;
        }
        out->typname = ti->typname;
        if (ti->typtype == 'd') {
            out->domain = true;
            if (out->typmod < 0)
                out->typmod = ti->typtypmod;
            typid = ti->typbasetype;
            continue;
        }
        if (ti->typelem != 0 && (!strcmp(ti->typname, "int2vector") || !strcmp(ti->typname, "oidvector"))) {
            /* Debezium: an array of int16 / int64 with required items */
            out->kind = PGT_ARRAY;
            out->vector = true;
            out->elem = arena_zalloc(a, sizeof *out->elem);
            return pgt_resolve(c, a, ti->typelem, -1, out->elem, err, errlen);
        }
        if (ti->typelem != 0 && ti->typname[0] == '_') {
            out->kind = PGT_ARRAY;
            out->elem = arena_zalloc(a, sizeof *out->elem);
            /* a column's typmod applies to its array's elements (varchar(5)[], bit(3)[], numeric(5,2)[]) */
            return pgt_resolve(c, a, ti->typelem, out->typmod, out->elem, err, errlen);
        }
        if (ti->typtype == 'e') {
            out->kind = PGT_ENUM;
            out->enum_labels = ti->enum_labels ? ti->enum_labels : "";
            return 0;
        }
        if (ti->typtype == 'r' || ti->typtype == 'm') {
            out->kind = PGT_TEXT;
            return 0;
        }
        if (ti->typtype == 'c') {
            /* composite (row) types: no Debezium converter; left out unless include.unknown.datatypes */
            out->kind = PGT_UNKNOWN;
            return 0;
        }
        out->kind = kind_by_name(ti->typname, &out->bpchar, &out->varbit);
        return 0;
    }
    snprintf(err, errlen, "type oid %u: domain nesting deeper than 16", typid);
    return -1;
}

void pgt_opts_default(pgt_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->money_fraction_digits = 2;
}

/* ---- Java collections ------------------------------------------------------------------- */

/* The bucket of a key in a java.util.HashMap of cap buckets (the hash spread as HashMap.hash does). */
static uint32_t java_bucket(const char *key, uint32_t cap)
{
    uint32_t h = (uint32_t)json_java_string_hash(key, strlen(key));
    return (h ^ (h >> 16)) & (cap - 1);
}

void pgt_java_hashmap_order(const char *const *keys, size_t n, size_t *order)
{
    uint32_t cap = 16;
    while (n > (size_t)cap / 4 * 3)
        cap *= 2;
    uint32_t *bucket = xmalloc((n ? n : 1) * sizeof *bucket);
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
        bucket[i] = java_bucket(keys[i], cap);
    }
    for (size_t i = 1; i < n; i++) {     /* insertion sort: stable */
        size_t x = order[i], j = i;
        while (j > 0 && bucket[order[j - 1]] > bucket[x]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    free(bucket);
}

/* ---- schemas ---------------------------------------------------------------------------- */

static int numeric_precision(int32_t typmod) { return typmod < 4 ? -1 : ((typmod - 4) >> 16) & 0xffff; }
/* The scale as pgjdbc reads it, (typmod - 4) & 0xffff, which Debezium takes: a negative scale (PostgreSQL 15,
 * numeric(3,-2)) stored in 11 bits comes out as 2048 + scale (2046). The values are scaled to it, so the
 * number stays right: 100 is 100 * 10^2046 at scale 2046. */
static int numeric_scale(int32_t typmod) { return typmod < 4 ? -1 : (typmod - 4) & 0xffff; }
static int time_precision(int32_t typmod) { return typmod < 0 ? 6 : typmod; }

static char *itoa_arena(arena_t *a, long v)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "%ld", v);
    return arena_strdup(a, tmp);
}

static cs_schema_t *named(arena_t *a, ct_type_t type, bool optional, const char *name, int version)
{
    cs_schema_t *s = cs_new(a, type, optional);
    s->name = name;
    s->version = version;
    return s;
}

static cs_schema_t *decimal_schema(arena_t *a, bool optional, int scale, int precision)
{
    cs_schema_t *s = named(a, CT_BYTES, optional, "org.apache.kafka.connect.data.Decimal", 1);
    cs_param_add(s, "scale", itoa_arena(a, scale));
    if (precision >= 0)
        cs_param_add(s, "connect.decimal.precision", itoa_arena(a, precision));
    return s;
}

static cs_schema_t *variable_scale_schema(arena_t *a, bool optional)
{
    cs_schema_t *s = named(a, CT_STRUCT, optional, "io.debezium.data.VariableScaleDecimal", 1);
    s->doc = "Variable scaled decimal";
    cs_field_add(a, s, "scale", cs_new(a, CT_INT32, false));
    cs_field_add(a, s, "value", cs_new(a, CT_BYTES, false));
    return s;
}

/* Debezium's array items are required for enums, tsvector, types it does not know
 * (include.unknown.datatypes) and int2vector/oidvector, optional for the others. A null element in a
 * required-items array fails Connect's validation, and Debezium (event.converting.failure.handling.mode,
 * default warn) sends the whole array as null. */
static bool array_items_required(const pgt_coltype_t *t)
{
    return t->vector || t->elem->kind == PGT_ENUM || t->elem->kind == PGT_UNKNOWN || t->elem->kind == PGT_TSVECTOR;
}

cs_schema_t *pgt_schema(arena_t *a, const pgt_coltype_t *t, bool optional, const pgt_opts_t *o)
{
    switch (t->kind) {
    case PGT_BOOL: return cs_new(a, CT_BOOLEAN, optional);
    case PGT_INT2: return cs_new(a, CT_INT16, optional);
    case PGT_INT4: return cs_new(a, CT_INT32, optional);
    case PGT_INT8:
    case PGT_OID: return cs_new(a, CT_INT64, optional);
    case PGT_FLOAT4: return cs_new(a, CT_FLOAT32, optional);
    case PGT_FLOAT8: return cs_new(a, CT_FLOAT64, optional);
    case PGT_NUMERIC:
        if (o->decimal == PGT_DECIMAL_DOUBLE)
            return cs_new(a, CT_FLOAT64, optional);
        if (o->decimal == PGT_DECIMAL_STRING)
            return cs_new(a, CT_STRING, optional);
        if (numeric_precision(t->typmod) < 0)
            return variable_scale_schema(a, optional);
        return decimal_schema(a, optional, numeric_scale(t->typmod), numeric_precision(t->typmod));
    case PGT_MONEY:
        if (o->decimal == PGT_DECIMAL_DOUBLE)
            return cs_new(a, CT_FLOAT64, optional);
        if (o->decimal == PGT_DECIMAL_STRING)
            return cs_new(a, CT_STRING, optional);
        return decimal_schema(a, optional, o->money_fraction_digits, -1);
    case PGT_TEXT: return cs_new(a, CT_STRING, optional);
    case PGT_DATE:
        if (o->time == PGT_TIME_CONNECT)
            return named(a, CT_INT32, optional, "org.apache.kafka.connect.data.Date", 1);
        return named(a, CT_INT32, optional, "io.debezium.time.Date", 1);
    case PGT_TIME:
        if (o->time == PGT_TIME_CONNECT)
            return named(a, CT_INT32, optional, "org.apache.kafka.connect.data.Time", 1);
        if (o->time == PGT_TIME_ADAPTIVE && time_precision(t->typmod) <= 3)
            return named(a, CT_INT32, optional, "io.debezium.time.Time", 1);
        return named(a, CT_INT64, optional, "io.debezium.time.MicroTime", 1);
    case PGT_TIMESTAMP:
        if (o->time == PGT_TIME_CONNECT)
            return named(a, CT_INT64, optional, "org.apache.kafka.connect.data.Timestamp", 1);
        if (time_precision(t->typmod) <= 3)
            return named(a, CT_INT64, optional, "io.debezium.time.Timestamp", 1);
        return named(a, CT_INT64, optional, "io.debezium.time.MicroTimestamp", 1);
    case PGT_TIMESTAMPTZ: return named(a, CT_STRING, optional, "io.debezium.time.ZonedTimestamp", 1);
    case PGT_TIMETZ: return named(a, CT_STRING, optional, "io.debezium.time.ZonedTime", 1);
    case PGT_INTERVAL:
        if (o->interval == PGT_INTERVAL_STRING)
            return named(a, CT_STRING, optional, "io.debezium.time.Interval", 1);
        return named(a, CT_INT64, optional, "io.debezium.time.MicroDuration", 1);
    case PGT_BYTEA:
        return cs_new(a, o->binary == PGT_BINARY_BYTES ? CT_BYTES : CT_STRING, optional);
    case PGT_JSON: return named(a, CT_STRING, optional, "io.debezium.data.Json", 1);
    case PGT_XML: return named(a, CT_STRING, optional, "io.debezium.data.Xml", 1);
    case PGT_UUID: return named(a, CT_STRING, optional, "io.debezium.data.Uuid", 1);
    case PGT_LTREE: return named(a, CT_STRING, optional, "io.debezium.data.Ltree", 1);
    case PGT_TSVECTOR: return named(a, CT_STRING, optional, "io.debezium.data.Tsvector", 1);
    case PGT_ENUM: {
        cs_schema_t *s = named(a, CT_STRING, optional, "io.debezium.data.Enum", 1);
        cs_param_add(s, "allowed", t->enum_labels ? t->enum_labels : "");
        return s;
    }
    case PGT_POINT: {
        cs_schema_t *s = named(a, CT_STRUCT, optional, "io.debezium.data.geometry.Point", 1);
        s->doc = "Geometry (POINT)";
        cs_field_add(a, s, "x", cs_new(a, CT_FLOAT64, false));
        cs_field_add(a, s, "y", cs_new(a, CT_FLOAT64, false));
        cs_field_add(a, s, "wkb", cs_new(a, CT_BYTES, true));
        cs_field_add(a, s, "srid", cs_new(a, CT_INT32, true));
        return s;
    }
    case PGT_HSTORE:
        if (o->hstore == PGT_HSTORE_MAP) {
            cs_schema_t *s = cs_new(a, CT_MAP, optional);
            s->keys = cs_new(a, CT_STRING, false);
            s->items = cs_new(a, CT_STRING, true);
            return s;
        }
        return named(a, CT_STRING, optional, "io.debezium.data.Json", 1);
    case PGT_BIT:
        if (!t->varbit && t->typmod <= 1)
            return cs_new(a, CT_BOOLEAN, optional);
        {
            cs_schema_t *s = named(a, CT_BYTES, optional, "io.debezium.data.Bits", 1);
            cs_param_add(s, "length", itoa_arena(a, t->typmod > 0 ? t->typmod : 2147483647));
            return s;
        }
    case PGT_ARRAY: {
        /* Debezium has no converter for interval[], money[], xml[] and arrays of a domain (the column
         * is left out) and gives
         * bit[] the schema of one bit string (Bits, or boolean for bit(1)) and never a value */
        if (t->elem->kind == PGT_INTERVAL || t->elem->kind == PGT_MONEY || t->elem->kind == PGT_XML ||
            t->elem->domain)
            return NULL;
        /* ... nor for varbit[] and point[] (pgjdbc reports JDBC type ARRAY, which it ignores) */
        if ((t->elem->kind == PGT_BIT && t->elem->varbit) || t->elem->kind == PGT_POINT)
            return NULL;
        if (t->vector) {
            cs_schema_t *v = cs_new(a, CT_ARRAY, optional);
            v->items = pgt_schema(a, t->elem, false, o);
            return v;
        }
        if (t->elem->kind == PGT_BIT)
            return pgt_schema(a, t->elem, optional, o);
        cs_schema_t *e = pgt_schema(a, t->elem, !array_items_required(t), o);
        if (!e)
            return NULL;
        cs_schema_t *s = cs_new(a, CT_ARRAY, optional);
        s->items = e;
        return s;
    }
    case PGT_UNKNOWN:
        /* include.unknown.datatypes: pgjdbc's text of the value, in the binary.handling.mode encoding */
        if (o->include_unknown)
            return cs_new(a, o->binary == PGT_BINARY_BYTES ? CT_BYTES : CT_STRING, optional);
        return NULL;
    }
    return NULL;
}

/* ---- value parsers ---------------------------------------------------------------------- */

#define FAIL(...)                                  \
    do {                                           \
        snprintf(err, errlen, __VA_ARGS__);        \
        return -1;                                 \
    } while (0)

/* Copies a length-delimited number into a NUL-terminated buffer for strtoll/strtod. */
static bool number_cstr(char *tmp, size_t tmplen, const char *s, size_t n)
{
    if (n == 0 || n >= tmplen)
        return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    return true;
}

static bool parse_i64(const char *s, size_t n, int64_t *v)
{
    char tmp[32], *end;
    if (!number_cstr(tmp, sizeof tmp, s, n))
        return false;
    errno = 0;
    long long r = strtoll(tmp, &end, 10);
    if (errno || *end)
        return false;
    *v = r;
    return true;
}

/* Any length: numeric text runs to thousands of digits (1e-130 is 131 characters), and strtod rounds
 * it correctly, as BigDecimal.doubleValue does. */
static bool parse_f64(const char *s, size_t n, double *v)
{
    char small[64], *tmp = small, *end;
    if (n == 0 || memchr(s, '\0', n))
        return false;
    if (n >= sizeof small)
        tmp = xmalloc(n + 1);
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *v = strtod(tmp, &end);
    bool ok = *end == '\0';
    if (tmp != small)
        free(tmp);
    return ok;
}

int64_t pgt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

typedef struct { const char *p, *end; } scan_t;

static bool scan_uint(scan_t *sc, int maxdigits, int64_t *v, int *ndigits)
{
    int64_t r = 0;
    int k = 0;
    while (sc->p < sc->end && isdigit((unsigned char)*sc->p) && k < maxdigits) {
        r = r * 10 + (*sc->p - '0');
        sc->p++;
        k++;
    }
    if (ndigits)
        *ndigits = k;
    *v = r;
    return k > 0;
}

static bool scan_char(scan_t *sc, char c)
{
    if (sc->p < sc->end && *sc->p == c) {
        sc->p++;
        return true;
    }
    return false;
}

/* Fraction ".ffffff" as microseconds (digits beyond 6 are dropped). */
static int64_t scan_fraction_us(scan_t *sc)
{
    int64_t us = 0;
    int k = 0;
    if (!scan_char(sc, '.'))
        return 0;
    while (sc->p < sc->end && isdigit((unsigned char)*sc->p)) {
        if (k < 6) {
            us = us * 10 + (*sc->p - '0');
            k++;
        }
        sc->p++;
    }
    while (k++ < 6)
        us *= 10;
    return us;
}

static bool scan_date(scan_t *sc, int64_t *y, int64_t *mo, int64_t *d)
{
    return scan_uint(sc, 9, y, NULL) && scan_char(sc, '-') && scan_uint(sc, 2, mo, NULL) &&
           scan_char(sc, '-') && scan_uint(sc, 2, d, NULL) && *mo >= 1 && *mo <= 12 && *d >= 1 && *d <= 31;
}

/* HH:MM[:SS[.ffffff]]; intervals print all their hours here, so hour_digits may exceed 2. */
static bool scan_time_h(scan_t *sc, int hour_digits, int64_t *us)
{
    int64_t h, mi, s;
    if (!(scan_uint(sc, hour_digits, &h, NULL) && scan_char(sc, ':') && scan_uint(sc, 2, &mi, NULL)))
        return false;
    if (h > INT64_C(2562047788))   /* PostgreSQL's largest interval time part */
        return false;
    s = 0;
    if (scan_char(sc, ':') && !scan_uint(sc, 2, &s, NULL))
        return false;
    int64_t frac = scan_fraction_us(sc);
    *us = ((h * 60 + mi) * 60 + s) * 1000000 + frac;
    return true;
}

static bool scan_time(scan_t *sc, int64_t *us) { return scan_time_h(sc, 2, us); }

/* "+HH[:MM[:SS]]" as seconds east of UTC. */
static bool scan_offset(scan_t *sc, int64_t *secs)
{
    int sign;
    if (scan_char(sc, '+'))
        sign = 1;
    else if (scan_char(sc, '-'))
        sign = -1;
    else
        return false;
    int64_t h, m = 0, s = 0;
    if (!scan_uint(sc, 2, &h, NULL))
        return false;
    if (scan_char(sc, ':') && !scan_uint(sc, 2, &m, NULL))
        return false;
    if (scan_char(sc, ':') && !scan_uint(sc, 2, &s, NULL))
        return false;
    *secs = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool scan_bc(scan_t *sc)
{
    if (sc->end - sc->p == 3 && memcmp(sc->p, " BC", 3) == 0) {
        sc->p += 3;
        return true;
    }
    return false;
}

static bool text_is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* Days since the epoch for an ISO date; BC years are astronomical (1 BC = year 0). */
static int parse_date(const char *s, size_t n, int64_t *days)
{
    scan_t sc = { s, s + n };
    int64_t y, m, d;
    if (text_is(s, n, "infinity")) { *days = INT32_MAX; return 0; }
    if (text_is(s, n, "-infinity")) { *days = INT32_MIN; return 0; }
    if (!scan_date(&sc, &y, &m, &d))
        return -1;
    if (scan_bc(&sc))
        y = 1 - y;
    if (sc.p != sc.end)
        return -1;
    *days = pgt_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

/* Microseconds since the epoch; with_tz adds the offset to reach UTC. */
/* Seconds since the epoch and microseconds within the second (0..999999): PostgreSQL's range (to year
 * 294276) does not fit int64 microseconds since 1970. *inf: +1/-1 for infinity/-infinity, else 0. */
static int parse_timestamp(const char *s, size_t n, bool with_tz, int64_t *secs, int64_t *frac, int *inf)
{
    scan_t sc = { s, s + n };
    int64_t y, m, d, t, off = 0;
    *inf = 0;
    *secs = *frac = 0;
    if (text_is(s, n, "infinity")) { *inf = 1; return 0; }
    if (text_is(s, n, "-infinity")) { *inf = -1; return 0; }
    if (!scan_date(&sc, &y, &m, &d) || !scan_char(&sc, ' ') || !scan_time(&sc, &t))
        return -1;
    if (with_tz && !scan_offset(&sc, &off))
        return -1;
    if (scan_bc(&sc))
        y = 1 - y;
    if (sc.p != sc.end)
        return -1;
    *secs = pgt_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + t / 1000000 - off;
    *frac = t % 1000000;
    return 0;
}

/* Debezium's epoch microseconds: TimeUnit.SECONDS.toMicros (saturating at the int64 bounds) plus the
 * micros of the second, an addition that wraps (year 294276 gives -9223372036853775810). */
static int64_t java_epoch_micros(int64_t secs, int64_t frac)
{
    int64_t us;
    if (__builtin_mul_overflow(secs, INT64_C(1000000), &us))
        us = secs > 0 ? INT64_MAX : INT64_MIN;
    return (int64_t)((uint64_t)us + (uint64_t)frac);
}

static void format_fraction(char *out, int64_t us, int digits, bool trim)
{
    char f[8];
    snprintf(f, sizeof f, "%06lld", (long long)us);
    int k = digits > 6 ? 6 : digits;
    if (trim)
        while (k > 0 && f[k - 1] == '0')
            k--;
    if (k == 0) {
        out[0] = '\0';
        return;
    }
    out[0] = '.';
    memcpy(out + 1, f, (size_t)k);
    out[k + 1] = '\0';
}

static cv_value_t str_value(arena_t *a, const char *s)
{
    size_t n = strlen(s);
    return cv_str(arena_strndup(a, s, n), n);
}

static int zoned_timestamp(arena_t *a, int32_t typmod, const char *s, size_t n, cv_value_t *out)
{
    int64_t esecs, efrac;
    int inf;
    if (text_is(s, n, "infinity") || text_is(s, n, "-infinity")) {
        *out = cv_str(arena_strndup(a, s, n), n);
        return 0;
    }
    if (parse_timestamp(s, n, true, &esecs, &efrac, &inf) < 0)
        return -1;
    int64_t days = esecs >= 0 ? esecs / 86400 : -((-esecs + 86399) / 86400);
    int64_t secs = esecs - days * 86400;
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    char frac[8], tmp[64];
    format_fraction(frac, efrac, time_precision(typmod), false);
    if (y >= 0 && y <= 9999)
        snprintf(tmp, sizeof tmp, "%04lld-%02u-%02uT%02lld:%02lld:%02lld%sZ", (long long)y, mo, d,
                 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60), frac);
    else
        snprintf(tmp, sizeof tmp, "%+05lld-%02u-%02uT%02lld:%02lld:%02lld%sZ", (long long)y, mo, d,
                 (long long)(secs / 3600), (long long)(secs / 60 % 60), (long long)(secs % 60), frac);
    *out = str_value(a, tmp);
    return 0;
}

static int zoned_time_frac(arena_t *a, const char *s, size_t n, bool fraction, cv_value_t *out);

static int zoned_time(arena_t *a, const char *s, size_t n, cv_value_t *out)
{
    return zoned_time_frac(a, s, n, true, out);
}

/* fraction false: seconds only, as a timetz array element reaches Debezium (through java.sql.Time) */
static int zoned_time_frac(arena_t *a, const char *s, size_t n, bool fraction, cv_value_t *out)
{
    scan_t sc = { s, s + n };
    int64_t t, off;
    if (!scan_time(&sc, &t) || !scan_offset(&sc, &off) || sc.p != sc.end)
        return -1;
    const int64_t day = INT64_C(86400000000);
    t = ((t - off * 1000000) % day + day) % day;
    char frac[8], tmp[48];
    format_fraction(frac, fraction ? t % 1000000 : 0, 6, true);
    int64_t secs = t / 1000000;
    snprintf(tmp, sizeof tmp, "%02lld:%02lld:%02lld%sZ", (long long)(secs / 3600), (long long)(secs / 60 % 60),
             (long long)(secs % 60), frac);
    *out = str_value(a, tmp);
    return 0;
}

typedef struct { int64_t months, days, us; } interval_t;

/* IntervalStyle=postgres: "1 year 2 mons -3 days +04:05:06.789" (any part may be missing). */
static int parse_interval(const char *s, size_t n, interval_t *iv)
{
    scan_t sc = { s, s + n };
    memset(iv, 0, sizeof *iv);
    while (sc.p < sc.end) {
        while (sc.p < sc.end && *sc.p == ' ')
            sc.p++;
        if (sc.p >= sc.end)
            break;
        int sign = 1;
        if (scan_char(&sc, '-'))
            sign = -1;
        else
            scan_char(&sc, '+');
        const char *numstart = sc.p;
        int64_t v;
        if (!scan_uint(&sc, 12, &v, NULL))
            return -1;
        if (sc.p < sc.end && *sc.p == ':') {
            sc.p = numstart;
            int64_t t;
            if (!scan_time_h(&sc, 10, &t))
                return -1;
            iv->us += sign * t;
            continue;
        }
        if (!scan_char(&sc, ' '))
            return -1;
        const char *unit = sc.p;
        while (sc.p < sc.end && isalpha((unsigned char)*sc.p))
            sc.p++;
        size_t ul = (size_t)(sc.p - unit);
        if (ul >= 4 && strncmp(unit, "year", 4) == 0)
            iv->months += sign * v * 12;
        else if (ul >= 3 && strncmp(unit, "mon", 3) == 0)
            iv->months += sign * v;
        else if (ul >= 3 && strncmp(unit, "day", 3) == 0)
            iv->days += sign * v;
        else
            return -1;
    }
    return 0;
}

static void interval_iso(char *out, size_t outlen, const interval_t *iv)
{
    int64_t years = iv->months / 12, months = iv->months % 12;
    int64_t us = iv->us;
    int64_t hours = us / INT64_C(3600000000);
    us -= hours * INT64_C(3600000000);
    int64_t minutes = us / 60000000;
    us -= minutes * 60000000;
    char secs[48];
    if (us % 1000000 == 0) {
        snprintf(secs, sizeof secs, "%lld", (long long)(us / 1000000));
    } else {
        char frac[8];
        format_fraction(frac, llabs(us % 1000000), 6, true);
        snprintf(secs, sizeof secs, "%s%lld%s", us < 0 && us > -1000000 ? "-" : "", (long long)(us / 1000000), frac);
    }
    snprintf(out, outlen, "P%lldY%lldM%lldDT%lldH%lldM%sS", (long long)years, (long long)months,
             (long long)iv->days, (long long)hours, (long long)minutes, secs);
}

size_t pgt_decimal_bytes(arena_t *a, const char *digits, size_t n, bool negative, uint8_t **out)
{
    /* Magnitude in base 256, little-endian while building. */
    size_t cap = n / 2 + 2;
    uint8_t *mag = arena_zalloc(a, cap);
    size_t len = 1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)digits[i]))
            continue;
        unsigned carry = (unsigned)(digits[i] - '0');
        for (size_t k = 0; k < len; k++) {
            unsigned v = mag[k] * 10u + carry;
            mag[k] = (uint8_t)v;
            carry = v >> 8;
        }
        if (carry && len < cap)
            mag[len++] = (uint8_t)carry;
    }
    while (len > 1 && mag[len - 1] == 0)
        len--;
    bool zero = len == 1 && mag[0] == 0;
    if (negative && !zero) {
        /* two's complement: invert and add one */
        unsigned carry = 1;
        for (size_t k = 0; k < len; k++) {
            unsigned v = (uint8_t)~mag[k] + carry;
            mag[k] = (uint8_t)v;
            carry = v >> 8;
        }
        /* needs a sign bit set; add 0xff byte if the top bit is clear, drop redundant 0xff bytes */
        if (!(mag[len - 1] & 0x80))
            mag[len++] = 0xff;
        while (len > 1 && mag[len - 1] == 0xff && (mag[len - 2] & 0x80))
            len--;
    } else if (mag[len - 1] & 0x80) {
        mag[len++] = 0;
    }
    uint8_t *be = arena_alloc(a, len);
    for (size_t k = 0; k < len; k++)
        be[k] = mag[len - 1 - k];
    *out = be;
    return len;
}

/* A plain decimal "[-]ddd[.ddd]": digits without the point, sign and scale. */
static int split_decimal(arena_t *a, const char *s, size_t n, char **digits, size_t *nd, int *scale, bool *neg)
{
    size_t i = 0;
    *neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        *neg = s[i++] == '-';
    char *d = arena_alloc(a, n + 1);
    size_t k = 0;
    int sc = -1;
    bool any = false;
    for (; i < n; i++) {
        if (isdigit((unsigned char)s[i])) {
            d[k++] = s[i];
            any = true;
            if (sc >= 0)
                sc++;
        } else if (s[i] == '.' && sc < 0) {
            sc = 0;
        } else {
            return -1;
        }
    }
    if (!any)
        return -1;
    d[k] = '\0';
    *digits = d;
    *nd = k;
    *scale = sc < 0 ? 0 : sc;
    return 0;
}

/* NaN, Infinity, -Infinity: numeric values no BigDecimal holds. */
static bool numeric_special(const char *s, size_t n)
{
    return text_is(s, n, "NaN") || text_is(s, n, "Infinity") || text_is(s, n, "-Infinity");
}

static int decimal_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n,
                         int force_scale, cv_value_t *out)
{
    if (o->decimal == PGT_DECIMAL_STRING && numeric_special(s, n)) {
        /* Debezium writes its SpecialValueDecimal enum's name */
        *out = str_value(a, text_is(s, n, "NaN") ? "NAN" : text_is(s, n, "Infinity") ? "POSITIVE_INFINITY"
                                                                                   : "NEGATIVE_INFINITY");
        return 0;
    }
    if (o->decimal == PGT_DECIMAL_STRING) {
        /* BigDecimal.toPlainString after setScale(column scale): PostgreSQL's text has the column's scale
         * already, except for a negative one (numeric(3,-2): "100" at scale 2046); money is not rescaled */
        int want = t ? numeric_scale(t->typmod) : -1;
        const char *dot = memchr(s, '.', n);
        size_t have = dot ? n - (size_t)(dot - s) - 1 : 0;
        if (want > 0 && (size_t)want > have) {
            size_t len = n + (dot ? 0 : 1) + ((size_t)want - have);
            char *p = arena_alloc(a, len + 1);
            memcpy(p, s, n);
            size_t k = n;
            if (!dot)
                p[k++] = '.';
            while (k < len)
                p[k++] = '0';
            p[k] = '\0';
            *out = cv_str(p, len);
            return 0;
        }
        *out = cv_str(arena_strndup(a, s, n), n);
        return 0;
    }
    if (o->decimal == PGT_DECIMAL_DOUBLE) {
        double d;
        if (text_is(s, n, "NaN")) d = NAN;
        else if (text_is(s, n, "Infinity")) d = INFINITY;
        else if (text_is(s, n, "-Infinity")) d = -INFINITY;
        else if (!parse_f64(s, n, &d)) return -1;
        *out = cv_float(d);
        return 0;
    }
    if (numeric_special(s, n)) {
        *out = cv_null();   /* no Decimal can carry it; Debezium emits null in precise mode */
        return 0;
    }
    char *digits;
    size_t nd;
    int scale;
    bool neg;
    if (split_decimal(a, s, n, &digits, &nd, &scale, &neg) < 0)
        return -1;
    int want = force_scale >= 0 ? force_scale : (t ? numeric_scale(t->typmod) : -1);
    if (want >= 0) {
        /* Pad or cut to the column's scale so the unscaled value matches the schema. */
        if (scale < want) {
            char *d2 = arena_alloc(a, nd + (size_t)(want - scale) + 1);
            memcpy(d2, digits, nd);
            for (int i = scale; i < want; i++)
                d2[nd++] = '0';
            d2[nd] = '\0';
            digits = d2;
        } else if (scale > want) {
            /* setScale(want, HALF_UP) (money.fraction.digits below the text's two): a first dropped digit
             * of 5 or more rounds the magnitude up */
            bool up = digits[nd - (size_t)(scale - want)] >= '5';
            nd -= (size_t)(scale - want);
            if (up) {
                char *d2 = arena_alloc(a, nd + 2);
                d2[0] = '0';
                memcpy(d2 + 1, digits, nd);
                size_t k = nd + 1;
                while (k-- > 0) {
                    if (d2[k] == '9') {
                        d2[k] = '0';
                        continue;
                    }
                    d2[k]++;
                    break;
                }
                digits = d2;
                nd++;
            }
        }
        uint8_t *bytes;
        size_t len = pgt_decimal_bytes(a, digits, nd, neg, &bytes);
        *out = cv_str((const char *)bytes, len);
        return 0;
    }
    /* Variable scale: strip trailing fraction zeros, never below scale 0. */
    while (scale > 0 && nd > 0 && digits[nd - 1] == '0') {
        nd--;
        scale--;
    }
    uint8_t *bytes;
    size_t len = pgt_decimal_bytes(a, digits, nd, neg, &bytes);
    cv_value_t st = cv_list(a, 2);
    st.u.list.v[0] = cv_int(scale);
    st.u.list.v[1] = cv_str((const char *)bytes, len);
    *out = st;
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_bytea(arena_t *a, const char *s, size_t n, uint8_t **out, size_t *outlen)
{
    if (n >= 2 && s[0] == '\\' && s[1] == 'x') {
        if ((n - 2) % 2)
            return -1;
        uint8_t *p = arena_alloc(a, (n - 2) / 2 + 1);
        for (size_t i = 2, k = 0; i < n; i += 2, k++) {
            int hi = hexval(s[i]), lo = hexval(s[i + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            p[k] = (uint8_t)(hi << 4 | lo);
        }
        *out = p;
        *outlen = (n - 2) / 2;
        return 0;
    }
    /* escape format: \\ and \ooo */
    uint8_t *p = arena_alloc(a, n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\') {
            p[k++] = (uint8_t)s[i];
        } else if (i + 1 < n && s[i + 1] == '\\') {
            p[k++] = '\\';
            i++;
        } else if (i + 3 < n + 0 && s[i + 1] >= '0' && s[i + 1] <= '3') {
            p[k++] = (uint8_t)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            return -1;
        }
    }
    *out = p;
    *outlen = k;
    return 0;
}

static cv_value_t binary_value(arena_t *a, const pgt_opts_t *o, const uint8_t *p, size_t n)
{
    if (o->binary == PGT_BINARY_BYTES)
        return cv_str((const char *)p, n);
    buf_t b;
    buf_init(&b);
    if (o->binary == PGT_BINARY_HEX) {
        static const char hx[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
            buf_putc(&b, hx[p[i] >> 4]);
            buf_putc(&b, hx[p[i] & 15]);
        }
    } else {
        json_enc_base64(&b, p, n, o->binary == PGT_BINARY_BASE64_URL);
    }
    cv_value_t v = cv_str(arena_strndup(a, b.data ? b.data : "", b.len), b.len);
    buf_free(&b);
    return v;
}

static cv_value_t point_value(arena_t *a, double x, double y)
{
    cv_value_t st = cv_list(a, 4);
    st.u.list.v[0] = cv_float(x);
    st.u.list.v[1] = cv_float(y);
    uint8_t *wkb = arena_alloc(a, 21);
    wkb[0] = 1;
    uint32_t type = 1;
    memcpy(wkb + 1, &type, 4);   /* little-endian host: WKB says so in byte 0 */
    memcpy(wkb + 5, &x, 8);
    memcpy(wkb + 13, &y, 8);
    st.u.list.v[2] = cv_str((const char *)wkb, 21);
    st.u.list.v[3] = cv_null();
    return st;
}

/* One element of array/hstore text: quoted with backslash escapes, or bare (NULL unquoted is null). */
static const char *scan_element(arena_t *a, scan_t *sc, const char *stops, char **val, size_t *len, bool *isnull)
{
    while (sc->p < sc->end && *sc->p == ' ')
        sc->p++;
    *isnull = false;
    if (sc->p < sc->end && *sc->p == '"') {
        sc->p++;
        char *d = arena_alloc(a, (size_t)(sc->end - sc->p) + 1);
        size_t k = 0;
        while (sc->p < sc->end && *sc->p != '"') {
            if (*sc->p == '\\' && sc->p + 1 < sc->end)
                sc->p++;
            d[k++] = *sc->p++;
        }
        if (!scan_char(sc, '"'))
            return NULL;
        d[k] = '\0';
        *val = d;
        *len = k;
        return sc->p;
    }
    const char *st = sc->p;
    while (sc->p < sc->end && !strchr(stops, *sc->p))
        sc->p++;
    const char *e = sc->p;
    while (e > st && e[-1] == ' ')
        e--;
    if (e - st == 4 && strncasecmp(st, "NULL", 4) == 0)
        *isnull = true;
    *val = arena_strndup(a, st, (size_t)(e - st));
    *len = (size_t)(e - st);
    return sc->p;
}

/* Array elements Debezium converts through pgjdbc's array parsing rather than its own: a date infinity
 * becomes java.sql.Date's DATE_POSITIVE/NEGATIVE_INFINITY turned into days; a numeric special value
 * makes the whole array null (*nullify). Returns true when it set *out or *nullify. */
static bool array_element_special(arena_t *a, const pgt_coltype_t *et, const pgt_opts_t *o, const char *v,
                                  size_t len, cv_value_t *out, bool *nullify)
{
    if (et->kind == PGT_DATE && (text_is(v, len, "infinity") || text_is(v, len, "-infinity"))) {
        *out = cv_int(text_is(v, len, "infinity") ? -622191234 : -625821272);
        return true;
    }
    if (et->kind == PGT_DATE && len > 3 && memcmp(v + len - 3, " BC", 3) == 0) {
        /* java.sql.Date drops the era: a BC date comes out as the same date AD */
        int64_t days;
        if (parse_date(v, len - 3, &days) < 0)
            return false;   /* pgt_value reports it */
        *out = cv_int(days);
        return true;
    }
    if (et->kind == PGT_NUMERIC && numeric_special(v, len)) {
        *nullify = true;
        *out = cv_null();
        return true;
    }
    if (et->kind == PGT_TIME) {
        /* java.sql.Time: milliseconds of the day, 24:00:00 wraps to 0 */
        scan_t sc = { v, v + len };
        int64_t us;
        if (!scan_time(&sc, &us) || sc.p != sc.end)
            return false;   /* pgt_value reports it */
        int64_t ms = us / 1000 % 86400000;
        bool micro = o->time == PGT_TIME_ADAPTIVE_MICRO ||
                     (o->time == PGT_TIME_ADAPTIVE && time_precision(et->typmod) > 3);
        *out = cv_int(micro ? ms * 1000 : ms);
        return true;
    }
    if (et->kind == PGT_TIMETZ)
        return zoned_time_frac(a, v, len, false, out) == 0;
    return false;
}

static int array_collect(arena_t *a, const pgt_coltype_t *et, const pgt_opts_t *o, scan_t *sc,
                         cv_value_t **items, size_t *n, size_t *cap, bool *nullify, char *err, size_t errlen)
{
    if (!scan_char(sc, '{'))
        FAIL("array text must start with '{'");
    if (scan_char(sc, '}'))
        return 0;
    for (;;) {
        while (sc->p < sc->end && *sc->p == ' ')
            sc->p++;
        if (sc->p < sc->end && *sc->p == '{') {
            /* a multi-dimensional array: Debezium's element converter gets a sub-array and yields
             * null for it */
            cv_value_t *sub = NULL;
            size_t subn = 0, subcap = 0;
            bool subnull = false;
            if (array_collect(a, et, o, sc, &sub, &subn, &subcap, &subnull, err, errlen) < 0)
                return -1;
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 8;
                cv_value_t *ni = arena_alloc(a, nc * sizeof *ni);
                if (*n)
                    memcpy(ni, *items, *n * sizeof *ni);
                *items = ni;
                *cap = nc;
            }
            (*items)[(*n)++] = cv_null();
        } else {
            char *v;
            size_t len;
            bool isnull;
            /* typdelim: ';' for box (its text has commas), ',' for every other built-in type */
            bool semi = et->typname && !strcmp(et->typname, "box");
            if (!scan_element(a, sc, semi ? ";}" : ",}", &v, &len, &isnull))
                FAIL("unterminated quoted array element");
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 8;
                cv_value_t *ni = arena_alloc(a, nc * sizeof *ni);
                if (*n)
                    memcpy(ni, *items, *n * sizeof *ni);
                *items = ni;
                *cap = nc;
            }
            if (isnull)
                (*items)[*n] = cv_null();
            else if (array_element_special(a, et, o, v, len, &(*items)[*n], nullify))
                ;
            else if (pgt_value(a, et, o, v, len, &(*items)[*n], err, errlen) < 0)
                return -1;
            (*n)++;
        }
        if (scan_char(sc, et->typname && !strcmp(et->typname, "box") ? ';' : ','))
            continue;
        if (scan_char(sc, '}'))
            return 0;
        FAIL("malformed array text: expected a delimiter or '}'");
    }
}

static int hstore_value(arena_t *a, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                        char *err, size_t errlen)
{
    scan_t sc = { s, s + n };
    size_t cap = 8, cnt = 0;
    cv_value_t *kv = arena_alloc(a, cap * 2 * sizeof *kv);
    while (sc.p < sc.end) {
        char *k, *v;
        size_t kl, vl;
        bool knull, vnull;
        if (!scan_element(a, &sc, "=", &k, &kl, &knull))
            FAIL("malformed hstore key");
        if (!scan_char(&sc, '=') || !scan_char(&sc, '>'))
            FAIL("malformed hstore: expected '=>' after key");
        if (!scan_element(a, &sc, ",", &v, &vl, &vnull))
            FAIL("malformed hstore value");
        if (cnt == cap) {
            cv_value_t *nk = arena_alloc(a, cap * 4 * sizeof *nk);
            memcpy(nk, kv, cnt * 2 * sizeof *nk);
            kv = nk;
            cap *= 2;
        }
        kv[cnt * 2] = cv_str(k, kl);
        kv[cnt * 2 + 1] = vnull ? cv_null() : cv_str(v, vl);
        cnt++;
        while (sc.p < sc.end && *sc.p == ' ')
            sc.p++;
        if (sc.p < sc.end && !scan_char(&sc, ','))
            FAIL("malformed hstore: expected ','");
    }
    /* pgjdbc's HStoreConverter fills a java.util.HashMap in text order; Debezium writes it (JSON text or a
     * Connect map) in the map's iteration order */
    {
        const char **keys = arena_alloc(a, (cnt ? cnt : 1) * sizeof *keys);
        size_t *order = arena_alloc(a, (cnt ? cnt : 1) * sizeof *order);
        for (size_t i = 0; i < cnt; i++)
            keys[i] = kv[i * 2].u.s.p;
        pgt_java_hashmap_order(keys, cnt, order);
        cv_value_t *sorted = arena_alloc(a, (cnt ? cnt : 1) * 2 * sizeof *sorted);
        for (size_t i = 0; i < cnt; i++) {
            sorted[i * 2] = kv[order[i] * 2];
            sorted[i * 2 + 1] = kv[order[i] * 2 + 1];
        }
        kv = sorted;
    }
    if (o->hstore == PGT_HSTORE_MAP) {
        cv_value_t m = { .null = false };
        m.u.list.v = kv;
        m.u.list.n = cnt * 2;
        *out = m;
        return 0;
    }
    buf_t b;
    buf_init(&b);
    buf_putc(&b, '{');
    for (size_t i = 0; i < cnt; i++) {
        if (i)
            buf_putc(&b, ',');
        json_enc_string(&b, kv[i * 2].u.s.p, kv[i * 2].u.s.n);
        buf_putc(&b, ':');
        if (kv[i * 2 + 1].null)
            buf_puts(&b, "null");
        else
            json_enc_string(&b, kv[i * 2 + 1].u.s.p, kv[i * 2 + 1].u.s.n);
    }
    buf_putc(&b, '}');
    *out = cv_str(arena_strndup(a, b.data, b.len), b.len);
    buf_free(&b);
    return 0;
}

/* Geometric types pgjdbc has classes for (PGbox, PGcircle, PGline, PGlseg, PGpath, PGpolygon). */
static bool is_geometric(const char *typname)
{
    static const char *const names[] = { "box", "circle", "line", "lseg", "path", "polygon" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(typname, names[i]))
            return true;
    return false;
}

/* The text pgjdbc's geometric classes give back: PostgreSQL's punctuation, every number through Java's
 * Double.toString ("(3,4),(1,2)" -> "(3.0,4.0),(1.0,2.0)"). */
static const char *java_geometric_text(arena_t *a, const char *s, size_t n, size_t *outlen)
{
    buf_t b;
    buf_init(&b);
    char *tmp = arena_strndup(a, s, n);
    for (size_t i = 0; i < n;) {
        char c = tmp[i];
        if (isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.' || c == 'I' || c == 'N') {
            char *end;
            double d = strtod(tmp + i, &end);
            if (end > tmp + i) {
                char num[40];
                size_t k = json_java_double(num, sizeof num, d, false);
                buf_append(&b, num, k);
                i = (size_t)(end - tmp);
                continue;
            }
        }
        buf_putc(&b, c);
        i++;
    }
    *outlen = b.len;
    const char *r = arena_strndup(a, b.data ? b.data : "", b.len);
    buf_free(&b);
    return r;
}

/* money: lc_monetary text (currency sign, grouping) to a decimal of money.fraction.digits. */
static int money_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                       char *err, size_t errlen)
{
    /* lc_monetary formatting: keep sign, digits and the decimal point. */
    char *plain = arena_alloc(a, n + 2);
    size_t k = 0;
    bool neg = false;
    for (size_t j = 0; j < n; j++) {
        if (s[j] == '-' || s[j] == '(')
            neg = true;
        else if (isdigit((unsigned char)s[j]) || s[j] == '.')
            plain[k++] = s[j];
    }
    if (k == 0)
        FAIL("invalid money text '%.*s'", (int)(n > 40 ? 40 : n), s);
    char *signed_text = arena_alloc(a, k + 2);
    size_t sk = 0;
    if (neg)
        signed_text[sk++] = '-';
    memcpy(signed_text + sk, plain, k);
    sk += k;
    signed_text[sk] = '\0';
    if (decimal_value(a, NULL, o, signed_text, sk, o->money_fraction_digits, out) < 0)
        FAIL("invalid money text '%.*s'", (int)(n > 40 ? 40 : n), s);
    return 0;
}

/* timestamp without time zone, in the time.precision.mode unit. */
static int timestamp_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                           char *err, size_t errlen)
{
    int64_t secs, frac;
    int inf;
    if (parse_timestamp(s, n, false, &secs, &frac, &inf) < 0)
        FAIL("invalid timestamp text '%.*s'", (int)(n > 40 ? 40 : n), s);
    bool micro = o->time != PGT_TIME_CONNECT && time_precision(t->typmod) > 3;
    if (inf) {
        /* Debezium gets pgjdbc's DATE_POSITIVE/NEGATIVE_INFINITY (milliseconds) and converts it as
         * micros in the micro modes, as milliseconds / 1000 in the others */
        int64_t v = inf > 0 ? INT64_C(9223372036825200000) : INT64_C(-9223372036832400000);
        *out = cv_int(micro ? v : v / 1000);
        return 0;
    }
    /* milliseconds: seconds * 1000 + the millis of the second (floor), no overflow in PostgreSQL's range */
    *out = cv_int(micro ? java_epoch_micros(secs, frac) : secs * 1000 + frac / 1000);
    return 0;
}

/* interval: ISO 8601 text (string mode) or microseconds as Debezium's MicroDuration (numeric). */
static int interval_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                          char *err, size_t errlen)
{
    interval_t iv;
    if (parse_interval(s, n, &iv) < 0)
        FAIL("invalid interval text '%.*s' (IntervalStyle must be postgres)", (int)(n > 60 ? 60 : n), s);
    if (o->interval == PGT_INTERVAL_STRING) {
        char tmp[128];
        interval_iso(tmp, sizeof tmp, &iv);
        *out = str_value(a, tmp);
    } else {
        /* A month is 365.25/12 days = 2,629,800 s, as Debezium's MicroDuration counts it; beyond
         * int64 it saturates like Java's (long) cast of the double Debezium computes. */
        int64_t mus, dus, r;
        bool ovf = __builtin_mul_overflow(iv.months, INT64_C(2629800000000), &mus) ||
                   __builtin_mul_overflow(iv.days, INT64_C(86400000000), &dus) ||
                   __builtin_add_overflow(mus, dus, &r) || __builtin_add_overflow(r, iv.us, &r);
        if (ovf) {
            double approx = (double)iv.months * 2629800e6 + (double)iv.days * 86400e6 + (double)iv.us;
            r = approx > 0 ? INT64_MAX : INT64_MIN;
        }
        *out = cv_int(r);
    }
    return 0;
}

/* bit(1) as a boolean; bit(n) and varbit as the bytes of a Java BitSet. */
static int bit_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                     char *err, size_t errlen)
{
    if (!t->varbit && t->typmod <= 1) {
        if (n != 1 || (s[0] != '0' && s[0] != '1'))
            FAIL("invalid bit text '%.*s'", (int)(n > 40 ? 40 : n), s);
        *out = cv_bool(s[0] == '1');
        return 0;
    }
    /* Rightmost character is bit 0; bytes little-endian up to the highest set bit (BitSet.toByteArray). */
    uint8_t *p = arena_zalloc(a, n / 8 + 1);
    size_t len = 0;
    for (size_t j = 0; j < n; j++) {
        char c = s[n - 1 - j];
        if (c != '0' && c != '1')
            FAIL("invalid bit string text");
        if (c == '1') {
            p[j / 8] |= (uint8_t)(1u << (j % 8));
            len = j / 8 + 1;
        }
    }
    *out = cv_str((const char *)p, len);
    return 0;
}

/* An array's text: its items converted as the element type (dimension decoration skipped). */
static int array_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n, cv_value_t *out,
                       char *err, size_t errlen)
{
    scan_t sc = { s, s + n };
    /* optional dimension decoration "[1:3]={...}" */
    if (n && s[0] == '[') {
        const char *eq = memchr(s, '=', n);
        if (!eq)
            FAIL("malformed array dimensions");
        sc.p = eq + 1;
    }
    cv_value_t *items = NULL;
    size_t cnt = 0, cap = 0;
    bool nullify = false;
    if (t->elem->kind == PGT_BIT) {
        *out = cv_null();   /* see pgt_schema: a bit string schema Debezium never fills */
        return 0;
    }
    if (t->vector && (n == 0 || s[0] != '{')) {
        /* int2vector/oidvector text "1 2 3": Debezium gives an empty array, and null for '' */
        *out = n == 0 ? cv_null() : cv_list(a, 0);
        return 0;
    }
    if (array_collect(a, t->elem, o, &sc, &items, &cnt, &cap, &nullify, err, errlen) < 0)
        return -1;
    for (size_t k = 0; k < cnt && !nullify && array_items_required(t); k++)
        nullify = items[k].null;   /* see array_items_required */
    if (nullify) {
        *out = cv_null();
        return 0;
    }
    cv_value_t v = { .null = false };
    v.u.list.v = items;
    v.u.list.n = cnt;
    *out = v;
    return 0;
}

int pgt_value(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *s, size_t n,
              cv_value_t *out, char *err, size_t errlen)
{
    int64_t i;
    double d;
    switch (t->kind) {
    case PGT_BOOL:
        if (n == 1 && (s[0] == 't' || s[0] == 'f')) {
            *out = cv_bool(s[0] == 't');
            return 0;
        }
        FAIL("invalid boolean text '%.*s'", (int)(n > 40 ? 40 : n), s);
    case PGT_INT2:
    case PGT_INT4:
    case PGT_INT8:
    case PGT_OID:
        if (!parse_i64(s, n, &i))
            FAIL("invalid integer text '%.*s' for %s", (int)(n > 40 ? 40 : n), s, t->typname);
        *out = cv_int(i);
        return 0;
    case PGT_FLOAT4:
    case PGT_FLOAT8:
        if (text_is(s, n, "NaN")) d = NAN;
        else if (text_is(s, n, "Infinity")) d = INFINITY;
        else if (text_is(s, n, "-Infinity")) d = -INFINITY;
        else if (!parse_f64(s, n, &d))
            FAIL("invalid floating-point text '%.*s'", (int)(n > 40 ? 40 : n), s);
        *out = cv_float(t->kind == PGT_FLOAT4 ? (double)(float)d : d);
        return 0;
    case PGT_NUMERIC:
        if (decimal_value(a, t, o, s, n, -1, out) < 0)
            FAIL("invalid numeric text '%.*s'", (int)(n > 40 ? 40 : n), s);
        return 0;
    case PGT_MONEY:
        return money_value(a, t, o, s, n, out, err, errlen);
    case PGT_TEXT:
    case PGT_JSON:
    case PGT_XML:
    case PGT_UUID:
    case PGT_ENUM:
    case PGT_LTREE:
    case PGT_TSVECTOR:
        *out = cv_str(s, n);
        return 0;
    case PGT_DATE: {
        int64_t days;
        if (parse_date(s, n, &days) < 0)
            FAIL("invalid date text '%.*s'", (int)(n > 40 ? 40 : n), s);
        /* Debezium moves PostgreSQL's internal infinity day counts (INT32_MAX/MIN days since 2000) to
         * 1970 in 32-bit arithmetic: they wrap */
        if (days == INT32_MAX || days == INT32_MIN)
            days = (int32_t)(uint32_t)((uint32_t)(int32_t)days + 10957u);
        *out = cv_int(days);
        return 0;
    }
    case PGT_TIME: {
        scan_t sc = { s, s + n };
        int64_t us;
        if (!scan_time(&sc, &us) || sc.p != sc.end)
            FAIL("invalid time text '%.*s'", (int)(n > 40 ? 40 : n), s);
        bool micro = o->time == PGT_TIME_ADAPTIVE_MICRO ||
                     (o->time == PGT_TIME_ADAPTIVE && time_precision(t->typmod) > 3);
        *out = cv_int(micro ? us : us / 1000);
        return 0;
    }
    case PGT_TIMESTAMP:
        return timestamp_value(a, t, o, s, n, out, err, errlen);
    case PGT_TIMESTAMPTZ:
        if (zoned_timestamp(a, t->typmod, s, n, out) < 0)
            FAIL("invalid timestamptz text '%.*s'", (int)(n > 40 ? 40 : n), s);
        return 0;
    case PGT_TIMETZ:
        if (zoned_time(a, s, n, out) < 0)
            FAIL("invalid timetz text '%.*s'", (int)(n > 40 ? 40 : n), s);
        return 0;
    case PGT_INTERVAL:
        return interval_value(a, t, o, s, n, out, err, errlen);
    case PGT_BYTEA: {
        uint8_t *p;
        size_t len;
        if (parse_bytea(a, s, n, &p, &len) < 0)
            FAIL("invalid bytea text (expected hex format '\\x...')");
        *out = binary_value(a, o, p, len);
        return 0;
    }
    case PGT_POINT: {
        double x, y;
        char tmp[128];
        if (n >= sizeof tmp)
            FAIL("point text too long");
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        if (sscanf(tmp, "(%lf,%lf)", &x, &y) != 2)
            FAIL("invalid point text '%s'", tmp);
        *out = point_value(a, x, y);
        return 0;
    }
    case PGT_HSTORE:
        return hstore_value(a, o, s, n, out, err, errlen);
    case PGT_BIT:
        return bit_value(a, t, o, s, n, out, err, errlen);
    case PGT_ARRAY:
        return array_value(a, t, o, s, n, out, err, errlen);
    case PGT_UNKNOWN:
        if (t->typname && is_geometric(t->typname)) {
            size_t len;
            const char *g = java_geometric_text(a, s, n, &len);
            *out = binary_value(a, o, (const uint8_t *)g, len);
        } else {
            *out = binary_value(a, o, (const uint8_t *)s, n);
        }
        return 0;
    }
    FAIL("unsupported type %s", t->typname ? t->typname : "?");
}

cv_value_t pgt_zero(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o)
{
    cv_value_t v = cv_null();
    char *e = NULL;
    char tmp[8];
    switch (t->kind) {
    case PGT_BOOL: return cv_bool(false);
    case PGT_INT2: case PGT_INT4: case PGT_INT8: case PGT_OID:
    case PGT_DATE: case PGT_TIME: case PGT_TIMESTAMP:
        return cv_int(0);
    case PGT_FLOAT4: case PGT_FLOAT8: return cv_float(0);
    case PGT_INTERVAL:
        if (o->interval == PGT_INTERVAL_STRING)
            return str_value(a, "P0Y0M0DT0H0M0S");
        return cv_int(0);
    case PGT_NUMERIC: case PGT_MONEY:
        decimal_value(a, t->kind == PGT_MONEY ? NULL : t, o, "0", 1,
                      t->kind == PGT_MONEY ? o->money_fraction_digits : -1, &v);
        return v;
    case PGT_TIMESTAMPTZ: {
        char tz[] = "1970-01-01 00:00:00+00";
        zoned_timestamp(a, t->typmod, tz, sizeof tz - 1, &v);
        return v;
    }
    case PGT_TIMETZ: return str_value(a, "00:00:00Z");
    case PGT_UUID: return str_value(a, "00000000-0000-0000-0000-000000000000");
    case PGT_JSON: return str_value(a, "{}");
    case PGT_HSTORE:
        if (o->hstore == PGT_HSTORE_MAP)
            return cv_list(a, 0);
        return str_value(a, "{}");
    case PGT_BYTEA: return binary_value(a, o, (const uint8_t *)"", 0);
    case PGT_BIT:
        if (!t->varbit && t->typmod <= 1)
            return cv_bool(false);
        return cv_str("", 0);
    case PGT_POINT: return point_value(a, 0, 0);
    case PGT_ARRAY: return cv_list(a, 0);
    case PGT_ENUM: case PGT_TEXT: case PGT_XML: case PGT_LTREE: case PGT_TSVECTOR:
        return cv_str("", 0);
    case PGT_UNKNOWN:
        (void)e;
        (void)tmp;
        return cv_str("", 0);
    }
    return v;
}

cv_value_t pgt_unavailable(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *placeholder)
{
    size_t n = strlen(placeholder);
    switch (t->kind) {
    case PGT_TEXT: case PGT_JSON: case PGT_XML: case PGT_UUID: case PGT_ENUM: case PGT_LTREE:
    case PGT_TSVECTOR: case PGT_UNKNOWN:
        return cv_str(placeholder, n);
    case PGT_NUMERIC: case PGT_MONEY:
        if (o->decimal == PGT_DECIMAL_STRING)
            return cv_str(placeholder, n);
        return cv_null();
    case PGT_BYTEA:
        /* Debezium's converter gets the placeholder's bytes: hex mode passes the text through, the
         * url-safe mode yields null */
        if (o->binary == PGT_BINARY_HEX)
            return cv_str(placeholder, n);
        if (o->binary == PGT_BINARY_BASE64_URL)
            return cv_null();
        return binary_value(a, o, (const uint8_t *)placeholder, n);
    case PGT_HSTORE:
        if (o->hstore == PGT_HSTORE_MAP) {
            cv_value_t m = cv_list(a, 2);
            m.u.list.v[0] = cv_str(placeholder, n);
            m.u.list.v[1] = cv_str(placeholder, n);
            return m;
        } else {
            buf_t b;
            buf_init(&b);
            buf_putc(&b, '{');
            json_enc_string(&b, placeholder, n);
            buf_putc(&b, ':');
            json_enc_string(&b, placeholder, n);
            buf_putc(&b, '}');
            cv_value_t v = cv_str(arena_strndup(a, b.data, b.len), b.len);
            buf_free(&b);
            return v;
        }
    case PGT_ARRAY: {
        if (t->elem->kind == PGT_INT2 || t->elem->kind == PGT_INT4 || t->elem->kind == PGT_INT8) {
            /* Debezium's integer-array converter gets the placeholder's bytes: one element each */
            cv_value_t arr = cv_list(a, n);
            for (size_t i = 0; i < n; i++)
                arr.u.list.v[i] = cv_int((unsigned char)placeholder[i]);
            return arr;
        }
        if (t->elem->kind == PGT_NUMERIC || t->elem->kind == PGT_BIT)
            return cv_null();
        if (t->elem->kind == PGT_UUID) {
            /* ... and its uuid-array converter java.util.UUID.nameUUIDFromBytes of them: MD5, version 3 */
            unsigned char md[EVP_MAX_MD_SIZE];
            unsigned int mdlen = 0;
            if (EVP_Digest(placeholder, n, md, &mdlen, EVP_md5(), NULL) != 1 || mdlen != 16)
                return cv_null();
            md[6] = (unsigned char)((md[6] & 0x0f) | 0x30);
            md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
            char u[40];
            snprintf(u, sizeof u, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", md[0], md[1],
                     md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14],
                     md[15]);
            cv_value_t arr = cv_list(a, 1);
            arr.u.list.v[0] = str_value(a, u);
            return arr;
        }
        cv_value_t e = pgt_unavailable(a, t->elem, o, placeholder);
        if (e.null)
            return cv_null();
        cv_value_t arr = cv_list(a, 1);
        arr.u.list.v[0] = e;
        return arr;
    }
    default:
        return cv_null();
    }
}

/* Debezium's PostgresDefaultValueConverter has a mapper for these column types only (by the column's type
 * name: a domain or an array has none), and the placeholder each gives a function default. NULL: no
 * mapper, so no schema default. */
static const char *default_placeholder(const pgt_coltype_t *t)
{
    if (t->domain)
        return NULL;
    const char *n = t->typname ? t->typname : "";
    switch (t->kind) {
    case PGT_BIT: return t->varbit ? "0" : "00";
    case PGT_BOOL: return "false";
    case PGT_TEXT: return !strcmp(n, "bpchar") || !strcmp(n, "varchar") || !strcmp(n, "text") ? "" : NULL;
    case PGT_NUMERIC: case PGT_FLOAT4: case PGT_FLOAT8: return "0.0";
    case PGT_INT2: case PGT_INT4: case PGT_INT8: return "0";
    case PGT_JSON: return "{}";
    case PGT_XML: return "";
    case PGT_UUID: return "00000000-0000-0000-0000-000000000000";
    case PGT_DATE: case PGT_TIMESTAMP: case PGT_TIMESTAMPTZ: return "1970-01-01";
    case PGT_TIME: return "00:00";
    case PGT_INTERVAL: return "00:00:00";
    case PGT_ENUM: return "";
    default: return NULL;   /* money, timetz, bytea, oid, name, "char", inet, citext, ranges, hstore, ... */
    }
}

/* FUNCTION_DEFAULT_PATTERN "^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)" (found anywhere after the start)
 * or one of the current date/time keywords. */
static bool default_is_generated(const char *p)
{
    static const char *const kw[] = { "current_timestamp", "current_time", "current_date", "localtime",
                                      "localtimestamp" };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strcasecmp(p, kw[i]) == 0)
            return true;
    const char *q = p;
    if (*q == '(')
        q++;
    const char *name = q;
    while (isalnum((unsigned char)*q) || *q == '_' || *q == '.')
        q++;
    return q > name && *q == '(' && strchr(q + 1, ')') != NULL;
}

bool pgt_default(arena_t *a, const pgt_coltype_t *t, const pgt_opts_t *o, const char *expr, cv_value_t *out)
{
    if (!expr || !*expr)
        return false;
    const char *placeholder = default_placeholder(t);
    if (!placeholder)
        return false;
    if (t->kind == PGT_NUMERIC && o->decimal == PGT_DECIMAL_PRECISE && numeric_precision(t->typmod) < 0)
        return false;   /* a VariableScaleDecimal struct: Debezium gives no struct default (KAFKA-12694) */
    const char *p = expr;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)*p))
        p++, n--;
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    char *lit;
    size_t litlen;
    if (t->kind == PGT_ENUM) {
        /* the value before the cast to the enum type */
        const char *cast = NULL;
        for (const char *c = p; c + 1 < p + n; c++)
            if (c[0] == ':' && c[1] == ':')
                cast = c;
        if (!cast || p[0] != '\'' || cast - p < 2 || cast[-1] != '\'')
            return false;
        lit = arena_strndup(a, p + 1, (size_t)(cast - p - 2));
        litlen = strlen(lit);
    } else if (default_is_generated(arena_strndup(a, p, n))) {
        lit = arena_strdup(a, placeholder);
        litlen = strlen(lit);
    } else if (!memchr(p, '\'', n)) {
        if (n >= 6 && strncmp(p, "NULL::", 6) == 0)
            return false;
        lit = arena_strndup(a, p, n);   /* taken as it is: CURRENT_USER for a text column */
        litlen = n;
    } else {
        /* '(.*?)': up to the next quote (so 'it''s' gives "it"; walcast keeps the unescaped literal, see
         * docs/compatibility.md) */
        const char *q1 = memchr(p, '\'', n);
        size_t rest = n - (size_t)(q1 + 1 - p);
        lit = arena_alloc(a, rest + 1);
        litlen = 0;
        size_t i = 0;
        for (; i < rest; i++) {
            char c = q1[1 + i];
            if (c == '\'') {
                if (i + 1 < rest && q1[2 + i] == '\'') {
                    lit[litlen++] = '\'';
                    i++;
                    continue;
                }
                break;
            }
            lit[litlen++] = c;
        }
        if (i >= rest)
            return false;
        lit[litlen] = '\0';
    }
    if (t->kind == PGT_BOOL) {
        lit = (char *)(strcasecmp(lit, "true") == 0 ? "t" : "f");   /* Boolean.parseBoolean */
        litlen = 1;
    }
    if (t->kind == PGT_DATE && (text_is(lit, litlen, "infinity") || text_is(lit, litlen, "-infinity"))) {
        /* pgjdbc's LocalDate.MAX / MIN, their epoch days cast to int */
        *out = cv_int(text_is(lit, litlen, "infinity") ? 169560311 : -170999002);
        return true;
    }
    if (t->kind == PGT_TIMESTAMPTZ && (text_is(lit, litlen, "infinity") || text_is(lit, litlen, "-infinity")))
        return false;
    if (t->kind == PGT_TIMESTAMP && (text_is(lit, litlen, "infinity") || text_is(lit, litlen, "-infinity"))) {
        /* OffsetDateTime.MAX/MIN: seconds to micros saturate, MAX's 999999 micros of the second wrap; the
         * millisecond conversion overflows (no default) */
        bool micro = o->time != PGT_TIME_CONNECT && time_precision(t->typmod) > 3;
        if (!micro)
            return false;
        *out = cv_int(text_is(lit, litlen, "infinity") ? java_epoch_micros(INT64_MAX / 1000000 + 1, 999999)
                                                       : INT64_MIN);
        return true;
    }
    if ((t->kind == PGT_DATE || t->kind == PGT_TIMESTAMP || t->kind == PGT_TIMESTAMPTZ) && litlen == 10) {
        /* a date alone (the placeholder 1970-01-01): midnight */
        char *full = arena_alloc(a, 32);
        snprintf(full, 32, "%s%s", lit, t->kind == PGT_DATE ? "" : t->kind == PGT_TIMESTAMP ? " 00:00:00" : " 00:00:00+00");
        lit = full;
        litlen = strlen(full);
    }
    if (t->kind == PGT_TIME && litlen == 5) {
        char *full = arena_alloc(a, 16);
        snprintf(full, 16, "%s:00", lit);
        lit = full;
        litlen = strlen(full);
    }
    if (t->kind == PGT_NUMERIC && !numeric_special(lit, litlen)) {
        /* new BigDecimal(text): the string mode would pass any text through */
        char *dg;
        size_t nd;
        int sc;
        bool neg;
        if (split_decimal(a, lit, litlen, &dg, &nd, &sc, &neg) < 0)
            return false;
    }
    char err[128];
    cv_value_t v;
    if (pgt_value(a, t, o, lit, litlen, &v, err, sizeof err) < 0)
        return false;   /* Debezium: "Cannot parse column default value", no default */
    *out = v;
    return !v.null;
}
