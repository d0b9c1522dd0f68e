#!/usr/bin/env bash
# test_order_kill.sh: per-key order with parallel snapshot encoding under SIGKILLs. Three tables of many
# keys are snapshotted by two reader threads that encode their own rows (small chunks, so several are
# in flight), while a writer updates keys across all three tables (each update adds 1 to the row's
# version v), inserts new keys and deletes some. walcast is SIGKILLed several times, during the
# exported snapshot, during the watermark reads that resume it (the stream runs meanwhile), then twice
# while only streaming. In what a read_committed consumer gets, per key: v never goes down (a snapshot
# row is never older than a change published before it), the updates' versions follow each other by
# exactly 1 (none lost, none twice), nothing follows a delete, and the replay equals the table.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
ROWS=${ORDER_KILL_ROWS:-30000}
KILLS=${ORDER_KILL_KILLS:-6}
for t in t1 t2 t3; do
  psql_q -c "CREATE TABLE $t (id int PRIMARY KEY, v int NOT NULL, pad text)" \
    -c "INSERT INTO $t SELECT g, 0, repeat('x', 40) FROM generate_series(1, $ROWS) g"
done
kafka_start --topic srv.public.t1 --topic srv.public.t2 --topic srv.public.t3 --topic connect-offsets
cfg=$(connector_file order "snapshot.mode=initial" "snapshot.max.threads=2" "walcast.snapshot.lanes=true" "walcast.snapshot.parallel.encode=true" \
  "walcast.snapshot.chunk.rows=700" "snapshot.fetch.size=250" "walcast.transaction.max.ms=50" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" "status.update.interval.ms=300")

# the writer: transactions touching keys of the three tables, until told to stop
(
  i=0
  while [ ! -e "$IT_DIR/stop-writer" ]; do
    i=$((i + 1))
    sql="BEGIN;"
    for t in t1 t2 t3; do
      sql="$sql UPDATE $t SET v = v + 1 WHERE id = $(( (i * 7919 + ${t#t} * 104729) % ROWS + 1 ));"
      sql="$sql UPDATE $t SET v = v + 1 WHERE id = $(( (i * 31) % 200 + 1 ));"   # a few hot keys
    done
    sql="$sql INSERT INTO t$((i % 3 + 1)) VALUES ($((ROWS + i)), 0, 'new');"
    [ $((i % 5)) -eq 0 ] && sql="$sql DELETE FROM t$((i % 3 + 1)) WHERE id = $(( (i * 104723) % ROWS + 201 ));"
    echo "$sql COMMIT;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!

during_snapshot=0
for k in $(seq 1 "$KILLS"); do
  walcast_spawn "$cfg"
  # wait (bounded) until this run does something: plans or resumes the snapshot, or streams
  before=$(grep -cE 'msg="(snapshot planned|resuming the snapshot|replication started)' "$IT_DIR/walcast.log" || true)
  for _ in $(seq 1 600); do
    [ "$(grep -cE 'msg="(snapshot planned|resuming the snapshot|replication started)' "$IT_DIR/walcast.log" || true)" -gt "$before" ] && break
    kill -0 "$WALCAST_PID" 2>/dev/null || { tail -5 "$IT_DIR/walcast.log" >&2; echo "walcast exited" >&2; exit 1; }
    sleep 0.1
  done
  # the first kill comes 10-90 ms after the plan, so at least one lands inside the exported snapshot even
  # on a quiet machine (90,000 rows can be done in under 0.9 s); the later ones 0.1-0.9 s after the start
  if [ "$k" -eq 1 ]; then sleep "0.0$(( (RANDOM % 9) + 1 ))"; else sleep "0.$(( (RANDOM % 9) + 1 ))"; fi
  grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" || during_snapshot=$((during_snapshot + 1))
  kill -KILL "$WALCAST_PID"; wait "$WALCAST_PID" 2>/dev/null || true
done
echo "$KILLS SIGKILLs, $during_snapshot of them before the snapshot completed"
[ "$during_snapshot" -ge 1 ] || { echo "no kill hit the snapshot: the test proves nothing about it" >&2; exit 1; }
# then SIGKILLs while only streaming
walcast_spawn "$cfg"
wait_log 'msg="snapshot completed"' 1 300
kill_streaming 2 "$cfg"
echo "2 more SIGKILLs while streaming"
walcast_spawn "$cfg"
touch "$IT_DIR/stop-writer"
wait "$writer"
wait_published debezium 120
walcast_stop
for t in t1 t2 t3; do
  kcat -C -b "$BS" -t "srv.public.$t" -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/$t.jsonl"
  psql -X -At -c "SELECT id, v FROM $t" >"$IT_DIR/$t.rows"
done
"$PY" - "$IT_DIR" <<'PYEOF'
import json, sys
d = sys.argv[1]
for t in ("t1", "t2", "t3"):
    last = {}        # key -> (op, v) of its last event
    state = {}
    reads = ups = 0
    for line in open(f"{d}/{t}.jsonl"):
        rec = json.loads(line)
        if rec.get("payload") is None:
            continue   # tombstone
        k = json.loads(rec["key"])["id"]
        e = json.loads(rec["payload"])
        op = e["op"]
        prev = last.get(k)
        assert not prev or prev[0] != "d", f"{t} key {k}: {op} after its delete"
        if op == "d":
            last[k] = ("d", None)
            state.pop(k, None)
            continue
        v = e["after"]["v"]
        if prev:
            assert v >= prev[1], f"{t} key {k}: v went from {prev[1]} ({prev[0]}) down to {v} ({op})"
            if op == "u" and prev[0] == "u":
                assert v == prev[1] + 1, f"{t} key {k}: update to v={v} after v={prev[1]} (lost or repeated)"
        reads += op == "r"
        ups += op == "u"
        last[k] = (op, v)
        state[k] = v
    want = {}
    for line in open(f"{d}/{t}.rows"):
        i, v = line.strip().split("|")
        want[int(i)] = int(v)
    assert state == want, f"{t}: replay != table: missing {len(set(want) - set(state))}, extra {len(set(state) - set(want))}, " \
        f"differing {sum(1 for k in want if k in state and state[k] != want[k])}"
    print(f"{t}: {len(want)} keys in order ({reads} snapshot rows, {ups} updates)")
PYEOF
