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

#include <jansson.h>

#include "agent/dashboard.h"
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
    met_source_t *m = met_source_open("src", "srv", "s1");
    char *t = render(5000);
    /* before anything happened: Debezium's -1 for "no event yet", zero counts, not connected */
    assert_line(t, "debezium_metrics_MilliSecondsSinceLastEvent{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} -1");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSource{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} -1");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSourceAverageValue{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} -1");
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
    atomic_store(&m->behind_min, 3);
    atomic_store(&m->behind_max, 21);
    atomic_store(&m->behind_sum, 36);
    atomic_store(&m->behind_n, 3);
    atomic_store(&m->queue_capacity, 8192);
    atomic_store(&m->snap_read, 10);
    atomic_store(&m->snap_completed, 1);
    atomic_store(&m->tables_total, 2);
    atomic_store(&m->rows_scanned, 10);
    atomic_store(&m->snap_started_ms, 1000);
    atomic_store(&m->snap_ended_ms, 3500);
    const char *tn[] = { "public.a", "public.b" };
    const uint64_t tr[] = { 4, 6 };
    met_source_set_tables(m, tn, tr, 2);
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
    assert_line(t, "debezium_metrics_SnapshotPaused{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    assert_line(t, "debezium_metrics_SnapshotPausedDurationInSeconds{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    /* the rest of Debezium 3.6.1's numeric attributes: queue (walcast has none: always empty), statistics of
     * MilliSecondsBehindSource, unchanged events skipped, SnapshotSkipped */
    assert_line(t, "debezium_metrics_QueueTotalCapacity{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 8192");
    assert_line(t, "debezium_metrics_QueueRemainingCapacity{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 8192");
    assert_line(t, "debezium_metrics_CurrentQueueSizeInBytes{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 0");
    assert_line(t, "debezium_metrics_MaxQueueSizeInBytes{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 0");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSourceMinValue{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 3");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSourceMaxValue{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 21");
    assert_line(t, "debezium_metrics_MilliSecondsBehindSourceAverageValue{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 12");
    assert_line(t, "debezium_metrics_NumberOfUnchangedEventsSkipped{plugin=\"postgres\",name=\"srv\",context=\"streaming\"} 0");
    assert_line(t, "debezium_metrics_SnapshotSkipped{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"} 0");
    assert_null(strstr(t, "debezium_metrics_SnapshotSkipped{plugin=\"postgres\",name=\"srv\",context=\"streaming\"}"));
    /* RowsScanned per table, as Debezium keeps it (the exporter's table= label), never one total */
    assert_line(t, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"srv\",context=\"snapshot\",table=\"public.a\"} 4");
    assert_line(t, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"srv\",context=\"snapshot\",table=\"public.b\"} 6");
    assert_null(strstr(t, "debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"srv\",context=\"snapshot\"}"));
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
    met_source_t *m = met_source_open("c", "a\"b\\c\nd", "s");
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
    met_source_t *a = met_source_open("c1", "one", "s1"), *b = met_source_open("c2", "two", "s2");
    met_sink_t *k = met_sink_open("k1");
    atomic_store(&a->slot_known, 1);
    atomic_store(&a->wal_status, MET_WAL_RESERVED);
    char *t = render(0);
    char fam[256] = "";
    char seen[128][128];
    size_t nseen = 0;
    for (char *save = NULL, *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        if (!strncmp(line, "# HELP ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", name), 1);
            for (size_t i = 0; i < nseen; i++)
                assert_string_not_equal(seen[i], name);
            assert_true(nseen < 128);
            snprintf(seen[nseen++], sizeof seen[0], "%s", name);
            snprintf(fam, sizeof fam, "%s", name);
            const char *h = line + 7 + strlen(name);
            assert_true(strstr(h, "count") || strstr(h, "boolean") || strstr(h, "illiseconds") || strstr(h, "econds") ||
                        strstr(h, "ytes") || strstr(h, "per second"));
        } else if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%127s", name), 1);
            assert_string_equal(name, fam);
        } else {
            /* a histogram's samples: _bucket, _sum, _count of its family */
            size_t n = strcspn(line, "{ "), f = strlen(fam);
            assert_true(n >= f);
            assert_memory_equal(line, fam, f);
            if (n > f) {
                char suf[16];
                snprintf(suf, sizeof suf, "%.*s", (int)(n - f), line + f);
                assert_true(!strcmp(suf, "_bucket") || !strcmp(suf, "_sum") || !strcmp(suf, "_count"));
            }
        }
    }
    assert_true(nseen >= 40);
    free(t);
    met_source_close(a);
    met_source_close(b);
    met_sink_close(k);
}

/* walcast's own series: the slot, the Kafka commit histograms, a sink's lag, end-to-end lag, conflicts
 * by type and outcome, dead letters, retries; Connect's task rates from the sampler's ring. */
static void test_walcast_series(void **state)
{
    (void)state;
    met_source_t *m = met_source_open("pg", "srv", "slot1");
    met_sink_t *k = met_sink_open("sink1");
    char *t = render(0);
    /* the slot not read yet: no sample; a sink before anything: -1 */
    assert_null(strstr(t, "walcast_slot_lag_bytes{"));
    assert_line(t, "walcast_sink_end_to_end_lag_last_seconds{connector=\"sink1\"} -1");
    assert_line(t, "walcast_sink_consumer_lag_records{connector=\"sink1\"} -1");
    free(t);
    atomic_store(&m->slot_lag, 4096);
    atomic_store(&m->wal_retained, 65536);
    atomic_store(&m->safe_wal_size, -1);
    atomic_store(&m->max_keep, -1);
    atomic_store(&m->wal_status, MET_WAL_UNRESERVED);
    atomic_store(&m->slot_known, 1);
    hist_observe(&m->src_to_kafka, 3000);      /* 3 ms */
    hist_observe(&m->src_to_kafka, 2000000);   /* 2 s */
    hist_observe(&m->kafka_commit, 7000);
    hist_observe(&k->st.e2e, 40000);
    atomic_store(&k->st.e2e_last_us, 40000);
    atomic_store(&k->st.lag_records, 12);
    atomic_store(&k->st.lag_bytes, 1200);
    atomic_store(&k->st.dead, 2);
    atomic_store(&k->st.retries, 3);
    atomic_store(&k->st.conflicts[SK_CONFLICT_INSERT_EXISTS], 5);
    atomic_store(&k->st.conflicts_skipped[SK_CONFLICT_INSERT_EXISTS], 1);
    /* two samples 10 s apart: 100 events and 50 applied records make 10 and 5 per second */
    met_sample_all(1000);
    atomic_store(&m->seen, 100);
    atomic_store(&k->st.applied, 50);
    met_sample_all(11000);
    t = render(11000);
    assert_line(t, "walcast_slot_lag_bytes{connector=\"pg\",slot=\"slot1\"} 4096");
    assert_line(t, "walcast_slot_wal_retained_bytes{connector=\"pg\",slot=\"slot1\"} 65536");
    assert_null(strstr(t, "walcast_slot_safe_wal_size_bytes{"));   /* NULL: no sample */
    assert_line(t, "walcast_slot_max_wal_keep_size_bytes{connector=\"pg\",slot=\"slot1\"} -1");
    assert_line(t, "walcast_slot_wal_status{connector=\"pg\",slot=\"slot1\",wal_status=\"unreserved\"} 1");
    assert_line(t, "walcast_slot_wal_status{connector=\"pg\",slot=\"slot1\",wal_status=\"reserved\"} 0");
    assert_line(t, "walcast_source_commit_to_kafka_commit_seconds_bucket{connector=\"pg\",le=\"0.005\"} 1");
    assert_line(t, "walcast_source_commit_to_kafka_commit_seconds_bucket{connector=\"pg\",le=\"2.5\"} 2");
    assert_line(t, "walcast_source_commit_to_kafka_commit_seconds_bucket{connector=\"pg\",le=\"+Inf\"} 2");
    assert_line(t, "walcast_source_commit_to_kafka_commit_seconds_sum{connector=\"pg\"} 2.003000");
    assert_line(t, "walcast_source_commit_to_kafka_commit_seconds_count{connector=\"pg\"} 2");
    assert_line(t, "walcast_kafka_transaction_commit_seconds_count{connector=\"pg\"} 1");
    assert_line(t, "kafka_connect_connector_task_offset_commit_avg_time_ms{connector=\"pg\",task=\"0\"} 7");
    assert_line(t, "kafka_connect_source_task_source_record_poll_rate{connector=\"pg\",task=\"0\"} 10");
    assert_line(t, "kafka_connect_source_task_source_record_poll_total{connector=\"pg\",task=\"0\"} 100");
    assert_line(t, "kafka_connect_sink_task_sink_record_send_rate{connector=\"sink1\",task=\"0\"} 5");
    assert_line(t, "walcast_sink_end_to_end_lag_seconds_bucket{connector=\"sink1\",le=\"0.05\"} 1");
    assert_line(t, "walcast_sink_end_to_end_lag_seconds_bucket{connector=\"sink1\",le=\"0.025\"} 0");
    assert_line(t, "walcast_sink_end_to_end_lag_last_seconds{connector=\"sink1\"} 0.04");
    assert_line(t, "walcast_sink_consumer_lag_records{connector=\"sink1\"} 12");
    assert_line(t, "walcast_sink_consumer_lag_bytes{connector=\"sink1\"} 1200");
    assert_line(t, "walcast_sink_dead_letters_total{connector=\"sink1\"} 2");
    assert_line(t, "walcast_sink_retries_total{connector=\"sink1\"} 3");
    assert_line(t, "walcast_sink_conflicts_total{connector=\"sink1\",type=\"insert_exists\",outcome=\"applied\"} 4");
    assert_line(t, "walcast_sink_conflicts_total{connector=\"sink1\",type=\"insert_exists\",outcome=\"skipped\"} 1");
    assert_line(t, "walcast_sink_conflicts_total{connector=\"sink1\",type=\"delete_missing\",outcome=\"skipped\"} 0");
    free(t);
    /* the ring: two samples, the rate over a window that holds both */
    assert_int_equal(m->ring.n, 2);
    assert_true(met_ring_rate(&m->ring, MS_EVENTS, 30000) > 9.99 && met_ring_rate(&m->ring, MS_EVENTS, 30000) < 10.01);
    assert_true(met_ring_rate(&m->ring, MS_EVENTS, 5000) == 0);   /* one sample in the window: no rate */
    met_sink_close(k);
    met_source_close(m);
    t = render(0);
    assert_null(strstr(t, "sink1"));
    free(t);
}

/* GET /dashboard/data: each source's and sink's figures as /metrics has them, and the ring, oldest first. */
static void test_dashboard_data(void **state)
{
    (void)state;
    met_source_t *m = met_source_open("pg", "srv", "slot1");
    met_sink_t *k = met_sink_open("sink\"1");
    atomic_store(&m->slot_lag, 4096);
    atomic_store(&m->wal_retained, 8192);
    atomic_store(&m->max_keep, 1048576);
    atomic_store(&m->safe_wal_size, 1000);
    atomic_store(&m->wal_status, MET_WAL_EXTENDED);
    atomic_store(&m->slot_known, 1);
    atomic_store(&k->st.e2e_last_us, 250000);
    for (int i = 0; i < 3; i++) {
        atomic_store(&m->seen, (uint64_t)(10 * i));
        met_sample_all(1000 + 1000 * i);
    }
    buf_t b;
    buf_init(&b);
    dash_data(&b, NULL, 3000);
    json_error_t je;
    json_t *d = json_loads(buf_cstr(&b), 0, &je);
    assert_non_null(d);
    json_t *src = json_array_get(json_object_get(d, "sources"), 0), *snk = json_array_get(json_object_get(d, "sinks"), 0);
    assert_string_equal(json_string_value(json_object_get(src, "connector")), "pg");
    assert_int_equal(json_integer_value(json_object_get(src, "slot_lag")), 4096);
    assert_int_equal(json_integer_value(json_object_get(src, "max_keep")), 1048576);
    assert_string_equal(json_string_value(json_object_get(src, "wal_status")), "extended");
    assert_true(json_number_value(json_object_get(src, "poll_rate")) > 9.99);   /* 20 events in 2 s */
    json_t *h = json_object_get(src, "hist");
    assert_int_equal(json_array_size(json_object_get(h, "t")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "t"), 0)), 1000);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "events"), 2)), 20);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(h, "slot_lag"), 1)), 4096);
    assert_string_equal(json_string_value(json_object_get(snk, "connector")), "sink\"1");
    assert_true(json_number_value(json_object_get(snk, "e2e_last_s")) == 0.25);
    assert_int_equal(json_array_size(json_object_get(json_object_get(snk, "hist"), "e2e_ms")), 3);
    assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(snk, "hist"), "e2e_ms"), 0)), 250);
    assert_int_equal(json_array_size(json_object_get(d, "connectors")), 0);   /* no worker */
    json_decref(d);
    buf_free(&b);
    met_sink_close(k);
    met_source_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_walcast_series),
        cmocka_unit_test(test_dashboard_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
