/* worker.h: the connectors and sinks of one process, as a Kafka Connect worker holds them: each with its
 * config, target state (started, paused, stopped) and status, created, changed and removed while it runs. */
#ifndef WALCAST_WORKER_H
#define WALCAST_WORKER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "schemas/tracking.h"

/* Connect's states of a connector or a task. */
typedef enum { WRK_UNASSIGNED, WRK_RUNNING, WRK_PAUSED, WRK_STOPPED, WRK_FAILED, WRK_RESTARTING } wrk_state_t;
/* Connect's target states (what the operator asked for). */
typedef enum { WRK_STARTED, WRK_TARGET_PAUSED, WRK_TARGET_STOPPED } wrk_target_t;

/* How an operation ended; the REST API turns these into Connect's status codes. */
typedef enum {
    WRK_OK,
    WRK_NOT_FOUND,    /* no such connector (or task) */
    WRK_EXISTS,       /* create of a name that is taken */
    WRK_INVALID,      /* the config (or name) is refused; err says which key and why */
    WRK_BAD_STATE,    /* not allowed in the connector's current state; err says what to do */
    WRK_STORE_FAILED  /* the config topic could not be written: nothing changed; err says why */
} wrk_rc_t;

/* Where configs, target states and statuses are kept (Connect's config and status topics, cstore.c):
 * a change is written there before it takes effect, so a failed write changes nothing. status is
 * best effort (task -1: the connector; gone: the status is removed).
 * @locality: any thread; never called with the worker's lock held. */
typedef struct wrk_store {
    void *ctx;
    int (*put_config)(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, bool created, char *err,
                      size_t errlen);
    int (*put_target)(void *ctx, const char *name, const cfg_map_t *config, wrk_target_t target, char *err, size_t errlen);
    int (*remove)(void *ctx, const char *name, char *err, size_t errlen);
    void (*status)(void *ctx, const char *name, int task, wrk_state_t state, const char *trace, const char *worker_id,
                   bool gone);
    /* topic tracking: topic became active for connector name (gone: its record is removed); best effort */
    void (*topic)(void *ctx, const char *name, const char *topic, bool gone);
    /* a restart request for a connector another worker of the cluster runs (Connect's restart-connector-<n>
     * record): that worker reads it from the config topic and restarts the connector */
    int (*restart)(void *ctx, const char *name, bool include_tasks, bool only_failed, char *err, size_t errlen);
} wrk_store_t;

/* Runs one connector (a source or a sink, by its config) until *stop is set (0) or it fails (-1, err
 * says why: the task's trace). The config is the stored one, validated by wrk_validate. topics is the
 * worker's topic tracking for this connector (hand it to the publisher or the sink; seen NULL: off).
 * @locality: the connector's own thread. */
typedef int (*wrk_run_fn)(void *ctx, const cfg_map_t *config, const wc_topic_hook_t *topics, volatile sig_atomic_t *stop,
                          char *err, size_t errlen);

typedef struct wrk wrk_t;

/* worker_map: the worker's own keys (converters are inherited by connectors, as in Connect);
 * run may be NULL (tests, fuzzing): connectors then are RUNNING without a thread. */
wrk_t *wrk_new(const cfg_map_t *worker_map, const char *worker_id, wrk_run_fn run, void *run_ctx);
/* Stops every connector cleanly (each ends its Kafka transaction), then frees. */
void wrk_free(wrk_t *w);
const char *wrk_worker_id(const wrk_t *w);
/* Without a REST API (connector files only), a failed connector sets *flag, so the process ends with
 * exit code 1 as it always did; with the API it only reports FAILED. */
void wrk_set_fail_stop(wrk_t *w, volatile sig_atomic_t *flag);
/* Keeps configs and statuses in s from now on (copied). */
void wrk_set_store(wrk_t *w, const wrk_store_t *s);
/* Connectors whose thread still runs; *any_failed: one has failed since start. */
size_t wrk_active(wrk_t *w, bool *any_failed);

/* Checks a connector config as create would (name, class, every key); 0 or -1 and err. */
int wrk_validate(const wrk_t *w, const cfg_map_t *config, bool *sink, char *err, size_t errlen);
/* True for a usable connector name (Connect is looser: see docs/compatibility.md). */
bool wrk_name_ok(const char *name, char *err, size_t errlen);

/* Creates (or with replace, reconfigures) connector name from config (its "name" is set to name).
 * A reconfigured connector is stopped cleanly first and started again with the new config.
 * *created tells which happened. */
wrk_rc_t wrk_put(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t initial, bool replace, bool *created,
                 char *err, size_t errlen);
/* A connector from the config topic that walcast cannot run (another class, an invalid config): listed
 * FAILED with trace, kept as it is (never written back) until it is replaced or deleted. */
void wrk_adopt_failed(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t target, const char *trace);
/* Removes the connector after a clean stop; its slot and stored offsets stay, as with Debezium. */
wrk_rc_t wrk_delete(wrk_t *w, const char *name, char *err, size_t errlen);
/* Pause and stop end the connector's thread cleanly before returning; resume starts it again. */
wrk_rc_t wrk_set_target(wrk_t *w, const char *name, wrk_target_t t, char *err, size_t errlen);
/* Restarts the connector (and its task): with only_failed, only when it (or its task) has FAILED.
 * *restarted says whether anything was (or, for another worker's connector, is to be) restarted. In a
 * cluster, a connector of which another worker runs anything (itself, or some of a sink's tasks) gets a
 * restart request through the store: every worker restarts what of it it runs (wrk_restart_local);
 * include_tasks only goes into the request: here the connector and its tasks are one thread per worker. */
wrk_rc_t wrk_restart(wrk_t *w, const char *name, bool include_tasks, bool only_failed, bool *restarted, char *err,
                     size_t errlen);
/* Restarts what of name this worker runs (the connector's thread, or the sink tasks it owns), never
 * writing a request: a worker applying a restart request read from the config topic. */
wrk_rc_t wrk_restart_local(wrk_t *w, const char *name, bool only_failed, bool *restarted);

/* A copy of one connector's state, for the REST API (free with wrk_info_free). */
typedef struct wrk_info {
    char *name;
    bool sink;
    cfg_map_t config;             /* as stored: secrets in clear, mask before showing */
    wrk_target_t target;
    wrk_state_t state;            /* the connector */
    char *trace;                  /* why it FAILED, or NULL */
    int ntasks;                   /* 0 (stopped), else 1, or a sink's tasks.max (its tasks share one state) */
    wrk_state_t task_state;
    char *task_trace;
    char *worker_id;              /* the worker that runs it when another one does (its status), else NULL */
    struct wrk_task_info {        /* ntasks > 1: each task's own state (cluster mode: tasks run on several workers) */
        wrk_state_t state;
        char *trace;
        char *worker_id;          /* the worker that runs it; NULL: not known */
    } *tasks;                     /* NULL: every task is as task_state */
} wrk_info_t;

/* The tasks of connector name this worker runs (bit n: task n) as of its last start; every one outside
 * cluster mode. For the connector's own thread (a sink's tasks.max tasks). */
uint64_t wrk_tasks_mine(wrk_t *w, const char *name);

wrk_rc_t wrk_info(wrk_t *w, const char *name, wrk_info_t *out);
void wrk_info_free(wrk_info_t *i);
/* The connector names, sorted; free each and the array. */
size_t wrk_names(wrk_t *w, char ***names);
const char *wrk_state_name(wrk_state_t s);

/* Connect's topic tracking (KIP-558; worker keys topic.tracking.enable and topic.tracking.allow.reset,
 * both true by default). The active topics of a connector are kept by name, apart from the connector
 * itself, as Connect's status store does: a name without a connector may have some. */
bool wrk_topic_tracking(const wrk_t *w, bool *allow_reset);
/* A topic read back from the status topic at start (not written again). */
void wrk_topic_add(wrk_t *w, const char *name, const char *topic);
/* The active topics of name, sorted; free each and the array. */
size_t wrk_topics(wrk_t *w, const char *name, char ***topics);
/* Forgets them (a tombstone each in the store); running connectors tell their topics again as they use them. */
void wrk_topics_reset(wrk_t *w, const char *name);

/* ---- cluster mode (cluster.c) ---- */
/* Whether this worker runs connector name (NULL: every connector, a single worker). */
typedef bool (*wrk_owns_fn)(void *ctx, const char *name);
void wrk_set_owner(wrk_t *w, wrk_owns_fn owns, void *ctx);
/* Whether this worker runs connector name's task now (task -1: the connector, which goes with task 0), as
 * its owner function says (true without one); any thread, no lock held. */
bool wrk_runs(wrk_t *w, const char *name, int task);
/* After the assignment changed: starts the connectors this worker came to own and stops, cleanly (Kafka
 * transaction ended, replication slot released), those it no longer owns, before returning. */
void wrk_rebalance(wrk_t *w);
/* Tells every running connector of this worker to stop, without waiting for any, and from any thread: a
 * worker that lost its cluster membership stops at once even while its cluster thread waits for one
 * connector (a sink's consumer closing while Kafka is away); wrk_rebalance then waits for them. */
void wrk_stop_all_now(wrk_t *w);
/* A config-topic record as another worker (or this one) wrote it: applied here without writing the
 * store again; config NULL: deleted. Nothing happens when it is what the worker has. */
void wrk_apply_remote(wrk_t *w, const char *name, const cfg_map_t *config, wrk_target_t target);
/* A status-topic record (task -1: the connector); state NULL: removed. wrk_info shows these for the
 * connectors another worker runs. One of another worker about what this worker runs makes it write its
 * own status again (at most once a second per connector). */
void wrk_remote_status(wrk_t *w, const char *name, int task, const char *state, const char *trace, const char *worker_id);

#endif
