/* fuzz_pgoutput.c: libFuzzer target for the walsender CopyData frame and every pgoutput message, in and
 * out of a streamed block; with -DWALCAST_FUZZ_REPLAY it is a plain program replaying files. */
#include <stddef.h>
#include <stdint.h>

#include "decoder/pgoutput.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static arena_t *a;
    if (!a)
        a = arena_new(4096);
    char err[256];
    pgo_copydata_t cd;
    if (pgo_parse_copydata(data, size, &cd, err, sizeof err) == 0 && cd.kind == 'w') {
        pgo_state_t st = { 2, false };
        pgo_msg_t m;
        pgo_parse(&st, cd.payload, cd.payload_len, a, &m, err, sizeof err);
    }
    for (int in_stream = 0; in_stream < 2; in_stream++) {
        pgo_state_t st = { 4, in_stream != 0 };
        pgo_msg_t m;
        arena_reset(a);
        if (pgo_parse(&st, data, size, a, &m, err, sizeof err) == 0 &&
            (m.type == PGO_INSERT || m.type == PGO_UPDATE || m.type == PGO_DELETE)) {
            /* touch every column so ASan sees any out-of-bounds pointer */
            volatile unsigned sum = 0;
            for (uint16_t i = 0; i < m.u.change.new_tuple.ncols; i++)
                for (uint32_t k = 0; k < m.u.change.new_tuple.cols[i].len; k++)
                    sum += (unsigned char)m.u.change.new_tuple.cols[i].data[k];
            (void)sum;
        }
    }
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
