#!/usr/bin/env bash
# differential.sh: Debezium 3.6.1 (Kafka Connect standalone) and walcast read the same PostgreSQL
# through their own slots, created before the workload, with the same connector configs, each
# publishing to its own real Kafka; every topic is then compared record by record (ref.py compare):
# partition, key bytes, value (parsed JSON, and the raw text), headers. Three connector pairs share
# the run, each with its own topic.prefix:
#   r1  JSON with schemas; truncate (skipped.operations=none), transaction metadata, heartbeats,
#       masking/truncation/hashing, column exclusion, message.key.columns, table.exclude.list
#   r2  JSON without schemas; decimal string, time connect, binary hex, interval string, hstore map,
#       tombstones.on.delete=false, table.include.list
#   r3  JSON with schemas; decimal double, time adaptive_time_microseconds, binary base64-url-safe,
#       schema.include.list, column.exclude.list
#   r4  key without schemas, value with; binary base64, skipped.operations=u, a custom
#       unavailable.value.placeholder, message.prefix.exclude.list, column.include.list
# The workload: tests/integration/sql/workload.sql (every type, op, replica identity, TOAST, key
# changes, messages, truncate, hostile identifiers), then sql/changes.sql (schema changes mid-stream).
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -f "$ROOT/tests/integration/sql/schema.sql"
psql_q -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
ref_kafka_start KA KB
echo "kafka x2 started after $(( $(date +%s) - t0 ))s"

ref_pair r1 r1 \
  "skipped.operations=none" \
  "provide.transaction.metadata=true" \
  "heartbeat.interval.ms=1000" \
  'column.mask.with.4.chars=public\\.masked\\.secret' \
  "column.truncate.to.5.chars=public.masked.long_text" \
  "column.mask.hash.v2.SHA-256.with.salt.pepper=public.masked.hashed" \
  "column.exclude.list=public.masked.skipme" \
  "message.key.columns=public.keyed:a,b" \
  'table.exclude.list=public\\.excluded_.*'
ref_pair r2 r2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "decimal.handling.mode=string" \
  "time.precision.mode=connect" \
  "binary.handling.mode=hex" \
  "interval.handling.mode=string" \
  "hstore.handling.mode=map" \
  "tombstones.on.delete=false" \
  'table.include.list=public\\.(types_all|ident_.*|toasty.*|evolve|edge|edge2|edge3|sentinel)'
ref_pair r3 r3 \
  "decimal.handling.mode=double" \
  "time.precision.mode=adaptive_time_microseconds" \
  "binary.handling.mode=base64-url-safe" \
  "schema.include.list=public" \
  'column.exclude.list=public\\.types_all\\.c_(xml|point)'

ref_pair r4 r4 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "binary.handling.mode=base64" \
  "skipped.operations=u" \
  "unavailable.value.placeholder=__toast__" \
  "message.prefix.exclude.list=audit" \
  'column.include.list=public\\.(toasty|toasty_full|sentinel|ident_default|evolve|edge2)\\..*'

# keyed data topics get 3 partitions on both sides, so the partition a key lands on is compared too
multi=()
for p in r1 r2 r3 r4; do
  for t in types_all ident_default ident_full ident_index toasty toasty_full keyed masked evolve edge edge2 edge3; do multi+=("$p.public.$t"); done
done
$PY "$REF/ref.py" topics "$KA" 3 "${multi[@]}"
$PY "$REF/ref.py" topics "$KB" 3 "${multi[@]}"

t1=$(date +%s)
ref_connect_start "$KA" "$IT_DIR"/r[1-4].dbz.properties
ref_slot_wait dbz_r1 dbz_r2 dbz_r3 dbz_r4
echo "connect + debezium streaming after $(( $(date +%s) - t1 ))s"
ref_walcast_start "$KB" connect-offsets "$IT_DIR"/r[1-4].wc.properties
ref_slot_wait wc_r1 wc_r2 wc_r3 wc_r4

psql_q -f "$ROOT/tests/integration/sql/workload.sql" >/dev/null
psql_q -f "$REF/sql/changes.sql" >/dev/null
for bs in "$KA" "$KB"; do
  $PY "$REF/ref.py" wait "$bs" 90 r1.public.sentinel:3 r2.public.sentinel:3 r3.public.sentinel:3 r4.public.sentinel:3
done
$PY "$REF/ref.py" compare "$KA" "$KB" 30 r1 r2 r3 r4 | tee "$IT_DIR/compare.txt"
walcast_stop
echo "differential test took $(( $(date +%s) - t0 ))s"
