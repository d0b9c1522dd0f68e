#!/usr/bin/python3
# sink_compare.py: the source tables of test_sink_jdbc.sh against their copies in a PostgreSQL and a
# MariaDB target, row by row through one canonical text form per column kind (not counts). Waits up
# to SECONDS for them to become equal; prints one line per table and target, exits 1 with a diff if not.
#   sink_compare.py SECONDS SRC_DB PG_TARGET_DB MARIADB_PORT MARIADB_DB
# PostgreSQL through psql's PG* environment; MariaDB as root (MYSQL_PWD if it has a password). Also a module:
# pg_rows and my_rows read any table given its [(column, kind)] (compose_compare.py).
import json
import os
import subprocess
import sys
import time
from decimal import Decimal

# table -> [(column, kind)], primary key first; kinds decide the SQL text form and the normalisation
TABLES = {
    "items": [("id", "int"), ("name", "text"), ("price", "num"), ("qty", "int"), ("ok", "bool"),
              ("small", "int"), ("created", "ts"), ("tz", "tstz"), ("d", "date"), ("t", "time"),
              ("data", "json"), ("u", "uuid"), ("b", "bytes"), ("f", "float"), ("r", "real"),
              ("tags", "arr")],
    'Odd "Tab"; drop': [("k;ey", "int"), ("select", "text"), ("ünï", "text"), ("Mixed", "int")],
    "kv": [("a", "int"), ("b", "text"), ("v", "text")],
    "trunc_me": [("id", "int"), ("v", "text")],
    "docs": [("id", "int"), ("n", "int"), ("body", "text"), ("blob", "bytes"), ("tags", "arr")],
}


def pg_ident(s):
    return '"' + s.replace('"', '""') + '"'


def my_ident(s):
    return "`" + s.replace("`", "``") + "`"


def pg_expr(c, k):
    c = pg_ident(c)
    return {
        "ts": f"to_char({c}, 'YYYY-MM-DD HH24:MI:SS.US')",
        "tstz": f"to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
        "time": f"to_char('2000-01-01'::timestamp + {c}, 'HH24:MI:SS.US')",
        "bytes": f"encode({c}, 'hex')",
        "arr": f"array_to_json({c})::text",
    }.get(k, f"{c}::text")


def my_expr(c, k):
    c = my_ident(c)
    return {
        "ts": f"DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s.%f')",
        "tstz": f"DATE_FORMAT({c}, '%Y-%m-%d %H:%i:%s.%f')",
        "time": f"TIME_FORMAT({c}, '%H:%i:%s.%f')",
        "bytes": f"LOWER(HEX({c}))",
    }.get(k, f"CAST({c} AS CHAR)")


def norm(v, k):
    if v is None:
        return None
    if k == "bool":
        return v in ("t", "true", "1")
    if k == "num":
        return str(Decimal(v).normalize())
    if k == "float":
        return repr(float(v))
    if k == "real":
        return "%.6g" % float(v)
    if k in ("json", "arr"):
        return json.dumps(json.loads(v), sort_keys=True)
    if k == "uuid":
        return v.lower()
    return v


def rows(lines, cols):
    out = []
    for line in lines:
        if not line.strip():
            continue
        vals = json.loads(line)
        out.append(tuple(norm(v, k) for v, (_, k) in zip(vals, cols)))
    return sorted(out, key=lambda r: json.dumps(r))


def pg_rows(db, table, cols):
    sql = "SELECT json_build_array(%s)::text FROM %s" % (", ".join(pg_expr(c, k) for c, k in cols), pg_ident(table))
    p = subprocess.run(["psql", "-X", "-At", "-d", db, "-c", sql], capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return rows(p.stdout.splitlines(), cols), None


def my_rows(port, db, table, cols):
    sql = "SELECT JSON_ARRAY(%s) FROM %s" % (", ".join(my_expr(c, k) for c, k in cols), my_ident(table))
    p = subprocess.run(["mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", port, "-u", "root",
                        "-N", "-B", "-r", db, "-e", sql], capture_output=True, text=True)
    if p.returncode != 0:
        return None, p.stderr.strip()
    return rows(p.stdout.splitlines(), cols), None


def main():
    secs, src, pgt, myport, mydb = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    end = time.time() + secs
    skip = os.environ.get("SINK_COMPARE_SKIP", "")
    only = [t for t in os.environ.get("SINK_COMPARE_TABLES", "").split(",") if t]   # a subset of TABLES
    while True:
        report, diffs = [], []
        for t, cols in TABLES.items():
            if t == skip or (only and t not in only):
                continue
            want, err = pg_rows(src, t, cols)
            if want is None:
                sys.exit(f"source table {t}: {err}")
            for name, (got, err) in (("postgresql", pg_rows(pgt, t, cols)), ("mariadb", my_rows(myport, mydb, t, cols))):
                if got == want:
                    report.append(f"{name} {t}: {len(want)} rows equal")
                else:
                    missing = [r for r in want if got is None or r not in got]
                    extra = [r for r in (got or []) if r not in want]
                    diffs.append(f"{name} {t}: {err or ''} {len(want)} source rows, {len(got or [])} target rows; "
                                 f"missing/different {missing[:3]} extra {extra[:3]}")
        if not diffs:
            print("\n".join(report))
            return
        if time.time() > end:
            sys.exit("targets differ from the source after %.0f s:\n" % secs + "\n".join(diffs))
        time.sleep(0.5)


if __name__ == "__main__":
    main()
