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

#include "agent/ktopic.h"
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

/* ktop_record_fn of off_read_from: the newest record under the connector's key wins. */
typedef struct off_scan {
    const char *name, *prefix;
    off_pos_t *out;
    int bad_part;                  /* partition of the newest of our records when it is corrupt */
    int64_t bad_offset;
} off_scan_t;

static void off_record(void *ctx, int32_t partition, int64_t offset, const char *key, size_t klen, const char *value,
                       size_t vlen)
{
    off_scan_t *sc = ctx;
    if (!key || !off_key_matches(key, klen, sc->name, sc->prefix))
        return;
    if (!value) {
        off_pos_release(sc->out);
        memset(sc->out, 0, sizeof *sc->out);   /* a tombstone resets the connector's offsets */
        sc->bad_part = -1;
        return;
    }
    off_pos_t p;
    if (off_parse_value(value, vlen, &p)) {
        off_pos_release(sc->out);
        *sc->out = p;
        sc->bad_part = -1;
    } else {
        /* an older record must not stand in for it: remember, fail unless a newer one follows */
        sc->bad_part = partition;
        sc->bad_offset = offset;
    }
}

int off_read_from(ktop_reader_t *r, const char *topic, const char *name, const char *prefix, off_pos_t *out,
                  char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    off_scan_t sc = { .name = name, .prefix = prefix, .out = out, .bad_part = -1 };
    int rc = ktop_read(r, off_record, &sc, err, errlen);
    if (rc < 0)
        return rc;
    if (sc.bad_part >= 0) {
        char key[512];
        buf_t k;
        buf_init(&k);
        off_key(&k, name, prefix);
        snprintf(key, sizeof key, "%s", buf_cstr(&k));
        buf_free(&k);
        snprintf(err, errlen, "the newest offset record of this connector in %s (partition %d, offset %lld) is not a "
                 "valid offset (a JSON object with a numeric \"lsn\"); an older one would make walcast publish again "
                 "what was published. Write a correct record under the key %s, or a tombstone (null value) under it "
                 "to start from the slot's position", topic, sc.bad_part, (long long)sc.bad_offset, key);
        return -1;
    }
    return 0;
}

ktop_create_t off_topic_create(const worker_config_t *w)
{
    return (ktop_create_t){ .key = "offset.storage.topic", .partitions = w->offset_partitions > 0 ? w->offset_partitions : 25,
                            .replication = w->offset_replication ? w->offset_replication : -1,
                            .partitions_key = "offset.storage.partitions",
                            .replication_key = "offset.storage.replication.factor" };
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
