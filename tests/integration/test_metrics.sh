#!/usr/bin/env bash
# test_metrics.sh: GET /metrics on the REST listener against a real PostgreSQL and Kafka: a connector
# with an initial snapshot of 10 rows, then 20 inserts, 5 updates and 3 deletes in 4 transactions. The
# Debezium series say what happened (snapshot: 1 table, 10 rows scanned, completed; streaming: events
# seen = rows written, by kind, transactions, connected, lag figures set), the worker counts its one
# connector and task, and promtool check metrics finds nothing but the exporters' own names (Debezium's
# camelCase, Connect's *_count gauges).
. "$(dirname "$0")/lib.sh"
it_init
command -v promtool >/dev/null || { echo "promtool is missing: run scripts/install-deps.sh (Debian's prometheus package)" >&2; exit 1; }
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g"
kafka_start --topic mtr.public.t
PORT=$(free_port)
{
  echo "listeners=http://127.0.0.1:$PORT"
  echo "config.storage.topic=it_metrics_configs"
  echo "status.storage.topic=it_metrics_status"
  echo "group.id=it_metrics_group"
} >>"$IT_DIR/worker.properties"
"$WALCAST" run --worker "$IT_DIR/worker.properties" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
IT_PIDS+=($!)
wait_log "REST listener started" 1 60
U="http://127.0.0.1:$PORT"

# before any connector: the worker's counts, no Debezium sample
curl -sf "$U/metrics" >"$IT_DIR/m0"
grep -qx 'kafka_connect_worker_metrics_connector_count 0' "$IT_DIR/m0"
! grep -q '^debezium_metrics_[A-Za-z]*{' "$IT_DIR/m0"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/metrics")" = 405 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/metricsx")" = 404 ]

cfg='{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1",'
cfg+="\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.password\":\"hunter2\",\"database.dbname\":\"postgres\","
cfg+='"topic.prefix":"mtr","snapshot.mode":"initial","slot.name":"s_metrics","key.converter.schemas.enable":"false"}'
code=$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary "{\"name\":\"src\",\"config\":$cfg}" "$U/connectors")
[ "$code" = 201 ] || { echo "create answered $code: $(cat "$IT_DIR/body")" >&2; exit 1; }
wait_log "replication started" 1 60
psql_q -c "INSERT INTO t SELECT g, 'y' FROM generate_series(11, 30) g"
psql_q -c "UPDATE t SET v = 'z' WHERE id BETWEEN 11 AND 15"
psql_q -c "DELETE FROM t WHERE id IN (1, 2)"
psql_q -c "DELETE FROM t WHERE id = 3"

# the value of one sample: val ATTRIBUTE CONTEXT
val() {
  sed -n "s/^debezium_metrics_$1{plugin=\"postgres\",name=\"mtr\",context=\"$2\"} //p" "$IT_DIR/m"
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
  [ "$got" = "$3" ] || { echo "$1 ($2) is '$got', expected $3" >&2; cat "$IT_DIR/m" >&2; exit 1; }
}
check TotalNumberOfEventsSeen streaming 28
check TotalNumberOfCreateEventsSeen streaming 20
check TotalNumberOfUpdateEventsSeen streaming 5
check TotalNumberOfDeleteEventsSeen streaming 3
check NumberOfCommittedTransactions streaming 4
check Connected streaming 1
check TotalNumberOfEventsSeen snapshot 10
check RowsScanned snapshot 10
check TotalTableCount snapshot 1
check RemainingTableCount snapshot 0
check SnapshotCompleted snapshot 1
check SnapshotRunning snapshot 0
check SnapshotAborted snapshot 0
for a in MilliSecondsBehindSource MilliSecondsSinceLastEvent; do
  v=$(val $a streaming)
  [ "$v" -ge 0 ] && [ "$v" -lt 600000 ] || { echo "$a is '$v', expected 0 <= v < 600000" >&2; exit 1; }
done
grep -qx 'kafka_connect_worker_metrics_connector_count 1' "$IT_DIR/m"
grep -qx 'kafka_connect_worker_metrics_task_count 1' "$IT_DIR/m"
grep -q hunter2 "$IT_DIR/m" && { echo "the password is in /metrics" >&2; exit 1; }

# promtool: the text parses; its only findings are the names the exporters give: Debezium's camelCase
# and Connect's *_count gauges (kept: dashboards and alerts written for them match)
promtool check metrics <"$IT_DIR/m" >"$IT_DIR/promtool.out" 2>&1 || true
grep -q 'error while linting' "$IT_DIR/promtool.out" && { cat "$IT_DIR/promtool.out" >&2; exit 1; }
if grep -v -e "^debezium_metrics_[A-Za-z]* metric names should be written in 'snake_case' not 'camelCase'\$" \
  -e '^kafka_connect_worker_metrics_[a-z]*_count non-histogram and non-summary metrics should not have "_count" suffix$' \
  "$IT_DIR/promtool.out" | grep -q .; then
  echo "promtool check metrics:" >&2; cat "$IT_DIR/promtool.out" >&2; exit 1
fi
grep -c camelCase "$IT_DIR/promtool.out" >/dev/null

# a connector deleted: its series go
curl -sf -X DELETE "$U/connectors/src" >/dev/null
for _ in $(seq 1 300); do
  curl -sf "$U/metrics" >"$IT_DIR/m"
  grep -q 'name="mtr"' "$IT_DIR/m" || break
  sleep 0.1
done
! grep -q 'name="mtr"' "$IT_DIR/m"
grep -qx 'kafka_connect_worker_metrics_connector_count 0' "$IT_DIR/m"
echo "metrics: snapshot 10 rows, streaming 28 events in 4 transactions, as scraped; promtool's findings only the exporters' names"
