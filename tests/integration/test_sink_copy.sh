#!/usr/bin/env bash
# test_sink_copy.sh: the PostgreSQL sink's COPY path (runs of creates of new keys go as COPY ... FROM STDIN,
# binary when every column has a binary form here, else text; sinks/postgres.c copy_rows).
# 1. Types: the same topics applied three times, into three databases: INSERT only (WALCAST_SINK_COPY=off,
#    the upsert path as before), COPY as chosen (binary for table tb, whose columns all have a binary form;
#    text for ty, which has json, uuid, time, interval), and COPY text only. The three targets must be equal
#    byte for byte, and tb must equal the source.
# 2. A run of creates one of whose keys the target already has: the COPY meets a unique violation, the batch
#    is applied again with ON CONFLICT, no row is lost or doubled and the existing row takes the source's
#    values.
# 3. Exactly-once: source and COPY sink SIGKILLed 4 times while rows are written; the target equals the source.
# MariaDB (runs of creates as plain multi-row INSERTs, no ON DUPLICATE KEY UPDATE): the same three steps
# into databases m_auto and m_crash, each compared with m_insert, the upsert path's (WALCAST_SINK_COPY=off).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
for db in t_insert t_auto t_text t_crash; do psql_q -c "CREATE DATABASE $db"; done
for db in m_insert m_auto m_crash; do my_q -e "CREATE DATABASE $db"; done
psql_q <<'SQL'
CREATE TABLE tb (id int PRIMARY KEY, small smallint, big bigint, ok boolean, t text, b bytea, f float8, r real,
  ts timestamp(6), tstz timestamptz, d date, n1 numeric(10,2), n2 numeric);
CREATE TABLE ty (id int PRIMARY KEY, name text, data jsonb, u uuid, tm time(6), iv interval, n numeric(12,4),
  tstz timestamptz);
SQL
kafka_start --topic srv.public.tb --topic srv.public.ty
src=$(connector_file src "table.include.list=public\\.(tb|ty)")
walcast_start "$src"
psql_q <<'SQL'
INSERT INTO tb VALUES
 (1, -32768, -9223372036854775808, true, E'tab\there, newline\n, back\\slash, \\N, quote '' "', '\x00ff5c0a',
  -0.0, 3.4e38, '0001-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', '0001-01-01', -99999999.99, 0),
 (2, 32767, 9223372036854775807, false, '', '', 1e300, -1.5, '9999-12-31 23:59:59.999999',
  '2100-06-01 12:00:00.5+00', '9999-12-31', 0.01, -123456789012345678901234567890.000000000000000000001),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 0, 0, true, E'unicode ünï 日本 \U0001F600', '\xdeadbeef', 3.141592653589793, 1.17549435e-38,
  '2024-02-29 23:59:59.123456', '1970-01-01 00:00:00+00', '2024-02-29', 10000.00, 0.00010000),
 (5, 1, 1, false, '\.', '\x5c2e', 'Infinity', '-Infinity', '1970-01-01 00:00:00', '2000-01-01 00:00:00+00',
  '1970-01-01', -0.50, 100000000);
INSERT INTO tb SELECT g, g % 30000, g * 1000003, g % 2 = 0, 'row ' || g, int4send(g), g / 7.0, g / 3.0,
  '2020-01-01'::timestamp + g * interval '1.000001 s', '2020-01-01 00:00:00+00'::timestamptz + g * interval '1 min',
  '2020-01-01'::date + g % 3000, g / 3.0, g / 7.0
  FROM generate_series(100, 2099) g;
INSERT INTO ty VALUES
 (1, E'a\tb\\c\nd', '{"a": [1, 2, {"b": null}], "q": "it''s\\n"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '13:14:15.000001', '1 year 2 months 3 days 04:05:06.789', -12345678.1234, '2024-01-01 10:00:00+02'),
 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (3, '', '[]', '00000000-0000-0000-0000-000000000000', '00:00:00', '-1 day', 0, '0001-01-01 00:00:00+00');
INSERT INTO ty SELECT g, 'name ' || g, jsonb_build_object('g', g), md5(g::text)::uuid, '00:00:00'::time + g * interval '1 s',
  g * interval '1 min', g / 3.0, '2020-01-01 00:00:00+00'::timestamptz + g * interval '1 h'
  FROM generate_series(100, 1099) g;
SQL
wait_published
walcast_stop

sink_file() {  # NAME DB [KEY=VALUE...]; a DB named m_* is MariaDB's
  local name=$1 db=$2 url="jdbc:postgresql://127.0.0.1:$PGPORT/$2" user=postgres
  shift 2
  # MariaDB cannot store tb's row 5 (Infinity): dead-lettered on every path
  case $db in m_*) url="jdbc:mariadb://127.0.0.1:$MYPORT/$db" user=root; set -- "$@" "errors.tolerance=all" ;; esac
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics.regex=srv\\.public\\..*" \
    "connection.url=$url" "connection.username=$user" "insert.mode=upsert" \
    "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" "collection.name.format=\${source.table}" \
    "batch.size=500" "$@" >"$IT_DIR/$name.properties"
}
count() {
  case $1 in
    m_*) my_q "$1" -e "SELECT count(*) + ('$2' = 'tb') FROM $2" 2>/dev/null || echo 0 ;;   # + tb's row 5
    *) psql -X -At -d "$1" -c "SELECT (SELECT count(*) FROM $2)" 2>/dev/null || echo 0 ;;
  esac
}
# wait_rows DB TABLE N: waits (bounded) until DB's TABLE holds N rows
wait_rows() {
  for _ in $(seq 1 600); do [ "$(count "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done
  echo "$1.$2 holds $(count "$1" "$2") rows, expected $3" >&2
  return 1
}
dump() {
  case $1 in
    m_*) my_q "$1" -e "SELECT * FROM $2 ORDER BY id" ;;
    *) psql -X -At -d "$1" -c "COPY (SELECT * FROM $2 ORDER BY id) TO STDOUT" ;;
  esac
}
# same_as DB1 DB2 TABLE: the two databases' TABLE are equal byte for byte
same_as() {
  dump "$1" "$3" >"$IT_DIR/$1.$3"
  dump "$2" "$3" >"$IT_DIR/$2.$3"
  diff "$IT_DIR/$1.$3" "$IT_DIR/$2.$3" >&2 || { echo "$2.$3 differs from $1.$3" >&2; return 1; }
}
# tb against the source: n2 (numeric without a scale) travels as Debezium's VariableScaleDecimal, which
# keeps no trailing zeros (as with the INSERT path)
dump_tb() { psql -X -At -d "$1" -c "COPY (SELECT id, small, big, ok, t, b, f, r, ts, tstz, d, n1, trim_scale(n2) FROM tb ORDER BY id) TO STDOUT"; }
# run_sink NAME DB COPYMODE: applies both topics into DB with WALCAST_SINK_COPY=COPYMODE and stops
run_sink() {
  sink_file "$1" "$2"
  WALCAST_SINK_COPY=$3 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/$1.properties" \
    >>"$IT_DIR/walcast.out" 2>"$IT_DIR/$1.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
  wait_rows "$2" tb "$NTB"
  wait_rows "$2" ty "$NTY"
  walcast_stop
  ! grep -q 'msg="sink failed"' "$IT_DIR/$1.log"
}
NTB=$(count postgres tb)
NTY=$(count postgres ty)

# ---- 1. types: INSERT path, COPY as chosen, COPY text ----
run_sink s_insert t_insert off
run_sink s_auto t_auto auto
run_sink s_text t_text text
run_sink s_minsert m_insert off
run_sink s_mauto m_auto auto
same_as m_insert m_auto tb
same_as m_insert m_auto ty
! grep -q 'creates go through COPY' "$IT_DIR/s_insert.log" || { echo "WALCAST_SINK_COPY=off still used COPY" >&2; exit 1; }
grep -q 'msg="creates go through COPY" table=tb format=binary' "$IT_DIR/s_auto.log" || { echo "tb did not go through binary COPY" >&2; exit 1; }
grep -q 'msg="creates go through COPY" table=ty format=text' "$IT_DIR/s_auto.log" || { echo "ty did not go through text COPY" >&2; exit 1; }
grep -q 'msg="creates go through COPY" table=tb format=text' "$IT_DIR/s_text.log" || { echo "tb did not go through text COPY" >&2; exit 1; }
for tab in tb ty; do
  dump t_insert $tab >"$IT_DIR/insert.$tab"
  for db in t_auto t_text; do
    dump $db $tab >"$IT_DIR/$db.$tab"
    diff "$IT_DIR/insert.$tab" "$IT_DIR/$db.$tab" >&2 || { echo "$db.$tab differs from the INSERT path's" >&2; exit 1; }
  done
done
dump_tb postgres >"$IT_DIR/source.tb"
dump_tb t_insert >"$IT_DIR/insert.tb"
diff "$IT_DIR/source.tb" "$IT_DIR/insert.tb" >&2 || { echo "tb differs from the source" >&2; exit 1; }
echo "types: tb ($NTB rows, binary COPY) and ty ($NTY rows, text COPY) equal to the INSERT path's; tb equal to the source"

# ---- 2. a create whose key the target has: unique violation, the batch again with ON CONFLICT ----
psql_q -d t_auto -c "INSERT INTO tb (id, t) VALUES (3005, 'the target had this row')"
walcast_start "$src"
psql_q -c "INSERT INTO tb SELECT g, 1, g, true, 'late ' || g, NULL, g, g, NULL, now(), NULL, g, g FROM generate_series(3000, 3199) g"
wait_published
walcast_stop
NTB=$(count postgres tb)
sink_file s_auto t_auto
WALCAST_SINK_COPY=auto "$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/s_auto.properties" \
  >>"$IT_DIR/walcast.out" 2>"$IT_DIR/s_auto2.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_rows t_auto tb "$NTB"
wait_log 'msg="a create event met an existing row' 1 30 "$IT_DIR/s_auto2.log"
walcast_stop
! grep -q 'msg="sink failed"' "$IT_DIR/s_auto2.log"
dump_tb postgres >"$IT_DIR/source.tb"
dump_tb t_auto >"$IT_DIR/t_auto.tb"
diff "$IT_DIR/source.tb" "$IT_DIR/t_auto.tb" >&2 || { echo "after the unique violation t_auto.tb differs from the source" >&2; exit 1; }
echo "unique violation: COPY fell back to ON CONFLICT; $NTB rows, none lost or doubled, row 3005 took the source's values"
my_q m_auto -e "INSERT INTO tb (id, t) VALUES (3005, 'the target had this row')"
: >"$IT_DIR/s_mauto.log"
run_sink s_minsert m_insert off
run_sink s_mauto m_auto auto
grep -q 'msg="a create event met an existing row' "$IT_DIR/s_mauto.log" || { echo "MariaDB: the seeded row was not met" >&2; exit 1; }
same_as m_insert m_auto tb
echo "MariaDB: plain INSERT met the seeded row, the batch went again with ON DUPLICATE KEY UPDATE; m_auto.tb equals m_insert.tb"

# ---- 2b. a poison record in a COPY run (a CHECK of the target's): the table goes back to INSERT, which
# finds the record and dead-letters it (errors.tolerance=all); every other row is applied ----
psql_q -d t_text -c "ALTER TABLE tb ADD CHECK (t IS DISTINCT FROM 'late 3100')"
sink_file s_text t_text "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_copy_dlq" "errors.deadletterqueue.topic.replication.factor=1"
WALCAST_SINK_COPY=text "$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/s_text.properties" \
  >>"$IT_DIR/walcast.out" 2>"$IT_DIR/s_text2.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
wait_rows t_text tb $((NTB - 1))
wait_log 'msg="COPY into a target table failed' 1 30 "$IT_DIR/s_text2.log"
wait_log 'dead_letters=1' 1 30 "$IT_DIR/s_text2.log" 2>/dev/null || true
walcast_stop
grep -q 'sink stopped.*dead_letters=1' "$IT_DIR/s_text2.log" || { echo "the poison record was not dead-lettered once" >&2; exit 1; }
dump_tb postgres | grep -v $'^3100\t' >"$IT_DIR/source.tb"
dump_tb t_text >"$IT_DIR/t_text.tb"
diff "$IT_DIR/source.tb" "$IT_DIR/t_text.tb" >&2 || { echo "t_text.tb differs from the source without row 3100" >&2; exit 1; }
echo "poison record in a COPY run: dead-lettered by the INSERT path, the other $((NTB - 1)) rows applied"

# ---- 3. exactly-once under SIGKILL: source and COPY sink in one process, rows written meanwhile ----
sink_file s_crash t_crash "batch.size=100"
sink_file s_mcrash m_crash "batch.size=100"
start_all() { WALCAST_SINK_COPY=auto walcast_start "$src" "$IT_DIR/s_crash.properties" "$IT_DIR/s_mcrash.properties"; }
start_all
(
  for i in $(seq 1 2000); do
    [ "$i" -gt 100 ] && [ -e "$IT_DIR/kills.done" ] && break
    echo "INSERT INTO tb SELECT g, 2, g, false, 'crash ' || g, NULL, g, g, now(), now(), NULL, g, g FROM generate_series($((10000 + i * 50)), $((10049 + i * 50))) g;"
    sleep 0.01
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!
applied() { psql -X -At -d t_crash -c "SELECT coalesce(sum(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
applied_my() { my_q m_crash -e "SELECT coalesce(sum(\`offset\`), 0) FROM walcast_sink_offsets" 2>/dev/null || echo 0; }
sink_kill_loop 4 start_all applied applied_my || { touch "$IT_DIR/kills.done"; exit 1; }
touch "$IT_DIR/kills.done"
wait "$writer"
wait_published
NTB=$(count postgres tb)
wait_rows t_crash tb "$NTB"
wait_rows m_crash tb "$NTB"
walcast_stop
grep -q 'msg="creates go through COPY" table=tb format=binary' "$IT_DIR/walcast.log" || { echo "the crash run did not use COPY" >&2; exit 1; }
! grep -q 'msg="sink failed"' "$IT_DIR/walcast.log"
dump_tb postgres >"$IT_DIR/source.tb"
dump_tb t_crash >"$IT_DIR/t_crash.tb"
diff "$IT_DIR/source.tb" "$IT_DIR/t_crash.tb" >&2 || { echo "after the kills t_crash.tb differs from the source" >&2; exit 1; }
echo "exactly-once: 4 SIGKILLs mid-stream, t_crash.tb equals the source ($NTB rows)"
run_sink s_minsert m_insert off
same_as m_insert m_crash tb
echo "MariaDB exactly-once: m_crash.tb equals m_insert.tb ($NTB rows)"
