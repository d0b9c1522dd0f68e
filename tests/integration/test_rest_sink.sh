#!/usr/bin/env bash
# test_rest_sink.sh: a JDBC sink driven through the REST API as a source is: a worker holds a source and
# a sink created by POST; the sink applies into another database; pause (rows wait in Kafka), resume,
# PATCH of its config and delete each end it cleanly first; every row arrives once (the sink's offsets
# table holds the truth); the sink's status and type are Connect's.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE DATABASE target" -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t
PORT=$(free_port)
{
  echo "listeners=http://127.0.0.1:$PORT"
  echo "config.storage.topic=it_rsink_configs"
  echo "status.storage.topic=it_rsink_status"
  echo "group.id=it_rsink_group"
} >>"$IT_DIR/worker.properties"
"$WALCAST" run --worker "$IT_DIR/worker.properties" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
IT_PIDS+=($!)
wait_log "REST listener started" 1 60
U="http://127.0.0.1:$PORT"
post() { curl -s -o "$IT_DIR/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' "$U$2" ${3:+--data-binary "$3"}; }
jget() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("/"):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$IT_DIR/body" "$1"; }
target_count() { psql -X -At -d target -c "SELECT count(*) FROM t" 2>/dev/null || echo 0; }
wait_target() {
  for _ in $(seq 1 600); do [ "$(target_count)" = "$1" ] && return 0; sleep 0.1; done
  echo "target has $(target_count) rows, expected $1" >&2
  return 1
}
[ "$(post POST /connectors "{\"name\":\"src\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",
  \"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",
  \"topic.prefix\":\"srv\",\"snapshot.mode\":\"no_data\",\"table.include.list\":\"public.t\"}}")" = 201 ]
SINK="{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\",\"topics\":\"srv.public.t\",
  \"connection.url\":\"jdbc:postgresql://127.0.0.1:$PGPORT/target\",\"connection.username\":\"postgres\",
  \"connection.password\":\"hunter2\",\"insert.mode\":\"upsert\",\"primary.key.mode\":\"record_key\",
  \"schema.evolution\":\"basic\",\"collection.name.format\":\"\${source.table}\"}"
[ "$(post POST /connectors "{\"name\":\"sink\",\"config\":$SINK}")" = 201 ]
[ "$(jget type)" = sink ]
[ "$(jget config/connection.password)" = "[hidden]" ]
wait_log "replication started" 1 60
psql_q -c "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 50) g"
wait_target 50
[ "$(post GET /connectors/sink/status)" = 200 ]
[ "$(jget type)" = sink ] && [ "$(jget tasks/0/state)" = RUNNING ]
[ "$(post PUT /connectors/sink/pause)" = 202 ]
psql_q -c "INSERT INTO t SELECT g, 'b' FROM generate_series(51, 100) g"
wait_topic srv.public.t 100
[ "$(target_count)" = 50 ]   # paused: the rows wait in Kafka
[ "$(post PUT /connectors/sink/resume)" = 202 ]
wait_target 100
[ "$(post PATCH /connectors/sink/config '{"batch.size":"7"}')" = 200 ]
psql_q -c "INSERT INTO t SELECT g, 'c' FROM generate_series(101, 150) g"
wait_target 150
[ "$(post DELETE /connectors/sink)" = 204 ]
psql_q -c "INSERT INTO t SELECT g, 'd' FROM generate_series(151, 160) g"
wait_topic srv.public.t 160
[ "$(target_count)" = 150 ]   # deleted: nothing applies any more
[ "$(psql -X -At -d target -c "SELECT count(DISTINCT id) FROM t WHERE id <= 150")" = 150 ]
grep -q hunter2 "$IT_DIR/walcast.log" && { echo "the password leaked into the log" >&2; exit 1; }
echo ok
