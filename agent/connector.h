/* connector.h: one PostgreSQL source connector: the replication loop from slot to Kafka, with
 * reconnects, keepalives, status updates and the flush LSN that only covers acknowledged events. */
#ifndef WALCAST_CONNECTOR_H
#define WALCAST_CONNECTOR_H

#include <signal.h>

#include "agent/config.h"

/* Runs until *stop is set (returns 0) or a fatal error (returns 1, logged, and in why when given). */
int conn_run(const conn_config_t *cfg, const worker_config_t *w, volatile sig_atomic_t *stop, char *why, size_t whylen);

#endif
