#!/usr/bin/env bash
# test_fencing.sh: a second walcast with the same connector name (same transactional.id) starts on a
# real Kafka while the first is publishing a steady stream of changes. The broker bumps the producer
# epoch at the second one's InitProducerId, so the first is fenced with records in flight: it must stop
# with an error that says so and exit non-zero; the second takes the slot over once it is free and
# resumes from the stored offsets. Every change exactly once, in order; nothing injected.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE f (id int PRIMARY KEY)"
kafka_start --topic srv.public.f --topic connect-offsets --topic __debezium-heartbeat.srv
cfg=$(connector_file fence "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "heartbeat.interval.ms=300" "status.update.interval.ms=300")
walcast_start "$cfg"
A=$WALCAST_PID
N=3000
( for i in $(seq 1 $N); do echo "INSERT INTO f VALUES ($i);"; done | psql_q ) &
writer=$!
wait_topic srv.public.f 200 60

# the second instance: same name, same slot, while the first is busy
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/b.log" &
B=$!
IT_PIDS+=($B)
wait_exit "$A" 60 "the first instance (not fenced)" || exit 1
[ "$EXIT_RC" -ne 0 ] || { echo "the fenced instance exited with 0" >&2; exit 1; }
grep -q 'level=fatal msg="connector failed".*another walcast with the same connector name' "$IT_DIR/walcast.log" || {
  echo "the fenced instance did not say why it stopped" >&2; exit 1; }
grep -o 'level=fatal.*' "$IT_DIR/walcast.log" | head -1 | cut -c1-300
kill -0 "$writer" 2>/dev/null && echo "the first instance was fenced while the workload was running"
for _ in $(seq 1 300); do grep -q "replication started" "$IT_DIR/b.log" && break; sleep 0.1; done
grep -q "replication started" "$IT_DIR/b.log" || { echo "the second instance never took the slot over" >&2; cat "$IT_DIR/b.log" >&2; exit 1; }
grep -q "resuming from stored offsets" "$IT_DIR/b.log"
wait "$writer"
WALCAST_PID=$B
wait_published debezium 120
walcast_stop
expect_ids_once srv.public.f "$N" "changes, each exactly once, across the fencing and takeover"
