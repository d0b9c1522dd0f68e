#!/usr/bin/env bash
# test_sink_transforms_mongo.sh: walcast's MongoDB sink side by side with Debezium's
# (io.debezium.connector.mongodb.MongoDbSinkConnector 3.6.1 on Kafka Connect 4.4.0, scripts/connect.sh), with
# the same sink configs and chains. walcast's source writes the topics once (JSON with schemas; inserts,
# updates, NULLs, a key change, deletes and their tombstones, a composite key, many column types); each sink
# applies them into its own database of one FerretDB 1.24.2:
#   - the change events through a tombstone Filter and a RegexRouter naming the collections (Debezium's
#     MongoDB sink reads the envelope itself): mongo_compare.py --diff compares Debezium's and walcast's
#     databases document by document (_id, fields in order, BSON types and values);
#   - the rows ExtractNewRecordState unwraps, then the RegexRouter: walcast's documents must be the same as
#     from the envelopes; Debezium's sink fails every such record (no "op" field) and writes nothing.
# Debezium's sink drops a whole put() without a word on several inputs; the configs below are what it
# takes to make it write (docs/compatibility.md, "MongoDB sink", "Side by side"): header.converter=
# StringConverter (a key change's __debezium.newkey header), the tombstone Filter, the source's
# decimal.handling.mode=string (FerretDB 1.x has no Decimal128) and fewer than 100 updates of existing
# documents per topic in one poll (FerretDB 1.x with SQLite hangs on more in one command).
set -euo pipefail
. "$(dirname "$0")/../reference/reflib.sh"
t0=$(date +%s)
ref_init
chmod 755 "$IT_DIR"
pg_start
mongo_start ref_cleanup
psql_q -f "$ROOT/tests/integration/sql/items_kv.sql"
kafka_start --topic srv.public.items --topic srv.public.kv
# decimal.handling.mode=string: FerretDB 1.x has no Decimal128 (see below)
walcast_start "$(connector_file src "table.include.list=public\\.(items|kv)" "decimal.handling.mode=string")"
# 50 updates in the bulk transaction: Debezium's sink sends a topic's poll as one command, and FerretDB 1.x
# with SQLite hangs on one that updates 100 existing documents or more
psql_q -v f2=2.5 -v bulk_last=299 -v upd_last=149 -v del_first=250 -v del_last=259 \
  -f "$ROOT/tests/integration/sql/items_kv_workload.sql"
wait_published debezium 120
walcast_stop
echo "sink mongo diff: topics produced ($(( $(date +%s) - t0 )) s)"

# mongo_sink NAME DATABASE TRANSFORMS...: the same sink config for Debezium's sink and walcast's; the chain
# ends in a RegexRouter naming the collections (srv.public.items -> items). header.converter=StringConverter:
# with Connect's default SimpleHeaderConverter, the __debezium.newkey header of the key change fails
# Debezium's KafkaDebeziumSinkRecord ("No schema defined for value of map field"), and its put() drops the
# whole batch silently
mongo_sink() {
  local name=$1 f="$IT_DIR/$1.properties" db=$2; shift 2
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.mongodb.MongoDbSinkConnector" "tasks.max=1" \
    'topics.regex=srv\\.public\\..*' "mongodb.connection.string=$MURI" "sink.database=$db" "delete.enabled=true" \
    "consumer.override.auto.offset.reset=earliest" "consumer.override.isolation.level=read_committed" \
    "header.converter=org.apache.kafka.connect.storage.StringConverter" "$@" \
    "transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter" \
    'transforms.route.regex=srv\\.public\\.(.*)' 'transforms.route.replacement=$1' >"$f"
  echo "$f"
}
# envelopes (what Debezium's MongoDB sink takes: its RelationalEventHandler reads op/before/after itself)
# without their tombstones (Debezium's sink dies on a null value's null schema, KafkaDebeziumSinkRecord.value,
# and its put() swallows that with the rest of the batch), then the router; and the unwrapped rows of
# ExtractNewRecordState (its default tombstone mode)
UNWRAP=("transforms=unwrap,route" "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState")
ENVELOPE=("transforms=tombstones,route" "transforms.tombstones.type=org.apache.kafka.connect.transforms.Filter"
  "transforms.tombstones.predicate=tombstone" "predicates=tombstone"
  "predicates.tombstone.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone")
dbz=$(mongo_sink dbz_mongo dbz "${ENVELOPE[@]}")
dbzu=$(mongo_sink dbz_mongo_unwrap dbz_unwrap "${UNWRAP[@]}")
wc=$(mongo_sink wc_mongo wc "${ENVELOPE[@]}")
wcu=$(mongo_sink wc_mongo_unwrap wc_unwrap "${UNWRAP[@]}")
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$wc" "$wcu" >>"$IT_DIR/walcast-sinks.out" 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
ref_connect_start "$BS" --mongodb "$dbz" "$dbzu"
echo "sink mongo diff: Debezium's MongoDB sinks RUNNING ($(( $(date +%s) - t0 )) s)"
# each must hold the source's rows (mongo_compare.py's own check, on kv), and Debezium's and walcast's
# databases must be the same document by document; walcast's unwrapped rows give the same documents
fail=0
for db in wc dbz wc_unwrap; do
  MONGO_COMPARE_TABLES=kv "$PY" "$ROOT/tests/integration/mongo_compare.py" 90 "$MURI" "$db" 2>&1 |
    tee -a "$IT_DIR/mongo_diff.txt" || fail=1
done
for pair in "dbz wc" "wc wc_unwrap"; do
  # shellcheck disable=SC2086
  "$PY" "$ROOT/tests/integration/mongo_compare.py" --diff "${SINK_DIFF_WAIT:-30}" "$MURI" $pair items kv 2>&1 |
    tee -a "$IT_DIR/mongo_diff.txt" || fail=1
done
# Debezium's sink takes no unwrapped row: each fails "Value document is missing or CDC operation is not a
# string" (logged, the record skipped) and its database stays empty (docs/compatibility.md)
cp "$REF_CONNECT/connect.log" "$IT_DIR/connect-mongo.log"
grep -q "Value document is missing or CDC operation is not a string" "$IT_DIR/connect-mongo.log" ||
  { echo "Debezium's MongoDB sink took unwrapped rows without its error: see docs/compatibility.md" >&2; fail=1; }
"$PY" - "$MURI" <<'PYEOF' || fail=1
import sys, pymongo
db = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)["dbz_unwrap"]
n = {c: db[c].count_documents({}) for c in db.list_collection_names()}
print("Debezium's MongoDB sink with ExtractNewRecordState wrote", n or "nothing")
sys.exit(1 if any(n.values()) else 0)
PYEOF
ref_connect_stop
walcast_stop
! grep -q "sink failed" "$IT_DIR/walcast.log"
[ $fail -eq 0 ]
echo "sink mongo diff: ok ($(( $(date +%s) - t0 )) s)"
