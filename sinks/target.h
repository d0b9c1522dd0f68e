/* target.h: what an apply target (PostgreSQL, MariaDB, MongoDB) implements, and the row changes,
 * tables, offsets and sink settings it is handed. sinks/apply.c drives every target through this. */
#ifndef WALCAST_SINK_TARGET_H
#define WALCAST_SINK_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/connect.h"

/* Targets classify every failure with the project's one classification (schemas/status.h): WC_RETRY for
 * transient errors (connection lost, deadlock, serialization failure, lock timeout, server restarting:
 * roll back, back off, reconnect, apply the same batch again), WC_PERMANENT for a record (or batch) that
 * can never apply (dead-letter it or fail the sink), WC_FATAL to stop the sink (bad settings, refused
 * login). WC_ABORT: the transaction is lost but the session is fine and the target will write differently
 * (PostgreSQL: a create met an existing row): roll back and apply the same batch again at once, without
 * backoff or reconnect (after 3 in a row it is handled as WC_RETRY). */
#include "schemas/status.h"
#include "schemas/transform.h"

/* ---- settings (filled by agent/config.c from Debezium JDBC / MongoDB sink keys) ---- */

typedef enum { SK_DIALECT_POSTGRES, SK_DIALECT_MYSQL, SK_DIALECT_MONGODB } sk_dialect_t;
typedef enum { SK_INSERT_INSERT, SK_INSERT_UPDATE, SK_INSERT_UPSERT } sk_insert_mode_t;
typedef enum { SK_PK_NONE, SK_PK_KAFKA, SK_PK_RECORD_KEY, SK_PK_RECORD_VALUE } sk_pk_mode_t;
typedef enum { SK_POLICY_SOURCE_WINS, SK_POLICY_NEWER_WINS, SK_POLICY_TARGET_WINS, SK_POLICY_ERROR } sk_policy_t;

/* Conflict types as PostgreSQL 18 names them (conflict.h); counted per sink, logged when asked. */
typedef enum {
    SK_CONFLICT_INSERT_EXISTS,
    SK_CONFLICT_UPDATE_ORIGIN_DIFFERS,
    SK_CONFLICT_UPDATE_EXISTS,
    SK_CONFLICT_UPDATE_MISSING,
    SK_CONFLICT_DELETE_ORIGIN_DIFFERS,
    SK_CONFLICT_DELETE_MISSING,
    SK_CONFLICT_NTYPES
} sk_conflict_t;

/* A connection.url taken apart (jdbc:postgresql://, jdbc:mysql://, jdbc:mariadb://, postgresql://,
 * mysql://, mongodb://); user and password come from connection.username/password when given. */
typedef struct sk_url {
    sk_dialect_t dialect;
    char *host;        /* NULL: the client library's default */
    int port;          /* 0: default */
    char *database;
    char *user, *password;   /* secrets: never logged */
    char *params;      /* the query string after '?' as given (k=v&k=v), NULL if none */
} sk_url_t;

/* Per-table override of the conflict policy (conflict.policy.<table>=...). */
typedef struct sk_table_policy {
    char *table;
    sk_policy_t policy;
} sk_table_policy_t;

typedef struct sk_config {
    char *name;                    /* connector name; the consumer group is connect-<name> */
    tf_spec_t *transforms;         /* transforms=, applied after decoding, before applying; NULL: none */
    char *connector_class;
    char *topics;                  /* comma-separated; or */
    char *topics_regex;            /* topics.regex */
    char *url;                     /* connection.url as given (may hold a password: never logged) */
    sk_url_t conn;                 /* parsed connection.url + connection.username/password */
    sk_insert_mode_t insert_mode;  /* insert.mode, default insert (as Debezium) */
    bool delete_enabled;           /* delete.enabled */
    bool truncate_enabled;         /* truncate.enabled */
    sk_pk_mode_t pk_mode;          /* primary.key.mode, default none */
    char *pk_fields;               /* primary.key.fields, comma-separated, NULL: all of the key/value */
    char *table_format;            /* collection.name.format / table.name.format, default ${topic} */
    bool quote_identifiers;        /* quote.identifiers */
    int batch_size;                /* batch.size, default 500 */
    bool schema_evolution;         /* schema.evolution=basic */
    bool errors_tolerance_all;     /* errors.tolerance=all */
    char *dlq_topic;               /* errors.deadletterqueue.topic.name; NULL: none */
    bool dlq_context_headers;      /* errors.deadletterqueue.context.headers.enable */
    int dlq_replication_factor;    /* errors.deadletterqueue.topic.replication.factor */
    sk_policy_t policy;            /* conflict.policy, default source_wins */
    sk_table_policy_t *table_policies; size_t ntable_policies;
    char *version_column;          /* walcast.version.column, default __walcast_version */
    bool conflict_log;             /* conflict.log.enabled */
    char *placeholder;             /* unavailable.value.placeholder (the source's): an unchanged TOASTed value;
                                      such columns keep the target's value (never written) */
    char *origin_name;             /* walcast.origin.name: replication origin of PostgreSQL apply sessions
                                      (default walcast_<name>, which sources skip); NULL: none */
    char *mongo_uri;               /* mongodb.connection.string (MongoDB sink) */
    char *mongo_database;          /* sink.database (MongoDB sink) */
    int retry_backoff_max_ms;      /* longest wait between retries of transient errors */
    char **consumer_override;      /* consumer.override.*: key, value, key, value, ... (prefix cut) */
    size_t nconsumer_override;     /* pairs */
    char *registry_url;            /* value.converter.schema.registry.url (Avro input); NULL: JSON only */
    char *registry_user_info;      /* value.converter.basic.auth.user.info (secret) */
    bool header_strings;           /* header.converter=…StringConverter: each header an optional string (what
                                      HeaderToValue reads); else SimpleHeaderConverter's reading */
    int tasks_max;                 /* tasks.max, default 1: that many tasks, each a consumer of connect-<name> */
    int task;                      /* the task this config runs (0..tasks_max-1); set by the runner, 0 by the parser */
} sk_config_t;

/* The most tasks one sink may run (each is a thread, a consumer and a target session). */
#define SK_TASKS_MAX 64

/* ---- what a target is handed ---- */

typedef enum { SK_OP_UPSERT, SK_OP_DELETE, SK_OP_TRUNCATE } sk_op_t;

/* A source position that orders versions of a row: within one source its commit order (the LSN; a
 * snapshot row at its snapshot's position), across several sources the source commit time (DESIGN.md
 * "Exactly-once"; conflict.h cf_version_newer). */
typedef struct sk_version {
    int64_t ts_us;        /* source commit time (source.ts_us, else ts_ms*1000) */
    uint64_t lsn;         /* source.lsn; a snapshot row without one (watermark chunks, incremental
                             snapshots): the LSN of source.sequence, where it was emitted; 0 if none */
    const char *source;   /* source id (source.name), "" if none */
    bool snapshot;        /* an op 'r' row (it sits at its snapshot's position, not at a commit) */
} sk_version_t;

/* A destination table as resolved for one batch. Columns are the fields of row (a CT_STRUCT); the
 * key columns are the first npk entries of pk (names of fields of row). */
typedef struct sk_table {
    const char *name;          /* resolved name (collection.name.format applied), unquoted */
    const cs_schema_t *row;    /* row schema: every column, Connect types and semantic names */
    const char *const *pk;     /* primary key column names, in key order */
    size_t npk;
    sk_policy_t policy;        /* conflict policy for this table */
    const char *version_column;/* NULL when no version is kept (source_wins without conflict log) */
} sk_table_t;

/* One row change, already reduced: at most one per (table, key) in a batch between truncates. */
typedef struct sk_change {
    sk_op_t op;
    const sk_table_t *table;
    cv_value_t row;            /* upsert: the after row; delete: the key values at least (struct over
                                  table->row; fields not known are null with has[i]=false) */
    const bool *has;           /* has[i]: field i of row is present (NULL: all present) */
    sk_version_t version;
    const char *topic;         /* where it came from (conflict log, dead letters, errors) */
    int32_t partition;
    int64_t offset;
    char src_op;               /* the event's op: 'c', 'r', 'u' or 'd' (conflict types tell insert from update) */
    bool key_changed;   /* the upsert half of a primary-key change (update_exists when the new key exists) */
} sk_change_t;

/* A consumed position to store: the next offset to read (Kafka's committed-offset convention). */
typedef struct sk_offset {
    char *topic;
    int32_t partition;
    int64_t offset;
} sk_offset_t;

/* A conflict met while applying, reported back so apply.c counts it; logged to walcast_conflicts by
 * the target itself (same transaction) when conflict.log.enabled=true. */
typedef struct sk_conflict_count {
    uint64_t n[SK_CONFLICT_NTYPES];         /* met */
    uint64_t skipped[SK_CONFLICT_NTYPES];   /* of those, the change was not written (the policy kept the target's row) */
} sk_conflict_count_t;

/* The row a target already has for a change's key (read and locked by fetch_existing). */
typedef struct sk_existing {
    bool found;
    char *ver;      /* its walcast.version.column text, NULL: none (written by someone else) */
    char *row;      /* the row as JSON text (walcast_conflicts.existing), NULL: unknown */
} sk_existing_t;

/* One conflict to log into walcast_conflicts: key and rows as JSON text (NULL: null). */
typedef struct sk_conflict_rec {
    sk_conflict_t type;
    const char *key, *incoming, *existing;
    const sk_change_t *change;   /* the change that met it */
    size_t at;                   /* its index in the changes fetch_existing was given */
} sk_conflict_rec_t;

/* One prerequisite a target checked for `walcast check` (the agent turns it into a check result). */
typedef struct sk_check {
    const char *name;       /* static: "target_tables", "target_schema", "target_origin" */
    const char *key;        /* static: the config key it belongs to */
    bool ok;
    char message[1024];
    char fix[1024];         /* the statement or setting that fixes it; "" when ok */
} sk_check_t;

/* ---- the interface ---- */

typedef struct sk_target sk_target_t;   /* one target session, private to each implementation */

typedef struct sk_target_ops {
    const char *name;   /* "postgresql", "mysql", "mongodb": for logs */
    /* Opens a session to cfg->conn (or cfg->mongo_uri); WC_RETRY while the server is unreachable or
     * starting, WC_FATAL for refused logins or bad settings (err never holds the password). */
    wc_status_t (*connect)(const sk_config_t *cfg, sk_target_t **out, char *err, size_t errlen);
    /* Closes and frees; NULL is fine. */
    void (*close)(sk_target_t *t);
    /* Creates walcast_sink_offsets (and walcast_conflicts when asked) if missing and reads the stored
     * positions of sink `name`; *offs is malloc'ed (free each topic, then the array). */
    wc_status_t (*read_offsets)(sk_target_t *t, const char *name, sk_offset_t **offs, size_t *n, char *err,
                                size_t errlen);
    /* Starts the transaction that will hold one batch and its offsets. */
    wc_status_t (*begin)(sk_target_t *t, char *err, size_t errlen);
    /* Makes sure table exists with every column of tab->row (schema.evolution=basic: create, add
     * columns, never drop or narrow); evolve=false only checks it exists. Called inside the
     * transaction, before apply for that table; the target caches what it has seen. */
    wc_status_t (*ensure_table)(sk_target_t *t, const sk_table_t *tab, bool evolve, char *err, size_t errlen);
    /* Applies n changes of ONE table and one op (all SK_OP_UPSERT or all SK_OP_DELETE, at most one per
     * key) in order, under mode and tab->policy, adding conflicts met to *cc. SK_OP_TRUNCATE comes
     * alone (n = 1). WC_PERMANENT means a record is poison: apply.c then retries one by one to find it.
     * Targets with fetch_existing are called through cf_apply (conflict.c), which decides conflicts
     * first and then hands over only the changes to write, with tab->policy = source_wins. */
    wc_status_t (*apply)(sk_target_t *t, const sk_table_t *tab, sk_insert_mode_t mode, const sk_change_t *const *ch,
                         size_t n, sk_conflict_count_t *cc, char *err, size_t errlen);
    /* Optional (NULL: conflicts are never read). Reads the rows the n changes' keys have in tab, locked
     * until commit where the target can (MongoDB: remembered for a compare-and-swap by the apply that
     * follows): ex[i] for ch[i] (zeroed by the caller; strings malloc'ed, freed by the caller). */
    wc_status_t (*fetch_existing)(sk_target_t *t, const sk_table_t *tab, const sk_change_t *const *ch, size_t n,
                                  sk_existing_t *ex, char *err, size_t errlen);
    /* Writes n conflicts of tab into walcast_conflicts inside the open transaction (conflict.log.enabled). */
    wc_status_t (*log_conflicts)(sk_target_t *t, const sk_table_t *tab, const sk_conflict_rec_t *v, size_t n,
                                 char *err, size_t errlen);
    /* Upserts the positions of sink `name` into walcast_sink_offsets inside the open transaction. */
    wc_status_t (*store_offsets)(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                 size_t errlen);
    /* Removes positions of sink `name` from walcast_sink_offsets inside the open transaction: the n given
     * (topic and partition; offset unused), or every one of the sink when n is 0 (REST offsets reset). */
    wc_status_t (*delete_offsets)(sk_target_t *t, const char *name, const sk_offset_t *offs, size_t n, char *err,
                                  size_t errlen);
    /* Commits the batch and its offsets together. */
    wc_status_t (*commit)(sk_target_t *t, char *err, size_t errlen);
    /* Rolls back whatever is open; safe to call after a failed call or a lost connection. Tables the
     * transaction created are forgotten by the cache. */
    void (*rollback)(sk_target_t *t);
    /* Optional (NULL: commit always waits). With defer_commit(t, true), commit may return WC_OK as soon as
     * COMMIT is sent, so that the next batch is read and decoded while the target works; commit_wait then
     * gives the outcome (WC_OK at once when nothing is pending) and must come before any other call but
     * rollback and close. */
    void (*defer_commit)(sk_target_t *t, bool on);
    wc_status_t (*commit_wait)(sk_target_t *t, char *err, size_t errlen);
    /* Optional (walcast check; changes nothing): the rights the sink will need of this target beyond its
     * login and walcast_sink_offsets (writing the target tables, creating them under schema.evolution=basic,
     * replication origins), up to max results into out; returns how many. */
    size_t (*check_rights)(sk_target_t *t, sk_check_t *out, size_t max);
    /* Every row this target writes carries walcast's version (MongoDB), so a row without one is someone
     * else's (cf_decide). */
    bool unversioned_foreign;
} sk_target_ops_t;

/* The targets walcast links in (one file each under sinks/). sk_mongo_ops is weak so that a tree
 * without sinks/mongo.c still links: apply.c reports MongoDB as unsupported when it is NULL. */
extern const sk_target_ops_t sk_postgres_ops;
extern const sk_target_ops_t sk_mysql_ops;
extern const sk_target_ops_t sk_mongo_ops __attribute__((weak));

/* sk_version_t as the text of walcast.version.column (conflict.c: source id, kind, LSN, time; the versions
 * of one source sort bytewise in its order). Returns the length. */
size_t sk_version_text(const sk_version_t *v, char *out, size_t outlen);

#endif
