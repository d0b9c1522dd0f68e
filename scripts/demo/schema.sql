-- schema.sql: the demo's sample shop.
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email varchar(100), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), total numeric(10,2) NOT NULL,
                     status text NOT NULL DEFAULT 'new', placed_at timestamp NOT NULL DEFAULT now());
INSERT INTO customers (name, email) VALUES ('Ada', 'ada@example.org'), ('Grace', 'grace@example.org');
