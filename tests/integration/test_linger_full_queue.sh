#!/usr/bin/env bash
# test_linger_full_queue.sh: a producer queue that fills before any partition's batch does is sent at
# once, whatever producer.linger.ms. Rows of ~1 KB on a topic of 8 partitions: the 4 MB queue holds about
# 500 KB per partition, under the 1 MB batch.size and the 2,000-record batch.num.messages, so no batch is
# full when the queue is. walcast waited for a delivery report until the linger ended instead (500 ms by
# default: about 8,000 rows/s; streaming under SIGKILLs in test_encode_kill.sh missed its bound). Here the
# linger is 10 minutes, so every such wait would outlast the test's bounds: an initial snapshot of
# 20,000 rows (the snapshot throttle, 5,000 records in flight) and one source transaction of 20,000 rows
# (the queue full while producing). Every row once on the real broker, read_committed.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
ROWS=20000
psql_q -c "CREATE TABLE wide (id int PRIMARY KEY, v int NOT NULL, pad text)" \
  -c "INSERT INTO wide SELECT g, 0, repeat(md5(g::text), 32) FROM generate_series(1, $ROWS) g"
kafka_start --partitions 8 --topic srv.public.wide
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 connect-offsets
echo "producer.linger.ms=200000" >>"$IT_DIR/worker.properties"
cfg=$(connector_file linger "snapshot.mode=initial" "status.update.interval.ms=300")
walcast_spawn "$cfg"
wait_log 'msg="snapshot completed"' 1 90
wait_log 'replication started' 1 30
psql_q -c "UPDATE wide SET v = 1"
wait_published debezium 90
walcast_stop
kcat -C -b "$BS" -t srv.public.wide -o beginning -X isolation.level=read_committed -e -q -J >"$IT_DIR/wide.jsonl"
"$PY" - "$IT_DIR/wide.jsonl" "$ROWS" <<'PYEOF'
import collections, json, sys
path, rows = sys.argv[1], int(sys.argv[2])
ops = collections.Counter()
parts = set()
seen = collections.Counter()
for line in open(path):
    rec = json.loads(line)
    e = json.loads(rec["payload"])["payload"]
    ops[e["op"]] += 1
    parts.add(rec["partition"])
    seen[(e["op"], e["after"]["id"])] += 1
assert ops == {"r": rows, "u": rows}, f"want {rows} reads and {rows} updates, got {dict(ops)}"
assert max(seen.values()) == 1, "a row twice"
assert len(parts) == 8, f"records on {len(parts)} partitions, want 8"
print(f"{rows} snapshot reads and {rows} updates, each once, over {len(parts)} partitions")
PYEOF
