#!/usr/bin/env bash
# test_snapshot_watermark_latency.sh: while an incremental snapshot reads its chunks, its rows go in few Kafka
# transactions, and a change streamed meanwhile is committed in Kafka at the next chunk boundary.
# - Between every two chunks the stream is caught up, and committing each time made a Kafka transaction per
#   chunk; so a transaction holding only snapshot rows commits after walcast.transaction.max.ms (60 s here),
#   as when walcast is behind the server. The idle commit (the idle position recorded once per
#   status.update.interval.ms, 100 ms here) committed it anyway, every interval: ~1 transaction a chunk
#   here; now the 100 chunks must fit in at most 10.
# - A streamed change then waited for max.ms or the snapshot's end; now the stream counts as caught up as soon
#   as the open Kafka transaction holds a streamed source transaction: committed within 8 s, before the
#   snapshot completes.
# walcast reaches PostgreSQL through slow_proxy.py (1 MB/s of replies), so that the snapshot of ~11 MB lasts
# ~10 s however fast the machine is.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q <<'SQL'
CREATE TABLE dbz_signal (id varchar(64) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048));
CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL);
INSERT INTO items SELECT g, repeat('v', 80) || g FROM generate_series(1, 100000) g;
CREATE TABLE pings (id int PRIMARY KEY);
SQL
kafka_start --topic srv.public.items --topic srv.public.pings --topic connect-offsets
proxy_start slow_proxy.py 1000000
cfg=$(connector_file wml "database.port=$PROXY_PORT" "snapshot.mode=no_data" "signal.data.collection=public.dbz_signal" \
  "signal.enabled.channels=source" "incremental.snapshot.chunk.size=1000" "walcast.transaction.max.ms=60000" \
  "status.update.interval.ms=100" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
walcast_start "$cfg"
psql_q -c "SET synchronous_commit = on" \
  -c "INSERT INTO dbz_signal VALUES ('s1', 'execute-snapshot', '{\"data-collections\": [\"public.items\"]}')"
wait_log 'msg="incremental snapshot requested' 1 30
psql_q -c "SET synchronous_commit = on" -c "INSERT INTO pings VALUES (1)"
t0=$(date +%s.%N)
wait_topic srv.public.pings 1 8 >/dev/null || { echo "the streamed change was not committed within 8 s of the snapshot" >&2; exit 1; }
t1=$(date +%s.%N)
grep -q 'msg="snapshot completed"' "$IT_DIR/walcast.log" &&
  { echo "the snapshot completed before the change was committed: the test proves nothing (make the table bigger)" >&2; exit 1; }
echo "streamed change committed $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s after its commit, mid-snapshot"
wait_log 'msg="snapshot completed".*rows=100000' 1 120
walcast_stop
expect_ids_once srv.public.items 100000 "rows read with watermarks"
# each committed Kafka transaction leaves a commit marker in the partition: a gap in the records' offsets
txns=$(kcat -C -b "$BS" -t srv.public.items -o beginning -X isolation.level=read_committed -e -q -f '%o\n' |
  awk 'NR == 1 || $1 != prev + 1 { n++ } { prev = $1 } END { print n + 0 }')
echo "100 chunks in $txns Kafka transaction(s)"
[ "$txns" -le 10 ] || { echo "the snapshot's rows took $txns Kafka transactions (at most 10 expected)" >&2; exit 1; }
