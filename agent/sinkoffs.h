/* sinkoffs.h: Kafka Connect's offsets endpoints for walcast's sinks. A sink starts from the positions in
 * its target's walcast_sink_offsets (written in the same transaction as the rows), so these read and
 * change that table, in Connect's sink offset shape:
 * [{"partition":{"kafka_topic":…,"kafka_partition":…},"offset":{"kafka_offset":…}}]. */
#ifndef WALCAST_SINKOFFS_H
#define WALCAST_SINKOFFS_H

#include <stddef.h>

#include "agent/config.h"

/* ctx: the worker's config map (config providers, inherited converters); config: the sink's stored config. */
int so_get(void *ctx, const cfg_map_t *config, char **json, char *err, size_t errlen);
/* json: checked entries (rest.c), numbers as integers; an offset null removes that partition's position. */
int so_alter(void *ctx, const cfg_map_t *config, const char *json, char *err, size_t errlen);
/* Removes every position of the sink: it starts from the beginning of its topics. */
int so_reset(void *ctx, const cfg_map_t *config, char *err, size_t errlen);

#endif
