/* sinkoffs.c: a sink's positions in its target's walcast_sink_offsets through Connect's offsets endpoints. */
#include "agent/sinkoffs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cfgprov.h"
#include "sinks/apply.h"

typedef struct so_session {
    sk_config_t sc;
    bool parsed;
    const sk_target_ops_t *ops;
    sk_target_t *t;
} so_session_t;

static void so_close(so_session_t *s)
{
    if (s->t)
        s->ops->close(s->t);
    if (s->parsed)
        cfg_sink_free(&s->sc);
}

/* The sink's config as it runs (providers resolved, converters inherited), and a target session. */
static int so_open(const cfg_map_t *wm, const cfg_map_t *config, so_session_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    cfg_map_t m = { 0 };
    cfg_map_copy(&m, config);
    int rc = wm ? cfgprov_resolve(wm, &m, err, errlen) : 0;
    if (rc == 0 && wm)
        cfg_inherit_converters(wm, &m);
    if (rc == 0 && (rc = cfg_sink_parse(&m, &s->sc, err, errlen)) == 0)
        s->parsed = true;
    if (s->parsed) {   /* this session writes no rows: no replication origin (the running sink may hold it) */
        free(s->sc.origin_name);
        s->sc.origin_name = NULL;
    }
    cfg_map_free(&m);
    if (rc < 0)
        return -1;
    if (!(s->ops = sk_target_ops_for(&s->sc))) {
        snprintf(err, errlen, "this walcast has no MongoDB target");
        return -1;
    }
    char e[768];
    if (s->ops->connect(&s->sc, &s->t, e, sizeof e) != WC_OK) {
        s->t = NULL;
        snprintf(err, errlen, "cannot reach the sink's %s target: %s", s->ops->name, e);
        return -1;
    }
    return 0;
}

static void offs_free(sk_offset_t *offs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(offs[i].topic);
    free(offs);
}

static int cmp_off(const void *a, const void *b)
{
    const sk_offset_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

int so_get(void *ctx, const cfg_map_t *config, char **json, char *err, size_t errlen)
{
    so_session_t s;
    sk_offset_t *offs = NULL;
    size_t n = 0;
    int rc = -1;
    if (so_open(ctx, config, &s, err, errlen) < 0)
        goto out;
    char e[768];
    if (s.ops->read_offsets(s.t, s.sc.name, &offs, &n, e, sizeof e) != WC_OK) {
        snprintf(err, errlen, "cannot read walcast_sink_offsets: %s", e);
        goto out;
    }
    qsort(offs, n, sizeof *offs, cmp_off);
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:{s:s,s:i},s:{s:I}}", "partition", "kafka_topic", offs[i].topic,
                                           "kafka_partition", (int)offs[i].partition, "offset", "kafka_offset",
                                           (json_int_t)offs[i].offset));
    *json = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    rc = 0;
out:
    offs_free(offs, n);
    so_close(&s);
    return rc;
}

/* One transaction: the positions to set, then the ones to remove (nset + ndel == 0: remove all). */
static int so_write(void *ctx, const cfg_map_t *config, const sk_offset_t *set, size_t nset, const sk_offset_t *del,
                    size_t ndel, char *err, size_t errlen)
{
    so_session_t s;
    int rc = -1;
    char e[768];
    sk_offset_t *old = NULL;
    size_t nold = 0;
    if (so_open(ctx, config, &s, err, errlen) < 0)
        goto out;
    /* read_offsets creates walcast_sink_offsets when missing, as the sink does at start */
    if (s.ops->read_offsets(s.t, s.sc.name, &old, &nold, e, sizeof e) != WC_OK || s.ops->begin(s.t, e, sizeof e) != WC_OK ||
        s.ops->store_offsets(s.t, s.sc.name, set, nset, e, sizeof e) != WC_OK ||
        ((ndel || !nset) && s.ops->delete_offsets(s.t, s.sc.name, del, ndel, e, sizeof e) != WC_OK) ||
        s.ops->commit(s.t, e, sizeof e) != WC_OK || (s.ops->commit_wait && s.ops->commit_wait(s.t, e, sizeof e) != WC_OK)) {
        s.ops->rollback(s.t);
        snprintf(err, errlen, "cannot change walcast_sink_offsets: %s", e);
        goto out;
    }
    rc = 0;
out:
    offs_free(old, nold);
    so_close(&s);
    return rc;
}

int so_alter(void *ctx, const cfg_map_t *config, const char *json, char *err, size_t errlen)
{
    json_t *a = json_loads(json, 0, NULL);
    size_t n = json_is_array(a) ? json_array_size(a) : 0, nset = 0, ndel = 0;
    sk_offset_t *set = xcalloc(n + 1, sizeof *set), *del = xcalloc(n + 1, sizeof *del);
    for (size_t i = 0; i < n; i++) {   /* rest.c checked the shape */
        json_t *e = json_array_get(a, i), *p = json_object_get(e, "partition"), *o = json_object_get(e, "offset");
        sk_offset_t *to = json_is_object(o) ? &set[nset++] : &del[ndel++];
        to->topic = (char *)json_string_value(json_object_get(p, "kafka_topic"));
        to->partition = (int32_t)json_integer_value(json_object_get(p, "kafka_partition"));
        to->offset = json_is_object(o) ? (int64_t)json_integer_value(json_object_get(o, "kafka_offset")) : 0;
    }
    int rc = nset + ndel ? so_write(ctx, config, set, nset, del, ndel, err, errlen) : 0;
    free(set);
    free(del);
    json_decref(a);
    return rc;
}

int so_reset(void *ctx, const cfg_map_t *config, char *err, size_t errlen)
{
    return so_write(ctx, config, NULL, 0, NULL, 0, err, errlen);
}
