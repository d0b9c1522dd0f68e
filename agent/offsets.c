/* offsets.c: Kafka Connect offset records. Values carry Debezium's keys so a Debezium deployment's
 * offsets topic can be taken over, and ours stay readable by Kafka Connect tooling. */
#include "schemas/clock.h"
#include "agent/offsets.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/log.h"
#include "schemas/buf.h"
#include "schemas/json.h"

void off_key(buf_t *b, const char *name, const char *prefix)
{
    buf_putc(b, '[');
    json_enc_string(b, name, strlen(name));
    buf_puts(b, ",{\"server\":");
    json_enc_string(b, prefix, strlen(prefix));
    buf_puts(b, "}]");
}

void off_value(buf_t *b, const off_pos_t *p)
{
    buf_puts(b, "{\"transaction_id\":null,\"lsn_proc\":");
    buf_put_u64(b, p->lsn_proc);
    buf_puts(b, ",\"messageType\":\"COMMIT\",\"lsn_commit\":");
    buf_put_u64(b, p->lsn_commit);
    buf_puts(b, ",\"lsn\":");
    buf_put_u64(b, p->lsn);
    buf_puts(b, ",\"txId\":");
    buf_put_i64(b, p->txid);
    buf_puts(b, ",\"ts_usec\":");
    buf_put_i64(b, p->ts_usec);
    if (p->system_id[0]) {
        buf_puts(b, ",\"walcast_system_id\":");
        json_enc_string(b, p->system_id, strlen(p->system_id));
        buf_puts(b, ",\"walcast_timeline\":");
        buf_put_u64(b, p->timeline);
    }
    if (p->snapshot) {
        buf_printf(b, ",\"snapshot\":\"INITIAL\",\"last_snapshot_record\":%s,\"snapshot_completed\":%s",
                   p->last_snapshot_record ? "true" : "false", p->snapshot_completed ? "true" : "false");
        if (p->snap_state && *p->snap_state) {
            buf_puts(b, ",\"walcast_snapshot\":");
            buf_puts(b, p->snap_state);
        }
    }
    if (p->inc_state && *p->inc_state) {
        buf_puts(b, ",\"walcast_incremental\":");
        buf_puts(b, p->inc_state);
    }
    buf_putc(b, '}');
}

static uint64_t get_u64(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

bool off_parse_value(const char *s, size_t len, off_pos_t *p)
{
    json_t *o = json_loadb(s, len, 0, NULL);
    if (!o || !json_is_object(o) || !json_is_integer(json_object_get(o, "lsn"))) {
        json_decref(o);
        return false;
    }
    memset(p, 0, sizeof *p);
    p->found = true;
    p->lsn = get_u64(o, "lsn");
    p->lsn_commit = get_u64(o, "lsn_commit");
    p->lsn_proc = get_u64(o, "lsn_proc");
    p->txid = (int64_t)get_u64(o, "txId");
    p->ts_usec = (int64_t)get_u64(o, "ts_usec");
    json_t *sys = json_object_get(o, "walcast_system_id");
    if (json_is_string(sys))
        snprintf(p->system_id, sizeof p->system_id, "%s", json_string_value(sys));
    p->timeline = (uint32_t)get_u64(o, "walcast_timeline");
    /* Debezium 2.5+ writes the snapshot type ("INITIAL", "BLOCKING"), older ones true */
    json_t *sn = json_object_get(o, "snapshot");
    p->snapshot = json_is_true(sn) || (json_is_string(sn) && json_string_length(sn) > 0);
    p->last_snapshot_record = json_is_true(json_object_get(o, "last_snapshot_record"));
    p->snapshot_completed = json_is_true(json_object_get(o, "snapshot_completed"));
    json_t *ws = json_object_get(o, "walcast_snapshot");
    if (ws && !json_is_null(ws))
        p->snap_state = json_dumps(ws, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *wi = json_object_get(o, "walcast_incremental");
    if (wi && !json_is_null(wi))
        p->inc_state = json_dumps(wi, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *mt = json_object_get(o, "messageType");
    p->mid_txn = json_is_string(mt) && strcmp(json_string_value(mt), "COMMIT") != 0;
    /* Debezium writes lsn_commit only once it has committed a transaction */
    if (!p->lsn_commit)
        p->lsn_commit = p->lsn;
    json_decref(o);
    return true;
}

void off_pos_release(off_pos_t *p)
{
    free(p->snap_state);
    free(p->inc_state);
    p->snap_state = NULL;
    p->inc_state = NULL;
}

bool off_key_matches(const char *s, size_t len, const char *name, const char *prefix)
{
    json_t *k = json_loadb(s, len, 0, NULL);
    bool ok = k && json_is_array(k) && json_array_size(k) == 2 && json_is_string(json_array_get(k, 0)) &&
              strcmp(json_string_value(json_array_get(k, 0)), name) == 0 && json_is_object(json_array_get(k, 1));
    if (ok) {
        json_t *srv = json_object_get(json_array_get(k, 1), "server");
        ok = json_is_string(srv) && strcmp(json_string_value(srv), prefix) == 0;
    }
    json_decref(k);
    return ok;
}

/* The security settings of the producer apply to the offsets readers too. */
static void conf_security(rd_kafka_conf_t *conf, const cfg_map_t *overrides)
{
    char e[512];
    for (size_t i = 0; overrides && i < overrides->n; i++) {
        const char *k = overrides->kv[i].key;
        if (strncmp(k, "security.", 9) == 0 || strncmp(k, "sasl.", 5) == 0 || strncmp(k, "ssl.", 4) == 0)
            rd_kafka_conf_set(conf, k, overrides->kv[i].value, e, sizeof e);
    }
}

/* High watermark of each partition (read_uncommitted: past any open transaction). */
static int end_offsets(const char *bootstrap, const cfg_map_t *overrides, const char *topic, int nparts, int64_t *ends,
                       char *err, size_t errlen)
{
    char e[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    conf_security(conf, overrides);
    rd_kafka_conf_set(conf, "isolation.level", "read_uncommitted", e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", "walcast-offsets-reader", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create the offsets topic probe: %s", e);
        return -1;
    }
    int rc = 0;
    for (int p = 0; p < nparts && rc == 0; p++) {
        int64_t lo, hi;
        rd_kafka_resp_err_t ke = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000);
        if (ke) {
            snprintf(err, errlen, "cannot read the end of the offsets topic %s partition %d: %s", topic, p, rd_kafka_err2str(ke));
            rc = -1;
        }
        ends[p] = hi;
    }
    rd_kafka_destroy(rk);
    return rc;
}

int off_read(const char *bootstrap, const cfg_map_t *overrides, const char *topic, const char *name,
             const char *prefix, off_pos_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char e[512];
    int rc = -1;
    int64_t *ends = NULL;
    int bad_part = -1;             /* partition of the newest of our records when it is corrupt */
    int64_t bad_offset = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, e, sizeof e);
    conf_security(conf, overrides);
    rd_kafka_conf_set(conf, "isolation.level", "read_committed", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", e, sizeof e);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", e, sizeof e);
    rd_kafka_conf_set(conf, "group.id", "walcast-offsets-reader", e, sizeof e);
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "true", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot create the offsets reader: %s", e);
        return -1;
    }
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    int nparts = 0;
    for (int attempt = 0; attempt < 20 && nparts == 0; attempt++) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                nparts = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
        if (!nparts)
            rd_kafka_poll(rk, 250);
    }
    rd_kafka_topic_destroy(rkt);
    if (!nparts) {
        snprintf(err, errlen, "cannot read metadata of the offsets topic %s (is bootstrap.servers=%s reachable?)", topic, bootstrap);
        goto out;
    }
    /* Read to the end as it is now, not as read_committed shows it: librdkafka reports the end of a
     * partition at its last stable offset, so another producer's open transaction there (a shared
     * connect-offsets topic) would hide our newest offset records behind it and make us publish
     * again what was published. The end is the high watermark, from a read_uncommitted probe. */
    ends = xcalloc((size_t)nparts, sizeof *ends);
    if (end_offsets(bootstrap, overrides, topic, nparts, ends, err, errlen) < 0)
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
    int64_t now = wc_mono_ms() / 1000, deadline = now + 16 * 60, next_note = now + 30;
    while (done < nparts) {
        now = wc_mono_ms() / 1000;
        if (now >= deadline)
            break;
        if (now >= next_note) {
            log_warn("still reading the offsets topic: a transaction of another producer is open in it; waiting for it to end",
                     "topic=%s partitions_done=%d of=%d", topic, done, nparts);
            next_note = now + 30;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
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
            log_warn("offsets reader", "topic=%s error=\"%s\"", topic, log_esc(rd_kafka_message_errstr(m)));
        } else if (m->key && m->payload &&
                   off_key_matches(m->key, m->key_len, name, prefix)) {
            off_pos_t p;
            if (off_parse_value(m->payload, m->len, &p)) {
                off_pos_release(out);
                *out = p;
                bad_part = -1;
            } else {
                /* an older record must not stand in for it: remember, fail unless a newer one follows */
                bad_part = m->partition;
                bad_offset = m->offset;
            }
        } else if (m->key && !m->payload && off_key_matches(m->key, m->key_len, name, prefix)) {
            off_pos_release(out);
            memset(out, 0, sizeof *out);   /* a tombstone resets the connector's offsets */
            bad_part = -1;
        }
        rd_kafka_message_destroy(m);
    }
    if (done == nparts && bad_part >= 0) {
        char key[512];
        buf_t k;
        buf_init(&k);
        off_key(&k, name, prefix);
        snprintf(key, sizeof key, "%s", buf_cstr(&k));
        buf_free(&k);
        snprintf(err, errlen, "the newest offset record of this connector in %s (partition %d, offset %lld) is not a "
                 "valid offset (a JSON object with a numeric \"lsn\"); an older one would make walcast publish again "
                 "what was published. Write a correct record under the key %s, or a tombstone (null value) under it "
                 "to start from the slot's position", topic, bad_part, (long long)bad_offset, key);
        goto out;
    }
    if (done < nparts) {
        snprintf(err, errlen, "timed out reading the offsets topic %s to its end: a transaction left open in it for 16 min "
                 "holds read_committed readers back; find its producer (kafka-transactions.sh list) and abort it", topic);
        goto out;
    }
    rc = 0;
out:
    free(ends);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return rc;
}

bool off_txn_published(const off_pos_t *stored, uint64_t final_lsn)
{
    /* final_lsn is the commit record's start, which lies before the stored end LSN only for
     * transactions published before */
    return stored->found && final_lsn < stored->lsn_commit;
}

bool off_change_published(const off_pos_t *stored, uint64_t lsn)
{
    return stored->found && stored->mid_txn && lsn <= stored->lsn_proc;
}

bool off_message_published(const off_pos_t *stored, uint64_t lsn)
{
    return stored->found && lsn <= stored->lsn;
}
