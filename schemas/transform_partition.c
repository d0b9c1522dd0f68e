/* transform_partition.c: Debezium's io.debezium.transforms.partitions.PartitionRouting: the partition of a
 * change event from the hash of some of its fields (partition.payload.fields), with Java's hashCode or
 * Debezium's MurmurHash3 (partition.hash.function), modulo partition.topic.num, as Debezium 3.6.1 computes
 * it, so that walcast and Debezium send an event to the same partition. */
#include "schemas/transform_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schemas/json.h"

typedef struct {
    char ***paths;                /* per field: its dot-separated parts, NULL-terminated */
    char **names;                 /* per field: as configured (for messages) */
    size_t n;
    int32_t num;
    bool murmur;
} part_conf_t;

static const char *const part_opts[] = { "partition.payload.fields", "partition.topic.num", "partition.hash.function",
                                         NULL };

static void part_free(void *p)
{
    part_conf_t *c = p;
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        tf_list_free(c->paths[i]);
        free(c->names[i]);
    }
    free(c->paths);
    free(c->names);
    free(c);
}

/* String.split("\\.") with each part trimmed: trailing empty parts dropped. */
static char **split_path(const char *f)
{
    size_t n = 0, len = strlen(f);
    char **l = xcalloc(len + 2, sizeof *l);
    const char *p = f;
    for (;;) {
        const char *e = strchr(p, '.');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        while (k && isspace((unsigned char)*p)) {
            p++;
            k--;
        }
        while (k && isspace((unsigned char)p[k - 1]))
            k--;
        l[n] = xmalloc(k + 1);
        memcpy(l[n], p, k);
        l[n++][k] = 0;
        if (!e)
            break;
        p = e + 1;
    }
    while (n > 1 && !*l[n - 1]) {
        free(l[--n]);
        l[n] = NULL;
    }
    return l;
}

static int part_configure(const tf_opts_t *o, void **conf, int *headers, char *err, size_t errlen)
{
    part_conf_t *c = xcalloc(1, sizeof *c);
    const char *fields, *num;
    if (tf_opt_required(o, "partition.payload.fields", &fields, err, errlen) < 0 ||
        tf_opt_required(o, "partition.topic.num", &num, err, errlen) < 0)
        goto fail;
    /* Field::notContainEmptyElements */
    for (const char *p = fields;;) {
        const char *e = strchr(p, ',');
        size_t k = e ? (size_t)(e - p) : strlen(p);
        size_t blank = 0;
        while (blank < k && isspace((unsigned char)p[blank]))
            blank++;
        if (blank == k) {
            snprintf(err, errlen, "%s.%s.partition.payload.fields: '%s' has an empty element (a list of fields, e.g. "
                     "change.id,source.table)", o->kind, o->alias, fields);
            goto fail;
        }
        c->paths = xrealloc(c->paths, (c->n + 1) * sizeof *c->paths);
        c->names = xrealloc(c->names, (c->n + 1) * sizeof *c->names);
        char *item = xmalloc(k + 1);
        memcpy(item, p, k);
        item[k] = 0;
        c->paths[c->n] = split_path(item);
        c->names[c->n++] = item;
        if (!e)
            break;
        p = e + 1;
    }
    char *end;
    long v = strtol(num, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == num || *end || v <= 0 || v > INT32_MAX) {
        snprintf(err, errlen, "%s.%s.partition.topic.num: '%s' is not a positive integer (the number of partitions of "
                 "the topics it routes)", o->kind, o->alias, num);
        goto fail;
    }
    c->num = (int32_t)v;
    static const char *const fns[] = { "java", "murmur", NULL };
    int k;
    if (tf_opt_enum(o, "partition.hash.function", "java", fns, &k, err, errlen) < 0)
        goto fail;
    c->murmur = k == 1;
    *conf = c;
    return 0;
fail:
    part_free(c);
    return -1;
}

/* ---- Java's hashCode of a Connect value, Debezium's MurmurHash3 ---- */

static int32_t java_long_hash(int64_t v)
{
    uint64_t u = (uint64_t)v;
    return (int32_t)(uint32_t)(u ^ (u >> 32));
}

/* BigDecimal.hashCode: 31 * BigInteger.hashCode() (magnitude's 32-bit words, times the sign) + scale, from
 * the big-endian two's complement unscaled value. */
static int32_t java_decimal_hash(const unsigned char *p, size_t n, int scale)
{
    bool neg = n && (p[0] & 0x80);
    unsigned char *mag = xmalloc(n ? n : 1);
    memcpy(mag, p, n);
    if (neg) {   /* two's complement negate */
        unsigned carry = 1;
        for (size_t i = n; i-- > 0;) {
            unsigned v = (unsigned)(unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
    }
    size_t z = 0;
    while (z < n && !mag[z])
        z++;
    uint32_t h = 0;
    size_t len = n - z, first = len % 4 ? len % 4 : 4;
    for (size_t i = z; i < n;) {
        size_t take = i == z ? first : 4;
        uint32_t w = 0;
        for (size_t k = 0; k < take; k++)
            w = (w << 8) | mag[i + k];
        h = 31 * h + w;
        i += take;
    }
    free(mag);
    int32_t bi = len ? (int32_t)(neg ? 0 - h : h) : 0;
    return (int32_t)(31 * (uint32_t)bi + (uint32_t)scale);
}

typedef struct {
    uint64_t h1, h2, k1, k2, c1, c2;
} mm_state_t;

static uint64_t rotl(uint64_t v, int r)
{
    return (v << r) | (v >> (64 - r));
}

static void mm_bmix(mm_state_t *s)
{
    s->k1 *= s->c1;
    s->k1 = rotl(s->k1, 23);
    s->k1 *= s->c2;
    s->h1 ^= s->k1;
    s->h1 += s->h2;
    s->h2 = rotl(s->h2, 41);
    s->k2 *= s->c2;
    s->k2 = rotl(s->k2, 23);
    s->k2 *= s->c1;
    s->h2 ^= s->k2;
    s->h2 += s->h1;
    s->h1 = s->h1 * 3 + 0x52dce729;
    s->h2 = s->h2 * 3 + 0x38495ab5;
    s->c1 = s->c1 * 5 + 0x7b7d159c;
    s->c2 = s->c2 * 5 + 0x6bce6396;
}

static uint64_t mm_fmix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* Debezium's MurmurHash3.MurmurHash3_x64_32(bytes, 9001) (the x64 64-bit variant's high word); the tail
 * bytes are sign-extended, as Java's (long) of a byte. Strings hash their UTF-8 bytes. */
static int32_t murmur32(const unsigned char *key, size_t n)
{
    mm_state_t s = { 0x9368e53c2f6af274ULL ^ 9001, 0x586dcd208f7cd3fdULL ^ 9001, 0, 0, 0x87c37b91114253d5ULL,
                     0x4cf5ad432745937fULL };
    for (size_t i = 0; i < n / 16; i++) {
        s.k1 = s.k2 = 0;
        for (int b = 7; b >= 0; b--) {
            s.k1 = (s.k1 << 8) | key[i * 16 + (size_t)b];
            s.k2 = (s.k2 << 8) | key[i * 16 + 8 + (size_t)b];
        }
        mm_bmix(&s);
    }
    s.k1 = s.k2 = 0;
    size_t tail = n & ~(size_t)15, rest = n & 15;
    for (size_t i = rest; i-- > 0;) {
        uint64_t v = (uint64_t)(int64_t)(signed char)key[tail + i];
        if (i >= 8)
            s.k2 ^= v << (8 * (i - 8));
        else
            s.k1 ^= v << (8 * i);
    }
    if (rest)
        mm_bmix(&s);
    s.h2 ^= (uint64_t)n;
    s.h1 += s.h2;
    s.h2 += s.h1;
    s.h1 = mm_fmix(s.h1);
    s.h2 = mm_fmix(s.h2);
    s.h1 += s.h2;
    return (int32_t)(uint32_t)(s.h1 >> 32);
}

/* MurmurHash3.hash(int): the four bytes of a hashCode, little-endian. */
static int32_t murmur_int(int32_t h)
{
    uint32_t u = (uint32_t)h;
    unsigned char b[4] = { (unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16), (unsigned char)(u >> 24) };
    return murmur32(b, 4);
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    if (f != f)
        return 0x7fc00000u;   /* floatToIntBits: one NaN */
    memcpy(&u, &f, sizeof u);
    return u;
}

static int64_t double_bits(double d)
{
    uint64_t u;
    if (d != d)
        return 0x7ff8000000000000LL;
    memcpy(&u, &d, sizeof u);
    return (int64_t)u;
}

/* The hash PartitionRouting takes of one value (Debezium's Java objects: Integer, Long, String, ByteBuffer,
 * BigDecimal, java.util.Date, …); -1 for a type walcast does not hash (Struct, List, Map). */
static int value_hash(const part_conf_t *c, const cs_schema_t *s, const cv_value_t *v, int32_t *out)
{
    int32_t h;
    switch (s->type) {
    case CT_INT8: case CT_INT16:
        h = (int32_t)v->u.i;
        break;
    case CT_INT32:
        h = tf_named(s, "org.apache.kafka.connect.data.Date") ? java_long_hash(v->u.i * 86400000LL)
          : (int32_t)v->u.i;
        break;
    case CT_INT64:
        h = java_long_hash(v->u.i);
        break;
    case CT_FLOAT32:
        h = (int32_t)float_bits((float)v->u.f);
        break;
    case CT_FLOAT64:
        h = java_long_hash(double_bits(v->u.f));
        break;
    case CT_BOOLEAN:
        h = v->u.b ? 1231 : 1237;
        break;
    case CT_STRING:
        *out = c->murmur ? murmur32((const unsigned char *)v->u.s.p, v->u.s.n)
                         : json_java_string_hash(v->u.s.p, v->u.s.n);
        return 0;
    case CT_BYTES:
        if (tf_named(s, "org.apache.kafka.connect.data.Decimal")) {
            const char *sc = cs_param_get(s, "scale");
            h = java_decimal_hash((const unsigned char *)v->u.s.p, v->u.s.n, sc ? atoi(sc) : 0);
        } else {   /* ByteBuffer.hashCode */
            uint32_t b = 1;
            for (size_t i = v->u.s.n; i-- > 0;)
                b = 31 * b + (uint32_t)(int32_t)(signed char)v->u.s.p[i];
            h = (int32_t)b;
        }
        break;
    default:
        return -1;
    }
    *out = c->murmur ? murmur_int(h) : h;
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* The envelope's op ("" when it has none). */
static const char *envelope_op(const cs_schema_t *s, const cv_value_t *v, size_t *n)
{
    int i = cs_field_index(s, "op");
    *n = 0;
    if (i < 0 || s->fields[i].schema->type != CT_STRING)
        return "";
    cv_value_t o = tf_field_get(s, v, (size_t)i, false);
    if (o.null)
        return "";
    *n = o.u.s.n;
    return o.u.s.p;
}

static wc_status_t part_apply(const tf_ctx_t *x, const void *conf, tf_rec_t *r, bool *drop, char *err, size_t errlen)
{
    const part_conf_t *c = conf;
    const cs_schema_t *vs = r->vs;
    const cv_value_t *env = r->value;
    if (!env || env->null || !vs || vs->type != CT_STRUCT || !vs->name || !ends_with(vs->name, ".Envelope"))
        return WC_OK;   /* a tombstone or no change event: as it is */
    size_t oplen;
    const char *op = envelope_op(vs, env, &oplen);
    if (oplen == 1 && (*op == 't' || *op == 'm'))
        return WC_OK;
    uint32_t sum = 0;
    bool any = false;
    for (size_t f = 0; f < c->n; f++) {
        char **parts = c->paths[f];
        const cs_schema_t *s = vs;
        const cv_value_t *v = env;
        size_t k = 0;
        bool absent = false;
        for (; parts[k + 1]; k++) {
            const char *name = parts[k];
            if (!strcmp(name, "change")) {
                if (cs_field_index(vs, "op") < 0) {   /* envelope.getString("op"): DataException, not used */
                    absent = true;
                    break;
                }
                name = oplen == 1 && *op == 'd' ? "before" : "after";
            }
            int i = cs_field_index(s, name);
            if (i < 0 || s->fields[i].schema->type != CT_STRUCT) {   /* Struct.getStruct: DataException, not used */
                absent = true;
                break;
            }
            cv_value_t *sub = arena_alloc(x->a, sizeof *sub);
            *sub = tf_field_get(s, v, (size_t)i, false);
            if (sub->null) {
                snprintf(err, errlen, "Unprocessable message: %s of partition.payload.fields goes through %s, which is null "
                         "in this record (Debezium: NullPointerException)", c->names[f], name);
                return WC_PERMANENT;
            }
            s = s->fields[i].schema;
            v = sub;
        }
        if (absent)
            continue;
        int i = cs_field_index(s, parts[k]);
        if (i < 0)
            continue;
        cv_value_t fv = tf_field_get(s, v, (size_t)i, true);
        if (fv.null)
            continue;
        int32_t h;
        if (value_hash(c, s->fields[i].schema, &fv, &h) < 0) {
            snprintf(err, errlen, "Unprocessable message: field %s of partition.payload.fields is a %s, which walcast "
                     "does not hash (Debezium hashes the Java object); name a field of a simple type",
                     c->names[f], tf_type_java(s->fields[i].schema->type));
            return WC_PERMANENT;
        }
        sum += (uint32_t)h;
        any = true;
    }
    if (!any)
        return WC_OK;
    uint32_t norm = sum & 0x7fffffffu;
    if (norm == 0x7fffffffu)
        norm = 0;
    r->has_partition = true;
    r->partition = (int32_t)(norm % (uint32_t)c->num);
    return WC_OK;
}

const tf_type_t tf_dbz_partition = { "io.debezium.transforms.partitions.PartitionRouting", part_opts, part_configure,
                                     part_free, part_apply };
