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
