/* avro.c: AvroConverter-compatible encoding. The schema text follows Confluent's AvroData
 * (fromConnectSchema) written by Avro Java's Schema.toString, so registered schemas match Debezium's. */
#include "schemas/avro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/json.h"

#define AVRO_NS "io.confluent.connect.avro"

/* ---- names --------------------------------------------------------------------------------- */

static bool is_alpha(unsigned c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(unsigned c) { return c >= '0' && c <= '9'; }


/* One Avro name per Avro Java's validateName: a letter or '_' first, then letters, digits, '_'.
 * Java's Character.isLetter accepts non-ASCII letters; any well-formed non-ASCII character is taken as
 * one (bytes that are not UTF-8 could not even travel in the schema's JSON). */
static bool name_ok(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n;) {
        unsigned c = (unsigned char)p[i];
        if (c >= 0x80) {
            unsigned cp;
            size_t w = buf_utf8_next((const unsigned char *)p + i, n - i, &cp);
            if (cp == 0xFFFD && w == 1)
                return false;
            i += w;
            continue;
        }
        if (!(is_alpha(c) || c == '_' || (i > 0 && is_digit(c))))
            return false;
        i++;
    }
    return true;
}

bool avro_name_valid(const char *name, bool full)
{
    if (!full)
        return name_ok(name, strlen(name));
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!name_ok(p, n))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

static void put_replacement(buf_t *b, unsigned unit, avro_adjust_t mode)
{
    if (mode == AVRO_ADJUST_AVRO) {
        buf_putc(b, '_');
        return;
    }
    /* Integer.toHexString, padded with "00" only when it has at most two digits */
    char hex[16];
    int n = snprintf(hex, sizeof hex, "%x", unit);
    buf_puts(b, "_u");
    if (n <= 2)
        buf_puts(b, "00");
    buf_append(b, hex, (size_t)n);
}

const char *avro_adjust_name(arena_t *a, const char *name, avro_adjust_t mode, bool field)
{
    if (mode == AVRO_ADJUST_NONE || !*name)
        return name;
    buf_t b;
    buf_init(&b);
    bool changed = false, first = true;
    const unsigned char *s = (const unsigned char *)name;
    size_t n = strlen(name);
    for (size_t i = 0; i < n;) {
        unsigned cp;
        size_t w = buf_utf8_next(s + i, n - i, &cp);
        bool ok;
        if (first)
            ok = is_alpha(cp) || (cp == '_' && mode == AVRO_ADJUST_AVRO);
        else
            ok = is_alpha(cp) || is_digit(cp) || (cp == '_' && mode == AVRO_ADJUST_AVRO) || (cp == '.' && !field);
        if (ok) {
            buf_append(&b, s + i, w);
        } else {
            changed = true;
            if (cp >= 0x10000) {   /* Java sees two UTF-16 units, each replaced */
                unsigned v = cp - 0x10000;
                put_replacement(&b, 0xD800 + (v >> 10), mode);
                put_replacement(&b, 0xDC00 + (v & 0x3FF), mode);
            } else {
                put_replacement(&b, cp, mode);
            }
            if (first && is_digit(cp) && mode == AVRO_ADJUST_AVRO)
                buf_putc(&b, (char)cp);
        }
        first = false;
        i += w;
    }
    const char *out = name;
    if (changed)
        out = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    return out;
}

/* ---- schema text --------------------------------------------------------------------------- */

typedef struct sctx {
    buf_t *b;
    const char *space;        /* the enclosing record's namespace (Avro's Names.space) */
    char **defined;           /* full names of records written so far */
    size_t ndefined, capdefined;
    bool meta;
    char *err;
    size_t errlen;
    int rc;
} sctx_t;

static void jstr(buf_t *b, const char *s) { json_enc_string(b, s, strlen(s)); }

static void emit(sctx_t *c, const cs_schema_t *s, bool ignore_optional);


static void split_name(const char *full, char *ns, size_t nslen, const char **name, bool *has_ns)
{
    const char *dot = strrchr(full, '.');
    if (dot) {
        snprintf(ns, nslen, "%.*s", (int)(dot - full), full);
        *name = dot + 1;
        *has_ns = true;
    } else {
        ns[0] = '\0';
        *name = full;
        *has_ns = false;
    }
}

/* Default values as AvroData.defaultValueFromConnect gives them to Jackson. */
static void default_json(buf_t *b, const cs_schema_t *s, const cv_value_t *v)
{
    if (!v || v->null) {
        buf_puts(b, "null");
        return;
    }
    switch (s->type) {
    case CT_BYTES: {
        /* bytes become a string of ISO-8859-1 characters (U+0000..U+00FF) */
        buf_t t;
        buf_init(&t);
        for (size_t i = 0; i < v->u.s.n; i++) {
            unsigned char ch = (unsigned char)v->u.s.p[i];
            if (ch < 0x80) {
                buf_putc(&t, (char)ch);
            } else {
                buf_putc(&t, (char)(0xC0 | (ch >> 6)));
                buf_putc(&t, (char)(0x80 | (ch & 0x3F)));
            }
        }
        json_enc_string(b, t.data ? t.data : "", t.len);
        buf_free(&t);
        break;
    }
    case CT_ARRAY:
        buf_putc(b, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                buf_putc(b, ',');
            default_json(b, s->items, &v->u.list.v[i]);
        }
        buf_putc(b, ']');
        break;
    case CT_MAP:
        if (s->keys->type == CT_STRING && !s->keys->optional) {
            buf_putc(b, '{');
            for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
                if (i)
                    buf_putc(b, ',');
                const cv_value_t *k = &v->u.list.v[i];
                json_enc_string(b, k->null ? "" : k->u.s.p, k->null ? 0 : k->u.s.n);
                buf_putc(b, ':');
                default_json(b, s->items, &v->u.list.v[i + 1]);
            }
            buf_putc(b, '}');
        } else {
            buf_putc(b, '[');
            for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
                if (i)
                    buf_putc(b, ',');
                buf_puts(b, "{\"key\":");
                default_json(b, s->keys, &v->u.list.v[i]);
                buf_puts(b, ",\"value\":");
                default_json(b, s->items, &v->u.list.v[i + 1]);
                buf_putc(b, '}');
            }
            buf_putc(b, ']');
        }
        break;
    case CT_STRUCT:
        buf_putc(b, '{');
        for (size_t i = 0; i < s->nfields; i++) {
            if (i)
                buf_putc(b, ',');
            jstr(b, s->fields[i].name);
            buf_putc(b, ':');
            default_json(b, s->fields[i].schema, i < v->u.list.n ? &v->u.list.v[i] : NULL);
        }
        buf_putc(b, '}');
        break;
    default:
        json_enc_value(b, s, v);   /* numbers, booleans and strings print as Jackson does */
        break;
    }
}

/* connect.* properties, in AvroData's order. */
static void meta_props(sctx_t *c, const cs_schema_t *s, bool *any)
{
    buf_t *b = c->b;
    if (!c->meta)
        return;
    if (s->doc) {
        if (*any) buf_putc(b, ',');
        *any = true;
        buf_puts(b, "\"connect.doc\":");
        jstr(b, s->doc);
    }
    if (s->version) {
        if (*any) buf_putc(b, ',');
        *any = true;
        buf_puts(b, "\"connect.version\":");
        buf_put_i64(b, s->version);
    }
    if (s->nparams) {
        if (*any) buf_putc(b, ',');
        *any = true;
        buf_puts(b, "\"connect.parameters\":{");
        for (size_t i = 0; i < s->nparams; i++) {
            if (i)
                buf_putc(b, ',');
            jstr(b, s->params[i].key);
            buf_putc(b, ':');
            jstr(b, s->params[i].value);
        }
        buf_putc(b, '}');
    }
    if (s->def) {
        if (*any) buf_putc(b, ',');
        *any = true;
        buf_puts(b, "\"connect.default\":");
        default_json(b, s, s->def);
    }
    if (s->name) {
        if (*any) buf_putc(b, ',');
        *any = true;
        buf_puts(b, "\"connect.name\":");
        jstr(b, s->name);
    }
}

static bool defined(sctx_t *c, const char *full)
{
    for (size_t i = 0; i < c->ndefined; i++)
        if (strcmp(c->defined[i], full) == 0)
            return true;
    return false;
}

static void define(sctx_t *c, const char *full)
{
    if (c->ndefined == c->capdefined) {
        c->capdefined = c->capdefined ? c->capdefined * 2 : 16;
        c->defined = xrealloc(c->defined, c->capdefined * sizeof *c->defined);
    }
    c->defined[c->ndefined] = xstrdup(full);
    c->ndefined++;
}

static void fail(sctx_t *c, const char *what, const char *name)
{
    if (c->rc == 0)
        snprintf(c->err, c->errlen, "%s \"%s\" is not a valid Avro name (a letter or _ first, then letters, digits, _); set schema.name.adjustment.mode=avro and field.name.adjustment.mode=avro (or avro_unicode) to have walcast replace the invalid characters, as Debezium does",
                 what, name);
    c->rc = -1;
}

/* One record field: name, type, and its default (AvroData: the schema's default, else null when
 * optional). */
static void emit_field(sctx_t *c, const char *name, const cs_schema_t *fs)
{
    buf_t *b = c->b;
    buf_puts(b, "{\"name\":");
    jstr(b, name);
    buf_puts(b, ",\"type\":");
    emit(c, fs, false);
    if (fs->def) {
        buf_puts(b, ",\"default\":");
        default_json(b, fs, fs->def);
    } else if (fs->optional) {
        buf_puts(b, ",\"default\":null");
    }
    buf_putc(b, '}');
}

/* A record (or MapEntry record): writes a reference when the name is already defined. */
static void emit_record(sctx_t *c, const cs_schema_t *s, const char *ns, bool has_ns, const char *name,
                        const cs_schema_t *mapkeys)
{
    buf_t *b = c->b;
    char full[1024];
    if (has_ns)
        snprintf(full, sizeof full, "%s.%s", ns, name);
    else
        snprintf(full, sizeof full, "%s", name);
    if (defined(c, full)) {
        /* Name.getQualified(names.space): the short name inside its own namespace */
        if (has_ns && c->space && strcmp(ns, c->space) == 0)
            jstr(b, name);
        else
            jstr(b, full);
        return;
    }
    if (!name_ok(name, strlen(name)))
        fail(c, "record name", full);
    if (has_ns && !avro_name_valid(ns, true))
        fail(c, "namespace", ns);
    define(c, full);
    buf_puts(b, "{\"type\":\"record\",\"name\":");
    jstr(b, name);
    if (has_ns) {
        if (!c->space || strcmp(ns, c->space) != 0) {
            buf_puts(b, ",\"namespace\":");
            jstr(b, ns);
        }
    } else if (c->space) {
        buf_puts(b, ",\"namespace\":\"\"");
    }
    const char *saved = c->space;
    char *myspace = has_ns ? strdup(ns) : NULL;
    c->space = myspace;
    buf_puts(b, ",\"fields\":[");
    if (mapkeys) {
        emit_field(c, "key", s->keys);
        buf_putc(b, ',');
        emit_field(c, "value", s->items);
        buf_putc(b, ']');
        if (s->name)
            buf_puts(b, ",\"connect.internal.type\":\"MapEntry\"");
    } else {
        for (size_t i = 0; i < s->nfields; i++) {
            const cs_field_t *f = &s->fields[i];
            if (!name_ok(f->name, strlen(f->name)))
                fail(c, "field name", f->name);
            if (i)
                buf_putc(b, ',');
            emit_field(c, f->name, f->schema);
        }
        buf_putc(b, ']');
        bool any = true;
        meta_props(c, s, &any);
    }
    buf_putc(b, '}');
    c->space = saved;
    free(myspace);
}

/* The non-union schema of s (AvroData's baseSchema plus its properties). */
static void emit_base(sctx_t *c, const cs_schema_t *s)
{
    buf_t *b = c->b;
    const char *prim = NULL, *ctype = NULL;
    switch (s->type) {
    case CT_INT8: prim = "int"; ctype = "int8"; break;
    case CT_INT16: prim = "int"; ctype = "int16"; break;
    case CT_INT32: prim = "int"; break;
    case CT_INT64: prim = "long"; break;
    case CT_FLOAT32: prim = "float"; break;
    case CT_FLOAT64: prim = "double"; break;
    case CT_BOOLEAN: prim = "boolean"; break;
    case CT_STRING: prim = "string"; break;
    case CT_BYTES: prim = "bytes"; break;
    case CT_STRUCT: {
        char ns[1024];
        const char *name;
        bool has_ns;
        if (s->name) {
            split_name(s->name, ns, sizeof ns, &name, &has_ns);
        } else {
            snprintf(ns, sizeof ns, "%s", AVRO_NS);
            name = "ConnectDefault";
            has_ns = true;
        }
        emit_record(c, s, ns, has_ns, name, NULL);
        return;
    }
    case CT_ARRAY:
    case CT_MAP:
        break;
    }
    bool decimal = s->type == CT_BYTES && s->name && strcasecmp(s->name, "org.apache.kafka.connect.data.Decimal") == 0;
    const char *logical = NULL;
    if (s->name) {
        if (decimal)
            logical = "decimal";
        else if (strcasecmp(s->name, "org.apache.kafka.connect.data.Time") == 0)
            logical = "time-millis";
        else if (strcasecmp(s->name, "org.apache.kafka.connect.data.Timestamp") == 0)
            logical = "timestamp-millis";
        else if (strcasecmp(s->name, "org.apache.kafka.connect.data.Date") == 0)
            logical = "date";
    }
    bool any = false;
    if (prim) {
        bool props = decimal || logical || (c->meta && (ctype || s->doc || s->version || s->nparams || s->def || s->name));
        if (!props) {
            buf_putc(b, '"');
            buf_puts(b, prim);
            buf_putc(b, '"');
            return;
        }
        buf_puts(b, "{\"type\":\"");
        buf_puts(b, prim);
        buf_putc(b, '"');
        any = true;
        if (decimal) {
            const char *sc = cs_param_get(s, "scale");
            const char *pr = cs_param_get(s, "connect.decimal.precision");
            buf_puts(b, ",\"scale\":");
            buf_put_i64(b, sc ? atoi(sc) : 0);
            buf_puts(b, ",\"precision\":");
            buf_put_i64(b, pr ? atoi(pr) : 64);
        }
    } else if (s->type == CT_ARRAY) {
        buf_puts(b, "{\"type\":\"array\",\"items\":");
        emit(c, s->items, false);
        any = true;
    } else if (s->keys->type == CT_STRING && !s->keys->optional) {
        buf_puts(b, "{\"type\":\"map\",\"values\":");
        emit(c, s->items, false);
        any = true;
    } else {
        /* non-string keys: an array of MapEntry records */
        buf_puts(b, "{\"type\":\"array\",\"items\":");
        char ns[1024];
        const char *name = "MapEntry";
        bool has_ns = true;
        if (s->name)
            split_name(s->name, ns, sizeof ns, &name, &has_ns);
        else
            snprintf(ns, sizeof ns, "%s", AVRO_NS);
        emit_record(c, s, ns, has_ns, name, s->keys);
        any = true;
    }
    meta_props(c, s, &any);
    if (c->meta && ctype) {
        buf_puts(b, ",\"connect.type\":\"");
        buf_puts(b, ctype);
        buf_putc(b, '"');
    }
    if (logical) {
        buf_puts(b, ",\"logicalType\":\"");
        buf_puts(b, logical);
        buf_putc(b, '"');
    }
    buf_putc(b, '}');
}

static void emit(sctx_t *c, const cs_schema_t *s, bool ignore_optional)
{
    buf_t *b = c->b;
    if (!s->optional || ignore_optional) {
        emit_base(c, s);
        return;
    }
    /* optional: a union with null; first when there is no default (structs: always) */
    bool null_last = s->def && !(s->def->null) && s->type != CT_STRUCT;
    buf_putc(b, '[');
    if (!null_last)
        buf_puts(b, "\"null\",");
    emit_base(c, s);
    if (null_last)
        buf_puts(b, ",\"null\"");
    buf_putc(b, ']');
}

int avro_enc_schema(buf_t *b, const cs_schema_t *s, bool meta, char *err, size_t errlen)
{
    sctx_t c = { .b = b, .meta = meta, .err = err, .errlen = errlen };
    emit(&c, s, false);
    for (size_t i = 0; i < c.ndefined; i++)
        free(c.defined[i]);
    free(c.defined);
    return c.rc;
}

/* ---- binary -------------------------------------------------------------------------------- */

static inline void put_long(buf_t *b, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    if (b->cap - b->len < 10)
        buf_reserve(b, 10);
    unsigned char *p = (unsigned char *)b->data + b->len;
    size_t n = 0;
    while (z > 0x7F) {
        p[n++] = (unsigned char)((z & 0x7F) | 0x80);
        z >>= 7;
    }
    p[n++] = (unsigned char)z;
    b->len += n;
}

static inline void put_bytes(buf_t *b, const char *p, size_t n)
{
    put_long(b, (int64_t)n);
    buf_append(b, p, n);
}

static int enc(buf_t *b, const cs_schema_t *s, const cv_value_t *v, const char *field, char *err, size_t errlen)
{
    if (!v || v->null) {
        if (s->def && v != s->def && !s->def->null)
            return enc(b, s, s->def, field, err, errlen);
        if (!s->optional) {
            snprintf(err, errlen, "field \"%s\" is required by its schema but the value is null", field ? field : "(top)");
            return -1;
        }
        /* null branch: index 0 unless the union is [T,"null"] */
        put_long(b, (s->def && !s->def->null && s->type != CT_STRUCT) ? 1 : 0);
        return 0;
    }
    if (s->optional)
        put_long(b, (s->def && !s->def->null && s->type != CT_STRUCT) ? 0 : 1);
    switch (s->type) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        put_long(b, v->u.i);
        break;
    case CT_FLOAT32: {
        float f = (float)v->u.f;
        unsigned char le[4];
        uint32_t u;
        memcpy(&u, &f, 4);
        for (int i = 0; i < 4; i++)
            le[i] = (unsigned char)(u >> (8 * i));
        buf_append(b, le, 4);
        break;
    }
    case CT_FLOAT64: {
        unsigned char le[8];
        uint64_t u;
        memcpy(&u, &v->u.f, 8);
        for (int i = 0; i < 8; i++)
            le[i] = (unsigned char)(u >> (8 * i));
        buf_append(b, le, 8);
        break;
    }
    case CT_BOOLEAN:
        buf_putc(b, v->u.b ? 1 : 0);
        break;
    case CT_STRING:
    case CT_BYTES:
        put_bytes(b, v->u.s.p, v->u.s.n);
        break;
    case CT_ARRAY:
        if (v->u.list.n) {
            put_long(b, (int64_t)v->u.list.n);
            for (size_t i = 0; i < v->u.list.n; i++)
                if (enc(b, s->items, &v->u.list.v[i], field, err, errlen) < 0)
                    return -1;
        }
        put_long(b, 0);
        break;
    case CT_MAP: {
        size_t n = v->u.list.n / 2;
        bool strkeys = s->keys->type == CT_STRING && !s->keys->optional;
        if (n) {
            put_long(b, (int64_t)n);
            for (size_t i = 0; i < n; i++) {
                const cv_value_t *k = &v->u.list.v[2 * i];
                if (strkeys) {
                    if (k->null) {
                        snprintf(err, errlen, "field \"%s\": a map key is null", field ? field : "(top)");
                        return -1;
                    }
                    put_bytes(b, k->u.s.p, k->u.s.n);
                } else if (enc(b, s->keys, k, field, err, errlen) < 0) {
                    return -1;
                }
                if (enc(b, s->items, &v->u.list.v[2 * i + 1], field, err, errlen) < 0)
                    return -1;
            }
        }
        put_long(b, 0);
        break;
    }
    case CT_STRUCT:
        for (size_t i = 0; i < s->nfields; i++)
            if (enc(b, s->fields[i].schema, i < v->u.list.n ? &v->u.list.v[i] : NULL, s->fields[i].name, err,
                    errlen) < 0)
                return -1;
        break;
    }
    return 0;
}

int avro_enc_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v, char *err, size_t errlen)
{
    return enc(b, s, v, NULL, err, errlen);
}

void avro_enc_header(buf_t *b, int32_t id)
{
    unsigned char h[5] = { 0, (unsigned char)((uint32_t)id >> 24), (unsigned char)((uint32_t)id >> 16),
                           (unsigned char)((uint32_t)id >> 8), (unsigned char)id };
    buf_append(b, h, 5);
}
