/* test_json.c: JsonConverter compatibility: schema key order, default replacement, Java number text,
 * Jackson string escapes, base64. */
#include "tests/unit/testutil.h"

#include "schemas/json.h"

static const char *dbl(double d, bool f)
{
    static char out[64];
    json_java_double(out, sizeof out, d, f);
    return out;
}

static void test_java_doubles(void **s)
{
    (void)s;
    assert_string_equal(dbl(0.0, false), "0.0");
    assert_string_equal(dbl(-0.0, false), "-0.0");
    assert_string_equal(dbl(1.0, false), "1.0");
    assert_string_equal(dbl(100.0, false), "100.0");
    assert_string_equal(dbl(0.1, false), "0.1");
    assert_string_equal(dbl(1e-3, false), "0.001");
    assert_string_equal(dbl(9.999e-4, false), "9.999E-4");
    assert_string_equal(dbl(9999999.0, false), "9999999.0");
    assert_string_equal(dbl(1e7, false), "1.0E7");
    assert_string_equal(dbl(-2.718281828459045, false), "-2.718281828459045");
    assert_string_equal(dbl(1.7976931348623157e308, false), "1.7976931348623157E308");
    assert_string_equal(dbl(4.9e-324, false), "4.9E-324");
    assert_string_equal(dbl((float)3.14, true), "3.14");
    assert_string_equal(dbl((float)0.1, true), "0.1");
    assert_string_equal(dbl((float)1e10, true), "1.0E10");
}

static void test_strings_and_base64(void **s)
{
    (void)s;
    buf_t b;
    buf_init(&b);
    json_enc_string(&b, "a\"\\\n\r\t\b\f\x01\x7f\xc3\xa9", 12);
    assert_string_equal(buf_cstr(&b), "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\x7f\xc3\xa9\"");
    buf_reset(&b);
    /* Jackson writes other control characters as \\u00XX with upper-case hex digits */
    json_enc_string(&b, "\x0b\x1f", 2);
    assert_string_equal(buf_cstr(&b), "\"\\u000B\\u001F\"");
    buf_reset(&b);
    /* a character outside the BMP: Jackson's UTF8JsonGenerator writes each UTF-16 surrogate as an escape
     * (COMBINE_UNICODE_SURROGATES_IN_UTF8 is off by default); 3-byte characters stay raw */
    json_enc_string(&b, "x\xf0\x9f\x98\x80y\xe2\x82\xac\xf4\x8f\xbf\xbf", 13);
    assert_string_equal(buf_cstr(&b), "\"x\\uD83D\\uDE00y\xe2\x82\xac\\uDBFF\\uDFFF\"");
    buf_reset(&b);
    json_enc_base64(&b, (const unsigned char *)"", 0, false);
    json_enc_base64(&b, (const unsigned char *)"f", 1, false);
    buf_putc(&b, ' ');
    json_enc_base64(&b, (const unsigned char *)"fo", 2, false);
    buf_putc(&b, ' ');
    json_enc_base64(&b, (const unsigned char *)"foo", 3, false);
    assert_string_equal(buf_cstr(&b), "Zg== Zm8= Zm9v");
    buf_free(&b);
}

static void test_schema_order_and_defaults(void **s)
{
    (void)s;
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    cs_schema_t *st = cs_new(a, CT_STRUCT, true);
    st->name = "x.y.Value";
    st->version = 3;
    st->doc = "d";
    cs_schema_t *f1 = cs_new(a, CT_STRING, true);
    f1->name = "io.debezium.data.Enum";
    f1->version = 1;
    cs_param_add(f1, "allowed", "a,b");
    cv_value_t *def = arena_alloc(a, sizeof *def);
    *def = cv_str("a", 1);
    f1->def = def;
    f1->doc = "comment";
    cs_field_add(a, st, "e", f1);
    cs_schema_t *arr = cs_new(a, CT_ARRAY, false);
    arr->items = cs_new(a, CT_INT64, true);
    cs_field_add(a, st, "arr", arr);
    cs_schema_t *map = cs_new(a, CT_MAP, true);
    map->keys = cs_new(a, CT_STRING, false);
    map->items = cs_new(a, CT_STRING, true);
    cs_field_add(a, st, "m", map);
    json_enc_schema(&b, st);
    assert_string_equal(buf_cstr(&b),
        "{\"type\":\"struct\",\"fields\":["
        "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,\"doc\":\"comment\",\"parameters\":{\"allowed\":\"a,b\"},\"default\":\"a\",\"field\":\"e\"},"
        "{\"type\":\"array\",\"items\":{\"type\":\"int64\",\"optional\":true},\"optional\":false,\"field\":\"arr\"},"
        "{\"type\":\"map\",\"keys\":{\"type\":\"string\",\"optional\":false},\"values\":{\"type\":\"string\",\"optional\":true},\"optional\":true,\"field\":\"m\"}"
        "],\"optional\":true,\"name\":\"x.y.Value\",\"version\":3,\"doc\":\"d\"}");
    /* a null with a default is written as the default (replace.null.with.default) */
    cv_value_t v = cv_list(a, 3);
    v.u.list.v[1] = cv_list(a, 2);
    v.u.list.v[1].u.list.v[0] = cv_int(1);
    v.u.list.v[2] = cv_list(a, 2);
    v.u.list.v[2].u.list.v[0] = cv_str("k", 1);
    v.u.list.v[2].u.list.v[1] = cv_null();
    buf_reset(&b);
    json_enc_value(&b, st, &v);
    assert_string_equal(buf_cstr(&b), "{\"e\":\"a\",\"arr\":[1,null],\"m\":{\"k\":null}}");
    buf_reset(&b);
    json_enc_envelope(&b, "{}", 2, st, &v);
    assert_string_equal(buf_cstr(&b), "{\"schema\":{},\"payload\":{\"e\":\"a\",\"arr\":[1,null],\"m\":{\"k\":null}}}");
    buf_free(&b);
    arena_free(a);
}

static void test_header_text(void **s)
{
    (void)s;
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    cs_schema_t *st = cs_new(a, CT_STRUCT, false);
    cs_schema_t *dec = cs_new(a, CT_BYTES, false);
    dec->name = "org.apache.kafka.connect.data.Decimal";
    cs_param_add(dec, "scale", "2");
    cs_field_add(a, st, "d", dec);
    cs_field_add(a, st, "s", cs_new(a, CT_STRING, false));
    cs_field_add(a, st, "f", cs_new(a, CT_FLOAT64, true));
    cs_field_add(a, st, "n", cs_new(a, CT_INT32, true));
    cv_value_t v = cv_list(a, 4);
    static const unsigned char m150[] = { 0xff, 0x6a };   /* -150 -> -1.50 */
    v.u.list.v[0] = cv_str((const char *)m150, 2);
    v.u.list.v[1] = cv_str("q\"\\\n", 4);
    v.u.list.v[2] = cv_float(1e7);
    json_enc_header_value(&b, st, &v);
    /* only \ and " are escaped, a newline stays raw, as Kafka's Values.append does */
    assert_string_equal(buf_cstr(&b), "{\"d\":-1.50,\"s\":\"q\\\"\\\\\n\",\"f\":1.0E7,\"n\":null}");
    buf_reset(&b);
    static const unsigned char big[] = { 0x01, 0x8e, 0xe9, 0x0f, 0xf6, 0xc3, 0x73, 0xe0, 0xee, 0x4e, 0x3f, 0x0a, 0xd2 };
    json_enc_decimal_text(&b, big, sizeof big, 3);
    assert_string_equal(buf_cstr(&b), "123456789012345678901234567.890");
    buf_reset(&b);
    static const unsigned char small[] = { 0x05 };
    json_enc_decimal_text(&b, small, 1, 4);
    assert_string_equal(buf_cstr(&b), "0.0005");
    buf_reset(&b);
    static const unsigned char zero[] = { 0x00 };
    json_enc_decimal_text(&b, zero, 1, 0);
    assert_string_equal(buf_cstr(&b), "0");
    buf_free(&b);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_doubles),
        cmocka_unit_test(test_strings_and_base64),
        cmocka_unit_test(test_schema_order_and_defaults),
        cmocka_unit_test(test_header_text),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
