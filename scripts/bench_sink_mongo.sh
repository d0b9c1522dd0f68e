#!/usr/bin/env bash
# bench_sink_mongo.sh (called by bench_sink.sh, part of `make bench`): apply rows/s of one walcast MongoDB
# sink (io.debezium.connector.mongodb.sink.MongoDbSinkConnector keys) draining the topic bench_sink.sh
# filled, into FerretDB v1.24.2 (scripts/ferretdb.sh) on its SQLite and on its PostgreSQL backend, next to
# the bulk-load limit: pymongo's unordered insert_many of the very documents walcast wrote. Also:
#  - what a replace-with-upsert by _id costs FerretDB (pymongo, unordered bulk writes of 32), on 1000 new
#    documents and on 20 existing ones in a collection of ROWS documents: the figure behind walcast's choice
#    of one unordered insert first for rows new at the source;
#  - batch reduction: a topic of the same size where each key changes 5 times in a row (1 create, 4
#    updates), which walcast must reduce to one write per key per batch (records/s against the topic of
#    one change per key).
# FerretDB is not MongoDB: it stores documents as JSON in SQLite or PostgreSQL and scans where MongoDB
# uses an index, so these figures say little about a real MongoDB.
#   bench_sink_mongo.sh WORKER_PROPERTIES TOPIC ROWS BATCH
# Environment: BENCH_SINK_MONGO_BACKENDS (default "sqlite postgresql"). Everything started here is
# stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKER=$1 TOPIC=$2 ROWS=$3 BATCH=$4
BACKENDS=${BENCH_SINK_MONGO_BACKENDS:-sqlite postgresql}
PY=/usr/bin/python3
WORK=$(mktemp -d /tmp/walcast-bench-mongo.XXXXXX)
chmod 755 "$WORK"   # the PostgreSQL backend's cluster runs as an unprivileged user below it
PIDS=()
FDB=""
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done
  [ -n "$FDB" ] && bash "$ROOT/scripts/ferretdb.sh" stop "$FDB"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
die() { echo "bench-sink-mongo: $*" >&2; exit 1; }
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORKER")
"$PY" -c 'import pymongo' 2>/dev/null || die "needs python3-pymongo (scripts/install-deps.sh)"

# the reduction topic: ROWS records over ROWS/5 keys, 5 consecutive changes per key
RTOPIC=bench_mongo_reduce
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 "$RTOPIC" >/dev/null
# (JSON with schemas, as walcast's source writes it: schemaless records would each get a table shape of their own)
"$PY" - "$ROWS" <<'PYEOF' | kcat -P -b "$BS" -t "$RTOPIC" -K $'\t' -X enable.idempotence=true -X linger.ms=50
import json, sys
rows = int(sys.argv[1])
out = sys.stdout
f = lambda t, n, opt=True: {"type": t, "optional": opt, "field": n}
row = [f("int32", "id", False), f("int32", "v"), f("string", "t")]
vs = {"type": "struct", "optional": False, "name": "bench.reduce.Envelope", "fields": [
    {"type": "struct", "optional": True, "name": "bench.reduce.Value", "field": "before", "fields": row},
    {"type": "struct", "optional": True, "name": "bench.reduce.Value", "field": "after", "fields": row},
    {"type": "struct", "optional": False, "name": "io.debezium.connector.postgresql.Source", "field": "source",
     "fields": [f("string", "name", False), f("int64", "ts_ms", False), f("int64", "ts_us"), f("int64", "lsn")]},
    f("string", "op", False), f("int64", "ts_ms")]}
ks = {"type": "struct", "optional": False, "name": "bench.reduce.Key", "fields": [f("int32", "id", False)]}
vsj, ksj = json.dumps(vs, separators=(",", ":")), json.dumps(ks, separators=(",", ":"))
for i in range(rows):
    k, j = i // 5 + 1, i % 5
    p = {"before": None, "after": {"id": k, "v": k * 7 + j, "t": "row %d some text to carry" % k},
         "source": {"name": "bench", "ts_ms": 1700000000000 + i // 1000, "ts_us": 1700000000000000 + i, "lsn": 1000 + i},
         "op": "c" if j == 0 else "u", "ts_ms": 1700000000000}
    out.write('{"schema":%s,"payload":{"id":%d}}\t{"schema":%s,"payload":%s}\n'
              % (ksj, k, vsj, json.dumps(p, separators=(",", ":"))))
PYEOF

# run_sink NAME TOPIC URI DB -> RES="rows/s seconds": from the first stored offset to the last
run_sink() {
  local name=$1 topic=$2 uri=$3 db=$4
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.mongodb.sink.MongoDbSinkConnector" \
    "topics=$topic" "mongodb.connection.string=$uri" "sink.database=$db" "delete.enabled=true" \
    "batch.size=$BATCH" >"$WORK/$name.properties"
  "$ROOT/build/walcast" run --worker "$WORKER" "$WORK/$name.properties" 2>"$WORK/$name.log" >/dev/null &
  local pid=$!
  PIDS+=($pid)
  RES=$("$PY" - "$uri" "$db" "$ROWS" "$pid" <<'PYEOF'
import os, sys, time, pymongo
uri, db, rows, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)[db]["walcast_sink_offsets"]
t0 = n0 = None
deadline = time.time() + 1800
while time.time() < deadline:
    n = sum(int(d.get("offset", 0)) for d in c.find())
    now = time.time()
    if t0 is None and n > 0:
        t0, n0 = now, n
    if n >= rows:
        print("%.0f %.1f" % ((rows - n0) / max(now - t0, 1e-6), now - t0))
        sys.exit(0)
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the sink exited")
    time.sleep(0.05)
sys.exit("the sink applied only %d of %d records in 1800 s" % (n, rows))
PYEOF
) || die "$name: $RES $(tail -3 "$WORK/$name.log")"
  kill -INT $pid; wait $pid || true
}

# limit DB: insert_many (unordered) of the documents walcast wrote, into an empty collection -> docs/s;
# then replace-upserts by _id (unordered bulk writes of 32, as walcast sends update commands to FerretDB)
# of 1000 new documents and of 20 existing ones in the full collection
limits() {
  "$PY" - "$1" "$2" <<'PYEOF'
import sys, time, pymongo
from pymongo import ReplaceOne
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
name = [n for n in db.list_collection_names() if not n.startswith("walcast_")][0]
docs = list(db[name].find())
rates = []
for r in range(3):   # the median of 3 runs, each into an empty collection
    t = time.time()
    db["limit%d" % r].insert_many(docs, ordered=False)
    rates.append(len(docs) / (time.time() - t))
def upserts(coll, part):   # milliseconds per statement
    t = time.time()
    for k in range(0, len(part), 32):
        coll.bulk_write([ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in part[k:k + 32]], ordered=False)
    return 1000 * (time.time() - t) / len(part)
new = upserts(db["upsert_new"], docs[:1000])
old = upserts(db["limit0"], docs[-20:])
print("%.0f %.1f %.0f" % (sorted(rates)[1], new, old))
PYEOF
}

declare -A W_RATE L_INS L_NEW L_OLD R_RATE
echo "bench-sink-mongo: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for be in $BACKENDS; do
  FDB="$WORK/fdb-$be"
  bash "$ROOT/scripts/ferretdb.sh" start --backend "$be" "$FDB" >"$WORK/fdb-$be.out" 2>"$WORK/fdb-$be.log" \
    || die "FerretDB ($be) did not start: $(tail -3 "$WORK/fdb-$be.log")"
  uri=$(sed -n 's/^uri=//p' "$WORK/fdb-$be.out")
  runs=()
  for r in 1 2 3; do   # the median of 3 runs, each into an empty database
    run_sink "bench-mongo-$be-$r" "$TOPIC" "$uri" "bench$r"
    runs+=("${RES%% *}")
    echo "bench-sink-mongo: $be: walcast run $r: $ROWS rows in ${RES#* } s (${RES%% *} rows/s)"
  done
  W_RATE[$be]=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
  read -r L_INS[$be] L_NEW[$be] L_OLD[$be] <<<"$(limits "$uri" bench1)"
  run_sink "bench-mongo-red-$be" "$RTOPIC" "$uri" reduce; read -r R_RATE[$be] _ <<<"$RES"
  bash "$ROOT/scripts/ferretdb.sh" stop "$FDB"
  FDB=""
done

echo
echo "== apply into MongoDB: $ROWS rows, one walcast MongoDB sink, batch.size=$BATCH (JSON with schemas)"
echo "   the server is FerretDB v1.24.2 (a MongoDB wire-protocol server over SQLite or PostgreSQL), not MongoDB:"
echo "   it stores JSON and scans where MongoDB uses an index, so these figures say little about a real MongoDB"
echo "   (medians of 3 runs; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-62s %12s %16s\n' "" "rows/s" "vs insert_many"
for be in $BACKENDS; do
  printf '%-62s %12s %15s%%\n' "walcast -> FerretDB/$be (unordered insert, guarded upserts)" "${W_RATE[$be]}" \
    "$(awk "BEGIN { printf \"%.0f\", 100 * ${W_RATE[$be]} / ${L_INS[$be]} }")"
  printf '%-62s %12s\n' "pymongo insert_many unordered, same documents (limit)" "${L_INS[$be]}"
  printf '%-62s %12s\n' "walcast, 5 changes per key in a row (records/s, reduced)" "${R_RATE[$be]}"
  printf '%-62s %9s ms\n' "pymongo replace-upsert by _id (bulk of 32), new document" "${L_NEW[$be]}"
  printf '%-62s %9s ms\n' "pymongo replace-upsert by _id, existing of $ROWS documents" "${L_OLD[$be]}"
done
echo "   FerretDB 1.24 pushes a filter down to its backend only for a string or ObjectId _id: a document _id"
echo "   (walcast's, Debezium's: the key struct) makes every update statement a scan of the collection, so"
echo "   walcast sends rows new at the source as one unordered insert and upserts only the rest"
