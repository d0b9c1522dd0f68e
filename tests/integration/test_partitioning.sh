#!/usr/bin/env bash
# test_partitioning.sh: keyed records land on the partition Kafka's Java producer (and so Kafka
# Connect + Debezium) would choose: murmur2 of the key bytes, positive, modulo the partition count.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE p (id int PRIMARY KEY, v text)"
"$WALCAST" kafka --partitions 6 --topic srv.public.p >"$IT_DIR/kafka.out" 2>"$IT_DIR/kafka.log" &
IT_PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$IT_DIR/kafka.out" ] && break; sleep 0.1; done
BS=$(sed -n 's/^bootstrap.servers=//p' "$IT_DIR/kafka.out")
echo "bootstrap.servers=$BS" >"$IT_DIR/worker.properties"
walcast_start "$(connector_file part)"
psql_q -c "INSERT INTO p SELECT g, 'v' FROM generate_series(1, 60) g"
for _ in $(seq 1 100); do
  n=$(kcat -C -b "$BS" -t srv.public.p -e -q -f '.\n' 2>/dev/null | wc -l)
  [ "$n" -ge 60 ] && break
  sleep 0.2
done
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
