#!/usr/bin/env bash
# test_sink_decimal_range.sh: numeric without a declared scale (VariableScaleDecimal) into MariaDB, whose
# column walcast creates as decimal(65,30). A value with digits past the 30th decimal (1e-40, 1e-31) would
# be rounded by MariaDB with only a Note (silently stored as 0), one of more than 35 integer digits (1e40)
# refused with 1264: the sink refuses both itself, naming the record, the column, the value, the column
# type and what to do.
#   errors.tolerance=all: those records (creates and an update) go to the dead-letter topic, every other
#     record of the batch is applied once (values at the limits, 1e-30 and 35 integer digits, included);
#   errors.tolerance=none: the sink stops at the first one, its text as above, the records before it applied;
#     after the ALTER TABLE the text suggests (DOUBLE, TEXT) the restarted sink applies every record;
#   a target table whose columns the user made DOUBLE and TEXT takes every value.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
mariadb_start
my_q -e "CREATE DATABASE ta; CREATE DATABASE tw; CREATE DATABASE tn"
my_q tw -e "CREATE TABLE numx (id int PRIMARY KEY, n double, t text)"
psql_q <<'SQL'
CREATE TABLE numx (id int PRIMARY KEY, n numeric, t numeric);
INSERT INTO numx SELECT i, v::numeric, v::numeric FROM (VALUES (1, '1.50'), (2, '1e-40'), (3, '7'), (4, '1e40')) x(i, v);
SQL
kafka_start --topic srv.public.numx --topic it_dlq --topic connect-offsets
src=$(connector_file src "name=src" "snapshot.mode=initial" "table.include.list=public\\.numx")
sink() {   # sink NAME DB [key=value...]
  local f="$IT_DIR/$1.properties" name=$1 db=$2
  shift 2
  printf '%s\n' "name=$name" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=srv.public.numx" \
    "insert.mode=upsert" "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" \
    "collection.name.format=\${source.table}" "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/$db" \
    "connection.username=root" "$@" >"$f"
  echo "$f"
}
tol=$(sink sa ta "errors.tolerance=all" "errors.deadletterqueue.topic.name=it_dlq" "errors.deadletterqueue.topic.replication.factor=1" \
  "errors.deadletterqueue.context.headers.enable=true")
wide=$(sink sw tw)
walcast_start "$src" "$tol" "$wide"
psql_q <<'SQL'
INSERT INTO numx SELECT i, v::numeric, v::numeric FROM (VALUES (5, '-1e-30'), (6, '12345678901234567890123456789012345'),
  (7, '1e-31'), (8, '2.5')) x(i, v);
UPDATE numx SET n = 3e-35, t = 3e-35 WHERE id = 3;
SQL
wait_published
wait_topic it_dlq 4 60
psql -X -At -F '|' -c "SELECT id, n::text FROM numx ORDER BY id" >"$IT_DIR/source.txt"
"$PY" - "$IT_DIR/source.txt" "$MYPORT" <<'PYEOF'
import subprocess, sys, time
from decimal import Decimal
src, myport = sys.argv[1], sys.argv[2]
source = {int(i): v for i, v in (l.split("|") for l in open(src).read().splitlines())}
# ta: what decimal(65,30) holds; 2, 4, 7 (never) and 3's update dead-lettered: 3 keeps its first value
want_ta = {i: Decimal(v) for i, v in source.items() if i not in (2, 3, 4, 7)}
want_ta[3] = Decimal(7)

def my(db, sql):
    out = subprocess.run(["mariadb", "--no-defaults", "--protocol=tcp", "-h", "127.0.0.1", "-P", myport, "-u", "root",
                          "-N", "-B", db, "-e", sql], capture_output=True, text=True)
    return None if out.returncode else [l.split("\t") for l in out.stdout.splitlines()]

def problems():
    out = []
    ta = my("ta", "SELECT id, n, t FROM numx ORDER BY id")
    if ta is None:
        return ["ta: not readable yet"]
    got = {int(i): (Decimal(n), Decimal(t)) for i, n, t in ta}
    if got != {i: (v, v) for i, v in want_ta.items()}:
        out.append(f"ta holds {got}, want {want_ta} (1e-40 and 1e-31 must never be stored, e.g. as 0)")
    tw = my("tw", "SELECT id, n, t FROM numx ORDER BY id")
    if tw is None:
        return out + ["tw: not readable yet"]
    got = {int(i): (n, t) for i, n, t in tw}
    if set(got) != set(source):
        out.append(f"tw ids {sorted(got)} != {sorted(source)}")
    for i in set(got) & set(source):
        n, t = got[i]
        want_t = source[i].rstrip("0").rstrip(".") if "." in source[i] else source[i]
        if abs(float(n) - float(source[i])) > abs(float(source[i])) * 1e-12 or Decimal(t) != Decimal(source[i]):
            out.append(f"tw id {i}: n={n} t={t}, want {source[i]}")
    return out

deadline = time.time() + 60
while (errs := problems()) and time.time() < deadline:
    time.sleep(0.3)
for e in errs:
    print(e, file=sys.stderr)
sys.exit(1 if errs else 0)
PYEOF
echo "errors.tolerance=all: every value that fits applied once, the DOUBLE/TEXT target took every value"
walcast_stop
kcat -C -b "$BS" -t it_dlq -e -q -J >"$IT_DIR/dlq.jsonl"
"$PY" - "$IT_DIR/dlq.jsonl" <<'PYEOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
keys = sorted(json.loads(r["key"])["payload"]["id"] for r in recs)
assert keys == [2, 3, 4, 7], keys
for r in recs:
    h = dict(zip(r["headers"][0::2], r["headers"][1::2]))
    m = h["__connect.errors.exception.message"]
    for part in ("column n of srv.public.numx[0]@", "does not fit column n of table numx, decimal(65,30)",
                 "ALTER TABLE numx MODIFY COLUMN n DOUBLE", "decimal.handling.mode=string"):
        assert part in m, (part, m)
    idv = json.loads(r["key"])["payload"]["id"]
    assert ("digits before the decimal point" in m) == (idv == 4), m
print("dead letters: ids", keys, "with the column, type and what to do")
PYEOF
# no tolerance: the sink stops at 1e-40 (the second record), naming it; only the first is applied
strict=$(sink sn tn)
if "$WALCAST" run --worker "$IT_DIR/worker.properties" "$strict" >"$IT_DIR/strict.out" 2>"$IT_DIR/strict.log"; then
  echo "the strict sink did not fail" >&2; exit 1
fi
grep 'msg="sink failed"' "$IT_DIR/strict.log" | grep 'srv.public.numx\[0\]@1' | grep -q \
  '0.0000000000000000000000000000000000000001 does not fit column n of table numx, decimal(65,30): 40 digits after the decimal point.*decimal.handling.mode=string' \
  || { echo "no failure naming srv.public.numx[0]@1, the value and what to do" >&2; cat "$IT_DIR/strict.log" >&2; exit 1; }
[ "$(my_q tn -e "SELECT group_concat(id ORDER BY id) FROM numx")" = 1 ] \
  || { echo "tn holds $(my_q tn -e "SELECT group_concat(id, '=', n) FROM numx")" >&2; exit 1; }
echo "errors.tolerance=none: the sink stopped at srv.public.numx[0]@1 (1e-40), only the record before it applied"
# what the error says to do: the columns altered (DOUBLE, TEXT), the same sink started again applies the rest
my_q tn -e "ALTER TABLE numx MODIFY COLUMN n DOUBLE, MODIFY COLUMN t TEXT"
walcast_spawn "$strict"
# (row 1, applied before the ALTER, was decimal(65,30): its text now has 30 decimals)
want=$(psql -X -At -c "SELECT string_agg(id || '=' || t, ',' ORDER BY id) FROM numx WHERE id > 1")
for _ in $(seq 1 300); do
  [ "$(my_q tn -e "SELECT group_concat(id, '=', t ORDER BY id) FROM numx WHERE id > 1")" = "$want" ] && break
  sleep 0.1
done
got=$(my_q tn -e "SELECT group_concat(id, '=', t ORDER BY id) FROM numx WHERE id > 1")
walcast_stop
[ "$got" = "$want" ] || { echo "after ALTER TABLE: tn holds '$got', want '$want'" >&2; exit 1; }
! grep -q "sink failed" "$IT_DIR/walcast.log"
echo "after ALTER TABLE ... DOUBLE/TEXT the restarted sink applied every record"
