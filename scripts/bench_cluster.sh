#!/usr/bin/env bash
# bench_cluster.sh (`make bench`): takeover time of a connector when the worker running it dies. N workers
# (BENCH_CLUSTER_WORKERS, 3) with one group.id on a 3-node Kafka (BENCH_CLUSTER_BROKERS) run one Debezium
# PostgreSQL connector (tasks.max=1); the worker running its task gets SIGKILL; measured from the kill:
#   run   until a live worker's REST status says the task is RUNNING on another worker
#   data  until a row inserted right after the kill is in the topic (read_committed consumer)
#   takeover = the later of the two: the connector works again
# then the killed worker is started again (fresh, new REST port), the group settles, the next kill.
# Reference: Kafka Connect 4.4 distributed (scripts/connect.sh) with Debezium 3.6.1, with Connect's
# default scheduled.rebalance.max.delay.ms (300000: a lost task waits up to 5 min for its worker to come
# back, so each kill of a worker other than the group's leader takes ~5 min: BENCH_CLUSTER_KILLS_DEFAULT
# such kills, default 2; a dead leader's task moves at once, see series) and with 0
# (BENCH_CLUSTER_KILLS, default 10). walcast: the same code path, workers `build/walcast run --worker`
# with one group.id, once walcast has a cluster mode (the binary knows its key walcast.cluster.enable);
# until then "walcast cluster mode: not available".
# Environment: BENCH_CLUSTER_KILLS (10), BENCH_CLUSTER_KILLS_DEFAULT (2; 0 skips the default-delay runs),
# BENCH_CLUSTER_WORKERS (3), BENCH_CLUSTER_BROKERS (3), BENCH_CLUSTER_ONLY (connect|walcast: one side only),
# BENCH_CLUSTER_BOUND (seconds one takeover may take before the run fails, 900),
# BENCH_WALCAST_CLUSTER_PROPS (extra worker lines for walcast, separated by ';'), BENCH_WALCAST_BIN (the
# walcast binary, build/walcast), BENCH_CLUSTER_WALCAST (1 or 0: skip the probe for cluster mode),
# BENCH_CLUSTER_KEEP (set: keep the work folder with every worker's log), BENCH_CLUSTER_SIGNAL (KILL, a
# crash; TERM: a graceful leave, the worker stops its tasks and leaves the group while the clock runs).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/ports.sh
. "$ROOT/scripts/ports.sh"
export PATH="/usr/lib/postgresql/15/bin:$PATH"
PY=/usr/bin/python3
PROBE="$ROOT/scripts/bench_cluster_probe.py"
WALCAST=${BENCH_WALCAST_BIN:-$ROOT/build/walcast}
KILLS=${BENCH_CLUSTER_KILLS:-10}
KILLS_DEFAULT=${BENCH_CLUSTER_KILLS_DEFAULT:-2}
NW=${BENCH_CLUSTER_WORKERS:-3}
BROKERS=${BENCH_CLUSTER_BROKERS:-3}
ONLY=${BENCH_CLUSTER_ONLY:-}
BOUND=${BENCH_CLUSTER_BOUND:-900}
SIG=${BENCH_CLUSTER_SIGNAL:-KILL}
case $SIG in KILL|TERM) ;; *) echo "bench_cluster: BENCH_CLUSTER_SIGNAL=$SIG: KILL (a crash) or TERM (a graceful leave)" >&2; exit 1 ;; esac
export CONNECT_HEAP=${CONNECT_HEAP:-384m} KAFKA_HEAP=${KAFKA_HEAP:-384m}
# the group's assignments (with the leader's URL) in each Connect worker's log
export CONNECT_LOG_INFO="org.apache.kafka.connect.runtime.distributed.DistributedHerder"
WORK=$(mktemp -d /tmp/walcast-bench-cluster.XXXXXX)
ALLPIDS=()      # every worker and helper started here, killed by PID on exit
PGD=""
KDIR=""
cleanup() {
  local p
  for p in "${ALLPIDS[@]:-}"; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done
  for p in "${ALLPIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  [ -n "$KDIR" ] && bash "$ROOT/scripts/kafka.sh" stop "$KDIR"
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  if [ -n "${BENCH_CLUSTER_KEEP:-}" ]; then echo "bench_cluster: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
say() { echo "bench_cluster: $*"; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# the median (of an even count, the lower of the two middle values, as bench.sh)
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# ---- workers: W_PID[i], W_URL[i], W_ID[i] (its worker_id, 127.0.0.1:PORT); one backend at a time
W_PID=(); W_URL=(); W_ID=(); W_DIR=()
BACKEND=""; SERIES=""; DELAY=""

# start_worker I: the I-th worker of the current series (again after a kill: a fresh one, new port)
start_worker() {
  local i=$1 dir port out
  dir="$WORK/$SERIES-w$i-$(date +%s%N)"
  mkdir -p "$dir"
  if [ "$BACKEND" = connect ]; then
    local sets=(--set "scheduled.rebalance.max.delay.ms=$DELAY")
    out=$(bash "$ROOT/scripts/connect.sh" start --bootstrap "$BS" --dir "$dir" --offsets-topic "$SERIES-offsets" \
            --group "$SERIES" "${sets[@]}" 2>"$dir/start.err") || { cat "$dir/start.err" >&2; return 1; }
    W_PID[$i]=$(cat "$dir/pid")
    W_URL[$i]=$(sed -n 's/^rest=//p' <<<"$out")
  else
    free_port port
    {
      echo "bootstrap.servers=$BS"
      echo "listeners=http://127.0.0.1:$port"
      echo "group.id=$SERIES"
      echo "config.storage.topic=$SERIES-configs"
      echo "offset.storage.topic=$SERIES-offsets"
      echo "status.storage.topic=$SERIES-status"
      echo "scheduled.rebalance.max.delay.ms=$DELAY"
      tr ';' '\n' <<<"${BENCH_WALCAST_CLUSTER_PROPS:-}"
    } >"$dir/worker.properties"
    setsid "$WALCAST" run --worker "$dir/worker.properties" >"$dir/walcast.log" 2>&1 </dev/null &
    W_PID[$i]=$!
    disown "${W_PID[$i]}"    # no "Killed" line from bash at each SIGKILL
    W_URL[$i]="http://127.0.0.1:$port"
    local ok=""
    for _ in $(seq 1 300); do
      kill -0 "${W_PID[$i]}" 2>/dev/null || break
      "$PY" - "${W_URL[$i]}/connectors" <<'PYEOF' && { ok=1; break; }
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)
PYEOF
      sleep 0.2
    done
    [ -n "$ok" ] || { tail -30 "$dir/walcast.log" >&2; echo "walcast worker $i did not answer REST within 60 s" >&2; return 1; }
  fi
  ALLPIDS+=("${W_PID[$i]}")
  W_ID[$i]=${W_URL[$i]#http://}
  W_DIR[$i]=$dir
}

kill_worker() {  # kill_worker I [SIGNAL]: SIGKILL (or SIGNAL), wait until it is gone (SIGKILL after 120 s)
  signal_worker "$1" "${2:-KILL}"
  reap "${W_PID[$1]}"
}
signal_worker() {  # signal_worker I SIGNAL: the signal, and I is no longer one of the live workers
  kill "-$2" "${W_PID[$1]}" 2>/dev/null || true
  W_URL[$1]=""
}
reap() {  # reap PID: until it is gone (SIGKILL after 120 s), then no longer killed on exit
  local p=$1
  for _ in $(seq 1 2400); do kill -0 "$p" 2>/dev/null || { forget "$p"; return 0; }; sleep 0.05; done
  kill -KILL "$p" 2>/dev/null || true
  for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || { forget "$p"; return 0; }; sleep 0.05; done
}
# forget PID: out of ALLPIDS once it is gone (its number may be another process's later)
forget() {
  local keep=() x
  for x in "${ALLPIDS[@]:-}"; do [ -n "$x" ] && [ "$x" != "$1" ] && keep+=("$x"); done
  ALLPIDS=("${keep[@]:-}")
}

stop_series() {
  local i
  for i in $(seq 1 "$NW"); do [ -n "${W_URL[$i]:-}" ] && kill_worker "$i"; done
  W_PID=(); W_URL=(); W_ID=(); W_DIR=()
}

# leader_id: the worker_id of the group's leader, from the newest generation a live Connect worker logged
# ("Joined group at generation N ... leaderUrl='http://HOST:PORT/'"); "" for walcast (librdkafka does not
# tell which member leads)
leader_id() {
  [ "$BACKEND" = connect ] || return 0
  local i
  for i in $(seq 1 "$NW"); do
    [ -n "${W_URL[$i]:-}" ] && sed -n "s/.*Joined group at generation \([0-9]*\) .*leaderUrl='http:\/\/\([^/']*\)\/*'.*/\1 \2/p" "${W_DIR[$i]}/connect.log"
  done | sort -n | tail -1 | cut -d' ' -f2
}

# probe ARGS...: bench_cluster_probe.py in the background, waited for, its output into PROBE_OUT: a signal
# to this script runs its trap at once (bash waits for a command substitution before it runs a trap), and
# the trap kills the probe by PID with the rest
probe() {
  local p
  "$PY" "$PROBE" "$@" >"$WORK/probe.out" &
  p=$!
  ALLPIDS+=("$p")
  wait "$p"
  forget "$p"
  PROBE_OUT=$(cat "$WORK/probe.out")
}

live_urls() { local i u=""; for i in $(seq 1 "$NW"); do [ -n "${W_URL[$i]:-}" ] && u+="${u:+,}${W_URL[$i]}"; done; echo "$u"; }

# series BACKEND DELAY KILLS [FOLLOWERS]: workers up, the connector created, KILLS takeovers, the figures
# printed. With FOLLOWERS (Connect only): go on until KILLS of the kills hit a worker that was not the
# group's leader (at most 3 x KILLS kills): the new leader of a group whose leader died does not know the
# previous assignment, so it hands the lost task out at once, without scheduled.rebalance.max.delay.ms
NEXT_ID=1
series() {
  BACKEND=$1; DELAY=$2
  local kills=$3 followers=${4:-} i k name vi t0 out run data take runs=() datas=() takes=() wid lead role
  local ftakes=() ltakes=() nf=0
  [ "$kills" -gt 0 ] || return 0
  SERIES="bc_${BACKEND}_${DELAY}_$$"
  name="$SERIES"
  say "$BACKEND: $NW workers, scheduled.rebalance.max.delay.ms=$DELAY, $kills kill(s); load average $(load)"
  # one after the other: each joins the group before the next starts
  for i in $(seq 1 "$NW"); do start_worker "$i" || return 1; done
  probe post "${W_URL[1]}" "$(printf '{"name":"%s","connector.class":"io.debezium.connector.postgresql.PostgresConnector","tasks.max":"1","plugin.name":"pgoutput","database.hostname":"127.0.0.1","database.port":"%s","database.user":"%s","database.dbname":"postgres","topic.prefix":"%s","slot.name":"%s","publication.name":"bc_pub","publication.autocreate.mode":"disabled","snapshot.mode":"no_data","table.include.list":"public.takeover"}' \
    "$name" "$PGPORT" "${PGUSER:-postgres}" "$SERIES" "$SERIES")"
  probe wait-running "$(live_urls)" "$name" 180
  TOPIC="$SERIES.public.takeover"
  # the connector streams and the consumer sees its topic: a row a second until one is there (the topic is
  # created by the first row, and the consumer subscribes to it only once it exists)
  for i in $(seq 1 180); do
    q -c "INSERT INTO takeover VALUES ($NEXT_ID)"
    NEXT_ID=$((NEXT_ID + 1))
    grep -q "^$TOPIC " "$WORK/consumed.log" && break
    sleep 1
  done
  grep -q "^$TOPIC " "$WORK/consumed.log" || { echo "no row of $name in $TOPIC within 180 s" >&2; return 1; }
  probe settle "$(live_urls)" "$name" 300
  wid=$PROBE_OUT
  k=0
  while :; do
    if [ -n "$followers" ] && [ "$BACKEND" = connect ]; then
      [ "$nf" -lt "$kills" ] && [ "$k" -lt $((3 * kills)) ] || break
    else
      [ "$k" -lt "$kills" ] || break
    fi
    k=$((k + 1))
    vi=""
    lead=$(leader_id)
    for i in $(seq 1 "$NW"); do [ "${W_ID[$i]}" = "$wid" ] && vi=$i; done
    [ -n "$vi" ] || { echo "the task runs on $wid, which is none of this series' workers" >&2; return 1; }
    t0=$(date +%s.%N)
    # SIGKILL: gone at once; SIGTERM: the worker stops its tasks and leaves the group while the clock runs
    signal_worker "$vi" "$SIG"
    q -c "INSERT INTO takeover VALUES ($NEXT_ID)"
    probe takeover "$(live_urls)" "$name" "$wid" "$t0" "$WORK/consumed.log" "$TOPIC" "$NEXT_ID" "$BOUND"
    out=$PROBE_OUT
    reap "${W_PID[$vi]}"
    NEXT_ID=$((NEXT_ID + 1))
    read -r run data wid <<<"$out"
    take=$(awk -v a="$run" -v b="$data" 'BEGIN { printf "%.1f", (a > b ? a : b) }')
    runs+=("$run"); datas+=("$data"); takes+=("$take")
    role="the group's leader: unknown"
    if [ -n "$lead" ]; then
      if [ "$lead" = "${W_ID[$vi]}" ]; then role="it was the group's leader"; ltakes+=("$take")
      else role="it was not the group's leader"; ftakes+=("$take"); nf=$((nf + 1)); fi
    fi
    say "  $BACKEND delay=$DELAY SIG$SIG $k ($role): task RUNNING elsewhere after ${run} s, new row in the topic after" \
        "${data} s, takeover ${take} s (now on $wid); load average $(load)"
    start_worker "$vi" || return 1
    probe settle "$(live_urls)" "$name" 600
    wid=$PROBE_OUT
  done
  stop_series
  say "$BACKEND, scheduled.rebalance.max.delay.ms=$DELAY: takeover after SIG$SIG, $k kill(s): median" \
      "$(median "${takes[@]}") s, max $(maxof "${takes[@]}") s (task RUNNING elsewhere: median $(median "${runs[@]}") s;" \
      "new row in the topic: median $(median "${datas[@]}") s); load average $(load)"
  if [ "$BACKEND" = connect ]; then
    local fs="none" ls="none"
    [ ${#ftakes[@]} -gt 0 ] && fs="median $(median "${ftakes[@]}") s, max $(maxof "${ftakes[@]}") s"
    [ ${#ltakes[@]} -gt 0 ] && ls="median $(median "${ltakes[@]}") s, max $(maxof "${ltakes[@]}") s"
    say "$BACKEND, scheduled.rebalance.max.delay.ms=$DELAY: ${#ftakes[@]} kill(s) of a worker that was not the group's" \
        "leader: $fs; ${#ltakes[@]} of the leader: $ls"
  fi
}

# walcast's cluster mode is there when the binary knows its worker key walcast.cluster.enable
# (BENCH_CLUSTER_WALCAST=1 or 0 overrides the probe)
HAVE_CLUSTER=${BENCH_CLUSTER_WALCAST:-}
if [ -z "$HAVE_CLUSTER" ]; then
  HAVE_CLUSTER=0
  [ -x "$WALCAST" ] && grep -qa 'walcast\.cluster\.enable' "$WALCAST" && HAVE_CLUSTER=1
fi
if [ "$ONLY" = walcast ] && [ "$HAVE_CLUSTER" != 1 ]; then
  say "walcast cluster mode: not available (build/walcast does not know walcast.cluster.enable)"
  exit 0
fi

# ---- the shared servers
PGD=$(bash "$ROOT/scripts/pg-start.sh")
# shellcheck disable=SC1091
. "$PGD/env"
KDIR="$WORK/kafka"
bash "$ROOT/scripts/kafka.sh" start --brokers "$BROKERS" "$KDIR" >"$WORK/kafka.out"
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out")
say "load average $(load) on $(nproc) cores; $BROKERS brokers, $NW workers a cluster"
q -c "CREATE TABLE takeover (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())" \
  -c "CREATE PUBLICATION bc_pub FOR TABLE takeover"
"$PY" "$PROBE" consume "$BS" '^bc_.*[.]public[.]takeover$' >"$WORK/consumed.log" 2>"$WORK/consume.err" &
ALLPIDS+=($!)

if [ "$ONLY" != walcast ]; then
  bash "$ROOT/scripts/connect.sh" fetch >/dev/null
  series connect 0 "$KILLS"
  series connect 300000 "$KILLS_DEFAULT" followers
fi
if [ "$ONLY" != connect ]; then
  if [ "$HAVE_CLUSTER" = 1 ]; then
    series walcast 0 "$KILLS"
    series walcast 300000 "$KILLS_DEFAULT"
  else
    say "walcast cluster mode: not available (build/walcast does not know walcast.cluster.enable)"
  fi
fi
say "done; load average $(load)"
