#!/usr/bin/env bash
# test_sink_target_errors.sh: how the JDBC sinks take what their target refuses (issue 17 item 5), one
# classification for the source and the targets (schemas/status.c). Fatal, the sink stops at once saying
# why (never "retrying" forever, never the password): PostgreSQL wrong password (28P01), missing database
# (3D000), no CREATE privilege (42501); MariaDB wrong password (1045), unknown database (1049), no CREATE
# privilege (1142). Transient, the sink retries and applies once the cause is gone: PostgreSQL's
# "too many connections for role" (53300), MariaDB's max_user_connections reached (1226), MariaDB's
# connection killed under a running sink (2013/2006; PostgreSQL's restart is test_sink_retry.sh).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
kafka_start --topic it_terr
printf '%s\t%s\n' '{"id":1}' '{"op":"c","after":{"id":1,"v":"one"},"source":{"ts_ms":1}}' \
  '{"id":2}' '{"op":"c","after":{"id":2,"v":"two"},"source":{"ts_ms":2}}' \
  | "$PY" "$ROOT/tests/integration/with_schema.py" | kcat -P -b "$BS" -t it_terr -K $'\t' -X enable.idempotence=true
psql_q <<'SQL'
CREATE DATABASE target;
CREATE ROLE pw LOGIN PASSWORD 'right-pw';
CREATE ROLE weak LOGIN;
CREATE ROLE busy LOGIN CONNECTION LIMIT 0;
GRANT ALL ON DATABASE target TO busy;
SQL
psql_q -d target -c "GRANT CREATE ON SCHEMA public TO busy"
# role pw logs in with a password (the test cluster trusts everyone else)
sed -i "1i host all pw 127.0.0.1/32 scram-sha-256" "$PGDIR/data/pg_hba.conf"
psql_q -c "SELECT pg_reload_conf()" >/dev/null
my_q -e "CREATE DATABASE target; CREATE USER 'ro'@'%'; GRANT SELECT ON target.* TO 'ro'@'%';
  CREATE USER 'one'@'%' WITH MAX_USER_CONNECTIONS 1; GRANT ALL ON target.* TO 'one'@'%'"
sink() {  # name url [key=value...]
  local f="$IT_DIR/$1.properties" name=$1 url=$2; shift 2
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=it_terr" \
    "connection.url=$url" "insert.mode=upsert" "primary.key.mode=record_key" "schema.evolution=basic" \
    "walcast.retry.backoff.max.ms=500" "$@" >"$f"
  echo "$f"
}
# fatal: walcast (this sink alone) exits failed within 60 s, the log says why and never holds the password
fatal() {  # name expected-text sink-file
  local rc=0
  timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$3" >"$IT_DIR/$1.out" 2>"$IT_DIR/$1.log" || rc=$?
  [ $rc -ne 0 ] || { echo "$1: walcast exited 0" >&2; exit 1; }
  [ $rc -ne 124 ] || { echo "$1: still running after 60 s (retrying a fatal error?)" >&2; tail -5 "$IT_DIR/$1.log" >&2; exit 1; }
  grep 'msg="sink failed"' "$IT_DIR/$1.log" | grep -q "$2" \
    || { echo "$1: no 'sink failed' naming '$2'" >&2; cat "$IT_DIR/$1.log" >&2; exit 1; }
  ! grep -q 'wrong-pw' "$IT_DIR/$1.log" || { echo "$1: the password is in the log" >&2; exit 1; }
  ! grep -q 'retrying' "$IT_DIR/$1.log" || { echo "$1: a fatal error was retried" >&2; exit 1; }
  echo "$1: stopped: $2"
}
fatal pg_password "password authentication failed" \
  "$(sink pg_password "jdbc:postgresql://127.0.0.1:$PGPORT/target" "connection.username=pw" "connection.password=wrong-pw")"
fatal pg_nodb 'database \\"nosuch\\" does not exist' \
  "$(sink pg_nodb "jdbc:postgresql://127.0.0.1:$PGPORT/nosuch" "connection.username=postgres")"
fatal pg_noprivilege "42501" "$(sink pg_noprivilege "jdbc:postgresql://127.0.0.1:$PGPORT/target" "connection.username=weak")"
fatal my_password "1045" \
  "$(sink my_password "jdbc:mariadb://127.0.0.1:$MYPORT/target" "connection.username=root" "connection.password=wrong-pw")"
fatal my_nodb "1049" "$(sink my_nodb "jdbc:mariadb://127.0.0.1:$MYPORT/nosuch" "connection.username=root")"
fatal my_noprivilege "1142" "$(sink my_noprivilege "jdbc:mariadb://127.0.0.1:$MYPORT/target" "connection.username=ro")"

# transient: retried until the cause is gone, then everything is applied
retried() {  # name sink-file rows-command lift-command
  "$WALCAST" run --worker "$IT_DIR/worker.properties" "$2" >"$IT_DIR/$1.out" 2>"$IT_DIR/$1.log" &
  WALCAST_PID=$!
  IT_PIDS+=($WALCAST_PID)
  for _ in $(seq 1 300); do grep -q 'msg="target not reachable, retrying"' "$IT_DIR/$1.log" && break; sleep 0.1; done
  grep -q 'msg="target not reachable, retrying"' "$IT_DIR/$1.log" || { echo "$1: no retry" >&2; cat "$IT_DIR/$1.log" >&2; exit 1; }
  kill -0 $WALCAST_PID || { echo "$1: walcast exited" >&2; exit 1; }
  $4
  for _ in $(seq 1 300); do [ "$($3 2>/dev/null)" = 2 ] && break; sleep 0.1; done
  [ "$($3)" = 2 ] || { echo "$1: the rows did not arrive after the cause was lifted" >&2; cat "$IT_DIR/$1.log" >&2; exit 1; }
  walcast_stop
  ! grep -q 'msg="sink failed"' "$IT_DIR/$1.log"
  echo "$1: retried, then applied"
}
pg_rows() { psql -X -At -d target -c "SELECT count(*) FROM it_terr"; }
pg_lift() { psql_q -c "ALTER ROLE busy CONNECTION LIMIT -1"; }
retried pg_busy "$(sink pg_busy "jdbc:postgresql://127.0.0.1:$PGPORT/target" "connection.username=busy")" pg_rows pg_lift
grep -q "too many connections for role" "$IT_DIR/pg_busy.log"
# MariaDB: user 'one' may hold one connection; a client holds it until killed
mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u one -e "SELECT SLEEP(120)" >/dev/null 2>&1 &
HOLDER=$!
IT_PIDS+=($HOLDER)
for _ in $(seq 1 100); do [ "$(my_q -e "SELECT count(*) FROM information_schema.processlist WHERE user = 'one'")" = 1 ] && break; sleep 0.1; done
my_rows() { my_q -e "SELECT count(*) FROM target.it_terr"; }
my_lift() { kill "$HOLDER"; wait "$HOLDER" 2>/dev/null || true; my_q -e "KILL USER 'one'" 2>/dev/null || true; }
retried my_busy "$(sink my_busy "jdbc:mariadb://127.0.0.1:$MYPORT/target" "connection.username=one")" my_rows my_lift
grep -q "1226" "$IT_DIR/my_busy.log"
# MariaDB connection lost under a running sink (KILL: 2013/2006 on its next statement): retried, reconnected
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$IT_DIR/my_busy.properties" >"$IT_DIR/my_lost.out" 2>"$IT_DIR/my_lost.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
sess() { my_q -e "SELECT count(*) FROM information_schema.processlist WHERE user = 'one'"; }
for _ in $(seq 1 300); do [ "$(sess)" -ge 1 ] && break; sleep 0.1; done
[ "$(sess)" -ge 1 ] || { echo "my_lost: the sink did not connect" >&2; exit 1; }
for id in $(my_q -e "SELECT id FROM information_schema.processlist WHERE user = 'one'"); do my_q -e "KILL $id"; done
printf '%s\t%s\n' '{"id":3}' '{"op":"c","after":{"id":3,"v":"three"},"source":{"ts_ms":3}}' \
  '{"id":4}' '{"op":"c","after":{"id":4,"v":"four"},"source":{"ts_ms":4}}' \
  | "$PY" "$ROOT/tests/integration/with_schema.py" | kcat -P -b "$BS" -t it_terr -K $'\t' -X enable.idempotence=true
for _ in $(seq 1 300); do [ "$(my_rows)" = 4 ] && break; sleep 0.1; done
[ "$(my_rows)" = 4 ] || { echo "my_lost: $(my_rows) rows after the connection was killed" >&2; cat "$IT_DIR/my_lost.log" >&2; exit 1; }
grep -q 'retrying' "$IT_DIR/my_lost.log" || { echo "my_lost: the killed connection was not seen" >&2; cat "$IT_DIR/my_lost.log" >&2; exit 1; }
walcast_stop
! grep -q 'msg="sink failed"' "$IT_DIR/my_lost.log"
echo "my_lost: connection killed under the sink: retried, reconnected, applied"
