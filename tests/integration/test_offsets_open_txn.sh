#!/usr/bin/env bash
# test_offsets_open_txn.sh: another producer holds a transaction open on the shared offsets topic
# while walcast commits offset records after it. A read_committed reader stops at the last stable
# offset, before walcast's newest records: walcast must not restart from the stale offset behind it
# (which would publish again), but wait until that transaction ends and read on to the real end; a
# SIGTERM while it waits ends it at once.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE o (id int PRIMARY KEY)"
kafka_start --topic srv.public.o --topic connect-offsets
cfg=$(connector_file open "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
walcast_start "$cfg"
psql_q -c "INSERT INTO o SELECT g FROM generate_series(1, 50) g"
wait_published

# another producer's transaction, open on connect-offsets until we close its stdin
mkfifo "$IT_DIR/other.in"
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" open-txn connect-offsets other-producer <"$IT_DIR/other.in" >"$IT_DIR/other.out" 2>&1 &
OTHER=$!
IT_PIDS+=($OTHER)
exec 4>"$IT_DIR/other.in"
for _ in $(seq 1 300); do grep -q '^open' "$IT_DIR/other.out" && break; sleep 0.1; done
grep -q '^open' "$IT_DIR/other.out" || { echo "the other producer did not open its transaction" >&2; cat "$IT_DIR/other.out" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" txn-open connect-offsets || { echo "no open transaction on connect-offsets" >&2; exit 1; }

psql_q -c "INSERT INTO o SELECT g FROM generate_series(51, 100) g"
wait_published    # walcast's offset record for row 100 now lies behind the open transaction
walcast_stop

# restart while the other transaction is open: walcast must wait for it, not resume from row 50
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" 4>&- &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 300); do grep -q "open transaction of another producer" "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q "open transaction of another producer" "$IT_DIR/walcast.log" || { echo "walcast did not notice the open transaction" >&2; exit 1; }
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -eq 1 ] || { echo "walcast started before the transaction ended" >&2; exit 1; }

# a stop while it waits for that transaction ends walcast at once (the wait lasted up to 16 min, and held a
# cluster worker's rebalance and its SIGTERM as long)
kill -TERM "$WALCAST_PID"
for _ in $(seq 1 100); do kill -0 "$WALCAST_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$WALCAST_PID" 2>/dev/null; then
  echo "walcast did not end within 10 s of SIGTERM while it waited for another producer's open transaction" >&2
  tail -5 "$IT_DIR/walcast.log" >&2
  exit 1
fi
wait "$WALCAST_PID" || true
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -eq 1 ] || { echo "walcast started before the transaction ended" >&2; exit 1; }
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" 4>&- &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 300); do [ "$(grep -c "open transaction of another producer" "$IT_DIR/walcast.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c "open transaction of another producer" "$IT_DIR/walcast.log")" -ge 2 ] || { echo "walcast did not notice the open transaction after its restart" >&2; exit 1; }

exec 4>&-          # the other producer aborts its transaction
wait "$OTHER"
for _ in $(seq 1 300); do [ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge 2 ] || { echo "walcast did not go on after the transaction ended" >&2; exit 1; }
psql_q -c "INSERT INTO o SELECT g FROM generate_series(101, 150) g"
wait_published
walcast_stop
kcat -C -b "$BS" -t srv.public.o -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/keys.txt"
$PY - "$IT_DIR/keys.txt" <<'PYEOF'
import json, sys
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
assert ids == list(range(1, 151)), f"expected ids 1..150 once each in order, got {len(ids)}: {ids[:3]}...{ids[-3:]}"
print("150 changes exactly once; the restart waited for the other producer's transaction")
PYEOF
grep -o 'msg="the offsets topic holds.*' "$IT_DIR/walcast.log" | head -1
