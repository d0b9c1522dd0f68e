#!/usr/bin/env bash
# test_offsets.sh: restart behaviour around the offsets topic:
#  1. taking over a Debezium deployment: an offset record in Kafka Connect's format written by
#     "Debezium" for the same name/topic.prefix makes walcast skip everything before it;
#  2. a slot confirmed past the stored offsets (WAL that was never published is gone) is refused;
#  3. offsets beyond the server's WAL end are refused (nothing skipped, the slot untouched);
#  4. offsets of another cluster (walcast's walcast_system_id) are refused, unless a new start is asked for.
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
# flushed up to there before walcast starts: the clusters run synchronous_commit=off, so the insert position
# can be ahead of the WAL the server has flushed, and walcast rightly refuses offsets beyond that (CI once
# did); a synchronously committed write flushes everything before it
psql_q -c "SET synchronous_commit = on" -c "CREATE TABLE flush_wal (); DROP TABLE flush_wal"
psql_q -c "INSERT INTO o SELECT g FROM generate_series(6, 8) g"            # not yet published
for i in $(seq 1 3000); do printf '["other-%d",{"server":"x"}]|{"lsn":%d}\n' "$((i % 7))" "$i"; done |
  kcat -P -b "$BS" -t connect-offsets -K '|'
# Debezium's offset record (Kafka Connect format) for name=it, topic.prefix=srv
printf '%s|%s\n' '["it",{"server":"srv"}]' "{\"transaction_id\":null,\"lsn_proc\":$lsn,\"messageType\":\"COMMIT\",\"lsn_commit\":$lsn,\"lsn\":$lsn,\"txId\":700,\"ts_usec\":1700000000000000}" |
  kcat -P -b "$BS" -t connect-offsets -K '|'
cfg=$(connector_file off "key.converter.schemas.enable=false" "publication.autocreate.mode=disabled")
walcast_start "$cfg"
wait_topic srv.public.o 3
wait_published
got=$(kcat -C -b "$BS" -t srv.public.o -e -q -f '%k ' )
[ "$got" = '{"id":6} {"id":7} {"id":8} ' ] || { echo "expected only ids 6-8 after taking over the offsets, got: $got" >&2; exit 1; }
grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
walcast_stop

# the slot moves past what the offsets topic holds: refuse, say why
psql_q -c "INSERT INTO o VALUES (9)"
target=$(psql -X -At -c "SELECT pg_current_wal_insert_lsn()")
for _ in $(seq 1 50); do   # advance is clamped to flushed WAL (synchronous_commit=off here): retry
  bash "$ROOT/scripts/pg-flush.sh"
  psql_q -c "SELECT 1 FROM pg_replication_slot_advance('debezium', '$target')" >/dev/null
  [ "$(psql -X -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] && break
  sleep 0.1
done
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/ahead.log" || rc=$?
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc" >&2; cat "$IT_DIR/ahead.log" >&2; exit 1; }
grep -q "the WAL in between is gone and its changes were never sent" "$IT_DIR/ahead.log"

# 3. offsets beyond the server's WAL end (a restored database, a new cluster under an old name, a
#    negative number): refused with both positions and the remedy; nothing is skipped or confirmed
psql_q -c "SELECT pg_drop_replication_slot('debezium')" >/dev/null
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" reset
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create srv.public.o connect-offsets
for lsn in 999999999999 -5; do
  printf '%s|%s\n' '["it",{"server":"srv"}]' "{\"lsn_proc\":$lsn,\"messageType\":\"COMMIT\",\"lsn_commit\":$lsn,\"lsn\":$lsn,\"txId\":1,\"ts_usec\":1}" |
    kcat -P -b "$BS" -t connect-offsets -K '|'
  rc=0
  timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/beyond.log" || rc=$?
  [ $rc -eq 1 ] || { echo "offsets with lsn $lsn: expected exit 1, got $rc" >&2; cat "$IT_DIR/beyond.log" >&2; exit 1; }
  grep -q "but this server's WAL ends at .*Use a new connector name" "$IT_DIR/beyond.log" || {
    echo "offsets with lsn $lsn: no clear refusal" >&2; cat "$IT_DIR/beyond.log" >&2; exit 1; }
done
grep -o 'error="the stored offsets.*' "$IT_DIR/beyond.log" | cut -c1-200
# the slot is untouched: its changes are still there for a correct start
[ "$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'debezium' AND confirmed_flush_lsn > '0/FFFFFFFF'")" = 0 ]

# 4. offsets of another cluster (system identifier): refused; snapshot.mode=when_needed starts anew
printf '%s|%s\n' '["it",{"server":"srv"}]' '{"lsn_proc":1,"messageType":"COMMIT","lsn_commit":1,"lsn":1,"txId":1,"ts_usec":1,"walcast_system_id":"1234567890","walcast_timeline":1}' |
  kcat -P -b "$BS" -t connect-offsets -K '|'
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/other.log" || rc=$?
[ $rc -eq 1 ] && grep -q "belong to database system 1234567890, but this server is system" "$IT_DIR/other.log" || {
  echo "offsets of another cluster not refused (rc=$rc)" >&2; cat "$IT_DIR/other.log" >&2; exit 1; }
cfg2=$(connector_file off2 "key.converter.schemas.enable=false" "publication.autocreate.mode=disabled" "snapshot.mode=when_needed")
walcast_start "$cfg2"
grep -q "stored offsets ignored: a new start was asked for" "$IT_DIR/walcast.log"
psql_q -c "INSERT INTO o VALUES (100)"
wait_published
# when_needed: the offsets are no good, so the tables are read again (op r), as Debezium does
reads=0
for _ in $(seq 1 300); do
  reads=$(kcat -C -b "$BS" -t srv.public.o -X isolation.level=read_committed -e -q -f '%s\n' | grep -c '"op":"r"' || true)
  [ "$reads" -gt 0 ] && break
  sleep 0.1
done
[ "$reads" -gt 0 ] || { echo "snapshot.mode=when_needed with foreign offsets took no snapshot" >&2; exit 1; }
walcast_stop
# its own offset record carries this cluster's identity now
kcat -C -b "$BS" -t connect-offsets -e -q -f '%s\n' | tail -1 | grep -q "\"walcast_system_id\":\"$(psql -X -At -c 'SELECT system_identifier FROM pg_control_system()')\""
echo "offsets beyond the WAL and of another cluster are refused; a new start (with a snapshot: $reads rows read) is possible"

# 5. the newest offset record of this connector is corrupt: refused (an older one would re-publish),
#    naming the record and the way out; a tombstone under the key then starts from the slot
cfg3=$(connector_file off3 "key.converter.schemas.enable=false" "publication.autocreate.mode=disabled" "name=it-corrupt")
walcast_start "$cfg3"
psql_q -c "INSERT INTO o VALUES (200)"
wait_published
walcast_stop
printf '%s|%s\n' '["it-corrupt",{"server":"srv"}]' '{"lsn":"0/16B3740 oops"' | kcat -P -b "$BS" -t connect-offsets -K '|'
rc=0
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg3" >/dev/null 2>"$IT_DIR/corrupt.log" || rc=$?
[ $rc -eq 1 ] && grep -q 'newest offset record of this connector in connect-offsets (partition 0, offset [0-9]*) is not a valid offset.*tombstone' "$IT_DIR/corrupt.log" || {
  echo "a corrupt newest offset record was not refused clearly (rc=$rc)" >&2; cat "$IT_DIR/corrupt.log" >&2; exit 1; }
grep -o 'error="the newest.*' "$IT_DIR/corrupt.log" | cut -c1-160
printf '%s\n' '["it-corrupt",{"server":"srv"}]|' | kcat -P -b "$BS" -t connect-offsets -K '|' -Z
walcast_start "$cfg3"
walcast_stop
echo "a corrupt newest offset record is refused; a tombstone clears it"
