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
$PY - "$IT_DIR/records.jsonl" <<'PYEOF'
import json, sys

def murmur2(data):
    # Kafka's org.apache.kafka.common.utils.Utils.murmur2, 32-bit arithmetic
    m, r = 0x5bd1e995, 24
    length = len(data)
    h = (0x9747b28c ^ length) & 0xffffffff
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    rest = length % 4
    tail = length - rest
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h

n = 0
used = set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    want = (murmur2(r["key"].encode()) & 0x7fffffff) % 6
    assert r["partition"] == want, (r["key"], r["partition"], want)
    used.add(want)
    n += 1
assert n == 60, n
assert len(used) > 1, used
PYEOF
walcast_stop
