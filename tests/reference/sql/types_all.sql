-- types_all.sql: one table with a column of every built-in base type of pg_type (pg_catalog, usable as a
-- column) and one of its array type, generated from the catalog so that a type PostgreSQL adds is
-- compared too. Each column with a sample has it as its literal default. Rows (types_rows.sql): every
-- column with its sample (where one is known), every column with its default, every column null.
DO $$
DECLARE r record; cols text := '';
BEGIN
  FOR r IN SELECT t.typname, t.oid, t.typarray FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
           WHERE n.nspname = 'pg_catalog' AND t.typtype = 'b' AND t.typisdefined AND t.typelem = 0
             AND t.typname NOT IN ('unknown', 'cstring', 'aclitem', 'refcursor', 'gtsvector', 'int2vector', 'oidvector')
             AND t.typname NOT LIKE 'reg%' AND t.typname NOT LIKE 'pg\_%' ESCAPE '\'
           ORDER BY t.oid LOOP
    cols := cols || format(', %I %s', 'c_' || r.typname, format_type(r.oid, NULL));
    IF r.typarray <> 0 THEN
      cols := cols || format(', %I %s', 'a_' || r.typname, format_type(r.typarray, NULL));
    END IF;
  END LOOP;
  EXECUTE 'CREATE TABLE types_every (id int PRIMARY KEY' || cols || ')';
END $$;

-- types_every_sample(typname): a sample value's text for a base type, NULL when there is none.
CREATE FUNCTION types_every_sample(typ name) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  samples jsonb := '{"bool":"t","bytea":"\\x00ff","char":"c","name":"nm","int8":"-9223372036854775808",
    "int2":"-32768","int4":"2147483647","text":"t\u00e9xt","oid":"4294967295","xid":"7","cid":"3",
    "json":"{\"a\": [1, 2.5]}","xml":"<a b=\"c\">d</a>","point":"(1.5,-2)","lseg":"[(1,2),(3,4)]",
    "path":"[(1,2),(3,4)]","box":"(3,4),(1,2)","polygon":"((0,0),(1,1),(1,0))","line":"{1,2,3}",
    "float4":"3.4028235e38","float8":"-1.7976931348623157e308","circle":"<(1,2),3>","money":"-92233720368547758.08",
    "macaddr":"08:00:2b:01:02:03","inet":"::ffff:1.2.3.4/128","cidr":"10.0.0.0/8","macaddr8":"08:00:2b:01:02:03:04:05",
    "bpchar":"ab ","varchar":"vc","date":"2024-02-29","time":"23:59:59.999999","timestamp":"2024-02-29 12:34:56.789",
    "timestamptz":"2024-02-29 12:34:56.789+05:30","interval":"-1 year 2 mons 3 days 04:05:06.7","timetz":"12:34:56.5-03",
    "bit":"1","varbit":"10110","numeric":"-123.4500","uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","tsvector":"a:1 b:2",
    "tsquery":"a & !b","jsonb":"{\"z\": 1, \"a\": null}","jsonpath":"$.a[*] ? (@ > 1)","txid_snapshot":"10:20:10,14",
    "int4range":"[1,5)","numrange":"(1.5,2.5]","tsrange":"[2024-01-01 00:00,2024-02-01 00:00)",
    "tstzrange":"[2024-01-01 00:00+00,infinity)","daterange":"[2024-01-01,2024-02-01)","int8range":"empty",
    "int4multirange":"{[1,2),[5,7)}","nummultirange":"{}","datemultirange":"{[2024-01-01,2024-01-05)}",
    "int8multirange":"{[1,3)}","tsmultirange":"{}","tstzmultirange":"{}","xid8":"9","tid":"(1,2)"}';
BEGIN
  RETURN samples ->> typ;
END $$;

-- every column of types_every whose sample casts gets it as its default ('<sample>'::type, as the
-- catalog holds literal defaults): Debezium's default converter per type, and the JSON converter writing a
-- null field as its schema default (the row of nulls)
CREATE FUNCTION types_every_defaults() RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record; v text;
BEGIN
  FOR r IN SELECT a.attname, a.atttypid, t.typname, et.typname AS elemname
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type et ON et.oid = t.typelem
           WHERE a.attrelid = 'types_every'::regclass AND a.attnum > 1 AND NOT a.attisdropped ORDER BY a.attnum LOOP
    v := types_every_sample(coalesce(r.elemname, r.typname));
    CONTINUE WHEN v IS NULL;
    IF r.elemname IS NOT NULL THEN
      v := format('{%s}', to_json(v)::text);
    END IF;
    BEGIN
      EXECUTE format('ALTER TABLE types_every ALTER COLUMN %I SET DEFAULT %L::%s', r.attname, v,
                     format_type(r.atttypid, NULL));
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'types_every: no default for % (%)', r.attname, SQLERRM;
    END;
  END LOOP;
END $$;

-- types_every_row(id): a row with the samples (a sample that does not cast to its type is left null).
CREATE FUNCTION types_every_row(rid int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE

  r record; cols text := 'id'; vals text := rid::text; v text;
BEGIN
  FOR r IN SELECT a.attname, a.atttypid, t.typname, et.typname AS elemname
           FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_type et ON et.oid = t.typelem
           WHERE a.attrelid = 'types_every'::regclass AND a.attnum > 1 AND NOT a.attisdropped ORDER BY a.attnum LOOP
    v := types_every_sample(coalesce(r.elemname, r.typname));
    CONTINUE WHEN v IS NULL;
    IF r.elemname IS NOT NULL THEN
      v := format('{%s,NULL}', to_json(v)::text);   -- the sample and a null element
    END IF;
    BEGIN
      EXECUTE format('SELECT %L::%s', v, format_type(r.atttypid, NULL));
      cols := cols || ', ' || quote_ident(r.attname);
      vals := vals || ', ' || format('%L::%s', v, format_type(r.atttypid, NULL));
    EXCEPTION WHEN OTHERS THEN
      RAISE NOTICE 'types_every: no sample for % (%)', r.attname, SQLERRM;
    END;
  END LOOP;
  EXECUTE format('INSERT INTO types_every (%s) VALUES (%s)', cols, vals);
END $$;

SELECT types_every_defaults();
