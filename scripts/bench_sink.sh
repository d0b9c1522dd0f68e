#!/usr/bin/env bash
# bench_sink.sh (part of `make bench`): apply rows/s of one walcast JDBC sink into PostgreSQL and into
# MariaDB, next to a plain bulk load of the same rows (COPY / LOAD DATA), the speed limit of the target;
# then the MongoDB sink into FerretDB on the same topic (scripts/bench_sink_mongo.sh).
# BENCH_SINK_ROWS (200,000) rows in transactions of 1,000 go through walcast's source into a real Kafka
# 4.4.0 (JSON with schemas, walcast's default) first; then each sink drains the topic alone. Its rate is
# counted from its first committed batch (consumer group join and table creation excluded) to the last.
# BENCH_SINK_BATCH (batch.size, default 500 as Debezium's) and BENCH_SINK_MODE (insert.mode, upsert).
# Every server and process started here is stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
ROWS=${BENCH_SINK_ROWS:-200000}
BATCH=${BENCH_SINK_BATCH:-500}
MODE=${BENCH_SINK_MODE:-upsert}
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
END=$(q -c "SET synchronous_commit = on" -c "SELECT txid_current()" -c "SELECT pg_current_wal_insert_lsn()" | tail -1)
for _ in $(seq 1 3000); do
  [ "$(q -c "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] && break
  sleep 0.2
done
[ "$(q -c "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] || die "the source did not publish everything"
kill -INT $SRC; wait $SRC || true

offsets_pg() { q -d target -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
offsets_my() { my target -e "SELECT coalesce(sum(\`offset\`), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }

run_sink() {  # name url user offsets_fn -> RES="rows/s seconds"
  local name=$1 url=$2 user=$3 fn=$4
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
  "$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$WORK/$name.properties" 2>"$WORK/$name.log" >/dev/null &
  local pid=$! t0="" n0=0 o perf=""
  PIDS+=($pid)
  # BENCH_SINK_PERF=DIR: a perf profile of each sink into DIR (perf report -i DIR/NAME.perf)
  if [ -n "${BENCH_SINK_PERF:-}" ]; then
    perf record -q -F 499 -g -p $pid -o "$BENCH_SINK_PERF/$name.perf" 2>/dev/null &
    perf=$!
  fi
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
  [ -n "$perf" ] && { kill -INT $perf; wait $perf || true; }
  kill -INT $pid; wait $pid || true
  local secs
  secs=$(echo "$t1 - $t0" | bc)
  RES="$(calc "%.0f" "($ROWS - $n0) / $secs") $secs"
}

run_sink bench-pg "jdbc:postgresql://127.0.0.1:$PGPORT/target" postgres offsets_pg; read -r pg_rate pg_s <<<"$RES"
run_sink bench-my "jdbc:mariadb://127.0.0.1:$MYPORT/target" root offsets_my; read -r my_rate my_s <<<"$RES"

# the limit: a bulk load of the same rows into an empty table of the same shape
q -c "\\copy bench TO '$WORK/rows.tsv'"
q -d target -c "CREATE TABLE copy_limit (LIKE bsrc_public_bench INCLUDING ALL)"
t0=$(now); q -d target -c "\\copy copy_limit FROM '$WORK/rows.tsv'"; t1=$(now)
copy_rate=$(calc "%.0f" "$ROWS / ($t1 - $t0)")
# MariaDB: LOAD DATA of the same rows (timestamps as UTC datetimes)
q -c "\\copy (SELECT id, v, t, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), n FROM bench) TO '$WORK/rows-my.tsv'"
my target -e "CREATE TABLE load_limit LIKE bsrc_public_bench"
t0=$(now); my --local-infile=1 target -e "LOAD DATA LOCAL INFILE '$WORK/rows-my.tsv' INTO TABLE load_limit"; t1=$(now)
load_rate=$(calc "%.0f" "$ROWS / ($t1 - $t0)")

echo
echo "== apply into the target: $ROWS rows, one walcast sink, insert.mode=$MODE, batch.size=$BATCH (JSON with schemas)"
printf '%-40s %12s %16s\n' "" "rows/s" "vs bulk load"
printf '%-40s %12s %15s%%\n' "walcast -> PostgreSQL (INSERT ON CONFLICT)" "$pg_rate" "$(calc "%.0f" "100 * $pg_rate / $copy_rate")"
printf '%-40s %12s\n' "PostgreSQL COPY (limit)" "$copy_rate"
printf '%-40s %12s %15s%%\n' "walcast -> MariaDB (ON DUPLICATE KEY)" "$my_rate" "$(calc "%.0f" "100 * $my_rate / $load_rate")"
printf '%-40s %12s\n' "MariaDB LOAD DATA (limit)" "$load_rate"
echo "targets: PostgreSQL >= 50000 rows/s: $([ "$pg_rate" -ge 50000 ] && echo met || echo NOT met); MariaDB >= 30000 rows/s: $([ "$my_rate" -ge 30000 ] && echo met || echo NOT met)"

# ---- MongoDB: the same topic into FerretDB (scripts/bench_sink_mongo.sh, its own servers; Kafka is still
# up; BENCH_SINK_MONGO=0 skips it) ----
if [ "${BENCH_SINK_MONGO:-1}" != 0 ]; then
  bash "$ROOT/scripts/bench_sink_mongo.sh" "$WORK/worker.properties" bsrc.public.bench "$ROWS" "$BATCH" \
    || echo "bench-sink: the MongoDB run failed (see above)"
fi
