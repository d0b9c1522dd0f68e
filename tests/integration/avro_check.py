#!/usr/bin/python3
"""avro_check.py: reads Avro topics and their JSON-converter twins from Kafka, decodes every Avro record
independently (python3-avro, with the writer schema fetched from the registry by the id in the record),
and compares each one field by field with the JSON converter's payload of the same event.

usage: avro_check.py BOOTSTRAP REGISTRY_URL AVRO_PREFIX JSON_PREFIX TOPIC_SUFFIX...
Prints one line per topic and exits 1 on the first difference."""
import base64
import decimal
import io
import json
import math
import struct
import sys
import urllib.request

import avro.io
import avro.schema
from confluent_kafka import Consumer, TopicPartition

BS, REG, APFX, JPFX = sys.argv[1:5]
SUFFIXES = sys.argv[5:]
SCHEMAS = {}


def read_topic(topic):
    c = Consumer({"bootstrap.servers": BS, "group.id": "avro-check", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": "read_committed"})
    c.assign([TopicPartition(topic, 0, 0)])
    out = []
    while True:
        m = c.poll(10)
        if m is None:
            raise SystemExit("timeout reading %s" % topic)
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            raise SystemExit("kafka error on %s: %s" % (topic, m.error()))
        out.append((m.key(), m.value(), m.headers() or []))
    c.close()
    return out


def writer_schema(sid):
    if sid not in SCHEMAS:
        with urllib.request.urlopen("%s/schemas/ids/%d" % (REG, sid)) as r:
            SCHEMAS[sid] = avro.schema.parse(json.load(r)["schema"])
    return SCHEMAS[sid]


def decode(raw):
    if raw is None:
        return None
    assert raw[0] == 0, "magic byte is %d, not 0" % raw[0]
    sid = struct.unpack(">i", raw[1:5])[0]
    sch = writer_schema(sid)
    dec = avro.io.BinaryDecoder(io.BytesIO(raw[5:]))
    datum = avro.io.DatumReader(sch).read(dec)
    rest = len(raw) - 5 - dec.reader.tell()
    assert rest == 0, "%d bytes left after the Avro body" % rest
    return sch, datum


def unscaled_bytes(d, scale):
    with decimal.localcontext() as ctx:
        ctx.prec = 4000   # numeric(80,0) and beyond: the default 28 digits would round
        n = int(d.scaleb(scale))
    # BigInteger.toByteArray: minimal two's complement, bitLength() // 8 + 1 bytes, where a negative
    # number's bitLength is that of ~n (-2^63 takes 8 bytes, not 9)
    length = (n.bit_length() if n >= 0 else (~n).bit_length()) // 8 + 1
    return n.to_bytes(length, "big", signed=True)


def as_json(sch, v):
    """The Avro datum in the JSON converter's payload form."""
    t = sch.type
    if t == "union":
        if v is None:
            return None
        branches = [b for b in sch.schemas if b.type != "null"]
        assert len(branches) == 1, sch
        return as_json(branches[0], v)
    if v is None:
        return None
    if t == "record":
        assert set(v) == {f.name for f in sch.fields}, (set(v), [f.name for f in sch.fields])
        return {f.name: as_json(f.type, v[f.name]) for f in sch.fields}
    if t == "array":
        return [as_json(sch.items, x) for x in v]
    if t == "map":
        return {k: as_json(sch.values, x) for k, x in v.items()}
    if t == "bytes":
        if isinstance(v, decimal.Decimal):
            v = unscaled_bytes(v, sch.get_prop("scale"))
        return base64.b64encode(v).decode()
    if t == "float":
        return ("f32", v)
    return v


def same(a, j, path):
    """a: converted Avro value, j: JSON payload value."""
    if isinstance(a, tuple) and a[0] == "f32":
        if isinstance(j, str):  # Jackson quotes NaN and Infinity
            j = float(j)
        ok = (math.isnan(a[1]) and math.isnan(j)) or a[1] == struct.unpack("f", struct.pack("f", j))[0]
        if not ok:
            raise SystemExit("%s: avro float %r, json %r" % (path, a[1], j))
        return
    if isinstance(a, float):
        if isinstance(j, str):
            j = float(j)
        if not ((math.isnan(a) and math.isnan(j)) or a == j):
            raise SystemExit("%s: avro %r, json %r" % (path, a, j))
        return
    if isinstance(a, dict):
        if not isinstance(j, dict) or set(a) != set(j):
            raise SystemExit("%s: avro fields %s, json %s" % (path, sorted(a), j if not isinstance(j, dict) else sorted(j)))
        for k in a:
            same(a[k], j[k], path + "." + k)
        return
    if isinstance(a, list):
        if not isinstance(j, list) or len(a) != len(j):
            raise SystemExit("%s: avro %r, json %r" % (path, a, j))
        for i, (x, y) in enumerate(zip(a, j)):
            same(x, y, "%s[%d]" % (path, i))
        return
    if isinstance(a, bool) or isinstance(j, bool):
        if a is not j:
            raise SystemExit("%s: avro %r, json %r" % (path, a, j))
        return
    if a != j:
        raise SystemExit("%s: avro %r, json %r" % (path, a, j))


VOLATILE = {"ts_ms", "ts_us", "ts_ns"}


def normalise(j, topic_is_tx):
    """What legitimately differs between the two connectors: the prefix and the processing time (and
    the source time of non-transactional messages, which have no commit time)."""
    if isinstance(j, dict):
        j = dict(j)
        if "source" in j and isinstance(j["source"], dict):
            j["source"] = dict(j["source"], name="P")
            if j.get("op") == "m" and j["source"].get("txId") is None:
                j["source"].update(ts_ms=0, ts_us=0, ts_ns=0)
        if not topic_is_tx:
            for k in VOLATILE & set(j):
                j[k] = 0
        if "serverName" in j:
            j["serverName"] = "P"
    return j


total = 0
fields = 0
for suf in SUFFIXES:
    at, jt = APFX + suf, JPFX + suf
    arecs, jrecs = read_topic(at), read_topic(jt)
    if len(arecs) != len(jrecs) or not arecs:
        raise SystemExit("%s has %d records, %s has %d" % (at, len(arecs), jt, len(jrecs)))
    for i, ((ak, av, ah), (jk, jv, jh)) in enumerate(zip(arecs, jrecs)):
        for what, araw, jraw in (("key", ak, jk), ("value", av, jv)):
            path = "%s[%d].%s" % (at, i, what)
            if jraw is None or araw is None:
                if (jraw is None) != (araw is None):
                    raise SystemExit("%s: avro %r, json %r" % (path, araw, jraw))
                continue
            sch, datum = decode(araw)
            a = normalise(as_json(sch, datum), suf == ".transaction")
            j = normalise(json.loads(jraw), suf == ".transaction")
            same(a, j, path)
            fields += 1
        # the logical name differs by design; the runId is a fresh UUID per connector run
        hn = lambda hs: [(k, v) for k, v in hs
                         if k not in ("__debezium.context.connectorLogicalName", "__debezium.context.runId")]
        if hn(ah) != hn(jh):
            raise SystemExit("%s[%d]: headers %r vs %r" % (at, i, ah, jh))
    total += len(arecs)
    print("%s: %d records decoded and equal to %s" % (at, len(arecs), jt))
print("avro_check: %d records, %d keys/values compared, %d writer schemas" % (total, fields, len(SCHEMAS)))
