#!/usr/bin/env bash
# test_avro.sh: the type-coverage workload of test_events through two connectors at once: one with the
# Avro converter (registry fixture), one with the JSON converter. Every Avro key and value is decoded by
# python3-avro with the writer schema fetched from the registry by the id in the record, and compared
# field by field with the JSON payload of the same event. The registered schemas of types_all are
# golden files; hostile identifiers go through schema/field name adjustment (avro).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -f "$ROOT/tests/integration/sql/schema.sql"
SUFFIXES=(.public.types_all .public.ident_default .public.ident_full .public.ident_index .public.ident_nothing
          .public.toasty .public.toasty_full ".Odd_Schema.We_ird__DROP_TABLE_x__--" .message .public.truncme
          .public.masked .public.keyed .public.sentinel .transaction)
args=(); for s in "${SUFFIXES[@]}"; do args+=(--topic "srv$s" --topic "jsn$s"); done
kafka_start "${args[@]}"
registry_start
common=("skipped.operations=none" "provide.transaction.metadata=true"
  "column.mask.with.4.chars=public\\.masked\\.secret" "column.truncate.to.5.chars=public.masked.long_text"
  "column.mask.hash.v2.SHA-256.with.salt.pepper=public.masked.hashed" "column.exclude.list=public.masked.skipme"
  "message.key.columns=public.keyed:a,b" "table.exclude.list=public.excluded_.*"
  "schema.name.adjustment.mode=avro" "field.name.adjustment.mode=avro")
avro=$(connector_file avro "${common[@]}" "name=it-avro" "slot.name=slot_avro" \
  "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
  "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
json=$(connector_file json "${common[@]}" "name=it-json" "slot.name=slot_json" "topic.prefix=jsn" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$avro" "$json" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!; IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 100); do [ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge 2 ] && break; sleep 0.1; done
psql_q -f "$ROOT/tests/integration/sql/workload.sql" >/dev/null
wait_topic srv.public.sentinel 1
wait_topic jsn.public.sentinel 1
wait_published slot_avro
wait_published slot_json
$PY "$ROOT/tests/integration/avro_check.py" "$BS" "$SR_URL" srv jsn "${SUFFIXES[@]}"

# golden: the schemas registered for types_all, byte for byte
for part in key value; do
  curl -sf "$SR_URL/subjects/srv.public.types_all-$part/versions/latest" |
    $PY -c 'import json,sys; print(json.load(sys.stdin)["schema"])' >"$IT_DIR/types_all-$part.avsc"
  golden_check "avro_types_all_$part.avsc" "$IT_DIR/types_all-$part.avsc"
done
# hostile names were adjusted, as Debezium's avro mode does
curl -sf "$SR_URL/subjects/srv.Odd_Schema.We_ird__DROP_TABLE_x__---value/versions/latest" >"$IT_DIR/odd.json"
grep -q 'We_ird__DROP_TABLE_x___' "$IT_DIR/odd.json"
# one registration per subject: ids are cached (two registry requests per table: key and value)
regs=$(grep -c '^POST /subjects/.*/versions' "$IT_DIR/registry.requests")
subjects=$(curl -sf "$SR_URL/subjects" | $PY -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "registry: $regs registrations for $subjects subjects"
[ "$regs" -eq "$subjects" ]
walcast_stop
grep -q "walcast stopped" "$IT_DIR/walcast.log"
