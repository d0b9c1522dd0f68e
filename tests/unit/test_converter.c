/* test_converter.c: schemas/converter.c, key.converter/value.converter: the JSON converter with and
 * without schemas (schema text made once per schema and cached in its codec), tombstones and null
 * keys, and the classification of Avro failures (no registry: fatal; a value its schema cannot take:
 * permanent, so the connector stops on that record instead of looping). */
#include "tests/unit/testutil.h"

#include "schemas/converter.h"

typedef struct fixture {
    arena_t *a;
    cs_schema_t *key, *value;
    cv_value_t k, v;
    rec_codec_t kc, vc;
} fixture_t;

static void fixture_init(fixture_t *f)
{
    f->a = arena_new(4096);
    f->key = cs_new(f->a, CT_STRUCT, false);
    f->key->name = "srv.public.t.Key";
    cs_field_add(f->a, f->key, "id", cs_new(f->a, CT_INT32, false));
    f->value = cs_new(f->a, CT_STRUCT, false);
    f->value->name = "srv.public.t.Value";
    cs_field_add(f->a, f->value, "id", cs_new(f->a, CT_INT32, false));
    cs_field_add(f->a, f->value, "name", cs_new(f->a, CT_STRING, true));
    f->k = cv_list(f->a, 1);
    f->k.u.list.v[0] = cv_int(7);
    f->v = cv_list(f->a, 2);
    f->v.u.list.v[0] = cv_int(7);
    f->v.u.list.v[1] = cv_str("x", 1);
    rec_codec_bind(&f->kc, f->key);
    rec_codec_bind(&f->vc, f->value);
}

static void fixture_free(fixture_t *f)
{
    rec_codec_free(&f->kc);
    rec_codec_free(&f->vc);
    arena_free(f->a);
}

static rec_event_t event(fixture_t *f)
{
    rec_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.topic = "srv.public.t";
    ev.kc = &f->kc;
    ev.key = &f->k;
    ev.vc = &f->vc;
    ev.value = &f->v;
    ev.op = 'c';
    ev.headers[ev.nheaders++] = (rec_header_t){ .key = "h", .value = "v", .len = 1 };
    return ev;
}

static void test_json(void **s)
{
    (void)s;
    fixture_t f;
    fixture_init(&f);
    char err[256];
    conv_side_t ks = { .kind = CONV_JSON, .schemas = false }, vs = { .kind = CONV_JSON, .schemas = true };
    conv_t *c = conv_new(&ks, &vs);
    rec_event_t ev = event(&f);
    rec_t r;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    assert_string_equal(r.topic, "srv.public.t");
    assert_int_equal(r.op, 'c');
    assert_int_equal(r.nheaders, 1);
    assert_memory_equal(r.key, "{\"id\":7}", r.keylen);
    const char *want = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
                       "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"}],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
                       "\"payload\":{\"id\":7,\"name\":\"x\"}}";
    assert_int_equal(r.valuelen, strlen(want));
    assert_memory_equal(r.value, want, r.valuelen);
    assert_true(f.vc.ready);   /* the schema text is kept for the next record */
    /* a tombstone: key, no value */
    ev.value = NULL;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    assert_null(r.value);
    assert_non_null(r.key);
    /* a null key */
    ev.kc = NULL;
    ev.value = &f.v;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    assert_null(r.key);
    conv_free(c);
    fixture_free(&f);
}

static void test_avro_failures(void **s)
{
    (void)s;
    fixture_t f;
    fixture_init(&f);
    char err[256];
    conv_side_t avro = { .kind = CONV_AVRO, .meta = true };
    conv_t *c = conv_new(&avro, &avro);
    rec_event_t ev = event(&f);
    rec_t r;
    /* no registry client: nothing can be written, stop */
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_FATAL);
    assert_non_null(strstr(err, "schema registry"));
    /* ids known (as after the registry answered): a value its schema cannot take is permanent */
    f.kc.id = 1;
    f.vc.id = 2;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    assert_int_equal(((const uint8_t *)r.value)[0], 0);   /* Confluent wire format: magic byte */
    f.v.u.list.v[0] = cv_null();                           /* a required field without default */
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_PERMANENT);
    assert_non_null(strstr(err, "srv.public.t"));
    conv_free(c);
    fixture_free(&f);
}

/* A codec given another schema (a schema change while the codec lives) makes its cached parts again: the
 * JSON schema text and keys, and the Avro schema id (asked for again, not reused for the new schema). Failed
 * before the codec remembered the schema uid its text was made for: the old schema text was written. */
static void test_codec_schema_change(void **s)
{
    (void)s;
    fixture_t f;
    fixture_init(&f);
    char err[256];
    conv_side_t ks = { .kind = CONV_JSON, .schemas = false }, vs = { .kind = CONV_JSON, .schemas = true };
    conv_t *c = conv_new(&ks, &vs);
    rec_event_t ev = event(&f);
    rec_t r;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    assert_null(memmem(r.value, r.valuelen, "extra", 5));
    cs_schema_t *v2 = cs_new(f.a, CT_STRUCT, false);
    v2->name = "srv.public.t.Value";
    cs_field_add(f.a, v2, "id", cs_new(f.a, CT_INT32, false));
    cs_field_add(f.a, v2, "extra", cs_new(f.a, CT_INT64, true));
    cv_value_t w = cv_list(f.a, 2);
    w.u.list.v[0] = cv_int(8);
    w.u.list.v[1] = cv_int(9);
    f.vc.schema = v2;
    ev.value = &w;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    const char *want = "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"
                       "{\"type\":\"int64\",\"optional\":true,\"field\":\"extra\"}],\"optional\":false,\"name\":\"srv.public.t.Value\"},"
                       "\"payload\":{\"id\":8,\"extra\":9}}";
    assert_int_equal(r.valuelen, strlen(want));
    assert_memory_equal(r.value, want, r.valuelen);
    conv_free(c);

    /* Avro: the id registered for the old schema is not used for the new one */
    conv_side_t avro = { .kind = CONV_AVRO, .meta = true };
    c = conv_new(&avro, &avro);
    rec_codec_free(&f.kc);
    rec_codec_free(&f.vc);
    rec_codec_bind(&f.kc, f.key);
    rec_codec_bind(&f.vc, f.value);
    ev.value = &f.v;
    f.kc.id = 1;
    f.vc.id = 2;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_OK);
    f.vc.schema = v2;
    ev.value = &w;
    assert_int_equal(conv_encode(c, &ev, &r, err, sizeof err), WC_FATAL);   /* no registry to ask */
    assert_non_null(strstr(err, "schema registry"));
    assert_int_equal(f.vc.id, -1);
    conv_free(c);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_schema_change),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_avro_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
