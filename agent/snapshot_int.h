/* snapshot_int.h: what the three files of the snapshot module share and nothing else includes:
 * snapshot.c (plans, the exported run, resume state), watermark.c (DBLog's watermark method: chunks read
 * while streaming) and signals.c (incremental snapshots: signal table and signal.kafka.topic). */
#ifndef WALCAST_SNAPSHOT_INT_H
#define WALCAST_SNAPSHOT_INT_H

#include <libpq-fe.h>
#include <pthread.h>

#include <librdkafka/rdkafka.h>

#include "agent/replication.h"
#include "agent/snapshot.h"
#include "schemas/clock.h"

/* A record a reader encoded: offsets into its batch's data (SIZE_MAX: null). */
typedef struct enc_rec {
    size_t topic, key, keylen, value, valuelen;
    int nheaders;
    const char *hkey[REC_MAX_HEADERS];   /* string literals of event.c, or the transform configuration's */
    size_t hval[REC_MAX_HEADERS], hlen[REC_MAX_HEADERS];
    char op;
    bool has_partition, has_ts;   /* a transform's partition and timestamp (rec_t) */
    int32_t partition;
    int64_t ts_ms;
} enc_rec_t;

/* Fetched rows for the connector thread to encode (res), or records a reader encoded (encoded);
 * neither: the chunk's end. */
typedef struct snap_batch {
    PGresult *res;
    bool encoded;
    buf_t data;
    enc_rec_t *recs;
    size_t nrecs, cap;
    int nrows;
    struct snap_batch *next;
} snap_batch_t;


/* The batches a reader queued for one chunk, and where that reader waits for room (only a pop of this
 * chunk, or the run's end, wakes it). */
typedef struct snap_slot {
    snap_batch_t *head, *tail;
    int queued;
    pthread_cond_t room;
} snap_slot_t;

/* The result column of each relation column, for one fetched result of one table. A cleared result's
 * address is given to a later one, possibly another table's: the map is keyed on both, and forgotten
 * whenever a result it may have been made for is cleared. */
typedef struct snap_colmap {
    int *map;
    size_t cap;
    const PGresult *res;
    const rel_table_t *table;
} snap_colmap_t;

/* A streamed change of a chunk's table seen while the chunk was in flight: its key, transaction and whether
 * the chunk's low watermark had been seen. Resolved against the chunk's rows at the high watermark. */
typedef struct snap_wm_seen {
    char *key;
    uint32_t xid;
    bool window;
} snap_wm_seen_t;

/* Chunks read ahead by the watermark thread: the next chunk's low watermark, SELECT and high watermark run
 * while the connector thread emits the one before. */
#define SNAP_WM_DEPTH 2

/* A chunk read by the watermark method, from its dispatch to its high watermark. The connector thread owns
 * it; the watermark thread copies the job (nonce, relid, sql, params, key names) under wm_mu and fills the
 * result (ready and what follows it) under wm_mu before it writes the high watermark, and never touches a
 * ready chunk again. */
typedef struct snap_wm {
    size_t chunk;
    char nonce[32];
    uint32_t relid;
    unsigned version;             /* the table version whose columns the SELECT lists */
    char *sig;                    /* that version's catalog signature (wm_table) */
    char *sql;                    /* the chunk's SELECT and its parameters */
    char **params;
    int nparams;
    char **keynames;              /* the event key columns, by name */
    size_t nkeynames;
    bool taken;                   /* the watermark thread is reading it */
    /* connector thread only */
    bool window;                  /* low watermark seen */
    snap_wm_seen_t *seen;
    size_t nseen, capseen;
    /* the watermark thread's result */
    bool ready;
    PGresult *rows;
    char **keys;                  /* per row: key text (see key_text) */
    size_t nkeys;
    snap_xsnap_t xs;
    char *read_sig;               /* the table's catalog signature read just before the chunk */
} snap_wm_t;

struct snap {
    const conn_config_t *cfg;
    bool incremental;             /* signals: an incremental snapshot */
    bool paused;
    bool parallel;                /* readers encode too (walcast.snapshot.parallel.encode; Avro with a registry client each) */
    uint64_t encoded_rows;        /* rows the readers encoded and this thread sent (the connector's evt_ctx never saw them) */
    pgt_catalog_t *types;
    evt_ctx_t *evt;
    snap_hooks_t hooks;
    snap_plan_t plan;
    bool have_plan;
    bool completion_pending;      /* completion in the offsets of the transaction being built */
    bool completion_committing;
    bool finished;
    rel_cache_t *rels;
    uint32_t *relids;             /* per table */
    arena_t *arena;
    buf_t state;
    snap_progress_t prog;
    uint64_t seq;
    /* exported run */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    snap_slot_t *slots;
    size_t nslots;
    size_t emitting;              /* the chunk the connector thread sends (it waits on cv for that one only) */
    size_t emitting2;             /* with lanes, the chunk it sends on the other lane (else SIZE_MAX) */
    size_t next_chunk;
    bool quit;
    char reader_err[512];
    bool reader_failed;
    wc_status_t reader_status;    /* what the failure asks for: WC_RETRY, or WC_PERMANENT (a row no retry converts) */
    const char *snapshot_name;
    int imported;
    snap_colmap_t colmap;         /* the connector thread's rows (emit_row) */
    /* where an exported run's time went (the "snapshot threads" line): readers waiting for room in the
     * queue (summed over readers, under mu), the connector thread waiting for a reader's batch, sending
     * records, and serving Kafka (the bound on librdkafka's queue, commit outcomes) */
    int64_t wait_queue_us, wait_batch_us, send_us, service_us;
    uint64_t needless_wakeups;    /* a reader or the connector thread woken with nothing to do (under mu) */
    uint64_t lane_chunks;         /* chunks sent on lanes (emit_lanes), in the "snapshot threads" line */
    rd_kafka_t *sigrk;            /* signal.kafka.topic consumer */
    /* watermark method: wm_conn (connector thread) installs tables; the chunks dispatched and not yet emitted,
     * in dispatch order (nwm and the array change only on the connector thread, under wm_mu); the watermark
     * thread that reads them (its failure in wm_err; wm_gen bumps when a reset drops what it reads) */
    repl_t wm_conn;
    bool wm_connected;
    snap_wm_t *wm[SNAP_WM_DEPTH];
    size_t nwm;
    pthread_mutex_t wm_mu;
    pthread_cond_t wm_cv;
    pthread_t wm_thread;
    bool wm_thread_on, wm_quit, wm_failed;
    uint64_t wm_gen;
    char wm_err[512];
    /* the catalog signature of the table version installed for the last chunk (watermark.c): the next chunk
     * of that table installs it again only if the signature changed */
    char *wm_sig;
    uint32_t wm_sig_relid;
    unsigned wm_sig_version;
};

/* Chunk ci's rows are all sent, on lane (see snap_offsets). */
void snap_chunk_emitted(snap_t *s, size_t ci, int lane);
void snap_col_map(const rel_table_t *t, PGresult *res, int *map);
const int *snap_colmap_for(snap_colmap_t *m, const rel_table_t *t, PGresult *res);
void snap_colmap_forget(snap_colmap_t *m);
void snap_colmap_free(snap_colmap_t *m);
int snap_exec_ok(PGconn *c, const char *sql, char *err, size_t errlen);
int snap_plan_build(snap_t *s, PGconn *c, bool chunk_bounds, const snap_signal_t *sig, char *err, size_t errlen);
void snap_prog_reset(snap_t *s);
/* n rows of chunk ci read: counted in the chunk, its table and the progress. snap_prog_unrows takes a
 * chunk's rows out again (it is read again: a rewind, a watermark read after one). */
void snap_prog_rows(snap_t *s, size_t ci, uint64_t n);
void snap_prog_unrows(snap_t *s, size_t ci);
PGresult *snap_query(PGconn *c, const char *sql, int n, const char *const *params, char *err, size_t errlen);
const char **snap_rel_cols(const rel_table_t *t, arena_t *a);
int snap_row_tuple(const rel_table_t *t, PGresult *res, int row, const int *map, pgo_tuple_t *tup);
void snap_strv_free(char **v, size_t n);
rel_table_t *snap_table_install(snap_t *s, repl_t *r, size_t ti, bool fresh, char *err, size_t errlen);
/* Frees a chunk of the watermark method (connector thread, removed from s->wm first). */
void snap_wm_free(snap_wm_t *w);
/* Ends the watermark thread (joined), drops the chunks in flight, closes wm_conn (snap_free). */
void snap_wm_stop(snap_t *s);
/* Drops chunk i of those in flight, s->wm[i] (emitted, to be read again, stopped). */
void snap_wm_drop(snap_t *s, size_t i);
/* Chunks of the watermark method in flight (dispatched, not yet emitted). */
bool snap_wm_inflight(const snap_t *s);
/* The result column of a relation column name (PQfnumber, then quoted: it folds case unless quoted); -1: none. */
int snap_res_col(const PGresult *res, const char *name);
bool snap_is_signal_name(const conn_config_t *cfg, const char *schema, const char *table);

#endif
