#!/usr/bin/env bash
# test_sink_mongo_conflicts.sh: the conflict policies of the MongoDB target (FerretDB v1.24.2, SQLite
# backend, or the MongoDB at WALCAST_TEST_MONGODB_URI). One database per policy is pre-seeded so that eight
# records meet every conflict type (insert_exists, update_origin_differs against a newer version of another
# source and against a document without any version, update_missing, update_exists through a primary-key
# change, delete_missing, delete_origin_differs) next to a normal follow-up update of walcast's own
# document; keys are seeded as int32, int64 and double where walcast writes int64. Each policy's final
# documents and its walcast_conflicts documents are checked; conflict.policy=error stops the sink at the
# first conflicting record, and with errors.tolerance=all dead-letters every conflicting record and
# applies the rest. Then every policy again, with batch.size=10, from a real snapshot of two tables during
# which the second one is changed (lib.sh race_start, issue 17): each database must equal the source.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
chmod 755 "$IT_DIR"
FDB_DIR=""
# it_cleanup takes the test's exit status from $?: keep it across the FerretDB stop
mongo_cleanup() { local rc=$?; set +e; [ -n "$FDB_DIR" ] && bash "$ROOT/scripts/ferretdb.sh" stop "$FDB_DIR"; (exit $rc); it_cleanup; }
trap mongo_cleanup EXIT
if [ -n "${WALCAST_TEST_MONGODB_URI:-}" ]; then
  MURI=$WALCAST_TEST_MONGODB_URI
else
  bash "$ROOT/scripts/ferretdb.sh" start "$IT_DIR/fdb" >"$IT_DIR/fdb.out" 2>"$IT_DIR/ferretdb.log" \
    || { cat "$IT_DIR/ferretdb.log" >&2; exit 1; }
  FDB_DIR="$IT_DIR/fdb"
  MURI=$(sed -n 's/^uri=//p' "$IT_DIR/fdb.out")
fi
kafka_start --topic it_mconf --topic it_mconf_dlq
P="wc_mconf_$$_"   # database prefix: one database per policy
V_OLD_B=80000000000000640000000000000000srcB   # ts_us 100 from source srcB
V_NEW_B=80000000000003840000000000000000srcB   # ts_us 900 from source srcB
V_OLD_A=80000000000000640000000000000000srcA   # ts_us 100 from srcA, the source of the records
"$PY" - "$MURI" "$P" "$V_OLD_B" "$V_NEW_B" "$V_OLD_A" <<'PYEOF'
import sys, pymongo
from bson.int64 import Int64
uri, prefix, old_b, new_b, old_a = sys.argv[1:]
c = pymongo.MongoClient(uri)
V = "__walcast_version"
for db in ("sw", "nw", "tw", "er", "ed"):
    c[prefix + db]["it_mconf"].insert_many([
        {"_id": {"id": 1}, "v": "seed1", V: old_b},
        {"_id": {"id": Int64(2)}, "v": "seed2", V: new_b},
        {"_id": {"id": 5}, "v": "seed5", V: old_b},
        {"_id": {"id": Int64(6)}, "v": "seed6"},              # someone else's: no version at all
        {"_id": {"id": 7}, "v": "seed7", V: old_a},           # walcast's own, from the same source
        {"_id": {"id": 8.0}, "v": "seed8"},                   # someone else's, key as a double
        {"_id": {"id": 10}, "v": "seed10", V: old_a},
    ])
PYEOF
ev() {  # id op row-json lsn [before-json]
  local before=${5:-null}
  if [ "$2" = d ]; then
    printf '%s\t%s\n' "{\"id\":$1}" "{\"op\":\"d\",\"before\":$3,\"after\":null,\"source\":{\"name\":\"srcA\",\"ts_us\":500,\"lsn\":$4}}"
  else
    printf '%s\t%s\n' "{\"id\":$1}" "{\"op\":\"$2\",\"before\":$before,\"after\":$3,\"source\":{\"name\":\"srcA\",\"ts_us\":500,\"lsn\":$4}}"
  fi
}
{
  ev 1 c '{"id":1,"v":"a1"}' 10      # @0 insert_exists
  ev 2 u '{"id":2,"v":"a2"}' 11      # @1 update_origin_differs (the stored version is newer)
  ev 3 u '{"id":3,"v":"a3"}' 12      # @2 update_missing
  ev 4 d '{"id":4}' 13               # @3 delete_missing
  ev 5 d '{"id":5}' 14               # @4 delete_origin_differs (the stored version is older)
  ev 6 u '{"id":6,"v":"a6"}' 15      # @5 update_origin_differs (no version: someone else's)
  ev 7 u '{"id":7,"v":"a7"}' 16      # @6 no conflict: walcast's own document
  ev 8 u '{"id":8,"v":"a8"}' 17 '{"id":10,"v":"seed10"}'   # @7 key 10 -> 8: update_exists (10 is ours)
} | kcat -P -b "$BS" -t it_mconf -K $'\t' -X enable.idempotence=true
sink() {  # db policy [key=value...]
  local db=$1 pol=$2; shift 2
  printf '%s\n' "name=it_mconf_$db" "connector.class=io.debezium.connector.mongodb.sink.MongoDbSinkConnector" \
    "topics=it_mconf" "mongodb.connection.string=$MURI" "sink.database=$P$db" "delete.enabled=true" \
    "conflict.log.enabled=true" "conflict.policy=$pol" "$@" >"$IT_DIR/$db.properties"
  echo "$IT_DIR/$db.properties"
}
files=("$(sink sw source_wins)" "$(sink nw newer_wins)" "$(sink tw target_wins)"
       "$(sink ed error errors.tolerance=all errors.deadletterqueue.topic.name=it_mconf_dlq errors.deadletterqueue.topic.replication.factor=1 \
          errors.deadletterqueue.context.headers.enable=true)")
er=$(sink er error)
# the strict error sink fails (and so stops the process): run it on its own
"$WALCAST" run --worker "$IT_DIR/worker.properties" "${files[@]}" >"$IT_DIR/walcast.out" 2>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
q() {  # what to print: state DB | conflicts DB | offsets
  "$PY" - "$MURI" "$P" "$@" <<'PYEOF'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
prefix, what = sys.argv[2], sys.argv[3]
if what == "offsets":   # the smallest stored offset over the policies' databases
    print(min(sum(d["offset"] for d in c[prefix + db]["walcast_sink_offsets"].find()) for db in ("sw", "nw", "tw", "ed")))
elif what == "state":
    docs = sorted(c[prefix + sys.argv[4]]["it_mconf"].find(), key=lambda d: d["_id"]["id"])
    print(",".join("%d=%s" % (d["_id"]["id"], d["v"]) for d in docs))
elif what == "conflicts":
    docs = sorted(c[prefix + sys.argv[4]]["walcast_conflicts"].find(), key=lambda d: d["key"]["id"])
    for d in docs:
        for f in ("at", "sink", "table_name", "key", "type", "policy", "incoming", "existing"):
            assert f in d, (f, d)
        assert d["sink"] == "it_mconf_" + sys.argv[4] and d["table_name"] == "it_mconf", d
        assert (d["incoming"] is None) == (d["type"].startswith("delete")), d
        if d["incoming"] is not None:
            assert d["incoming"]["id"] == d["key"]["id"] and d["incoming"]["v"] == "a%d" % d["key"]["id"], d
        if d["existing"] is not None:
            assert d["existing"]["v"] == "seed%d" % d["key"]["id"], d
    print(",".join("%d:%s" % (d["key"]["id"], d["type"]) for d in docs),
          sum(d["existing"] is not None for d in docs), ",".join(sorted({d["policy"] for d in docs})))
PYEOF
}
deadline=$((SECONDS + 60))
until [ "$(q offsets 2>/dev/null || echo 0)" -ge 8 ]; do
  kill -0 "$WALCAST_PID" 2>/dev/null || { echo "walcast exited" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "the sinks did not apply all 8 records within 60 s" >&2; exit 1; }
  sleep 0.3
done
walcast_stop
want="1:insert_exists,2:update_origin_differs,3:update_missing,4:delete_missing,5:delete_origin_differs,6:update_origin_differs,8:update_exists"
check() {  # db policy expected-state
  local got
  got=$(q state "$1")
  [ "$got" = "$3" ] || { echo "$1: documents '$got', expected '$3'" >&2; exit 1; }
  got=$(q conflicts "$1")
  [ "$got" = "$want 5 $2" ] || { echo "$1: conflicts '$got', expected '$want 5 $2'" >&2; exit 1; }
  echo "$1 ($2): $3; conflicts $want"
}
check sw source_wins "1=a1,2=a2,3=a3,6=a6,7=a7,8=a8"
check nw newer_wins "1=a1,2=seed2,3=a3,6=a6,7=a7,8=a8"
check tw target_wins "1=seed1,2=seed2,3=a3,5=seed5,6=seed6,7=a7,8=seed8"
# error with errors.tolerance=all: every conflicting record dead-lettered with its headers, the rest applied
got=$(q state ed)
[ "$got" = "1=seed1,2=seed2,5=seed5,6=seed6,7=a7,8=seed8,10=seed10" ] || { echo "ed: documents '$got'" >&2; exit 1; }
[ -z "$(q conflicts ed | cut -d' ' -f1)" ] || { echo "ed: conflicts logged under conflict.policy=error" >&2; exit 1; }
kcat -C -b "$BS" -t it_mconf_dlq -e -q -J >"$IT_DIR/dlq.jsonl"
"$PY" - "$IT_DIR/dlq.jsonl" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
offs = []
for r in recs:
    h = dict(zip(r["headers"][0::2], r["headers"][1::2]))
    assert h["__connect.errors.topic"] == "it_mconf" and h["__connect.errors.connector.name"] == "it_mconf_ed", h
    assert "conflict.policy=error" in h["__connect.errors.exception.message"], h
    offs.append(int(h["__connect.errors.offset"]))
assert offs == [0, 1, 2, 3, 4, 5, 7], offs
print("ed (error, errors.tolerance=all): 7 conflicting records dead-lettered, offsets", offs)
PYEOF
# error without tolerance: the sink stops at the first record, naming it and the conflict
if "$WALCAST" run --worker "$IT_DIR/worker.properties" "$er" >"$IT_DIR/er.out" 2>"$IT_DIR/er.log"; then
  echo "conflict.policy=error did not stop the sink" >&2; exit 1
fi
grep -q 'msg="sink failed".*it_mconf\[0\]@0.*conflict insert_exists' "$IT_DIR/er.log" \
  || { echo "no failure naming it_mconf[0]@0 and insert_exists" >&2; tail -5 "$IT_DIR/er.log" >&2; exit 1; }
[ "$(q state er)" = "1=seed1,2=seed2,5=seed5,6=seed6,7=seed7,8=seed8,10=seed10" ]
echo "er: stopped at it_mconf[0]@0 (insert_exists), target untouched"

# issue 17: changes committed after the consistent point but before race_small was read (earlier by the
# clock than its snapshot rows, later in commit order) are applied under every policy; source_wins without
# a conflict log takes the guarded path, the others read and decide
rfiles=() rchecks=()
race_mongo() {
  "$PY" - "$MURI" "$P$1" <<'PYEOF'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
docs = sorted(c[sys.argv[2]]["race_small"].find(), key=lambda d: d["_id"]["id"])
print(",".join("%d=%d" % (d["_id"]["id"], d["v"]) for d in docs))
PYEOF
}
for p in rsw:source_wins rnw:newer_wins rtw:target_wins rer:error rlg:source_wins; do
  db=${p%%:*} pol=${p#*:}
  extra=()
  [ $db = rlg ] && extra=("conflict.log.enabled=true")
  printf '%s\n' "name=race_m$db" "connector.class=io.debezium.connector.mongodb.sink.MongoDbSinkConnector" \
    "topics=race.public.race_small" "mongodb.connection.string=$MURI" "sink.database=$P$db" "delete.enabled=true" \
    "collection.name.format=race_small" "batch.size=10" "conflict.policy=$pol" "${extra[@]}" >"$IT_DIR/race_$db.properties"
  rfiles+=("$IT_DIR/race_$db.properties")
  rchecks+=("mongo_$db($pol):race_mongo $db")
done
race_start 20000 "${rfiles[@]}"
race_expect "${rchecks[@]}"
# then an incremental snapshot of race_small while it changes, after a document was changed and one deleted
# behind walcast's back (walcast's version kept): the snapshot rows heal both, and never overwrite a newer
# change; a snapshot row meeting walcast's own document is no conflict, so conflict.policy=error goes on
race_diverge() {
  "$PY" - "$MURI" "$P" <<'PYEOF'
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
for db in ("rsw", "rnw", "rtw", "rer", "rlg"):
    coll = c[sys.argv[2] + db]["race_small"]
    assert coll.update_one({"_id": {"id": 1}}, {"$set": {"v": 99}}).modified_count == 1
    assert coll.delete_one({"_id": {"id": 3}}).deleted_count == 1
PYEOF
}
race_incremental race_diverge "${rfiles[@]}"
race_expect "${rchecks[@]}"
walcast_stop
