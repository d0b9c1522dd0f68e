-- inventory.sql: the schema of Debezium's tutorial (inventory), without the PostGIS table.
CREATE SCHEMA inventory;
SET search_path TO inventory;
CREATE TABLE products (id SERIAL NOT NULL PRIMARY KEY, name VARCHAR(255) NOT NULL, description VARCHAR(512), weight FLOAT);
ALTER SEQUENCE products_id_seq RESTART WITH 101;
INSERT INTO products (name, description, weight) VALUES
  ('scooter', 'Small 2-wheel scooter', 3.14), ('car battery', '12V car battery', 8.1),
  ('12-pack drill bits', '12-pack of drill bits with sizes ranging from #40 to #3', 0.8), ('hammer', '12oz carpenter''s hammer', 0.75),
  ('hammer', '14oz carpenter''s hammer', 0.875), ('hammer', '16oz carpenter''s hammer', 1.0), ('rocks', 'box of assorted rocks', 5.3),
  ('jacket', 'water resistent black wind breaker', 0.1), ('spare tire', '24 inch spare tire', 22.2);
CREATE TABLE products_on_hand (product_id INTEGER NOT NULL PRIMARY KEY, quantity INTEGER NOT NULL, FOREIGN KEY (product_id) REFERENCES products(id));
INSERT INTO products_on_hand VALUES (101,3), (102,8), (103,18), (104,4), (105,5), (106,0), (107,44), (108,2), (109,5);
CREATE TABLE customers (id SERIAL NOT NULL PRIMARY KEY, first_name VARCHAR(255) NOT NULL, last_name VARCHAR(255) NOT NULL, email VARCHAR(255) NOT NULL UNIQUE);
ALTER SEQUENCE customers_id_seq RESTART WITH 1001;
INSERT INTO customers (first_name, last_name, email) VALUES ('Sally', 'Thomas', 'sally.thomas@acme.com'),
  ('George', 'Bailey', 'gbailey@foobar.com'), ('Edward', 'Walker', 'ed@walker.com'), ('Anne', 'Kretchmar', 'annek@noanswer.org');
CREATE TABLE orders (id SERIAL NOT NULL PRIMARY KEY, order_date DATE NOT NULL, purchaser INTEGER NOT NULL, quantity INTEGER NOT NULL,
  product_id INTEGER NOT NULL, FOREIGN KEY (purchaser) REFERENCES customers(id), FOREIGN KEY (product_id) REFERENCES products(id));
ALTER SEQUENCE orders_id_seq RESTART WITH 10001;
INSERT INTO orders (order_date, purchaser, quantity, product_id) VALUES ('2016-01-16', 1001, 1, 102), ('2016-01-17', 1002, 2, 105),
  ('2016-02-19', 1002, 2, 106), ('2016-02-21', 1003, 1, 107);
