#!/usr/bin/env bash
# test_rest_running.sh: a source connector's task is RUNNING only once its replication slot exists, as
# Debezium's task is RUNNING after its start() created the slot. A row written as soon as the task shows
# RUNNING is streamed, even with snapshot.mode=no_data. The window is made deterministic: an open
# transaction (holding an xid) keeps CREATE_REPLICATION_SLOT waiting for it; while it is held the task
# must not be RUNNING. A connector that showed RUNNING before its slot lost the row written then.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)" -c "CREATE TABLE hold (id int)"
kafka_start --topic srv.public.t
rest_worker_start running
task_state() {
  curl -s "$U/connectors/src/status" | "$PY" -c 'import json,sys
try: print(json.load(sys.stdin)["tasks"][0]["state"])
except Exception: print("none")'
}

# a transaction with an xid, held open by a psql fed through a fifo
mkfifo "$IT_DIR/hold.fifo"
psql -X -q -v ON_ERROR_STOP=1 <"$IT_DIR/hold.fifo" >"$IT_DIR/hold.out" 2>&1 &
HOLD_PID=$!
IT_PIDS+=($HOLD_PID)
exec 7>"$IT_DIR/hold.fifo"
echo "BEGIN; INSERT INTO hold VALUES (1); SELECT 'held';" >&7
for _ in $(seq 1 100); do grep -q held "$IT_DIR/hold.out" && break; sleep 0.1; done
grep -q held "$IT_DIR/hold.out" || { echo "the holding transaction did not start" >&2; exit 1; }

curl -s -o "$IT_DIR/body" -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' "$U/connectors" --data-binary \
  "{\"name\":\"src\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",\"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",\"topic.prefix\":\"srv\",\"snapshot.mode\":\"no_data\",\"slot.name\":\"s_run\",\"table.include.list\":\"public.t\",\"key.converter.schemas.enable\":\"false\"}}" \
  | grep -qx 201 || { echo "create failed: $(cat "$IT_DIR/body")" >&2; exit 1; }

# until the slot creation is seen waiting, then 3 s more: the task must not say RUNNING meanwhile
for _ in $(seq 1 300); do
  [ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender' AND query LIKE 'CREATE_REPLICATION_SLOT%'")" = 1 ] && break
  sleep 0.1
done
early=""
for _ in $(seq 1 30); do
  if [ "$(task_state)" = RUNNING ]; then early=yes; break; fi
  sleep 0.1
done
if [ -n "$early" ]; then
  echo "task RUNNING while its slot is still being created (slot rows: $(psql -X -At -c "SELECT slot_name, confirmed_flush_lsn FROM pg_replication_slots"))"
  psql_q -c "INSERT INTO t VALUES (1)"   # written when RUNNING was shown
  echo "COMMIT;" >&7
else
  echo "COMMIT;" >&7
  for _ in $(seq 1 300); do [ "$(task_state)" = RUNNING ] && break; sleep 0.1; done
  [ "$(task_state)" = RUNNING ] || { echo "task not RUNNING after the slot was created" >&2; exit 1; }
  psql_q -c "INSERT INTO t VALUES (1)"   # written as soon as RUNNING was shown
fi
exec 7>&-
[ "$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 's_run'")" = 1 ]
psql_q -c "INSERT INTO t VALUES (2)"
wait_topic srv.public.t 2 30 || { echo "the row written when the task showed RUNNING is not in Kafka" >&2; exit 1; }
kcat -C -b "$BS" -t srv.public.t -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/ids.txt"
"$PY" - "$IT_DIR/ids.txt" <<'PYEOF'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
assert ids == [1, 2], f"expected ids 1 and 2 once each, got {ids}"
PYEOF
[ -z "$early" ] || { echo "RUNNING was shown before the slot existed" >&2; exit 1; }
echo "task RUNNING only once its slot existed; the row written then is in Kafka once"
