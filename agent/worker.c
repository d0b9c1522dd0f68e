/* worker.c: the connectors and sinks of one process and their status. Each runs in its own thread; a
 * failure is kept as that connector's trace and never stops the others. Lifecycle changes of one
 * connector are serialised by its own mutex and wait for its thread to end cleanly, without holding
 * the worker's lock, so status requests are answered meanwhile. */
#include "agent/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/cfgprov.h"
#include "agent/log.h"
#include "schemas/buf.h"
#include "schemas/clock.h"

typedef struct wrk_conn {
    char *name;
    cfg_map_t config;
    bool sink;
    int refs;                     /* w->mu: lookups in flight; freed at 0 once deleted */
    bool deleted;                 /* w->mu: no longer listed */
    pthread_mutex_t op;           /* one lifecycle change at a time */
    /* w->mu: */
    wrk_target_t target;
    wrk_state_t state, task_state;
    char *trace, *task_trace;
    /* op (and the thread, for done/err): */
    pthread_t thread;
    bool foreign;                 /* w->mu: a config walcast cannot run (kept as it is, FAILED) */
    bool live;                    /* a thread was started and not joined */
    bool done;                    /* w->mu: its thread has returned */
    bool mine;                    /* op: owned by this worker at its last start or rebalance (cluster mode) */
    uint64_t mine_tasks;          /* op and w->mu: the tasks (bit n: task n) of it this worker runs, as of then */
    int64_t reasserted_ms;        /* w->mu: when its status was last written again over another worker's */
    volatile sig_atomic_t stop;
    cfg_map_t run_config;         /* the thread's own copy */
    struct wrk *w;
} wrk_conn_t;

struct wrk {
    pthread_mutex_t mu;
    pthread_mutex_t put_mu;       /* one create/reconfigure at a time from its exists check to its registry entry:
                                     two creates of one name must not both write the config topic and answer 201 */
    wrk_conn_t **c;
    size_t n, cap;
    cfg_map_t worker_map;
    char *worker_id;
    wrk_run_fn run;
    void *run_ctx;
    volatile sig_atomic_t *fail_stop;
    bool any_failed;
    wrk_store_t store;            /* set before any connector exists */
    bool tracking, allow_reset;   /* topic.tracking.enable, topic.tracking.allow.reset */
    unsigned topic_epoch;         /* atomic: bumped by a reset, so publishers and sinks tell their topics again */
    struct wrk_topic {            /* mu: the active topics of each connector name */
        char *name, *topic;
    } *topics;
    size_t ntopics;
    wrk_owns_fn owns;             /* cluster mode: whether this worker runs a connector (NULL: every one) */
    void *owns_ctx;
    struct wrk_rstatus {          /* mu: statuses read from the status topic (any worker's) */
        char *name, *state, *trace, *worker_id;
        int task;
    } *rst;
    size_t nrst;
};

const char *wrk_state_name(wrk_state_t s)
{
    static const char *const names[] = { "UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "UNASSIGNED";
}

wrk_t *wrk_new(const cfg_map_t *worker_map, const char *worker_id, wrk_run_fn run, void *run_ctx)
{
    wrk_t *w = xcalloc(1, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_mutex_init(&w->put_mu, NULL);
    if (worker_map)
        cfg_map_copy(&w->worker_map, worker_map);
    w->worker_id = xstrdup(worker_id ? worker_id : "127.0.0.1:8083");
    w->run = run;
    w->run_ctx = run_ctx;
    const char *tr = worker_map ? cfg_get(worker_map, "topic.tracking.enable") : NULL;
    const char *ar = worker_map ? cfg_get(worker_map, "topic.tracking.allow.reset") : NULL;
    w->tracking = !tr || strcasecmp(tr, "false");
    w->allow_reset = !ar || strcasecmp(ar, "false");
    return w;
}

const char *wrk_worker_id(const wrk_t *w) { return w->worker_id; }

void wrk_set_fail_stop(wrk_t *w, volatile sig_atomic_t *flag) { w->fail_stop = flag; }

void wrk_set_store(wrk_t *w, const wrk_store_t *s) { w->store = *s; }

void wrk_set_owner(wrk_t *w, wrk_owns_fn owns, void *ctx)
{
    w->owns_ctx = ctx;
    w->owns = owns;
}

static bool owned(const wrk_t *w, const char *name)
{
    return !w->owns || w->owns(w->owns_ctx, name);
}

bool wrk_runs(wrk_t *w, const char *name, int task)
{
    char key[512];
    if (task > 0)
        snprintf(key, sizeof key, "%s-%d", name, task);
    else
        snprintf(key, sizeof key, "%s", name);
    return owned(w, key);
}

static int tasks_of(bool sink, const cfg_map_t *config);

/* The tasks of e this worker runs (bit n: task n). Cluster mode: each task of a sink with tasks.max > 1 is
 * its own unit of assignment, task 0 by the connector's name (so it goes with the connector's status),
 * task n by "<name>-<n>"; a source, or a one-task sink, by its name. */
static uint64_t tasks_owned(const wrk_t *w, const wrk_conn_t *e)
{
    int n = tasks_of(e->sink, &e->config);
    uint64_t m = 0;
    for (int t = 0; t < n; t++) {
        char key[256];
        if (t == 0)
            snprintf(key, sizeof key, "%s", e->name);
        else
            snprintf(key, sizeof key, "%s-%d", e->name, t);
        if (owned(w, key))
            m |= (uint64_t)1 << t;
    }
    return m;
}

/* How many tasks a connector runs: a sink's tasks.max (its tasks share one state), a source 1. */
static int tasks_of(bool sink, const cfg_map_t *config)
{
    const char *v = sink ? cfg_get(config, "tasks.max") : NULL;
    long n = v ? strtol(v, NULL, 10) : 1;
    return n < 1 ? 1 : n > SK_TASKS_MAX ? SK_TASKS_MAX : (int)n;
}

/* The connector's and its tasks' status into the store (w->mu not held): those of mine (bit n: task n;
 * bit 0 the connector too); ntasks 0: the tasks are gone (stopped). */
static void publish_status(wrk_t *w, const char *name, wrk_state_t cs, const char *ctrace, int ntasks, int ntasks_max,
                           uint64_t mine, wrk_state_t ts, const char *ttrace)
{
    if (!w->store.status)
        return;
    if (mine & 1)   /* the connector goes with its task 0 */
        w->store.status(w->store.ctx, name, -1, cs, ctrace, w->worker_id, false);
    for (int t = 0; t < ntasks_max; t++)
        if (mine & ((uint64_t)1 << t))
            w->store.status(w->store.ctx, name, t, ts, ttrace, w->worker_id, ntasks == 0);
}

static void publish_of(wrk_t *w, struct wrk_conn *e);

size_t wrk_active(wrk_t *w, bool *any_failed)
{
    size_t n = 0;
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n; i++)
        n += w->c[i]->live && !w->c[i]->done;
    *any_failed = w->any_failed;
    pthread_mutex_unlock(&w->mu);
    return n;
}

bool wrk_name_ok(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    if (!n) {
        snprintf(err, errlen, "Connector name is empty: give a name in \"name\"");
        return false;
    }
    if (n > 200) {
        snprintf(err, errlen, "Connector name is %zu bytes long; at most 200 are allowed (it becomes part of the consumer "
                 "group connect-<name> and of topic keys)", n);
        return false;
    }
    /* the name goes into URLs, group ids, file names and logs: a safe set only */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || strchr("._-+:@,=", ch))) {
            snprintf(err, errlen, "Connector name has a character that is not allowed at byte %zu: use ASCII letters, digits "
                     "and . _ - + : @ , = (no spaces, quotes, slashes or control characters)", i);
            return false;
        }
    }
    if (strstr(name, "..") || !strcmp(name, ".")) {
        snprintf(err, errlen, "Connector name must not be '.' or contain '..'");
        return false;
    }
    return true;
}

int wrk_validate(const wrk_t *w, const cfg_map_t *config, bool *sink, char *err, size_t errlen)
{
    const char *name = cfg_get(config, "name");
    const char *cls = cfg_get(config, "connector.class");
    if (!name || !wrk_name_ok(name, err, errlen)) {
        if (!name)
            snprintf(err, errlen, "Missing required configuration \"name\" which has no default value.");
        return -1;
    }
    if (!cls || !*cls) {
        snprintf(err, errlen, "Connector config contains no connector type: set connector.class "
                 "(io.debezium.connector.postgresql.PostgresConnector, io.debezium.connector.jdbc.JdbcSinkConnector or "
                 "io.debezium.connector.mongodb.MongoDbSinkConnector)");
        return -1;
    }
    cfg_map_t m = { 0 };
    cfg_map_copy(&m, config);
    int rc = cfgprov_resolve(&w->worker_map, &m, err, errlen);
    if (rc < 0) {
        cfg_map_free(&m);
        return rc;
    }
    cfg_inherit_converters(&w->worker_map, &m);
    *sink = cfg_is_sink(&m);
    if (*sink) {
        sk_config_t sc;
        rc = cfg_sink_parse(&m, &sc, err, errlen);
        if (rc == 0)
            cfg_sink_free(&sc);
    } else {
        conn_config_t cc;
        rc = cfg_connector_parse(&m, &cc, err, errlen);
        if (rc == 0)
            cfg_connector_free(&cc);
    }
    cfg_map_free(&m);
    return rc;
}

/* ---- the registry ------------------------------------------------------------------------- */

/* w->mu held. */
static wrk_conn_t *find_locked(wrk_t *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->c[i]->name, name))
            return w->c[i];
    return NULL;
}

static void conn_free(wrk_conn_t *e)
{
    free(e->name);
    cfg_map_free(&e->config);
    cfg_map_free(&e->run_config);
    free(e->trace);
    free(e->task_trace);
    pthread_mutex_destroy(&e->op);
    free(e);
}

/* A new connector in the registry, UNASSIGNED. w->mu held. */
static wrk_conn_t *conn_add_locked(wrk_t *w, const char *name, wrk_target_t target)
{
    wrk_conn_t *e = xcalloc(1, sizeof *e);
    e->name = xstrdup(name);
    e->w = w;
    e->target = target;
    e->state = e->task_state = WRK_UNASSIGNED;
    pthread_mutex_init(&e->op, NULL);
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->c = xrealloc(w->c, w->cap * sizeof *w->c);
    }
    w->c[w->n++] = e;
    return e;
}

/* A reference to the connector, or NULL; put it back with release. */
static wrk_conn_t *acquire(wrk_t *w, const char *name)
{
    pthread_mutex_lock(&w->mu);
    wrk_conn_t *e = find_locked(w, name);
    if (e)
        e->refs++;
    pthread_mutex_unlock(&w->mu);
    return e;
}

static void release(wrk_t *w, wrk_conn_t *e)
{
    pthread_mutex_lock(&w->mu);
    bool last = --e->refs == 0 && e->deleted;
    pthread_mutex_unlock(&w->mu);
    if (last)
        conn_free(e);
}

static void set_str(char **dst, const char *s)
{
    free(*dst);
    *dst = s ? xstrdup(s) : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- topic tracking ------------------------------------------------------------------------ */

bool wrk_topic_tracking(const wrk_t *w, bool *allow_reset)
{
    *allow_reset = w->allow_reset;
    return w->tracking;
}

/* Adds name's topic unless it is known; true when it was new. */
static bool topic_add(wrk_t *w, const char *name, const char *topic)
{
    bool added = false;
    pthread_mutex_lock(&w->mu);
    size_t i = 0;
    while (i < w->ntopics && (strcmp(w->topics[i].name, name) || strcmp(w->topics[i].topic, topic)))
        i++;
    if (i == w->ntopics) {
        w->topics = xrealloc(w->topics, (w->ntopics + 1) * sizeof *w->topics);
        w->topics[w->ntopics++] = (struct wrk_topic){ xstrdup(name), xstrdup(topic) };
        added = true;
    }
    pthread_mutex_unlock(&w->mu);
    return added;
}

void wrk_topic_add(wrk_t *w, const char *name, const char *topic)
{
    topic_add(w, name, topic);
}

/* wc_topic_hook_t.seen of a running connector (its own thread). */
static void topic_seen(void *ctx, const char *topic)
{
    wrk_conn_t *e = ctx;
    wrk_t *w = e->w;
    if (topic_add(w, e->name, topic) && w->store.topic)
        w->store.topic(w->store.ctx, e->name, topic, false);
}

size_t wrk_topics(wrk_t *w, const char *name, char ***topics)
{
    pthread_mutex_lock(&w->mu);
    char **v = xcalloc(w->ntopics + 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < w->ntopics; i++)
        if (!strcmp(w->topics[i].name, name))
            v[n++] = xstrdup(w->topics[i].topic);
    pthread_mutex_unlock(&w->mu);
    qsort(v, n, sizeof *v, cmp_str);
    *topics = v;
    return n;
}

void wrk_topics_reset(wrk_t *w, const char *name)
{
    char **gone;
    size_t n = wrk_topics(w, name, &gone);
    pthread_mutex_lock(&w->mu);
    size_t k = 0;
    for (size_t i = 0; i < w->ntopics; i++) {
        if (!strcmp(w->topics[i].name, name)) {
            free(w->topics[i].name);
            free(w->topics[i].topic);
        } else {
            w->topics[k++] = w->topics[i];
        }
    }
    w->ntopics = k;
    __atomic_add_fetch(&w->topic_epoch, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < n; i++) {
        if (w->store.topic)
            w->store.topic(w->store.ctx, name, gone[i], true);
        free(gone[i]);
    }
    free(gone);
    if (n)
        log_info("active topics reset", "connector=%s topics=%zu", name, n);
}

/* wc_topic_hook_t.started of a running connector (its own thread): its task is RUNNING from now on. */
static void task_started(void *ctx)
{
    wrk_conn_t *e = ctx;
    wrk_t *w = e->w;
    pthread_mutex_lock(&w->mu);
    bool now = !e->stop && e->task_state == WRK_UNASSIGNED;
    if (now)
        e->task_state = WRK_RUNNING;
    pthread_mutex_unlock(&w->mu);
    if (now)
        publish_of(w, e);
}

/* ---- one connector's thread ---------------------------------------------------------------- */

static void *conn_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-conn");   /* read, decode, encode, produce: in top -H and perf's per-thread figures */
    wrk_conn_t *e = arg;
    wrk_t *w = e->w;
    char err[2048] = "";
    wc_topic_hook_t hook = { NULL, e, &w->topic_epoch, task_started };
    if (w->tracking)
        hook.seen = topic_seen;
    int rc = w->run(w->run_ctx, &e->run_config, &hook, &e->stop, err, sizeof err);
    /* cluster mode: a connector that ends with an error after this worker lost it (a zombie cut off from
     * Kafka, whose late commit is fenced by the new owner, before its stop reached it) failed nowhere: it
     * runs elsewhere now, and a FAILED status written here would stand over the new owner's RUNNING */
    bool handed_on = rc != 0 && !e->stop && w->owns && !tasks_owned(w, e);
    if (handed_on)
        log_info("connector ended with an error after it was handed to another worker; not reported as failed",
                 "connector=%s error=\"%s\"", e->name, log_esc(err));
    pthread_mutex_lock(&w->mu);
    if (rc != 0 && !e->stop && !handed_on) {
        e->task_state = WRK_FAILED;
        set_str(&e->task_trace, err[0] ? err : "the connector stopped with an error (see the log)");
        w->any_failed = true;
        if (w->fail_stop) {
            *w->fail_stop = 1;   /* no REST API to restart it from: the process ends, as before workers */
            log_error("a connector ended with an error; walcast stops (no REST API to restart it from)", "connector=%s error=\"%s\"",
                      e->name, log_esc(err));
        } else
            log_error("connector failed; the other connectors go on (restart it with POST /connectors/<name>/restart)",
                      "connector=%s error=\"%s\"", e->name, log_esc(err));
    }
    e->done = true;
    pthread_mutex_unlock(&w->mu);
    if (rc != 0 && !e->stop && !handed_on)
        publish_of(w, e);
    return NULL;
}

/* e->op held. */
static void conn_start(wrk_t *w, wrk_conn_t *e)
{
    uint64_t mt = tasks_owned(w, e);
    e->mine = mt != 0;
    pthread_mutex_lock(&w->mu);
    e->mine_tasks = mt;
    if (e->foreign) {   /* nothing to run: it stays FAILED with its trace until its config is replaced */
        e->state = WRK_FAILED;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    if (!e->mine) {     /* another worker of the cluster runs it and tells its status */
        e->state = e->task_state = WRK_UNASSIGNED;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    /* the task is RUNNING once it says it has started (a source: its slot exists), as Connect's task after
     * its start(); a row written before that would be before the slot */
    e->state = WRK_RUNNING;
    e->task_state = w->run ? WRK_UNASSIGNED : WRK_RUNNING;
    set_str(&e->trace, NULL);
    set_str(&e->task_trace, NULL);
    cfg_map_free(&e->run_config);
    cfg_map_copy(&e->run_config, &e->config);
    e->done = !w->run;
    pthread_mutex_unlock(&w->mu);
    publish_of(w, e);
    if (!w->run)
        return;
    e->stop = 0;
    if (pthread_create(&e->thread, NULL, conn_thread, e) != 0) {
        pthread_mutex_lock(&w->mu);
        e->task_state = WRK_FAILED;
        set_str(&e->task_trace, "cannot start a thread for this connector");
        pthread_mutex_unlock(&w->mu);
        publish_of(w, e);
        return;
    }
    e->live = true;
}

/* Ends the connector's thread cleanly (its Kafka transaction ends, its slot is released) and waits
 * for it. e->op held, w->mu not held. */
static void conn_halt(wrk_conn_t *e)
{
    if (!e->live)
        return;
    e->stop = 1;
    pthread_join(e->thread, NULL);
    e->live = false;
}

/* The states that follow a target once the thread is down. */
static void apply_target(wrk_t *w, wrk_conn_t *e, wrk_target_t t)
{
    uint64_t mt = tasks_owned(w, e);
    e->mine = mt != 0;
    pthread_mutex_lock(&w->mu);
    e->mine_tasks = mt;
    e->target = t;
    if (!e->mine) {
        e->state = e->task_state = WRK_UNASSIGNED;
        pthread_mutex_unlock(&w->mu);
        return;
    }
    if (t == WRK_TARGET_PAUSED) {
        e->state = WRK_PAUSED;
        if (e->task_state != WRK_FAILED)
            e->task_state = WRK_PAUSED;
    } else if (t == WRK_TARGET_STOPPED) {
        e->state = WRK_STOPPED;
        e->task_state = WRK_UNASSIGNED;
        set_str(&e->task_trace, NULL);
    }
    pthread_mutex_unlock(&w->mu);
    publish_of(w, e);
}

/* The connector's status as it is now, into the store. */
static void publish_of(wrk_t *w, wrk_conn_t *e)
{
    if (!w->store.status)
        return;
    /* cluster mode: only what this worker still owns; a status of a part handed on (its stop has not
     * reached it yet) would stand over the new owner's */
    uint64_t now = w->owns ? tasks_owned(w, e) : ~(uint64_t)0;
    pthread_mutex_lock(&w->mu);
    uint64_t mt = w->owns ? e->mine_tasks & now : ~(uint64_t)0;
    char *ct = xstrdup(e->trace), *tt = xstrdup(e->task_trace);
    wrk_state_t cs = e->state, ts = e->task_state;
    int nmax = tasks_of(e->sink, &e->config), ntasks = e->target == WRK_TARGET_STOPPED ? 0 : nmax;
    pthread_mutex_unlock(&w->mu);
    if (mt)
        publish_status(w, e->name, cs, ct, ntasks, nmax, mt, ts, tt);
    free(ct);
    free(tt);
}

static bool same_config(const cfg_map_t *a, const cfg_map_t *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const char *v = cfg_get(b, a->kv[i].key);
        if (!v || strcmp(v, a->kv[i].value))
            return false;
    }
    return true;
}

static wrk_rc_t put_conn(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t initial, bool replace,
                         bool *created, bool keep, char *err, size_t errlen)
{
    *created = false;
    cfg_map_t m = { 0 };
    cfg_map_copy(&m, config);
    cfg_map_set(&m, "name", name);   /* the caller checked that a "name" in config is this one */
    bool sink;
    if (wrk_validate(w, &m, &sink, err, errlen) < 0) {
        cfg_map_free(&m);
        return WRK_INVALID;
    }
    pthread_mutex_lock(&w->put_mu);
    pthread_mutex_lock(&w->mu);
    wrk_conn_t *e = find_locked(w, name);
    bool exists = e != NULL;
    wrk_target_t cur = e ? e->target : initial;
    /* a config-topic record of what this worker has (its own write, read back): nothing to do */
    bool same = !keep && e && !e->foreign && same_config(&e->config, &m);
    pthread_mutex_unlock(&w->mu);
    if (same) {
        pthread_mutex_unlock(&w->put_mu);
        cfg_map_free(&m);
        return WRK_OK;
    }
    if (exists && !replace) {
        pthread_mutex_unlock(&w->put_mu);
        snprintf(err, errlen, "Connector %s already exists", name);
        cfg_map_free(&m);
        return WRK_EXISTS;
    }
    if (keep && w->store.put_config && w->store.put_config(w->store.ctx, name, &m, cur, !exists, err, errlen) < 0) {
        pthread_mutex_unlock(&w->put_mu);
        cfg_map_free(&m);
        return WRK_STORE_FAILED;
    }
    pthread_mutex_lock(&w->mu);
    e = find_locked(w, name);
    if (!e) {
        e = conn_add_locked(w, name, initial);
        cfg_map_copy(&e->config, &m);   /* seen at once by a concurrent put of the same record (the config topic's) */
        *created = true;
    }
    e->refs++;
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_unlock(&w->put_mu);

    pthread_mutex_lock(&e->op);
    conn_halt(e);   /* the old config's thread ends cleanly before the new one starts (a concurrent put of a new
                       name may have started one) */
    pthread_mutex_lock(&w->mu);
    cfg_map_free(&e->config);
    e->config = m;
    e->sink = sink;
    e->foreign = false;
    wrk_target_t t = e->target;
    pthread_mutex_unlock(&w->mu);
    if (t == WRK_STARTED)
        conn_start(w, e);
    else
        apply_target(w, e, t);
    log_info(*created ? "connector created" : "connector reconfigured", "connector=%s type=%s target=%s", name,
             sink ? "sink" : "source", t == WRK_STARTED ? "STARTED" : t == WRK_TARGET_PAUSED ? "PAUSED" : "STOPPED");
    pthread_mutex_unlock(&e->op);
    release(w, e);
    return WRK_OK;
}

wrk_rc_t wrk_put(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t initial, bool replace, bool *created,
                 char *err, size_t errlen)
{
    return put_conn(w, name, config, initial, replace, created, true, err, errlen);
}

static wrk_rc_t remove_conn(wrk_t *w, const char *name, bool shutdown, char *err, size_t errlen)
{
    wrk_conn_t *e = acquire(w, name);
    if (!e)
        return WRK_NOT_FOUND;
    pthread_mutex_lock(&e->op);
    if (!shutdown && w->store.remove && w->store.remove(w->store.ctx, name, err, errlen) < 0) {
        pthread_mutex_unlock(&e->op);
        release(w, e);
        return WRK_STORE_FAILED;
    }
    pthread_mutex_lock(&w->mu);
    bool gone = e->deleted;
    if (!gone) {
        e->deleted = true;
        for (size_t i = 0; i < w->n; i++)
            if (w->c[i] == e) {
                memmove(&w->c[i], &w->c[i + 1], (w->n - i - 1) * sizeof *w->c);
                w->n--;
                break;
            }
    }
    pthread_mutex_unlock(&w->mu);
    conn_halt(e);
    pthread_mutex_unlock(&e->op);
    if (!gone && !shutdown) {
        log_info("connector deleted (its replication slot and stored offsets are kept)", "connector=%s", name);
        if (w->store.status) {
            w->store.status(w->store.ctx, name, -1, WRK_UNASSIGNED, NULL, w->worker_id, true);
            w->store.status(w->store.ctx, name, 0, WRK_UNASSIGNED, NULL, w->worker_id, true);
        }
        wrk_topics_reset(w, name);   /* as Connect: a deleted connector has no active topics */
    }
    release(w, e);
    return gone ? WRK_NOT_FOUND : WRK_OK;
}

void wrk_adopt_failed(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t target, const char *trace)
{
    pthread_mutex_lock(&w->mu);
    if (find_locked(w, name)) {
        pthread_mutex_unlock(&w->mu);
        return;
    }
    wrk_conn_t *e = conn_add_locked(w, name, target);
    e->foreign = true;
    e->sink = cfg_is_sink(config);
    cfg_map_copy(&e->config, config);
    e->state = WRK_FAILED;
    e->trace = xstrdup(trace);
    pthread_mutex_unlock(&w->mu);
    log_error("connector kept but not run", "connector=%s reason=\"%s\"", name, log_esc(trace));
    publish_of(w, e);
}

wrk_rc_t wrk_delete(wrk_t *w, const char *name, char *err, size_t errlen)
{
    return remove_conn(w, name, false, err, errlen);
}

static wrk_rc_t set_target(wrk_t *w, const char *name, wrk_target_t t, bool keep, char *err, size_t errlen)
{
    wrk_conn_t *e = acquire(w, name);
    if (!e)
        return WRK_NOT_FOUND;
    pthread_mutex_lock(&e->op);
    pthread_mutex_lock(&w->mu);
    wrk_target_t was = e->target;
    bool deleted = e->deleted;
    pthread_mutex_unlock(&w->mu);
    wrk_rc_t rc = deleted ? WRK_NOT_FOUND : WRK_OK;
    if (!deleted && t != was && keep && w->store.put_target) {
        pthread_mutex_lock(&w->mu);
        cfg_map_t cfg = { 0 };
        cfg_map_copy(&cfg, &e->config);
        pthread_mutex_unlock(&w->mu);
        if (w->store.put_target(w->store.ctx, name, &cfg, t, err, errlen) < 0)
            rc = WRK_STORE_FAILED;
        cfg_map_free(&cfg);
    }
    if (rc == WRK_OK && t != was) {
        if (t == WRK_STARTED) {
            conn_halt(e);   /* a thread that ended by itself (a failure) is joined first */
            pthread_mutex_lock(&w->mu);
            e->target = WRK_STARTED;
            pthread_mutex_unlock(&w->mu);
            conn_start(w, e);
        } else {
            conn_halt(e);
            apply_target(w, e, t);
        }
        log_info("connector target state changed", "connector=%s target=%s", name,
                 t == WRK_STARTED ? "STARTED" : t == WRK_TARGET_PAUSED ? "PAUSED" : "STOPPED");
    }
    pthread_mutex_unlock(&e->op);
    release(w, e);
    return rc;
}

wrk_rc_t wrk_set_target(wrk_t *w, const char *name, wrk_target_t t, char *err, size_t errlen)
{
    return set_target(w, name, t, true, err, errlen);
}

/* Whether this worker runs all of name's tasks (a connector it does not know: whether it owns the name). */
static bool runs_all_tasks(wrk_t *w, const char *name)
{
    wrk_conn_t *e = acquire(w, name);
    if (!e)
        return owned(w, name);
    int n = tasks_of(e->sink, &e->config);
    uint64_t all = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    bool yes = (tasks_owned(w, e) & all) == all;
    release(w, e);
    return yes;
}

wrk_rc_t wrk_restart(wrk_t *w, const char *name, bool include_tasks, bool only_failed, bool *restarted, char *err,
                     size_t errlen)
{
    *restarted = false;
    /* another worker of the cluster runs it, or some of its tasks (a sink with tasks.max > 1): a restart
     * request in the config topic, which every worker follows and applies to what it runs (Connect's
     * leader writes the same record) */
    if (w->store.restart && !runs_all_tasks(w, name)) {
        /* another worker of the cluster runs it: a restart request in the config topic, which that worker
         * follows (Connect's leader writes the same record) */
        wrk_info_t wi;
        if (wrk_info(w, name, &wi) != WRK_OK)
            return WRK_NOT_FOUND;
        bool failed = wi.state == WRK_FAILED || wi.task_state == WRK_FAILED;
        wrk_info_free(&wi);
        if (w->store.restart(w->store.ctx, name, include_tasks, only_failed, err, errlen) < 0)
            return WRK_STORE_FAILED;
        *restarted = !only_failed || failed;
        log_info("restart request written to the config topic for the workers that run the connector", "connector=%s",
                 name);
        return WRK_OK;
    }
    return wrk_restart_local(w, name, only_failed, restarted);
}

wrk_rc_t wrk_restart_local(wrk_t *w, const char *name, bool only_failed, bool *restarted)
{
    *restarted = false;
    wrk_conn_t *e = acquire(w, name);
    if (!e)
        return WRK_NOT_FOUND;
    pthread_mutex_lock(&e->op);
    pthread_mutex_lock(&w->mu);
    bool failed = e->state == WRK_FAILED || e->task_state == WRK_FAILED;
    wrk_target_t t = e->target;
    bool deleted = e->deleted;
    pthread_mutex_unlock(&w->mu);
    if (!deleted && (!only_failed || failed) && tasks_owned(w, e)) {
        conn_halt(e);
        if (t == WRK_STARTED)
            conn_start(w, e);
        else
            apply_target(w, e, t);
        *restarted = true;
        log_info("connector restarted", "connector=%s", name);
    }
    pthread_mutex_unlock(&e->op);
    release(w, e);
    return deleted ? WRK_NOT_FOUND : WRK_OK;
}

/* ---- cluster mode ------------------------------------------------------------------------------ */

static wrk_state_t state_of(const char *s)
{
    for (wrk_state_t k = WRK_UNASSIGNED; k <= WRK_RESTARTING; k++)
        if (s && !strcmp(s, wrk_state_name(k)))
            return k;
    return WRK_UNASSIGNED;
}

/* A connector another worker runs: its status as the status topic has it. w->mu held. */
static void remote_info_locked(wrk_t *w, wrk_info_t *out)
{
    out->state = out->task_state = WRK_UNASSIGNED;
    set_str(&out->trace, NULL);
    set_str(&out->task_trace, NULL);
    for (size_t i = 0; i < w->nrst; i++) {
        struct wrk_rstatus *r = &w->rst[i];
        if (strcmp(r->name, out->name))
            continue;
        if (r->task < 0) {
            out->state = state_of(r->state);
            set_str(&out->trace, r->trace);
            set_str(&out->worker_id, r->worker_id);
        } else if (r->task == 0) {
            out->task_state = state_of(r->state);
            set_str(&out->task_trace, r->trace);
            if (!out->worker_id)
                set_str(&out->worker_id, r->worker_id);
        }
    }
}

void wrk_remote_status(wrk_t *w, const char *name, int task, const char *state, const char *trace, const char *worker_id)
{
    pthread_mutex_lock(&w->mu);
    size_t i = 0;
    while (i < w->nrst && (w->rst[i].task != task || strcmp(w->rst[i].name, name)))
        i++;
    if (i == w->nrst) {
        if (!state) {
            pthread_mutex_unlock(&w->mu);
            return;
        }
        w->rst = xrealloc(w->rst, (w->nrst + 1) * sizeof *w->rst);
        w->rst[w->nrst++] = (struct wrk_rstatus){ xstrdup(name), NULL, NULL, NULL, task };
    }
    struct wrk_rstatus *r = &w->rst[i];
    set_str(&r->state, state);
    set_str(&r->trace, trace);
    set_str(&r->worker_id, worker_id);
    /* another worker's status of what this worker runs: a late record of a worker that ran it before (cut off
     * from Kafka, its record delivered when it was let back) stands in the topic over this worker's; this
     * worker writes its own again, so that the topic's last record, and every worker's REST API, name it
     * (at most once a second: two workers that both think they own it, until one learns it does not) */
    wrk_conn_t *e = NULL;
    if (state && worker_id && strcmp(worker_id, w->worker_id) && w->owns) {
        uint64_t bit = task < 0 ? 1 : task < 64 ? (uint64_t)1 << task : 0;
        int64_t now = wc_mono_ms();
        e = find_locked(w, name);
        if (e && !e->deleted && !e->foreign && (e->mine_tasks & bit) && (!e->reasserted_ms || now - e->reasserted_ms >= 1000)) {
            e->reasserted_ms = now;
            e->refs++;
        } else {
            e = NULL;
        }
    }
    pthread_mutex_unlock(&w->mu);
    if (e) {
        log_info("the status topic names another worker for a connector this worker runs (a late record of a worker "
                 "that ran it before?); this worker writes its status again", "connector=%s task=%d worker_id=%s", name,
                 task, worker_id);
        publish_of(w, e);
        release(w, e);
    }
}

/* Tells every connector this worker no longer owns to stop, without waiting: one that takes long to end
 * (a Kafka commit while Kafka is away) must not keep the others running on a worker that lost them. */
static void stop_handed_on(wrk_t *w, char **names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wrk_conn_t *e = acquire(w, names[i]);
        if (!e)
            continue;
        pthread_mutex_lock(&e->op);
        if (e->live && e->mine && !tasks_owned(w, e))
            e->stop = 1;   /* conn_halt below joins it */
        pthread_mutex_unlock(&e->op);
        release(w, e);
    }
}

void wrk_stop_all_now(wrk_t *w)
{
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n; i++)
        if (w->c[i]->live && !w->c[i]->done)
            w->c[i]->stop = 1;   /* without its op lock (held by whoever waits for it): a flag its thread polls */
    pthread_mutex_unlock(&w->mu);
}

void wrk_rebalance(wrk_t *w)
{
    char **names;
    size_t n = wrk_names(w, &names);
    stop_handed_on(w, names, n);
    for (size_t i = 0; i < n; i++) {
        wrk_conn_t *e = acquire(w, names[i]);
        if (e) {
            pthread_mutex_lock(&e->op);
            pthread_mutex_lock(&w->mu);
            bool skip = e->deleted || e->foreign;
            wrk_target_t t = e->target;
            pthread_mutex_unlock(&w->mu);
            uint64_t mt = tasks_owned(w, e);
            bool o = mt != 0;
            if (!skip && o && e->mine && mt != e->mine_tasks) {
                /* a sink whose tasks here changed: its thread runs the new set */
                conn_halt(e);
                if (t == WRK_STARTED)
                    conn_start(w, e);
                else
                    apply_target(w, e, t);
                log_info("connector tasks reassigned on this worker", "connector=%s tasks=%#llx", e->name,
                         (unsigned long long)mt);
            } else if (!skip && o && !e->mine) {
                conn_halt(e);
                if (t == WRK_STARTED)
                    conn_start(w, e);
                else
                    apply_target(w, e, t);
                log_info("connector assigned to this worker", "connector=%s", e->name);
            } else if (!skip && !o && e->mine) {
                conn_halt(e);   /* its Kafka transaction ends and its slot is released before the slot is handed on */
                e->mine = false;
                pthread_mutex_lock(&w->mu);
                e->mine_tasks = 0;
                e->state = e->task_state = WRK_UNASSIGNED;
                pthread_mutex_unlock(&w->mu);
                log_info("connector handed to another worker", "connector=%s", e->name);
            }
            pthread_mutex_unlock(&e->op);
            release(w, e);
        }
        free(names[i]);
    }
    free(names);
}


void wrk_apply_remote(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t target)
{
    char err[2048];
    wrk_info_t wi;
    bool have = wrk_info(w, name, &wi) == WRK_OK;
    if (!config) {
        if (have && remove_conn(w, name, true, err, sizeof err) == WRK_OK)
            log_info("connector deleted by another worker", "connector=%s", name);
        goto out;
    }
    cfg_map_t m = { 0 };
    cfg_map_copy(&m, config);
    cfg_map_set(&m, "name", name);
    if (!have || !same_config(&wi.config, &m)) {
        bool sink, created;
        if (wrk_validate(w, &m, &sink, err, sizeof err) < 0) {
            if (have)
                remove_conn(w, name, true, err, sizeof err);
            char trace[2300];
            snprintf(trace, sizeof trace, "the stored configuration is invalid or not walcast's: %s", err);
            wrk_adopt_failed(w, name, &m, target, trace);
        } else if (put_conn(w, name, &m, target, true, &created, false, err, sizeof err) != WRK_OK) {
            log_error("a connector changed by another worker could not be applied", "connector=%s error=\"%s\"", name,
                      log_esc(err));
        }
    }
    cfg_map_free(&m);
    wrk_info_t now;
    if (wrk_info(w, name, &now) == WRK_OK) {
        if (now.target != target)
            set_target(w, name, target, false, err, sizeof err);
        wrk_info_free(&now);
    }
out:
    if (have)
        wrk_info_free(&wi);
}

wrk_rc_t wrk_info(wrk_t *w, const char *name, wrk_info_t *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&w->mu);
    wrk_conn_t *e = find_locked(w, name);
    if (e) {
        out->name = xstrdup(e->name);
        out->sink = e->sink;
        cfg_map_copy(&out->config, &e->config);
        out->target = e->target;
        out->state = e->state;
        out->trace = xstrdup(e->trace);
        out->ntasks = e->target == WRK_TARGET_STOPPED || e->foreign ? 0 : tasks_of(e->sink, &e->config);
        out->task_state = e->task_state;
        out->task_trace = xstrdup(e->task_trace);
        if (!e->foreign && w->owns && !w->owns(w->owns_ctx, name))
            remote_info_locked(w, out);
        if (out->ntasks > 1) {   /* each task's own: this worker's, or as the status topic has it */
            out->tasks = xcalloc((size_t)out->ntasks, sizeof *out->tasks);
            for (int t = 0; t < out->ntasks; t++) {
                struct wrk_task_info *ti = &out->tasks[t];
                if (!w->owns || (e->mine_tasks & ((uint64_t)1 << t))) {
                    ti->state = e->task_state;
                    ti->trace = xstrdup(e->task_trace);
                    ti->worker_id = xstrdup(w->worker_id);
                    continue;
                }
                ti->state = WRK_UNASSIGNED;
                for (size_t i = 0; i < w->nrst; i++)
                    if (w->rst[i].task == t && !strcmp(w->rst[i].name, name)) {
                        ti->state = state_of(w->rst[i].state);
                        ti->trace = xstrdup(w->rst[i].trace);
                        ti->worker_id = xstrdup(w->rst[i].worker_id);
                    }
            }
        }
    }
    pthread_mutex_unlock(&w->mu);
    return e ? WRK_OK : WRK_NOT_FOUND;
}

uint64_t wrk_tasks_mine(wrk_t *w, const char *name)
{
    pthread_mutex_lock(&w->mu);
    wrk_conn_t *e = find_locked(w, name);
    uint64_t m = !e ? 0 : w->owns ? e->mine_tasks : ~(uint64_t)0;
    pthread_mutex_unlock(&w->mu);
    return m;
}

void wrk_info_free(wrk_info_t *i)
{
    for (int t = 0; i->tasks && t < i->ntasks; t++) {
        free(i->tasks[t].trace);
        free(i->tasks[t].worker_id);
    }
    free(i->tasks);
    free(i->name);
    free(i->worker_id);
    cfg_map_free(&i->config);
    free(i->trace);
    free(i->task_trace);
    memset(i, 0, sizeof *i);
}

size_t wrk_names(wrk_t *w, char ***names)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n;
    char **v = xcalloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = xstrdup(w->c[i]->name);
    pthread_mutex_unlock(&w->mu);
    qsort(v, n, sizeof *v, cmp_str);
    *names = v;
    return n;
}

void wrk_free(wrk_t *w)
{
    if (!w)
        return;
    /* every connector is asked to stop first, so they end in parallel, then each is joined */
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < w->n; i++)
        w->c[i]->stop = 1;
    pthread_mutex_unlock(&w->mu);
    for (;;) {
        pthread_mutex_lock(&w->mu);
        wrk_conn_t *e = w->n ? w->c[0] : NULL;
        pthread_mutex_unlock(&w->mu);
        if (!e)
            break;
        char err[8];
        remove_conn(w, e->name, true, err, sizeof err);
    }
    free(w->c);
    for (size_t i = 0; i < w->ntopics; i++) {
        free(w->topics[i].name);
        free(w->topics[i].topic);
    }
    free(w->topics);
    for (size_t i = 0; i < w->nrst; i++) {
        free(w->rst[i].name);
        free(w->rst[i].state);
        free(w->rst[i].trace);
        free(w->rst[i].worker_id);
    }
    free(w->rst);
    cfg_map_free(&w->worker_map);
    free(w->worker_id);
    pthread_mutex_destroy(&w->put_mu);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
