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
