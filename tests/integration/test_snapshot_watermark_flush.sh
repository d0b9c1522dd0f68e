#!/usr/bin/env bash
# test_snapshot_watermark_flush.sh: a chunk read with watermarks does not wait for PostgreSQL's WAL writer.
# A walsender sends only flushed WAL; walcast flushes each chunk's high watermark with a synchronous commit.
# A transaction that wrote no WAL of its own commits asynchronously whatever synchronous_commit says
# (RecordTransactionCommit), so a txid_current() transaction after the watermark flushed nothing: every
# chunk waited up to wal_writer_delay (200 ms by default: an incremental snapshot ran at ~5,000 rows/s,
# issue 21). Here wal_writer_delay is 10 s (its maximum) and nothing else writes: 8 chunks that each wait
# for the WAL writer take over a minute; flushed by walcast, the snapshot is done within the bound.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
pg_wal_writer_slow
psql_q <<'SQL'
CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 8000) g;
SQL
kafka_start --topic srv.public.items --topic connect-offsets
cfg=$(connector_file wmf "snapshot.mode=no_data" "signal.data.collection=public.dbz_signal" \
  "signal.enabled.channels=source" "incremental.snapshot.chunk.size=1000" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
walcast_start "$cfg"
# the signal committed synchronously: it reaches walcast at once, not at the WAL writer's next round
psql_q -c "SET synchronous_commit = on" \
  -c "INSERT INTO dbz_signal VALUES ('s1', 'execute-snapshot', '{\"data-collections\": [\"public.items\"]}')"
wait_log 'msg="snapshot completed".*chunks=8 rows=8000' 1 30 ||
  { grep -E 'snapshot' "$IT_DIR/walcast.log" | tail -5 >&2; echo "the chunks waited for the WAL writer" >&2; exit 1; }
walcast_stop
expect_ids_once srv.public.items 8000 "rows read with watermarks"
