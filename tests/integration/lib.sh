# lib.sh: helpers for integration tests: throwaway PostgreSQL, a real Kafka (or the mock cluster for
# injected faults), walcast, all stopped by an EXIT trap even when the test fails. Source it; call it_init first.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# pid_gone, pid_stop; its free_port is replaced below by one that prints the port
# shellcheck source=scripts/ports.sh
. "$ROOT/scripts/ports.sh"
WALCAST="$ROOT/build/walcast"
PY=/usr/bin/python3
export PATH="/usr/lib/postgresql/15/bin:$PATH"

it_init() {
  IT_DIR=$(mktemp -d /tmp/walcast-it.XXXXXX)
  IT_PIDS=()
  IT_PGDIRS=()
  IT_KAFKADIRS=()
  IT_MYDIRS=()
  trap it_cleanup EXIT
  # a test stopped by a signal (timeout, Ctrl-C) still stops what it started
  trap 'exit 143' TERM
  trap 'exit 130' INT
}

# it_own PID: PID is still one of this test's processes: a child of the test's shell, or a server a script
# started for it and left running (Connect's worker of scripts/connect.sh), whose command line names IT_DIR.
# IT_PIDS keeps the numbers of processes the test stopped and reaped already; on a busy machine (pid_max
# 32768) such a number soon belongs to another process, which it_cleanup must not signal (test_cleanup.sh).
it_own() {
  [ "$(awk '{ sub(/^.*\) /, ""); print $2 }' "/proc/$1/stat" 2>/dev/null)" = "$$" ] ||
    tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$IT_DIR"
}

# it_running PID: PID runs (one that ended and waits to be reaped, a zombie, does not).
it_running() {
  local st
  read -r st 2>/dev/null <"/proc/$1/stat" || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}

it_cleanup() {
  local rc=$? p sent=() until=$(( ${EPOCHREALTIME/./} + 500000 ))
  for p in "${IT_PIDS[@]:-}"; do [ -n "$p" ] && it_own "$p" && kill -INT "$p" 2>/dev/null && sent+=("$p") || true; done
  # up to 0.5 s for them to end (was a fixed 0.5 s in every test, where most had ended within a few ms)
  while [ ${#sent[@]} -gt 0 ] && [ "${EPOCHREALTIME/./}" -lt "$until" ]; do
    for p in "${sent[@]}"; do it_running "$p" && break; p=""; done
    [ -z "$p" ] && break
    sleep 0.01
  done
  for p in "${IT_PIDS[@]:-}"; do [ -n "$p" ] && it_own "$p" && kill -KILL "$p" 2>/dev/null || true; done
  for d in "${IT_PGDIRS[@]:-}"; do [ -n "$d" ] && bash "$ROOT/scripts/pg-stop.sh" "$d"; done
  # a failed test keeps each MariaDB's error log (a server crash prints its query and stack there: one
  # segfaulted in a CI run and nothing of it was kept)
  local i=0
  for d in "${IT_MYDIRS[@]:-}"; do
    [ -n "$d" ] || continue
    i=$((i + 1))
    [ $rc -eq 0 ] || cp "$d/mariadb.log" "$IT_DIR/mariadb$i.log" 2>/dev/null || true
    bash "$ROOT/scripts/mariadb-stop.sh" "$d"
  done
  if [ $rc -ne 0 ]; then
    for d in "${IT_KAFKADIRS[@]:-}"; do [ -n "$d" ] && cp "$d"/node1/kafka.log "$IT_DIR/broker1.log" 2>/dev/null; done
  fi
  for d in "${IT_KAFKADIRS[@]:-}"; do [ -n "$d" ] && bash "$ROOT/scripts/kafka.sh" stop "$d"; done
  # a sanitizer build (make SANITIZE=...) reports into the logs: any report fails the test
  if grep -l "Sanitizer\|runtime error:" "$IT_DIR"/*.log 2>/dev/null; then
    echo "sanitizer report in the logs above" >&2
    grep -h -A12 "Sanitizer\|runtime error:" "$IT_DIR"/*.log | head -40 >&2
    rc=1
  fi
  if [ $rc -ne 0 ] && [ -d "$IT_DIR" ]; then
    echo "--- logs of the failed test ($IT_DIR)" >&2
    # each log's warnings, errors and connector/cluster events (the causes, often long before its end;
    # librdkafka's connection noise left out), then its last lines
    for f in "$IT_DIR"/*.log; do
      [ -f "$f" ] || continue
      echo "== $f" >&2
      { grep -E 'level=(warn|error|fatal)|msg="(connector|cluster|lost)' "$f" | grep -Ev 'facility=(FAIL|ERROR) ' | tail -60 | cut -c1-600 >&2; } || true
      echo "-- last lines of $(basename "$f")" >&2
      tail -20 "$f" >&2
    done
  fi
  [ -n "${IT_SHOW_LOG:-}" ] && cat "$IT_DIR/$IT_SHOW_LOG" >&2
  [ -n "${IT_KEEP:-}" ] && echo "kept $IT_DIR" >&2 || rm -rf "$IT_DIR"
  exit $rc
}

# pg_start: starts a cluster and exports PGHOST/PGPORT/PGUSER for psql.
pg_start() {
  local d
  d=$(bash "$ROOT/scripts/pg-start.sh")
  IT_PGDIRS+=("$d")
  # shellcheck disable=SC1091
  . "$d/env"
  PGDIR=$d
}

psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# pg_wal_writer_slow: wal_writer_delay 10 s (its maximum), reloaded and checked: with synchronous_commit=off a
# change reaches the walsender only when something flushes it, for tests that a wait does not lean on the WAL
# writer's rounds.
pg_wal_writer_slow() {
  psql_q -c "ALTER SYSTEM SET wal_writer_delay = '10s'" -c "SELECT pg_reload_conf()" >/dev/null
  [ "$(psql -X -At -c "SHOW wal_writer_delay")" = 10s ] || { echo "wal_writer_delay not set" >&2; return 1; }
}

# mariadb_start: a throwaway MariaDB (scripts/mariadb-start.sh); sets MYPORT, stopped by the EXIT trap.
mariadb_start() {
  local d
  d=$(bash "$ROOT/scripts/mariadb-start.sh")
  IT_MYDIRS+=("$d")
  MYPORT=$(sed -n 's/^export MYSQL_TCP_PORT=//p' "$d/env")
  MYDIR=$d
}

# my_q SQL...: runs statements on the test MariaDB as root (raw output, no headers).
my_q() { mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -N -B -r "$@"; }

# mongo_start [CLEANUP]: the MongoDB target: WALCAST_TEST_MONGODB_URI when set, else a throwaway FerretDB
# v1.24.2 (scripts/ferretdb.sh, SQLite backend) under IT_DIR, stopped by the EXIT trap (which it takes over,
# keeping the test's exit status for CLEANUP, it_cleanup by default). Sets MURI; FDB_DIR is empty for a
# real MongoDB.
mongo_start() {
  FDB_DIR=""
  # shellcheck disable=SC2064
  trap "rc=\$?; set +e; [ -n \"\$FDB_DIR\" ] && bash \"\$ROOT/scripts/ferretdb.sh\" stop \"\$FDB_DIR\"; (exit \$rc); ${1:-it_cleanup}" EXIT
  if [ -n "${WALCAST_TEST_MONGODB_URI:-}" ]; then
    MURI=$WALCAST_TEST_MONGODB_URI
    return 0
  fi
  chmod 755 "$IT_DIR"
  bash "$ROOT/scripts/ferretdb.sh" start "$IT_DIR/fdb" >"$IT_DIR/fdb.out" 2>"$IT_DIR/ferretdb.log" \
    || { cat "$IT_DIR/ferretdb.log" >&2; return 1; }
  FDB_DIR="$IT_DIR/fdb"
  MURI=$(sed -n 's/^uri=//p' "$IT_DIR/fdb.out")
}

# kafka_start [--partitions N] [--topic T]...: a real Kafka for this test. The suite's broker when
# WALCAST_TEST_BOOTSTRAP is set (tests/integration/run.sh starts one, or point it at your own Kafka),
# else a single-node broker of this test's own (scripts/kafka.sh). Topics an earlier test left on a
# shared broker are deleted first; the named topics are created with N partitions (default 1).
# Sets BS, writes worker.properties.
kafka_start() {
  local parts=1 topics=()
  while [ $# -gt 0 ]; do
    case $1 in
      --partitions) parts=$2; shift 2 ;;
      --topic) topics+=("$2"); shift 2 ;;
      *) echo "kafka_start: unknown option $1 (mock-only options need mock_kafka_start)" >&2; return 1 ;;
    esac
  done
  if [ -n "${WALCAST_TEST_BOOTSTRAP:-}" ]; then
    BS=$WALCAST_TEST_BOOTSTRAP
    "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" reset
  else
    kafka_own_start 1
  fi
  [ ${#topics[@]} -eq 0 ] || "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions "$parts" "${topics[@]}"
  echo "bootstrap.servers=$BS" >"$IT_DIR/worker.properties"
}

# kafka_own_start N: an N-node real Kafka cluster of this test's own (for broker failures); sets BS,
# KAFKA_DIR and KAFKA_PORT_<n>; stopped and removed by the EXIT trap.
kafka_own_start() {
  bash "$ROOT/scripts/kafka.sh" start --brokers "$1" "$IT_DIR/kafka" >"$IT_DIR/kafka.out" 2>"$IT_DIR/kafka.log" \
    || { cat "$IT_DIR/kafka.log" >&2; return 1; }
  IT_KAFKADIRS+=("$IT_DIR/kafka")
  # shellcheck disable=SC1091
  . "$IT_DIR/kafka/env"
  BS=$KAFKA_BS
  echo "bootstrap.servers=$BS" >"$IT_DIR/worker.properties"
}

# mock_kafka_start [--brokers N] [--partitions N] [--control] [--topic T]...: librdkafka's mock cluster
# (build/walcast kafka), only for faults a real broker cannot be made to produce on demand (request
# errors injected per API). It writes no transaction markers and never fences: never use it to prove
# exactly-once. Sets BS, KAFKA_PID.
mock_kafka_start() {
  # (a background command's stdin is /dev/null unless redirected on the command itself)
  "$WALCAST" kafka --partitions 1 "$@" <"${KAFKA_STDIN:-/dev/null}" >"$IT_DIR/kafka.out" 2>"$IT_DIR/kafka.log" &
  IT_PIDS+=($!)
  KAFKA_PID=$!
  for _ in $(seq 1 300); do
    [ -s "$IT_DIR/kafka.out" ] && break
    sleep 0.1
  done
  BS=$(head -1 "$IT_DIR/kafka.out" | sed -n 's/^bootstrap.servers=//p')
  [ -n "$BS" ] || { echo "walcast kafka did not print its bootstrap line" >&2; return 1; }
  echo "bootstrap.servers=$BS" >"$IT_DIR/worker.properties"
}

# wait_published [SLOT] [SECONDS]: waits until walcast has committed to Kafka everything the server
# had written when called: the slot's confirmed_flush_lsn moves only after the Kafka commit of the
# events up to it (and past WAL with nothing to publish), so a read_committed consumer sees them all.
wait_published() {
  local slot=${1:-debezium} secs=${2:-60} target
  # the target is the insert position now, the end of the last WAL record written. The test clusters run
  # synchronous_commit=off and the walsender sends only flushed WAL: pg-flush.sh flushes every record before it
  # at once (test_wait_published.sh). (Its own records are not waited for: when the last record before the
  # target is a published commit, walcast confirms it as soon as Kafka has committed it; a target past the
  # flush needed the idle position, recorded once per status interval, 1 s here.)
  target=$(psql -X -At -c "SELECT pg_current_wal_insert_lsn()")
  bash "$ROOT/scripts/pg-flush.sh"
  for _ in $(seq 1 $((secs * 10))); do
    [ "$(psql -X -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = '$slot'")" = t ] && return 0
    sleep 0.1
  done
  echo "slot $slot did not reach $target within ${secs}s: $(psql -X -At -c "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$slot'")" >&2
  return 1
}

# connector_file NAME [key=value]...: writes a connector .properties for the running cluster.
connector_file() {
  local f="$IT_DIR/$1.properties"; shift
  {
    echo "name=it"
    echo "connector.class=io.debezium.connector.postgresql.PostgresConnector"
    echo "database.hostname=127.0.0.1"
    echo "database.port=$PGPORT"
    echo "database.user=postgres"
    echo "database.dbname=postgres"
    echo "topic.prefix=srv"
    echo "snapshot.mode=no_data"
    # status updates (and so the idle position that wait_published waits for) every second, not 10 s;
    # a test that needs another interval sets it (the later key wins)
    echo "status.update.interval.ms=1000"
    for kv in "$@"; do echo "$kv"; done
  } >"$f"
  echo "$f"
}

# walcast_spawn CONNECTOR_FILE...: runs walcast in the background (WALCAST_PID) and returns at once, for a
# test that waits for something else than "replication started" (a snapshot to be planned, a kill).
# WALCAST_WORKER: its worker file (default IT_DIR/worker.properties).
walcast_spawn() {
  # the log exists before this returns (the background shell opens it only when it is scheduled: a grep
  # of it right after the spawn found no file on a loaded machine)
  : >>"$IT_DIR/walcast.log"
  "$WALCAST" run --worker "${WALCAST_WORKER:-$IT_DIR/worker.properties}" "$@" >"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
}

# kill_streaming N CFG: N SIGKILLs of the walcast started with CFG, each a random 0.1-1 s into a run;
# walcast runs already for the first, and is started again (and waited for until it streams) before each
# of the others.
kill_streaming() {
  local n=$1 cfg=$2 k before
  for k in $(seq 1 "$n"); do
    if [ "$k" -gt 1 ]; then
      before=$(grep -c 'replication started' "$IT_DIR/walcast.log" || true)
      walcast_spawn "$cfg"
      wait_log 'replication started' $((before + 1)) 60
    fi
    sleep "0.$(( (RANDOM % 9) + 1 ))$(( RANDOM % 10 ))"
    kill -KILL "$WALCAST_PID"; wait "$WALCAST_PID" 2>/dev/null || true
  done
}

# rest_worker_start NAME [KEY=VALUE...]: walcast as a REST worker that holds no connector yet (they come by
# POST): a free port (PORT; U is its URL), config.storage.topic it_NAME_configs, status.storage.topic
# it_NAME_status, group.id it_NAME_group and the KEY=VALUE lines added to worker.properties; returns once
# the REST listener is up (60 s bound).
rest_worker_start() {
  local name=$1; shift
  PORT=$(free_port)
  printf '%s\n' "listeners=http://127.0.0.1:$PORT" "config.storage.topic=it_${name}_configs" \
    "status.storage.topic=it_${name}_status" "group.id=it_${name}_group" "$@" >>"$IT_DIR/worker.properties"
  walcast_spawn
  wait_log "REST listener started" 1 60
  U="http://127.0.0.1:$PORT"
}

# rest_req METHOD PATH [BODY]: a request to the REST worker at U (BODY as JSON); prints the HTTP status code,
# the answer's body goes to $IT_DIR/body.
rest_req() { curl -s -o "$IT_DIR/body" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' "$U$2" ${3:+--data-binary "$3"}; }

# rest_json PATH: the value at PATH (keys and list indexes joined by /, e.g. tasks/0/state) in the JSON of the
# last answer's body.
rest_json() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("/"):
    d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$IT_DIR/body" "$1"; }

# walcast_start CONNECTOR_FILE...: runs walcast with these connectors (sources and sinks) in the background
# until WALCAST_SOURCES (1) more "replication started" lines than before are in walcast.log (30 s bound).
walcast_start() {
  local before want=${WALCAST_SOURCES:-1} n
  before=$(grep -c "replication started" "$IT_DIR/walcast.log" 2>/dev/null || true)
  walcast_spawn "$@"
  for _ in $(seq 1 300); do
    n=$(grep -c "replication started" "$IT_DIR/walcast.log" 2>/dev/null || true)
    [ "${n:-0}" -ge $(( ${before:-0} + want )) ] && return 0
    kill -0 $WALCAST_PID 2>/dev/null || { echo "walcast exited early" >&2; tail -40 "$IT_DIR/walcast.log" >&2; return 1; }
    sleep 0.1
  done
  echo "walcast did not start replication ($want source(s)) within 30 s" >&2
  return 1
}

walcast_stop() {
  kill -INT "$WALCAST_PID" 2>/dev/null || true
  pid_gone "$WALCAST_PID" 10 && return 0
  echo "walcast did not stop within 10 s of SIGINT" >&2
  return 1
}

# wait_exit PID SECONDS WHAT: waits (bounded) until PID, a process of the test's shell, ends, and sets
# EXIT_RC to its exit status; fails saying "WHAT still running SECONDS s later" when it does not end.
wait_exit() {
  pid_gone "$1" "$2" || { echo "$3 still running $2 s later" >&2; return 1; }
  EXIT_RC=0
  wait "$1" || EXIT_RC=$?
}

# sink_kill_loop KILLS RESTART PROGRESS...: crash walcast mid-stream KILLS times. Each time it waits
# (bounded, 60 s) until every PROGRESS command (a function printing a number that grows as the sink
# commits, e.g. the sum of the offsets it stored in its target) has grown since the last start, then
# SIGKILLs $WALCAST_PID, reaps it and runs RESTART (which starts walcast again and sets WALCAST_PID).
sink_kill_loop() {
  local kills=$1 restart=$2 k p i grown deadline
  shift 2
  for k in $(seq 1 "$kills"); do
    local before=() now=()
    for p in "$@"; do before+=("$("$p")"); done
    deadline=$((SECONDS + 60))
    while :; do
      grown=1 i=0
      for p in "$@"; do
        [ "$("$p")" -gt "${before[$i]}" ] || grown=0
        i=$((i + 1))
      done
      [ "$grown" = 1 ] && break
      [ $SECONDS -lt $deadline ] || { echo "kill $k: $* did not all grow within 60 s (from ${before[*]})" >&2; return 1; }
      sleep 0.05
    done
    kill -KILL "$WALCAST_PID"
    wait "$WALCAST_PID" 2>/dev/null || true
    for p in "$@"; do now+=("$p=$("$p")"); done
    echo "kill $k at ${now[*]}"
    "$restart"
  done
}

# wait_log PATTERN [COUNT] [SECONDS] [FILE]: waits until FILE (walcast.log) has COUNT (1) lines matching the
# grep regex PATTERN: the event itself, never a sleep in its place.
wait_log() {
  local pat=$1 n=${2:-1} secs=${3:-30} f=${4:-$IT_DIR/walcast.log}
  for _ in $(seq 1 $((secs * 10))); do
    [ "$(grep -c -- "$pat" "$f" 2>/dev/null || true)" -ge "$n" ] && return 0
    sleep 0.1
  done
  echo "no $n line(s) matching '$pat' in $f within ${secs}s" >&2
  return 1
}

# snapshot_no_needless_wakeups [FILE]: the exported snapshot's "snapshot threads" line (FILE: walcast.log) says
# no reader and not the connector thread was woken with nothing to do (a reader for room in another reader's
# chunk, the connector thread for a batch of a chunk it is not sending: with one condition variable for all,
# a snapshot of 2 readers woke them hundreds of times, issue 21). At most 2: POSIX allows spurious wake-ups.
snapshot_no_needless_wakeups() {
  local f=${1:-$IT_DIR/walcast.log} nw
  nw=$(grep 'msg="snapshot threads"' "$f" | tail -1 | sed -n 's/.*needless_wakeups=\([0-9]*\).*/\1/p')
  [ -n "$nw" ] || { echo "no 'snapshot threads' line with needless_wakeups in $f" >&2; return 1; }
  [ "$nw" -le 2 ] || { echo "snapshot threads woken with nothing to do: needless_wakeups=$nw (want <= 2)" >&2; return 1; }
  echo "snapshot: needless_wakeups=$nw"
}

# wait_topic TOPIC N [SECONDS]: waits until TOPIC holds at least N committed records.
wait_topic() {
  "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" count "$1" "$2" "${3:-30}"
}

# expect_ids_once TOPIC N WHAT: the topic (read_committed, walcast stopped) holds keys {"id":1}..{"id":N},
# each exactly once, in that order; prints "N WHAT" when so.
expect_ids_once() {
  kcat -C -b "$BS" -t "$1" -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/ids.txt"
  "$PY" - "$IT_DIR/ids.txt" "$2" "$3" <<'PYEOF'
import json, sys
n = int(sys.argv[2])
ids = [json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip()]
assert ids == list(range(1, n + 1)), f"expected ids 1..{n} once each in order, got {len(ids)}: {ids[:3]}...{ids[-3:]}"
print(n, sys.argv[3])
PYEOF
}

# consume TOPIC...: every record of the topics as kcat JSON lines (topic order as given).
consume() {
  local t
  for t in "$@"; do kcat -C -b "$BS" -t "$t" -e -q -J 2>/dev/null || true; done
}

# golden_check NAME FILE: compares FILE with tests/integration/golden/NAME; UPDATE_GOLDEN=1 rewrites.
golden_check() {
  local g="$ROOT/tests/integration/golden/$1"
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$2" "$g"; echo "updated $g"; return 0; fi
  if ! diff -u "$g" "$2" >"$IT_DIR/golden.diff"; then
    echo "output differs from golden file $g:" >&2
    head -60 "$IT_DIR/golden.diff" >&2
    return 1
  fi
}

# registry_start [fixture args]...: the schema registry fixture; sets SR_URL, SR_PORT, SR_PID. Its state
# file ($IT_DIR/registry.json) survives a registry_stop/registry_start on the same port.
registry_start() {
  # the old port line goes first: the redirect below truncates in the child, and the wait could read the
  # previous fixture's port before that (the TLS restart in test_avro_registry.sh then hung on a dead port)
  rm -f "$IT_DIR/registry.out"
  "$PY" "$ROOT/tests/integration/registry_fixture.py" --state "$IT_DIR/registry.json" --log "$IT_DIR/registry.requests" \
    "$@" >"$IT_DIR/registry.out" 2>>"$IT_DIR/registry.log" &
  SR_PID=$!
  IT_PIDS+=($SR_PID)
  for _ in $(seq 1 50); do
    grep -q '^port=' "$IT_DIR/registry.out" 2>/dev/null && break
    sleep 0.1
  done
  SR_PORT=$(sed -n 's/^port=//p' "$IT_DIR/registry.out")
  [ -n "$SR_PORT" ] || { echo "registry fixture did not start" >&2; cat "$IT_DIR/registry.log" >&2; return 1; }
  SR_URL="http://127.0.0.1:$SR_PORT"
}

registry_stop() {
  kill "$SR_PID" 2>/dev/null || true
  wait "$SR_PID" 2>/dev/null || true
}

# free_port: prints a TCP port nobody listens on right now, below Linux's ephemeral range (scripts/ports.sh:
# a port the kernel hands out, as bind(0) did here, can be taken meanwhile as some client's local end) and
# not handed out before in this test (IT_DIR/ports.taken).
free_port() {
  (
    . "$ROOT/scripts/ports.sh"
    FREE_PORTS_TAKEN=" $(tr '\n' ' ' 2>/dev/null <"$IT_DIR/ports.taken" || true) "
    # (not "p": ports.sh's free_port has a local of that name)
    free_port lib_port && echo "$lib_port" >>"$IT_DIR/ports.taken" && echo "$lib_port"
  )
}

# proxy_start SCRIPT ARGS...: a test proxy in front of this test's PostgreSQL (tests/integration/SCRIPT, e.g.
# slow_proxy.py RATE or corrupt_proxy.py; it gets a free port and PGPORT before ARGS), waited for until it
# listens. Sets PROXY_PORT and PROXY_PID; stopped by the EXIT trap.
proxy_start() {
  local script=$1; shift
  PROXY_PORT=$(free_port)
  $PY "$ROOT/tests/integration/$script" "$PROXY_PORT" "$PGPORT" "$@" >"$IT_DIR/proxy.log" 2>&1 &
  PROXY_PID=$!
  IT_PIDS+=($PROXY_PID)
  for _ in $(seq 1 50); do grep -q ready "$IT_DIR/proxy.log" && return 0; sleep 0.1; done
  echo "$script did not start: $(cat "$IT_DIR/proxy.log")" >&2
  return 1
}

# ---- a change made while a multi-table snapshot is being set up (issue 17), for the sink tests ----
# race_start ROWS_BIG SINK_FILE...: in the test cluster's postgres database, race_big (ROWS_BIG rows) and
# race_small (ids 1..100, v=0) in publication race_pub; walcast runs the source (slot race, topic prefix
# race, snapshot.mode=initial: race_big is read first, then race_small, both from the slot's consistent
# point) and SINK_FILEs (each reading topic race.public.race_small). As soon as the snapshot is planned,
# while race_big is being read, ids 1..50 of race_small are updated to v=1 and 91..100 deleted. Those
# changes come after the consistent point, and their commit time is earlier than the time race_small's
# snapshot rows carry (their table is read afterwards): by the clock they look older than the snapshot
# rows (checked on the topic: when race_big was read too fast for that, the test says so and fails). Waits
# until the source has published everything; the targets are then checked with race_expect.
race_start() {
  local rows=$1 src
  shift
  psql_q <<SQL
CREATE TABLE race_big (id int PRIMARY KEY, pad text);
INSERT INTO race_big SELECT g, 'x' FROM generate_series(1, $rows) g;
CREATE TABLE race_small (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO race_small SELECT g, 0 FROM generate_series(1, 100) g;
CREATE PUBLICATION race_pub FOR TABLE race_big, race_small;
SQL
  "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 race.signal
  RACE_SRC=$(connector_file race "name=race" "topic.prefix=race" "snapshot.mode=initial" "slot.name=race" \
    "publication.name=race_pub" "publication.autocreate.mode=disabled" "table.include.list=public.race_big,public.race_small" \
    "signal.enabled.channels=kafka" "signal.kafka.topic=race.signal" "incremental.snapshot.chunk.size=10")
  "$WALCAST" run --worker "$IT_DIR/worker.properties" "$RACE_SRC" "$@" >"$IT_DIR/race.out" 2>"$IT_DIR/race.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
  wait_log 'msg="snapshot planned" connector=race' 1 60 "$IT_DIR/race.log"
  psql_q -c "BEGIN; UPDATE race_small SET v = 1 WHERE id <= 50; DELETE FROM race_small WHERE id > 90; COMMIT;"
  wait_published race 120
  # the case itself: the changes' commit time is earlier than the time of every race_small snapshot row
  kcat -C -b "$BS" -t race.public.race_small -e -q -X isolation.level=read_committed >"$IT_DIR/race_small.jsonl"
  "$PY" - "$IT_DIR/race_small.jsonl" <<'PYEOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip() and l.strip() != "null"]
ev = [e.get("payload", e) if "schema" in e else e for e in ev]
snap = [e["source"]["ts_us"] for e in ev if e["op"] == "r"]
chg = [e["source"]["ts_us"] for e in ev if e["op"] in "ud"]
assert len(snap) == 100 and len(chg) == 60, (len(snap), len(chg))
assert max(chg) < min(snap), "the changes do not look older than the snapshot rows: the test proves nothing"
print("race: 100 snapshot rows of race_small read after 60 changes committed past the consistent point")
PYEOF
}

# race_incremental DIVERGE SINK_FILE...: after race_start (walcast stopped here and started again with the
# source and SINK_FILEs), DIVERGE (a function of the test) changes its targets behind walcast's back; then an
# incremental snapshot of race_small (Kafka signal, chunks of 10 rows emitted at their high watermarks, with
# source.lsn null: the sinks place them at source.sequence's LSN) runs while race_small is updated. The
# targets are then checked with race_expect: healed, and no streamed change lost to a snapshot row.
race_incremental() {
  local diverge=$1 writer
  shift
  walcast_stop
  "$diverge"
  "$WALCAST" run --worker "$IT_DIR/worker.properties" "$RACE_SRC" "$@" >"$IT_DIR/race2.out" 2>"$IT_DIR/race2.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
  wait_log 'msg="replication started"' 1 60 "$IT_DIR/race2.log"
  (
    for i in $(seq 1 40); do
      echo "UPDATE race_small SET v = v + 1 WHERE id = $(( (i * 7) % 90 + 1 ));"
      sleep 0.02
    done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
  ) &
  writer=$!
  echo 'race|{"type":"execute-snapshot","data":{"data-collections":["public.race_small"],"type":"incremental"}}' \
    | kcat -P -b "$BS" -t race.signal -K '|'
  wait_log 'msg="snapshot completed" connector=race' 1 120 "$IT_DIR/race2.log"
  wait "$writer"
  wait_published race 120
  kcat -C -b "$BS" -t race.public.race_small -e -q -X isolation.level=read_committed >"$IT_DIR/race_small.jsonl"
  "$PY" - "$IT_DIR/race_small.jsonl" <<'PYEOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip() and l.strip() != "null"]
ev = [e.get("payload", e) if "schema" in e else e for e in ev]
inc = [e for e in ev if e["op"] == "r" and e["source"].get("snapshot") == "incremental"]
assert inc and all(e["source"]["lsn"] is None for e in inc), "no incremental snapshot rows with a null lsn"
print("race: %d incremental snapshot rows of race_small (source.lsn null) among 40 updates" % len(inc))
PYEOF
}

# race_expect NAME STATE_COMMAND...: waits (bounded, 60 s) until every target's STATE_COMMAND prints the
# source's race_small as "id=v,..." in id order; names every target that does not.
race_expect() {
  local want got bad=() name cmd deadline=$((SECONDS + 60))
  want=$(psql -X -At -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM race_small")
  while :; do
    bad=()
    for nc in "$@"; do
      name=${nc%%:*} cmd=${nc#*:}
      got=$($cmd 2>/dev/null || true)
      [ "$got" = "$want" ] || bad+=("$name")
    done
    [ ${#bad[@]} -eq 0 ] && break
    [ $SECONDS -lt $deadline ] || break
    sleep 0.3
  done
  for nc in "$@"; do
    name=${nc%%:*} cmd=${nc#*:}
    got=$($cmd 2>/dev/null || true)
    echo "race $name: $(echo "$got" | tr ',' '\n' | grep -c =) rows, sum(v)=$(echo "$got" | tr ',' '\n' | awk -F= '{s+=$2} END {print s+0}')"
  done
  [ ${#bad[@]} -eq 0 ] || { echo "race: targets differ from the source ($(echo "$want" | tr ',' '\n' | grep -c =) rows, sum(v)=$(echo "$want" | tr ',' '\n' | awk -F= '{s+=$2} END {print s+0}')): ${bad[*]}" >&2; return 1; }
}
