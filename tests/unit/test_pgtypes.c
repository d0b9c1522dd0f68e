/* test_pgtypes.c: PostgreSQL text -> Debezium values for every type family and handling mode,
 * checked through the JSON converter so the expectations read like Debezium's own test values. */
#include "tests/unit/testutil.h"

#include "decoder/pgtypes.h"
#include "schemas/json.h"

static arena_t *A;
static buf_t B;

static int setup(void **s) { (void)s; A = arena_new(8192); buf_init(&B); return 0; }
static int teardown(void **s) { (void)s; arena_free(A); buf_free(&B); return 0; }

/* Converts text under (type oid, typmod, opts) and returns the JSON payload text. */
static const char *conv(uint32_t oid, int32_t typmod, const pgt_opts_t *o, const char *text)
{
    pgt_coltype_t t;
    char err[256];
    assert_int_equal(pgt_resolve(NULL, A, oid, typmod, &t, err, sizeof err), 0);
    cs_schema_t *s = pgt_schema(A, &t, true, o);
    assert_non_null(s);
    cv_value_t v;
    if (pgt_value(A, &t, o, text, strlen(text), &v, err, sizeof err) < 0)
        return NULL;
    buf_reset(&B);
    json_enc_value(&B, s, &v);
    return buf_cstr(&B);
}

static const char *schema_of(uint32_t oid, int32_t typmod, const pgt_opts_t *o)
{
    pgt_coltype_t t;
    char err[256];
    assert_int_equal(pgt_resolve(NULL, A, oid, typmod, &t, err, sizeof err), 0);
    cs_schema_t *s = pgt_schema(A, &t, false, o);
    buf_reset(&B);
    json_enc_schema(&B, s);
    return buf_cstr(&B);
}

static pgt_opts_t defaults(void)
{
    pgt_opts_t o;
    pgt_opts_default(&o);
    return o;
}

static void test_scalars(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(conv(16, -1, &o, "t"), "true");
    assert_string_equal(conv(21, -1, &o, "-32768"), "-32768");
    assert_string_equal(conv(20, -1, &o, "9223372036854775807"), "9223372036854775807");
    assert_string_equal(conv(26, -1, &o, "4294967295"), "4294967295");
    assert_string_equal(conv(700, -1, &o, "3.14"), "3.14");
    assert_string_equal(conv(701, -1, &o, "1e+20"), "1.0E20");
    assert_string_equal(conv(701, -1, &o, "0.001"), "0.001");
    assert_string_equal(conv(701, -1, &o, "0.0001"), "1.0E-4");
    assert_string_equal(conv(701, -1, &o, "1234567"), "1234567.0");
    assert_string_equal(conv(701, -1, &o, "12345678"), "1.2345678E7");
    assert_string_equal(conv(701, -1, &o, "-Infinity"), "\"-Infinity\"");
    assert_string_equal(conv(25, -1, &o, "a\"b\\c\x01"), "\"a\\\"b\\\\c\\u0001\"");
    assert_string_equal(conv(1042, 9, &o, "ab   "), "\"ab   \"");
    assert_null(conv(23, -1, &o, "12x"));
    assert_null(conv(16, -1, &o, "yes"));
    assert_null(conv(21, -1, &o, ""));
}

static void test_numeric_modes(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    int32_t tm = (10 << 16 | 3) + 4;
    assert_string_equal(conv(1700, tm, &o, "-1234567.891"), "\"tmn9LQ==\"");
    assert_string_equal(conv(1700, tm, &o, "0.000"), "\"AA==\"");
    assert_string_equal(conv(1700, tm, &o, "128.000"), "\"AfQA\"");   /* 128000 = 0x01F400: no sign-bit byte needed */
    assert_string_equal(conv(1700, tm, &o, "0.128"), "\"AIA=\"");         /* 128 = 0x80 needs a 0x00 sign byte */
    assert_string_equal(conv(1700, tm, &o, "-0.128"), "\"gA==\"");        /* -128 = 0x80 */
    assert_string_equal(conv(1700, tm, &o, "-0.129"), "\"/38=\"");        /* -129 = 0xFF7F */
    assert_string_equal(schema_of(1700, tm, &o),
                        "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"3\",\"connect.decimal.precision\":\"10\"}}");
    assert_string_equal(conv(1700, -1, &o, "1.500"), "{\"scale\":1,\"value\":\"Dw==\"}");
    assert_string_equal(conv(1700, -1, &o, "100"), "{\"scale\":0,\"value\":\"ZA==\"}");
    assert_string_equal(conv(1700, -1, &o, "-0.000123"), "{\"scale\":6,\"value\":\"hQ==\"}");
    assert_string_equal(conv(1700, -1, &o, "NaN"), "null");
    /* a value longer than 64 bits */
    assert_string_equal(conv(1700, -1, &o, "123456789012345678901234567890"),
                        "{\"scale\":0,\"value\":\"AY7pD/bDc+DuTj8K0g==\"}");
    o.decimal = PGT_DECIMAL_DOUBLE;
    assert_string_equal(conv(1700, tm, &o, "-1234567.891"), "-1234567.891");
    assert_string_equal(conv(1700, -1, &o, "NaN"), "\"NaN\"");
    o.decimal = PGT_DECIMAL_STRING;
    assert_string_equal(conv(1700, tm, &o, "1.500"), "\"1.500\"");
    /* Debezium's string mode names the special values by its enum (differential test) */
    assert_string_equal(conv(1700, -1, &o, "NaN"), "\"NAN\"");
    assert_string_equal(conv(1700, -1, &o, "Infinity"), "\"POSITIVE_INFINITY\"");
    assert_string_equal(conv(1700, -1, &o, "-Infinity"), "\"NEGATIVE_INFINITY\"");
    /* a numeric array with a special value: Debezium gives null for the whole array, in every mode */
    for (int mode = 0; mode < 3; mode++) {
        o.decimal = mode == 0 ? PGT_DECIMAL_PRECISE : mode == 1 ? PGT_DECIMAL_DOUBLE : PGT_DECIMAL_STRING;
        assert_string_equal(conv(1231, -1, &o, "{1.5,NaN}"), "null");
        assert_string_equal(conv(1231, -1, &o, "{Infinity}"), "null");
        assert_string_equal(conv(1231, -1, &o, "{-Infinity,1}"), "null");
    }
    assert_string_equal(conv(1231, -1, &o, "{0.0000001,100,NULL}"), "[\"0.0000001\",\"100\",null]");
    o = defaults();
    assert_string_equal(conv(790, -1, &o, "$1,234.56"), "\"AeJA\"");
    assert_string_equal(conv(790, -1, &o, "-$5.25"), "\"/fM=\"");
    assert_string_equal(schema_of(790, -1, &o),
                        "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2\"}}");
    o.decimal = PGT_DECIMAL_STRING;
    assert_string_equal(conv(790, -1, &o, "-$1,000.50"), "\"-1000.50\"");
    assert_null(conv(1700, tm, &o, "abc") == NULL ? NULL : (o.decimal = PGT_DECIMAL_PRECISE, conv(1700, tm, &o, "1.2.3")));
}

static void test_time_modes(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(conv(1082, -1, &o, "2020-02-29"), "18321");
    assert_string_equal(conv(1082, -1, &o, "1970-01-01"), "0");
    assert_string_equal(conv(1082, -1, &o, "1969-12-31"), "-1");
    assert_string_equal(conv(1082, -1, &o, "0001-01-01 BC"), "-719528");
    assert_string_equal(conv(1083, -1, &o, "13:45:56.123456"), "49556123456");
    assert_string_equal(conv(1083, 3, &o, "13:45:56.789"), "49556789");
    assert_string_equal(conv(1083, -1, &o, "24:00:00"), "86400000000");
    assert_string_equal(conv(1114, -1, &o, "2021-03-04 05:06:07.123456"), "1614834367123456");
    assert_string_equal(conv(1114, 3, &o, "1969-12-31 23:59:59.999"), "-1");
    assert_string_equal(conv(1114, 0, &o, "1969-12-31 23:59:59.5"), "-500");
    assert_string_equal(conv(1184, -1, &o, "2020-04-01 13:51:02.5+02"), "\"2020-04-01T11:51:02.500000Z\"");
    assert_string_equal(conv(1184, 0, &o, "2020-04-01 13:51:02+00"), "\"2020-04-01T13:51:02Z\"");
    assert_string_equal(conv(1184, 3, &o, "2020-04-01 00:30:00+05:30"), "\"2020-03-31T19:00:00.000Z\"");
    assert_string_equal(conv(1184, -1, &o, "infinity"), "\"infinity\"");
    /* infinities as Debezium 3.6.1 turns them into numbers (differential test): a date is PostgreSQL's
     * internal day count moved to 1970 in 32-bit arithmetic; a timestamp is pgjdbc's
     * DATE_POSITIVE/NEGATIVE_INFINITY milliseconds, taken as micros (or as ms / 1000); in an array a
     * date goes through pgjdbc's java.sql.Date */
    assert_string_equal(conv(1082, -1, &o, "infinity"), "-2147472692");
    assert_string_equal(conv(1082, -1, &o, "-infinity"), "-2147472691");
    assert_string_equal(conv(1182, -1, &o, "{infinity,-infinity,2020-01-01}"), "[-622191234,-625821272,18262]");
    assert_string_equal(conv(1114, -1, &o, "infinity"), "9223372036825200000");
    assert_string_equal(conv(1114, -1, &o, "-infinity"), "-9223372036832400000");
    assert_string_equal(conv(1114, 0, &o, "infinity"), "9223372036825200");
    assert_string_equal(conv(1114, 3, &o, "-infinity"), "-9223372036832400");
    assert_string_equal(conv(1266, -1, &o, "10:11:12.5+02"), "\"08:11:12.5Z\"");
    assert_string_equal(conv(1266, -1, &o, "23:30:00-01"), "\"00:30:00Z\"");
    assert_string_equal(conv(1266, -1, &o, "00:00:00+00"), "\"00:00:00Z\"");
    assert_string_equal(schema_of(1083, 3, &o), "{\"type\":\"int32\",\"optional\":false,\"name\":\"io.debezium.time.Time\",\"version\":1}");
    assert_string_equal(schema_of(1114, -1, &o), "{\"type\":\"int64\",\"optional\":false,\"name\":\"io.debezium.time.MicroTimestamp\",\"version\":1}");
    o.time = PGT_TIME_ADAPTIVE_MICRO;
    assert_string_equal(conv(1083, 3, &o, "13:45:56.789"), "49556789000");
    assert_string_equal(schema_of(1083, 3, &o), "{\"type\":\"int64\",\"optional\":false,\"name\":\"io.debezium.time.MicroTime\",\"version\":1}");
    o.time = PGT_TIME_CONNECT;
    assert_string_equal(conv(1083, -1, &o, "13:45:56.123456"), "49556123");
    assert_string_equal(conv(1114, -1, &o, "2021-03-04 05:06:07.123456"), "1614834367123");
    assert_string_equal(schema_of(1082, -1, &o), "{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1}");
    assert_string_equal(schema_of(1114, -1, &o), "{\"type\":\"int64\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Timestamp\",\"version\":1}");
    o = defaults();
    assert_null(conv(1082, -1, &o, "2020-13-01"));
    assert_null(conv(1114, -1, &o, "2020-01-01T00:00:00"));
    assert_null(conv(1266, -1, &o, "10:00:00"));
}

static void test_interval_modes(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(conv(1186, -1, &o, "1 year 2 mons 3 days 04:05:06.789"), "37091106789000");
    assert_string_equal(conv(1186, -1, &o, "-1 days +02:03:00"), "-79020000000");
    assert_string_equal(conv(1186, -1, &o, "1 mon"), "2629800000000");
    assert_string_equal(conv(1186, -1, &o, "00:00:00"), "0");
    assert_string_equal(conv(1186, -1, &o, "-00:00:01.5"), "-1500000");
    /* more than 99 hours: PostgreSQL prints them all in the time part */
    assert_string_equal(conv(1186, -1, &o, "100:00:00"), "360000000000");
    assert_string_equal(conv(1186, -1, &o, "-2562047788:00:54.775807"), "-9223372036854775807");
    /* beyond int64 microseconds (PostgreSQL allows ~178 million years): saturates, as Java's (long) cast does */
    assert_string_equal(conv(1186, -1, &o, "178000000 years"), "9223372036854775807");
    assert_string_equal(conv(1186, -1, &o, "-178000000 years"), "-9223372036854775808");
    assert_null(conv(1186, -1, &o, "99999999999999999 years"));
    o.interval = PGT_INTERVAL_STRING;
    assert_string_equal(conv(1186, -1, &o, "1 year 2 mons 3 days 04:05:06.789"), "\"P1Y2M3DT4H5M6.789S\"");
    assert_string_equal(conv(1186, -1, &o, "00:00:00"), "\"P0Y0M0DT0H0M0S\"");
    assert_null(conv(1186, -1, &o, "P1D"));
}

static void test_binary_modes(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(conv(17, -1, &o, "\\x00ff10"), "\"AP8Q\"");
    assert_string_equal(conv(17, -1, &o, "\\x"), "\"\"");
    o.binary = PGT_BINARY_BASE64;
    assert_string_equal(conv(17, -1, &o, "\\xfbff"), "\"+/8=\"");
    o.binary = PGT_BINARY_BASE64_URL;
    assert_string_equal(conv(17, -1, &o, "\\xfbff"), "\"-_8=\"");
    o.binary = PGT_BINARY_HEX;
    assert_string_equal(conv(17, -1, &o, "\\x00FF10"), "\"00ff10\"");
    assert_null(conv(17, -1, &o, "\\x0"));
    assert_null(conv(17, -1, &o, "\\xzz"));
}

static void test_bits_and_others(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(conv(1560, 1, &o, "1"), "true");
    assert_string_equal(conv(1560, 8, &o, "10110001"), "\"sQ==\"");
    assert_string_equal(conv(1562, 16, &o, "101"), "\"BQ==\"");
    assert_string_equal(conv(1562, 16, &o, "1000000001"), "\"AQI=\"");    /* bit 0 and bit 9, little-endian */
    assert_string_equal(conv(1562, 16, &o, "000"), "\"\"");
    assert_string_equal(schema_of(1560, 8, &o),
                        "{\"type\":\"bytes\",\"optional\":false,\"name\":\"io.debezium.data.Bits\",\"version\":1,\"parameters\":{\"length\":\"8\"}}");
    assert_string_equal(conv(600, -1, &o, "(1.5,-2.25)"), "{\"x\":1.5,\"y\":-2.25,\"wkb\":\"AQEAAAAAAAAAAAD4PwAAAAAAAALA\",\"srid\":null}");
    assert_string_equal(conv(2950, -1, &o, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    assert_string_equal(conv(1007, -1, &o, "{1,NULL,3}"), "[1,null,3]");
    assert_string_equal(conv(1009, -1, &o, "{\"a b\",NULL,\"c\\\"d\",e}"), "[\"a b\",null,\"c\\\"d\",\"e\"]");
    assert_string_equal(conv(1007, -1, &o, "{}"), "[]");
    assert_string_equal(conv(1007, -1, &o, "{{1,2},{3,4}}"), "[null,null]");   /* as Debezium: one null per sub-array */
    assert_string_equal(conv(1007, -1, &o, "[0:1]={5,6}"), "[5,6]");
    assert_null(conv(1007, -1, &o, "{1,2"));
    assert_null(conv(1009, -1, &o, "{\"unterminated}"));
}

static void test_hstore_enum_domain(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    pgt_catalog_t *cat = pgt_catalog_new();
    pgt_typeinfo_t hs = { 90001, "public", "hstore", 'b', 0, 0, -1, NULL };
    pgt_typeinfo_t en = { 90002, "public", "mood", 'e', 0, 0, -1, "sad,ok,happy" };
    pgt_typeinfo_t dm = { 90003, "public", "posint", 'd', 0, 23, -1, NULL };
    pgt_typeinfo_t dn = { 90004, "public", "money2", 'd', 0, 1700, (8 << 16 | 2) + 4, NULL };
    pgt_typeinfo_t un = { 90005, "public", "geometry", 'b', 0, 0, -1, NULL };
    pgt_catalog_put(cat, &hs);
    pgt_catalog_put(cat, &en);
    pgt_catalog_put(cat, &dm);
    pgt_catalog_put(cat, &dn);
    pgt_catalog_put(cat, &un);
    pgt_coltype_t t;
    char err[256];
    cv_value_t v;
    const char *h = "\"k1\"=>\"v1\", \"k 2\"=>NULL, \"q\\\"\"=>\"=>\"";
    assert_int_equal(pgt_resolve(cat, A, 90001, -1, &t, err, sizeof err), 0);
    assert_int_equal(pgt_value(A, &t, &o, h, strlen(h), &v, err, sizeof err), 0);
    buf_reset(&B);
    json_enc_value(&B, pgt_schema(A, &t, true, &o), &v);
    /* in java.util.HashMap order (issue 18, item 6): pgjdbc's HStoreConverter fills one */
    assert_string_equal(buf_cstr(&B), "\"{\\\"q\\\\\\\"\\\":\\\"=>\\\",\\\"k1\\\":\\\"v1\\\",\\\"k 2\\\":null}\"");
    o.hstore = PGT_HSTORE_MAP;
    assert_int_equal(pgt_value(A, &t, &o, h, strlen(h), &v, err, sizeof err), 0);
    buf_reset(&B);
    json_enc_value(&B, pgt_schema(A, &t, true, &o), &v);
    assert_string_equal(buf_cstr(&B), "{\"q\\\"\":\"=>\",\"k1\":\"v1\",\"k 2\":null}");
    /* Debezium 3.6.1's order for these keys, as the differential test saw it (types_diff.sh) */
    o.hstore = PGT_HSTORE_JSON;
    const char *h2 = "\"a\"=>\"1\", \"b\"=>\"2\", \"c\"=>\"3\", \"Ab\"=>\"6\", \"aa\"=>\"9\", \"b1\"=>\"10\", \"zz\"=>\"4\", "
                     "\"é\"=>\"8\", \"x y\"=>NULL, \"key10\"=>\"5\"";
    assert_int_equal(pgt_value(A, &t, &o, h2, strlen(h2), &v, err, sizeof err), 0);
    assert_string_equal(v.u.s.p, "{\"aa\":\"9\",\"zz\":\"4\",\"x y\":null,\"a\":\"1\",\"Ab\":\"6\",\"b\":\"2\",\"c\":\"3\",\"é\":\"8\",\"key10\":\"5\",\"b1\":\"10\"}");
    o = defaults();
    assert_int_equal(pgt_resolve(cat, A, 90002, -1, &t, err, sizeof err), 0);
    buf_reset(&B);
    json_enc_schema(&B, pgt_schema(A, &t, false, &o));
    assert_string_equal(buf_cstr(&B), "{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"sad,ok,happy\"}}");
    /* arrays of a domain, and xml[], have no converter in Debezium: the column is left out */
    pgt_typeinfo_t dma = { 90007, "public", "_posint", 'b', 90003, 0, -1, NULL };
    pgt_catalog_put(cat, &dma);
    assert_int_equal(pgt_resolve(cat, A, 90007, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));
    assert_int_equal(pgt_resolve(cat, A, 143, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));
    /* an enum array's items are required in Debezium's schema (differential test) */
    pgt_typeinfo_t ena = { 90006, "public", "_mood", 'b', 90002, 0, -1, NULL };
    pgt_catalog_put(cat, &ena);
    assert_int_equal(pgt_resolve(cat, A, 90006, -1, &t, err, sizeof err), 0);
    buf_reset(&B);
    json_enc_schema(&B, pgt_schema(A, &t, true, &o));
    assert_string_equal(buf_cstr(&B), "{\"type\":\"array\",\"items\":{\"type\":\"string\",\"optional\":false,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"parameters\":{\"allowed\":\"sad,ok,happy\"}},\"optional\":true}");
    assert_int_equal(pgt_resolve(cat, A, 90003, -1, &t, err, sizeof err), 0);
    assert_int_equal(t.kind, PGT_INT4);
    assert_int_equal(pgt_resolve(cat, A, 90004, -1, &t, err, sizeof err), 0);
    assert_int_equal(t.kind, PGT_NUMERIC);
    assert_int_equal(t.typmod, (8 << 16 | 2) + 4);
    /* unknown types are dropped unless include.unknown.datatypes */
    assert_int_equal(pgt_resolve(cat, A, 90005, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));
    o.include_unknown = true;
    assert_non_null(pgt_schema(A, &t, true, &o));
    /* an oid nobody knows */
    assert_int_equal(pgt_resolve(cat, A, 99999, -1, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "99999"));
    pgt_catalog_free(cat);
}

static void test_defaults_zero_placeholder(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    pgt_coltype_t t;
    char err[256];
    cv_value_t v;
    assert_int_equal(pgt_resolve(NULL, A, 25, -1, &t, err, sizeof err), 0);
    assert_true(pgt_default(A, &t, &o, "'it''s'::text", &v));
    assert_int_equal(v.u.s.n, 4);
    assert_memory_equal(v.u.s.p, "it's", 4);
    assert_false(pgt_default(A, &t, &o, "NULL::text", &v));
    assert_false(pgt_default(A, &t, &o, NULL, &v));
    assert_true(pgt_default(A, &t, &o, "md5((random())::text)", &v));   /* function: the type's zero */
    assert_int_equal(v.u.s.n, 0);
    assert_int_equal(pgt_resolve(NULL, A, 23, -1, &t, err, sizeof err), 0);
    assert_true(pgt_default(A, &t, &o, "nextval('t_id_seq'::regclass)", &v));
    assert_int_equal(v.u.i, 0);
    assert_true(pgt_default(A, &t, &o, "'-5'::integer", &v));
    assert_int_equal(v.u.i, -5);
    assert_false(pgt_default(A, &t, &o, "(-5)", &v));   /* Integer.parseInt("(-5)") fails: no default */
    assert_true(pgt_default(A, &t, &o, "42", &v));
    assert_int_equal(v.u.i, 42);
    assert_int_equal(pgt_resolve(NULL, A, 16, -1, &t, err, sizeof err), 0);
    assert_true(pgt_default(A, &t, &o, "true", &v));
    assert_true(v.u.b);
    assert_int_equal(pgt_resolve(NULL, A, 1184, -1, &t, err, sizeof err), 0);
    assert_true(pgt_default(A, &t, &o, "now()", &v));
    assert_memory_equal(v.u.s.p, "1970-01-01T00:00:00.000000Z", v.u.s.n);
    /* TOAST placeholder shapes */
    assert_int_equal(pgt_resolve(NULL, A, 1009, -1, &t, err, sizeof err), 0);
    v = pgt_unavailable(A, &t, &o, "__debezium_unavailable_value");
    buf_reset(&B);
    json_enc_value(&B, pgt_schema(A, &t, true, &o), &v);
    assert_string_equal(buf_cstr(&B), "[\"__debezium_unavailable_value\"]");
    assert_int_equal(pgt_resolve(NULL, A, 17, -1, &t, err, sizeof err), 0);
    v = pgt_unavailable(A, &t, &o, "__debezium_unavailable_value");
    assert_memory_equal(v.u.s.p, "__debezium_unavailable_value", v.u.s.n);
}

static const char *unavailable(uint32_t oid, const pgt_opts_t *o)
{
    pgt_coltype_t t;
    char err[256];
    assert_int_equal(pgt_resolve(NULL, A, oid, -1, &t, err, sizeof err), 0);
    cv_value_t v = pgt_unavailable(A, &t, o, "__x");
    buf_reset(&B);
    json_enc_value(&B, pgt_schema(A, &t, true, o), &v);
    return buf_cstr(&B);
}

/* Arrays and unchanged TOASTed values as Debezium 3.6.1 writes them (differential test, edge2 table):
 * array elements it converts through pgjdbc (time to milliseconds, 24:00 wraps; timetz without
 * fraction), nested arrays as one null per sub-array, interval[] and money[] columns left out, bit
 * arrays null; placeholders: int arrays get the placeholder's bytes, uuid arrays a name-based UUID of
 * it, numeric arrays null, bytea the placeholder text in hex mode and null in base64-url-safe mode. */
static void test_arrays_as_debezium(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    char err[256];
    pgt_coltype_t t;
    assert_string_equal(conv(1183, -1, &o, "{13:45:56.123456,24:00:00}"), "[49556123000,0]");
    o.time = PGT_TIME_CONNECT;
    assert_string_equal(conv(1183, -1, &o, "{13:45:56.123456,24:00:00}"), "[49556123,0]");
    o = defaults();
    assert_string_equal(conv(1270, -1, &o, "{10:11:12.5+02,NULL}"), "[\"08:11:12Z\",null]");
    assert_string_equal(conv(1007, -1, &o, "{{1,2},{3,4}}"), "[null,null]");
    assert_string_equal(conv(1007, -1, &o, "{1,NULL,3}"), "[1,null,3]");
    assert_int_equal(pgt_resolve(NULL, A, 1187, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));
    assert_int_equal(pgt_resolve(NULL, A, 791, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));
    assert_string_equal(conv(1561, 3, &o, "{101,010}"), "null");
    assert_string_equal(schema_of(1561, 3, &o), "{\"type\":\"bytes\",\"optional\":false,\"name\":\"io.debezium.data.Bits\",\"version\":1,\"parameters\":{\"length\":\"3\"}}");
    /* placeholders of unchanged TOASTed values ("__x" = 0x5f 0x5f 0x78) */
    assert_string_equal(unavailable(1007, &o), "[95,95,120]");
    assert_string_equal(unavailable(1016, &o), "[95,95,120]");
    assert_string_equal(unavailable(2951, &o), "[\"b254e387-cf58-3982-ba24-fcb3e8a63995\"]");
    assert_string_equal(unavailable(1231, &o), "null");
    o.decimal = PGT_DECIMAL_STRING;
    assert_string_equal(unavailable(1231, &o), "null");
    o = defaults();
    assert_string_equal(unavailable(17, &o), "\"X194\"");
    o.binary = PGT_BINARY_HEX;
    assert_string_equal(unavailable(17, &o), "\"__x\"");
    o.binary = PGT_BINARY_BASE64_URL;
    assert_string_equal(unavailable(17, &o), "null");
    o.binary = PGT_BINARY_BASE64;
    assert_string_equal(unavailable(17, &o), "\"X194\"");
}

/* Issue 18, item 1: numeric text longer than 63 characters in double mode failed ("invalid numeric
 * text") and stalled the connector; Debezium emits BigDecimal.doubleValue. */
static void test_numeric_long_text_double(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    o.decimal = PGT_DECIMAL_DOUBLE;
    char tiny[200] = "0.";
    for (int i = 0; i < 129; i++)
        strcat(tiny, "0");
    strcat(tiny, "1");   /* 1e-130: 132 characters */
    assert_string_equal(conv(1700, -1, &o, tiny), "1.0E-130");
    tiny[0] = '-';
    memmove(tiny + 1, tiny, strlen(tiny) + 1);
    tiny[1] = '0';
    assert_string_equal(conv(1700, -1, &o, tiny), "-1.0E-130");
    assert_string_equal(conv(1700, -1, &o, "123456789012345678901234567890123456789012345678901234567890123456789"),
                        "1.234567890123457E68");
    assert_string_equal(conv(1231, -1, &o, "{123456789012345678901234567890123456789012345678901234567890123456789.5}"),
                        "[1.234567890123457E68]");
}

/* Issue 18, item 2: numeric(3,-2). pgjdbc reads the scale as (typmod - 4) & 0xffff = 2046 and Debezium
 * scales the value to it; walcast sent scale -2 with the bytes of 0. The number must stay 100. */
static void test_numeric_negative_scale(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    int32_t tm = ((3 << 16) | (-2 & 0x7ff)) + 4;
    assert_string_equal(schema_of(1700, tm, &o),
                        "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":{\"scale\":\"2046\",\"connect.decimal.precision\":\"3\"}}");
    /* 100 at scale 2046: unscaled 10^2048 */
    char digits[2050];
    digits[0] = '1';
    memset(digits + 1, '0', 2048);
    digits[2049] = '\0';
    uint8_t *want;
    size_t wantlen = pgt_decimal_bytes(A, digits, 2049, false, &want);
    pgt_coltype_t t;
    char err[256];
    assert_int_equal(pgt_resolve(NULL, A, 1700, tm, &t, err, sizeof err), 0);
    cv_value_t v;
    assert_int_equal(pgt_value(A, &t, &o, "100", 3, &v, err, sizeof err), 0);
    assert_false(v.null);
    assert_int_equal(v.u.s.n, wantlen);
    assert_memory_equal(v.u.s.p, want, wantlen);
    char digits37[2052];
    digits37[0] = '3';
    digits37[1] = '7';
    memset(digits37 + 2, '0', 2049);
    wantlen = pgt_decimal_bytes(A, digits37, 2051, true, &want);   /* -37000: -37 * 10^2049 */
    assert_int_equal(pgt_value(A, &t, &o, "-37000", 6, &v, err, sizeof err), 0);
    assert_int_equal(v.u.s.n, wantlen);
    assert_memory_equal(v.u.s.p, want, wantlen);
    o.decimal = PGT_DECIMAL_STRING;
    const char *str = conv(1700, tm, &o, "600");
    assert_int_equal(strlen(str), 2 + 4 + 2046);
    assert_memory_equal(str, "\"600.000", 8);
    assert_int_equal(str[strlen(str) - 2], '0');
    o.decimal = PGT_DECIMAL_DOUBLE;
    assert_string_equal(conv(1700, tm, &o, "37000"), "37000.0");
    /* a positive scale is unchanged, and money in string mode is not rescaled */
    o.decimal = PGT_DECIMAL_STRING;
    assert_string_equal(conv(1700, (5 << 16 | 2) + 4, &o, "1.50"), "\"1.50\"");
    o.money_fraction_digits = 3;
    assert_string_equal(conv(790, -1, &o, "$1.50"), "\"1.50\"");
    /* precise money at fewer fraction digits: setScale(digits, HALF_UP), away from zero */
    o.decimal = PGT_DECIMAL_PRECISE;
    o.money_fraction_digits = 1;
    assert_string_equal(conv(790, -1, &o, "$1.25"), "\"DQ==\"");     /* 1.3 -> 13 */
    assert_string_equal(conv(790, -1, &o, "-$1.25"), "\"8w==\"");    /* -1.3 -> -13 */
    assert_string_equal(conv(790, -1, &o, "$9.96"), "\"ZA==\"");     /* 10.0 -> 100 */
    assert_string_equal(conv(790, -1, &o, "$1.24"), "\"DA==\"");     /* 1.2 -> 12 */
}

/* Issue 18, item 6: values at the edges, as Debezium 3.6.1 gave them in the differential test
 * (types_diff.sh): timestamps at PostgreSQL's upper end (walcast overflowed int64 microseconds), a BC
 * date inside date[] (java.sql.Date drops the era), hstore keys in java.util.HashMap order. */
static void test_edges_as_debezium(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    int32_t ts6 = -1, ts3 = 3;
    /* MicroTimestamp: TimeUnit.SECONDS.toMicros saturates, adding the micros wraps */
    assert_string_equal(conv(1114, ts6, &o, "294276-12-31 23:59:59.999999"), "-9223372036853775810");
    assert_string_equal(conv(1114, ts3, &o, "294276-12-31 23:59:59.999"), "9224318015999999");
    assert_string_equal(conv(1184, -1, &o, "294276-12-31 23:59:59.999999+00"), "\"+294276-12-31T23:59:59.999999Z\"");
    assert_string_equal(conv(1114, ts6, &o, "4713-11-24 00:00:00 BC"), "-210835180800000000");
    assert_string_equal(conv(1114, ts6, &o, "1999-12-31 23:59:59.5"), "946684799500000");
    assert_string_equal(conv(1114, ts6, &o, "1969-12-31 23:59:59.5"), "-500000");
    o.time = PGT_TIME_CONNECT;
    assert_string_equal(conv(1114, ts6, &o, "294276-12-31 23:59:59.999999"), "9224318015999999");
    assert_string_equal(conv(1114, ts6, &o, "1969-12-31 23:59:59.5"), "-500");
    o = defaults();
    /* date[]: the era dropped; a scalar date keeps it */
    assert_string_equal(conv(1182, -1, &o, "{\"0044-03-15 BC\",2020-02-29}"), "[-703383,18321]");
    assert_string_equal(conv(1082, -1, &o, "0044-03-15 BC"), "-735160");
}

/* Issue 18, item 5: columns Debezium types or drops differently. int2vector/oidvector are arrays of
 * int16/int64 (the text "1 2 3" gives [], '' gives null); varbit[] and point[] are left out; with
 * include.unknown.datatypes a value is pgjdbc's text in the binary.handling.mode encoding (geometric
 * numbers through Double.toString), and box[] elements are split on ';'. */
static void test_types_debezium_drops_or_types(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    assert_string_equal(schema_of(22, -1, &o), "{\"type\":\"array\",\"items\":{\"type\":\"int16\",\"optional\":false},\"optional\":false}");
    assert_string_equal(schema_of(30, -1, &o), "{\"type\":\"array\",\"items\":{\"type\":\"int64\",\"optional\":false},\"optional\":false}");
    assert_string_equal(conv(22, -1, &o, "1 2 3"), "[]");
    assert_string_equal(conv(30, -1, &o, ""), "null");
    pgt_coltype_t t;
    char err[256];
    assert_int_equal(pgt_resolve(NULL, A, 1563, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));   /* varbit[] */
    assert_int_equal(pgt_resolve(NULL, A, 1017, -1, &t, err, sizeof err), 0);
    assert_null(pgt_schema(A, &t, true, &o));   /* point[] */
    o.include_unknown = true;
    assert_string_equal(conv(603, -1, &o, "(3,4),(1,2)"), "\"KDMuMCw0LjApLCgxLjAsMi4wKQ==\"");
    assert_string_equal(conv(718, -1, &o, "<(1,2),3>"), "\"PCgxLjAsMi4wKSwzLjA+\"");
    assert_string_equal(conv(1020, -1, &o, "{(3,4),(1,2);(7,8),(5,6)}"),
                        "[\"KDMuMCw0LjApLCgxLjAsMi4wKQ==\",\"KDcuMCw4LjApLCg1LjAsNi4wKQ==\"]");
    assert_string_equal(schema_of(1020, -1, &o), "{\"type\":\"array\",\"items\":{\"type\":\"bytes\",\"optional\":false},\"optional\":false}");
    /* a null element in an array with required items: Debezium's Connect validation fails, the array
     * is sent as null (event.converting.failure.handling.mode=warn); tsvector[] items are required too */
    assert_string_equal(conv(719, -1, &o, "{\"<(1,2),3>\",NULL}"), "null");
    assert_string_equal(conv(3643, -1, &o, "{\"'a':1\",NULL}"), "null");
    assert_string_equal(conv(3643, -1, &o, "{\"'a':1\"}"), "[\"'a':1\"]");
    o.binary = PGT_BINARY_HEX;
    assert_string_equal(schema_of(603, -1, &o), "{\"type\":\"string\",\"optional\":false}");
    assert_string_equal(conv(603, -1, &o, "(3,4),(1,2)"), "\"28332e302c342e30292c28312e302c322e3029\"");
}

/* Issue 18, item 7: column defaults as Debezium's PostgresDefaultValueConverter gives them (checked
 * against Debezium 3.6.1 by types_diff.sh): only types it has a mapper for, a non-literal taken as it is
 * (CURRENT_USER) or failing to parse (no default), infinities through pgjdbc's MIN/MAX. */
static bool def_of(uint32_t oid, int32_t typmod, const pgt_opts_t *o, const char *expr, const char **json)
{
    pgt_coltype_t t;
    char err[256];
    cv_value_t v;
    assert_int_equal(pgt_resolve(NULL, A, oid, typmod, &t, err, sizeof err), 0);
    if (!pgt_default(A, &t, o, expr, &v))
        return false;
    buf_reset(&B);
    json_enc_value(&B, pgt_schema(A, &t, true, o), &v);
    *json = buf_cstr(&B);
    return true;
}

static void test_defaults_as_debezium(void **s)
{
    (void)s;
    pgt_opts_t o = defaults();
    const char *j;
    assert_true(def_of(25, -1, &o, "CURRENT_USER", &j));
    assert_string_equal(j, "\"CURRENT_USER\"");
    assert_false(def_of(23, -1, &o, "(1 + 2)", &j));
    /* no mapper: money, timetz, bytea, inet, cidr, macaddr, arrays, oid, name, "char", point */
    assert_false(def_of(790, -1, &o, "12.34", &j));
    assert_false(def_of(1266, -1, &o, "'12:34:56+02'::time with time zone", &j));
    assert_false(def_of(17, -1, &o, "'\\x0102'::bytea", &j));
    assert_false(def_of(869, -1, &o, "'10.0.0.1'::inet", &j));
    assert_false(def_of(1007, -1, &o, "'{1,2}'::integer[]", &j));
    assert_false(def_of(26, -1, &o, "5", &j));
    assert_false(def_of(19, -1, &o, "'nm'::name", &j));
    assert_false(def_of(600, -1, &o, "'(1,2)'::point", &j));
    /* unconstrained numeric in precise mode: a struct, which Debezium never gives as default */
    assert_false(def_of(1700, -1, &o, "1.50", &j));
    /* infinities */
    assert_true(def_of(1082, -1, &o, "'infinity'::date", &j));
    assert_string_equal(j, "169560311");
    assert_true(def_of(1082, -1, &o, "'-infinity'::date", &j));
    assert_string_equal(j, "-170999002");
    assert_true(def_of(1114, -1, &o, "'-infinity'::timestamp without time zone", &j));
    assert_string_equal(j, "-9223372036854775808");
    assert_true(def_of(1114, -1, &o, "'infinity'::timestamp without time zone", &j));
    assert_string_equal(j, "-9223372036853775810");
    assert_false(def_of(1114, 3, &o, "'infinity'::timestamp without time zone", &j));
    assert_false(def_of(1184, -1, &o, "'infinity'::timestamp with time zone", &j));
    o.time = PGT_TIME_CONNECT;
    assert_false(def_of(1114, -1, &o, "'-infinity'::timestamp without time zone", &j));
    /* numeric(5,2) in string mode: at the column's scale */
    o = defaults();
    o.decimal = PGT_DECIMAL_STRING;
    assert_true(def_of(1700, (5 << 16 | 2) + 4, &o, "1.5", &j));
    assert_string_equal(j, "\"1.50\"");
    assert_false(def_of(1700, (5 << 16 | 2) + 4, &o, "1.5::numeric(5,2)", &j));   /* BigDecimal fails */
    /* a domain has no mapper either */
    pgt_catalog_t *cat = pgt_catalog_new();
    pgt_typeinfo_t dom = { 90100, "public", "posint", 'd', 0, 23, -1, NULL };
    pgt_catalog_put(cat, &dom);
    pgt_coltype_t t;
    char err[256];
    cv_value_t v;
    assert_int_equal(pgt_resolve(cat, A, 90100, -1, &t, err, sizeof err), 0);
    assert_false(pgt_default(A, &t, &o, "3", &v));
    pgt_catalog_free(cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_numeric_modes),
        cmocka_unit_test(test_numeric_long_text_double),
        cmocka_unit_test(test_numeric_negative_scale),
        cmocka_unit_test(test_edges_as_debezium),
        cmocka_unit_test(test_types_debezium_drops_or_types),
        cmocka_unit_test(test_defaults_as_debezium),
        cmocka_unit_test(test_time_modes),
        cmocka_unit_test(test_interval_modes),
        cmocka_unit_test(test_binary_modes),
        cmocka_unit_test(test_bits_and_others),
        cmocka_unit_test(test_hstore_enum_domain),
        cmocka_unit_test(test_defaults_zero_placeholder),
        cmocka_unit_test(test_arrays_as_debezium),
    };
    return cmocka_run_group_tests_name("pgtypes", tests, setup, teardown);
}
