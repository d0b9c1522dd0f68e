-- changes.sql: schema changes mid-stream, after workload.sql: a table created while both agents
-- stream, ADD COLUMN (with a literal default), DROP COLUMN, a column added inside the transaction
-- that uses it, a type change, and one transaction with several tables (transaction metadata).
CREATE TABLE evolve (id int PRIMARY KEY, a text);
INSERT INTO evolve VALUES (1, 'one');
ALTER TABLE evolve ADD COLUMN b int DEFAULT 7;
INSERT INTO evolve VALUES (2, 'two', 2);
UPDATE evolve SET a = 'uno' WHERE id = 1;
ALTER TABLE evolve DROP COLUMN a;
INSERT INTO evolve VALUES (3, 3);
BEGIN;
ALTER TABLE evolve ADD COLUMN c numeric(6,2);
INSERT INTO evolve VALUES (4, 4, 4.25);
COMMIT;
ALTER TABLE evolve ALTER COLUMN b TYPE bigint;
INSERT INTO evolve VALUES (5, 5000000000, NULL);
DELETE FROM evolve WHERE id = 2;
BEGIN;
INSERT INTO evolve VALUES (6, 6, 6);
INSERT INTO ident_default VALUES (10, 'ten', 1, NULL);
INSERT INTO ident_default VALUES (11, 'eleven', 1, 'x');
DELETE FROM ident_default WHERE id = 10;
COMMIT;
INSERT INTO sentinel VALUES (2);
