#!/usr/bin/python3
"""avro_dump.py: prints every record of Kafka topics as a JSON line {"topic","offset","key_id","value_id",
"key","value"}: Avro keys/values decoded with python3-avro using the writer schema the registry gives for
the id in the record (bytes as base64, decimals as strings); JSON records are parsed as they are.
SR_AUTH=user:password in the environment sends basic auth to the registry.

usage: avro_dump.py BOOTSTRAP REGISTRY_URL TOPIC..."""
import base64
import decimal
import io
import json
import os
import struct
import sys
import urllib.request

import avro.io
import avro.schema
from confluent_kafka import Consumer, TopicPartition

BS, REG = sys.argv[1:3]
SCHEMAS = {}


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return v


def decode(raw):
    if raw is None:
        return None, None
    if raw[:1] != b"\0":
        return None, json.loads(raw)
    sid = struct.unpack(">i", raw[1:5])[0]
    if sid not in SCHEMAS:
        req = urllib.request.Request("%s/schemas/ids/%d" % (REG, sid))
        if os.environ.get("SR_AUTH"):
            req.add_header("Authorization", "Basic " + base64.b64encode(os.environ["SR_AUTH"].encode()).decode())
        with urllib.request.urlopen(req) as r:
            SCHEMAS[sid] = avro.schema.parse(json.load(r)["schema"])
    return sid, plain(avro.io.DatumReader(SCHEMAS[sid]).read(avro.io.BinaryDecoder(io.BytesIO(raw[5:]))))


for topic in sys.argv[3:]:
    c = Consumer({"bootstrap.servers": BS, "group.id": "avro-dump", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": "read_committed"})
    c.assign([TopicPartition(topic, 0, 0)])
    while True:
        m = c.poll(10)
        if m is None or (m.error() and m.error().code() == -191):
            break
        if m.error():
            raise SystemExit("kafka error on %s: %s" % (topic, m.error()))
        kid, k = decode(m.key())
        vid, v = decode(m.value())
        print(json.dumps({"topic": topic, "offset": m.offset(), "key_id": kid, "value_id": vid, "key": k, "value": v}))
    c.close()
