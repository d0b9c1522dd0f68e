#!/usr/bin/env bash
# initial_only_diff.sh: snapshot.mode=initial_only on Debezium 3.6.1 and on walcast, each with its offsets
# in a Kafka topic (Debezium: a one-worker distributed Connect), run twice:
#   1. first run: both snapshot the table (100 rows) and do not stream; Debezium logs "Streaming is
#      disabled for snapshot mode initial_only" and keeps its task RUNNING, idle, without a replication
#      slot (PostgresConnectorTask creates one only when the snapshotter streams); walcast ends;
#   2. rows are inserted and updated; both start again on their offsets: Debezium logs that no snapshot
#      will be executed and that streaming is disabled; walcast ends at once, saying so;
#   3. both start on offsets of an unfinished snapshot (Debezium's format): both read every row again and
#      do not stream.
# After 2 both topics hold the 100 snapshot rows only, after 3 the 120 rows read again besides; equal record
# by record (ref.py compare, REF_SNAPSHOT=1).
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -c "CREATE TABLE io (id int PRIMARY KEY, v text)" -c "INSERT INTO io SELECT g, 'r' || g FROM generate_series(1, 100) g" \
  -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
ref_kafka_start KA KB
ref_pair io io "snapshot.mode=initial_only"
for bs in "$KA" "$KB"; do $PY "$REF/ref.py" topics "$bs" 1 io.public.io; done
$PY "$REF/ref.py" compacted "$KA" io-offsets
$PY "$REF/ref.py" compacted "$KB" connect-offsets
printf 'bootstrap.servers=%s\noffset.storage.topic=connect-offsets\n' "$KB" >"$IT_DIR/ref-worker.properties"
export WALCAST_WORKER="$IT_DIR/ref-worker.properties"

# connect_log_wait N PATTERN: until the running worker's log has N lines matching PATTERN (bounded, 90 s)
connect_log_wait() {
  local n=$1 pat=$2
  wait_log "$pat" "$n" 90 "$REF_CONNECT/connect.log" || { tail -40 "$REF_CONNECT/connect.log" >&2; return 1; }
}
walcast_run_once() {   # walcast_run_once WHAT: one walcast run that must end by itself, exit 0
  walcast_spawn "$IT_DIR/io.wc.properties"
  wait_exit "$WALCAST_PID" 60 "walcast ($1, snapshot.mode=initial_only)"
  [ "$EXIT_RC" = 0 ] || { echo "walcast ($1) exited with $EXIT_RC" >&2; return 1; }
}

# 1. first run
ref_connect_start "$KA" --offsets-topic io-offsets "$IT_DIR/io.dbz.properties"
connect_log_wait 1 "Streaming is disabled for snapshot mode initial_only"
$PY "$REF/ref.py" wait "$KA" 60 io.public.io:100
slots=$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'dbz_io'")
echo "Debezium's replication slots after its initial_only snapshot: $slots"
walcast_run_once "first run"
psql_q -c "INSERT INTO io SELECT g, 'late' || g FROM generate_series(101, 120) g" -c "UPDATE io SET v = 'changed' WHERE id <= 10"
# Debezium keeps the task RUNNING (idle) while rows are written: stopping it commits its offsets
cp "$REF_CONNECT/connect.log" "$IT_DIR/connect-1.log"
ref_connect_stop

# 2. the restart, on the offsets of the completed snapshot
ref_connect_start "$KA" --offsets-topic io-offsets "$IT_DIR/io.dbz.properties"
connect_log_wait 1 "Streaming is disabled for snapshot mode initial_only"
grep -q "According to the connector configuration no snapshot will be executed" "$REF_CONNECT/connect.log" ||
  { echo "Debezium's restart did not skip the snapshot" >&2; exit 1; }
cp "$REF_CONNECT/connect.log" "$IT_DIR/connect-2.log"
walcast_run_once "restart"
grep -q 'msg="snapshot.mode=initial_only: snapshot done, not streaming".*reason="offsets are stored and hold no unfinished snapshot"' \
  "$IT_DIR/walcast.log" || { echo "walcast's restart did not say it does not stream" >&2; exit 1; }
if grep -q 'replication started' "$IT_DIR/walcast.log"; then echo "walcast streamed" >&2; exit 1; fi
ref_connect_stop
REF_SNAPSHOT=1 $PY "$REF/ref.py" compare "$KA" "$KB" 30 io | tee "$IT_DIR/compare.txt"
n=$($PY "$REF/ref.py" ids "$KA" io.public.io id | wc -l)
[ "$n" = 100 ] || { echo "Debezium's topic holds $n records, want the 100 snapshot rows" >&2; exit 1; }
[ "$slots" = 0 ] || { echo "Debezium created a slot in initial_only ($slots): the test's premise changed" >&2; exit 1; }

# 3. offsets of an unfinished snapshot, in Debezium's format (snapshot INITIAL, snapshot_completed false),
#    written to both offsets topics: both read every row again (120, op r) and do not stream. walcast on a
#    slot of its own that does not exist yet, as Debezium leaves none (with the slot of its first run it
#    reads the rows with watermarks while streaming: docs/compatibility.md).
psql_q -c "CLUSTER io USING io_pkey"   # Debezium reads in physical order, walcast in key order
lsn=$(psql -X -At -c "SELECT pg_current_wal_lsn() - '0/0'")
for spec in "$KA io-offsets" "$KB connect-offsets"; do
  $PY - $spec "$lsn" <<'PYEOF'
import json, sys
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1]})
p.produce(sys.argv[2], key=b'["io",{"server":"io"}]',
          value=json.dumps({"last_snapshot_record": False, "lsn": int(sys.argv[3]), "txId": 700,
                            "ts_usec": 1796525281000000, "snapshot": "INITIAL", "snapshot_completed": False}).encode())
p.flush(10)
PYEOF
done
sed -i 's/^slot.name=.*/slot.name=wc_io3/' "$IT_DIR/io.wc.properties"
ref_connect_start "$KA" --offsets-topic io-offsets "$IT_DIR/io.dbz.properties"
connect_log_wait 1 "Streaming is disabled for snapshot mode initial_only"
grep -q "Previous snapshot was cancelled before completion; a new snapshot will be taken" "$REF_CONNECT/connect.log" ||
  { echo "Debezium did not take the unfinished snapshot again" >&2; exit 1; }
$PY "$REF/ref.py" wait "$KA" 60 io.public.io:220
walcast_run_once "offsets of an unfinished snapshot"
ref_connect_stop
REF_SNAPSHOT=1 $PY "$REF/ref.py" compare "$KA" "$KB" 30 io | tee "$IT_DIR/compare-3.txt"
echo "initial_only differential test took $(( $(date +%s) - t0 ))s"
