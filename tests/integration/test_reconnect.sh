#!/usr/bin/env bash
# test_reconnect.sh: PostgreSQL restarted mid-stream: walcast reconnects with backoff and continues;
# every committed row arrives (at-least-once: duplicates allowed, nothing missing).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.t
walcast_start "$(connector_file rc "value.converter.schemas.enable=false" "key.converter.schemas.enable=false" "status.update.interval.ms=200")"
psql_q -c "INSERT INTO t SELECT g, 'before' FROM generate_series(1, 100) g"
wait_topic srv.public.t 100
runuser -u walcast -- pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null 2>&1 || pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null
psql_q -c "INSERT INTO t SELECT g, 'after' FROM generate_series(101, 200) g"
wait_topic srv.public.t 200 60
grep -q "replication interrupted; reconnecting" "$IT_DIR/walcast.log"
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge 2 ]
ids=$(kcat -C -b "$BS" -t srv.public.t -e -q -f '%k\n' | sort -u | wc -l)
[ "$ids" -eq 200 ] || { echo "expected 200 distinct keys, got $ids" >&2; exit 1; }
# the slot's confirmed position moved past the first batch: the flush LSN reached the server
confirmed=$(psql -X -At -c "SELECT confirmed_flush_lsn > '0/0' FROM pg_replication_slots WHERE slot_name = 'debezium'")
[ "$confirmed" = t ]
walcast_stop
