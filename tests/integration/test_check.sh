#!/usr/bin/env bash
# test_check.sh: `walcast check` against a PostgreSQL (and Kafka, registry, sink target) misconfigured one
# item at a time: each gives exactly its FAIL line and a non-zero exit; the fix it prints, run as printed,
# makes it pass; the fixed setup exits 0. Secrets never appear in the output.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
kafka_start
W=$IT_DIR/worker.properties
AS_PG=()
[ "$(id -u)" -eq 0 ] && AS_PG=(runuser -u walcast --)

pg_restart() {
  "${AS_PG[@]}" pg_ctl -D "$PGDIR/data" -l "$PGDIR/postgres.log" -w -t 60 restart >/dev/null
}

psql_q -c "CREATE TABLE t1 (id int PRIMARY KEY, v text); CREATE TABLE t2 (id int, v text);
           ALTER TABLE t2 REPLICA IDENTITY FULL; CREATE ROLE cdc LOGIN REPLICATION; GRANT SELECT ON t1, t2 TO cdc;
           CREATE PUBLICATION dbz_publication FOR ALL TABLES;"
SECRET=s3cr3t-Pw-4711
SRC=$(connector_file src database.user=cdc publication.autocreate.mode=disabled "database.password=$SECRET")

# check FILE [WORKER]: runs walcast check; output in $OUT, exit code in $RC.
check() {
  set +e
  OUT=$("$WALCAST" check --worker "${2:-$W}" --timeout-ms 5000 "$1" 2>>"$IT_DIR/check.log")
  RC=$?
  set -e
  if grep -q -- "$SECRET" <<<"$OUT"; then echo "the password appears in the output:" >&2; echo "$OUT" >&2; exit 1; fi
}

# expect_fail WHAT FILE [WORKER]: exactly the FAIL lines WHAT (space-separated names), exit code 1.
expect_fail() {
  check "$2" "${3:-}"
  local got
  got=$(sed -n 's/^FAIL \([a-z_]*\):.*/\1/p' <<<"$OUT" | tr '\n' ' ' | sed 's/ $//')
  if [ "$RC" -ne 1 ] || [ "$got" != "$1" ]; then
    echo "expected FAIL lines '$1' and exit 1, got '$got' and exit $RC:" >&2
    echo "$OUT" >&2
    exit 1
  fi
  echo "ok: $1 fails as expected"
}

expect_ok() {
  check "$1" "${2:-}"
  if [ "$RC" -ne 0 ] || grep -q '^FAIL' <<<"$OUT"; then
    echo "expected every check OK and exit 0, got exit $RC:" >&2
    echo "$OUT" >&2
    exit 1
  fi
}

# fix_of NAME: the SQL of NAME's fix line, up to its first ';' (the rest is explanation).
fix_of() {
  awk -v n="$1" '$1 == "FAIL" && $2 == n":" { want = 1; next } want && $1 == "fix:" { sub(/^ *fix: /, ""); print; exit }' \
    <<<"$OUT" | sed 's/^as a superuser: //; s/^\([^;]*;\).*/\1/'
}

# run_fix NAME: runs NAME's fix as printed (as the superuser); ALTER SYSTEM fixes restart the server.
run_fix() {
  local sql
  sql=$(fix_of "$1")
  [ -n "$sql" ] || { echo "no fix printed for $1:" >&2; echo "$OUT" >&2; exit 1; }
  echo "running the printed fix: $sql"
  psql_q -c "$sql"
  case $sql in "ALTER SYSTEM"*) pg_restart ;; esac
}

expect_ok "$SRC"
grep -q '^OK   kafka_transactions: transactions work' <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
grep -q '^OK   schema_registry' <<<"$OUT" && { echo "no registry was configured: $OUT" >&2; exit 1; }
# the worker's offsets topic: missing, it is created by walcast run (check only asks Kafka, validate_only: it
# stays missing); existing but not compacted, FAIL with the kafka-configs.sh fix; compacted, OK
grep -q '^OK   offsets_topic: offsets topic connect-offsets is missing: walcast run creates it (cleanup.policy=compact, 25 partitions' <<<"$OUT" ||
  { echo "$OUT" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" exists connect-offsets && { echo "walcast check created the offsets topic" >&2; exit 1; }
echo "offset.storage.topic=it_chk_offsets" >"$IT_DIR/offs-worker.properties"
cat "$W" >>"$IT_DIR/offs-worker.properties"
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create it_chk_offsets
expect_fail offsets_topic "$SRC" "$IT_DIR/offs-worker.properties"
grep -q "^FAIL offsets_topic: offsets topic it_chk_offsets is not compacted (cleanup.policy=delete)" <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
grep -q "^     fix: kafka-configs.sh --bootstrap-server $BS --alter --entity-type topics --entity-name it_chk_offsets --add-config cleanup.policy=compact$" <<<"$OUT" ||
  { echo "$OUT" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" compact it_chk_offsets
expect_ok "$SRC" "$IT_DIR/offs-worker.properties"
grep -q '^OK   offsets_topic: offsets topic it_chk_offsets exists, cleanup.policy=compact$' <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
# a replication factor the broker cannot give: FAIL naming the key
printf 'offset.storage.topic=it_chk_offsets2\noffset.storage.replication.factor=3\n' >"$IT_DIR/offs-worker.properties"
cat "$W" >>"$IT_DIR/offs-worker.properties"
expect_fail offsets_topic "$SRC" "$IT_DIR/offs-worker.properties"
grep -q "^FAIL offsets_topic: offsets topic it_chk_offsets2: .*offset.storage.replication.factor" <<<"$OUT" || { echo "$OUT" >&2; exit 1; }

# server settings (each needs a restart)
psql_q -c "ALTER SYSTEM SET wal_level = replica"
pg_restart
expect_fail wal_level "$SRC"
run_fix wal_level
expect_ok "$SRC"

psql_q -c "ALTER SYSTEM SET max_replication_slots = 1"
pg_restart
psql_q -c "SELECT pg_create_logical_replication_slot('someone_else', 'pgoutput')" >/dev/null
expect_fail max_replication_slots "$SRC"
run_fix max_replication_slots
expect_ok "$SRC"
psql_q -c "SELECT pg_drop_replication_slot('someone_else')" >/dev/null

psql_q -c "ALTER SYSTEM SET max_wal_senders = 0"
pg_restart
# no wal sender free: the replication connection is refused too
expect_fail "max_wal_senders replication_role" "$SRC"
run_fix max_wal_senders
expect_ok "$SRC"
psql_q -c "ALTER SYSTEM RESET max_wal_senders" -c "ALTER SYSTEM RESET max_replication_slots"
pg_restart

# the role's rights
psql_q -c "ALTER ROLE cdc NOREPLICATION"
expect_fail replication_role "$SRC"
grep -q 'fix: ALTER ROLE "cdc" REPLICATION;' <<<"$OUT"
run_fix replication_role
psql_q -c "REVOKE SELECT ON t2 FROM cdc"
expect_fail select "$SRC"
run_fix select
expect_ok "$SRC"

# the publication: missing (disabled, all_tables without superuser), not covering a table
psql_q -c "DROP PUBLICATION dbz_publication"
expect_fail publication "$SRC"
ALL=$(connector_file all database.user=cdc publication.autocreate.mode=all_tables)
expect_fail publication "$ALL"
grep -q 'FOR ALL TABLES' <<<"$OUT"
psql_q -c "CREATE PUBLICATION dbz_publication FOR TABLE t1"
# without an include list the publication chooses the tables (as at start); with one, it must cover them
expect_ok "$SRC"
grep -q 'publishes 1 of the 2 tables' <<<"$OUT"
COV=$(connector_file cov database.user=cdc publication.autocreate.mode=disabled 'table.include.list=public\.t[0-9]')
expect_fail publication "$COV"
grep -q 'fix: ALTER PUBLICATION "dbz_publication" ADD TABLE "public"."t2";' <<<"$OUT"
run_fix publication
expect_ok "$COV"
expect_fail publication "$(connector_file none database.user=cdc 'table.include.list=public\.nothing')"
grep -q 'table.include.list matches no table' <<<"$OUT"
# filtered mode sets the tables itself when the user owns them: the superuser does
FIL=$(connector_file fil publication.autocreate.mode=filtered publication.name=other_pub)
expect_ok "$FIL"

# the slot: another plugin, in use, WAL lost
psql_q -c "SELECT pg_create_logical_replication_slot('debezium', 'test_decoding')" >/dev/null
expect_fail slot "$SRC"
run_fix slot
psql_q -c "SELECT pg_create_logical_replication_slot('debezium', 'pgoutput')" >/dev/null
expect_ok "$SRC"
grep -q 'OK   slot: slot "debezium" exists (pgoutput, wal_status=reserved' <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
pg_recvlogical -d postgres -S debezium --start -f /dev/null -o proto_version=1 -o publication_names=dbz_publication \
  2>>"$IT_DIR/recvlogical.log" &
RECV=$!
IT_PIDS+=($RECV)
for _ in $(seq 1 100); do
  [ "$(psql -X -At -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'debezium'")" = t ] && break
  sleep 0.1
done
expect_fail slot "$SRC"
grep -q 'is in use by server process' <<<"$OUT"
grep -q 'OK   max_wal_senders: max_wal_senders=[0-9]*, 1 in use' <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
kill "$RECV"
wait "$RECV" 2>/dev/null || true
for _ in $(seq 1 100); do
  [ "$(psql -X -At -c "SELECT active FROM pg_replication_slots WHERE slot_name = 'debezium'")" = f ] && break
  sleep 0.1
done
expect_ok "$SRC"
psql_q -c "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'" -c "SELECT pg_reload_conf()" >/dev/null
for i in 1 2 3; do
  psql_q -c "INSERT INTO t1 SELECT g, repeat('x', 100) FROM generate_series($i * 100000, $i * 100000 + 20000) g" \
    -c "SELECT pg_switch_wal()" >/dev/null
done
psql_q -c "CHECKPOINT"
[ "$(psql -X -At -c "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'debezium'")" = lost ]
expect_fail slot "$SRC"
grep -q 'wal_status=lost' <<<"$OUT"
run_fix slot
psql_q -c "ALTER SYSTEM RESET max_slot_wal_keep_size" -c "SELECT pg_reload_conf()" >/dev/null
expect_ok "$SRC"

# a table without primary key or replica identity
psql_q -c "ALTER TABLE t2 REPLICA IDENTITY DEFAULT"
expect_fail replica_identity "$SRC"
grep -q 'fix: ALTER TABLE "public"."t2" REPLICA IDENTITY FULL;' <<<"$OUT"
run_fix replica_identity
expect_ok "$SRC"

# Kafka: nobody listening; transactions refused (a transaction timeout above the broker's maximum)
echo "bootstrap.servers=127.0.0.1:$(free_port)" >"$IT_DIR/dead.properties"
expect_fail kafka "$SRC" "$IT_DIR/dead.properties"
{ cat "$W"; echo "producer.transaction.timeout.ms=2000000000"; } >"$IT_DIR/notxn.properties"
expect_fail kafka_transactions "$SRC" "$IT_DIR/notxn.properties"

# the schema registry: down, then up
SRP=$(free_port)
AVRO=$(connector_file avro database.user=cdc publication.autocreate.mode=disabled \
  value.converter=io.confluent.connect.avro.AvroConverter "value.converter.schema.registry.url=http://127.0.0.1:$SRP")
expect_fail schema_registry "$AVRO"
registry_start
AVRO=$(connector_file avro database.user=cdc publication.autocreate.mode=disabled \
  value.converter=io.confluent.connect.avro.AvroConverter "value.converter.schema.registry.url=$SR_URL")
expect_ok "$AVRO"
grep -q '^OK   schema_registry' <<<"$OUT"

# a sink (into another database: its offsets table would otherwise be a captured table): the target
# unreachable (no such database); a user who may not create (walcast_sink_offsets, and tables under
# schema.evolution=basic); a missing target table without schema.evolution; one it may not write
sink_file() {
  local f="$IT_DIR/sink.properties" db=$1
  shift
  printf '%s\n' name=sink connector.class=io.debezium.connector.jdbc.JdbcSinkConnector topics=srv.public.t1 \
    "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/$db" connection.username=cdc "connection.password=$SECRET" \
    "$@" >"$f"
  echo "$f"
}
expect_fail target "$(sink_file nosuchdb)"
psql_q -c "CREATE DATABASE target"
expect_fail "target_schema offsets_table" "$(sink_file target schema.evolution=basic)"
grep -q 'fix: GRANT CREATE ON SCHEMA "public" TO "cdc";' <<<"$OUT"
grep -q 'fix: GRANT CREATE ON SCHEMA public TO "cdc";' <<<"$OUT"
PGDATABASE=target run_fix target_schema
expect_ok "$(sink_file target schema.evolution=basic)"
grep -q '^OK   target_origin: the user may not use replication origins' <<<"$OUT"
expect_fail target_tables "$(sink_file target)"
grep -q 'srv_public_t1 do not exist and schema.evolution=none' <<<"$OUT"
PGDATABASE=target psql_q -c "CREATE TABLE srv_public_t1 (id int PRIMARY KEY, v text)"
expect_fail target_tables "$(sink_file target delete.enabled=true primary.key.mode=record_key)"
grep -q 'fix: GRANT SELECT, INSERT, UPDATE, DELETE ON srv_public_t1 TO "cdc";' <<<"$OUT"
PGDATABASE=target run_fix target_tables
expect_ok "$(sink_file target delete.enabled=true primary.key.mode=record_key)"

# the sink reads with the worker's consumer.* settings: an SSL consumer against this plaintext broker
{ cat "$W"; echo "consumer.security.protocol=SSL"; } >"$IT_DIR/sslconsumer.properties"
expect_fail kafka "$(sink_file target delete.enabled=true primary.key.mode=record_key)" "$IT_DIR/sslconsumer.properties"

# a MariaDB target: a user without rights on the database (cannot log in to it), with SELECT only (cannot
# create walcast_sink_offsets), then the printed GRANT run as root
mariadb_start
my_q -e "CREATE DATABASE target; CREATE USER 'cdc'@'%' IDENTIFIED BY '$SECRET'"
printf '%s\n' name=mysink connector.class=io.debezium.connector.jdbc.JdbcSinkConnector topics=srv.public.t1 \
  "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/target" connection.username=cdc "connection.password=$SECRET" \
  >"$IT_DIR/mysink.properties"
expect_fail target "$IT_DIR/mysink.properties"
grep -q "Access denied for user 'cdc'" <<<"$OUT"
my_q -e "GRANT SELECT ON target.* TO 'cdc'@'%'"
expect_fail "target_rights offsets_table" "$IT_DIR/mysink.properties"
grep -q "^FAIL target_rights: cdc@% lacks INSERT, UPDATE, DELETE, CREATE on \`target\`" <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
sql=$(fix_of offsets_table)
grep -q "^GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON \`target\`.\* TO 'cdc';$" <<<"$sql" || { echo "$OUT" >&2; exit 1; }
my_q -e "$sql"
expect_ok "$IT_DIR/mysink.properties"
grep -q '^OK   target_rights: cdc@% has SELECT, INSERT, UPDATE, DELETE, CREATE on `target`' <<<"$OUT" || { echo "$OUT" >&2; exit 1; }
# schema.evolution=basic also needs ALTER: the printed GRANT (with the user's host) gives it
echo "schema.evolution=basic" >>"$IT_DIR/mysink.properties"
expect_fail target_rights "$IT_DIR/mysink.properties"
sql=$(fix_of target_rights)
[ "$sql" = "GRANT ALTER ON \`target\`.* TO 'cdc'@'%';" ] || { echo "fix: $sql" >&2; echo "$OUT" >&2; exit 1; }
my_q -e "$sql"
expect_ok "$IT_DIR/mysink.properties"

# everything fixed, several files at once: exit 0
"$WALCAST" check --worker "$W" "$SRC" "$AVRO" "$(sink_file target)" 2>>"$IT_DIR/check.log" || { echo "the fixed setup does not pass" >&2; exit 1; }
# config providers: the user from the environment, the password from a properties file, resolved at
# start by check and by run (a user left as "${env:…}" could not log in); the password never printed
printf 'db.password=%s\n' "$SECRET" >"$IT_DIR/secrets.properties"
{ cat "$W"; printf '%s\n' config.providers=file,env \
    config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider \
    config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider \
    "config.providers.file.param.allowed.paths=$IT_DIR"; } >"$IT_DIR/prov-worker.properties"
PROV=$(connector_file prov 'database.user=${env:WC_IT_DB_USER}' publication.autocreate.mode=disabled \
  "database.password=\${file:$IT_DIR/secrets.properties:db.password}")
WC_IT_DB_USER=cdc expect_ok "$PROV" "$IT_DIR/prov-worker.properties"
grep -q 'connected to PostgreSQL .* as cdc' <<<"$OUT"
expect_fail postgresql "$PROV" "$IT_DIR/prov-worker.properties"
grep -q 'as ${env:WC_IT_DB_USER}' <<<"$OUT"
grep -q 'config variable not resolved.*key="database.user" variable="${env:WC_IT_DB_USER}"' "$IT_DIR/check.log"
cp "$IT_DIR/prov-worker.properties" "$IT_DIR/worker.properties"
WC_IT_DB_USER=cdc walcast_start "$PROV"
walcast_stop
grep -q -- "$SECRET" "$IT_DIR/walcast.log" "$IT_DIR/check.log" && { echo "a resolved password was logged" >&2; exit 1; }
grep -q 'database.password=${file:' "$PROV"
echo "test_check: ok"
