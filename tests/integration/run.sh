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
for t in "${tests[@]}"; do
  start=$(date +%s)
  if bash "$t" >"/tmp/walcast-it-$(basename "$t").log" 2>&1; then
    echo "integration $(basename "$t"): ok ($(( $(date +%s) - start ))s)"
    pass=$((pass + 1))
  else
    echo "integration $(basename "$t"): FAILED ($(( $(date +%s) - start ))s)"
    sed 's/^/    /' "/tmp/walcast-it-$(basename "$t").log" | tail -40
    fail=$((fail + 1)); failed+=("$t")
  fi
  rm -f "/tmp/walcast-it-$(basename "$t").log"
done
echo "integration: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
