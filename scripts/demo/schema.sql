-- schema.sql: the demo's sample shop: 50 customers, 200 orders (the snapshot), then the writer's trickle.
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email varchar(100), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL,
                     status text NOT NULL DEFAULT 'new', placed_at timestamp NOT NULL DEFAULT now());
INSERT INTO customers (name, email) SELECT 'customer ' || i, 'c' || i || '@example.org' FROM generate_series(1, 50) i;
INSERT INTO orders (customer_id, total, status)
  SELECT 1 + i % 50, round((i * 7.31 % 100)::numeric, 2), CASE WHEN i % 3 = 0 THEN 'shipped' ELSE 'new' END
  FROM generate_series(1, 200) i;
