/* ktopic.c: a whole topic read to its end with read_committed (Connect's offsets, config and status
 * topics). The end is taken as the high watermark before reading, so a record behind another producer's
 * open transaction is waited for, never missed. */
#include "agent/ktopic.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/log.h"
#include "schemas/buf.h"
#include "schemas/clock.h"

void ktop_conf_security(rd_kafka_conf_t *conf, const cfg_map_t *overrides)
{
    char e[512];
    for (size_t i = 0; overrides && i < overrides->n; i++) {
        const char *k = overrides->kv[i].key;
        if (strncmp(k, "security.", 9) == 0 || strncmp(k, "sasl.", 5) == 0 || strncmp(k, "ssl.", 4) == 0)
            rd_kafka_conf_set(conf, k, overrides->kv[i].value, e, sizeof e);
    }
}

bool ktop_policy_compact_only(const char *policy)
{
    bool compact = false, other = false;
    for (const char *p = policy ? policy : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 7 && !strncmp(p, "compact", 7))
            compact = true;
        else if (n)
            other = true;
        p += n;
    }
    return compact && !other;
}

/* Topics warned about already (each once per process: a worker's store and every start of its connectors check). */
static pthread_mutex_t warned_mu = PTHREAD_MUTEX_INITIALIZER;
static char **warned;
static size_t nwarned;

static bool warn_first(const char *topic)
{
    bool first = true;
    pthread_mutex_lock(&warned_mu);
    for (size_t i = 0; i < nwarned && first; i++)
        first = strcmp(warned[i], topic) != 0;
    if (first) {
        warned = xrealloc(warned, (nwarned + 1) * sizeof *warned);
        warned[nwarned++] = xstrdup(topic);
    }
    pthread_mutex_unlock(&warned_mu);
    return first;
}

static void warn_policy(const char *bootstrap, const char *topic, const char *key, const char *policy)
{
    if (ktop_policy_compact_only(policy) || !warn_first(topic))
        return;
    char fix[1024];
    snprintf(fix, sizeof fix, "kafka-configs.sh --bootstrap-server %s --alter --entity-type topics --entity-name %s "
             "--add-config cleanup.policy=compact", bootstrap, topic);
    log_warn("topic is not compacted: Kafka deletes its records after retention.ms, with them the last one of a key not "
             "written for that long (a connector stopped that long starts from nothing), and until then every start reads "
             "all of them. Kafka Connect refuses such a topic; walcast uses it as it is and asks you to run fix",
             "topic=%s key=%s cleanup.policy=%s fix=\"%s\"", topic, key, policy, fix);
}

/* Whether the brokers (md) name a controller among them: librdkafka 2.0.2's mock cluster answers controller 0, a
 * broker it does not have, and admin requests then wait their whole timeout for it. */
static bool has_controller(rd_kafka_t *rk, const rd_kafka_metadata_t *md)
{
    int32_t id = rd_kafka_controllerid(rk, 0);
    for (int i = 0; id >= 0 && i < md->broker_cnt; i++)
        if (md->brokers[i].id == id)
            return true;
    return false;
}

/* topic's cleanup.policy from a DescribeConfigs event; NULL when the answer does not hold it. */
static const char *described_policy(rd_kafka_event_t *ev)
{
    const rd_kafka_DescribeConfigs_result_t *res = rd_kafka_event_DescribeConfigs_result(ev);
    size_t nres = 0, ncfg = 0;
    const rd_kafka_ConfigResource_t **rs = res && !rd_kafka_event_error(ev) ? rd_kafka_DescribeConfigs_result_resources(res, &nres) : NULL;
    if (nres != 1 || rd_kafka_ConfigResource_error(rs[0]))
        return NULL;
    const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[0], &ncfg);
    for (size_t i = 0; i < ncfg; i++)
        if (!strcmp(rd_kafka_ConfigEntry_name(ce[i]), "cleanup.policy"))
            return rd_kafka_ConfigEntry_value(ce[i]) ? rd_kafka_ConfigEntry_value(ce[i]) : "";
    return NULL;
}

static void describe_send(rd_kafka_t *rk, const char *topic, int timeout_ms, rd_kafka_queue_t *q)
{
    char e[512];
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    rd_kafka_DescribeConfigs(rk, &cr, 1, o, q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(cr);
}

void ktop_check_compacted(rd_kafka_t *rk, const char *bootstrap, const char *topic, const char *key, int timeout_ms)
{
    const rd_kafka_metadata_t *md = NULL;
    if (rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    bool controller = has_controller(rk, md);
    rd_kafka_metadata_destroy(md);
    if (!controller)   /* the mock cluster: no DescribeConfigs (no controller to send it to) */
        return;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    describe_send(rk, topic, timeout_ms, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    const char *policy = ev ? described_policy(ev) : NULL;
    if (policy)
        warn_policy(bootstrap, topic, key, policy);
    else
        log_debug("cannot read the topic's cleanup.policy (DescribeConfigs); not checked", "topic=%s error=\"%s\"", topic,
                  log_esc(ev && rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : "no answer"));
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
}

/* ktop_ensure, and ktop_probe's question (validate: CreateTopics with validate_only, nothing created, nothing logged,
 * the policy of an existing topic copied into policy ("" when it cannot be read)). */
static ktop_ensured_t ensure(rd_kafka_t *rk, const char *bootstrap, const char *topic, const ktop_create_t *c, int timeout_ms,
                             bool validate, char *policy, size_t policylen, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, c->partitions > 0 ? c->partitions : 1,
                                                    c->replication ? c->replication : -1, e, sizeof e);
    if (!nt) {
        snprintf(err, errlen, "cannot make the request to create topic %s (%s): %s", topic, c->key, e);
        return KTOP_FAILED;
    }
    if (!c->plain)
        rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact");
    const char *where = c->where ? c->where : "the worker file";
    /* the brokers and the controller first (the admin requests would ask for them too): librdkafka's mock cluster
     * (the embedded Kafka) names none of its brokers as controller, and admin requests wait their timeout for one */
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t me = rd_kafka_metadata(rk, 0, NULL, &md, timeout_ms);
    if (me) {
        rd_kafka_NewTopic_destroy(nt);
        snprintf(err, errlen, "cannot create topic %s (%s): no metadata within %d ms: %s (is bootstrap.servers=%s "
                 "reachable?)", topic, c->key, timeout_ms, rd_kafka_err2str(me), bootstrap);
        return KTOP_NO_ANSWER;
    }
    bool controller = has_controller(rk, md);
    rd_kafka_metadata_destroy(md);
    if (!controller) {
        rd_kafka_NewTopic_destroy(nt);
        if (validate) {
            snprintf(err, errlen, "Kafka at %s names no controller (librdkafka's mock cluster?): topic %s (%s) is not created "
                     "but left to the broker's auto-creation", bootstrap, topic, c->key);
            return c->required ? KTOP_FAILED : KTOP_REFUSED;
        }
        if (c->required) {
            snprintf(err, errlen, "cannot create topic %s (%s): Kafka at %s names no controller to create it (librdkafka's "
                     "mock cluster?)", topic, c->key, bootstrap);
            return KTOP_FAILED;
        }
        static atomic_bool said;
        if (!atomic_exchange(&said, true))   /* once: every start of every connector comes here */
            log_info("Kafka names no controller (the embedded Kafka, librdkafka's mock cluster, has none and no "
                     "CreateTopics): topics are not created but left to the broker's auto-creation", "topic=%s key=%s",
                     topic, c->key);
        return KTOP_REFUSED;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(o, timeout_ms, e, sizeof e);
    rd_kafka_AdminOptions_set_operation_timeout(o, timeout_ms, e, sizeof e);
    if (validate)
        rd_kafka_AdminOptions_set_validate_only(o, 1, e, sizeof e);
    /* both at once: an existing topic (every start but the first) costs one round trip, not two */
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    if (!c->plain)
        describe_send(rk, topic, timeout_ms, q);
    rd_kafka_event_t *created = NULL, *described = NULL;
    for (int64_t until = wc_mono_ms() + timeout_ms + 1000; (!created || (!described && !c->plain)) &&
                                                           wc_mono_ms() < until;) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)(until - wc_mono_ms()) > 0 ? (int)(until - wc_mono_ms()) : 0);
        if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT && !created)
            created = ev;
        else if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT && !described)
            described = ev;
        else if (ev)
            rd_kafka_event_destroy(ev);
    }
    ktop_ensured_t rc;
    rd_kafka_resp_err_t ke = created ? rd_kafka_event_error(created) : RD_KAFKA_RESP_ERR__TIMED_OUT;
    const char *why = created ? rd_kafka_event_error_string(created) : "no answer";
    const rd_kafka_CreateTopics_result_t *res = created && !ke ? rd_kafka_event_CreateTopics_result(created) : NULL;
    size_t n = 0;
    const rd_kafka_topic_result_t **tr = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    if (!ke && n == 1 && rd_kafka_topic_result_error(tr[0])) {
        ke = rd_kafka_topic_result_error(tr[0]);
        why = rd_kafka_topic_result_error_string(tr[0]) ? rd_kafka_topic_result_error_string(tr[0]) : rd_kafka_err2str(ke);
    }
    if (validate && policy && policylen)
        *policy = '\0';
    if (!ke) {
        if (!validate)
            log_info(c->plain ? "topic created (as Kafka Connect creates it)"
                              : "topic created (compacted, as Kafka Connect creates it)",
                     "topic=%s key=%s partitions=%d replication.factor=%d", topic, c->key, c->partitions, c->replication);
        rc = KTOP_CREATED;
    } else if (ke == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && c->plain) {
        rc = KTOP_EXISTS;
    } else if (ke == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char *pol = described ? described_policy(described) : NULL;
        if (validate) {
            if (pol && policy && policylen)
                snprintf(policy, policylen, "%s", pol);
        } else if (pol)
            warn_policy(bootstrap, topic, c->key, pol);
        else   /* DescribeConfigs ran before another client created it, or is not allowed: asked again */
            ktop_check_compacted(rk, bootstrap, topic, c->key, timeout_ms);
        rc = KTOP_EXISTS;
    } else if (!c->required && (ke == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                                ke == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
                                ke == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || ke == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)) {
        /* as Connect's TopicAdmin: assume it exists or that the broker auto-creates it */
        char fix[1024];
        snprintf(fix, sizeof fix, "kafka-topics.sh --bootstrap-server %s --create --topic %s --partitions %d%s (or grant "
                 "CREATE on the topic)", bootstrap, topic, c->partitions, c->plain ? "" : " --config cleanup.policy=compact");
        char once[512];
        snprintf(once, sizeof once, "create %s", topic);
        if (validate)
            snprintf(err, errlen, "%s; fix: %s", why, fix);
        else if (warn_first(once))
            log_warn("cannot create the topic (no CREATE permission, or no CreateTopics in this Kafka): walcast uses it as "
                 "it is, or as the broker auto-creates it (cleanup.policy=delete and num.partitions unless the broker is "
                 "set otherwise); to have it as Kafka Connect creates it, run fix before the first start",
                 "topic=%s key=%s error=\"%s\" fix=\"%s\"", topic, c->key, log_esc(why), fix);
        rc = KTOP_REFUSED;
    } else if (ke == RD_KAFKA_RESP_ERR__TIMED_OUT || ke == RD_KAFKA_RESP_ERR__TRANSPORT ||
               ke == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT || ke == RD_KAFKA_RESP_ERR_NOT_CONTROLLER) {
        snprintf(err, errlen, "cannot create topic %s (%s): %s within %d ms (is bootstrap.servers=%s reachable?)", topic,
                 c->key, why, timeout_ms, bootstrap);
        rc = KTOP_NO_ANSWER;
    } else {
        const char *what = ke == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ? c->replication_key
                           : ke == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS ? c->partitions_key : NULL;
        snprintf(err, errlen, "Kafka refused to create topic %s (%s) with %d partitions, replication factor %d%s: %s; "
                 "%s%s%s%s, or create the topic yourself%s", topic, c->key, c->partitions, c->replication,
                 c->plain ? "" : " and cleanup.policy=compact", why, what ? "correct " : "correct the settings",
                 what ? what : "", what ? " in " : "", what ? where : "", c->plain ? "" : " (compacted)");
        rc = KTOP_FAILED;
    }
    if (created)
        rd_kafka_event_destroy(created);
    if (described)
        rd_kafka_event_destroy(described);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

ktop_ensured_t ktop_ensure(rd_kafka_t *rk, const char *bootstrap, const char *topic, const ktop_create_t *c, int timeout_ms,
                           char *err, size_t errlen)
{
    return ensure(rk, bootstrap, topic, c, timeout_ms, false, NULL, 0, err, errlen);
}

/* The read_uncommitted probe of a reader (ktop_open): its ListOffsets answer with the high watermark, past any
 * open transaction (a read_committed client's answer stops at the last stable offset). */
static rd_kafka_t *probe_new(const char *bootstrap, const cfg_map_t *overrides, const char *what, char *err, size_t errlen)
{
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    ktop_conf_security(conf, overrides);
    rd_kafka_conf_set(conf, "isolation.level", "read_uncommitted", e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", "walcast-offsets-reader", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk)
        snprintf(err, errlen, "cannot create the %s probe: %s", what, e);
    return rk;
}

/* ensure on a client of its own (overrides' security settings), destroyed before it returns. */
static ktop_ensured_t ensure_own(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const ktop_create_t *c,
                                 int timeout_ms, bool validate, char *policy, size_t policylen, char *err, size_t errlen)
{
    rd_kafka_t *rk = probe_new(bootstrap, overrides, c->key, err, errlen);
    if (!rk)
        return KTOP_FAILED;
    ktop_ensured_t rc = ensure(rk, bootstrap, topic, c, timeout_ms, validate, policy, policylen, err, errlen);
    rd_kafka_destroy(rk);
    return rc;
}

ktop_ensured_t ktop_probe(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const ktop_create_t *c,
                          int timeout_ms, char *policy, size_t policylen, char *err, size_t errlen)
{
    return ensure_own(bootstrap, overrides, topic, c, timeout_ms, true, policy, policylen, err, errlen);
}

ktop_ensured_t ktop_ensure_new(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const ktop_create_t *c,
                               int timeout_ms, char *err, size_t errlen)
{
    return ensure_own(bootstrap, overrides, topic, c, timeout_ms, false, NULL, 0, err, errlen);
}

/* High watermark of each partition, from the probe: one ListOffsets request per leader for all of them (a
 * query_watermark_offsets per partition was a round trip each, 25 in turn for Connect's 25 partitions). */
static int end_offsets(rd_kafka_t *rk, const char *topic, const char *what, int nparts, int64_t *ends, char *err,
                       size_t errlen)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_END;   /* timestamp -1: the latest */
    rd_kafka_resp_err_t ke = RD_KAFKA_RESP_ERR_NO_ERROR;
    int bad = -1;
    /* a topic created a moment ago (by another worker, say) may have no leader yet, or be unknown to this client's
     * metadata: wait for one (bounded) */
    for (int64_t until = wc_mono_ms() + 20000;;) {
        ke = rd_kafka_offsets_for_times(rk, l, 10000);
        bad = -1;
        for (int i = 0; !ke && i < l->cnt && bad < 0; i++)
            if (l->elems[i].err)
                bad = i;
        rd_kafka_resp_err_t pe = ke ? ke : bad >= 0 ? l->elems[bad].err : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (!(pe == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION || pe == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
              pe == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || pe == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) || wc_mono_ms() >= until)
            break;
        log_debug("end probe: a partition has no leader yet; asking again", "topic=%s error=\"%s\"", topic, rd_kafka_err2str(pe));
        rd_kafka_poll(rk, 20);
        for (int i = 0; i < l->cnt; i++) {
            l->elems[i].offset = RD_KAFKA_OFFSET_END;
            l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        }
    }
    int rc = 0;
    if (ke || bad >= 0) {
        snprintf(err, errlen, "cannot read the end of the %s %s partition %d: %s", what, topic,
                 bad >= 0 ? (int)l->elems[bad].partition : 0, rd_kafka_err2str(ke ? ke : l->elems[bad].err));
        rc = -1;
    } else {
        for (int i = 0; i < l->cnt; i++)
            if (l->elems[i].partition >= 0 && l->elems[i].partition < nparts)
                ends[l->elems[i].partition] = l->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* Partitions whose consumed position reached their end (ends[p] set to 0 then): how many. */
static int past_end(rd_kafka_t *rk, const char *topic, int nparts, int64_t *ends)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        if (ends[p] > 0)
            rd_kafka_topic_partition_list_add(l, topic, p);
    int n = 0;
    if (l->cnt && rd_kafka_position(rk, l) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int i = 0; i < l->cnt; i++) {
            int p = l->elems[i].partition;
            if (!l->elems[i].err && l->elems[i].offset >= 0 && l->elems[i].offset >= ends[p]) {
                ends[p] = 0;
                n++;
            }
        }
    rd_kafka_topic_partition_list_destroy(l);
    return n;
}

struct ktop_reader {
    char *topic, *what;
    rd_kafka_t *rk;       /* read_committed: the records */
    rd_kafka_t *probe;    /* read_uncommitted: the ends */
    int nparts;
    rd_kafka_queue_t *described;   /* an existing topic's DescribeConfigs, answered while the caller goes on */
    char *bootstrap, *key;         /* for its warning */
    volatile sig_atomic_t *stop;   /* ktop_set_stop; NULL: none */
};

/* The answer to the DescribeConfigs sent at ktop_open: a warning if the topic is not compacted. */
static void described_check(ktop_reader_t *r)
{
    if (!r->described)
        return;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(r->described, 5000);
    const char *policy = ev ? described_policy(ev) : NULL;
    if (policy)
        warn_policy(r->bootstrap, r->topic, r->key, policy);
    else
        log_debug("cannot read the topic's cleanup.policy (DescribeConfigs); not checked", "topic=%s error=\"%s\"", r->topic,
                  log_esc(ev && rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev) : "no answer"));
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(r->described);
    r->described = NULL;
}

/* The topic's partitions from the probe's metadata (0: no such topic; -1: no answer), and whether the brokers
 * name a controller among them (has_controller). */
static int probe_topic(rd_kafka_t *rk, const char *topic, int timeout_ms, bool *controller)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t ke = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (ke)
        return -1;
    int n = md->topic_cnt == 1 && !md->topics[0].err ? md->topics[0].partition_cnt : 0;
    *controller = has_controller(rk, md);
    rd_kafka_metadata_destroy(md);
    return n;
}

void ktop_close(ktop_reader_t *r)
{
    if (!r)
        return;
    if (r->described)
        rd_kafka_queue_destroy(r->described);
    free(r->bootstrap);
    free(r->key);
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    if (r->probe)
        rd_kafka_destroy(r->probe);
    free(r->topic);
    free(r->what);
    free(r);
}

ktop_reader_t *ktop_open(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                         const ktop_create_t *create, bool patient, char *err, size_t errlen)
{
    char e[512];
    ktop_reader_t *r = xcalloc(1, sizeof *r);
    r->topic = xstrdup(topic);
    r->what = xstrdup(what);
    /* the probe first: it creates the topic (an admin request) before the reader's metadata request could make
     * the broker auto-create it with its defaults */
    if (!(r->probe = probe_new(bootstrap, overrides, what, err, errlen)))
        goto fail;
    ktop_ensured_t made = KTOP_REFUSED;
    if (create) {
        /* patient: as long as the metadata requests below (20 of at most 5 s) */
        for (int64_t until = wc_mono_ms() + 100000;;) {
            /* the topic's metadata first (the probe never auto-creates): at every start but the first it exists, and
             * its cleanup.policy is asked without waiting (CreateTopics and DescribeConfigs go to the controller, in
             * KRaft through the broker: +9 ms of every start when waited for) */
            bool controller = false;
            int n = probe_topic(r->probe, topic, patient ? 10000 : 5000, &controller);
            if (n > 0) {
                made = KTOP_EXISTS;
                if (controller) {
                    r->described = rd_kafka_queue_new(r->probe);
                    r->bootstrap = xstrdup(bootstrap);
                    r->key = xstrdup(create->key);
                    describe_send(r->probe, topic, 5000, r->described);
                }
            } else if (n == 0) {
                made = ktop_ensure(r->probe, bootstrap, topic, create, patient ? 10000 : 5000, err, errlen);
            } else {
                made = KTOP_NO_ANSWER;
                snprintf(err, errlen, "cannot read metadata of the %s %s (is bootstrap.servers=%s reachable?)", what, topic,
                         bootstrap);
            }
            if (made != KTOP_NO_ANSWER || !patient || wc_mono_ms() >= until)
                break;
            log_warn("Kafka did not answer for a topic it is to create when missing; asking again", "topic=%s error=\"%s\"",
                     topic, log_esc(err));
        }
        if (made < 0)
            goto fail;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    ktop_conf_security(conf, overrides);
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", "walcast-offsets-reader", e, sizeof e);
    /* a topic walcast may not create is left to the broker's auto-creation, as Kafka Connect's reader does */
    rd_kafka_conf_set(conf, "allow.auto.create.topics", made == KTOP_REFUSED ? "true" : "false", e, sizeof e);
    if (!(r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the %s reader: %s", what, e);
        goto fail;
    }
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, topic, NULL);
    bool led = false;   /* every partition has a leader */
    for (int attempt = 0; attempt < 20 && !led; attempt++) {
        if (rd_kafka_metadata(r->rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0) {
                r->nparts = md->topics[0].partition_cnt;
                led = true;
                for (int p = 0; p < r->nparts; p++)
                    led = led && md->topics[0].partitions[p].leader >= 0 && !md->topics[0].partitions[p].err;
            }
            rd_kafka_metadata_destroy(md);
        } else if (!patient) {
            break;   /* Kafka not there (yet): the caller opens it again later */
        }
        /* a topic just created (or auto-created by this request) has no partitions in its first answer, then
         * partitions without leaders (Connect's 25 took ~1 s to get theirs, which the end probe then waited for):
         * ask again soon (10, 20, 40 ... 250 ms; a fixed 250 ms was most of a new connector's first start, issue 21)
         * while the producers are fenced; partitions still without a leader after that are the end probe's wait */
        if (!led)
            rd_kafka_poll(r->rk, attempt < 5 ? 10 << attempt : 250);
        if (!led && r->nparts && attempt >= 8)
            break;
    }
    rd_kafka_topic_destroy(rkt);
    if (!r->nparts) {
        if (create && made == KTOP_REFUSED)
            snprintf(err, errlen, "the %s %s does not exist, walcast may not create it and the broker did not auto-create "
                     "it: create it (kafka-topics.sh --bootstrap-server %s --create --topic %s --partitions %d --config "
                     "cleanup.policy=compact) or grant walcast CREATE on it", what, topic, bootstrap, topic, create->partitions);
        else
            snprintf(err, errlen, "cannot read metadata of the %s %s (is bootstrap.servers=%s reachable?)", what, topic, bootstrap);
        goto fail;
    }
    if (create && made == KTOP_REFUSED)   /* found, or auto-created just now */
        ktop_check_compacted(r->probe, bootstrap, topic, create->key, 5000);
    /* the probe connected and the topic's leaders known already (its metadata): its ListOffsets, after the
     * caller's fencing, is one round trip */
    if (made != KTOP_EXISTS) {   /* (an existing topic's came with probe_topic) */
        rkt = rd_kafka_topic_new(r->probe, topic, NULL);
        if (rd_kafka_metadata(r->probe, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
            rd_kafka_metadata_destroy(md);   /* on failure end_offsets waits for the leader itself */
        rd_kafka_topic_destroy(rkt);
    }
    if (made == KTOP_CREATED) {
        /* the partition leaders of a topic created just now answer "not leader" for a while after the metadata
         * names them (0.3-0.9 s for 25 partitions on one broker): waited for here, while the caller fences the
         * producers, not after it by the end probe (the ends probed here are not used: they are asked again) */
        int64_t *ends = xcalloc((size_t)r->nparts, sizeof *ends);
        char perr[256];
        (void)end_offsets(r->probe, topic, what, r->nparts, ends, perr, sizeof perr);
        free(ends);
    }
    return r;
fail:
    ktop_close(r);
    return NULL;
}

void ktop_set_stop(ktop_reader_t *r, volatile sig_atomic_t *stop)
{
    r->stop = stop;
}

int ktop_read(ktop_reader_t *r, ktop_record_fn fn, void *ctx, char *err, size_t errlen)
{
    const char *topic = r->topic, *what = r->what;
    rd_kafka_t *rk = r->rk;
    int nparts = r->nparts;
    int rc = -1;
    /* Read to the end as it is now, not as read_committed shows it: librdkafka reports the end of a
     * partition at its last stable offset, so another producer's open transaction there (a shared
     * connect-offsets topic) would hide our newest records behind it and make us publish again what was
     * published. The end is the high watermark, from a read_uncommitted probe, asked now (not at
     * ktop_open: the caller may have fenced other writers in between). */
    int64_t *ends = xcalloc((size_t)nparts, sizeof *ends);
    if (end_offsets(r->probe, topic, what, nparts, ends, err, errlen) < 0)
        goto out;
    /* only the partitions that hold records: of Connect's 25, one per connector (its key's) is not empty */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        if (ends[p] > 0)
            rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int done = 0;
    bool noted = false;
    for (int p = 0; p < nparts; p++)
        if (ends[p] <= 0)
            done++;
    /* A transaction left open by a dead producer ends at the broker's transaction timeout (at most
     * transaction.max.timeout.ms, 15 min by default): wait that long, saying so every 30 s. */
    int64_t started_ms = wc_mono_ms(), now = started_ms / 1000, deadline = now + 16 * 60, next_note = now + 30;
    while (done < nparts) {
        if (r->stop && *r->stop) {
            snprintf(err, errlen, "stopped while reading the %s %s to its end", what, topic);
            rc = KTOP_STOPPED;
            goto out;
        }
        now = wc_mono_ms() / 1000;
        if (now >= deadline)
            break;
        if (now >= next_note) {
            log_warn("still reading a topic: a transaction of another producer is open in it; waiting for it to end",
                     "topic=%s partitions_done=%d of=%d", topic, done, nparts);
            next_note = now + 30;
        }
        /* Past the end by the position (it moves over transaction markers and aborted records too): under
         * a steady load of other producers' transactions every fetch brings records, the reader never
         * sits at the end, and no end-of-partition event comes. The end-of-partition event comes only with
         * the fetch after the one that reached the end, which the broker holds for fetch.wait.max.ms (500
         * ms) when nothing new arrives: the position is looked at every 2 ms for the first 2 s (a 100 ms
         * poll added ~100 ms to every start, issue 21), every 100 ms while an open transaction is waited for. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, wc_mono_ms() - started_ms < 2000 ? 2 : 100);
        done += past_end(rk, topic, nparts, ends);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < nparts && ends[m->partition] > 0) {
                if (m->offset >= ends[m->partition]) {
                    ends[m->partition] = 0;
                    done++;
                } else if (!noted) {
                    log_warn("the offsets topic holds an open transaction of another producer; waiting for it to end",
                             "topic=%s partition=%d last_stable_offset=%lld end=%lld", topic, (int)m->partition,
                             (long long)m->offset, (long long)ends[m->partition]);
                    noted = true;
                }
            }
        } else if (m->err) {
            log_warn("topic reader", "topic=%s error=\"%s\"", topic, log_esc(rd_kafka_message_errstr(m)));
        } else {
            fn(ctx, m->partition, m->offset, m->key, m->key_len, m->payload, m->payload ? m->len : 0);
        }
        rd_kafka_message_destroy(m);
    }
    if (done < nparts) {
        snprintf(err, errlen, "timed out reading the %s %s to its end: a transaction left open in it for 16 min "
                 "holds read_committed readers back; find its producer (kafka-transactions.sh list) and abort it", what, topic);
        goto out;
    }
    rc = 0;
out:
    free(ends);
    described_check(r);   /* answered by now (sent at ktop_open): its warning before the caller goes on */
    return rc;
}

int ktop_read_all(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                  ktop_record_fn fn, void *ctx, char *err, size_t errlen)
{
    ktop_reader_t *r = ktop_open(bootstrap, overrides, topic, what, NULL, true, err, errlen);
    int rc = r ? ktop_read(r, fn, ctx, err, errlen) : -1;
    ktop_close(r);
    return rc;
}
