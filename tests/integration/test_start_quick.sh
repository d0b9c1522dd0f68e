#!/usr/bin/env bash
# test_start_quick.sh: walcast's fixed costs at the end of a drain and at a start (issue 21), on a real broker:
#  1. a Kafka commit is confirmed to the slot at once, not with the next periodic status update: with
#     status.update.interval.ms=10000 the slot's confirmed_flush_lsn reaches a new transaction's end within
#     3 s of its insert (it waited for the next interval, up to 10 s);
#  2. a restart reads the stored offsets without waiting for a poll to time out after the last record:
#     "replication started ... offsets_ms=" under 60 ms in the best of three restarts (100 ms and more before:
#     the reader polled every 100 ms, and the end-of-partition event comes only with the fetch after the
#     last records, which the broker holds for fetch.wait.max.ms);
#  3. a new offsets topic (created by walcast with Connect's 25 partitions, whose metadata answers with no
#     partitions at first, then leaders that answer "not leader" for a while) is read within 200 ms of the
#     producers' fencing (the reader asked again after 250 ms, then 10, 20, 40 ... ms; the end probe waited
#     ~0.3-0.9 s for the new leaders after the fencing, now beside it);
#  4. PostgreSQL's connections are opened while Kafka's start still runs: with InitProducerId answered 3 s
#     late (mock cluster), walcast's replication connection (a walsender) is there within 2 s of its start,
#     before "replication started" (it was opened only once Kafka's start was done).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE q (id int PRIMARY KEY)"
kafka_start --topic srv.public.q
cfg=$(connector_file quick "key.converter.schemas.enable=false" "status.update.interval.ms=10000")
walcast_start "$cfg"

# in_txn_lsn ID: inserts ID in a transaction and prints a WAL position inside it: the slot is confirmed past it
# only once walcast has committed that transaction to Kafka (a position after the commit could also be
# reached by an idle commit, which walcast makes at most once per status interval)
in_txn_lsn() { psql -X -q -At -v ON_ERROR_STOP=1 -c "BEGIN" -c "INSERT INTO q VALUES ($1)" -c "SELECT pg_current_wal_insert_lsn()" -c "COMMIT"; }
# confirmed_past LSN SECONDS: waits until the slot's confirmed_flush_lsn passes LSN; prints the ms it took
confirmed_past() {
  local t0 i
  t0=$(date +%s%N)
  for ((i = 0; i < $2 * 100; i++)); do
    [ "$(psql -X -At -c "SELECT confirmed_flush_lsn > '$1' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] &&
      { echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
    sleep 0.01
  done
  echo "the slot was not confirmed past $1 within $2 s" >&2
  return 1
}
# 1. a first transaction, confirmed (at an interval, or at once); then a second one right after it
lsn=$(in_txn_lsn 1)
confirmed_past "$lsn" 30 >/dev/null
lsn=$(in_txn_lsn 2)
ms=$(confirmed_past "$lsn" 30)
echo "the slot was confirmed past the second transaction ${ms} ms after its insert (status.update.interval.ms=10000)"
[ "$ms" -lt 3000 ] || { echo "the slot was confirmed ${ms} ms after the commit: it waited for the status interval" >&2; exit 1; }
grep -q 'replication started.* startup_ms=[0-9]* kafka_ms=[0-9]* offsets_ms=[0-9]* postgres_ms=[0-9]*' "$IT_DIR/walcast.log" ||
  { echo "no start-up figures in the \"replication started\" line" >&2; grep 'replication started' "$IT_DIR/walcast.log" >&2; exit 1; }

# 2. restarts with stored offsets (records and transaction markers in connect-offsets)
best=""
for i in 1 2 3; do
  walcast_stop
  walcast_start "$cfg"
  o=$(grep 'replication started' "$IT_DIR/walcast.log" | tail -1 | sed -n 's/.* offsets_ms=\([0-9]*\).*/\1/p')
  [ -n "$o" ] || { echo "no offsets_ms in the last \"replication started\" line" >&2; exit 1; }
  echo "restart $i: offsets read in $o ms"
  [ -z "$best" ] || [ "$o" -lt "$best" ] && best=$o
done
grep -q "resuming from stored offsets" "$IT_DIR/walcast.log"
[ "$best" -lt 60 ] || { echo "reading the stored offsets took $best ms at best (a poll timing out after the last record?)" >&2; exit 1; }
psql_q -c "INSERT INTO q VALUES (3)"
wait_topic srv.public.q 3
walcast_stop
expect_ids_once srv.public.q 3 "records, each once"

# 3. a worker whose offsets topic does not exist yet
cp "$IT_DIR/worker.properties" "$IT_DIR/worker-new.properties"
echo "offset.storage.topic=it-new-offsets-$$-$RANDOM" >>"$IT_DIR/worker-new.properties"
before=$(grep -c 'replication started' "$IT_DIR/walcast.log" || true)
WALCAST_WORKER="$IT_DIR/worker-new.properties" walcast_spawn "$cfg"
wait_log 'replication started' $((before + 1)) 30
o=$(grep 'replication started' "$IT_DIR/walcast.log" | tail -1 | sed -n 's/.* offsets_ms=\([0-9]*\).*/\1/p')
echo "a new offsets topic read in $o ms ($(grep 'replication started' "$IT_DIR/walcast.log" | tail -1 | grep -o 'startup_ms=.*'))"
grep -q "topic created.*topic=it-new-offsets.* partitions=25" "$IT_DIR/walcast.log" ||
  { echo "walcast did not create the new offsets topic" >&2; exit 1; }
[ -n "$o" ] && [ "$o" -lt 200 ] || { echo "reading a new offsets topic took $o ms" >&2; exit 1; }
walcast_stop

# 4. Kafka's start held back 3 s (mock cluster, InitProducerId of all three producers)
mkfifo "$IT_DIR/ctl"
exec 3<>"$IT_DIR/ctl"
KAFKA_STDIN="$IT_DIR/ctl" mock_kafka_start --control --topic srv.public.q
echo "rtt 1 InitProducerId 3 3000" >&3
wait_log '^ok' 1 10 "$IT_DIR/kafka.out"
[ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'")" = 0 ]
before=$(grep -c 'replication started' "$IT_DIR/walcast.log" || true)
cfg3=$(connector_file slow "name=slow" "slot.name=slow" "key.converter.schemas.enable=false")
walcast_spawn "$cfg3"
t0=$(date +%s%N)
seen=""
while [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 2000 ]; do
  [ "$(psql -X -At -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender'")" -gt 0 ] && { seen=$(( ($(date +%s%N) - t0) / 1000000 )); break; }
  sleep 0.05
done
[ -n "$seen" ] || { echo "no replication connection within 2 s while Kafka's start was held back 3 s" >&2; exit 1; }
[ "$(grep -c 'replication started' "$IT_DIR/walcast.log" || true)" = "$before" ] ||
  { echo "replication started within 2 s although InitProducerId was held back 3 s" >&2; exit 1; }
echo "replication connection open ${seen} ms after the start, while InitProducerId was held back"
wait_log 'replication started' $((before + 1)) 30
grep 'replication started' "$IT_DIR/walcast.log" | tail -1
walcast_stop
