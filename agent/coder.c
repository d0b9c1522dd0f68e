/* coder.c: a connector's transforms and converter for one encoding thread (see coder.h). */
#include "agent/coder.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/connector.h"
#include "agent/log.h"

static bool registry_failed(const char *side, char *err, size_t errlen)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", err);
    snprintf(err, errlen, "invalid %s schema registry settings: %s", side, tmp);
    return false;
}

bool coder_open(coder_t *c, const conn_config_t *cfg, const char *skip_msg, bool log_registry, coder_wait_fn wait,
                void *wait_ctx, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->skip_msg = skip_msg;
    c->log_registry = log_registry;
    c->wait = wait;
    c->wait_ctx = wait_ctx;
    conv_side_t ks = cfg->key_conv.side, vs = cfg->value_conv.side;
    if (cfg->key_conv.avro) {
        sr_config_t sc = conn_registry_config(&cfg->key_conv);
        if (!(ks.registry = c->sr_key = sr_new(&sc, err, errlen)))
            return registry_failed("key.converter", err, errlen);
    }
    if (cfg->value_conv.avro) {
        sr_config_t sc = conn_registry_config(&cfg->value_conv);
        if (!(vs.registry = c->sr_value = sr_new(&sc, err, errlen)))
            return registry_failed("value.converter", err, errlen);
    }
    c->conv = conv_new(&ks, &vs);
    if (cfg->transforms) {
        c->tf = tf_chain_new(cfg->transforms);
        c->tf_arena = arena_new(64 * 1024);
    }
    return true;
}

void coder_close(coder_t *c)
{
    conv_free(c->conv);
    sr_free(c->sr_key);
    sr_free(c->sr_value);
    tf_chain_free(c->tf);
    arena_free(c->tf_arena);
    memset(c, 0, sizeof *c);
}

wc_status_t coder_encode(coder_t *c, const rec_event_t *ev, rec_t *out, bool *none, char *err, size_t errlen)
{
    rec_event_t tev;
    *none = false;
    if (c->tf) {
        bool dropped;
        arena_reset(c->tf_arena);
        wc_status_t st = tf_chain_apply(c->tf, c->tf_arena, ev, &tev, &dropped, err, errlen);
        if (st == WC_PERMANENT && c->cfg->errors_tolerance_all) {
            uint64_t n = atomic_fetch_add(&c->skipped, 1) + 1;
            log_warn(c->skip_msg, "connector=%s topic=%s skipped=%llu error=\"%s\"", c->cfg->name, ev->topic,
                     (unsigned long long)n, log_esc(err));
            *none = true;
            return WC_OK;
        }
        if (st == WC_OK && err[0])
            log_warn("transform warning", "connector=%s warning=\"%s\"", c->cfg->name, log_esc(err));
        if (st != WC_OK || dropped) {
            *none = true;
            return st;
        }
        ev = &tev;
    }
    wc_status_t st;
    /* the registry away: conv_encode is called again from the start once the wait is over (a side
     * already registered answers from its cache) */
    while ((st = conv_encode(c->conv, ev, out, err, errlen)) == WC_RETRY) {
        const char *why;
        int ms = sr_retry_in_ms(c->sr_key, &why);
        if (!ms)
            ms = sr_retry_in_ms(c->sr_value, &why);
        if (!ms)
            break;
        if (!c->wait || !c->wait(c->wait_ctx, ms, why)) {
            char tmp[512];
            snprintf(tmp, sizeof tmp, "%s", err);
            snprintf(err, errlen, "%s; stopped waiting", tmp);
            break;
        }
    }
    if (c->log_registry && conv_registry_requests(c->conv) != c->sr_requests) {
        c->sr_requests = conv_registry_requests(c->conv);
        log_info("schema registry answered", "connector=%s topic=%s", c->cfg->name, ev->topic);
    }
    return st;
}

bool coder_nap(int ms, bool (*quit)(void *ctx), void *ctx)
{
    for (int waited = 0; waited < ms; waited += 50) {
        if (quit(ctx))
            return false;
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
    return true;
}
