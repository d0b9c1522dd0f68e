#!/usr/bin/env bash
# test_startup_retry.sh: failures during start-up that pass by themselves are retried with backoff,
# not fatal: CREATE PUBLICATION running into lock_timeout (a long transaction holds the table), and
# the catalog connection's backend terminated. Refusals a retry cannot fix stay fatal (test_bad_input).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)" -c "ALTER ROLE postgres SET lock_timeout = '300ms'"
kafka_start --topic srv.public.t --topic connect-offsets
cfg=$(connector_file retry "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "publication.autocreate.mode=filtered" "table.include.list=public.t")
# a session holding the table until we tell it to let go
mkfifo "$IT_DIR/locker.in"
psql -X -q <"$IT_DIR/locker.in" >"$IT_DIR/locker.out" 2>&1 &
LOCKER=$!
IT_PIDS+=($LOCKER)
exec 5>"$IT_DIR/locker.in"
echo "SET lock_timeout = 0; BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT 'locked';" >&5
for _ in $(seq 1 100); do grep -q locked "$IT_DIR/locker.out" && break; sleep 0.1; done
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>>"$IT_DIR/walcast.log" 5>&- &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 300); do grep -q "replication interrupted; reconnecting.*lock timeout" "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q "replication interrupted; reconnecting.*lock timeout" "$IT_DIR/walcast.log" || {
  echo "no retried lock timeout" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }
kill -0 "$WALCAST_PID" || { echo "walcast exited on a lock timeout" >&2; exit 1; }
echo "COMMIT;" >&5     # the long transaction ends
exec 5>&-
for _ in $(seq 1 600); do grep -q "replication started" "$IT_DIR/walcast.log" && break; sleep 0.1; done
grep -q "replication started" "$IT_DIR/walcast.log" || { echo "walcast never started after the lock went" >&2; exit 1; }
psql_q -c "INSERT INTO t VALUES (1)"
wait_published
walcast_stop

# the backend of walcast's catalog connection is terminated as soon as it appears (start-up): retried too
psql_q -c "INSERT INTO t VALUES (2)"
: >"$IT_DIR/walcast.log"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
for _ in $(seq 1 100); do
  psql -X -At -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'walcast-catalog'" | grep -q t && break
  sleep 0.05
done
for _ in $(seq 1 600); do grep -q "replication started" "$IT_DIR/walcast.log" && break; sleep 0.1; done
kill -0 "$WALCAST_PID" || { echo "walcast exited after its backend was terminated" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }
wait_published
walcast_stop
! grep -q "connector failed" "$IT_DIR/walcast.log" || { grep "connector failed" "$IT_DIR/walcast.log" >&2; exit 1; }
kcat -C -b "$BS" -t srv.public.t -o beginning -e -q -f '%k\n' >"$IT_DIR/keys.txt"
[ "$(tr -d '\n' <"$IT_DIR/keys.txt")" = '{"id":1}{"id":2}' ] || { echo "topic holds: $(cat "$IT_DIR/keys.txt")" >&2; exit 1; }
echo "lock timeout and a terminated backend during start-up: retried, nothing lost"
