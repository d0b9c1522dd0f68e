-- workload.sql: one transaction per step so ordering and transaction ids are stable.
INSERT INTO types_all (c_bool, c_bit1, c_bit8, c_varbit, c_int2, c_int4, c_int8, c_oid, c_float4, c_float8,
  c_numeric, c_numeric_var, c_money, c_char, c_varchar, c_text, c_name, c_citext, c_inet, c_cidr, c_macaddr,
  c_date, c_time, c_time3, c_timetz, c_ts, c_ts3, c_tstz, c_tstz0, c_interval, c_bytea, c_json, c_jsonb, c_xml,
  c_uuid, c_enum, c_point, c_hstore, c_ltree, c_tsvector, c_int4range, c_tsrange, c_int_arr, c_text_arr, c_domain)
VALUES (true, B'1', B'10110001', B'101', -32768, 2147483647, -9223372036854775808, 4000000000, 3.14, -2.718281828459045,
  -1234567.891, 1.500, 1234.56, 'ab', 'varchar "q"', E'line1\nline2\ttab', 'nm', 'CiText', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
  '2020-02-29', '13:45:56.123456', '13:45:56.789', '10:11:12.5+02', '2021-03-04 05:06:07.123456', '1969-12-31 23:59:59.999',
  '2020-04-01 13:51:02.5+02', '2020-04-01 13:51:02+00', '1 year 2 mons 3 days 04:05:06.789', '\x00ff10', '{"a": [1, 2]}', '{"b": {"c": null}, "a": 1}', '<r><x>1</x></r>',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy', '(1.5,-2.25)', '"k1"=>"v1", "k 2"=>NULL', 'Top.Science.Astronomy', 'a fat cat',
  '[1,10)', '["2020-01-01 00:00:00","2020-01-02 00:00:00")', '{1,NULL,3}', '{"a b",NULL,"c\"d",e}', 7);
INSERT INTO types_all (c_numeric_var, c_float8, c_float4, c_date, c_ts, c_interval) VALUES (100, 1e20, 1e-5, '0044-03-15 BC', '1900-01-01 00:00:00', '-1 days +02:03:00');
INSERT INTO types_all (c_numeric_var, c_numeric, c_money, c_float8, c_tstz, c_timetz, c_text) VALUES (-0.000123, 0, -5.25, 'NaN', 'infinity', '23:30:00-01', '');
UPDATE types_all SET c_text = 'updated', c_default_text = NULL WHERE id = 1;

INSERT INTO ident_default VALUES (1, 'one', 10, 'n1'), (2, 'two', 20, NULL);
UPDATE ident_default SET note = 'changed' WHERE id = 1;
UPDATE ident_default SET id = 3 WHERE id = 2;
DELETE FROM ident_default WHERE id = 1;

INSERT INTO ident_full VALUES (1, 'one', 'n1');
UPDATE ident_full SET note = 'n2' WHERE id = 1;
UPDATE ident_full SET id = 5 WHERE id = 1;
DELETE FROM ident_full WHERE id = 5;

INSERT INTO ident_index VALUES (1, 'A', 'x');
UPDATE ident_index SET note = 'y' WHERE code = 'A';
UPDATE ident_index SET code = 'B' WHERE code = 'A';
DELETE FROM ident_index WHERE code = 'B';

INSERT INTO ident_nothing VALUES (1, 'no identity');

INSERT INTO toasty SELECT 1, string_agg(md5(i::text), '') , 1, decode(string_agg(md5(i::text), ''), 'hex') FROM generate_series(1, 100) i;
UPDATE toasty SET other = 2 WHERE id = 1;
INSERT INTO toasty_full SELECT 1, string_agg(md5(i::text), ''), 1 FROM generate_series(1, 100) i;
UPDATE toasty_full SET other = 2 WHERE id = 1;

INSERT INTO "Odd Schema"."We""ird; DROP TABLE x; --" VALUES (1, 'spaced', 'ÄÖÜ ✓ 日本', 'a;b', 2);
UPDATE "Odd Schema"."We""ird; DROP TABLE x; --" SET "ünïcödé" = 'ß' WHERE "select" = 1;

BEGIN;
SELECT pg_logical_emit_message(true, 'audit', 'transactional message');
INSERT INTO truncme VALUES (1);
COMMIT;
SELECT pg_logical_emit_message(false, 'audit', E'\\x00010203'::bytea);
TRUNCATE truncme;

INSERT INTO masked VALUES (1, 'topsecret', '4111-1111-1111-1111', 'abcdefghijklmnop', 'hashme', 'invisible');
INSERT INTO keyed VALUES (1, 2, 'custom key');
INSERT INTO sentinel VALUES (1);
