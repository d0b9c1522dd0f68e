#!/usr/bin/env bash
# test_fencing.sh: a second walcast with the same connector name (same transactional.id) starts while
# the first runs. The first must stop with an error that says it was fenced and exit non-zero; the
# second takes the slot over once it is free and resumes from the stored offsets; the data topic
# holds every change exactly once, in order.
# librdkafka 2.0.2's mock cluster gives every InitProducerId without a current PID a fresh PID instead
# of bumping the epoch of the transactional.id's existing one, so it never fences on its own: the
# broker's answer to the fenced instance (PRODUCER_FENCED) is injected through walcast kafka --control
# right after the second instance has initialised its transactions, which is when a real broker
# starts answering so.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE f (id int PRIMARY KEY)"
mkfifo "$IT_DIR/ctl"
exec 3<>"$IT_DIR/ctl"
KAFKA_STDIN="$IT_DIR/ctl" kafka_start --control --topic srv.public.f --topic connect-offsets --topic __debezium-heartbeat.srv
cfg=$(connector_file fence "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
  "heartbeat.interval.ms=300" "status.update.interval.ms=300")
kcat -C -b "$BS" -t srv.public.f -o beginning -X isolation.level=read_committed -u -J >"$IT_DIR/consumed.jsonl" 2>/dev/null &
IT_PIDS+=($!)
walcast_start "$cfg"
A=$WALCAST_PID
for i in $(seq 1 50); do echo "INSERT INTO f VALUES ($i);"; done | psql_q
for _ in $(seq 1 100); do [ "$(wc -l <"$IT_DIR/consumed.jsonl")" -ge 50 ] && break; sleep 0.1; done

# the second instance: same name, same slot
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/b.log" &
B=$!
IT_PIDS+=($B)
for _ in $(seq 1 100); do grep -q "slot.*is in use\|replication started" "$IT_DIR/b.log" && break; sleep 0.1; done
echo "errors AddPartitionsToTxn 1 PRODUCER_FENCED" >&3
rc=0
for _ in $(seq 1 200); do kill -0 "$A" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$A" 2>/dev/null; then echo "the first instance was not fenced within 20 s" >&2; exit 1; fi
wait "$A" || rc=$?
[ "$rc" -ne 0 ] || { echo "the fenced instance exited with 0" >&2; exit 1; }
grep -q 'level=fatal msg="connector failed".*another walcast with the same connector name' "$IT_DIR/walcast.log" || {
  echo "the fenced instance did not say why it stopped" >&2; exit 1; }
grep -o 'level=fatal.*' "$IT_DIR/walcast.log" | head -1
for _ in $(seq 1 300); do grep -q "replication started" "$IT_DIR/b.log" && break; sleep 0.1; done
grep -q "resuming from stored offsets" "$IT_DIR/b.log"
grep -q "replication started" "$IT_DIR/b.log" || { echo "the second instance never took the slot over" >&2; exit 1; }
for i in $(seq 51 100); do echo "INSERT INTO f VALUES ($i);"; done | psql_q
for _ in $(seq 1 150); do [ "$(wc -l <"$IT_DIR/consumed.jsonl")" -ge 100 ] && break; sleep 0.1; done
sleep 1
$PY - "$IT_DIR/consumed.jsonl" <<'PYEOF'
import json, sys
ids = [json.loads(json.loads(l)["key"])["id"] for l in open(sys.argv[1])]
assert ids == list(range(1, 101)), f"expected ids 1..100 once each in order, got {len(ids)}: {ids[:5]}...{ids[-5:]}"
print("100 changes, each exactly once, across the takeover")
PYEOF
WALCAST_PID=$B
walcast_stop
