#!/usr/bin/env bash
# bench.sh (`make bench`): the same 1000 transactions x 1000 rows (narrow table) read from a slot by
# pg_recvlogical into /dev/null and by walcast into the standalone embedded Kafka. Prints rows/s for
# both, the ratio, and walcast's peak RSS; medians of BENCH_RUNS runs (default 3).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
RUNS=${BENCH_RUNS:-3}
TXNS=${BENCH_TXNS:-1000}
ROWS=${BENCH_ROWS:-1000}
WORK=$(mktemp -d /tmp/walcast-bench.XXXXXX)
PIDS=()
PGD=""
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  rm -rf "$WORK"
}
trap cleanup EXIT

PGD=$(bash "$ROOT/scripts/pg-start.sh")
. "$PGD/env"
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text)" -c "CREATE PUBLICATION bench_pub FOR TABLE bench"
slots=()
for r in $(seq 1 "$RUNS"); do slots+=("recv_$r" "plain_$r" "schema_$r"); done
for s in "${slots[@]}"; do q -c "SELECT 1 FROM pg_create_logical_replication_slot('$s', 'pgoutput')" >/dev/null; done

echo "bench: writing $TXNS transactions x $ROWS rows"
{
  for i in $(seq 0 $((TXNS - 1))); do
    echo "INSERT INTO bench SELECT g, g, 'row ' || g FROM generate_series($((i * ROWS + 1)), $(((i + 1) * ROWS))) g;"
  done
} | q >/dev/null
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")
TOTAL=$((TXNS * ROWS))
echo "bench: $TOTAL rows, WAL end $END_LSN"

now() { date +%s.%N; }
rate() { echo "$1 $2" | awk '{ printf "%.0f", $1 / $2 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

"$ROOT/build/walcast" kafka --brokers 1 >"$WORK/kafka.out" 2>"$WORK/kafka.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/kafka.out" ] && break; sleep 0.1; done
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out")
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"
printf "%b" "${BENCH_WORKER_EXTRA:-}" >>"$WORK/worker.properties"

wait_flushed() {  # slot: one server-side loop (no process per check) until confirmed_flush_lsn reaches END_LSN
  q -c "DO \$\$ BEGIN WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$1') LOOP PERFORM pg_sleep(0.01); END LOOP; END \$\$"
}

run_walcast() {  # slot schemas -> "seconds peak_rss_kb"
  cat >"$WORK/c.properties" <<P
name=bench-$1
database.hostname=127.0.0.1
database.port=$PGPORT
database.user=postgres
database.dbname=postgres
topic.prefix=bench
slot.name=$1
publication.name=bench_pub
publication.autocreate.mode=disabled
snapshot.mode=no_data
${BENCH_CONNECTOR_EXTRA:-}
status.update.interval.ms=50
key.converter.schemas.enable=$2
value.converter.schemas.enable=$2
P
  local t0 t1 pid hwm
  t0=$(now)
  "$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$WORK/c.properties" >/dev/null 2>"$WORK/walcast-$1.log" &
  pid=$!
  wait_flushed "$1"
  t1=$(now)
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  kill -INT $pid; wait $pid 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $hwm"
}

recv_rates=(); plain_rates=(); schema_rates=(); plain_rss=(); schema_rss=()
for r in $(seq 1 "$RUNS"); do
  t0=$(now)
  pg_recvlogical -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" --slot "recv_$r" --start \
    -o proto_version=1 -o publication_names=bench_pub -E "$END_LSN" -f /dev/null
  t1=$(now)
  recv_rates+=("$(rate $TOTAL "$(echo "$t1 - $t0" | bc)")")
  read -r secs hwm < <(run_walcast "plain_$r" false)
  plain_rates+=("$(rate $TOTAL "$secs")"); plain_rss+=("$hwm")
  read -r secs hwm < <(run_walcast "schema_$r" true)
  schema_rates+=("$(rate $TOTAL "$secs")"); schema_rss+=("$hwm")
  echo "bench: run $r: pg_recvlogical ${recv_rates[-1]} rows/s, walcast (no schemas) ${plain_rates[-1]} rows/s, walcast (schemas) ${schema_rates[-1]} rows/s"
done

R=$(median "${recv_rates[@]}"); P=$(median "${plain_rates[@]}"); S=$(median "${schema_rates[@]}")
PR=$(median "${plain_rss[@]}"); SR=$(median "${schema_rss[@]}")
echo
echo "== walcast bench: $TXNS transactions x $ROWS rows, median of $RUNS runs (2 cores, shared with PostgreSQL)"
printf '%-44s %12s %8s %14s\n' "reader" "rows/s" "ratio" "peak RSS"
printf '%-44s %12s %8s %14s\n' "pg_recvlogical -> /dev/null (reference)" "$R" "1.00" "-"
printf '%-44s %12s %8s %11s MB\n' "walcast -> embedded Kafka, schemas.enable=false" "$P" "$(echo "$P $R" | awk '{printf "%.2f", $1/$2}')" "$((PR / 1024))"
printf '%-44s %12s %8s %11s MB\n' "walcast -> embedded Kafka, schemas.enable=true" "$S" "$(echo "$S $R" | awk '{printf "%.2f", $1/$2}')" "$((SR / 1024))"
