#!/usr/bin/env bash
# test_partitioning.sh: keyed records land on the partition Kafka's Java producer (and so Kafka
# Connect + Debezium) would choose: murmur2 of the key bytes, positive, modulo the partition count.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE p (id int PRIMARY KEY, v text)"
kafka_start --partitions 6 --topic srv.public.p
walcast_start "$(connector_file part)"
psql_q -c "INSERT INTO p SELECT g, 'v' FROM generate_series(1, 60) g"
wait_topic srv.public.p 60
kcat -C -b "$BS" -t srv.public.p -e -q -J >"$IT_DIR/records.jsonl"
PYTHONPATH="$ROOT/tests/integration" $PY - "$IT_DIR/records.jsonl" <<'PYEOF'
import json, sys
from murmur2 import partition

n = 0
used = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    want = partition(r["key"].encode(), 6)
    assert r["partition"] == want, (r["key"], r["partition"], want)
    used.add(want)
    n += 1
assert n == 60, n
assert len(used) > 1, used
PYEOF
walcast_stop
