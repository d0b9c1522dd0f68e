#!/usr/bin/env bash
# test_broker_outage.sh: the (real, single-node) Kafka broker goes away for 90 s while changes keep
# coming, then comes back. walcast waits without giving up, keeps the replication connection alive
# (standby status updates go on, so wal_sender_timeout (60 s here) never fires: same walsender before
# and after), also while a 150,000-row transaction outgrows what it keeps in memory, resumes by itself
# and publishes every change exactly once, in order.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE o (id int PRIMARY KEY)"
kafka_own_start 1
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create srv.public.o connect-offsets
walcast_start "$(connector_file outage "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "status.update.interval.ms=2000")"
walsender() { psql -X -At -c "SELECT pid FROM pg_stat_replication WHERE application_name <> 'walreceiver' LIMIT 1"; }
psql_q -c "INSERT INTO o SELECT g FROM generate_series(1, 100) g"
wait_published
before=$(walsender)
[ -n "$before" ] || { echo "no walsender for walcast" >&2; exit 1; }

OUTAGE=${OUTAGE_SECONDS:-90}
bash "$ROOT/scripts/kafka.sh" kill "$KAFKA_DIR" 1
echo "broker killed; down for ${OUTAGE}s while changes keep coming"
# a large transaction first: its records outgrow what walcast keeps while a commit waits (32 MB),
# so walcast must stop reading, not block, and still send status updates
psql_q -c "INSERT INTO o SELECT g FROM generate_series(1000001, 1150000) g"
start=$(date +%s); stale=0; n=100
while [ $(( $(date +%s) - start )) -lt "$OUTAGE" ]; do
  n=$((n + 1)); psql_q -c "INSERT INTO o VALUES ($n)"
  # the last standby status update must stay recent (walcast sends one every 2 s, or when asked)
  age=$(psql -X -At -c "SELECT coalesce(extract(epoch FROM now() - reply_time)::int, -1) FROM pg_stat_replication WHERE pid = $before")
  [ -n "$age" ] || { echo "walcast's replication connection is gone during the outage" >&2; exit 1; }
  [ "$age" -le 15 ] || stale=$((stale + 1))
  kill -0 "$WALCAST_PID" || { echo "walcast exited during the outage" >&2; exit 1; }
  sleep 1   # the pace of the workload, not a wait for an event
done
[ "$stale" -eq 0 ] || { echo "standby status updates stopped during the outage ($stale checks saw none for 15 s)" >&2; exit 1; }
bash "$ROOT/scripts/kafka.sh" up "$KAFKA_DIR" 1
echo "broker back after $(( $(date +%s) - start ))s"
wait_published debezium 180
after=$(walsender)
[ "$after" = "$before" ] || { echo "the replication connection was replaced (walsender $before -> $after)" >&2; exit 1; }
! grep -q "replication interrupted\|connector failed" "$IT_DIR/walcast.log" || {
  echo "walcast did not ride through the outage by itself:" >&2; grep "replication interrupted\|connector failed" "$IT_DIR/walcast.log" | head -3 >&2; exit 1; }
! grep -q "terminating walsender process due to replication timeout" "$PGDIR/postgres.log" || { echo "wal_sender_timeout fired" >&2; exit 1; }
walcast_stop
kcat -C -b "$BS" -t srv.public.o -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/keys.txt"
$PY - "$IT_DIR/keys.txt" "$n" <<'PYEOF'
import json, sys
n = int(sys.argv[2])
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
want = list(range(1, 101)) + list(range(1000001, 1150001)) + list(range(101, n + 1))
assert ids == want, f"expected {len(want)} ids once each in order, got {len(ids)}: {ids[:3]}...{ids[-3:]}"
print(f"{len(want)} changes exactly once; same replication connection before and after the outage")
PYEOF
