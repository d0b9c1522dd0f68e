-- numeric.sql: rows of NUMERIC without a declared scale (n; Debezium's VariableScaleDecimal) and with one
-- (d, z; Connect Decimal), and a numeric[] (a), at the values where scale and sign are easy to get wrong:
-- trailing zeros, zero with a scale, negative fractions, large exponents, NaN and the infinities. :base
-- offsets the ids (0: the snapshot's rows, 100: the same rows inserted while streaming).
INSERT INTO numx (id, n, d, z, a) VALUES
  (:base + 1, 1.50, 1.50, 2, '{1.50,0.000}'),
  (:base + 2, 100, 100, 100, '{100}'),
  (:base + 3, 0, 0, 0, '{0}'),
  (:base + 4, 0.000, 0.000, 0, '{-0.0010,1e20}'),
  (:base + 5, -0.0010, -0.0010, -1, '{}'),
  (:base + 6, 1e20, 1e20, 100000000000000000000, '{NaN}'),
  (:base + 7, 'NaN', 'NaN', 'NaN', '{1.50,NULL}'),
  (:base + 8, 'Infinity', 12345678901234567890123456.1234, 999999999999999999999, '{Infinity}'),
  (:base + 9, '-Infinity', -0.0001, -999999999999999999999, NULL),
  (:base + 10, 1e-30, 0.00005, 0, '{1e-30}'),
  (:base + 11, -123456789.000100, -123456789.0001, -123456789, '{-123456789.000100}'),
  (:base + 12, NULL, NULL, NULL, NULL);
INSERT INTO numk (k, v) VALUES (:base + 1.50, 1), (:base + 0.000, 2), (:base - 0.0010, 3), (:base + 1e20, 4);
