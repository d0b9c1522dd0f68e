#!/usr/bin/env bash
# test_demo.sh: `make demo`'s script (scripts/demo.sh; it brings its own embedded Kafka, not the suite's).
# (a) A bounded run (DEMO_SECONDS): the screen has the snapshot summary, compact event lines (time, topic,
#     op, key) of every op, status blocks with each target's rows, records applied and lag, lines that fit
#     100 columns, the check saying both targets equal the source; exit code 0.
# (b) Stopped once it streams: SIGINT, SIGTERM, SIGHUP to its process; SIGINT and SIGHUP to its process
#     group (a terminal's Ctrl-C, a terminal closed); SIGINT to the group of `bash -c 'demo | tee FILE'`
#     (tee dies first, so the demo writes into a broken pipe); and SIGINT to its group while it starts
#     its servers. Each time, within a bound, every process the demo started has ended and its folder is
#     gone: the manifest it writes (DEMO_MANIFEST) lists them, and no process left names the folder.
# (c) Failures: a step failing after the three servers are up (DEMO_WALCAST, a walcast that does not
#     exist), and a process of the demo dying while it streams (walcast, SIGKILLed): the demo says what
#     ended, exits non-zero and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
it_init
DEMO="$ROOT/scripts/demo.sh"
DEMOS=()      # manifests of demos started here: whatever a failed check leaves is removed by the trap
trap 'rc=$?; set +e; for m in "${DEMOS[@]:-}"; do [ -n "$m" ] && reap "$m"; done; (exit $rc); it_cleanup' EXIT

# reap MANIFEST: removes what a demo left (only on failure; a passing test finds nothing): its servers
# through their stop scripts, its processes, its folder.
reap() {
  local m=$1 d p
  [ -f "$m" ] || return 0
  for d in $(awk '$1 == "dir" {print $2}' "$m"); do
    [ -d "$d" ] || continue
    for p in "$d"/pg-*; do [ -d "$p" ] && bash "$ROOT/scripts/pg-stop.sh" "$p"; done
    [ -d "$d/mariadb" ] && bash "$ROOT/scripts/mariadb-stop.sh" "$d/mariadb"
  done
  for p in $(awk '$1 == "pid" {print $2}' "$m"); do kill -KILL "$p" 2>/dev/null; done
  for d in $(awk '$1 == "dir" {print $2}' "$m"); do rm -rf "$d"; done
}

# demo_start NAME [bash -c PIPELINE]: the demo in a session of its own (as a terminal would run it: its
# process group leader is DEMO_PID), SIGINT not ignored (a background job of a script ignores it).
# Sets DEMO_PID, OUT (what it printed), MAN (its manifest).
demo_start() {
  local name=$1
  shift
  OUT="$IT_DIR/$name.out"
  MAN="$IT_DIR/$name.manifest"
  DEMOS+=("$MAN")
  if [ $# -eq 0 ]; then set -- bash "$DEMO"; fi
  DEMO_MANIFEST=$MAN setsid env --default-signal=INT,QUIT "$@" >"$OUT" 2>&1 </dev/null &
  DEMO_PID=$!
}

# wait_line FILE REGEX SECONDS: until a line of FILE matches (the demo streams), while the demo lives
wait_line() {
  for _ in $(seq 1 $(($3 * 10))); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    kill -0 "$DEMO_PID" 2>/dev/null || { echo "the demo ended before a line matching $2:" >&2; cat "$1" >&2; return 1; }
    sleep 0.1
  done
  echo "no line matching $2 in $1 within $3 s:" >&2
  cat "$1" >&2
  return 1
}

# wait_gone SECONDS: until the demo's process has ended; sets DEMO_RC and GONE_MS
wait_gone() {
  local t0
  t0=$(date +%s%N)
  for _ in $(seq 1 $(($1 * 10))); do
    if ! kill -0 "$DEMO_PID" 2>/dev/null; then
      DEMO_RC=0
      wait "$DEMO_PID" || DEMO_RC=$?
      GONE_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
      return 0
    fi
    sleep 0.1
  done
  echo "the demo (pid $DEMO_PID) has not ended within $1 s:" >&2
  cat "$OUT" >&2
  return 1
}

# leftovers: what of the manifest is still there: a pid whose command line is still the one the demo
# started (a pid reused by someone else is not), the folder, any process naming the folder
leftovers() {
  local kind p name c want q
  while read -r kind p name; do
    case $kind in
      pid)
        c=$( { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) || continue
        case $name in
          kafka|walcast) want=walcast ;; kcat:*) want=kcat ;; events.py) want=events.py ;; writer) want=writes.sql ;;
          postgres:*) want=postgres ;; mariadb:*) want=mariadbd ;; *) want=$name ;;
        esac
        case $c in *"$want"*) echo "process $p ($name): $c" ;; esac ;;
      dir)
        [ -e "$p" ] && echo "folder $p: $(ls "$p" | tr '\n' ' ')"
        for q in /proc/[0-9]*; do
          grep -qaF -- "$p" "$q/cmdline" 2>/dev/null && echo "process ${q#/proc/} names $p: $(tr '\0' ' ' <"$q/cmdline")"
        done ;;
    esac
  done <"$MAN"
  return 0
}

# nothing_left WHAT: nothing of the manifest is left (a moment allowed for init to reap the servers)
nothing_left() {
  local what=$1 left
  [ -s "$MAN" ] || { echo "$what: the demo wrote no manifest" >&2; return 1; }
  grep -q '^dir ' "$MAN" || { echo "$what: the manifest names no folder:" >&2; cat "$MAN" >&2; return 1; }
  for _ in $(seq 1 30); do
    left=$(leftovers)
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    echo "$what: left behind:" >&2
    echo "$left" >&2
    echo "--- its output" >&2
    cat "$OUT" >&2
    return 1
  fi
  echo "$what: gone in ${GONE_MS} ms (exit code $DEMO_RC): its $(grep -c '^pid ' "$MAN") processes, its folder"
}

STREAMING='^[0-9]{2}:[0-9]{2}:[0-9]{2}  demo\.public\.orders +[cud]  id=[0-9]+$'

# ---- (a) a bounded run
demo_start bounded env DEMO_SECONDS=12 DEMO_STATUS_SECONDS=3 bash "$DEMO"
wait_gone 150
nothing_left "bounded run"
[ "$DEMO_RC" -eq 0 ] || { cat "$OUT"; echo "the bounded run exited with $DEMO_RC" >&2; exit 1; }
need() {
  local n
  n=$(grep -Ec -- "$1" "$OUT" || true)
  [ "$n" -ge "${2:-1}" ] || { cat "$OUT"; echo "bounded run: fewer than ${2:-1} lines matching: $1" >&2; exit 1; }
}
need '^demo: snapshot: 2 tables, 250 rows \(public\.customers 50 rows, public\.orders 200 rows\)'
need '^snapshot  demo\.public\.customers +r  50 rows \(id=1 … id=50\)$'
need '^snapshot  demo\.public\.orders +r  200 rows \(id=1 … id=200\)$'
need '^[0-9:]{8}  demo\.public\.orders +c  id=[0-9]+$' 5
need '^[0-9:]{8}  demo\.public\.orders +u  id=[0-9]+$' 5
need '^[0-9:]{8}  demo\.public\.orders +d  id=[0-9]+$'
need '^[0-9:]{8}  demo\.public\.customers +c  id=[0-9]+$'
need '^[0-9:]{8}  demo\.public\.customers +u  id=[0-9]+$'
need '^-- status [0-9:]{8}: ' 2
need '^   source +customers [0-9]+, orders [0-9]+$' 2
need '^   PostgreSQL target +customers [0-9]+, orders [0-9]+; applied [0-9]+, lag [0-9]+ ms, waiting <= [0-9]+$'
need '^   MariaDB target +customers [0-9]+, orders [0-9]+; applied [0-9]+, lag [0-9]+ ms, waiting <= [0-9]+$'
need '^demo: check: PostgreSQL target: equal to the source \([0-9]+ rows: customers [0-9]+, orders [0-9]+\)$'
need '^demo: check: MariaDB target: equal to the source \([0-9]+ rows: customers [0-9]+, orders [0-9]+\)$'
need '^demo: stopped what it started and removed /tmp/walcast-demo\.[A-Za-z0-9]+ in [0-9]+ ms$'
# no raw JSON, no log lines on the screen; every line fits 100 columns
! grep -Eq '"schema"|level=info' "$OUT" || { cat "$OUT"; echo "bounded run: raw JSON or log lines on the screen" >&2; exit 1; }
wide=$(awk 'length($0) > 100' "$OUT")
[ -z "$wide" ] || { echo "bounded run: lines wider than 100 columns:" >&2; echo "$wide" >&2; exit 1; }
echo "bounded run: $(grep -Ec '^[0-9:]{8}  demo' "$OUT") event lines, $(grep -c '^-- status' "$OUT") status blocks, both targets equal"
grep -E '^   (PostgreSQL|MariaDB) target' "$OUT" | tail -2

# ---- (b) signals once it streams
for sig in INT TERM HUP; do
  demo_start "sig-$sig"
  wait_line "$OUT" "$STREAMING" 90
  kill -"$sig" "$DEMO_PID"
  wait_gone 60
  nothing_left "SIG$sig to the demo"
  case $sig in
    INT) [ "$DEMO_RC" -eq 0 ] && grep -q '^demo: check: MariaDB target: equal' "$OUT" \
           || { cat "$OUT"; echo "SIGINT: the check did not say equal (exit code $DEMO_RC)" >&2; exit 1; } ;;
    TERM) [ "$DEMO_RC" -eq 143 ] || { cat "$OUT"; echo "SIGTERM: exit code $DEMO_RC, not 143" >&2; exit 1; } ;;
    HUP) [ "$DEMO_RC" -eq 129 ] || { cat "$OUT"; echo "SIGHUP: exit code $DEMO_RC, not 129" >&2; exit 1; } ;;
  esac
done

# a terminal's Ctrl-C (SIGINT) and hangup (SIGHUP): to every process of the foreground process group
for sig in INT HUP; do
  demo_start "group-$sig"
  wait_line "$OUT" "$STREAMING" 90
  kill -"$sig" -- -"$DEMO_PID"
  wait_gone 60
  nothing_left "SIG$sig to the demo's process group"
  [ $sig = HUP ] || grep -q '^demo: check: PostgreSQL target: equal' "$OUT" || { cat "$OUT"; echo "group SIGINT: no check" >&2; exit 1; }
done

# Ctrl-C inside `bash -c 'demo | tee FILE'`: tee ends at once, the demo's next write meets a broken pipe
TEE="$IT_DIR/tee.out"
demo_start tee bash -c 'bash "$1" | tee "$2" >/dev/null' tee "$DEMO" "$TEE"
wait_line "$TEE" "$STREAMING" 90
kill -INT -- -"$DEMO_PID"
wait_gone 60
nothing_left "SIGINT to the group of bash -c 'demo | tee'"

# Ctrl-C while it starts: the source PostgreSQL is up, the target PostgreSQL on its way
demo_start starting
wait_line "$MAN" ' postgres:pg-source$' 60
kill -INT -- -"$DEMO_PID"
wait_gone 60
nothing_left "SIGINT to the group while it starts"

# ---- (c) failures
# a step failing once the servers are up: a walcast binary that is not there
demo_start failed-step env DEMO_WALCAST="$IT_DIR/no-such-walcast" bash "$DEMO"
wait_gone 90
nothing_left "a failed step"
[ "$DEMO_RC" -ne 0 ] && grep -q "walcast binary $IT_DIR/no-such-walcast not found" "$OUT" \
  || { cat "$OUT"; echo "failed step: exit code $DEMO_RC, or no word of what failed" >&2; exit 1; }
grep -q '^pid .* mariadb:' "$MAN" || { cat "$MAN"; echo "failed step: the servers were not up when it failed" >&2; exit 1; }

# a process of the demo dying while it streams
demo_start died
wait_line "$OUT" "$STREAMING" 90
kill -KILL "$(awk '$1 == "pid" && $3 == "walcast" {print $2}' "$MAN")"
wait_gone 60
nothing_left "walcast dying"
[ "$DEMO_RC" -ne 0 ] && grep -Eq '^demo: walcast \(pid [0-9]+\) ended unexpectedly' "$OUT" \
  || { cat "$OUT"; echo "walcast dying: exit code $DEMO_RC, or no word of what ended" >&2; exit 1; }
echo "test_demo: ok"
