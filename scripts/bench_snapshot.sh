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
  -c "INSERT INTO snap SELECT g, g % 1000, 'row number ' || g, timestamptz '2024-01-01' + g * interval '1 s', g / 100.0 FROM generate_series(1, $ROWS) g" \
  -c "VACUUM ANALYZE snap" -c "CREATE PUBLICATION snap_pub FOR TABLE snap"
echo "bench-snapshot: table snap of $ROWS rows ($(q -c "SELECT pg_size_pretty(pg_total_relation_size('snap'))"))"

t0=$(now); psql -X -q -c "COPY (SELECT * FROM snap) TO STDOUT" >/dev/null; t1=$(now)
COPY_RATE=$(calc "%.0f" "$ROWS / ($t1 - $t0)")

run_walcast() {  # threads -> RATE_<threads>, RSS_<threads>
  local th=$1 f="$WORK/w$1.properties"
  printf '%s\n' "name=snapbench$th" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
    "database.dbname=postgres" "topic.prefix=w$th" "slot.name=snapbench$th" "slot.drop.on.stop=true" \
    "publication.name=snap_pub" "publication.autocreate.mode=disabled" "snapshot.mode=initial_only" \
    "snapshot.max.threads=$th" ${BENCH_SNAP_EXTRA:-} >"$f"
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%M %U %S" -o "$WORK/time-$th" "$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$f" \
    >/dev/null 2>"$WORK/walcast-$th.log" || { tail -5 "$WORK/walcast-$th.log" >&2; die "walcast ($th threads) failed"; }
  t1=$(now)
  [ -n "${BENCH_SNAP_VERBOSE:-}" ] && { echo "start $t0 end $t1"; grep -E 'msg="(snapshot|replication slot|walcast|kafka)' "$WORK/walcast-$th.log" | cut -c1-200; } >&2
  grep -q 'msg="snapshot completed".*rows='"$ROWS" "$WORK/walcast-$th.log" || { tail -5 "$WORK/walcast-$th.log" >&2; die "walcast ($th threads) did not snapshot $ROWS rows"; }
  printf -v "RATE_$th" '%s' "$(calc "%.0f" "$ROWS / ($t1 - $t0)")"
  printf -v "RSS_$th" "%s" "$(( $(cut -d" " -f1 "$WORK/time-$th") / 1024 ))"; echo "bench-snapshot: walcast $th thread(s): $(cat "$WORK/time-$th") (peak kB, user s, sys s)"
}
run_walcast 1
run_walcast 2

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
printf '%-44s %12s %9s MB\n' "Debezium 3.6.1 initial snapshot (defaults)" "$DBZ_RATE" "$DBZ_RSS"
echo "1 thread vs COPY:      $(calc "%.2f" "$RATE_1 / $COPY_RATE")x (target >= 0.7: $(verdict "$RATE_1 >= 0.7 * $COPY_RATE"))"
echo "2 threads vs 1 thread: $(calc "%.2f" "$RATE_2 / $RATE_1")x (target >= 1.7 where the machine allows: $(verdict "$RATE_2 >= 1.7 * $RATE_1"))"
if [ "$DBZ_RATE" != "-" ]; then
  echo "1 thread vs Debezium:  $(calc "%.2f" "$RATE_1 / $DBZ_RATE")x (target >= 5: $(verdict "$RATE_1 >= 5 * $DBZ_RATE"))"
fi
echo "peak RSS: $RSS_1 / $RSS_2 MB (target < 100 MB for 10M rows; measured on $ROWS rows)"
echo "bench-snapshot: load average $(cut -d' ' -f1-3 /proc/loadavg)"
