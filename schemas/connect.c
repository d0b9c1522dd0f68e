/* connect.c: construction helpers for the Connect-style schema model.
 * Everything allocates from the caller's arena; nothing here frees. */
#include "schemas/connect.h"

#include <stdatomic.h>
#include <string.h>

static atomic_uint_fast64_t next_uid = 32;

/* uids below 32 are the shared primitive schemas' */
static const cs_schema_t primitives[2][9] = {
    { { .type = CT_INT8, .uid = 1 },    { .type = CT_INT16, .uid = 2 },   { .type = CT_INT32, .uid = 3 },
      { .type = CT_INT64, .uid = 4 },   { .type = CT_FLOAT32, .uid = 5 }, { .type = CT_FLOAT64, .uid = 6 },
      { .type = CT_BOOLEAN, .uid = 7 }, { .type = CT_STRING, .uid = 8 },  { .type = CT_BYTES, .uid = 9 } },
    { { .type = CT_INT8, .optional = true, .uid = 11 },    { .type = CT_INT16, .optional = true, .uid = 12 },
      { .type = CT_INT32, .optional = true, .uid = 13 },   { .type = CT_INT64, .optional = true, .uid = 14 },
      { .type = CT_FLOAT32, .optional = true, .uid = 15 }, { .type = CT_FLOAT64, .optional = true, .uid = 16 },
      { .type = CT_BOOLEAN, .optional = true, .uid = 17 }, { .type = CT_STRING, .optional = true, .uid = 18 },
      { .type = CT_BYTES, .optional = true, .uid = 19 } },
};

const cs_schema_t *cs_primitive(ct_type_t t)
{
    return t <= CT_BYTES ? &primitives[0][t] : NULL;
}

const cs_schema_t *cs_primitive_optional(ct_type_t t)
{
    return t <= CT_BYTES ? &primitives[1][t] : NULL;
}

const char *ct_type_name(ct_type_t t)
{
    switch (t) {
    case CT_INT8: return "int8";
    case CT_INT16: return "int16";
    case CT_INT32: return "int32";
    case CT_INT64: return "int64";
    case CT_FLOAT32: return "float";
    case CT_FLOAT64: return "double";
    case CT_BOOLEAN: return "boolean";
    case CT_STRING: return "string";
    case CT_BYTES: return "bytes";
    case CT_ARRAY: return "array";
    case CT_MAP: return "map";
    case CT_STRUCT: return "struct";
    }
    return "unknown";
}

cs_schema_t *cs_new(arena_t *a, ct_type_t type, bool optional)
{
    cs_schema_t *s = arena_zalloc(a, sizeof *s);
    s->type = type;
    s->optional = optional;
    s->uid = atomic_fetch_add(&next_uid, 1);
    return s;
}

cs_schema_t *cs_copy(arena_t *a, const cs_schema_t *s)
{
    cs_schema_t *c = arena_alloc(a, sizeof *c);
    *c = *s;
    c->def = NULL;
    c->uid = atomic_fetch_add(&next_uid, 1);
    return c;
}

void cs_param_add(cs_schema_t *s, const char *key, const char *value)
{
    if (s->nparams < CS_MAX_PARAMS) {
        s->params[s->nparams].key = key;
        s->params[s->nparams].value = value;
        s->nparams++;
    }
}

const char *cs_param_get(const cs_schema_t *s, const char *key)
{
    for (size_t i = 0; i < s->nparams; i++)
        if (strcmp(s->params[i].key, key) == 0)
            return s->params[i].value;
    return NULL;
}

void cs_field_add(arena_t *a, cs_schema_t *s, const char *name, const cs_schema_t *fs)
{
    if (s->nfields == s->capfields) {
        size_t cap = s->capfields ? s->capfields * 2 : 8;
        cs_field_t *f = arena_alloc(a, cap * sizeof *f);
        if (s->nfields)
            memcpy(f, s->fields, s->nfields * sizeof *f);
        s->fields = f;
        s->capfields = cap;
    }
    s->fields[s->nfields].name = name;
    s->fields[s->nfields].schema = fs;
    s->nfields++;
}

int cs_field_index(const cs_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->nfields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

cv_value_t cv_list(arena_t *a, size_t n)
{
    cv_value_t v = { .null = false };
    v.u.list.v = arena_alloc(a, (n ? n : 1) * sizeof(cv_value_t));
    /* each slot as cv_null() makes it, written field by field: copying a cv_null() from the stack made
     * the compiler store one byte and load 16 back, a store-forwarding stall per slot */
    memset(v.u.list.v, 0, n * sizeof(cv_value_t));
    for (size_t i = 0; i < n; i++)
        v.u.list.v[i].null = true;
    v.u.list.n = n;
    return v;
}
