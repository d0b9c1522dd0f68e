#!/usr/bin/env bash
# test_sink_mongo.sh: source tables -> walcast source -> real Kafka -> walcast's MongoDB sink
# (io.debezium.connector.mongodb.MongoDbSinkConnector, Debezium 3.x's class, and its keys) in the same `walcast run`, into FerretDB
# v1.24.2 (scripts/ferretdb.sh, SQLite backend; no multi-document transactions) or the MongoDB at
# WALCAST_TEST_MONGODB_URI. Inserts, updates, deletes, key changes, NULLs, composite keys; the documents
# must equal the source rows (mongo_compare.py, pymongo). Then the same under a workload during which
# walcast is SIGKILLed 5 times, each time after the sink has stored new offsets.
. "$(dirname "$0")/lib.sh"
it_init
chmod 755 "$IT_DIR"
pg_start
mongo_start
MDB="walcast_it_$$"
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty bigint, ok boolean, d date,
  created timestamp(6), data jsonb, b bytea, f float8, tags text[]);
CREATE TABLE kv (a int, b text, v text, PRIMARY KEY (a, b));
SQL
kafka_start
src=$(connector_file src "table.include.list=public\\..*")
{
  echo "name=it_mongosink"
  echo "connector.class=io.debezium.connector.mongodb.MongoDbSinkConnector"
  echo "topics.regex=srv\\.public\\..*"
  echo "mongodb.connection.string=$MURI"
  echo "sink.database=$MDB"
  echo "collection.name.format=\${source.table}"
  echo "delete.enabled=true"
  echo "batch.size=200"
} >"$IT_DIR/mongosink.properties"

start_all() { walcast_start "$src" "$IT_DIR/mongosink.properties"; }
compare() { "$PY" "$ROOT/tests/integration/mongo_compare.py" "$1" "$MURI" "$MDB"; }
# the sum of the offsets the sink has stored in walcast_sink_offsets
applied() {
  "$PY" - "$MURI" "$MDB" <<'PYEOF' 2>/dev/null || echo 0
import sys, pymongo
c = pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
print(sum(int(d.get("offset", 0)) for d in c[sys.argv[2]]["walcast_sink_offsets"].find()))
PYEOF
}

start_all
psql_q <<'SQL'
INSERT INTO items VALUES
 (1, 'plain', 12.50, 9000000000, true, '2024-02-29', '2024-02-29 23:59:59.123456', '{"a": [1, 2, {"b": null}]}',
  '\x00ff10', 3.141592653589793, '{x,"y z",NULL}'),
 (2, 'quote '' "dq" back\slash ; -- drop', -0.01, -1, false, '0001-01-01', '1970-01-01 00:00:00', '[]', '', -2.5, '{}'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, E'unicode ünï 日本 \U0001F600 tab\tnewline\n', 99999999.99, 0, true, '9999-12-31', '2038-01-19 03:14:08',
  '"str"', '\xdeadbeef', 1e300, '{"a,b","{c}"}');
SQL
psql_q -f "$ROOT/tests/integration/sql/items_kv_changes.sql"
psql_q <<'SQL'
BEGIN;
INSERT INTO items (id, name) SELECT g, 'bulk ' || g FROM generate_series(100, 399) g;
UPDATE items SET price = id / 7.0 WHERE id BETWEEN 100 AND 249;
DELETE FROM items WHERE id BETWEEN 300 AND 319;
COMMIT;
SQL
wait_published
compare 120

# ---- SIGKILLs mid-stream ----
# the workload runs until the kills are over (at least SINK_TXNS transactions, at most 3000), so that every
# kill happens mid-stream: a fixed count could end before the last kill on a loaded machine, and the
# sink would then have nothing left to show progress with
N=${SINK_TXNS:-300}
(
  for i in $(seq 1 3000); do
    [ "$i" -gt "$N" ] && [ -e "$IT_DIR/kills.done" ] && break
    sql="BEGIN; INSERT INTO items (id, name, qty) VALUES ($((2000 + i)), 'w$i', $i);"
    sql="$sql UPDATE items SET qty = qty + 1, ok = NOT coalesce(ok, false) WHERE id = $((2000 + i - 1));"
    [ $((i % 5)) -eq 0 ] && sql="$sql DELETE FROM items WHERE id = $((2000 + i - 3));"
    [ $((i % 7)) -eq 0 ] && sql="$sql UPDATE items SET id = -$i WHERE id = $((2000 + i - 2));"
    [ $((i % 3)) -eq 0 ] && sql="$sql INSERT INTO kv VALUES ($i, 'k''$i', 'v') ON CONFLICT DO NOTHING; UPDATE kv SET b = b || '+' WHERE a = $((i - 3));"
    echo "$sql COMMIT;"
    sleep 0.02
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!
sink_kill_loop "${SINK_KILLS:-5}" start_all applied || { touch "$IT_DIR/kills.done"; exit 1; }
touch "$IT_DIR/kills.done"
wait "$writer"
wait_published
compare 180
walcast_stop
! grep -q "sink failed" "$IT_DIR/walcast.log"
