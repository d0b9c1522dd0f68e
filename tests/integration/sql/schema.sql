-- schema.sql: tables for the event golden test: every supported type, every replica identity,
-- TOAST, key changes, hostile identifiers. Fixed literals only, so output is deterministic.
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);

CREATE TABLE types_all (
  id serial PRIMARY KEY,
  c_bool boolean, c_bit1 bit(1), c_bit8 bit(8), c_varbit varbit(16),
  c_int2 smallint, c_int4 integer, c_int8 bigint, c_oid oid,
  c_float4 real, c_float8 double precision,
  c_numeric numeric(10,3), c_numeric_var numeric, c_money money,
  c_char char(5), c_varchar varchar(20), c_text text, c_name name, c_citext citext,
  c_inet inet, c_cidr cidr, c_macaddr macaddr,
  c_date date, c_time time, c_time3 time(3), c_timetz timetz,
  c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_tstz0 timestamptz(0), c_interval interval,
  c_bytea bytea, c_json json, c_jsonb jsonb, c_xml xml, c_uuid uuid,
  c_enum mood, c_point point, c_hstore hstore, c_ltree ltree, c_tsvector tsvector,
  c_int4range int4range, c_tsrange tsrange,
  c_int_arr integer[], c_text_arr text[], c_domain posint,
  c_default_text text DEFAULT 'it''s', c_default_int int NOT NULL DEFAULT 42,
  c_default_num numeric(5,2) DEFAULT 1.5, c_default_bool boolean DEFAULT true
);
COMMENT ON COLUMN types_all.c_text IS 'a "quoted" comment';

CREATE TABLE ident_default (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, note text);
CREATE TABLE ident_full (id int PRIMARY KEY, name text NOT NULL, note text);
ALTER TABLE ident_full REPLICA IDENTITY FULL;
CREATE TABLE ident_index (id int NOT NULL, code text NOT NULL, note text);
CREATE UNIQUE INDEX ident_index_code ON ident_index (code);
ALTER TABLE ident_index REPLICA IDENTITY USING INDEX ident_index_code;
CREATE TABLE ident_nothing (a int, b text);
ALTER TABLE ident_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE toasty (id int PRIMARY KEY, big text, other int, blob bytea);
ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasty ALTER COLUMN blob SET STORAGE EXTERNAL;
CREATE TABLE toasty_full (id int PRIMARY KEY, big text, other int);
ALTER TABLE toasty_full ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE toasty_full REPLICA IDENTITY FULL;
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."We""ird; DROP TABLE x; --" (
  "select" int PRIMARY KEY, "col with space" text, "ünïcödé" text, "semi;colon" text, "Quote""d" int
);
CREATE TABLE truncme (id int PRIMARY KEY);
CREATE TABLE masked (id int PRIMARY KEY, secret varchar(20), card text, long_text text, hashed varchar(10), skipme text);
CREATE TABLE keyed (a int, b int, v text);
CREATE TABLE sentinel (id int PRIMARY KEY);
