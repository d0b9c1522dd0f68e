#!/usr/bin/env bash
# test_sink_numeric.sh: numeric values through walcast's source (decimal.handling.mode=precise, JSON with
# schemas and Avro) and its JDBC sinks into PostgreSQL and MariaDB: snapshot rows, then the same values
# inserted, updated and deleted while streaming (1.50, 100, 0, 0.000, -0.0010, 1e20, 1e-30, NaN, ±Infinity).
# What the targets must hold:
#   numeric(30,4), numeric(21,0) (Connect Decimal): the source's value and scale exactly, in both targets;
#   numeric without a scale (VariableScaleDecimal): the value and scale of the event, which are Debezium's
#     (trailing fractional zeros stripped: 1.50 arrives as 1.5, 0.000 as 0; tests/reference/numeric_diff.sh
#     checks that against Debezium 3.6.1): that text in PostgreSQL (numeric), that value in MariaDB
#     (decimal(65,30));
#   NaN and the infinities: NULL (the precise mode has no value for them; Debezium writes null too).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
psql_q -c "CREATE DATABASE tj" -c "CREATE DATABASE ta"
my_q -e "CREATE DATABASE tj; CREATE DATABASE ta"
psql_q <<'SQL'
CREATE TABLE numx (id int PRIMARY KEY, n numeric, d numeric(30,4), z numeric(21,0));
CREATE TABLE vals (i int, n text, d text, z text);
INSERT INTO vals VALUES
  (1, '1.50', '1.50', '2'), (2, '100', '100', '100'), (3, '0', '0', '0'), (4, '0.000', '0.000', '0'),
  (5, '-0.0010', '-0.0010', '-1'), (6, '1e20', '1e20', '100000000000000000000'), (7, 'NaN', 'NaN', 'NaN'),
  (8, 'Infinity', '12345678901234567890123456.1234', '999999999999999999999'),
  (9, '-Infinity', '-0.0001', '-999999999999999999999'), (10, '1e-30', '0.00005', '0'),
  (11, '-123456789.000100', '-123456789.0001', '-123456789'), (12, NULL, NULL, NULL);
INSERT INTO numx SELECT i, n::numeric, d::numeric, z::numeric FROM vals;
SQL
kafka_start --topic j.public.numx --topic a.public.numx --topic connect-offsets
registry_start
avro=("key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL"
  "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL")
srcj=$(connector_file srcj "name=srcj" "topic.prefix=j" "slot.name=slot_j" "snapshot.mode=initial" "table.include.list=public\\.numx")
srca=$(connector_file srca "name=srca" "topic.prefix=a" "slot.name=slot_a" "snapshot.mode=initial" "table.include.list=public\\.numx" "${avro[@]}")
sink() {   # sink NAME PREFIX URL USER [converter lines]
  local f="$IT_DIR/$1.properties" name=$1 prefix=$2 url=$3 user=$4
  shift 4
  { echo "name=$name"; echo "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector"
    echo "topics.regex=$prefix\\.public\\..*"; echo "insert.mode=upsert"; echo "delete.enabled=true"
    echo "primary.key.mode=record_key"; echo "schema.evolution=basic"; echo "collection.name.format=\${source.table}"
    echo "connection.url=$url"; echo "connection.username=$user"; printf '%s\n' "$@"; } >"$f"
  echo "$f"
}
sinks=(
  "$(sink pgj j "jdbc:postgresql://127.0.0.1:$PGPORT/tj" postgres)"
  "$(sink myj j "jdbc:mariadb://127.0.0.1:$MYPORT/tj" root)"
  "$(sink pga a "jdbc:postgresql://127.0.0.1:$PGPORT/ta" postgres "${avro[2]}" "${avro[3]}")"
  "$(sink mya a "jdbc:mariadb://127.0.0.1:$MYPORT/ta" root "${avro[2]}" "${avro[3]}")"
)
WALCAST_SOURCES=2 walcast_start "$srcj" "$srca" "${sinks[@]}"
psql_q <<'SQL'
INSERT INTO numx SELECT 100 + i, n::numeric, d::numeric, z::numeric FROM vals;
UPDATE numx SET n = n * 2, d = d / 3, z = -z WHERE id IN (101, 104, 105, 106, 111);
UPDATE numx SET n = 0.000, d = 0.0100, z = 0 WHERE id = 102;
UPDATE numx SET n = 'NaN', d = 'NaN', z = 'NaN' WHERE id = 103;
UPDATE numx SET n = 7.70, d = 7 WHERE id = 107;
DELETE FROM numx WHERE id IN (105, 110);
SQL
wait_published slot_j
wait_published slot_a
psql -X -At -F '|' -c "SELECT id, n::text, d::text, z::text FROM numx ORDER BY id" >"$IT_DIR/source.txt"
"$PY" - "$IT_DIR/source.txt" "$PGPORT" "$MYPORT" <<'PYEOF'
import subprocess, sys, time
from decimal import Decimal
src, pgport, myport = sys.argv[1], sys.argv[2], sys.argv[3]

def special(t):
    return t in ("", "NaN", "Infinity", "-Infinity")

def stripped(t):
    """The unscaled numeric as Debezium's VariableScaleDecimal carries it: trailing fractional zeros
    stripped (1.50 -> 1.5, 0.000 -> 0), nothing else changed."""
    if special(t):
        return None
    if "." in t:
        t = t.rstrip("0").rstrip(".")
    return "0" if t in ("-0", "") else t

want = {}
for line in open(src).read().splitlines():
    i, n, d, z = line.split("|")
    want[int(i)] = (stripped(n), None if special(d) else d, None if special(z) else z)

def rows(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        return None
    got = {}
    for line in out.stdout.splitlines():
        i, n, d, z = line.split("\t")
        got[int(i)] = tuple(None if x in ("", "NULL") else x for x in (n, d, z))
    return got

def pg(db):
    return rows(["psql", "-X", "-At", "-F", "\t", "-p", pgport, "-h", "127.0.0.1", "-U", "postgres", "-d", db,
                 "-c", "SELECT id, n::text, d::text, z::text FROM numx ORDER BY id"])

def my(db):
    return rows(["mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", myport, "-u", "root",
                 "-N", "-B", db, "-e", "SELECT id, n, d, z FROM numx ORDER BY id"])

def problems(name, got, exact_n):
    if got is None:
        return [f"{name}: table not readable yet"]
    out = []
    if set(got) != set(want):
        out.append(f"{name}: ids {sorted(got)} != {sorted(want)}")
    for i in sorted(set(got) & set(want)):
        wn, wd, wz = want[i]
        gn, gd, gz = got[i]
        ok_n = gn == wn if exact_n else (gn is None) == (wn is None) and (gn is None or Decimal(gn) == Decimal(wn))
        if not ok_n or gd != wd or gz != wz:
            out.append(f"{name} id {i}: got n={gn} d={gd} z={gz}, want n={wn} d={wd} z={wz}")
    return out

deadline = time.time() + 90
while True:
    errs = []
    for db in ("tj", "ta"):
        errs += problems("postgresql " + db, pg(db), True)
        errs += problems("mariadb " + db, my(db), False)
    if not errs or time.time() > deadline:
        break
    time.sleep(0.5)
for e in errs:
    print(e, file=sys.stderr)
if errs:
    sys.exit(1)
print(f"{len(want)} rows: PostgreSQL and MariaDB targets (JSON and Avro) hold every numeric as the events carry it")
PYEOF
walcast_stop
! grep -q "sink failed" "$IT_DIR/walcast.log"
