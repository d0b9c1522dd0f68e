/* event.h: builds Debezium PostgreSQL connector change events (topic, key, envelope, source block,
 * headers) from decoded pgoutput messages as schemas/ values; the agent's converter encodes them.
 * Errors: WC_RETRY for tuples that cannot be read (binary columns: the server sends them again),
 * WC_PERMANENT for a value that cannot be converted where null cannot stand for it
 * (event.converting.failure.handling.mode=fail, a key column, NOT NULL without default), WC_FATAL for
 * configuration that cannot fit a table. Calls go down only: every evt_* call that builds records returns
 * them to its caller in an evt_out_t (no callback into the agent); the caller publishes them. */
#ifndef WALCAST_EVENT_H
#define WALCAST_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "decoder/filter.h"
#include "decoder/pgoutput.h"
#include "decoder/pgtypes.h"
#include "decoder/relcache.h"
#include "schemas/avro.h"
#include "schemas/connect.h"
#include "schemas/record.h"
#include "schemas/status.h"

enum { EVT_OP_C = 1, EVT_OP_U = 2, EVT_OP_D = 4, EVT_OP_T = 8 };

/* event.converting.failure.handling.mode: a value walcast cannot convert becomes null and is reported
 * through evt_warnings (warn, Debezium's default; skip: the same, for the debug log), or stops the
 * connector (fail). A key column, or a required column without default, always fails: null cannot
 * stand for it. */
typedef enum { EVT_CONVERT_WARN = 0, EVT_CONVERT_SKIP, EVT_CONVERT_FAIL } evt_convert_mode_t;

typedef struct evt_config {
    const char *connector_name;   /* "name" */
    const char *prefix;           /* topic.prefix */
    const char *delimiter;        /* topic.delimiter */
    const char *dbname;
    const char *version;          /* source.version */
    const char *placeholder;      /* unavailable.value.placeholder */
    unsigned skipped_ops;         /* EVT_OP_* */
    bool tombstones;              /* tombstones.on.delete */
    bool extended_headers;        /* extended.headers.enabled */
    bool tx_metadata;             /* provide.transaction.metadata */
    bool schema_comments;         /* include.schema.comments: accepted, no effect (Debezium PostgreSQL never reads comments) */
    const char *run_id;           /* __debezium.context.runId header; NULL: evt_new makes a UUIDv7 */
    evt_convert_mode_t convert_failure;   /* event.converting.failure.handling.mode */
    pgt_opts_t types;
    const flt_filters_t *filters;
    avro_adjust_t schema_names;               /* schema.name.adjustment.mode */
    avro_adjust_t field_names;                /* field.name.adjustment.mode */
} evt_config_t;

/* The most records one call builds: a primary key change is delete + tombstone + create. */
#define EVT_OUT_MAX 3

/* The records one evt_* call built, in order, unencoded. Each call replaces what out held (n 0: it built
 * none, e.g. a filtered table). Values live in the arena given to the call and in the context (header
 * scratch): valid until that arena's reset or the next evt_* call on the same context. */
typedef struct evt_out {
    rec_event_t ev[EVT_OUT_MAX];
    size_t n;
} evt_out_t;

/* Where a change sits in the source stream. */
typedef struct evt_pos {
    uint32_t xid;                 /* 0: none */
    int64_t commit_time_us;       /* Unix epoch microseconds */
    uint64_t lsn;                 /* this change */
    uint64_t last_commit_lsn;     /* 0: none yet */
    int64_t now_us;               /* agent clock, Unix epoch microseconds */
    const char *snapshot;         /* source.snapshot marker of an op 'r' event; NULL: "false" */
    bool no_lsn;                  /* incremental snapshot rows: source.lsn is null (txId too: xid 0) */
} evt_pos_t;

typedef struct evt_stats {
    uint64_t read, created, updated, deleted, truncated, messages, filtered, tombstones;
    uint64_t conversion_failures;   /* values sent as null (event.converting.failure.handling.mode) */
} evt_stats_t;

typedef struct evt_ctx evt_ctx_t;

evt_ctx_t *evt_new(const evt_config_t *cfg);
void evt_free(evt_ctx_t *e);
const evt_stats_t *evt_stats(const evt_ctx_t *e);
/* Values the last evt_change/evt_read could not convert and sent as null, one line each naming table,
 * column, type, LSN and the reason ("" when none); the agent logs them (warn mode: as warnings, skip
 * mode: at debug level). Cleared by the next evt_* call that builds records. */
const char *evt_warnings(const evt_ctx_t *e);
/* The __debezium.context.runId of this context (snapshot encoder threads share the connector's). */
const char *evt_run_id(const evt_ctx_t *e);
/* Frees a table's event state; give it to rel_cache_new. */
void evt_table_free(void *user);
/* Builds topic and schemas for a freshly installed table version. Tables excluded by the filters
 * get state that says so. */
wc_status_t evt_table_prepare(evt_ctx_t *e, rel_table_t *t, char *err, size_t errlen);
bool evt_table_captured(const rel_table_t *t);
const char *evt_table_topic(const rel_table_t *t);

/* Insert/Update/Delete -> records in out; a is the per-message arena. */
wc_status_t evt_change(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_msg_t *m,
                       evt_out_t *out, char *err, size_t errlen);
/* Snapshot read (op 'r'): tup holds the row's columns in the table's column order, as text (what
 * pgoutput would send), pos->snapshot the marker (first, first_in_data_collection, true,
 * last_in_data_collection, last, incremental). */
wc_status_t evt_read(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_tuple_t *tup,
                     evt_out_t *out, char *err, size_t errlen);
wc_status_t evt_truncate(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, evt_out_t *out, char *err,
                         size_t errlen);
/* Heartbeat record: topic __debezium-heartbeat<topic.delimiter><prefix>, key ServerNameKey {serverName}, value
 * Heartbeat {ts_ms}. */
wc_status_t evt_heartbeat(evt_ctx_t *e, arena_t *a, int64_t now_us, evt_out_t *out, char *err, size_t errlen);
/* provide.transaction.metadata: BEGIN (pos.lsn = the Begin record's LSN) and END (pos.lsn = the
 * commit's end LSN) on <prefix><topic.delimiter>transaction; between them data events carry the `transaction`
 * block. No-ops when the option is off. */
wc_status_t evt_tx_begin(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, evt_out_t *out, char *err, size_t errlen);
wc_status_t evt_tx_end(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, evt_out_t *out, char *err, size_t errlen);
/* Forgets an open transaction (rewind after a failure). */
void evt_tx_reset(evt_ctx_t *e);
wc_status_t evt_message(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const pgo_msg_t *m, evt_out_t *out, char *err,
                        size_t errlen);

/* Topic name rules: characters outside [A-Za-z0-9._-] become '_', cut at 249. */
void evt_topic_name(char *out, size_t outlen, const char *prefix, const char *delim, const char *schema,
                    const char *table);

#endif
