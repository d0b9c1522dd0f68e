-- types_stream.sql: while both agents stream: the rows again (ids + 100) in one transaction with the
-- table without columns (Debezium's snapshot fails on one: created here), updates and deletes, then the sentinel.
CREATE TABLE nocols ();
BEGIN;
INSERT INTO nocols DEFAULT VALUES;
\set base 100
\ir types_rows.sql
COMMIT;
UPDATE num_edge SET n = n * 2, neg = 500 WHERE id = 101;
UPDATE hs SET h = h || 'new=>1'::hstore WHERE id = 101;
DELETE FROM vec WHERE id = 102;
INSERT INTO nocols DEFAULT VALUES;
INSERT INTO types_sentinel VALUES (2);
