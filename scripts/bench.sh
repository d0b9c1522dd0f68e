#!/usr/bin/env bash
# bench.sh (`make bench`): walcast next to Debezium 3.6.1 (Kafka Connect 4.4.0 standalone) and pg_recvlogical,
# all on one throwaway PostgreSQL 15 and one real Apache Kafka 4.4.0 broker (scripts/kafka.sh).
#
# 1. Throughput from a slot backlog: one slot per reader and run is created, then BENCH_TXNS (200) transactions
#    x BENCH_ROWS (1000) rows are written; each reader drains its slot:
#      pg_recvlogical (pgoutput, proto 1) -> /dev/null            until its -E end LSN
#      walcast -> Kafka (JSON no schemas / JSON schemas / Avro)    until the slot's confirmed_flush_lsn (walcast
#                                                                  confirms only after the Kafka commit)
#      Debezium defaults / tuned -> Kafka                          until the topic holds every row (high watermark,
#                                                                  timed from the first record: JVM start excluded)
#    With BENCH_TF (1; 0 skips) walcast and Debezium defaults run once more per run with the transform chain
#    most deployments use (ExtractNewRecordState + RegexRouter + ReplaceField$Value, TF_CHAIN below): the cost
#    of the chain on each, measured in the same runs (target: walcast loses at most 10% of its rows/s).
#    rows/s, peak RSS (VmHWM) and CPU s per million rows (utime+stime of the reader's process, walcast's the sum of
#    its threads' run times when that is more: utime+stime are cut to whole clock ticks; Debezium from
#    its first record on; broker and walsender CPU shown apart). Medians of BENCH_RUNS (3) runs, Debezium of
#    BENCH_DBZ_RUNS (= BENCH_RUNS); an untimed walcast drain goes first. BENCH_THROUGHPUT=0 skips this part. Under the table: walcast's CPU per row per
#    thread (by thread name, each thread's run time from /proc/PID/task/*/schedstat at the end of each drain:
#    walcast-conn, librdkafka's rdk:main / rdk:broker<id>, ...) next to its walsender's, the broker's and
#    pg_recvlogical's, and the bytes each drain added to the topic's log. Then where each walcast drain's time went
#    (bench_tool.py startup, from walcast's debug log; one line per drain beside it, medians under the table): the
#    start from the bench starting walcast to its first record produced (process loaded, configuration, producers
#    made, InitProducerId, offsets read, PostgreSQL's part beside them, slot, START_REPLICATION, first record),
#    the drain, and the tail from the last record acknowledged to the slot seen confirmed (Kafka commit, status
#    update sent, the server's confirmed_flush_lsn polled every 2 ms). walcast's drains end when the slot is
#    confirmed (wait -n on the poll and on walcast, which must not exit first). BENCH_PERF=<dir>: a perf record of walcast's drains of the converters in
#    BENCH_PERF_DRAINS (schema: JSON with schemas; any of plain schema avro) (linux-perf; BENCH_PERF_FREQ Hz,
#    4999; DWARF call graphs, BENCH_PERF_CG), summarised in <dir>/perf-<converter>_<run>.txt: non-waiting
#    poll() calls per thread (busy-polling), samples per thread, flat profiles of the process and per thread, callers of the top symbols (perf report -i <dir>/perf-<converter>_<run>.data).
#    BENCH_SCHED=<dir>: the same drains' off-CPU time, from perf's sched_switch/sched_wakeup events on all CPUs (with
#    call chains), in <dir>/offcpu-<converter>_<run>.txt: per thread of walcast and of its walsender, ms running,
#    runnable (waiting for a core) and asleep, the sleep split by where the thread went to sleep; the broker's total.
#    BENCH_AB=<walcast binary> (or "same", build/walcast again) with BENCH_AB_WORKER_EXTRA (more worker-file lines for
#    it, as BENCH_WORKER_EXTRA): an A/B of the three walcast drains in the same runs, B after A in odd runs and
#    before it in even ones; B's rows are in the tables beside A's (labelled B) and a last table gives B/A per
#    figure (at most 4 runs: each run takes 7 slots of the server's 32). Caution: B's Avro drains used more CPU
#    than A's in 4 benches of 4, also with B's binary and settings the same as A's (2.56 -> 2.73, 2.80 -> 3.27 CPU s
#    per million rows; not explained): run BENCH_AB=same beside an A/B before trusting a small difference.
# 2. Commit -> visible latency (p50/p99) at BENCH_LAT_RATE (1000) single-row tx/s for BENCH_LAT_SECS (10 s), one
#    run per reader in each of BENCH_LAT_ROUNDS (3) rounds (the readers' order reversed in every second round; the
#    table shows each figure's median over the rounds and every round's p50/p99), measured after BENCH_LAT_WARM
#    (5 s) of warm-up load once the reader has caught up with it:
#    the workload writes its clock into a ts column; a read_committed consumer takes now - ts per event
#    (pg_recvlogical: test_decoding, now - commit time); BENCH_LAT_SECS=0 skips this part. BENCH_LAT_READERS (ref walcast dbztun dbzdef) picks the
#    readers; BENCH_BASE_WALCAST=<another walcast binary> adds it as reader "base" (before/after in one run; last
#    unless BENCH_LAT_READERS places it). The first reader met a colder broker (walcast measured first on a fresh
#    broker: p99 18-36 ms; the same binary measured right after it: 15-16 ms; Debezium tuned, always later: 19), so
#    an unmeasured walcast pass warms the broker before the readers (BENCH_LAT_BROKER_WARMUP=0: none), for
#    BENCH_LAT_BROKER_WARMUP_SECS (40 s) of load: with 10 s the first round's walcast still had p99 34-197 ms where
#    the later rounds had 14-33 (4 runs), with 40 s 20.8 against 22.7 and 16.6 (2026-12-07).
#    BENCH_WALCAST names the walcast binary of every part (default build/walcast). walcast runs with WALCAST_LOG=debug: its "latency trace" lines, joined with the consumer's arrival
#    times on the xid, give the per-stage breakdown (source commit -> queued -> commit_transaction -> records
#    acknowledged -> EndTxn answered -> consumer), printed under the table beside bench_txn_floor's figure
#    (one transactional producer, then three taking turns as walcast's do). The broker's stop-the-world GC pauses
#    during each reader's measured load are printed (its GC log). BENCH_REQUEST_LOG=1 also logs every request the
#    broker completes and prints, per reader and for the floor, each API's count, p50/p99 and errors (CONCURRENT_
#    TRANSACTIONS retries) as the broker saw them, and how walcast's commits registered their partitions (one
#    AddPartitionsToTxn, or two; bench_tool.py requests; logging costs the broker some CPU).
# 3. Peak RSS of one transaction of BENCH_BIG_ROWS (2,000,000) rows with and without walcast.streaming
#    (0 skips it).
# 4. Apply rows/s of one walcast JDBC sink into PostgreSQL and MariaDB next to COPY / LOAD DATA of the same rows
#    (scripts/bench_sink.sh; BENCH_SINK=0 skips it).
# The micro-benchmarks (bench_transform, bench_avro, bench_json_dec, bench_decoder, bench_produce) run after part 3;
# BENCH_MICRO=0 skips them.
# Debezium's JVM runs with connect-standalone.sh's stock options (-Xms256M -Xmx2G, G1); the connector and
# worker files are kept in BENCH_KEEP (unset: removed). Every process started here is stopped on exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
RUNS=${BENCH_RUNS:-3}
DBZ_RUNS=${BENCH_DBZ_RUNS:-$RUNS}
TXNS=${BENCH_TXNS:-200}
ROWS=${BENCH_ROWS:-1000}
LAT_RATE=${BENCH_LAT_RATE:-1000}
LAT_SECS=${BENCH_LAT_SECS:-10}
LAT_WARM=${BENCH_LAT_WARM:-5}
LAT_ROUNDS=${BENCH_LAT_ROUNDS:-3}
LAT_BROKER_WARM=${BENCH_LAT_BROKER_WARMUP_SECS:-40}
WALCAST=${BENCH_WALCAST:-$ROOT/build/walcast}
BASE_WALCAST=${BENCH_BASE_WALCAST:-}
LAT_READERS=${BENCH_LAT_READERS:-ref walcast dbztun dbzdef}
[ -z "$BASE_WALCAST" ] || [[ " $LAT_READERS " == *" base "* ]] || LAT_READERS="$LAT_READERS base"   # last unless placed
THROUGHPUT=${BENCH_THROUGHPUT:-1}
AB=${BENCH_AB:-}; [ "$AB" != same ] || AB=$WALCAST
BIG=${BENCH_BIG_ROWS:-2000000}
bench_init bench bench
# the broker's GC log (pauses per latency reader, below) and, with BENCH_REQUEST_LOG=1, its request log
export KAFKA_JVM_EXTRA="${KAFKA_JVM_EXTRA:-} -Xlog:gc:file=$WORK/kafka-gc.log:timemillis"
[ "${BENCH_REQUEST_LOG:-0}" = 0 ] || export KAFKA_REQUEST_LOG="$WORK/kafka-requests.log"
hwm_of() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }                          # kB

bash "$ROOT/scripts/connect.sh" fetch >&2   # also fetches Kafka (kafka.sh fetch)
[ -d "$DBZ_PLUGINS/debezium-connector-postgres" ] || die "no Debezium plugin in $DBZ_PLUGINS"
bench_servers
echo "bench: Kafka $KAFKA_VERSION at $BS, PostgreSQL on port $PGPORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (other work on the machine skews every figure)"
/usr/bin/python3 "$TOOL" warmup "$BS" 2>/dev/null  # transaction coordinator loaded before the first timed run
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"
printf "%b" "${BENCH_WORKER_EXTRA:-}" >>"$WORK/worker.properties"
{ cat "$WORK/worker.properties"; printf "%b" "${BENCH_AB_WORKER_EXTRA:-}"; } >"$WORK/worker-B.properties"

bench_registry

dbz_props() {  # file slot prefix publication table tuned(0|1)
  local f=$1 slot=$2 prefix=$3 pub=$4 table=$5 tuned=$6
  connector_props "$f" "$slot" "$prefix" "$pub" \
    "connector.class=io.debezium.connector.postgresql.PostgresConnector" "tasks.max=1" "plugin.name=pgoutput" \
    "table.include.list=public.$table"
  # tuned: what Debezium's documentation and users set for throughput: bigger batches and queue, a short
  # poll interval, and a producer that batches and compresses (walcast's producer: zstd, linger 5 ms)
  [ "$tuned" = 1 ] && printf '%s\n' "max.batch.size=8192" "max.queue.size=65536" "poll.interval.ms=5" \
    "producer.override.linger.ms=10" "producer.override.batch.size=524288" \
    "producer.override.compression.type=lz4" "producer.override.buffer.memory=134217728" \
    "producer.override.max.request.size=4194304" >>"$f"
  return 0
}

slot_pid() { q -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$1' AND active"; }
slot_active() { [ -n "$(slot_pid "$1")" ]; }
slot_idle() { ! slot_active "$1"; }
slot_drop() {  # once its reader's walsender is gone
  wait_for 30 "release of slot $1" slot_idle "$1"
  q -c "SELECT 1 FROM pg_drop_replication_slot('$1')" >/dev/null
}

connector_props() {  # file slot prefix publication [extra key=value lines...]: a bench connector
  local f=$1 slot=$2 prefix=$3 pub=$4; shift 4
  {
    printf '%s\n' "name=bench-$slot" "database.hostname=127.0.0.1" "database.port=$PGPORT" \
      "database.user=postgres" "database.dbname=postgres" "topic.prefix=$prefix" "slot.name=$slot" \
      "publication.name=$pub" "publication.autocreate.mode=disabled" "snapshot.mode=no_data"
    printf '%b\n' "${BENCH_CONNECTOR_EXTRA:-}"
    printf '%s\n' "$@"
  } >"$f"
}

# ---- 1. throughput from a slot backlog --------------------------------------------------------------------
declare -A RATE RSS CPU WCPU BCPU
if [ "$THROUGHPUT" != 0 ]; then
q -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text)" -c "CREATE PUBLICATION bench_pub FOR TABLE bench"
slots=(warm)
TF=${BENCH_TF:-1}
for r in $(seq 1 "$RUNS"); do
  slots+=("recv_$r" "plain_$r" "schema_$r" "avro_$r"); [ "$TF" = 0 ] || slots+=("tfw_$r")
  [ -z "$AB" ] || slots+=("plainb_$r" "schemab_$r" "avrob_$r")
done
for r in $(seq 1 "$DBZ_RUNS"); do slots+=("dbzdef_$r" "dbztun_$r"); [ "$TF" = 0 ] || slots+=("tfdbz_$r"); done
[ ${#slots[@]} -le 32 ] || die "${#slots[@]} slots: the throwaway server has max_replication_slots = 32 (lower BENCH_RUNS)"
for s in "${slots[@]}"; do q -c "SELECT 1 FROM pg_create_logical_replication_slot('$s', 'pgoutput')" >/dev/null; done

echo "bench: writing $TXNS transactions x $ROWS rows"
{
  for i in $(seq 0 $((TXNS - 1))); do
    echo "INSERT INTO bench SELECT g, g, 'row ' || g FROM generate_series($((i * ROWS + 1)), $(((i + 1) * ROWS))) g;"
  done
} | q >/dev/null
END_LSN=$(q -c "SELECT pg_current_wal_lsn()")
TOTAL=$((TXNS * ROWS))
echo "bench: $TOTAL rows, WAL end $END_LSN"

fi   # THROUGHPUT (the functions below serve part 3 too)

# perf_summary perf.data: samples per thread, the flat profile of the whole process (dso, symbol), the flat profile
# per thread (comm, dso, symbol), then who calls the top symbols (callers of each, per thread)
perf_summary() {
  local r=(perf report -i "$1" --no-children --stdio)
  echo "# samples per thread (comm)"
  "${r[@]}" --sort comm -g none 2>/dev/null | grep -v '^#' | grep '%' | head -20
  echo "# samples: $("${r[@]}" --sort comm -g none 2>/dev/null | sed -n 's/^# Samples: \([0-9.kKM]*\).*/\1/p' | head -1)"
  echo "# flat, whole process"
  "${r[@]}" --sort dso,symbol -g none --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep '%' | head -40
  echo "# flat, per thread"
  "${r[@]}" --sort comm,dso,symbol -g none --percent-limit 0.7 2>/dev/null | grep -v '^#' | grep '%' | head -50
  echo "# callers of the symbols above 2% (per thread; % of all samples; branches under 0.4% left out)"
  "${r[@]}" --sort comm,symbol -g caller,0.4,callee,function,percent --percent-limit 2 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -600
}

# bytes of the bench topic's log segments on the broker: Kafka keeps the producer's (compressed) batches as they
# came (compression.type=producer), so a drain's growth is about what walcast sent, less the request framing
topic_bytes() { find "$KDIR"/node1/data -path "*/bench.public.bench-*" -name '*.log' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }

# threads_of pid -> "name count cpu_s" per thread name (CPU of its live threads, summed over the count threads of
# that name) and "(exited_threads) 0 cpu_s": the process's total minus the live ones. A thread's CPU is its
# schedstat run time (ns): its utime+stime are each cut to whole clock ticks (10 ms), and over walcast's ~17
# threads the cuts added up to 60-70 ms that showed as (exited_threads).
threads_of() {
  local total t
  total=$(cpu_of "$1")
  for t in /proc/"$1"/task/*; do echo "$(cat "$t/schedstat" 2>/dev/null | cut -d' ' -f1) $(cat "$t/stat" 2>/dev/null)"; done |
    awk -v t="$TCK" -v total="$total" -v pid="$1" '
      /\(/ { name = $0; sub(/^[^(]*\(/, "", name); sub(/\) .*$/, "", name); gsub(/ /, "_", name)
             if ($2 == pid) name = "(main_thread)"
             rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
             c = $1 / 1e9; cpu[name] += c; n[name]++; sum += c }
      END { for (k in cpu) printf "%s %d %.4f\n", k, n[k], cpu[k]
            printf "(exited_threads) 0 %.4f\n", (total - sum > 0 ? total - sum : 0) }'
}

# Readers run in this shell (never in $(...)), so that cleanup knows their pids; they leave their figures in RES.
# timed_walcast slot properties-file -> RES="seconds peak_rss_kb cpu_s walsender_cpu_s broker_cpu_s"
timed_walcast() {
  local t0 t1 pid hwm cpu ws wcpu b0 b1 lb0 polls=""
  b0=$(cpu_of "$BROKER_PID"); lb0=$(topic_bytes)
  t0=$(now)
  # debug log: the "start-up trace", "latency trace" and "standby status update" lines time the start and the tail
  local bin=$WALCAST worker=$WORK/worker.properties
  [[ $1 != *b_* ]] || { bin=$AB; worker=$WORK/worker-B.properties; }   # BENCH_AB's drains
  WALCAST_LOG=debug "$bin" run --worker "$worker" "$2" >/dev/null 2>"$WORK/walcast-$1.log" &
  pid=$!
  PIDS+=($pid)
  local perf=""
  if [ -n "${BENCH_PERF:-}" ] && [[ " ${BENCH_PERF_DRAINS:-schema} " == *" ${1%_*} "* ]]; then   # CPU profile
    mkdir -p "$BENCH_PERF"
    # attached once streaming starts: perf -p samples the threads that exist then (librdkafka's are made
    # with the producers, before replication starts); the drain's first moments are not in the profile
    wait_for 60 "walcast streaming ($1)" grep -qs "replication started" "$WORK/walcast-$1.log"
    # dense (BENCH_PERF_FREQ, 4999 Hz: a 200k-row drain gives ~10k samples) with DWARF call graphs (walcast and
    # libc have no frame pointers; BENCH_PERF_CG=fp for frame pointers, smaller files)
    perf record -q -F "${BENCH_PERF_FREQ:-4999}" --call-graph "${BENCH_PERF_CG:-dwarf,16384}" -p $pid \
      -o "$BENCH_PERF/perf-$1.data" >"$BENCH_PERF/perf-$1.log" 2>&1 &
    perf=$!
    PIDS+=($perf)
    # and poll() calls that do not wait (timeout 0) per thread: a thread using CPU without sleeping is busy-polling
    perf stat --per-thread -e syscalls:sys_enter_poll --filter 'timeout_msecs == 0' -p $pid \
      -o "$BENCH_PERF/polls-$1.txt" >/dev/null 2>&1 &
    polls=$!
    PIDS+=($polls)
  fi
  local sched=""
  if [ -n "${BENCH_SCHED:-}" ] && [[ " ${BENCH_PERF_DRAINS:-schema} " == *" ${1%_*} "* ]]; then   # off-CPU time
    mkdir -p "$BENCH_SCHED"
    wait_for 60 "walcast streaming ($1)" grep -qs "replication started" "$WORK/walcast-$1.log"
    perf record -q -a -g -e sched:sched_switch -e sched:sched_wakeup -o "$BENCH_SCHED/sched-$1.data" \
      >"$BENCH_SCHED/sched-$1.log" 2>&1 &
    sched=$!
    PIDS+=($sched)
  fi
  wait_flushed "$1" 600 0.002 &   # 2 ms polls: 10 ms ones added ~5 ms to every drain
  local waiter=$! first rc=0
  # whichever ends first, at once (a poll loop here added up to its period to every drain)
  wait -n -p first $waiter $pid || rc=$?
  t1=$(now)
  if [ "$first" = "$pid" ]; then   # walcast died: say why instead of waiting for the bound
    kill $waiter 2>/dev/null; echo "bench: walcast exited early:" >&2; tail -3 "$WORK/walcast-$1.log" >&2; exit 1
  fi
  [ "$rc" = 0 ] || { kill -INT $pid; exit 1; }
  if [ -n "$perf" ]; then
    kill -INT $perf $polls 2>/dev/null; wait $perf $polls 2>/dev/null || true
    {
      echo "# poll() calls with timeout 0 per thread name during the drain, per 1000 rows (syscalls:sys_enter_poll)"
      awk -v rows="$TOTAL" '/sys_enter_poll/ { n = $1; sub(/-[0-9]+$/, "", n); c[n] += $2 }
        END { for (k in c) if (c[k]) printf "    %-20s %8.1f\n", k, c[k] * 1000 / rows }' "$BENCH_PERF/polls-$1.txt" 2>/dev/null
      perf_summary "$BENCH_PERF/perf-$1.data"
    } >"$BENCH_PERF/perf-$1.txt" 2>/dev/null || true
    echo "bench: CPU profile of walcast ($1): $BENCH_PERF/perf-$1.txt" >&2
  fi
  if [ -n "$sched" ]; then
    kill -INT $sched 2>/dev/null; wait $sched 2>/dev/null || true
  fi
  hwm=$(hwm_of $pid); b1=$(cpu_of "$BROKER_PID")
  threads_of $pid >"$WORK/threads-$1"
  # the process's CPU: its threads' run times plus the exited ones' (= max(utime+stime, the threads' sum): the
  # process's utime+stime are cut to whole ticks too, up to 20 ms short)
  cpu=$(awk '{ s += $3 } END { printf "%.4f", s }' "$WORK/threads-$1")
  echo "(log_bytes) 0 $(( $(topic_bytes) - lb0 ))" >>"$WORK/threads-$1"
  ws=$(slot_pid "$1"); wcpu=$( [ -n "$ws" ] && cpu_of "$ws" || echo 0)
  kill -INT $pid; wait $pid 2>/dev/null || true
  if [ -n "$sched" ]; then   # summarised once walcast is gone (perf reads the whole recording)
    /usr/bin/python3 "$TOOL" offcpu "$BENCH_SCHED/sched-$1.data" $pid "${ws:-0}" "$BROKER_PID" \
      >"$BENCH_SCHED/offcpu-$1.txt" 2>&1 || true
    echo "bench: off-CPU time of walcast ($1): $BENCH_SCHED/offcpu-$1.txt" >&2
  fi
  RES="$(echo "$t1 - $t0" | bc) $hwm $cpu $wcpu $(echo "$b1 - $b0" | bc)"
  # where this drain's time went (bench_tool.py startup): one line beside it, kept in SU for the medians
  SU=$(/usr/bin/python3 "$TOOL" startup "$WORK/walcast-$1.log" "$t0" "$t1" "$END_LSN")
  startup_line "$1" "$SU" "$(grep -o '(exited_threads) 0 [0-9.]*' "$WORK/threads-$1" | cut -d' ' -f3)"
}

# startup_line LABEL "name=ms ..." [exited_threads_cpu_s]: one drain's (or the medians') stages on one line
startup_line() {
  local -A v=()
  local kv
  for kv in $2; do v[${kv%%=*}]=${kv#*=}; done
  if [ -z "${v[startup]:-}" ]; then echo "bench: $1: no start-up timeline ($2)" >&2; return 0; fi
  printf 'bench: %s: start %s ms (exec %s, config %s, producers made %s, InitProducerId %s, offsets read %s; beside them PostgreSQL connected + checked + types %s; joined +%s, set-up %s, slot ready %s, START_REPLICATION %s, first record %s); drain %s; tail %s ms (last ack -> commit %s, -> status sent %s, -> slot seen confirmed %s); start CPU %s ms (process loaded and configured %s, InitProducerId %s, offsets read %s)%s\n' \
    "$1" "${v[startup]}" "${v[exec]}" "${v[config]}" "${v[producers]}" "${v[initpid]}" "${v[offsets]}" "${v[pgside]:--}" \
    "${v[join]}" "${v[setup]}" "${v[slot]}" "${v[startrepl]}" "${v[firstrec]}" "${v[drain]}" "${v[tail]}" "${v[commit]}" \
    "${v[confirm]}" "${v[seen]}" \
    "${v[cpu_startup]}" "${v[cpu_loaded]:--}" "${v[cpu_initpid]:--}" "${v[cpu_offsets]:--}" "$([ -n "${3:-}" ] && echo " (threads gone by the end: $(calc "%.0f" "$3 * 1000") ms)")"
}

run_walcast() {  # slot schemas -> as timed_walcast
  connector_props "$WORK/c-$1.properties" "$1" bench bench_pub "status.update.interval.ms=50" \
    "key.converter.schemas.enable=$2" "value.converter.schemas.enable=$2"
  timed_walcast "$1" "$WORK/c-$1.properties"
}

# The chain of BENCH_TF: unwrap, topics renamed (<prefix>.public.T -> chain_<prefix>_T), one column dropped
# and one renamed (the same keys for walcast and Debezium; $1 is the topic prefix).
tf_chain() {
  printf '%s\n' "transforms=unwrap,route,edit" "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState" \
    "transforms.unwrap.add.fields=op,source.ts_ms" "transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter" \
    "transforms.route.regex=$1"'\\.public\\.(.*)' "transforms.route.replacement=chain_${1}_"'$1' \
    'transforms.edit.type=org.apache.kafka.connect.transforms.ReplaceField$Value' "transforms.edit.exclude=t" \
    "transforms.edit.renames=v:value"
}

run_walcast_tf() {  # slot -> as timed_walcast: JSON with schemas and the chain
  connector_props "$WORK/t-$1.properties" "$1" bench bench_pub "status.update.interval.ms=50"
  tf_chain bench >>"$WORK/t-$1.properties"
  timed_walcast "$1" "$WORK/t-$1.properties"
}

run_avro() {  # slot -> as timed_walcast
  connector_props "$WORK/a-$1.properties" "$1" bench bench_pub "status.update.interval.ms=50" \
    "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
    "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL"
  timed_walcast "$1" "$WORK/a-$1.properties"
}

# run_recv slot -> RES="seconds peak_rss_kb cpu_s"
run_recv() {
  local t0 t1
  t0=$(now)
  /usr/bin/time -f "%M %U %S" -o "$WORK/time-$1" pg_recvlogical -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" \
    --slot "$1" --start -o proto_version=1 -o publication_names=bench_pub -E "$END_LSN" -f /dev/null
  t1=$(now)
  RES="$(echo "$t1 - $t0" | bc) $(awk '{ printf "%d %.2f", $1, $2 + $3 }' "$WORK/time-$1")"
}

# run_dbz slot tuned -> RES="seconds peak_rss_kb cpu_s walsender_cpu_s broker_cpu_s rows startup_cpu_s", timed from
# the first record in the topic to the last (rows: those counted in that window)
run_dbz() {
  local out tf nf te cf ce hwm ws wcpu b0 b1 topic="$1.public.bench"
  dbz_props "$WORK/d-$1.properties" "$1" "$1" bench_pub bench "$2"
  if [ "$2" = chain ]; then tf_chain "$1" >>"$WORK/d-$1.properties"; topic="chain_$1_bench"; fi
  dbz_start "$WORK/connect-$1" "$WORK/d-$1.properties"
  b0=$(cpu_of "$BROKER_PID")
  out=$(/usr/bin/python3 "$TOOL" watch "$BS" "$topic" "$TOTAL" "$DBZ_PID" "$DBZ_REST" 900) ||
    { tail -30 "$DBZ_LOG" >&2; die "Debezium ($1) did not publish $TOTAL records"; }
  b1=$(cpu_of "$BROKER_PID")
  read -r tf nf te cf ce hwm <<<"$out"
  ws=$(slot_pid "$1"); wcpu=$( [ -n "$ws" ] && cpu_of "$ws" || echo 0)
  [ -n "${BENCH_KEEP:-}" ] && cp "$DBZ_LOG" "$WORK/connect-$1.log"
  dbz_stop
  RES="$(echo "$te - $tf" | bc) $hwm $(echo "$ce - $cf" | bc) $wcpu $(echo "$b1 - $b0" | bc) $((TOTAL - nf)) $cf"
}

per_m() { calc "%.2f" "$1 * 1000000 / $2"; }   # seconds rows -> s per million rows
add() {  # key rows "seconds rss cpu [walsender broker]"
  local k=$1 rows=$2 secs rss cpu wc bc
  read -r secs rss cpu wc bc <<<"$3"
  RATE[$k]+="$(calc "%.0f" "$rows / $secs") "; RSS[$k]+="$rss "; CPU[$k]+="$(per_m "$cpu" "$rows") "
  WCPU[$k]+="$(per_m "${wc:-0}" "$rows") "; BCPU[$k]+="$(per_m "${bc:-0}" "$rows") "
}
last() { local a=(${RATE[$1]}); echo "${a[-1]}"; }
# CPU per row per thread name of walcast's drains: TH[key|name] (s per million rows, one per run), THC[key|name]
# (threads of that name), THN (the names, in order of first sight)
declare -A TH THC
THN=()
declare -A SUV   # SUV[key|stage]: the drains' start-up stages (ms, one per run; from SU)
add_threads() {  # key slot rows (and the stages of the drain just timed, SU)
  local name n c kv
  for kv in $SU; do [[ $kv == *=* ]] && SUV[$1|${kv%%=*}]+="${kv#*=} "; done
  while read -r name n c; do
    [[ -v "TH[$1|$name]" ]] || { [[ " ${THN[*]} " == *" $name "* ]] || THN+=("$name"); }
    if [ "$name" = "(log_bytes)" ]; then TH[$1|$name]+="$(calc "%.1f" "$c / $3") "   # bytes per row
    else TH[$1|$name]+="$(per_m "$c" "$3") "; fi
    THC[$1|$name]=$n
  done <"$WORK/threads-$2"
}

if [ "$THROUGHPUT" != 0 ]; then
# One untimed walcast drain first: it creates the topic every walcast run writes to and meets the freshly
# written table (checkpoint, hint bits, cold caches); without it the first timed reader was up to 2.5x slower
# than the same reader in later runs.
q -c "CHECKPOINT" >/dev/null
run_walcast warm false; slot_drop warm
echo "bench: warm-up drain (untimed) took $(calc "%.1f" "${RES%% *}") s"
for r in $(seq 1 "$RUNS"); do
  run_recv "recv_$r"; add recv $TOTAL "$RES"; slot_drop "recv_$r"
  vs=(""); [ -z "$AB" ] || { [ $((r % 2)) = 1 ] && vs=("" b) || vs=(b ""); }   # BENCH_AB: alternated order
  for v in "${vs[@]}"; do
    run_walcast "plain${v}_$r" false; add plain$v $TOTAL "$RES"; add_threads plain$v "plain${v}_$r" $TOTAL; slot_drop "plain${v}_$r"
    run_walcast "schema${v}_$r" true; add schema$v $TOTAL "$RES"; add_threads schema$v "schema${v}_$r" $TOTAL; slot_drop "schema${v}_$r"
    run_avro "avro${v}_$r"; add avro$v $TOTAL "$RES"; add_threads avro$v "avro${v}_$r" $TOTAL; slot_drop "avro${v}_$r"
  done
  line="bench: run $r: pg_recvlogical $(last recv), walcast no schemas $(last plain), schemas $(last schema), Avro $(last avro)"
  [ -z "$AB" ] || line+="; B ($([ -z "${vs[0]}" ] && echo A || echo B) first): no schemas $(last plainb), schemas $(last schemab), Avro $(last avrob)"
  if [ "$TF" != 0 ]; then
    run_walcast_tf "tfw_$r"; add tfw $TOTAL "$RES"; add_threads tfw "tfw_$r" $TOTAL; slot_drop "tfw_$r"
    line+=", schemas + chain $(last tfw)"
  fi
  if [ "$r" -le "$DBZ_RUNS" ]; then
    dks="dbzdef dbztun"
    [ "$TF" = 0 ] || dks+=" tfdbz"
    for k in $dks; do
      run_dbz "${k}_$r" $(case $k in dbztun) echo 1 ;; tfdbz) echo chain ;; *) echo 0 ;; esac)
      read -r s h c w b n sc <<<"$RES"
      add $k "$n" "$s $h $c $w $b"; slot_drop "${k}_$r"
      echo "bench: Debezium ${k#dbz} run $r: $n rows in $s s after the first record; JVM start-up CPU ${sc} s" >&2
    done
    line+=", Debezium defaults $(last dbzdef), tuned $(last dbztun)"
    [ "$TF" = 0 ] || line+=", defaults + chain $(last tfdbz)"
  fi
  echo "$line rows/s"
done

# ceiling KEY: the rows/s this machine's cores could give if they did nothing but this reader, its walsender
# and the broker at the CPU per row they used ("-" where the walsender was not measured: pg_recvlogical)
ceiling() {
  local c w b
  c=$(median ${CPU[$1]}); w=$(median ${WCPU[$1]}); b=$(median ${BCPU[$1]})
  awk -v c="$c" -v w="$w" -v b="$b" -v n="$(nproc)" 'BEGIN { if (w + 0 <= 0) print "-"; else printf "%.0f\n", n * 1e6 / (c + w + b) }'
}
row() {  # key label
  local k=$1 rate rss
  [ -n "${RATE[$k]:-}" ] || return 0   # not run (BENCH_DBZ_RUNS=0, BENCH_TF=0)
  rate=$(median ${RATE[$k]}); rss=$(median ${RSS[$k]})
  printf '%-46s %10s %9s %9s MB %9s %9s %9s %9s\n' "$2" "$rate" "$(calc "%.2f" "$rate / $R")" "$((rss / 1024))" \
    "$(median ${CPU[$k]})" "$(median ${WCPU[$k]})" "$(median ${BCPU[$k]})" "$(ceiling "$k")"
}
R=$(median ${RATE[recv]})
echo
echo "== throughput: $TXNS transactions x $ROWS rows from a slot backlog to committed in Kafka $KAFKA_VERSION (1 broker)"
echo "   medians of $RUNS runs (Debezium: $DBZ_RUNS); $(nproc) cores shared by PostgreSQL, the broker and the reader"
printf '%-46s %10s %9s %12s %9s %9s %9s %9s\n' "reader" "rows/s" "vs recv" "peak RSS" "CPU s/Mr" "walsndr" "broker" "ceiling"
row recv "pg_recvlogical pgoutput -> /dev/null"
row plain "walcast JSON schemas.enable=false"
row schema "walcast JSON schemas.enable=true (defaults)"
row avro "walcast Avro + registry"
row plainb "B: walcast JSON schemas.enable=false"
row schemab "B: walcast JSON schemas.enable=true"
row avrob "B: walcast Avro + registry"
row dbzdef "Debezium 3.6.1 defaults"
row dbztun "Debezium 3.6.1 tuned"
if [ "$TF" != 0 ]; then
  row tfw "walcast JSON schemas + unwrap,RegexRouter,ReplaceField"
  row tfdbz "Debezium 3.6.1 defaults + the same chain"
fi
echo "(CPU s/Mr: CPU seconds of the reader's process per million rows, walsender and broker apart; Debezium"
echo " is timed and charged from its first record in the topic on, without JVM start-up; peak RSS = VmHWM;"
echo " ceiling: $(nproc) cores / (reader + walsender + broker CPU per row), the rows/s if they did nothing else)"
echo
echo "== CPU per row per thread of walcast's drains (CPU s per million rows = us per row; utime+stime of each thread at"
echo "   the end of the drain, threads of one name summed, xN = N threads; medians of $RUNS runs)"
tks="plain schema avro"; [ "$TF" = 0 ] || tks+=" tfw"; [ -z "$AB" ] || tks+=" plainb schemab avrob"
klabel() { case $1 in plain) echo "no schemas" ;; schema) echo "schemas" ;; avro) echo "Avro" ;; tfw) echo "schemas+chain" ;; *b) echo "$(klabel "${1%b}") B" ;; esac; }
printf '%-28s' "thread"; for k in $tks; do printf ' %12s' "$(klabel $k)"; done; echo
thread_row() {  # label values-per-key...
  printf '%-28s' "$1"; shift; for v in "$@"; do printf ' %12s' "$v"; done; echo
}
for name in "${THN[@]}"; do
  [ "$name" = "(log_bytes)" ] && continue
  vals=(); cnt=1
  for k in $tks; do
    if [ -n "${TH[$k|$name]:-}" ]; then vals+=("$(median ${TH[$k|$name]})"); [ "${THC[$k|$name]}" -gt "$cnt" ] && cnt=${THC[$k|$name]}
    else vals+=("-"); fi
  done
  thread_row "$name$([ "$cnt" -gt 1 ] && echo " x$cnt")" "${vals[@]}"
done
vals=(); for k in $tks; do vals+=("$(median ${CPU[$k]})"); done; thread_row "walcast process (total)" "${vals[@]}"
vals=(); for k in $tks; do vals+=("$(median ${WCPU[$k]})"); done; thread_row "its walsender" "${vals[@]}"
vals=(); for k in $tks; do vals+=("$(median ${BCPU[$k]})"); done; thread_row "Kafka broker" "${vals[@]}"
thread_row "pg_recvlogical (for scale)" "$(median ${CPU[recv]})"
vals=(); for k in $tks; do vals+=("$(median ${TH[$k|(log_bytes)]:-0})"); done; thread_row "topic log bytes per row" "${vals[@]}"
echo "(walcast-conn: read + decode + encode + produce; walcast-commit: the Kafka commit; walcast-encode: encoder"
echo " threads (walcast.encode.threads); rdk:main / rdk:broker<id> / rdk:broker-1: librdkafka's threads, one set per"
echo " producer; (exited_threads): CPU of threads gone before the end of the drain; topic log bytes per row: what the"
echo " drain added to the topic's log segments, ~ the bytes walcast sent (compressed batches as the broker keeps them))"
echo
echo "== where walcast's drains spent their time (ms; medians of $RUNS runs; each stage from the end of the one before;"
echo "   from walcast's debug log: its start-up trace, the last latency trace, the status update that confirmed the end)"
for k in $tks; do
  line=""
  for st in startup exec config producers initpid offsets pgside join setup slot startrepl firstrec drain tail commit confirm seen \
      cpu_startup cpu_loaded cpu_initpid cpu_offsets; do
    [ -n "${SUV[$k|$st]:-}" ] && line+="$st=$(median ${SUV[$k|$st]}) "
  done
  startup_line "$(klabel $k)" "$line" \
    "$([ -n "${TH[$k|(exited_threads)]:-}" ] && calc "%.4f" "$(median ${TH[$k|(exited_threads)]}) * $TOTAL / 1000000")"
done
echo "(start: from the bench starting walcast to its first record produced; tail: from the last record acknowledged to"
echo " the bench seeing the slot's confirmed_flush_lsn at the end; start CPU: the process's CPU time up to its first record,"
echo " with the parts of loading the process (its shared libraries) and reading its configuration, of the three producers'"
echo " InitProducerId, and of the offsets read (its two consumers' threads end with it); threads gone by the end: the"
echo " (exited_threads) row above, the process's utime+stime less its live threads' run times, which its whole-tick"
echo " rounding can hide)"
S=$(median ${RATE[schema]}); P=$(median ${RATE[plain]}); A=$(median ${RATE[avro]})
echo "Avro vs JSON with schemas: $(calc "%.2f" "$A / $S")x (target: > 1; Avro >= 0.8x pg_recvlogical)"
if [ -n "$AB" ]; then
  echo
  echo "== A/B (BENCH_AB): A = $WALCAST, B = $AB$([ -z "${BENCH_AB_WORKER_EXTRA:-}" ] || printf ' with %q' "${BENCH_AB_WORKER_EXTRA}"); medians of $RUNS runs"
  printf '%-12s %10s %10s %7s %10s %10s %7s\n' "" "rows/s A" "B" "B/A" "CPU s/Mr A" "B" "B/A"
  for k in plain schema avro; do
    ra=$(median ${RATE[$k]}); rb=$(median ${RATE[${k}b]}); ca=$(median ${CPU[$k]}); cb=$(median ${CPU[${k}b]})
    printf '%-12s %10s %10s %7s %10s %10s %7s\n' "$(klabel $k)" "$ra" "$rb" "$(calc "%.3f" "$rb / $ra")" "$ca" "$cb" "$(calc "%.3f" "$cb / $ca")"
  done
  echo "(each run's figures: the RATE/CPU lines above; per thread: the CPU table's B columns)"
fi
if [ "$TF" != 0 ]; then
  TW=$(median ${RATE[tfw]}); TD=$(median ${RATE[tfdbz]}); DD=$(median ${RATE[dbzdef]})
  echo "transform chain: walcast keeps $(calc "%.3f" "$TW / $S") of its rows/s (target >= 0.9), Debezium defaults keep $(calc "%.3f" "$TD / $DD")"
fi
fi   # THROUGHPUT

# ---- 2. commit -> visible latency ------------------------------------------------------------------------
declare -A LAT LAT_FROM LAT_TO LAT_T
if [ "$LAT_SECS" -gt 0 ]; then
  # one table (and topic) per reader and round: lat_<reader> in the first round, lat_<reader>_r<n> after
  for r in $(seq 1 "$LAT_ROUNDS"); do
    for t in lat_ref lat_walcast lat_dbzdef lat_dbztun lat_base; do
      [ "$r" = 1 ] || t="${t}_r$r"
      q -c "CREATE TABLE $t (id bigserial PRIMARY KEY, v int NOT NULL, ts bigint NOT NULL)" \
        -c "CREATE PUBLICATION ${t}_pub FOR TABLE $t"
    done
  done
  q -c "CREATE TABLE lat_warm (id bigserial PRIMARY KEY, v int NOT NULL, ts bigint NOT NULL)" \
    -c "CREATE PUBLICATION lat_warm_pub FOR TABLE lat_warm"
  load() {  # table seconds -> tx/s (pgbench, LAT_RATE one-row transactions/s, synchronous_commit=on)
    echo "INSERT INTO $1 (v, ts) VALUES (1, (extract(epoch from clock_timestamp()) * 1000000)::bigint);" >"$WORK/$1.sql"
    PGOPTIONS="-c synchronous_commit=on" pgbench -n -h 127.0.0.1 -p "$PGPORT" -U postgres -f "$WORK/$1.sql" \
      -R "$LAT_RATE" -T "$2" -c 4 -j 2 postgres 2>&1 | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
  }
  pct() {  # file of "ts_us ms" lines, from_us -> "p50 p99 count" of those written at or after from_us
    awk -v f="$2" '$1 >= f { print $2 }' "$1" | sort -g |
      awk '{ a[NR] = $1 } END { if (NR == 0) { print "- - 0"; exit } printf "%.1f %.1f %d\n", a[int(NR * 0.5) + 1], a[int(NR * 0.99) + 1], NR }'
  }
  # lat_phase key table start-command...: starts the reader, waits until its slot streams, warm-up load,
  # measured load, waits until the consumer has every event; "tps p50 p99 n rss_mb" in LAT[key.round]
  # (ROUND: the round, 0 for the broker's warm-up pass), its table's name in LAT_T[key.round]
  lat_phase() {
    local k=$1 t=$2 tps from n rss kr="$1.$ROUND" secs=$LAT_SECS
    [ "$k" != warm ] || secs=$LAT_BROKER_WARM
    rm -f "$WORK/$t.count"
    if [ "$k" = ref ]; then
      q -c "SELECT 1 FROM pg_create_logical_replication_slot('$t', 'test_decoding')" >/dev/null
      /usr/bin/python3 "$TOOL" recvlogical "$WORK/$t.lat" "$WORK/$t.count" $((secs + LAT_WARM + 600)) \
        -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" --slot "$t" --start \
        -o include-timestamp=on -s 1 -f - >"$WORK/$t.cons" 2>&1 &
      local cons=$!
    else
      q -c "SELECT 1 FROM pg_create_logical_replication_slot('$t', 'pgoutput')" >/dev/null
      /usr/bin/python3 "$TOOL" latency "$BS" "$t.public.$t" "$WORK/$t.lat" "$WORK/$t.count" \
        $((secs + LAT_WARM + 600)) >"$WORK/$t.cons" 2>&1 &
      local cons=$!
      PIDS+=($cons)
      wait_for 60 "latency consumer for $t" grep -qs '^ready' "$WORK/$t.cons"
      case $k in
        walcast|base|warm)
          connector_props "$WORK/$t.properties" "$t" "$t" "${t}_pub"
          WALCAST_LOG=debug "$([ "$k" = base ] && echo "$BASE_WALCAST" || echo "$WALCAST")" run --worker "$WORK/worker.properties" "$WORK/$t.properties" >/dev/null 2>"$WORK/walcast-$t.log" &
          RPID=$! ; PIDS+=($RPID) ;;
        dbz*)
          dbz_props "$WORK/$t.properties" "$t" "$t" "${t}_pub" "$t" $([ "$k" = dbztun ] && echo 1 || echo 0)
          dbz_start "$WORK/connect-$t" "$WORK/$t.properties"
          RPID=$DBZ_PID ;;
      esac
    fi
    PIDS+=($cons)
    wait_for 180 "streaming from slot $t" slot_active "$t"
    load "$t" "$LAT_WARM" >/dev/null
    # measure only once the reader has caught up with the warm-up (JIT, connections, first batches)
    wait_for 300 "$k catching up with the warm-up load" lat_seen "$WORK/$t.lat" "$(q -c "SELECT count(*) FROM $t")"
    from=$(q -c "SELECT (extract(epoch from clock_timestamp()) * 1000000)::bigint")
    tps=$(load "$t" "$secs")
    LAT_TO[$kr]=$(date +%s%3N)
    q -c "SELECT count(*) FROM $t" >"$WORK/$t.count.tmp" && mv "$WORK/$t.count.tmp" "$WORK/$t.count"
    wait $cons || { cat "$WORK/$t.cons" >&2; [ -n "${DBZ_LOG:-}" ] && tail -20 "$DBZ_LOG" >&2; die "latency consumer for $t failed"; }
    rss=-
    if [ "$k" != ref ]; then
      rss=$(( $(hwm_of "$RPID") / 1024 ))
      if [ "$k" != "${k#dbz}" ]; then dbz_stop; else kill -INT "$RPID"; wait "$RPID" 2>/dev/null || true; fi
    fi
    slot_drop "$t"
    read -r p50 p99 n < <(pct "$WORK/$t.lat" "$from")
    LAT[$kr]="${tps%.*} $p50 $p99 $n $rss"
    LAT_FROM[$kr]=$from
    LAT_T[$kr]=$t
    echo "bench: latency $k (round $ROUND): ${LAT[$kr]}" >&2
  }
  lat_seen() { [ "$(wc -l <"$1")" -ge "$2" ]; }
  # the broker's warm-up: one walcast pass, measured but not shown (see the header)
  ROUND=0
  [ "${BENCH_LAT_BROKER_WARMUP:-1}" = 0 ] || lat_phase warm lat_warm
  # each reader once a round; every second round in the reverse order, so that no reader always runs right
  # after the same one (the order moved p50s by several ms: the first walcast-type reader of a run was slower)
  REV=$(printf '%s\n' $LAT_READERS | tac | tr '\n' ' ')
  for ROUND in $(seq 1 "$LAT_ROUNDS"); do
    if [ $((ROUND % 2)) = 1 ]; then order=$LAT_READERS; else order=$REV; fi
    for k in $order; do lat_phase "$k" "lat_$k$([ "$ROUND" = 1 ] || echo "_r$ROUND")"; done
  done
  lat_col() {  # reader column(1-5) -> that figure of every round, one per line
    local r
    for r in $(seq 1 "$LAT_ROUNDS"); do echo "${LAT[$1.$r]}" | cut -d' ' -f"$2"; done
  }
  for k in $LAT_READERS; do   # LAT[key]: the medians over the rounds, "tps p50 p99 n rss"
    LAT[$k]="$(median $(lat_col "$k" 1)) $(median $(lat_col "$k" 2)) $(median $(lat_col "$k" 3)) $(median $(lat_col "$k" 4)) $(median $(lat_col "$k" 5 | grep -v '^-$') 2>/dev/null || echo -)"
    [ "$k" != ref ] || LAT[$k]="$(echo "${LAT[$k]}" | cut -d' ' -f1-4) -"
  done
  echo
  echo "== commit -> visible latency, $LAT_RATE single-row transactions/s for ${LAT_SECS}s (synchronous_commit=on), medians of"
  echo "   $LAT_ROUNDS rounds (one run per reader a round, the order reversed every second round), measured after ${LAT_WARM}s"
  echo "   of warm-up load once the reader had caught up with it; p50 and p99 of each round on the right"
  printf '%-46s %8s %9s %9s %8s %10s  %s\n' "reader" "tx/s" "p50 ms" "p99 ms" "events" "peak RSS" "rounds p50/p99"
  for k in $LAT_READERS; do
    case $k in
      ref) l="pg_recvlogical test_decoding (commit time)" ;;
      walcast) l="walcast defaults -> read_committed consumer" ;;
      base) l="BENCH_BASE_WALCAST, the same way" ;;
      dbztun) l="Debezium tuned -> consumer" ;;
      dbzdef) l="Debezium defaults -> consumer" ;;
    esac
    read -r a b c d e <<<"${LAT[$k]}"
    printf '%-46s %8s %9s %9s %8s %7s MB  %s\n' "$l" "$a" "$b" "$c" "$d" "$e" \
      "$(paste -d/ <(lat_col "$k" 2) <(lat_col "$k" 3) | tr '\n' ' ')"
  done
  if [ -n "${LAT[walcast.1]:-}" ] && [ -n "${LAT[dbztun.1]:-}" ]; then
    wins=0
    for r in $(seq 1 "$LAT_ROUNDS"); do
      awk "BEGIN { exit !($(echo "${LAT[walcast.$r]}" | cut -d' ' -f3) < $(echo "${LAT[dbztun.$r]}" | cut -d' ' -f3)) }" && wins=$((wins + 1))
    done
    echo "walcast's p99 below Debezium tuned's in $wins of $LAT_ROUNDS rounds"
  fi
  # the floor Kafka's transaction protocol puts under any exactly-once reader, same broker, same client
  # library: a producer doing only begin / produce one record / commit, read back read_committed
  /usr/bin/python3 "$ROOT/tests/integration/kafka_admin.py" "$BS" create bench_txn_floor 1 >/dev/null 2>&1 || true
  echo "transaction floor (librdkafka $(pkg-config --modversion rdkafka), begin/produce/commit of one record, paced at $LAT_RATE/s):"
  floor_from=$(date +%s%3N)
  echo "  $("$ROOT/build/bench/bench_txn_floor" "$BS" bench_txn_floor "$LAT_SECS" "$LAT_RATE" 1 2>&1 | tail -1)"
  floor1_to=$(date +%s%3N)
  echo "  $("$ROOT/build/bench/bench_txn_floor" "$BS" bench_txn_floor "$LAT_SECS" "$LAT_RATE" 3 2>&1 | tail -1)"
  floor3_to=$(date +%s%3N)
  echo "  (one producer: each transaction begins as soon as the previous EndTxn is answered, before the coordinator"
  echo "  has written its markers, and the broker refuses it with CONCURRENT_TRANSACTIONS until it has; librdkafka"
  echo "  retries after a fixed 20 ms. Three producers taking turns, as walcast's do, do not meet that refusal)"
  echo "broker's view (GC pauses; with BENCH_REQUEST_LOG=1 each API's requests, as the broker timed them):"
  for k in $(for r in $(seq 1 "$LAT_ROUNDS"); do printf '%s ' $(printf "%s.$r " $LAT_READERS); done) floor1 floor3; do
    case $k in
      ref.*) continue ;;
      floor1) f=$floor_from; to=$floor1_to ;;
      floor3) f=$floor1_to; to=$floor3_to ;;
      *) f=$((LAT_FROM[$k] / 1000)); to=${LAT_TO[$k]} ;;
    esac
    echo " $(echo "$k" | sed 's/\.\([0-9]*\)$/ (round \1)/'):"
    /usr/bin/python3 "$TOOL" gc "$WORK/kafka-gc.log" "$f" "$to" || true
    [ -z "${KAFKA_REQUEST_LOG:-}" ] || /usr/bin/python3 "$TOOL" requests "$KAFKA_REQUEST_LOG" "$f" "$to" || true
  done
  for k in walcast base; do
    [ -n "${LAT[$k.1]:-}" ] || continue
    for r in $(seq 1 "$LAT_ROUNDS"); do
      t=${LAT_T[$k.$r]}
      echo "where $([ $k = base ] && echo "BENCH_BASE_WALCAST's" || echo "walcast's") latency goes in round $r (its \"latency trace\" debug lines joined with the consumer's arrivals):"
      /usr/bin/python3 "$TOOL" stages "$WORK/walcast-$t.log" "$WORK/$t.lat" "${LAT_FROM[$k.$r]}" ||
        echo "bench: no per-stage breakdown (see above)"
    done
  done
fi

echo "bench: load average $(cut -d' ' -f1-3 /proc/loadavg)"
# ---- targets --------------------------------------------------------------------------------------------
verdict() { case "$1" in *-\ *|*-) echo "not measured" ;; *) awk "BEGIN { exit !($1) }" && echo "met" || echo "NOT met" ;; esac; }
if [ "$THROUGHPUT" != 0 ] && [ -n "${RATE[dbztun]:-}" ]; then   # Debezium measured (BENCH_DBZ_RUNS > 0)
T=$(median ${RATE[dbztun]}); TR=$(median ${RSS[dbztun]}); SR=$(median ${RSS[schema]})
echo
echo "== walcast (JSON, schemas on, defaults) against the targets"
echo "rows/s vs Debezium tuned:  $(calc "%.2f" "$S / $T")x   (target >= 3: $(verdict "$S >= 3 * $T"))"
echo "peak RSS vs Debezium tuned: $(calc "%.3f" "$SR / $TR")   (target <= 0.1: $(verdict "$SR <= 0.1 * $TR"))"
echo "rows/s vs pg_recvlogical:  $(calc "%.2f" "$S / $R")x   (issue 21: >= 0.8: $(verdict "$S >= 0.8 * $R")); without schemas $(calc "%.2f" "$P / $R")x, Avro $(calc "%.2f" "$A / $R")x (>= 0.9: $(verdict "$P >= 0.9 * $R && $A >= 0.9 * $R"))"
echo "  the cores' ceiling at the CPU per row used (see the throughput table): schemas $(calc "%.2f" "$(ceiling schema) / $R")x, without $(calc "%.2f" "$(ceiling plain) / $R")x, Avro $(calc "%.2f" "$(ceiling avro) / $R")x of pg_recvlogical"
for k in schema plain avro; do
  c=$(median ${CPU[$k]}); ws=$(median ${WCPU[$k]})
  echo "CPU s per million rows, $k: $c vs its walsender's $ws (issue 21: <= 2x: $(verdict "$c <= 2 * $ws"))"
done
fi
if [ "$LAT_SECS" -gt 0 ] && [ -n "${LAT[walcast]:-}" ] && [ -n "${LAT[dbztun]:-}" ]; then
  read -r _ wp50 wp99 _ _ <<<"${LAT[walcast]}"; read -r _ _ dp99 _ _ <<<"${LAT[dbztun]}"
  echo "latency p99 $wp99 ms vs Debezium tuned p99 $dp99 ms, p50 $wp50 ms, medians of $LAT_ROUNDS rounds (issue 21: p99 < Debezium's, p50 <= 10: $(verdict "$wp99 < $dp99 && $wp50 <= 10"))"
fi

# ---- 3. peak RSS with one huge transaction, with and without walcast.streaming ---------------------------
if [ "$BIG" -gt 0 ]; then
  q -c "CREATE TABLE huge (id int PRIMARY KEY, v int NOT NULL)" -c "CREATE PUBLICATION huge_pub FOR TABLE huge"
  q -c "SELECT 1 FROM pg_create_logical_replication_slot('huge_plain', 'pgoutput')" \
    -c "SELECT 1 FROM pg_create_logical_replication_slot('huge_stream', 'pgoutput')" >/dev/null
  echo "bench: writing one transaction of $BIG rows"
  q -c "INSERT INTO huge SELECT g, g FROM generate_series(1, $BIG) g"
  END_LSN=$(q -c "SELECT pg_current_wal_insert_lsn()")
  bash "$ROOT/scripts/pg-flush.sh"
  big_run() {  # slot streaming -> as timed_walcast
    connector_props "$WORK/h.properties" "$1" huge huge_pub "status.update.interval.ms=200" \
      "key.converter.schemas.enable=false" "value.converter.schemas.enable=false" \
      "walcast.streaming=$2" "walcast.spill.dir=$WORK/spill"
    timed_walcast "$1" "$WORK/h.properties"
  }
  big_run huge_plain false; read -r ps prss _ <<<"$RES"
  big_run huge_stream true; read -r ss srss _ <<<"$RES"
  spilled=$(grep -o 'spilled_bytes=[0-9]* spill_file_bytes=[0-9]*' "$WORK/walcast-huge_stream.log" | tail -1)
  echo
  echo "== one transaction of $BIG rows (narrow table), walcast -> Kafka"
  printf '%-46s %12s %14s\n' "walcast" "rows/s" "peak RSS"
  printf '%-46s %12s %11s MB\n' "walcast.streaming=false (producer queue bound)" "$(calc "%.0f" "$BIG / $ps")" "$((prss / 1024))"
  printf '%-46s %12s %11s MB\n' "walcast.streaming=true (64 MB budget + spill)" "$(calc "%.0f" "$BIG / $ss")" "$((srss / 1024))"
  echo "streaming spill: ${spilled:-none reported}"
fi

if [ "${BENCH_MICRO:-1}" != 0 ]; then
echo; "$ROOT/build/bench/bench_transform" "${BENCH_TF_RECORDS:-500000}" "${BENCH_TF_RUNS:-7}" || echo "bench: bench_transform failed"   # the chain per record
echo; "$ROOT/build/bench/bench_avro" "${BENCH_AVRO_RECORDS:-200000}" "${BENCH_AVRO_RUNS:-7}" || echo "bench: bench_avro failed"   # sink Avro decode: walcast vs avro-c
echo; "$ROOT/build/bench/bench_json_dec" "${BENCH_JSON_RECORDS:-100000}" "${BENCH_JSON_RUNS:-7}" || echo "bench: bench_json_dec failed"   # sink JSON decode: the two readers
echo; "$ROOT/build/bench/bench_decoder" "${BENCH_DEC_RECORDS:-200000}" "${BENCH_DEC_RUNS:-5}" || echo "bench: bench_decoder failed"   # source: parse + event + converter, CPU ns/row
if [ -n "${BS:-}" ]; then   # the produce path alone, on the bench's broker: CPU per row per thread, 3 runs
  echo; for _ in 1 2 3; do "$ROOT/build/bench/bench_produce" "$BS" bench_produce "${BENCH_PRODUCE_ROWS:-100000}" 1000 2>/dev/null || echo "bench: bench_produce failed"; done
fi
fi

# ---- 4. apply workers: a JDBC sink into PostgreSQL and into MariaDB next to COPY / LOAD DATA --------------
# (scripts/bench_sink.sh, its own servers; BENCH_SINK=0 skips it)
if [ "${BENCH_SINK:-1}" != 0 ]; then
  echo
  bash "$ROOT/scripts/bench_sink.sh"
fi

# ---- 5. the reference for 4: Debezium's JDBC sink on the same kind of topic and settings --------------
# (scripts/bench_sink_reference.sh: Kafka Connect standalone, its own servers; BENCH_SINK_REF=0 skips it)
if [ "${BENCH_SINK:-1}" != 0 ] && [ "${BENCH_SINK_REF:-1}" != 0 ]; then
  echo
  echo "Debezium JDBC sink (3.6.0.Final, Connect 4.4.0 standalone), same settings, rows/s:"
  bash "$ROOT/scripts/bench_sink_reference.sh" || echo "bench: the JDBC sink reference run failed (see above)"
fi
