/* transform_cast.c: Kafka Connect's Cast$Key / Cast$Value (connect/transforms Cast.java): a struct's
 * named fields, or the whole key/value, cast to int8/16/32/64, float32/64, boolean or string with
 * Java's conversions (Number.xxxValue narrowing, Byte/Short/Integer/Long.parseXxx, Float/Double.parseXxx,
 * Boolean.parseBoolean, toString; Connect's Decimal as BigDecimal, Date/Time/Timestamp as java.util.Date
 * formatted by Values.dateFormatFor). A value a cast cannot handle fails the record (the error path). */
#include "schemas/transform_int.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "schemas/json.h"

#define CAST_OUT_TYPES "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"
#define CAST_IN_TYPES "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"

typedef struct {
    bool key;
    bool whole;                   /* a single type: the whole key/value */
    ct_type_t whole_type;
    char **fields;                /* field names, NULL-terminated */
    ct_type_t *types;             /* their target types */
    size_t n;
    bool replace_null;
} cast_conf_t;

static const char *const cast_opts[] = { "spec", "replace.null.with.default", NULL };

static void cast_free(void *p)
{
    cast_conf_t *c = p;
    if (!c)
        return;
    tf_list_free(c->fields);
    free(c->types);
    free(c);
}

const char *tf_type_java(ct_type_t t)
{
    static const char *const n[] = { "INT8", "INT16", "INT32", "INT64", "FLOAT32", "FLOAT64", "BOOLEAN", "STRING",
                                     "BYTES", "ARRAY", "MAP", "STRUCT" };
    return (size_t)t < sizeof n / sizeof n[0] ? n[t] : "?";
}

/* Schema.Type.valueOf(upper case) and validCastType(OUTPUT). */
static int parse_type(const tf_opts_t *o, const char *name, ct_type_t *out, char *err, size_t errlen)
{
    for (int t = CT_INT8; t <= CT_STRUCT; t++)
        if (!strcasecmp(name, tf_type_java((ct_type_t)t))) {
            if (t > CT_STRING) {
                snprintf(err, errlen, "%s.%s.spec: Cast transformation does not support casting to %s; supported types are "
                         CAST_OUT_TYPES, o->kind, o->alias, tf_type_java((ct_type_t)t));
                return -1;
            }
            *out = (ct_type_t)t;
            return 0;
        }
    snprintf(err, errlen, "%s.%s.spec: Invalid type found in casting spec: %s (supported: " CAST_OUT_TYPES ")", o->kind,
             o->alias, name);
    return -1;
}

/* A copy of s[0..n) with Java's String.trim (chars <= ' '). */
static char *trim_dup(const char *s, size_t n)
{
    while (n && (unsigned char)*s <= ' ') {
        s++;
        n--;
    }
    while (n && (unsigned char)s[n - 1] <= ' ')
        n--;
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

/* parseFieldTypes over the ConfigDef LIST (split on commas, items trimmed, empty items kept). */
static int cast_configure(const tf_opts_t *o, void **conf, bool key, char *err, size_t errlen)
{
    const char *spec;
    if (tf_opt_required(o, "spec", &spec, err, errlen) < 0)
        return -1;
    cast_conf_t *c = xcalloc(1, sizeof *c);
    c->key = key;
    char *item = NULL, *field = NULL, *type = NULL;
    size_t items = 0;
    const char *p = spec;
    while ((unsigned char)*p && (unsigned char)*p <= ' ')
        p++;
    if (!*p) {
        snprintf(err, errlen, "%s.%s.spec: Must specify at least one field to cast (field:type,... or a single type)", o->kind,
                 o->alias);
        goto fail;
    }
    for (;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        item = trim_dup(p, len);
        items++;
        /* String.split(":"): trailing empty parts dropped */
        char *colon = strchr(item, ':');
        size_t parts = 1;
        if (colon) {
            parts = 2;
            if (strchr(colon + 1, ':')) {
                char *q = colon + 1 + strcspn(colon + 1, ":");
                parts = strspn(q, ":") == strlen(q) ? 2 : 3;   /* "a:b::" is still two parts */
            }
            if (parts == 2 && strspn(colon, ":") == strlen(colon))
                parts = 1;                                       /* "a:" and "a::" are one part */
        }
        if (parts > 2) {
            snprintf(err, errlen, "%s.%s.spec: invalid cast mapping '%s' (field:type, or a single type for the whole %s)",
                     o->kind, o->alias, item, key ? "key" : "value");
            goto fail;
        }
        if (parts == 1) {
            if (colon)
                *colon = 0;
            type = trim_dup(item, strlen(item));
            if (parse_type(o, type, &c->whole_type, err, errlen) < 0)
                goto fail;
            c->whole = true;
        } else {
            *colon = 0;
            char *t = colon + 1;
            t[strcspn(t, ":")] = 0;
            field = trim_dup(item, strlen(item));
            type = trim_dup(t, strlen(t));
            ct_type_t ty;
            if (parse_type(o, type, &ty, err, errlen) < 0)
                goto fail;
            size_t k = 0;
            while (k < c->n && strcmp(c->fields[k], field))
                k++;
            if (k == c->n) {   /* a field named twice: the last type wins (a HashMap) */
                c->fields = xrealloc(c->fields, (c->n + 2) * sizeof *c->fields);
                c->types = xrealloc(c->types, (c->n + 1) * sizeof *c->types);
                c->fields[c->n++] = field;
                c->fields[c->n] = NULL;
                field = NULL;
            }
            c->types[k] = ty;
        }
        free(field);
        free(type);
        free(item);
        field = type = item = NULL;
        if (!e)
            break;
        p = e + 1;
    }
    if (c->whole && items > 1) {
        snprintf(err, errlen, "%s.%s.spec: Cast transformations that specify a type to cast the entire value to may only "
                 "specify a single cast in their spec", o->kind, o->alias);
        goto fail;
    }
    if (tf_opt_bool(o, "replace.null.with.default", true, &c->replace_null, err, errlen) < 0)
        goto fail;
    *conf = c;
    return 0;
fail:
    free(field);
    free(type);
    free(item);
    cast_free(c);
    return -1;
}

static int cast_configure_key(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return cast_configure(o, conf, true, err, errlen);
}

static int cast_configure_value(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    return cast_configure(o, conf, false, err, errlen);
}

/* Java's d2l / d2i: NaN 0, saturated at the type's bounds. */
static int64_t java_d2l(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 9223372036854775807.0)
        return INT64_MAX;
    if (d <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

static int64_t java_d2i(double d)
{
    if (isnan(d))
        return 0;
    if (d >= 2147483647.0)
        return INT32_MAX;
    if (d <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)d;
}

/* Narrowing of a long to the target width (Number.byteValue/shortValue/intValue). */
static int64_t narrow(uint64_t v, ct_type_t to)
{
    switch (to) {
    case CT_INT8: return (int8_t)(uint8_t)v;
    case CT_INT16: return (int16_t)(uint16_t)v;
    case CT_INT32: return (int32_t)(uint32_t)v;
    default: return (int64_t)v;
    }
}

/* Integer.parseInt & co.: [+-]digits, radix 10, in the type's range. */
static bool java_parse_int(const char *s, ct_type_t to, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    uint64_t lim = to == CT_INT8 ? 128 : to == CT_INT16 ? 32768 : to == CT_INT32 ? 2147483648ULL : 9223372036854775808ULL;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        if (v > (lim - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!neg && v >= lim)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* Float.parseFloat / Double.parseDouble (decimal and the NaN/Infinity words; hex floats with a p exponent). */
static bool java_parse_float(const char *s, bool is_float, double *out)
{
    char *t = trim_dup(s, strlen(s));
    const char *p = t + (*t == '+' || *t == '-');
    size_t n = strlen(t);
    bool ok = false;
    if (!strcmp(p, "NaN") || !strcmp(p, "Infinity")) {
        ok = true;
    } else if ((p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))) {
        ok = strpbrk(p, "pP") != NULL;
    } else {
        size_t i = 0, digits = 0;
        while (isdigit((unsigned char)p[i])) {
            i++;
            digits++;
        }
        if (p[i] == '.')
            for (i++; isdigit((unsigned char)p[i]); i++)
                digits++;
        if (digits && (p[i] == 'e' || p[i] == 'E')) {
            i++;
            if (p[i] == '+' || p[i] == '-')
                i++;
            size_t ed = 0;
            while (isdigit((unsigned char)p[i])) {
                i++;
                ed++;
            }
            if (!ed)
                digits = 0;
        }
        bool suffix = digits && p[i] && strchr("fFdD", p[i]) && !p[i + 1];
        if (suffix)
            i++;
        ok = digits && !p[i];
        if (ok && suffix)
            t[n - 1] = 0;
    }
    if (ok) {
        if (strstr(p, "Infinity"))
            *out = *t == '-' ? -INFINITY : INFINITY;
        else if (!strcmp(p, "NaN"))
            *out = NAN;
        else
            *out = is_float ? (double)strtof(t, NULL) : strtod(t, NULL);
    }
    free(t);
    return ok;
}

/* BigDecimal.toString of a coefficient (sign and digits) and a scale. */
static const char *decimal_to_string(arena_t *a, const char *coef, int scale)
{
    bool neg = *coef == '-';
    const char *d = coef + neg;
    size_t nd = strlen(d);
    long adjusted = -(long)scale + (long)nd - 1;
    char *r = arena_alloc(a, nd + 40 + (scale > 0 ? (size_t)scale : 0));
    char *w = r;
    if (neg)
        *w++ = '-';
    if (scale == 0) {
        memcpy(w, d, nd + 1);
    } else if (scale > 0 && adjusted >= -6) {
        if (nd > (size_t)scale) {
            memcpy(w, d, nd - (size_t)scale);
            w += nd - (size_t)scale;
            *w++ = '.';
            memcpy(w, d + nd - (size_t)scale, (size_t)scale + 1);
        } else {
            *w++ = '0';
            *w++ = '.';
            for (size_t i = nd; i < (size_t)scale; i++)
                *w++ = '0';
            memcpy(w, d, nd + 1);
        }
    } else {
        *w++ = d[0];
        if (nd > 1) {
            *w++ = '.';
            memcpy(w, d + 1, nd - 1);
            w += nd - 1;
        }
        sprintf(w, "E%s%ld", adjusted >= 0 ? "+" : "", adjusted);
    }
    return r;
}

/* BigDecimal.longValue: the integer part's low 64 bits. */
static uint64_t decimal_low64(const char *coef, int scale)
{
    bool neg = *coef == '-';
    const char *d = coef + neg;
    long nd = (long)strlen(d), keep = nd - scale;
    uint64_t v = 0;
    for (long i = 0; i < keep; i++)
        v = v * 10 + (uint64_t)(i < nd ? d[i] - '0' : 0);
    return neg ? 0 - v : v;
}

/* Values.dateFormatFor(date).format(date) in UTC: a time below one day, a date at midnight, else a timestamp. */
static const char *date_text(arena_t *a, int64_t ms)
{
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    char *r = arena_alloc(a, 64);
    if (ms < 86400000LL)
        snprintf(r, 64, "%02d:%02d:%02d.%03dZ", tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    else if (ms % 86400000LL == 0)
        snprintf(r, 64, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else
        snprintf(r, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)frac);
    return r;
}

static int out_of_range(const char *text, char *err, size_t errlen)
{
    snprintf(err, errlen, "Value (%s) was out of range for requested data type", text);
    return -1;
}

/* castValueToType: v under schema s to type `to` (values in arena a). */
static int cast_value(arena_t *a, const cs_schema_t *s, const cv_value_t *v, ct_type_t to, cv_value_t *out, char *err,
                      size_t errlen)
{
    if (v->null) {
        *out = cv_null();
        return 0;
    }
    if (s->type > CT_BYTES) {
        snprintf(err, errlen, "Cast transformation does not support casting from %s; supported types are " CAST_IN_TYPES,
                 tf_type_java(s->type));
        return -1;
    }
    enum { K_INT, K_FLOAT, K_BOOL, K_STR, K_DEC } kind;
    int64_t i = 0;
    double f = 0;
    const char *text = NULL;   /* K_STR: the string; K_DEC: the coefficient */
    int scale = 0;
    bool is_date = tf_named(s, "org.apache.kafka.connect.data.Date") || tf_named(s, "org.apache.kafka.connect.data.Time") ||
                   tf_named(s, "org.apache.kafka.connect.data.Timestamp");
    switch (s->type) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        kind = K_INT;
        i = v->u.i;
        break;
    case CT_FLOAT32: case CT_FLOAT64:
        kind = K_FLOAT;
        f = v->u.f;
        break;
    case CT_BOOLEAN:
        kind = K_BOOL;
        i = v->u.b;
        break;
    case CT_STRING: {
        kind = K_STR;
        char *t = arena_alloc(a, v->u.s.n + 1);
        memcpy(t, v->u.s.p, v->u.s.n);
        t[v->u.s.n] = 0;
        text = t;
        break;
    }
    default:   /* CT_BYTES */
        if (tf_named(s, "org.apache.kafka.connect.data.Decimal")) {
            const char *sc = cs_param_get(s, "scale");
            scale = sc ? atoi(sc) : 0;
            buf_t b;
            buf_init(&b);
            json_enc_decimal_text(&b, (const unsigned char *)v->u.s.p, v->u.s.n, 0);
            text = arena_strdup(a, buf_cstr(&b));
            buf_free(&b);
            kind = K_DEC;
            break;
        }
        if (to != CT_STRING) {
            snprintf(err, errlen, "Unexpected type in Cast transformation: class [B");
            return -1;
        }
        buf_t b;
        buf_init(&b);
        json_enc_base64(&b, (const unsigned char *)v->u.s.p, v->u.s.n, false);
        const char *t = arena_strdup(a, buf_cstr(&b));
        buf_free(&b);
        *out = cv_str(t, strlen(t));
        return 0;
    }
    switch (to) {
    case CT_INT8: case CT_INT16: case CT_INT32: case CT_INT64:
        if (kind == K_INT || kind == K_BOOL)
            *out = cv_int(narrow((uint64_t)i, to));
        else if (kind == K_FLOAT)
            *out = cv_int(to == CT_INT64 ? java_d2l(f) : narrow((uint64_t)java_d2i(f), to));
        else if (kind == K_DEC)
            *out = cv_int(narrow(decimal_low64(text, scale), to));
        else if (java_parse_int(text, to, &i))
            *out = cv_int(i);
        else
            return out_of_range(text, err, errlen);
        return 0;
    case CT_FLOAT32: case CT_FLOAT64: {
        bool fl = to == CT_FLOAT32;
        if (kind == K_INT || kind == K_BOOL) {
            f = fl ? (double)(float)i : (double)i;
        } else if (kind == K_FLOAT) {
            f = fl ? (double)(float)f : f;
        } else if (kind == K_DEC) {
            char *t = arena_alloc(a, strlen(text) + 16);
            sprintf(t, "%sE%d", text, -scale);
            f = fl ? (double)strtof(t, NULL) : strtod(t, NULL);
        } else if (!java_parse_float(text, fl, &f)) {
            return out_of_range(text, err, errlen);
        }
        *out = cv_float(f);
        return 0;
    }
    case CT_BOOLEAN:
        if (kind == K_INT || kind == K_BOOL)
            *out = cv_bool(i != 0);
        else if (kind == K_FLOAT)
            *out = cv_bool(java_d2l(f) != 0);
        else if (kind == K_DEC)
            *out = cv_bool(decimal_low64(text, scale) != 0);
        else
            *out = cv_bool(!strcasecmp(text, "true"));
        return 0;
    case CT_STRING: {
        const char *t;
        if (is_date && kind == K_INT) {
            t = date_text(a, tf_named(s, "org.apache.kafka.connect.data.Date") ? i * 86400000LL : i);
        } else if (kind == K_INT) {
            char *w = arena_alloc(a, 24);
            snprintf(w, 24, "%lld", (long long)i);
            t = w;
        } else if (kind == K_BOOL) {
            t = i ? "true" : "false";
        } else if (kind == K_FLOAT) {
            char *w = arena_alloc(a, 64);
            size_t n = json_java_double(w, 63, f, s->type == CT_FLOAT32);
            w[n] = 0;
            t = w;
        } else if (kind == K_DEC) {
            t = decimal_to_string(a, text, scale);
        } else {
            *out = *v;
            return 0;
        }
        *out = cv_str(t, strlen(t));
        return 0;
    }
    default:
        snprintf(err, errlen, "%s is not supported in the Cast transformation.", tf_type_java(to));
        return -1;
    }
}

static ct_type_t cast_of(const cast_conf_t *c, const char *field, bool *found)
{
    for (size_t k = 0; k < c->n; k++)
        if (!strcmp(c->fields[k], field)) {
            *found = true;
            return c->types[k];
        }
    *found = false;
    return CT_STRING;
}

/* A default value cast into the chain's long-lived arena. */
static int cast_default(arena_t *a, const cs_schema_t *s, ct_type_t to, cs_schema_t *ns, char *err, size_t errlen)
{
    if (!s->def)
        return 0;
    cv_value_t *d = arena_alloc(a, sizeof *d);
    if (cast_value(a, s, s->def, to, d, err, errlen) < 0)
        return -1;
    ns->def = d->null ? NULL : d;
    return 0;
}

/* getOrBuildSchema. */
static const cs_schema_t *cast_schema(const tf_ctx_t *x, const cast_conf_t *c, const cs_schema_t *s, char *err, size_t errlen)
{
    const cs_schema_t *hit = tf_cache_get(x->cache, s->uid, 0);
    if (hit)
        return hit;
    cs_schema_t *ns;
    if (c->whole) {
        ns = cs_new(x->schemas, c->whole_type, s->optional);
        ns->name = s->name;
        ns->version = s->version;
        ns->doc = s->doc;
        memcpy(ns->params, s->params, sizeof ns->params);
        ns->nparams = s->nparams;
    } else {
        if (s->type != CT_STRUCT) {
            snprintf(err, errlen, "Only Struct objects supported for [cast types], found: %s", tf_type_java(s->type));
            return NULL;
        }
        ns = tf_struct_basics(x->schemas, s);
        ns->optional = s->optional;
        for (size_t k = 0; k < s->nfields; k++) {
            const cs_schema_t *fs = s->fields[k].schema;
            bool found;
            ct_type_t to = cast_of(c, s->fields[k].name, &found);
            if (!found) {
                cs_field_add(x->schemas, ns, s->fields[k].name, fs);
                continue;
            }
            cs_schema_t *f = cs_new(x->schemas, to, fs->optional);
            if (cast_default(x->schemas, fs, to, f, err, errlen) < 0)
                return NULL;
            cs_field_add(x->schemas, ns, s->fields[k].name, f);
        }
    }
    if (cast_default(x->schemas, s, ns->type, ns, err, errlen) < 0)
        return NULL;
    tf_cache_put(x->cache, s->uid, 0, ns);
    return ns;
}

static wc_status_t cast_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const cast_conf_t *c = conf;
    const cs_schema_t *s = c->key ? r->ks : r->vs;
    const cv_value_t *v = c->key ? r->key : r->value;
    if (!v || v->null)
        return WC_OK;   /* Cast leaves a null key/value (a tombstone) as it is */
    if (!s) {
        snprintf(err, errlen, "the %s has no schema", c->key ? "key" : "value");
        return WC_PERMANENT;
    }
    const cs_schema_t *ns = cast_schema(x, c, s, err, errlen);
    if (!ns)
        return WC_PERMANENT;
    cv_value_t *nv = arena_alloc(x->a, sizeof *nv);
    if (c->whole) {
        if (cast_value(x->a, s, v, c->whole_type, nv, err, errlen) < 0)
            return WC_PERMANENT;
    } else {
        *nv = cv_list(x->a, s->nfields);
        for (size_t k = 0; k < s->nfields; k++) {
            cv_value_t fv = tf_field_get(s, v, k, c->replace_null);
            bool found;
            ct_type_t to = cast_of(c, s->fields[k].name, &found);
            if (!found)
                nv->u.list.v[k] = fv;
            else if (cast_value(x->a, s->fields[k].schema, &fv, to, &nv->u.list.v[k], err, errlen) < 0)
                return WC_PERMANENT;
        }
    }
    tf_side_set(r, c->key, ns, nv);
    return WC_OK;
}

const tf_type_t tf_cast_key = { "org.apache.kafka.connect.transforms.Cast$Key", cast_opts, cast_configure_key, cast_free,
                                cast_apply };
const tf_type_t tf_cast_value = { "org.apache.kafka.connect.transforms.Cast$Value", cast_opts, cast_configure_value,
                                  cast_free, cast_apply };
