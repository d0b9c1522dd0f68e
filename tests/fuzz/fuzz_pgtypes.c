/* fuzz_pgtypes.c: libFuzzer target for the text -> value converters: byte 0 picks a type, byte 1 the
 * handling modes, the rest is the server's text. */
#include <stddef.h>
#include <stdint.h>

#include "decoder/pgtypes.h"
#include "schemas/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t oids[] = { 16, 17, 20, 21, 23, 26, 114, 600, 700, 701, 790, 1007, 1009, 1016, 1042, 1082,
                                 1083, 1114, 1184, 1186, 1266, 1560, 1562, 1700, 2950, 3802, 1231, 1185, 1001 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static arena_t *a;
    static buf_t b;
    if (!a)
        a = arena_new(4096);
    arena_reset(a);
    buf_reset(&b);
    pgt_opts_t o;
    pgt_opts_default(&o);
    o.decimal = (pgt_decimal_mode_t)(data[1] % 3);
    o.time = (pgt_time_mode_t)((data[1] >> 2) % 3);
    o.binary = (pgt_binary_mode_t)((data[1] >> 4) % 4);
    o.interval = (pgt_interval_mode_t)((data[1] >> 6) & 1);
    o.hstore = (pgt_hstore_mode_t)(data[1] >> 7);
    pgt_coltype_t t;
    char err[256];
    int32_t typmods[] = { -1, 3, 8, (10 << 16 | 3) + 4 };
    if (pgt_resolve(NULL, a, oids[data[0] % (sizeof oids / sizeof oids[0])], typmods[(data[0] >> 5) % 4], &t, err, sizeof err) < 0)
        return 0;
    cs_schema_t *s = pgt_schema(a, &t, true, &o);
    cv_value_t v;
    if (s && pgt_value(a, &t, &o, (const char *)data + 2, size - 2, &v, err, sizeof err) == 0)
        json_enc_value(&b, s, &v);
    cv_value_t d;
    char expr[64];
    size_t n = size - 2 < sizeof expr - 1 ? size - 2 : sizeof expr - 1;
    for (size_t i = 0; i < n; i++)
        expr[i] = data[2 + i] ? (char)data[2 + i] : ' ';
    expr[n] = '\0';
    if (s && pgt_default(a, &t, &o, expr, &d))
        json_enc_value(&b, s, &d);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
