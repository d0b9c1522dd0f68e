#!/usr/bin/env bash
# test_publication.sh: the publication against the tables the connector is told to capture (issue 17.2,
# 17.4). An existing publication that misses an included table stops walcast at start with the table
# and the ALTER PUBLICATION that fixes it (it used to stream on while PostgreSQL dropped the table's
# changes); an include list that matches no table is an error; under publication.autocreate.mode=filtered
# walcast adds a missing table, at start and when one is created while it streams, and reads the rows
# written before it was added with an incremental snapshot; in the other modes a table created while it
# streams stops it the same way as at start.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE other (id int PRIMARY KEY);
CREATE TABLE wanted (id int PRIMARY KEY, v text);
CREATE TABLE more (id int PRIMARY KEY);
CREATE PUBLICATION dbz_publication FOR TABLE other;
SQL
kafka_start --topic srv.public.wanted --topic srv.public.later --topic srv.public.more --topic connect-offsets

# expect_fail FILE PATTERN...: walcast run exits 1 and logs every PATTERN.
expect_fail() {
  local f=$1 rc=0 p; shift
  timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$f" >/dev/null 2>"$IT_DIR/err.log" || rc=$?
  if [ $rc -ne 1 ]; then echo "expected exit 1, got $rc for $f" >&2; cat "$IT_DIR/err.log" >&2; return 1; fi
  for p in "$@"; do
    grep -qF -- "$p" "$IT_DIR/err.log" || { echo "expected '$p' in:" >&2; cat "$IT_DIR/err.log" >&2; return 1; }
  done
}

# 1. the issue's case: the default mode, a publication holding another table
expect_fail "$(connector_file start "table.include.list=public.wanted")" \
  'publication \"dbz_publication\" does not publish 1 table that the include list captures (public.wanted)' \
  'ALTER PUBLICATION \"dbz_publication\" ADD TABLE \"public\".\"wanted\";'
[ "$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots")" = 0 ] || { echo "a slot was left behind" >&2; exit 1; }
# disabled and no_tables are checked the same way; no include list: the publication is the choice
expect_fail "$(connector_file disabled "table.include.list=public\\.(other|wanted)" "publication.autocreate.mode=disabled")" \
  '(public.wanted)'
# 2. an include list that matches nothing, in every mode
for mode in all_tables filtered disabled no_tables; do
  expect_fail "$(connector_file nomatch "table.include.list=public.wantd" "publication.autocreate.mode=$mode")" \
    'table.include.list matches no table in database \"postgres\"'
done
expect_fail "$(connector_file nomatch_schema "schema.include.list=inventory")" 'schema.include.list matches no table'

# 3. filtered: the missing table is added at start, and one created while streaming is added and its
# earlier rows are read by an incremental snapshot
# (no signals configured: the incremental snapshot of an added table needs none)
walcast_start "$(connector_file filtered "publication.autocreate.mode=filtered" "table.include.list=public\\.(wanted|later)")"
[ "$(psql -X -At -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'dbz_publication'")" = wanted ] \
  || { echo "filtered: the publication was not set to the include list" >&2; exit 1; }
psql_q -c "INSERT INTO wanted VALUES (1, 'a')"
wait_topic srv.public.wanted 1
# created and written while walcast streams: PostgreSQL sends none of these rows, ever
psql_q -c "CREATE TABLE later (id int PRIMARY KEY, v text)" -c "INSERT INTO later SELECT g, 'early' FROM generate_series(1, 5) g"
wait_log 'msg="tables added to the publication' 1 30
wait_log 'msg="incremental snapshot of the tables added to the publication" connector=it tables=public.later' 1 30
psql_q -c "INSERT INTO later SELECT g, 'late' FROM generate_series(6, 10) g"
for _ in $(seq 1 300); do
  kcat -C -b "$BS" -t srv.public.later -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/later.txt" 2>/dev/null || true
  n=$("$PY" -c 'import json,sys; print(len({json.loads(l)["payload"]["id"] for l in open(sys.argv[1]) if l.strip()}))' "$IT_DIR/later.txt")
  [ "$n" = 10 ] && break
  sleep 0.1
done
grep -q 'msg="incremental snapshot of the tables added to the publication" connector=it tables=public.wanted' "$IT_DIR/walcast.log" \
  && { echo "filtered: the tables added before the slot existed were snapshotted" >&2; exit 1; }
[ "$n" = 10 ] || { echo "filtered: expected ids 1..10 of public.later in Kafka, got $n distinct" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }
walcast_stop
# the include list grows at a restart (the slot exists): the table is added, its rows read by a snapshot
psql_q -c "INSERT INTO more SELECT generate_series(1, 3)"
walcast_start "$(connector_file filtered2 "publication.autocreate.mode=filtered" "table.include.list=public\\.(wanted|later|more)")"
wait_topic srv.public.more 3
walcast_stop
# ... and shrinks: the publication follows it (Debezium sets it when the two differ)
walcast_start "$(connector_file filtered3 "publication.autocreate.mode=filtered" "table.include.list=public\\.(wanted|later)")"
walcast_stop
[ "$(psql -X -At -c "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'dbz_publication'")" = later,wanted ] \
  || { echo "filtered: the publication did not follow the narrowed include list" >&2; exit 1; }

# 4. not filtered: a table created while streaming that the include list captures stops walcast
psql_q -c "ALTER PUBLICATION dbz_publication SET TABLE wanted"
walcast_start "$(connector_file runtime "publication.autocreate.mode=disabled" "table.include.list=public\\.(wanted|later2)")"
psql_q -c "CREATE TABLE later2 (id int PRIMARY KEY)" -c "INSERT INTO later2 VALUES (1)"
wait_exit "$WALCAST_PID" 30 "runtime: walcast" || exit 1
[ "$EXIT_RC" = 1 ] || { echo "runtime: expected walcast to stop with exit 1, got $EXIT_RC" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }
grep -qF 'ALTER PUBLICATION \"dbz_publication\" ADD TABLE \"public\".\"later2\";' "$IT_DIR/walcast.log" \
  || { echo "runtime: no ALTER PUBLICATION in the log" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }

# 5. a publication that publishes only some operations (WITH (publish = 'insert')): the updates and
# deletes walcast captures would never be sent
psql_q -c "CREATE PUBLICATION ops_pub FOR TABLE wanted WITH (publish = 'insert')" \
  -c "CREATE PUBLICATION ops_pub2 FOR TABLE wanted WITH (publish = 'insert')"
expect_fail "$(connector_file ops "name=ops" "slot.name=ops_slot" "publication.name=ops_pub" "publication.autocreate.mode=disabled")" \
  'publication \"ops_pub\" does not publish update, delete, which the connector captures' \
  "ALTER PUBLICATION \\\"ops_pub\\\" SET (publish = 'insert, update, delete')" 'skipped.operations=u,d,t'
# ... skipping them is fine; filtered widens the publication
timeout 60 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$(connector_file ops_skip "name=ops" "slot.name=ops_slot" \
  "publication.name=ops_pub" "publication.autocreate.mode=disabled" "skipped.operations=u,d,t" "snapshot.mode=initial_only")" \
  >/dev/null 2>"$IT_DIR/ops_skip.log" || { echo "skipped.operations=u,d,t with publish=insert refused" >&2; cat "$IT_DIR/ops_skip.log" >&2; exit 1; }
walcast_start "$(connector_file ops_filtered "name=ops2" "slot.name=ops_slot2" "publication.name=ops_pub2" \
  "publication.autocreate.mode=filtered" "table.include.list=public.wanted")"
walcast_stop
[ "$(psql -X -At -c "SELECT pubinsert AND pubupdate AND pubdelete FROM pg_publication WHERE pubname = 'ops_pub2'")" = t ] \
  || { echo "filtered: the publication still does not publish updates and deletes" >&2; exit 1; }
echo "publication checks ok"
