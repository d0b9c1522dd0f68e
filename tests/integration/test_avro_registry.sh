#!/usr/bin/env bash
# test_avro_registry.sh: registry failures with the Avro converter. Basic auth (USER_INFO) and a URL list
# whose first URL is dead (failover); injected HTTP 503s (retried); the registry down while a new table
# needs a schema (walcast waits, keeps the slot alive, publishes everything in order once it is back);
# the registry down and walcast stopped while waiting (nothing lost after the restart); a sink task
# started while the registry is down (it waits, then applies every row); wrong credentials
# (HTTP 401: the connector fails, naming what to check). The password never appears in any log. Then
# TLS: a PEM truststore, mutual TLS with a PEM client certificate (a refused handshake is final), and
# auto.register.schemas=false with use.latest.version.
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
# t3's schema is the first one walcast needs while the registry is away: it waits, and says so
waits=$(grep -c 'schema registry unavailable; retrying' "$IT_DIR/walcast.log" || true)
wait_log 'schema registry unavailable; retrying' $((waits + 1))
kill -0 "$WALCAST_PID"
registry_start --port "$SR_PORT" --user-info "walcast:$PASS"
wait_topic srv.public.t3 1
wait_topic srv.public.t1 30
echo "registry back: ok"

# registry down, walcast stopped while it waits: nothing lost after the restart
registry_stop
psql_q -c "CREATE TABLE t4 (id int PRIMARY KEY)" -c "INSERT INTO t4 VALUES (1)" \
       -c "INSERT INTO t1 SELECT g, 'r' || g FROM generate_series(31, 40) g"
waits=$(grep -c 'schema registry unavailable; retrying' "$IT_DIR/walcast.log" || true)
wait_log 'schema registry unavailable; retrying' $((waits + 1))   # t4 read, its schema waited for
walcast_stop
registry_start --port "$SR_PORT" --user-info "walcast:$PASS"
walcast_start "$cfg"
wait_topic srv.public.t4 1
wait_topic srv.public.t1 40
wait_published
walcast_stop
SR_AUTH="walcast:$PASS" $PY "$ROOT/tests/integration/avro_dump.py" "$BS" "$SR_URL" srv.public.t1 >"$IT_DIR/t1.jsonl"
$PY - "$IT_DIR/t1.jsonl" <<'PYEOF'
import json, sys
ids = [json.loads(l)["value"]["after"]["id"] for l in open(sys.argv[1])]
assert ids == list(range(1, 41)), ids
print("t1: rows 1..40 exactly once, in order")
PYEOF

# a sink task while the registry is away: it waits for t1's writer schema, then applies every row
psql_q -c "CREATE DATABASE target"
printf '%s\n' "name=it_avrosink" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" \
  "topics=srv.public.t1" "insert.mode=upsert" "primary.key.mode=record_key" "schema.evolution=basic" \
  "collection.name.format=\${source.table}" "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/target" \
  "connection.username=postgres" "value.converter=io.confluent.connect.avro.AvroConverter" \
  "value.converter.schema.registry.url=$SR_URL" "value.converter.basic.auth.credentials.source=USER_INFO" \
  "value.converter.basic.auth.user.info=walcast:$PASS" >"$IT_DIR/avrosink.properties"
registry_stop
walcast_spawn "$IT_DIR/avrosink.properties"
wait_log 'schema registry not answering, retrying' 1 60
kill -0 "$WALCAST_PID"
registry_start --port "$SR_PORT" --user-info "walcast:$PASS"
n=0
for _ in $(seq 1 600); do   # 60 s
  n=$(psql_q -d target -tA -c "SELECT count(*) FROM t1" 2>/dev/null || echo 0)
  [ "$n" = 40 ] && break
  sleep 0.1
done
[ "$n" = 40 ] || { echo "the sink applied $n of t1's 40 rows within 60 s of the registry's return" >&2; exit 1; }
walcast_stop
echo "sink waits for the registry, then applies: ok"

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

# TLS: the registry over https with a self-signed certificate; walcast trusts it through a PEM truststore
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT_DIR/key.pem" -out "$IT_DIR/cert.pem" -days 1 \
  -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
registry_stop
registry_start --cert "$IT_DIR/cert.pem" --key "$IT_DIR/key.pem"
SR_URL="https://127.0.0.1:$SR_PORT"
tls_cfg() {
  connector_file tls "value.converter=io.confluent.connect.avro.AvroConverter" \
    "value.converter.schema.registry.url=$SR_URL" "$@"
}
psql_q -c "CREATE TABLE t6 (id int PRIMARY KEY)" -c "INSERT INTO t6 VALUES (1)"
kcat -C -b "$BS" -t srv.public.t6 -e -q >/dev/null 2>&1 || true
# without the truststore the certificate cannot be verified: a TLS failure is final and says what to set
cfg=$(tls_cfg)
rc=0; timeout 120 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >>"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" || rc=$?
[ "$rc" -eq 1 ] || { echo "walcast exit code $rc on an unverifiable registry certificate, expected 1" >&2; exit 1; }
grep 'connector failed' "$IT_DIR/walcast.log" | tail -1 | grep -q 'ssl.truststore.location'
cfg=$(tls_cfg "value.converter.schema.registry.ssl.truststore.location=$IT_DIR/cert.pem" \
  "value.converter.schema.registry.ssl.truststore.type=PEM")
walcast_start "$cfg"
wait_topic srv.public.t6 1
walcast_stop
echo "TLS with a PEM truststore: ok; unverifiable certificate fails the connector: ok"

# mutual TLS: the registry asks for a client certificate; walcast gives it from a PEM keystore + key
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT_DIR/client-key.pem" -out "$IT_DIR/client.pem" -days 1 \
  -subj "/CN=walcast" 2>/dev/null
walcast_stop 2>/dev/null || true
registry_stop
registry_start --port "$SR_PORT" --cert "$IT_DIR/cert.pem" --key "$IT_DIR/key.pem" --client-ca "$IT_DIR/client.pem"
SR_URL="https://127.0.0.1:$SR_PORT"
psql_q -c "CREATE TABLE t7 (id int PRIMARY KEY)" -c "INSERT INTO t7 VALUES (1)"
cfg=$(tls_cfg "value.converter.schema.registry.ssl.truststore.location=$IT_DIR/cert.pem")
rc=0; timeout 120 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >>"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" || rc=$?
[ "$rc" -eq 1 ] || { echo "walcast exit code $rc without the client certificate the registry asks for, expected 1" >&2; exit 1; }
grep 'connector failed' "$IT_DIR/walcast.log" | tail -1 | grep -q 'keystore' 
cfg=$(tls_cfg "value.converter.schema.registry.ssl.truststore.location=$IT_DIR/cert.pem" \
  "value.converter.schema.registry.ssl.keystore.location=$IT_DIR/client.pem" \
  "value.converter.schema.registry.ssl.keystore.type=PEM" \
  "value.converter.schema.registry.ssl.key.location=$IT_DIR/client-key.pem")
walcast_start "$cfg"
wait_topic srv.public.t7 1
walcast_stop
echo "mutual TLS with a PEM client certificate: ok; without it the connector fails: ok"

# auto.register.schemas=false + use.latest.version=true: the latest registered version is used when it is
# the events' own schema; a table change it does not cover fails the connector with the way out
cfg=$(tls_cfg "value.converter.schema.registry.ssl.truststore.location=$IT_DIR/cert.pem" \
  "value.converter.schema.registry.ssl.keystore.location=$IT_DIR/client.pem" \
  "value.converter.schema.registry.ssl.keystore.type=PEM" \
  "value.converter.schema.registry.ssl.key.location=$IT_DIR/client-key.pem" \
  "value.converter.auto.register.schemas=false" "value.converter.use.latest.version=true")
walcast_start "$cfg"
psql_q -c "INSERT INTO t6 VALUES (2)"
wait_topic srv.public.t6 2
psql_q -c "ALTER TABLE t6 ADD COLUMN z int" -c "INSERT INTO t6 VALUES (3, 3)"
rc=0; wait "$WALCAST_PID" || rc=$?
[ "$rc" -eq 1 ] || { echo "walcast exit code $rc when the latest version does not fit, expected 1" >&2; exit 1; }
grep 'connector failed' "$IT_DIR/walcast.log" | tail -1 | tee "$IT_DIR/failed.txt" | grep -q 'use.latest.version=false'
echo "use.latest.version / auto.register.schemas=false: ok"
