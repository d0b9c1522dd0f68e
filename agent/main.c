/* main.c: the walcast command line: `run` (Kafka Connect standalone style), `kafka` (standalone
 * embedded Kafka), `version`. Signal handlers only set a flag; each connector runs in its own thread. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/check.h"
#include "agent/config.h"
#include "agent/connector.h"
#include "agent/log.h"
#include "schemas/buf.h"
#include "agent/kafka_cli.h"
#include "agent/publisher.h"
#include "sinks/apply.h"

#include "agent/version.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "walcast %s: PostgreSQL change data capture, Debezium-compatible, to Kafka\n"
            "\n"
            "usage:\n"
            "  walcast run [--worker FILE] CONNECTOR_FILE...   stream each connector (.properties or .json); files whose\n"
            "                                                 connector.class is Debezium's JdbcSinkConnector apply\n"
            "                                                 topics into PostgreSQL/MariaDB (group connect-<name>)\n"
            "  walcast kafka [--brokers N] [--partitions N] [--topic NAME]... [--control]\n"
            "                                                 standalone embedded Kafka (librdkafka mock cluster);\n"
            "                                                 prints bootstrap.servers=HOST:PORT first; --control\n"
            "                                                 reads fault-injection commands on stdin (tests)\n"
            "  walcast check [--worker FILE] CONNECTOR_FILE... check each connector's configuration and what it needs\n"
            "                                                 from PostgreSQL, Kafka, the registry and the targets: one\n"
            "                                                 line per prerequisite, OK or the fix; exit 0 when ready\n"
            "  walcast version\n"
            "  walcast --help\n"
            "\n"
            "Worker keys: bootstrap.servers (default: embedded, an in-memory Kafka started in this process),\n"
            "offset.storage.topic, producer.* (librdkafka settings). Set WALCAST_LOG=debug for more detail.\n",
            WALCAST_VERSION);
}

typedef struct job {
    bool sink;                    /* a JDBC/MongoDB sink connector, else a source connector */
    conn_config_t cfg;
    sk_config_t scfg;
    worker_config_t *w;
    pthread_t thread;
    int rc;
} job_t;

/* Flattens a cfg_map_t into key, value, key, value, ... pointers (owned by the map). */
static const char **map_pairs(const cfg_map_t *m)
{
    const char **v = xcalloc(2 * m->n + 1, sizeof *v);
    for (size_t i = 0; i < m->n; i++) {
        v[2 * i] = m->kv[i].key;
        v[2 * i + 1] = m->kv[i].value;
    }
    return v;
}

static void *job_main(void *arg)
{
    job_t *j = arg;
    if (j->sink) {
        const char **cp = map_pairs(&j->w->consumer), **pp = map_pairs(&j->w->producer);
        sk_kafka_t k = { .bootstrap = j->w->bootstrap_servers, .consumer_props = cp,
                         .nconsumer_props = j->w->consumer.n, .producer_props = pp,
                         .nproducer_props = j->w->producer.n };
        j->rc = sk_run(&j->scfg, &k, &stop_flag);
        free(cp);
        free(pp);
    } else
        j->rc = conn_run(&j->cfg, j->w, &stop_flag);
    /* one failed connector stops the process, like a standalone worker with a failed task */
    if (j->rc != 0)
        stop_flag = 1;
    return NULL;
}

static int cmd_run(int argc, char **argv)
{
    const char *worker_file = NULL;
    const char *files[64];
    int nfiles = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--worker") && i + 1 < argc)
            worker_file = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "walcast run: unknown option %s\n", argv[i]);
            return 2;
        } else if (nfiles < 64)
            files[nfiles++] = argv[i];
    }
    if (!nfiles) {
        fprintf(stderr, "walcast run: give at least one connector file (.properties or .json)\n");
        return 2;
    }
    char err[1024];
    int rc = 1;
    cfg_map_t wm = { 0 };
    worker_config_t w = { 0 };
    job_t *jobs = xcalloc((size_t)nfiles, sizeof *jobs);
    int njobs = 0;
    void *mock = NULL;
    int first = 0;
    if (!worker_file) {
        /* Connect standalone's order: `walcast run worker.properties connector.properties…` */
        if (cfg_load_file(files[0], &wm, err, sizeof err) == 0 && cfg_is_worker(&wm)) {
            if (nfiles < 2) {
                log_msg(LOG_FATAL, "only a worker file was given", "file=%s error=\"it has bootstrap.servers and no "
                        "connector.class; give the connector files after it\"", files[0]);
                goto out;
            }
            worker_file = files[first++];
            log_info("the first file is a worker file (Connect standalone's order)", "file=%s", worker_file);
        } else {
            cfg_map_free(&wm);
        }
    } else if (cfg_load_file(worker_file, &wm, err, sizeof err) < 0) {
        log_msg(LOG_FATAL, "invalid worker configuration", "error=\"%s\"", log_esc(err));
        goto out;
    }
    if (cfg_worker_parse(&wm, &w, err, sizeof err) < 0) {
        log_msg(LOG_FATAL, "invalid worker configuration", "file=%s error=\"%s\"", worker_file ? worker_file : "-",
                log_esc(err));
        goto out;
    }
    for (int i = first; i < nfiles; i++) {
        job_t *jb = &jobs[i - first];
        cfg_map_t m = { 0 };
        int prc = cfg_load_file(files[i], &m, err, sizeof err);
        if (prc == 0 && cfg_is_sink(&m)) {
            jb->sink = true;
            cfg_inherit_converters(&wm, &m);
            prc = cfg_sink_parse(&m, &jb->scfg, err, sizeof err);
        } else if (prc == 0) {
            cfg_inherit_converters(&wm, &m);
            prc = cfg_connector_parse(&m, &jb->cfg, err, sizeof err);
        }
        if (prc < 0) {
            log_msg(LOG_FATAL, "invalid connector configuration", "file=%s error=\"%s\"", files[i], log_esc(err));
            cfg_map_free(&m);
            njobs = i - first;
            goto out;
        }
        cfg_map_free(&m);
        jb->w = &w;
        njobs = i - first + 1;
    }
    if (!strcmp(w.bootstrap_servers, "embedded")) {
        char *bs = NULL;
        mock = kcli_mock_start(1, &bs, err, sizeof err);
        if (!mock) {
            log_msg(LOG_FATAL, "cannot start the embedded Kafka", "error=\"%s\"", log_esc(err));
            goto out;
        }
        printf("bootstrap.servers=%s\n", bs);
        fflush(stdout);
        log_info("embedded Kafka started (in memory, not durable; point bootstrap.servers at a real Kafka for production)",
                 "bootstrap.servers=%s", bs);
        free(w.bootstrap_servers);
        w.bootstrap_servers = bs;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < njobs; i++)
        pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i]);
    rc = 0;
    for (int i = 0; i < njobs; i++) {
        pthread_join(jobs[i].thread, NULL);
        if (jobs[i].rc)
            rc = 1;
    }
    log_info("walcast stopped", "exit_code=%d", rc);
out:
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].sink)
            cfg_sink_free(&jobs[i].scfg);
        else
            cfg_connector_free(&jobs[i].cfg);
    }
    free(jobs);
    kcli_mock_stop(mock);
    cfg_worker_free(&w);
    cfg_map_free(&wm);
    return rc;
}

int main(int argc, char **argv)
{
    const char *lvl = getenv("WALCAST_LOG");
    if (lvl && !strcmp(lvl, "debug"))
        log_set_level(LOG_DEBUG);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
        printf("walcast %s\n", WALCAST_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "check"))
        return chk_main(argc - 2, argv + 2);
    if (!strcmp(argv[1], "kafka"))
        return kcli_main(argc - 2, argv + 2);
    fprintf(stderr, "walcast: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
