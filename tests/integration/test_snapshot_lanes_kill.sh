#!/usr/bin/env bash
# test_snapshot_lanes_kill.sh: SIGKILLs between two lanes' commits in an initial snapshot (walcast.snapshot.lanes=true
# and snapshot.max.threads=2: two Kafka transactions open at once, each with whole chunks, committing one after the
# other; issue 21).
# Each round is a fresh connector (its own topic prefix and slot): walcast is killed right after a commit while
# the other lane's transaction is open, the rows committed so far (read_committed, real broker) must hold no id
# twice, and after the restart (the chunks not committed read again with watermarks) every id once. An offset
# record that named the other lane's chunks would lose rows here; one that did not name its own, repeat them.
# Until each kill, walcast reads PostgreSQL through slow_proxy.py at 2 MB/s (the ~5 MB of rows take >= 2.5 s on
# any machine, so the snapshot cannot end before the kill); after it, at full speed.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
N=100000
psql_q -c "CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL)" \
  -c "INSERT INTO items SELECT g, repeat('v', 40) || g FROM generate_series(1, $N) g"
ROUNDS=${LANES_KILL_ROUNDS:-3}
topics=(--topic connect-offsets)
for r in $(seq 1 "$ROUNDS"); do topics+=(--topic "srv$r.public.items"); done
kafka_start "${topics[@]}"
proxy_start slow_proxy.py 2000000
# small batches (a few rows each): many Produce requests, so that the snapshot lasts a few seconds even on a
# quiet machine (with 4 MB batches its 60 commits took 0.23 s, over before the kill) and each lane's chain is busy
echo "producer.batch.size=4096" >>"$IT_DIR/worker.properties"
# ids of the snapshot rows (op r) of a topic, read_committed, one a line
snap_ids() {
  kcat -C -b "$BS" -t "$1" -o beginning -X isolation.level=read_committed -e -q -f '%s\n' |
    "$PY" -c 'import json,sys
for l in sys.stdin:
    if l.strip():
        v = json.loads(l)
        if v["op"] == "r": print(v["after"]["id"])'
}
for r in $(seq 1 "$ROUNDS"); do
  cfg=$(connector_file "lanes$r" "name=lanes$r" "database.port=$PROXY_PORT" "topic.prefix=srv$r" "slot.name=lanes$r" "snapshot.mode=initial" \
    "snapshot.max.threads=2" "walcast.snapshot.lanes=true" "walcast.snapshot.chunk.rows=1000" "snapshot.fetch.size=250" \
    "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" "status.update.interval.ms=300" \
    "walcast.transaction.max.ms=1")
  : >"$IT_DIR/walcast.log"
  kill -USR2 $PROXY_PID  # paced until the kill
  WALCAST_LOG=debug walcast_spawn "$cfg"
  wait_log 'msg="kafka transaction lanes on"' 1 60
  # a few commits of both lanes, then the kill right after one (the other lane's transaction open)
  before=$(grep -c 'msg="kafka transaction committed"' "$IT_DIR/walcast.log" || true)
  wait_log 'msg="kafka transaction committed"' $((before + 2 + r)) 60
  kill -KILL "$WALCAST_PID"
  wait "$WALCAST_PID" 2>/dev/null || true
  kill -USR1 $PROXY_PID  # the rest at full speed
  grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" && { echo "round $r: the snapshot ended before the kill" >&2; exit 1; }
  snap_ids "srv$r.public.items" >"$IT_DIR/ids-$r-killed.txt"
  dup=$(sort -n "$IT_DIR/ids-$r-killed.txt" | uniq -d | head -3 | tr '\n' ' ')
  [ -z "$dup" ] || { echo "round $r: ids committed twice before the restart: $dup" >&2; exit 1; }
  killed=$(wc -l <"$IT_DIR/ids-$r-killed.txt")
  [ "$killed" -gt 0 ] && [ "$killed" -lt "$N" ] || { echo "round $r: $killed rows committed at the kill" >&2; exit 1; }
  walcast_spawn "$cfg"
  wait_log 'msg="snapshot completed"' 1 180
  grep -q 'msg="resuming the snapshot' "$IT_DIR/walcast.log" || { echo "round $r: no resume" >&2; exit 1; }
  wait_published "lanes$r" 60
  walcast_stop
  snap_ids "srv$r.public.items" >"$IT_DIR/ids-$r.txt"
  "$PY" - "$IT_DIR/ids-$r.txt" "$N" "$r" "$killed" <<'PYEOF'
import collections, sys
ids = [int(l) for l in open(sys.argv[1]) if l.strip()]
n = int(sys.argv[2])
c = collections.Counter(ids)
twice = [i for i, k in c.items() if k > 1][:5]
missing = [i for i in range(1, n + 1) if i not in c][:5]
assert not twice and not missing and len(c) == n, f"round {sys.argv[3]}: twice {twice}, missing {missing}, {len(ids)} rows"
print(f"round {sys.argv[3]}: killed with {sys.argv[4]} rows committed; after the restart every id of {n} once")
PYEOF
done
echo "SIGKILLs between the lanes' commits: no row lost, none twice"
