/* conflict.h: conflict policies per table, conflict type names, and the row version that newer_wins
 * compares (source commit time, then LSN, then source id). */
#ifndef WALCAST_SINK_CONFLICT_H
#define WALCAST_SINK_CONFLICT_H

#include "sinks/target.h"

/* The policy for table (conflict.policy.<table> override, else conflict.policy). */
sk_policy_t cf_policy_for(const sk_config_t *cfg, const char *table);
/* PostgreSQL 18's name of a conflict type ("insert_exists", ...). */
const char *cf_type_name(sk_conflict_t t);
const char *cf_policy_name(sk_policy_t p);

#endif
