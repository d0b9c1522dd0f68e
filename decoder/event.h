/* event.h: builds Debezium PostgreSQL connector change events (topic, key, envelope, source block,
 * headers) from decoded pgoutput messages, and encodes them with the JSON converter. */
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

enum { EVT_OP_C = 1, EVT_OP_U = 2, EVT_OP_D = 4, EVT_OP_T = 8 };

typedef enum { EVT_CONV_JSON, EVT_CONV_AVRO } evt_conv_t;
/* key/value.subject.name.strategy */
typedef enum { EVT_SUBJ_TOPIC, EVT_SUBJ_RECORD, EVT_SUBJ_TOPIC_RECORD } evt_subject_t;

/* Avro converter: the registry id of an Avro schema text under a subject (key: the key converter's
 * registry). May block while the registry is unreachable. Returns 0, -1 (stopping; retry later) or
 * -2 (the registry refused: the connector cannot go on). */
typedef int (*evt_schema_id_fn)(void *ctx, bool key, const char *subject, const char *schema, size_t len,
                                int32_t *id, char *err, size_t errlen);

typedef struct evt_config {
    const char *connector_name;   /* "name" */
    const char *prefix;           /* topic.prefix */
    const char *delimiter;        /* topic.delimiter */
    const char *dbname;
    const char *version;          /* source.version */
    const char *placeholder;      /* unavailable.value.placeholder */
    unsigned skipped_ops;         /* EVT_OP_* */
    bool tombstones;              /* tombstones.on.delete */
    bool key_schemas;             /* key.converter.schemas.enable */
    bool value_schemas;           /* value.converter.schemas.enable */
    bool extended_headers;        /* extended.headers.enabled */
    bool tx_metadata;             /* provide.transaction.metadata */
    bool schema_comments;         /* include.schema.comments: column comments as field docs */
    const char *run_id;           /* __debezium.context.runId header; NULL: evt_new makes a UUIDv7 */
    pgt_opts_t types;
    const flt_filters_t *filters;
    evt_conv_t key_conv, value_conv;          /* key.converter / value.converter */
    bool key_meta, value_meta;                /* *.connect.meta.data (Avro) */
    evt_subject_t key_subject, value_subject; /* *.subject.name.strategy (Avro) */
    avro_adjust_t schema_names;               /* schema.name.adjustment.mode */
    avro_adjust_t field_names;                /* field.name.adjustment.mode */
    evt_schema_id_fn schema_id;               /* set by the agent when a converter is Avro */
    void *schema_id_ctx;
} evt_config_t;

typedef struct evt_header {
    const char *key;
    const void *value;
    size_t len;
} evt_header_t;

/* One Kafka record. value NULL is a tombstone; key NULL a null key. */
typedef struct evt_record {
    const char *topic;
    const void *key;
    size_t keylen;
    const void *value;
    size_t valuelen;
    evt_header_t headers[6];
    int nheaders;
    char op;                      /* c u d t m r, 0 for tombstones */
} evt_record_t;

typedef int (*evt_emit_fn)(void *ctx, const evt_record_t *rec, char *err, size_t errlen);

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
} evt_stats_t;

typedef struct evt_ctx evt_ctx_t;

evt_ctx_t *evt_new(const evt_config_t *cfg, evt_emit_fn emit, void *emit_ctx);
void evt_free(evt_ctx_t *e);
const evt_stats_t *evt_stats(const evt_ctx_t *e);
/* True when the last error will not go away by retrying (a registry refusal, names Avro cannot
 * take): the connector must stop as failed instead of reconnecting. */
bool evt_error_fatal(const evt_ctx_t *e);
/* Frees a table's event state; give it to rel_cache_new. */
void evt_table_free(void *user);
/* Builds topic and schemas for a freshly installed table version. Tables excluded by the filters
 * get state that says so. */
int evt_table_prepare(evt_ctx_t *e, rel_table_t *t, char *err, size_t errlen);
bool evt_table_captured(const rel_table_t *t);
const char *evt_table_topic(const rel_table_t *t);

/* Insert/Update/Delete -> records; a is the per-message arena. */
int evt_change(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_msg_t *m,
               char *err, size_t errlen);
/* Snapshot read (op 'r'): tup holds the row's columns in the table's column order, as text (what
 * pgoutput would send), pos->snapshot the marker (first, first_in_data_collection, true,
 * last_in_data_collection, last, incremental). */
int evt_read(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, const pgo_tuple_t *tup,
             char *err, size_t errlen);
int evt_truncate(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, rel_table_t *t, char *err, size_t errlen);
/* Heartbeat record: topic __debezium-heartbeat.<prefix>, key ServerNameKey {serverName}, value
 * Heartbeat {ts_ms}. */
int evt_heartbeat(evt_ctx_t *e, arena_t *a, int64_t now_us, char *err, size_t errlen);
/* provide.transaction.metadata: BEGIN (pos.lsn = the Begin record's LSN) and END (pos.lsn = the
 * commit's end LSN) on <prefix>.transaction; between them data events carry the `transaction`
 * block. No-ops when the option is off. */
int evt_tx_begin(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, char *err, size_t errlen);
int evt_tx_end(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, char *err, size_t errlen);
/* Forgets an open transaction (rewind after a failure). */
void evt_tx_reset(evt_ctx_t *e);
int evt_message(evt_ctx_t *e, arena_t *a, const evt_pos_t *pos, const pgo_msg_t *m, char *err, size_t errlen);

/* Topic name rules: characters outside [A-Za-z0-9._-] become '_', cut at 249. */
void evt_topic_name(char *out, size_t outlen, const char *prefix, const char *delim, const char *schema,
                    const char *table);

#endif
