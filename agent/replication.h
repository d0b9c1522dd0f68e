/* replication.h: the PostgreSQL side: a SQL connection for preflight checks and catalog lookups, and a
 * replication connection that creates the slot and streams pgoutput in COPY BOTH mode. */
#ifndef WALCAST_REPLICATION_H
#define WALCAST_REPLICATION_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "decoder/pgtypes.h"
#include "decoder/relcache.h"

typedef struct repl {
    const conn_config_t *cfg;
    PGconn *sql;
    PGconn *stream;
    int server_version;
    bool messages;            /* PG14+: logical decoding messages */
    uint64_t slot_confirmed;  /* slot's confirmed_flush_lsn at start */
    char system_id[32];       /* IDENTIFY_SYSTEM: the cluster's identifier, its timeline, its WAL end */
    uint32_t timeline;
    uint64_t server_lsn;
    bool fatal;               /* the last error will not go away by retrying (auth, config) */
    /* Snapshots: set export_snapshot before repl_prepare to create a missing slot with an exported
     * snapshot; then slot_created says it was created, snapshot_name names the snapshot (valid until
     * the replication connection runs its next command) and consistent_point is where its stream starts. */
    bool export_snapshot;
    bool slot_created;
    char snapshot_name[64];
    uint64_t consistent_point;
} repl_t;

/* Opens the SQL connection with the session settings the type converters expect. */
int repl_connect(repl_t *r, const conn_config_t *cfg, char *err, size_t errlen);
void repl_close(repl_t *r);
/* wal_level, REPLICATION privilege, then the replication connection, publication (created per
 * publication.autocreate.mode) and slot (created if missing; refused if it uses another plugin,
 * another database, or is in use). */
int repl_prepare(repl_t *r, char *err, size_t errlen);
int repl_load_types(repl_t *r, pgt_catalog_t *cat, char *err, size_t errlen);
/* Catalog facts pgoutput does not send; strings live in arena a. */
int repl_table_info(repl_t *r, uint32_t relid, arena_t *a, rel_catinfo_t *info, char *err, size_t errlen);
int repl_start(repl_t *r, uint64_t start_lsn, bool streaming, char *err, size_t errlen);
int repl_send_status(repl_t *r, uint64_t write_lsn, uint64_t flush_lsn, bool reply, char *err, size_t errlen);
/* Ends COPY and drains the server's last messages (clean shutdown). */
void repl_stop(repl_t *r);
/* Runs heartbeat.action.query on the SQL connection. */
int repl_exec(repl_t *r, const char *sql, char *err, size_t errlen);

/* Current time in PostgreSQL's epoch (microseconds since 2000-01-01). */
int64_t repl_now_pg(void);

#endif
