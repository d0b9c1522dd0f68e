/* cluster.h: several walcast workers with one group.id as one Connect cluster. Membership and the
 * assignment of connectors are the broker's group coordinator's: each worker is a member of the consumer
 * group group.id on a slot topic (walcast.cluster.slots partitions, cooperative-sticky assignment); a
 * connector's slot is a hash of its name, and a worker runs the connectors whose slot partition it owns.
 * Configs and statuses are read continuously from the config and status topics, so the REST API of any
 * worker answers for the whole cluster. See docs/architecture.md ("Cluster"). */
#ifndef WALCAST_CLUSTER_H
#define WALCAST_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/config.h"
#include "agent/cstore.h"
#include "agent/worker.h"

typedef struct clu clu_t;

/* True unless the worker sets walcast.cluster.enable=false. */
bool clu_enabled(const cfg_map_t *wm);

/* wrk_owns_fn of a worker that has not joined yet: it runs nothing. */
bool clu_owns_nothing(void *ctx, const char *name);
/* Joins group.id and waits (bounded) for the first assignment; from then on wk runs only the connectors
 * of its slots and follows the config and status topics. store: the worker's opened store (topics). */
clu_t *clu_open(const cfg_map_t *wm, const worker_config_t *w, cst_t *store, wrk_t *wk, char *err, size_t errlen);
/* Stops following the group (no more calls into the worker); call before wrk_free. */
void clu_stop(clu_t *c);
/* Leaves the group (after wrk_free has ended every connector: their slots are free) and frees. */
void clu_free(clu_t *c);

/* The replication connections' application_name of this worker: "walcast@<worker_id>". */
void clu_application_name(const char *worker_id, char *out, size_t outlen);
/* Whether the worker named in a walsender's application_name is gone from the group (or is this worker's
 * previous incarnation): only then may its walsender be terminated. False when unknown. */
bool clu_holder_gone(const char *application_name);

#endif
