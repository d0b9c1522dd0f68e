#!/usr/bin/env bash
# test_cluster_restart.sh: restarts through a worker of a cluster that does not run the connector (issue 24)
# take effect on the worker that does, as Connect's (whose leader writes restart-connector-<n> into the
# config topic): two walcast workers of one group.id, one source connector; POST /connectors/c/restart
# (204), ?includeTasks=true (202, the plan shows RESTARTING) and /tasks/0/restart (204) sent to the other
# worker each end the owner's walsender and start a new one (the slot's active_pid changes), the connector
# RUNNING again on the owner; an unknown connector is 404. Rows written between are in Kafka exactly once,
# in order. Failed before: the other worker answered 204 and nothing was restarted.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
kafka_start
GROUP=itcr-$$
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)"
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 cr.public.t
declare -a PORT WPID
for w in 1 2; do
  PORT[$w]=$(free_port)
  cat >"$IT_DIR/w$w.properties" <<EOP
bootstrap.servers=$BS
group.id=$GROUP
config.storage.topic=itcr-configs-$$
status.storage.topic=itcr-status-$$
offset.storage.topic=itcr-offsets-$$
listeners=http://127.0.0.1:${PORT[$w]}
session.timeout.ms=6000
heartbeat.interval.ms=1000
EOP
  "$WALCAST" run --worker "$IT_DIR/w$w.properties" >"$IT_DIR/w$w.out" 2>"$IT_DIR/w$w.log" &
  WPID[$w]=$!
  IT_PIDS+=(${WPID[$w]})
  for _ in $(seq 1 600); do grep -q "joined the cluster" "$IT_DIR/w$w.log" && break; sleep 0.1; done
  grep -q "joined the cluster" "$IT_DIR/w$w.log" || { echo "worker $w did not join" >&2; exit 1; }
done
rest() {   # rest W METHOD PATH [BODY]: prints the status code; the body goes to $IT_DIR/body
  local a=(-s --max-time 30 -o "$IT_DIR/body" -w '%{http_code}' -X "$2" "http://127.0.0.1:${PORT[$1]}$3")
  [ $# -ge 4 ] && a+=(-H 'Content-Type: application/json' --data-binary "$4")
  curl "${a[@]}"
}
code=$(rest 1 POST /connectors "{\"name\":\"c\",\"config\":{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\",\"database.hostname\":\"127.0.0.1\",\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.dbname\":\"postgres\",\"topic.prefix\":\"cr\",\"slot.name\":\"s_cr\",\"table.include.list\":\"public.t\",\"snapshot.mode\":\"no_data\",\"status.update.interval.ms\":\"500\",\"key.converter.schemas.enable\":\"false\"}}")
[ "$code" = 201 ] || { echo "create: $code $(cat "$IT_DIR/body")" >&2; exit 1; }
# status as worker W tells it: "<connector state> <task state> <task worker_id>"
status() { rest "$1" GET /connectors/c/status >/dev/null; "$PY" -c 'import json,sys
d=json.load(open(sys.argv[1])); t=(d.get("tasks") or [{}])[0]
print(d["connector"]["state"], t.get("state"), t.get("worker_id"))' "$IT_DIR/body" 2>/dev/null; }
pid() { psql -X -At -c "SELECT coalesce(active_pid::text, '-') FROM pg_replication_slots WHERE slot_name = 's_cr'"; }
OWNER=""
for _ in $(seq 1 600); do
  for w in 1 2; do
    if [ "$(status 1)" = "RUNNING RUNNING 127.0.0.1:${PORT[$w]}" ] && [ "$(status 2)" = "RUNNING RUNNING 127.0.0.1:${PORT[$w]}" ]; then
      OWNER=$w
    fi
  done
  if [ -n "$OWNER" ] && [ "$(pid)" != - ] && [ -n "$(pid)" ]; then break; fi
  sleep 0.1
done
[ -n "$OWNER" ] || { echo "connector c not RUNNING as both workers tell: $(status 1) / $(status 2)" >&2; exit 1; }
OTHER=$((3 - OWNER))
echo "c runs on worker $OWNER; restarts go to worker $OTHER"
NEXT=1
rows() { psql_q -c "INSERT INTO t SELECT g FROM generate_series($NEXT, $((NEXT + 9))) g"; NEXT=$((NEXT + 10)); }
rows
wait_topic cr.public.t $((NEXT - 1)) 60
# restarted WHAT: the slot gets a new walsender and c is RUNNING again on the owner (bounded)
restarted() {
  local what=$1 was=$2 now=""
  for _ in $(seq 1 300); do
    now=$(pid)
    if [ "$now" != - ] && [ -n "$now" ] && [ "$now" != "$was" ] &&
      [ "$(status "$OTHER")" = "RUNNING RUNNING 127.0.0.1:${PORT[$OWNER]}" ]; then break; fi
    sleep 0.1
  done
  [ "$now" != - ] && [ -n "$now" ] && [ "$now" != "$was" ] ||
    { echo "$what through worker $OTHER: the slot's walsender is still $was (not restarted)" >&2; exit 1; }
  [ "$(status "$OWNER")" = "RUNNING RUNNING 127.0.0.1:${PORT[$OWNER]}" ] || { echo "$what: $(status "$OWNER")" >&2; exit 1; }
  echo "$what through worker $OTHER: restarted on worker $OWNER (walsender $was -> $now)"
}
p=$(pid)
code=$(rest "$OTHER" POST /connectors/c/restart)
[ "$code" = 204 ] || { echo "restart answered $code: $(cat "$IT_DIR/body")" >&2; exit 1; }
restarted "POST /connectors/c/restart" "$p"
rows
p=$(pid)
code=$(rest "$OTHER" POST "/connectors/c/restart?includeTasks=true")
[ "$code" = 202 ] || { echo "restart?includeTasks=true answered $code: $(cat "$IT_DIR/body")" >&2; exit 1; }
"$PY" - "$IT_DIR/body" "127.0.0.1:${PORT[$OWNER]}" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["connector"]["state"] == "RESTARTING" and d["tasks"][0]["state"] == "RESTARTING", d
assert d["connector"]["worker_id"] == sys.argv[2], d
PYEOF
restarted "POST /connectors/c/restart?includeTasks=true" "$p"
rows
p=$(pid)
code=$(rest "$OTHER" POST /connectors/c/tasks/0/restart)
[ "$code" = 204 ] || { echo "task restart answered $code: $(cat "$IT_DIR/body")" >&2; exit 1; }
restarted "POST /connectors/c/tasks/0/restart" "$p"
rows
# onlyFailed on a RUNNING connector: 202, nothing to restart
code=$(rest "$OTHER" POST "/connectors/c/restart?includeTasks=true&onlyFailed=true")
[ "$code" = 202 ] || { echo "restart?onlyFailed answered $code" >&2; exit 1; }
[ "$(rest "$OTHER" POST /connectors/nope/restart)" = 404 ] || { echo "an unknown connector's restart is not 404" >&2; exit 1; }
rows
wait_topic cr.public.t $((NEXT - 1)) 60
for w in 1 2; do kill -TERM "${WPID[$w]}"; done
for w in 1 2; do wait "${WPID[$w]}" || true; done
expect_ids_once cr.public.t $((NEXT - 1)) "rows exactly once, in order, across three restarts through the other worker"
