#!/usr/bin/env bash
# test_snapshot_initial_only_restart.sh: snapshot.mode=initial_only started again after its snapshot
# completed (the completion is in the committed offsets). Debezium 3.6.1 takes no snapshot then
# (InitialSnapshotter.shouldSnapshotData: offsets exist, no snapshot running) and does not stream
# (InitialOnlySnapshotter.shouldStream is false: "Streaming is disabled for snapshot mode initial_only");
# tests/reference/initial_only_diff.sh checks that on the real thing. walcast must do the same: end at
# once, having published nothing more (before: it streamed the rows written since, and ran on).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE a (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 100) g;
SQL
kafka_start --topic srv.public.a --topic connect-offsets
cfg=$(connector_file initonly "snapshot.mode=initial_only")
walcast_spawn "$cfg"
wait_exit "$WALCAST_PID" 60 "walcast (first run, snapshot.mode=initial_only)"
[ "$EXIT_RC" = 0 ] || { echo "first run exited with $EXIT_RC" >&2; exit 1; }
wait_log 'msg="snapshot.mode=initial_only: snapshot done, not streaming"' 1 1
# written after the snapshot: an initial_only connector never publishes them
psql_q -c "INSERT INTO a SELECT g, 'late' || g FROM generate_series(101, 120) g" -c "UPDATE a SET v = 'changed' WHERE id <= 10"
walcast_spawn "$cfg"
fail=0
if ! wait_exit "$WALCAST_PID" 60 "walcast (restarted, snapshot.mode=initial_only, snapshot completed before)"; then
  fail=1
  walcast_stop || true
elif [ "$EXIT_RC" != 0 ]; then
  echo "the restarted walcast exited with $EXIT_RC" >&2; fail=1
fi
n=$(grep -c 'msg="snapshot.mode=initial_only: snapshot done, not streaming"' "$IT_DIR/walcast.log" || true)
[ "$n" = 2 ] || { echo "$n 'snapshot done, not streaming' lines (want 2: one a run)" >&2; fail=1; }
grep -q 'reason="offsets are stored and hold no unfinished snapshot"' "$IT_DIR/walcast.log" ||
  { echo "the restart did not say why it does not stream" >&2; fail=1; }
if grep -q 'replication started' "$IT_DIR/walcast.log"; then
  echo "walcast started streaming: $(grep 'replication started' "$IT_DIR/walcast.log" | head -1)" >&2; fail=1
fi
kcat -C -b "$BS" -t srv.public.a -o beginning -X isolation.level=read_committed -e -q -f '%s\n' >"$IT_DIR/ev.json"
got=$(wc -l <"$IT_DIR/ev.json")
ops=$(grep -o '"op":"[a-z]"' "$IT_DIR/ev.json" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
[ "$got" = 100 ] && [ "$ops" = " 100 \"op\":\"r\" " ] ||
  { echo "srv.public.a holds $got records ($ops), want the 100 snapshot rows (op r) only" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1
echo "initial_only restarted after a completed snapshot: no snapshot, no streaming, walcast exited"

# Debezium's offsets of an unfinished initial_only snapshot (as Debezium 3.6.1 writes them; it takes such a
# snapshot again from the start, reference/initial_only_diff.sh's header): its initial_only connector leaves
# no slot, so the slot walcast creates is past the stored position. walcast must read every row again and
# end, as Debezium does (before: it stopped, exit 1, "slot ... is confirmed up to ... the WAL in between is
# gone", though the new snapshot makes up for it).
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 srv2.public.a
lsn=$(psql -X -At -c "SELECT pg_current_wal_lsn() - '0/0'")
psql_q -c "UPDATE a SET v = 'again' WHERE id > 110"
"$PY" - "$BS" "$lsn" <<'PYEOF'
import json, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
p.produce("connect-offsets", key=b'["dbzint",{"server":"srv2"}]',
          value=json.dumps({"last_snapshot_record": False, "lsn": int(sys.argv[2]), "txId": 700,
                            "ts_usec": 1796525281000000, "snapshot": "INITIAL", "snapshot_completed": False}).encode())
p.flush(10)
PYEOF
cfg2=$(connector_file dbzint "name=dbzint" "topic.prefix=srv2" "slot.name=slot2" "snapshot.mode=initial_only")
walcast_spawn "$cfg2"
if ! wait_exit "$WALCAST_PID" 60 "walcast (initial_only on Debezium's offsets of an unfinished snapshot)"; then
  walcast_stop || true; exit 1
fi
[ "$EXIT_RC" = 0 ] || { echo "walcast exited with $EXIT_RC on Debezium's offsets of an unfinished snapshot" >&2; exit 1; }
kcat -C -b "$BS" -t srv2.public.a -o beginning -X isolation.level=read_committed -e -q -f '%s\n' >"$IT_DIR/ev2.json"
ops=$(grep -o '"op":"[a-z]"' "$IT_DIR/ev2.json" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
[ "$ops" = " 120 \"op\":\"r\" " ] ||
  { echo "srv2.public.a holds $ops, want the table's 120 rows read again (op r) only" >&2; exit 1; }
echo "initial_only on Debezium's offsets of an unfinished snapshot: every row read again, no streaming"
