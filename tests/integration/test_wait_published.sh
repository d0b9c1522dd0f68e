#!/usr/bin/env bash
# test_wait_published.sh: lib.sh's wait_published (and scripts/pg-flush.sh under it) flushes the WAL written
# before it, so it does not wait for PostgreSQL's WAL writer, and publishes nothing of its own. The test
# clusters run synchronous_commit=off; here wal_writer_delay is 10 s (its maximum) and nothing else writes.
# The old "flush" (SET synchronous_commit = on; SELECT txid_current()) wrote no WAL, so it committed
# asynchronously (RecordTransactionCommit) and each wait lasted until the WAL writer's next round: of two
# rounds back to back, the second waited ~9 s. Each round here must end within 5 s (status updates every 1 s).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
pg_wal_writer_slow
psql_q -c "CREATE TABLE w (id int PRIMARY KEY)"
kafka_start --topic srv.public.w --topic srv.transaction
cfg=$(connector_file wp "provide.transaction.metadata=true" "key.converter.schemas.enable=false" \
  "value.converter.schemas.enable=false")
walcast_start "$cfg"
for round in 1 2 3; do
  psql_q -c "INSERT INTO w VALUES ($round)"
  start=$(date +%s%N)
  wait_published debezium 30
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "round $round: wait_published took $took ms"
  [ "$took" -lt 5000 ] || { echo "wait_published took $took ms: it waited for the WAL writer" >&2; exit 1; }
done
walcast_stop
expect_ids_once srv.public.w 3 "rows"
# nothing of the flushes was published: the three rows' transactions alone (BEGIN and END each), no other topic
n=$(kcat -C -b "$BS" -t srv.transaction -X isolation.level=read_committed -e -q -f 'x\n' | grep -c x || true)
[ "$n" -eq 6 ] || { echo "expected 6 transaction records (3 BEGIN, 3 END), got $n" >&2; exit 1; }
others=$(kcat -L -b "$BS" | sed -n 's/^  topic "\(srv\.[^"]*\)".*/\1/p' | grep -v -x -e srv.public.w -e srv.transaction || true)
[ -z "$others" ] || { echo "unexpected topics: $others" >&2; exit 1; }
echo "ok"
