/* replication.h: the PostgreSQL side: a SQL connection for preflight checks and catalog lookups, and a
 * replication connection that creates the slot and streams pgoutput in COPY BOTH mode, with its read loop. */
#ifndef WALCAST_REPLICATION_H
#define WALCAST_REPLICATION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>

#include "agent/config.h"
#include "decoder/pgtypes.h"
#include "decoder/pgoutput.h"
#include "decoder/relcache.h"
#include "schemas/status.h"

typedef struct repl {
    const conn_config_t *cfg;
    PGconn *sql;
    PGconn *stream;
    uint64_t received_lsn;    /* the server's position as far as it has sent (write position reported) */
    uint64_t flush_lsn;       /* what may be confirmed (repl_confirm); clamped to received_lsn when sent */
    int64_t next_status_us;
    uint64_t sent_flush_lsn;  /* the flush position of the last status update sent */
    int server_version;
    bool messages;            /* PG14+: logical decoding messages */
    uint64_t slot_confirmed;  /* slot's confirmed_flush_lsn at start */
    char system_id[32];       /* IDENTIFY_SYSTEM: the cluster's identifier, its timeline, its WAL end */
    uint32_t timeline;
    uint64_t server_lsn;
    /* Snapshots: set export_snapshot before repl_prepare to create a missing slot with an exported
     * snapshot; then slot_created says it was created, snapshot_name names the snapshot (valid until
     * the replication connection runs its next command) and consistent_point is where its stream starts. */
    bool export_snapshot;
    bool slot_created;
    char snapshot_name[64];
    uint64_t consistent_point;
    /* The publication check (repl_check_publication): FOR ALL TABLES needs none; the tables walcast
     * added to the publication, for the connector to snapshot (repl_take_pub_added). */
    bool pub_all_tables;
    int64_t next_pub_check_us;
    char *pub_added;
} repl_t;

/* Every function returns WC_OK, WC_RETRY (the failure may pass: connection lost, server restarting,
 * lock timeout, slot still held) or WC_FATAL (retrying cannot help: credentials, privileges,
 * wal_level, a slot of another plugin or database), with err saying what and what to do. */

/* The application_name of the replication connections ("walcast" unless set; a cluster worker sets
 * "walcast@<worker_id>") and gone(application_name): whether the worker of a walsender that holds a slot
 * is known to be gone, so that walsender may be terminated (NULL: never). Set once, before connectors run. */
typedef bool (*repl_holder_gone_fn)(const char *application_name);
void repl_set_identity(const char *application_name, repl_holder_gone_fn gone);
/* This thread's last failure was a replication slot in use by another walsender. */
bool repl_slot_busy(void);

/* Opens the SQL connection with the session settings the type converters expect. */
wc_status_t repl_connect(repl_t *r, const conn_config_t *cfg, char *err, size_t errlen);
void repl_close(repl_t *r);
/* wal_level, REPLICATION privilege, then the replication connection opened: what repl_prepare needs
 * first, nothing read from the slot or the WAL, nothing changed on the server. */
wc_status_t repl_open(repl_t *r, char *err, size_t errlen);
/* repl_open unless done before (r->stream open), IDENTIFY_SYSTEM (system_id, timeline, server_lsn), then
 * the publication (created per publication.autocreate.mode) and slot (created if missing, with
 * export_snapshot; refused if it uses another plugin, another database, or is in use). */
wc_status_t repl_prepare(repl_t *r, char *err, size_t errlen);
/* While streaming, every status.update.interval.ms: operations the connector captures that the publication
 * does not publish (its publish list), and tables the include list captures that the publication does not
 * publish (created since the start, or dropped from the publication), are added under
 * publication.autocreate.mode=filtered; otherwise WC_FATAL names them and the ALTER PUBLICATION that fixes
 * it. Lowers *deadline to the next check. */
wc_status_t repl_check_publication(repl_t *r, int64_t now, int64_t *deadline, char *err, size_t errlen);
/* The tables (schema.table, one a line) walcast added to the publication since the last call, or NULL; the
 * caller frees. Changes made to them before were never sent: the connector snapshots them. */
char *repl_take_pub_added(repl_t *r);
/* The replication connection alone (r->stream) and IDENTIFY_SYSTEM (system_id, timeline, server_lsn):
 * proves the role may connect for replication (REPLICATION, pg_hba.conf). repl_prepare starts with it. */
wc_status_t repl_open_replication(repl_t *r, char *err, size_t errlen);
/* A query on the SQL connection; NULL with err filled on failure (the caller PQclears the result). */
PGresult *repl_query(repl_t *r, const char *sql, int nparams, const char *const *params, char *err, size_t errlen);

/* A table the connector captures, with what the prerequisites of its capture depend on. */
typedef struct repl_table {
    char *schema, *name;
    bool published;            /* publication.name publishes it (FOR ALL TABLES, its schema, the table, or
                                  for a partitioned table one of its partitions) */
    bool can_select;           /* the user may SELECT it (snapshots) */
    bool owned;                /* the user owns it (adding it to a publication needs that) */
    char replident;            /* pg_class.relreplident: 'd' default (the primary key), 'n' nothing, 'f' full,
                                  'i' an index */
    bool has_pk, has_replident_index;
    bool partitioned;          /* a partitioned table: its partitions carry the replica identity */
} repl_table_t;
/* Permanent ordinary and partitioned tables (not partitions, not system schemas) that the schema and table
 * include/exclude lists let through, ordered by schema and name. */
/* Whether the publication must publish every captured table (publication.autocreate.mode=filtered, or an
 * include list says which tables are wanted); without, the publication itself chooses, as in Debezium. */
bool repl_publication_checked(const conn_config_t *c);
wc_status_t repl_captured_tables(repl_t *r, repl_table_t **out, size_t *n, char *err, size_t errlen);
void repl_tables_free(repl_table_t *t, size_t n);
wc_status_t repl_load_types(repl_t *r, pgt_catalog_t *cat, char *err, size_t errlen);
/* Catalog facts pgoutput does not send; strings live in arena a. */
wc_status_t repl_table_info(repl_t *r, uint32_t relid, arena_t *a, rel_catinfo_t *info, char *err, size_t errlen);
wc_status_t repl_start(repl_t *r, uint64_t start_lsn, bool streaming, char *err, size_t errlen);

/* What the read loop calls; ctx is the caller's. */
typedef struct repl_handler {
    /* One XLogData message (its WAL position and pgoutput payload). */
    wc_status_t (*xlogdata)(void *ctx, const pgo_copydata_t *cd, char *err, size_t errlen);
    /* A keepalive: the server's WAL end. */
    void (*keepalive)(void *ctx, uint64_t wal_end);
    /* Timed work between reads (caught_up: nothing is waiting on the socket); lowers *deadline_us
     * (repl_clock_us) to when it must run next. */
    wc_status_t (*tick)(void *ctx, bool caught_up, int64_t *deadline_us, char *err, size_t errlen);
    /* True while reading must pause (the loop then only keeps time and sends status updates). */
    bool (*paused)(void *ctx);
    int wake_fd;              /* also watched: readable means tick has work (-1: none) */
} repl_handler_t;

/* The replication read loop: reads until *stop (WC_OK) or a failure, sends standby status updates every
 * status interval and when the server asks, and sleeps until the socket, wake_fd or the earliest
 * deadline of the handler and the status interval. */
wc_status_t repl_loop(repl_t *r, const repl_handler_t *h, void *ctx, volatile sig_atomic_t *stop, char *err,
                      size_t errlen);
/* The slot may be confirmed up to flush_lsn (sent with the next status update). */
void repl_confirm(repl_t *r, uint64_t flush_lsn);
/* A standby status update now / when the status interval has passed (long waits outside the loop). */
void repl_send_status(repl_t *r, bool reply);
void repl_status_if_due(repl_t *r);
/* The monotonic clock of deadlines, microseconds. */
int64_t repl_clock_us(void);
/* Ends COPY and drains the server's last messages (clean shutdown). */
void repl_stop(repl_t *r);
/* Runs heartbeat.action.query on the SQL connection. */
wc_status_t repl_exec(repl_t *r, const char *sql, char *err, size_t errlen);

/* Current time in PostgreSQL's epoch (microseconds since 2000-01-01). */
int64_t repl_now_pg(void);

#endif
