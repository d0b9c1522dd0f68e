/* test_json.c: JsonConverter compatibility: schema key order, default replacement, Java number text,
 * Jackson string escapes, base64; json_plan (keys rendered once) writes what json_enc_value writes. */
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
    json_plan_t *p = json_plan_new(st);
    json_enc_envelope(&b, "{}", 2, p, &v);
    json_plan_free(p);
    assert_string_equal(buf_cstr(&b), "{\"schema\":{},\"payload\":{\"e\":\"a\",\"arr\":[1,null],\"m\":{\"k\":null}}}");
    buf_free(&b);
    arena_free(a);
}

/* json_plan_enc against json_enc_value on the shapes a plan treats apart: nested structs (one schema in two
 * fields), a null struct with and without a default, a value list shorter than the schema, arrays of
 * structs and maps (json_enc_value's path), an empty struct, a key that needs escaping, a null top value. */
static void test_plan(void **s)
{
    (void)s;
    arena_t *a = arena_new(4096);
    buf_t b, want;
    buf_init(&b);
    buf_init(&want);
    cs_schema_t *row = cs_new(a, CT_STRUCT, true);
    row->name = "s.t.Value";
    cs_field_add(a, row, "id", cs_new(a, CT_INT32, false));
    cs_field_add(a, row, "q\"u\\o\n", cs_new(a, CT_STRING, true));
    cs_schema_t *dflt = cs_new(a, CT_STRUCT, true);   /* a struct field with a default value */
    cs_field_add(a, dflt, "n", cs_new(a, CT_INT64, false));
    cv_value_t *dv = arena_alloc(a, sizeof *dv);
    *dv = cv_list(a, 1);
    dv->u.list.v[0] = cv_int(42);
    dflt->def = dv;
    cs_schema_t *empty = cs_new(a, CT_STRUCT, true);
    cs_schema_t *arr = cs_new(a, CT_ARRAY, true);
    arr->items = row;
    cs_schema_t *map = cs_new(a, CT_MAP, true);
    map->keys = cs_new(a, CT_STRING, false);
    map->items = row;
    cs_schema_t *env = cs_new(a, CT_STRUCT, false);
    env->name = "s.t.Envelope";
    cs_field_add(a, env, "before", row);
    cs_field_add(a, env, "after", row);
    cs_field_add(a, env, "d", dflt);
    cs_field_add(a, env, "e", empty);
    cs_field_add(a, env, "arr", arr);
    cs_field_add(a, env, "m", map);
    cs_field_add(a, env, "op", cs_new(a, CT_STRING, false));
    json_plan_t *p = json_plan_new(env);
    assert_ptr_equal(json_plan_schema(p), env);
    assert_true(json_plan_uid(p) == env->uid);

    cv_value_t r = cv_list(a, 2);
    r.u.list.v[0] = cv_int(-5);
    r.u.list.v[1] = cv_str("x\"y", 3);
    cv_value_t shortrow = cv_list(a, 1);   /* fewer values than fields: the rest are null */
    shortrow.u.list.v[0] = cv_int(9);
    cv_value_t v = cv_list(a, 7);
    v.u.list.v[1] = r;
    v.u.list.v[3] = cv_list(a, 0);
    v.u.list.v[4] = cv_list(a, 2);
    v.u.list.v[4].u.list.v[0] = r;
    v.u.list.v[5] = cv_list(a, 2);
    v.u.list.v[5].u.list.v[0] = cv_str("k", 1);
    v.u.list.v[5].u.list.v[1] = shortrow;
    v.u.list.v[6] = cv_str("c", 1);
    json_plan_enc(&b, p, &v);
    assert_string_equal(buf_cstr(&b),
        "{\"before\":null,\"after\":{\"id\":-5,\"q\\\"u\\\\o\\n\":\"x\\\"y\"},\"d\":{\"n\":42},\"e\":{},"
        "\"arr\":[{\"id\":-5,\"q\\\"u\\\\o\\n\":\"x\\\"y\"},null],\"m\":{\"k\":{\"id\":9,\"q\\\"u\\\\o\\n\":null}},\"op\":\"c\"}");
    json_enc_value(&want, env, &v);
    assert_string_equal(buf_cstr(&b), buf_cstr(&want));

    /* the same row schema in both fields, before given too; the default struct given a value */
    v.u.list.v[0] = shortrow;
    v.u.list.v[2] = cv_list(a, 1);
    v.u.list.v[2].u.list.v[0] = cv_int(1);
    buf_reset(&b);
    buf_reset(&want);
    json_plan_enc(&b, p, &v);
    json_enc_value(&want, env, &v);
    assert_string_equal(buf_cstr(&b), buf_cstr(&want));
    assert_non_null(strstr(buf_cstr(&b), "{\"before\":{\"id\":9,\"q\\\"u\\\\o\\n\":null},\"after\":{\"id\":-5,"));

    /* a value list shorter than the envelope, and a null top value */
    cv_value_t part = cv_list(a, 2);
    part.u.list.v[1] = r;
    buf_reset(&b);
    buf_reset(&want);
    json_plan_enc(&b, p, &part);
    json_enc_value(&want, env, &part);
    assert_string_equal(buf_cstr(&b), buf_cstr(&want));
    cv_value_t nul = cv_null();
    buf_reset(&b);
    json_plan_enc(&b, p, &nul);
    assert_string_equal(buf_cstr(&b), "null");
    buf_reset(&b);
    json_plan_enc(&b, p, NULL);
    assert_string_equal(buf_cstr(&b), "null");
    json_plan_free(p);

    /* a plan of a primitive schema, and of a struct without fields */
    p = json_plan_new(cs_primitive(CT_INT64));
    cv_value_t i = cv_int(-9223372036854775807LL - 1);
    buf_reset(&b);
    json_plan_enc(&b, p, &i);
    assert_string_equal(buf_cstr(&b), "-9223372036854775808");
    json_plan_free(p);
    p = json_plan_new(empty);
    cv_value_t ev = cv_list(a, 0);
    buf_reset(&b);
    json_plan_enc(&b, p, &ev);
    assert_string_equal(buf_cstr(&b), "{}");
    json_plan_free(p);
    json_plan_free(NULL);
    buf_free(&b);
    buf_free(&want);
    arena_free(a);
}

/* json_plan_enc's inline leaves and key copies against json_enc_value: every integer width and the extremes,
 * strings (escaped, empty, past the BMP), both booleans, leaves json_enc_value still writes (float, bytes),
 * null leaves with and without a default, keys of every length from 1 to 40 bytes (the copy moves 16 or 32
 * bytes at a time below PLAN_KEY_COPY), into buffers that start empty and fill at every offset. */
static void test_plan_leaves(void **s)
{
    (void)s;
    arena_t *a = arena_new(1 << 16);
    cs_schema_t *st = cs_new(a, CT_STRUCT, false);
    static const ct_type_t types[] = { CT_INT8, CT_INT16, CT_INT32, CT_INT64, CT_STRING, CT_BOOLEAN, CT_FLOAT64,
                                       CT_BYTES, CT_FLOAT32 };
    enum { NF = 40 };
    cv_value_t v = cv_list(a, NF);
    for (int i = 0; i < NF; i++) {
        char *name = arena_alloc(a, 48);
        for (int k = 0; k <= i; k++)
            name[k] = (char)('a' + (i + k) % 26);
        name[i + 1] = 0;
        if (i == 7)
            name[3] = '"';   /* a key escaped when the plan is made */
        ct_type_t t = types[i % 9];
        cs_schema_t *fs = cs_new(a, t, i % 4 != 0);
        cv_value_t *fv = &v.u.list.v[i];
        switch (t) {
        case CT_INT8: *fv = cv_int(i % 2 ? -128 : 127); break;
        case CT_INT16: *fv = cv_int(i % 2 ? -32768 : 32767); break;
        case CT_INT32: *fv = cv_int(i % 2 ? -2147483647LL - 1 : 0); break;
        case CT_INT64: *fv = cv_int(i % 2 ? -9223372036854775807LL - 1 : 9223372036854775807LL); break;
        case CT_STRING: *fv = i % 3 == 0 ? cv_str("", 0) : i % 3 == 1 ? cv_str("a\"b\\\n\x01", 7) : cv_str("\xf0\x9f\x98\x80x", 5); break;
        case CT_BOOLEAN: *fv = cv_bool(i % 2); break;
        case CT_FLOAT64: case CT_FLOAT32: fv->null = false; fv->u.f = 0.1 * i; break;
        default: *fv = cv_str("\x00\xff", 2); break;
        }
        if (i % 5 == 4) {   /* null: with a default on every other one */
            if (i % 10 == 4) {
                cv_value_t *d = arena_alloc(a, sizeof *d);
                *d = *fv;
                fs->def = d;
            }
            *fv = cv_null();
        }
        cs_field_add(a, st, name, fs);
    }
    json_plan_t *p = json_plan_new(st);
    buf_t want;
    buf_init(&want);
    json_enc_value(&want, st, &v);
    assert_non_null(strstr(buf_cstr(&want), ",\"hij\\\"lmno\":"));
    for (size_t pre = 0; pre < 80; pre++) {
        buf_t b;
        buf_init(&b);
        for (size_t k = 0; k < pre; k++)
            buf_putc(&b, '.');
        json_plan_enc(&b, p, &v);
        assert_int_equal(b.len, pre + want.len);
        assert_memory_equal(b.data + pre, want.data, want.len);
        buf_free(&b);
    }
    json_plan_free(p);
    buf_free(&want);
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
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_plan_leaves),
    };
    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
