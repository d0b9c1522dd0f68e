/* kafka_cli.c: the `walcast kafka` command and the embedded Kafka: librdkafka's mock cluster, in the
 * walcast process or standalone, with fault injection on stdin for the tests that need it. */
#include "agent/kafka_cli.h"
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent/log.h"
#include "schemas/buf.h"

/* Starts an in-process mock cluster on a dedicated handle and returns its bootstrap list. */
static rd_kafka_t *kcli_mock_start_rk(int brokers, char **bootstrap, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char e[256], nb[16];
    snprintf(nb, sizeof nb, "%d", brokers);
    if (rd_kafka_conf_set(conf, "test.mock.num.brokers", nb, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "cannot configure the embedded Kafka: %s", e);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_set(conf, "log_level", "3", e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
    if (!rk) {
        snprintf(err, errlen, "cannot start the embedded Kafka: %s", e);
        return NULL;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    if (!mc) {
        snprintf(err, errlen, "cannot start the embedded Kafka: librdkafka has no mock cluster support");
        rd_kafka_destroy(rk);
        return NULL;
    }
    *bootstrap = xstrdup(rd_kafka_mock_cluster_bootstraps(mc));
    return rk;
}

void *kcli_mock_start(int brokers, char **bootstrap, char *err, size_t errlen)
{
    return kcli_mock_start_rk(brokers, bootstrap, err, errlen);
}

void kcli_mock_stop(void *mock)
{
    if (mock)
        rd_kafka_destroy((rd_kafka_t *)mock);
}


static volatile sig_atomic_t mock_stop;
static void mock_sig(int s) { (void)s; mock_stop = 1; }

static const struct { const char *name; int16_t key; } api_keys[] = {
    { "Produce", 0 }, { "Fetch", 1 }, { "ListOffsets", 2 }, { "Metadata", 3 }, { "OffsetCommit", 8 },
    { "OffsetFetch", 9 }, { "FindCoordinator", 10 }, { "InitProducerId", 22 }, { "AddPartitionsToTxn", 24 },
    { "AddOffsetsToTxn", 25 }, { "EndTxn", 26 }, { "TxnOffsetCommit", 28 },
};

/* Kafka error by its protocol name (NOT_LEADER_FOR_PARTITION) or number. */
static int err_by_name(const char *s, rd_kafka_resp_err_t *out)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (!*end) {
        *out = (rd_kafka_resp_err_t)n;
        return 0;
    }
    for (int c = 1; c < 200; c++) {
        if (strcmp(rd_kafka_err2name((rd_kafka_resp_err_t)c), s) == 0) {
            *out = (rd_kafka_resp_err_t)c;
            return 0;
        }
    }
    return -1;
}

/* One fault-injection command of `walcast kafka --control` (tests): answers "ok" or "error: ...". */
static void mock_command(rd_kafka_mock_cluster_t *mc, char *line)
{
    char *argv[6] = { 0 };
    int argc = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save); tok && argc < 6; tok = strtok_r(NULL, " \t\r\n", &save))
        argv[argc++] = tok;
    if (argc == 0)
        return;
    if (!strcmp(argv[0], "errors") && argc == 4) {
        int16_t key = -1;
        for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
            if (!strcmp(api_keys[i].name, argv[1]))
                key = api_keys[i].key;
        int cnt = atoi(argv[2]);
        rd_kafka_resp_err_t e;
        if (key < 0 || cnt < 1 || cnt > 1000 || err_by_name(argv[3], &e) < 0) {
            printf("error: usage: errors <ApiName> <count 1-1000> <ERROR_NAME>\n");
        } else {
            rd_kafka_resp_err_t errs[1000];
            for (int i = 0; i < cnt; i++)
                errs[i] = e;
            rd_kafka_mock_push_request_errors_array(mc, key, (size_t)cnt, errs);
            printf("ok\n");
        }
    } else if (!strcmp(argv[0], "rtt") && argc == 5) {
        int16_t key = -1;
        for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++)
            if (!strcmp(api_keys[i].name, argv[2]))
                key = api_keys[i].key;
        int cnt = atoi(argv[3]), ms = atoi(argv[4]);
        rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (key < 0 || cnt < 1 || cnt > 1000 || ms < 0) {
            printf("error: usage: rtt <broker> <ApiName> <count 1-1000> <ms>\n");
        } else {
            for (int i = 0; i < cnt && !e; i++)
                e = rd_kafka_mock_broker_push_request_error_rtts(mc, atoi(argv[1]), key, 1, RD_KAFKA_RESP_ERR_NO_ERROR, ms);
            printf(e ? "error: %s\n" : "ok\n", rd_kafka_err2str(e));
        }
    } else if ((!strcmp(argv[0], "down") || !strcmp(argv[0], "up")) && argc == 2) {
        int32_t id = atoi(argv[1]);
        rd_kafka_resp_err_t e = argv[0][0] == 'd' ? rd_kafka_mock_broker_set_down(mc, id) : rd_kafka_mock_broker_set_up(mc, id);
        printf(e ? "error: %s\n" : "ok\n", rd_kafka_err2str(e));
    } else if (!strcmp(argv[0], "coordinator") && argc == 4) {
        rd_kafka_resp_err_t e = rd_kafka_mock_coordinator_set(mc, argv[1], argv[2], atoi(argv[3]));
        printf(e ? "error: %s\n" : "ok\n", rd_kafka_err2str(e));
    } else if (!strcmp(argv[0], "leader") && argc == 4) {
        rd_kafka_resp_err_t e = rd_kafka_mock_partition_set_leader(mc, argv[1], atoi(argv[2]), atoi(argv[3]));
        printf(e ? "error: %s\n" : "ok\n", rd_kafka_err2str(e));
    } else {
        printf("error: unknown command; use errors <ApiName> <count> <ERROR>, rtt <broker> <ApiName> <count> <ms>, "
               "down <broker>, up <broker>, coordinator <transaction|group> <key> <broker>, leader <topic> <partition> "
               "<broker>\n");
    }
    fflush(stdout);
}

int kcli_main(int argc, char **argv)
{
    int brokers = 1, partitions = 1;
    bool control = false;
    const char *topics[64];
    int ntopics = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc)
            brokers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--partitions") && i + 1 < argc)
            partitions = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--topic") && i + 1 < argc && ntopics < 64)
            topics[ntopics++] = argv[++i];
        else if (!strcmp(argv[i], "--control"))
            control = true;
        else {
            fprintf(stderr, "usage: walcast kafka [--brokers N] [--partitions N] [--topic NAME]... [--control]\n");
            return 2;
        }
    }
    if (brokers < 1 || brokers > 16 || partitions < 1 || partitions > 1000) {
        fprintf(stderr, "walcast kafka: --brokers must be 1-16 and --partitions 1-1000\n");
        return 2;
    }
    char err[512];
    char *bootstrap = NULL;
    rd_kafka_t *rk = kcli_mock_start_rk(brokers, &bootstrap, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "walcast kafka: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(rk);
    for (int i = 0; i < ntopics; i++)
        rd_kafka_mock_topic_create(mc, topics[i], partitions, brokers < 3 ? brokers : 3);
    printf("bootstrap.servers=%s\n", bootstrap);
    fflush(stdout);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mock_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    log_info("embedded Kafka running (in memory, not durable)", "bootstrap.servers=%s brokers=%d", bootstrap, brokers);
    char line[512];
    size_t have = 0;
    while (!mock_stop) {
        if (!control) {
            usleep(100 * 1000);
            continue;
        }
        /* fault injection for tests: one command per line on stdin */
        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        ssize_t n = read(0, line + have, sizeof line - 1 - have);
        if (n <= 0) {
            control = false;
            continue;
        }
        have += (size_t)n;
        line[have] = 0;
        char *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = 0;
            mock_command(mc, line);
            size_t rest = have - (size_t)(nl + 1 - line);
            memmove(line, nl + 1, rest + 1);
            have = rest;
        }
        if (have == sizeof line - 1)
            have = 0;
    }
    log_info("embedded Kafka stopping", "%s", "");
    rd_kafka_destroy(rk);
    free(bootstrap);
    return 0;
}
