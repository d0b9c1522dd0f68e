#!/usr/bin/env bash
# test_sink_transforms.sh: transforms= on the sinks (issue 23 item 2), on the real broker. Source tables ->
# walcast source (Debezium envelopes) -> Kafka -> JDBC sinks into PostgreSQL and MariaDB and the MongoDB sink
# into FerretDB, each with ExtractNewRecordState (tombstone mode; delete-to-tombstone on MariaDB) and a
# RegexRouter naming the tables by the topic the chain gives. And a second source connector that unwraps on
# its side (delete-to-tombstone: deletes are Kafka nulls) read by JDBC sinks without transforms (tables
# itflat_public_*, compared through views). Inserts,
# updates, key changes, deletes, NULLs; every target must equal the source row by row (sink_compare.py,
# mongo_compare.py), as it does without transforms (test_sink_jdbc.sh, test_sink_mongo.sh). JSON with
# schemas, or Avro (SINK_FORMAT=avro).
# And a sink with TimestampRouter, which routes by the Kafka record timestamp a sink record has.
. "$(dirname "$0")/lib.sh"
it_init
chmod 755 "$IT_DIR"
pg_start
mariadb_start
mongo_start
MDB="walcast_tf_$$"
psql_q -c "CREATE DATABASE target" -c "CREATE DATABASE flat"
my_q -e "CREATE DATABASE target; CREATE DATABASE flat"
psql_q -f "$ROOT/tests/integration/sql/items_kv.sql"
kafka_start --topic srv.public.items --topic srv.public.kv --topic itflat.public.items --topic itflat.public.kv \
  --topic connect-offsets
# SINK_FORMAT=avro (test_sink_transforms_avro.sh): the sources write Avro through the registry fixture, the
# sinks decode it before their chain
conv=() sinkconv=()
if [ "${SINK_FORMAT:-json}" = avro ]; then
  registry_start
  conv=("key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL"
    "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
  sinkconv=("value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
fi
U=io.debezium.transforms.ExtractNewRecordState
R=org.apache.kafka.connect.transforms.RegexRouter
src=$(connector_file src "name=src" "table.include.list=public\\.(items|kv)" "${conv[@]}")
flat=$(connector_file flat "name=flat" "slot.name=flat" "topic.prefix=itflat" "table.include.list=public\\.(items|kv)" \
  "${conv[@]}" "transforms=unwrap" "transforms.unwrap.type=$U" "transforms.unwrap.delete.tombstone.handling.mode=delete-to-tombstone")
jdbc=("connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "insert.mode=upsert" "delete.enabled=true"
  "primary.key.mode=record_key" "schema.evolution=basic" "quote.identifiers=true" "batch.size=200" "${sinkconv[@]}")
unwrap=("transforms=unwrap,route" "transforms.unwrap.type=$U" "transforms.route.type=$R"
  'transforms.route.regex=srv\.public\.(.*)' 'transforms.route.replacement=$1')
sink() {   # sink NAME key=value...
  local f="$IT_DIR/$1.properties"; shift
  { printf '%s\n' "$@"; } >"$f"
  echo "$f"
}
pg=$(sink pg "name=tf_pg" "${jdbc[@]}" "${unwrap[@]}" 'topics.regex=srv\.public\..*' \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/target" "connection.username=postgres")
my=$(sink my "name=tf_my" "${jdbc[@]}" "${unwrap[@]}" "transforms.unwrap.delete.tombstone.handling.mode=delete-to-tombstone" \
  'topics.regex=srv\.public\..*' "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/target" "connection.username=root")
mongo=$(sink mongo "name=tf_mongo" "connector.class=io.debezium.connector.mongodb.MongoDbSinkConnector" "${unwrap[@]}" \
  "topics=srv.public.kv" "mongodb.connection.string=$MURI" "sink.database=$MDB" "delete.enabled=true" "batch.size=200" \
  "${sinkconv[@]}")
pgflat=$(sink pgflat "name=flat_pg" "${jdbc[@]}" "topics=itflat.public.items,itflat.public.kv" \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/flat" "connection.username=postgres")
# TimestampRouter on a sink: routed by the Kafka record timestamp (the source's produce time), then named
pgts=$(sink pgts "name=ts_pg" "${jdbc[@]}" "topics=srv.public.kv" "transforms=unwrap,ts,route" "transforms.unwrap.type=$U" \
  "transforms.ts.type=org.apache.kafka.connect.transforms.TimestampRouter" 'transforms.ts.topic.format=${topic}_${timestamp}' \
  "transforms.ts.timestamp.format=yyyy" "transforms.route.type=$R" 'transforms.route.regex=srv\.public\.(.*)' \
  'transforms.route.replacement=$1' "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/flat" "connection.username=postgres")
myflat=$(sink myflat "name=flat_my" "${jdbc[@]}" "topics=itflat.public.items,itflat.public.kv" \
  "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/flat" "connection.username=root")

WALCAST_SOURCES=2 walcast_start "$src" "$flat" "$pg" "$my" "$mongo" "$pgflat" "$myflat" "$pgts"

psql_q -v f2=-0.0 -v bulk_last=1099 -v upd_last=599 -v del_first=900 -v del_last=949 \
  -f "$ROOT/tests/integration/sql/items_kv_workload.sql"
wait_published debezium
wait_published flat
# the source-unwrapped topics' tables are named by their topic (itflat_public_items): compared through views
for _ in $(seq 1 600); do
  [ "$(psql -X -At -d flat -c "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'itflat_public_%'")" = 2 ] &&
    [ "$(my_q flat -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'flat' AND table_name LIKE 'itflat_public_%'")" = 2 ] && break
  sleep 0.1
done
for t in items kv; do
  psql_q -d flat -c "CREATE VIEW $t AS SELECT * FROM itflat_public_$t"
  my_q flat -e "CREATE VIEW $t AS SELECT * FROM itflat_public_$t"
done
export SINK_COMPARE_TABLES=items,kv
"$PY" "$ROOT/tests/integration/sink_compare.py" 90 postgres target "$MYPORT" target
"$PY" "$ROOT/tests/integration/sink_compare.py" 90 postgres flat "$MYPORT" flat
MONGO_COMPARE_TABLES=kv "$PY" "$ROOT/tests/integration/mongo_compare.py" 90 "$MURI" "$MDB"
# the unwrapped rows really went through the chain: no envelope column reached a target, the tables are
# named by the routed topic (srv_public_items would be the name without it)
[ "$(psql -X -At -d target -c "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'srv%'")" = 0 ]
! psql -X -At -d target -c '\d items' | grep -qE '^(before|after|op|source)\|'
year=$(date -u +%Y)
want=$(psql -X -At -c "SELECT count(*) FROM kv")
for _ in $(seq 1 300); do
  got=$(psql -X -At -d flat -c "SELECT count(*) FROM kv_$year" 2>/dev/null || true)
  [ "$got" = "$want" ] && break
  sleep 0.2
done
[ "$got" = "$want" ] || { echo "TimestampRouter on a sink: kv_$year has '$got' rows, kv $want" >&2; exit 1; }
grep -q 'msg="sink failed"' "$IT_DIR/walcast.log" && { grep 'sink failed' "$IT_DIR/walcast.log" >&2; exit 1; }
walcast_stop
echo "sink transforms: PostgreSQL, MariaDB and FerretDB targets equal the source (unwrapped on the sink and on the source)"
