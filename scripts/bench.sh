#!/usr/bin/env bash
# bench.sh (`make bench`): the same 1000 transactions x 1000 rows (narrow table) read from a slot by
# pg_recvlogical into /dev/null and by walcast into the standalone embedded Kafka (JSON without and
# with schemas, and Avro with the test registry fixture). Prints rows/s for each, the ratio, and
# walcast's peak RSS; medians of BENCH_RUNS runs (default 3). Then commit ->
# visible latency (p50/p99) at BENCH_LAT_RATE (5000) single-row transactions/s next to pg_recvlogical,
# and peak RSS for one transaction of BENCH_BIG_ROWS (10,000,000) rows with and without
# walcast.streaming (BENCH_BIG_ROWS=0 skips it).
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
for r in $(seq 1 "$RUNS"); do slots+=("recv_$r" "plain_$r" "schema_$r" "avro_$r"); done
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

/usr/bin/python3 "$ROOT/tests/integration/registry_fixture.py" >"$WORK/registry.out" 2>"$WORK/registry.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/registry.out" ] && break; sleep 0.1; done
SR_URL="http://127.0.0.1:$(sed -n 's/^port=//p' "$WORK/registry.out")"

wait_flushed() {  # slot: one server-side loop (no process per check) until confirmed_flush_lsn reaches END_LSN
  q -c "DO \$\$ BEGIN WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$1') LOOP PERFORM pg_sleep(0.01); END LOOP; END \$\$"
}

connector_props() {  # file slot prefix publication [extra key=value lines...]: a bench connector
  local f=$1 slot=$2 prefix=$3 pub=$4; shift 4
  {
    printf '%s\n' "name=bench-$slot" "database.hostname=127.0.0.1" "database.port=$PGPORT" \
      "database.user=postgres" "database.dbname=postgres" "topic.prefix=$prefix" "slot.name=$slot" \
      "publication.name=$pub" "publication.autocreate.mode=disabled" "snapshot.mode=no_data"
    printf '%b\n' "${BENCH_CONNECTOR_EXTRA:-}"
    printf '%s\n' "$@"
  } >"$f"
}

timed_walcast() {  # slot properties-file -> "seconds peak_rss_kb" until the slot is confirmed to END_LSN
  local t0 t1 pid hwm
  t0=$(now)
  "$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$2" >/dev/null 2>"$WORK/walcast-$1.log" &
  pid=$!
  wait_flushed "$1" &
  local waiter=$!
  while kill -0 $waiter 2>/dev/null; do
    if ! kill -0 $pid 2>/dev/null; then   # walcast died: say why instead of waiting forever
      kill $waiter 2>/dev/null; echo "bench: walcast exited early:" >&2; tail -3 "$WORK/walcast-$1.log" >&2; exit 1
    fi
    sleep 0.02
  done
  t1=$(now)
  hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
  kill -INT $pid; wait $pid 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $hwm"
}

run_walcast() {  # slot schemas -> "seconds peak_rss_kb"
  connector_props "$WORK/c.properties" "$1" bench bench_pub "status.update.interval.ms=50" \
    "key.converter.schemas.enable=$2" "value.converter.schemas.enable=$2"
  timed_walcast "$1" "$WORK/c.properties"
}

run_avro() {  # slot -> "seconds peak_rss_kb"
  connector_props "$WORK/a.properties" "$1" bench bench_pub "status.update.interval.ms=50" \
    "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
    "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL"
  timed_walcast "$1" "$WORK/a.properties"
}

recv_rates=(); plain_rates=(); schema_rates=(); avro_rates=(); plain_rss=(); schema_rss=(); avro_rss=()
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
  read -r secs hwm < <(run_avro "avro_$r")
  avro_rates+=("$(rate $TOTAL "$secs")"); avro_rss+=("$hwm")
  echo "bench: run $r: pg_recvlogical ${recv_rates[-1]} rows/s, walcast (no schemas) ${plain_rates[-1]} rows/s, walcast (schemas) ${schema_rates[-1]} rows/s, walcast (Avro) ${avro_rates[-1]} rows/s"
done

R=$(median "${recv_rates[@]}"); P=$(median "${plain_rates[@]}"); S=$(median "${schema_rates[@]}")
A=$(median "${avro_rates[@]}")
PR=$(median "${plain_rss[@]}"); SR=$(median "${schema_rss[@]}"); AR=$(median "${avro_rss[@]}")
echo
echo "== walcast bench: $TXNS transactions x $ROWS rows, median of $RUNS runs (2 cores, shared with PostgreSQL)"
printf '%-44s %12s %8s %14s\n' "reader" "rows/s" "ratio" "peak RSS"
printf '%-44s %12s %8s %14s\n' "pg_recvlogical -> /dev/null (reference)" "$R" "1.00" "-"
printf '%-44s %12s %8s %11s MB\n' "walcast -> embedded Kafka, schemas.enable=false" "$P" "$(echo "$P $R" | awk '{printf "%.2f", $1/$2}')" "$((PR / 1024))"
printf '%-44s %12s %8s %11s MB\n' "walcast -> embedded Kafka, schemas.enable=true" "$S" "$(echo "$S $R" | awk '{printf "%.2f", $1/$2}')" "$((SR / 1024))"
printf '%-44s %12s %8s %11s MB\n' "walcast -> embedded Kafka, Avro + registry" "$A" "$(echo "$A $R" | awk '{printf "%.2f", $1/$2}')" "$((AR / 1024))"
echo "Avro vs JSON with schemas: $(echo "$A $S" | awk '{printf "%.2f", $1/$2}')x (target: > 1; Avro >= 0.8x pg_recvlogical)"

# ---- commit -> visible latency at a steady rate of single-row transactions -------------------
# pgbench commits LAT_RATE one-row transactions/s (synchronous_commit=on, so the walsender sees each
# commit at once); the reference is pg_recvlogical (test_decoding with timestamps) printing each
# COMMIT; walcast is measured by a read_committed consumer comparing its clock with source.ts_us.
LAT_RATE=${BENCH_LAT_RATE:-5000}
LAT_SECS=${BENCH_LAT_SECS:-10}
if [ "$LAT_SECS" -gt 0 ]; then
q -c "CREATE TABLE lat (id bigserial PRIMARY KEY, v int NOT NULL)" -c "CREATE PUBLICATION lat_pub FOR TABLE lat"
# (walcast creates its slot when it starts, after the reference run)
q -c "SELECT 1 FROM pg_create_logical_replication_slot('lat_ref', 'test_decoding')" >/dev/null
echo 'INSERT INTO lat (v) VALUES (1);' >"$WORK/lat.sql"
pct() {  # file of numbers (ms) -> "p50 p99 count"
  sort -n "$1" | awk '{ a[NR] = $1 } END { if (NR == 0) { print "- - 0"; exit } printf "%.1f %.1f %d\n", a[int(NR * 0.5) + 1], a[int(NR * 0.99) + 1], NR }'
}
load() {
  PGOPTIONS="-c synchronous_commit=on" pgbench -n -h 127.0.0.1 -p "$PGPORT" -U postgres -f "$WORK/lat.sql" \
    -R "$LAT_RATE" -T "$LAT_SECS" -c 4 -j 2 postgres 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}
# reference
pg_recvlogical -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" --slot lat_ref --start \
  -o include-timestamp=on -s 1 -f - 2>/dev/null | /usr/bin/python3 -u -c '
import sys, time, datetime
out = open(sys.argv[1], "w")
for line in sys.stdin:
    if line.startswith("COMMIT") and "(at " in line:
        ts = line.split("(at ", 1)[1].rstrip(")\n")
        t = datetime.datetime.fromisoformat(ts.replace("+00", "+00:00")).timestamp()
        out.write("%.3f\n" % ((time.time() - t) * 1000)); out.flush()
' "$WORK/lat_ref.txt" &
REFPID=$!
PIDS+=($REFPID)
sleep 1
ref_tps=$(load)
sleep 2
pkill -INT -f "slot lat_ref" 2>/dev/null || true
kill $REFPID 2>/dev/null || true
# walcast
connector_props "$WORK/lat.properties" lat_walcast lat lat_pub \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false"
"$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$WORK/lat.properties" >/dev/null 2>"$WORK/walcast-lat.log" &
LATPID=$!
PIDS+=($LATPID)
for _ in $(seq 1 100); do grep -q "replication started" "$WORK/walcast-lat.log" && break; sleep 0.1; done
/usr/bin/python3 -u - "$BS" "$WORK/lat_walcast.txt" $((LAT_RATE * LAT_SECS + 10)) <<'PY' &
import json, sys, time
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "lat", "isolation.level": "read_committed",
              "auto.offset.reset": "earliest", "enable.auto.commit": False, "fetch.wait.max.ms": 5})
c.subscribe(["lat.public.lat"])
out, n, last = open(sys.argv[2], "w"), 0, time.time()
while time.time() - last < 8:
    m = c.poll(0.1)
    if m is None or m.error() or m.value() is None:
        continue
    now = time.time()
    out.write("%.3f\n" % ((now - json.loads(m.value())["source"]["ts_us"] / 1e6) * 1000))
    n, last = n + 1, now
PY
CONSPID=$!
PIDS+=($CONSPID)
sleep 3
wal_tps=$(load)
wait $CONSPID 2>/dev/null || true
walcast_rss=$(awk '/VmHWM/ { print $2 }' "/proc/$LATPID/status")
kill -INT $LATPID; wait $LATPID 2>/dev/null || true
read -r rp50 rp99 rn < <(pct "$WORK/lat_ref.txt")
read -r wp50 wp99 wn < <(pct "$WORK/lat_walcast.txt")
echo
echo "== commit -> visible latency, $LAT_RATE single-row transactions/s for ${LAT_SECS}s (synchronous_commit=on)"
printf '%-44s %10s %10s %10s %10s\n' "reader" "tx/s" "p50 ms" "p99 ms" "events"
printf '%-44s %10s %10s %10s %10s\n' "pg_recvlogical, test_decoding (reference)" "${ref_tps%.*}" "$rp50" "$rp99" "$rn"
printf '%-44s %10s %10s %10s %10s\n' "walcast -> read_committed consumer" "${wal_tps%.*}" "$wp50" "$wp99" "$wn"
fi

# ---- peak RSS with one huge transaction, with and without walcast.streaming --------------------
BIG=${BENCH_BIG_ROWS:-10000000}
if [ "$BIG" -gt 0 ]; then
  q -c "CREATE TABLE huge (id int PRIMARY KEY, v int NOT NULL)" -c "CREATE PUBLICATION huge_pub FOR TABLE huge"
  q -c "SELECT 1 FROM pg_create_logical_replication_slot('huge_plain', 'pgoutput')" \
    -c "SELECT 1 FROM pg_create_logical_replication_slot('huge_stream', 'pgoutput')" >/dev/null
  echo "bench: writing one transaction of $BIG rows"
  q -c "INSERT INTO huge SELECT g, g FROM generate_series(1, $BIG) g"
  END_LSN=$(q -c "SELECT pg_current_wal_insert_lsn()")
  q -c "SET synchronous_commit = on" -c "SELECT txid_current()" >/dev/null
  big_run() {  # slot streaming -> "seconds peak_rss_kb"
    connector_props "$WORK/h.properties" "$1" huge huge_pub "status.update.interval.ms=200" \
      "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
      "walcast.streaming=$2" "walcast.spill.dir=$WORK/spill"
    timed_walcast "$1" "$WORK/h.properties"
  }
  read -r ps prss < <(big_run huge_plain false)
  read -r ss srss < <(big_run huge_stream true)
  spilled=$(grep -o 'spilled_bytes=[0-9]* spill_file_bytes=[0-9]*' "$WORK/walcast-huge_stream.log" | tail -1)
  echo
  echo "== one transaction of $BIG rows (narrow table)"
  printf '%-44s %12s %14s\n' "walcast" "rows/s" "peak RSS"
  printf '%-44s %12s %11s MB\n' "walcast.streaming=false (producer queue bound)" "$(rate "$BIG" "$ps")" "$((prss / 1024))"
  printf '%-44s %12s %11s MB\n' "walcast.streaming=true (64 MB budget + spill)" "$(rate "$BIG" "$ss")" "$((srss / 1024))"
  echo "streaming spill: ${spilled:-none reported}"
fi
