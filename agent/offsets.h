/* offsets.h: the connector's source offsets in Kafka Connect's format (offsets topic, key
 * ["<name>",{"server":"<prefix>"}], value Debezium's offset map), written inside each Kafka
 * transaction and read back with read_committed on start. */
#ifndef WALCAST_OFFSETS_H
#define WALCAST_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/ktopic.h"
#include "schemas/buf.h"

typedef struct off_pos {
    bool found;
    uint64_t lsn;          /* everything before it is published (what the slot may be confirmed to) */
    uint64_t lsn_commit;   /* end LSN of the last source transaction published */
    uint64_t lsn_proc;
    bool mid_txn;          /* Debezium's: stored after a change event (messageType not COMMIT), so the
                            * source transaction holding lsn_proc was published up to that change only */
    int64_t txid;
    int64_t ts_usec;
    char system_id[32];    /* the cluster the offsets belong to (walcast's own keys; Debezium ignores them) */
    uint32_t timeline;
    /* Snapshots: Debezium's keys (snapshot "INITIAL" while one runs, last_snapshot_record,
     * snapshot_completed) and walcast's own walcast_snapshot (the chunks still to read, JSON text).
     * off_value writes snap_state as given (owned by the caller); off_parse_value and off_read_from return
     * it malloc'd: release with off_pos_release. */
    bool snapshot;
    bool last_snapshot_record;
    bool snapshot_completed;
    char *snap_state;
    char *inc_state;       /* walcast_incremental: an incremental snapshot's chunks left (same ownership) */
} off_pos_t;

/* Kafka Connect's key for this connector: ["<name>",{"server":"<prefix>"}] */
void off_key(buf_t *b, const char *name, const char *prefix);
/* Debezium's offset map as JSON. */
void off_value(buf_t *b, const off_pos_t *p);
void off_pos_release(off_pos_t *p);
/* Parses an offset map (ours or Debezium's); false if it is not one. */
bool off_parse_value(const char *json, size_t len, off_pos_t *p);
/* True when key is this connector's key (compared as JSON, not as bytes). */
bool off_key_matches(const char *json, size_t len, const char *name, const char *prefix);
/* The skip decisions after a restart (the slot sends again what follows its confirmed position):
 * a source transaction whose commit record starts at final_lsn is already in Kafka. */
bool off_txn_published(const off_pos_t *stored, uint64_t final_lsn);
/* A change at lsn that Debezium published before it handed over: its offset stored after a change
 * event (lsn_proc = that change) covers the start of the transaction holding it. walcast's own
 * offsets are always at transaction ends. */
bool off_change_published(const off_pos_t *stored, uint64_t lsn);
/* A non-transactional logical decoding message at lsn (tracked by its own position). */
bool off_message_published(const off_pos_t *stored, uint64_t lsn);
/* The offsets topic as walcast creates it when missing (ktop_open): compacted, offset.storage.partitions (25)
 * partitions, offset.storage.replication.factor (-1: the broker's default). */
ktop_create_t off_topic_create(const worker_config_t *w);
/* Reads the offsets topic to its end (read_committed) and returns the newest position for the key, with a reader
 * opened before (ktop_open of the offsets topic), read once; the caller closes it. -1 on failure, KTOP_STOPPED
 * when the reader's stop flag (ktop_set_stop) was set while it waited. */
int off_read_from(ktop_reader_t *r, const char *topic, const char *name, const char *prefix, off_pos_t *out,
                  char *err, size_t errlen);

#endif
