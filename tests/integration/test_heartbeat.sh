#!/usr/bin/env bash
# test_heartbeat.sh: heartbeat.interval.ms publishes Debezium's heartbeat records (topic, key and value
# schemas) and runs heartbeat.action.query, whose writes stream like any change.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE hb (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())"
kafka_start --topic __debezium-heartbeat.srv --topic srv.public.hb
walcast_start "$(connector_file hb "heartbeat.interval.ms=300" "heartbeat.action.query=INSERT INTO hb DEFAULT VALUES")"
wait_topic __debezium-heartbeat.srv 3
wait_topic srv.public.hb 2
kcat -C -b "$BS" -t __debezium-heartbeat.srv -e -q -c 1 -J >"$IT_DIR/hb.jsonl"
$PY - "$IT_DIR/hb.jsonl" <<'PYEOF'
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["key"] == '{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"serverName"}],"optional":false,"name":"io.debezium.connector.common.ServerNameKey","version":1},"payload":{"serverName":"srv"}}', r["key"]
v = json.loads(r["payload"])
assert v["schema"] == {"type": "struct", "fields": [{"type": "int64", "optional": False, "field": "ts_ms"}], "optional": False, "name": "io.debezium.connector.common.Heartbeat", "version": 1}, v["schema"]
assert v["payload"]["ts_ms"] > 1600000000000, v
PYEOF
walcast_stop

# heartbeats before the first change: the offset record holds the slot's position (not 0), so the
# next start is not refused as "slot ahead of the stored offsets"
cfg2=$(connector_file hb2 "name=it-hb2" "slot.name=slot_hb2" "topic.prefix=srv" "heartbeat.interval.ms=100")
walcast_start "$cfg2"
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" count __debezium-heartbeat.srv 20 30
walcast_stop
kcat -C -b "$BS" -t connect-offsets -e -q -f '%k %s\n' | grep '"it-hb2"' | tail -1 | grep -vq '"lsn":0[,}]' || {
  echo "a heartbeat before any change wrote an offset with lsn 0" >&2; exit 1; }
walcast_start "$cfg2"
psql_q -c "INSERT INTO hb DEFAULT VALUES"
wait_published slot_hb2
walcast_stop
! grep -q "connector failed" "$IT_DIR/walcast.log" || { grep "connector failed" "$IT_DIR/walcast.log" >&2; exit 1; }
echo "restart after heartbeats only: works"
