#!/usr/bin/env bash
# run.sh: runs every tests/integration/test_*.sh (or those given), each in its own process.
set -uo pipefail
cd "$(dirname "$0")/../.."
pass=0; fail=0; failed=()
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=(tests/integration/test_*.sh)
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
