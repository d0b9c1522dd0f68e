#!/usr/bin/env bash
# bench_snapshot.sh (called by `make bench`, or alone): initial-snapshot throughput of one table of
# BENCH_SNAP_ROWS (1,000,000) rows on a throwaway PostgreSQL 15 and one real Kafka broker:
#   COPY (SELECT * FROM t) TO STDOUT          the server's own export rate (psql to /dev/null)
#   walcast, snapshot.max.threads=1 and 2      snapshot.mode=initial_only, JSON with schemas (defaults), from
#                                              start to exit (slot creation, plan, rows committed in Kafka)
#   Debezium 3.6.1 initial snapshot            Connect standalone, stock JVM options, from the first record in
#                                              the topic to the last (JVM start-up excluded)
# rows/s, peak RSS (VmHWM) and the targets: 1 thread >= 0.7x COPY, 2 threads >= 1.7x 1 thread, >= 5x
# Debezium, peak RSS < 100 MB. BENCH_SNAP_DBZ=0 skips Debezium.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
ROWS=${BENCH_SNAP_ROWS:-1000000}
bench_init bench-snapshot benchsnap
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT met"; }
bench_servers
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"
/usr/bin/python3 "$TOOL" warmup "$BS" 2>/dev/null
echo "bench-snapshot: Kafka at $BS, PostgreSQL on port $PGPORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q -c "CREATE TABLE snap (id int PRIMARY KEY, v int NOT NULL, t text, ts timestamptz NOT NULL, n numeric(12,2))" \
  -c "CREATE PUBLICATION snap_pub FOR TABLE snap" \
  -c "SELECT 1 FROM pg_create_logical_replication_slot('snapstream', 'pgoutput')" >/dev/null
for ((lo = 1; lo <= ROWS; lo += 10000)); do
  echo "INSERT INTO snap SELECT g, g % 1000, 'row number ' || g, timestamptz '2024-01-01' + g * interval '1 s', g / 100.0 FROM generate_series($lo, $(( lo + 9999 < ROWS ? lo + 9999 : ROWS ))) g;"
done | q >/dev/null
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")
q -c "VACUUM ANALYZE snap"
echo "bench-snapshot: table snap of $ROWS rows ($(q -c "SELECT pg_size_pretty(pg_total_relation_size('snap'))"))"

t0=$(now); psql -X -q -c "COPY (SELECT * FROM snap) TO STDOUT" >/dev/null; t1=$(now)
COPY_RATE=$(calc "%.0f" "$ROWS / ($t1 - $t0)")

POSTMASTER=$(head -1 "$PGD/data/postmaster.pid")

# cpu_line FILE: "walcast readers / connector / librdkafka / backends / broker / idle" CPU s of a cpuwatch FILE
cpu_of_run() { awk -v k="$2" '$1 == "thread" && $2 == k { print $4 } $1 == k { print $NF }' "$1" | head -1; }
cpu_report() {  # label rows FILE
  local f=$3 w rd cn rk be br id
  w=$(cpu_of_run "$f" wall); rd=$(cpu_of_run "$f" walcast-snap); cn=$(cpu_of_run "$f" walcast)
  rk=$(cpu_of_run "$f" rdk); be=$(cpu_of_run "$f" backends); br=$(cpu_of_run "$f" broker); id=$(cpu_of_run "$f" idle)
  printf '%-34s %6.1f %8.1f %8.1f %8.1f %8.1f %8.1f %7.1f %9.2f\n' "$1" "$w" "${rd:-0}" "${cn:-0}" "${rk:-0}" "${be:-0}" "${br:-0}" "${id:-0}" \
    "$(calc "%.2f" "(${rd:-0} + ${cn:-0} + ${rk:-0}) * 1000000 / $2")"
}

# timed PROPERTIES LOGNAME: walcast run in the background, cpuwatch beside it (this shell knows both pids);
# leaves T_START, T_END and $WORK/cpu-LOGNAME, $WORK/time-LOGNAME (peak kB, user s, sys s)
timed() {
  local f=$1 n=$2 pid
  T_START=$(now)
  /usr/bin/time -f "%M %U %S" -o "$WORK/time-$n" "$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$f" \
    >/dev/null 2>"$WORK/walcast-$n.log" &
  pid=$!
  PIDS+=($pid)
  local wpid="" i
  for ((i = 0; i < 200; i++)); do wpid=$(pgrep -P $pid -x walcast) && break; sleep 0.01; done   # time's child
  [ -n "$wpid" ] || die "walcast ($n) did not start"
  /usr/bin/python3 "$TOOL" cpuwatch "$wpid" "$POSTMASTER" "$BROKER_PID" >"$WORK/cpu-$n" &
  local cw=$!
  PIDS+=($cw)
  if [ -n "${3:-}" ]; then "$3" "$n" || { kill -INT "$wpid"; wait $pid || true; wait $cw || true; die "$n: $3 failed"; }; T_END=$(now); kill -INT "$wpid"; fi
  wait $pid || [ -n "${3:-}" ] || { tail -5 "$WORK/walcast-$n.log" >&2; die "walcast ($n) failed"; }
  [ -n "${3:-}" ] || T_END=$(now)
  wait $cw || true
}

run_walcast() {  # threads -> RATE_<threads>, RSS_<threads>
  local th=$1 f="$WORK/w$1.properties"
  printf '%s\n' "name=snapbench$th" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=w$th" "slot.name=snapbench$th" "slot.drop.on.stop=true" \
    "publication.name=snap_pub" "publication.autocreate.mode=disabled" "snapshot.mode=initial_only" \
    "snapshot.max.threads=$th" ${BENCH_SNAP_EXTRA:-} >"$f"
  timed "$f" "$th"
  [ -n "${BENCH_SNAP_VERBOSE:-}" ] && { echo "start $T_START end $T_END"; grep -E 'msg="(snapshot|replication slot|walcast|kafka)' "$WORK/walcast-$th.log" | cut -c1-200; } >&2
  grep -q 'msg="snapshot completed".*rows='"$ROWS" "$WORK/walcast-$th.log" || { tail -5 "$WORK/walcast-$th.log" >&2; die "walcast ($th threads) did not snapshot $ROWS rows"; }
  printf -v "RATE_$th" '%s' "$(calc "%.0f" "$ROWS / ($T_END - $T_START)")"
  printf -v "RSS_$th" "%s" "$(( $(cut -d" " -f1 "$WORK/time-$th") / 1024 ))"; echo "bench-snapshot: walcast $th thread(s): $(cat "$WORK/time-$th") (peak kB, user s, sys s)"
}

# The streaming reference: the same rows, inserted in transactions of 10,000 while slot snapstream existed,
# drained by walcast (snapshot.mode=no_data, same converter) until the slot is confirmed to the end of the WAL.
wait_stream() {  # logname: one server-side loop until snapstream is confirmed to END_LSN (at most 900 s)
  q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
          WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = 'snapstream') LOOP
            IF clock_timestamp() - t0 > interval '900 s' THEN RAISE EXCEPTION 'slot snapstream not confirmed to $END_LSN within 900 s'; END IF;
            PERFORM pg_sleep(0.01);
          END LOOP; END \$\$"
}
run_stream() {
  local f="$WORK/stream.properties"
  printf '%s\n' "name=snapstream" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=st" "slot.name=snapstream" "status.update.interval.ms=50" \
    "publication.name=snap_pub" "publication.autocreate.mode=disabled" "snapshot.mode=no_data" ${BENCH_SNAP_EXTRA:-} >"$f"
  timed "$f" stream wait_stream
  RATE_S=$(calc "%.0f" "$ROWS / ($T_END - $T_START)")
  RSS_S=$(( $(cut -d" " -f1 "$WORK/time-stream") / 1024 ))
  echo "bench-snapshot: walcast streaming: $(cat "$WORK/time-stream") (peak kB, user s, sys s)"
}
# alternating order, one streaming drain between: BENCH_SNAP_RUNS (1) rounds of 1 thread, streaming, 2 threads
R1=(); R2=(); RS=()
for ((round = 1; round <= ${BENCH_SNAP_RUNS:-1}; round++)); do
  run_walcast 1; R1+=("$RATE_1"); cp "$WORK/cpu-1" "$WORK/cpu-1.$round"
  [ "$round" = 1 ] && { run_stream; RS+=("$RATE_S"); }
  run_walcast 2; R2+=("$RATE_2"); cp "$WORK/cpu-2" "$WORK/cpu-2.$round"
done
RATE_1=$(median "${R1[@]}"); RATE_2=$(median "${R2[@]}"); RATE_S=$(median "${RS[@]}")

DBZ_RATE="-"; DBZ_RSS="-"
if [ "${BENCH_SNAP_DBZ:-1}" = 1 ]; then
  bash "$ROOT/scripts/connect.sh" fetch >&2
  dir="$WORK/connect"; mkdir -p "$dir"
  printf '%s\n' "name=snapdbz" "connector.class=io.debezium.connector.postgresql.PostgresConnector" "tasks.max=1" \
    "plugin.name=pgoutput" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=dbz" "slot.name=snapdbz" "publication.name=snap_pub" \
    "publication.autocreate.mode=disabled" "snapshot.mode=initial_only" >"$dir/conn.properties"
  dbz_start "$dir" "$dir/conn.properties"
  out=$(/usr/bin/python3 "$TOOL" watch "$BS" dbz.public.snap "$ROWS" "$DBZ_PID" "$DBZ_REST" 900) ||
    { tail -20 "$DBZ_LOG" >&2; die "Debezium did not publish $ROWS records"; }
  read -r tf nf te _cf _ce hwm <<<"$out"
  DBZ_RATE=$(calc "%.0f" "($ROWS - $nf) / ($te - $tf)")
  DBZ_RSS=$((hwm / 1024))
  dbz_stop
fi

echo
echo "== initial snapshot of $ROWS rows (5 columns), to committed in Kafka $KAFKA_VERSION (1 broker), $(nproc) cores"
printf '%-44s %12s %12s\n' "reader" "rows/s" "peak RSS"
printf '%-44s %12s %12s\n' "COPY (SELECT * FROM snap) TO STDOUT (psql)" "$COPY_RATE" "-"
printf '%-44s %12s %9s MB\n' "walcast snapshot.max.threads=1" "$RATE_1" "$RSS_1"
printf '%-44s %12s %9s MB\n' "walcast snapshot.max.threads=2" "$RATE_2" "$RSS_2"
printf '%-44s %12s %9s MB\n' "walcast streaming the same rows (slot backlog)" "$RATE_S" "$RSS_S"
printf '%-44s %12s %9s MB\n' "Debezium 3.6.1 initial snapshot (defaults)" "$DBZ_RATE" "$DBZ_RSS"
echo "1 thread vs COPY:      $(calc "%.2f" "$RATE_1 / $COPY_RATE")x (target >= 0.7: $(verdict "$RATE_1 >= 0.7 * $COPY_RATE"))"
echo "2 threads vs 1 thread: $(calc "%.2f" "$RATE_2 / $RATE_1")x (target >= 1.7: $(verdict "$RATE_2 >= 1.7 * $RATE_1"))"
echo "2 threads vs streaming: $(calc "%.2f" "$RATE_2 / $RATE_S")x (target >= 1: $(verdict "$RATE_2 >= $RATE_S")); 1 thread $(calc "%.2f" "$RATE_1 / $RATE_S")x"
[ "${BENCH_SNAP_RUNS:-1}" = 1 ] || echo "per round: 1 thread ${R1[*]}; 2 threads ${R2[*]} rows/s (medians above)"
echo
echo "CPU s (utime+stime) of each part, last round; idle = core-seconds the machine left idle meanwhile"
printf '%-34s %6s %8s %8s %8s %8s %8s %7s %9s\n' "run" "wall s" "readers" "connect" "rdkafka" "pg bkend" "broker" "idle" "walcast us/row"
cpu_report "snapshot 1 thread" "$ROWS" "$WORK/cpu-1"
cpu_report "snapshot 2 threads" "$ROWS" "$WORK/cpu-2"
cpu_report "streaming (walsender = pg bkend)" "$ROWS" "$WORK/cpu-stream"
if [ "$DBZ_RATE" != "-" ]; then
  echo "1 thread vs Debezium:  $(calc "%.2f" "$RATE_1 / $DBZ_RATE")x (target >= 5: $(verdict "$RATE_1 >= 5 * $DBZ_RATE"))"
fi
echo "peak RSS: $RSS_1 / $RSS_2 MB (streaming $RSS_S MB) (target < 100 MB for 10M rows; measured on $ROWS rows)"
echo "bench-snapshot: load average $(cut -d' ' -f1-3 /proc/loadavg)"
