#!/usr/bin/env bash
# test_avro_snapshot.sh: an initial snapshot with the Avro converter, encoded by two reader threads
# (walcast.snapshot.parallel.encode, the default), each with its own schema-registry client. The
# registry is down when the snapshot starts: the readers wait for it (their own retry, logged as the
# snapshot reader's) and go on when it is back. Every row arrives once (a table's first and last in place), decoded
# with the writer schema of its id equal to the table; one schema id per table and side. A Kafka commit
# after every chunk, one of them ended long before the next chunk's first row: no interruption.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL, n numeric(10,2));
INSERT INTO items SELECT g, 'v' || g, g / 4.0 FROM generate_series(1, 4000) g;
CREATE TABLE other (a int, b text, PRIMARY KEY (a, b));
INSERT INTO other SELECT g % 10, 'k' || g FROM generate_series(1, 1000) g;
CREATE TABLE slow_a (id int PRIMARY KEY, v text);
INSERT INTO slow_a SELECT g, 'a' || g FROM generate_series(1, 300) g;
CREATE TABLE slow_b (id int PRIMARY KEY, v text);
INSERT INTO slow_b SELECT g, 'b' || g FROM generate_series(1, 300) g;
SQL
kafka_start --topic srv.public.items --topic srv.public.other --topic srv.public.slow_a --topic srv.public.slow_b --topic connect-offsets
registry_start
registry_stop   # down when the snapshot starts; back on the same port below
cfg=$(connector_file avsnap "snapshot.mode=initial" "snapshot.max.threads=2" "walcast.snapshot.lanes=true" "walcast.snapshot.parallel.encode=true" \
  "walcast.snapshot.chunk.rows=500" "snapshot.fetch.size=200" "status.update.interval.ms=300" "walcast.transaction.max.ms=1" \
  "snapshot.select.statement.overrides=public.slow_a,public.slow_b" \
  "snapshot.select.statement.overrides.public.slow_a=SELECT t.* FROM public.slow_a t, (SELECT pg_sleep(1)) s" \
  "snapshot.select.statement.overrides.public.slow_b=SELECT t.* FROM public.slow_b t, (SELECT pg_sleep(4)) s" \
  "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
  "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
walcast_spawn "$cfg"
wait_log 'msg="schema registry unavailable; snapshot reader retrying' 1 60
registry_start --port "$SR_PORT"
wait_log 'msg="snapshot completed"' 1 120
wait_log 'replication started' 1 60
wait_published debezium 60
walcast_stop
# a commit per chunk (walcast.transaction.max.ms=1): the two readers read slow_a and slow_b at about the
# same time, their SELECTs sleep 1 and 4 s, so the commit after slow_a ends long before slow_b's first
# row, which must open the next Kafka transaction (it was produced outside any: "Erroneous state", a
# reconnect, the snapshot resumed with watermarks)
! grep 'replication interrupted' "$IT_DIR/walcast.log" || { echo "the snapshot was interrupted" >&2; exit 1; }
# items' inner chunks went out on the two lanes
grep 'msg="snapshot threads"' "$IT_DIR/walcast.log" | grep -q 'lane_chunks=[1-9]' || { echo "no chunk sent on lanes" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/avro_dump.py" "$BS" "$SR_URL" srv.public.items srv.public.other srv.public.slow_a srv.public.slow_b >"$IT_DIR/dump.jsonl"
psql -X -At -c "SELECT row_to_json(t) FROM items t ORDER BY id" >"$IT_DIR/items.json"
psql -X -At -c "SELECT row_to_json(t) FROM other t ORDER BY a, b" >"$IT_DIR/other.json"
psql -X -At -c "SELECT row_to_json(t) FROM slow_a t ORDER BY id" >"$IT_DIR/slow_a.json"
psql -X -At -c "SELECT row_to_json(t) FROM slow_b t ORDER BY id" >"$IT_DIR/slow_b.json"
"$PY" - "$IT_DIR" <<'PYEOF'
import json, sys
d = sys.argv[1]
recs = [json.loads(l) for l in open(f"{d}/dump.jsonl") if l.strip()]
for table, keycols in (("items", ["id"]), ("other", ["a", "b"]), ("slow_a", ["id"]), ("slow_b", ["id"])):
    rs = [r for r in recs if r["topic"] == f"srv.public.{table}"]
    rows = [json.loads(l) for l in open(f"{d}/{table}.json") if l.strip()]
    assert all(r["value"]["op"] == "r" for r in rs), f"{table}: not only snapshot rows"
    # a table's inner chunks go out on two Kafka transaction lanes at once (walcast.snapshot.lanes=true):
    # key order holds within each chunk, not across them; its first and last rows keep their places
    keys = [tuple(r["key"][c] for c in keycols) for r in rs]
    want = [tuple(row[c] for c in keycols) for row in rows]
    assert keys[:1] == want[:1] and keys[-1:] == want[-1:], f"{table}: first or last row out of place"
    rs.sort(key=lambda r: tuple(r["key"][c] for c in keycols))
    keys = sorted(keys)
    assert keys == want, f"{table}: {len(keys)} rows, want {len(want)}, once each"
    for r, row in zip(rs, rows):
        after = {k: (str(v) if k == "n" else v) for k, v in r["value"]["after"].items()}
        exp = {k: ("%.2f" % v if k == "n" else v) for k, v in row.items()}
        assert after == exp, f"{table}: {after} != {exp}"
    ids = {(r["key_id"], r["value_id"]) for r in rs}
    assert len(ids) == 1, f"{table}: schema ids {ids}"
    print(f"{table}: {len(rs)} rows once each, schema ids {ids.pop()}")
PYEOF
