/* test_metrics.c: the Prometheus text exposition of GET /metrics (agent/metrics.c): Debezium's names,
 * labels and meanings, label escaping, HELP and TYPE once per family before its samples, the worker's
 * counts, and sources that come and go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/metrics.h"

static char *render(int64_t now_ms)
{
    buf_t b;
    buf_init(&b);
    met_render(&b, NULL, now_ms);
    char *s = xstrdup(buf_cstr(&b));
    buf_free(&b);
    return s;
}

static void assert_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return;
    fail_msg("line not found: %s\nin:\n%s", line, text);
}

static void test_values(void **state)
{
    (void)state;
    met_source_t *m = met_source_open("srv");
    char *t = render(5000);
    /* before anything happened: Debezium's -1 for "no event yet", zero counts, not connected */
    assert_line(t, "debezium_metrics_MilliSecondsSinceLastEvent{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} -1");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSource{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} -1");
    assert_line(t, "debezium_metrics_Connected{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 0");
    assert_line(t, "debezium_metrics_SnapshotDurationInSeconds{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    free(t);
    atomic_store(&m->connected, 1);
    atomic_store(&m->seen, 28);
    atomic_store(&m->created, 20);
    atomic_store(&m->updated, 5);
    atomic_store(&m->deleted, 3);
    atomic_store(&m->committed_txns, 4);
    atomic_store(&m->last_event_ms, 4000);
    atomic_store(&m->behind_ms, 12);
    atomic_store(&m->snap_read, 10);
    atomic_store(&m->snap_completed, 1);
    atomic_store(&m->tables_total, 2);
    atomic_store(&m->rows_scanned, 10);
    atomic_store(&m->snap_started_ms, 1000);
    atomic_store(&m->snap_ended_ms, 3500);
    t = render(5000);
    assert_line(t, "debezium_metrics_MilliSecondsSinceLastEvent{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 1000");
    assert_line(t, "debezium_metrics_TotalNumberOfEventsSeen{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 28");
    assert_line(t, "debezium_metrics_TotalNumberOfEventsSeen{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 10");
    assert_line(t, "debezium_metrics_TotalNumberOfCreateEventsSeen{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 20");
    assert_line(t, "debezium_metrics_TotalNumberOfUpdateEventsSeen{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 5");
    assert_line(t, "debezium_metrics_TotalNumberOfDeleteEventsSeen{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 3");
    assert_line(t, "debezium_metrics_Connected{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 1");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSource{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 12");
    assert_line(t, "debezium_metrics_NumberOfCommittedTransactions{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 4");
    assert_line(t, "debezium_metrics_TotalTableCount{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 2");
    assert_line(t, "debezium_metrics_RemainingTableCount{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    assert_line(t, "debezium_metrics_SnapshotCompleted{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 1");
    assert_line(t, "debezium_metrics_SnapshotRunning{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    assert_line(t, "debezium_metrics_SnapshotDurationInSeconds{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 2");
    assert_line(t, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 10");
    /* streaming attributes only in the streaming context, snapshot ones only in the snapshot context */
    assert_null(strstr(t, "debezium_metrics_Connected{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"}"));
    assert_null(strstr(t, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"srv\",context=\"streaming\"}"));
    /* no worker: counts of zero */
    assert_line(t, "kafka_connect_worker_metrics_connector_count 0");
    free(t);
    met_source_close(m);
    t = render(5000);
    assert_null(strstr(t, "name=\"srv\""));
    free(t);
}

/* A label value with a quote, a backslash and a newline stays one well-formed line. */
static void test_escaping(void **state)
{
    (void)state;
    met_source_t *m = met_source_open("a\"b\\c\nd");
    char *t = render(0);
    assert_line(t, "debezium_metrics_Connected{plugin=\"postgres\",name=\"a\\\"b\\\\c\\nd\",context=\"streaming\"} 0");
    free(t);
    met_source_close(m);
}

/* Every sample follows the HELP and TYPE of its family; each family appears once (the text format's
 * rule: a family's lines together); every HELP says a unit. */
static void test_families(void **state)
{
    (void)state;
    met_source_t *a = met_source_open("one"), *b = met_source_open("two");
    char *t = render(0);
    char fam[256] = "";
    char seen[64][128];
    size_t nseen = 0;
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        char name[128];
        if (!strncmp(line, "# HELP ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", name), 1);
            for (size_t i = 0; i < nseen; i++)
                assert_string_not_equal(seen[i], name);
            assert_true(nseen < 64);
            snprintf(seen[nseen++], sizeof seen[0], "%s", name);
            snprintf(fam, sizeof fam, "%s", name);
            const char *h = line + 7 + strlen(name);
            assert_true(strstr(h, "count") || strstr(h, "boolean") || strstr(h, "illiseconds") || strstr(h, "Seconds"));
        } else if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", name), 1);
            assert_string_equal(name, fam);
        } else {
            size_t n = strcspn(line, "{ ");
            assert_int_equal(n, strlen(fam));
            assert_memory_equal(line, fam, n);
        }
    }
    assert_true(nseen >= 17);
    free(t);
    met_source_close(a);
    met_source_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
