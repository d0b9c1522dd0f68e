# monitoring.sh: what the monitoring tests (test_metrics.sh, test_dashboard.sh, test_prometheus.sh) share,
# sourced after lib.sh's it_init: a REST worker with a source connector "src" (slot s_<name>; topic.prefix
# itm, a name kafka_admin.py reset deletes between the tests of a lane) over table t (10 rows snapshotted),
# and a JDBC sink "snk" (conflict.policy=target_wins, errors.tolerance=all, dead letters to it_mon_dlq) into
# database tgt, where row 11 already exists, written by another source; and a bounded background writer.

# mon_start NAME: PostgreSQL, Kafka, the worker (U: its URL), src and snk created and streaming.
mon_start() {
  local name=$1 code cfg sink
  pg_start
  psql_q -c "CREATE TABLE t (id int PRIMARY KEY, v text)" -c "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 10) g"
  psql_q -c "CREATE DATABASE tgt"
  psql_q -d tgt -c "CREATE TABLE t (id int PRIMARY KEY, v text, __walcast_version text COLLATE \"C\")" \
    -c "INSERT INTO t VALUES (11, 'seed', '80000000000000640000000000000000srcB')"
  kafka_start --topic itm.public.t
  rest_worker_start "$name"
  [ -n "${MON_BEFORE_CONNECTORS:-}" ] && "$MON_BEFORE_CONNECTORS"
  cfg='{"connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"127.0.0.1",'
  cfg+="\"database.port\":\"$PGPORT\",\"database.user\":\"postgres\",\"database.password\":\"hunter2\",\"database.dbname\":\"postgres\","
  cfg+="\"topic.prefix\":\"itm\",\"snapshot.mode\":\"initial\",\"slot.name\":\"s_$name\"}"
  mon_post src "$cfg"
  sink='{"connector.class":"io.debezium.connector.jdbc.JdbcSinkConnector","topics":"itm.public.t",'
  sink+="\"connection.url\":\"jdbc:postgresql://127.0.0.1:$PGPORT/tgt\",\"connection.username\":\"postgres\","
  sink+='"insert.mode":"upsert","delete.enabled":"true","primary.key.mode":"record_key","schema.evolution":"basic",'
  sink+='"collection.name.format":"${source.table}","conflict.policy":"target_wins",'
  sink+='"errors.tolerance":"all","errors.deadletterqueue.topic.name":"it_mon_dlq","errors.deadletterqueue.topic.replication.factor":"1"}'
  mon_post snk "$sink"
  wait_log "replication started" 1 60
}

# mon_post NAME CONFIG: creates a connector (201 or the test fails, naming the answer).
mon_post() {
  local code
  code=$(curl -s -o "$IT_DIR/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "{\"name\":\"$1\",\"config\":$2}" "$U/connectors")
  [ "$code" = 201 ] || { echo "create of $1 answered $code: $(cat "$IT_DIR/body")" >&2; exit 1; }
}

# mon_writer_start FIRST COUNT: inserts rows FIRST.. one transaction of 5 rows every 0.2 s, COUNT
# transactions at most, in the background (MON_WRITER: its PID, stopped by the EXIT trap); mon_writer_stop
# ends it after the transaction under way.
mon_writer_start() {
  local first=$1 count=$2
  rm -f "$IT_DIR/writer.stop"
  (
    for ((i = 0; i < count; i++)); do
      [ -e "$IT_DIR/writer.stop" ] && exit 0
      a=$((first + i * 5))
      psql -X -q -c "INSERT INTO t SELECT g, 'w' FROM generate_series($a, $((a + 4))) g" >/dev/null || exit 1
      sleep 0.2
    done
  ) &
  MON_WRITER=$!
  IT_PIDS+=($MON_WRITER)
}

mon_writer_stop() {
  touch "$IT_DIR/writer.stop"
  wait "$MON_WRITER" || { echo "the writer failed" >&2; exit 1; }
}
