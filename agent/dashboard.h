/* dashboard.h: GET /dashboard, the replication-lag dashboard served from the binary (one self-contained
 * page: HTML, CSS and JS embedded, nothing fetched from elsewhere), and GET /dashboard/data, the state of
 * every connector and sink with the last 15 minutes of samples (metrics.c's ring) as JSON. */
#ifndef WALCAST_DASHBOARD_H
#define WALCAST_DASHBOARD_H

#include <stdint.h>

#include "agent/http.h"
#include "agent/worker.h"
#include "schemas/buf.h"

/* The JSON of GET /dashboard/data for worker w (may be NULL) at wall time now_ms. */
void dash_data(buf_t *b, wrk_t *w, int64_t now_ms);
/* http_handler_fn for "/dashboard" (ctx: the wrk_t). */
void dash_handle(void *worker, const http_req_t *req, http_resp_t *resp);

#endif
