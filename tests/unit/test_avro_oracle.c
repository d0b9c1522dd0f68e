/* test_avro_oracle.c: avro-c as the oracle of the sink's own Avro decoder (schemas/avro_dec.c, through
 * sinks/envelope.c). Random Debezium envelopes over schemas of every type the envelope uses are encoded by
 * avro-c, decoded by walcast and compared field by field with what avro-c reads back; truncated and corrupted
 * bytes must fail cleanly where avro-c fails. */
#include "testutil.h"

#include <avro.h>
#include <math.h>

#include "sinks/dialect.h"
#include "sinks/envelope.h"

/* The row schemas (the key is the same record, registered under its own id). */
static const char *const rows[] = {
    /* primitives, Connect's int8/int16 */
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"t.prim\",\"fields\":["
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i8\",\"type\":{\"type\":\"int\",\"connect.type\":\"int8\"}},"
    "{\"name\":\"i16\",\"type\":{\"type\":\"int\",\"connect.type\":\"int16\"}},"
    "{\"name\":\"i\",\"type\":\"int\"},{\"name\":\"l\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"y\",\"type\":\"bytes\"},"
    "{\"name\":\"ob\",\"type\":[\"null\",\"boolean\"],\"default\":null},"
    "{\"name\":\"oi\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"ol\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"of\",\"type\":[\"null\",\"float\"],\"default\":null},"
    "{\"name\":\"od\",\"type\":[\"null\",\"double\"],\"default\":null},"
    "{\"name\":\"os\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"oy\",\"type\":[\"null\",\"bytes\"],\"default\":null}]}",
    /* logical types: Connect's names and Avro's logicalType, Debezium's time and data types */
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"t.logical\",\"fields\":["
    "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"scale\":2,\"precision\":10,\"connect.version\":1,"
    "\"connect.parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},"
    "\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}},"
    "{\"name\":\"odec\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":5,\"scale\":3}],\"default\":null},"
    "{\"name\":\"cdate\",\"type\":{\"type\":\"int\",\"connect.version\":1,\"connect.name\":\"org.apache.kafka.connect.data.Date\",\"logicalType\":\"date\"}},"
    "{\"name\":\"ctime\",\"type\":{\"type\":\"int\",\"connect.version\":1,\"connect.name\":\"org.apache.kafka.connect.data.Time\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"cts\",\"type\":[\"null\",{\"type\":\"long\",\"connect.version\":1,\"connect.name\":\"org.apache.kafka.connect.data.Timestamp\",\"logicalType\":\"timestamp-millis\"}],\"default\":null},"
    "{\"name\":\"adate\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
    "{\"name\":\"atime\",\"type\":{\"type\":\"int\",\"logicalType\":\"time-millis\"}},"
    "{\"name\":\"ats\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}},"
    "{\"name\":\"ddate\",\"type\":{\"type\":\"int\",\"connect.version\":1,\"connect.name\":\"io.debezium.time.Date\"}},"
    "{\"name\":\"dmts\",\"type\":[\"null\",{\"type\":\"long\",\"connect.version\":1,\"connect.name\":\"io.debezium.time.MicroTimestamp\"}],\"default\":null},"
    "{\"name\":\"dmt\",\"type\":{\"type\":\"long\",\"connect.version\":1,\"connect.name\":\"io.debezium.time.MicroTime\"}},"
    "{\"name\":\"dzts\",\"type\":[\"null\",{\"type\":\"string\",\"connect.version\":1,\"connect.name\":\"io.debezium.time.ZonedTimestamp\"}],\"default\":null},"
    "{\"name\":\"uuid\",\"type\":{\"type\":\"string\",\"connect.version\":1,\"connect.name\":\"io.debezium.data.Uuid\"}},"
    "{\"name\":\"js\",\"type\":[\"null\",{\"type\":\"string\",\"connect.version\":1,\"connect.name\":\"io.debezium.data.Json\"}],\"default\":null},"
    "{\"name\":\"en\",\"type\":{\"type\":\"string\",\"connect.version\":1,\"connect.parameters\":{\"allowed\":\"a,b\"},\"connect.name\":\"io.debezium.data.Enum\"}},"
    "{\"name\":\"vsd\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"VariableScaleDecimal\",\"namespace\":\"io.debezium.data\",\"fields\":["
    "{\"name\":\"scale\",\"type\":\"int\"},{\"name\":\"value\",\"type\":\"bytes\"}],\"connect.doc\":\"Variable scaled decimal\","
    "\"connect.version\":1,\"connect.name\":\"io.debezium.data.VariableScaleDecimal\"}],\"default\":null}]}",
    /* arrays, maps (string keys and AvroData's MapEntry arrays), nested and referenced records, enum, fixed */
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"t.cont\",\"fields\":["
    "{\"name\":\"ai\",\"type\":{\"type\":\"array\",\"items\":\"int\"}},"
    "{\"name\":\"ans\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"string\"]}},"
    "{\"name\":\"ml\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
    "{\"name\":\"mp\",\"type\":{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":\"Pt\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"y\",\"type\":\"double\"}]}}},"
    "{\"name\":\"me\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"MapEntry\","
    "\"namespace\":\"io.confluent.connect.avro\",\"fields\":[{\"name\":\"key\",\"type\":\"int\"},"
    "{\"name\":\"value\",\"type\":[\"null\",\"string\"]}]}}},"
    "{\"name\":\"nest\",\"type\":{\"type\":\"record\",\"name\":\"Outer\",\"fields\":["
    "{\"name\":\"in\",\"type\":{\"type\":\"record\",\"name\":\"Inner\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
    "{\"name\":\"p\",\"type\":[\"null\",\"Pt\"]}]}},{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}}]}},"
    "{\"name\":\"pt\",\"type\":[\"null\",\"Pt\"],\"default\":null},"
    "{\"name\":\"color\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
    "{\"name\":\"md5\",\"type\":{\"type\":\"fixed\",\"name\":\"Md5\",\"size\":16}},"
    "{\"name\":\"aal\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":\"long\"}}},"
    "{\"name\":\"oad\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"double\"}],\"default\":null},"
    "{\"name\":\"omb\",\"type\":[{\"type\":\"map\",\"values\":\"boolean\"},\"null\"]}]}",
    /* unions beyond [null, T]: AvroData's io.confluent.connect.avro.Union structs */
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"t.union\",\"fields\":["
    "{\"name\":\"id\",\"type\":\"long\"},"
    "{\"name\":\"nsl\",\"type\":[\"null\",\"string\",\"long\"],\"default\":null},"
    "{\"name\":\"sn\",\"type\":[\"string\",\"null\"]},"
    "{\"name\":\"sl\",\"type\":[\"string\",\"long\"]},"
    "{\"name\":\"rec\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Email\",\"fields\":[{\"name\":\"addr\",\"type\":\"string\"}]},"
    "{\"type\":\"record\",\"name\":\"Phone\",\"namespace\":\"t.other\",\"fields\":[{\"name\":\"num\",\"type\":\"long\"}]}],\"default\":null},"
    "{\"name\":\"isn\",\"type\":[\"int\",\"string\",\"null\"]},"
    "{\"name\":\"als\",\"type\":{\"type\":\"array\",\"items\":[\"long\",\"string\"]}},"
    "{\"name\":\"mix\",\"type\":[\"boolean\",\"double\",\"bytes\",\"null\",{\"type\":\"enum\",\"name\":\"Dir\",\"symbols\":[\"UP\",\"DOWN\"]},"
    "{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"map\",\"values\":\"string\"},{\"type\":\"fixed\",\"name\":\"Two\",\"size\":2}]}]}",
};
#define NROWS (sizeof rows / sizeof rows[0])

static const char *const source_text =
    "{\"type\":\"record\",\"name\":\"Source\",\"namespace\":\"io.debezium.connector.postgresql\",\"fields\":["
    "{\"name\":\"version\",\"type\":\"string\"},{\"name\":\"connector\",\"type\":\"string\"},"
    "{\"name\":\"name\",\"type\":\"string\"},{\"name\":\"ts_ms\",\"type\":\"long\"},"
    "{\"name\":\"db\",\"type\":\"string\"},{\"name\":\"schema\",\"type\":\"string\"},{\"name\":\"table\",\"type\":\"string\"},"
    "{\"name\":\"txId\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"lsn\",\"type\":[\"null\",\"long\"],\"default\":null}],"
    "\"connect.name\":\"io.debezium.connector.postgresql.Source\"}";

/* Envelope of rows[i]: before, after, source, op, ts_ms (as AvroConverter writes Debezium's envelope). */
static char *envelope_text(size_t i)
{
    char ns[32];
    const char *p = strstr(rows[i], "\"namespace\":\"") + 13;
    snprintf(ns, sizeof ns, "%.*s", (int)(strchr(p, '"') - p), p);
    size_t n = strlen(rows[i]) + strlen(source_text) + 512;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"%s\",\"fields\":["
             "{\"name\":\"before\",\"type\":[\"null\",%s],\"default\":null},"
             "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],\"default\":null},"
             "{\"name\":\"source\",\"type\":%s},{\"name\":\"op\",\"type\":\"string\"},"
             "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"],\"default\":null}],"
             "\"connect.version\":2,\"connect.name\":\"%s.Envelope\"}",
             ns, rows[i], source_text, ns);
    return s;
}

/* Registry: id 2i+1 is rows[i] (the key), id 2i+2 its envelope. */
static char *registry[2 * NROWS + 1];
static int fetches;

static int fetch(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    (void)ctx;
    if (id < 1 || id > (int32_t)(2 * NROWS)) {
        snprintf(err, errlen, "schema %d not found", id);
        return -1;
    }
    fetches++;
    buf_puts(out, registry[id]);
    return 0;
}

/* ---- random values through avro-c's generic interface ---- */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t rnd_int(void)
{
    static const int64_t edge[] = { 0, 1, -1, 63, -64, 64, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 1700000000000 };
    uint64_t r = rnd();
    if (r % 4 == 0)
        return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    return (int64_t)rnd() >> (rnd() % 64);
}

static double rnd_double(void)
{
    static const double edge[] = { 0.0, -0.0, 1.0, -1.5, 1e308, -1e-308, 5e-324, INFINITY, -INFINITY };
    uint64_t r = rnd();
    if (r % 5 == 0)
        return edge[(r >> 8) % (sizeof edge / sizeof edge[0])];
    if (r % 5 == 1)
        return NAN;
    return ((double)(int64_t)rnd() / 1e6) / (double)(1 + rnd() % 1000);
}

static void gen(avro_value_t *v, int depth)
{
    avro_schema_t s = avro_value_get_schema(v);
    char buf[64];
    size_t n;
    avro_value_t c;
    switch (avro_value_get_type(v)) {
    case AVRO_NULL:
        avro_value_set_null(v);
        return;
    case AVRO_BOOLEAN:
        avro_value_set_boolean(v, (int)(rnd() & 1));
        return;
    case AVRO_INT32:
        avro_value_set_int(v, (int32_t)rnd_int());
        return;
    case AVRO_INT64:
        avro_value_set_long(v, rnd_int());
        return;
    case AVRO_FLOAT:
        avro_value_set_float(v, (float)rnd_double());
        return;
    case AVRO_DOUBLE:
        avro_value_set_double(v, rnd_double());
        return;
    case AVRO_STRING:
        n = rnd() % 24;
        for (size_t i = 0; i < n; i++)   /* any bytes but NUL: neither side checks UTF-8 */
            buf[i] = (char)(1 + rnd() % 255);
        buf[n] = '\0';
        avro_value_set_string_len(v, buf, n + 1);
        return;
    case AVRO_BYTES:
        n = rnd() % 20;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)rnd();
        avro_value_set_bytes(v, buf, n);
        return;
    case AVRO_FIXED:
        n = (size_t)avro_schema_fixed_size(s);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)rnd();
        avro_value_set_fixed(v, buf, n);
        return;
    case AVRO_ENUM:
        avro_value_set_enum(v, (int)(rnd() % (uint64_t)avro_schema_enum_number_of_symbols(s)));
        return;
    case AVRO_RECORD:
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(v, i, &c, NULL);
            gen(&c, depth + 1);
        }
        return;
    case AVRO_ARRAY:
        n = depth > 4 ? 0 : rnd() % 5;
        for (size_t i = 0; i < n; i++) {
            avro_value_append(v, &c, NULL);
            gen(&c, depth + 1);
        }
        return;
    case AVRO_MAP:
        n = depth > 4 ? 0 : rnd() % 5;
        for (size_t i = 0; i < n; i++) {
            snprintf(buf, sizeof buf, "k%zu-%u", i, (unsigned)(rnd() % 1000));
            avro_value_add(v, buf, &c, NULL, NULL);
            gen(&c, depth + 1);
        }
        return;
    case AVRO_UNION:
        avro_value_set_branch(v, (int)(rnd() % avro_schema_union_size(s)), &c);
        gen(&c, depth + 1);
        return;
    default:
        fail_msg("unexpected avro-c type %d", avro_value_get_type(v));
    }
}

/* ---- avro-c's reading compared with walcast's ---- */
static bool is_null_schema(avro_schema_t s)
{
    return avro_typeof(s) == AVRO_NULL;
}

/* AvroData's field name for a union member (records and enums by their short name). */
static const char *member_name(avro_schema_t s)
{
    switch (avro_typeof(s)) {
    case AVRO_RECORD:
    case AVRO_ENUM: {
        const char *n = avro_schema_name(s), *dot = strrchr(n, '.');
        return dot ? dot + 1 : n;
    }
    case AVRO_FIXED: return "fixed";
    default: return avro_schema_type_name(s);
    }
}

static bool double_same(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

static void cmp(avro_value_t *av, const cs_schema_t *cs, const cv_value_t *cv, const char *path)
{
    avro_schema_t s = avro_value_get_schema(av);
    const char *p;
    const void *bp;
    size_t n;
    int32_t i32;
    int64_t i64;
    float f;
    double d;
    int b;
    char sub[256];
    avro_value_t c;
    switch (avro_value_get_type(av)) {
    case AVRO_NULL:
        if (!cv->null)
            fail_msg("%s: avro-c null, walcast not", path);
        return;
    case AVRO_BOOLEAN:
        avro_value_get_boolean(av, &b);
        if (cv->null || cs->type != CT_BOOLEAN || cv->u.b != (b != 0))
            fail_msg("%s: boolean %d", path, b);
        return;
    case AVRO_INT32:
        avro_value_get_int(av, &i32);
        if (cv->null || cs->type > CT_INT32 || cv->u.i != i32)
            fail_msg("%s: int %d, walcast %lld (%s)", path, i32, (long long)cv->u.i, ct_type_name(cs->type));
        return;
    case AVRO_INT64:
        avro_value_get_long(av, &i64);
        if (cv->null || cs->type != CT_INT64 || cv->u.i != i64)
            fail_msg("%s: long %lld, walcast %lld", path, (long long)i64, (long long)cv->u.i);
        return;
    case AVRO_FLOAT:
        avro_value_get_float(av, &f);
        if (cv->null || cs->type != CT_FLOAT32 || !double_same((double)f, cv->u.f))
            fail_msg("%s: float %g, walcast %g", path, (double)f, cv->u.f);
        return;
    case AVRO_DOUBLE:
        avro_value_get_double(av, &d);
        if (cv->null || cs->type != CT_FLOAT64 || !double_same(d, cv->u.f))
            fail_msg("%s: double %g, walcast %g", path, d, cv->u.f);
        return;
    case AVRO_STRING:
        avro_value_get_string(av, &p, &n);
        if (cv->null || cs->type != CT_STRING || cv->u.s.n != n - 1 || memcmp(cv->u.s.p, p, n - 1))
            fail_msg("%s: string of %zu bytes, walcast %zu", path, n - 1, cv->u.s.n);
        return;
    case AVRO_BYTES:
    case AVRO_FIXED:
        if (avro_value_get_type(av) == AVRO_BYTES)
            avro_value_get_bytes(av, &bp, &n);
        else
            avro_value_get_fixed(av, &bp, &n);
        if (cv->null || cs->type != CT_BYTES || cv->u.s.n != n || (n && memcmp(cv->u.s.p, bp, n)))
            fail_msg("%s: %zu bytes, walcast %zu", path, n, cv->u.s.n);
        return;
    case AVRO_ENUM:
        avro_value_get_enum(av, &b);
        p = avro_schema_enum_get(s, b);
        if (cv->null || cs->type != CT_STRING || cv->u.s.n != strlen(p) || memcmp(cv->u.s.p, p, cv->u.s.n))
            fail_msg("%s: enum %s", path, p);
        return;
    case AVRO_RECORD:
        avro_value_get_size(av, &n);
        if (cv->null || cs->type != CT_STRUCT || cs->nfields != n || cv->u.list.n != n)
            fail_msg("%s: record of %zu fields, walcast %s of %zu", path, n, ct_type_name(cs->type), cs->nfields);
        for (size_t i = 0; i < n; i++) {
            const char *name;
            avro_value_get_by_index(av, i, &c, &name);
            assert_string_equal(cs->fields[i].name, name);
            snprintf(sub, sizeof sub, "%s.%s", path, name);
            cmp(&c, cs->fields[i].schema, &cv->u.list.v[i], sub);
        }
        return;
    case AVRO_ARRAY: {
        avro_value_get_size(av, &n);
        avro_schema_t it = avro_schema_array_items(s);
        /* AvroData reads an array of io.confluent.connect.avro.MapEntry records as a Connect map */
        bool entries = avro_typeof(it) == AVRO_RECORD && !strcmp(avro_schema_name(it), "MapEntry");
        if (cv->null || cs->type != (entries ? CT_MAP : CT_ARRAY) || cv->u.list.n != (entries ? 2 * n : n))
            fail_msg("%s: array of %zu, walcast %s of %zu", path, n, ct_type_name(cs->type), cv->u.list.n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(av, i, &c, NULL);
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            if (entries) {
                avro_value_t k, v;
                avro_value_get_by_index(&c, 0, &k, NULL);
                avro_value_get_by_index(&c, 1, &v, NULL);
                cmp(&k, cs->keys, &cv->u.list.v[2 * i], sub);
                cmp(&v, cs->items, &cv->u.list.v[2 * i + 1], sub);
            } else
                cmp(&c, cs->items, &cv->u.list.v[i], sub);
        }
        return;
    }
    case AVRO_MAP: {
        /* avro-c keeps map keys as C strings (cut at a NUL) and one entry per key (the last read); walcast keeps
         * the wire's pairs, so each avro-c entry is the last walcast pair with that key (they differ only on
         * corrupted bytes: no writer repeats a key) */
        avro_value_get_size(av, &n);
        if (cv->null || cs->type != CT_MAP || cv->u.list.n % 2)
            fail_msg("%s: map of %zu, walcast %s", path, n, ct_type_name(cs->type));
        size_t distinct = 0;
        for (size_t j = 0; j < cv->u.list.n; j += 2) {
            size_t kl = strnlen(cv->u.list.v[j].u.s.p, cv->u.list.v[j].u.s.n), m = j + 2;
            for (; m < cv->u.list.n; m += 2)
                if (strnlen(cv->u.list.v[m].u.s.p, cv->u.list.v[m].u.s.n) == kl &&
                    !memcmp(cv->u.list.v[m].u.s.p, cv->u.list.v[j].u.s.p, kl))
                    break;
            distinct += m >= cv->u.list.n;
        }
        if (distinct != n)
            fail_msg("%s: map of %zu, walcast %zu keys", path, n, distinct);
        for (size_t i = 0; i < n; i++) {
            const char *key;
            avro_value_get_by_index(av, i, &c, &key);
            size_t j = cv->u.list.n;
            while (j >= 2 && (strnlen(cv->u.list.v[j - 2].u.s.p, cv->u.list.v[j - 2].u.s.n) != strlen(key) ||
                              memcmp(cv->u.list.v[j - 2].u.s.p, key, strlen(key))))
                j -= 2;
            if (j < 2)
                fail_msg("%s: map key %s not in walcast's map", path, key);
            snprintf(sub, sizeof sub, "%s{%s}", path, key);
            cmp(&c, cs->items, &cv->u.list.v[j - 1], sub);
        }
        return;
    }
    case AVRO_UNION: {
        int disc;
        avro_value_get_discriminant(av, &disc);
        avro_value_get_current_branch(av, &c);
        avro_schema_t bs = avro_schema_union_branch(s, disc);
        size_t nb = avro_schema_union_size(s);
        int null_at = -1;
        for (size_t i = 0; i < nb; i++)
            if (is_null_schema(avro_schema_union_branch(s, i)))
                null_at = (int)i;
        if (is_null_schema(bs)) {
            if (!cv->null)
                fail_msg("%s: union branch null, walcast not null", path);
            return;
        }
        if (nb == 2 && null_at >= 0) {   /* [null, T] or [T, null]: an optional T */
            assert_true(cs->optional);
            cmp(&c, cs, cv, path);
            return;
        }
        /* AvroData: struct io.confluent.connect.avro.Union, one optional field per non-null member */
        if (cv->null || cs->type != CT_STRUCT || !cs->name || strcmp(cs->name, "io.confluent.connect.avro.Union"))
            fail_msg("%s: union of %zu, walcast %s %s", path, nb, ct_type_name(cs->type), cs->name ? cs->name : "");
        assert_int_equal(cs->optional, null_at >= 0);
        assert_int_equal(cs->nfields, nb - (null_at >= 0));
        size_t fi = (size_t)disc - (null_at >= 0 && null_at < disc);
        for (size_t i = 0; i < cs->nfields; i++)
            if (i != fi && !cv->u.list.v[i].null)
                fail_msg("%s: union member %s set besides %s", path, cs->fields[i].name, cs->fields[fi].name);
        assert_string_equal(cs->fields[fi].name, member_name(bs));
        assert_true(cs->fields[fi].schema->optional);
        snprintf(sub, sizeof sub, "%s<%s>", path, cs->fields[fi].name);
        cmp(&c, cs->fields[fi].schema, &cv->u.list.v[fi], sub);
        return;
    }
    default:
        fail_msg("%s: unexpected avro-c type %d", path, avro_value_get_type(av));
    }
}

typedef struct oracle {
    avro_schema_t ks, vs;
    avro_value_iface_t *kc, *vc;
    avro_value_t kv, vv;     /* generated */
    avro_value_t kr, vr;     /* read back */
} oracle_t;

static void oracle_open(oracle_t *o, size_t i)
{
    assert_int_equal(avro_schema_from_json_length(registry[2 * i + 1], strlen(registry[2 * i + 1]), &o->ks), 0);
    if (avro_schema_from_json_length(registry[2 * i + 2], strlen(registry[2 * i + 2]), &o->vs))
        fail_msg("avro-c: %s", avro_strerror());
    o->kc = avro_generic_class_from_schema(o->ks);
    o->vc = avro_generic_class_from_schema(o->vs);
    assert_int_equal(avro_generic_value_new(o->kc, &o->kv), 0);
    assert_int_equal(avro_generic_value_new(o->vc, &o->vv), 0);
    assert_int_equal(avro_generic_value_new(o->kc, &o->kr), 0);
    assert_int_equal(avro_generic_value_new(o->vc, &o->vr), 0);
}

static void oracle_close(oracle_t *o)
{
    avro_value_decref(&o->kv);
    avro_value_decref(&o->vv);
    avro_value_decref(&o->kr);
    avro_value_decref(&o->vr);
    avro_value_iface_decref(o->kc);
    avro_value_iface_decref(o->vc);
    avro_schema_decref(o->ks);
    avro_schema_decref(o->vs);
}

/* A random envelope: after present unless a delete, op matching before/after. */
static void gen_envelope(avro_value_t *env)
{
    avro_value_reset(env);
    gen(env, 0);
    avro_value_t before, after, br, op;
    avro_value_get_by_name(env, "before", &before, NULL);
    avro_value_get_by_name(env, "after", &after, NULL);
    avro_value_get_by_name(env, "op", &op, NULL);
    int kind = (int)(rnd() % 4);   /* 0 c, 1 u, 2 d, 3 r */
    if (kind == 0 || kind == 3) {
        avro_value_set_branch(&before, 0, &br);
        avro_value_set_null(&br);
    }
    if (kind == 2) {
        avro_value_set_branch(&after, 0, &br);
        avro_value_set_null(&br);
        avro_value_set_branch(&before, 1, &br);
        gen(&br, 1);
    } else {
        avro_value_set_branch(&after, 1, &br);
        gen(&br, 1);
    }
    static const char *const ops[] = { "c", "u", "d", "r" };
    avro_value_set_string(&op, ops[kind]);
}

static size_t encode(avro_value_t *v, int32_t id, char *out, size_t cap)
{
    out[0] = 0;
    out[1] = (char)(id >> 24), out[2] = (char)(id >> 16), out[3] = (char)(id >> 8), out[4] = (char)id;
    avro_writer_t w = avro_writer_memory(out + 5, (int64_t)cap - 5);
    if (avro_value_write(w, v))
        fail_msg("avro-c write: %s", avro_strerror());
    size_t n = 5 + (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    return n;
}

static void read_back(avro_value_t *dst, const char *p, size_t n)
{
    avro_reader_t r = avro_reader_memory(p + 5, (int64_t)n - 5);
    avro_value_reset(dst);
    if (avro_value_read(r, dst))
        fail_msg("avro-c read: %s", avro_strerror());
    char more;
    if (avro_read(r, &more, 1) == 0)   /* walcast refuses bytes after the body: avro-c must have used them all */
        fail_msg("avro-c read the body without its last bytes");
    avro_reader_free(r);
}

/* walcast's event against avro-c's reading of the same key and value bytes */
static void check_event(oracle_t *o, const env_event_t *ev, bool with_key)
{
    avro_value_t c, br, src;
    if (with_key) {
        assert_non_null(ev->key_schema);
        cmp(&o->kr, ev->key_schema, &ev->key, "key");
    }
    const char *op;
    size_t n;
    avro_value_get_by_name(&o->vr, "op", &c, NULL);
    avro_value_get_string(&c, &op, &n);
    assert_int_equal(ev->op, op[0]);
    assert_non_null(ev->row_schema);
    avro_value_get_by_name(&o->vr, "after", &c, NULL);
    avro_value_get_current_branch(&c, &br);
    assert_int_equal(ev->has_after, avro_value_get_type(&br) != AVRO_NULL);
    if (ev->has_after)
        cmp(&br, ev->row_schema, &ev->after, "after");
    avro_value_get_by_name(&o->vr, "before", &c, NULL);
    avro_value_get_current_branch(&c, &br);
    assert_int_equal(ev->has_before, avro_value_get_type(&br) != AVRO_NULL);
    if (ev->has_before)
        cmp(&br, ev->row_schema, &ev->before, "before");
    avro_value_get_by_name(&o->vr, "source", &src, NULL);
    const char *s;
    avro_value_get_by_name(&src, "name", &c, NULL);
    avro_value_get_string(&c, &s, &n);
    assert_string_equal(ev->source.name, s);
    avro_value_get_by_name(&src, "db", &c, NULL);
    avro_value_get_string(&c, &s, &n);
    assert_string_equal(ev->source.db, s);
    avro_value_get_by_name(&src, "table", &c, NULL);
    avro_value_get_string(&c, &s, &n);
    assert_string_equal(ev->source.table, s);
    int64_t l;
    avro_value_get_by_name(&src, "ts_ms", &c, NULL);
    avro_value_get_long(&c, &l);
    assert_int_equal(ev->source.ts_ms, l);
    avro_value_get_by_name(&src, "lsn", &c, NULL);
    avro_value_get_current_branch(&c, &br);
    l = 0;
    if (avro_value_get_type(&br) == AVRO_INT64)
        avro_value_get_long(&br, &l);
    assert_int_equal(ev->source.lsn, l > 0 ? (uint64_t)l : 0);
    avro_value_get_by_name(&src, "txId", &c, NULL);
    avro_value_get_current_branch(&c, &br);
    l = -1;
    if (avro_value_get_type(&br) == AVRO_INT64)
        avro_value_get_long(&br, &l);
    assert_int_equal(ev->source.txid, l);
}

#define RECORDS_PER_SCHEMA 1500
#define CORRUPT_PER_SCHEMA 400

static void setup_registry(void)
{
    for (size_t i = 0; i < NROWS; i++) {
        if (!registry[2 * i + 1]) {
            registry[2 * i + 1] = strdup(rows[i]);
            registry[2 * i + 2] = envelope_text(i);
        }
    }
}

/* Random records of every schema: walcast decodes exactly what avro-c reads. */
static void test_random_records(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    static char kb[65536], vb[65536];
    char err[512];
    size_t total = 0;
    fetches = 0;
    for (size_t i = 0; i < NROWS; i++) {
        oracle_t o;
        oracle_open(&o, i);
        for (int r = 0; r < RECORDS_PER_SCHEMA; r++) {
            avro_value_reset(&o.kv);
            gen(&o.kv, 1);
            gen_envelope(&o.vv);
            size_t kn = encode(&o.kv, (int32_t)(2 * i + 1), kb, sizeof kb);
            size_t vn = encode(&o.vv, (int32_t)(2 * i + 2), vb, sizeof vb);
            read_back(&o.kr, kb, kn);
            read_back(&o.vr, vb, vn);
            env_event_t ev;
            arena_reset(a);
            if (env_decode_avro(d, a, kb, kn, vb, vn, fetch, NULL, &ev, err, sizeof err) < 0)
                fail_msg("schema %zu record %d: walcast failed: %s", i, r, err);
            check_event(&o, &ev, true);
            total++;
        }
        oracle_close(&o);
    }
    assert_int_equal(total, NROWS * RECORDS_PER_SCHEMA);
    assert_int_equal(fetches, 2 * NROWS);   /* one fetch per schema id */
    assert_int_equal(env_schema_parses(d), 2 * NROWS);
    arena_free(a);
    env_decoder_free(d);
}

/* Truncated bytes always fail; corrupted bytes fail where avro-c fails, and decode as avro-c reads them where
 * walcast accepts them. Checked the contrapositive way: avro-c reads only the inputs walcast accepted, and must
 * read them whole to the same values, because avro-c 1.11 allocates whatever a corrupted length or block count
 * says (gigabytes, or an abort under ASan) before it finds the input too short. */
static void test_corrupted(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    static char vb[65536], mb[65536];
    char err[512];
    size_t truncated = 0, corrupted = 0, accepted = 0;
    for (size_t i = 0; i < NROWS; i++) {
        oracle_t o;
        oracle_open(&o, i);
        for (int r = 0; r < CORRUPT_PER_SCHEMA; r++) {
            gen_envelope(&o.vv);
            size_t vn = encode(&o.vv, (int32_t)(2 * i + 2), vb, sizeof vb);
            env_event_t ev;
            /* every truncation of the first records, some of the others */
            for (size_t cut = 0; cut < vn; cut += r < 20 ? 1 : 1 + rnd() % 7) {
                arena_reset(a);
                err[0] = '\0';
                assert_int_equal(env_decode_avro(d, a, NULL, 0, vb, cut, fetch, NULL, &ev, err, sizeof err), cut ? -1 : 0);
                if (cut)
                    assert_true(err[0] != '\0');
                truncated++;
            }
            for (int k = 0; k < 8; k++) {
                memcpy(mb, vb, vn);
                int flips = 1 + (int)(rnd() % 3);
                for (int f = 0; f < flips; f++) {
                    size_t at = 5 + rnd() % (vn - 5);
                    static const unsigned char nasty[] = { 0xff, 0x80, 0x7f, 0x01, 0x00, 0x81 };
                    mb[at] = (char)(rnd() & 1 ? nasty[rnd() % sizeof nasty] : (unsigned char)rnd());
                }
                /* sometimes also a few bytes more or less */
                size_t mn = vn;
                if (k == 7)
                    mn = vn + 1 + rnd() % 4, memset(mb + vn, 0x02, mn - vn);
                arena_reset(a);
                err[0] = '\0';
                corrupted++;
                if (env_decode_avro(d, a, NULL, 0, mb, mn, fetch, NULL, &ev, err, sizeof err) < 0) {
                    assert_true(err[0] != '\0');
                    continue;
                }
                /* accepted: avro-c must read the same bytes, whole, to the same values */
                accepted++;
                read_back(&o.vr, mb, mn);
                check_event(&o, &ev, false);
            }
        }
        oracle_close(&o);
    }
    print_message("avro oracle: %zu truncated, %zu corrupted (%zu still valid, equal to avro-c)\n", truncated,
                  corrupted, accepted);
    assert_true(truncated > 1000 && corrupted > 1000);
    arena_free(a);
    env_decoder_free(d);
}

/* Connect schemas as AvroData reads the writer schema: names of logical types, unions, MapEntry maps. */
static void test_connect_schemas(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    static char vb[65536];
    char err[512];
    oracle_t o;
    oracle_open(&o, 1);
    gen_envelope(&o.vv);
    size_t vn = encode(&o.vv, 4, vb, sizeof vb);
    env_event_t ev;
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb, vn, fetch, NULL, &ev, err, sizeof err), 0);
    const cs_schema_t *rs = ev.row_schema;
    static const struct { const char *field, *name; ct_type_t type; } want[] = {
        { "dec", "org.apache.kafka.connect.data.Decimal", CT_BYTES },
        { "odec", "org.apache.kafka.connect.data.Decimal", CT_BYTES },
        { "cdate", "org.apache.kafka.connect.data.Date", CT_INT32 },
        { "ctime", "org.apache.kafka.connect.data.Time", CT_INT32 },
        { "cts", "org.apache.kafka.connect.data.Timestamp", CT_INT64 },
        { "adate", "org.apache.kafka.connect.data.Date", CT_INT32 },
        { "atime", "org.apache.kafka.connect.data.Time", CT_INT32 },
        { "ats", "org.apache.kafka.connect.data.Timestamp", CT_INT64 },
        { "ddate", "io.debezium.time.Date", CT_INT32 },
        { "dmts", "io.debezium.time.MicroTimestamp", CT_INT64 },
        { "dzts", "io.debezium.time.ZonedTimestamp", CT_STRING },
        { "vsd", "io.debezium.data.VariableScaleDecimal", CT_STRUCT },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int f = cs_field_index(rs, want[i].field);
        assert_true(f >= 0);
        assert_non_null(rs->fields[f].schema->name);
        assert_string_equal(rs->fields[f].schema->name, want[i].name);
        assert_int_equal(rs->fields[f].schema->type, want[i].type);
    }
    int f = cs_field_index(rs, "odec");
    assert_string_equal(cs_param_get(rs->fields[f].schema, "scale"), "3");
    assert_true(rs->fields[f].schema->optional);
    oracle_close(&o);
    /* unions: [string, null] is an optional string; the others are Union structs named by member */
    oracle_open(&o, 3);
    gen_envelope(&o.vv);
    vn = encode(&o.vv, 8, vb, sizeof vb);
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb, vn, fetch, NULL, &ev, err, sizeof err), 0);
    rs = ev.row_schema;
    const cs_schema_t *sn = rs->fields[cs_field_index(rs, "sn")].schema;
    assert_int_equal(sn->type, CT_STRING);
    assert_true(sn->optional);
    const cs_schema_t *rec = rs->fields[cs_field_index(rs, "rec")].schema;
    assert_int_equal(rec->type, CT_STRUCT);
    assert_string_equal(rec->name, "io.confluent.connect.avro.Union");
    assert_true(rec->optional);
    assert_int_equal(rec->nfields, 2);
    assert_string_equal(rec->fields[0].name, "Email");
    assert_string_equal(rec->fields[1].name, "Phone");
    assert_string_equal(rec->fields[1].schema->name, "t.other.Phone");
    const cs_schema_t *sl = rs->fields[cs_field_index(rs, "sl")].schema;
    assert_false(sl->optional);
    assert_string_equal(sl->fields[0].name, "string");
    assert_string_equal(sl->fields[1].name, "long");
    const cs_schema_t *mix = rs->fields[cs_field_index(rs, "mix")].schema;
    static const char *const members[] = { "boolean", "double", "bytes", "Dir", "array", "map", "fixed" };
    assert_int_equal(mix->nfields, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(mix->fields[i].name, members[i]);
    oracle_close(&o);
    /* MapEntry arrays: a Connect map with the entry's key type */
    oracle_open(&o, 2);
    gen_envelope(&o.vv);
    vn = encode(&o.vv, 6, vb, sizeof vb);
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb, vn, fetch, NULL, &ev, err, sizeof err), 0);
    const cs_schema_t *me = ev.row_schema->fields[cs_field_index(ev.row_schema, "me")].schema;
    assert_int_equal(me->type, CT_MAP);
    assert_int_equal(me->keys->type, CT_INT32);
    assert_int_equal(me->items->type, CT_STRING);
    assert_true(me->items->optional);
    oracle_close(&o);
    arena_free(a);
    env_decoder_free(d);
}

/* A union column reaches a JDBC target as Debezium's JDBC sink writes an unregistered STRUCT since
 * ConnectStructToConnectStringType: the struct's JSON text (every member, null where unset) in a text column.
 * (3.6.0 had no STRUCT type and failed the task: "Failed to resolve column type for schema: STRUCT".) */
static void test_union_jdbc(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    static char vb[65536];
    char err[512];
    oracle_t o;
    oracle_open(&o, 3);
    gen_envelope(&o.vv);
    avro_value_t after, row, f, br, g;
    avro_value_get_by_name(&o.vv, "after", &after, NULL);
    avro_value_set_branch(&after, 1, &row);
    avro_value_get_by_name(&row, "sl", &f, NULL);
    avro_value_set_branch(&f, 0, &br);
    avro_value_set_string(&br, "x");
    avro_value_get_by_name(&row, "rec", &f, NULL);
    avro_value_set_branch(&f, 2, &br);
    avro_value_get_by_name(&br, "num", &g, NULL);
    avro_value_set_long(&g, 5);
    avro_value_get_by_name(&row, "sn", &f, NULL);
    avro_value_set_branch(&f, 1, &br);
    avro_value_set_null(&br);
    size_t vn = encode(&o.vv, 8, vb, sizeof vb);
    env_event_t ev;
    assert_int_equal(env_decode_avro(d, a, NULL, 0, vb, vn, fetch, NULL, &ev, err, sizeof err), 0);
    const cs_schema_t *rs = ev.row_schema;
    static const struct { const char *field, *text; } want[] = {
        { "sl", "{\"string\":\"x\",\"long\":null}" },
        { "rec", "{\"Email\":null,\"Phone\":{\"num\":5}}" },
    };
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int fi = cs_field_index(rs, want[i].field);
        for (int dia = 0; dia < 2; dia++) {
            sk_dialect_t dd = dia ? SK_DIALECT_MYSQL : SK_DIALECT_POSTGRES;
            dl_kind_t kind;
            buf_reset(&b);
            dl_type(&b, dd, rs->fields[fi].schema, false);
            assert_string_equal(buf_cstr(&b), dia ? "longtext" : "text");
            buf_reset(&b);
            assert_int_equal(dl_value(&b, dd, rs->fields[fi].schema, &ev.after.u.list.v[fi], &kind, err, sizeof err), 0);
            assert_int_equal(kind, DL_TEXT);
            assert_string_equal(buf_cstr(&b), want[i].text);
        }
    }
    /* [string, null] with null: an optional string, null */
    assert_true(ev.after.u.list.v[cs_field_index(rs, "sn")].null);
    buf_free(&b);
    oracle_close(&o);
    arena_free(a);
    env_decoder_free(d);
}

/* The errors say where and what: range, branch, truncation, unknown id. */
static void test_errors(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(4096);
    char err[512];
    env_event_t ev;
    /* key t.prim.Value: b, then i8 = 2^31 */
    static const char big[] = { 0, 0, 0, 0, 1, 0, (char)0x80, (char)0x80, (char)0x80, (char)0x80, 0x10 };
    assert_int_equal(env_decode_avro(d, a, big, sizeof big, NULL, 0, fetch, NULL, &ev, err, sizeof err), -1);
    assert_string_equal(err, "key.i8 (schema id 1): Avro int 2147483648 out of the 32-bit range");
    /* envelope t.prim: before's union branch 2 of 2 */
    static const char branch[] = { 0, 0, 0, 0, 2, 4 };
    assert_int_equal(env_decode_avro(d, a, NULL, 0, branch, sizeof branch, fetch, NULL, &ev, err, sizeof err), -1);
    assert_string_equal(err, "value.before (schema id 2): Avro union branch 2 out of range");
    static const char cut[] = { 0, 0, 0, 0, 2, 2 };
    assert_int_equal(env_decode_avro(d, a, NULL, 0, cut, sizeof cut, fetch, NULL, &ev, err, sizeof err), -1);
    assert_string_equal(err, "value.before.b (schema id 2): Avro body truncated: 1 bytes needed, 0 left");
    static const char unknown[] = { 0, 0, 0, 0, 99, 0 };
    assert_int_equal(env_decode_avro(d, a, NULL, 0, unknown, sizeof unknown, fetch, NULL, &ev, err, sizeof err), -1);
    assert_non_null(strstr(err, "schema 99 not found"));
    arena_free(a);
    env_decoder_free(d);
}

/* Connect sets key.converter and value.converter apart: a JsonConverter key beside an AvroConverter value,
 * and the other way round, each read in its own format (the sink read the key as Avro and failed). */
static void test_mixed_formats(void **st)
{
    (void)st;
    setup_registry();
    env_decoder_t *d = env_decoder_new();
    arena_t *a = arena_new(65536);
    static char kb[65536], vb[65536];
    char err[512];
    oracle_t o;
    oracle_open(&o, 1);
    gen_envelope(&o.vv);
    size_t vn = encode(&o.vv, 4, vb, sizeof vb);
    read_back(&o.vr, vb, vn);
    static const char jk[] = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                             "\"field\":\"id\"}],\"optional\":false,\"name\":\"srv.public.t.Key\"},\"payload\":{\"id\":7}}";
    env_event_t ev;
    if (env_decode_avro(d, a, jk, strlen(jk), vb, vn, fetch, NULL, &ev, err, sizeof err) < 0)
        fail_msg("JSON key, Avro value: %s", err);
    assert_non_null(ev.key_schema);
    assert_int_equal(ev.key_schema->nfields, 1);
    assert_int_equal(ev.key.u.list.v[0].u.i, 7);
    check_event(&o, &ev, false);
    /* an Avro key beside a JSON value (schemas on) */
    avro_value_reset(&o.kv);
    gen(&o.kv, 1);
    size_t kn = encode(&o.kv, 3, kb, sizeof kb);
    read_back(&o.kr, kb, kn);
    static const char jv[] = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":[{\"type\":"
                             "\"int32\",\"optional\":false,\"field\":\"id\"}],\"optional\":true,\"name\":\"srv.public.t.Value\","
                             "\"field\":\"after\"},{\"type\":\"string\",\"optional\":false,\"field\":\"op\"}],\"optional\":false,"
                             "\"name\":\"srv.public.t.Envelope\"},\"payload\":{\"after\":{\"id\":9},\"op\":\"c\"}}";
    arena_reset(a);
    if (env_decode_avro(d, a, kb, kn, jv, strlen(jv), fetch, NULL, &ev, err, sizeof err) < 0)
        fail_msg("Avro key, JSON value: %s", err);
    assert_non_null(ev.key_schema);
    cmp(&o.kr, ev.key_schema, &ev.key, "key");
    assert_int_equal(ev.op, ENV_CREATE);
    assert_true(ev.has_after);
    assert_int_equal(ev.after.u.list.v[0].u.i, 9);
    oracle_close(&o);
    arena_free(a);
    env_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_records),
        cmocka_unit_test(test_corrupted),
        cmocka_unit_test(test_connect_schemas),
        cmocka_unit_test(test_union_jdbc),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_mixed_formats),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (size_t i = 0; i < 2 * NROWS + 1; i++)
        free(registry[i]);
    return rc;
}
