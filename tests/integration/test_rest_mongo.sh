#!/usr/bin/env bash
# test_rest_mongo.sh: a MongoDB sink (io.debezium.connector.mongodb.MongoDbSinkConnector) created, paused,
# resumed, reconfigured, stopped and deleted through the REST API beside a source in one worker, against
# FerretDB (scripts/ferretdb.sh) or the MongoDB at WALCAST_TEST_MONGODB_URI: its status and type are
# Connect's, its connection string is masked, its offsets (the walcast_sink_offsets collection) are read,
# refused while running, reset while stopped (and the sink then applies every row again), every row is
# in MongoDB once.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mongo_start
MDB="walcast_rest_$$"
psql_q -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t
rest_worker_start rmongo
mcount() { "$PY" -c 'import pymongo,sys; c=pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)[sys.argv[2]]
print(c["t"].count_documents(sys.argv[3] and {"v": sys.argv[3]} or {}))' "$MURI" "$MDB" "${1:-}"; }
wait_mongo() {   # wait_mongo N [V]: N documents (with v=V)
  for _ in $(seq 1 600); do [ "$(mcount "${2:-}")" = "$1" ] && return 0; sleep 0.1; done
  echo "MongoDB has $(mcount "${2:-}") documents${2:+ with v=$2}, expected $1" >&2
  return 1
}
[ "$(rest_req POST /connectors "{\"name\":\"src\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",
  \"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",
  \"topic.prefix\":\"srv\",\"snapshot.mode\":\"no_data\",\"table.include.list\":\"public.t\"}}")" = 201 ]
SINK="{\"connector.class\":\"io.debezium.connector.mongodb.MongoDbSinkConnector\",\"topics\":\"srv.public.t\",
  \"mongodb.connection.string\":\"$MURI\",\"sink.database\":\"$MDB\",\"collection.name.format\":\"\${source.table}\",
  \"delete.enabled\":\"true\"}"
[ "$(rest_req POST /connectors "{\"name\":\"msink\",\"config\":$SINK}")" = 201 ]
[ "$(rest_json type)" = sink ]
[ "$(rest_json config/mongodb.connection.string)" = "[hidden]" ]   # a connection string may hold a password
wait_log "replication started" 1 60
# walcast check of the same sink: the target answers, the user may write there, the offsets collection
printf '%s\n' name=msink connector.class=io.debezium.connector.mongodb.MongoDbSinkConnector topics=srv.public.t \
  "mongodb.connection.string=$MURI" "sink.database=$MDB" >"$IT_DIR/msink.properties"
"$WALCAST" check --worker "$IT_DIR/worker.properties" "$IT_DIR/msink.properties" >"$IT_DIR/check.out" 2>>"$IT_DIR/check.log" ||
  { cat "$IT_DIR/check.out" >&2; exit 1; }
grep -q "^OK   target_rights: the user may write in database $MDB" "$IT_DIR/check.out" || { cat "$IT_DIR/check.out" >&2; exit 1; }
grep -q '^OK   offsets_table' "$IT_DIR/check.out"
psql_q -c "INSERT INTO t SELECT g, 'a' FROM generate_series(1, 40) g"
wait_mongo 40
[ "$(rest_req GET /connectors/msink/status)" = 200 ]
[ "$(rest_json type)" = sink ] && [ "$(rest_json connector/state)" = RUNNING ] && [ "$(rest_json tasks/0/state)" = RUNNING ]
[ "$(rest_req GET /connectors/msink/tasks)" = 200 ]
[ "$(rest_json 0/config/task.class)" = io.debezium.connector.mongodb.sink.MongoDbSinkConnectorTask ]
# pause: rows wait in Kafka; resume: they arrive
[ "$(rest_req PUT /connectors/msink/pause)" = 202 ]
[ "$(rest_req GET /connectors/msink/status)" = 200 ] && [ "$(rest_json tasks/0/state)" = PAUSED ]
psql_q -c "INSERT INTO t SELECT g, 'b' FROM generate_series(41, 80) g"
wait_topic srv.public.t 80
[ "$(mcount)" = 40 ]
[ "$(rest_req PUT /connectors/msink/resume)" = 202 ]
wait_mongo 80
# PATCH of the config (the hidden connection string sent back keeps the stored one)
[ "$(rest_req GET /connectors/msink/config)" = 200 ]
"$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["batch.size"]="9"; print(json.dumps(c))' "$IT_DIR/body" >"$IT_DIR/put.json"
[ "$(rest_req PUT /connectors/msink/config "$(cat "$IT_DIR/put.json")")" = 200 ]
psql_q -c "INSERT INTO t SELECT g, 'c' FROM generate_series(81, 120) g" -c "DELETE FROM t WHERE id <= 5"
wait_mongo 115
# offsets: the walcast_sink_offsets collection, in Connect's sink shape
[ "$(rest_req GET /connectors/msink/offsets)" = 200 ]
[ "$(rest_json offsets/0/partition/kafka_topic)" = srv.public.t ] && [ "$(rest_json offsets/0/offset/kafka_offset)" -ge 125 ]
[ "$(rest_req DELETE /connectors/msink/offsets)" = 400 ]   # running
[ "$(rest_req PUT /connectors/msink/stop)" = 204 ]
[ "$(rest_req GET /connectors/msink/status)" = 200 ] && [ "$(rest_json connector/state)" = STOPPED ]
[ "$(rest_req DELETE /connectors/msink/offsets)" = 200 ]
[ "$(rest_req GET /connectors/msink/offsets)" = 200 ] && [ "$(rest_json offsets)" = "[]" ]
"$PY" -c 'import pymongo,sys; pymongo.MongoClient(sys.argv[1])[sys.argv[2]]["t"].update_many({}, {"$set": {"v": "x"}})' "$MURI" "$MDB"
[ "$(rest_req PUT /connectors/msink/resume)" = 202 ]
wait_mongo 0 x   # read again from the beginning: every document rewritten from Kafka
wait_mongo 115
[ "$(rest_req DELETE /connectors/msink)" = 204 ]
psql_q -c "INSERT INTO t SELECT g, 'd' FROM generate_series(121, 130) g"
wait_topic srv.public.t 130
[ "$(mcount)" = 115 ]   # deleted: nothing applies any more
grep -q "$MURI" "$IT_DIR/walcast.log" && [ -n "${WALCAST_TEST_MONGODB_URI:-}" ] && { echo "the connection string leaked into the log" >&2; exit 1; }
echo ok
