#!/usr/bin/env bash
# test_free_port.sh: scripts/ports.sh's free_port never hands the same port to two scripts running side by
# side (two integration lanes, a helper's bench) in the window between one's probe and its server's bind;
# a claim older than 10 minutes is taken again; where claims cannot be written it still hands out ports.
# No server: the ports are only handed out, never bound, which is that window held open.
. "$(dirname "$0")/lib.sh"
it_init
export WALCAST_PORT_CLAIMS="$IT_DIR/claims"
# The test's 60 ports lie outside the range the servers of the other integration lane take theirs from
# (free_port's default, 16000-31999): a server listening inside the test's range left fewer than 60 to hand
# out (CI, 2026-12-06: "no free loopback port in 30000-30059"). Below Linux's ephemeral ports (32768), in
# the first 60-port window of 32000-32759 where nothing listens now.
LOW=
for w in $(seq 32000 60 32700); do
  busy=0
  for ((p = w; p < w + 60; p++)); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { busy=1; break; }; done
  [ $busy = 0 ] && { LOW=$w; break; }
done
[ -n "$LOW" ] || { echo "every 60-port window of 32000-32759 has a listener: cannot run"; exit 1; }
export LOW
pick() {  # OUT: 30 ports of [LOW, LOW+60), each in a new shell as a script of its own would
  for _ in $(seq 1 30); do
    bash -c '. "$1/scripts/ports.sh"; free_port port "$LOW" 60 && echo "$port"' _ "$ROOT"
  done >"$1"
}
pick "$IT_DIR/a" & a=$!
pick "$IT_DIR/b" & b=$!
wait $a; wait $b
[ "$(cat "$IT_DIR/a" "$IT_DIR/b" | wc -l)" -eq 60 ] || { echo "expected 60 ports handed out"; exit 1; }
dups=$(cat "$IT_DIR/a" "$IT_DIR/b" | sort | uniq -d)
[ -z "$dups" ] || { echo "the same port was handed out twice: $(echo $dups)"; exit 1; }
# all 60 claimed: nothing left in the range
if bash -c '. "$1/scripts/ports.sh"; free_port port "$LOW" 60' _ "$ROOT" 2>"$IT_DIR/none.err"; then
  echo "expected no free port once all 60 are claimed"; exit 1
fi
grep -q "none unclaimed in $WALCAST_PORT_CLAIMS" "$IT_DIR/none.err"
# a stale claim (11 minutes old) is handed out again
touch -d '11 minutes ago' "$WALCAST_PORT_CLAIMS/$((LOW + 7))"
[ "$(bash -c '. "$1/scripts/ports.sh"; free_port port "$LOW" 60 && echo "$port"' _ "$ROOT")" = $((LOW + 7)) ]
# claims that cannot be written: ports are still handed out (no claim, as before)
[ -n "$(WALCAST_PORT_CLAIMS=/proc/walcast-no-claims bash -c '. "$1/scripts/ports.sh"; free_port port "$LOW" 60 && echo "$port"' _ "$ROOT")" ]
echo "free_port: 60 ports to two scripts side by side, no port twice"
