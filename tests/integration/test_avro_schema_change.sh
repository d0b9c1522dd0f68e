#!/usr/bin/env bash
# test_avro_schema_change.sh: ADD COLUMN, DROP COLUMN, a type change, a rename, a column added in the
# middle of a transaction and a new table, all while streaming with the Avro converter (registry fixture,
# BACKWARD compatibility) next to a JSON twin. Each change registers a new version before the first event
# of the new shape; every event is written with the version of its own shape, in row order; the JSON
# converter changes shape at the same event. Then an incompatible change (bigint -> text): HTTP 409, the
# connector stops as failed naming the subject, the registry's message and what to change; after the
# subject's compatibility is relaxed a restart publishes the held event: nothing lost, nothing twice.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE sc (id int PRIMARY KEY, a text)"
kafka_start --topic srv.public.sc --topic srv.public.sc2 --topic jsn.public.sc --topic jsn.public.sc2
registry_start
avro=$(connector_file avro "name=it-avro" "slot.name=slot_avro" \
  "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
  "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
json=$(connector_file json "name=it-json" "slot.name=slot_json" "topic.prefix=jsn" "value.converter.schemas.enable=false")
psql_q -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
start_both() {
  "$WALCAST" run --worker "$IT_DIR/worker.properties" "$avro" "$json" >>"$IT_DIR/walcast.out" 2>>"$IT_DIR/walcast.log" &
  WALCAST_PID=$!; IT_PIDS+=($WALCAST_PID)
  local want=$(( $(grep -c 'replication started' "$IT_DIR/walcast.log" 2>/dev/null || true) + 2 ))
  for _ in $(seq 1 100); do [ "$(grep -c 'replication started' "$IT_DIR/walcast.log")" -ge "$want" ] && return 0; sleep 0.1; done
  echo "walcast did not start" >&2; return 1
}
start_both
psql_q <<'SQL'
INSERT INTO sc VALUES (1, 'one');
ALTER TABLE sc ADD COLUMN b int;
INSERT INTO sc VALUES (2, 'two', 2);
ALTER TABLE sc DROP COLUMN a;
INSERT INTO sc VALUES (3, 3);
ALTER TABLE sc ALTER COLUMN b TYPE bigint;
INSERT INTO sc VALUES (4, 4000000000);
ALTER TABLE sc RENAME COLUMN b TO c;
INSERT INTO sc VALUES (5, 5);
BEGIN;
INSERT INTO sc VALUES (6, 6);
ALTER TABLE sc ADD COLUMN d text;
INSERT INTO sc VALUES (7, 7, 'seven');
COMMIT;
CREATE TABLE sc2 (id int PRIMARY KEY, x text);
INSERT INTO sc2 VALUES (1, 'new table');
SQL
wait_topic srv.public.sc2 1
wait_topic jsn.public.sc2 1
# an incompatible change: bigint -> text under BACKWARD
psql_q -c "ALTER TABLE sc ALTER COLUMN c TYPE text" -c "INSERT INTO sc VALUES (8, 'eight', 'd8')"
wait_exit "$WALCAST_PID" 10 "walcast (not stopped on HTTP 409)" || exit 1
[ "$EXIT_RC" -ne 0 ] || { echo "walcast exited 0 after a registry refusal" >&2; exit 1; }
grep 'connector failed' "$IT_DIR/walcast.log" | tee "$IT_DIR/failed.txt"
grep -q 'subject \\"srv.public.sc-value\\"' "$IT_DIR/failed.txt"
grep -q 'HTTP 409' "$IT_DIR/failed.txt"
grep -q 'incompatible with an earlier schema' "$IT_DIR/failed.txt"   # the registry's own message
grep -q 'PUT /config' "$IT_DIR/failed.txt"                           # what to change
# relax the subject, restart: the held event is published
curl -sf -X PUT -H 'Content-Type: application/json' -d '{"compatibility":"NONE"}' "$SR_URL/config/srv.public.sc-value" >/dev/null
start_both
wait_topic srv.public.sc 8
wait_published slot_avro
wait_published slot_json
walcast_stop
for p in key value; do
  curl -sf "$SR_URL/subjects/srv.public.sc-$p/versions" >"$IT_DIR/versions-$p.json"
done
for v in $(seq 1 7); do curl -sf "$SR_URL/subjects/srv.public.sc-value/versions/$v"; echo; done >"$IT_DIR/value-versions.jsonl"
$PY "$ROOT/tests/integration/avro_dump.py" "$BS" "$SR_URL" srv.public.sc srv.public.sc2 >"$IT_DIR/avro.jsonl"
$PY "$ROOT/tests/integration/avro_dump.py" "$BS" "$SR_URL" jsn.public.sc jsn.public.sc2 >"$IT_DIR/json.jsonl"
$PY - "$IT_DIR" <<'PYEOF'
import json, sys
d = sys.argv[1]
vers = [json.loads(l) for l in open(d + "/value-versions.jsonl")]
def shape(v):
    """[(field, type)] of the Value record of an Envelope schema version."""
    env = json.loads(v["schema"])
    val = env["fields"][0]["type"][1]
    return [(f["name"], [t for t in f["type"] if t != "null"][0] if isinstance(f["type"], list) else f["type"]) for f in val["fields"]]
shapes = [shape(v) for v in vers]
want = [[("id", "int"), ("a", "string")],
        [("id", "int"), ("a", "string"), ("b", "int")],
        [("id", "int"), ("b", "int")],
        [("id", "int"), ("b", "long")],
        [("id", "int"), ("c", "long")],
        [("id", "int"), ("c", "long"), ("d", "string")],
        [("id", "int"), ("c", "string"), ("d", "string")]]
assert shapes == want, shapes
ver_of_id = {v["id"]: v["version"] for v in vers}
avro = [json.loads(l) for l in open(d + "/avro.jsonl")]
js = [json.loads(l) for l in open(d + "/json.jsonl")]
sc = [r for r in avro if r["topic"] == "srv.public.sc"]
ids = [r["value"]["after"]["id"] for r in sc]
assert ids == list(range(1, 9)), ids                   # every row once, in order
got = [ver_of_id[r["value_id"]] for r in sc]
assert got == [1, 2, 3, 4, 5, 5, 6, 7], got            # each event written with its own shape's version
for r in sc:
    v = vers[ver_of_id[r["value_id"]] - 1]
    assert [f for f, _ in shape(v)] == list(r["value"]["after"]), r
jsc = [r for r in js if r["topic"] == "jsn.public.sc"]
assert [list(r["value"]["after"]) for r in jsc] == [list(r["value"]["after"]) for r in sc], "JSON shape differs"
assert sc[3]["value"]["after"]["b"] == 4000000000
assert sc[7]["value"]["after"] == {"id": 8, "c": "eight", "d": "d8"}
sc2 = [r for r in avro if r["topic"] == "srv.public.sc2"]
assert len(sc2) == 1 and sc2[0]["value"]["after"] == {"id": 1, "x": "new table"}, sc2
print("schema changes: 7 value versions, 8 events in order, each with its own version; JSON twin same shapes")
PYEOF
