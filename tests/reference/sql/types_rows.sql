-- types_rows.sql: the rows of types_schema.sql's tables, with ids offset by :base (0 before the
-- snapshot, 100 while streaming).
INSERT INTO num_edge VALUES
  (:base + 1, 1e-130, 100, 3000, 123456789012345678901234567890123456789012345678901234567890123456789, 0.000000000000000001),
  (:base + 2, 123456789012345678901234567890123456789012345678901234567890123456789.123, 600, -12000, -1, -0.5),
  (:base + 3, -1e-130, 37000, 99999000, 0, 1),
  (:base + 4, 0.1, -100, NULL, NULL, NULL);
INSERT INTO vec VALUES (:base + 1, '1 2 3', '23 25 1700'), (:base + 2, '', ''), (:base + 3, NULL, NULL);
INSERT INTO odd_arr VALUES (:base + 1, '{101,0011}', '{"(1,2)","(3.5,-4)"}', '{(1,2),(3,4);(5,6),(7,8)}',
                            '{"{1,2,3}"}', '{"<(1,2),3>"}'),
                           (:base + 2, NULL, NULL, NULL, NULL, NULL);
INSERT INTO unk VALUES (:base + 1, '((1,2),(3,4))', '<(1,2),3>', '{1,2,3}', '[(1,2),(3,4)]', '((1,2),(3,4),(5,6))',
                        '((1,2),(3,4),(5,6))', '16/B374D848', 'fat & rat', 'x', '10:20:10,14,15', '10:20:10,14,15'),
                       (:base + 2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO hs VALUES (:base + 1, 'a=>1, b=>2, c=>3, zz=>4, key10=>5, "Ab"=>6, "x y"=>NULL, é=>8, aa=>9, b1=>10');
INSERT INTO edge_time VALUES
  (:base + 1, '0044-03-15 BC', '{"0044-03-15 BC","2020-02-29",infinity}', '294276-12-31 23:59:59.999999',
   '294276-12-31 23:59:59.999', '294276-12-31 23:59:59.999999+00', '23:59:59.999999', '23:59:59.999999+14'),
  (:base + 2, '4713-11-24 BC', '{"4713-11-24 BC"}', '4713-11-24 00:00:00 BC', '4713-11-24 00:00:00 BC',
   '4713-11-24 00:00:00+00 BC', '00:00:00', '00:00:00-15:59'),
  (:base + 3, '5874897-12-31', NULL, '1999-12-31 23:59:59.5', '1999-12-31 23:59:59.5', '2038-01-19 03:14:08+00',
   '12:00:00', '12:00:00+05:30');
INSERT INTO defs (id, d_uuidgen, d_now, d_cdate, d_user) VALUES (:base + 1, NULL, NULL, NULL, NULL);
INSERT INTO defs SELECT (json_populate_record(NULL::defs, json_build_object('id', :base + 2, 'd_nn', 0, 'd_serial', 1))).*;
SELECT types_every_row(:base + 1);
INSERT INTO types_every (id) VALUES (:base + 2);   -- the defaults
INSERT INTO types_every SELECT (json_populate_record(NULL::types_every, json_build_object('id', :base + 3))).*;   -- nulls
INSERT INTO defs2 (id) VALUES (:base + 1);
