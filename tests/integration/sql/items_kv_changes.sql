-- items_kv_changes.sql: after items' rows 1-4 are in: kv's rows, then updates (NULLs, a key change) and
-- deletes on a one-column and a composite key (items_kv_workload.sql, test_sink_mongo.sh).
INSERT INTO kv VALUES (1, 'a', 'one'), (1, 'b', 'two'), (2, 'a', 'three'), (3, 'ß', 'four');
UPDATE items SET name = 'updated', qty = qty + 1 WHERE id = 1;
UPDATE items SET data = '{"now": "set"}', tags = '{only}' WHERE id = 3;
UPDATE items SET id = 10 WHERE id = 2;
DELETE FROM items WHERE id = 4;
UPDATE kv SET b = 'c' WHERE a = 1 AND b = 'b';
UPDATE kv SET v = NULL WHERE a = 2;
DELETE FROM kv WHERE a = 3;
