-- items_kv.sql: the tables of test_sink_transforms.sh and test_sink_transforms_mongo.sh: many column types
-- in items, a composite key in kv. The changes they replicate: items_kv_workload.sql.
CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2), qty bigint, ok boolean, small smallint,
  created timestamp(6), tz timestamptz, d date, t time(6), data jsonb, u uuid, b bytea, f float8, r real, tags text[]);
CREATE TABLE kv (a int, b text, v text, PRIMARY KEY (a, b));
