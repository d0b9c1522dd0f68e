/* rest.h: Kafka Connect's REST API over the worker: the router and the request bodies, with Connect's
 * status codes, JSON shapes and error bodies ({"error_code":…,"message":…}); secrets are masked. */
#ifndef WALCAST_REST_H
#define WALCAST_REST_H

#include "agent/http.h"
#include "agent/worker.h"

/* The prerequisite checks behind PUT /connector-plugins/{p}/config/validate (walcast check's, wired by
 * main): each failed one as key -> message in errors (several for one key joined by newlines); returns
 * how many failed. */
typedef int (*rest_check_fn)(void *ctx, const cfg_map_t *config, cfg_map_t *errors);

/* Connect's offsets endpoints for source connectors (cstore.c's cst_offsets_*, wired by main; NULL
 * without a real Kafka): get gives the JSON array of {"partition","offset"} (malloc'd), alter takes one. */
typedef struct rest_offsets {
    void *ctx;
    int (*get)(void *ctx, const char *name, char **json, char *err, size_t errlen);
    int (*alter)(void *ctx, const char *name, const char *json, char *err, size_t errlen);
    int (*reset)(void *ctx, const char *name, char *err, size_t errlen);
} rest_offsets_t;

/* The same for sink connectors (sinkoffs.c, wired by main): a walcast sink's positions in its target's
 * walcast_sink_offsets, as Connect's sink offsets [{"partition":{"kafka_topic","kafka_partition"},
 * "offset":{"kafka_offset"}}]; alter gets them checked, numbers as integers, an offset null removes one. */
typedef struct rest_sink_offsets {
    void *ctx;
    int (*get)(void *ctx, const cfg_map_t *config, char **json, char *err, size_t errlen);
    int (*alter)(void *ctx, const cfg_map_t *config, const char *json, char *err, size_t errlen);
    int (*reset)(void *ctx, const cfg_map_t *config, char *err, size_t errlen);
} rest_sink_offsets_t;

typedef struct rest {
    wrk_t *worker;
    const char *kafka_cluster_id;     /* for GET /; "" when unknown */
    rest_check_fn check;              /* NULL: the config parser alone, its error under connector.class */
    void *check_ctx;
    rest_offsets_t offsets;           /* get NULL: the offsets endpoints answer 501 */
    rest_sink_offsets_t sink_offsets; /* get NULL: a sink's offsets endpoints answer 501 */
} rest_t;

/* http_handler_fn for "/": every route of the REST API. Never fails: bad requests get a 4xx body. */
void rest_handle(void *rest, const http_req_t *req, http_resp_t *resp);

/* The value shown for a secret key's value in REST bodies; PUT/PATCH of this value keeps the stored one. */
#define REST_HIDDEN "[hidden]"

#endif
