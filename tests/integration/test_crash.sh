#!/usr/bin/env bash
# test_crash.sh: crashes under load. A mixed workload (inserts, updates, deletes, key changes, small and
# large transactions, and transactions big enough for the server to stream them) runs while walcast is
# hurt in one of these ways (CRASH_MODE):
#  - random (default): 10 SIGKILLs at random moments, on a real Kafka;
#  - commit: 3 SIGKILLs between Kafka commits and the LSN flush (no status update meanwhile), real Kafka;
#  - abort: walcast is frozen (SIGSTOP) past its Kafka transaction timeout, so the real broker aborts
#    the open transaction and fences its epoch: walcast must abort, rewind and go on by itself;
#  - failover: three real brokers; the partition leader is killed (kill -9), then, once it is back,
#    the transaction coordinator: walcast must ride through both without a restart;
#  - faults: request errors, a leader down, a coordinator move, injected into librdkafka's mock cluster
#    (a real broker cannot be made to fail single requests on demand; nothing is aborted there, so its
#    lack of transaction markers does not matter).
# The records a read_committed consumer gets must equal, one for one and in order, the sequence an
# independent test_decoding slot implies: nothing missing, nothing twice, order kept.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE acct (id int PRIMARY KEY, v int NOT NULL)"
psql_q -c "SELECT 1 FROM pg_create_logical_replication_slot('reference', 'test_decoding')" >/dev/null
MODE=${CRASH_MODE:-random}
extra=()
if [ "$MODE" = faults ]; then
  # three brokers and a control channel for fault injection (walcast kafka --control)
  mkfifo "$IT_DIR/ctl"
  exec 3<>"$IT_DIR/ctl"
  KAFKA_STDIN="$IT_DIR/ctl" mock_kafka_start --brokers 3 --control --topic srv.public.acct --topic connect-offsets --topic srv.transaction
else
  if [ "$MODE" = failover ]; then
    kafka_own_start 3
    "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create srv.public.acct connect-offsets srv.transaction
  else
    kafka_start --topic srv.public.acct --topic connect-offsets --topic srv.transaction
  fi
  # the server streams transactions over 64 kB of changes; walcast keeps them (spilling) until commit
  psql_q -c "ALTER SYSTEM SET logical_decoding_work_mem = '64kB'" -c "SELECT pg_reload_conf()" >/dev/null
  extra+=("walcast.streaming=true" "walcast.memory.limit.mb=1")
fi
# abort mode: a short Kafka transaction timeout that a frozen walcast overruns, and transactions held
# open 1 s at least (walcast.transaction.min.ms), so that a freeze while the writer runs finds one open:
# with min.ms 0 they were so short on a quiet machine that 400 writer transactions ended before a freeze
# caught one (CI, twice)
if [ "$MODE" = abort ]; then
  echo "producer.transaction.timeout.ms=2000" >>"$IT_DIR/worker.properties"
  extra+=("walcast.transaction.min.ms=1000")
fi
# commit mode: no status update for 10 minutes, and none at each commit either, so every kill falls between
# Kafka commits and the flush LSN reaching the server (the slot sends everything again; the offsets say what
# was published)
status_ms=300
[ "$MODE" = commit ] && { status_ms=600000; extra+=("walcast.status.on.commit=false"); }
cfg=$(connector_file crash "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=$status_ms" "walcast.transaction.max.ms=50" "provide.transaction.metadata=true" "${extra[@]}")
# the same connector with status updates, for the run after the last kill
cfg_final=$(connector_file crash-final "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=300" "walcast.transaction.max.ms=50" "provide.transaction.metadata=true" "${extra[@]}")
# the slot must exist before the workload, as the reference slot does
walcast_start "$cfg"

N=${CRASH_TXNS:-400}
pause=0.01
# two broker failovers must happen while it runs
[ "$MODE" = failover ] && pause=0.03
(
  # failover mode: goes on past N until both failovers are done, so they happen mid-workload
  i=0
  while [ $i -lt "$N" ] || { [ "$MODE" = failover ] && [ ! -e "$IT_DIR/stop-writer" ]; }; do
    i=$((i + 1))
    sql="BEGIN; INSERT INTO acct VALUES ($i, 0); UPDATE acct SET v = v + 1 WHERE id = $((i - 1));"
    [ $((i % 10)) -eq 0 ] && sql="$sql DELETE FROM acct WHERE id = $((i - 5));"
    [ $((i % 7)) -eq 0 ] && sql="$sql UPDATE acct SET id = -$i WHERE id = $((i - 2));"
    if [ "$MODE" != faults ] && [ $((i % 50)) -eq 25 ]; then
      # a large transaction (streamed by the server in pieces): 1500 inserts, updates of them, a key
      # change, and the deletion of the previous large transaction's rows
      b=$((100000 + i * 10000))
      sql="$sql INSERT INTO acct SELECT g, 1 FROM generate_series($b, $((b + 1499))) g;"
      sql="$sql UPDATE acct SET v = v + 1 WHERE id BETWEEN $b AND $((b + 499));"
      sql="$sql UPDATE acct SET id = -$b WHERE id = $((b + 1499));"
      [ $i -gt 50 ] && sql="$sql DELETE FROM acct WHERE id BETWEEN $((b - 500000)) AND $((b - 499001));"
    fi
    echo "$sql COMMIT;"
    echo "$i" >"$IT_DIR/written"   # (the loop runs in the pipeline's subshell)
    sleep "$pause"
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
elif [ "$MODE" = failover ]; then
  admin() { "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" "$@"; }
  # __transaction_state has one partition: its leader is the coordinator of every transactional.id
  for what in "srv.public.acct 0:partition leader" "__transaction_state 0:transaction coordinator"; do
    where=${what%%:*}; name=${what#*:}
    admin wait-isr 3 120
    node=$(admin leader $where)
    bash "$ROOT/scripts/kafka.sh" kill "$KAFKA_DIR" "$node"
    echo "killed broker $node, the $name (kill -9)"
    wait_published debezium 120      # walcast goes on publishing without it
    kill -0 "$WALCAST_PID" || { echo "walcast died when the $name was killed" >&2; exit 1; }
    bash "$ROOT/scripts/kafka.sh" up "$KAFKA_DIR" "$node"
  done
  touch "$IT_DIR/stop-writer"
elif [ "$MODE" = abort ]; then
  # twice: freeze walcast while its Kafka transaction is open, wait until the broker has aborted that
  # transaction (the partition's last stable offset catches up with its end), then let walcast go on
  for round in 1 2; do
    frozen=0
    for _ in $(seq 1 600); do
      kill -STOP "$WALCAST_PID"
      if "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" txn-open srv.public.acct; then frozen=1; break; fi
      kill -CONT "$WALCAST_PID"; sleep 0.05
    done
    [ $frozen = 1 ] || { echo "never caught walcast with a Kafka transaction open" >&2; exit 1; }
    for _ in $(seq 1 600); do
      "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" txn-open srv.public.acct || break
      sleep 0.1
    done
    ! "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" txn-open srv.public.acct || { echo "the broker did not abort the timed-out transaction" >&2; exit 1; }
    echo "round $round: the broker aborted walcast's open Kafka transaction"
    kill -CONT "$WALCAST_PID"
  done
elif [ "$MODE" = commit ]; then
  # three kills, each once more records are committed to Kafka than before, with no flush since
  seen=0
  for n in 1 2 3; do
    seen=$((seen + 200))
    "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" count srv.public.acct "$seen" 60
    kill -KILL "$WALCAST_PID"; wait "$WALCAST_PID" 2>/dev/null || true
    kills=$((kills + 1))
    if [ $n -lt 3 ]; then walcast_start "$cfg"; else walcast_start "$cfg_final"; fi
  done
else
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
N=$(cat "$IT_DIR/written")
kill -0 "$WALCAST_PID" 2>/dev/null || walcast_start "$cfg"

# the reference: what Debezium semantics make of every committed change, in commit order. Decoding
# only reads flushed WAL (the cluster runs synchronous_commit=off), so read until the last insert shows.
: >"$IT_DIR/reference.txt"
for _ in $(seq 1 100); do
  bash "$ROOT/scripts/pg-flush.sh"
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
kill -0 "$WALCAST_PID" 2>/dev/null || { echo "walcast is not running at the end of the workload" >&2; exit 1; }
# everything committed, then a clean stop (no Kafka transaction left open), then read it all back
wait_published debezium 120
walcast_stop
kcat -C -b "$BS" -t srv.public.acct -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/consumed.jsonl"
kcat -C -b "$BS" -t srv.transaction -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/tx.jsonl"
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
n = int(sys.argv[5])
if len(begins) != n or any(c != 1 for c in begins.values()) or any(len(e) != 1 for e in ends.values()) or set(ends) != set(begins):
    sys.exit(f"expected exactly one BEGIN and END for each of {n} transactions: {begins.most_common(3)}")
for xid, blocks in data.items():
    e = ends[xid][0]
    if e["event_count"] != len(blocks) or e["data_collections"] != [{"data_collection": "public.acct", "event_count": len(blocks)}]:
        sys.exit(f"END of {xid} says {e}, consumed {len(blocks)} data events")
    if [b["total_order"] for b in blocks] != list(range(1, len(blocks) + 1)) or any(not b["id"].startswith(xid + ":") for b in blocks):
        sys.exit(f"transaction blocks of {xid} out of order: {blocks[:3]}")
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
if got != expected:
    for i, (a, b) in enumerate(zip(expected, got)):
        if a != b:
            sys.exit(f"first difference at record {i}: expected {a}, got {b}")
    sys.exit(f"lengths differ: expected {len(expected)}, got {len(got)}")
print("every change exactly once, in commit order")
PYEOF
if [ "$MODE" = abort ]; then
  grep -q 'replication interrupted; reconnecting.*Kafka' "$IT_DIR/walcast.log" || { echo "no abort-and-rewind happened" >&2; exit 1; }
  grep -m1 -o 'replication interrupted; reconnecting.*' "$IT_DIR/walcast.log" | cut -c1-200 || true
  ! grep -q "connector failed" "$IT_DIR/walcast.log" || { echo "the connector failed instead of recovering" >&2; exit 1; }
elif [ "$MODE" = faults ] || [ "$MODE" = failover ]; then
  ! grep -q "connector failed\|replication interrupted" "$IT_DIR/walcast.log" || { echo "walcast did not ride through the faults by itself" >&2; exit 1; }
  if [ "$MODE" = faults ]; then
    [ "$(grep -c '^ok$' "$IT_DIR/kafka.out")" -eq 10 ] || { echo "fault commands not all accepted:" >&2; cat "$IT_DIR/kafka.out" >&2; exit 1; }
    echo "10 broker faults injected; walcast kept running"
  else
    echo "partition leader and transaction coordinator killed; walcast kept running without a restart"
  fi
fi
if [ "$MODE" = faults ]; then
  # the leader was down for 2 s: some commit must have waited for it (proof the faults took effect)
  slow=$(grep -o "slowest_commit_ms=[0-9]*" "$IT_DIR/walcast.log" | tail -1 | cut -d= -f2)
  echo "slowest Kafka commit: ${slow} ms"
  [ "${slow:-0}" -ge 1000 ] || { echo "no commit waited for the downed broker: were the faults applied?" >&2; exit 1; }
elif [ "$MODE" = abort ]; then
  echo "the Kafka transaction was aborted and walcast went on by itself"
elif [ "$MODE" != failover ]; then
  grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
  echo "walcast killed $kills times"
fi
