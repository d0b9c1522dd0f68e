#!/usr/bin/env bash
# test_snapshot_initial_only.sh: snapshot.mode=initial_only, and the exported snapshot is interrupted
# (its reader's backend terminated) after part of a chunk was produced. walcast reconnects and finishes
# the snapshot with watermark reads while it streams; then it must exit as after an uninterrupted
# initial_only snapshot (it went on streaming), and its "snapshot of table finished" / "snapshot completed"
# lines must count each row once (the rows of the rewound chunk were counted again: 300 rows as 499).
# On the real broker, read_committed: every row once, and the replay equals the table.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE a (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 300) g;
CREATE TABLE slow (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO slow SELECT g, 's' || g FROM generate_series(1, 300) g;
-- 10 ms a row: the reader's FETCHes of 20 rows take 0.2 s each, 3 s for the table
-- and shows the last id read as its backend's application_name (read-only: no sequence, no table)
CREATE FUNCTION slow_id(int) RETURNS int LANGUAGE plpgsql VOLATILE AS $$
  BEGIN PERFORM pg_sleep(0.01); PERFORM set_config('application_name', 'slow ' || $1, false); RETURN $1; END $$;
SQL
kafka_start --topic srv.public.a --topic srv.public.slow --topic connect-offsets
cfg=$(connector_file initonly "snapshot.mode=initial_only" "snapshot.max.threads=2" "walcast.snapshot.chunk.rows=100" \
  "snapshot.fetch.size=20" "walcast.transaction.max.ms=1" "status.update.interval.ms=300" \
  "snapshot.select.statement.overrides=public.slow" \
  "snapshot.select.statement.overrides.public.slow=SELECT t.* FROM public.slow t WHERE slow_id(t.id) = t.id")
walcast_spawn "$cfg"
# once half of slow's rows are read (slow_id shows its progress in pg_stat_activity), its
# reader's backend goes: the exported snapshot dies with the connection. The rows read before are counted
# and produced in the open Kafka transaction of slow's one chunk, which the failure aborts.
for i in $(seq 1 600); do
  n=$(psql -X -At -c "SELECT coalesce(max(substr(application_name, 6)::int), 0) FROM pg_stat_activity
                      WHERE application_name LIKE 'slow %'")
  [ "$n" -ge 150 ] && break
  [ "$i" = 600 ] && { echo "slow's reader did not read 150 rows within 60 s" >&2; exit 1; }
  sleep 0.1
done
killed=$(psql -X -At -c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE application_name LIKE 'slow %'")
[ "$killed" -ge 1 ] || { echo "no reader backend to terminate (the snapshot ended first?)" >&2; exit 1; }
echo "terminated $killed reader backend(s) after $n rows of slow were read"
wait_log 'msg="snapshot completed"' 1 120
grep -q 'replication interrupted.*snapshot reader failed' "$IT_DIR/walcast.log" ||
  { echo "the exported snapshot was not interrupted" >&2; exit 1; }
fail=0
# initial_only: done once the snapshot is, however it finished
if ! wait_exit "$WALCAST_PID" 60 "walcast (snapshot.mode=initial_only, snapshot completed)"; then
  fail=1
  walcast_stop || true
elif [ "$EXIT_RC" != 0 ]; then
  echo "walcast exited with $EXIT_RC" >&2; fail=1
fi
grep -q 'msg="snapshot.mode=initial_only: snapshot done, not streaming"' "$IT_DIR/walcast.log" ||
  { echo "no 'snapshot done, not streaming' line" >&2; fail=1; }
for t in a slow; do   # every line: a table whose chunks were rewound is finished (and logged) again
  got=$(grep -o "msg=\"snapshot of table finished\".*table=public.$t rows=[0-9]*" "$IT_DIR/walcast.log" | sed 's/.*rows=//' | sort -u | tr '\n' ' ')
  [ "$got" = "300 " ] || { echo "table $t: snapshot of table finished with rows=$got(want 300)" >&2; fail=1; }
done
grep -q 'msg="snapshot completed".* rows=600 ' "$IT_DIR/walcast.log" ||
  { echo "snapshot completed: $(grep -o 'msg="snapshot completed".* rows=[0-9]*' "$IT_DIR/walcast.log" | sed 's/.* rows=/rows=/') (want rows=600)" >&2; fail=1; }
for t in a slow; do
  kcat -C -b "$BS" -t srv.public.$t -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/ev-$t.json"
  psql -X -At -c "SELECT row_to_json(t) FROM $t t" >"$IT_DIR/rows-$t.json"
  "$PY" "$ROOT/tests/integration/snapshot_check.py" "$IT_DIR/ev-$t.json" "$IT_DIR/rows-$t.json" id || fail=1
done
[ "$fail" = 0 ] || exit 1
echo "initial_only resumed with watermarks: walcast exited, each row counted and published once"
