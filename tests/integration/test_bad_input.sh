#!/usr/bin/env bash
# test_bad_input.sh: bad configuration and server setups give exit 1 and an error that names the problem
# and the fix: missing key, bad enum, bad regex, wal_level=replica, no REPLICATION privilege, missing
# publication with autocreate disabled, a slot owned by another plugin. Passwords never appear.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
kafka_start

# expect_fail FILE PATTERN: walcast run must exit 1 and log PATTERN.
# drop_slot: drops slot debezium once its walsender has gone (it ends a moment after walcast).
drop_slot() {
  for _ in $(seq 1 100); do
    psql -X -q -At -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'debezium' AND NOT active" >/dev/null 2>&1 || true
    [ "$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'debezium'")" = 0 ] && return 0
    sleep 0.1
  done
  echo "slot debezium still active after 10 s" >&2; return 1
}

expect_fail() {
  local rc=0
  timeout 30 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$1" >/dev/null 2>"$IT_DIR/err.log" || rc=$?
  if [ $rc -ne 1 ]; then echo "expected exit 1, got $rc for $1" >&2; cat "$IT_DIR/err.log" >&2; return 1; fi
  if ! grep -q -- "$2" "$IT_DIR/err.log"; then echo "expected '$2' in:" >&2; cat "$IT_DIR/err.log" >&2; return 1; fi
  if grep -q "hunter2" "$IT_DIR/err.log"; then echo "the password leaked into the log" >&2; return 1; fi
}

f=$(connector_file missing "database.dbname=" "database.password=hunter2")
sed -i '/^database.dbname=postgres$/d' "$f"
expect_fail "$f" "missing required configuration key database.dbname"

expect_fail "$(connector_file badenum "time.precision.mode=nanos" "database.password=hunter2")" \
  "invalid value 'nanos' for time.precision.mode; allowed values: adaptive, adaptive_time_microseconds, connect"
expect_fail "$(connector_file badregex "table.include.list=public.(x" "database.password=hunter2")" \
  "table.include.list: invalid regular expression 'public.(x'"
expect_fail "$(connector_file plugin "plugin.name=decoderbufs")" "supports only pgoutput"
echo '{"name": "x", "config": {' >"$IT_DIR/broken.json"
expect_fail "$IT_DIR/broken.json" "invalid JSON"
expect_fail "$IT_DIR/nonexistent.properties" "config file: cannot open $IT_DIR/nonexistent.properties: No such file"

# unknown keys are warnings, not errors; a misspelt key is an error (issue 17.4: table.inlcude.list was
# ignored and every table captured)
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$(connector_file unknown "no.such.key=1" "database.port=1")" \
  >/dev/null 2>"$IT_DIR/unknown.log" & pid=$!
wait_log 'msg="unknown configuration keys, ignored" config=connector keys=no.such.key' 1 30 "$IT_DIR/unknown.log"
kill -INT $pid; wait $pid || true
expect_fail "$(connector_file typo "table.inlcude.list=public.t")" "did you mean table.include.list?"
# a misspelt bootstrap.servers would have meant the in-memory embedded Kafka
echo "bootstrap.server=$BS" >"$IT_DIR/typo_worker.properties"
rc=0; timeout 30 "$WALCAST" run --worker "$IT_DIR/typo_worker.properties" "$(connector_file wtypo)" >/dev/null 2>"$IT_DIR/wtypo.log" || rc=$?
[ $rc = 1 ] && grep -q "did you mean bootstrap.servers?" "$IT_DIR/wtypo.log" && ! grep -q "embedded Kafka started" "$IT_DIR/wtypo.log" \
  || { echo "misspelt worker key: rc $rc" >&2; cat "$IT_DIR/wtypo.log" >&2; exit 1; }

# Connect standalone's order: the worker file first, without --worker (issue 17.7)
rc=0
timeout 30 "$WALCAST" run "$IT_DIR/worker.properties" "$(connector_file order "time.precision.mode=nanos")" \
  >/dev/null 2>"$IT_DIR/order.log" || rc=$?
grep -q 'msg="the first file is a worker file' "$IT_DIR/order.log" && grep -q "'nanos' for time.precision.mode" "$IT_DIR/order.log" \
  && [ $rc = 1 ] || { echo "worker file first: not taken as the worker (rc $rc)" >&2; cat "$IT_DIR/order.log" >&2; exit 1; }
"$WALCAST" run "$IT_DIR/worker.properties" "$(connector_file order2)" >/dev/null 2>"$IT_DIR/order2.log" & pid=$!
wait_log 'msg="replication started"' 1 30 "$IT_DIR/order2.log"
kill -INT $pid; wait $pid
drop_slot   # wal_level=replica below needs no logical slot

# a user without REPLICATION
psql_q -c "CREATE ROLE plain LOGIN PASSWORD 'hunter2'"
expect_fail "$(connector_file norepl "database.user=plain" "database.password=hunter2")" 'ALTER ROLE \\"plain\\" REPLICATION'

# a missing publication with autocreate disabled
expect_fail "$(connector_file nopub "publication.autocreate.mode=disabled" "publication.name=nopub")" \
  'CREATE PUBLICATION \\"nopub\\" FOR ALL TABLES'

# a slot that belongs to another plugin
psql_q -c "SELECT pg_create_logical_replication_slot('foreign_slot', 'test_decoding')" >/dev/null
expect_fail "$(connector_file foreign "slot.name=foreign_slot")" "uses plugin 'test_decoding'"

# pg_hba.conf (README): walcast's replication connection is a logical one, which matches the database's
# ordinary entries and never the 'replication' ones
cp "$PGDIR/data/pg_hba.conf" "$IT_DIR/pg_hba.orig"
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' >"$PGDIR/data/pg_hba.conf"
psql_q -c "SELECT pg_reload_conf()" >/dev/null
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$(connector_file hba_db)" >/dev/null 2>"$IT_DIR/hba.log" & pid=$!
wait_log 'msg="replication started"' 1 30 "$IT_DIR/hba.log"
kill -INT $pid; wait $pid
drop_slot
printf 'local all all trust\nhost replication all 127.0.0.1/32 trust\n' >"$PGDIR/data/pg_hba.conf"
psql_q -c "SELECT pg_reload_conf()" >/dev/null
expect_fail "$(connector_file hba_repl)" "not a 'replication' entry"
cp "$IT_DIR/pg_hba.orig" "$PGDIR/data/pg_hba.conf"
PGHOST=$PGDIR psql_q -c "SELECT pg_reload_conf()" >/dev/null

# wal_level=replica
psql_q -c "ALTER SYSTEM SET wal_level = replica" -c "SELECT pg_drop_replication_slot('foreign_slot')" >/dev/null
runuser -u walcast -- pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null 2>&1 || pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null
expect_fail "$(connector_file walrep)" "wal_level=replica; logical decoding needs wal_level=logical"
