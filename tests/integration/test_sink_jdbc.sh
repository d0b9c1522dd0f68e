#!/usr/bin/env bash
# test_sink_jdbc.sh: source tables -> walcast source -> real Kafka -> walcast JDBC sinks into a PostgreSQL
# database and a MariaDB server, both in the same `walcast run`. Inserts, updates, deletes, key changes,
# truncate, NULLs, many types, hostile identifiers; the targets must equal the source row by row
# (sink_compare.py, a canonical text form per column kind). Then the same under a workload during which
# walcast (source and sinks) is SIGKILLed 5 times, each time after the sinks have committed something new.
# Rows that exist before walcast starts arrive through the source's initial snapshot. Table docs has TOASTed
# columns (text, bytea, text[] stored out of line) that updates leave unchanged: the events carry
# __debezium_unavailable_value and the targets must keep the value they have (from the snapshot, or from an
# earlier change of the same batch).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
psql_q -c "CREATE DATABASE target"
my_q -e "CREATE DATABASE target"
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty bigint, ok boolean, small smallint,
  created timestamp(6), tz timestamptz, d date, t time(6), data jsonb, u uuid, b bytea, f float8, r real, tags text[]);
CREATE TABLE "Odd ""Tab""; drop" ("k;ey" int PRIMARY KEY, "select" text, "ünï" text, "Mixed" int);
CREATE TABLE kv (a int, b text, v text, PRIMARY KEY (a, b));
CREATE TABLE trunc_me (id int PRIMARY KEY, v text);
CREATE TABLE docs (id int PRIMARY KEY, n int, body text, blob bytea, tags text[]);
ALTER TABLE docs ALTER body SET STORAGE EXTERNAL, ALTER blob SET STORAGE EXTERNAL, ALTER tags SET STORAGE EXTERNAL;
SQL
# The source's topics exist before the sinks subscribe (topics.regex). Once, with two suites' worth of
# load on the machine, both sinks never consumed the one topic the snapshot auto-created for the odd
# table (all other topics applied, 90 s of metadata refreshes): not understood yet, noted in the session
# notes; this test is about applying, so its topics are made up front.
kafka_start --topic srv.public.items --topic srv.public.kv --topic srv.public.trunc_me --topic srv.public.docs \
  --topic 'srv.public.Odd__Tab___drop' --topic connect-offsets
# SINK_FORMAT=avro (test_sink_avro.sh): the source writes Avro through a schema registry and the sinks read
# it; Avro names cannot hold the hostile column names, so that table is left out there
conv=() sinkconv=()
if [ "${SINK_FORMAT:-json}" = avro ]; then
  registry_start
  conv=("key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL"
    "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL"
    "table.include.list=public\\.(items|kv|trunc_me|docs)")
  sinkconv=("value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
  export SINK_COMPARE_SKIP='Odd "Tab"; drop'
fi
# rows that exist before walcast starts reach the targets through the source's initial snapshot (op r)
psql_q <<'SQL'
INSERT INTO items (id, name, price, qty, ok, created, tz, d, data, u, tags)
  SELECT g, 'before ' || g, g / 3.0, g * 1000, g % 2 = 0, '2020-01-01'::timestamp + g * interval '1 hour',
         '2020-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', '2020-01-01'::date + g,
         jsonb_build_object('g', g), md5(g::text)::uuid, ARRAY['s' || g]
  FROM generate_series(5000, 5199) g;
INSERT INTO "Odd ""Tab""; drop" VALUES (500, 'existing', 'ä', 500);
INSERT INTO kv SELECT 9000 + g, 'pre', 'v' || g FROM generate_series(1, 20) g;
INSERT INTO trunc_me SELECT g, 'pre' FROM generate_series(200, 209) g;
INSERT INTO docs SELECT g, 0, repeat('body ' || g || ' ', 900), convert_to(repeat('blob' || g, 1000), 'UTF8'),
  ARRAY[repeat('tag' || g, 1000)] FROM generate_series(1, 3) g;
SQL
src=$(connector_file src "table.include.list=public\\..*" "skipped.operations=none" "snapshot.mode=initial" "${conv[@]}")
common=("connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics.regex=srv\\.public\\..*"
  "insert.mode=upsert" "delete.enabled=true" "truncate.enabled=true" "primary.key.mode=record_key"
  "schema.evolution=basic" "quote.identifiers=true" "collection.name.format=\${source.table}" "batch.size=200"
  "${sinkconv[@]}")
{ echo "name=it_pgsink"; printf '%s\n' "${common[@]}"
  echo "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/target"; echo "connection.username=postgres"; } >"$IT_DIR/pgsink.properties"
{ echo "name=it_mysink"; printf '%s\n' "${common[@]}"
  echo "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/target"; echo "connection.username=root"; } >"$IT_DIR/mysink.properties"

start_all() { walcast_start "$src" "$IT_DIR/pgsink.properties" "$IT_DIR/mysink.properties"; }
compare() { "$PY" "$ROOT/tests/integration/sink_compare.py" "$1" postgres target "$MYPORT" target; }

start_all
psql_q <<'SQL'
INSERT INTO items VALUES
 (1, 'plain', 12.50, 9000000000, true, 7, '2024-02-29 23:59:59.123456', '2024-01-01 10:00:00+02', '2024-02-29',
  '13:14:15.000001', '{"a": [1, 2, {"b": null}], "q": "it''s"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\x00ff10', 3.141592653589793, 1.5, '{x,"y z",NULL}'),
 (2, 'quote '' "dq" back\slash ; -- drop', -0.01, -1, false, -32768, '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00',
  '0001-01-01', '00:00:00', '[]', '00000000-0000-0000-0000-000000000000', '', -0.0, -3.25, '{}'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, E'unicode ünï 日本 \U0001F600 tab\tnewline\n', 99999999.99, 0, true, 0, '2038-01-19 03:14:08', '2100-06-01 12:00:00+00',
  '9999-12-31', '23:59:59.999999', '"str"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\xdeadbeef', 1e300, 3.4e38, '{"a,b","{c}"}');
INSERT INTO "Odd ""Tab""; drop" VALUES (1, 'from', 'ö', 1), (2, NULL, '', NULL), (3, 'table', 'x"y`z', -5);
INSERT INTO kv VALUES (1, 'a', 'one'), (1, 'b', 'two'), (2, 'a', 'three'), (3, 'ß', 'four');
INSERT INTO trunc_me SELECT g, 'v' || g FROM generate_series(1, 50) g;
UPDATE items SET name = 'updated', qty = qty + 1 WHERE id = 1;
UPDATE items SET data = '{"now": "set"}', tags = '{only}' WHERE id = 3;
UPDATE items SET id = 10 WHERE id = 2;
DELETE FROM items WHERE id = 4;
UPDATE "Odd ""Tab""; drop" SET "select" = 'where', "Mixed" = NULL WHERE "k;ey" = 1;
UPDATE "Odd ""Tab""; drop" SET "k;ey" = 30 WHERE "k;ey" = 3;
DELETE FROM "Odd ""Tab""; drop" WHERE "k;ey" = 2;
UPDATE kv SET b = 'c' WHERE a = 1 AND b = 'b';
UPDATE kv SET v = NULL WHERE a = 2;
DELETE FROM kv WHERE a = 3;
TRUNCATE trunc_me;
INSERT INTO trunc_me VALUES (100, 'after truncate'), (101, NULL);
UPDATE docs SET n = n + 1;
UPDATE docs SET body = repeat('new body ', 700) WHERE id = 2;
UPDATE docs SET n = n + 1 WHERE id = 2;
INSERT INTO docs VALUES (4, 0, repeat('four ', 1000), convert_to(repeat('b4', 2000), 'UTF8'), ARRAY[repeat('t4', 2000)]);
UPDATE docs SET n = 7 WHERE id = 4;
BEGIN;
INSERT INTO items (id, name) SELECT g, 'bulk ' || g FROM generate_series(100, 1099) g;
UPDATE items SET price = id / 7.0 WHERE id BETWEEN 100 AND 599;
DELETE FROM items WHERE id BETWEEN 900 AND 949;
COMMIT;
SQL
wait_published
compare 90

# ---- SIGKILLs mid-stream ----
# the workload runs until the kills are over (at least SINK_TXNS transactions, at most 2900: ids 2000 + i
# stay below the snapshot's rows at 5000), so that every kill happens mid-stream: a fixed count could end
# before the last kill on a loaded machine, and the sink would then have nothing left to show progress with
N=${SINK_TXNS:-600}
(
  for i in $(seq 1 2900); do
    [ "$i" -gt "$N" ] && [ -e "$IT_DIR/kills.done" ] && break
    sql="BEGIN; INSERT INTO items (id, name, qty, tz) VALUES ($((2000 + i)), 'w$i', $i, now());"
    sql="$sql UPDATE items SET qty = qty + 1, ok = NOT coalesce(ok, false) WHERE id = $((2000 + i - 1));"
    [ $((i % 5)) -eq 0 ] && sql="$sql DELETE FROM items WHERE id = $((2000 + i - 3));"
    [ $((i % 7)) -eq 0 ] && sql="$sql UPDATE items SET id = -$i WHERE id = $((2000 + i - 2));"
    [ $((i % 3)) -eq 0 ] && sql="$sql INSERT INTO kv VALUES ($i, 'k''$i', 'v') ON CONFLICT DO NOTHING; UPDATE kv SET b = b || '+' WHERE a = $((i - 3));"
    [ $((i % 11)) -eq 0 ] && sql="$sql INSERT INTO \"Odd \"\"Tab\"\"; drop\" VALUES ($((1000 + i)), 'x;$i', 'ü', $i);"
    echo "$sql COMMIT;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!

applied_pg() { psql -X -At -d target -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
applied_my() { my_q target -e "SELECT coalesce(sum(\`offset\`), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
# kill once both sinks have committed something since the last start (a restarted sink takes its
# partitions back at once: static group membership)
sink_kill_loop "${SINK_KILLS:-5}" start_all applied_pg applied_my || { touch "$IT_DIR/kills.done"; exit 1; }
touch "$IT_DIR/kills.done"
wait "$writer"
wait_published
compare 120
walcast_stop
grep -q "sink stopped" "$IT_DIR/walcast.log"
! grep -q "sink failed" "$IT_DIR/walcast.log"
