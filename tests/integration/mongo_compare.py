#!/usr/bin/python3
# mongo_compare.py: the source tables of test_sink_mongo.sh against their collections in the MongoDB
# target (FerretDB or a real MongoDB), document by row through one canonical text form per column kind
# (not counts); pymongo is the independent oracle. Waits up to SECONDS for them to become equal; prints
# one line per table, exits 1 with a diff if not.
#   mongo_compare.py SECONDS MONGODB_URI DATABASE   (the source through psql's PG* environment)
# And two sinks' databases document by document (test_sink_transforms_mongo.sh: Debezium's MongoDB sink
# against walcast's): every collection's _id set, and each document's fields in order, with their BSON
# types and values (canonical Extended JSON); walcast's own __walcast_version is left out.
#   mongo_compare.py --diff SECONDS MONGODB_URI DATABASE_A DATABASE_B COLLECTION...
import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import bson
import pymongo

# table -> (collection, [(column, kind)], key columns); the sink's collection.name.format is ${source.table}
TABLES = {
    "items": ([("id", "int"), ("name", "text"), ("price", "num"), ("qty", "int"), ("ok", "bool"),
               ("d", "date"), ("created", "ts"), ("data", "json"), ("b", "bytes"), ("f", "float"),
               ("tags", "arr")], ["id"]),
    "kv": ([("a", "int"), ("b", "text"), ("v", "text")], ["a", "b"]),
}
VERSION_FIELD = "__walcast_version"


def pg_ident(s):
    return '"' + s.replace('"', '""') + '"'


def pg_expr(col, kind):
    c = pg_ident(col)
    return {
        "int": f"{c}::text", "text": c, "json": f"{c}::text", "num": f"{c}::text", "bool": f"{c}::text",
        "date": f"({c} - date '1970-01-01')::text",
        "ts": f"(extract(epoch from {c}) * 1000000)::bigint::text",
        "bytes": f"encode({c}, 'hex')", "float": f"{c}::text", "arr": f"array_to_json({c})::text",
    }[kind]


def canon(kind, v):
    """The document's value (or the source text) as the text both sides agree on; None for NULL."""
    if v is None:
        return None
    if kind == "num":
        return str(Decimal(str(v)))          # Decimal128 or its text (FerretDB 1.x), "12.50" either way
    if kind == "bool":
        return ("true" if v else "false") if isinstance(v, bool) else v
    if kind == "float":
        return repr(float(v))
    if kind == "bytes":
        return bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v
    if kind == "json":                       # io.debezium.data.Json: the JSON text, compared as JSON
        return json.dumps(json.loads(v), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if kind == "arr":
        return json.dumps(v, separators=(",", ":"), ensure_ascii=False) if isinstance(v, list) else \
            json.dumps(json.loads(v), separators=(",", ":"), ensure_ascii=False)
    return str(v)


def source_rows(table, cols):
    sql = "SELECT json_build_array(%s) FROM %s" % (", ".join(pg_expr(c, k) for c, k in cols), pg_ident(table))
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        vals = [canon(k, v) for (c, k), v in zip(cols, json.loads(line))]
        rows[tuple(vals[: len(KEYS[table])])] = vals
    return rows


def target_rows(db, table, cols, other_fields_ok=False):
    """other_fields_ok: fields beyond cols are ignored (a subset of the columns is compared) instead of
    reported as unexpected."""
    rows = {}
    for doc in db[table].find():
        idd = doc.pop("_id")
        doc.pop(VERSION_FIELD, None)
        full = dict(doc)
        full.update(idd)                     # key columns live in _id only (as Debezium's sink)
        extra = set(full) - {c for c, _ in cols}
        if extra and not other_fields_ok:
            full["__unexpected__"] = sorted(extra)
        vals = [canon(k, full.get(c)) for c, k in cols]
        key = tuple(vals[: len(KEYS[table])])
        rows[key] = vals + ([full["__unexpected__"]] if "__unexpected__" in full else [])
    return rows


KEYS = {t: keys for t, (cols, keys) in TABLES.items()}


def main():
    secs, uri, dbname = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    only = [t for t in os.environ.get("MONGO_COMPARE_TABLES", "").split(",") if t]   # a subset of TABLES
    for t in list(TABLES):
        if only and t not in only:
            del TABLES[t]
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = client[dbname]
    deadline = time.time() + secs
    while True:
        diffs = []
        for table, (cols, keys) in TABLES.items():
            # key columns first in the source query, as in the document comparison
            ordered = [c for c in cols if c[0] in keys] + [c for c in cols if c[0] not in keys]
            src = source_rows(table, ordered)
            dst = target_rows(db, table, ordered)
            if src != dst:
                missing = [k for k in src if k not in dst]
                extra = [k for k in dst if k not in src]
                changed = [k for k in src if k in dst and src[k] != dst[k]]
                diffs.append((table, len(src), len(dst), missing[:5], extra[:5],
                              [(src[k], dst[k]) for k in changed[:3]]))
        if not diffs:
            for table in TABLES:
                print(f"mongo {table}: {db[table].count_documents({})} documents equal to the source rows")
            return 0
        if time.time() > deadline:
            for d in diffs:
                print("mongo %s: source %d rows, target %d documents; missing %r; extra %r; differing %r" % d,
                      file=sys.stderr)
            return 1
        time.sleep(0.5)


def documents(db, coll):
    from bson import json_util
    opts = json_util.CANONICAL_JSON_OPTIONS
    out = {}
    for doc in db[coll].find():
        doc.pop(VERSION_FIELD, None)
        out[json_util.dumps(doc["_id"], json_options=opts)] = [(k, json_util.dumps(v, json_options=opts))
                                                                for k, v in doc.items()]
    return out


def diff_main(secs, uri, name_a, name_b, colls):
    # socketTimeoutMS: a FerretDB 1.x that hangs on a large update (test_sink_transforms_mongo.sh) fails
    # the diff instead of blocking it
    client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000, socketTimeoutMS=30000)
    deadline = time.time() + secs
    while True:
        problems = []
        for coll in colls:
            a, b = documents(client[name_a], coll), documents(client[name_b], coll)
            for k in sorted(set(a) | set(b)):
                if k not in b or k not in a:
                    problems.append(f"{coll} _id {k}: only in {name_a if k in a else name_b}")
                elif a[k] != b[k]:
                    da, db = dict(a[k]), dict(b[k])
                    for f in list(da) + [f for f in db if f not in da]:
                        if da.get(f) != db.get(f):
                            problems.append(f"{coll} _id {k} field {f}: {name_a}={da.get(f, '<absent>')} "
                                            f"{name_b}={db.get(f, '<absent>')}")
                    if da == db:
                        problems.append(f"{coll} _id {k}: field order {[f for f, _ in a[k]]} / {[f for f, _ in b[k]]}")
        if not problems:
            for coll in colls:
                print(f"mongo {coll}: {len(documents(client[name_a], coll))} documents the same in {name_a} and {name_b}")
            return 0
        if time.time() > deadline:
            for p in problems[:60]:
                print(p, file=sys.stderr)
            print(f"mongo --diff: {len(problems)} differences", file=sys.stderr)
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    if sys.argv[1] == "--diff":
        sys.exit(diff_main(float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:]))
    sys.exit(main())
