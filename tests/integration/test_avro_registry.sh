#!/usr/bin/env bash
# test_avro_registry.sh: registry failures with the Avro converter. Basic auth (USER_INFO) and a URL list
# whose first URL is dead (failover); injected HTTP 503s (retried); the registry down while a new table
# needs a schema (walcast waits, keeps the slot alive, publishes everything in order once it is back);
# the registry down and walcast stopped while waiting (nothing lost after the restart); wrong credentials
# (HTTP 401: the connector fails, naming what to check). The password never appears in any log.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t1 (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t1 --topic srv.public.t2 --topic srv.public.t3 --topic srv.public.t4 --topic srv.public.t5
PASS='pa55-Wörd;x'
registry_start --user-info "walcast:$PASS"
DEAD=$(free_port)
write_cfg() {
  connector_file avro "status.update.interval.ms=1000" \
    "value.converter=io.confluent.connect.avro.AvroConverter" \
    "value.converter.schema.registry.url=http://127.0.0.1:$DEAD,$SR_URL" \
    "value.converter.basic.auth.credentials.source=USER_INFO" \
    "value.converter.basic.auth.user.info=walcast:$1"
}
cfg=$(write_cfg "$PASS")
walcast_start "$cfg"
psql_q -c "INSERT INTO t1 SELECT g, 'r' || g FROM generate_series(1, 10) g"
wait_topic srv.public.t1 10
echo "failover past a dead URL and basic auth: ok"

# HTTP 503 three times: retried with backoff
curl -sf -X POST -d '{"status":503,"count":3}' "$SR_URL/__fixture/fail" >/dev/null
psql_q -c "CREATE TABLE t2 (id int PRIMARY KEY)" -c "INSERT INTO t2 VALUES (1)"
wait_topic srv.public.t2 1
grep -q 'schema registry unavailable; retrying.*HTTP 503' "$IT_DIR/walcast.log"
echo "503s retried: ok"

# registry down while a new table needs its schema: walcast waits, then publishes in order
registry_stop
psql_q -c "INSERT INTO t1 SELECT g, 'r' || g FROM generate_series(11, 20) g" \
       -c "CREATE TABLE t3 (id int PRIMARY KEY)" -c "INSERT INTO t3 VALUES (1)" \
       -c "INSERT INTO t1 SELECT g, 'r' || g FROM generate_series(21, 30) g"
sleep 3
grep -q 'schema registry unavailable; retrying' "$IT_DIR/walcast.log"
kill -0 "$WALCAST_PID"
registry_start --port "$SR_PORT" --user-info "walcast:$PASS"
wait_topic srv.public.t3 1
wait_topic srv.public.t1 30
echo "registry back: ok"

# registry down, walcast stopped while it waits: nothing lost after the restart
registry_stop
psql_q -c "CREATE TABLE t4 (id int PRIMARY KEY)" -c "INSERT INTO t4 VALUES (1)" \
       -c "INSERT INTO t1 SELECT g, 'r' || g FROM generate_series(31, 40) g"
sleep 2
walcast_stop
registry_start --port "$SR_PORT" --user-info "walcast:$PASS"
walcast_start "$cfg"
wait_topic srv.public.t4 1
wait_topic srv.public.t1 40
sleep 1
walcast_stop
SR_AUTH="walcast:$PASS" $PY "$ROOT/tests/integration/avro_dump.py" "$BS" "$SR_URL" srv.public.t1 >"$IT_DIR/t1.jsonl"
$PY - "$IT_DIR/t1.jsonl" <<'PYEOF'
import json, sys
ids = [json.loads(l)["value"]["after"]["id"] for l in open(sys.argv[1])]
assert ids == list(range(1, 41)), ids
print("t1: rows 1..40 exactly once, in order")
PYEOF

# wrong credentials: HTTP 401 is not retried; the connector fails and says what to check
cfg=$(write_cfg "wrong-$PASS")
psql_q -c "CREATE TABLE t5 (id int PRIMARY KEY)" -c "INSERT INTO t5 VALUES (1)"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >>"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!; IT_PIDS+=($WALCAST_PID)
rc=0; wait "$WALCAST_PID" || rc=$?
[ "$rc" -eq 1 ] || { echo "walcast exit code $rc after HTTP 401, expected 1" >&2; exit 1; }
grep 'connector failed' "$IT_DIR/walcast.log" | tail -1 | tee "$IT_DIR/failed.txt"
grep -q 'HTTP 401' "$IT_DIR/failed.txt"
grep -q 'basic.auth.user.info' "$IT_DIR/failed.txt"
if grep -F -q "$PASS" "$IT_DIR/walcast.log" "$IT_DIR/walcast.out"; then
  echo "the registry password appears in walcast's output" >&2; exit 1
fi
echo "401 fails the connector; no credentials in the logs: ok"
