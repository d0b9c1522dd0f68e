#!/usr/bin/env python3
"""with_schema.py: turns hand-written Debezium events (one 'key<TAB>value' line each, JSON without schemas)
into what JsonConverter writes with schemas.enable=true ({"schema":...,"payload":...}), so that tests of the
JDBC sinks feed them records whose column types are known (the sinks refuse schemaless records).
Types: JSON integers int64, numbers float64, booleans boolean, strings and nulls string (all optional but
the key's fields). The envelope's schema is named as Debezium names it (<prefix>.<table>.Envelope: the sinks,
like Debezium's, take a value as an envelope only under a name ending in .Envelope). A line that is not JSON
(a poison record) passes unchanged; so does an empty value."""
import json
import sys


def ftype(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "int64"
    if isinstance(v, float):
        return "double"
    return "string"


def struct(obj, name=None, optional=True, required=()):
    fields = [{"type": ftype(v), "optional": k not in required, "field": k} for k, v in obj.items()]
    s = {"type": "struct", "fields": fields, "optional": optional}
    if name:
        s["name"] = name
    return s


def wrap_key(k):
    return json.dumps({"schema": struct(k, "Key", optional=False, required=tuple(k)), "payload": k})


def wrap_value(v, key):
    row = v.get("after") or v.get("before") or {}
    rs = struct(row, "Value")
    for f in rs["fields"]:
        if key and f["field"] in key:
            f["optional"] = False
    src = v.get("source") or {}
    fields = [dict(rs, field="before"), dict(rs, field="after"),
              dict(struct(src, "io.debezium.connector.postgresql.Source", optional=False), field="source"),
              {"type": "string", "optional": False, "field": "op"},
              {"type": "int64", "optional": True, "field": "ts_ms"}]
    return json.dumps({"schema": {"type": "struct", "fields": fields, "optional": False, "name": "it.Envelope"},
                       "payload": v})


for line in sys.stdin:
    line = line.rstrip("\n")
    k, _, v = line.partition("\t")
    try:
        kj = json.loads(k) if k else None
        vj = json.loads(v) if v else None
    except ValueError:
        print(line)
        continue
    ko = wrap_key(kj) if isinstance(kj, dict) else k
    vo = wrap_value(vj, kj) if isinstance(vj, dict) and "op" in vj else v
    print(ko + "\t" + vo)
