#!/usr/bin/env bash
# demo.sh: the main job (`make demo`): the whole pipeline. A throwaway PostgreSQL with a sample schema and
# a trickle of writes, a standalone embedded Kafka, walcast snapshotting the sample data (op r) then
# streaming to it, kcat showing the change events, and walcast's apply workers (JDBC sink connector
# files) keeping a second PostgreSQL and a MariaDB equal to the source, with a line every few seconds
# saying how far each target is behind.
# Runs until Ctrl-C (or DEMO_SECONDS), then stops and removes everything it started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/lib/postgresql/15/bin:$PATH"
WORK=$(mktemp -d /tmp/walcast-demo.XXXXXX)
PIDS=()
PGD=""
PGT=""
MYD=""

cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping"
  # newest first: kcat, the writer, walcast (clean shutdown on SIGTERM), then Kafka
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    p=${PIDS[$i]}
    kill -TERM "$p" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  [ -n "$PGD" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGD"
  [ -n "$PGT" ] && bash "$ROOT/scripts/pg-stop.sh" "$PGT"
  [ -n "$MYD" ] && bash "$ROOT/scripts/mariadb-stop.sh" "$MYD" >/dev/null 2>&1
  rm -rf "$WORK"
  echo "demo: everything it started is stopped and removed"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

echo "demo: starting a throwaway PostgreSQL 15"
PGD=$(bash "$ROOT/scripts/pg-start.sh")
. "$PGD/env"
psql -X -q -v ON_ERROR_STOP=1 -f "$ROOT/scripts/demo/schema.sql"

echo "demo: starting the targets: a second PostgreSQL 15 and a MariaDB"
PGT=$(bash "$ROOT/scripts/pg-start.sh")
TPORT=$(sed -n 's/^export PGPORT=//p' "$PGT/env")
MYD=$(bash "$ROOT/scripts/mariadb-start.sh")
MYPORT=$(sed -n 's/^export MYSQL_TCP_PORT=//p' "$MYD/env")
mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -e "CREATE DATABASE demo"

echo "demo: starting the standalone embedded Kafka (build/walcast kafka)"
"$ROOT/build/walcast" kafka --partitions 1 --topic demo.public.customers --topic demo.public.orders \
  >"$WORK/kafka.out" 2>"$WORK/kafka.log" &
PIDS+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/kafka.out" ] && break; sleep 0.1; done
BS=$(sed -n 's/^bootstrap.servers=//p' "$WORK/kafka.out" | head -1)
echo "bootstrap.servers=$BS" | tee "$WORK/worker.properties"

cat >"$WORK/connector.json" <<JSON
{
  "name": "demo-connector",
  "config": {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "database.hostname": "127.0.0.1",
    "database.port": "$PGPORT",
    "database.user": "postgres",
    "database.dbname": "postgres",
    "topic.prefix": "demo",
    "table.include.list": "public.customers,public.orders",
    "snapshot.mode": "initial"
  }
}
JSON
# the apply workers: Debezium JDBC sink connector configurations, one per target
sink_common="connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
topics=demo.public.customers,demo.public.orders
insert.mode=upsert
delete.enabled=true
primary.key.mode=record_key
schema.evolution=basic
collection.name.format=\${source.table}"
{ echo "name=demo-postgres-sink"; echo "$sink_common"
  echo "connection.url=jdbc:postgresql://127.0.0.1:$TPORT/postgres"; echo "connection.username=postgres"; } >"$WORK/pg-sink.properties"
{ echo "name=demo-mariadb-sink"; echo "$sink_common"
  echo "connection.url=jdbc:mariadb://127.0.0.1:$MYPORT/demo"; echo "connection.username=root"; } >"$WORK/mariadb-sink.properties"

echo "demo: starting walcast run: the source connector (the Kafka Connect REST body in $WORK/connector.json) and two sinks"
"$ROOT/build/walcast" run --worker "$WORK/worker.properties" "$WORK/connector.json" "$WORK/pg-sink.properties" \
  "$WORK/mariadb-sink.properties" >/dev/null 2>"$WORK/walcast.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q "replication started" "$WORK/walcast.log" && break; sleep 0.1; done
grep "replication started" "$WORK/walcast.log" || { cat "$WORK/walcast.log"; exit 1; }
grep -E 'msg="snapshot (started|completed)"' "$WORK/walcast.log" || true

echo "demo: a trickle of writes (insert, update, delete) every second"
(
  i=0
  while true; do
    i=$((i + 1))
    psql -X -q -c "INSERT INTO orders (customer_id, total) VALUES (1 + $i % 2, round((random() * 100)::numeric, 2))" \
         -c "UPDATE orders SET status = 'shipped' WHERE id = (SELECT max(id) - 1 FROM orders)" >/dev/null 2>&1 || true
    if [ $((i % 5)) -eq 0 ]; then
      psql -X -q -c "INSERT INTO customers (name, email) VALUES ('customer $i', 'c$i@example.org')" \
           -c "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)" >/dev/null 2>&1 || true
    fi
    sleep 1
  done
) &
PIDS+=($!)

echo "demo: how far each target is behind, every few seconds (walcast's sink progress lines)"
tail -n +1 -F "$WORK/walcast.log" 2>/dev/null | grep --line-buffered -E 'msg="sink (progress|failed|starting)"' &
PIDS+=($!)

echo "demo: change events (kcat, topic | key | value): first the snapshot of the sample data (op r), then the stream; Ctrl-C to stop"
for t in demo.public.customers demo.public.orders; do
  kcat -C -b "$BS" -t "$t" -o beginning -u -q -f '%t | %k | %s\n' 2>/dev/null &
  PIDS+=($!)
done
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else while true; do sleep 1; done; fi
echo "demo: orders in the source / the PostgreSQL target / the MariaDB target:" \
  "$(psql -X -At -c 'SELECT count(*) FROM orders')" \
  "$(psql -X -At -p "$TPORT" -c 'SELECT count(*) FROM orders' 2>/dev/null || echo '?')" \
  "$(mariadb --no-defaults --protocol=tcp -h 127.0.0.1 -P "$MYPORT" -u root -N -B -e 'SELECT count(*) FROM demo.orders' 2>/dev/null || echo '?')"
