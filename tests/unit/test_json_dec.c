/* test_json_dec.c: schemas/json_dec.c on its own: record splitting in any member order, the reader under a
 * schema and without one (types off the JSON, nested JSON as text), its refusals, base64. */
#include "tests/unit/testutil.h"

#include <math.h>

#include "schemas/json_dec.h"

#define S(x) x, strlen(x)

static void test_split(void **st)
{
    (void)st;
    json_dec_t *d = json_dec_new();
    arena_t *a = arena_new(4096);
    char err[256];
    const cs_schema_t *s;
    const char *p;
    size_t n;
    const char *sch = "{\"type\":\"struct\",\"fields\":[{\"field\":\"id\",\"type\":\"int32\"}]}";
    char rec[256];
    /* JsonConverter's order, then the same schema again (from the cache), then the other order */
    snprintf(rec, sizeof rec, "{\"schema\":%s,\"payload\":{\"id\":5}}", sch);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(json_dec_split(d, 1, a, S(rec), &s, &p, &n, err, sizeof err), 0);
        assert_non_null(s);
        assert_memory_equal(p, "{\"id\":5}", n);
    }
    snprintf(rec, sizeof rec, " { \"payload\" : {\"id\":6} , \"schema\" : %s } ", sch);
    assert_int_equal(json_dec_split(d, 1, a, S(rec), &s, &p, &n, err, sizeof err), 0);
    assert_non_null(s);
    assert_int_equal(s->nfields, 1);
    assert_memory_equal(p, "{\"id\":6}", n);
    assert_int_equal(json_dec_parses(d), 1);
    /* not just schema and payload: a record without schema, all of it the payload */
    assert_int_equal(json_dec_split(d, 1, a, S("{\"payload\":1,\"schema\":{},\"x\":2}"), &s, &p, &n, err, sizeof err), 0);
    assert_null(s);
    assert_int_equal(n, strlen("{\"payload\":1,\"schema\":{},\"x\":2}"));
    /* the first member's name decides early: escaped names are read unescaped, other names mean no schema */
    assert_int_equal(json_dec_split(d, 1, a, S("{\"sch\\u0065ma\":{\"type\":\"int32\"},\"payload\":5}"), &s, &p,
                                    &n, err, sizeof err), 0);
    assert_non_null(s);
    assert_int_equal(s->type, CT_INT32);
    assert_memory_equal(p, "5", n);
    assert_int_equal(json_dec_split(d, 1, a, S("{\"before\":{\"type\":\"int32\"},\"payload\":5}"), &s, &p, &n, err,
                                    sizeof err), 0);
    assert_null(s);
    assert_int_equal(n, strlen("{\"before\":{\"type\":\"int32\"},\"payload\":5}"));
    /* a schema that is not a Connect schema */
    assert_int_equal(json_dec_split(d, 1, a, S("{\"payload\":1,\"schema\":{\"type\":\"nope\"}}"), &s, &p, &n, err,
                                    sizeof err), -1);
    assert_non_null(strstr(err, "nope"));
    arena_free(a);
    json_dec_free(d);
}

static void test_infer(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    char err[256];
    const cs_schema_t *s;
    cv_value_t v;
    const char *j = "{\"i\":-7,\"f\":1.5e2,\"b\":false,\"s\":\"x\\u00e9\",\"n\":null,"
                    "\"o\":{ \"a\" : [1, \"b c\"] },\"a\":[ ],\"i\":8}";
    assert_int_equal(json_dec_infer(a, S(j), 1, &s, &v, "v", err, sizeof err), 0);
    assert_int_equal(s->type, CT_STRUCT);
    /* a name given twice: its last value, in its first place */
    assert_int_equal(s->nfields, 7);
    static const ct_type_t types[] = { CT_INT64, CT_FLOAT64, CT_BOOLEAN, CT_STRING, CT_STRING, CT_STRING, CT_STRING };
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(s->fields[i].schema->type, types[i]);
        assert_true(s->fields[i].schema->optional);
    }
    assert_int_equal(v.u.list.v[0].u.i, 8);
    assert_true(v.u.list.v[1].u.f == 150.0);
    assert_false(v.u.list.v[2].u.b);
    assert_string_equal(v.u.list.v[3].u.s.p, "x\xc3\xa9");
    assert_true(v.u.list.v[4].null);
    /* nested objects and arrays: their JSON text, blanks between tokens dropped, strings as written */
    assert_string_equal(s->fields[5].schema->name, JSON_DEC_JSON_NAME);
    assert_string_equal(v.u.list.v[5].u.s.p, "{\"a\":[1,\"b c\"]}");
    assert_string_equal(v.u.list.v[6].u.s.p, "[]");
    /* names alike told apart; a name given twice found among many (100 names: many share a bit of the
     * duplicate filter) */
    assert_int_equal(json_dec_infer(a, S("{\"axb\":1,\"ayb\":2,\"axb\":3}"), 1, &s, &v, "v", err, sizeof err), 0);
    assert_int_equal(s->nfields, 2);
    assert_int_equal(v.u.list.v[0].u.i, 3);
    assert_int_equal(v.u.list.v[1].u.i, 2);
    char many[2048];
    size_t ml = 0;
    for (int i = 0; i < 100; i++)
        ml += (size_t)snprintf(many + ml, sizeof many - ml, "%s\"f%d\":%d", i ? "," : "{", i, i);
    ml += (size_t)snprintf(many + ml, sizeof many - ml, ",\"f37\":-1}");
    assert_int_equal(json_dec_infer(a, many, ml, 1, &s, &v, "v", err, sizeof err), 0);
    assert_int_equal(s->nfields, 100);
    assert_int_equal(v.u.list.v[37].u.i, -1);
    assert_int_equal(v.u.list.v[99].u.i, 99);
    /* two levels: the members' objects are structs too, theirs text */
    assert_int_equal(json_dec_infer(a, S("{\"after\":{\"id\":1,\"j\":{\"k\":2}}}"), 2, &s, &v, "v", err, sizeof err), 0);
    const cs_schema_t *rs = s->fields[0].schema;
    assert_int_equal(rs->type, CT_STRUCT);
    assert_string_equal(rs->fields[1].schema->name, JSON_DEC_JSON_NAME);
    assert_string_equal(v.u.list.v[0].u.list.v[1].u.s.p, "{\"k\":2}");
    /* read again under the inferred schema (as a before under its after's): any JSON goes into a JSON field */
    cv_value_t b;
    assert_int_equal(json_dec_read(a, rs, S("{\"j\":5,\"id\":3,\"extra\":true}"), JSON_DEC_INFERRED, &b, "before", err,
                                   sizeof err), 0);
    assert_int_equal(b.u.list.v[0].u.i, 3);
    assert_string_equal(b.u.list.v[1].u.s.p, "5");
    /* a top-level scalar and null */
    assert_int_equal(json_dec_infer(a, S(" null "), 1, &s, &v, "v", err, sizeof err), 0);
    assert_true(v.null);
    assert_int_equal(json_dec_infer(a, S("\"k\""), 1, &s, &v, "v", err, sizeof err), 0);
    assert_int_equal(s->type, CT_STRING);
    /* the member finder */
    const char *span;
    size_t len;
    assert_int_equal(json_dec_member(a, S("{\"a\":1,\"before\": {\"x\":[1]} }"), "before", &span, &len), 0);
    assert_memory_equal(span, "{\"x\":[1]}", len);
    assert_int_equal(json_dec_member(a, S("{\"a\":1}"), "before", &span, &len), -1);
    arena_free(a);
}

static void test_refusals(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    char err[256];
    const cs_schema_t *s;
    cv_value_t v;
    const char *bad[] = {
        "{\"a\":01}",              /* a leading zero is not JSON (jansson refused it; the reader took it) */
        "{\"a\":\"\xff\"}",        /* not UTF-8: refused without a schema, as jansson did */
        "{\"a\":\"\xc0\xaf\"}",    /* overlong */
        "{\"a\":1e999}",           /* past a double (jansson refused it) */
        "{\"a\":9223372036854775808}",
        "{\"a\":1,}", "{\"a\" 1}", "{\"a\":[1,]}", "{\"a\":tru}", "{\"a\":1} x", "{\"\\u0000\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(json_dec_infer(a, S(bad[i]), 1, &s, &v, "v", err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    /* integers at the edges: 18 digits (no overflow check needed), 19, int64's ends, one past them */
    static const struct { const char *j; int64_t v; } ints[] = {
        { "{\"a\":999999999999999999}", 999999999999999999LL },
        { "{\"a\":-999999999999999999}", -999999999999999999LL },
        { "{\"a\":1000000000000000000}", 1000000000000000000LL },
        { "{\"a\":9223372036854775807}", INT64_MAX },
        { "{\"a\":-9223372036854775808}", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        assert_int_equal(json_dec_infer(a, S(ints[i].j), 1, &s, &v, "v", err, sizeof err), 0);
        assert_true(v.u.list.v[0].u.i == ints[i].v);
    }
    static const char *const over[] = { "{\"a\":-9223372036854775809}", "{\"a\":18446744073709551616}",
                                        "{\"a\":99999999999999999999}" };
    for (size_t i = 0; i < sizeof over / sizeof over[0]; i++)
        assert_int_equal(json_dec_infer(a, S(over[i]), 1, &s, &v, "v", err, sizeof err), -1);
    /* strings skipped (inside JSON text) are checked as read ones: UTF-8, control characters, escapes */
    static const char *const skipped_bad[] = { "{\"a\":{\"b\":\"\xff\"}}", "{\"a\":[\"x\x01\"]}",
                                               "{\"a\":{\"b\":\"\\q\"}}", "{\"a\":[\"\\ud800\"]}" };
    for (size_t i = 0; i < sizeof skipped_bad / sizeof skipped_bad[0]; i++)
        assert_int_equal(json_dec_infer(a, S(skipped_bad[i]), 1, &s, &v, "v", err, sizeof err), -1);
    assert_int_equal(json_dec_infer(a, S("{\"a\":{\"b\":\"x\\u00e9\\\"y\", \"c\":\"\xc3\xa9\"}}"), 1, &s, &v, "v", err,
                                    sizeof err), 0);
    assert_string_equal(v.u.list.v[0].u.s.p, "{\"b\":\"x\\u00e9\\\"y\",\"c\":\"\xc3\xa9\"}");
    /* numbers under a double schema: the very double strtod gives (the fast path and the slow one), for
     * random mantissas and exponents, written plain and with exponents */
    cs_schema_t *fs = cs_new(a, CT_FLOAT64, false);
    srand(21);
    for (int i = 0; i < 200000; i++) {
        char num[64];
        unsigned long long mant = ((unsigned long long)rand() << 31 ^ (unsigned long long)rand()) >> (rand() % 62);
        int ex = rand() % 60 - 30, form = rand() % 4;
        if (form == 0)
            snprintf(num, sizeof num, "%s%llu.%0*d", rand() % 2 ? "-" : "", mant, rand() % 5 + 1, rand() % 1000);
        else if (form == 1)
            snprintf(num, sizeof num, "%llue%d", mant, ex);
        else if (form == 2)
            snprintf(num, sizeof num, "-0.%0*llu", rand() % 20 + 1, mant % 100000000ULL);
        else
            snprintf(num, sizeof num, "%.*e", rand() % 18, (double)mant * pow(10.0, ex));
        assert_int_equal(json_dec_read(a, fs, S(num), 0, &v, "f", err, sizeof err), 0);
        double want = strtod(num, NULL);
        if (memcmp(&v.u.f, &want, sizeof want))
            fail_msg("%s: %.17g, strtod %.17g", num, v.u.f, want);
    }
    /* a number of many digits is still a number */
    char big[200] = "{\"a\":1.";
    memset(big + 7, '5', 150);
    strcpy(big + 157, "}");
    assert_int_equal(json_dec_infer(a, S(big), 1, &s, &v, "v", err, sizeof err), 0);
    assert_true(v.u.list.v[0].u.f > 1.55 && v.u.list.v[0].u.f < 1.56);
    /* under a schema: the leading zero too; text that is not UTF-8 is left to the target, as before */
    cs_schema_t *st1 = cs_new(a, CT_STRUCT, false);
    cs_field_add(a, st1, "a", cs_new(a, CT_INT32, true));
    cs_field_add(a, st1, "t", cs_new(a, CT_STRING, true));
    assert_int_equal(json_dec_read(a, st1, S("{\"a\":01}"), 0, &v, "v", err, sizeof err), -1);
    assert_int_equal(json_dec_read(a, st1, S("{\"t\":\"\xff\"}"), 0, &v, "v", err, sizeof err), 0);
    arena_free(a);
}

static void test_base64(void **st)
{
    (void)st;
    arena_t *a = arena_new(4096);
    const unsigned char *out;
    size_t ol;
    assert_int_equal(json_dec_base64(a, "AAE=", 4, &out, &ol), 0);
    assert_int_equal(ol, 2);
    assert_int_equal(json_dec_base64(a, "A", 1, &out, &ol), -1);
    assert_int_equal(json_dec_base64(a, "A=A=", 4, &out, &ol), -1);
    assert_int_equal(json_dec_base64(a, "!!!!", 4, &out, &ol), -1);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_infer),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
