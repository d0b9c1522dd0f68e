#!/usr/bin/env bash
# test_reconnect.sh: PostgreSQL restarted in the middle of a steady stream of inserts: walcast
# reconnects with backoff and resumes from its offsets; on the real broker every change arrives
# exactly once, in order (the transaction cut by the restart is neither lost nor sent twice).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t --topic connect-offsets
walcast_start "$(connector_file rc "value.converter.schemas.enable=false" "key.converter.schemas.enable=false" "status.update.interval.ms=200")"
N=400
# one row per transaction; a statement cut by the restart is tried again (ON CONFLICT: its commit may
# have happened before the connection dropped)
(
  for i in $(seq 1 $N); do
    until psql -X -q -c "INSERT INTO t VALUES ($i, 'v') ON CONFLICT DO NOTHING" >/dev/null 2>&1; do sleep 0.1; done
  done
) &
writer=$!
wait_topic srv.public.t 150 60
runuser -u walcast -- pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null 2>&1 || pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null
wait "$writer"
wait_published debezium 60
grep -q "replication interrupted; reconnecting" "$IT_DIR/walcast.log"
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge 2 ]
walcast_stop
expect_ids_once srv.public.t "$N" "changes exactly once across a PostgreSQL restart"
