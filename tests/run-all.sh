#!/usr/bin/env bash
# run-all.sh: the whole suite (unit, then integration); the last line is "N passed, N failed", after
# a "failed: ..." line per failed test.
set -uo pipefail
cd "$(dirname "$0")/.."
unit_out=$(bash tests/run-unit.sh "$@" 2>&1); unit_rc=$?
echo "$unit_out"
it_out=$(bash tests/integration/run.sh 2>&1); it_rc=$?
echo "$it_out"
up=$(echo "$unit_out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
uf=$(echo "$unit_out" | sed -n 's/^unit: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
ip=$(echo "$it_out" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
if_=$(echo "$it_out" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
# CI shows only the last lines of this output: name what failed there again, with its first reason line
{ echo "$unit_out" | grep -E "^unit .*: FAILED" | head -5
  echo "$it_out" | awk '/^integration .*: FAILED/ { if (n) print n; n = $0; next }
                        n && /^    > / { print n " --" substr($0, 6); n = ""; next }
                        /^integration / { if (n) print n; n = "" }
                        END { if (n) print n }' | head -8
} | sed 's/^/failed: /'
echo "$(( ${up:-0} + ${ip:-0} )) passed, $(( ${uf:-1} + ${if_:-1} )) failed"
[ $unit_rc -eq 0 ] && [ $it_rc -eq 0 ]
