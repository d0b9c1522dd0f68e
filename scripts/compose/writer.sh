#!/bin/sh
# writer.sh: the compose stack's source workload: a trickle of inserts, updates and deletes into the
# sample shop (scripts/demo/schema.sql) every WRITE_INTERVAL seconds (default 1), until stopped.
set -eu
INTERVAL=${WRITE_INTERVAL:-1}
until pg_isready -q; do sleep 1; done
i=0
while :; do
  i=$((i + 1))
  psql -X -q -v ON_ERROR_STOP=1 \
    -c "INSERT INTO orders (customer_id, total) VALUES (1 + $i % 2, round((random() * 100)::numeric, 2))" \
    -c "UPDATE orders SET status = 'shipped' WHERE id = (SELECT max(id) - 1 FROM orders)" >/dev/null
  if [ $((i % 5)) -eq 0 ]; then
    psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO customers (name, email) VALUES ('customer $i', 'c$i@example.org')" \
      -c "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)" >/dev/null
  fi
  sleep "$INTERVAL"
done
