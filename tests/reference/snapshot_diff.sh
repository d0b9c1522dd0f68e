#!/usr/bin/env bash
# snapshot_diff.sh: Debezium 3.6.1 and walcast each take the initial snapshot (snapshot.mode=initial)
# of the same tables -- every type of tests/integration/sql/schema.sql with the rows the workload
# leaves, hostile identifiers, keyless tables -- through their own slots into their own Kafka, and
# every topic is compared record by record (ref.py compare). The tables are CLUSTERed on their primary
# keys first: Debezium reads a table in physical order, walcast in key order. Normalised (REF_SNAPSHOT=1)
# besides what ref.py always normalises: a snapshot row's source ts_*, txId, lsn and sequence, which
# name each side's own slot, snapshot transaction and read time.
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -f "$ROOT/tests/integration/sql/schema.sql"
psql_q -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
psql_q -f "$ROOT/tests/integration/sql/workload.sql" >/dev/null
# bulk: many rows over several walcast chunks (walcast.snapshot.chunk.rows=300), a composite key, no key
psql_q <<'SQL'
CREATE TABLE snapbulk (id int PRIMARY KEY, t text, n numeric(10,2), ts timestamptz, d date, b bytea);
INSERT INTO snapbulk SELECT g, 'row ' || g, g / 7.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
  date '2000-01-01' + g, decode(lpad(to_hex(g), 8, '0'), 'hex') FROM generate_series(1, 2000) g;
CREATE TABLE snapcomp (a int, b text, v int, PRIMARY KEY (a, b));
INSERT INTO snapcomp SELECT g % 13, 'k' || g, g FROM generate_series(1, 700) g;
CREATE TABLE snapnokey (a int, b text);
INSERT INTO snapnokey SELECT g, 'x' || g FROM generate_series(1, 50) g;
SQL
psql -X -At -c "SELECT format('CLUSTER %s USING %I;', i.indrelid::regclass, c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE i.indisprimary AND n.nspname NOT LIKE 'pg\_%' AND n.nspname <> 'information_schema' AND NOT t.relisshared" \
  | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
ref_kafka_start KA KB
ref_pair s1 s1 "snapshot.mode=initial" 'table.exclude.list=public\\.sentinel' "walcast.snapshot.chunk.rows=300"
for bs in "$KA" "$KB"; do $PY "$REF/ref.py" topics "$bs" 3 s1.public.snapbulk s1.public.snapcomp s1.public.types_all; done
ref_connect_start "$KA" "$IT_DIR"/s1.dbz.properties
ref_walcast_start "$KB" connect-offsets "$IT_DIR"/s1.wc.properties
REF_SNAPSHOT=1 $PY "$REF/ref.py" compare "$KA" "$KB" 120 s1 | tee "$IT_DIR/compare.txt"
walcast_stop
echo "snapshot differential test took $(( $(date +%s) - t0 ))s"
