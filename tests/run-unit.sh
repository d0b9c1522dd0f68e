#!/usr/bin/env bash
# run-unit.sh: runs every cmocka binary given; prints per-suite results and returns non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
for b in "$@"; do
  case "$b" in *.d) continue ;; esac
  if out=$("$b" 2>&1); then
    n=$(echo "$out" | sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    echo "unit $(basename "$b"): ${n:-0} passed"
    pass=$((pass + ${n:-0}))
  else
    echo "$out" | grep -E "ERROR|FAILED|LINE" >&2
    n=$(echo "$out" | sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    echo "unit $(basename "$b"): FAILED (${n:-?} tests)"
    fail=$((fail + ${n:-1}))
  fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
