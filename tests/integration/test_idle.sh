#!/usr/bin/env bash
# test_idle.sh: WAL that holds nothing to publish (writes to a table outside the publication) is
# released: with nothing in flight, walcast confirms the server's position, so the slot does not
# retain WAL on a filtered or idle database.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE captured (id int PRIMARY KEY)" -c "CREATE TABLE ignored (id int PRIMARY KEY, pad text)"
kafka_start --topic srv.public.captured
walcast_start "$(connector_file idle "publication.autocreate.mode=filtered" "table.include.list=public.captured" "status.update.interval.ms=200")"
psql_q -c "INSERT INTO captured VALUES (1)"
wait_topic srv.public.captured 1
psql_q -c "INSERT INTO ignored SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"
target=$(psql -X -At -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 100); do
  ok=$(psql -X -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'debezium'")
  [ "$ok" = t ] && break
  sleep 0.1
done
[ "$ok" = t ] || { echo "slot did not advance past $target: $(psql -X -At -c 'SELECT confirmed_flush_lsn FROM pg_replication_slots')" >&2; exit 1; }
# the filtered publication really holds only the included table
[ "$(psql -X -At -c "SELECT string_agg(tablename, ',') FROM pg_publication_tables WHERE pubname = 'dbz_publication'")" = captured ]
walcast_stop
