/* fuzz_envelope.c: libFuzzer target for the sinks' Debezium envelope decoder. The input is the Kafka key,
 * a NUL byte, then the value (no NUL: a record without key); each input is decoded twice, the second time
 * through the schema cache. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sinks/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    for (int i = 0; i < 2; i++) {
        if (env_decode_json(d, a, key, klen, val, vlen, &ev, err, sizeof err) == 0 && ev.row_schema && ev.has_after) {
            /* walk what came out: every field value is readable */
            volatile size_t n = 0;
            for (size_t f = 0; f < ev.row_schema->nfields && f < ev.after.u.list.n; f++)
                n += ev.after.u.list.v[f].null;
        }
        arena_reset(a);
    }
    arena_free(a);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
