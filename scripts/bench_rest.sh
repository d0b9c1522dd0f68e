#!/usr/bin/env bash
# bench_rest.sh (`make bench`): rows/s of one walcast source draining a slot backlog into a real Kafka, with
# and without a client polling GET /connectors/{n}/status BENCH_REST_HZ (50) times a second through the REST
# API, as an orchestrator would (target: within 5% of the others), and with monitoring: Prometheus's scrape of
# GET /metrics every second and the dashboard open (GET /dashboard once, then GET /dashboard/data every 2 s,
# as the page does; issue 20's target: within 2%). BENCH_REST_RUNS (5) rounds of the three, each round in
# another order (the machine's load drifts: a fixed order would bias one mode), BENCH_REST_TXNS (100)
# transactions x 1000 rows per run. Besides the medians, the median of each round's own ratio (the runs of
# a round are next to each other in time, so the load they saw is alike) and walcast's CPU seconds per
# million rows (the REST requests walcast answers are counted in it: the cost of serving them). Last, the
# CPU cost of one status request, measured apart (below).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
RUNS=${BENCH_REST_RUNS:-5}
TXNS=${BENCH_REST_TXNS:-100}
HZ=${BENCH_REST_HZ:-50}
bench_init bench_rest bench-rest
bench_servers
echo "bench_rest: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text)" -c "CREATE PUBLICATION bench_pub FOR TABLE bench"
for r in $(seq 1 "$RUNS"); do
  for k in plain polled watched; do q -c "SELECT 1 FROM pg_create_logical_replication_slot('${k}_$r', 'pgoutput')" >/dev/null; done
done
{
  for i in $(seq 0 $((TXNS - 1))); do
    echo "INSERT INTO bench SELECT g, g, 'row ' || g FROM generate_series($((i * 1000 + 1)), $(((i + 1) * 1000))) g;"
  done
} | q >/dev/null
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")
TOTAL=$((TXNS * 1000))

# one_run SLOT plain|polled|watched -> rows/s into RATE
one_run() {
  local slot=$1 mode=$2 port t0 t1 pid poller=""
  free_port port
  printf '%s\n' "bootstrap.servers=$BS" "listeners=http://127.0.0.1:$port" "config.storage.topic=bench_rest_cfg_$slot" \
    "status.storage.topic=bench_rest_st_$slot" "offset.storage.topic=bench_rest_off_$slot" "group.id=bench_rest_$slot" \
    >"$WORK/w-$slot.properties"
  printf '%s\n' "name=b-$slot" "connector.class=io.debezium.connector.postgresql.PostgresConnector" \
    "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" "database.dbname=postgres" \
    "topic.prefix=b$slot" "slot.name=$slot" "publication.name=bench_pub" "publication.autocreate.mode=disabled" \
    "snapshot.mode=no_data" "status.update.interval.ms=50" >"$WORK/c-$slot.properties"
  t0=$(date +%s.%N)
  "$ROOT/build/walcast" run --worker "$WORK/w-$slot.properties" "$WORK/c-$slot.properties" >/dev/null 2>"$WORK/walcast-$slot.log" &
  pid=$!
  PIDS+=($pid)
  if [ "$mode" != plain ]; then
    # the clients: URL HZ pairs, each requested HZ times a second (the dashboard's page once first)
    local u="http://127.0.0.1:$port" clients
    if [ "$mode" = polled ]; then clients=("$u/connectors/b-$slot/status" "$HZ")
    else clients=("$u/metrics" 1 "$u/dashboard/data" 0.5); curl -s "$u/dashboard" >/dev/null || true; fi
    /usr/bin/python3 - "${clients[@]}" >"$WORK/poll-$slot.out" 2>&1 <<'PYEOF' &
import sys, time, urllib.request
args = sys.argv[1:]
clients = [[args[i], 1 / float(args[i + 1]), time.monotonic()] for i in range(0, len(args), 2)]
ok = 0
while True:
    c = min(clients, key=lambda c: c[2])
    time.sleep(max(0, c[2] - time.monotonic()))
    try:
        with urllib.request.urlopen(c[0], timeout=2) as r:
            r.read()
            ok += 1
    except Exception:
        pass
    c[2] += c[1]
    print(ok, flush=True)
PYEOF
    poller=$!
    PIDS+=($poller)
  fi
  q -c "DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
          WHILE (SELECT confirmed_flush_lsn < '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$slot') LOOP
            IF clock_timestamp() - t0 > interval '600 s' THEN RAISE EXCEPTION 'slot $slot not confirmed within 600 s'; END IF;
            PERFORM pg_sleep(0.01);
          END LOOP; END \$\$"
  t1=$(date +%s.%N)
  [ -n "$poller" ] && { kill "$poller"; wait "$poller" 2>/dev/null || true; }
  # walcast's CPU seconds (utime + stime) per million rows: steadier than rows/s on a shared machine
  CPU=$(calc "%.2f" "$(cpu_of "$pid") * 1e6 / $TOTAL")
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  RATE=$(echo "$TOTAL / ($t1 - $t0)" | bc)
  POLLS=$( [ "$mode" != plain ] && tail -1 "$WORK/poll-$slot.out" || echo 0)
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", b / a }'; }
plain=(); polled=(); watched=(); cplain=(); cpolled=(); cwatched=(); rpolled=(); rwatched=(); hz=()
orders=("plain polled watched" "polled watched plain" "watched plain polled" "plain watched polled" "polled plain watched"
        "watched polled plain")
for r in $(seq 1 "$RUNS"); do
  for mode in ${orders[$(((r - 1) % 6))]}; do
    one_run "${mode}_$r" "$mode"
    case $mode in
      plain) p=$RATE; cplain+=("$CPU") ;;
      polled) q_=$RATE; cpolled+=("$CPU"); np=${POLLS:-0}; hz+=("$(awk -v n="$np" -v r="$RATE" -v t="$TOTAL" 'BEGIN { printf "%.1f", n * r / t }')") ;;
      watched) w=$RATE; cwatched+=("$CPU"); nw=${POLLS:-0} ;;
    esac
  done
  plain+=("$p"); polled+=("$q_"); watched+=("$w"); rpolled+=("$(ratio "$p" "$q_")"); rwatched+=("$(ratio "$p" "$w")")
  echo "bench_rest: round $r (${orders[$(((r - 1) % 6))]}): ${p} rows/s, ${q_} rows/s while polling status at ${HZ}/s" \
       "(${np} answers, ${hz[-1]}/s achieved), ${w} rows/s while scraped and on the dashboard (${nw} answers); CPU s per" \
       "million rows ${cplain[-1]} without clients, ${cpolled[-1]} polled, ${cwatched[-1]} scraped and on the dashboard;" \
       "load average $(cut -d' ' -f1 /proc/loadavg)"
done
mp=$(median "${plain[@]}"); mq=$(median "${polled[@]}"); mw=$(median "${watched[@]}")
echo "bench_rest: $TOTAL rows per run, $RUNS rounds; median ${mp} rows/s without REST polling, ${mq} rows/s with ${HZ}" \
     "status requests/s (median achieved $(median "${hz[@]}")/s) ($(pct "$mp" "$mq"); target within 5%)"
echo "bench_rest: median of the rounds' own ratios, polled / without: $(median "${rpolled[@]}") (each round:" \
     "${rpolled[*]}); walcast's CPU s per million rows: median $(median "${cplain[@]}") without clients," \
     "$(median "${cpolled[@]}") polled ($(pct "$(median "${cplain[@]}")" "$(median "${cpolled[@]}")"))"
echo "bench_rest: median of the rounds' own ratios, scraped and on the dashboard / without: $(median "${rwatched[@]}")"
echo "bench_rest: median ${mw} rows/s with GET /metrics every second and the dashboard open (GET /dashboard/data every 2 s)" \
     "($(pct "$mp" "$mw") against none; target within 2%); walcast's CPU s per million rows: median $(median "${cplain[@]}")" \
     "without clients, $(median "${cwatched[@]}") scraped and on the dashboard"

# The cost of one status request in walcast's own CPU time, which the load of other processes does not
# change (rows/s does): a worker whose connector has nothing left to stream (a drained slot) answers
# BENCH_REST_REQS (3000) GET /connectors/{n}/status one after the other, as the poller sends them (a new
# connection each); its CPU seconds over that time, less its CPU while idle for as long, per request. 50
# requests a second then take 50 x that of one core, set against the core share walcast spends streaming
# (CPU per row x rows/s, from the runs above without clients).
REQS=${BENCH_REST_REQS:-3000}
free_port port
printf '%s\n' "bootstrap.servers=$BS" "listeners=http://127.0.0.1:$port" "config.storage.topic=bench_rest_cfg_plain_1" \
  "status.storage.topic=bench_rest_st_plain_1" "offset.storage.topic=bench_rest_off_plain_1" "group.id=bench_rest_plain_1" \
  >"$WORK/w-idle.properties"
"$ROOT/build/walcast" run --worker "$WORK/w-idle.properties" >/dev/null 2>"$WORK/walcast-idle.log" &
pid=$!
PIDS+=($pid)
for _ in $(seq 1 300); do
  curl -s "http://127.0.0.1:$port/connectors/b-plain_1/status" 2>/dev/null | grep -q '"tasks":\[{"id":0,"state":"RUNNING"' && break
  sleep 0.1
done
grep -q "replication started" "$WORK/walcast-idle.log" || { sleep 1; }
t0=$(date +%s.%N); c0=$(cpu_of "$pid")
/usr/bin/python3 - "http://127.0.0.1:$port/connectors/b-plain_1/status" "$REQS" <<'PYEOF'
import sys, urllib.request
for _ in range(int(sys.argv[2])):
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        r.read()
PYEOF
t1=$(date +%s.%N); c1=$(cpu_of "$pid")
/usr/bin/python3 -c "import time,sys; time.sleep(float(sys.argv[1]))" "$(echo "$t1 - $t0" | bc)"   # as long, idle
c2=$(cpu_of "$pid")
kill -INT "$pid"; wait "$pid" 2>/dev/null || true
awk -v busy="$(echo "$c1 - $c0" | bc)" -v idle="$(echo "$c2 - $c1" | bc)" -v n="$REQS" -v hz="$HZ" -v secs="$(echo "$t1 - $t0" | bc)" \
    -v cpr="$(median "${cplain[@]}")" -v rate="$mp" 'BEGIN {
  us = (busy - idle) * 1e6 / n; if (us < 0) us = 0
  share = hz * us / 1e6; stream = cpr * rate / 1e6
  printf "bench_rest: one status request costs walcast %.0f us of CPU (%d requests in %.1f s: %.2f s CPU, %.2f s idle over as long);" \
         " %s a second take %.2f%% of a core, %.1f%% of the %.2f core walcast spends streaming %s rows/s\n",
         us, n, secs, busy, idle, hz, share * 100, share * 100 / stream, stream, rate }'
echo "bench_rest: load average $(cut -d' ' -f1-3 /proc/loadavg)"
