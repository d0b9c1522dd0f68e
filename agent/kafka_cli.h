/* kafka_cli.h: the embedded Kafka (librdkafka's mock cluster, in memory, not durable) and the
 * `walcast kafka` command that runs it as a process of its own. */
#ifndef WALCAST_KAFKA_CLI_H
#define WALCAST_KAFKA_CLI_H

#include <stddef.h>

/* An in-process mock cluster of `brokers` brokers; *bootstrap receives its address (caller frees). */
void *kcli_mock_start(int brokers, char **bootstrap, char *err, size_t errlen);
void kcli_mock_stop(void *mock);

/* `walcast kafka [--brokers N] [--partitions N] [--topic NAME]... [--control]` until SIGINT/SIGTERM. */
int kcli_main(int argc, char **argv);

#endif
