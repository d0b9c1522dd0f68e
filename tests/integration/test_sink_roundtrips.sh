#!/usr/bin/env bash
# test_sink_roundtrips.sh: a batch is one round trip to the target where nothing needs an answer before
# COMMIT (source_wins, no conflict log), and where the sink's time went is logged.
# 1. PostgreSQL: a batch of creates only (COPY) goes as one simple query, "BEGIN; <offsets>; COPY ...; COMMIT"
#    (BEGIN is not sent on its own ahead of it, so no pipeline has to be drained before the COPY).
# 2. MariaDB: a batch goes as one multi-statement query, "START TRANSACTION; <INSERTs>; <offsets>; COMMIT",
#    read back while the next batch is decoded (the general log shows one entry per batch).
# 3. Both targets equal the source; each sink logs "sink stage times" with every row counted.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
psql_q -c "CREATE TABLE rt (id int PRIMARY KEY, v text, n numeric(10,2))" -c "CREATE DATABASE t_rt"
psql_q -c "ALTER DATABASE t_rt SET log_statement = 'all'"
my_q -e "CREATE DATABASE m_rt; SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1"
kafka_start --topic srv.public.rt
src=$(connector_file src "table.include.list=public\\.rt")
walcast_start "$src"
psql_q -c "INSERT INTO rt SELECT g, 'row ' || g, g / 4.0 FROM generate_series(1, 3000) g"
wait_published
walcast_stop

sink_file() {  # NAME URL USER
  printf '%s\n' "name=$1" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=srv.public.rt" \
    "connection.url=$2" "connection.username=$3" "insert.mode=upsert" "delete.enabled=true" \
    "primary.key.mode=record_key" "schema.evolution=basic" "collection.name.format=\${source.table}" \
    "batch.size=500" >"$IT_DIR/$1.properties"
}
sink_file rt_pg "jdbc:postgresql://127.0.0.1:$PGPORT/t_rt" postgres
sink_file rt_my "jdbc:mariadb://127.0.0.1:$MYPORT/m_rt" root
WALCAST_SINK_STAGE_TIMES=1 walcast_spawn "$IT_DIR/rt_pg.properties" "$IT_DIR/rt_my.properties"
pg_rows() { psql -X -At -d t_rt -c "SELECT count(*) FROM rt" 2>/dev/null || echo 0; }
my_rows() { my_q m_rt -e "SELECT count(*) FROM rt" 2>/dev/null || echo 0; }
for _ in $(seq 1 600); do [ "$(pg_rows)" = 3000 ] && [ "$(my_rows)" = 3000 ] && break; sleep 0.1; done
[ "$(pg_rows)" = 3000 ] || { echo "PostgreSQL holds $(pg_rows) rows, expected 3000" >&2; exit 1; }
[ "$(my_rows)" = 3000 ] || { echo "MariaDB holds $(my_rows) rows, expected 3000" >&2; exit 1; }
walcast_stop

# 1. PostgreSQL: the batches of creates as one query each (6 batches of 500; the first one creates the table
#    and checks it for COPY, which reads the catalog in step, so it may go in parts)
one_pg=$(grep -c 'statement: BEGIN; INSERT INTO walcast_sink_offsets .*; COPY rt (id, v, n) FROM STDIN (FORMAT binary); COMMIT$' \
  "$PGDIR/postgres.log" || true)
echo "PostgreSQL: $one_pg batches as one query (BEGIN; offsets; COPY; COMMIT)"
[ "$one_pg" -ge 4 ] || { echo "PostgreSQL: expected at least 4 batches as one query" >&2; grep -n 'statement:\|execute' "$PGDIR/postgres.log" | tail -20 >&2; exit 1; }

# 2. MariaDB: one general-log entry per batch (the first one's DDL commits on its own)
one_my=$(my_q -e "SELECT count(*) FROM mysql.general_log WHERE command_type = 'Query' AND argument LIKE
  'START TRANSACTION;%INSERT INTO rt %INSERT INTO walcast_sink_offsets%COMMIT'")
echo "MariaDB: $one_my batches as one query (START TRANSACTION; INSERT; offsets; COMMIT)"
[ "$one_my" -ge 4 ] || { echo "MariaDB: expected at least 4 batches as one query" >&2
  my_q -e "SELECT left(argument, 80) FROM mysql.general_log WHERE command_type = 'Query' ORDER BY event_time DESC LIMIT 20" >&2; exit 1; }
my_q -e "SET GLOBAL general_log = 0"

# 3. equal to the source, and the stage times logged with every row
src_sum=$(psql -X -At -c "SELECT sum(id), sum(n), sum(length(v)) FROM rt")
[ "$(psql -X -At -d t_rt -c "SELECT sum(id), sum(n), sum(length(v)) FROM rt")" = "$src_sum" ] \
  || { echo "PostgreSQL target differs from the source" >&2; exit 1; }
[ "$(my_q m_rt -e "SELECT sum(id), sum(n), sum(length(v)) FROM rt" | tr '\t' '|')" = "$src_sum" ] \
  || { echo "MariaDB target differs from the source ($src_sum)" >&2; exit 1; }
for s in rt_pg rt_my; do
  grep -q "msg=\"sink stage times\" connector=$s .*rows=3000 .*decode_ms=.*commit_ms=.*settle_ms=" "$IT_DIR/walcast.log" \
    || { echo "$s logged no stage times for its 3000 rows" >&2; grep "stage times" "$IT_DIR/walcast.log" >&2; exit 1; }
done
echo "both targets equal the source; stage times logged"
