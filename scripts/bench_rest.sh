#!/usr/bin/env bash
# bench_rest.sh (`make bench`): rows/s of one walcast source draining a slot backlog into a real Kafka, with
# and without a client polling GET /connectors/{n}/status BENCH_REST_HZ (50) times a second through the REST
# API, as a dashboard or an orchestrator would. Target: the polled runs within 5% of the others. Medians of
# BENCH_REST_RUNS (3) runs each, alternating; BENCH_REST_TXNS (100) transactions x 1000 rows per run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/ports.sh
. "$ROOT/scripts/ports.sh"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
RUNS=${BENCH_REST_RUNS:-3}
TXNS=${BENCH_REST_TXNS:-100}
HZ=${BENCH_REST_HZ:-50}
WORK=$(mktemp -d /tmp/walcast-bench-rest.XXXXXX)
PIDS=()
PGD=""
KDIR=""
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done
  [ -n "$KDIR" ] && bash "$ROOT/scripts/kafka.sh" stop "$KDIR"
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  rm -rf "$WORK"
}
trap cleanup EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

PGD=$(bash "$ROOT/scripts/pg-start.sh")
# shellcheck disable=SC1091
. "$PGD/env"
KDIR="$WORK/kafka"
bash "$ROOT/scripts/kafka.sh" start "$KDIR" >"$WORK/kafka.out"
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out")
echo "bench_rest: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text)" -c "CREATE PUBLICATION bench_pub FOR TABLE bench"
for r in $(seq 1 "$RUNS"); do
  for k in plain polled; do q -c "SELECT 1 FROM pg_create_logical_replication_slot('${k}_$r', 'pgoutput')" >/dev/null; done
done
{
  for i in $(seq 0 $((TXNS - 1))); do
    echo "INSERT INTO bench SELECT g, g, 'row ' || g FROM generate_series($((i * 1000 + 1)), $(((i + 1) * 1000))) g;"
  done
} | q >/dev/null
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")
TOTAL=$((TXNS * 1000))

# one_run SLOT POLL(0|1) -> rows/s into RATE
one_run() {
  local slot=$1 poll=$2 port t0 t1 pid poller=""
  free_port port
  printf '%s\n' "bootstrap.servers=$BS" "listeners=http://127.0.0.1:$port" "config.storage.topic=bench_rest_cfg_$slot" \
    "status.storage.topic=bench_rest_st_$slot" "offset.storage.topic=bench_rest_off_$slot" "group.id=bench_rest_$slot" \
    >"$WORK/w-$slot.properties"
  printf '%s\n' "name=b-$slot" "connector.class=io.debezium.connector.postgresql.PostgresConnector" \
    "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" "database.dbname=postgres" \
    "topic.prefix=b$slot" "slot.name=$slot" "publication.name=bench_pub" "publication.autocreate.mode=disabled" \
    "snapshot.mode=no_data" "status.update.interval.ms=50" >"$WORK/c-$slot.properties"
  t0=$(date +%s.%N)
  "$ROOT/build/walcast" run --worker "$WORK/w-$slot.properties" "$WORK/c-$slot.properties" >/dev/null 2>"$WORK/walcast-$slot.log" &
  pid=$!
  PIDS+=($pid)
  if [ "$poll" = 1 ]; then
    /usr/bin/python3 - "http://127.0.0.1:$port/connectors/b-$slot/status" "$HZ" >"$WORK/poll-$slot.out" 2>&1 <<'PYEOF' &
import sys, time, urllib.request
url, hz = sys.argv[1], float(sys.argv[2])
ok = 0
nxt = time.monotonic()
while True:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            r.read()
            ok += 1
    except Exception:
        pass
    nxt += 1 / hz
    time.sleep(max(0, nxt - time.monotonic()))
    if ok % 50 == 0:
        print(ok, flush=True)
PYEOF
    poller=$!
    PIDS+=($poller)
  fi
  q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
          WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$slot') LOOP
            IF clock_timestamp() - t0 > interval '600 s' THEN RAISE EXCEPTION 'slot $slot not confirmed within 600 s'; END IF;
            PERFORM pg_sleep(0.01);
          END LOOP; END \$\$"
  t1=$(date +%s.%N)
  [ -n "$poller" ] && { kill "$poller"; wait "$poller" 2>/dev/null || true; }
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  RATE=$(echo "$TOTAL / ($t1 - $t0)" | bc)
  POLLS=$( [ "$poll" = 1 ] && tail -1 "$WORK/poll-$slot.out" || echo 0)
}

plain=(); polled=()
for r in $(seq 1 "$RUNS"); do
  one_run "plain_$r" 0; plain+=("$RATE")
  one_run "polled_$r" 1; polled+=("$RATE")
  echo "bench_rest: run $r: ${plain[-1]} rows/s, ${polled[-1]} rows/s while polling status at ${HZ}/s (${POLLS:-0}+ answers)"
done
mp=$(median "${plain[@]}"); mq=$(median "${polled[@]}")
echo "bench_rest: $TOTAL rows per run; median ${mp} rows/s without REST polling, ${mq} rows/s with ${HZ} status requests/s" \
     "($(awk -v a="$mp" -v b="$mq" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'); target within 5%)"
echo "bench_rest: load average $(cut -d' ' -f1-3 /proc/loadavg)"
