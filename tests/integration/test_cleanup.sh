#!/usr/bin/env bash
# test_cleanup.sh: the cleanup of a test (lib.sh's it_cleanup) and of a benchmark (bench_lib.sh's
# bench_cleanup) signals only processes that are still its own. Their PID lists keep the numbers of processes
# they stopped and reaped already, and on a busy machine (pid_max 32768) such a number soon belongs to
# another process: a Kafka broker that run.sh was starting was SIGKILLed so. Here the other process is a
# sleep of this test's, whose number each cleanup finds in its list beside a process of its own: the sleep
# must survive both cleanups, their own processes must not.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/walcast-it-cleanup.XXXXXX)
sleep 300 &
OTHER=$!
trap 'kill "$OTHER" 2>/dev/null; rm -rf "$TMP"' EXIT

# $1 names the cleanup; $2 is the file holding the PID of its own process
check() {
  local own
  own=$(cat "$2")
  kill -0 "$OTHER" 2>/dev/null || { echo "$1 killed a process that is not its own (pid $OTHER)" >&2; exit 1; }
  for _ in $(seq 1 50); do kill -0 "$own" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$own" 2>/dev/null; then echo "$1 left its own process $own running" >&2; kill "$own"; exit 1; fi
  echo "$1: its own process stopped, the other one untouched"
}

bash -c '. "$1/tests/integration/lib.sh"; it_init; sleep 300 & IT_PIDS+=($! "$2"); echo $! >"$3"' \
  _ "$ROOT" "$OTHER" "$TMP/it.pid"
check it_cleanup "$TMP/it.pid"
bash -c 'ROOT=$1; . "$ROOT/scripts/bench_lib.sh"; bench_init cleanup-test cleanup-test; sleep 300 & PIDS+=($! "$2"); echo $! >"$3"' \
  _ "$ROOT" "$OTHER" "$TMP/bench.pid"
check bench_cleanup "$TMP/bench.pid"
