#!/usr/bin/env bash
# run-all.sh: the whole suite (unit, then integration); the last line is "N passed, N failed", after
# a "failed: ..." line per failed test.
set -uo pipefail
cd "$(dirname "$0")/.."
unit_out=$(bash tests/run-unit.sh "$@" 2>&1); unit_rc=$?
# the same tests built under AddressSanitizer (make test builds them; ASAN_UNIT_BIN names them)
if [ -n "${ASAN_UNIT_BIN:-}" ]; then
  # shellcheck disable=SC2086
  asan_out=$(UNIT_LABEL=unit-asan bash tests/run-unit.sh $ASAN_UNIT_BIN 2>&1) || unit_rc=1
  unit_out="$unit_out
$asan_out"
fi
echo "$unit_out"
it_out=$(bash tests/integration/run.sh 2>&1); it_rc=$?
echo "$it_out"
up=$(echo "$unit_out" | sed -n 's/^unit\(-asan\)\{0,1\}: \([0-9]*\) passed, \([0-9]*\) failed/\2/p' | awk '{ s += $1 } END { print s + 0 }')
uf=$(echo "$unit_out" | sed -n 's/^unit\(-asan\)\{0,1\}: \([0-9]*\) passed, \([0-9]*\) failed/\3/p' | awk '{ s += $1 } END { print s + 0 }')
[ -n "$(echo "$unit_out" | sed -n '/^unit: /p')" ] || uf=1   # no unit summary line: the unit run itself broke
ip=$(echo "$it_out" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
if_=$(echo "$it_out" | sed -n 's/^integration: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
# CI shows only the last lines of this output: name what failed there again, with its first reason line
{ echo "$unit_out" | grep -E "^unit(-asan)? .*: FAILED" | head -5
  echo "$it_out" | awk '/^integration .*: FAILED/ { if (n) print n; n = $0; next }
                        n && /^    > / { print n " --" substr($0, 6); n = ""; next }
                        /^integration / { if (n) print n; n = "" }
                        END { if (n) print n }' | head -8
} | sed 's/^/failed: /'
echo "$(( ${up:-0} + ${ip:-0} )) passed, $(( ${uf:-1} + ${if_:-1} )) failed"
[ $unit_rc -eq 0 ] && [ $it_rc -eq 0 ]
