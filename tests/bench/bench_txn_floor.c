/* bench_txn_floor.c: the floor that Kafka's transaction protocol, as librdkafka speaks it, puts under
 * walcast's commit -> visible latency. A minimal transactional producer does nothing but
 * begin / produce one record / commit, paced at RATE transactions a second (or back to back when a commit
 * takes longer than the pace), while a read_committed consumer in the same process reads the records and
 * takes, for each, the time from just before its produce to its arrival. Prints one line:
 *   floor: TX tx in S s (R tx/s): delivered p50 P99 ms, then commit p50 P99 ms, produce->visible p50 P99 ms
 * (delivered: produce to its delivery report, which includes registering the partition with the
 * transaction coordinator; commit: EndTxn alone)
 * With PRODUCERS > 1, the transactions take turns over that many transactional producers, as walcast's do
 * (agent/txn.c, TXN_PRODUCERS): the coordinator answers EndTxn before it has written the transaction's
 * markers, and a producer that begins its next transaction at once is refused with CONCURRENT_TRANSACTIONS
 * until they are written; librdkafka 2.0.2 then retries AddPartitionsToTxn after a fixed 20 ms. One producer
 * measures the floor with that race, several without it. The line then says "floor (N producers)".
 * scripts/bench.sh prints it beside walcast's and Debezium's latency, on the same broker.
 * Usage: bench_txn_floor BOOTSTRAP TOPIC [seconds=10] [rate=1000] [producers=1] */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_SAMPLES 2000000
#define MAX_PRODUCERS 8

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_txn_floor: %s: %s\n", what, detail);
    exit(1);
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK)
        die(k, err);
}

static void check(rd_kafka_error_t *e, const char *what)
{
    if (e) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        die(what, msg);
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err)
        die("delivery", rd_kafka_err2str(m->err));
}

struct consumer {
    const char *bootstrap, *topic;
    atomic_bool ready, stop;
    double *lat;
    atomic_size_t n;
};

static void *consume(void *arg)
{
    struct consumer *c = arg;
    char err[256], group[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(group, sizeof group, "bench-txn-floor-%d", (int)getpid());
    set(conf, "bootstrap.servers", c->bootstrap);
    set(conf, "group.id", group);
    set(conf, "isolation.level", "read_committed");
    set(conf, "enable.auto.commit", "false");
    set(conf, "fetch.wait.max.ms", "10");
    set(conf, "fetch.error.backoff.ms", "10");
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk)
        die("consumer", err);
    /* partition 0 from its end: only what the producer writes from now on */
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, c->topic, 0)->offset = RD_KAFKA_OFFSET_END;
    if (rd_kafka_assign(rk, parts))
        die("consumer", "assign failed");
    rd_kafka_topic_partition_list_destroy(parts);
    bool announced = false;
    while (!atomic_load(&c->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 20);
        if (!announced) {
            /* the end offset is fetched on the first poll; a short wait after that is enough */
            atomic_store(&c->ready, true);
            announced = true;
        }
        if (!m)
            continue;
        if (!m->err && m->len == sizeof(double)) {
            double sent;
            memcpy(&sent, m->payload, sizeof sent);
            size_t i = atomic_load(&c->n);
            if (i < MAX_SAMPLES) {
                c->lat[i] = now_ms() - sent;
                atomic_store(&c->n, i + 1);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* a transactional producer under transactional.id TID, its transactions initialised */
static rd_kafka_t *new_producer(const char *bootstrap, const char *tid)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "transactional.id", tid);
    set(conf, "linger.ms", "0");
    /* BENCH_FLOOR_CONF="k=v,k=v": producer settings to try (e.g. socket.nagle.disable=true) */
    char *extra = getenv("BENCH_FLOOR_CONF") ? strdup(getenv("BENCH_FLOOR_CONF")) : NULL, *save = NULL;
    for (char *kv = extra ? strtok_r(extra, ",", &save) : NULL; kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            die("BENCH_FLOOR_CONF", "each item must be key=value");
        *eq = '\0';
        set(conf, kv, eq + 1);
    }
    free(extra);
    /* a delivery report callback, as walcast's producer has: without one, librdkafka's flush (also the
     * one inside commit_transaction) looks at the queue only every 10 ms */
    if (!getenv("BENCH_FLOOR_NO_DR"))
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk)
        die("producer", err);
    check(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    return rk;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_txn_floor BOOTSTRAP TOPIC [seconds=10] [rate=1000] [producers=1]\n");
        return 2;
    }
    const char *bootstrap = argv[1], *topic = argv[2];
    double secs = argc > 3 ? atof(argv[3]) : 10, rate = argc > 4 ? atof(argv[4]) : 1000;
    int np = argc > 5 ? atoi(argv[5]) : 1;
    if (np < 1 || np > MAX_PRODUCERS)
        die("producers", "must be 1 to 8");
    char tid[80];
    struct consumer c = { .bootstrap = bootstrap, .topic = topic, .lat = calloc(MAX_SAMPLES, sizeof(double)) };
    double *commit = calloc(MAX_SAMPLES, sizeof(double)), *deliver = calloc(MAX_SAMPLES, sizeof(double));
    if (!c.lat || !commit || !deliver)
        die("memory", "out of memory");

    rd_kafka_t *rks[MAX_PRODUCERS];
    for (int p = 0; p < np; p++) {
        snprintf(tid, sizeof tid, "bench-txn-floor-%d/%d", (int)getpid(), p);
        rks[p] = new_producer(bootstrap, tid);
    }

    pthread_t th;
    if (pthread_create(&th, NULL, consume, &c))
        die("consumer", "cannot start its thread");
    for (int i = 0; i < 3000 && !atomic_load(&c.ready); i++)
        usleep(1000);
    usleep(200000);

    /* one warm-up transaction each: the first commit also finds the coordinator */
    for (int p = 0; p < np; p++) {
        check(rd_kafka_begin_transaction(rks[p]), "begin_transaction");
        check(rd_kafka_commit_transaction(rks[p], 30000), "commit_transaction");
    }

    size_t n = 0;
    double start = now_ms(), next = start, gap = rate > 0 ? 1000.0 / rate : 0;
    while (now_ms() - start < secs * 1000 && n < MAX_SAMPLES) {
        double t = now_ms();
        if (t < next) {
            usleep((useconds_t)((next - t) * 1000));
            t = now_ms();
        }
        next = (next + gap > t) ? next + gap : t;
        rd_kafka_t *rk = rks[n % (size_t)np];
        check(rd_kafka_begin_transaction(rk), "begin_transaction");
        rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                                  RD_KAFKA_V_VALUE(&t, sizeof t), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_END);
        if (e)
            die("produce", rd_kafka_err2str(e));
        /* delivered first (AddPartitionsToTxn, Produce), then committed (EndTxn): the two halves apart */
        double f0 = now_ms();
        if (rd_kafka_flush(rk, 30000))
            die("flush", "the record was not delivered in 30 s");
        double c0 = now_ms();
        check(rd_kafka_commit_transaction(rk, 30000), "commit_transaction");
        deliver[n] = c0 - f0;
        commit[n++] = now_ms() - c0;
    }
    double took = (now_ms() - start) / 1000;
    /* every committed record reaches the consumer; bounded wait */
    for (int i = 0; i < 10000 && atomic_load(&c.n) < n; i++)
        usleep(1000);
    atomic_store(&c.stop, true);
    pthread_join(th, NULL);
    for (int p = 0; p < np; p++)
        rd_kafka_destroy(rks[p]);

    size_t seen = atomic_load(&c.n);
    if (seen < n)
        fprintf(stderr, "bench_txn_floor: the consumer saw %zu of %zu records\n", seen, n);
    char label[32] = "floor";
    if (np > 1)
        snprintf(label, sizeof label, "floor (%d producers)", np);
    printf("%s: %zu tx in %.1f s (%.0f tx/s): delivered p50 %.2f p99 %.2f ms, then commit p50 %.2f p99 %.2f ms, "
           "produce->visible p50 %.2f p99 %.2f ms\n",
           label, n, took, (double)n / took, pct(deliver, n, 0.5), pct(deliver, n, 0.99), pct(commit, n, 0.5),
           pct(commit, n, 0.99), pct(c.lat, seen, 0.5), pct(c.lat, seen, 0.99));
    free(commit);
    free(deliver);
    free(c.lat);
    return seen < n ? 1 : 0;
}
