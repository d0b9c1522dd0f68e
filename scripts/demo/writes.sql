-- writes.sql: one step of the demo's writer (psql -v i=N): every step inserts an order and ships the one
-- before it; every 5th adds a customer, changes an e-mail address and deletes the oldest order.
INSERT INTO orders (customer_id, total) VALUES (1 + :i % 50, round((random() * 100)::numeric, 2));
UPDATE orders SET status = 'shipped' WHERE id = (SELECT max(id) - 1 FROM orders);
SELECT :i % 5 = 0 AS fifth \gset
\if :fifth
INSERT INTO customers (name, email) VALUES ('customer ' || :i, 'n' || :i || '@example.org');
UPDATE customers SET email = 'moved' || :i || '@example.org' WHERE id = 1 + :i % 50;
DELETE FROM orders WHERE id = (SELECT min(id) FROM orders);
\endif
