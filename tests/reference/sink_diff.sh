#!/usr/bin/env bash
# sink_diff.sh: walcast's JDBC sink side by side with Debezium's (io.debezium.connector.jdbc.JdbcSinkConnector
# 3.6.0.Final on Kafka Connect standalone, scripts/connect.sh) on the same topics and the same sink config.
# walcast's source produces one set of topics (many column types, NULLs, a composite key, hostile column
# names, updates, key changes, deletes); then Debezium's sink applies them into database dbz and walcast's
# into database wc, of one PostgreSQL target and of one MariaDB server; sink_diff.py compares table
# names, columns, types, nullability, primary keys and every row. The differences it allows are the
# documented ones (docs/compatibility.md, "JDBC sink side by side").
# Debezium's MariaDB sink dies on an array column (docs/compatibility.md), so both MariaDB sinks read the
# topics without arrays. One Connect worker per target, as sink_capture.sh found necessary.
set -euo pipefail
. "$(dirname "$0")/reflib.sh"
t0=$(date +%s)
ref_init
pg_start
mariadb_start
psql_q -c "CREATE DATABASE target"
psql_q -c "CREATE DATABASE dbz" -c "CREATE DATABASE wc"
my_q -e "CREATE DATABASE dbz; CREATE DATABASE wc"
psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty bigint, ok boolean, small smallint,
  created timestamp(6), tz timestamptz, d date, t time(6), data jsonb, j json, u uuid, b bytea, f float8, r real,
  tags text[], ia int[], vc varchar(20), ch char(3), big numeric, iv interval, ms timestamp(3), tm time(3));
CREATE TABLE items_noarr (LIKE items INCLUDING ALL);
ALTER TABLE items_noarr DROP COLUMN tags, DROP COLUMN ia;
-- hostile but legal column names (Debezium's sink fails on a '"' or a space in a table name)
CREATE TABLE odd_cols ("k;ey" int PRIMARY KEY, "select" text, "ünï" text, "Mixed" int, "with space" text);
CREATE TABLE kv (a int, b text, v text, PRIMARY KEY (a, b));
CREATE TABLE trunc_me (id int PRIMARY KEY, v text);
-- a TOASTed column an update leaves unchanged: the event carries __debezium_unavailable_value
CREATE TABLE docs (id int PRIMARY KEY, n int, body text);
ALTER TABLE docs ALTER body SET STORAGE EXTERNAL;
SQL
TABLES=(items items_noarr odd_cols kv trunc_me docs)
kafka_start
src=$(connector_file src "table.include.list=public\\..*" "skipped.operations=none")
walcast_start "$src"
psql_q <<'SQL'
INSERT INTO items VALUES
 (1, 'plain', 12.50, 9000000000, true, 7, '2024-02-29 23:59:59.123456', '2024-01-01 10:00:00+02', '2024-02-29',
  '13:14:15.000001', '{"a": [1, 2, {"b": null}], "q": "it''s"}', '{"k": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\x00ff10', 3.141592653589793, 1.5, '{x,"y z",NULL}', '{1,NULL,-3}', 'varchar', 'abc',
  12345678901234567890.123456789, '1 day 02:03:04', '2024-05-06 07:08:09.123', '01:02:03.456'),
 (2, 'quote '' "dq" back\slash', -0.01, -1, false, -32768, '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00',
  '0001-01-01', '00:00:00', '[]', '[]', '00000000-0000-0000-0000-000000000000', '', -0.0, -3.25, '{}', '{}', '', 'x', 0,
  '0', '1970-01-01 00:00:00', '00:00:00'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL),
 (4, E'unicode ünï 日本 tab\tnewline\n', 99999999.99, 0, true, 0, '2038-01-19 03:14:08', '2037-06-01 12:00:00+00',
  '9999-12-31', '23:59:59.999999', '"str"', 'null', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\xdeadbeef', 1e300, 3.4e38,
  '{"a,b","{c}"}', '{2147483647}', 'v', 'ab', -0.5, '-3 hours', '2000-01-01 00:00:00.5', '23:59:59.999');
INSERT INTO odd_cols VALUES (1, 'from', 'ö', 1, 'a b'), (2, NULL, '', NULL, NULL), (3, 'table', 'x"y`z', -5, '');
INSERT INTO kv VALUES (1, 'a', 'one'), (1, 'b', 'two'), (2, 'a', 'three'), (3, 'ß', 'four');
UPDATE items SET name = 'updated', qty = qty + 1 WHERE id = 1;
UPDATE items SET data = '{"now": "set"}', tags = '{only}' WHERE id = 3;
UPDATE items SET id = 10 WHERE id = 2;
INSERT INTO items (id, name) SELECT g, 'bulk ' || g FROM generate_series(100, 199) g;
DELETE FROM items WHERE id BETWEEN 150 AND 159;
INSERT INTO items_noarr SELECT id, name, price, qty, ok, small, created, tz, d, t, data, j, u, b, f, r, vc, ch, big, iv, ms, tm
  FROM items;
UPDATE items_noarr SET price = price + 1 WHERE id = 1;
DELETE FROM items_noarr WHERE id = 4;
UPDATE odd_cols SET "select" = 'where', "Mixed" = NULL WHERE "k;ey" = 1;
UPDATE odd_cols SET "k;ey" = 30 WHERE "k;ey" = 3;
DELETE FROM odd_cols WHERE "k;ey" = 2;
UPDATE kv SET b = 'c' WHERE a = 1 AND b = 'b';
UPDATE kv SET v = NULL WHERE a = 2;
DELETE FROM kv WHERE a = 3;
INSERT INTO trunc_me SELECT g, 'v' || g FROM generate_series(1, 20) g;
TRUNCATE trunc_me;
INSERT INTO trunc_me VALUES (100, 'after truncate'), (101, NULL);
INSERT INTO docs SELECT g, 0, repeat('body ' || g || ' ', 900) FROM generate_series(1, 3) g;
UPDATE docs SET n = n + 1 WHERE id <= 2;
SQL
wait_published debezium 120
walcast_stop
counts=()
for t in "${TABLES[@]}"; do counts+=("$t=$(psql -X -At -c "SELECT count(*) FROM $t")"); done
mycounts=()
for c in "${counts[@]}"; do [ "${c%%=*}" = items ] || mycounts+=("$c"); done
echo "sink_diff: topics produced ($(( $(date +%s) - t0 )) s): ${counts[*]}"

all='srv\\.public\\..*'
noarr='srv\\.public\\.(items_noarr|odd_cols|kv|trunc_me|docs)'
dbz_pg=$(ref_sink_props dbz_pgsink "jdbc:postgresql://127.0.0.1:$PGPORT/dbz" postgres "$all" header)
dbz_my=$(ref_sink_props dbz_mysink "jdbc:mariadb://127.0.0.1:$MYPORT/dbz" root "$noarr" header)
wc_pg=$(ref_sink_props wc_pgsink "jdbc:postgresql://127.0.0.1:$PGPORT/wc" postgres "$all")
wc_my=$(ref_sink_props wc_mysink "jdbc:mariadb://127.0.0.1:$MYPORT/wc" root "$noarr")
# SINK_DIFF_TRANSFORMS=1 (test_sink_transforms_reference.sh): every sink unwraps the envelopes itself
# (ExtractNewRecordState, tombstone mode, with add.headers), names its tables by the topic a RegexRouter gives,
# adds the sink record's Kafka coordinates as columns (InsertField$Value: the routed topic, partition, offset
# and record timestamp, which both read off the same topics), and moves two of unwrap's headers and a
# header read from Kafka (the source's connectorName, through header.converter=StringConverter, which
# Debezium's sink needs anyway) into columns (HeaderToValue)
if [ -n "${SINK_DIFF_TRANSFORMS:-}" ]; then
  for f in "$wc_pg" "$wc_my"; do
    echo "header.converter=org.apache.kafka.connect.storage.StringConverter" >>"$f"
  done
  for f in "$dbz_pg" "$dbz_my" "$wc_pg" "$wc_my"; do
    sed -i 's/^collection.name.format=.*/collection.name.format=${topic}/' "$f"
    printf '%s\n' "transforms=unwrap,route,ins,htv" "transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState" \
      "transforms.unwrap.add.headers=op,source.lsn:lsn" \
      "transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter" \
      'transforms.route.regex=srv\\.public\\.(.*)' 'transforms.route.replacement=$1' \
      'transforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Value' \
      "transforms.ins.topic.field=kafka_topic" "transforms.ins.partition.field=kafka_partition!" \
      "transforms.ins.offset.field=kafka_offset!" "transforms.ins.timestamp.field=kafka_ts" \
      "transforms.htv.type=io.debezium.transforms.HeaderToValue" \
      "transforms.htv.headers=__op,__lsn,__debezium.context.connectorName" \
      "transforms.htv.fields=hdr_op,hdr_lsn,hdr_connector" "transforms.htv.operation=move" >>"$f"
  done
  # ExtractNewRecordState drops truncate events: both keep the 20 rows from before the TRUNCATE
  counts=("${counts[@]/#trunc_me=*/trunc_me=22}")
  mycounts=("${mycounts[@]/#trunc_me=*/trunc_me=22}")
fi

# wc_sinks FILE...: walcast's sinks, beside a Connect worker (they are done long before Debezium's)
wc_sinks() {
  "$WALCAST" run --worker "$IT_DIR/worker.properties" "$@" >>"$IT_DIR/walcast-sinks.out" 2>>"$IT_DIR/walcast.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
}
wc_sinks "$wc_pg"
ref_connect_start "$BS" "$dbz_pg"
echo "sink_diff: Debezium's PostgreSQL sink RUNNING ($(( $(date +%s) - t0 )) s)"
fail=0
"$PY" "$REF/sink_diff.py" postgresql "$PGPORT" dbz wc "${SINK_DIFF_WAIT:-90}" "${counts[@]}" || fail=1
cp "$REF_CONNECT/connect.log" "$IT_DIR/connect-pg.log"
ref_connect_stop
walcast_stop
ref_connect_start "$BS" "$dbz_my"
echo "sink_diff: Debezium's MariaDB sink RUNNING ($(( $(date +%s) - t0 )) s)"
# walcast's MariaDB sink only once Debezium's created its tables: Debezium's table lookup on MariaDB is
# not limited to the connection's database, so with wc.items_noarr there first it never creates
# dbz.items_noarr and dies on "Table 'dbz.items_noarr' doesn't exist" (docs/compatibility.md)
for _ in $(seq 1 600); do
  [ "$(my_q -e "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'dbz'")" -ge $(( ${#mycounts[@]} )) ] && break
  sleep 0.1
done
wc_sinks "$wc_my"
"$PY" "$REF/sink_diff.py" mariadb "$MYPORT" dbz wc "${SINK_DIFF_WAIT:-90}" "${mycounts[@]}" || fail=1
cp "$REF_CONNECT/connect.log" "$IT_DIR/connect-my.log"
ref_connect_stop
walcast_stop
! grep -q "sink failed" "$IT_DIR/walcast.log"
[ $fail -eq 0 ]
echo "sink_diff: ok ($(( $(date +%s) - t0 )) s)"
