#!/usr/bin/env bash
# test_sink_tasks.sh: a JDBC sink with tasks.max=3 on a 4-partition topic runs 3 tasks, each a member of
# group connect-<name> (the group splits the partitions: every task gets some), each storing the offsets of
# its own partitions in the target; REST shows 3 tasks RUNNING with the worker's id. Under steady load
# (inserts and updates, each its own transaction) walcast is SIGKILLed 3 times mid-stream; at the end the
# target equals the source row by row (every key's update history column included, so a change applied
# twice out of order or lost shows), every key once, and the stored offsets cover the 4 partitions.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE DATABASE target" -c "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, hist text NOT NULL)"
kafka_start --partitions 4 --topic srv.public.t
PORT=$(free_port)
{
  echo "listeners=http://127.0.0.1:$PORT"
  echo "config.storage.topic=it_stasks_configs"
  echo "status.storage.topic=it_stasks_status"
  echo "offset.storage.topic=it_stasks_offsets"
  echo "group.id=it_stasks_group"
} >>"$IT_DIR/worker.properties"
U="http://127.0.0.1:$PORT"
# the sink's tasks as "id:state:worker_id" lines (status) and how many /tasks lists
tasks_status() { rest_req GET /connectors/sink/status >/dev/null; "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for t in d.get("tasks", []): print("%s:%s:%s" % (t["id"], t["state"], t["worker_id"]))' "$IT_DIR/body" 2>/dev/null; }
wait_tasks_running() {
  for _ in $(seq 1 600); do
    [ "$(tasks_status | grep -c ":RUNNING:127.0.0.1:$PORT\$")" = 3 ] && return 0
    sleep 0.1
  done
  echo "the sink's tasks are not 3 RUNNING: $(tasks_status | tr '\n' ' ') ($(cat "$IT_DIR/body"))" >&2
  return 1
}
start() {
  local n
  n=$(grep -c "REST listener started" "$IT_DIR/walcast.log" 2>/dev/null || true)
  walcast_spawn
  wait_log "REST listener started" $(( ${n:-0} + 1 )) 60
}
restart() { start; wait_tasks_running; }
start
[ "$(rest_req POST /connectors "{\"name\":\"src\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",
  \"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",
  \"topic.prefix\":\"srv\",\"snapshot.mode\":\"initial\",\"table.include.list\":\"public.t\"}}")" = 201 ]
[ "$(rest_req POST /connectors "{\"name\":\"sink\",\"config\":{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\",
  \"tasks.max\":\"3\",\"topics\":\"srv.public.t\",\"connection.url\":\"jdbc:postgresql://127.0.0.1:$PGPORT/target\",
  \"connection.username\":\"postgres\",\"insert.mode\":\"upsert\",\"primary.key.mode\":\"record_key\",
  \"delete.enabled\":\"true\",\"schema.evolution\":\"basic\",\"collection.name.format\":\"\${source.table}\",
  \"batch.size\":\"50\"}}")" = 201 ]
wait_tasks_running
[ "$(rest_req GET /connectors/sink/tasks)" = 200 ]
[ "$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$IT_DIR/body")" = 3 ]
[ "$(rest_req GET /connectors/sink/tasks/2/status)" = 200 ] && grep -q '"state":"RUNNING"' "$IT_DIR/body"
[ "$(rest_req GET /connectors/sink/tasks/3/status)" = 404 ]
# load: each round one new key and updates of three earlier ones, each statement its own transaction
: >"$IT_DIR/load.go"
(
  r=0
  while [ -e "$IT_DIR/load.go" ]; do
    r=$((r + 1))
    psql -X -q -d postgres -v ON_ERROR_STOP=1 \
      -c "INSERT INTO t VALUES ($r, 0, '0')" \
      -c "UPDATE t SET n = n + 1, hist = hist || ',' || (n + 1) WHERE id = $(( (r * 7919 % 1000) % r + 1 ))" \
      -c "UPDATE t SET n = n + 1, hist = hist || ',' || (n + 1) WHERE id = $(( (r * 104729 % 997) % r + 1 ))" \
      -c "UPDATE t SET n = n + 1, hist = hist || ',' || (n + 1) WHERE id = $(( r / 2 + 1 ))" || exit 1
    if [ $((r % 97)) = 0 ]; then psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "DELETE FROM t WHERE id = $(( r / 3 ))" || exit 1; fi
  done
  exit 0
) &
LOAD_PID=$!
IT_PIDS+=($LOAD_PID)
applied() { psql -X -At -d target -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets WHERE sink = 'sink'" 2>/dev/null || echo 0; }
sink_kill_loop 3 restart applied
rm -f "$IT_DIR/load.go"
wait "$LOAD_PID"
# every task had partitions of its own (the group split the 4 between the 3 tasks)
for k in 0 1 2; do grep -q "sink partition assigned.*connector=sink task=$k " "$IT_DIR/walcast.log" || {
  echo "task $k never had a partition" >&2; exit 1; }; done
# the target equals the source (bounded wait), every key once
snap() { psql -X -At -d "$1" -c "SELECT count(*), count(DISTINCT id), md5(coalesce(string_agg(id || ':' || n || ':' || hist, ';' ORDER BY id), '')) FROM t"; }
for _ in $(seq 1 1200); do [ "$(snap target 2>/dev/null)" = "$(snap postgres)" ] && break; sleep 0.1; done
src=$(snap postgres) tgt=$(snap target)
echo "source $src, target $tgt"
[ "$src" = "$tgt" ] || {
  psql -X -At -d postgres -c "SELECT id, n, hist FROM t ORDER BY id" >"$IT_DIR/src.txt"
  psql -X -At -d target -c "SELECT id, n, hist FROM t ORDER BY id" >"$IT_DIR/tgt.txt"
  diff "$IT_DIR/src.txt" "$IT_DIR/tgt.txt" | head -20 >&2
  echo "the target differs from the source" >&2; exit 1; }
IFS='|' read -r cnt distinct _ <<<"$tgt"
[ "$cnt" = "$distinct" ] && [ "$cnt" -gt 100 ]
[ "$(psql -X -At -d target -c "SELECT count(DISTINCT \"partition\") FROM walcast_sink_offsets WHERE sink = 'sink'")" = 4 ]
wait_tasks_running
echo ok
