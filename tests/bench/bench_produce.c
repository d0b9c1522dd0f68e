/* bench_produce.c: the CPU per row of walcast's produce path alone (pub_send -> librdkafka -> a real broker), with
 * no PostgreSQL and no encoder: a steadier figure than a whole drain on a shared machine, for weighing producer
 * settings and changes to the produce function. Records shaped like the bench table's JSON-with-schemas events
 * (a ~150-byte key and a ~3.4 KB value of which ~2.7 KB is the schema, the id varying) with Debezium's four
 * context headers go through pub_send in transactions of TXN rows, each committed (pub_txn_commit_start +
 * pub_txn_commit_wait) before the next begins. Prints rows/s and CPU us per row: the process and each thread
 * (by name, /proc/self/task), and each thread's sleeps (voluntary context switches) per 1000 rows. Producer settings (librdkafka keys, as producer.* in a worker file) follow.
 * Usage: bench_produce BOOTSTRAP TOPIC [rows=200000] [txn=1000] [key=value ...] */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/publisher.h"
#include "schemas/buf.h"

static long acked, failed;

static void on_ack(void *ctx, uint64_t tag, wc_status_t st, const char *errstr)
{
    (void)ctx;
    (void)tag;
    if (st == WC_OK)
        acked++;
    else if (failed++ == 0)
        fprintf(stderr, "bench_produce: %s\n", errstr ? errstr : "delivery failed");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* utime+stime in seconds of a /proc stat file; its comm in name */
static double stat_cpu(const char *path, char *name, size_t namelen)
{
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = 0;
    char *o = strchr(line, '('), *c = strrchr(line, ')');
    if (!o || !c)
        return -1;
    snprintf(name, namelen, "%.*s", (int)(c - o - 1), o + 1);
    unsigned long ut = 0, st = 0;
    /* after ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(c + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

#define MAXN 64
static char names[MAXN][64];
static double cpu0[MAXN], cpu1[MAXN], sw0[MAXN], sw1[MAXN];
static int nnames;

static int name_slot(const char *n)
{
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i], n) == 0)
            return i;
    if (nnames == MAXN)
        return MAXN - 1;
    snprintf(names[nnames], sizeof names[0], "%s", n);
    return nnames++;
}

/* voluntary context switches of a thread (its sleeps: poll, condition waits) */
static double switches(const char *task)
{
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", task);
    FILE *f = fopen(path, "r");
    double v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
            v = atof(line + 24);
    if (f)
        fclose(f);
    return v;
}

static void threads(double *into, double *sw)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], n[64];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        double c = stat_cpu(path, n, sizeof n);
        if (c >= 0) {
            into[name_slot(n)] += c;
            sw[name_slot(n)] += switches(e->d_name);
        }
    }
    if (d)
        closedir(d);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_produce BOOTSTRAP TOPIC [rows=200000] [txn=1000] [key=value ...]\n");
        return 2;
    }
    const char *topic = argv[2];
    long rows = argc > 3 ? atol(argv[3]) : 200000, txn = argc > 4 ? atol(argv[4]) : 1000;
    worker_config_t w;
    memset(&w, 0, sizeof w);
    w.bootstrap_servers = argv[1];
    int nkv = argc > 5 ? argc - 5 : 0;
    w.producer.kv = calloc((size_t)nkv + 1, sizeof *w.producer.kv);
    for (int i = 0; i < nkv; i++) {
        char *eq = strchr(argv[5 + i], '=');
        if (!eq) {
            fprintf(stderr, "bench_produce: %s: not key=value\n", argv[5 + i]);
            return 2;
        }
        *eq = 0;
        w.producer.kv[w.producer.n].key = argv[5 + i];
        w.producer.kv[w.producer.n++].value = eq + 1;
    }
    char err[1024], txid[64];
    snprintf(txid, sizeof txid, "bench_produce-%d", (int)getpid());
    pub_t *p = pub_new(&w, "bench_produce", txid, on_ack, NULL, NULL, err, sizeof err);
    static volatile sig_atomic_t stop;
    if (!p || pub_txn_init(p, &stop, err, sizeof err) != WC_OK) {
        fprintf(stderr, "bench_produce: %s\n", err);
        return 1;
    }

    /* the bench table's event with schemas, in the converter's layout: schema text, then the payload */
    static const char field[] = "{\"type\":\"int32\",\"optional\":false,\"default\":0,\"field\":\"id\"},"
                                "{\"type\":\"int32\",\"optional\":false,\"field\":\"v\"},"
                                "{\"type\":\"string\",\"optional\":true,\"field\":\"t\"}";
    buf_t schema, key, val, okey, oval;
    buf_init(&schema), buf_init(&key), buf_init(&val), buf_init(&okey), buf_init(&oval);
    buf_printf(&schema, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"struct\",\"fields\":[%s],"
               "\"optional\":true,\"name\":\"bench.public.bench.Value\",\"field\":\"before\"},{\"type\":\"struct\","
               "\"fields\":[%s],\"optional\":true,\"name\":\"bench.public.bench.Value\",\"field\":\"after\"},",
               field, field);
    static const char *const src[] = { "version", "connector", "name", "ts_ms", "snapshot", "db", "sequence",
                                       "ts_us", "ts_ns", "schema", "table", "txId", "lsn", "xmin" };
    buf_printf(&schema, "{\"type\":\"struct\",\"fields\":[");
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++)
        buf_printf(&schema, "%s{\"type\":\"%s\",\"optional\":%s,\"field\":\"%s\"}", i ? "," : "",
                   i == 3 || i == 7 || i == 8 || i == 11 || i == 12 || i == 13 ? "int64" : "string",
                   i < 4 ? "false" : "true", src[i]);
    buf_printf(&schema, "],\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"version\":1,"
               "\"field\":\"source\"},{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
               "\"field\":\"id\"},{\"type\":\"int64\",\"optional\":false,\"field\":\"total_order\"},{\"type\":"
               "\"int64\",\"optional\":false,\"field\":\"data_collection_order\"}],\"optional\":true,\"name\":"
               "\"event.block\",\"version\":1,\"field\":\"transaction\"},{\"type\":\"string\",\"optional\":false,"
               "\"field\":\"op\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"},{\"type\":\"int64\","
               "\"optional\":true,\"field\":\"ts_us\"},{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ns\"}],"
               "\"optional\":false,\"name\":\"bench.public.bench.Envelope\",\"version\":2},\"payload\":");
    static const char *const hk[4] = { "__debezium.context.connectorLogicalName", "__debezium.context.taskId",
                                       "__debezium.context.connectorName", "__debezium.context.runId" };
    static const char *const hv[4] = { "bench", "0", "postgresql", "6f1c2a0e-3d4b-4c5e-9f60-718293a4b5c6" };
    rec_t r;
    memset(&r, 0, sizeof r);
    r.topic = topic;
    r.nheaders = 4;
    for (int i = 0; i < 4; i++)
        r.headers[i] = (rec_header_t){ .key = hk[i], .value = hv[i], .len = strlen(hv[i]) };
    char otopic[256];
    snprintf(otopic, sizeof otopic, "%s-offsets", topic);
    buf_printf(&okey, "[\"bench_produce\",{\"server\":\"bench\"}]");

    double t0 = now_s();
    threads(cpu0, sw0);
    for (long i = 0; i < rows;) {
        if (pub_txn_begin(p, err, sizeof err) != WC_OK)
            goto fail;
        for (long n = 0; n < txn && i < rows; n++, i++) {
            buf_reset(&key);
            buf_printf(&key, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,"
                       "\"default\":0,\"field\":\"id\"}],\"optional\":false,\"name\":\"bench.public.bench.Key\"},"
                       "\"payload\":{\"id\":%ld}}", i + 1);
            buf_reset(&val);
            buf_append(&val, schema.data, schema.len);
            buf_printf(&val, "{\"before\":null,\"after\":{\"id\":%ld,\"v\":%ld,\"t\":\"row %ld\"},\"source\":{"
                       "\"version\":\"3.6.1.Final\",\"connector\":\"postgresql\",\"name\":\"bench\",\"ts_ms\":"
                       "1764979200%03ld,\"snapshot\":\"false\",\"db\":\"postgres\",\"sequence\":\"[\\\"%ld\\\","
                       "\\\"%ld\\\"]\",\"ts_us\":1764979200%06ld,\"ts_ns\":1764979200%09ld,\"schema\":\"public\","
                       "\"table\":\"bench\",\"txId\":%ld,\"lsn\":%ld,\"xmin\":null},\"transaction\":null,\"op\":\"c\","
                       "\"ts_ms\":1764979201%03ld,\"ts_us\":1764979201%06ld,\"ts_ns\":1764979201%09ld}}", i + 1,
                       i + 1, i + 1, i % 1000, 50000000 + i * 120, 50000000 + i * 120 + 40, i % 1000000, i,
                       760 + i / txn, 50000000 + i * 120 + 40, i % 1000, i % 1000000, i);
            r.key = key.data;
            r.keylen = key.len;
            r.value = val.data;
            r.valuelen = val.len;
            if (pub_send(p, &r, (uint64_t)i, err, sizeof err) != WC_OK)
                goto fail;
            if (n % 1000 == 999)
                pub_poll(p, 0);
        }
        buf_reset(&oval);
        buf_printf(&oval, "{\"lsn\":%ld}", i);
        if (pub_txn_commit_start(p, otopic, &okey, &oval, err, sizeof err) != WC_OK ||
            pub_txn_commit_wait(p, err, sizeof err) != WC_OK)
            goto fail;
        pub_poll(p, 0);
    }
    pub_poll(p, 0);
    double t1 = now_s();
    threads(cpu1, sw1);
    if (failed) {
        fprintf(stderr, "bench_produce: %ld records failed\n", failed);
        return 1;
    }
    double total = 0;
    for (int i = 0; i < nnames; i++)
        total += cpu1[i] - cpu0[i];
    printf("bench_produce: %ld rows of %zu+%zu bytes in %.2f s: %.0f rows/s, CPU %.2f us/row (", rows, key.len,
           val.len, t1 - t0, (double)rows / (t1 - t0), total * 1e6 / (double)rows);
    for (int i = 0; i < nnames; i++)
        if (cpu1[i] - cpu0[i] > 0.0005 * (t1 - t0))
            printf("%s%s %.2f", i ? ", " : "", names[i], (cpu1[i] - cpu0[i]) * 1e6 / (double)rows);
    printf("); sleeps per 1000 rows:");
    for (int i = 0; i < nnames; i++)
        if (sw1[i] - sw0[i] > 0)
            printf(" %s %.0f", names[i], (sw1[i] - sw0[i]) * 1000 / (double)rows);
    printf("\n");
    pub_free(p);
    return 0;
fail:
    fprintf(stderr, "bench_produce: %s\n", err);
    return 1;
}
