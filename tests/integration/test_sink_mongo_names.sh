#!/usr/bin/env bash
# test_sink_mongo_names.sh: a collection the server will never create (FerretDB's SQLite backend refuses a
# name with '"' with a SQL error; MongoDB refuses '$') is a permanent refusal, not a transient one (issue 17
# item 9): with errors.tolerance=all and a dead-letter topic its records are dead-lettered naming the
# collection and the sink goes on with the other collections; without, the sink stops at once naming the
# collection, having applied what came before. FerretDB v1.24.2 (SQLite backend) or WALCAST_TEST_MONGODB_URI.
. "$(dirname "$0")/lib.sh"
it_init
mongo_start
BAD='we"ird'
[ -z "$FDB_DIR" ] && BAD='we$ird'   # MongoDB creates a collection named with '"'; '$' it refuses
kafka_start --topic it_mnames --topic it_mnames_dlq
MDB="wc_mnames_$$"
ev() {  # id table
  "$PY" -c 'import json, sys; print(json.dumps({"id": int(sys.argv[1])}) + "\t" + json.dumps({"op": "c", "after": {"id": int(sys.argv[1]), "v": "x"}, "source": {"name": "s", "table": sys.argv[2], "ts_us": 1}}))' "$1" "$2"
}
{ ev 1 good; ev 2 "$BAD"; ev 3 good; ev 4 other; } | "$PY" "$ROOT/tests/integration/with_schema.py" \
  | kcat -P -b "$BS" -t it_mnames -K $'\t' -X enable.idempotence=true
sink() {  # name database [key=value...]
  local f="$IT_DIR/$1.properties" name=$1 db=$2; shift 2
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.mongodb.MongoDbSinkConnector" "topics=it_mnames" \
    "mongodb.connection.string=$MURI" "sink.database=$db" "collection.name.format=\${source.table}" \
    "walcast.retry.backoff.max.ms=500" "$@" >"$f"
  echo "$f"
}
ids() {  # database collection
  "$PY" - "$MURI" "$1" "$2" <<'PYEOF'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=5000)
print(",".join(str(d["_id"]["id"]) for d in c[sys.argv[2]][sys.argv[3]].find().sort("_id.id", 1)))
PYEOF
}
# tolerant: the record for the refused collection is dead-lettered, the others applied
tol=$(sink it_mnames_tol "${MDB}_tol" "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_mnames_dlq" "errors.deadletterqueue.topic.replication.factor=1" \
  "errors.deadletterqueue.context.headers.enable=true")
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$tol" >"$IT_DIR/tol.out" 2>"$IT_DIR/tol.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_topic it_mnames_dlq 1 60
for _ in $(seq 1 300); do [ "$(ids "${MDB}_tol" other)" = 4 ] && break; sleep 0.1; done
[ "$(ids "${MDB}_tol" good)" = "1,3" ] || { echo "tolerant: good holds '$(ids "${MDB}_tol" good)'" >&2; exit 1; }
[ "$(ids "${MDB}_tol" other)" = 4 ] || { echo "tolerant: other holds '$(ids "${MDB}_tol" other)'" >&2; exit 1; }
walcast_stop
kcat -C -b "$BS" -t it_mnames_dlq -e -q -J >"$IT_DIR/dlq.jsonl"
"$PY" - "$IT_DIR/dlq.jsonl" "$BAD" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(recs) == 1, recs
h = dict(zip(recs[0]["headers"][0::2], recs[0]["headers"][1::2]))
assert h["__connect.errors.offset"] == "1", h
msg = h["__connect.errors.exception.message"]
assert sys.argv[2] in msg and "collection" in msg, msg
print("dead letter names the collection:", msg[:160])
PYEOF
# strict: the sink stops at once naming the collection; record 0 applied, nothing after
strict=$(sink it_mnames_strict "${MDB}_strict")
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$strict" >"$IT_DIR/strict.out" 2>"$IT_DIR/strict.log" || rc=$?
[ $rc -ne 124 ] || { echo "strict: still running after 60 s (retrying a refusal that never passes?)" >&2; tail -5 "$IT_DIR/strict.log" >&2; exit 1; }
[ $rc -ne 0 ] || { echo "strict: walcast exited 0" >&2; exit 1; }
grep 'msg="sink failed"' "$IT_DIR/strict.log" | grep -q 'it_mnames\[0\]@1' \
  || { echo "strict: no failure naming it_mnames[0]@1" >&2; cat "$IT_DIR/strict.log" >&2; exit 1; }
grep 'msg="sink failed"' "$IT_DIR/strict.log" | grep -qF "collection" || { echo "strict: the failure does not name the collection" >&2; exit 1; }
[ "$(ids "${MDB}_strict" good)" = 1 ] || { echo "strict: good holds '$(ids "${MDB}_strict" good)'" >&2; exit 1; }
echo "strict: stopped at it_mnames[0]@1 naming the collection, record 0 applied"
