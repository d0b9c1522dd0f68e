-- types_schema.sql: tables of types_diff.sh (issue 18 and the type matrix): numeric edges (negative
-- scale, > 63 characters of text), vectors, arrays Debezium leaves out, types Debezium does not know,
-- column comments, hstore key order, extreme dates and timestamps, and
-- column defaults. Rows inserted here are read by the snapshot; types_stream.sql inserts the same rows
-- again while both agents stream.
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE num_edge (id int PRIMARY KEY, n numeric, neg numeric(3,-2), neg2 numeric(5,-3),
                       big numeric(80,0), small numeric(20,18));
COMMENT ON COLUMN num_edge.id IS 'the key';
COMMENT ON COLUMN num_edge.n IS 'free numeric';
COMMENT ON TABLE num_edge IS 'numbers at the edges';

CREATE TABLE vec (id int PRIMARY KEY, iv int2vector, ov oidvector);
CREATE TABLE odd_arr (id int PRIMARY KEY, vb varbit[], pt point[], bx box[], ln line[], ci circle[]);
CREATE TABLE unk (id int PRIMARY KEY, bx box, ci circle, ln line, ls lseg, pa path, pg polygon,
                  lsn pg_lsn, tq tsquery, ch "char", txs txid_snapshot, ps pg_snapshot);
CREATE TABLE hs (id int PRIMARY KEY, h hstore);
CREATE TABLE edge_time (id int PRIMARY KEY, d date, da date[], ts timestamp, ts3 timestamp(3),
                        tstz timestamptz, t time, ttz timetz);
CREATE TABLE types_sentinel (id int PRIMARY KEY);

-- column defaults: literals, casts, expressions, functions, infinities, and types Debezium's default
-- converter has no mapper for (rows: one with the defaults, one with every nullable column null, which
-- the JSON converter writes as the schema default)
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer;
CREATE TABLE defs (
  id int PRIMARY KEY,
  d_int int DEFAULT 42, d_expr int DEFAULT (1 + 2), d_neg int DEFAULT -5,
  d_i8 bigint DEFAULT '9223372036854775807'::bigint, d_i2 smallint DEFAULT 7, d_f4 real DEFAULT 1.5,
  d_f8 float8 DEFAULT 2.25, d_num numeric DEFAULT 1.50, d_num52 numeric(5,2) DEFAULT 1.5,
  d_money money DEFAULT 12.34, d_bool boolean DEFAULT true, d_text text DEFAULT 'abc',
  d_vc varchar(10) DEFAULT 'x', d_bpchar char(3) DEFAULT 'ab', d_user text DEFAULT current_user,
  d_now timestamptz DEFAULT now(), d_ts timestamp DEFAULT '2020-01-02 03:04:05',
  d_ts_ninf timestamp DEFAULT '-infinity', d_ts_inf timestamp DEFAULT 'infinity', d_ts3_inf timestamp(3) DEFAULT 'infinity',
  d_bitf bit(3) DEFAULT (B'101' | B'010'), d_ivf interval DEFAULT make_interval(days => 1), d_tsf timestamp DEFAULT now(),
  d_tstz_inf timestamptz DEFAULT 'infinity',
  d_date date DEFAULT '2020-02-29', d_date_inf date DEFAULT 'infinity', d_date_ninf date DEFAULT '-infinity',
  d_cdate date DEFAULT current_date, d_time time DEFAULT '12:34:56', d_timetz timetz DEFAULT '12:34:56+02',
  d_iv interval DEFAULT '1 day', d_bytea bytea DEFAULT '\x0102', d_json json DEFAULT '{"a":1}',
  d_jsonb jsonb DEFAULT '[]', d_xml xml DEFAULT '<a/>', d_uuid uuid DEFAULT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  d_uuidgen uuid DEFAULT gen_random_uuid(), d_enum mood DEFAULT 'ok', d_inet inet DEFAULT '10.0.0.1',
  d_cidr cidr DEFAULT '10.0.0.0/8', d_mac macaddr DEFAULT '08:00:2b:01:02:03', d_arr int[] DEFAULT '{1,2}',
  d_tarr text[] DEFAULT ARRAY['a'], d_hs hstore DEFAULT 'a=>1', d_lt ltree DEFAULT 'a.b', d_ci citext DEFAULT 'Ci',
  d_range int4range DEFAULT '[1,5)', d_dom posint DEFAULT 3, d_pt point DEFAULT '(1,2)',
  d_bit bit(3) DEFAULT B'101', d_bit1 bit(1) DEFAULT B'1', d_vb varbit DEFAULT B'11', d_oid oid DEFAULT 5,
  d_name name DEFAULT 'nm', d_char "char" DEFAULT 'c', d_serial serial, d_nn int NOT NULL DEFAULT 0,
  d_nulldef text DEFAULT NULL, d_f8e float8 DEFAULT 1e300, d_numneg numeric(4,1) DEFAULT -0.5,
  d_ts3 timestamp(3) DEFAULT '2020-01-02 03:04:05.123456', d_tstz timestamptz DEFAULT '2020-01-02 03:04:05+02'
);
