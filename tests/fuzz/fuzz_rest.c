/* fuzz_rest.c: libFuzzer target for the REST API's router and request bodies (rest.c over worker.c, no
 * threads): an input is requests separated by "\n%%\n", each "METHOD /path?k=v&k=v\n" then its body,
 * run in order against one worker so that state-dependent routes are reached. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "agent/rest.h"
#include "agent/worker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One request from text[0..n) (not NUL-terminated; may hold NULs). */
static void one(rest_t *rs, const char *text, size_t n)
{
    const char *nl = memchr(text, '\n', n);
    size_t head = nl ? (size_t)(nl - text) : n;
    char line[2048];
    if (head >= sizeof line)
        head = sizeof line - 1;
    memcpy(line, text, head);
    line[head] = 0;
    char *sp = strchr(line, ' ');
    const char *method = line, *path = "/";
    if (sp) {
        *sp = 0;
        path = sp + 1;
    }
    char *q = strchr((char *)path, '?');
    const char *args[32];
    size_t nargs = 0;
    if (q) {
        *q++ = 0;
        char *save = NULL;
        for (char *kv = strtok_r(q, "&", &save); kv && nargs < 16; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = 0;
            args[2 * nargs] = kv;
            args[2 * nargs + 1] = eq;
            nargs++;
        }
    }
    size_t blen = nl ? n - head - 1 : 0;
    char *body = malloc(blen + 1);
    if (blen)
        memcpy(body, nl + 1, blen);
    body[blen] = 0;
    http_req_t rq = { .method = method, .path = path, .args = args, .nargs = nargs, .body = body, .body_len = blen };
    http_resp_t rp = { 0 };
    rest_handle(rs, &rq, &rp);
    log_set_level(LOG_FATAL);   /* a PUT /admin/loggers would make the rest of the run log */
    if (rp.status < 200 || rp.status > 599)
        abort();   /* every request gets an answer */
    free(rp.body);
    free(rp.location);
    free(body);
}

/* A sink's offsets: the checked body reaches the store, which keeps nothing. */
static int sink_get(void *ctx, const cfg_map_t *config, char **json, char *err, size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    *json = strdup("[]");
    return 0;
}

static int sink_alter(void *ctx, const cfg_map_t *config, const char *json, char *err, size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    return json && *json == '[' ? 0 : -1;
}

static int sink_reset(void *ctx, const cfg_map_t *config, char *err, size_t errlen)
{
    (void)ctx, (void)config, (void)err, (void)errlen;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    log_set_level(LOG_FATAL);
    rest_t rs = { .worker = wrk_new(NULL, "127.0.0.1:8083", NULL, NULL), .kafka_cluster_id = "fuzz",
                  .sink_offsets = { NULL, sink_get, sink_alter, sink_reset } };
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *sep = NULL;
        for (const char *s = p; s + 4 <= end; s++)
            if (!memcmp(s, "\n%%\n", 4)) {
                sep = s;
                break;
            }
        size_t n = sep ? (size_t)(sep - p) : (size_t)(end - p);
        one(&rs, p, n);
        p += n + (sep ? 4 : 0);
    }
    wrk_free(rs.worker);
    log_set_level(LOG_INFO);
    return 0;
}

#ifdef WALCAST_FUZZ_REPLAY
#include "tests/fuzz/replay.h"
#endif
