#!/usr/bin/env bash
# sink_capture.sh: Debezium's JDBC sink (io.debezium.connector.jdbc.JdbcSinkConnector, scripts/connect.sh)
# on Kafka Connect standalone, fed from the topics walcast's source connector produces, into a PostgreSQL
# and a MariaDB target. Records what it creates and fills, so that walcast's sink can be diffed with it:
#   OUTDIR/{postgresql,mariadb}.ddl   columns per table from information_schema (name, type, nullability,
#                                     key), in table and column order
#   OUTDIR/{postgresql,mariadb}.data  every row, ordered by key, one text line each
#   OUTDIR/sink.properties.*          the sink configs used (same keys as walcast's test_sink_jdbc.sh)
# Usage: tests/reference/sink_capture.sh [OUTDIR]         (default: tests/reference/out/sink)
#        SINK_BENCH_ROWS=200000 tests/reference/sink_capture.sh --bench
#        bench: one table of that many rows; each target alone; prints "jdbc_sink_rows_per_s <target> N"
set -euo pipefail
. "$(dirname "$0")/reflib.sh"
BENCH=0
[ "${1:-}" = --bench ] && { BENCH=1; shift; }
OUT=${1:-$ROOT/tests/reference/out/sink}
ROWS=${SINK_BENCH_ROWS:-200000}
ref_init
pg_start
mariadb_start
psql_q -c "CREATE DATABASE target"
my_q -e "CREATE DATABASE target"

if [ $BENCH -eq 1 ]; then
  psql_q -c "CREATE TABLE bench (id int PRIMARY KEY, name text, qty bigint, price numeric(10,2), created timestamp(6))"
  TABLES=(bench)
else
  psql_q <<'SQL'
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty bigint, ok boolean, small smallint,
  created timestamp(6), tz timestamptz, d date, t time(6), data jsonb, u uuid, b bytea, f float8, r real, tags text[],
  vc varchar(20), ch char(3), big numeric, iv interval);
-- a plain table name: Debezium's JDBC sink fails on a name with a '"' or a space in it (TableIdParser
-- "Unexpected input", docs/compatibility.md); hostile column names are fine
CREATE TABLE odd_cols ("k;ey" int PRIMARY KEY, "select" text, "ünï" text, "Mixed" int);
CREATE TABLE kv (a int, b text, v text, PRIMARY KEY (a, b));
-- items without its text[] column, for MariaDB: Debezium's MySQL dialect has no ARRAY mapping and its
-- task dies on one with a NullPointerException (docs/compatibility.md), so the MariaDB sink reads this
CREATE TABLE items_noarr (LIKE items INCLUDING ALL);
ALTER TABLE items_noarr DROP COLUMN tags;
SQL
  TABLES=(items items_noarr odd_cols kv)
fi
kafka_start
src=$(connector_file src "table.include.list=public\\..*")
walcast_start "$src"
if [ $BENCH -eq 1 ]; then
  psql_q -c "INSERT INTO bench SELECT g, 'name ' || g, g * 3, g / 7.0, '2024-01-01'::timestamp + g * interval '1 second' FROM generate_series(1, $ROWS) g"
else
  psql_q <<'SQL'
INSERT INTO items VALUES
 (1, 'plain', 12.50, 9000000000, true, 7, '2024-02-29 23:59:59.123456', '2024-01-01 10:00:00+02', '2024-02-29',
  '13:14:15.000001', '{"a": [1, 2, {"b": null}], "q": "it''s"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\x00ff10', 3.141592653589793, 1.5, '{x,"y z",NULL}', 'varchar', 'abc', 12345678901234567890.123456789, '1 day 02:03:04'),
 (2, 'quote '' "dq" back\slash', -0.01, -1, false, -32768, '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00',
  '0001-01-01', '00:00:00', '[]', '00000000-0000-0000-0000-000000000000', '', -0.0, -3.25, '{}', '', 'x', 0, '0'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO odd_cols VALUES (1, 'from', 'ö', 1), (2, NULL, '', NULL);
INSERT INTO kv VALUES (1, 'a', 'one'), (1, 'b', 'two'), (2, 'a', 'three');
UPDATE items SET name = 'updated' WHERE id = 1;
UPDATE items SET id = 10 WHERE id = 2;
INSERT INTO items_noarr SELECT id, name, price, qty, ok, small, created, tz, d, t, data, u, b, f, r, vc, ch, big, iv FROM items;
DELETE FROM kv WHERE a = 2;
SQL
fi
wait_published debezium 600
walcast_stop

pgsink=$(ref_sink_props ref_pgsink "jdbc:postgresql://127.0.0.1:$PGPORT/target" postgres 'srv\\.public\\..*' header)
if [ $BENCH -eq 1 ]; then
  mysink=$(ref_sink_props ref_mysink "jdbc:mariadb://127.0.0.1:$MYPORT/target" root 'srv\\.public\\..*' header)
else
  mysink=$(ref_sink_props ref_mysink "jdbc:mariadb://127.0.0.1:$MYPORT/target" root 'srv\\.public\\.(items_noarr|odd_cols|kv)' header)
fi

count_pg() { psql -X -At -d target -c "SELECT count(*) FROM $(printf '"%s"' "${1//\"/\"\"}")" 2>/dev/null || echo -1; }
count_my() { my_q target -e "SELECT count(*) FROM \`${1//\`/\`\`}\`" 2>/dev/null || echo -1; }
src_count() { psql -X -At -c "SELECT count(*) FROM $(printf '"%s"' "${1//\"/\"\"}")"; }

# wait_rows KIND SECONDS: every table of TABLES (MariaDB: but items) has the source's row count in the target
wait_rows() {
  local kind=$1 secs=$2 t ok i=0
  for _ in $(seq 1 $((secs * 10))); do
    i=$((i + 1))
    if [ $((i % 20)) -eq 0 ] && bash "$ROOT/scripts/connect.sh" status "$REF_CONNECT" "ref_${kind}sink" | grep -q FAILED; then
      bash "$ROOT/scripts/connect.sh" status "$REF_CONNECT" "ref_${kind}sink" | cut -c1-2000 >&2
      echo "the JDBC sink into $kind FAILED" >&2
      return 1
    fi
    ok=1
    for t in "${TABLES[@]}"; do
      [ "$kind" = my ] && [ "$t" = items ] && [ $BENCH -eq 0 ] && continue
      [ "$(count_"$kind" "$t")" = "$(src_count "$t")" ] || { ok=0; break; }
    done
    [ $ok -eq 1 ] && return 0
    sleep 0.1
  done
  echo "the JDBC sink into $kind did not reach the source's row counts within ${secs}s" >&2
  tail -40 "$REF_CONNECT/connect.log" >&2
  return 1
}

if [ $BENCH -eq 1 ]; then
  for kind in pg my; do
    f=$pgsink; [ $kind = my ] && f=$mysink
    ref_connect_start "$BS" "$f"
    t0=$(date +%s.%N)           # the task is RUNNING: its consumer starts now
    wait_rows $kind 1800
    t1=$(date +%s.%N)
    ref_connect_stop
    name=postgresql; [ $kind = my ] && name=mariadb
    echo "jdbc_sink_rows_per_s $name $(echo "$ROWS / ($t1 - $t0)" | bc) ($ROWS rows in $(echo "$t1 - $t0" | bc | cut -c1-6) s)"
  done
  exit 0
fi

# one worker per target: with both JDBC sink connectors in one worker, the PostgreSQL one created
# tables with MySQL's "longtext" and the MariaDB one failed with a NullPointerException in
# getSchemaType (3.6.0.Final on Connect 4.4.0): their dialect state is shared inside one JVM
ref_connect_start "$BS" "$pgsink"
wait_rows pg 300
ref_connect_stop
mkdir -p "$OUT"
rm -f "$OUT/mariadb.error"
ref_connect_start "$BS" "$mysink"
# a failure of the reference is a finding, not a failure of this script: its trace is kept
if ! wait_rows my 300; then
  bash "$ROOT/scripts/connect.sh" status "$REF_CONNECT" ref_mysink >"$OUT/mariadb.error"
  grep -E 'Caused by|ERROR' "$REF_CONNECT/connect.log" | grep -v '^\s*at ' | sort -u >>"$OUT/mariadb.error" || true
  echo "sink_capture: the JDBC sink into MariaDB failed: $OUT/mariadb.error" >&2
fi
ref_connect_stop
cp "$pgsink" "$OUT/sink.properties.postgresql"
cp "$mysink" "$OUT/sink.properties.mariadb"
psql -X -At -F '|' -d target >"$OUT/postgresql.ddl" <<'SQL'
SELECT c.table_name, c.ordinal_position, c.column_name, c.data_type, c.udt_name,
       coalesce(c.character_maximum_length::text, ''), coalesce(c.numeric_precision::text, ''),
       coalesce(c.numeric_scale::text, ''), coalesce(c.datetime_precision::text, ''), c.is_nullable,
       CASE WHEN k.column_name IS NULL THEN '' ELSE 'PK' || k.ordinal_position END
FROM information_schema.columns c
LEFT JOIN information_schema.table_constraints tc
  ON tc.table_schema = c.table_schema AND tc.table_name = c.table_name AND tc.constraint_type = 'PRIMARY KEY'
LEFT JOIN information_schema.key_column_usage k
  ON k.constraint_name = tc.constraint_name AND k.table_schema = c.table_schema AND k.table_name = c.table_name
 AND k.column_name = c.column_name
WHERE c.table_schema = 'public' ORDER BY c.table_name, c.ordinal_position;
SQL
my_q -e "SELECT table_name, ordinal_position, column_name, column_type, is_nullable, column_key
         FROM information_schema.columns WHERE table_schema = 'target' ORDER BY table_name, ordinal_position" \
  | tr '\t' '|' >"$OUT/mariadb.ddl"
: >"$OUT/postgresql.data"
: >"$OUT/mariadb.data"
for t in "${TABLES[@]}"; do
  q=$(printf '"%s"' "${t//\"/\"\"}")
  echo "## $t" >>"$OUT/postgresql.data"
  psql -X -At -F '|' -d target -c "SELECT * FROM $q ORDER BY 1, 2" >>"$OUT/postgresql.data"
  echo "## $t" >>"$OUT/mariadb.data"
  my_q target -e "SELECT * FROM \`${t//\`/\`\`}\` ORDER BY 1, 2" 2>&1 | tr '\t' '|' >>"$OUT/mariadb.data" || true
done
echo "sink_capture: wrote $OUT/{postgresql,mariadb}.{ddl,data}"
