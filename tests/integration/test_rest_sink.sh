#!/usr/bin/env bash
# test_rest_sink.sh: a JDBC sink driven through the REST API as a source is: a worker holds a source and
# a sink created by POST; the sink applies into another database; pause (rows wait in Kafka), resume,
# PATCH of its config and delete each end it cleanly first; its offsets (the target's walcast_sink_offsets)
# read, altered and reset through GET|PATCH|DELETE /connectors/sink/offsets while STOPPED; every row arrives once (the sink's offsets
# table holds the truth); the sink's status and type are Connect's.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE DATABASE target" -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t
rest_worker_start rsink
target_count() { psql -X -At -d target -c "SELECT count(*) FROM t" 2>/dev/null || echo 0; }
wait_target() {
  for _ in $(seq 1 600); do [ "$(target_count)" = "$1" ] && return 0; sleep 0.1; done
  echo "target has $(target_count) rows, expected $1" >&2
  return 1
}
[ "$(rest_req POST /connectors "{\"name\":\"src\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",
  \"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",
  \"topic.prefix\":\"srv\",\"snapshot.mode\":\"no_data\",\"table.include.list\":\"public.t\"}}")" = 201 ]
SINK="{\"connector.class\":\"io.debezium.connector.jdbc.JdbcSinkConnector\",\"topics\":\"srv.public.t\",
  \"connection.url\":\"jdbc:postgresql://127.0.0.1:$PGPORT/target\",\"connection.username\":\"postgres\",
  \"connection.password\":\"hunter2\",\"insert.mode\":\"upsert\",\"primary.key.mode\":\"record_key\",
  \"schema.evolution\":\"basic\",\"collection.name.format\":\"\${source.table}\"}"
[ "$(rest_req POST /connectors "{\"name\":\"sink\",\"config\":$SINK}")" = 201 ]
[ "$(rest_json type)" = sink ]
[ "$(rest_json config/connection.password)" = "[hidden]" ]
wait_log "replication started" 1 60
psql_q -c "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 50) g"
wait_target 50
[ "$(rest_req GET /connectors/sink/status)" = 200 ]
[ "$(rest_json type)" = sink ] && [ "$(rest_json tasks/0/state)" = RUNNING ]
[ "$(rest_req PUT /connectors/sink/pause)" = 202 ]
psql_q -c "INSERT INTO t SELECT g, 'b' FROM generate_series(51, 100) g"
wait_topic srv.public.t 100
[ "$(target_count)" = 50 ]   # paused: the rows wait in Kafka
[ "$(rest_req PUT /connectors/sink/resume)" = 202 ]
wait_target 100
[ "$(rest_req PATCH /connectors/sink/config '{"batch.size":"7"}')" = 200 ]
psql_q -c "INSERT INTO t SELECT g, 'c' FROM generate_series(101, 150) g"
wait_target 150
# offsets (Connect's sink shape) are the positions in the target's walcast_sink_offsets (150 records read;
# the offsets count the transaction markers too)
offsum() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))["offsets"]
assert all(set(o["partition"]) == {"kafka_topic", "kafka_partition"} and set(o["offset"]) == {"kafka_offset"} for o in d), d
assert all(o["partition"]["kafka_topic"] == "srv.public.t" for o in d), d
print(sum(o["offset"]["kafka_offset"] for o in d))' "$IT_DIR/body"; }
stored() { psql -X -At -d target -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets WHERE sink = 'sink'"; }
[ "$(rest_req GET /connectors/sink/offsets)" = 200 ] || { echo "sink offsets: $(cat "$IT_DIR/body")" >&2; exit 1; }
[ "$(offsum)" = "$(stored)" ] && [ "$(offsum)" -ge 150 ] || { echo "sink offsets: $(cat "$IT_DIR/body")" >&2; exit 1; }
cp "$IT_DIR/body" "$IT_DIR/offsets150.json"
[ "$(rest_req PATCH /connectors/sink/offsets "$(cat "$IT_DIR/offsets150.json")")" = 400 ]   # running: refused
rest_json message | grep -q "STOPPED state"
[ "$(rest_req PUT /connectors/sink/stop)" = 204 ]
[ "$(rest_req PATCH /connectors/sink/offsets '{"offsets":[{"partition":{"kafka_topic":"srv.public.t"},"offset":{"kafka_offset":1}}]}')" = 400 ]
rest_json message | grep -q "must contain the keys 'kafka_topic' and 'kafka_partition'"
[ "$(rest_req PATCH /connectors/sink/offsets '{"offsets":[{"partition":{"kafka_topic":"srv.public.t","kafka_partition":0},"offset":{"x":1}}]}')" = 400 ]
# reset: the positions are gone; rows changed in the target meanwhile are applied again from Kafka
[ "$(rest_req DELETE /connectors/sink/offsets)" = 200 ]
rest_json message | grep -q "have been reset successfully"
[ "$(rest_req GET /connectors/sink/offsets)" = 200 ] && [ "$(rest_json offsets)" = "[]" ]
[ "$(psql -X -At -d target -c "SELECT count(*) FROM walcast_sink_offsets WHERE sink = 'sink'")" = 0 ]
psql -X -q -d target -c "UPDATE t SET v = 'x'"
# alter: the positions given ("10" as text too, as Connect takes it), one removed with null
[ "$(rest_req PATCH /connectors/sink/offsets '{"offsets":[{"partition":{"kafka_topic":"srv.public.t","kafka_partition":"1"},"offset":{"kafka_offset":"10"}},{"partition":{"kafka_topic":"srv.public.t","kafka_partition":2},"offset":null}]}')" = 200 ]
rest_json message | grep -q "have been altered successfully"
[ "$(rest_req GET /connectors/sink/offsets)" = 200 ]
[ "$(rest_json offsets/0/partition/kafka_partition)/$(rest_json offsets/0/offset/kafka_offset)" = 1/10 ] && [ "$(rest_json offsets/1 2>/dev/null)" = "" ]
[ "$(rest_req PATCH /connectors/sink/offsets "$(cat "$IT_DIR/offsets150.json")")" = 200 ]   # back to where it was
[ "$(rest_req DELETE /connectors/sink/offsets)" = 200 ]   # and from the beginning after all
[ "$(rest_req PUT /connectors/sink/resume)" = 202 ]
for _ in $(seq 1 600); do [ "$(psql -X -At -d target -c "SELECT count(*) FROM t WHERE v = 'x'")" = 0 ] && break; sleep 0.1; done
[ "$(psql -X -At -d target -c "SELECT count(*) FROM t WHERE v = 'x'")" = 0 ] || { echo "reset did not rewind the sink" >&2; exit 1; }
wait_target 150
for _ in $(seq 1 100); do [ "$(rest_req GET /connectors/sink/offsets)" = 200 ] && [ "$(offsum)" = "$(stored)" ] && [ "$(offsum)" -ge 150 ] && break; sleep 0.1; done
[ "$(offsum)" -ge 150 ]
[ "$(rest_req DELETE /connectors/sink)" = 204 ]
psql_q -c "INSERT INTO t SELECT g, 'd' FROM generate_series(151, 160) g"
wait_topic srv.public.t 160
[ "$(target_count)" = 150 ]   # deleted: nothing applies any more
[ "$(psql -X -At -d target -c "SELECT count(DISTINCT id) FROM t WHERE id <= 150")" = 150 ]
grep -q hunter2 "$IT_DIR/walcast.log" && { echo "the password leaked into the log" >&2; exit 1; }
echo ok
