#!/usr/bin/env bash
# test_metrics.sh: GET /metrics on the REST listener against a real PostgreSQL and Kafka: a connector
# with an initial snapshot of 10 rows, then 20 inserts, 5 updates and 3 deletes in 4 transactions, and a
# JDBC sink (conflict.policy=target_wins) into a second database where row 11 already exists, written by
# another source. The Debezium series say what happened (snapshot: 1 table, 10 rows scanned in table
# public.t, completed; streaming: events seen = rows written, by kind, transactions, connected, lag figures
# set); Connect's say both connectors and tasks run; walcast's say the slot's lag and WAL retained, the
# Kafka commits, and for the sink: every record applied, end-to-end lag present and plausible, the conflict
# counted by type and outcome, no lag left; then a record it cannot decode counted as a dead letter, and a
# session the target ends counted as a retry; a paused sink shows as paused; promtool check metrics finds
# nothing but the exporters' own names (Debezium's camelCase, Connect's *_count gauges and *_time_ms).
. "$(dirname "$0")/lib.sh"
it_init
command -v promtool >/dev/null || { echo "promtool is missing: run scripts/install-deps.sh (Debian's prometheus package)" >&2; exit 1; }
. "$ROOT/tests/integration/monitoring.sh"
# before any connector: the worker's counts, no Debezium sample
before_connectors() {
  curl -sf "$U/metrics" >"$IT_DIR/m0"
  grep -qx 'kafka_connect_worker_metrics_connector_count 0' "$IT_DIR/m0"
  grep -q '^debezium_metrics_[A-Za-z]*{' "$IT_DIR/m0" && { echo "a Debezium sample before any connector" >&2; exit 1; }
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/metrics")" = 405 ]
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/metricsx")" = 404 ]
}
MON_BEFORE_CONNECTORS=before_connectors
mon_start metrics
psql_q -c "INSERT INTO t SELECT g, 'y' FROM generate_series(11, 30) g"
psql_q -c "UPDATE t SET v = 'z' WHERE id BETWEEN 11 AND 15"
psql_q -c "DELETE FROM t WHERE id IN (1, 2)"
psql_q -c "DELETE FROM t WHERE id = 3"

# the value of one sample: val ATTRIBUTE CONTEXT
val() {
  sed -n "s/^debezium_metrics_$1{plugin=\"postgres\",name=\"itm\",context=\"$2\"} //p" "$IT_DIR/m"
}
# scrapes (bounded) until streaming TotalNumberOfEventsSeen reaches 28
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  [ "$(val TotalNumberOfEventsSeen streaming)" = 28 ] && break
  sleep 0.1
done
check() {   # check ATTRIBUTE CONTEXT EXPECTED
  local got
  got=$(val "$1" "$2")
  [ "$got" = "$3" ] || { cat "$IT_DIR/m" >&2; echo "$1 ($2) is '$got', expected $3" >&2; exit 1; }
}
check TotalNumberOfEventsSeen streaming 28
check TotalNumberOfCreateEventsSeen streaming 20
check TotalNumberOfUpdateEventsSeen streaming 5
check TotalNumberOfDeleteEventsSeen streaming 3
check NumberOfCommittedTransactions streaming 4
check Connected streaming 1
check TotalNumberOfEventsSeen snapshot 10
tval() { sed -n "s/^debezium_metrics_RowsScanned{plugin=\"postgres\",name=\"itm\",context=\"snapshot\",table=\"$1\"} //p" "$IT_DIR/m"; }
[ "$(tval public.t)" = 10 ] || { echo "RowsScanned{table=public.t} is '$(tval public.t)', expected 10" >&2; exit 1; }
grep -q '^debezium_metrics_RowsScanned{plugin="postgres",name="itm",context="snapshot"}' "$IT_DIR/m" &&
  { echo "RowsScanned without its table label" >&2; exit 1; }
check TotalTableCount snapshot 1
check RemainingTableCount snapshot 0
check SnapshotCompleted snapshot 1
check SnapshotRunning snapshot 0
check SnapshotAborted snapshot 0
for a in MilliSecondsBehindSource MilliSecondsSinceLastEvent; do
  v=$(val $a streaming)
  [ "$v" -ge 0 ] && [ "$v" -lt 600000 ] || { echo "$a is '$v', expected 0 <= v < 600000" >&2; exit 1; }
done
# the sink: the target holds the source's 27 rows (row 11 kept: target_wins), and no lag is left
sv() {   # the value of sample NAME{LABELS}: sv 'name{labels}'
  awk -v k="$1" 'index($0, k " ") == 1 { print $2 }' "$IT_DIR/m"
}
target_ok() {
  [ "$(psql -X -At -d tgt -c "SELECT count(*) || ':' || (SELECT v FROM t WHERE id = 11) FROM t" 2>/dev/null)" = "27:seed" ]
}
# the target first, then a scrape taken after it: a scrape taken before the batch's commit (lag 0 before the
# sink knew the partition's end) and the target checked after it showed no records applied (CI, loaded);
# the counters move just after the commit, so the scrape is repeated until they show the whole batch
for _ in $(seq 1 600); do
  if target_ok; then
    curl -sf "$U/metrics" >"$IT_DIR/m"
    [ "$(sv 'walcast_sink_consumer_lag_records{connector="snk"}')" = 0 ] &&
      [ "$(sv 'walcast_sink_records_applied_total{connector="snk"}')" -ge 41 ] 2>/dev/null && break
  fi
  sleep 0.1
done
target_ok || { echo "the sink did not apply the source's rows: $(psql -X -At -d tgt -c 'SELECT count(*) FROM t')" >&2; exit 1; }
num() {  # num NAME LOW HIGH: LOW <= value <= HIGH (awk's numbers)
  local v
  v=$(sv "$1")
  awk -v v="$v" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v + 0 >= lo && v + 0 <= hi) }' ||
    { cat "$IT_DIR/m" >&2; echo "$1 is '$v', expected $2..$3" >&2; exit 1; }
}
num 'walcast_sink_consumer_lag_records{connector="snk"}' 0 0
num 'walcast_sink_consumer_lag_bytes{connector="snk"}' 0 0
# 10 snapshot rows, 20 inserts, 5 updates, 3 deletes and their 3 tombstones
num 'walcast_sink_records_applied_total{connector="snk"}' 41 41
num 'kafka_connect_sink_task_sink_record_send_total{connector="snk",task="0"}' 41 41
num 'kafka_connect_sink_task_sink_record_read_total{connector="snk",task="0"}' 41 41
num 'walcast_sink_batches_applied_total{connector="snk"}' 1 41
# end-to-end lag: every change with a source commit time (the tombstones have none) observed; the newest
# change's lag is present and plausible (after its commit, well within the test's time)
num 'walcast_sink_end_to_end_lag_seconds_count{connector="snk"}' 38 38
num 'walcast_sink_end_to_end_lag_last_seconds{connector="snk"}' 0 60
num 'walcast_sink_end_to_end_lag_seconds_bucket{connector="snk",le="+Inf"}' 38 38
num 'walcast_sink_apply_seconds_count{connector="snk"}' 1 41
# the conflict: insert of row 11 met a row of another source and was skipped (target_wins); the update
# of row 11 meets it again unless it was reduced into the insert in the same batch
num 'walcast_sink_conflicts_total{connector="snk",type="insert_exists",outcome="skipped"}' 1 1
num 'walcast_sink_conflicts_total{connector="snk",type="insert_exists",outcome="applied"}' 0 0
num 'walcast_sink_conflicts_total{connector="snk",type="update_origin_differs",outcome="skipped"}' 0 1
num 'walcast_sink_dead_letters_total{connector="snk"}' 0 0
num 'walcast_sink_retries_total{connector="snk"}' 0 0
# the source's Kafka side: 4 streaming transactions went through Kafka commits
num 'walcast_source_commit_to_kafka_commit_seconds_count{connector="src"}' 4 4
num 'walcast_source_commit_to_kafka_commit_seconds_bucket{connector="src",le="60"}' 4 4
num 'walcast_kafka_transaction_commit_seconds_count{connector="src"}' 1 1000
num 'kafka_connect_source_task_source_record_poll_total{connector="src",task="0"}' 38 38
num 'kafka_connect_source_task_source_record_write_total{connector="src",task="0"}' 38 1000
num 'kafka_connect_connector_task_offset_commit_max_time_ms{connector="src",task="0"}' 0.001 60000
# the slot (read every 2 s once streaming): lag and WAL retained, wal_status
for _ in $(seq 1 100); do
  grep -q '^walcast_slot_lag_bytes{connector="src",slot="s_metrics"}' "$IT_DIR/m" && break
  sleep 0.1
  curl -sf "$U/metrics" >"$IT_DIR/m"
done
num 'walcast_slot_lag_bytes{connector="src",slot="s_metrics"}' 0 16777216
num 'walcast_slot_wal_retained_bytes{connector="src",slot="s_metrics"}' "$(sv 'walcast_slot_lag_bytes{connector="src",slot="s_metrics"}')" 1073741824
num 'walcast_slot_max_wal_keep_size_bytes{connector="src",slot="s_metrics"}' -1 -1
if [ "$(psql -X -At -c 'SHOW server_version_num')" -ge 130000 ]; then
  num 'walcast_slot_wal_status{connector="src",slot="s_metrics",wal_status="reserved"}' 1 1
  num 'walcast_slot_wal_status{connector="src",slot="s_metrics",wal_status="lost"}' 0 0
fi
# Connect: both connectors and their tasks run
num 'kafka_connect_connector_status{connector="src",type="source",status="running"}' 1 1
num 'kafka_connect_connector_status{connector="snk",type="sink",status="running"}' 1 1
num 'kafka_connect_connector_task_status{connector="snk",task="0",status="running"}' 1 1
num 'kafka_connect_worker_connector_running_task_count{connector="src"}' 1 1
num 'kafka_connect_worker_connector_failed_task_count{connector="src"}' 0 0
grep -qx 'kafka_connect_worker_metrics_connector_count 2' "$IT_DIR/m"
grep -qx 'kafka_connect_worker_metrics_task_count 2' "$IT_DIR/m"
grep -q hunter2 "$IT_DIR/m" && { echo "the password is in /metrics" >&2; exit 1; }

# promtool: the text parses; its only findings are the names the exporters give: Debezium's camelCase
# and Connect's *_count gauges (kept: dashboards and alerts written for them match)
promtool check metrics <"$IT_DIR/m" >"$IT_DIR/promtool.out" 2>&1 || true
grep -q 'error while linting' "$IT_DIR/promtool.out" && { cat "$IT_DIR/promtool.out" >&2; exit 1; }
if grep -v -e "^debezium_metrics_[A-Za-z]* metric names should be written in 'snake_case' not 'camelCase'\$" \
  -e '^kafka_connect_worker_[a-z_]*_count non-histogram and non-summary metrics should not have "_count" suffix$' \
  -e '^kafka_connect_connector_task_offset_commit_[a-z]*_time_ms metric names should not contain abbreviated units$' \
  "$IT_DIR/promtool.out" | grep -q .; then
  echo "promtool check metrics:" >&2; cat "$IT_DIR/promtool.out" >&2; exit 1
fi
grep -c camelCase "$IT_DIR/promtool.out" >/dev/null

# a dead letter: a record the sink cannot decode, written into its topic by hand (errors.tolerance=all)
printf '%s\t%s\n' '{"id":999}' 'not json' | kcat -P -b "$BS" -t itm.public.t -K $'\t'
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  [ "$(sv 'walcast_sink_dead_letters_total{connector="snk"}')" = 1 ] && break
  sleep 0.1
done
num 'walcast_sink_dead_letters_total{connector="snk"}' 1 1
# a retry: the target's server ends the sink's session; the next change is applied after a reconnect
psql -X -q -d tgt -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'tgt' AND pid <> pg_backend_pid()" >/dev/null
psql_q -c "INSERT INTO t VALUES (1000, 'after')"
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  [ "$(psql -X -At -d tgt -c 'SELECT count(*) FROM t WHERE id = 1000')" = 1 ] &&
    [ "$(sv 'walcast_sink_retries_total{connector="snk"}')" != 0 ] && break
  sleep 0.1
done
[ "$(psql -X -At -d tgt -c 'SELECT count(*) FROM t WHERE id = 1000')" = 1 ] || { echo "row 1000 not applied after the session ended" >&2; exit 1; }
num 'walcast_sink_retries_total{connector="snk"}' 1 10
SUMMARY="end-to-end lag of the newest change $(sv 'walcast_sink_end_to_end_lag_last_seconds{connector="snk"}') s, slot lag $(sv 'walcast_slot_lag_bytes{connector="src",slot="s_metrics"}') bytes, WAL retained $(sv 'walcast_slot_wal_retained_bytes{connector="src",slot="s_metrics"}') bytes"
# a paused sink shows as paused (what the "not RUNNING" alert reads)
curl -sf -X PUT "$U/connectors/snk/pause" >/dev/null
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  [ "$(sv 'kafka_connect_connector_status{connector="snk",type="sink",status="paused"}')" = 1 ] && break
  sleep 0.1
done
num 'kafka_connect_connector_status{connector="snk",type="sink",status="paused"}' 1 1
curl -sf -X DELETE "$U/connectors/snk" >/dev/null

# a connector deleted: its series go
curl -sf -X DELETE "$U/connectors/src" >/dev/null
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  grep -q 'name="itm"' "$IT_DIR/m" || break
  sleep 0.1
done
grep -q 'name="itm"' "$IT_DIR/m" && { echo "the deleted connector's series are still there" >&2; exit 1; }
grep -qx 'kafka_connect_worker_metrics_connector_count 0' "$IT_DIR/m"
echo "metrics: snapshot 10 rows, streaming 28 events in 4 transactions, a sink's 41 records, its conflict and end-to-end lag, the slot, as scraped ($SUMMARY); promtool's findings only the exporters' names"
