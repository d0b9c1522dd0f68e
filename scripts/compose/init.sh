#!/bin/sh
# init.sh: the compose stack's one-shot init service (POSIX sh and curl, as in Debezium's tutorial). It
# waits for walcast's REST API, creates the source connector and the three sinks with POST /connectors
# (each body in /connectors/*.json; a connector that already exists is left as it is, so `up` again is
# harmless), waits until each is RUNNING, then prints where to look.
# Environment: WALCAST_URL (default http://walcast:8083), PUBLIC_URL (what a browser on the host opens,
# default http://localhost:8083), INIT_WAIT (seconds, default 180).
set -eu
URL=${WALCAST_URL:-http://walcast:8083}
PUBLIC=${PUBLIC_URL:-http://localhost:8083}
WAIT=${INIT_WAIT:-180}

i=0
until curl -fsS "$URL/" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -ge "$WAIT" ] && { echo "init: walcast's REST API at $URL did not answer in ${WAIT}s" >&2; exit 1; }
  sleep 1
done
echo "init: walcast answers at $URL: $(curl -fsS "$URL/")"

for f in /connectors/source.json /connectors/*-sink.json; do
  name=$(sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p' "$f" | head -1)
  code=$(curl -sS -o /tmp/body -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data @"$f" "$URL/connectors")
  case "$code" in
    201) echo "init: created $name" ;;
    409) echo "init: $name exists already" ;;
    *) echo "init: POST /connectors for $name answered $code: $(cat /tmp/body)" >&2; exit 1 ;;
  esac
done

for f in /connectors/source.json /connectors/*-sink.json; do
  name=$(sed -n 's/^ *"name": *"\([^"]*\)".*/\1/p' "$f" | head -1)
  i=0
  while :; do
    status=$(curl -fsS "$URL/connectors/$name/status" 2>/dev/null || true)
    case "$status" in
      *'"tasks":[{'*'"state":"RUNNING"'*) echo "init: $name is RUNNING"; break ;;
      *'"state":"FAILED"'*) echo "init: $name FAILED: $status" >&2; exit 1 ;;
    esac
    i=$((i + 1))
    [ "$i" -ge "$WAIT" ] && { echo "init: $name is not RUNNING after ${WAIT}s: $status" >&2; exit 1; }
    sleep 1
  done
done

echo "init: the stack runs. Replication-lag dashboard: $PUBLIC/dashboard"
echo "init: metrics: $PUBLIC/metrics · connectors: $PUBLIC/connectors?expand=status"
