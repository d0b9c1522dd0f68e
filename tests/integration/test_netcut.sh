#!/usr/bin/env bash
# test_netcut.sh: scripts/netcut.sh cuts one process, and only it, off from the Kafka broker and gives it
# back: a client started under `netcut.sh exec` gets metadata, times out while cut (on the connection it
# already had, and a new client in the same cgroup cannot connect), while a client outside the cgroup keeps
# working; after `restore` the same client works again. `cut --for` restores by itself, and when it is
# stopped by a signal before its time is up; the rules are gone afterwards and no other rule was touched.
. "$(dirname "$0")/lib.sh"
it_init
NC="$ROOT/scripts/netcut.sh"
NAME="it$$"
NCCLEAN=""
# the cgroup and any rules first, then lib.sh's cleanup, which reads the test's exit status from $?
netcut_cleanup() {
  local rc=$?
  [ -z "$NCCLEAN" ] || bash "$NC" clean "$NAME" || true
  (exit $rc)
  it_cleanup
}
trap netcut_cleanup EXIT
bash "$NC" check
kafka_start
PORTS=$(tr ',' '\n' <<<"$BS" | sed 's/.*://' | paste -sd,)
# the chains netcut.sh adds its jumps to, less any cut's (other tests may cut meanwhile; Docker changes
# FORWARD and its own chains meanwhile, so those are not compared)
rules() { iptables-save -t filter | grep -E '^-A (INPUT|OUTPUT) ' | grep -v 'WCNC-' || true; }
rules >"$IT_DIR/rules.before"

# the client: one metadata request every 0.2 s on its one AdminClient, a line per answer
NCCLEAN=1
bash "$NC" exec "$NAME" "$PY" -c '
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_DFL)
from confluent_kafka.admin import AdminClient
a = AdminClient({"bootstrap.servers": sys.argv[1]})
while True:
    try:
        a.list_topics(timeout=2)
        print("ok", flush=True)
    except Exception as e:
        print("fail", e, flush=True)
    time.sleep(0.2)' "$BS" >"$IT_DIR/client.log" 2>&1 &
IT_PIDS+=($!)
# wait_line WORD FROM SECONDS: until a line WORD appears after line FROM of the client's log
wait_line() {
  local n
  for _ in $(seq 1 $(($3 * 10))); do
    n=$(tail -n +"$(($2 + 1))" "$IT_DIR/client.log" | grep -c "^$1" || true)
    [ "$n" -gt 0 ] && return 0
    sleep 0.1
  done
  echo "no '$1' from the client within $3 s after line $2" >&2; cat "$IT_DIR/client.log" >&2; return 1
}
outside_ok() { timeout 20 kcat -b "$BS" -L -m 5 >/dev/null 2>&1; }
wait_line ok 0 60

bash "$NC" cut "$NAME" "$PORTS"
[ "$(bash "$NC" status "$NAME")" = cut ]
at=$(wc -l <"$IT_DIR/client.log")
wait_line fail "$at" 30
# a new connection from the cgroup is refused too; a process outside it is not cut
if timeout 20 bash "$NC" exec "$NAME" kcat -b "$BS" -L -m 3 >/dev/null 2>&1; then
  echo "a new client in the cut cgroup reached the broker" >&2; exit 1
fi
outside_ok || { echo "a client outside the cut cgroup could not reach the broker" >&2; exit 1; }
# still cut: after the first failure no answer at all (an answer in flight at the cut may come before it)
at2=$(wc -l <"$IT_DIR/client.log")
wait_line fail "$at2" 30
if tail -n +"$((at + 1))" "$IT_DIR/client.log" | sed -n '/^fail/,$p' | grep -q '^ok'; then
  echo "the client got an answer while cut" >&2; cat "$IT_DIR/client.log" >&2; exit 1
fi

bash "$NC" restore "$NAME"
[ "$(bash "$NC" status "$NAME")" = open ]
bash "$NC" restore "$NAME"    # a second restore has nothing to do
at=$(wc -l <"$IT_DIR/client.log")
wait_line ok "$at" 90
rules >"$IT_DIR/rules.after"
diff "$IT_DIR/rules.before" "$IT_DIR/rules.after" >&2 || { echo "rules other than netcut's changed" >&2; exit 1; }

# cut --for: cut, then restored by itself
start=$(date +%s)
bash "$NC" cut "$NAME" "$PORTS" --for 4 2>/dev/null
[ $(( $(date +%s) - start )) -ge 4 ] || { echo "cut --for 4 returned early" >&2; exit 1; }
[ "$(bash "$NC" status "$NAME")" = open ]
# cut --for stopped by SIGTERM long before its time: its trap restores
bash "$NC" cut "$NAME" "$PORTS" --for 600 2>/dev/null &
cutter=$!
for _ in $(seq 1 100); do [ "$(bash "$NC" status "$NAME")" = cut ] && break; sleep 0.1; done
[ "$(bash "$NC" status "$NAME")" = cut ] || { echo "cut --for did not cut" >&2; exit 1; }
kill -TERM "$cutter"
wait "$cutter" 2>/dev/null || true
[ "$(bash "$NC" status "$NAME")" = open ] || { echo "cut --for killed by SIGTERM left its rules" >&2; exit 1; }
at=$(wc -l <"$IT_DIR/client.log")
wait_line ok "$at" 90
rules >"$IT_DIR/rules.after"
diff "$IT_DIR/rules.before" "$IT_DIR/rules.after" >&2 || { echo "rules other than netcut's changed" >&2; exit 1; }
if iptables-save -t filter | grep -q "WCNC-$NAME"; then echo "WCNC-$NAME left behind" >&2; exit 1; fi

# bad input: a clear error, nothing changed
if out=$(bash "$NC" cut "$NAME" "9092;x" 2>&1); then echo "bad ports accepted" >&2; exit 1; fi
grep -q "PORTS" <<<"$out" || { echo "unclear error: $out" >&2; exit 1; }
if out=$(bash "$NC" cut "nosuchcgroup$$" "$PORTS" 2>&1); then echo "cut of a name with no cgroup accepted" >&2; exit 1; fi
grep -q "netcut.sh exec" <<<"$out" || { echo "unclear error: $out" >&2; exit 1; }
echo "test_netcut: ok"
