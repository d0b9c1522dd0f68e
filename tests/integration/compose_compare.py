#!/usr/bin/python3
# compose_compare.py: the compose stack's source shop (customers, orders) against its three targets,
# row by row (not counts): the PostgreSQL sink's database `target`, MariaDB's `shop` and MongoDB's
# `shop` (documents keyed {"id": …}). Waits up to SECONDS for all of them to become equal; prints one
# line per table and target, exits 1 with the first differences if they do not.
#   compose_compare.py SECONDS PG_PORT MARIADB_PORT MONGODB_PORT
# Passwords are the compose file's (postgres, mariadb); everything listens on loopback.
import os
import subprocess
import sys
import time
from decimal import Decimal

import pymongo

TABLES = {
    "customers": [("id", int), ("name", str), ("email", str)],
    "orders": [("id", int), ("customer_id", int), ("total", Decimal), ("status", str)],
}


def norm(kind, v):
    if v is None or v == "NULL" or v == "\\N":
        return None
    if kind is Decimal:
        return str(Decimal(str(v)).quantize(Decimal("0.01")))
    return kind(v)


def sql_rows(cmd, table, env=None):
    cols = TABLES[table]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = {}
    for line in out.splitlines():
        row = tuple(norm(k, p if p != "" else None) for (_, k), p in zip(cols, line.split("\t")))
        rows[row[0]] = row
    return rows


def pg(port, db, table):
    cols = ", ".join(c for c, _ in TABLES[table])
    env = dict(os.environ, PGPASSWORD="postgres")
    return sql_rows(["psql", "-X", "-At", "-F", "\t", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db,
                     "-c", f"SELECT {cols} FROM {table}"], table, env)


def maria(port, table):
    cols = ", ".join(c for c, _ in TABLES[table])
    return sql_rows(["mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", port, "-u", "root",
                     "-pmariadb", "-N", "-B", "-e", f"SELECT {cols} FROM shop.{table}"], table)


def mongo(client, table):
    rows = {}
    for d in client["shop"][table].find():
        key = d["_id"]["id"] if isinstance(d["_id"], dict) else d["_id"]
        row = [norm(int, key)]
        for c, k in TABLES[table][1:]:
            v = d.get(c)
            row.append(norm(k, v.to_decimal() if hasattr(v, "to_decimal") else v))
        rows[row[0]] = tuple(row)
    return rows


def main():
    secs, pg_port, my_port, mongo_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    client = pymongo.MongoClient(f"mongodb://127.0.0.1:{mongo_port}", serverSelectionTimeoutMS=5000)
    deadline = time.time() + secs
    while True:
        diffs, lines = [], []
        for table in TABLES:
            src = pg(pg_port, "postgres", table)
            targets = {}
            for name, read in (("postgresql", lambda: pg(pg_port, "target", table)),
                               ("mariadb", lambda: maria(my_port, table)),
                               ("mongodb", lambda: mongo(client, table))):
                try:
                    targets[name] = read()
                except (subprocess.CalledProcessError, pymongo.errors.PyMongoError) as e:
                    targets[name] = {"error": str(e).strip()[:200]}
            for name, rows in targets.items():
                if rows == src:
                    lines.append(f"{table}: {len(src)} rows, {name} equal")
                else:
                    missing = sorted(k for k in src if k not in rows)[:5]
                    extra = sorted(str(k) for k in rows if k not in src)[:5]
                    differ = [(src[k], rows[k]) for k in sorted(src) if k in rows and rows[k] != src[k]][:3]
                    diffs.append(f"{table} in {name}: source {len(src)} rows, target {len(rows)}; "
                                 f"missing {missing} extra {extra} differ {differ}")
        if not diffs:
            print("\n".join(lines))
            return 0
        if time.time() > deadline:
            print("\n".join(diffs), file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
