#!/usr/bin/env bash
# test_snapshot_incremental.sh: incremental snapshots on demand through a signal table
# (signal.data.collection) and a Kafka topic (signal.kafka.topic): execute-snapshot with a data-collections regex while writers change the
# table (a replay of everything consumed equals the table row by row; rows marked "incremental" with
# null txId/lsn), additional-conditions, pause/resume, stop, and bad signals (malformed JSON, unknown
# type, a hostile table name, a regex that matches nothing) logged and ignored.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL, n int);
INSERT INTO items SELECT g, 'v' || g, g % 7 FROM generate_series(1, 30000) g;
CREATE TABLE colors (id int PRIMARY KEY, color text);
INSERT INTO colors SELECT g, CASE WHEN g % 3 = 0 THEN 'blue' ELSE 'red' END FROM generate_series(1, 300) g;
SQL
kafka_start --topic srv.public.items --topic srv.public.colors --topic connect-offsets --topic srv.signal
cfg=$(connector_file inc "snapshot.mode=no_data" "signal.data.collection=public.dbz_signal" \
  "signal.enabled.channels=source,kafka" "signal.kafka.topic=srv.signal" \
  "incremental.snapshot.chunk.size=1000" "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=300")
walcast_start "$cfg"
sig() { psql_q -c "INSERT INTO dbz_signal VALUES ('$1', '$2', \$j\$$3\$j\$)"; }
# bad signals first: each logged and ignored, the connector goes on
sig bad1 execute-snapshot '{"data-collections": ["public.items"'
sig bad2 make-coffee '{}'
sig bad3 execute-snapshot '{"data-collections": ["public.\"; DROP TABLE items; --"]}'
sig bad4 execute-snapshot '{"data-collections": ["(unclosed"]}'
sig bad5 execute-snapshot '{"data-collections": ["nosuch\\.table"]}'
# the two that match no table start no snapshot: none "completes" (with no table) once they are committed; such a
# completion made the waits below end at once (the Kafka signal was read before s1's snapshot, its red rows before
# s4's blue ones: CI of b0f5e0a)
wait_log 'no captured table matches data-collections' 2
wait_published debezium 60
! grep 'msg="snapshot completed"' "$IT_DIR/walcast.log" || { echo "a signal matching no table completed a snapshot" >&2; exit 1; }
(
  for i in $(seq 1 400); do
    echo "BEGIN; UPDATE items SET v = 'u$i', n = $i WHERE id = $(( (i * 613) % 30000 + 1 ));"
    echo "INSERT INTO items VALUES ($((30000 + i)), 'new$i', $i);"
    echo "DELETE FROM items WHERE id = $(( (i * 977) % 30000 + 1 )); COMMIT;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!
sig s1 execute-snapshot '{"data-collections": ["public\\.it.*"], "type": "incremental"}'
sig s2 pause-snapshot ''
sig s3 resume-snapshot ''
for _ in $(seq 1 600); do grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" || { echo "the incremental snapshot did not complete" >&2; exit 1; }
# additional-conditions: only the blue colors
sig s4 execute-snapshot '{"data-collections": ["public.colors"], "additional-conditions": [{"data-collection": "public.colors", "filter": "color = '"'"'blue'"'"'"}]}'
for _ in $(seq 1 300); do [ "$(grep -c 'msg="snapshot completed"' "$IT_DIR/walcast.log")" -ge 2 ] && break; sleep 0.1; done
# the Kafka channel: a malformed record, one for another connector, then the whole colors table
printf '%s\n' 'srv|{"type":' 'other|{"type":"execute-snapshot","data":{"data-collections":["public.items"]}}' \
  'srv|{"type":"execute-snapshot","data":{"data-collections":["public.colors"],"type":"incremental"}}' \
  | kcat -P -b "$BS" -t srv.signal -K '|'
for _ in $(seq 1 300); do [ "$(grep -c 'msg="snapshot completed"' "$IT_DIR/walcast.log")" -ge 3 ] && break; sleep 0.1; done
grep -q 'msg="signal ignored" connector=it channel=kafka' "$IT_DIR/walcast.log"
wait $writer
wait_published debezium 60
walcast_stop
for b in bad1 bad2 bad4; do grep -q "msg=\"signal ignored\".*id=\"$b\"" "$IT_DIR/walcast.log" || { echo "signal $b not reported" >&2; exit 1; }; done
# the hostile name and the unknown table match no captured table: nothing runs (items is still there)
[ "$(grep -c 'no captured table matches data-collections' "$IT_DIR/walcast.log")" = 2 ]
psql -X -At -c "SELECT count(*) FROM items" >/dev/null
kcat -C -b "$BS" -t srv.public.items -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/ev.json"
psql -X -At -c "SELECT row_to_json(t) FROM items t" >"$IT_DIR/rows.json"
"$PY" "$ROOT/tests/integration/snapshot_check.py" "$IT_DIR/ev.json" "$IT_DIR/rows.json" id
# incremental rows: marker incremental, txId and lsn null
kcat -C -b "$BS" -t srv.public.items -o beginning -X isolation.level=read_committed -e -q -f '%s\n' | "$PY" -c '
import json, sys
n = 0
for l in sys.stdin:
    if not l.strip(): continue   # tombstones
    v = json.loads(l)
    if v["op"] != "r": continue
    s = v["source"]; n += 1
    assert s["snapshot"] == "incremental" and s["txId"] is None and s["lsn"] is None, s
assert n > 25000, n
print("incremental rows:", n)'
blue=$(kcat -C -b "$BS" -t srv.public.colors -o beginning -X isolation.level=read_committed -e -q -f '%s\n' | grep -c '"op":"r"')
# 100 blue rows (additional-conditions), then all 300 (the Kafka signal)
[ "$blue" = 400 ] || { echo "expected 100 blue rows then 300, got $blue" >&2; exit 1; }
kcat -C -b "$BS" -t srv.public.colors -o beginning -X isolation.level=read_committed -c 100 -e -q -f '%s\n' | grep -q '"color":"red"' && { echo "a red row was read under the filter" >&2; exit 1; }
echo "incremental snapshot consistent with the stream; signals checked"
