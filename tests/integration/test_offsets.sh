#!/usr/bin/env bash
# test_offsets.sh: restart behaviour around the offsets topic:
#  1. taking over a Debezium deployment: an offset record in Kafka Connect's format written by
#     "Debezium" for the same name/topic.prefix makes walcast skip everything before it;
#  2. a slot confirmed past the stored offsets (WAL that was never published is gone) is refused.
# The offsets topic is shared: 3000 records of other connectors come before ours (a reader that gave
# up after a number of polls instead of a time once failed on such a topic).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE o (id int PRIMARY KEY)"
psql_q -c "SELECT 1 FROM pg_create_logical_replication_slot('debezium', 'pgoutput')" -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES" >/dev/null
kafka_start --topic srv.public.o --topic connect-offsets
psql_q -c "INSERT INTO o SELECT g FROM generate_series(1, 5) g"            # "already published by Debezium"
lsn=$(psql -X -At -c "SELECT pg_current_wal_insert_lsn() - '0/0'")
psql_q -c "INSERT INTO o SELECT g FROM generate_series(6, 8) g"            # not yet published
for i in $(seq 1 3000); do printf '["other-%d",{"server":"x"}]|{"lsn":%d}\n' "$((i % 7))" "$i"; done |
  kcat -P -b "$BS" -t connect-offsets -K '|'
# Debezium's offset record (Kafka Connect format) for name=it, topic.prefix=srv
printf '%s|%s\n' '["it",{"server":"srv"}]' "{\"transaction_id\":null,\"lsn_proc\":$lsn,\"messageType\":\"COMMIT\",\"lsn_commit\":$lsn,\"lsn\":$lsn,\"txId\":700,\"ts_usec\":1700000000000000}" |
  kcat -P -b "$BS" -t connect-offsets -K '|'
cfg=$(connector_file off "key.converter.schemas.enable=false" "publication.autocreate.mode=disabled")
walcast_start "$cfg"
wait_topic srv.public.o 3
sleep 1
got=$(kcat -C -b "$BS" -t srv.public.o -e -q -f '%k ' )
[ "$got" = '{"id":6} {"id":7} {"id":8} ' ] || { echo "expected only ids 6-8 after taking over the offsets, got: $got" >&2; exit 1; }
grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
walcast_stop

# the slot moves past what the offsets topic holds: refuse, say why
psql_q -c "INSERT INTO o VALUES (9)"
target=$(psql -X -At -c "SELECT pg_current_wal_insert_lsn()")
for _ in $(seq 1 50); do   # advance is clamped to flushed WAL (synchronous_commit=off here): retry
  psql_q -c "SET synchronous_commit = on" -c "SELECT txid_current()" >/dev/null
  psql_q -c "SELECT 1 FROM pg_replication_slot_advance('debezium', '$target')" >/dev/null
  [ "$(psql -X -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] && break
  sleep 0.1
done
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/ahead.log" || rc=$?
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc" >&2; cat "$IT_DIR/ahead.log" >&2; exit 1; }
grep -q "the WAL in between is gone and its changes were never sent" "$IT_DIR/ahead.log"
