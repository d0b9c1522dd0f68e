/* fuzz_envelope.c: libFuzzer target for the sinks' record decoders, schemas/json_dec.c and schemas/avro_dec.c,
 * through the Debezium envelope on top of them (sinks/envelope.c). The input is the Kafka key,
 * a NUL byte, then the value (no NUL: a record without key); each input is decoded twice, the second time
 * through the schema cache. An input that starts with a NUL byte is an Avro value (Confluent wire format)
 * whose schema id 1 is a Debezium-like envelope, id 3 one with unions and MapEntry maps, and id 2 the input's own
 * bytes taken as a schema text. Each input is also decoded as a sink with transforms= decodes (env_decode_record)
 * and read back as a change (env_event_from_record). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sinks/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_bytes;
static size_t fuzz_len;

static int fetch(void *ctx, int32_t id, buf_t *out, char *err, size_t errlen)
{
    (void)ctx;
    if (id == 1) {
        buf_puts(out, "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"srv.t\",\"fields\":["
                      "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
                      "{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"s\",\"type\":[\"null\",\"string\"]},"
                      "{\"name\":\"d\",\"type\":[\"null\",{\"type\":\"bytes\",\"connect.name\":"
                      "\"org.apache.kafka.connect.data.Decimal\",\"connect.parameters\":{\"scale\":\"2\"}}]},"
                      "{\"name\":\"a\",\"type\":[\"null\",{\"type\":\"array\",\"items\":\"long\"}]},"
                      "{\"name\":\"m\",\"type\":[\"null\",{\"type\":\"map\",\"values\":\"double\"}]},"
                      "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\",\"y\"]}},"
                      "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}}]}],\"default\":null},"
                      "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},{\"name\":\"op\",\"type\":\"string\"}]}");
        return 0;
    }
    if (id == 3) {   /* unions beyond [null, T], MapEntry arrays, logical types without connect.name */
        buf_puts(out, "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"srv.u\",\"fields\":["
                      "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
                      "{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"u\",\"type\":[\"null\",\"string\",\"long\"]},"
                      "{\"name\":\"r\",\"type\":[\"string\",{\"type\":\"record\",\"name\":\"R\",\"fields\":["
                      "{\"name\":\"x\",\"type\":\"int\"}]},\"null\"]},"
                      "{\"name\":\"me\",\"type\":{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"MapEntry\","
                      "\"namespace\":\"io.confluent.connect.avro\",\"fields\":[{\"name\":\"key\",\"type\":\"int\"},"
                      "{\"name\":\"value\",\"type\":[\"null\",\"string\"]}]}}},"
                      "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}}]}],"
                      "\"default\":null},{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},{\"name\":\"op\",\"type\":\"string\"}]}");
        return 0;
    }
    if (id == 2) {
        buf_append(out, fuzz_bytes, fuzz_len);
        return 0;
    }
    snprintf(err, errlen, "no schema %d", id);
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static env_decoder_t *d;
    if (!d)
        d = env_decoder_new();
    arena_t *a = arena_new(4096);
    const char *p = (const char *)data;
    const char *nul = memchr(p, 0, size);
    const char *key = nul ? p : NULL, *val = nul ? nul + 1 : p;
    size_t klen = nul ? (size_t)(nul - p) : 0, vlen = nul ? size - klen - 1 : size;
    env_event_t ev;
    char err[256];
    if (size && data[0] == 0) {
        /* Avro: a fresh decoder each time (schema id 2 is this input) */
        env_decoder_t *ad = env_decoder_new();
        fuzz_bytes = p + 1;
        fuzz_len = size - 1;
        for (int i = 0; i < 2; i++) {
            env_decode_avro(ad, a, NULL, 0, p, size, fetch, NULL, &ev, err, sizeof err);
            arena_reset(a);
        }
        /* as a sink with transforms decodes it, then reads the (untransformed) record as a change */
        env_record_t r;
        if (env_decode_record(ad, a, NULL, 0, p, size, fetch, NULL, &r, err, sizeof err) == 0)
            env_event_from_record(r.ks, &r.key, r.vs, &r.value, &ev, err, sizeof err);
        arena_reset(a);
        env_decoder_free(ad);
        arena_free(a);
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        if (env_decode_json(d, a, key, klen, val, vlen, &ev, err, sizeof err) == 0 && ev.row_schema && ev.has_after) {
            /* walk what came out: every field value is readable */
            volatile size_t n = 0;
            for (size_t f = 0; f < ev.row_schema->nfields && f < ev.after.u.list.n; f++)
                n += ev.after.u.list.v[f].null;
        }
        arena_reset(a);
    }
    env_record_t r;
    if (env_decode_record(d, a, key, klen, val, vlen, NULL, NULL, &r, err, sizeof err) == 0)
        env_event_from_record(r.ks, &r.key, r.vs, &r.value, &ev, err, sizeof err);
    arena_free(a);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
