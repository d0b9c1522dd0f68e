/* cluster.c: walcast workers with one group.id share the connectors without a consensus of their own.
 * librdkafka speaks only the "consumer" group protocol with its built-in assignors (no custom protocol
 * type such as Connect's "connect", no custom assignor), so each worker is a member of the consumer group
 * group.id subscribed to a slot topic of walcast.cluster.slots partitions, assigned cooperative-sticky
 * (incremental, as Connect's own protocol: a rebalance moves only what must move). A connector's slot is
 * a hash of its name; the worker owning that partition runs it. A revoked slot's connectors are stopped
 * cleanly inside the rebalance callback, before the partition can be handed to another member; a lost
 * assignment (session timed out: a zombie cut off from Kafka) stops them too.
 * One thread serves the group and follows the config topic (changes made through any worker's REST API)
 * and the status topic (what the other workers run, and where). */
#include "agent/cluster.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent/ktopic.h"
#include "agent/log.h"
#include "schemas/buf.h"
#include "schemas/clock.h"

struct clu {
    rd_kafka_t *grp;              /* member of group.id, subscribed to the slot topic */
    rd_kafka_t *tail;             /* no group: the config topic and the status topic, followed */
    rd_kafka_t *look;             /* no group: lists the group's members (the watchdog, busy slots' holders) */
    wrk_t *wk;                    /* NULL once stopped */
    cst_t *store;                 /* its status records not delivered yet are dropped when the membership is lost */
    char *group, *slot_topic, *config_topic, *status_topic, *worker_id;
    int nslots;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool *owned;                  /* mu: the slot partitions this worker holds */
    bool assigned;                /* mu: a first assignment came */
    int generation;               /* mu: assignments seen */
    pthread_t thread, watch;
    bool running, watching;
    volatile int closing;
    /* the membership watchdog (librdkafka 2.0.2 does not report a lost assignment while the coordinator
     * is unreachable, only once it answers again): */
    int session_ms, heartbeat_ms;
    char app[128];                /* this worker's client.id */
    int64_t last_member_ms;       /* mu: when the group last listed this worker as a member */
    bool lost;                    /* mu: no contact for longer than the session: this worker runs nothing */
    bool lost_pending;            /* mu: the watchdog found it lost (and cleared owned): to apply */
    bool lost_handled;            /* the cluster thread's: its connectors were stopped for it */
    cst_conn_t *conns;            /* the config topic as followed (the thread's) */
    size_t nconns;
    bool caught_up;               /* the config topic was read to its end once */
};

static clu_t *the_cluster;        /* clu_holder_gone's: one cluster per process */
static char own_app[128];

static const char *get_or(const cfg_map_t *m, const char *k, const char *def)
{
    const char *v = cfg_get(m, k);
    return v && *v ? v : def;
}

bool clu_enabled(const cfg_map_t *wm)
{
    return strcasecmp(get_or(wm, "walcast.cluster.enable", "true"), "false") != 0;
}

void clu_application_name(const char *worker_id, char *out, size_t outlen)
{
    snprintf(out, outlen, "walcast@%s", worker_id);
}

/* FNV-1a: the slot of a connector name, the same on every worker. */
static int slot_of(const clu_t *c, const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (int)(h % (uint32_t)c->nslots);
}

static bool owns(void *ctx, const char *name)
{
    clu_t *c = ctx;
    int s = slot_of(c, name);
    pthread_mutex_lock(&c->mu);
    bool o = c->owned[s];
    pthread_mutex_unlock(&c->mu);
    return o;
}

bool clu_owns_nothing(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return false;
}

/* The slots owned, as ranges ("0-3,7,9-12"; "-" none), cut short with "..." when out does not hold them.
 * c->mu held. */
static void owned_text(const clu_t *c, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = 0;
    for (int i = 0; i < c->nslots; i++) {
        if (!c->owned[i])
            continue;
        int j = i;
        while (j + 1 < c->nslots && c->owned[j + 1])
            j++;
        char r[32];
        int n = j > i ? snprintf(r, sizeof r, "%s%d-%d", len ? "," : "", i, j) : snprintf(r, sizeof r, "%s%d", len ? "," : "", i);
        if (len + (size_t)n + 4 > outlen) {
            snprintf(out + len, outlen - len, "...");
            return;
        }
        memcpy(out + len, r, (size_t)n + 1);
        len += (size_t)n;
        i = j;
    }
    if (!len)
        snprintf(out, outlen, "-");
}

static void mark(clu_t *c, const rd_kafka_topic_partition_list_t *parts, bool own)
{
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < parts->cnt; i++) {
        int p = parts->elems[i].partition;
        if (!strcmp(parts->elems[i].topic, c->slot_topic) && p >= 0 && p < c->nslots)
            c->owned[p] = own;
    }
    size_t n = 0;
    for (int i = 0; i < c->nslots; i++)
        n += c->owned[i];
    char slots[512];   /* which ones, for tests and operators: a connector runs where its slot is owned */
    owned_text(c, slots, sizeof slots);
    if (own) {
        c->assigned = true;
        c->lost = false;
        c->last_member_ms = wc_mono_ms();
        c->generation++;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    log_info(own ? "cluster slots assigned to this worker" : "cluster slots revoked from this worker",
             "group.id=%s changed=%d owned=%zu of=%d slots=%s", c->group, parts->cnt, n, c->nslots, slots);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    clu_t *c = opaque;
    rd_kafka_error_t *er = NULL;
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        er = rd_kafka_incremental_assign(rk, parts);
        mark(c, parts, true);
        if (c->wk)
            wrk_rebalance(c->wk);
    } else {
        bool lost = rd_kafka_assignment_lost(rk);
        if (lost)
            log_warn("the group coordinator ended this worker's membership (its session timed out); its connectors "
                     "stop, another worker took them over", "group.id=%s", c->group);
        mark(c, parts, false);
        if (lost)
            cst_status_drop(c->store);   /* statuses of what it ran, still queued, are not to land over the new owner's */
        if (c->wk)
            wrk_rebalance(c->wk);   /* stopped cleanly before the slots are handed on */
        er = rd_kafka_incremental_unassign(rk, parts);
    }
    if (er) {
        log_error("cluster assignment failed", "error=\"%s\"", log_esc(rd_kafka_error_string(er)));
        rd_kafka_error_destroy(er);
    }
}

/* ---- the config and status topics, followed ---------------------------------------------------- */

static const cst_conn_t *conn_find(const clu_t *c, const char *name)
{
    for (size_t i = 0; i < c->nconns; i++)
        if (!strcmp(c->conns[i].name, name))
            return &c->conns[i];
    return NULL;
}

/* Makes the worker hold what the config topic says of name. */
static void reconcile(clu_t *c, const char *name)
{
    const cst_conn_t *k = conn_find(c, name);
    if (k && !k->config.n)
        return;   /* a target state whose connector record has not come (yet): no connector */
    wrk_apply_remote(c->wk, name, k && k->config.n ? &k->config : NULL, k ? k->target : WRK_STARTED);
}

static void reconcile_all(clu_t *c)
{
    char **names;
    size_t n = wrk_names(c->wk, &names);
    for (size_t i = 0; i < n; i++) {
        reconcile(c, names[i]);
        free(names[i]);
    }
    free(names);
    for (size_t i = 0; i < c->nconns; i++)
        reconcile(c, c->conns[i].name);
}

/* The connector name of a config-topic key (connector-, target-state-, task-<n>-<t>, commit-<n>). */
static char *config_key_name(const char *key, size_t klen)
{
    static const char *const pre[] = { "connector-", "target-state-" };
    for (size_t i = 0; i < 2; i++) {
        size_t pl = strlen(pre[i]);
        if (klen > pl && !strncmp(key, pre[i], pl))
            return strndup(key + pl, klen - pl);
    }
    return NULL;
}

/* restart-connector-<n> (Connect's restart request, written by a worker that does not run n): the worker
 * that runs n restarts it. Requests older than this worker's start (read while catching up) are past. */
static void on_restart(clu_t *c, const rd_kafka_message_t *m)
{
    static const char rp[] = "restart-connector-";
    if (!c->caught_up || !m->payload || m->key_len <= sizeof rp - 1 || memcmp(m->key, rp, sizeof rp - 1))
        return;
    char *name = strndup((const char *)m->key + sizeof rp - 1, m->key_len - (sizeof rp - 1));
    json_t *v = json_loadb(m->payload, m->len, 0, NULL);
    /* include-tasks is not read: a connector and its tasks are one thread per worker here */
    bool only_failed = json_is_true(json_object_get(v, "only-failed")), restarted = false;
    json_decref(v);
    /* every worker restarts what of it it runs: the connector, or its share of a sink's tasks */
    if (wrk_restart_local(c->wk, name, only_failed, &restarted) == WRK_OK && restarted)
        log_info("connector restarted on a restart request from the config topic", "connector=%s only_failed=%s", name,
                 only_failed ? "true" : "false");
    free(name);
}

static void on_config(clu_t *c, const rd_kafka_message_t *m)
{
    const char *key = m->key;
    on_restart(c, m);
    char *name = key ? config_key_name(key, m->key_len) : NULL;
    cst_apply(&c->conns, &c->nconns, key, m->key_len, m->payload, m->len);
    if (name && c->caught_up)
        reconcile(c, name);
    free(name);
}

/* status-connector-<n> and status-task-<n>-<t> (the other status records are not statuses). */
static void on_status(clu_t *c, const rd_kafka_message_t *m)
{
    if (!m->key)
        return;
    char *key = strndup(m->key, m->key_len);
    int task = -1;
    char *name = NULL;
    if (!strncmp(key, "status-connector-", 17)) {
        name = key + 17;
    } else if (!strncmp(key, "status-task-", 12)) {
        char *dash = strrchr(key + 12, '-');
        if (dash && dash[1]) {
            *dash = 0;
            task = atoi(dash + 1);
            name = key + 12;
        }
    }
    if (name && *name) {
        json_t *v = m->payload ? json_loadb(m->payload, m->len, 0, NULL) : NULL;
        const char *st = json_string_value(json_object_get(v, "state"));
        wrk_remote_status(c->wk, name, task, v ? st : NULL, json_string_value(json_object_get(v, "trace")),
                          json_string_value(json_object_get(v, "worker_id")));
        json_decref(v);
    }
    free(key);
}

/* Describes group.id: true when the coordinator's answer about it came (librdkafka's __PARTIAL, some other
 * broker silent, is such an answer too); *member then tells whether a member's client.id is app (prefix:
 * app may be an application_name, of which PostgreSQL keeps 63 bytes). */
static bool group_listed(clu_t *c, const char *app, bool prefix, int tmo, bool *member, rd_kafka_resp_err_t *err)
{
    const struct rd_kafka_group_list *gl = NULL;
    size_t alen = strlen(app);
    bool known = false;
    *member = false;
    *err = rd_kafka_list_groups(c->look, c->group, &gl, tmo);
    if ((*err != RD_KAFKA_RESP_ERR_NO_ERROR && *err != RD_KAFKA_RESP_ERR__PARTIAL) || !gl)
        return false;
    for (int i = 0; i < gl->group_cnt; i++) {
        const struct rd_kafka_group_info *g = &gl->groups[i];
        if (strcmp(g->group, c->group) || g->err)
            continue;
        known = true;
        for (int k = 0; k < g->member_cnt; k++) {
            const char *id = g->members[k].client_id;
            *member |= id && (prefix ? !strncmp(id, app, alen) : !strcmp(id, app));
        }
    }
    rd_kafka_group_list_destroy(gl);
    return known;
}

/* Lists the group every heartbeat interval: a worker that the group has not listed as a member for
 * longer than the session timeout (cut off from Kafka) is treated as gone by the others, who run its
 * connectors now; it stops them too (lost). Each change of what the listing says is logged. */
static void *clu_watch(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-watch");   /* in top -H and bench.sh's per-thread CPU */
    clu_t *c = arg;
    int said = 0;   /* 1 listed, 2 not listed, 3 no answer */
    while (!c->closing) {
        int tmo = c->session_ms / 3 < 1000 ? 1000 : c->session_ms / 3;
        bool member = false;
        rd_kafka_resp_err_t e;
        bool known = group_listed(c, c->app, false, tmo, &member, &e);
        int now_says = member ? 1 : known ? 2 : 3;
        if (now_says != said && (said || now_says != 1))
            log_info(now_says == 1 ? "the group lists this worker as a member again"
                     : now_says == 2 ? "the group does not list this worker as a member"
                                     : "the group's membership cannot be read (Kafka unreachable?)",
                     "group.id=%s error=\"%s\"", c->group, now_says == 3 ? rd_kafka_err2str(e) : "");
        said = now_says;
        pthread_mutex_lock(&c->mu);
        int64_t now = wc_mono_ms();
        if (member) {
            c->last_member_ms = now;
            c->lost = false;
        }
        bool lost_now = !member && !c->lost && c->assigned && now - c->last_member_ms > c->session_ms;
        if (lost_now) {
            c->lost = c->lost_pending = true;
            memset(c->owned, 0, (size_t)c->nslots * sizeof *c->owned);
        }
        pthread_mutex_unlock(&c->mu);
        if (lost_now) {
            /* said and done here: the cluster thread may be waiting for a connector to end (a sink's consumer
             * closing while Kafka is away) and applies it (waits for every connector) once it can */
            log_warn("this worker lost its cluster membership (the group has not listed it for longer than "
                     "session.timeout.ms: cut off from Kafka?); its connectors stop, another worker takes them over",
                     "group.id=%s", c->group);
            cst_status_drop(c->store);
            if (c->wk)
                wrk_stop_all_now(c->wk);
        }
        for (int waited = 0; waited < c->heartbeat_ms && !c->closing; waited += 100) {
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* The watchdog's verdict, applied on the cluster thread: lost, every connector stops (this worker owns
 * nothing); a member again without a new assignment from librdkafka, it owns its assignment again. */
static void watch_apply(clu_t *c)
{
    pthread_mutex_lock(&c->mu);
    bool lost = c->lost_pending, back = !lost && !c->lost && c->lost_handled;
    c->lost_pending = false;
    if (lost) {
        c->lost_handled = true;
    } else if (back) {
        c->lost_handled = false;
    }
    pthread_mutex_unlock(&c->mu);
    if (lost) {
        if (c->wk)
            wrk_rebalance(c->wk);
    } else if (back) {
        rd_kafka_topic_partition_list_t *a = NULL;
        if (rd_kafka_assignment(c->grp, &a) == RD_KAFKA_RESP_ERR_NO_ERROR && a->cnt) {
            mark(c, a, true);
            if (c->wk)
                wrk_rebalance(c->wk);
        }
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
    }
}

static void *clu_thread(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-cluster");
    clu_t *c = arg;
    while (!c->closing) {
        watch_apply(c);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->grp, 50);
        if (m)   /* the slot topic holds no records */
            rd_kafka_message_destroy(m);
        for (int i = 0; i < 64 && !c->closing; i++) {
            m = rd_kafka_consumer_poll(c->tail, i ? 0 : 50);
            if (!m)
                break;
            const char *topic = rd_kafka_topic_name(m->rkt);
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (!c->caught_up && !strcmp(topic, c->config_topic)) {
                    c->caught_up = true;
                    reconcile_all(c);
                }
            } else if (m->err) {
                log_warn("cannot read the config or status topic; retried", "topic=%s error=\"%s\"", topic,
                         log_esc(rd_kafka_message_errstr(m)));
            } else if (!strcmp(topic, c->config_topic)) {
                on_config(c, m);
            } else {
                on_status(c, m);
            }
            rd_kafka_message_destroy(m);
        }
    }
    return NULL;
}

/* ---- open, stop, leave ----------------------------------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *k, const char *v, char *err, size_t errlen)
{
    char e[512];
    if (rd_kafka_conf_set(conf, k, v, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s=%s: %s", k, v, e);
        return -1;
    }
    return 0;
}

static int topic_partitions(rd_kafka_t *rk, const char *topic, int *n, char *err, size_t errlen)
{
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, t, &md, 15000);
    *n = 0;
    if (!e && md->topic_cnt == 1 && !md->topics[0].err)
        *n = md->topics[0].partition_cnt;
    else if (!e)
        e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    if (md)
        rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    if (e || *n <= 0) {
        snprintf(err, errlen, "cannot read the partitions of topic %s: %s", topic, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

clu_t *clu_open(const cfg_map_t *wm, const worker_config_t *w, cst_t *store, wrk_t *wk, char *err, size_t errlen)
{
    char e[512];
    clu_t *c = xcalloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->wk = wk;
    c->store = store;
    c->group = xstrdup(get_or(wm, "group.id", "connect-cluster"));
    c->config_topic = xstrdup(get_or(wm, "config.storage.topic", "connect-configs"));
    c->status_topic = xstrdup(get_or(wm, "status.storage.topic", "connect-status"));
    c->worker_id = xstrdup(wrk_worker_id(wk));
    char dflt[600];
    snprintf(dflt, sizeof dflt, "%s-walcast-slots", c->config_topic);
    c->slot_topic = xstrdup(get_or(wm, "walcast.cluster.topic", dflt));
    c->nslots = atoi(get_or(wm, "walcast.cluster.slots", "64"));
    c->session_ms = atoi(get_or(wm, "session.timeout.ms", "10000"));
    c->heartbeat_ms = atoi(get_or(wm, "heartbeat.interval.ms", "3000"));
    if (c->session_ms < 1000)
        c->session_ms = 10000;
    if (c->heartbeat_ms < 100)
        c->heartbeat_ms = 3000;
    if (c->nslots < 1 || c->nslots > 10000) {
        snprintf(err, errlen, "walcast.cluster.slots=%s: give a number of slot partitions from 1 to 10000 (64 by default; "
                 "every worker of the group must use the same)", get_or(wm, "walcast.cluster.slots", ""));
        goto fail;
    }
    ktop_create_t tc = { .key = "walcast.cluster.topic", .partitions = c->nslots,
                         .replication = atoi(get_or(wm, "config.storage.replication.factor", "-1")),
                         .partitions_key = "walcast.cluster.slots", .replication_key = "config.storage.replication.factor",
                         .required = true };
    if (cst_ensure_topic(store, c->slot_topic, &tc, err, errlen) < 0)
        goto fail;
    c->owned = xcalloc((size_t)c->nslots, sizeof *c->owned);
    char *app = c->app;
    clu_application_name(c->worker_id, c->app, sizeof c->app);

    /* the group member */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ktop_conf_security(conf, &w->producer);
    if (conf_set(conf, "bootstrap.servers", w->bootstrap_servers, err, errlen) < 0 ||
        conf_set(conf, "group.id", c->group, err, errlen) < 0 || conf_set(conf, "client.id", app, err, errlen) < 0 ||
        conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", err, errlen) < 0 ||
        conf_set(conf, "session.timeout.ms", get_or(wm, "session.timeout.ms", "10000"), err, errlen) < 0 ||
        conf_set(conf, "heartbeat.interval.ms", get_or(wm, "heartbeat.interval.ms", "3000"), err, errlen) < 0 ||
        conf_set(conf, "max.poll.interval.ms", get_or(wm, "rebalance.timeout.ms", "60000"), err, errlen) < 0 ||
        conf_set(conf, "enable.auto.commit", "false", err, errlen) < 0 ||
        conf_set(conf, "auto.offset.reset", "latest", err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, c);
    if (!(c->grp = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the cluster's group member: %s", e);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->grp);

    /* the follower of the config and status topics: no group, from the beginning */
    conf = rd_kafka_conf_new();
    ktop_conf_security(conf, &w->producer);
    if (conf_set(conf, "bootstrap.servers", w->bootstrap_servers, err, errlen) < 0 ||
        /* assign() only, never joined nor committed (librdkafka wants a group.id for that) */
        conf_set(conf, "group.id", "walcast-config-reader", err, errlen) < 0 ||
        conf_set(conf, "enable.partition.eof", "true", err, errlen) < 0 ||
        /* a fetch unanswered for 10 s goes again on a new connection: after a cut from Kafka, one sent
         * meanwhile stayed in flight for the default 60 s, and this worker saw no other's status */
        conf_set(conf, "socket.timeout.ms", "10000", err, errlen) < 0 ||
        conf_set(conf, "isolation.level", "read_committed", err, errlen) < 0 ||
        conf_set(conf, "enable.auto.commit", "false", err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (!(c->tail = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the config topic's reader: %s", e);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->tail);

    /* the group's lister: a handle of its own, whose requests time out within the session. The group
     * member's connections keep a ListGroups request sent while this worker was cut off from Kafka in
     * flight for socket.timeout.ms (60 s) after it is back, and the listing failed all that time: the
     * watchdog took a worker that was back for one still cut off and stopped its connectors again */
    char v[32], cid[160];
    conf = rd_kafka_conf_new();
    ktop_conf_security(conf, &w->producer);
    snprintf(cid, sizeof cid, "walcast-lister@%s", c->worker_id);
    snprintf(v, sizeof v, "%d", c->session_ms / 2 < 1000 ? 1000 : c->session_ms / 2);
    if (conf_set(conf, "bootstrap.servers", w->bootstrap_servers, err, errlen) < 0 ||
        conf_set(conf, "client.id", cid, err, errlen) < 0 || conf_set(conf, "socket.timeout.ms", v, err, errlen) < 0 ||
        conf_set(conf, "socket.connection.setup.timeout.ms", v, err, errlen) < 0 ||
        conf_set(conf, "reconnect.backoff.max.ms", "1000", err, errlen) < 0) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    if (!(c->look = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the cluster's group lister: %s", e);
        goto fail;
    }
    int nstatus;
    if (topic_partitions(c->tail, c->status_topic, &nstatus, err, errlen) < 0)
        goto fail;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1 + nstatus);
    rd_kafka_topic_partition_list_add(tp, c->config_topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    for (int i = 0; i < nstatus; i++)
        rd_kafka_topic_partition_list_add(tp, c->status_topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t ae = rd_kafka_assign(c->tail, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    if (ae) {
        snprintf(err, errlen, "cannot read the config and status topics: %s", rd_kafka_err2str(ae));
        goto fail;
    }

    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, c->slot_topic, RD_KAFKA_PARTITION_UA);
    ae = rd_kafka_subscribe(c->grp, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (ae) {
        snprintf(err, errlen, "cannot join group.id=%s: %s", c->group, rd_kafka_err2str(ae));
        goto fail;
    }
    wrk_set_owner(wk, owns, c);
    wrk_rebalance(wk);   /* nothing is owned before the first assignment: connectors read at start wait */
    the_cluster = c;
    snprintf(own_app, sizeof own_app, "%s", app);
    if (pthread_create(&c->thread, NULL, clu_thread, c) != 0) {
        snprintf(err, errlen, "cannot start the cluster thread");
        goto fail;
    }
    c->running = true;
    if (pthread_create(&c->watch, NULL, clu_watch, c) != 0) {
        snprintf(err, errlen, "cannot start the cluster's membership watchdog thread");
        goto fail;
    }
    c->watching = true;
    /* the first assignment, bounded: the REST API answers once this worker knows what it runs */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 60;
    pthread_mutex_lock(&c->mu);
    while (!c->assigned && pthread_cond_timedwait(&c->cv, &c->mu, &dl) == 0) {
    }
    bool ok = c->assigned;
    pthread_mutex_unlock(&c->mu);
    if (!ok)
        log_warn("no cluster assignment yet after 60 s; the REST API starts, connectors wait for one", "group.id=%s",
                 c->group);
    log_info("joined the cluster", "group.id=%s worker_id=%s slot_topic=%s slots=%d", c->group, c->worker_id,
             c->slot_topic, c->nslots);
    return c;
fail:
    wrk_set_owner(wk, NULL, NULL);
    c->wk = NULL;
    clu_stop(c);
    clu_free(c);
    return NULL;
}

void clu_stop(clu_t *c)
{
    if (!c)
        return;
    c->closing = 1;
    if (c->running)
        pthread_join(c->thread, NULL);
    if (c->watching)
        pthread_join(c->watch, NULL);
    c->running = c->watching = false;
    c->wk = NULL;
}

void clu_free(clu_t *c)
{
    if (!c)
        return;
    if (the_cluster == c)
        the_cluster = NULL;
    if (c->grp) {
        rd_kafka_consumer_close(c->grp);   /* leaves the group: the others are assigned this worker's slots now */
        rd_kafka_destroy(c->grp);
        log_info("left the cluster", "group.id=%s", c->group);
    }
    if (c->tail) {
        rd_kafka_consumer_close(c->tail);
        rd_kafka_destroy(c->tail);
    }
    if (c->look)
        rd_kafka_destroy(c->look);
    cst_conns_free(c->conns, c->nconns);
    free(c->owned);
    free(c->group);
    free(c->slot_topic);
    free(c->config_topic);
    free(c->status_topic);
    free(c->worker_id);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

bool clu_holder_gone(const char *application_name)
{
    clu_t *c = the_cluster;
    if (!c || !application_name || strncmp(application_name, "walcast@", 8))
        return false;   /* not a walcast worker's (a Debezium, or a walcast without cluster): never ours to end */
    if (!strncmp(application_name, own_app, strlen(application_name)))   /* PostgreSQL keeps 63 bytes of it */
        return true;    /* this worker's own previous connection (it was restarted, or reconnected) */
    bool member;
    rd_kafka_resp_err_t e;
    return group_listed(c, application_name, true, 10000, &member, &e) && !member;
}
