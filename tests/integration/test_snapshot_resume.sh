#!/usr/bin/env bash
# test_snapshot_resume.sh: SIGKILL in the middle of a parallel initial snapshot while writers change
# the table, then a restart: the chunks committed before the kill are not read again, the others are
# read with watermarks while the stream runs. On the real broker, read_committed: every row read
# once, and a replay of everything (r/c/u/d in order) equals the table row by row.
# walcast reaches PostgreSQL through slow_proxy.py (3 MB/s of replies): the ~16 MB of the snapshot's rows
# take ~5 s on any machine, so the kill comes in its middle (unpaced, a quiet machine read all 200,000 rows
# in 1.2 s, before the test could see 30,000 of them committed); after the kill, at full speed.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL, n int);
INSERT INTO items SELECT g, repeat('v', 50) || g, g % 7 FROM generate_series(1, 200000) g;
SQL
kafka_start --topic srv.public.items --topic connect-offsets
proxy_start slow_proxy.py 3000000
cfg=$(connector_file snapr ${SNAP_EXTRA:-} "database.port=$PROXY_PORT" "snapshot.mode=initial" "snapshot.max.threads=2" "walcast.snapshot.lanes=true" "walcast.snapshot.chunk.rows=2000" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" "status.update.interval.ms=300" \
  "walcast.transaction.max.ms=20")
(
  for i in $(seq 1 1500); do
    echo "BEGIN; UPDATE items SET v = 'u$i', n = $i WHERE id = $(( (i * 7919) % 200000 + 1 ));"
    echo "INSERT INTO items VALUES ($((200000 + i)), 'new$i', $i);"
    echo "DELETE FROM items WHERE id = $(( (i * 104729) % 200000 + 1 )); COMMIT;"
    [ -e "$IT_DIR/fast" ] || sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!
walcast_spawn "$cfg"
# kill once some chunks are committed (their rows visible to read_committed), mid-snapshot
wait_topic srv.public.items 30000 60 >/dev/null
kill -KILL $WALCAST_PID
wait $WALCAST_PID 2>/dev/null || true
grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" && { echo "the snapshot ended before the kill; make the table bigger" >&2; exit 1; }
committed=$(kcat -C -b "$BS" -t srv.public.items -o beginning -X isolation.level=read_committed -e -q -f '%s\n' | grep -c '"op":"r"' || true)
echo "killed mid-snapshot with $committed snapshot rows committed"
kill -USR1 $PROXY_PID  # the rest at full speed
walcast_spawn "$cfg"
for _ in $(seq 1 900); do grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q 'msg="resuming the snapshot' "$IT_DIR/walcast.log" || { echo "no resume" >&2; exit 1; }
grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" || { echo "the resumed snapshot did not complete" >&2; exit 1; }
touch "$IT_DIR/fast"
wait $writer
wait_published debezium 60
walcast_stop
kcat -C -b "$BS" -t srv.public.items -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/ev.json"
psql -X -At -c "SELECT row_to_json(t) FROM items t" >"$IT_DIR/rows.json"
"$PY" "$ROOT/tests/integration/snapshot_check.py" "$IT_DIR/ev.json" "$IT_DIR/rows.json" id
echo "resumed after SIGKILL: no row missing, none read twice, replay equals the table"
