#!/usr/bin/env bash
# run.sh: runs every tests/integration/test_*.sh (or those given), each in its own process, against
# one real Kafka broker started here for the whole run (scripts/kafka.sh) and stopped at the end, or
# against WALCAST_TEST_BOOTSTRAP=host:port when set (your own Kafka; only test topics are deleted).
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0; fail=0; failed=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/integration/test_*.sh)
if [ -z "${WALCAST_TEST_BOOTSTRAP:-}" ]; then
  kdir=$(mktemp -d /tmp/walcast-suite-kafka.XXXXXX)
  trap 'bash scripts/kafka.sh stop "$kdir"' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  start=$(date +%s)
  if ! bash scripts/kafka.sh start "$kdir" >"$kdir.out" 2>"$kdir.err"; then
    cat "$kdir.out" "$kdir.err"; rm -f "$kdir.out" "$kdir.err"
    echo "integration: the suite's Kafka broker did not start"
    echo "integration: 0 passed, ${#tests[@]} failed"
    exit 1
  fi
  WALCAST_TEST_BOOTSTRAP=$(sed -n 's/^bootstrap.servers=//p' "$kdir.out")
  rm -f "$kdir.out" "$kdir.err"
  echo "integration: Kafka $WALCAST_TEST_BOOTSTRAP started in $(( $(date +%s) - start ))s"
fi
export WALCAST_TEST_BOOTSTRAP
# each run's logs in a folder of its own: two runs side by side (two clones) must not share a log file
logdir=$(mktemp -d /tmp/walcast-it-logs.XXXXXX)
for t in "${tests[@]}"; do
  start=$(date +%s)
  log="$logdir/$(basename "$t").log"
  if bash "$t" >"$log" 2>&1; then
    echo "integration $(basename "$t"): ok ($(( $(date +%s) - start ))s)"
    pass=$((pass + 1))
  else
    echo "integration $(basename "$t"): FAILED ($(( $(date +%s) - start ))s)"
    sed 's/^/    /' "$log" | tail -40
    fail=$((fail + 1)); failed+=("$t")
  fi
  rm -f "$log"
done
rmdir "$logdir"
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
