#!/usr/bin/env bash
# bench_lib.sh (sourced by bench.sh, bench_codecs.sh, bench_rest.sh, bench_snapshot.sh): the set-up and
# small tools these benchmarks share. The caller sets ROOT (the repository) and sources it; then:
#   bench_init NAME PREFIX  WORK (a fresh /tmp/walcast-PREFIX.XXXXXX), PIDS, PGD, KDIR empty; die() says
#                           "NAME: ..."; bench_cleanup runs on exit, on SIGTERM and on SIGINT
#   bench_cleanup           stops Debezium (dbz_stop), SIGKILLs and reaps every PID in PIDS that is still its
#                           child, stops Kafka (KDIR) and PostgreSQL (PGD), copies WORK into BENCH_KEEP when
#                           set, removes WORK
#   bench_servers           a throwaway PostgreSQL 15 (PGD; its env sourced: PGPORT, ...) and one Kafka
#                           broker (KDIR, BS, BROKER_PID)
#   bench_registry          tests/integration/registry_fixture.py in the background (in PIDS): SR_URL
#   dbz_start DIR CONNECTOR.properties, dbz_stop
#                           Debezium on a Connect standalone worker with stock JVM options (below); stopped
#                           by bench_cleanup too
#   wait_for BOUND_S WHAT CMD...  polls CMD every 50 ms until it succeeds; dies after BOUND_S seconds
#   now, calc FORMAT EXPR, median N..., q (psql), cpu_of PID (utime+stime in s)
#   wait_flushed SLOT [BOUND_S] [POLL_S]  one server-side loop until SLOT's confirmed_flush_lsn reaches END_LSN (600 s;
#                           polls every POLL_S, 0.01)
# shellcheck source=scripts/ports.sh
. "$ROOT/scripts/ports.sh"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
TCK=$(getconf CLK_TCK)
TOOL="$ROOT/scripts/bench_tool.py"
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/scripts/reference/kafka-pom.xml")
KLIB="$CACHE/kafka-$KAFKA_VERSION/lib"
DBZ_PLUGINS="$CACHE/connect-plugins-3.6.1.Final"   # as scripts/connect.sh fetches it
DBZ_PID=""

bench_init() {
  BENCH_NAME=$1
  WORK=$(mktemp -d "/tmp/walcast-$2.XXXXXX")
  PIDS=()
  PGD=""
  KDIR=""
  trap bench_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
}
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

bench_cleanup() {
  local p
  [ -z "$DBZ_PID" ] || dbz_stop
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && bench_child "$p" && { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; } || true; done
  [ -n "$KDIR" ] && bash "$ROOT/scripts/kafka.sh" stop "$KDIR"
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  if [ -n "${BENCH_KEEP:-}" ]; then mkdir -p "$BENCH_KEEP"; cp -r "$WORK"/. "$BENCH_KEEP"/ 2>/dev/null || true; fi
  rm -rf "$WORK"
}

# bench_child PID: PID is still a child of this shell. PIDS keeps the numbers of processes the benchmark
# has stopped and reaped already; on a busy machine (pid_max 32768) such a number soon belongs to another
# process, which SIGKILL must not reach (one run killed a broker another script was starting).
bench_child() { [ "$(awk '{ sub(/^.*\) /, ""); print $2 }' "/proc/$1/stat" 2>/dev/null)" = "$$" ]; }

bench_servers() {
  PGD=$(bash "$ROOT/scripts/pg-start.sh")
  # shellcheck disable=SC1091
  . "$PGD/env"
  KDIR="$WORK/kafka"
  bash "$ROOT/scripts/kafka.sh" start "$KDIR" >"$WORK/kafka.out"
  BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out")
  BROKER_PID=$(cat "$KDIR/node1/pid")
}

bench_registry() {
  /usr/bin/python3 "$ROOT/tests/integration/registry_fixture.py" >"$WORK/registry.out" 2>"$WORK/registry.log" &
  PIDS+=($!)
  wait_for 10 "registry fixture port" test -s "$WORK/registry.out"
  SR_URL="http://127.0.0.1:$(sed -n 's/^port=//p' "$WORK/registry.out")"
}

wait_for() {
  local bound=$1 what=$2 i; shift 2
  for ((i = 0; i < bound * 20; i++)); do "$@" && return 0; sleep 0.05; done
  die "no $what within ${bound}s"
}
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
# the median; of an even count the mean of the two middle values (the lower one alone favoured the smaller
# figure: a worse rows/s, a better CPU per row), with as many decimals as the inputs have
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1; i = index($1, "."); if (i && length($1) - i > d) d = length($1) - i }
    END { if (!NR) exit; if (NR % 2) print a[(NR + 1) / 2]; else printf "%.*f\n", d, (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# utime+stime of PID in seconds (the fields after the ")" that ends the command name, which may hold spaces)
cpu_of() { awk -v t="$TCK" '{ sub(/^.*\) /, ""); printf "%.4f", ($12 + $13) / t }' "/proc/$1/stat"; }

# ---- Debezium on Connect standalone, stock JVM options --------------------------------------------------
# (not scripts/connect.sh: that one runs C1-only, serial GC and 512 MB for quick tests; a benchmark wants
# what connect-standalone.sh runs with.)
dbz_start() {  # DIR CONNECTOR.properties: starts the worker; sets DBZ_PID and DBZ_REST (the status URL)
  local dir=$1 conn=$2 port name
  mkdir -p "$dir"
  free_port port || die "no free port found"
  name=$(sed -n 's/^name=//p' "$conn")
  cat >"$dir/worker.properties" <<EOF
bootstrap.servers=$BS
offset.storage.file.filename=$dir/offsets
listeners=http://127.0.0.1:$port
plugin.path=$DBZ_PLUGINS
plugin.discovery=service_load
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
connector.client.config.override.policy=All
EOF
  { cat "$ROOT/scripts/reference/log4j2.properties"; cat <<'EOF'
logger.dbz.name = io.debezium
logger.dbz.level = INFO
EOF
} >"$dir/log4j2.properties"
  setsid java -Xms256M -Xmx2G -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true "-Dlog4j2.configurationFile=$dir/log4j2.properties" \
    -cp "$KLIB/*" org.apache.kafka.connect.cli.ConnectStandalone "$dir/worker.properties" "$conn" \
    >"$dir/connect.log" 2>&1 </dev/null &
  DBZ_PID=$!
  DBZ_LOG="$dir/connect.log"
  DBZ_REST="http://127.0.0.1:$port/connectors/$name/status"
}
dbz_stop() {  # SIGTERM (Connect's shutdown hook), killed after 30 s
  pid_stop "$DBZ_PID" 30
  wait "$DBZ_PID" 2>/dev/null || true
  DBZ_PID=""
}

wait_flushed() {
  local bound=${2:-600}
  q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
          WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$1') LOOP
            IF clock_timestamp() - t0 > interval '$bound s' THEN RAISE EXCEPTION 'slot $1 not confirmed to $END_LSN within $bound s'; END IF;
            PERFORM pg_sleep(${3:-0.01});
          END LOOP; END \$\$"
}
