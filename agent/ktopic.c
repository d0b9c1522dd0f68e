/* ktopic.c: a whole topic read to its end with read_committed (Connect's offsets, config and status
 * topics). The end is taken as the high watermark before reading, so a record behind another producer's
 * open transaction is waited for, never missed. */
#include "agent/ktopic.h"

#include <librdkafka/rdkafka.h>
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

/* High watermark of each partition, from the probe. */
static int end_offsets(rd_kafka_t *rk, const char *topic, const char *what, int nparts, int64_t *ends, char *err,
                       size_t errlen)
{
    int rc = 0;
    for (int p = 0; p < nparts && rc == 0; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t ke = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        /* a topic created a moment ago (by another worker, say) may have no leader yet, or be unknown to this
         * client's metadata: wait for one (bounded) */
        for (int64_t until = wc_mono_ms() + 20000; (ke == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION ||
                                                    ke == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                                                    ke == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                                                    ke == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION) && wc_mono_ms() < until;) {
            rd_kafka_poll(rk, 200);
            ke = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        }
        if (ke) {
            snprintf(err, errlen, "cannot read the end of the %s %s partition %d: %s", what, topic, p, rd_kafka_err2str(ke));
            rc = -1;
        }
        ends[p] = hi;
    }
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
};

void ktop_close(ktop_reader_t *r)
{
    if (!r)
        return;
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
                         bool patient, char *err, size_t errlen)
{
    char e[512];
    ktop_reader_t *r = xcalloc(1, sizeof *r);
    r->topic = xstrdup(topic);
    r->what = xstrdup(what);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    ktop_conf_security(conf, overrides);
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", "walcast-offsets-reader", e, sizeof e);
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "true", e, sizeof e);
    if (!(r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e))) {
        snprintf(err, errlen, "cannot create the %s reader: %s", what, e);
        goto fail;
    }
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, topic, NULL);
    for (int attempt = 0; attempt < 20 && r->nparts == 0; attempt++) {
        if (rd_kafka_metadata(r->rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                r->nparts = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        } else if (!patient) {
            break;   /* Kafka not there (yet): the caller opens it again later */
        }
        /* a topic just auto-created by this request has no partitions in its first answer: ask again soon
         * (10, 20, 40 ... 250 ms; a fixed 250 ms was most of a new connector's first start, issue 21) */
        if (!r->nparts)
            rd_kafka_poll(r->rk, attempt < 5 ? 10 << attempt : 250);
    }
    rd_kafka_topic_destroy(rkt);
    if (!r->nparts) {
        snprintf(err, errlen, "cannot read metadata of the %s %s (is bootstrap.servers=%s reachable?)", what, topic, bootstrap);
        goto fail;
    }
    /* the probe connected and the topic's leaders known already (its metadata): its ListOffsets, after the
     * caller's fencing, is one round trip */
    if (!(r->probe = probe_new(bootstrap, overrides, what, err, errlen)))
        goto fail;
    rkt = rd_kafka_topic_new(r->probe, topic, NULL);
    if (rd_kafka_metadata(r->probe, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);   /* on failure end_offsets waits for the leader itself */
    rd_kafka_topic_destroy(rkt);
    return r;
fail:
    ktop_close(r);
    return NULL;
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
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
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
    return rc;
}

int ktop_read_all(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *what,
                  ktop_record_fn fn, void *ctx, char *err, size_t errlen)
{
    ktop_reader_t *r = ktop_open(bootstrap, overrides, topic, what, true, err, errlen);
    int rc = r ? ktop_read(r, fn, ctx, err, errlen) : -1;
    ktop_close(r);
    return rc;
}
