#!/usr/bin/python3
# sink_diff.py: the tables Debezium's JDBC sink created and filled (database REF) against the ones walcast's
# sink created and filled (database WC) on the same target server, from the same topics and sink config.
# Compared: table names, column names and order, column types (information_schema), nullability, primary
# key columns and order, and every row (ordered by the primary key) through one canonical text form
# per value. Every difference must be listed in EXPECTED (a known, documented difference:
# docs/compatibility.md, "JDBC sink side by side"); anything else, and any listed difference that no
# longer occurs, fails. Polls until both databases hold the source's row counts and the differences
# are the expected ones (the sinks still apply while this runs), at most SECONDS.
#   sink_diff.py postgresql|mariadb PORT REF WC SECONDS TABLE=ROWS...
import json
import subprocess
import sys
import time

# (kind, table, column, what): what is "type" (column type/precision), "value" (contents of that column)
EXPECTED = {
    "postgresql": {
        # Debezium: VariableScaleDecimal -> double precision, digits lost; walcast: numeric, exact
        ("type", "items", "big"), ("value", "items", "big"),
        ("type", "items_noarr", "big"), ("value", "items_noarr", "big"),
        # an unchanged TOASTed value: walcast keeps the target's value, Debezium writes the placeholder
        ("value", "docs", "body"),
    },
    "mariadb": {
        ("value", "docs", "body"),
        ("type", "items_noarr", "big"), ("value", "items_noarr", "big"),
        # Debezium: ZonedTimestamp -> timestamp(6) (ends in 2038); walcast: datetime(6) in UTC
        ("type", "items_noarr", "tz"),
        # Debezium: Uuid -> longtext; walcast: varchar(36)
        ("type", "items_noarr", "u"),
    },
}


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(p.stderr.strip()[:400])
    return [line for line in p.stdout.split("\n") if line != ""]


class Pg:
    def __init__(self, port):
        self.port = port

    def q(self, db, sql):
        return run(["psql", "-X", "-At", "-d", db, "-c", sql])  # PGHOST/PGPORT/PGUSER from the environment

    def columns(self, db):
        # table -> [(column, type, nullable, pk position)]
        sql = """SELECT json_build_array(c.table_name, c.column_name,
                   CASE WHEN c.data_type = 'ARRAY' THEN c.udt_name ELSE c.data_type END
                   || coalesce('(' || c.character_maximum_length || ')', '')
                   || CASE WHEN c.data_type IN ('numeric') THEN coalesce('(' || c.numeric_precision || ',' || c.numeric_scale || ')', '') ELSE '' END
                   || CASE WHEN c.datetime_precision IS NOT NULL AND c.data_type NOT IN ('date', 'interval')
                           THEN '(' || c.datetime_precision || ')' ELSE '' END,
                   c.is_nullable, k.ordinal_position)::text
            FROM information_schema.columns c
            LEFT JOIN information_schema.table_constraints tc ON tc.table_schema = c.table_schema
              AND tc.table_name = c.table_name AND tc.constraint_type = 'PRIMARY KEY'
            LEFT JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name
              AND k.table_schema = c.table_schema AND k.table_name = c.table_name AND k.column_name = c.column_name
            WHERE c.table_schema = 'public' AND c.table_name NOT LIKE 'walcast\\_%'
            ORDER BY c.table_name, c.ordinal_position"""
        return collect(self.q(db, sql))

    def rows(self, db, table, cols):
        ident = lambda s: '"' + s.replace('"', '""') + '"'
        exprs = []
        for c, typ, _, _ in cols:
            e = ident(c)
            if typ.startswith("timestamp") and "with time zone" in typ:
                e = f"to_char({e} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            elif typ.startswith("timestamp"):
                e = f"to_char({e}, 'YYYY-MM-DD HH24:MI:SS.US')"
            elif typ == "bytea":
                e = f"encode({e}, 'hex')"
            elif typ.startswith("_"):
                e = f"array_to_json({e})::text"
            else:
                e = f"{e}::text"
            exprs.append(e)
        keys = [ident(c) for c, _, _, pk in sorted(cols, key=lambda x: x[3] or 99) if pk]
        sql = "SELECT json_build_array(%s)::text FROM %s ORDER BY %s" % (
            ", ".join(exprs), ident(table), ", ".join(keys) or "1")
        return [json.loads(line) for line in self.q(db, sql)]


class My:
    def __init__(self, port):
        self.port = port

    def q(self, db, sql):
        return run(["mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", self.port, "-u", "root",
                    "-N", "-B", "-r", db, "-e", sql])

    def columns(self, db):
        sql = f"""SELECT JSON_ARRAY(c.table_name, c.column_name, c.column_type, c.is_nullable,
                   (SELECT k.ordinal_position FROM information_schema.key_column_usage k
                    WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name
                      AND k.column_name = c.column_name AND k.constraint_name = 'PRIMARY'))
            FROM information_schema.columns c
            WHERE c.table_schema = '{db}' AND c.table_name NOT LIKE 'walcast\\_%'
            ORDER BY c.table_name, c.ordinal_position"""
        return collect(self.q(db, sql))

    def rows(self, db, table, cols):
        ident = lambda s: "`" + s.replace("`", "``") + "`"
        exprs = []
        for c, typ, _, _ in cols:
            e = ident(c)
            if typ.startswith(("datetime", "timestamp")):
                e = f"DATE_FORMAT({e}, '%Y-%m-%d %H:%i:%s.%f')"
            elif typ.startswith("time"):
                e = f"TIME_FORMAT({e}, '%H:%i:%s.%f')"
            elif "blob" in typ or "binary" in typ:
                e = f"LOWER(HEX({e}))"
            else:
                e = f"CAST({e} AS CHAR)"
            exprs.append(e)
        keys = [ident(c) for c, _, _, pk in sorted(cols, key=lambda x: x[3] or 99) if pk]
        # both sides in UTC: a timestamp column is shown in the session's zone
        sql = "SET time_zone = '+00:00'; SELECT JSON_ARRAY(%s) FROM %s ORDER BY %s" % (
            ", ".join(exprs), ident(table), ", ".join(keys) or "1")
        return [json.loads(line) for line in self.q(db, sql)]


def collect(lines):
    tables = {}
    for line in lines:
        t, c, typ, nullable, pk = json.loads(line)
        tables.setdefault(t, []).append((c, typ, nullable, pk))
    return tables


def canon(v, typ):
    """One text per value: the same value stored in the same column type prints the same."""
    if v is None:
        return None
    if typ.startswith("json") or typ.startswith("_"):
        try:
            return json.dumps(json.loads(v), sort_keys=True)
        except ValueError:
            return v
    return v


def diff(db, ref, wc, want):
    """-> (set of (what, table, column), [text lines], counts ok)"""
    found, lines, complete = set(), [], True
    rc, wcc = db.columns(ref), db.columns(wc)
    for t in sorted(set(rc) | set(wcc)):
        if t not in rc or t not in wcc:
            complete = False
            lines.append(f"table {t}: only in {'debezium' if t in rc else 'walcast'}")
            continue
        a, b = rc[t], wcc[t]
        if [c[0] for c in a] != [c[0] for c in b]:
            found.add(("columns", t, ""))
            lines.append(f"table {t}: columns debezium {[c[0] for c in a]} walcast {[c[0] for c in b]}")
            continue
        for ca, cb in zip(a, b):
            if ca[1] != cb[1]:
                found.add(("type", t, ca[0]))
                lines.append(f"{t}.{ca[0]}: type debezium {ca[1]} walcast {cb[1]}")
            if ca[2] != cb[2]:
                found.add(("nullable", t, ca[0]))
                lines.append(f"{t}.{ca[0]}: nullable debezium {ca[2]} walcast {cb[2]}")
            if ca[3] != cb[3]:
                found.add(("pk", t, ca[0]))
                lines.append(f"{t}.{ca[0]}: key position debezium {ca[3]} walcast {cb[3]}")
        ra, rb = db.rows(ref, t, a), db.rows(wc, t, b)
        if t in want and (len(ra) != want[t] or len(rb) != want[t]):
            complete = False
            lines.append(f"table {t}: {want[t]} source rows, debezium {len(ra)}, walcast {len(rb)}")
            continue
        for i, (xa, xb) in enumerate(zip(ra, rb)):
            for j, (ca, cb) in enumerate(zip(a, b)):
                va, vb = canon(xa[j], ca[1]), canon(xb[j], cb[1])
                if va != vb:
                    if ("value", t, ca[0]) not in found:
                        lines.append(f"{t}.{ca[0]} row {i + 1} (key {xa[0]!r}): debezium {va!r} walcast {vb!r}")
                    found.add(("value", t, ca[0]))
    for t in want:
        if t not in rc and t not in wcc:
            complete = False
            lines.append(f"table {t}: in neither target")
    return found, lines, complete


def main():
    kind, port, ref, wc, secs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    want = {a.split("=")[0]: int(a.split("=")[1]) for a in sys.argv[6:]}
    db = Pg(port) if kind == "postgresql" else My(port)
    expected = EXPECTED[kind]
    end = time.time() + secs
    stable = 0
    while True:
        try:
            found, lines, complete = diff(db, ref, wc, want)
        except RuntimeError as e:
            found, lines, complete = set(), [f"query failed: {e}"], False
        ok = complete and found == expected
        stable = stable + 1 if ok else 0
        if stable == 2:  # the same result twice, a second apart: neither sink was still applying
            print(f"sink_diff {kind}: {len(want)} tables, columns and rows the same but the "
                  f"{len(expected)} known differences:")
            print("\n".join("  " + line for line in lines))
            return
        if time.time() > end:
            print(f"sink_diff {kind}: differences after {secs:.0f} s:", file=sys.stderr)
            print("\n".join("  " + line for line in lines), file=sys.stderr)
            for e in sorted(found - expected):
                print(f"  NOT EXPECTED: {e}", file=sys.stderr)
            for e in sorted(expected - found):
                print(f"  EXPECTED BUT NOT FOUND: {e}", file=sys.stderr)
            sys.exit(1)
        time.sleep(1)


main()
