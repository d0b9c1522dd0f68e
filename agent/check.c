/* check.c: `walcast check` and the checks behind REST's config/validate: the connector's configuration,
 * then each server prerequisite, one result with the exact fix each; nothing is changed on any server. */
#include "agent/check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "schemas/buf.h"

void chk_add(chk_list_t *l, const char *name, const char *key, bool ok, const char *fix, const char *fmt, ...)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = xrealloc(l->v, l->cap * sizeof *l->v);
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    chk_result_t *r = &l->v[l->n++];
    r->name = xstrdup(name);
    r->key = xstrdup(key ? key : "");
    r->ok = ok;
    r->message = xstrdup(msg);
    r->fix = !ok && fix ? xstrdup(fix) : NULL;
}

size_t chk_failures(const chk_list_t *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += !l->v[i].ok;
    return n;
}

void chk_print(const chk_list_t *l, FILE *f)
{
    for (size_t i = 0; i < l->n; i++) {
        const chk_result_t *r = &l->v[i];
        fprintf(f, "%-4s %s: %s\n", r->ok ? "OK" : "FAIL", r->name, r->message);
        if (!r->ok && r->fix)
            fprintf(f, "     fix: %s\n", r->fix);
    }
}

void chk_list_free(chk_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].key);
        free(l->v[i].message);
        free(l->v[i].fix);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* The config key a parse error is about, for Connect's per-key error lists: the longest key of the map
 * (or of the keys that may be missing) that the message names as a whole word. Attribution only: no
 * decision is taken from the wording. */
static const char *error_key(const char *err, const cfg_map_t *m, bool sink)
{
    static const char *const absent[] = { "name", "connector.class", "database.hostname", "database.user",
                                          "database.dbname", "topic.prefix", "topics", "topics.regex",
                                          "connection.url", "mongodb.connection.string", "sink.database", NULL };
    const char *best = NULL;
    size_t bestlen = 0;
    for (size_t i = 0; i < m->n + 11; i++) {
        const char *k = i < m->n ? m->kv[i].key : absent[i - m->n];
        if (!k)
            break;
        size_t kl = strlen(k);
        if (kl <= bestlen)
            continue;
        for (const char *p = strstr(err, k); p; p = strstr(p + 1, k)) {
            char before = p == err ? ' ' : p[-1], after = p[kl];
            bool word_before = before == '.' || before == '_' || before == '-' || (before >= 'a' && before <= 'z');
            bool word_after = after == '.' || after == '_' || after == '-' || (after >= 'a' && after <= 'z');
            if (!word_before && !word_after) {
                best = k;
                bestlen = kl;
                break;
            }
        }
    }
    return best ? best : sink ? "connection.url" : "connector.class";
}

/* The configuration itself; fills *c or *sc (the caller frees the one that parsed). */
static bool check_config(const cfg_map_t *wm, const cfg_map_t *m, bool sink, conn_config_t *c, sk_config_t *sc,
                         chk_list_t *out)
{
    char err[1024];
    cfg_map_t mm = { 0 };
    for (size_t i = 0; i < m->n; i++)
        cfg_map_set(&mm, m->kv[i].key, m->kv[i].value);
    if (wm)
        cfg_inherit_converters(wm, &mm);
    int rc = sink ? cfg_sink_parse(&mm, sc, err, sizeof err) : cfg_connector_parse(&mm, c, err, sizeof err);
    if (rc < 0)
        chk_add(out, "config", error_key(err, &mm, sink), false, "correct the connector configuration as the message says",
                "%s", err);
    else
        chk_add(out, "config", "connector.class", true, NULL, "%s configuration is valid",
                sink ? "sink connector" : "source connector");
    cfg_map_free(&mm);
    return rc == 0;
}

int chk_connector(const cfg_map_t *wm, const worker_config_t *w, const cfg_map_t *m, const chk_opts_t *o,
                  chk_list_t *out)
{
    size_t first = out->n;
    bool sink = cfg_is_sink(m);
    conn_config_t c;
    sk_config_t sc;
    (void)w;
    (void)o;
    if (!check_config(wm, m, sink, &c, &sc, out))
        goto out;
    if (sink)
        cfg_sink_free(&sc);
    else
        cfg_connector_free(&c);
out:;
    for (size_t i = first; i < out->n; i++)
        if (!out->v[i].ok)
            return 1;
    return 0;
}

int chk_main(int argc, char **argv)
{
    const char *worker_file = NULL;
    int nfiles = 0, rc = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--worker") && i + 1 < argc)
            worker_file = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "walcast check: unknown option %s\n", argv[i]);
            return 2;
        } else
            nfiles++;
    }
    if (!nfiles) {
        fprintf(stderr, "walcast check: give at least one connector file (.properties or .json)\n");
        return 2;
    }
    char err[1024];
    cfg_map_t wm = { 0 };
    worker_config_t w = { 0 };
    if (worker_file && cfg_load_file(worker_file, &wm, err, sizeof err) < 0) {
        printf("FAIL worker: %s\n", err);
        rc = 1;
        goto out;
    }
    if (cfg_worker_parse(&wm, &w, err, sizeof err) < 0) {
        printf("FAIL worker: %s\n", err);
        rc = 1;
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--worker")) {
            i++;
            continue;
        }
        chk_list_t l = { 0 };
        cfg_map_t m = { 0 };
        printf("== %s\n", argv[i]);
        if (cfg_load_file(argv[i], &m, err, sizeof err) < 0)
            chk_add(&l, "config", "", false, "give a .properties file or a JSON file ({\"name\":…,\"config\":{…}})",
                    "%s", err);
        else {
            chk_opts_t o = { 0 };
            chk_connector(&wm, &w, &m, &o, &l);
        }
        chk_print(&l, stdout);
        if (chk_failures(&l))
            rc = 1;
        chk_list_free(&l);
        cfg_map_free(&m);
    }
    printf(rc ? "walcast check: not ready: fix the FAIL lines above\n" : "walcast check: ready to stream\n");
out:
    cfg_worker_free(&w);
    cfg_map_free(&wm);
    return rc;
}
