#!/usr/bin/env bash
# types_diff.sh: Debezium 3.6.1 and walcast on the type matrix of sql/types_schema.sql, snapshot and
# streaming, under several handling modes at once: one Kafka Connect worker runs every Debezium
# connector side by side, one walcast process every walcast connector; each side into its own Kafka;
# every topic compared record by record (ref.py compare, REF_SNAPSHOT=1 for the snapshot rows).
# sql/types_all.sql adds a table with every built-in base type of pg_type and its array (from the
# catalog), with a row of samples and a row of nulls, snapshot and streaming alike.
#   t1  snapshot; decimal double, include.schema.comments, topic.delimiter=_, heartbeats, transaction
#       metadata, include.unknown.datatypes
#   t2  snapshot; decimal precise, time connect, binary hex, hstore map, include.unknown.datatypes,
#       include.schema.comments
#   t4  snapshot; binary base64, money.fraction.digits=1, include.unknown.datatypes, defaults otherwise
#   t3  streaming only; decimal string, time adaptive_time_microseconds, binary base64-url-safe,
#       interval string, heartbeats
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -f "$REF/sql/types_schema.sql"
psql_q -f "$REF/sql/types_all.sql" 2>/dev/null
psql_q -v base=0 -f "$REF/sql/types_rows.sql" 2>/dev/null
psql_q -c "INSERT INTO types_sentinel VALUES (1)"
psql_q -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
ref_kafka_start KA KB

ref_pair t1 t1 "snapshot.mode=initial" \
  "decimal.handling.mode=double" \
  "include.schema.comments=true" \
  "topic.delimiter=_" \
  "heartbeat.interval.ms=1000" \
  "provide.transaction.metadata=true" \
  "include.unknown.datatypes=true"
ref_pair t2 t2 "snapshot.mode=initial" \
  "time.precision.mode=connect" \
  "binary.handling.mode=hex" \
  "hstore.handling.mode=map" \
  "include.unknown.datatypes=true" \
  "include.schema.comments=true"
ref_pair t4 t4 "snapshot.mode=initial" \
  "binary.handling.mode=base64" \
  "money.fraction.digits=1" \
  "include.unknown.datatypes=true" \
  "time.precision.mode=adaptive" \
  "decimal.handling.mode=precise"
ref_pair t3 t3 \
  "decimal.handling.mode=string" \
  "time.precision.mode=adaptive_time_microseconds" \
  "binary.handling.mode=base64-url-safe" \
  "interval.handling.mode=string" \
  "heartbeat.interval.ms=1000"

# Avro: Confluent's converter is not on Maven Central, so Debezium cannot be run with it here. walcast's
# Avro (t5, with the registry fixture) is decoded by python3-avro with the registered writer schemas and
# compared field by field with walcast's JSON of the same events (t6), which the rest of this test
# compares with Debezium's: the type matrix through the Avro converter, streaming (tests/integration/
# avro_check.py).
registry_start
ref_pair t5 t5 "include.unknown.datatypes=true" \
  "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
  "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL"
ref_pair t6 t6 "include.unknown.datatypes=true" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false"

tables="num_edge vec odd_arr unk hs edge_time defs defs2 types_every types_sentinel"
multi=()
for t in $tables; do multi+=("t1_public_$t" "t2.public.$t" "t3.public.$t" "t4.public.$t"); done
$PY "$REF/ref.py" topics "$KA" 3 "${multi[@]}"
$PY "$REF/ref.py" topics "$KB" 3 "${multi[@]}"

ref_connect_start "$KA" "$IT_DIR"/t[1-4].dbz.properties
ref_slot_wait dbz_t1 dbz_t2 dbz_t3 dbz_t4
ref_walcast_start "$KB" connect-offsets "$IT_DIR"/t[1-6].wc.properties
ref_slot_wait wc_t1 wc_t2 wc_t3 wc_t4 wc_t5 wc_t6
for bs in "$KA" "$KB"; do
  $PY "$REF/ref.py" wait "$bs" 90 t1_public_types_sentinel:1 t2.public.types_sentinel:1 t4.public.types_sentinel:1
done
(cd "$REF/sql" && psql_q -f types_stream.sql >/dev/null)
for bs in "$KA" "$KB"; do
  $PY "$REF/ref.py" wait "$bs" 90 t1_public_types_sentinel:2 t2.public.types_sentinel:2 t3.public.types_sentinel:1 \
    t4.public.types_sentinel:2
done
REF_SNAPSHOT=1 $PY "$REF/ref.py" compare "$KA" "$KB" 30 t1 t2 t3 t4 | tee "$IT_DIR/compare.txt"
$PY "$REF/ref.py" wait "$KB" 90 t5.public.types_sentinel:1 t6.public.types_sentinel:1
sufs=(); for t in $tables; do sufs+=(".public.$t"); done
$PY "$ROOT/tests/integration/avro_check.py" "$KB" "$SR_URL" t5 t6 "${sufs[@]}"
walcast_stop
echo "types differential test took $(( $(date +%s) - t0 ))s"
