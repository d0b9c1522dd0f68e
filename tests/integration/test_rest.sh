#!/usr/bin/env bash
# test_rest.sh: walcast as a Kafka Connect worker driven through its REST API on a real PostgreSQL and
# Kafka: an empty worker takes a connector by POST and streams; a second connector that fails is FAILED
# with its trace while the first goes on; pause, stop, config PATCH/PUT, restart and resume each end
# the connector cleanly (its slot released) and start it again; configs and target states are in Kafka
# Connect's config topic in Connect's formats and survive a restart of walcast; a connector of a class
# walcast does not run is listed FAILED and left untouched; delete writes Connect's tombstones and keeps
# the slot. Every row is in Kafka exactly once, in order (read_committed). Then https with basic auth:
# 401 without valid credentials, and nothing changes; an oversized body gets 413.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)"
kafka_start --topic srv.public.t
PORT=$(free_port)
{
  echo "listeners=http://127.0.0.1:$PORT"
  echo "config.storage.topic=it_rest_configs"
  echo "status.storage.topic=it_rest_status"
  echo "group.id=it_rest_group"
} >>"$IT_DIR/worker.properties"
worker_start() {
  local n
  n=$(grep -c "REST listener started" "$IT_DIR/walcast.log" 2>/dev/null || true)
  "$WALCAST" run --worker "$IT_DIR/worker.properties" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
  wait_log "REST listener started" $((${n:-0} + 1)) 60
}
worker_start
U="http://127.0.0.1:$PORT"

# req METHOD PATH [BODY]: prints the status code; the body goes to $IT_DIR/body
req() {
  local a=(-s -o "$IT_DIR/body" -w '%{http_code}' -X "$1" "${CURL_EXTRA[@]}" "$U$2")
  [ $# -ge 3 ] && a+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${a[@]}"
}
CURL_EXTRA=()
expect() {   # expect CODE METHOD PATH [BODY]
  local want=$1 got; shift
  got=$(req "$@")
  [ "$got" = "$want" ] || { echo "$* answered $got, expected $want: $(cat "$IT_DIR/body")" >&2; return 1; }
}
state() { req GET "/connectors/$1/status" >/dev/null; rest_json "$2"; }
# wait_state NAME PATH VALUE: polls the status (bounded) until PATH says VALUE
wait_state() {
  for _ in $(seq 1 300); do
    [ "$(state "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
    sleep 0.1
  done
  echo "$1 $2 did not become $3: $(cat "$IT_DIR/body")" >&2
  return 1
}
slot_active() { psql -X -At -c "SELECT active FROM pg_replication_slots WHERE slot_name = '$1'"; }
wait_slot() {   # wait_slot SLOT t|f
  for _ in $(seq 1 300); do [ "$(slot_active "$1")" = "$2" ] && return 0; sleep 0.1; done
  echo "slot $1 active is not $2" >&2
  return 1
}
config() {   # config NAME SLOT [extra JSON members]
  printf '{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1",'
  printf '"database.port":"%s","database.user":"postgres","database.password":"hunter2","database.dbname":"postgres",' "$PGPORT"
  printf '"topic.prefix":"srv","snapshot.mode":"no_data","status.update.interval.ms":"500","key.converter.schemas.enable":"false",'
  printf '"slot.name":"%s","name":"%s"%s}' "$2" "$1" "${3:-}"
}
rows() { psql_q -c "INSERT INTO t SELECT g FROM generate_series($1, $2) g"; }

expect 200 GET /connectors
[ "$(cat "$IT_DIR/body")" = "[]" ]
expect 201 POST /connectors "{\"name\":\"src\",\"config\":$(config src s_src)}"
grep -q hunter2 "$IT_DIR/body" && { echo "the password came back in the create answer" >&2; exit 1; }
wait_log "replication started" 1 60
rows 1 20
wait_topic srv.public.t 20

# a connector that fails (its publication is missing) is FAILED with a trace; the other goes on
expect 201 POST /connectors "{\"name\":\"bad\",\"config\":$(config bad s_bad ',"publication.autocreate.mode":"disabled","publication.name":"nopub","topic.prefix":"bad"')}"
wait_state bad tasks/0/state FAILED
state bad tasks/0/trace | grep -q 'CREATE PUBLICATION'
[ "$(state src tasks/0/state)" = RUNNING ]
rows 21 40
wait_topic srv.public.t 40
# onlyFailed restarts what failed, shown RESTARTING
expect 202 POST "/connectors/bad/restart?includeTasks=true&onlyFailed=true"
[ "$(rest_json connector/state)" = RESTARTING ]
expect 409 POST /connectors "{\"name\":\"src\",\"config\":$(config src s_src)}"
expect 204 DELETE /connectors/bad

# pause ends the connector cleanly (slot released); rows written meanwhile come after resume
wait_slot s_src t
expect 202 PUT /connectors/src/pause
[ "$(state src connector/state)" = PAUSED ]
wait_slot s_src f
expect 400 DELETE /connectors/src/offsets   # only while STOPPED, as Connect
rows 41 60
expect 202 PUT /connectors/src/resume
wait_state src tasks/0/state RUNNING
wait_topic srv.public.t 60

# stop, PATCH while stopped, resume
expect 204 PUT /connectors/src/stop
[ "$(state src connector/state)" = STOPPED ]
[ "$(state src tasks)" = "[]" ]
wait_slot s_src f
expect 200 PATCH /connectors/src/config '{"walcast.transaction.max.ms":"200"}'
[ "$(rest_json config/walcast.transaction.max.ms)" = 200 ]
[ "$(rest_json config/database.password)" = "[hidden]" ]
# offsets while stopped: read, reset (Connect's tombstone), written back as they were
expect 400 PATCH /connectors/src/offsets '{"offsets":[]}'
expect 200 GET /connectors/src/offsets
cp "$IT_DIR/body" "$IT_DIR/offsets.json"
[ "$(rest_json offsets/0/partition/server)" = srv ]
rest_json offsets/0/offset/lsn >/dev/null
expect 200 DELETE /connectors/src/offsets
expect 200 GET /connectors/src/offsets
[ "$(cat "$IT_DIR/body")" = '{"offsets":[]}' ]
expect 200 PATCH /connectors/src/offsets "$(cat "$IT_DIR/offsets.json")"
expect 200 GET /connectors/src/offsets
cmp -s "$IT_DIR/body" "$IT_DIR/offsets.json" || { echo "offsets not restored: $(cat "$IT_DIR/body")" >&2; exit 1; }
rows 61 80
expect 202 PUT /connectors/src/resume
wait_topic srv.public.t 80

# reconfigure while running: the old run ends cleanly, the new one carries on; GET config then PUT it back
# keeps the masked password
expect 200 GET /connectors/src/config
cp "$IT_DIR/body" "$IT_DIR/shown.json"
expect 200 PUT /connectors/src/config "$(cat "$IT_DIR/shown.json")"
wait_log "replication started" 4 60
rows 81 100
wait_topic srv.public.t 100
expect 202 POST "/connectors/src/restart?includeTasks=true"
rows 101 120
wait_topic srv.public.t 120

# configs and target states survive a restart of walcast (Connect's config topic); a connector of a
# class walcast does not run, written there by someone else, is FAILED and left as it is
expect 202 PUT /connectors/src/pause
echo 'connector-foreign|{"properties":{"connector.class":"com.example.OtherConnector","name":"foreign","tasks.max":"1"}}' |
  kcat -P -b "$BS" -t it_rest_configs -K '|'
kill -INT $WALCAST_PID
wait $WALCAST_PID
worker_start
expect 200 GET /connectors
[ "$(cat "$IT_DIR/body")" = '["foreign","src"]' ] || { echo "after the restart: $(cat "$IT_DIR/body")" >&2; exit 1; }
[ "$(state src connector/state)" = PAUSED ]
[ "$(state foreign connector/state)" = FAILED ]
state foreign connector/trace | grep -q "does not run connector.class com.example.OtherConnector"
expect 200 GET /connectors/src/config
[ "$(rest_json walcast.transaction.max.ms)" = 200 ]
# the active topics (Connect's status-topic-<topic>:connector-<name> records) survive the restart too
expect 200 GET /connectors/src/topics
[ "$(cat "$IT_DIR/body")" = '{"src":{"topics":["srv.public.t"]}}' ] || { echo "topics: $(cat "$IT_DIR/body")" >&2; exit 1; }
expect 202 PUT /connectors/src/resume
rows 121 140
wait_topic srv.public.t 140
# the records as Connect writes them
kcat -C -b "$BS" -t it_rest_configs -o beginning -e -q -f '%k=%s\n' >"$IT_DIR/configs.txt"
grep -q '^connector-src={"properties":{' "$IT_DIR/configs.txt"
grep -q '^target-state-src={"state":"PAUSED","state.v2":"PAUSED"}$' "$IT_DIR/configs.txt"
grep -q '^target-state-src={"state":"PAUSED","state.v2":"STOPPED"}$' "$IT_DIR/configs.txt"
grep -q '^task-src-0={"properties":{.*"task.class":"io.debezium.connector.postgresql.PostgresConnectorTask"' "$IT_DIR/configs.txt"
grep -q '^commit-src={"tasks":1}$' "$IT_DIR/configs.txt"
[ "$(grep -c '^connector-foreign=' "$IT_DIR/configs.txt")" = 1 ]   # never written back
kcat -C -b "$BS" -t it_rest_status -o beginning -e -q -f '%k=%s\n' >"$IT_DIR/status.txt"
grep -q '^status-connector-src={"state":"RUNNING","trace":null,"worker_id":"127.0.0.1:'"$PORT"'","generation":' "$IT_DIR/status.txt"
grep -q '^status-task-bad-0={"state":"FAILED","trace":".*CREATE PUBLICATION' "$IT_DIR/status.txt"
grep -q '^status-topic-srv.public.t:connector-src={"topic":{"name":"srv.public.t","connector":"src","task":0,"discoverTimestamp":[0-9]*}}$' "$IT_DIR/status.txt"
# reset: a tombstone; the running connector's next row makes the topic active again
expect 202 PUT /connectors/src/topics/reset
expect 200 GET /connectors/src/topics
[ "$(cat "$IT_DIR/body")" = '{"src":{"topics":[]}}' ] || { echo "topics after reset: $(cat "$IT_DIR/body")" >&2; exit 1; }
kcat -C -b "$BS" -t it_rest_status -o beginning -e -q -Z -f '%k=%s\n' | grep -q '^status-topic-srv.public.t:connector-src=NULL$'
rows 141 141
wait_topic srv.public.t 141
expect 200 GET /connectors/src/topics
[ "$(cat "$IT_DIR/body")" = '{"src":{"topics":["srv.public.t"]}}' ] || { echo "topics after a row: $(cat "$IT_DIR/body")" >&2; exit 1; }

# delete keeps the slot, as Debezium does, and writes Connect's tombstones
expect 204 DELETE /connectors/src
expect 404 GET /connectors/src
[ "$(rest_json message)" = "Connector src not found" ]
wait_slot s_src f
kcat -C -b "$BS" -t it_rest_configs -o beginning -e -q -Z -f '%k=%s\n' | tail -2 >"$IT_DIR/tomb.txt"
grep -q '^connector-src=NULL$' "$IT_DIR/tomb.txt"
grep -q '^target-state-src=NULL$' "$IT_DIR/tomb.txt"
kill -INT $WALCAST_PID
wait $WALCAST_PID
grep -q hunter2 "$IT_DIR/walcast.log" && { echo "the password leaked into the log" >&2; exit 1; }
expect_ids_once srv.public.t 141 "rows exactly once across pause, stop, reconfigure, restart, a restart of walcast and delete"

# https with basic auth
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout "$IT_DIR/key.pem" -out "$IT_DIR/cert.pem" 2>/dev/null
cat "$IT_DIR/key.pem" "$IT_DIR/cert.pem" >"$IT_DIR/store.pem"
printf 'admin=s3cret\n' >"$IT_DIR/users.properties"
SPORT=$(free_port)
{
  echo "bootstrap.servers=$BS"
  echo "listeners=https://127.0.0.1:$SPORT"
  echo "ssl.keystore.type=PEM"
  echo "ssl.keystore.location=$IT_DIR/store.pem"
  echo "rest.extension.classes=org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
  echo "walcast.rest.basic.auth.credentials=$IT_DIR/users.properties"
} >"$IT_DIR/secure.properties"
"$WALCAST" run --worker "$IT_DIR/secure.properties" >"$IT_DIR/secure.out" 2>"$IT_DIR/secure.log" &
SPID=$!
IT_PIDS+=($SPID)
wait_log "REST listener started" 1 30 "$IT_DIR/secure.log"
U="https://127.0.0.1:$SPORT"
CURL_EXTRA=(--cacert "$IT_DIR/cert.pem")
expect 401 GET /connectors
CURL_EXTRA=(--cacert "$IT_DIR/cert.pem" -u admin:wrong)
expect 401 POST /connectors "{\"name\":\"x\",\"config\":$(config x s_x)}"
CURL_EXTRA=(--cacert "$IT_DIR/cert.pem" -u admin:s3cret)
expect 200 GET /connectors
[ "$(cat "$IT_DIR/body")" = "[]" ]   # the refused create changed nothing
head -c 2000000 /dev/zero | tr '\0' 'x' >"$IT_DIR/big.json"
expect 413 POST /connectors "@$IT_DIR/big.json"
# plain http on the https port gets no answer from the REST API
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SPORT/connectors" || true)
[ "$code" != 200 ]
kill -INT $SPID
wait $SPID
echo "ok"
