/* fuzz_config.c: libFuzzer target for the .properties and JSON connector-config parsers, the config
 * providers' ${provider:path:key} variables, and the validation behind them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/cfgprov.h"
#include "agent/config.h"
#include "agent/log.h"
#include "schemas/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The providers' files live in a folder of this process; "@D" in an input stands for its path, so seeds
 * can name files that exist. file and dir are confined to it by allowed.paths: nothing else is read. */
static char dir[64];

static void put(const char *name, const char *text)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void cleanup(void)
{
    char p[128];
    static const char *const names[] = { "a.properties", "d/pw", "d/sub", "d", NULL };
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
    rmdir(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/walcast-fuzz-config.XXXXXX");
    if (!mkdtemp(dir))
        abort();
    put("a.properties", "database.password=pw\nport=5433\nnested=${env:WC_FUZZ_PW}\n");
    char p[128];
    snprintf(p, sizeof p, "%s/d", dir);
    mkdir(p, 0700);
    put("d/pw", "secret\n");
    snprintf(p, sizeof p, "%s/d/sub", dir);
    mkdir(p, 0700);
    setenv("WC_FUZZ_PW", "envpw", 1);
    atexit(cleanup);
}

/* The worker keys of the three providers, confined to dir. */
static void fixed_providers(cfg_map_t *pm)
{
    cfg_map_set(pm, "config.providers", "file,env,dir");
    cfg_map_set(pm, "config.providers.file.class", "org.apache.kafka.common.config.provider.FileConfigProvider");
    cfg_map_set(pm, "config.providers.env.class", "org.apache.kafka.common.config.provider.EnvVarConfigProvider");
    cfg_map_set(pm, "config.providers.dir.class", "org.apache.kafka.common.config.provider.DirectoryConfigProvider");
    cfg_map_set(pm, "config.providers.file.param.allowed.paths", dir);
    cfg_map_set(pm, "config.providers.dir.param.allowed.paths", dir);
    cfg_map_set(pm, "config.providers.env.param.allowlist.pattern", "WC_FUZZ_.*");
}

/* The input's own provider declarations (names, classes, allowlist patterns), every name confined to dir. */
static void own_providers(const cfg_map_t *m, cfg_map_t *pm)
{
    cfg_map_copy(pm, m);
    const char *list = cfg_get(m, "config.providers");
    if (!list)
        return;
    char *names = strdup(list);
    for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
        char key[512];
        snprintf(key, sizeof key, "config.providers.%s.param.allowed.paths", n);
        cfg_map_set(pm, key, dir);
    }
    free(names);
}

static void resolve_and_parse(const cfg_map_t *pm, const cfg_map_t *m)
{
    char err[512];
    cfg_map_t r = { 0 };
    cfg_map_copy(&r, m);
    if (cfgprov_resolve(pm, &r, err, sizeof err) == 0) {
        conn_config_t c;
        if (cfg_connector_parse(&r, &c, err, sizeof err) == 0)
            cfg_connector_free(&c);
    }
    cfg_map_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_FATAL);
    if (!dir[0])
        setup();
    buf_t t;
    buf_init(&t);
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '@' && i + 1 < size && data[i + 1] == 'D') {
            buf_puts(&t, dir);
            i++;
        } else
            buf_putc(&t, (char)data[i]);
    }
    char *text = (char *)buf_cstr(&t);
    char err[512];
    for (int json = 0; json < 2; json++) {
        cfg_map_t m = { 0 };
        int rc = json ? cfg_parse_json(text, &m, err, sizeof err) : cfg_parse_properties(text, &m, err, sizeof err);
        if (rc == 0) {
            conn_config_t c;
            if (cfg_connector_parse(&m, &c, err, sizeof err) == 0)
                cfg_connector_free(&c);
            cfg_map_t pm = { 0 };
            fixed_providers(&pm);
            resolve_and_parse(&pm, &m);
            cfg_map_free(&pm);
            own_providers(&m, &pm);
            resolve_and_parse(&pm, &m);
            cfg_map_free(&pm);
        }
        cfg_map_free(&m);
    }
    buf_free(&t);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
