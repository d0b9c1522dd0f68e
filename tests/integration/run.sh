#!/usr/bin/env bash
# run.sh: runs every tests/integration/test_*.sh (or those given), each in its own process. Tests run
# in WALCAST_IT_LANES lanes side by side (default 2, one per core; 1 when a few tests are given), each
# lane against a real Kafka broker of its own started here (scripts/kafka.sh) and stopped at the end:
# tests of one lane share a broker (each deletes the test topics it finds), never one of another lane.
# With WALCAST_TEST_BOOTSTRAP=host:port (your own Kafka; only test topics are deleted) there is one lane.
# The lanes take their tests from one queue, each the next one when its last one ends (the longest first):
# dealt round the lanes in advance, the lanes ended 529 s apart (CI of 9f44881: 1,300 s of tests on one lane,
# 771 on the other, the suite 1,310 s; from one queue, the same tests give ~1,040 s).
set -uo pipefail
cd "$(dirname "$0")/../.."
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/integration/test_*.sh)
lanes=${WALCAST_IT_LANES:-2}
[ ${#tests[@]} -lt 4 ] && lanes=1
[ -n "${WALCAST_TEST_BOOTSTRAP:-}" ] && lanes=1
# each run's logs in a folder of its own: two runs side by side (two clones) must not share a log file
logdir=$(mktemp -d /tmp/walcast-it-logs.XXXXXX)
lane_pids=()
cleanup() {
  for p in "${lane_pids[@]:-}"; do [ -n "$p" ] && kill -TERM "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The longest tests first (seconds in the CI of 9f44881 on two lanes: 311 127 121 110 109 88 82 73 43 41 38 36
# 30), then the rest in name order (all under 30 s): the lanes end within a short test of each other.
long=(test_reference.sh test_cluster.sh test_broker_outage.sh test_transforms_reference_avro.sh
      test_docker_stack.sh test_encode_kill.sh test_demo.sh test_transforms_reference.sh test_broker_failover.sh
      test_sink_mongo_conflicts.sh test_sink_mongo.sh test_sink_tasks.sh test_snapshot_lanes_kill.sh)
ordered=()
for l in "${long[@]}"; do for t in "${tests[@]}"; do [ "$(basename "$t")" = "$l" ] && ordered+=("$t"); done; done
for t in "${tests[@]}"; do
  case " ${long[*]} " in *" $(basename "$t") "*) ;; *) ordered+=("$t") ;; esac
done

# next_test: the next test of the queue (taken off it), or nothing when it is empty
next_test() {
  local t
  {
    flock 9
    t=$(head -n 1 "$logdir/queue")
    [ -z "$t" ] || sed -i 1d "$logdir/queue"
  } 9>"$logdir/queue.lock"
  printf '%s' "$t"
}

# lane N: its own broker (unless WALCAST_TEST_BOOTSTRAP), then tests from the queue until it is empty; one
# result line a test in $logdir/lane.N ("ok|FAILED NAME SECONDS"), the log of a failed test kept. A lane whose
# broker does not start takes no test (the other lanes run them) and fails the suite.
lane() {
  local n=$1 kdir="" start t log
  if [ -z "${WALCAST_TEST_BOOTSTRAP:-}" ]; then
    kdir=$(mktemp -d /tmp/walcast-suite-kafka.XXXXXX)
    trap 'bash scripts/kafka.sh stop "$kdir"' EXIT
    trap 'exit 143' TERM
    start=$(date +%s)
    if ! bash scripts/kafka.sh start "$kdir" >"$kdir.out" 2>"$kdir.err"; then
      { echo "lane $n: the Kafka broker did not start"; cat "$kdir.out" "$kdir.err"; } >"$logdir/lane.$n.broker"
      rm -f "$kdir.out" "$kdir.err"
      return 1
    fi
    # the lane's own broker: a test's reset deletes every topic an earlier test left (kafka_admin.py)
    export WALCAST_TEST_BOOTSTRAP WALCAST_TEST_BROKER_OWNED=1
    WALCAST_TEST_BOOTSTRAP=$(sed -n 's/^bootstrap.servers=//p' "$kdir.out")
    rm -f "$kdir.out" "$kdir.err"
    echo "integration: lane $n: Kafka $WALCAST_TEST_BOOTSTRAP started in $(( $(date +%s) - start ))s"
  fi
  while t=$(next_test) && [ -n "$t" ]; do
    start=$(date +%s)
    log="$logdir/$(basename "$t").log"
    # a bound per test: one that hangs fails (its TERM trap cleans up) instead of holding the suite
    if timeout -k 30 "${WALCAST_IT_TEST_TIMEOUT:-900}" bash "$t" >"$log" 2>&1; then
      echo "ok $(basename "$t") $(( $(date +%s) - start ))" >>"$logdir/lane.$n"
      rm -f "$log"
    else
      echo "FAILED $(basename "$t") $(( $(date +%s) - start ))" >>"$logdir/lane.$n"
    fi
  done
}

suite_start=$(date +%s)
printf '%s\n' "${ordered[@]}" >"$logdir/queue"
for ((n = 0; n < lanes; n++)); do
  lane "$n" &
  lane_pids+=($!)
done
for p in "${lane_pids[@]}"; do wait "$p"; done
lane_pids=()

pass=0; fail=0
for f in "$logdir"/lane.*.broker; do [ -f "$f" ] && { cat "$f"; fail=$((fail + 1)); }; done
for t in "${tests[@]}"; do
  name=$(basename "$t")
  line=$(cat "$logdir"/lane.[0-9]* 2>/dev/null | awk -v n="$name" '$2 == n' | tail -1)
  if [ "${line%% *}" = ok ]; then
    echo "integration $name: ok (${line##* }s)"
    pass=$((pass + 1))
  elif [ -z "$line" ]; then
    echo "integration $name: FAILED (not run: no lane could take it)"
    fail=$((fail + 1))
  else
    echo "integration $name: FAILED (${line##* }s)"
    # the test's own last lines (where it says what failed) first, then the tail of the logs it dumps;
    # the lines that look like its reason (a test may dump a long listing after it), and the whole
    # output kept in build/test-artefacts/integration/ (a test's own folder is removed when it ends)
    if [ -f "$logdir/$name.log" ]; then
      mkdir -p build/test-artefacts/integration && cp "$logdir/$name.log" build/test-artefacts/integration/
      # and a copy outside the clone, which a CI run removes with it (WALCAST_FAILED_LOGS= keeps none)
      keep=${WALCAST_FAILED_LOGS-/var/tmp/walcast-failed-tests}
      [ -z "$keep" ] || { mkdir -p "$keep" && cp "$logdir/$name.log" "$keep/$(date -u +%Y%m%dT%H%M%S)-$name.log"; } 2>/dev/null || true
      echo "    (whole output: build/test-artefacts/integration/$name.log; the lines that look like its reason:)"
      sed -n '/^--- logs of the failed test/q;p' "$logdir/$name.log" |
        grep -E -m 8 "expected|differ|never|did not|missing|not found|FAIL|[Ee]rror|timed out|after [0-9]+ s" | sed 's/^/    > /'
      sed -n '/^--- logs of the failed test/q;p' "$logdir/$name.log" | tail -25 | sed 's/^/    /'
      sed -n '/^--- logs of the failed test/,$p' "$logdir/$name.log" | tail -30 | sed 's/^/    /'
    fi
    fail=$((fail + 1))
  fi
done
echo "integration: $lanes lane(s), $(( $(date +%s) - suite_start ))s"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
