#!/usr/bin/env bash
# test_sink_dlq.sh: poison records for a JDBC sink into PostgreSQL. With errors.tolerance=all and a
# dead-letter topic, an undecodable record and one the target refuses (a NUL in a text value) land in the
# dead-letter topic with Kafka Connect's __connect.errors.* headers and the sink goes on; without, the sink
# stops as failed naming topic, partition, offset and reason, and applies nothing past the poison.
# Records without a schema (JsonConverter with schemas.enable=false: a numeric as base64 text) are poison
# too, with a reason naming the converter setting; with primary.key.mode=record_key a schemaless key is.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE DATABASE target" -c "CREATE DATABASE target2" -c "CREATE DATABASE target3"
kafka_start --topic it_sinkin --topic it_dlq --topic it_clean
{
  printf '%s\t%s\n' '{"id":1}' '{"op":"c","after":{"id":1,"v":"one"},"source":{"ts_ms":1}}'
  printf '%s\t%s\n' '{"id":9}' 'not json{'
  printf '%s\t%s\n' '{"id":2}' '{"op":"c","after":{"id":2,"v":"two"},"source":{"ts_ms":2}}'
  printf '%s\t%s\n' '{"id":4}' '{"op":"c","after":{"id":4,"v":"nul \u0000 inside"},"source":{"ts_ms":3}}'
  printf '%s\t%s\n' '{"id":3}' '{"op":"c","after":{"id":3,"v":"three"},"source":{"ts_ms":4}}'
  printf '%s\t%s\n' '{"id":1}' '{"op":"u","after":{"id":1,"v":"one again"},"source":{"ts_ms":5}}'
} | "$PY" "$ROOT/tests/integration/with_schema.py" | kcat -P -b "$BS" -t it_sinkin -K $'\t' -X enable.idempotence=true
# 6: schemaless (a numeric as the base64 text JsonConverter writes); 7: a schemaless key, the value with its schema
{
  printf '%s\t%s\n' '{"id":5}' '{"op":"c","after":{"id":5,"v":"EvQ="},"source":{"ts_ms":6}}'
  printf '%s\t%s\n' '{"id":6}' '{"op":"c","after":{"id":6,"v":"six"},"source":{"ts_ms":7}}' \
    | "$PY" "$ROOT/tests/integration/with_schema.py" | awk -F'\t' '{ print "{\"id\":6}\t" $2 }'
} | kcat -P -b "$BS" -t it_sinkin -K $'\t' -X enable.idempotence=true
sink() {  # name db [key=value...]
  local f="$IT_DIR/$1.properties" name=$1 db=$2; shift 2
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=it_sinkin" \
    "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/$db" "connection.username=postgres" \
    "connection.password=hunter2-secret" "insert.mode=upsert" "primary.key.mode=record_key" "schema.evolution=basic" \
    "$@" >"$f"
  echo "$f"
}
tol=$(sink it_dlqsink target "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_dlq" "errors.deadletterqueue.topic.replication.factor=1" \
  "errors.deadletterqueue.context.headers.enable=true")
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$tol" >"$IT_DIR/walcast.out" 2>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_topic it_dlq 4
for _ in $(seq 1 300); do
  [ "$(psql -X -At -d target -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM it_sinkin" 2>/dev/null)" = "1=one again,2=two,3=three" ] && break
  sleep 0.1
done
got=$(psql -X -At -d target -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM it_sinkin")
[ "$got" = "1=one again,2=two,3=three" ] || { echo "target holds '$got'" >&2; exit 1; }
walcast_stop
kcat -C -b "$BS" -t it_dlq -e -q -J >"$IT_DIR/dlq.jsonl"
"$PY" - "$IT_DIR/dlq.jsonl" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(recs) == 4, recs
for r, off, stage in zip(recs, ("1", "3", "6", "7"), ("VALUE_CONVERTER", "TASK_PUT", "VALUE_CONVERTER", "VALUE_CONVERTER")):
    h = dict(zip(r["headers"][0::2], r["headers"][1::2]))
    assert h["__connect.errors.topic"] == "it_sinkin", h
    assert h["__connect.errors.partition"] == "0", h
    assert h["__connect.errors.offset"] == off, h
    assert h["__connect.errors.connector.name"] == "it_dlqsink", h
    assert h["__connect.errors.stage"] == stage, h
    assert h["__connect.errors.exception.message"], h
    assert "hunter2" not in json.dumps(r), r
    if off in ("6", "7"):   # no schema: the reason names the converter setting to change
        side = "value" if off == "6" else "key"
        assert side + ".converter.schemas.enable=true" in h["__connect.errors.exception.message"], h
print("dead letters ok:", [r["key"] for r in recs])
PYEOF
# no tolerance: the sink fails at the first poison record, naming it; nothing after it is applied
strict=$(sink it_strictsink target2)
if "$WALCAST" run --worker "$IT_DIR/worker.properties" "$strict" >"$IT_DIR/strict.out" 2>"$IT_DIR/strict.log"; then
  echo "the strict sink did not fail" >&2; exit 1
fi
grep -q 'msg="sink failed".*it_sinkin\[0\]@1' "$IT_DIR/strict.log" || { echo "no failure naming it_sinkin[0]@1" >&2; cat "$IT_DIR/strict.log" >&2; exit 1; }
! grep -q "hunter2" "$IT_DIR/strict.log" "$IT_DIR/walcast.log"
[ "$(psql -X -At -d target2 -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM it_sinkin")" = "1" ]
[ "$(psql -X -At -d target2 -c "SELECT \"offset\" FROM walcast_sink_offsets WHERE sink = 'it_strictsink'")" = "1" ]
echo "strict sink stopped at it_sinkin[0]@1 with only record 0 applied"
# primary.key.mode=kafka: every record is a row keyed by its coordinates (errors.tolerance=all without a
# dead-letter topic: poison records are skipped and logged)
kpk=$(sink it_kafkapk target3 "primary.key.mode=kafka" "insert.mode=insert" "errors.tolerance=all")
sed -i '/^primary.key.mode=record_key$/d; /^insert.mode=upsert$/d' "$kpk"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$kpk" >"$IT_DIR/kpk.out" 2>"$IT_DIR/kpk.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 300); do
  [ "$(psql -X -At -d target3 -c "SELECT \"offset\" FROM walcast_sink_offsets" 2>/dev/null)" = 8 ] && break
  sleep 0.1
done
walcast_stop
got=$(psql -X -At -d target3 -c "SELECT string_agg(__connect_topic || ':' || __connect_partition || ':' || __connect_offset || '=' || v, ',' ORDER BY __connect_offset) FROM it_sinkin")
[ "$got" = "it_sinkin:0:0=one,it_sinkin:0:2=two,it_sinkin:0:4=three,it_sinkin:0:5=one again,it_sinkin:0:7=six" ] \
  || { echo "primary.key.mode=kafka: got '$got'" >&2; exit 1; }
echo "primary.key.mode=kafka: one row per record, keyed by topic, partition, offset (the schemaless one skipped, the schemaless key unused)"

# the dead-letter topic is made when the sink starts, as Kafka Connect makes it (one partition, the replication
# factor set; no dead letter yet: it_clean is empty); a replication factor Kafka refuses (Connect's default 3 on
# this one broker) fails the connector at start naming the key to correct
made=$(sink it_dlqmade target3 "topics=it_clean" "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_dlq_made" \
  "errors.deadletterqueue.topic.replication.factor=1")
sed -i '/^topics=it_sinkin$/d' "$made"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$made" >"$IT_DIR/made.out" 2>"$IT_DIR/made.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_log 'msg="sink partition assigned" connector=it_dlqmade' 1 30 "$IT_DIR/made.log"
got=$("$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" describe it_dlq_made 2>&1) \
  || { echo "the dead-letter topic it_dlq_made was not made at the sink's start: $got" >&2; exit 1; }
case $got in partitions=1\ replicas=1\ *) ;; *) echo "it_dlq_made: $got, expected 1 partition, 1 replica" >&2; exit 1 ;; esac
walcast_stop
rf3=$(sink it_dlqrf3 target3 "topics=it_clean" "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_dlq_rf3")
sed -i '/^topics=it_sinkin$/d' "$rf3"
if timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$rf3" >"$IT_DIR/rf3.out" 2>"$IT_DIR/rf3.log"; then
  echo "a dead-letter topic with replication factor 3 on one broker did not fail the sink" >&2; exit 1
fi
grep -q 'a connector ended with an error.*cannot set up the dead-letter topic: Kafka refused to create topic it_dlq_rf3.*correct errors.deadletterqueue.topic.replication.factor in the connector' "$IT_DIR/rf3.log" \
  || { echo "no failure naming errors.deadletterqueue.topic.replication.factor" >&2; tail -5 "$IT_DIR/rf3.log" >&2; exit 1; }
echo "dead-letter topic made at start (1 partition, replication factor 1); replication factor 3 refused, the key named"
