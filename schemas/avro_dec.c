/* avro_dec.c: Confluent AvroConverter records read back into schemas/ values (the inverse of avro.c), for the
 * sinks: writer schemas parsed once per registry id into Connect schemas as AvroData reads them, bodies decoded. */
#include "schemas/avro_dec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AVRO_DEC_MAX_DEPTH 32

struct avro_dec {
    arena_t *arena;             /* parsed writer schemas, for the decoder's lifetime */
    struct av_schema *schemas;  /* by registry id, never cleared (a registry id never changes its schema) */
    size_t parses;
};

/* ---- the writer schema -> Connect schemas ----
 * The writer schema (fetched by id through the caller's callback, parsed once per id) is turned into
 * Connect schemas the way AvroData reads connect.* properties, and the binary body is decoded against it.
 * Why not avro-c (issue 12: avro-c unless our own decoder measures clearly faster): tests/bench/bench_avro.c,
 * run by make bench, decodes the same Debezium events into the same env_event_t both ways, and this decoder
 * is 3-5x faster than avro-c's resolved writer + generic value (3x faster than avro-c even without
 * resolution): avro-c allocates per string and goes through a function table per value. avro-c would not
 * give the Connect schemas either (connect.* properties, Union structs, MapEntry maps are AvroData's).
 * avro-c is the oracle instead: tests/unit/test_avro_oracle.c encodes random records of every type with it
 * and checks that this decoder reads what avro-c reads, and fails where avro-c fails. */

typedef enum { AV_NULL, AV_BOOLEAN, AV_INT, AV_LONG, AV_FLOAT, AV_DOUBLE, AV_BYTES, AV_STRING, AV_RECORD, AV_ENUM,
               AV_ARRAY, AV_MAP, AV_UNION, AV_FIXED } av_kind_t;

typedef struct av_node av_node_t;
struct av_node {
    av_kind_t kind;
    const char *fullname;       /* records, enums, fixed */
    av_node_t **fields;         /* record: one per field; union: branches */
    size_t n;
    av_node_t *items;           /* array items, map values */
    const char **symbols;       /* enum */
    size_t size;                /* fixed */
    int null_branch;            /* union: index of "null", -1 if none */
    bool as_struct;             /* union other than [null, T] / [T, null]: AvroData's Union struct */
    bool entries;               /* array of io.confluent.connect.avro.MapEntry records: a Connect map */
    const cs_schema_t *cs;      /* the Connect schema this node decodes into */
};

typedef struct av_schema {
    int32_t id;
    av_node_t *root;
    struct av_schema *next;
} av_schema_t;

typedef struct av_ctx {
    arena_t *a;
    av_node_t **named;          /* records/enums/fixed by full name, for references */
    size_t nnamed, capnamed;
    char *err;
    size_t errlen;
} av_ctx_t;

static const char *av_full(av_ctx_t *c, const char *ns, const char *name)
{
    if (strchr(name, '.') || !ns || !*ns)
        return arena_strdup(c->a, name);
    size_t l = strlen(ns) + strlen(name) + 2;
    char *f = arena_alloc(c->a, l);
    snprintf(f, l, "%s.%s", ns, name);
    return f;
}

static av_node_t *av_lookup(av_ctx_t *c, const char *ns, const char *name)
{
    const char *full = av_full(c, ns, name);
    for (size_t i = 0; i < c->nnamed; i++)
        if (!strcmp(c->named[i]->fullname, full) || !strcmp(c->named[i]->fullname, name))
            return c->named[i];
    return NULL;
}

static void av_define(av_ctx_t *c, av_node_t *n)
{
    if (c->nnamed == c->capnamed) {
        size_t cap = c->capnamed ? 2 * c->capnamed : 16;
        av_node_t **v = arena_alloc(c->a, cap * sizeof *v);
        if (c->nnamed)
            memcpy(v, c->named, c->nnamed * sizeof *v);
        c->named = v;
        c->capnamed = cap;
    }
    c->named[c->nnamed++] = n;
}

/* connect.name / connect.version / connect.parameters / connect.type onto s (AvroData's reading). */
static void av_connect_props(av_ctx_t *c, json_t *j, cs_schema_t *s)
{
    if (!json_is_object(j))
        return;
    const char *cn = json_string_value(json_object_get(j, "connect.name"));
    if (cn)
        s->name = arena_strdup(c->a, cn);
    json_t *v = json_object_get(j, "connect.version");
    if (json_is_integer(v))
        s->version = (int)json_integer_value(v);
    json_t *p = json_object_get(j, "connect.parameters");
    if (json_is_object(p)) {
        const char *k;
        json_t *pv;
        json_object_foreach(p, k, pv) {
            if (json_is_string(pv))
                cs_param_add(s, arena_strdup(c->a, k), arena_strdup(c->a, json_string_value(pv)));
        }
    }
    /* Avro logical types name the Connect type when connect.name does not (AvroData: decimal on bytes,
     * date and time-millis on int, timestamp-millis on long; others stay plain) */
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt || s->name)
        return;
    if (!strcmp(lt, "decimal") && s->type == CT_BYTES) {
        s->name = "org.apache.kafka.connect.data.Decimal";
        char num[24];
        json_t *sc = json_object_get(j, "scale");
        if (json_is_integer(sc) && !cs_param_get(s, "scale")) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(sc));
            cs_param_add(s, "scale", arena_strdup(c->a, num));
        }
        json_t *pr = json_object_get(j, "precision");
        if (json_is_integer(pr) && json_integer_value(pr) != 64 && !cs_param_get(s, "connect.decimal.precision")) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(pr));
            cs_param_add(s, "connect.decimal.precision", arena_strdup(c->a, num));
        }
    } else if (!strcmp(lt, "date") && s->type == CT_INT32)
        s->name = "org.apache.kafka.connect.data.Date";
    else if (!strcmp(lt, "time-millis") && s->type == CT_INT32)
        s->name = "org.apache.kafka.connect.data.Time";
    else if (!strcmp(lt, "timestamp-millis") && s->type == CT_INT64)
        s->name = "org.apache.kafka.connect.data.Timestamp";
    else
        return;
    if (!s->version)
        s->version = 1;
}

/* The Connect field name AvroData gives a union member: a record's or enum's short name, else the Avro
 * type name (enhanced.avro.schema.support=false, the default). */
static const char *av_member_name(const av_node_t *n)
{
    static const char *const kinds[] = { "null", "boolean", "int", "long", "float", "double", "bytes", "string",
                                         "record", "enum", "array", "map", "union", "fixed" };
    if (n->kind == AV_RECORD || n->kind == AV_ENUM) {
        const char *dot = strrchr(n->fullname, '.');
        return dot ? dot + 1 : n->fullname;
    }
    return kinds[n->kind];
}

static av_node_t *av_parse(av_ctx_t *c, json_t *j, const char *ns, int depth);

static av_node_t *av_new(av_ctx_t *c, av_kind_t k, ct_type_t t)
{
    av_node_t *n = arena_zalloc(c->a, sizeof *n);
    n->kind = k;
    n->null_branch = -1;
    n->cs = cs_new(c->a, t, false);
    return n;
}

static av_node_t *av_primitive(av_ctx_t *c, const char *t, json_t *props)
{
    static const struct { const char *n; av_kind_t k; ct_type_t t; } prim[] = {
        { "null", AV_NULL, CT_STRING }, { "boolean", AV_BOOLEAN, CT_BOOLEAN }, { "int", AV_INT, CT_INT32 },
        { "long", AV_LONG, CT_INT64 }, { "float", AV_FLOAT, CT_FLOAT32 }, { "double", AV_DOUBLE, CT_FLOAT64 },
        { "bytes", AV_BYTES, CT_BYTES }, { "string", AV_STRING, CT_STRING },
    };
    for (size_t i = 0; i < sizeof prim / sizeof prim[0]; i++)
        if (!strcmp(prim[i].n, t)) {
            av_node_t *n = av_new(c, prim[i].k, prim[i].t);
            const char *ct = json_string_value(json_object_get(props, "connect.type"));
            if (ct && !strcmp(ct, "int8"))
                ((cs_schema_t *)n->cs)->type = CT_INT8;
            else if (ct && !strcmp(ct, "int16"))
                ((cs_schema_t *)n->cs)->type = CT_INT16;
            av_connect_props(c, props, (cs_schema_t *)n->cs);
            return n;
        }
    return NULL;
}

/* A union: [null, T] and [T, null] are an optional T; any other union is AvroData's struct
 * io.confluent.connect.avro.Union with one optional field per non-null member, named by av_member_name,
 * optional itself when null is a member. */
static av_node_t *av_parse_union(av_ctx_t *c, json_t *j, const char *ns, int depth)
{
    av_node_t *u = av_new(c, AV_UNION, CT_STRUCT);
    u->n = json_array_size(j);
    u->fields = arena_alloc(c->a, (u->n + 1) * sizeof *u->fields);
    const cs_schema_t *other = NULL;
    for (size_t i = 0; i < u->n; i++) {
        if (!(u->fields[i] = av_parse(c, json_array_get(j, i), ns, depth + 1)))
            return NULL;
        if (u->fields[i]->kind == AV_UNION) {
            snprintf(c->err, c->errlen, "Avro union directly inside a union (not allowed by the Avro spec)");
            return NULL;
        }
        if (u->fields[i]->kind != AV_NULL)
            other = u->fields[i]->cs;
        else if (u->null_branch < 0)
            u->null_branch = (int)i;
        else {
            snprintf(c->err, c->errlen, "Avro union with null twice");
            return NULL;
        }
    }
    if (u->n == 2 && u->null_branch >= 0) {
        cs_schema_t *opt = cs_copy(c->a, other);
        opt->optional = true;
        u->cs = opt;
        return u;
    }
    u->as_struct = true;
    cs_schema_t *st = (cs_schema_t *)u->cs;
    st->name = "io.confluent.connect.avro.Union";
    st->optional = u->null_branch >= 0;
    for (size_t i = 0; i < u->n; i++) {
        if ((int)i == u->null_branch)
            continue;
        const char *fname = av_member_name(u->fields[i]);
        if (cs_field_index(st, fname) >= 0) {
            snprintf(c->err, c->errlen, "Avro union has two members named %s for Kafka Connect (AvroData "
                                        "refuses such a union too)", fname);
            return NULL;
        }
        cs_schema_t *fs = cs_copy(c->a, u->fields[i]->cs);
        fs->optional = true;
        cs_field_add(c->a, st, fname, fs);
    }
    return u;
}

/* A record (or error): a struct of its fields, defined by name before its fields (they may refer to it). */
static av_node_t *av_parse_record(av_ctx_t *c, json_t *j, const char *ns, int depth)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *rns = json_string_value(json_object_get(j, "namespace"));
    if (!name) {
        snprintf(c->err, c->errlen, "Avro record without a name");
        return NULL;
    }
    av_node_t *n = av_new(c, AV_RECORD, CT_STRUCT);
    n->fullname = av_full(c, rns ? rns : ns, name);
    const char *inner_ns = n->fullname;
    const char *dot = strrchr(inner_ns, '.');
    char *nsbuf = dot ? arena_strndup(c->a, inner_ns, (size_t)(dot - inner_ns)) : NULL;
    cs_schema_t *cs = (cs_schema_t *)n->cs;
    cs->name = n->fullname;
    av_connect_props(c, j, cs);
    av_define(c, n);
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) {
        snprintf(c->err, c->errlen, "Avro record %s has no fields", n->fullname);
        return NULL;
    }
    n->n = json_array_size(fields);
    n->fields = arena_alloc(c->a, (n->n + 1) * sizeof *n->fields);
    for (size_t i = 0; i < n->n; i++) {
        json_t *f = json_array_get(fields, i);
        const char *fn = json_string_value(json_object_get(f, "name"));
        if (!fn) {
            snprintf(c->err, c->errlen, "field %zu of Avro record %s has no name", i, n->fullname);
            return NULL;
        }
        if (!(n->fields[i] = av_parse(c, json_object_get(f, "type"), nsbuf, depth + 1)))
            return NULL;
        cs_field_add(c->a, cs, arena_strdup(c->a, fn), n->fields[i]->cs);
    }
    return n;
}

/* A node of a named type (enum, fixed): its full name from name and namespace (else the enclosing one). */
static av_node_t *av_new_named(av_ctx_t *c, json_t *j, const char *ns, av_kind_t k, ct_type_t t, const char *dflt)
{
    av_node_t *n = av_new(c, k, t);
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *rns = json_string_value(json_object_get(j, "namespace"));
    n->fullname = av_full(c, rns ? rns : ns, name ? name : dflt);
    return n;
}

static av_node_t *av_parse_enum(av_ctx_t *c, json_t *j, const char *ns)
{
    av_node_t *n = av_new_named(c, j, ns, AV_ENUM, CT_STRING, "enum");
    json_t *sy = json_object_get(j, "symbols");
    n->n = json_array_size(sy);
    n->symbols = arena_alloc(c->a, (n->n + 1) * sizeof *n->symbols);
    for (size_t i = 0; i < n->n; i++) {
        const char *v = json_string_value(json_array_get(sy, i));
        n->symbols[i] = arena_strdup(c->a, v ? v : "");
    }
    av_connect_props(c, j, (cs_schema_t *)n->cs);
    if (!n->cs->name)
        ((cs_schema_t *)n->cs)->name = n->fullname;
    av_define(c, n);
    return n;
}

static av_node_t *av_parse_fixed(av_ctx_t *c, json_t *j, const char *ns)
{
    av_node_t *n = av_new_named(c, j, ns, AV_FIXED, CT_BYTES, "fixed");
    json_t *sz = json_object_get(j, "size");
    n->size = json_is_integer(sz) && json_integer_value(sz) >= 0 ? (size_t)json_integer_value(sz) : 0;
    av_connect_props(c, j, (cs_schema_t *)n->cs);
    av_define(c, n);
    return n;
}

/* An array (of MapEntry records: a Connect map) or a map (string keys). */
static av_node_t *av_parse_collection(av_ctx_t *c, json_t *j, bool arr, const char *ns, int depth)
{
    av_node_t *n = av_new(c, arr ? AV_ARRAY : AV_MAP, arr ? CT_ARRAY : CT_MAP);
    if (!(n->items = av_parse(c, json_object_get(j, arr ? "items" : "values"), ns, depth + 1)))
        return NULL;
    cs_schema_t *cs = (cs_schema_t *)n->cs;
    cs->items = n->items->cs;
    if (!arr)
        cs->keys = cs_new(c->a, CT_STRING, false);
    else if (n->items->kind == AV_RECORD && !strcmp(n->items->fullname, "io.confluent.connect.avro.MapEntry")) {
        /* AvroData writes a map whose keys are not strings as an array of MapEntry{key, value} */
        const cs_schema_t *es = n->items->cs;
        if (es->nfields != 2 || strcmp(es->fields[0].name, "key") || strcmp(es->fields[1].name, "value")) {
            snprintf(c->err, c->errlen, "Avro array of io.confluent.connect.avro.MapEntry records whose fields "
                                        "are not key and value");
            return NULL;
        }
        n->entries = true;
        cs->type = CT_MAP;
        cs->keys = es->fields[0].schema;
        cs->items = es->fields[1].schema;
    }
    av_connect_props(c, j, cs);
    return n;
}

static av_node_t *av_parse(av_ctx_t *c, json_t *j, const char *ns, int depth)
{
    if (depth > AVRO_DEC_MAX_DEPTH) {
        snprintf(c->err, c->errlen, "Avro schema nested deeper than %d levels", AVRO_DEC_MAX_DEPTH);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *t = json_string_value(j);
        av_node_t *n = av_primitive(c, t, NULL);
        if (!n && !(n = av_lookup(c, ns, t)))
            snprintf(c->err, c->errlen, "Avro schema names type '%s', which is not defined before", t);
        return n;
    }
    if (json_is_array(j))
        return av_parse_union(c, j, ns, depth);
    if (!json_is_object(j)) {
        snprintf(c->err, c->errlen, "Avro schema element is not a name, union or object");
        return NULL;
    }
    json_t *tj = json_object_get(j, "type");
    if (json_is_array(tj) || json_is_object(tj))
        return av_parse(c, tj, ns, depth + 1);
    const char *t = json_string_value(tj);
    if (!t) {
        snprintf(c->err, c->errlen, "Avro schema object without a type");
        return NULL;
    }
    if (!strcmp(t, "record") || !strcmp(t, "error"))
        return av_parse_record(c, j, ns, depth);
    if (!strcmp(t, "enum"))
        return av_parse_enum(c, j, ns);
    if (!strcmp(t, "fixed"))
        return av_parse_fixed(c, j, ns);
    if (!strcmp(t, "array") || !strcmp(t, "map"))
        return av_parse_collection(c, j, !strcmp(t, "array"), ns, depth);
    av_node_t *n = av_primitive(c, t, j);
    if (!n)
        snprintf(c->err, c->errlen, "Avro type '%s' is not supported", t);
    return n;
}

/* ---- the binary body: bounds-checked reads ---- */
typedef struct av_rd {
    const unsigned char *p, *end;
    arena_t *a;
    char *err;
    size_t errlen;
    char path[128];             /* where a failure happened, built while unwinding (error path only) */
    size_t plen;
} av_rd_t;

/* Prepends a field name or an index to the failure's path. */
static void av_path(av_rd_t *r, const char *name, int64_t index)
{
    char part[64];
    int n = name ? snprintf(part, sizeof part, ".%s", name) : snprintf(part, sizeof part, "[%lld]", (long long)index);
    if (n < 0 || (size_t)n >= sizeof part || r->plen + (size_t)n >= sizeof r->path)
        return;
    memmove(r->path + n, r->path, r->plen + 1);
    memcpy(r->path, part, (size_t)n);
    r->plen += (size_t)n;
}

static int av_long(av_rd_t *r, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            snprintf(r->err, r->errlen, "Avro body truncated in a varint");
            return -1;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    snprintf(r->err, r->errlen, "Avro varint longer than 10 bytes");
    return -1;
}

static int av_take(av_rd_t *r, size_t n, const unsigned char **out)
{
    if ((size_t)(r->end - r->p) < n) {
        snprintf(r->err, r->errlen, "Avro body truncated: %zu bytes needed, %zu left", n, (size_t)(r->end - r->p));
        return -1;
    }
    *out = r->p;
    r->p += n;
    return 0;
}

/* The item count of the next block of an array or map (0: the end), its byte size skipped; a count the bytes
 * left cannot hold (every item takes a byte at least) is refused before anything is allocated for it. */
static int av_block(av_rd_t *r, int64_t *items)
{
    if (av_long(r, items) < 0)
        return -1;
    if (*items < 0) {   /* a block with its byte size */
        int64_t bytes;
        if (*items == INT64_MIN || av_long(r, &bytes) < 0)
            return -1;
        *items = -*items;
    }
    if ((uint64_t)*items > (uint64_t)(r->end - r->p)) {
        snprintf(r->err, r->errlen, "Avro block of %lld items in %zu bytes", (long long)*items,
                 (size_t)(r->end - r->p));
        return -1;
    }
    return 0;
}

static int av_value(av_rd_t *r, const av_node_t *n, cv_value_t *out, int depth);

/* One item of an array or map appended at v[*cnt]: a map's key, then the value (a MapEntry record: its key and
 * value as a pair). */
static int av_item(av_rd_t *r, const av_node_t *n, cv_value_t *v, size_t *cnt, int depth)
{
    bool map = n->kind == AV_MAP;
    if (map) {
        int64_t kl;
        const unsigned char *b;
        if (av_long(r, &kl) < 0 || kl < 0 || av_take(r, (size_t)kl, &b) < 0) {
            if (!r->err[0])
                snprintf(r->err, r->errlen, "bad Avro map key");
            return -1;
        }
        v[(*cnt)++] = cv_str(arena_strndup(r->a, (const char *)b, (size_t)kl), (size_t)kl);
    }
    if (n->entries) {   /* MapEntry{key, value} -> a key, value pair */
        cv_value_t e;
        if (av_value(r, n->items, &e, depth + 1) < 0) {
            av_path(r, NULL, (int64_t)*cnt / 2);
            return -1;
        }
        v[(*cnt)++] = e.u.list.v[0];
        v[(*cnt)++] = e.u.list.v[1];
        return 0;
    }
    if (av_value(r, n->items, &v[*cnt], depth + 1) < 0) {
        av_path(r, NULL, (int64_t)(map ? *cnt / 2 : *cnt));
        return -1;
    }
    (*cnt)++;
    return 0;
}

/* An array or map: blocks of items until an empty one, into a list (a map's as key, value pairs). */
static int av_collection(av_rd_t *r, const av_node_t *n, cv_value_t *out, int depth)
{
    size_t cap = 8, cnt = 0;
    cv_value_t *v = arena_alloc(r->a, cap * sizeof *v);
    int64_t items;
    for (;;) {
        if (av_block(r, &items) < 0)
            return -1;
        if (items == 0)
            break;
        for (int64_t i = 0; i < items; i++) {
            if (cnt + 2 > cap) {
                cv_value_t *nv = arena_alloc(r->a, 2 * cap * sizeof *nv);
                memcpy(nv, v, cnt * sizeof *v);
                v = nv;
                cap *= 2;
            }
            if (av_item(r, n, v, &cnt, depth) < 0)
                return -1;
        }
    }
    out->null = false;
    out->u.list.v = v;
    out->u.list.n = cnt;
    return 0;
}

static int av_value(av_rd_t *r, const av_node_t *n, cv_value_t *out, int depth)
{
    if (depth > AVRO_DEC_MAX_DEPTH) {
        snprintf(r->err, r->errlen, "Avro value nested too deep");
        return -1;
    }
    int64_t x;
    const unsigned char *b;
    switch (n->kind) {
    case AV_NULL:
        *out = cv_null();
        return 0;
    case AV_BOOLEAN:
        if (av_take(r, 1, &b) < 0)
            return -1;
        *out = cv_bool(*b != 0);
        return 0;
    case AV_INT:
    case AV_LONG:
        if (av_long(r, &x) < 0)
            return -1;
        if (n->kind == AV_INT && (x < INT32_MIN || x > INT32_MAX)) {
            snprintf(r->err, r->errlen, "Avro int %lld out of the 32-bit range", (long long)x);
            return -1;
        }
        *out = cv_int(x);
        return 0;
    case AV_FLOAT: {
        if (av_take(r, 4, &b) < 0)
            return -1;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        float f;
        memcpy(&f, &u, 4);
        *out = cv_float(f);
        return 0;
    }
    case AV_DOUBLE: {
        if (av_take(r, 8, &b) < 0)
            return -1;
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--)
            u = u << 8 | b[i];
        double d;
        memcpy(&d, &u, 8);
        *out = cv_float(d);
        return 0;
    }
    case AV_BYTES:
    case AV_STRING:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0) {
            snprintf(r->err, r->errlen, "Avro negative length %lld", (long long)x);
            return -1;
        }
        if (av_take(r, (size_t)x, &b) < 0)
            return -1;
        *out = cv_str(arena_strndup(r->a, (const char *)b, (size_t)x), (size_t)x);
        return 0;
    case AV_FIXED:
        if (av_take(r, n->size, &b) < 0)
            return -1;
        *out = cv_str(arena_memdup(r->a, b, n->size ? n->size : 1), n->size);
        return 0;
    case AV_ENUM:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0 || (size_t)x >= n->n) {
            snprintf(r->err, r->errlen, "Avro enum index %lld out of range", (long long)x);
            return -1;
        }
        *out = cv_str(n->symbols[x], strlen(n->symbols[x]));
        return 0;
    case AV_UNION:
        if (av_long(r, &x) < 0)
            return -1;
        if (x < 0 || (size_t)x >= n->n) {
            snprintf(r->err, r->errlen, "Avro union branch %lld out of range", (long long)x);
            return -1;
        }
        if (n->as_struct && x != n->null_branch) {   /* the member's field set, the others null */
            size_t fi = (size_t)x - (n->null_branch >= 0 && n->null_branch < x);
            *out = cv_list(r->a, n->cs->nfields);
            return av_value(r, n->fields[x], &out->u.list.v[fi], depth + 1);
        }
        return av_value(r, n->fields[x], out, depth + 1);
    case AV_RECORD:
        *out = cv_list(r->a, n->n);
        for (size_t i = 0; i < n->n; i++)
            if (av_value(r, n->fields[i], &out->u.list.v[i], depth + 1) < 0) {
                av_path(r, n->cs->fields[i].name, 0);
                return -1;
            }
        return 0;
    case AV_ARRAY:
    case AV_MAP:
        return av_collection(r, n, out, depth);
    }
    return -1;
}

/* ---- the decoder: writer schemas by id ---- */

/* The parsed writer schema of id, from the decoder's cache or through fetch. */
static const av_node_t *av_schema_for(avro_dec_t *d, int32_t id, avro_dec_fetch_fn fetch, void *ctx, char *err,
                                      size_t errlen)
{
    for (av_schema_t *s = d->schemas; s; s = s->next)
        if (s->id == id)
            return s->root;
    buf_t text;
    buf_init(&text);
    const av_node_t *root = NULL;
    if (!fetch || fetch(ctx, id, &text, err, errlen) < 0) {
        if (!fetch)
            snprintf(err, errlen, "Avro record (schema id %d) but no schema registry is configured: set "
                                  "value.converter.schema.registry.url", id);
        goto out;
    }
    json_error_t je;
    json_t *j = json_loadb(text.data, text.len, JSON_DECODE_ANY, &je);
    if (!j) {
        snprintf(err, errlen, "schema %d from the registry is not JSON: %s", id, je.text);
        goto out;
    }
    av_ctx_t c = { d->arena, NULL, 0, 0, err, errlen };
    av_node_t *n = av_parse(&c, j, NULL, 0);
    json_decref(j);
    if (!n)
        goto out;
    av_schema_t *s = arena_zalloc(d->arena, sizeof *s);
    s->id = id;
    s->root = n;
    s->next = d->schemas;
    d->schemas = s;
    d->parses++;
    root = n;
out:
    buf_free(&text);
    return root;
}

int avro_dec_record(avro_dec_t *d, arena_t *a, const char *p, size_t n, avro_dec_fetch_fn fetch, void *ctx,
                    const cs_schema_t **schema, cv_value_t *out, const char *what, char *err, size_t errlen)
{
    if (n < 5 || p[0] != 0) {
        snprintf(err, errlen, "%s is not in the Confluent wire format (magic byte 0, schema id, Avro body)", what);
        return -1;
    }
    int32_t id = (int32_t)((uint32_t)(unsigned char)p[1] << 24 | (uint32_t)(unsigned char)p[2] << 16 |
                           (uint32_t)(unsigned char)p[3] << 8 | (uint32_t)(unsigned char)p[4]);
    const av_node_t *root = av_schema_for(d, id, fetch, ctx, err, errlen);
    if (!root)
        return -1;
    av_rd_t r = { (const unsigned char *)p + 5, (const unsigned char *)p + n, a, err, errlen, "", 0 };
    err[0] = '\0';
    if (av_value(&r, root, out, 0) < 0) {
        /* what failed, then where: "value.after.price: Avro body truncated ..." (schema id for the registry) */
        char why[256];
        snprintf(why, sizeof why, "%s", err[0] ? err : "bad Avro body");
        snprintf(err, errlen, "%s%s (schema id %d): %s", what, r.path, id, why);
        return -1;
    }
    if (r.p != r.end) {
        snprintf(err, errlen, "%s: %zu bytes after the Avro body", what, (size_t)(r.end - r.p));
        return -1;
    }
    *schema = root->cs;
    return 0;
}

avro_dec_t *avro_dec_new(void)
{
    avro_dec_t *d = xcalloc(1, sizeof *d);
    d->arena = arena_new(64 * 1024);
    return d;
}

void avro_dec_free(avro_dec_t *d)
{
    if (!d)
        return;
    arena_free(d->arena);
    free(d);
}

size_t avro_dec_parses(const avro_dec_t *d)
{
    return d->parses;
}
