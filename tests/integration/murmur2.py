"""murmur2.py: Kafka's default partitioner for keyed records (org.apache.kafka.common.utils.Utils.murmur2,
32-bit arithmetic): partition(key bytes, n) is the partition Kafka's Java producer, and so Kafka Connect,
picks for a record with those key bytes. Imported by test_partitioning.sh and tests/reference/ref.py."""


def murmur2(data):
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


def partition(key, n):
    return (murmur2(key) & 0x7fffffff) % n
