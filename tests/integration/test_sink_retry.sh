#!/usr/bin/env bash
# test_sink_retry.sh: the PostgreSQL target restarted (fast shutdown: sessions killed, then refused while
# it starts) under a sink applying a backlog: the sink retries with backoff, reconnects and goes on; it
# reaches the end of the topic, every row holds its last version, and the sink never fails.
# The sink is caught inside a batch for sure: a session holds a lock on the table while the updates are
# produced, and the restart comes once the sink waits for it (the whole backlog used to be applied in under a
# second, before the test looked: CI of b0f5e0a, "target restarted at offset 20000", no retry).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE DATABASE target"
kafka_start --topic it_retry
# 20,000 records (with their schemas): inserts of ids 1..4000, then four rounds of updates; n must end at 5 for every id
records() {  # first-round last-round
  "$PY" - "$1" "$2" <<'PYEOF' | "$PY" "$ROOT/tests/integration/with_schema.py" | kcat -P -b "$BS" -t it_retry -K $'\t' -X enable.idempotence=true -X linger.ms=50
import json, sys
for rnd in range(int(sys.argv[1]), int(sys.argv[2]) + 1):
    for i in range(1, 4001):
        op = "c" if rnd == 0 else "u"
        print(json.dumps({"id": i}) + "\t" + json.dumps({"op": op, "after": {"id": i, "n": rnd + 1, "v": f"r{rnd}"},
                                                         "source": {"ts_ms": rnd}}))
PYEOF
}
records 0 0
printf '%s\n' "name=it_retry" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=it_retry" \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/target" "connection.username=postgres" "insert.mode=upsert" \
  "primary.key.mode=record_key" "schema.evolution=basic" "batch.size=100" "walcast.retry.backoff.max.ms=1000" \
  >"$IT_DIR/retry.properties"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/retry.properties" >"$IT_DIR/walcast.out" 2>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
applied() { psql -X -At -d target -c "SELECT coalesce(max(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null || echo -1; }
for _ in $(seq 1 600); do [ "$(applied)" = 4000 ] && break; sleep 0.05; done
[ "$(applied)" = 4000 ] || { echo "the sink did not apply the 4000 inserts within 30 s (at $(applied))" >&2; exit 1; }
# a session holds the table; the updates come; the restart once the sink waits for the lock inside its batch
psql -X -q -d target -c "BEGIN; LOCK TABLE it_retry IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)" >/dev/null 2>&1 &
IT_PIDS+=($!)
for _ in $(seq 1 200); do
  [ "$(psql -X -At -d target -c "SELECT count(*) FROM pg_locks WHERE granted AND mode = 'AccessExclusiveLock' AND relation = 'it_retry'::regclass")" = 1 ] && break
  sleep 0.05
done
records 1 4
waiting() { psql -X -At -d target -c "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'it_retry'::regclass"; }
for _ in $(seq 1 600); do [ "$(waiting)" -ge 1 ] && break; sleep 0.05; done
[ "$(waiting)" -ge 1 ] || { echo "the sink never waited for the locked table" >&2; exit 1; }
before=$(applied)
runuser -u walcast -- pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null 2>&1 || pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null
echo "target restarted at offset $before, the sink inside a batch"
for _ in $(seq 1 1200); do [ "$(applied)" = 20000 ] && break; sleep 0.05; done
[ "$(applied)" = 20000 ] || { echo "the sink stopped at offset $(applied)" >&2; exit 1; }
kill -0 "$WALCAST_PID" || { echo "the sink exited" >&2; exit 1; }
grep -q 'msg="target transaction failed, retrying the batch"' "$IT_DIR/walcast.log" \
  || grep -q 'msg="target not reachable, retrying"' "$IT_DIR/walcast.log" \
  || { echo "no retry was logged: the restart did not hit the sink" >&2; exit 1; }
got=$(psql -X -At -d target -c "SELECT count(*), min(n), max(n), count(*) FILTER (WHERE v <> 'r4') FROM it_retry")
[ "$got" = "4000|5|5|0" ] || { echo "target: count|min n|max n|stale = $got, expected 4000|5|5|0" >&2; exit 1; }
walcast_stop
! grep -q 'msg="sink failed"' "$IT_DIR/walcast.log"
echo "restart at offset $before: retried, all 20000 records applied, 4000 rows at their last version"
