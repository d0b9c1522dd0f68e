#!/usr/bin/python3
# compose_compare.py: the compose stack's source shop (customers, orders) against its three targets,
# row by row (not counts): the PostgreSQL sink's database `target`, MariaDB's `shop` and MongoDB's
# `shop` (documents keyed {"id": …}). Waits up to SECONDS for all of them to become equal; prints one
# line per table and target, exits 1 with the first differences if they do not.
#   compose_compare.py SECONDS PG_PORT MARIADB_PORT MONGODB_PORT
# Passwords are the compose file's (postgres, mariadb); everything listens on loopback. The readers and
# canonical forms are sink_compare.py's (SQL targets) and mongo_compare.py's (MongoDB), not copies.
import os
import sys
import time

import pymongo

import mongo_compare
import sink_compare

# table -> [(column, kind)], primary key first
TABLES = {
    "customers": [("id", "int"), ("name", "text"), ("email", "text")],
    "orders": [("id", "int"), ("customer_id", "int"), ("total", "num"), ("status", "text")],
}


def main():
    secs, pg_port, my_port, mongo_port = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    os.environ.update(PGHOST="127.0.0.1", PGPORT=pg_port, PGUSER="postgres", PGPASSWORD="postgres",
                      MYSQL_PWD="mariadb")
    mongo_compare.KEYS.update({t: ["id"] for t in TABLES})
    db = pymongo.MongoClient(f"mongodb://127.0.0.1:{mongo_port}", serverSelectionTimeoutMS=5000)["shop"]
    deadline = time.time() + secs
    while True:
        diffs, lines = [], []
        for table, cols in TABLES.items():
            src, err = sink_compare.pg_rows("postgres", table, cols)
            if src is None:
                sys.exit(f"source table {table}: {err}")
            msrc = mongo_compare.source_rows(table, cols)
            try:
                mdst, merr = mongo_compare.target_rows(db, table, cols, other_fields_ok=True), None
            except pymongo.errors.PyMongoError as e:
                mdst, merr = {}, str(e).strip()[:200]
            for name, want, (got, err) in (("postgresql", src, sink_compare.pg_rows("target", table, cols)),
                                           ("mariadb", src, sink_compare.my_rows(my_port, "shop", table, cols)),
                                           ("mongodb", msrc, (mdst, merr))):
                if got == want:
                    lines.append(f"{table}: {len(want)} rows, {name} equal")
                    continue
                got = got if got is not None else []
                if isinstance(want, dict):   # MongoDB's rows are keyed: compare by key
                    missing = [want[k] for k in want if got.get(k) != want[k]][:3]
                    extra = [got[k] for k in got if k not in want][:3]
                else:
                    missing = [r for r in want if r not in got][:3]
                    extra = [r for r in got if r not in want][:3]
                diffs.append(f"{table} in {name}: {err or ''} source {len(want)} rows, target {len(got)}; "
                             f"missing/different {missing} extra {extra}")
        if not diffs:
            print("\n".join(lines))
            return 0
        if time.time() > deadline:
            print("\n".join(diffs), file=sys.stderr)
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
