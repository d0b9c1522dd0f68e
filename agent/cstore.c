/* cstore.c: Kafka Connect's config and status topics as KafkaConfigBackingStore and KafkaStatusBackingStore
 * write them (string keys; values as Connect's internal JsonConverter with schemas.enable=false writes
 * them), read back with read_committed at start. Writes are synchronous: a change is in Kafka before it
 * takes effect. */
#include "agent/cstore.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "agent/ktopic.h"
#include "agent/log.h"
#include "agent/offsets.h"
#include "schemas/clock.h"
#include "schemas/buf.h"

struct cst {
    rd_kafka_t *rk;
    char *bootstrap;
    cfg_map_t producer;           /* the worker's producer.* settings (security applies to the reader too) */
    char *config_topic, *status_topic, *group, *offset_topic;
    pthread_mutex_t mu;           /* one waited-for write at a time; delivery reports are served under it */
    uintptr_t seq;                /* mu: the waited-for write's id (its records' opaque) */
    int pending;                  /* mu: its records not reported yet */
    rd_kafka_resp_err_t wait_err; /* mu: the first failure among them */
    int generation;
    /* the status records' own producer (status_new): each record delivered within status_ms or dropped, and
     * sent again only while it is the newest of its key and this worker still runs what it is about */
    rd_kafka_t *srk;
    int status_ms;
    pthread_t spoll;              /* serves srk's delivery reports */
    bool spolling;
    volatile int sclosing;        /* no record is sent again from now on (cst_free) */
    pthread_mutex_t smu;          /* the newest record of each status key; held while producing to srk */
    struct cst_skey {
        char *key, *name;
        int task;                 /* -1: the connector */
        uintptr_t seq;            /* the newest record's id (its opaque) */
        int tries;                /* its failed deliveries so far */
    } *skeys;
    size_t nskeys;
    uintptr_t sseq;
    cst_owns_fn owns;             /* set before the first status; NULL: every record is this worker's */
    void *owns_ctx;
};

static const char *get_or(const cfg_map_t *m, const char *k, const char *def)
{
    const char *v = m ? cfg_get(m, k) : NULL;
    return v && *v ? v : def;
}

/* ---- record formats ------------------------------------------------------------------------- */

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

char *cst_config_value(const cfg_map_t *config)
{
    json_t *props = json_object();
    for (size_t i = 0; i < config->n; i++) {
        json_t *v = json_string(config->kv[i].value);
        json_object_set_new(props, config->kv[i].key, v ? v : json_string(""));
    }
    return dump(json_pack("{s:o}", "properties", props));
}

static const char *target_name(wrk_target_t t)
{
    return t == WRK_TARGET_PAUSED ? "PAUSED" : t == WRK_TARGET_STOPPED ? "STOPPED" : "STARTED";
}

char *cst_target_value(wrk_target_t t)
{
    /* Connect writes "state" for workers that predate STOPPED (they see PAUSED), "state.v2" for the rest */
    return dump(json_pack("{s:s,s:s}", "state", t == WRK_TARGET_STOPPED ? "PAUSED" : target_name(t), "state.v2",
                          target_name(t)));
}

char *cst_status_value(wrk_state_t state, const char *trace, const char *worker_id, int generation)
{
    json_t *tr = trace ? json_string(trace) : NULL;
    return dump(json_pack("{s:s,s:o,s:s,s:i}", "state", wrk_state_name(state), "trace", tr ? tr : json_null(), "worker_id",
                          worker_id, "generation", generation));
}

static cst_conn_t *conn_get(cst_conn_t **v, size_t *n, const char *name, size_t nlen, bool add)
{
    for (size_t i = 0; i < *n; i++)
        if (strlen((*v)[i].name) == nlen && !memcmp((*v)[i].name, name, nlen))
            return &(*v)[i];
    if (!add)
        return NULL;
    *v = xrealloc(*v, (*n + 1) * sizeof **v);
    cst_conn_t *c = &(*v)[(*n)++];
    memset(c, 0, sizeof *c);
    c->name = xmalloc(nlen + 1);
    memcpy(c->name, name, nlen);
    c->name[nlen] = 0;
    c->target = WRK_STARTED;
    return c;
}

void cst_apply(cst_conn_t **v, size_t *n, const char *key, size_t klen, const char *value, size_t vlen)
{
    static const char cp[] = "connector-", tp[] = "target-state-";
    if (!key)
        return;
    if (klen > sizeof cp - 1 && !memcmp(key, cp, sizeof cp - 1)) {
        const char *name = key + sizeof cp - 1;
        size_t nlen = klen - (sizeof cp - 1);
        cst_conn_t *c = conn_get(v, n, name, nlen, value != NULL);
        if (!c)
            return;
        if (!value) {   /* tombstone: the connector was deleted */
            free(c->name);
            cfg_map_free(&c->config);
            memmove(c, c + 1, (size_t)(*v + *n - (c + 1)) * sizeof *c);
            (*n)--;
            return;
        }
        json_t *j = json_loadb(value, vlen, 0, NULL);
        json_t *props = j ? json_object_get(j, "properties") : NULL;
        char err[256];
        cfg_map_t m = { 0 };
        if (props && cfg_map_from_json(props, &m, NULL, err, sizeof err) == 0) {
            cfg_map_free(&c->config);
            c->config = m;
        } else {
            cfg_map_free(&m);
            log_warn("a connector record of the config topic is not Connect's {\"properties\":{…}}; the record is ignored",
                     "connector=%.*s", (int)nlen, name);
        }
        json_decref(j);
    } else if (klen > sizeof tp - 1 && !memcmp(key, tp, sizeof tp - 1) && value) {
        cst_conn_t *c = conn_get(v, n, key + sizeof tp - 1, klen - (sizeof tp - 1), true);
        json_t *j = json_loadb(value, vlen, 0, NULL);
        json_t *s = j ? json_object_get(j, "state.v2") : NULL;
        if (!s || !json_is_string(s))
            s = j ? json_object_get(j, "state") : NULL;
        const char *st = s && json_is_string(s) ? json_string_value(s) : "STARTED";
        c->target = !strcmp(st, "PAUSED") ? WRK_TARGET_PAUSED : !strcmp(st, "STOPPED") ? WRK_TARGET_STOPPED : WRK_STARTED;
        json_decref(j);
    }
}

void cst_conns_free(cst_conn_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        cfg_map_free(&v[i].config);
    }
    free(v);
}

/* ---- Kafka ---------------------------------------------------------------------------------- */

/* Served under mu (by the waiting writer, or by a status write that found mu free). A record of the write
 * being waited for counts down its pending; a status record (opaque 0) is not waited for: a failure is
 * logged. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    cst_t *s = opaque;
    uintptr_t id = (uintptr_t)m->_private;
    if (id && id == s->seq) {
        s->pending--;
        if (m->err && !s->wait_err)
            s->wait_err = m->err;
    } else if (m->err) {
        log_warn("cannot write a status to the status topic (the REST status is right; Connect tooling reading the topic "
                 "sees an older one)", "key=%.*s error=\"%s\"", (int)(m->key_len < 512 ? m->key_len : 512),
                 m->key ? (const char *)m->key : "", log_esc(rd_kafka_err2str(m->err)));
    }
}

/* Writes records (key, value; value NULL: tombstone) to topic and waits (30 s at most) until Kafka has
 * them all: only them, not the status records sent before (which may wait for a connection that is
 * slow to come back, e.g. after this worker was cut off from Kafka). */
static int send_records(cst_t *s, const char *topic, const char *const *kv, size_t nrec, char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    s->seq++;
    s->pending = 0;
    s->wait_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (size_t i = 0; i < nrec && rc == 0; i++) {
        const char *k = kv[2 * i], *v = kv[2 * i + 1];
        rd_kafka_resp_err_t e = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(k, strlen(k)),
                                                  RD_KAFKA_V_VALUE((void *)v, v ? strlen(v) : 0),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_OPAQUE((void *)s->seq), RD_KAFKA_V_END);
        if (e) {
            snprintf(err, errlen, "cannot write %s to %s: %s", k, topic, rd_kafka_err2str(e));
            rc = -1;
        } else {
            s->pending++;
        }
    }
    int64_t until = wc_mono_ms() + 30000;
    while (s->pending > 0 && wc_mono_ms() < until)
        rd_kafka_poll(s->rk, 100);
    if (s->pending > 0 && rc == 0) {
        snprintf(err, errlen, "writing to %s did not finish within 30 s (is Kafka reachable?)", topic);
        rc = -1;
    }
    if (rc == 0 && s->wait_err) {
        snprintf(err, errlen, "Kafka refused the write to %s: %s", topic, rd_kafka_err2str(s->wait_err));
        rc = -1;
    }
    s->seq++;   /* reports still to come for these records are late ones */
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* A topic record of the status topic (status-topic-…, KIP-558's active topics), not waited for: a failure is
 * logged when its delivery report is served (here when mu is free, or by the next waited-for write). */
static void send_topic_record(cst_t *s, const char *key, const char *value)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(s->rk, RD_KAFKA_V_TOPIC(s->status_topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                              RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e)
        log_warn("cannot write a status to the status topic (the REST status is right; Connect tooling reading the topic "
                 "sees an older one)", "key=%s error=\"%s\"", key, log_esc(rd_kafka_err2str(e)));
    if (pthread_mutex_trylock(&s->mu) == 0) {
        rd_kafka_poll(s->rk, 0);
        pthread_mutex_unlock(&s->mu);
    }
}

/* ---- status records ------------------------------------------------------------------------- */

/* The entry of a status key (smu held); added when add. */
static struct cst_skey *skey_get(cst_t *s, const char *key, size_t klen, const char *name, int task, bool add)
{
    for (size_t i = 0; i < s->nskeys; i++)
        if (strlen(s->skeys[i].key) == klen && !memcmp(s->skeys[i].key, key, klen))
            return &s->skeys[i];
    if (!add)
        return NULL;
    s->skeys = xrealloc(s->skeys, (s->nskeys + 1) * sizeof *s->skeys);
    struct cst_skey *k = &s->skeys[s->nskeys++];
    *k = (struct cst_skey){ .key = xstrdup(key), .name = xstrdup(name), .task = task };
    return k;
}

static rd_kafka_resp_err_t status_produce(cst_t *s, const char *key, size_t klen, const void *value, size_t vlen,
                                          uintptr_t seq)
{
    return rd_kafka_producev(s->srk, RD_KAFKA_V_TOPIC(s->status_topic), RD_KAFKA_V_KEY(key, klen),
                             RD_KAFKA_V_VALUE((void *)value, vlen), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_OPAQUE((void *)seq), RD_KAFKA_V_END);
}

/* srk's delivery reports (its poller thread, or cst_free's flush). A record that failed (not delivered
 * within status_ms, or dropped by cst_status_drop) is sent again only while it is still the newest of its
 * key and this worker still runs what it is about, as Connect's KafkaStatusBackingStore re-sends only a
 * status of the current generation: a worker cut off from Kafka keeps no status that lands, once it is
 * back, over the one of the worker that took its connector over. A tombstone (a deleted connector) is
 * anyone's to write. */
static void on_status_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    cst_t *s = opaque;
    if (!m->err || !m->key)
        return;
    uintptr_t seq = (uintptr_t)m->_private;
    int klen = m->key_len < 512 ? (int)m->key_len : 512;
    pthread_mutex_lock(&s->smu);
    struct cst_skey *k = skey_get(s, m->key, m->key_len, NULL, 0, false);
    bool newest = k && k->seq == seq;
    bool again = newest && !s->sclosing && (!m->payload || !s->owns || s->owns(s->owns_ctx, k->name, k->task));
    int tries = newest ? ++k->tries : 0;
    rd_kafka_resp_err_t e = again ? status_produce(s, m->key, m->key_len, m->payload, m->len, seq) : RD_KAFKA_RESP_ERR_NO_ERROR;
    pthread_mutex_unlock(&s->smu);
    if (again && !e) {
        if (tries == 1)   /* once per record: every status_ms while Kafka is away otherwise */
            log_warn("a status was not written to the status topic in time; sent again while this worker runs it",
                     "key=%.*s error=\"%s\" timeout_ms=%d", klen, (const char *)m->key, log_esc(rd_kafka_err2str(m->err)),
                     s->status_ms);
    } else if (again) {
        log_warn("cannot write a status to the status topic (the REST status is right; Connect tooling reading the topic "
                 "sees an older one)", "key=%.*s error=\"%s\"", klen, (const char *)m->key, log_esc(rd_kafka_err2str(e)));
    } else if (newest && !s->sclosing) {
        log_info("a status not written in time is dropped: this worker no longer runs it (the worker that does writes its "
                 "own)", "key=%.*s error=\"%s\"", klen, (const char *)m->key, log_esc(rd_kafka_err2str(m->err)));
    }
}

static void *status_poll(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-status");
    cst_t *s = arg;
    while (!s->sclosing)
        rd_kafka_poll(s->srk, 100);
    return NULL;
}

/* srk's sockets close at once (SO_LINGER 0): a request still unsent when librdkafka gives up on a connection
 * (Kafka unreachable) is dropped with it, not sent by the kernel once Kafka is reachable again. */
static int status_socket(int domain, int type, int protocol, void *opaque)
{
    (void)opaque;
    int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    if (fd >= 0) {
        struct linger l = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    return fd;
}

/* The status records' producer: no retries of its own (on_status_delivery decides), one request in flight
 * (statuses of one key stay in order), each record delivered within status_ms or failed. */
static int status_new(cst_t *s, const worker_config_t *w, char *err, size_t errlen)
{
    char e[512], ms[32];
    snprintf(ms, sizeof ms, "%d", s->status_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", s->bootstrap, e, sizeof e);
    ktop_conf_security(conf, &w->producer);
    static const char *const kv[] = { "acks", "all", "enable.idempotence", "false", "message.send.max.retries", "0",
                                      "max.in.flight.requests.per.connection", "1", "linger.ms", "0",
                                      "partitioner", "murmur2_random" };
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i += 2)
        rd_kafka_conf_set(conf, kv[i], kv[i + 1], e, sizeof e);
    if (rd_kafka_conf_set(conf, "message.timeout.ms", ms, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "request.timeout.ms", ms, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "socket.timeout.ms", ms, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "cannot set the status producer's timeouts to %s ms: %s", ms, e);
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_socket_cb(conf, status_socket);
    rd_kafka_conf_set_dr_msg_cb(conf, on_status_delivery);
    rd_kafka_conf_set_opaque(conf, s);
    if (!(s->srk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the status topic's producer: %s", e);
        return -1;
    }
    if (pthread_create(&s->spoll, NULL, status_poll, s) != 0) {
        snprintf(err, errlen, "cannot start the status producer's thread");
        return -1;
    }
    s->spolling = true;
    return 0;
}

/* A status record (status-connector-<n>, status-task-<n>-<t>), not waited for (as Connect's status store
 * writes): a worker stopping or starting connectors in a rebalance must not wait for Kafka once per status. */
static void send_status(cst_t *s, const char *key, const char *name, int task, const char *value)
{
    pthread_mutex_lock(&s->smu);
    struct cst_skey *k = skey_get(s, key, strlen(key), name, task, true);
    k->seq = ++s->sseq;
    k->tries = 0;
    rd_kafka_resp_err_t e = status_produce(s, key, strlen(key), value, value ? strlen(value) : 0, k->seq);
    pthread_mutex_unlock(&s->smu);
    if (e)
        log_warn("cannot write a status to the status topic (the REST status is right; Connect tooling reading the topic "
                 "sees an older one)", "key=%s error=\"%s\"", key, log_esc(rd_kafka_err2str(e)));
}

void cst_set_owner(cst_t *s, cst_owns_fn owns, void *ctx)
{
    pthread_mutex_lock(&s->smu);
    s->owns = owns;
    s->owns_ctx = ctx;
    pthread_mutex_unlock(&s->smu);
}

void cst_status_drop(cst_t *s)
{
    if (s && s->srk)
        rd_kafka_purge(s->srk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

int cst_status_queued(cst_t *s)
{
    return rd_kafka_outq_len(s->srk);
}

/* The task's records: task-<n>-0 (the connector's config and its task class) and commit-<n> with the
 * task count, as Connect's leader writes them; a stopped connector has none (commit with 0 tasks). */
static int put_tasks(cst_t *s, const char *name, const cfg_map_t *config, wrk_target_t t, char *err, size_t errlen)
{
    char tk[512], ck[512];
    snprintf(tk, sizeof tk, "task-%s-0", name);
    snprintf(ck, sizeof ck, "commit-%s", name);
    cfg_map_t task = { 0 };
    cfg_map_copy(&task, config);
    cfg_map_set(&task, "task.class", cfg_task_class(config));
    char *tv = cst_config_value(&task);
    cfg_map_free(&task);
    const char *stopped[] = { ck, "{\"tasks\":0}" };
    const char *running[] = { tk, tv, ck, "{\"tasks\":1}" };
    int rc = t == WRK_TARGET_STOPPED ? send_records(s, s->config_topic, stopped, 1, err, errlen)
                                     : send_records(s, s->config_topic, running, 2, err, errlen);
    free(tv);
    return rc;
}

static int st_put_config(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, bool created, char *err,
                         size_t errlen)
{
    cst_t *s = ctx;
    char key[512], tkey[512];
    snprintf(key, sizeof key, "connector-%s", name);
    snprintf(tkey, sizeof tkey, "target-state-%s", name);
    char *v = cst_config_value(config), *tv = cst_target_value(target);
    /* as Connect: the target state of a new connector first, then its config */
    const char *rec[] = { tkey, tv, key, v };
    int rc = created ? send_records(s, s->config_topic, rec, 2, err, errlen)
                     : send_records(s, s->config_topic, rec + 2, 1, err, errlen);
    free(v);
    free(tv);
    if (rc == 0)
        rc = put_tasks(s, name, config, target, err, errlen);
    return rc;
}

static int st_put_target(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, char *err, size_t errlen)
{
    cst_t *s = ctx;
    char key[512];
    snprintf(key, sizeof key, "target-state-%s", name);
    char *v = cst_target_value(target);
    const char *rec[] = { key, v };
    int rc = send_records(s, s->config_topic, rec, 1, err, errlen);
    free(v);
    if (rc == 0)
        rc = put_tasks(s, name, config, target, err, errlen);
    return rc;
}

static int st_remove(void *ctx, const char *name, char *err, size_t errlen)
{
    cst_t *s = ctx;
    char key[512], tkey[512];
    snprintf(key, sizeof key, "connector-%s", name);
    snprintf(tkey, sizeof tkey, "target-state-%s", name);
    const char *rec[] = { key, NULL, tkey, NULL };   /* tombstones, as Connect's removeConnectorConfig */
    return send_records(s, s->config_topic, rec, 2, err, errlen);
}

/* Connect's restart request (KIP-745): the worker that runs the connector reads it and restarts it. */
static int st_restart(void *ctx, const char *name, bool include_tasks, bool only_failed, char *err, size_t errlen)
{
    cst_t *s = ctx;
    char key[512];
    snprintf(key, sizeof key, "restart-connector-%s", name);
    char *v = dump(json_pack("{s:b,s:b}", "include-tasks", include_tasks, "only-failed", only_failed));
    const char *rec[] = { key, v };
    int rc = send_records(s, s->config_topic, rec, 1, err, errlen);
    free(v);
    return rc;
}

static void st_status(void *ctx, const char *name, int task, wrk_state_t state, const char *trace, const char *worker_id,
                      bool gone)
{
    cst_t *s = ctx;
    char key[512];
    if (task < 0)
        snprintf(key, sizeof key, "status-connector-%s", name);
    else
        snprintf(key, sizeof key, "status-task-%s-%d", name, task);
    char *v = gone ? NULL : cst_status_value(state, trace, worker_id, __atomic_load_n(&s->generation, __ATOMIC_RELAXED));
    send_status(s, key, name, task, v);
    free(v);
}

char *cst_topic_value(const char *name, const char *topic, int64_t discover_ms)
{
    return dump(json_pack("{s:{s:s,s:s,s:i,s:I}}", "topic", "name", topic, "connector", name, "task", 0, "discoverTimestamp",
                          (json_int_t)discover_ms));
}

/* KafkaStatusBackingStore's key of an active topic: status-topic-<topic>:connector-<name> */
static void topic_key(char *key, size_t keylen, const char *name, const char *topic)
{
    snprintf(key, keylen, "status-topic-%s:connector-%s", topic, name);
}

static void st_topic(void *ctx, const char *name, const char *topic, bool gone)
{
    cst_t *s = ctx;
    char key[1024];
    topic_key(key, sizeof key, name, topic);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char *v = gone ? NULL : cst_topic_value(name, topic, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    send_topic_record(s, key, v);
    free(v);
}

void cst_store(cst_t *s, wrk_store_t *out)
{
    *out = (wrk_store_t){ .ctx = s, .put_config = st_put_config, .put_target = st_put_target, .remove = st_remove,
                          .status = st_status, .topic = st_topic, .restart = st_restart };
}

int cst_topic_parse(const char *key, size_t klen, char **name, char **topic)
{
    static const char pre[] = "status-topic-", sep[] = ":connector-";
    *name = *topic = NULL;
    if (!key || klen <= sizeof pre - 1 || memcmp(key, pre, sizeof pre - 1))
        return -1;
    /* as Connect: the topic ends at the first ':' (topic names have none) */
    const char *t = key + sizeof pre - 1, *end = key + klen;
    const char *colon = memchr(t, ':', (size_t)(end - t));
    if (!colon || colon == t || (size_t)(end - colon) <= sizeof sep - 1 || memcmp(colon, sep, sizeof sep - 1))
        return -1;
    const char *n = colon + sizeof sep - 1;
    *topic = xmalloc((size_t)(colon - t) + 1);
    memcpy(*topic, t, (size_t)(colon - t));
    (*topic)[colon - t] = 0;
    *name = xmalloc((size_t)(end - n) + 1);
    memcpy(*name, n, (size_t)(end - n));
    (*name)[end - n] = 0;
    return 0;
}

static void on_status_record(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen, const char *value,
                             size_t vlen)
{
    (void)partition;
    (void)offset;
    json_t *active = ctx;   /* key text -> [name, topic] */
    char *name, *topic;
    if (cst_topic_parse(key, klen, &name, &topic) < 0)
        return;
    json_t *v = value ? json_loadb(value, vlen, 0, NULL) : NULL;
    char *k = xmalloc(klen + 1);
    memcpy(k, key, klen);
    k[klen] = 0;
    if (v && json_is_object(json_object_get(v, "topic")))
        json_object_set_new(active, k, json_pack("[s,s]", name, topic));
    else
        json_object_del(active, k);   /* a tombstone: reset */
    free(k);
    json_decref(v);
    free(name);
    free(topic);
}

int cst_load_topics(cst_t *s, wrk_t *w, char *err, size_t errlen)
{
    json_t *active = json_object();
    if (ktop_read_all(s->bootstrap, &s->producer, s->status_topic, "status topic", on_status_record, active, err, errlen) < 0) {
        json_decref(active);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(active, k, v)
        wrk_topic_add(w, json_string_value(json_array_get(v, 0)), json_string_value(json_array_get(v, 1)));
    json_decref(active);
    return 0;
}

/* Kafka Connect workers in group.id: they join it with protocol type "connect", which the consumer-group
 * Admin API refuses to describe (the classic group listing is used); walcast workers join it as consumers
 * (cluster.c), and the broker refuses a member of the other type while the group is not empty. */
static int group_members(cst_t *s, size_t *members, char *err, size_t errlen)
{
    const struct rd_kafka_group_list *gl = NULL;
    rd_kafka_resp_err_t e = rd_kafka_list_groups(s->rk, s->group, &gl, 15000);
    if (e) {
        snprintf(err, errlen, "%s", rd_kafka_err2str(e));
        return -1;
    }
    *members = 0;
    for (int i = 0; i < gl->group_cnt; i++)
        if (!strcmp(gl->groups[i].group, s->group) && !gl->groups[i].err && gl->groups[i].protocol_type &&
            !strcmp(gl->groups[i].protocol_type, "connect"))   /* walcast workers are members of type "consumer" */
            *members += (size_t)gl->groups[i].member_cnt;
    rd_kafka_group_list_destroy(gl);
    return 0;
}

int cst_ensure_topic(cst_t *s, const char *topic, const ktop_create_t *c, char *err, size_t errlen)
{
    /* Connect refuses a config or offsets topic that is not compacted, so one walcast made must be so */
    return ktop_ensure(s->rk, s->bootstrap, topic, c, 20000, err, errlen) < 0 ? -1 : 0;
}

/* An existing config topic has one partition, as Kafka Connect requires (KafkaConfigBackingStore refuses to start
 * otherwise): a connector's configuration, its tasks' and their commit record are read in the order written only
 * within one partition. -1 and err when it has more; a metadata request that fails is left to the reads after. */
static int config_topic_single(cst_t *s, char *err, size_t errlen)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(s->rk, s->config_topic, NULL);
    const rd_kafka_metadata_t *md = NULL;
    int rc = 0;
    if (rkt && rd_kafka_metadata(s->rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
        !md->topics[0].err && md->topics[0].partition_cnt > 1) {
        snprintf(err, errlen, "config.storage.topic %s has %d partitions: Kafka Connect (and walcast) require a single "
                 "partition to keep the connectors' configurations in the order they were written. Give "
                 "config.storage.topic a topic with one partition (walcast creates it when missing), or Kafka "
                 "Connect's own if you take its connectors over", s->config_topic, md->topics[0].partition_cnt);
        rc = -1;
    }
    if (md)
        rd_kafka_metadata_destroy(md);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    return rc;
}

cst_t *cst_open(const cfg_map_t *wm, const worker_config_t *w, char *err, size_t errlen)
{
    char e[512];
    cst_t *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->smu, NULL);
    s->bootstrap = xstrdup(w->bootstrap_servers);
    cfg_map_copy(&s->producer, &w->producer);
    s->config_topic = xstrdup(get_or(wm, "config.storage.topic", "connect-configs"));
    s->status_topic = xstrdup(get_or(wm, "status.storage.topic", "connect-status"));
    s->group = xstrdup(get_or(wm, "group.id", "connect-cluster"));
    s->offset_topic = xstrdup(w->offset_topic);
    s->generation = 1;
    /* a status is delivered within half the group's session timeout, or dropped unless this worker still
     * runs it: within the session, nobody else can have been given it yet */
    int session = atoi(get_or(wm, "session.timeout.ms", "10000"));
    s->status_ms = (session >= 1000 ? session : 10000) / 2;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", s->bootstrap, e, sizeof e);
    ktop_conf_security(conf, &w->producer);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", e, sizeof e);
    rd_kafka_conf_set(conf, "acks", "all", e, sizeof e);
    rd_kafka_conf_set(conf, "linger.ms", "0", e, sizeof e);
    /* a request unanswered for 10 s is sent again on a new connection (idempotent: once): after a cut
     * from Kafka, a request sent meanwhile stayed in flight for the default 60 s */
    rd_kafka_conf_set(conf, "socket.timeout.ms", "10000", e, sizeof e);
    /* Java's partitioner, as the connectors' own offset records: an altered offset lands beside them */
    rd_kafka_conf_set(conf, "partitioner", "murmur2_random", e, sizeof e);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, s);
    if (!(s->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the config topic's producer: %s", e);
        goto fail;
    }
    if (status_new(s, w, err, errlen) < 0)
        goto fail;
    size_t members = 0;
    char ge[512];
    if (group_members(s, &members, ge, sizeof ge) < 0)
        log_warn("cannot tell whether Kafka Connect workers are in the group; going on", "group.id=%s error=\"%s\"", s->group,
                 log_esc(ge));
    else if (members > 0) {
        snprintf(err, errlen, "%zu member(s) are in group.id=%s: Kafka Connect workers of this cluster are still running, and "
                 "they would run the same connectors from %s. Stop every Connect worker of the group first, then start "
                 "walcast on the same topics (or give walcast another group.id and other topics)", members, s->group,
                 s->config_topic);
        goto fail;
    }
    int sparts = atoi(get_or(wm, "status.storage.partitions", "5"));
    ktop_create_t cc = { .key = "config.storage.topic", .partitions = 1,
                         .replication = atoi(get_or(wm, "config.storage.replication.factor", "-1")),
                         .replication_key = "config.storage.replication.factor" };
    ktop_create_t sc = { .key = "status.storage.topic", .partitions = sparts > 0 ? sparts : 5,
                         .replication = atoi(get_or(wm, "status.storage.replication.factor", "-1")),
                         .partitions_key = "status.storage.partitions", .replication_key = "status.storage.replication.factor" };
    /* the offsets topic too, before the REST offsets endpoints or a connector read it (a read would make the broker
     * auto-create it with its defaults) */
    ktop_create_t oc = off_topic_create(w);
    ktop_ensured_t made = ktop_ensure(s->rk, s->bootstrap, s->config_topic, &cc, 20000, err, errlen);
    if (made < 0 || (made == KTOP_EXISTS && config_topic_single(s, err, errlen) < 0) ||
        cst_ensure_topic(s, s->status_topic, &sc, err, errlen) < 0 || cst_ensure_topic(s, s->offset_topic, &oc, err, errlen) < 0)
        goto fail;
    return s;
fail:
    cst_free(s);
    return NULL;
}

static int cmp_conn(const void *a, const void *b)
{
    return strcmp(((const cst_conn_t *)a)->name, ((const cst_conn_t *)b)->name);
}

typedef struct load_ctx {
    cst_conn_t *v;
    size_t n;
} load_ctx_t;

static void on_config_record(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen, const char *value,
                             size_t vlen)
{
    (void)partition;
    (void)offset;
    load_ctx_t *l = ctx;
    cst_apply(&l->v, &l->n, key, klen, value, vlen);
}

int cst_load(cst_t *s, cst_conn_t **out, size_t *n, char *err, size_t errlen)
{
    load_ctx_t l = { 0 };
    if (ktop_read_all(s->bootstrap, &s->producer, s->config_topic, "config topic", on_config_record, &l, err, errlen) < 0) {
        cst_conns_free(l.v, l.n);
        return -1;
    }
    /* a target state whose connector was never written (or was deleted) is no connector */
    size_t k = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (l.v[i].config.n)
            l.v[k++] = l.v[i];
        else {
            free(l.v[i].name);
            cfg_map_free(&l.v[i].config);
        }
    }
    qsort(l.v, k, sizeof *l.v, cmp_conn);
    *out = l.v;
    *n = k;
    return 0;
}

/* ---- offsets ---------------------------------------------------------------------------------- */

typedef struct off_scan {
    const char *name;
    json_t *parts;                /* canonical partition text -> {"key": raw key text, "partition":…, "offset":…} */
} off_scan_t;

/* A key of the offsets topic that is this connector's: [name, {partition}]; its partition, else NULL. */
static json_t *key_partition(const char *name, const char *key, size_t klen, json_t **root)
{
    *root = key ? json_loadb(key, klen, 0, NULL) : NULL;
    if (!*root || !json_is_array(*root) || json_array_size(*root) != 2)
        return NULL;
    json_t *n = json_array_get(*root, 0), *p = json_array_get(*root, 1);
    if (!json_is_string(n) || strcmp(json_string_value(n), name) || !json_is_object(p))
        return NULL;
    return p;
}

static void on_offset_record(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen, const char *value,
                             size_t vlen)
{
    (void)partition;
    (void)offset;
    off_scan_t *sc = ctx;
    json_t *root;
    json_t *p = key_partition(sc->name, key, klen, &root);
    if (p) {
        char *canon = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *v = value ? json_loadb(value, vlen, 0, NULL) : NULL;
        if (!v)
            json_object_del(sc->parts, canon);   /* a tombstone (or an unreadable value) */
        else
            json_object_set_new(sc->parts, canon, json_pack("{s:s%,s:O,s:o}", "key", key, klen, "partition", p, "offset", v));
        free(canon);
    }
    json_decref(root);
}

static int scan_offsets(cst_t *s, const char *name, json_t **parts, char *err, size_t errlen)
{
    off_scan_t sc = { .name = name, .parts = json_object() };
    if (ktop_read_all(s->bootstrap, &s->producer, s->offset_topic, "offsets topic", on_offset_record, &sc, err, errlen) < 0) {
        json_decref(sc.parts);
        return -1;
    }
    *parts = sc.parts;
    return 0;
}

int cst_offsets_get(void *store, const char *name, char **json, char *err, size_t errlen)
{
    json_t *parts;
    if (scan_offsets(store, name, &parts, err, errlen) < 0)
        return -1;
    json_t *a = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(parts, k, v)
        json_array_append_new(a, json_pack("{s:O,s:O}", "partition", json_object_get(v, "partition"), "offset",
                                           json_object_get(v, "offset")));
    json_decref(parts);
    *json = dump(a);
    return 0;
}

int cst_offsets_alter(void *store, const char *name, const char *json, char *err, size_t errlen)
{
    cst_t *s = store;
    json_t *a = json_loads(json, 0, NULL);
    int rc = -1;
    size_t n = json_is_array(a) ? json_array_size(a) : 0;
    char **kv = xcalloc(2 * n + 1, sizeof *kv);
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(a, i), *p = json_object_get(e, "partition"), *o = json_object_get(e, "offset");
        if (!json_is_object(p) || (o && !json_is_object(o) && !json_is_null(o))) {   /* the caller checked */
            snprintf(err, errlen, "offsets[%zu] is not {\"partition\":{…},\"offset\":{…}}", i);
            goto out;
        }
        /* the key as Connect's JsonConverter writes it: [name, partition], fields in the given order */
        json_t *key = json_pack("[s,O]", name, p);
        kv[2 * i] = json_dumps(key, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(key);
        kv[2 * i + 1] = o && !json_is_null(o) ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    }
    rc = send_records(s, s->offset_topic, (const char *const *)kv, n, err, errlen);
out:
    for (size_t i = 0; i < 2 * n; i++)
        free(kv[i]);
    free(kv);
    json_decref(a);
    return rc;
}

int cst_offsets_reset(void *store, const char *name, char *err, size_t errlen)
{
    cst_t *s = store;
    json_t *parts;
    if (scan_offsets(s, name, &parts, err, errlen) < 0)
        return -1;
    size_t n = json_object_size(parts), i = 0;
    const char **kv = xcalloc(2 * n + 1, sizeof *kv);
    const char *k;
    json_t *v;
    json_object_foreach(parts, k, v) {
        kv[2 * i] = json_string_value(json_object_get(v, "key"));   /* the stored key bytes: same partition */
        kv[2 * i + 1] = NULL;
        i++;
    }
    int rc = send_records(s, s->offset_topic, kv, n, err, errlen);
    free(kv);
    json_decref(parts);
    return rc;
}

void cst_free(cst_t *s)
{
    if (!s)
        return;
    s->sclosing = 1;   /* from here a failed status is not sent again: the flush below ends within status_ms */
    if (s->spolling)
        pthread_join(s->spoll, NULL);
    if (s->srk) {
        rd_kafka_flush(s->srk, s->status_ms + 1000);
        rd_kafka_destroy(s->srk);
    }
    if (s->rk) {
        rd_kafka_flush(s->rk, 10000);
        rd_kafka_destroy(s->rk);
    }
    for (size_t i = 0; i < s->nskeys; i++) {
        free(s->skeys[i].key);
        free(s->skeys[i].name);
    }
    free(s->skeys);
    free(s->bootstrap);
    cfg_map_free(&s->producer);
    free(s->config_topic);
    free(s->status_topic);
    free(s->group);
    free(s->offset_topic);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->smu);
    free(s);
}
