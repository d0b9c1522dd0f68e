#!/usr/bin/env bash
# numeric_diff.sh: NUMERIC without a declared scale (VariableScaleDecimal) and with one (Connect Decimal),
# numeric[] and a numeric primary key (sql/numeric.sql: 1.50, 100, 0, 0.000, -0.0010, 1e20, NaN, the
# infinities, ...) through Debezium 3.6.1 and walcast, snapshot rows (r) and streamed inserts, updates (with
# REPLICA IDENTITY FULL: old and new values) and deletes, under each decimal.handling.mode, with the JSON
# converter (schemas on) and with Avro (Debezium through Apicurio's AvroConverter, a fork of Confluent's
# AvroData; walcast's own), compared record by record and schema by schema (ref.py compare).
#   n1 n2 n3  JSON with schemas; decimal.handling.mode precise (the default), double, string
#   a1 a2 a3  Avro; the same three modes
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q <<'SQL'
CREATE TABLE numx (id int PRIMARY KEY, n numeric, d numeric(30,4), z numeric(21,0), a numeric[]);
ALTER TABLE numx REPLICA IDENTITY FULL;
CREATE TABLE numk (k numeric PRIMARY KEY, v int);
CREATE TABLE num_sentinel (id int PRIMARY KEY);
CREATE PUBLICATION dbz_publication FOR ALL TABLES;
SQL
psql_q -v base=0 -f "$REF/sql/numeric.sql"
psql_q -c "INSERT INTO num_sentinel VALUES (1)"
# Debezium's snapshot reads a table in physical order, walcast's in key order (snapshot_diff.sh)
psql_q -c "CLUSTER numk USING numk_pkey" -c "CLUSTER numx USING numx_pkey"
ref_kafka_start KA KB
modes="precise double string"
i=1
for m in $modes; do ref_pair n$i n$i "snapshot.mode=initial" "decimal.handling.mode=$m"; i=$((i + 1)); done
ref_avro
i=1
for m in $modes; do ref_pair a$i a$i "snapshot.mode=initial" "decimal.handling.mode=$m"; i=$((i + 1)); done
names="n1 n2 n3 a1 a2 a3"
for bs in "$KA" "$KB"; do
  for p in $names; do $PY "$REF/ref.py" topics "$bs" 1 $p.public.numx $p.public.numk $p.public.num_sentinel; done
done
files() { local p; for p in $names; do echo "$IT_DIR/$p.$1.properties"; done; }
ref_connect_start "$KA" $(files dbz)
ref_walcast_start "$KB" connect-offsets $(files wc)
ref_slot_wait $(for p in $names; do echo dbz_$p wc_$p; done)
want() { local p; for p in $names; do echo "$p.public.num_sentinel:$1"; done; }
for bs in "$KA" "$KB"; do $PY "$REF/ref.py" wait "$bs" 120 $(want 1); done
psql_q -v base=100 -f "$REF/sql/numeric.sql"
psql_q <<'SQL'
UPDATE numx SET n = n * 2, d = d / 3, z = -z, a = a || '{2.50}'::numeric[] WHERE id IN (101, 104, 105, 106, 111);
UPDATE numx SET n = 0.000, d = 0.0100, z = 0, a = '{0.000}' WHERE id = 102;
UPDATE numx SET n = 'NaN', d = 'NaN', z = 'NaN' WHERE id = 103;
UPDATE numx SET n = 7, d = 7 WHERE id = 107;
DELETE FROM numx WHERE id IN (105, 110);
UPDATE numk SET v = v + 10 WHERE k = 101.50;
DELETE FROM numk WHERE k = 100.000;
INSERT INTO num_sentinel VALUES (2);
SQL
for bs in "$KA" "$KB"; do $PY "$REF/ref.py" wait "$bs" 120 $(want 2); done
fail=0
REF_SNAPSHOT=1 env -u REF_REGISTRY_A -u REF_REGISTRY_B $PY "$REF/ref.py" compare "$KA" "$KB" 30 n1 n2 n3 |
  tee "$IT_DIR/compare-json.txt" || fail=1
REF_SNAPSHOT=1 $PY "$REF/ref.py" compare "$KA" "$KB" 30 a1 a2 a3 | tee "$IT_DIR/compare-avro.txt" || fail=1
walcast_stop
[ "$fail" = 0 ] || exit 1
echo "numeric differential test took $(( $(date +%s) - t0 ))s"
