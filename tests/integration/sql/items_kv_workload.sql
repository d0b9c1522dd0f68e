-- items_kv_workload.sql: changes to items_kv.sql's tables: inserts, updates, NULLs, a key change, deletes,
-- on one-column and composite keys, then one bulk transaction. psql variables (psql -v NAME=VALUE):
--   f2                  row 2's float8 (-0.0 where the target keeps the sign; test_sink_transforms_mongo.sh
--                       gives 2.5)
--   bulk_last           the bulk transaction inserts items 100..bulk_last,
--   upd_last            updates the price of 100..upd_last,
--   del_first, del_last deletes del_first..del_last
INSERT INTO items VALUES
 (1, 'plain', 12.50, 9000000000, true, 7, '2024-02-29 23:59:59.123456', '2024-01-01 10:00:00+02', '2024-02-29',
  '13:14:15.000001', '{"a": [1, 2, {"b": null}], "q": "it''s"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '\x00ff10', 3.141592653589793, 1.5, '{x,"y z",NULL}'),
 (2, 'quote '' "dq" back\slash ; -- drop', -0.01, -1, false, -32768, '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00',
  '0001-01-01', '00:00:00', '[]', '00000000-0000-0000-0000-000000000000', '', :f2, -3.25, '{}'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, E'unicode ünï 日本 \U0001F600 tab\tnewline\n', 99999999.99, 0, true, 0, '2038-01-19 03:14:08', '2100-06-01 12:00:00+00',
  '9999-12-31', '23:59:59.999999', '"str"', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '\xdeadbeef', 1e300, 3.4e38, '{"a,b","{c}"}');
\ir items_kv_changes.sql
BEGIN;
INSERT INTO items (id, name) SELECT g, 'bulk ' || g FROM generate_series(100, :bulk_last) g;
UPDATE items SET price = id / 7.0 WHERE id BETWEEN 100 AND :upd_last;
DELETE FROM items WHERE id BETWEEN :del_first AND :del_last;
INSERT INTO kv SELECT g, 'k' || g, 'v' FROM generate_series(10, 60) g;
DELETE FROM kv WHERE a BETWEEN 20 AND 29;
UPDATE kv SET b = b || '+' WHERE a BETWEEN 30 AND 39;
COMMIT;
