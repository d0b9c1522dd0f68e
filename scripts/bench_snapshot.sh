#!/usr/bin/env bash
# bench_snapshot.sh (called by `make bench`, or alone): initial-snapshot throughput of one table of
# BENCH_SNAP_ROWS (1,000,000) rows on a throwaway PostgreSQL 15 and one real Kafka broker:
#   COPY (SELECT * FROM t) TO STDOUT          the server's own export rate (psql to /dev/null)
#   walcast, snapshot.max.threads=1 and 2      snapshot.mode=initial_only, JSON with schemas (defaults), from
#                                              start to exit (slot creation, plan, rows committed in Kafka)
#   Debezium 3.6.1 initial snapshot            Connect standalone, stock JVM options, from the first record in
#                                              the topic to the last (JVM start-up excluded)
#   walcast streaming the same rows            a backlog of the same INSERTs (transactions of 10,000 rows) in slot
#                                              snapstream, drained with the same converter until confirmed
# rows/s, peak RSS (VmHWM), CPU seconds of each part (readers, connector thread, librdkafka, PostgreSQL
# backends, broker, idle) and the targets: 1 thread >= 0.7x COPY, 2 threads >= 1.7x 1 thread, 2 threads >=
# streaming, >= 5x Debezium, peak RSS < 100 MB (BENCH_SNAP_ROWS=10000000 for the 10M figure). BENCH_SNAP_DBZ=0 skips Debezium. BENCH_SNAP_EXTRA: more connector settings
# (e.g. walcast.snapshot.chunk.rows=20000), BENCH_SNAP_WORKER_EXTRA: more worker settings (e.g.
# producer.batch.size=4000000), both as KEY=VALUE words; BENCH_SNAP_RUNS rounds (1); BENCH_SNAP_WARMUPS untimed
# warm-up snapshots (2); BENCH_SNAP_STREAM=0 skips the streaming drain (a 10M-row run for its RSS figures).
# The CPU table also says how many of the machine's cores the run's processes used (walcast, its PostgreSQL
# backends, the broker) against the cores busy in all, and the rows/s those processes could reach with every
# core to themselves at the same CPU per row (the machine's ceiling for that run). BENCH_SNAP_POLLS=1 also counts
# walcast's poll() calls that do not wait (timeout 0: a thread busy-polling, librdkafka's broker thread while a
# flush runs) per row of each run (perf stat on syscalls:sys_enter_poll).
# BENCH_SNAP_AB=BINARY: an A/B comparison in the same run: every round runs the 1- and 2-thread snapshots with
# walcast (A: BENCH_SNAP_WALCAST or build/walcast) and with BINARY (B), A first in odd rounds and B first in even
# ones; prints both medians and B/A and each round's CPU table rows of A and B (the main table stays A's). BENCH_SNAP_REQUEST_LOG=1: the broker logs every
# request (scripts/kafka.sh KAFKA_REQUEST_LOG) and each run prints its Kafka side (bench_tool.py produce_chain):
# data batches, the broker's time on them, librdkafka's time between a response and the next request, and the
# gaps where one Kafka transaction hands over to the next.
# The watermark method (BENCH_SNAP_INC=1, the default): an incremental snapshot of the same table (signal
# execute-snapshot through a signal table, incremental.snapshot.chunk.size 1024 unless BENCH_SNAP_INC_EXTRA
# says otherwise), chunk by chunk on the connector thread while the slot streams, as a resumed initial snapshot
# and the re-read after a lost slot go: from the signal's commit to the slot confirmed past the last chunk, in
# every round after the initial snapshots, printed next to them (target >= 0.5x the 1-thread initial snapshot).
# With BENCH_SNAP_AB, B runs it too. BENCH_SNAP_INC_WRITER=RATE: meanwhile one session commits RATE single-row
# transactions a second (synchronous_commit=on) into table snap_ping of the same publication, from the signal to
# the snapshot's end, and walcast logs at debug level: each round prints those transactions' latency from their
# source commit to their Kafka commit (walcast's "latency trace": median, p90, max) and walcast's Kafka commits.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
ROWS=${BENCH_SNAP_ROWS:-1000000}
bench_init bench-snapshot benchsnap
[ "${BENCH_SNAP_REQUEST_LOG:-0}" = 0 ] || export KAFKA_REQUEST_LOG="$WORK/kafka-requests.log"
verdict() { awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT met"; }
bench_servers
printf '%s\n' "bootstrap.servers=$BS" ${BENCH_SNAP_WORKER_EXTRA:-} >"$WORK/worker.properties"
/usr/bin/python3 "$TOOL" warmup "$BS" 2>/dev/null
echo "bench-snapshot: Kafka at $BS, PostgreSQL on port $PGPORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q -c "CREATE TABLE snap (id int PRIMARY KEY, v int NOT NULL, t text, ts timestamptz NOT NULL, n numeric(12,2))" \
  -c "CREATE PUBLICATION snap_pub FOR TABLE snap" \
  -c "CREATE TABLE snap_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))" \
  -c "CREATE TABLE snap_ping (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())" \
  -c "CREATE PUBLICATION snap_inc_pub FOR TABLE snap, snap_signal, snap_ping" -c "CREATE TABLE snap_flush (x int)" \
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
  local f=$3 w rd cn rk be br id wa all
  w=$(cpu_of_run "$f" wall); rd=$(calc "%.2f" "0$(cpu_of_run "$f" walcast-snap) + 0$(cpu_of_run "$f" walcast-wm)"); cn=$(calc "%.2f" "0$(cpu_of_run "$f" walcast-conn) + 0$(cpu_of_run "$f" walcast-commit) + 0$(cpu_of_run "$f" walcast)")
  rk=$(cpu_of_run "$f" rdk); be=$(cpu_of_run "$f" backends); br=$(cpu_of_run "$f" broker); id=$(cpu_of_run "$f" idle)
  wa=$(awk '$1 == "thread" && $2 != "rdk" { s += $4 } END { printf "%.2f", s }' "$f")   # every walcast thread
  all=$(calc "%.2f" "$wa + ${be:-0} + ${br:-0}")
  printf '%-34s %6.1f %8.1f %8.1f %8.1f %8.1f %8.1f %7.1f %9.2f %6.2f %6.2f %9.2f %9.0f\n' "$1" "$w" "${rd:-0}" "${cn:-0}" "${rk:-0}" "${be:-0}" "${br:-0}" "${id:-0}" \
    "$(calc "%.2f" "$wa * 1000000 / $2")" "$(calc "%.2f" "$all / $w")" "$(calc "%.2f" "($NCORES * $w - ${id:-0}) / $w")" \
    "$(calc "%.2f" "$all * 1000000 / $2")" "$(calc "%.0f" "$2 * $NCORES / $all")"
}
NCORES=$(nproc)

# timed PROPERTIES LOGNAME [WAITER]: walcast run in the background (a child of this shell, in PIDS: stopped by
# bench_cleanup whatever happens), cpuwatch beside it; with WAITER, walcast is stopped (SIGINT) once
# "WAITER LOGNAME" returns, else it runs until it exits. Leaves T_START, T_END and $WORK/cpu-LOGNAME (its
# "hwm" line is walcast's peak RSS in kB).
timed() {
  local f=$1 n=$2 pid cw pf=""
  T_START=$(now)
  "${WALCAST_BIN:-${BENCH_SNAP_WALCAST:-$ROOT/build/walcast}}" run --worker "$WORK/worker.properties" "$f" >/dev/null 2>"$WORK/walcast-$n.log" &
  pid=$!
  PIDS+=($pid)
  if [ "${BENCH_SNAP_POLLS:-0}" = 1 ]; then   # ends with walcast
    perf stat --per-thread -e syscalls:sys_enter_poll --filter 'timeout_msecs == 0' -p $pid -o "$WORK/polls-$n" \
      >/dev/null 2>&1 &
    pf=$!
    PIDS+=($pf)
  fi
  /usr/bin/python3 "$TOOL" cpuwatch "$pid" "$POSTMASTER" "$BROKER_PID" >"$WORK/cpu-$n" &
  cw=$!
  PIDS+=($cw)
  if [ -n "${3:-}" ]; then
    # the waiter in the background: a walcast that exits first (it could not start, it failed) ends the run
    # now, not at the waiter's bound (an hour for the streaming drain)
    "$3" "$n" 2>"$WORK/waiter-$n.err" & local wt=$!
    PIDS+=($wt)
    while ! bench_exited $wt; do
      bench_exited $pid && { tail -5 "$WORK/walcast-$n.log" >&2; die "walcast ($n) exited before $3 was done"; }
      sleep 0.05
    done
    wait $wt || { tail -5 "$WORK/walcast-$n.log" "$WORK/waiter-$n.err" >&2; die "$n: $3 failed"; }
    T_END=$(now)
    kill -INT $pid
    wait $pid || true
  else
    wait $pid || { tail -5 "$WORK/walcast-$n.log" >&2; die "walcast ($n) failed"; }
    T_END=$(now)
  fi
  wait $cw || true
  [ -z "$pf" ] || wait $pf || true
}
# bench_exited PID: that child of this shell has exited (a zombie not waited for yet counts: kill -0 still finds it)
bench_exited() { [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null || echo Z)" = Z ]; }
polls_of() {  # LOGNAME: ", N polls of timeout 0 a row" with BENCH_SNAP_POLLS=1
  [ -s "$WORK/polls-$1" ] || return 0
  awk -v rows="$ROWS" '/sys_enter_poll/ { c += $2 } END { printf ", %.2f poll() calls of timeout 0 a row", c / rows }' "$WORK/polls-$1"
}
hwm_mb() { echo $(( $(awk '$1 == "hwm" { print $2 }' "$WORK/cpu-$1") / 1024 )); }

run_walcast() {  # threads [b: BENCH_SNAP_AB's binary] -> RATE_<threads>[b], RSS_<threads>[b]
  local tag=${2:-} th
  th=$1$tag
  local f="$WORK/w$th.properties" WALCAST_BIN=${BENCH_SNAP_WALCAST:-$ROOT/build/walcast}
  [ -z "$tag" ] || WALCAST_BIN=$BENCH_SNAP_AB
  local n="${th}r${round}"   # a new connector each round (its own offsets, slot and topic)
  printf '%s\n' "name=snapbench$n" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=w$n" "slot.name=snapbench$n" "slot.drop.on.stop=true" \
    "publication.name=snap_pub" "publication.autocreate.mode=disabled" "snapshot.mode=initial_only" \
    "snapshot.max.threads=$1" ${BENCH_SNAP_EXTRA:-} >"$f"
  timed "$f" "$th"
  [ -n "${BENCH_SNAP_VERBOSE:-}" ] && { echo "start $T_START end $T_END"; grep -E 'msg="(snapshot|replication slot|walcast|kafka)' "$WORK/walcast-$th.log" | cut -c1-200; } >&2
  grep -q 'msg="snapshot completed".*rows='"$ROWS" "$WORK/walcast-$th.log" || { tail -5 "$WORK/walcast-$th.log" >&2; die "walcast ($WALCAST_BIN, $1 threads) did not snapshot $ROWS rows"; }
  printf -v "RATE_$th" '%s' "$(calc "%.0f" "$ROWS / ($T_END - $T_START)")"
  printf -v "RSS_$th" "%s" "$(hwm_mb "$th")"; echo "bench-snapshot: walcast${tag:+ (B)} $1 thread(s), round $round: $(calc "%.0f" "$ROWS / ($T_END - $T_START)") rows/s, peak RSS $(hwm_mb "$th") MB$(polls_of "$th")"
  [ -z "${KAFKA_REQUEST_LOG:-}" ] || /usr/bin/python3 "$TOOL" produce_chain "$KAFKA_REQUEST_LOG" "walcast-snapbench$n" || true
}

# The watermark method: walcast streaming (snapshot.mode=no_data, its own slot and publication with the signal
# table), then execute-snapshot of the table committed synchronously (the test cluster commits asynchronously:
# else the signal waits for the WAL writer); done when the slot is confirmed past the WAL written once walcast
# logged the snapshot completed (its last chunk committed in Kafka; status.update.interval.ms=50 as in the
# streaming drain, so that the idle position is confirmed at once).
INC=${BENCH_SNAP_INC:-1}
wait_inc() {  # LOGNAME (timed's waiter)
  local log="$WORK/walcast-$1.log" t0
  t0=$(now)
  until grep -q 'msg="replication started"' "$log"; do
    awk "BEGIN { exit !($(now) - $t0 > 120) }" && { echo "walcast did not start streaming" >&2; return 1; }
    sleep 0.05
  done
  q -c "SET synchronous_commit = on" -c "INSERT INTO snap_signal VALUES ('$1', 'execute-snapshot', '{\"data-collections\": [\"public.snap\"]}')" >/dev/null
  now >"$WORK/signal-$1"
  local wr=""
  if [ "${BENCH_SNAP_INC_WRITER:-0}" != 0 ]; then
    ( echo "SET synchronous_commit = on;"
      while [ ! -e "$WORK/done-$1" ]; do echo "INSERT INTO snap_ping DEFAULT VALUES;"; sleep "$(calc "%.4f" "1 / $BENCH_SNAP_INC_WRITER")"; done
    ) | psql -X -q -v ON_ERROR_STOP=1 >/dev/null &
    wr=$!
  fi
  until grep -q 'msg="snapshot completed"' "$log"; do
    awk "BEGIN { exit !($(now) - $t0 > 3600) }" && { echo "the incremental snapshot did not complete" >&2; touch "$WORK/done-$1"; return 1; }
    sleep 0.05
  done
  now >"$WORK/completed-$1"
  touch "$WORK/done-$1"
  [ -z "$wr" ] || wait "$wr"
  # a synchronous commit flushes only when its transaction wrote WAL (an xid alone does not): a row of a
  # table in no publication
  END_LSN=$(q -c "SET synchronous_commit = on" -c "INSERT INTO snap_flush VALUES (1)" -c "SELECT pg_current_wal_insert_lsn()" | tail -1)
  wait_flushed "snapinc$1" 600 >/dev/null
}
run_incremental() {  # [b] -> RATE_I[b], RSS_I[b]
  local tag=${1:-} WALCAST_BIN=${BENCH_SNAP_WALCAST:-$ROOT/build/walcast}
  [ -z "$tag" ] || WALCAST_BIN=$BENCH_SNAP_AB
  local n="inc${tag}r${round}" f
  f="$WORK/$n.properties"
  printf '%s\n' "name=snapinc$n" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=w$n" "slot.name=snapinc$n" "slot.drop.on.stop=true" \
    "publication.name=snap_inc_pub" "publication.autocreate.mode=disabled" "snapshot.mode=no_data" \
    "signal.data.collection=public.snap_signal" "signal.enabled.channels=source" "status.update.interval.ms=50" \
    ${BENCH_SNAP_EXTRA:-} ${BENCH_SNAP_INC_EXTRA:-} >"$f"
  if [ "${BENCH_SNAP_INC_WRITER:-0}" != 0 ]; then WALCAST_LOG=debug timed "$f" "$n" wait_inc; else timed "$f" "$n" wait_inc; fi
  grep -q 'msg="snapshot completed".*rows='"$ROWS" "$WORK/walcast-$n.log" || { tail -5 "$WORK/walcast-$n.log" >&2; die "walcast ($WALCAST_BIN) incremental snapshot did not read $ROWS rows"; }
  printf -v "RATE_I$tag" '%s' "$(calc "%.0f" "$ROWS / ($T_END - $(cat "$WORK/signal-$n"))")"
  printf -v "RSS_I$tag" '%s' "$(hwm_mb "$n")"
  echo "bench-snapshot: walcast${tag:+ (B)} incremental snapshot, round $round: $(calc "%.0f" "$ROWS / ($T_END - $(cat "$WORK/signal-$n"))") rows/s, peak RSS $(hwm_mb "$n") MB"
  cpu_report "  its CPU (walcast from its start)" "$ROWS" "$WORK/cpu-$n"
  if [ "${BENCH_SNAP_INC_WRITER:-0}" != 0 ]; then
    # the writer's transactions committed in Kafka between the signal and the snapshot's end
    awk -v a="$(cat "$WORK/signal-$n")" -v b="$(cat "$WORK/completed-$n")" '/msg="latency trace"/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        if (v["source_commit_us"] / 1e6 > a && v["source_commit_us"] / 1e6 < b) print (v["committed_us"] - v["source_commit_us"]) / 1000
      }' "$WORK/walcast-$n.log" | sort -n >"$WORK/lat-$n"
    echo "bench-snapshot:   streamed transactions during it: $(wc -l <"$WORK/lat-$n") (writer at $BENCH_SNAP_INC_WRITER/s), source commit to Kafka commit ms: median $(awk '{ a[NR] = $1 } END { print NR ? a[int((NR + 1) / 2)] : "-" }' "$WORK/lat-$n"), p90 $(awk '{ a[NR] = $1 } END { print NR ? a[int(NR * 0.9 + 0.99)] : "-" }' "$WORK/lat-$n"), max $(tail -1 "$WORK/lat-$n"); Kafka commits of the run: $(grep -o 'kafka_commits=[0-9]*' "$WORK/walcast-$n.log" | tail -1), walcast's own $(grep -o 'rows_per_s=[0-9]*' "$WORK/walcast-$n.log" | tail -1)"
  fi
}

# The streaming reference: the same rows, inserted in transactions of 10,000 while slot snapstream existed,
# drained by walcast (snapshot.mode=no_data, same converter) until the slot is confirmed to the end of the WAL.
wait_stream() { wait_flushed snapstream 3600; }
run_stream() {
  local f="$WORK/stream.properties"
  printf '%s\n' "name=snapstream" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=st" "slot.name=snapstream" "status.update.interval.ms=50" \
    "publication.name=snap_pub" "publication.autocreate.mode=disabled" "snapshot.mode=no_data" ${BENCH_SNAP_EXTRA:-} >"$f"
  timed "$f" stream wait_stream
  RATE_S=$(calc "%.0f" "$ROWS / ($T_END - $T_START)")
  RSS_S=$(hwm_mb stream)
  echo "bench-snapshot: walcast streaming: $RATE_S rows/s, peak RSS $RSS_S MB"
}
# The broker's CPU per row is 2-3x higher for the first 2 million or so records it takes (its JVM warming
# up: seen in the first timed run even after one untimed run): untimed 2- and 1-thread snapshots first, so
# that no timed run pays for the warm-up. Then
# BENCH_SNAP_RUNS (1) rounds in alternating order (1 thread then 2, then 2 then 1, ...), the streaming
# drain of the same rows in the first round between the two snapshots.
warm=${BENCH_SNAP_WARMUPS:-2}
for ((k = 0; k < warm; k++)); do round=w$k; run_walcast $(( k % 2 ? 1 : 2 )); done
R1=(); R2=(); RS=(); R1B=(); R2B=(); RI=(); RIB=()
for ((round = 1; round <= ${BENCH_SNAP_RUNS:-1}; round++)); do
  if (( round % 2 )); then first=1; second=2; tags=("" b); else first=2; second=1; tags=(b ""); fi
  [ -n "${BENCH_SNAP_AB:-}" ] || tags=("")
  for tag in "${tags[@]}"; do
    run_walcast $first "$tag"; cp "$WORK/cpu-$first$tag" "$WORK/cpu-$first$tag.$round"
    [ "$round" = 1 ] && [ -z "$tag" ] && [ "${BENCH_SNAP_STREAM:-1}" = 1 ] && { run_stream; RS+=("$RATE_S"); }
    run_walcast $second "$tag"; cp "$WORK/cpu-$second$tag" "$WORK/cpu-$second$tag.$round"
  done
  if [ "$INC" = 1 ]; then
    for tag in "${tags[@]}"; do run_incremental "$tag"; done
    RI+=("$RATE_I"); [ -z "${BENCH_SNAP_AB:-}" ] || RIB+=("$RATE_Ib")
  fi
  R1+=("$RATE_1"); R2+=("$RATE_2")
  [ -z "${BENCH_SNAP_AB:-}" ] || { R1B+=("$RATE_1b"); R2B+=("$RATE_2b"); }
done
RATE_1=$(median "${R1[@]}"); RATE_2=$(median "${R2[@]}"); RATE_S=-
if [ "${#RS[@]}" = 0 ]; then RSS_S=-; else RATE_S=$(median "${RS[@]}"); fi
RATE_I=-; RSS_I=${RSS_I:--}
[ "${#RI[@]}" = 0 ] || RATE_I=$(median "${RI[@]}")

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
printf '%-44s %12s %9s MB\n' "walcast incremental snapshot (watermarks)" "$RATE_I" "$RSS_I"
printf '%-44s %12s %9s MB\n' "Debezium 3.6.1 initial snapshot (defaults)" "$DBZ_RATE" "$DBZ_RSS"
echo "1 thread vs COPY:      $(calc "%.2f" "$RATE_1 / $COPY_RATE")x (target >= 0.7: $(verdict "$RATE_1 >= 0.7 * $COPY_RATE"))"
echo "2 threads vs 1 thread: $(calc "%.2f" "$RATE_2 / $RATE_1")x (target >= 1.7: $(verdict "$RATE_2 >= 1.7 * $RATE_1"))"
[ "$RATE_S" = - ] ||
  echo "2 threads vs streaming: $(calc "%.2f" "$RATE_2 / $RATE_S")x (target >= 1: $(verdict "$RATE_2 >= $RATE_S")); 1 thread $(calc "%.2f" "$RATE_1 / $RATE_S")x"
[ "$RATE_I" = - ] ||
  echo "incremental vs 1 thread: $(calc "%.2f" "$RATE_I / $RATE_1")x (target >= 0.5: $(verdict "$RATE_I >= 0.5 * $RATE_1"))"
[ "${BENCH_SNAP_RUNS:-1}" = 1 ] || echo "per round: 1 thread ${R1[*]}; 2 threads ${R2[*]}${RI[*]:+; incremental ${RI[*]}} rows/s (medians above)"
echo
echo "CPU s (utime+stime) of each part, last round: readers = walcast-snap threads, connect = the connector thread"
echo "(walcast-conn) + walcast-commit + main, rdkafka = rdk:* threads; idle = core-seconds the machine left idle meanwhile;"
echo "walcast = all its threads; ours = cores used by walcast + backends + broker, busy = cores busy in all (the rest:"
echo "other work); all us/row = CPU us of walcast + backends + broker a row; ceiling = $NCORES cores / all us/row"
printf '%-34s %6s %8s %8s %8s %8s %8s %7s %9s %6s %6s %9s %9s\n' "run" "wall s" "readers" "connect" "rdkafka" "pg bkend" "broker" \
  "idle" "walcast us/row" "ours" "busy" "all us/row" "ceiling"
cpu_report "snapshot 1 thread" "$ROWS" "$WORK/cpu-1"
cpu_report "snapshot 2 threads" "$ROWS" "$WORK/cpu-2"
[ "$RATE_S" = - ] || cpu_report "streaming (walsender = pg bkend)" "$ROWS" "$WORK/cpu-stream"
echo "2 threads at 1.7x of 1 thread: $(calc "%.0f" "1.7 * $RATE_1") rows/s; the machine's ceiling at the 2-thread run's CPU per row: see 'ceiling' above"
echo "where the snapshot threads' time went (walcast's \"snapshot threads\" line, last round):"
for th in 1 2; do
  echo "  $th thread(s): $(grep -o 'readers=.*' "$WORK/walcast-$th.log" | tail -1)"
done
if [ "$DBZ_RATE" != "-" ]; then
  echo "1 thread vs Debezium:  $(calc "%.2f" "$RATE_1 / $DBZ_RATE")x (target >= 5: $(verdict "$RATE_1 >= 5 * $DBZ_RATE"))"
fi
echo "peak RSS: $RSS_1 / $RSS_2 MB (streaming $RSS_S MB) (target < 100 MB for 10M rows; measured on $ROWS rows: $(verdict "$RSS_1 < 100 && $RSS_2 < 100"))"
if [ -n "${BENCH_SNAP_AB:-}" ]; then
  A1=$(median "${R1[@]}"); A2=$(median "${R2[@]}"); B1=$(median "${R1B[@]}"); B2=$(median "${R2B[@]}")
  echo
  echo "A/B, ${BENCH_SNAP_RUNS:-1} alternating round(s): A = ${BENCH_SNAP_WALCAST:-$ROOT/build/walcast}, B = $BENCH_SNAP_AB"
  echo "  A: 1 thread $A1, 2 threads $A2 rows/s (2 vs 1: $(calc "%.2f" "$A2 / $A1")x); per round: ${R1[*]} / ${R2[*]}"
  echo "  B: 1 thread $B1, 2 threads $B2 rows/s (2 vs 1: $(calc "%.2f" "$B2 / $B1")x); per round: ${R1B[*]} / ${R2B[*]}"
  echo "  B vs A: 1 thread $(calc "%.2f" "$B1 / $A1")x, 2 threads $(calc "%.2f" "$B2 / $A2")x; peak RSS of the last round A $RSS_1 / $RSS_2 MB, B $RSS_1b / $RSS_2b MB"
  [ "${#RIB[@]}" = 0 ] || echo "  incremental: A $(median "${RI[@]}"), B $(median "${RIB[@]}") rows/s (B vs A $(calc "%.2f" "$(median "${RIB[@]}") / $(median "${RI[@]}")")x); per round: ${RI[*]} / ${RIB[*]}"
  for th in 1b 2b; do
    echo "  B $th: $(grep -o 'readers=.*' "$WORK/walcast-$th.log" | tail -1)"
  done
  echo "  CPU of each round, A and B (columns as in the CPU table above):"
  for ((round = 1; round <= ${BENCH_SNAP_RUNS:-1}; round++)); do
    for th in 1 1b 2 2b; do
      cpu_report "  round $round, $([ "${th%b}" = "$th" ] && echo A || echo B) ${th%b} thread(s)" "$ROWS" "$WORK/cpu-$th.$round"
    done
  done
fi
echo "bench-snapshot: load average $(cut -d' ' -f1-3 /proc/loadavg)"
