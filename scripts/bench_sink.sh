#!/usr/bin/env bash
# bench_sink.sh (part of `make bench`): apply rows/s of one walcast JDBC sink into PostgreSQL and into
# MariaDB, next to a plain bulk load of the same rows (COPY / LOAD DATA), the speed limit of the target;
# then the MongoDB sink into FerretDB on the same topic (scripts/bench_sink_mongo.sh).
# BENCH_SINK_ROWS (200,000) rows in transactions of 1,000 go through walcast's source into a real Kafka
# 4.4.0 (JSON with schemas, walcast's default) first; then each sink drains the topic alone. Its rate is
# counted from its first committed batch (consumer group join and table creation excluded) to the last.
# BENCH_SINK_BATCH (batch.size, default 500 as Debezium's) and BENCH_SINK_MODE (insert.mode, upsert).
# BENCH_SINK_COPY (default "auto"; e.g. "off auto"): each value is one pair of sink runs (PostgreSQL, MariaDB)
# with WALCAST_SINK_COPY set to it, into databases of their own: "off" is the upsert path for every row
# (before runs of creates went as COPY / plain multi-row INSERT), "auto" the default, "text" COPY's text format.
# Besides rows/s (wall time: noisy on a shared machine), each run reports CPU per row of the sink process and
# of the target server (the sink's backend for PostgreSQL, the whole mariadbd for MariaDB), which other load
# on the machine does not change much. BENCH_SINK_REFERENCE=1: Debezium's JDBC sink on the same row shape
# (scripts/bench_sink_reference.sh, its own Kafka Connect; minutes) for the 10x comparison.
# BENCH_SINK_BEFORE=PATH: also runs that walcast binary (e.g. a build of an older commit) on each mode, in the
# same run, into databases of its own ("before" lines), for before/after figures under the same load.
# BENCH_SINK_RUNS (default 1; 3 for medians): each variant and each bulk load that many times, interleaved, so
# that the load of the machine falls alike on all; the table shows medians, the runs are printed as they end.
# BENCH_SINK_PROPS: more sink settings, one key=value per word (e.g. consumer.override.queued.max.messages.kbytes=2000000).
# Each sink logs where its thread's time went ("sink stage times", per-record stages too: WALCAST_SINK_STAGE_TIMES=1);
# it is printed after each run.
# Every server and process started here is stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
ROWS=${BENCH_SINK_ROWS:-200000}
BATCH=${BENCH_SINK_BATCH:-500}
MODE=${BENCH_SINK_MODE:-upsert}
COPY_MODES=${BENCH_SINK_COPY:-auto}
TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/walcast-bench-sink.XXXXXX)
PIDS=()
PGD=""
MYD=""
KDIR=""
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  [ -n "$MYD" ] && bash "$ROOT/scripts/mariadb-stop.sh" "$MYD"
  [ -n "$KDIR" ] && bash "$ROOT/scripts/kafka.sh" stop "$KDIR"
  [ -n "${BENCH_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
die() { echo "bench-sink: $*" >&2; exit 1; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
my() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -N -B "$@"; }

PGD=$(bash "$ROOT/scripts/pg-start.sh")
. "$PGD/env"
MYD=$(bash "$ROOT/scripts/mariadb-start.sh")
MYPORT=$(sed -n 's/^export MYSQL_TCP_PORT=//p' "$MYD/env")
KDIR="$WORK/kafka"
bash "$ROOT/scripts/kafka.sh" start "$KDIR" >"$WORK/kafka.out"
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out")
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"
echo "bench-sink: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

q -c "CREATE DATABASE target" -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text, ts timestamptz, n numeric(12,2))"
my -e "CREATE DATABASE target"
VARIANTS=""
for m in $COPY_MODES; do
  [ -n "${BENCH_SINK_BEFORE:-}" ] && VARIANTS="$VARIANTS ${m}_before"
  VARIANTS="$VARIANTS $m"
done
RUNS=${BENCH_SINK_RUNS:-1}
for r in $(seq 1 "$RUNS"); do
  for m in $VARIANTS; do q -c "CREATE DATABASE target_${m}_$r"; my -e "CREATE DATABASE target_${m}_$r"; done
done
cat >"$WORK/src.properties" <<EOF
name=bench-src
database.hostname=127.0.0.1
database.port=$PGPORT
database.user=postgres
database.dbname=postgres
topic.prefix=bsrc
snapshot.mode=no_data
table.include.list=public.bench
EOF
"$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$WORK/src.properties" 2>"$WORK/src.log" >/dev/null &
SRC=$!
PIDS+=($SRC)
for _ in $(seq 1 300); do grep -q "replication started" "$WORK/src.log" && break; sleep 0.1; done
grep -q "replication started" "$WORK/src.log" || die "the source did not start: $(tail -3 "$WORK/src.log")"
echo "bench-sink: writing $ROWS rows"
for ((i = 0; i < ROWS; i += 1000)); do
  echo "INSERT INTO bench SELECT g, g * 7, 'row ' || g || ' some text to carry', '2024-01-01'::timestamptz + g * interval '1 s', g / 3.0 FROM generate_series($((i + 1)), $((i + 1000 < ROWS ? i + 1000 : ROWS))) g;"
done | q
bash "$ROOT/scripts/pg-flush.sh"
END=$(q -c "SELECT pg_current_wal_insert_lsn()")
for _ in $(seq 1 3000); do
  [ "$(q -c "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] && break
  sleep 0.2
done
[ "$(q -c "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] || die "the source did not publish everything"
kill -INT $SRC; wait $SRC || true

offsets_pg() { q -d "$DB" -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
offsets_my() { my "$DB" -e "SELECT coalesce(sum(\`offset\`), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
cpu_s() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
MYPID=$(cat "$MYD/mysqld.pid")
# the target server's CPU seconds so far for sink NAME: its PostgreSQL backend, or the whole mariadbd
server_cpu() {
  case $1 in
    bench-pg*) local p
      p=$(q -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'walcast-sink-$1' LIMIT 1")
      [ -n "$p" ] && cpu_s "$p" || echo 0 ;;
    *) cpu_s "$MYPID" ;;
  esac
}

# Where the sink thread's time went ("sink stage times", logged by the sink when it stops): per stage its wall
# time as a share of the window (first record read to last batch committed) and in us per row; for the
# once-per-batch stages also the thread's CPU and how often it blocked. runqueue: time the thread was
# runnable but not running (other load on the machine), not a wait of the sink's own.
stage_times() {
  local line
  line=$(grep -m1 'msg="sink stage times"' "$WORK/$1.log" || true)
  [ -n "$line" ] || { echo "bench-sink: $1 logged no stage times"; return 0; }
  awk -v name="$1" '{
    for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) v[kv[1]] = kv[2]
    w = v["window_ms"]; r = v["rows"]; if (w <= 0 || r <= 0) exit
    printf "  %s: %d rows in %d batches (%.0f rows/batch), window %.0f ms, thread CPU %.0f ms (%.0f%%), runqueue %.0f ms (%.0f%%)\n",
      name, r, v["batches"], r / v["batches"], w, v["thread_cpu_ms"], 100 * v["thread_cpu_ms"] / w, v["runqueue_ms"], 100 * v["runqueue_ms"] / w
    rq = v["runqueue_ms"]
    if ("fetch_wakes" in v) printf "    fetcher woken %d times (fetch_wake)\n", v["fetch_wakes"]
    printf "    sink thread CPU %.2f us/row; net of runqueue (rows / (window - runqueue): an estimate of the rate without the other load on the machine) %.0f rows/s\n",
      1000 * v["thread_cpu_ms"] / r, (w > rq ? 1000 * r / (w - rq) : 0)
    printf "    %-11s %9s %7s %8s %9s %8s\n", "stage", "wall ms", "% wall", "us/row", "cpu ms", "blocks"
    n = split("poll empty_poll decode plan send offsets commit settle done", st, " ")
    sum = 0
    for (k = 1; k <= n; k++) {
      ms = v[st[k] "_ms"]; sum += ms
      cpu = (st[k] "_cpu_ms") in v ? sprintf("%9.1f", v[st[k] "_cpu_ms"]) : sprintf("%9s", "-")
      bl = (st[k] "_blocks") in v ? sprintf("%8d", v[st[k] "_blocks"]) : sprintf("%8s", "-")
      printf "    %-11s %9.1f %6.1f%% %8.2f %s %s\n", st[k], ms, 100 * ms / w, 1000 * ms / r, cpu, bl
    }
    printf "    %-11s %9.1f %6.1f%%\n", "(other)", w - sum, 100 * (w - sum) / w
  }' <<<"$line"
}

run_sink() {  # name url user offsets_fn -> RES="rows/s seconds sink_us_per_row server_us_per_row"
  local name=$1 url=$2 user=$3 fn=$4 srv0
  cat >"$WORK/$name.properties" <<EOF
name=$name
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
topics=bsrc.public.bench
connection.url=$url
connection.username=$user
insert.mode=$MODE
primary.key.mode=record_key
delete.enabled=true
schema.evolution=basic
batch.size=$BATCH
EOF
  [ -n "${BENCH_SINK_PROPS:-}" ] && printf '%s\n' $BENCH_SINK_PROPS >>"$WORK/$name.properties"
  srv0=$(server_cpu "$name")
  local bin="$ROOT/build/walcast"
  [ "${CM%_before}" != "$CM" ] && bin=$BENCH_SINK_BEFORE
  # BENCH_SINK_PERF=DIR: a perf profile of each sink into DIR (perf report -i DIR/NAME.perf); perf starts the
  # sink itself (attaching to a running process with -p records no samples on this kind of machine)
  local pid t0="" n0=0 o perf=""
  if [ -n "${BENCH_SINK_PERF:-}" ]; then
    WALCAST_SINK_STAGE_TIMES=1 WALCAST_SINK_COPY=${CM%_before} perf record -q -e cpu-clock -F 999 -g \
      -o "$BENCH_SINK_PERF/$name.perf" -- "$bin" run --worker "$WORK/worker.properties" "$WORK/$name.properties" \
      2>"$WORK/$name.log" >/dev/null &
    perf=$!
    PIDS+=($perf)
    for _ in $(seq 1 100); do pid=$(pgrep -P $perf || true); pid=${pid%%$'\n'*}; [ -n "$pid" ] && break; sleep 0.05; done
    [ -n "$pid" ] || die "perf did not start $name"
  else
    WALCAST_SINK_STAGE_TIMES=1 WALCAST_SINK_COPY=${CM%_before} "$bin" run --worker "$WORK/worker.properties" "$WORK/$name.properties" 2>"$WORK/$name.log" >/dev/null &
    pid=$!
  fi
  PIDS+=($pid)
  for _ in $(seq 1 6000); do
    o=$($fn)
    if [ -z "$t0" ] && [ "$o" -gt 0 ]; then t0=$(now); n0=$o; fi
    [ "$o" -ge "$ROWS" ] && break
    kill -0 $pid 2>/dev/null || die "$name exited: $(tail -3 "$WORK/$name.log")"
    sleep 0.05
  done
  local t1
  t1=$(now)
  [ "$($fn)" -ge "$ROWS" ] || die "$name applied only $($fn) of $ROWS rows in 300 s"
  local sink_cpu srv1
  sink_cpu=$(cpu_s $pid)
  srv1=$(server_cpu "$name")
  kill -INT $pid; wait $pid 2>/dev/null || true
  [ -n "$perf" ] && { wait $perf || true; }
  stage_times "$name"
  local secs
  secs=$(echo "$t1 - $t0" | bc)
  RES="$(calc "%.0f" "($ROWS - $n0) / $secs") $secs $(calc "%.1f" "1e6 * $sink_cpu / $ROWS") $(calc "%.1f" "1e6 * ($srv1 - $srv0) / $ROWS")"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# the fields of a variant's runs: medians of rows/s, seconds, sink us/row, server us/row
medians() {
  local -n arr=$1
  local k out=""
  for k in 1 2 3 4; do
    local vals=() r
    for r in $(seq 1 "$RUNS"); do vals+=("$(cut -d' ' -f$k <<<"${arr[$2,$r]}")"); done
    out="$out $(median "${vals[@]}")"
  done
  echo "${out# }"
}

# the limit: a bulk load of the same rows into an empty table of the same shape
q -c "\\copy bench TO '$WORK/rows.tsv'"
# MariaDB: LOAD DATA of the same rows (timestamps as UTC datetimes)
q -c "\\copy (SELECT id, v, t, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), n FROM bench) TO '$WORK/rows-my.tsv'"
declare -A PGR MYR
COPYR=() LOADR=()
for RUN in $(seq 1 "$RUNS"); do
  for CM in $VARIANTS; do
    DB="target_${CM}_$RUN"
    run_sink "bench-pg-$CM-$RUN" "jdbc:postgresql://127.0.0.1:$PGPORT/$DB" postgres offsets_pg; PGR[$CM,$RUN]=$RES
    echo "  run $RUN: PostgreSQL $CM: $RES (rows/s s sink_us/row server_us/row); load $(cut -d' ' -f1 /proc/loadavg)"
    run_sink "bench-my-$CM-$RUN" "jdbc:mariadb://127.0.0.1:$MYPORT/$DB" root offsets_my; MYR[$CM,$RUN]=$RES
    echo "  run $RUN: MariaDB $CM: $RES; load $(cut -d' ' -f1 /proc/loadavg)"
  done
  q -d target -c "CREATE TABLE copy_limit_$RUN (id int PRIMARY KEY, v int NOT NULL, t text, ts timestamptz, n numeric(12,2))"
  t0=$(now); q -d target -c "\\copy copy_limit_$RUN FROM '$WORK/rows.tsv'"; t1=$(now)
  COPYR+=("$(calc "%.0f" "$ROWS / ($t1 - $t0)")")
  my target -e "CREATE TABLE load_limit_$RUN (id int NOT NULL PRIMARY KEY, v int NOT NULL, t longtext, ts datetime(6), n decimal(12,2)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
  t0=$(now); my --local-infile=1 target -e "LOAD DATA LOCAL INFILE '$WORK/rows-my.tsv' INTO TABLE load_limit_$RUN"; t1=$(now)
  LOADR+=("$(calc "%.0f" "$ROWS / ($t1 - $t0)")")
  echo "  run $RUN: COPY ${COPYR[-1]} rows/s, LOAD DATA ${LOADR[-1]} rows/s; load $(cut -d' ' -f1 /proc/loadavg)"
done
copy_rate=$(median "${COPYR[@]}")
load_rate=$(median "${LOADR[@]}")

ref=""
if [ "${BENCH_SINK_REFERENCE:-0}" = 1 ]; then
  ref=$(SINK_BENCH_ROWS=$ROWS bash "$ROOT/scripts/bench_sink_reference.sh" 2>"$WORK/reference.err") \
    || echo "bench-sink: Debezium's JDBC sink run failed: $(tail -3 "$WORK/reference.err")"
fi
dbz_pg=$(awk '$2 == "postgresql" { print $3 }' <<<"$ref")
dbz_my=$(awk '$2 == "mariadb" { print $3 }' <<<"$ref")

echo
echo "== apply into the target: $ROWS rows, one walcast sink, insert.mode=$MODE, batch.size=$BATCH (JSON with schemas); medians of $RUNS run(s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-44s %10s %9s %13s %15s\n' "" "rows/s" "vs bulk" "sink us/row" "server us/row"
for CM in $VARIANTS; do
  read -r r _ c sv <<<"$(medians PGR "$CM")"
  printf '%-44s %10s %8s%% %13s %15s\n' "walcast -> PostgreSQL (WALCAST_SINK_COPY=$CM)" "$r" "$(calc "%.0f" "100 * $r / $copy_rate")" "$c" "$sv"
done
printf '%-44s %10s\n' "PostgreSQL COPY (limit)" "$copy_rate"
[ -n "$dbz_pg" ] && printf '%-44s %10s\n' "Debezium JDBC sink -> PostgreSQL" "$dbz_pg"
for CM in $VARIANTS; do
  read -r r _ c sv <<<"$(medians MYR "$CM")"
  printf '%-44s %10s %8s%% %13s %15s\n' "walcast -> MariaDB (WALCAST_SINK_COPY=$CM)" "$r" "$(calc "%.0f" "100 * $r / $load_rate")" "$c" "$sv"
done
printf '%-44s %10s\n' "MariaDB LOAD DATA (limit)" "$load_rate"
[ -n "$dbz_my" ] && printf '%-44s %10s\n' "Debezium JDBC sink -> MariaDB" "$dbz_my"
CM=${COPY_MODES##* }
read -r pg_rate _ <<<"$(medians PGR "$CM")"
read -r my_rate _ <<<"$(medians MYR "$CM")"
echo "targets (issue 21): >= 0.3x bulk load: PostgreSQL $(calc "%.2f" "$pg_rate / $copy_rate")x, MariaDB $(calc "%.2f" "$my_rate / $load_rate")x$([ -n "$dbz_pg" ] && echo "; >= 10x Debezium's JDBC sink: PostgreSQL $(calc "%.1f" "$pg_rate / $dbz_pg")x, MariaDB $(calc "%.1f" "$my_rate / $dbz_my")x")"

# ---- MongoDB: the same topic into FerretDB (scripts/bench_sink_mongo.sh, its own servers; Kafka is still
# up; BENCH_SINK_MONGO=0 skips it) ----
if [ "${BENCH_SINK_MONGO:-1}" != 0 ]; then
  bash "$ROOT/scripts/bench_sink_mongo.sh" "$WORK/worker.properties" bsrc.public.bench "$ROWS" "$BATCH" \
    || echo "bench-sink: the MongoDB run failed (see above)"
fi
