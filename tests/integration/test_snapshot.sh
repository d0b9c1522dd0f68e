#!/usr/bin/env bash
# test_snapshot.sh: the initial snapshot (snapshot.mode=initial, 2 reader threads, small chunks) while
# writers change the tables: a replay of everything consumed (read_committed, r/c/u/d in order)
# equals each source table row by row; every existing row is read once; a table without a primary
# key is read whole (and the log says so); markers first/last as Debezium writes them; no reader nor the
# connector thread woken with nothing to do (snapshot_no_needless_wakeups, lib.sh).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL, n int);
INSERT INTO items SELECT g, 'v' || g, g % 7 FROM generate_series(1, 20000) g;
CREATE TABLE comp (a int, b text, v int, PRIMARY KEY (a, b));
INSERT INTO comp SELECT g % 50, 'k' || g, g FROM generate_series(1, 3000) g;
CREATE TABLE nopk (a int, b text);
INSERT INTO nopk SELECT g, 'x' || g FROM generate_series(1, 500) g;
CREATE TABLE "Odd ""Name""" (id int PRIMARY KEY, v text);
INSERT INTO "Odd ""Name""" SELECT g, 'o' || g FROM generate_series(1, 300) g;
SQL
kafka_start --topic srv.public.items --topic srv.public.comp --topic srv.public.nopk --topic 'srv.public.Odd__Name_' --topic connect-offsets
# the connector thread encodes every row (walcast.snapshot.parallel.encode=false); the default, readers
# that encode their own rows, is covered by test_snapshot_resume.sh, test_order_kill.sh, test_avro_snapshot.sh
cfg=$(connector_file snap "snapshot.mode=initial" "snapshot.max.threads=2" "walcast.snapshot.chunk.rows=1000" \
  "walcast.snapshot.parallel.encode=false" \
  "snapshot.fetch.size=300" "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=300")
# writers: updates, inserts and deletes on items and comp while the snapshot runs and after it
(
  for i in $(seq 1 300); do
    echo "BEGIN; UPDATE items SET v = 'u$i', n = $i WHERE id = $(( (i * 61) % 20000 + 1 ));"
    echo "INSERT INTO items VALUES ($((20000 + i)), 'new$i', $i);"
    echo "DELETE FROM items WHERE id = $(( (i * 97) % 20000 + 1 ));"
    echo "UPDATE comp SET v = -$i WHERE a = $((i % 50)) AND b = 'k$(( (i * 13) % 3000 + 1 ))'; COMMIT;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 600); do grep -q "replication started" "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q "replication started" "$IT_DIR/walcast.log" || { echo "no replication after the snapshot" >&2; exit 1; }
wait $writer
wait_published debezium 60
walcast_stop
grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log"
snapshot_no_needless_wakeups "$IT_DIR/walcast.log"
grep -q 'msg="table has no primary key: its snapshot is read whole, in one chunk".*table=public.nopk' "$IT_DIR/walcast.log"
[ "$(grep -c 'msg="snapshot of table finished"' "$IT_DIR/walcast.log")" = 4 ]
check() {  # topic table keycols
  kcat -C -b "$BS" -t "$1" -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/ev.json"
  psql -X -At -c "SELECT row_to_json(t) FROM $2 t" >"$IT_DIR/rows.json"
  "$PY" "$ROOT/tests/integration/snapshot_check.py" "$IT_DIR/ev.json" "$IT_DIR/rows.json" "$3" | sed "s/^/$1: /"
}
check srv.public.items items id
check srv.public.comp comp a,b
check srv.public.nopk nopk ""
check 'srv.public.Odd__Name_' '"Odd ""Name"""' id
# markers: "first" on the first row of the first table (Odd "Name": C order, as Java sorts names), "last" once
first=$(kcat -C -b "$BS" -t srv.public.Odd__Name_ -o beginning -X isolation.level=read_committed -c 1 -e -q -f '%s\n' | "$PY" -c 'import json,sys; print(json.loads(sys.stdin.read())["source"]["snapshot"])')
[ "$first" = first ] || { echo "first marker: $first" >&2; exit 1; }
lasts=$(for t in srv.public.items srv.public.comp srv.public.nopk 'srv.public.Odd__Name_'; do
  kcat -C -b "$BS" -t "$t" -o beginning -X isolation.level=read_committed -e -q -f '%s\n'; done | grep -c '"snapshot":"last"' || true)
[ "$lasts" = 1 ] || { echo "expected one last marker, got $lasts" >&2; exit 1; }
echo "snapshot consistent with the stream under concurrent writes"
