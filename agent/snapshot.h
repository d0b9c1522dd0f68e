/* snapshot.h: snapshots of the captured tables as op 'r' events: the plan (tables, key-range chunks),
 * parallel readers that import the slot's exported snapshot, and the watermark method that reads the
 * chunks left after a crash while the stream runs. Progress for the offsets and the metrics. */
#ifndef WALCAST_SNAPSHOT_H
#define WALCAST_SNAPSHOT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "decoder/event.h"
#include "decoder/pgoutput.h"
#include "decoder/pgtypes.h"
#include "decoder/relcache.h"
#include "schemas/buf.h"
#include "schemas/record.h"
#include "schemas/status.h"

/* Prefix of the logical decoding messages that mark a chunk's low and high watermark. */
#define SNAP_WM_PREFIX "__walcast_snapshot_watermark"

typedef enum { SNAP_TODO = 0, SNAP_EMITTED, SNAP_COMMITTING, SNAP_DONE } snap_cstate_t;

/* One key range of one table: lo < key <= hi (NULL: open end); a table without a primary key (or
 * with a select override) is one chunk with both ends open. */
typedef struct snap_chunk {
    size_t table;
    char **lo, **hi;              /* nkey texts each */
    snap_cstate_t state;
    int lane;                     /* the Kafka transaction lane it was sent on (snap_offsets; 0 without lanes) */
    uint64_t rows;                /* rows of its last read counted in its table's and the progress's figures
                                   * (taken out again when the chunk is read again: snap_rewind) */
} snap_chunk_t;

typedef struct snap_table {
    char *schema, *name;
    size_t nkey;
    char **key, **keytype;        /* primary key columns and their format_type() text */
    char *override;               /* snapshot.select.statement.overrides.<schema>.<table> */
    char *filter;                 /* incremental: additional-conditions filter (SQL), or NULL */
    uint64_t rows;                /* rows scanned */
    size_t chunks, chunks_done;
    int64_t started_us;
    bool finished;
    bool empty;                   /* no row in the exported snapshot (known for tables with a key or none) */
} snap_table_t;

typedef struct snap_plan {
    snap_table_t *tables;
    size_t ntables;
    snap_chunk_t *chunks;         /* table by table, in key order */
    size_t nchunks;
    uint64_t lsn;                 /* where the stream that follows the snapshot starts */
    int64_t txid;                 /* the snapshot transaction's id (source.txId of its rows) */
} snap_plan_t;

/* What a metrics endpoint reads (updated by the connector thread; read without a lock, figures
 * may be a moment old). */
typedef struct snap_progress {
    bool running, completed;
    size_t tables_total, tables_remaining;
    size_t chunks_total, chunks_done;
    uint64_t rows_scanned;
    double rows_per_s;
    int64_t started_us;
} snap_progress_t;

/* ---- pure parts (unit-tested) ---- */

void snap_plan_free(snap_plan_t *p);
/* Appends a chunk of table ti; lo/hi are copied (NULL: open end). */
void snap_plan_add_chunk(snap_plan_t *p, size_t ti, const char *const *lo, const char *const *hi);
size_t snap_plan_add_table(snap_plan_t *p, const char *schema, const char *name, size_t nkey, const char *const *key,
                           const char *const *keytype, const char *override);
/* SELECT of one chunk: cols (NULL: *) of schema.table in key order, with $1.. for lo then hi. */
void snap_chunk_sql(buf_t *b, const snap_plan_t *p, const snap_chunk_t *c, const char *const *cols, size_t ncols);
/* Parameters of snap_chunk_sql in order; returns how many. */
int snap_chunk_params(const snap_plan_t *p, const snap_chunk_t *c, const char **params);
/* Debezium's marker for a row: first/last of the table, table 0 / the last row of all. */
const char *snap_marker(bool first_table, bool first_in_table, bool last_in_table, bool last_of_all);
/* walcast_snapshot offset value: the chunks not yet emitted (JSON). */
void snap_state_json(const snap_plan_t *p, buf_t *b);
int snap_state_parse(const char *json, snap_plan_t *p, char *err, size_t errlen);
/* PostgreSQL snapshot text xmin:xmax:xip,...; visibility of a (32-bit) committed xid in it. */
typedef struct snap_xsnap {
    uint64_t xmin, xmax;
    uint64_t *xip;
    size_t nxip;
} snap_xsnap_t;
int snap_xsnap_parse(const char *s, snap_xsnap_t *x);
void snap_xsnap_free(snap_xsnap_t *x);
bool snap_xsnap_visible(const snap_xsnap_t *x, uint32_t xid);
/* Signals (signal.data.collection rows, signal.kafka.topic records): type and data JSON. */
typedef enum { SNAP_SIG_EXECUTE, SNAP_SIG_STOP, SNAP_SIG_PAUSE, SNAP_SIG_RESUME, SNAP_SIG_LOG } snap_sigkind_t;
typedef struct snap_signal {
    snap_sigkind_t kind;
    flt_list_t collections;       /* data-collections: anchored regexes over schema.table (none: all, for stop) */
    size_t nconds;
    char **cond_table, **cond_filter; /* additional-conditions ("" table: every table) */
    char *message;                /* log */
} snap_signal_t;
/* Parses a signal; -1 with err for unknown types, malformed JSON, bad regexes, blocking snapshots. */
int snap_signal_parse(const char *type, const char *data, snap_signal_t *sig, char *err, size_t errlen);
void snap_signal_free(snap_signal_t *sig);
/* The additional-conditions filter for schema.table, or NULL. */
const char *snap_signal_filter(const snap_signal_t *sig, const char *schema, const char *table);

/* Comma list of schema.table regexes (snapshot.include.collection.list); empty matches all. */
bool snap_included(const flt_list_t *l, const char *schema, const char *table);

/* ---- the agent side ----
 * Everything below returns wc_status_t: a failure of PostgreSQL or a reader is WC_RETRY (the
 * connector reconnects; chunks not committed are read again), a hook's own status passes through. */

typedef struct snap snap_t;

/* Calls into the connector's Kafka transaction cycle (all on the connector's thread). */
typedef struct snap_hooks {
    void *ctx;
    wc_status_t (*txn_ensure)(void *ctx, char *err, size_t errlen);  /* a Kafka transaction is open */
    wc_status_t (*chunk_done)(void *ctx, char *err, size_t errlen);  /* whole chunks only so far: may commit */
    wc_status_t (*service)(void *ctx, char *err, size_t errlen);     /* poll Kafka, collect commits, backpressure */
    /* the records the decoder built for a row on the connector thread, st the status of the evt_read that
     * built them (not WC_OK: nothing is sent, st is returned): encode, then send; logs what the builder
     * could not convert (evt_warnings) */
    wc_status_t (*publish)(void *ctx, wc_status_t st, const evt_out_t *out, char *err, size_t errlen);
    wc_status_t (*send)(void *ctx, const rec_t *r, char *err, size_t errlen); /* a record the readers encoded */
    /* every record queued for encoding elsewhere is encoded and sent: before a table version they may
     * point to is replaced (a watermark chunk reads the table as it is now); NULL: nothing is queued */
    wc_status_t (*drain)(void *ctx, char *err, size_t errlen);
    /* the initial snapshot's lanes (txn_set_lanes, txn_lane); NULL: none */
    wc_status_t (*lanes)(void *ctx, bool on, char *err, size_t errlen);
    void (*lane)(void *ctx, int lane);
} snap_hooks_t;

snap_t *snap_new(const conn_config_t *cfg, pgt_catalog_t *types, evt_ctx_t *evt, const snap_hooks_t *hooks);
/* Makes s an incremental snapshot (signals): rows marked "incremental" with null txId/lsn, chunks of
 * incremental.snapshot.chunk.size, progress in walcast_incremental. */
void snap_set_incremental(snap_t *s);
/* Applies a signal (execute appends tables to the plan; stop removes them; pause/resume). */
wc_status_t snap_signal_apply(snap_t *s, const snap_signal_t *sig, char *err, size_t errlen);
/* A row of the source signal table (signal.data.collection) seen in the stream: parsed and applied;
 * bad signals are logged and ignored. Returns -1 only when applying failed on the database. */
wc_status_t snap_signal_row(snap_t *s, const rel_table_t *t, const pgo_tuple_t *tup, char *err, size_t errlen);
bool snap_is_signal_table(const snap_t *s, const rel_table_t *t);
/* signal.enabled.channels=kafka: a consumer of signal.kafka.topic (group walcast-signal-<name>); records
 * keyed by topic.prefix with value {"type": ..., "data": {...}}. Poll from the connector's loop. */
wc_status_t snap_signal_kafka_open(snap_t *s, const worker_config_t *w, char *err, size_t errlen);
wc_status_t snap_signal_kafka_poll(snap_t *s, char *err, size_t errlen);
void snap_free(snap_t *s);
const snap_progress_t *snap_progress(const snap_t *s);
/* Snapshot rows (op 'r') the reader threads encoded themselves (s NULL: 0); the rest are in the connector's
 * evt_stats().read. */
uint64_t snap_encoded_rows(const snap_t *s);
/* A plan exists and has chunks not yet emitted. */
bool snap_active(const snap_t *s);
const snap_plan_t *snap_plan(const snap_t *s);

/* Plans inside the slot's exported snapshot (name) and reads every chunk with snapshot.max.threads
 * readers that import it, emitting rows through evt in plan order. WC_OK when all rows are emitted.
 * On failure the chunks stay as they are: the caller's snap_rewind, after it has learnt whether a
 * running Kafka commit went through (txn_rewind), puts those not committed back to the plan. */
wc_status_t snap_run_exported(snap_t *s, const char *snapshot_name, uint64_t lsn, volatile sig_atomic_t *stop,
                              char *err, size_t errlen);
/* Plans without an exported snapshot: the chunks are read by the watermark method (snap_wm_*). */
wc_status_t snap_plan_fresh(snap_t *s, uint64_t lsn, char *err, size_t errlen);
/* Takes the chunks left over from the offsets (walcast_snapshot). */
wc_status_t snap_restore(snap_t *s, const char *state_json, char *err, size_t errlen);

/* Offsets: fills the snapshot keys of pos (snap_state points into s until the next call) and marks
 * the chunks emitted on lane (the Kafka transaction lane committing, 0 without lanes) as committing; those
 * emitted on the other lane stay in the state as chunks to read, since their transaction commits later
 * or not at all. After the commit that holds them: snap_committed; after a failure: snap_rewind (emitted
 * and committing chunks are read again). */
void snap_offsets(snap_t *s, int lane, bool *snapshot, bool *last, bool *completed, const char **state);
void snap_committed(snap_t *s);
void snap_rewind(snap_t *s);
/* True once the completion was recorded in a committed offset record. */
bool snap_finished(const snap_t *s);
/* A plan whose completion is not committed yet (NULL: false): its chunks' states follow the commits one at a
 * time (snap_offsets marks, snap_committed completes), so txn.c closes no transaction early meanwhile. */
bool snap_in_progress(const snap_t *s);

/* Watermark method, from the stream loop: snap_wm_step hands the next chunks (up to two in flight) to the
 * snapshot's watermark thread, which writes the low watermark, reads the chunk into memory and writes the high
 * watermark on a connection of its own; snap_wm_change records the key of a streamed change of a table with a
 * chunk in flight; snap_wm_message consumes a watermark (true: it was ours) and at the high one emits the
 * chunk's rows but those a recorded change made stale. All on the connector thread. */
wc_status_t snap_wm_step(snap_t *s, char *err, size_t errlen);
void snap_wm_change(snap_t *s, const rel_table_t *t, const pgo_msg_t *m, uint32_t xid);
wc_status_t snap_wm_message(snap_t *s, const pgo_msg_t *m, uint64_t lsn, bool *ours, char *err, size_t errlen);
/* Drops the open chunk (reconnect): it is read again later. */
void snap_wm_reset(snap_t *s);
/* Chunks are being read with watermarks (some left, not paused): the stream is "caught up" only between
 * two chunks, so a Kafka transaction is not committed at once for that (walcast.transaction.max.ms
 * and .events bound it, as behind the server) */
bool snap_wm_busy(const snap_t *s);

#endif
