#!/usr/bin/env bash
# takeover.sh: Debezium 3.6.1 and walcast take over each other's offsets, through one slot and one
# offsets topic, and a read_committed consumer sees every change exactly once:
#   1. Debezium (a one-worker Connect cluster in distributed mode, so its offsets are in a Kafka topic in
#      Kafka Connect's format: standalone keeps them in a file) streams ids 1..50, then stops cleanly
#      (it flushes its offsets);
#   2. ids 51..100 are written while nothing streams; walcast starts with the same connector config and
#      offset.storage.topic, resumes from Debezium's offsets and publishes 51..100, then 101..150 live,
#      and stops cleanly;
#   3. ids 151..200 are written while nothing streams; Debezium starts again (a fresh worker: only the
#      offsets topic remembers) and resumes from walcast's offsets: 151..200, then 201 live.
# The topic must then hold ids 1..201, each once, in order.
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -c "CREATE TABLE tk (id int PRIMARY KEY, v text)" -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
ref_kafka_start K
ref_pair tk tk
# one slot for both: the Debezium side's file is the one used by both agents
sed -i 's/^slot.name=.*/slot.name=tk_slot/' "$IT_DIR/tk.dbz.properties" "$IT_DIR/tk.wc.properties"

rows() {  # rows FROM TO: one transaction per two ids
  psql_q -c "INSERT INTO tk SELECT g, 'r' || g FROM generate_series($1, $2) g WHERE g % 2 = 1" \
         -c "INSERT INTO tk SELECT g, 'r' || g FROM generate_series($1, $2) g WHERE g % 2 = 0" >/dev/null
  local i
  for i in $(seq "$1" 2 "$2"); do
    psql_q -c "UPDATE tk SET v = v || '!' WHERE id = $i" >/dev/null
  done
}

ref_connect_start "$K" --offsets-topic tk-offsets "$IT_DIR/tk.dbz.properties"
ref_slot_wait tk_slot
rows 1 50
$PY "$REF/ref.py" wait-id "$K" 60 tk.public.tk id 50
ref_connect_stop
echo "debezium stopped; its offsets:"
$PY "$REF/ref.py" offsets "$K" tk-offsets | tee "$IT_DIR/offsets-1.txt"
grep -q '^\["tk",{"server":"tk"}\]' "$IT_DIR/offsets-1.txt" ||
  { echo "Debezium wrote no offset record for [\"tk\",{\"server\":\"tk\"}] to tk-offsets" >&2; exit 1; }

rows 51 100
ref_walcast_start "$K" tk-offsets "$IT_DIR/tk.wc.properties"
grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
$PY "$REF/ref.py" wait-id "$K" 60 tk.public.tk id 100
rows 101 150
$PY "$REF/ref.py" wait-id "$K" 60 tk.public.tk id 150
walcast_stop
echo "walcast stopped; its offsets:"
$PY "$REF/ref.py" offsets "$K" tk-offsets | tail -1

rows 151 200
ref_connect_start "$K" --offsets-topic tk-offsets "$IT_DIR/tk.dbz.properties"
$PY "$REF/ref.py" wait-id "$K" 60 tk.public.tk id 200
psql_q -c "INSERT INTO tk VALUES (201, 'last')"
$PY "$REF/ref.py" wait-id "$K" 60 tk.public.tk id 201
ref_connect_stop

# every change exactly once: ids (inserts and updates) in the order written
$PY "$REF/ref.py" ids "$K" tk.public.tk id >"$IT_DIR/ids.txt"
$PY - "$IT_DIR/ids.txt" <<'PYEOF'
import sys
got = [int(x) for x in open(sys.argv[1]).read().split()]
want = []
for lo, hi in ((1, 50), (51, 100), (101, 150), (151, 200)):
    want += [g for g in range(lo, hi + 1) if g % 2 == 1] + [g for g in range(lo, hi + 1) if g % 2 == 0]
    want += list(range(lo, hi + 1, 2))
want.append(201)
if got != want:
    missing = sorted(set(want) - set(got))
    dup = sorted({g for g in got if got.count(g) > want.count(g)})
    sys.exit(f"take-over: {len(got)} changes, expected {len(want)}; missing ids {missing[:20]}, "
             f"more often than written {dup[:20]}")
print(f"take-over: {len(got)} changes, each exactly once, in order")
PYEOF
echo "take-over test took $(( $(date +%s) - t0 ))s"
