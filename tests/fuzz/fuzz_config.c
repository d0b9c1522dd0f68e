/* fuzz_config.c: libFuzzer target for the .properties and JSON connector-config parsers and the
 * validation behind them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/config.h"
#include "agent/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_FATAL);
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char err[512];
    for (int json = 0; json < 2; json++) {
        cfg_map_t m = { 0 };
        int rc = json ? cfg_parse_json(text, &m, err, sizeof err) : cfg_parse_properties(text, &m, err, sizeof err);
        if (rc == 0) {
            conn_config_t c;
            if (cfg_connector_parse(&m, &c, err, sizeof err) == 0)
                cfg_connector_free(&c);
        }
        cfg_map_free(&m);
    }
    free(text);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
