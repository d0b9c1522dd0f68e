#!/usr/bin/env bash
# test_streaming.sh: walcast.streaming=true (pgoutput protocol 2). With logical_decoding_work_mem at
# 64kB the server streams large transactions while they run; walcast keeps them (memory budget, then
# zstd spill files) and publishes them at Stream Commit:
#  - a large transaction interleaved with a small one that commits first, with a rolled-back
#    savepoint: the small one first, then the large one without the rolled-back rows, in order;
#  - a large transaction that rolls back: nothing;
#  - a 1,000,000-row transaction: all of it (END event_count and topic offsets), peak RSS reported
#    and checked loosely (the benchmark reports the exact figure).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "ALTER SYSTEM SET logical_decoding_work_mem = '64kB'" -c "SELECT pg_reload_conf()" >/dev/null
psql_q -c "CREATE TABLE big (id int PRIMARY KEY, pad text NOT NULL DEFAULT 'padding padding padding')"
kafka_start --partitions 8 --topic srv.public.big
# one partition: END records in commit order (on 8 their order would follow their keys)
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 srv.transaction connect-offsets
cfg=$(connector_file stream "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "walcast.streaming=true" "walcast.memory.limit.mb=2" "walcast.spill.dir=$IT_DIR/spill" \
  "provide.transaction.metadata=true" "status.update.interval.ms=1000")
kcat -C -b "$BS" -t srv.public.big -o beginning -X isolation.level=read_committed -u -f '%k\n' >"$IT_DIR/keys.txt" 2>/dev/null &
IT_PIDS+=($!)
walcast_start "$cfg"

# 1. large transaction (streamed while it runs) with a rolled-back savepoint; a small one commits meanwhile
psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' &
BEGIN;
INSERT INTO big (id) SELECT g FROM generate_series(1, 20000) g;
SAVEPOINT s1;
INSERT INTO big (id) SELECT g FROM generate_series(20001, 25000) g;
ROLLBACK TO s1;
SELECT pg_sleep(2);
INSERT INTO big (id) SELECT g FROM generate_series(30001, 31000) g;
COMMIT;
SQL
large=$!
# the small transaction commits while the large one sleeps (after its savepoint rollback)
for _ in $(seq 1 300); do
  [ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 1 ] && break
  sleep 0.1
done
[ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 1 ] || { echo "the large transaction never reached its pg_sleep" >&2; exit 1; }
psql_q -c "INSERT INTO big (id) SELECT g FROM generate_series(50001, 50010) g"
wait $large
# 2. a large transaction that rolls back
psql_q -c "BEGIN" -c "INSERT INTO big (id) SELECT g FROM generate_series(60001, 70000) g" -c "ROLLBACK"
psql_q -c "INSERT INTO big (id) VALUES (99999)"
wait_published debezium 120
for _ in $(seq 1 200); do [ "$(wc -l <"$IT_DIR/keys.txt")" -ge 21011 ] && break; sleep 0.1; done
$PY - "$IT_DIR/keys.txt" <<'PYEOF'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
# 8 partitions: order is per key; compare the set and the per-transaction order via the key sequence
want = list(range(50001, 50011)) + list(range(1, 20001)) + list(range(30001, 31001)) + [99999]
if sorted(ids) != sorted(want) or len(ids) != len(want):
    extra = set(ids) - set(want); missing = set(want) - set(ids)
    sys.exit(f"consumed {len(ids)} keys, expected {len(want)}; missing {sorted(missing)[:5]}, unexpected {sorted(extra)[:5]}")
print(f"interleaved/savepoint/rollback: {len(ids)} records, as expected")
PYEOF
# per-transaction order on the transaction topic: small transaction's END before the large one's
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" count srv.transaction 6 30
kcat -C -b "$BS" -t srv.transaction -o beginning -c 6 -q -f '%s\n' >"$IT_DIR/tx.txt" 2>/dev/null
$PY - "$IT_DIR/tx.txt" <<'PYEOF'
import json, sys
ends = [json.loads(l) for l in open(sys.argv[1]) if '"END"' in l]
counts = [e["event_count"] for e in ends]
assert counts[:3] == [10, 21000, 1], f"END event counts in commit order: {counts}"
print(f"transaction metadata in commit order: {counts}")
PYEOF

# 3. one transaction of 1,000,000 rows
psql_q -c "INSERT INTO big (id) SELECT g FROM generate_series(1000001, 2000000) g"
wait_published debezium 300
rss_kb=$(awk '/VmHWM/ { print $2 }' "/proc/$WALCAST_PID/status")
walcast_stop
# counted record by record: on a real broker the partitions' end offsets also count transaction markers
total=$(kcat -C -b "$BS" -t srv.public.big -o beginning -X isolation.level=read_committed -e -q -f '.\n' | wc -l)
[ "$total" -eq $((21011 + 1000000)) ] || { echo "srv.public.big holds $total records, expected $((21011 + 1000000))" >&2; exit 1; }
echo "1,000,000-row transaction: all $((total - 21011)) records published"
grep -o 'msg="streamed transactions".*' "$IT_DIR/walcast.log" | tail -1
echo "walcast peak RSS with a 1,000,000-row transaction: $((rss_kb / 1024)) MB"
# (AddressSanitizer's shadow memory and quarantine make RSS meaningless in a SANITIZE=address build)
if ! ldd "$WALCAST" | grep -q libasan; then
  [ "$rss_kb" -lt $((300 * 1024)) ] || { echo "peak RSS ${rss_kb} kB is not bounded" >&2; exit 1; }
fi
replayed=$(grep -o 'msg="streamed transactions".*' "$IT_DIR/walcast.log" | tail -1 | sed -n 's/.* replayed=\([0-9]*\).*/\1/p')
[ "${replayed:-0}" -ge 2 ] || { echo "the server did not stream (replayed=$replayed)" >&2; exit 1; }
spilled=$(grep -o 'msg="streamed transactions".*' "$IT_DIR/walcast.log" | tail -1 | sed -n 's/.* spill_file_bytes=\([0-9]*\).*/\1/p')
[ "${spilled:-0}" -gt 0 ] || { echo "the 1,000,000-row transaction never went to a spill file (spill_file_bytes=$spilled)" >&2; exit 1; }
