/* main.c: the walcast command line: `run` (Kafka Connect standalone style), `kafka` (standalone
 * embedded Kafka), `version`. Signal handlers only set a flag; each connector runs in its own thread. */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "agent/cfgprov.h"
#include "agent/check.h"
#include "agent/cluster.h"
#include "agent/config.h"
#include "agent/connector.h"
#include "agent/cstore.h"
#include "agent/http.h"
#include "agent/ktopic.h"
#include "agent/dashboard.h"
#include "agent/metrics.h"
#include "agent/rest.h"
#include "agent/sinkoffs.h"
#include "agent/worker.h"
#include "agent/log.h"
#include "schemas/buf.h"
#include "agent/kafka_cli.h"
#include "agent/publisher.h"
#include "agent/replication.h"
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
            "                                                 connector.class is Debezium's JdbcSinkConnector or\n"
            "                                                 MongoDbSinkConnector apply topics into PostgreSQL,\n"
            "                                                 MariaDB/MySQL or MongoDB (group connect-<name>)\n"
            "  walcast run WORKER_FILE CONNECTOR_FILE...      the same in Connect standalone's order: a first file with\n"
            "                                                 bootstrap.servers and no connector.class is the worker\n"
            "  walcast kafka [--brokers N] [--partitions N] [--topic NAME]... [--control]\n"
            "                                                 standalone embedded Kafka (librdkafka mock cluster);\n"
            "                                                 prints bootstrap.servers=HOST:PORT first; --control\n"
            "                                                 reads fault-injection commands on stdin (tests)\n"
            "  walcast check [--worker FILE] [--timeout-ms MS] CONNECTOR_FILE...\n"
            "                                                 check each connector's configuration and what it needs\n"
            "                                                 from PostgreSQL, Kafka, the registry and the targets: one\n"
            "                                                 line per prerequisite, OK or the fix; exit 0 when ready\n"
            "  walcast version\n"
            "  walcast --help\n"
            "\n"
            "Worker keys: bootstrap.servers (default: embedded, an in-memory Kafka started in this process),\n"
            "offset.storage.topic, producer.* (librdkafka settings). Set WALCAST_LOG=debug for more detail.\n"
            "\n"
            "Source connector keys: Debezium's PostgreSQL connector's (README \"Connector keys\"), and walcast's own,\n"
            "e.g. walcast.encode.threads=1 (experimental, default 0): threads that run the transforms and the converter on the stream beside\n"
            "the one that reads and decodes it, records sent in stream order (0: the reading thread encodes).\n"
            "\n"
            "Sink keys (connector.class=io.debezium.connector.jdbc.JdbcSinkConnector, or\n"
            "io.debezium.connector.mongodb.MongoDbSinkConnector; README \"Sinks\" has the table), default after =:\n"
            "  name, topics | topics.regex                  required; the consumer group is connect-<name>\n"
            "  connection.url                               JDBC target: jdbc:postgresql://, jdbc:mariadb://, jdbc:mysql://\n"
            "  connection.username (connection.user), connection.password   JDBC login (never logged)\n"
            "  mongodb.connection.string, sink.database     MongoDB target: mongodb:// URI and database\n"
            "  insert.mode=insert|update|upsert   delete.enabled=false   truncate.enabled=false\n"
            "  primary.key.mode=none|kafka|record_key|record_value (MongoDB: record_key)   primary.key.fields\n"
            "  collection.name.format=${topic} (table.name.format)   quote.identifiers=false   batch.size=500\n"
            "  schema.evolution=none|basic\n"
            "  errors.tolerance=none|all   errors.deadletterqueue.topic.name\n"
            "  errors.deadletterqueue.context.headers.enable=false   errors.deadletterqueue.topic.replication.factor=3\n"
            "  conflict.policy=source_wins|newer_wins|target_wins|error   conflict.policy.<table>\n"
            "  conflict.log.enabled=false   walcast.version.column=__walcast_version\n"
            "  walcast.origin.name=walcast_<name>   walcast.retry.backoff.max.ms=30000\n"
            "  unavailable.value.placeholder=__debezium_unavailable_value\n"
            "  value.converter.schema.registry.url, value.converter.basic.auth.user.info   Avro input (else the\n"
            "  key.converter.schema.registry.url, key.converter.basic.auth.user.info); JSON input must carry its\n"
            "                                               schemas for JDBC targets (schemaless records are refused)\n"
            "  header.converter                             StringConverter: headers reach the transforms as strings\n"
            "                                               (else typed as SimpleHeaderConverter types them)\n"
            "  transforms, predicates                       run after decoding, before applying (unwrapped rows too)\n"
            "  consumer.override.*                          librdkafka consumer settings over the worker's consumer.*\n"
            "  tasks.max=1                                  tasks (consumers of connect-<name>) sharing the partitions\n",
            WALCAST_VERSION);
}

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

/* What each connector's thread runs (worker.c's wrk_run_fn): the config is checked again here because
 * the worker's converters are inherited at start, as in Connect. */
typedef struct runner {
    const cfg_map_t *wm;
    const worker_config_t *w;
    wrk_t *wk;                 /* set before any connector starts */
} runner_t;

/* One task of a sink with tasks.max > 1: its own thread, consumer, target session and figures. */
typedef struct sink_task {
    pthread_t th;
    sk_config_t cfg;                 /* the sink's, shallow, with task (and origin_name) its own */
    char *origin;                    /* this task's replication origin (owned), NULL: the sink's */
    const sk_kafka_t *k;
    volatile sig_atomic_t stop;
    volatile sig_atomic_t done;
    int rc;
    char err[1024];
} sink_task_t;

static void *sink_task_main(void *arg)
{
    pthread_setname_np(pthread_self(), "walcast-sink");   /* in top -H and perf's per-thread figures */
    sink_task_t *t = arg;
    met_sink_t *ms = met_sink_open_task(t->cfg.name, t->cfg.task);
    t->rc = sk_run(&t->cfg, t->k, &ms->st, &t->stop, t->err, sizeof t->err) == WC_OK ? 0 : -1;
    met_sink_close(ms);
    t->done = 1;
    return NULL;
}

/* Runs the tasks of sink sc in mine (bit n: task n; in a cluster the others run on other workers), each a
 * member of group connect-<name> (Kafka's group splits the partitions between them, each task stores the
 * offsets of its own), until *stop or one task fails: then every task here stops cleanly and the sink
 * reports that task's error (walcast's tasks of one connector on one worker fail together). A replication
 * origin is held by one session at a time, so task n > 0 uses <origin>_<n> (walcast.skip.origins's default
 * walcast.* covers them). */
static int run_sink_tasks(const sk_config_t *sc, const sk_kafka_t *k, uint64_t mine, volatile sig_atomic_t *stop,
                          char *err, size_t errlen)
{
    int n = 0, started = 0, rc = 0;
    sink_task_t *t = xcalloc((size_t)sc->tasks_max, sizeof *t);
    for (int id = 0; id < sc->tasks_max; id++) {
        if (!(mine & ((uint64_t)1 << id)))
            continue;
        int i = n++;
        t[i].cfg = *sc;
        t[i].cfg.task = id;
        t[i].k = k;
        if (id > 0 && sc->origin_name) {
            t[i].origin = xmalloc(strlen(sc->origin_name) + 16);
            sprintf(t[i].origin, "%s_%d", sc->origin_name, id);
            t[i].cfg.origin_name = t[i].origin;
        }
    }
    for (; started < n; started++)
        if (pthread_create(&t[started].th, NULL, sink_task_main, &t[started])) {
            snprintf(err, errlen, "cannot start thread of task %d of sink %s", t[started].cfg.task, sc->name);
            rc = -1;
            break;
        }
    bool ended = rc < 0;
    while (!ended && !*stop) {
        for (int i = 0; i < started && !ended; i++)
            ended = t[i].done;
        if (!ended) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    for (int i = 0; i < started; i++)
        t[i].stop = 1;
    for (int i = 0; i < started; i++) {
        pthread_join(t[i].th, NULL);
        if (t[i].rc < 0 && rc == 0) {
            snprintf(err, errlen, "task %d: %s", t[i].cfg.task, t[i].err);
            rc = -1;
        }
    }
    for (int i = 0; i < n; i++)
        free(t[i].origin);
    free(t);
    return rc;
}

/* A sink's dead-letter topic, created as Kafka Connect creates it when its task starts (one partition,
 * errors.deadletterqueue.topic.replication.factor, the broker's cleanup.policy) unless it exists: a refusal the
 * user must fix (a replication factor above the brokers) fails the connector, as in Connect. Kafka not answering
 * is said and left to the first dead letter (the broker's auto-creation), so that a sink does not fail for it. */
static int dlq_ensure(const worker_config_t *w, const sk_config_t *sc, char *err, size_t errlen)
{
    ktop_create_t c = { .key = "errors.deadletterqueue.topic.name", .partitions = 1,
                        .replication = sc->dlq_replication_factor,
                        .replication_key = "errors.deadletterqueue.topic.replication.factor", .plain = true,
                        .where = "the connector's config" };
    char e[1024];
    ktop_ensured_t made = ktop_ensure_new(w->bootstrap_servers, &w->producer, sc->dlq_topic, &c, 10000, e, sizeof e);
    if (made == KTOP_FAILED) {
        snprintf(err, errlen, "cannot set up the dead-letter topic: %s", e);
        return -1;
    }
    if (made == KTOP_NO_ANSWER)
        log_warn("the dead-letter topic could not be made at start; it is asked for again at the first dead letter",
                 "connector=%s topic=%s error=\"%s\"", log_esc(sc->name), log_esc(sc->dlq_topic), log_esc(e));
    return 0;
}

static int run_connector(void *ctx, const cfg_map_t *config, const wc_topic_hook_t *topics, volatile sig_atomic_t *stop,
                         char *err, size_t errlen)
{
    runner_t *r = ctx;
    cfg_map_t m = { 0 };
    int rc = -1;
    cfg_map_copy(&m, config);
    /* config providers: resolved in this copy only, so the stored config keeps ${provider:path:key} */
    if (cfgprov_resolve(r->wm, &m, err, errlen) < 0)
        goto out;
    cfg_inherit_converters(r->wm, &m);
    if (cfg_is_sink(&m)) {
        sk_config_t sc;
        if (cfg_sink_parse(&m, &sc, err, errlen) == 0) {
            const char **cp = map_pairs(&r->w->consumer), **pp = map_pairs(&r->w->producer);
            sk_kafka_t k = { .bootstrap = r->w->bootstrap_servers, .consumer_props = cp,
                             .nconsumer_props = r->w->consumer.n, .producer_props = pp,
                             .nproducer_props = r->w->producer.n, .topics = *topics };
            if (sc.dlq_topic && dlq_ensure(r->w, &sc, err, errlen) < 0) {
                free(cp);
                free(pp);
                cfg_sink_free(&sc);
                goto out;
            }
            if (topics->started)   /* a sink's task is RUNNING as it starts (its offsets are in its target) */
                topics->started(topics->ctx);
            uint64_t mine = r->wk ? wrk_tasks_mine(r->wk, sc.name) : ~(uint64_t)0;
            if (sc.tasks_max > 1 || !(mine & 1)) {
                rc = run_sink_tasks(&sc, &k, mine, stop, err, errlen);
            } else {
                met_sink_t *ms = met_sink_open(sc.name);
                rc = sk_run(&sc, &k, &ms->st, stop, err, errlen) == WC_OK ? 0 : -1;
                met_sink_close(ms);
            }
            free(cp);
            free(pp);
            cfg_sink_free(&sc);
        }
    } else {
        conn_config_t cc;
        if (cfg_connector_parse(&m, &cc, err, errlen) == 0) {
            cc.topics = *topics;
            rc = conn_run(&cc, r->w, stop, err, errlen) == 0 ? 0 : -1;
            cfg_connector_free(&cc);
        }
    }
out:
    cfg_map_free(&m);
    return rc;
}

/* rest_check_fn: walcast check's prerequisites (configuration, then the servers) for config/validate. */
static int rest_check(void *ctx, const cfg_map_t *config, cfg_map_t *errors)
{
    runner_t *r = ctx;
    chk_list_t l = { 0 };
    chk_opts_t o = { .offline = false, .timeout_ms = 5000 };
    chk_connector(r->wm, r->w, config, &o, &l);
    int n = 0;
    for (size_t i = 0; i < l.n; i++) {
        const chk_result_t *c = &l.v[i];
        if (c->ok)
            continue;
        buf_t b;
        buf_init(&b);
        const char *was = cfg_get(errors, c->key ? c->key : "connector.class");
        if (was)
            buf_printf(&b, "%s\n", was);
        buf_printf(&b, "%s%s%s", c->message, c->fix ? "; fix: " : "", c->fix ? c->fix : "");
        cfg_map_set(errors, c->key && *c->key ? c->key : "connector.class", buf_cstr(&b));
        buf_free(&b);
        n++;
    }
    chk_list_free(&l);
    return n;
}

/* cst_owns_fn over the worker: a status not written in time is sent again only while it still runs that. */
static bool store_owns(void *ctx, const char *name, int task)
{
    return wrk_runs(ctx, name, task);
}

/* Connect's config and status topics under the worker: the connectors they hold are created (those
 * walcast cannot run are listed FAILED and left as they are), then every change is kept there. */
static cst_t *store_open(wrk_t *wk, const cfg_map_t *wm, const worker_config_t *w, char *err, size_t errlen)
{
    cst_t *store = cst_open(wm, w, err, errlen);
    cst_conn_t *cv = NULL;
    size_t cn = 0;
    if (!store || cst_load(store, &cv, &cn, err, errlen) < 0) {
        cst_free(store);
        return NULL;
    }
    if (cst_load_topics(store, wk, err, errlen) < 0) {
        cst_conns_free(cv, cn);
        cst_free(store);
        return NULL;
    }
    wrk_store_t ws;
    cst_set_owner(store, store_owns, wk);
    cst_store(store, &ws);
    wrk_set_store(wk, &ws);
    for (size_t i = 0; i < cn; i++) {
        char verr[2048], trace[2300];
        bool sink, created;
        const char *cls = cfg_get(&cv[i].config, "connector.class");
        if (wrk_validate(wk, &cv[i].config, &sink, verr, sizeof verr) < 0) {
            if (cls && strcmp(cls, "io.debezium.connector.postgresql.PostgresConnector") && !cfg_is_sink(&cv[i].config))
                snprintf(trace, sizeof trace, "walcast does not run connector.class %s; the connector is kept in the config "
                         "topic as it is (run it on Kafka Connect, or delete it here)", cls);
            else
                snprintf(trace, sizeof trace, "the stored configuration is invalid: %s; correct it with PUT /connectors/%s/config",
                         verr, cv[i].name);
            wrk_adopt_failed(wk, cv[i].name, &cv[i].config, cv[i].target, trace);
        } else if (wrk_put(wk, cv[i].name, &cv[i].config, cv[i].target, true, &created, verr, sizeof verr) != WRK_OK) {
            log_error("a connector of the config topic could not be started", "connector=%s error=\"%s\"", cv[i].name,
                      log_esc(verr));
        }
    }
    log_info("connectors read from the config topic", "count=%zu", cn);
    cst_conns_free(cv, cn);
    return store;
}

/* The REST API's listener settings from Connect's worker keys. */
/* Connect's worker id: the first listener's host:port (this host's name when it listens on all). */
static void worker_id_of(const char *listeners, char *out, size_t outlen)
{
    char url[512], host[256], e[256];
    bool https;
    int port = 8083;
    snprintf(url, sizeof url, "%s", listeners && *listeners ? listeners : "http://127.0.0.1:8083");
    url[strcspn(url, ", ")] = 0;
    if (http_listener_parse(url, &https, host, sizeof host, &port, e, sizeof e) < 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (!host[0] && gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "localhost");
    snprintf(out, outlen, "%s:%d", host, port);
}

static http_server_t *rest_start(const cfg_map_t *wm, rest_t *rs, char *err, size_t errlen)
{
    const char *listeners = cfg_get(wm, "listeners");
    if (!listeners)
        listeners = "http://127.0.0.1:8083";
    const char *pem = cfg_get(wm, "listeners.https.ssl.keystore.location");
    if (!pem)
        pem = cfg_get(wm, "ssl.keystore.location");
    const char *type = cfg_get(wm, "listeners.https.ssl.keystore.type");
    if (!type)
        type = cfg_get(wm, "ssl.keystore.type");
    if (pem && type && strcasecmp(type, "PEM")) {
        snprintf(err, errlen, "ssl.keystore.type=%s: walcast reads PEM keystores only (one file with the private key and the "
                 "certificate chain; convert a PKCS12 store with: openssl pkcs12 -in store.p12 -nodes -out store.pem)", type);
        return NULL;
    }
    const char *kp = cfg_get(wm, "listeners.https.ssl.key.password");
    if (!kp)
        kp = cfg_get(wm, "ssl.key.password");
    const char *auth = cfg_get(wm, "walcast.rest.basic.auth.credentials");
    const char *ext = cfg_get(wm, "rest.extension.classes");
    if (ext && strstr(ext, "BasicAuthSecurityRestExtension") && !auth) {
        snprintf(err, errlen, "rest.extension.classes names BasicAuthSecurityRestExtension: set walcast.rest.basic.auth.credentials "
                 "to its credentials file (the file= of the JAAS PropertyFileLoginModule: user=password lines)");
        return NULL;
    }
    http_config_t hc = { .listeners = listeners, .tls_pem_file = pem, .tls_key_password = kp, .auth_file = auth };
    http_route_t routes[] = { { "/", rest_handle, rs }, { "/metrics", met_handle, rs->worker },
                              { "/dashboard", dash_handle, rs->worker } };
    return http_start(&hc, routes, sizeof routes / sizeof *routes, err, errlen);
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
    if (!nfiles && !worker_file) {
        fprintf(stderr, "walcast run: give connector files (.properties or .json), or --worker FILE to start a worker "
                        "that takes connectors through its REST API\n");
        return 2;
    }
    char err[2048];
    int rc = 1;
    cfg_map_t wm = { 0 };
    worker_config_t w = { 0 };
    void *mock = NULL;
    wrk_t *wk = NULL;
    http_server_t *http = NULL;
    cst_t *store = NULL;
    clu_t *clu = NULL;
    rest_t rs = { 0 };
    if (!worker_file && nfiles) {
        /* Connect standalone's order: `walcast run worker.properties [connector.properties…]` */
        if (cfg_load_file(files[0], &wm, err, sizeof err) == 0 && cfg_is_worker(&wm)) {
            worker_file = files[0];
            memmove(files, files + 1, (size_t)--nfiles * sizeof *files);
            log_info("the first file is a worker file (Connect standalone's order)", "file=%s", worker_file);
        }
        cfg_map_free(&wm);
    }
    if (worker_file && (cfg_load_file(worker_file, &wm, err, sizeof err) < 0 || cfgprov_resolve(&wm, &wm, err, sizeof err) < 0)) {
        log_msg(LOG_FATAL, "invalid worker configuration", "error=\"%s\"", log_esc(err));
        goto out;
    }
    if (cfg_worker_parse(&wm, &w, err, sizeof err) < 0) {
        log_msg(LOG_FATAL, "invalid worker configuration", "file=%s error=\"%s\"", worker_file ? worker_file : "-",
                log_esc(err));
        goto out;
    }
    /* a worker without connector files, or with listeners set, is a Connect worker driven through REST:
     * a failed connector is reported FAILED and the others go on. Connector files alone keep the old
     * contract: a failure ends the process with exit code 1. */
    bool rest_on = !nfiles || cfg_get(&wm, "listeners");
    cfg_map_t *conns = xcalloc((size_t)nfiles + 1, sizeof *conns);
    for (int i = 0; i < nfiles; i++) {
        if (cfg_load_file(files[i], &conns[i], err, sizeof err) < 0) {
            log_msg(LOG_FATAL, "invalid connector configuration", "file=%s error=\"%s\"", files[i], log_esc(err));
            goto out_conns;
        }
    }
    if (!strcmp(w.bootstrap_servers, "embedded")) {
        char *bs = NULL;
        mock = kcli_mock_start(1, &bs, err, sizeof err);
        if (!mock) {
            log_msg(LOG_FATAL, "cannot start the embedded Kafka", "error=\"%s\"", log_esc(err));
            goto out_conns;
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
    runner_t runner = { &wm, &w, NULL };
    rs.check = rest_check;
    rs.check_ctx = &runner;
    char worker_id[300];
    worker_id_of(cfg_get(&wm, "listeners"), worker_id, sizeof worker_id);
    wk = wrk_new(&wm, worker_id, run_connector, &runner);
    runner.wk = wk;
    if (!rest_on)
        wrk_set_fail_stop(wk, &stop_flag);
    rs.worker = wk;
    /* in a cluster, the config topic's connectors wait for this worker's first assignment */
    if (rest_on && !mock && clu_enabled(&wm))
        wrk_set_owner(wk, clu_owns_nothing, NULL);
    /* the config topic's connectors are in place before the first request is answered */
    if (rest_on && !mock && !(store = store_open(wk, &wm, &w, err, sizeof err))) {
        log_msg(LOG_FATAL, "cannot use Kafka Connect's config and status topics", "error=\"%s\"", log_esc(err));
        goto out_conns;
    }
    /* several workers with this group.id share the connectors (docs/architecture.md, "Cluster") */
    if (store && clu_enabled(&wm)) {
        char app[128];
        clu_application_name(worker_id, app, sizeof app);
        repl_set_identity(app, clu_holder_gone);
        if (!(clu = clu_open(&wm, &w, store, wk, err, sizeof err))) {
            log_msg(LOG_FATAL, "cannot join the cluster", "error=\"%s\"", log_esc(err));
            goto out_conns;
        }
    }
    if (store)
        rs.offsets = (rest_offsets_t){ store, cst_offsets_get, cst_offsets_alter, cst_offsets_reset };
    rs.sink_offsets = (rest_sink_offsets_t){ &wm, so_get, so_alter, so_reset };
    if (rest_on && mock)
        log_info("embedded Kafka: connector configs are not kept (config.storage.topic needs a real Kafka)", "worker_id=%s",
                 worker_id);
    if (rest_on) {
        if (!(http = rest_start(&wm, &rs, err, sizeof err))) {
            log_msg(LOG_FATAL, "cannot start the REST API", "error=\"%s\"", log_esc(err));
            goto out_conns;
        }
        printf("rest=http%s://%s\n", strstr(cfg_get(&wm, "listeners") ? cfg_get(&wm, "listeners") : "", "https://") ? "s" : "",
               http_listener_addr(http, 0));
        fflush(stdout);
        met_sampler_start();   /* the dashboard's history: a sample a second */
    }
    for (int i = 0; i < nfiles; i++) {
        const char *name = cfg_get(&conns[i], "name");
        bool created;
        if (!cfg_get(&conns[i], "connector.class"))   /* a file without a class has always meant the source */
            cfg_map_set(&conns[i], "connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        /* with the config topic, a file's connector replaces the stored one of its name (Connect standalone
         * creates its files' connectors at each start) */
        wrk_rc_t wr = name ? wrk_put(wk, name, &conns[i], WRK_STARTED, store != NULL, &created, err, sizeof err) : WRK_INVALID;
        if (!name)
            snprintf(err, sizeof err, "missing required configuration key name");
        if (wr != WRK_OK) {
            log_msg(LOG_FATAL, "invalid connector configuration", "file=%s error=\"%s\"", files[i], log_esc(err));
            goto out_conns;
        }
    }
    bool failed = false;
    while (!stop_flag) {
        size_t active = wrk_active(wk, &failed);
        if (!rest_on && !active)
            break;   /* every connector ended by itself (snapshot.mode=initial_only) */
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
    }
    wrk_active(wk, &failed);
    rc = failed && !rest_on ? 1 : 0;
out_conns:
    http_stop(http);   /* no request reaches the worker from here on */
    http = NULL;
    met_sampler_stop();
    clu_stop(clu);     /* no rebalance reaches the worker from here on */
    if (store)
        cst_set_owner(store, NULL, NULL);   /* the status producer's thread asks the worker no more: it is freed next */
    if (wk) {
        wrk_free(wk);  /* each connector ends its Kafka transaction and releases its slot */
        wk = NULL;
    }
    clu_free(clu);     /* then the group is left: the other workers take the connectors over at once */
    cst_free(store);
    for (int i = 0; i < nfiles; i++)
        cfg_map_free(&conns[i]);
    free(conns);
    log_info("walcast stopped", "exit_code=%d", rc);
out:
    kcli_mock_stop(mock);
    cfg_worker_free(&w);
    cfg_map_free(&wm);
    return rc;
}

/* glibc's malloc, set for the process (before any thread exists).
 * No fastbins: librdkafka allocates ~6 small blocks per record (its headers, README) and frees them all at
 * once with a batch's delivery reports; beyond glibc's per-thread cache (7 a size) they went to the fastbins,
 * and the next record's message block (~3.2 KB with schemas, a "large" request) merged every one of them
 * first (malloc_consolidate), 2-3% of the process's samples in the read thread. Without fastbins those frees
 * merge as they come and the small requests are served from the merged chunks.
 * The heap thresholds stay glibc's: fixed ones (8 MB mmap, 16 MB trim) kept librdkafka's 4 MB batch buffers
 * from being faulted in again for every batch (broker thread 2.58 -> 2.06 CPU s per million rows), but every
 * producer's broker thread kept them in its own arena: a 10M-row snapshot with 2 readers peaked at 100 MB
 * against 87 MB (README, Batching).
 * A user's GLIBC_TUNABLES malloc settings win. */
static void tune_malloc(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc."))
        return;
    mallopt(M_MXFAST, 0);
}

int main(int argc, char **argv)
{
    tune_malloc();
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
