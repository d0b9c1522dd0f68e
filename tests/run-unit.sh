#!/usr/bin/env bash
# run-unit.sh: runs every cmocka binary given; prints per-suite results and returns non-zero on failure.
# UNIT_LABEL names the run in its lines (default "unit"; "unit-asan" for the AddressSanitizer build).
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
label=${UNIT_LABEL:-unit}
for b in "$@"; do
  case "$b" in *.d) continue ;; esac
  if out=$("$b" 2>&1); then
    n=$(echo "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    echo "$label $(basename "$b"): ${n:-0} passed"
    pass=$((pass + ${n:-0}))
  else
    # cmocka's failures, and a sanitizer's report with its stack (a leak fails a test that passed)
    echo "$out" | grep -E "ERROR|FAILED|LINE|^SUMMARY|^(Direct|Indirect) leak|^    #[0-9]+ " | head -60 >&2
    n=$(echo "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    echo "$label $(basename "$b"): FAILED (${n:-?} tests)"
    fail=$((fail + ${n:-1}))
  fi
done
echo "$label: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
