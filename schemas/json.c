/* json.c: JsonConverter-compatible encoder. Key order and number text match what Kafka Connect
 * (Jackson) emits, so walcast's output is byte-for-byte comparable with Debezium's. */
#include "schemas/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char hexd[] = "0123456789ABCDEF";   /* Jackson escapes with upper-case hex */

/* 1: a byte written as it is. Escaped: control characters, '"' (0x22), '\\' (0x5C); a 4-byte UTF-8 lead
 * (0xF0 and up) goes through the surrogate check. */
static const unsigned char plain[256] = { [0x20 ... 0x21] = 1, [0x23 ... 0x5B] = 1, [0x5D ... 0xEF] = 1 };

void json_enc_string(buf_t *b, const char *p, size_t n)
{
    const unsigned char *up = (const unsigned char *)p;
    size_t first = 0;
    while (first < n && plain[up[first]])
        first++;
    buf_reserve(b, n + 2);
    if (first == n) {   /* nothing to escape: the common case, one copy */
        char *d = b->data + b->len;
        d[0] = '"';
        if (n)
            memcpy(d + 1, p, n);
        d[n + 1] = '"';
        b->len += n + 2;
        return;
    }
    buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = first; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0xF0)
            continue;
        if (c >= 0xF0) {
            /* outside the BMP: Jackson's UTF8JsonGenerator escapes each UTF-16 surrogate of it */
            if (c > 0xF4 || i + 3 >= n || ((unsigned char)p[i + 1] & 0xC0) != 0x80 ||
                ((unsigned char)p[i + 2] & 0xC0) != 0x80 || ((unsigned char)p[i + 3] & 0xC0) != 0x80)
                continue;
            uint32_t cp = (uint32_t)(c & 7) << 18 | (uint32_t)(p[i + 1] & 0x3F) << 12 |
                          (uint32_t)(p[i + 2] & 0x3F) << 6 | (uint32_t)(p[i + 3] & 0x3F);
            if (cp < 0x10000 || cp > 0x10FFFF)
                continue;
            buf_append(b, p + run, i - run);
            cp -= 0x10000;
            unsigned hi = 0xD800 + (cp >> 10), lo = 0xDC00 + (cp & 0x3FF);
            char u[12] = { '\\', 'u', hexd[hi >> 12], hexd[(hi >> 8) & 15], hexd[(hi >> 4) & 15], hexd[hi & 15],
                           '\\', 'u', hexd[lo >> 12], hexd[(lo >> 8) & 15], hexd[(lo >> 4) & 15], hexd[lo & 15] };
            buf_append(b, u, 12);
            i += 3;
            run = i + 1;
            continue;
        }
        buf_append(b, p + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': buf_append(b, "\\\"", 2); break;
        case '\\': buf_append(b, "\\\\", 2); break;
        case '\n': buf_append(b, "\\n", 2); break;
        case '\r': buf_append(b, "\\r", 2); break;
        case '\t': buf_append(b, "\\t", 2); break;
        case '\b': buf_append(b, "\\b", 2); break;
        case '\f': buf_append(b, "\\f", 2); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15] };
            buf_append(b, u, 6);
        }
        }
    }
    buf_append(b, p + run, n - run);
    buf_putc(b, '"');
}

void json_enc_base64(buf_t *b, const unsigned char *p, size_t n, bool url_safe)
{
    const char *tab = url_safe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                               : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf_reserve(b, (n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], tab[v & 63] };
        buf_append(b, o, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], '=', '=' };
        buf_append(b, o, 4);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char o[4] = { tab[v >> 18], tab[(v >> 12) & 63], tab[(v >> 6) & 63], '=' };
        buf_append(b, o, 4);
    }
}

/* Shortest decimal digits that read back as the same value, as Java 19+ prints them. */
static int shortest_digits(double d, bool is_float, char *digits, int *exp10)
{
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        bool same = is_float ? (strtof(tmp, NULL) == (float)d) : (strtod(tmp, NULL) == d);
        /* Java (JDK 19+): when one digit suffices, the closest two-digit decimal is chosen instead. */
        if (same && prec == 1)
            snprintf(tmp, sizeof tmp, "%.1e", d);
        if (same || prec == 17)
            break;
    }
    /* tmp is d.ddde[+-]xx */
    int nd = 0;
    const char *q = tmp;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[nd++] = *q;
    *exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    digits[nd] = '\0';
    return nd;
}

size_t json_java_double(char *out, size_t outlen, double d, bool is_float)
{
    if (isnan(d))
        return (size_t)snprintf(out, outlen, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, outlen, d > 0 ? "Infinity" : "-Infinity");
    if (d == 0)
        return (size_t)snprintf(out, outlen, signbit(d) ? "-0.0" : "0.0");
    char digits[24];
    int e;
    bool neg = d < 0;
    int nd = shortest_digits(fabs(d), is_float, digits, &e);
    char tmp[64];
    size_t k = 0;
    if (neg)
        tmp[k++] = '-';
    if (e >= -3 && e < 7) {
        if (e < 0) {
            tmp[k++] = '0';
            tmp[k++] = '.';
            for (int i = 0; i < -e - 1; i++)
                tmp[k++] = '0';
            for (int i = 0; i < nd; i++)
                tmp[k++] = digits[i];
        } else {
            for (int i = 0; i <= e; i++)
                tmp[k++] = i < nd ? digits[i] : '0';
            tmp[k++] = '.';
            if (nd > e + 1)
                for (int i = e + 1; i < nd; i++)
                    tmp[k++] = digits[i];
            else
                tmp[k++] = '0';
        }
        tmp[k] = '\0';
    } else {
        tmp[k++] = digits[0];
        tmp[k++] = '.';
        if (nd > 1)
            for (int i = 1; i < nd; i++)
                tmp[k++] = digits[i];
        else
            tmp[k++] = '0';
        snprintf(tmp + k, sizeof tmp - k, "E%d", e);
    }
    return (size_t)snprintf(out, outlen, "%s", tmp);
}

static void enc_java_number(buf_t *b, double d, bool is_float)
{
    char tmp[64];
    size_t n = json_java_double(tmp, sizeof tmp, d, is_float);
    /* Jackson quotes non-finite numbers (QUOTE_NON_NUMERIC_NUMBERS is on by default). */
    if (!isfinite(d))
        buf_putc(b, '"');
    buf_append(b, tmp, n);
    if (!isfinite(d))
        buf_putc(b, '"');
}

void json_enc_f64(buf_t *b, double d) { enc_java_number(b, d, false); }
void json_enc_f32(buf_t *b, float f) { enc_java_number(b, (double)f, true); }

static void enc_schema_body(buf_t *b, const cs_schema_t *s, const char *field_name)
{
    buf_puts(b, "{\"type\":\"");
    buf_puts(b, ct_type_name(s->type));
    buf_putc(b, '"');
    switch (s->type) {
    case CT_STRUCT:
        buf_puts(b, ",\"fields\":[");
        for (size_t i = 0; i < s->nfields; i++) {
            if (i)
                buf_putc(b, ',');
            enc_schema_body(b, s->fields[i].schema, s->fields[i].name);
        }
        buf_putc(b, ']');
        break;
    case CT_ARRAY:
        buf_puts(b, ",\"items\":");
        enc_schema_body(b, s->items, NULL);
        break;
    case CT_MAP:
        buf_puts(b, ",\"keys\":");
        enc_schema_body(b, s->keys, NULL);
        buf_puts(b, ",\"values\":");
        enc_schema_body(b, s->items, NULL);
        break;
    default:
        break;
    }
    buf_puts(b, s->optional ? ",\"optional\":true" : ",\"optional\":false");
    if (s->name) {
        buf_puts(b, ",\"name\":");
        json_enc_string(b, s->name, strlen(s->name));
    }
    if (s->version) {
        buf_puts(b, ",\"version\":");
        buf_put_i64(b, s->version);
    }
    if (s->doc) {
        buf_puts(b, ",\"doc\":");
        json_enc_string(b, s->doc, strlen(s->doc));
    }
    if (s->nparams) {
        buf_puts(b, ",\"parameters\":{");
        for (size_t i = 0; i < s->nparams; i++) {
            if (i)
                buf_putc(b, ',');
            json_enc_string(b, s->params[i].key, strlen(s->params[i].key));
            buf_putc(b, ':');
            json_enc_string(b, s->params[i].value, strlen(s->params[i].value));
        }
        buf_putc(b, '}');
    }
    if (s->def) {
        buf_puts(b, ",\"default\":");
        json_enc_value(b, s, s->def);
    }
    if (field_name) {
        buf_puts(b, ",\"field\":");
        json_enc_string(b, field_name, strlen(field_name));
    }
    buf_putc(b, '}');
}

void json_enc_schema(buf_t *b, const cs_schema_t *s) { enc_schema_body(b, s, NULL); }

void json_enc_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v)
{
    if (!v || v->null) {
        if (s->def && v != s->def) {
            json_enc_value(b, s, s->def);
            return;
        }
        buf_append(b, "null", 4);
        return;
    }
    switch (s->type) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        buf_put_i64(b, v->u.i);
        break;
    case CT_FLOAT32:
        json_enc_f32(b, (float)v->u.f);
        break;
    case CT_FLOAT64:
        json_enc_f64(b, v->u.f);
        break;
    case CT_BOOLEAN:
        buf_puts(b, v->u.b ? "true" : "false");
        break;
    case CT_STRING:
        json_enc_string(b, v->u.s.p, v->u.s.n);
        break;
    case CT_BYTES:
        buf_putc(b, '"');
        json_enc_base64(b, (const unsigned char *)v->u.s.p, v->u.s.n, false);
        buf_putc(b, '"');
        break;
    case CT_ARRAY:
        buf_putc(b, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                buf_putc(b, ',');
            json_enc_value(b, s->items, &v->u.list.v[i]);
        }
        buf_putc(b, ']');
        break;
    case CT_MAP:
        /* String keys give a JSON object; other key types the [[k,v],...] form, as JsonConverter does. */
        if (s->keys->type == CT_STRING) {
            buf_putc(b, '{');
            for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
                if (i)
                    buf_putc(b, ',');
                const cv_value_t *k = &v->u.list.v[i];
                json_enc_string(b, k->null ? "" : k->u.s.p, k->null ? 0 : k->u.s.n);
                buf_putc(b, ':');
                json_enc_value(b, s->items, &v->u.list.v[i + 1]);
            }
            buf_putc(b, '}');
        } else {
            buf_putc(b, '[');
            for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
                if (i)
                    buf_putc(b, ',');
                buf_putc(b, '[');
                json_enc_value(b, s->keys, &v->u.list.v[i]);
                buf_putc(b, ',');
                json_enc_value(b, s->items, &v->u.list.v[i + 1]);
                buf_putc(b, ']');
            }
            buf_putc(b, ']');
        }
        break;
    case CT_STRUCT:
        buf_putc(b, '{');
        for (size_t i = 0; i < s->nfields; i++) {
            if (i)
                buf_putc(b, ',');
            json_enc_string(b, s->fields[i].name, strlen(s->fields[i].name));
            buf_putc(b, ':');
            json_enc_value(b, s->fields[i].schema, i < v->u.list.n ? &v->u.list.v[i] : NULL);
        }
        buf_putc(b, '}');
        break;
    }
}

/* ---- json_plan: a struct schema's keys rendered once --------------------------------------------------- */

/* How a field's non-null value is written: the common leaves inline, the rest (and every null: a default
 * may stand in) through json_enc_value. */
enum { PF_VALUE, PF_INT, PF_STRING, PF_BOOL };

typedef struct plan_field {
    uint32_t off, len;            /* the key text in keys: '{' or ',' then "name": */
    int32_t child;                /* node of a struct field's schema, -1: json_enc_value */
    uint8_t kind;                 /* PF_* */
} plan_field_t;

/* Keys up to this long are copied in fixed-size moves (no memcpy call): keys holds this many readable
 * bytes past its end, and the output has room reserved for as many. */
#define PLAN_KEY_COPY 32

typedef struct plan_node {
    const cs_schema_t *s;
    uint32_t first;               /* its first field in fields */
} plan_node_t;

struct json_plan {
    const cs_schema_t *schema;
    uint64_t uid;
    plan_node_t *nodes;
    size_t nnodes, capnodes;
    plan_field_t *fields;
    size_t nfields, capfields;
    buf_t keys;
};

/* The node of struct schema s, made with its nested structs' nodes (one node per schema: a row schema
 * serves both before and after). */
static int32_t plan_node(json_plan_t *p, const cs_schema_t *s)
{
    for (size_t i = 0; i < p->nnodes; i++)
        if (p->nodes[i].s == s)
            return (int32_t)i;
    if (p->nnodes == p->capnodes) {
        p->capnodes = p->capnodes ? p->capnodes * 2 : 8;
        p->nodes = xrealloc(p->nodes, p->capnodes * sizeof *p->nodes);
    }
    int32_t k = (int32_t)p->nnodes++;
    if (p->nfields + s->nfields > p->capfields) {
        while (p->nfields + s->nfields > p->capfields)
            p->capfields = p->capfields ? p->capfields * 2 : 32;
        p->fields = xrealloc(p->fields, p->capfields * sizeof *p->fields);
    }
    p->nodes[k] = (plan_node_t){ .s = s, .first = (uint32_t)p->nfields };
    p->nfields += s->nfields;
    for (size_t i = 0; i < s->nfields; i++) {
        size_t at = p->keys.len;
        buf_putc(&p->keys, i ? ',' : '{');
        json_enc_string(&p->keys, s->fields[i].name, strlen(s->fields[i].name));
        buf_putc(&p->keys, ':');
        plan_field_t *f = &p->fields[p->nodes[k].first + i];
        f->off = (uint32_t)at;
        f->len = (uint32_t)(p->keys.len - at);
        f->child = -1;
        switch (s->fields[i].schema->type) {
        case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64: f->kind = PF_INT; break;
        case CT_STRING: f->kind = PF_STRING; break;
        case CT_BOOLEAN: f->kind = PF_BOOL; break;
        default: f->kind = PF_VALUE; break;
        }
    }
    /* children after the parent's own fields are in place (the arrays may move meanwhile) */
    for (size_t i = 0; i < s->nfields; i++)
        if (s->fields[i].schema->type == CT_STRUCT) {
            int32_t c = plan_node(p, s->fields[i].schema);
            p->fields[p->nodes[k].first + i].child = c;
        }
    return k;
}

json_plan_t *json_plan_new(const cs_schema_t *s)
{
    json_plan_t *p = xcalloc(1, sizeof *p);
    p->schema = s;
    p->uid = s->uid;
    buf_init(&p->keys);
    if (s->type == CT_STRUCT)
        plan_node(p, s);
    buf_reserve(&p->keys, PLAN_KEY_COPY);   /* zeroed: plan_enc_node reads up to PLAN_KEY_COPY past a key */
    memset(p->keys.data + p->keys.len, 0, PLAN_KEY_COPY);
    return p;
}

void json_plan_free(json_plan_t *p)
{
    if (!p)
        return;
    free(p->nodes);
    free(p->fields);
    buf_free(&p->keys);
    free(p);
}

const cs_schema_t *json_plan_schema(const json_plan_t *p) { return p->schema; }
uint64_t json_plan_uid(const json_plan_t *p) { return p->uid; }

/* v: a non-null struct value of node k's schema */
static void plan_enc_node(buf_t *b, const json_plan_t *p, int32_t k, const cv_value_t *v)
{
    const plan_node_t *n = &p->nodes[k];
    const cs_schema_t *s = n->s;
    if (!s->nfields) {
        buf_append(b, "{}", 2);
        return;
    }
    for (size_t i = 0; i < s->nfields; i++) {
        const plan_field_t *f = &p->fields[n->first + i];
        const char *key = p->keys.data + f->off;
        if (f->len <= PLAN_KEY_COPY) {
            if (b->cap - b->len < PLAN_KEY_COPY)
                buf_reserve(b, PLAN_KEY_COPY);
            char *d = b->data + b->len;
            memcpy(d, key, 16);
            if (f->len > 16)
                memcpy(d + 16, key + 16, 16);
            b->len += f->len;
        } else {
            buf_append(b, key, f->len);
        }
        const cv_value_t *fv = i < v->u.list.n ? &v->u.list.v[i] : NULL;
        if (!fv || fv->null) {
            json_enc_value(b, s->fields[i].schema, fv);
            continue;
        }
        if (f->child >= 0) {
            plan_enc_node(b, p, f->child, fv);
            continue;
        }
        switch (f->kind) {   /* as json_enc_value writes them */
        case PF_INT: buf_put_i64(b, fv->u.i); break;
        case PF_STRING: json_enc_string(b, fv->u.s.p, fv->u.s.n); break;
        case PF_BOOL:
            if (fv->u.b)
                buf_append(b, "true", 4);
            else
                buf_append(b, "false", 5);
            break;
        default: json_enc_value(b, s->fields[i].schema, fv); break;
        }
    }
    buf_putc(b, '}');
}

void json_plan_enc(buf_t *b, const json_plan_t *p, const cv_value_t *v)
{
    if (p->nnodes && v && !v->null)
        plan_enc_node(b, p, 0, v);
    else
        json_enc_value(b, p->schema, v);
}

void json_enc_envelope(buf_t *b, const char *schema_json, size_t schema_len, const json_plan_t *p,
                       const cv_value_t *v)
{
    if (!schema_json) {
        json_plan_enc(b, p, v);
        return;
    }
    buf_reserve(b, schema_len + 256);
    buf_append(b, "{\"schema\":", 10);
    buf_append(b, schema_json, schema_len);
    buf_append(b, ",\"payload\":", 11);
    json_plan_enc(b, p, v);
    buf_putc(b, '}');
}

void json_enc_decimal_text(buf_t *b, const unsigned char *p, size_t n, int scale)
{
    /* magnitude in base 1e9 limbs, built from the two's complement bytes */
    bool neg = n && (p[0] & 0x80);
    uint32_t limbs[256];
    size_t nl = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t carry = (uint8_t)(neg ? ~p[i] : p[i]);
        for (size_t k = 0; k < nl; k++) {
            uint64_t v = (uint64_t)limbs[k] * 256 + carry;
            limbs[k] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        while (carry && nl < 256) {
            limbs[nl++] = (uint32_t)(carry % 1000000000u);
            carry /= 1000000000u;
        }
    }
    if (neg) {
        /* -(~x + 1): add one to the inverted magnitude */
        uint64_t carry = 1;
        for (size_t k = 0; k < nl && carry; k++) {
            uint64_t v = (uint64_t)limbs[k] + carry;
            limbs[k] = (uint32_t)(v % 1000000000u);
            carry = v / 1000000000u;
        }
        if (carry && nl < 256)
            limbs[nl++] = (uint32_t)carry;
    }
    char digits[2400];
    size_t nd = 0;
    if (nl == 0)
        digits[nd++] = '0';
    for (size_t k = nl; k-- > 0;) {
        char tmp[16];
        int w = snprintf(tmp, sizeof tmp, k == nl - 1 ? "%u" : "%09u", limbs[k]);
        memcpy(digits + nd, tmp, (size_t)w);
        nd += (size_t)w;
    }
    if (neg)
        buf_putc(b, '-');
    if (scale <= 0) {
        buf_append(b, digits, nd);
        for (int i = 0; i < -scale; i++)
            buf_putc(b, '0');
        return;
    }
    if ((size_t)scale >= nd) {
        buf_append(b, "0.", 2);
        for (size_t i = nd; i < (size_t)scale; i++)
            buf_putc(b, '0');
        buf_append(b, digits, nd);
        return;
    }
    buf_append(b, digits, nd - (size_t)scale);
    buf_putc(b, '.');
    buf_append(b, digits + nd - (size_t)scale, (size_t)scale);
}

static void header_string(buf_t *b, const char *p, size_t n)
{
    buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"' || p[i] == '\\')
            buf_putc(b, '\\');
        buf_putc(b, p[i]);
    }
    buf_putc(b, '"');
}

void json_enc_header_value(buf_t *b, const cs_schema_t *s, const cv_value_t *v)
{
    if (!v || v->null) {
        buf_append(b, "null", 4);
        return;
    }
    switch (s->type) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        buf_put_i64(b, v->u.i);
        return;
    case CT_FLOAT32: case CT_FLOAT64: {
        char tmp[64];
        size_t n = json_java_double(tmp, sizeof tmp, v->u.f, s->type == CT_FLOAT32);
        buf_append(b, tmp, n);
        return;
    }
    case CT_BOOLEAN:
        buf_puts(b, v->u.b ? "true" : "false");
        return;
    case CT_STRING:
        header_string(b, v->u.s.p, v->u.s.n);
        return;
    case CT_BYTES:
        if (s->name && strcmp(s->name, "org.apache.kafka.connect.data.Decimal") == 0) {
            const char *sc = cs_param_get(s, "scale");
            json_enc_decimal_text(b, (const unsigned char *)v->u.s.p, v->u.s.n, sc ? atoi(sc) : 0);
            return;
        }
        buf_putc(b, '"');
        json_enc_base64(b, (const unsigned char *)v->u.s.p, v->u.s.n, false);
        buf_putc(b, '"');
        return;
    case CT_ARRAY:
        buf_putc(b, '[');
        for (size_t i = 0; i < v->u.list.n; i++) {
            if (i)
                buf_putc(b, ',');
            json_enc_header_value(b, s->items, &v->u.list.v[i]);
        }
        buf_putc(b, ']');
        return;
    case CT_MAP:
        buf_putc(b, '{');
        for (size_t i = 0; i + 1 < v->u.list.n; i += 2) {
            if (i)
                buf_putc(b, ',');
            json_enc_header_value(b, s->keys, &v->u.list.v[i]);
            buf_putc(b, ':');
            json_enc_header_value(b, s->items, &v->u.list.v[i + 1]);
        }
        buf_putc(b, '}');
        return;
    case CT_STRUCT:
        buf_putc(b, '{');
        for (size_t i = 0; i < s->nfields; i++) {
            if (i)
                buf_putc(b, ',');
            header_string(b, s->fields[i].name, strlen(s->fields[i].name));
            buf_putc(b, ':');
            json_enc_header_value(b, s->fields[i].schema, i < v->u.list.n ? &v->u.list.v[i] : NULL);
        }
        buf_putc(b, '}');
        return;
    }
}

int32_t json_java_string_hash(const char *s, size_t n)
{
    uint32_t h = 0;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        uint32_t cp = *p;
        int extra = cp >= 0xF0 ? 3 : cp >= 0xE0 ? 2 : cp >= 0xC0 ? 1 : 0;
        if (extra) {
            cp &= 0x3Fu >> extra;
            for (int i = 1; i <= extra && p + i < end && (p[i] & 0xC0) == 0x80; i++)
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        p += 1 + extra;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            h = 31 * h + (0xD800 + (cp >> 10));
            h = 31 * h + (0xDC00 + (cp & 0x3FF));
        } else {
            h = 31 * h + cp;
        }
    }
    return (int32_t)h;
}
