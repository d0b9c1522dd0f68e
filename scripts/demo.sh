#!/usr/bin/env bash
# demo.sh: the main job (`make demo`): the whole pipeline on this machine. A throwaway PostgreSQL with a
# sample shop (scripts/demo/schema.sql) and a writer (scripts/demo/writes.sql, once a second), a standalone
# embedded Kafka (build/walcast kafka: librdkafka's mock cluster), walcast snapshotting the sample data
# then streaming it, and walcast's apply workers (two JDBC sink connectors) keeping a second PostgreSQL
# and a MariaDB equal to the source.
#
# The screen: a header (what runs where), the snapshot (tables, rows), one line a change event (time,
# topic, op, key: scripts/demo/events.py over kcat), and every DEMO_STATUS_SECONDS (5) a status block:
# rows per table in the source and in each target, records each target applied and its end-to-end lag
# (walcast's "sink progress" line: source commit to applied, of the newest change applied).
#
# Runs until Ctrl-C (SIGINT) or for DEMO_SECONDS. Then it stops the writer, waits up to
# DEMO_CATCHUP_SECONDS (30) for the targets and says whether each target's rows equal the source's
# (ordered dumps of every table, one text form per column); exit code 0 when they do. SIGTERM and SIGHUP
# skip the check. Every exit (those signals, a failed step, a process of the demo dying) stops every
# process it started and removes its one folder; a second Ctrl-C during the check skips to that.
#   DEMO_MANIFEST=FILE  appends "dir PATH" and "pid PID NAME" lines for what it starts (tests read it)
#   DEMO_WALCAST=PATH   the walcast binary (default build/walcast)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
WALCAST=${DEMO_WALCAST:-$ROOT/build/walcast}
STATUS_SECONDS=${DEMO_STATUS_SECONDS:-5}
CATCHUP_SECONDS=${DEMO_CATCHUP_SECONDS:-30}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
TOPICS=(demo.public.customers demo.public.orders)

REASON=""        # why it ends: INT, TERM, HUP, PIPE, time, or empty (a failed step)
STREAMING=0      # the snapshot is done and the writer runs: the check makes sense
HURRY=0          # a signal during the check: skip to the cleanup
PIDS=()          # the demo's own processes, in start order
NAMES=()
WATCH=()         # "PID NAME" of the servers: not children of the demo, but one ending is a failure too
SERVERS=()       # "pg DIR" / "mariadb DIR", stopped by their stop scripts
WRITER_PID=""
WALCAST_PID=""
WORK=""
manifest() { [ -z "${DEMO_MANIFEST:-}" ] || echo "$*" >>"$DEMO_MANIFEST"; }

say() { echo "demo: $*" || true; }

# started PID NAME: a process of the demo's own, stopped by the cleanup
started() {
  PIDS+=("$1")
  NAMES+=("$2")
  manifest "pid $1 $2"
}

# server_pids KIND DIR: a server started by scripts/pg-start.sh or mariadb-start.sh; its pids into the manifest
server_pids() {
  local kind=$1 dir=$2
  if [ "$kind" = pg ]; then
    [ -f "$dir/data/postmaster.pid" ] && WATCH+=("$(head -1 "$dir/data/postmaster.pid") postgres:${dir##*/}")
  else
    local f
    for f in "$dir/launcher.pid" "$dir/mysqld.pid"; do [ -f "$f" ] && WATCH+=("$(cat "$f") mariadb:${dir##*/}"); done
  fi
  manifest "pid ${WATCH[-1]}"
  [ "$kind" = pg ] || manifest "pid ${WATCH[-2]}"
  return 0
}

stop_processes() {
  local i p alive
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do kill -TERM "${PIDS[$i]}" 2>/dev/null; done
  for _ in $(seq 1 50); do
    alive=0
    for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  PIDS=()
}

stop_servers() {
  local s stoppers=()
  for s in "${SERVERS[@]}"; do
    case $s in
      pg\ *) bash "$ROOT/scripts/pg-stop.sh" "${s#pg }" >/dev/null 2>&1 & ;;
      mariadb\ *) bash "$ROOT/scripts/mariadb-stop.sh" "${s#mariadb }" >/dev/null 2>&1 & ;;
    esac
    stoppers+=($!)
  done
  for s in "${stoppers[@]}"; do wait "$s"; done
  SERVERS=()
}

# dump DB: every table of the shop in key order, one text form per column whatever the database
# (timestamps in UTC with microseconds, NULL as \N), so the source and each target compare byte for byte.
SQL_PG_CUSTOMERS="SELECT id, name, coalesce(email, '\\N'), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM customers ORDER BY id"
SQL_PG_ORDERS="SELECT id, customer_id, total, status, to_char(placed_at, 'YYYY-MM-DD HH24:MI:SS.US') FROM orders ORDER BY id"
SQL_MY_CUSTOMERS="SELECT id, name, coalesce(email, '\\\\N'), DATE_FORMAT(created_at, '%Y-%m-%d %H:%i:%s.%f') FROM customers ORDER BY id"
SQL_MY_ORDERS="SELECT id, customer_id, total, status, DATE_FORMAT(placed_at, '%Y-%m-%d %H:%i:%s.%f') FROM orders ORDER BY id"
pg_q() { psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres -c "$2"; }
my_q() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -N -B -r demo -e "SET time_zone = '+00:00'; $1" | tr '\t' '|'; }
dump() {
  case $1 in
    source) echo "# customers"; pg_q "$PGPORT" "$SQL_PG_CUSTOMERS"; echo "# orders"; pg_q "$PGPORT" "$SQL_PG_ORDERS" ;;
    postgres) echo "# customers"; pg_q "$TPORT" "$SQL_PG_CUSTOMERS"; echo "# orders"; pg_q "$TPORT" "$SQL_PG_ORDERS" ;;
    mariadb) echo "# customers"; my_q "$SQL_MY_CUSTOMERS"; echo "# orders"; my_q "$SQL_MY_ORDERS" ;;
  esac
}

# check: the writer stopped, waits (bounded) until each target's dump equals the source's; one line each
check() {
  local t deadline equal=0 all=1
  declare -A label=([postgres]="PostgreSQL target" [mariadb]="MariaDB target")
  dump source >"$WORK/source.dump" 2>"$WORK/check.err" || { say "check: cannot read the source: $(head -1 "$WORK/check.err")"; return 1; }
  deadline=$(( $(date +%s) + CATCHUP_SECONDS ))
  for t in postgres mariadb; do
    equal=0
    while :; do
      if dump "$t" >"$WORK/$t.dump" 2>"$WORK/check.err" && cmp -s "$WORK/source.dump" "$WORK/$t.dump"; then equal=1; break; fi
      [ "$HURRY" -eq 0 ] && [ "$(date +%s)" -lt "$deadline" ] && kill -0 "$WALCAST_PID" 2>/dev/null || break
      sleep 0.2
    done
    if [ $equal -eq 1 ]; then
      say "check: ${label[$t]}: equal to the source ($(grep -c '^[0-9]' "$WORK/source.dump") rows: $(rows_line "$WORK/source.dump"))"
    else
      all=0
      [ "$HURRY" -eq 1 ] && { say "check: ${label[$t]}: not compared (stopped)"; continue; }
      say "check: ${label[$t]}: NOT equal to the source after ${CATCHUP_SECONDS}s; the first differences (< source, > target):"
      diff "$WORK/source.dump" "$WORK/$t.dump" 2>&1 | grep '^[<>]' | head -8 | sed 's/^/    /' || true
      [ -s "$WORK/check.err" ] && sed 's/^/    /' "$WORK/check.err" | head -3
    fi
  done
  [ $all -eq 1 ]
}

# rows_line DUMPFILE: "customers 52, orders 230"
rows_line() {
  awk '/^# /{t=$2; n[t]=0; o[++k]=t; next} {n[t]++} END{for(i=1;i<=k;i++) printf "%s%s %d", (i>1?", ":""), o[i], n[o[i]]}' "$1"
}

finish() {
  local rc=$? t0 ok=1
  set +e
  trap '' PIPE                     # a reader gone (tee ended by the same Ctrl-C) must not end the cleanup
  trap 'HURRY=1' INT TERM HUP
  [ -z "$REASON" ] && [ $rc -ne 0 ] && REASON=failure
  echo
  case $REASON in
    INT|time)
      if [ "$STREAMING" -eq 1 ]; then
        say "stopping the writer; waiting up to ${CATCHUP_SECONDS}s for the targets to catch up (Ctrl-C again to skip)"
        if [ -n "$WRITER_PID" ]; then
          kill -TERM "$WRITER_PID" 2>/dev/null
          for _ in $(seq 1 50); do kill -0 "$WRITER_PID" 2>/dev/null || break; sleep 0.1; done
        fi
        check || ok=0
      fi ;;
    failure) say "stopping after a failure (exit code $rc); the last lines of its logs:"
      [ -n "$WORK" ] && for f in "$WORK"/*.log; do [ -s "$f" ] && { echo "== $(basename "$f")"; tail -5 "$f"; }; done 2>/dev/null ;;
    *) say "SIG$REASON: stopping without the check" ;;
  esac
  trap '' INT TERM HUP             # nothing cuts the cleanup short
  t0=$(date +%s%N)
  stop_processes
  stop_servers
  [ -n "$WORK" ] && rm -rf "$WORK"
  say "stopped what it started and removed $WORK in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  case $REASON in
    INT|time) [ $ok -eq 1 ] && [ "$STREAMING" -eq 1 ] && exit 0; exit 1 ;;
    TERM) exit 143 ;;
    HUP) exit 129 ;;
    PIPE) exit 141 ;;
    *) exit $(( rc == 0 ? 1 : rc )) ;;
  esac
}

# wait_for WHAT SECONDS PID TEST...: until the test command succeeds, while PID lives; a clear error if not
wait_for() {
  local what=$1 secs=$2 pid=$3
  shift 3
  for _ in $(seq 1 $((secs * 10))); do
    "$@" && return 0
    kill -0 "$pid" 2>/dev/null || { say "$what: the process ended"; return 1; }
    sleep 0.1
  done
  say "$what: not within ${secs}s"
  return 1
}

trap finish EXIT
for s in INT TERM HUP PIPE; do trap "REASON=$s; exit 1" $s; done
WORK=$(mktemp -d /tmp/walcast-demo.XXXXXX)
manifest "dir $WORK"
chmod 755 "$WORK"   # the servers run as an unprivileged user under it when the demo runs as root

say "starting PostgreSQL (source), PostgreSQL and MariaDB (targets), Kafka, walcast: a few seconds"
SERVERS+=("pg $WORK/pg-source")
bash "$ROOT/scripts/pg-start.sh" "$WORK/pg-source" >/dev/null
server_pids pg "$WORK/pg-source"
PGPORT=$(sed -n 's/^export PGPORT=//p' "$WORK/pg-source/env")
pg_q "$PGPORT" "$(cat "$ROOT/scripts/demo/schema.sql")" >/dev/null

SERVERS+=("pg $WORK/pg-target")
bash "$ROOT/scripts/pg-start.sh" "$WORK/pg-target" >/dev/null
server_pids pg "$WORK/pg-target"
TPORT=$(sed -n 's/^export PGPORT=//p' "$WORK/pg-target/env")

SERVERS+=("mariadb $WORK/mariadb")
bash "$ROOT/scripts/mariadb-start.sh" "$WORK/mariadb" >/dev/null
server_pids mariadb "$WORK/mariadb"
MYPORT=$(sed -n 's/^export MYSQL_TCP_PORT=//p' "$WORK/mariadb/env")
mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -e "CREATE DATABASE demo"

# The demo's processes run in sessions of their own (setsid): a terminal's Ctrl-C or hangup reaches only
# this script, which stops the writer first, checks the targets, then stops them in order.
[ -x "$WALCAST" ] || { say "walcast binary $WALCAST not found or not executable (make builds it)"; exit 1; }
setsid "$WALCAST" kafka --partitions 1 --topic "${TOPICS[0]}" --topic "${TOPICS[1]}" \
  </dev/null >"$WORK/kafka.out" 2>"$WORK/kafka.log" &
started $! kafka
wait_for "the embedded Kafka's bootstrap line" 30 $! grep -q '^bootstrap.servers=' "$WORK/kafka.out"
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out" | head -1)
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"

cat >"$WORK/connector.json" <<JSON
{
  "name": "demo-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1",
    "database.port": "$PGPORT",
    "database.user": "postgres",
    "database.dbname": "postgres",
    "topic.prefix": "demo",
    "table.include.list": "public.customers,public.orders",
    "snapshot.mode": "initial"
  }
}
JSON
# the apply workers: Debezium JDBC sink connector configurations, one a target
sink_common="connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
topics=${TOPICS[0]},${TOPICS[1]}
insert.mode=upsert
delete.enabled=true
primary.key.mode=record_key
schema.evolution=basic
collection.name.format=\${source.table}"
{ echo "name=demo-postgres-sink"; echo "$sink_common"
  echo "connection.url=jdbc:postgresql://127.0.0.1:$TPORT/postgres"; echo "connection.username=postgres"; } >"$WORK/pg-sink.properties"
{ echo "name=demo-mariadb-sink"; echo "$sink_common"
  echo "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/demo"; echo "connection.username=root"; } >"$WORK/mariadb-sink.properties"

setsid "$WALCAST" run --worker "$WORK/worker.properties" "$WORK/connector.json" "$WORK/pg-sink.properties" \
  "$WORK/mariadb-sink.properties" </dev/null >/dev/null 2>"$WORK/walcast.log" &
WALCAST_PID=$!
started $! walcast
wait_for "walcast's snapshot" 60 "$WALCAST_PID" grep -q 'msg="snapshot completed"' "$WORK/walcast.log"
wait_for "walcast's replication" 30 "$WALCAST_PID" grep -q 'msg="replication started"' "$WORK/walcast.log"

cat <<EOF

  walcast demo: all on this machine, under $WORK, removed on exit
  source   PostgreSQL 15  127.0.0.1:$PGPORT  sample shop (customers, orders), a writer once a second
  Kafka    build/walcast kafka: librdkafka's mock cluster, in memory  $BS
  walcast  run: demo-connector -> ${TOPICS[0]}, ${TOPICS[1]} (JSON with schemas)
           sinks demo-postgres-sink, demo-mariadb-sink; its log: walcast.log in that folder
  targets  PostgreSQL 15  127.0.0.1:$TPORT    MariaDB  127.0.0.1:$MYPORT (database demo)
  Lines: time, topic, op (c create, u update, d delete, r snapshot read), key. Ctrl-C stops.

EOF
# the snapshot as walcast read it
tables=$(grep 'msg="snapshot of table finished"' "$WORK/walcast.log" |
  sed -n 's/.* table=\([^ ]*\) rows=\([0-9]*\) .*/\1 \2 rows/p' | paste -sd ',' | sed 's/,/, /g' || true)
total=$(sed -n 's/.*msg="snapshot completed".* tables=\([0-9]*\) .* rows=\([0-9]*\) .*/\1 tables, \2 rows/p' "$WORK/walcast.log" | head -1)
say "snapshot: $total ($tables)"
say "the events in Kafka: the snapshot's (op r) summed up, then one line a change"

# the events: one kcat a topic into a file, events.py turns them into lines
for t in "${TOPICS[@]}"; do
  setsid kcat -C -b "$BS" -t "$t" -o beginning -u -q -f '%t\t%k\t%s\n' </dev/null >"$WORK/events.$t" 2>"$WORK/kcat.$t.log" &
  started $! "kcat:$t"
done
setsid "$PY" -u "$ROOT/scripts/demo/events.py" "${TOPICS[@]/#/$WORK/events.}" </dev/null &
started $! events.py

# the writer: a step of writes.sql a second; on SIGTERM it ends after the step it is in
setsid bash -c 'trap "exit 0" TERM; i=0; while :; do i=$((i + 1)); psql -X -q -v ON_ERROR_STOP=1 -v i=$i -h 127.0.0.1 -p "$1" -U postgres -d postgres -f "$2" >/dev/null || exit 1; sleep 1; done' \
  writer "$PGPORT" "$ROOT/scripts/demo/writes.sql" </dev/null 2>"$WORK/writer.log" &
WRITER_PID=$!
started $! writer
STREAMING=1

# progress SINK: the numbers of walcast's latest "sink progress" line of that sink (one every 5 s)
progress() {
  local line
  line=$(grep "msg=\"sink progress\" connector=$1 " "$WORK/walcast.log" | tail -1 || true)
  [ -n "$line" ] || { echo "applied -, lag - (no progress line yet)"; return 0; }
  echo "$line" | sed -n 's/.* applied=\([0-9]*\) .* records_behind_at_most=\([0-9]*\) last_change_lag_ms=\([0-9]*\).*/applied \1, lag \3 ms, waiting <= \2/p'
}

# status: rows per table in the source and in each target; each target's sink progress
status() {
  local src pgt myt
  src=$( { dump source | rows_line /dev/stdin; } 2>/dev/null || echo '?')
  pgt=$( { dump postgres | rows_line /dev/stdin; } 2>/dev/null || echo '?')
  myt=$( { dump mariadb | rows_line /dev/stdin; } 2>/dev/null || echo '?')
  printf '%s\n' "-- status $(date +%H:%M:%S): rows; records applied; lag: source commit -> applied" \
    "   source             $src" \
    "   PostgreSQL target  $pgt; $(progress demo-postgres-sink)" \
    "   MariaDB target     $myt; $(progress demo-mariadb-sink)" || true
}

# until DEMO_SECONDS or a signal: a status block every STATUS_SECONDS; a process of the demo that ends is a failure
next_status=$(( $(date +%s) + STATUS_SECONDS ))
end=""
[ -n "${DEMO_SECONDS:-}" ] && end=$(( $(date +%s) + DEMO_SECONDS ))
while :; do
  for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null && continue
    say "${NAMES[$i]} (pid ${PIDS[$i]}) ended unexpectedly"
    exit 1
  done
  for w in "${WATCH[@]}"; do
    kill -0 "${w%% *}" 2>/dev/null && continue
    say "${w#* } (pid ${w%% *}) ended unexpectedly"
    exit 1
  done
  now=$(date +%s)
  if [ "$now" -ge "$next_status" ]; then status; next_status=$((now + STATUS_SECONDS)); fi
  if [ -n "$end" ] && [ "$now" -ge "$end" ]; then REASON=time; status; exit 0; fi
  sleep 0.5
done
