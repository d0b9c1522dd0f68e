#!/usr/bin/env bash
# test_sink_new_topics.sh: sinks pick up topics that do not exist yet when they subscribe. Both sinks start
# first, on an empty broker; then a source snapshots eight tables, so each table's topic is auto-created
# while the sinks' consumer groups are joining or rebalancing, one topic after another. One sink subscribes
# with topics.regex, the other with an explicit topics list naming all eight. Every table must arrive in
# both target databases (row by row, bounded wait), and keep arriving: a second round of writes to every
# table after the topics exist. (Once, under load, test_sink_jdbc.sh's sinks never consumed a topic the
# snapshot auto-created; this is that situation on purpose, several times over.)
. "$(dirname "$0")/lib.sh"
it_init
pg_start
kafka_start --topic connect-offsets
N=8
for d in tre tli; do psql_q -c "CREATE DATABASE $d"; done
for i in $(seq 1 $N); do
  psql_q -c "CREATE TABLE t$i (id int PRIMARY KEY, v text)" \
    -c "INSERT INTO t$i SELECT g, 't$i row ' || g FROM generate_series(1, 50) g"
done
list=$(seq -s, -f 'srv.public.t%g' 1 $N)
common=("connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "insert.mode=upsert" "delete.enabled=true"
  "primary.key.mode=record_key" "schema.evolution=basic" "collection.name.format=\${source.table}")
regex="$IT_DIR/regex.properties" named="$IT_DIR/named.properties"
printf '%s\n' "name=sink-regex" "topics.regex=srv\\.public\\.t[0-9]+" "${common[@]}" \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/tre" "connection.username=postgres" >"$regex"
printf '%s\n' "name=sink-list" "topics=$list" "${common[@]}" \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/tli" "connection.username=postgres" >"$named"
# the sinks first, alone, on a broker without any of the topics
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$regex" "$named" >"$IT_DIR/sinks.out" 2>>"$IT_DIR/sinks.log" &
SINKS_PID=$!
IT_PIDS+=($SINKS_PID)
wait_log 'msg="sink starting"' 2 30 "$IT_DIR/sinks.log"
src=$(connector_file src "table.include.list=public\\.t[0-9]+" "snapshot.mode=initial")
walcast_start "$src"

# equal: every table of the source in database $1, row by row
equal() {
  local db=$1 i want got
  for i in $(seq 1 $N); do
    want=$(psql -X -At -c "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t$i")
    got=$(psql -X -At -d "$db" -c "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t$i" 2>/dev/null || true)
    [ "$want" = "$got" ] || return 1
  done
}
wait_equal() {  # db seconds what
  local i
  for i in $(seq 1 $(($2 * 2))); do equal "$1" && return 0; sleep 0.5; done
  for i in $(seq 1 $N); do
    echo "t$i in $1: $(psql -X -At -d "$1" -c "SELECT count(*) FROM t$i" 2>&1 | head -1) rows (source $(psql -X -At -c "SELECT count(*) FROM t$i"))" >&2
  done
  echo "$3: database $1 did not become equal to the source in $2 s" >&2
  return 1
}
wait_equal tre 90 "snapshot, topics.regex sink"
wait_equal tli 90 "snapshot, topics list sink"
echo "the snapshot of $N tables, each into a topic created after the sinks subscribed, reached both sinks"
for i in $(seq 1 $N); do
  psql_q -c "INSERT INTO t$i SELECT g, 'later ' || g FROM generate_series(51, 60) g" \
    -c "UPDATE t$i SET v = 'updated' WHERE id % 7 = 0" -c "DELETE FROM t$i WHERE id % 11 = 0"
done
wait_equal tre 60 "streaming, topics.regex sink"
wait_equal tli 60 "streaming, topics list sink"
echo "later changes to all $N tables reached both sinks"
