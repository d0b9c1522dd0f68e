/* test_avro.c: the Avro schema text (AvroData + Avro Java's toString rules), the binary body (checked
 * byte by byte and decoded again by avro-c, an independent implementation), and name adjustment. */
#include "testutil.h"

#include <avro.h>

#include "schemas/avro.h"
#include "schemas/avro_dec.h"

static cs_schema_t *named(arena_t *a, ct_type_t t, bool opt, const char *name, int version)
{
    cs_schema_t *s = cs_new(a, t, opt);
    s->name = name;
    s->version = version;
    return s;
}

/* com.ex.Row: one field of each kind the encoder treats differently. */
static cs_schema_t *row_schema(arena_t *a)
{
    cs_schema_t *r = named(a, CT_STRUCT, false, "com.ex.Row", 3);
    r->doc = "row doc";
    cs_field_add(a, r, "a", cs_new(a, CT_INT8, false));
    cs_field_add(a, r, "b", cs_new(a, CT_INT16, true));
    cs_schema_t *d = named(a, CT_BYTES, false, "org.apache.kafka.connect.data.Decimal", 1);
    cs_param_add(d, "scale", "2");
    cs_param_add(d, "connect.decimal.precision", "5");
    cs_field_add(a, r, "d", d);
    cs_schema_t *s = cs_new(a, CT_STRING, true);
    cv_value_t *def = arena_alloc(a, sizeof *def);
    *def = cv_str("x", 1);
    s->def = def;
    cs_field_add(a, r, "s", s);
    cs_schema_t *in = named(a, CT_STRUCT, true, "com.ex.In", 0);
    cs_field_add(a, in, "f", cs_new(a, CT_INT64, false));
    cs_field_add(a, r, "in1", in);
    cs_field_add(a, r, "in2", in);
    cs_schema_t *th = named(a, CT_STRUCT, true, "other.ns.Thing", 0);
    cs_field_add(a, th, "g", cs_new(a, CT_BOOLEAN, false));
    cs_field_add(a, r, "o", th);
    cs_schema_t *arr = cs_new(a, CT_ARRAY, false);
    arr->items = cs_new(a, CT_STRING, true);
    cs_field_add(a, r, "arr", arr);
    cs_schema_t *m = cs_new(a, CT_MAP, false);
    m->keys = cs_new(a, CT_STRING, false);
    m->items = cs_new(a, CT_INT32, false);
    cs_field_add(a, r, "m", m);
    cs_schema_t *mi = cs_new(a, CT_MAP, false);
    mi->keys = cs_new(a, CT_INT32, false);
    mi->items = cs_new(a, CT_STRING, false);
    cs_field_add(a, r, "mi", mi);
    cs_field_add(a, r, "dt", named(a, CT_INT32, false, "org.apache.kafka.connect.data.Date", 1));
    cs_field_add(a, r, "f4", cs_new(a, CT_FLOAT32, true));
    cs_field_add(a, r, "f8", cs_new(a, CT_FLOAT64, false));
    return r;
}

static const char *row_text =
    "{\"type\":\"record\",\"name\":\"Row\",\"namespace\":\"com.ex\",\"fields\":["
    "{\"name\":\"a\",\"type\":{\"type\":\"int\",\"connect.type\":\"int8\"}},"
    "{\"name\":\"b\",\"type\":[\"null\",{\"type\":\"int\",\"connect.type\":\"int16\"}],\"default\":null},"
    "{\"name\":\"d\",\"type\":{\"type\":\"bytes\",\"scale\":2,\"precision\":5,\"connect.version\":1,"
    "\"connect.parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"5\"},"
    "\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}},"
    "{\"name\":\"s\",\"type\":[{\"type\":\"string\",\"connect.default\":\"x\"},\"null\"],\"default\":\"x\"},"
    "{\"name\":\"in1\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"In\",\"fields\":[{\"name\":\"f\",\"type\":\"long\"}],"
    "\"connect.name\":\"com.ex.In\"}],\"default\":null},"
    "{\"name\":\"in2\",\"type\":[\"null\",\"In\"],\"default\":null},"
    "{\"name\":\"o\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Thing\",\"namespace\":\"other.ns\",\"fields\":["
    "{\"name\":\"g\",\"type\":\"boolean\"}],\"connect.name\":\"other.ns.Thing\"}],\"default\":null},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"string\"]}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"int\"}},"
    "{\"name\":\"mi\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"MapEntry\","
    "\"namespace\":\"io.confluent.connect.avro\",\"fields\":[{\"name\":\"key\",\"type\":\"int\"},{\"name\":\"value\",\"type\":\"string\"}]}}},"
    "{\"name\":\"dt\",\"type\":{\"type\":\"int\",\"connect.version\":1,\"connect.name\":\"org.apache.kafka.connect.data.Date\","
    "\"logicalType\":\"date\"}},"
    "{\"name\":\"f4\",\"type\":[\"null\",\"float\"],\"default\":null},"
    "{\"name\":\"f8\",\"type\":\"double\"}],"
    "\"connect.doc\":\"row doc\",\"connect.version\":3,\"connect.name\":\"com.ex.Row\"}";

static void test_schema_text(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    char err[256];
    assert_int_equal(avro_enc_schema(&b, row_schema(a), true, err, sizeof err), 0);
    assert_string_equal(buf_cstr(&b), row_text);
    /* connect.meta.data=false: no connect.* properties (int8 loses its connect.type too) */
    buf_reset(&b);
    cs_schema_t *small = named(a, CT_STRUCT, false, "k.Key", 1);
    cs_field_add(a, small, "id", cs_new(a, CT_INT8, false));
    assert_int_equal(avro_enc_schema(&b, small, false, err, sizeof err), 0);
    assert_string_equal(buf_cstr(&b), "{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"k\",\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}");
    /* names Avro cannot take are refused with the way out */
    buf_reset(&b);
    cs_schema_t *bad = named(a, CT_STRUCT, false, "my-server.public.t.Value", 0);
    cs_field_add(a, bad, "ok", cs_new(a, CT_INT32, false));
    assert_int_equal(avro_enc_schema(&b, bad, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "my-server.public.t"));
    assert_non_null(strstr(err, "schema.name.adjustment.mode=avro"));
    buf_reset(&b);
    cs_schema_t *badf = named(a, CT_STRUCT, false, "s.Value", 0);
    cs_field_add(a, badf, "my col", cs_new(a, CT_INT32, false));
    assert_int_equal(avro_enc_schema(&b, badf, true, err, sizeof err), -1);
    assert_non_null(strstr(err, "field name \"my col\""));
    buf_free(&b);
    arena_free(a);
}

static cv_value_t row_value(arena_t *a, bool nulls)
{
    cv_value_t v = cv_list(a, 14);
    cv_value_t *f = v.u.list.v;
    f[0] = cv_int(-1);
    f[1] = nulls ? cv_null() : cv_int(300);
    static const char dec[] = { 0x30, 0x39 };   /* 12345 -> 123.45 */
    f[2] = cv_str(dec, 2);
    f[3] = nulls ? cv_null() : cv_str("hey", 3);
    if (!nulls) {
        f[4] = cv_list(a, 1);
        f[4].u.list.v[0] = cv_int(INT64_MIN);
        f[5] = cv_list(a, 1);
        f[5].u.list.v[0] = cv_int(64);
        f[6] = cv_list(a, 1);
        f[6].u.list.v[0] = cv_bool(true);
    }
    f[7] = cv_list(a, 1);
    f[7].u.list.v[0] = cv_str("p", 1);
    f[8] = cv_list(a, 2);
    f[8].u.list.v[0] = cv_str("k", 1);
    f[8].u.list.v[1] = cv_int(7);
    f[9] = cv_list(a, 2);
    f[9].u.list.v[0] = cv_int(5);
    f[9].u.list.v[1] = cv_str("five", 4);
    f[10] = cv_int(19000);
    f[11] = nulls ? cv_null() : cv_float(1.5);
    f[12] = cv_float(-2.25);
    return v;
}

static void test_binary_bytes(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    char err[256];
    cs_schema_t *r = row_schema(a);
    cv_value_t v = row_value(a, true);
    avro_enc_header(&b, 258);
    assert_int_equal(avro_enc_value(&b, r, &v, err, sizeof err), 0);
    static const unsigned char want[] = {
        0x00, 0x00, 0x00, 0x01, 0x02,          /* magic, id 258 big-endian */
        0x01,                                  /* a = -1 (zigzag) */
        0x00,                                  /* b: null branch 0 */
        0x04, 0x30, 0x39,                      /* d: 2 bytes */
        0x00, 0x02, 'x',                       /* s: null -> its default "x", branch 0 of [string,null] */
        0x00, 0x00, 0x00,                      /* in1, in2, o: null */
        0x02, 0x02, 0x02, 'p', 0x00,           /* arr: block of 1, non-null branch, "p", end */
        0x02, 0x02, 'k', 0x0e, 0x00,           /* m: {"k": 7} */
        0x02, 0x0a, 0x08, 'f', 'i', 'v', 'e', 0x00, /* mi: [{5, "five"}] */
        0xf0, 0xa8, 0x02,                      /* dt = 19000 */
        0x00,                                  /* f4: null */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xc0 /* f8 = -2.25 little-endian */
    };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.data, want, sizeof want);
    /* a null in a required field without default is refused, naming the field */
    cv_value_t bad = row_value(a, true);
    bad.u.list.v[2] = cv_null();
    buf_reset(&b);
    assert_int_equal(avro_enc_value(&b, r, &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"d\""));
    buf_free(&b);
    arena_free(a);
}

/* avro-c parses the schema text and reads the body back: both are valid Avro, independently checked. */
static void test_avro_c_reads_it(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    buf_t b;
    buf_init(&b);
    char err[256];
    cs_schema_t *r = row_schema(a);
    assert_int_equal(avro_enc_schema(&b, r, true, err, sizeof err), 0);
    avro_schema_t sch;
    avro_schema_error_t serr;
    /* avro-c ignores the length and reads a C string */
    assert_int_equal(avro_schema_from_json(buf_cstr(&b), (int32_t)b.len, &sch, &serr), 0);
    buf_reset(&b);
    cv_value_t v = row_value(a, false);
    assert_int_equal(avro_enc_value(&b, r, &v, err, sizeof err), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(sch);
    avro_value_t val, f, br;
    avro_generic_value_new(iface, &val);
    avro_reader_t rd = avro_reader_memory(b.data, (int64_t)b.len);
    assert_int_equal(avro_value_read(rd, &val), 0);
    int32_t i32;
    int64_t i64;
    double dd;
    float ff;
    const char *str;
    size_t sz;
    avro_value_get_by_name(&val, "a", &f, NULL);
    avro_value_get_int(&f, &i32);
    assert_int_equal(i32, -1);
    avro_value_get_by_name(&val, "b", &f, NULL);
    avro_value_get_current_branch(&f, &br);
    avro_value_get_int(&br, &i32);
    assert_int_equal(i32, 300);
    avro_value_get_by_name(&val, "s", &f, NULL);
    avro_value_get_current_branch(&f, &br);
    avro_value_get_string(&br, &str, &sz);
    assert_string_equal(str, "hey");
    avro_value_get_by_name(&val, "in2", &f, NULL);
    avro_value_get_current_branch(&f, &br);
    avro_value_t inner;
    avro_value_get_by_name(&br, "f", &inner, NULL);
    avro_value_get_long(&inner, &i64);
    assert_int_equal(i64, 64);
    avro_value_get_by_name(&val, "in1", &f, NULL);
    avro_value_get_current_branch(&f, &br);
    avro_value_get_by_name(&br, "f", &inner, NULL);
    avro_value_get_long(&inner, &i64);
    assert_true(i64 == INT64_MIN);
    avro_value_get_by_name(&val, "mi", &f, NULL);
    avro_value_get_size(&f, &sz);
    assert_int_equal(sz, 1);
    avro_value_get_by_name(&val, "f4", &f, NULL);
    avro_value_get_current_branch(&f, &br);
    avro_value_get_float(&br, &ff);
    assert_true(ff == 1.5f);
    avro_value_get_by_name(&val, "f8", &f, NULL);
    avro_value_get_double(&f, &dd);
    assert_true(dd == -2.25);
    char extra;   /* the body is consumed exactly: nothing left to read */
    assert_int_not_equal(avro_read(rd, &extra, 1), 0);
    avro_reader_free(rd);
    avro_value_decref(&val);
    avro_value_iface_decref(iface);
    avro_schema_decref(sch);
    buf_free(&b);
    arena_free(a);
}

static const char *dec_schema_text;

static int dec_fetch(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    (void)ctx;
    if (id != 258) {
        snprintf(err, errlen, "no schema %d", id);
        return -1;
    }
    buf_puts(out, dec_schema_text);
    return 0;
}

/* schemas/avro_dec.c reads back what the encoder wrote: the Connect schema from the connect.* properties and
 * the values, through the wire-format header (the decoder on its own, without the sinks' envelope). */
static void test_decoder_reads_it(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    buf_t sb, b;
    buf_init(&sb);
    buf_init(&b);
    char err[256];
    cs_schema_t *r = row_schema(a);
    assert_int_equal(avro_enc_schema(&sb, r, true, err, sizeof err), 0);
    dec_schema_text = buf_cstr(&sb);
    cv_value_t v = row_value(a, false);
    avro_enc_header(&b, 258);
    assert_int_equal(avro_enc_value(&b, r, &v, err, sizeof err), 0);
    avro_dec_t *d = avro_dec_new();
    const cs_schema_t *ds;
    cv_value_t dv;
    for (int i = 0; i < 2; i++)   /* the second time from the decoder's cache */
        assert_int_equal(avro_dec_record(d, a, b.data, b.len, dec_fetch, NULL, &ds, &dv, "value", err, sizeof err), 0);
    assert_int_equal(avro_dec_parses(d), 1);
    assert_string_equal(ds->name, "com.ex.Row");
    assert_int_equal(ds->nfields, r->nfields);
    for (size_t i = 0; i < r->nfields; i++) {
        assert_string_equal(ds->fields[i].name, r->fields[i].name);
        assert_int_equal(ds->fields[i].schema->type, r->fields[i].schema->type);
        assert_int_equal(ds->fields[i].schema->optional, r->fields[i].schema->optional);
    }
    assert_string_equal(ds->fields[2].schema->name, "org.apache.kafka.connect.data.Decimal");
    assert_string_equal(cs_param_get(ds->fields[2].schema, "scale"), "2");
    const cv_value_t *f = dv.u.list.v;
    assert_int_equal(f[0].u.i, -1);
    assert_int_equal(f[1].u.i, 300);
    assert_memory_equal(f[2].u.s.p, "\x30\x39", 2);
    assert_string_equal(f[3].u.s.p, "hey");
    assert_true(f[4].u.list.v[0].u.i == INT64_MIN);
    assert_int_equal(f[5].u.list.v[0].u.i, 64);
    assert_true(f[12].u.f == -2.25);
    /* a body cut short fails with the field path and the schema id; the wrong magic byte is refused */
    assert_int_equal(avro_dec_record(d, a, b.data, 8, dec_fetch, NULL, &ds, &dv, "value", err, sizeof err), -1);
    assert_non_null(strstr(err, "schema id 258"));
    b.data[0] = 1;
    assert_int_equal(avro_dec_record(d, a, b.data, b.len, dec_fetch, NULL, &ds, &dv, "value", err, sizeof err), -1);
    assert_non_null(strstr(err, "Confluent wire format"));
    avro_dec_free(d);
    buf_free(&sb);
    buf_free(&b);
    arena_free(a);
}

static void test_name_adjustment(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    /* schema names keep dots; a leading digit keeps the digit after the replacement */
    assert_string_equal(avro_adjust_name(a, "my-server.public.t.Value", AVRO_ADJUST_AVRO, false), "my_server.public.t.Value");
    assert_string_equal(avro_adjust_name(a, "1abc", AVRO_ADJUST_AVRO, false), "_1abc");
    assert_string_equal(avro_adjust_name(a, "ok_name", AVRO_ADJUST_AVRO, false), "ok_name");
    /* field names: dots are invalid too */
    assert_string_equal(avro_adjust_name(a, "a.b c", AVRO_ADJUST_AVRO, true), "a_b_c");
    /* avro_unicode: _uXXXX, and '_' itself is escaped (it is the escape character) */
    assert_string_equal(avro_adjust_name(a, "caf\xc3\xa9", AVRO_ADJUST_UNICODE, true), "caf_u00e9");
    assert_string_equal(avro_adjust_name(a, "my_table", AVRO_ADJUST_UNICODE, false), "my_u005ftable");
    assert_string_equal(avro_adjust_name(a, "1x", AVRO_ADJUST_UNICODE, true), "_u0031x");
    assert_string_equal(avro_adjust_name(a, "\xe2\x82\xac", AVRO_ADJUST_UNICODE, true), "_u20ac");
    /* Java's Integer.toHexString pads to four only from two digits: U+0100 gives _u100 */
    assert_string_equal(avro_adjust_name(a, "x\xc4\x80", AVRO_ADJUST_UNICODE, true), "x_u100");
    /* outside the BMP Java sees a surrogate pair: two replacements */
    assert_string_equal(avro_adjust_name(a, "x\xf0\x9f\x98\x80", AVRO_ADJUST_AVRO, true), "x__");
    assert_string_equal(avro_adjust_name(a, "x\xf0\x9f\x98\x80", AVRO_ADJUST_UNICODE, true), "x_ud83d_ude00");
    assert_string_equal(avro_adjust_name(a, "a-b", AVRO_ADJUST_NONE, true), "a-b");
    assert_true(avro_name_valid("a.b_c.D1", true));
    assert_false(avro_name_valid("a..b", true));
    assert_false(avro_name_valid("a.b", false));
    assert_false(avro_name_valid("9a", false));
    assert_true(avro_name_valid("caf\xc3\xa9", false));   /* Java's Character.isLetter */
    /* bytes that are not well-formed UTF-8 cannot travel in JSON: refused (found by fuzz_avro) */
    assert_false(avro_name_valid("x\xff\xfe", false));
    assert_false(avro_name_valid("\xf0\x8e\x9f\x98", false));   /* overlong */
    assert_false(avro_name_valid("a\xed\xa0\x80", false));       /* UTF-16 surrogate */
    assert_string_equal(avro_adjust_name(a, "x\xff", AVRO_ADJUST_AVRO, true), "x_");
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_text),
        cmocka_unit_test(test_binary_bytes),
        cmocka_unit_test(test_avro_c_reads_it),
        cmocka_unit_test(test_decoder_reads_it),
        cmocka_unit_test(test_name_adjustment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
