#!/usr/bin/env bash
# capture-fixtures.sh: regenerates tests/fixtures/pgoutput_*.hex from a real PostgreSQL 15 with
# pg_logical_slot_peek_binary_changes (proto_version 1), one pgoutput message per line.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
d=$(bash "$ROOT/scripts/pg-start.sh")
trap 'bash "$ROOT/scripts/pg-stop.sh" "$d"' EXIT
. "$d/env"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE fx (id int PRIMARY KEY, name text, n numeric(6,2), big text);
ALTER TABLE fx ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE fxfull (id int PRIMARY KEY, v text);
ALTER TABLE fxfull REPLICA IDENTITY FULL;
CREATE PUBLICATION fxpub FOR ALL TABLES;
SELECT pg_create_logical_replication_slot('fx', 'pgoutput');
INSERT INTO fx VALUES (1, 'one', 1.50, NULL), (2, NULL, -3.25, repeat('x', 3000));
UPDATE fx SET name = 'uno' WHERE id = 1;
UPDATE fx SET n = 9 WHERE id = 2;
UPDATE fx SET id = 3 WHERE id = 1;
DELETE FROM fx WHERE id = 3;
INSERT INTO fxfull VALUES (1, 'a');
UPDATE fxfull SET v = 'b';
DELETE FROM fxfull;
TRUNCATE fx, fxfull;
SELECT pg_logical_emit_message(true, 'pfx', 'hello');
SELECT pg_logical_emit_message(false, 'pfx', 'nontx');
SQL
psql -X -At -c "SELECT encode(data, 'hex') FROM pg_logical_slot_peek_binary_changes('fx', NULL, NULL, 'proto_version', '1', 'publication_names', 'fxpub', 'messages', 'true')" \
  >"$ROOT/tests/fixtures/pgoutput_v1.hex"
wc -l "$ROOT/tests/fixtures/pgoutput_v1.hex"
