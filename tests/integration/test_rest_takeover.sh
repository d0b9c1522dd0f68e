#!/usr/bin/env bash
# test_rest_takeover.sh: walcast takes over a Kafka Connect cluster's Debezium connector. A real Kafka
# Connect 4.4 worker (distributed, scripts/connect.sh) creates Debezium 3.6.1's PostgreSQL connector
# through REST and streams; walcast refuses to start on the same group.id while that worker is a
# member; the worker is stopped, rows are written meanwhile; walcast starts on the same three topics
# (config, status, offsets) with no connector file, finds the connector in the config topic, resumes
# from Connect's offsets; a config change, pause and resume through walcast; walcast stops and a Connect
# worker on the same group and topics takes the connector back from walcast's records and offsets, with
# the change; every row is in Kafka exactly once, in order (read_committed).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)"
kafka_start --topic srv.public.t
conn=$(connector_file takeover "slot.name=takeover" "plugin.name=pgoutput")
bash "$ROOT/scripts/connect.sh" start --bootstrap "$BS" --dir "$IT_DIR/connect" --offsets-topic it_take_offsets "$conn" \
  >"$IT_DIR/connect.out" 2>"$IT_DIR/connect-start.log"
# shellcheck disable=SC1091
. "$IT_DIR/connect/env"
IT_PIDS+=($CONNECT_PID)
psql_q -c "INSERT INTO t SELECT g FROM generate_series(1, 50) g"
wait_topic srv.public.t 50 60

# walcast on Connect's topics: the same group, config, status and offsets topics
PORT=$(free_port)
{
  grep -E '^(bootstrap.servers|group.id|config.storage.topic|status.storage.topic|offset.storage.topic)=' "$IT_DIR/connect/worker.properties"
  grep -E '^(key|value).converter' "$IT_DIR/connect/worker.properties"
  echo "listeners=http://127.0.0.1:$PORT"
} >"$IT_DIR/takeover.properties"
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/takeover.properties" >/dev/null 2>"$IT_DIR/refused.log" || rc=$?
[ $rc = 1 ] || { echo "walcast started (exit $rc) while a Connect worker is in the group" >&2; cat "$IT_DIR/refused.log" >&2; exit 1; }
grep -q 'member(s) are in group.id=.*Stop every Connect worker of the group first' "$IT_DIR/refused.log"

bash "$ROOT/scripts/connect.sh" stop "$IT_DIR/connect"
psql_q -c "INSERT INTO t SELECT g FROM generate_series(51, 100) g"
"$WALCAST" run --worker "$IT_DIR/takeover.properties" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_log "REST listener started" 1 60
[ "$(curl -s "http://127.0.0.1:$PORT/connectors")" = '["it"]' ]
wait_log "resuming from stored offsets" 1 60
psql_q -c "INSERT INTO t SELECT g FROM generate_series(101, 150) g"
wait_topic srv.public.t 150 60
[ "$(curl -s "http://127.0.0.1:$PORT/connectors/it/status" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["tasks"][0]["state"])')" = RUNNING ]
# changes made through walcast are kept in Connect's records: a config PATCH, a pause and a resume
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' \
  "http://127.0.0.1:$PORT/connectors/it/config" --data-binary '{"poll.interval.ms":"700"}')
[ "$code" = 200 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$PORT/connectors/it/pause")" = 202 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$PORT/connectors/it/resume")" = 202 ]
wait_published takeover
kill -INT $WALCAST_PID
wait $WALCAST_PID

# and back: a Connect worker on the same group and topics takes the connector over from walcast's
# records (Connect's own ones, such as its session key, were kept as they were), resumes from the offsets
# walcast stored, with walcast's config change
GROUP=$(sed -n 's/^group.id=//p' "$IT_DIR/takeover.properties")
psql_q -c "INSERT INTO t SELECT g FROM generate_series(151, 200) g"
bash "$ROOT/scripts/connect.sh" start --bootstrap "$BS" --dir "$IT_DIR/connect2" --offsets-topic it_take_offsets \
  --group "$GROUP" >"$IT_DIR/connect2.out" 2>"$IT_DIR/connect2-start.log"
# shellcheck disable=SC1091
. "$IT_DIR/connect2/env"
IT_PIDS+=($CONNECT_PID)
for _ in $(seq 1 600); do
  bash "$ROOT/scripts/connect.sh" status "$IT_DIR/connect2" it 2>/dev/null | grep -q '"tasks":\[{"id":0,"state":"RUNNING"' && break
  sleep 0.2
done
bash "$ROOT/scripts/connect.sh" status "$IT_DIR/connect2" it | grep -q '"tasks":\[{"id":0,"state":"RUNNING"' ||
  { echo "Connect did not run the connector walcast kept: $(bash "$ROOT/scripts/connect.sh" status "$IT_DIR/connect2" it)" >&2; exit 1; }
[ "$(curl -s "$CONNECT_REST/connectors/it/config" | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("poll.interval.ms"))')" = 700 ]
psql_q -c "INSERT INTO t SELECT g FROM generate_series(201, 250) g"
wait_topic srv.public.t 250 90
bash "$ROOT/scripts/connect.sh" stop "$IT_DIR/connect2"
kcat -C -b "$BS" -t srv.public.t -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/ids.txt"
"$PY" - "$IT_DIR/ids.txt" <<'PYEOF'
import json, sys
ids = []
for l in open(sys.argv[1]):
    if l.strip():
        k = json.loads(l)
        ids.append((k.get("payload") or k)["id"])
assert ids == list(range(1, 251)), f"expected ids 1..250 once each in order, got {len(ids)}: {ids[:3]}...{ids[-3:]}"
print("250 rows exactly once across the take-over from Kafka Connect and back")
PYEOF
