#!/usr/bin/env bash
# test_sink_conflicts.sh: the conflict policies of the PostgreSQL target. Four targets are pre-seeded so that
# seven events meet every conflict type (insert_exists, update_origin_differs, update_missing, delete_missing,
# delete_origin_differs, and update_exists: a primary-key change 6 -> 7, sent as Debezium sends it, a delete
# and a create carrying __debezium.oldkey, onto a key the target has); each policy's final table and its
# walcast_conflicts rows are checked, and
# conflict.policy=error stops the sink at the first conflicting record. The same three policies again
# into MariaDB. Then every policy into both, with batch.size=10, from a real snapshot of two tables during
# which the second one is changed (lib.sh race_start, issue 17): each target must equal the source.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
kafka_start --topic it_conf
V_OLD_B=80000000000000640000000000000000srcB   # ts_us 100 from source srcB
V_NEW_B=80000000000003840000000000000000srcB   # ts_us 900 from source srcB
V_OLD_A=80000000000000640000000000000000srcA   # ts_us 100 from source srcA (the events' source)
SEED="(1, 'seed1', '$V_OLD_B'), (2, 'seed2', '$V_NEW_B'), (5, 'seed5', '$V_OLD_B'), (6, 'seed6', '$V_OLD_A'), (7, 'seed7', '$V_OLD_B')"
for db in sw nw tw er; do
  psql_q -c "CREATE DATABASE $db"
  psql_q -d $db <<SQL
CREATE TABLE it_conf (id bigint PRIMARY KEY, v text, __walcast_version text COLLATE "C");
INSERT INTO it_conf VALUES $SEED;
SQL
done
ev() {  # id op row-json lsn (JSON with schemas, as JsonConverter writes by default)
  local row=$3
  if [ "$2" = d ]; then
    printf '%s\t%s\n' "{\"id\":$1}" "{\"op\":\"d\",\"before\":$row,\"after\":null,\"source\":{\"name\":\"srcA\",\"ts_us\":500,\"lsn\":$4}}"
  else
    printf '%s\t%s\n' "{\"id\":$1}" "{\"op\":\"$2\",\"before\":null,\"after\":$row,\"source\":{\"name\":\"srcA\",\"ts_us\":500,\"lsn\":$4}}"
  fi | "$PY" "$ROOT/tests/integration/with_schema.py"
}
{
  ev 1 c '{"id":1,"v":"a1"}' 10      # insert_exists
  ev 2 u '{"id":2,"v":"a2"}' 11      # update_origin_differs (the target's row is newer)
  ev 3 u '{"id":3,"v":"a3"}' 12      # update_missing
  ev 4 d '{"id":4}' 13               # delete_missing
  ev 5 d '{"id":5}' 14               # delete_origin_differs (the target's row is older)
} | kcat -P -b "$BS" -t it_conf -K $'\t' -X enable.idempotence=true
# the key change 6 -> 7 (7 exists in the target: update_exists; 6 has the events' own source: no conflict)
ev 6 d '{"id":6,"v":"seed6"}' 15 | kcat -P -b "$BS" -t it_conf -K $'\t' -H '__debezium.newkey={"id":7}'
ev 7 c '{"id":7,"v":"a7"}' 15 | kcat -P -b "$BS" -t it_conf -K $'\t' -H '__debezium.oldkey={"id":6}'
for db in sw nw tw; do
  my_q -e "CREATE DATABASE $db; CREATE TABLE $db.it_conf (id bigint PRIMARY KEY, v longtext, __walcast_version varbinary(255));
    INSERT INTO $db.it_conf VALUES $SEED"
done
files=()
myfiles=()
for p in sw:source_wins nw:newer_wins tw:target_wins er:error; do
  db=${p%%:*} pol=${p#*:}
  printf '%s\n' "name=it_conf_$db" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=it_conf" \
    "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/$db" "connection.username=postgres" "insert.mode=upsert" \
    "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" "conflict.log.enabled=true" \
    "conflict.policy=$pol" "consumer.override.fetch.min.bytes=1" "consumer.override.max.poll.records=50" \
    >"$IT_DIR/$db.properties"
  files+=("$IT_DIR/$db.properties")
  [ $db = er ] && continue
  printf '%s\n' "name=it_myconf_$db" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=it_conf" \
    "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/$db" "connection.username=root" "insert.mode=upsert" \
    "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" "conflict.log.enabled=true" \
    "conflict.policy=$pol" >"$IT_DIR/my$db.properties"
  myfiles+=("$IT_DIR/my$db.properties")
done
# the error sink fails (and so stops the process): run it on its own
"$WALCAST" run --worker "$IT_DIR/worker.properties" "${files[@]:0:3}" "${myfiles[@]}" >"$IT_DIR/walcast.out" 2>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
state() { psql -X -At -d "$1" -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM it_conf"; }
done_all() {
  for db in sw nw tw; do
    [ "$(psql -X -At -d $db -c "SELECT coalesce(max(\"offset\"), 0) FROM walcast_sink_offsets" 2>/dev/null)" = 7 ] || return 1
    [ "$(my_q $db -e "SELECT coalesce(max(\`offset\`), 0) FROM walcast_sink_offsets" 2>/dev/null)" = 7 ] || return 1
  done
}
for _ in $(seq 1 300); do done_all && break; sleep 0.1; done
done_all || { echo "the sinks did not apply all 7 records within 30 s" >&2; exit 1; }
walcast_stop
# consumer.override.*: a Java-only setting is named and ignored, librdkafka's are taken
grep -q 'Kafka consumer setting of the Java client ignored.*key=max.poll.records' "$IT_DIR/walcast.log" \
  || { echo "consumer.override.max.poll.records was not read" >&2; exit 1; }
check() {  # db expected-state
  local got
  got=$(state "$1")
  [ "$got" = "$2" ] || { echo "$1: table holds '$got', expected '$2'" >&2; exit 1; }
  got=$(psql -X -At -d "$1" -c "SELECT string_agg(key->>'id' || ':' || type, ',' ORDER BY (key->>'id')::int) FROM walcast_conflicts")
  local want="1:insert_exists,2:update_origin_differs,3:update_missing,4:delete_missing,5:delete_origin_differs,7:update_exists"
  [ "$got" = "$want" ] || { echo "$1: conflicts '$got', expected '$want'" >&2; exit 1; }
  [ "$(psql -X -At -d "$1" -c "SELECT count(*) FROM walcast_conflicts WHERE existing IS NOT NULL")" = 4 ]
  echo "$1: $2; conflicts $got"
}
check sw "1=a1,2=a2,3=a3,7=a7"
check nw "1=a1,2=seed2,3=a3,7=a7"
check tw "1=seed1,2=seed2,3=a3,5=seed5,7=seed7"
mycheck() {  # db expected-state: the same in MariaDB
  local got want="1:insert_exists,2:update_origin_differs,3:update_missing,4:delete_missing,5:delete_origin_differs,7:update_exists"
  got=$(my_q "$1" -e "SELECT group_concat(concat(id, '=', v) ORDER BY id) FROM it_conf")
  [ "$got" = "$2" ] || { echo "mariadb $1: table holds '$got', expected '$2'" >&2; exit 1; }
  got=$(my_q "$1" -e "SELECT group_concat(concat(JSON_VALUE(\`key\`, '$.id'), ':', type) ORDER BY JSON_VALUE(\`key\`, '$.id') + 0) FROM walcast_conflicts")
  [ "$got" = "$want" ] || { echo "mariadb $1: conflicts '$got', expected '$want'" >&2; exit 1; }
  echo "mariadb $1: $2; conflicts $got"
}
mycheck sw "1=a1,2=a2,3=a3,7=a7"
mycheck nw "1=a1,2=seed2,3=a3,7=a7"
mycheck tw "1=seed1,2=seed2,3=a3,5=seed5,7=seed7"
if "$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/er.properties" >"$IT_DIR/er.out" 2>"$IT_DIR/er.log"; then
  echo "conflict.policy=error did not stop the sink" >&2; exit 1
fi
grep -q 'msg="sink failed".*it_conf\[0\]@0.*conflict insert_exists' "$IT_DIR/er.log" \
  || { echo "no failure naming it_conf[0]@0 and insert_exists" >&2; tail -5 "$IT_DIR/er.log" >&2; exit 1; }
[ "$(state er)" = "1=seed1,2=seed2,5=seed5,6=seed6,7=seed7" ]
echo "er: stopped at it_conf[0]@0 (insert_exists), target untouched"

# issue 17: changes committed after the consistent point but before race_small was read (earlier by the
# clock than its snapshot rows, later in commit order) are applied under every policy
rfiles=() rchecks=()
race_pg() { psql -X -At -d "$1" -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM race_small"; }
race_my() { my_q "$1" -e "SET SESSION group_concat_max_len = 100000; SELECT group_concat(concat(id, '=', v) ORDER BY id) FROM race_small"; }
for p in sw:source_wins nw:newer_wins tw:target_wins er:error; do
  db=r${p%%:*} pol=${p#*:}
  psql_q -c "CREATE DATABASE $db"
  my_q -e "CREATE DATABASE $db"
  for dst in "pg:jdbc:postgresql://127.0.0.1:$PGPORT/$db:postgres" "my:jdbc:mariadb://127.0.0.1:$MYPORT/$db:root"; do
    kind=${dst%%:*} rest=${dst#*:}
    printf '%s\n' "name=race_${kind}_$db" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" \
      "topics=race.public.race_small" "connection.url=${rest%:*}" "connection.username=${rest##*:}" \
      "insert.mode=upsert" "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" \
      "table.name.format=race_small" "batch.size=10" "conflict.policy=$pol" >"$IT_DIR/race_${kind}_$db.properties"
    rfiles+=("$IT_DIR/race_${kind}_$db.properties")
    rchecks+=("${kind}_$pol:race_$kind $db")
  done
done
race_start 20000 "${rfiles[@]}"
race_expect "${rchecks[@]}"
walcast_stop
