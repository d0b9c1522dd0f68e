/* connector.h: one PostgreSQL source connector: the replication loop from slot to Kafka, with
 * reconnects, keepalives, status updates and the flush LSN that only covers acknowledged events. */
#ifndef WALCAST_CONNECTOR_H
#define WALCAST_CONNECTOR_H

#include <signal.h>

#include "agent/config.h"
#include "schemas/registry.h"

/* The registry client settings of a converter (strings point into v). */
sr_config_t conn_registry_config(const cfg_conv_t *v);
/* Runs until *stop is set (returns 0) or a fatal error (returns 1, logged, and in why when given). */
int conn_run(const conn_config_t *cfg, const worker_config_t *w, volatile sig_atomic_t *stop, char *why, size_t whylen);

#endif
