#!/usr/bin/env bash
# test_crash.sh: crashes under load. A multi-statement workload (inserts, updates, deletes, key changes)
# runs while walcast is SIGKILLed at random moments (CRASH_MODE=random, 10 kills) or only right between
# a Kafka commit and the LSN flush (CRASH_MODE=commit, 3 injected crashes). A read_committed consumer
# reading as it goes is compared with the record sequence an independent test_decoding slot implies.
#  - commit mode: exactly that sequence (restart drops what the offsets topic says is published).
#  - random mode: nothing missing and per-key order kept; a kill with a Kafka transaction open leaves
#    its records visible on librdkafka 2.0.2's mock cluster, which writes no transaction markers (real
#    Kafka aborts them when the next instance fences the old one), so extra records are allowed only
#    as re-sends of whole source transactions, and counted.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL)"
psql_q -c "SELECT 1 FROM pg_create_logical_replication_slot('reference', 'test_decoding')" >/dev/null
MODE=${CRASH_MODE:-random}
if [ "$MODE" = faults ] || [ "$MODE" = abort ]; then
  # three brokers and a control channel for fault injection (walcast kafka --control)
  mkfifo "$IT_DIR/ctl"
  exec 3<>"$IT_DIR/ctl"
  KAFKA_STDIN="$IT_DIR/ctl" kafka_start --brokers 3 --control --topic srv.public.acct --topic connect-offsets --topic srv.transaction
else
  kafka_start --topic srv.public.acct --topic connect-offsets --topic srv.transaction
fi
cfg=$(connector_file crash "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=300" "walcast.transaction.max.ms=50" "provide.transaction.metadata=true")
kcat -C -b "$BS" -t srv.public.acct -o beginning -X isolation.level=read_committed -u -J >"$IT_DIR/consumed.jsonl" 2>/dev/null &
IT_PIDS+=($!)
kcat -C -b "$BS" -t srv.transaction -o beginning -X isolation.level=read_committed -u -J >"$IT_DIR/tx.jsonl" 2>/dev/null &
IT_PIDS+=($!)

# first run: die right after the 3rd Kafka commit, before the LSN reaches the server
crash_at=3
[ "$MODE" = faults ] || [ "$MODE" = abort ] && crash_at=0
WALCAST_TEST_CRASH_AFTER_COMMITS=$crash_at "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
# the slot must exist before the workload, as the reference slot does
for _ in $(seq 1 100); do grep -q "replication started" "$IT_DIR/walcast.log" && break; sleep 0.1; done

N=${CRASH_TXNS:-400}
(
  for i in $(seq 1 "$N"); do
    sql="BEGIN; INSERT INTO acct VALUES ($i, 0); UPDATE acct SET v = v + 1 WHERE id = $((i - 1));"
    [ $((i % 10)) -eq 0 ] && sql="$sql DELETE FROM acct WHERE id = $((i - 5));"
    [ $((i % 7)) -eq 0 ] && sql="$sql UPDATE acct SET id = -$i WHERE id = $((i - 2));"
    echo "$sql COMMIT;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!

kills=0
if [ "$MODE" = faults ]; then
  # broker faults while the workload runs; walcast must ride through all of them by itself
  fault() { echo "$1" >&3; echo "fault: $1" >>"$IT_DIR/faults.log"; }
  fault "leader srv.public.acct 0 2"
  sleep 1; fault "errors Produce 3 NOT_LEADER_FOR_PARTITION"
  sleep 0.5; fault "errors AddPartitionsToTxn 2 COORDINATOR_LOAD_IN_PROGRESS"
  sleep 0.5; fault "errors EndTxn 2 NOT_COORDINATOR"
  sleep 0.5; fault "errors Produce 2 REQUEST_TIMED_OUT"
  sleep 0.5; fault "errors AddOffsetsToTxn 1 COORDINATOR_NOT_AVAILABLE"
  sleep 0.5; fault "down 2"
  sleep 2; fault "up 2"
  sleep 0.5; fault "coordinator transaction walcast-it 3"
  sleep 0.5; fault "errors EndTxn 1 COORDINATOR_LOAD_IN_PROGRESS"
elif [ "$MODE" = abort ]; then
  # a record the broker refuses for good: the Kafka transaction must be aborted, and walcast must
  # rewind to the last committed offset and go on by itself
  echo "errors Produce 3 INVALID_RECORD" >&3
elif [ "$MODE" = commit ]; then
  wait "$WALCAST_PID" 2>/dev/null || true   # the injected crash
  # two more injected crashes between commit and flush, then a clean run
  for n in 5 8; do
    WALCAST_TEST_CRASH_AFTER_COMMITS=$n "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>>"$IT_DIR/walcast.log" &
    WALCAST_PID=$!
    IT_PIDS+=($WALCAST_PID)
    wait "$WALCAST_PID" 2>/dev/null || true
    kills=$((kills + 1))
  done
  walcast_start "$cfg"
else
  wait "$WALCAST_PID" 2>/dev/null || true   # the injected crash
  while kill -0 "$writer" 2>/dev/null || [ $kills -lt 10 ]; do
    walcast_start "$cfg"
    sleep "0.$(( (RANDOM % 9) + 1 ))"
    if [ $kills -lt 10 ]; then
      kill -KILL "$WALCAST_PID"; wait "$WALCAST_PID" 2>/dev/null || true
      kills=$((kills + 1))
    else
      break
    fi
  done
fi
wait "$writer"
kill -0 "$WALCAST_PID" 2>/dev/null || walcast_start "$cfg"

# the reference: what Debezium semantics make of every committed change, in commit order. Decoding
# only reads flushed WAL (the cluster runs synchronous_commit=off), so read until the last insert shows.
: >"$IT_DIR/reference.txt"
for _ in $(seq 1 100); do
  psql -X -q -c "SET synchronous_commit = on" -c "SELECT txid_current()" >/dev/null
  psql -X -At -c "SELECT data FROM pg_logical_slot_get_changes('reference', NULL, NULL)" >>"$IT_DIR/reference.txt"
  grep -q "INSERT: id\[integer\]:$N v" "$IT_DIR/reference.txt" && break
  sleep 0.1
done
$PY - "$IT_DIR/reference.txt" >"$IT_DIR/expected.txt" <<'PYEOF'
import re, sys
for line in open(sys.argv[1]):
    m = re.match(r"table public\.acct: (\w+): (.*)", line.strip())
    if not m:
        continue
    kind, rest = m.groups()
    ids = re.findall(r"id\[integer\]:(-?\d+)", rest)
    if kind == "INSERT":
        print("c", ids[0])
    elif kind == "UPDATE" and "old-key:" in rest:
        print("d", ids[0]); print("tomb", ids[0]); print("c", ids[1])
    elif kind == "UPDATE":
        print("u", ids[0])
    elif kind == "DELETE":
        print("d", ids[0]); print("tomb", ids[0])
PYEOF
want=$(wc -l <"$IT_DIR/expected.txt")
for _ in $(seq 1 300); do
  [ "$(wc -l <"$IT_DIR/consumed.jsonl")" -ge "$want" ] && break
  sleep 0.2
done
sleep 1
$PY - "$IT_DIR/consumed.jsonl" "$IT_DIR/expected.txt" "$MODE" "$IT_DIR/tx.jsonl" "$N" <<'PYEOF'
import json, sys
from collections import Counter, defaultdict
mode = sys.argv[3]
# transaction metadata: one BEGIN and one END per source transaction (no duplicate BEGIN after a
# restart), END counts equal to the data events of that transaction, blocks numbered from 1
begins, ends = Counter(), {}
for line in open(sys.argv[4]):
    r = json.loads(line)
    v = json.loads(r["payload"])
    xid = v["id"].split(":")[0]
    assert json.loads(r["key"])["id"] == v["id"], r
    if v["status"] == "BEGIN":
        assert v["event_count"] is None and v["data_collections"] is None, v
        begins[xid] += 1
    else:
        ends.setdefault(xid, []).append(v)
data = defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["payload"] is not None:
        p = json.loads(r["payload"])
        data[str(p["source"]["txId"])].append(p["transaction"])
print(f"transaction metadata: {len(begins)} transactions, {sum(begins.values())} BEGIN, {sum(len(e) for e in ends.values())} END")
if mode in ("commit", "faults"):
    n = int(sys.argv[5])
    if len(begins) != n or any(c != 1 for c in begins.values()) or any(len(e) != 1 for e in ends.values()) or set(ends) != set(begins):
        sys.exit(f"expected exactly one BEGIN and END for each of {n} transactions: {begins.most_common(3)}")
    for xid, blocks in data.items():
        e = ends[xid][0]
        if e["event_count"] != len(blocks) or e["data_collections"] != [{"data_collection": "public.acct", "event_count": len(blocks)}]:
            sys.exit(f"END of {xid} says {e}, consumed {len(blocks)} data events")
        if [b["total_order"] for b in blocks] != list(range(1, len(blocks) + 1)) or any(not b["id"].startswith(xid + ":") for b in blocks):
            sys.exit(f"transaction blocks of {xid} out of order: {blocks}")
else:
    missing = [x for x in data if begins[x] < 1 or x not in ends]
    if missing:
        sys.exit(f"transactions without BEGIN/END: {missing[:5]}")
expected = [tuple(l.split()) for l in open(sys.argv[2])]
got, src = [], []
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = str(json.loads(r["key"])["id"])
    if r["payload"] is None:
        got.append(("tomb", key)); src.append(None)
    else:
        p = json.loads(r["payload"])
        got.append((p["op"], key)); src.append((p["source"]["txId"], p["source"]["lsn"], p["op"], key))
print(f"expected {len(expected)} records, consumed {len(got)} ({mode} mode)")
if mode in ("commit", "faults"):
    if got != expected:
        for i, (a, b) in enumerate(zip(expected, got)):
            if a != b:
                sys.exit(f"first difference at record {i}: expected {a}, got {b}")
        sys.exit(f"lengths differ: expected {len(expected)}, got {len(got)}")
    sys.exit(0)
# random mode: drop re-sent data records (same txId, lsn, op, key as an earlier one) and the
# tombstones that follow them; what remains must be exactly the reference.
seen, dedup, dups, skip_tomb = set(), [], 0, False
for g, s_ in zip(got, src):
    if s_ is None:
        if skip_tomb:
            skip_tomb = False
            dups += 1
            continue
        dedup.append(g); continue
    skip_tomb = False
    if s_ in seen:
        dups += 1
        skip_tomb = g[0] == "d"
        continue
    seen.add(s_)
    dedup.append(g)
print(f"re-sent records from killed instances' open Kafka transactions: {dups}")
if dedup != expected:
    for i, (a, b) in enumerate(zip(expected, dedup)):
        if a != b:
            sys.exit(f"after removing re-sends, first difference at record {i}: expected {a}, got {b}")
    sys.exit(f"after removing re-sends, lengths differ: expected {len(expected)}, got {len(dedup)}")
PYEOF
if [ "$MODE" = abort ]; then
  kill -0 "$WALCAST_PID" || { echo "walcast stopped after an abortable error" >&2; exit 1; }
  grep -q 'replication interrupted; reconnecting.*Kafka' "$IT_DIR/walcast.log" || { echo "no abort-and-rewind happened" >&2; exit 1; }
  grep -m1 -o 'replication interrupted; reconnecting.*' "$IT_DIR/walcast.log" | cut -c1-200 || true
  ! grep -q "connector failed" "$IT_DIR/walcast.log" || { echo "the connector failed instead of recovering" >&2; exit 1; }
elif [ "$MODE" = faults ]; then
  kill -0 "$WALCAST_PID" || { echo "walcast stopped under broker faults" >&2; exit 1; }
  ! grep -q "connector failed\|replication interrupted" "$IT_DIR/walcast.log" || { echo "walcast did not ride through the faults by itself" >&2; exit 1; }
  [ "$(grep -c '^ok$' "$IT_DIR/kafka.out")" -eq 10 ] || { echo "fault commands not all accepted:" >&2; cat "$IT_DIR/kafka.out" >&2; exit 1; }
  echo "10 broker faults injected; walcast kept running"
fi
walcast_stop
if [ "$MODE" = faults ]; then
  # the leader was down for 2 s: some commit must have waited for it (proof the faults took effect)
  slow=$(grep -o "slowest_commit_ms=[0-9]*" "$IT_DIR/walcast.log" | tail -1 | cut -d= -f2)
  echo "slowest Kafka commit: ${slow} ms"
  [ "${slow:-0}" -ge 1000 ] || { echo "no commit waited for the downed broker: were the faults applied?" >&2; exit 1; }
elif [ "$MODE" = abort ]; then
  echo "the Kafka transaction was aborted and walcast went on by itself"
else
  grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
  echo "walcast killed $kills times + 1 injected crash"
fi
