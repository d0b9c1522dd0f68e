#!/usr/bin/env bash
# test_sink_fetch_wake.sh: the sink keeps librdkafka's fetcher going when the consumer queue runs low.
# librdkafka 2.0.2 stops fetching while the consumer queue is at queued.max.messages.kbytes and looks again only
# when its broker thread wakes (a response, an op, or a second later), so a sink that drains the queue fast sat
# idle up to a second per queue-full (sinks/apply.c fetch_wake). With a small queue (256 kB), small fetches
# (64 kB) and 6,000 records of ~6 kB that barely compress (~35 MB: over a hundred queue-fulls), the old sink
# needed well over a minute; woken, it applies them in seconds.
# 1. the target holds all rows within 30 s of the sink's start, equal to the source;
# 2. the sink logged that it woke the fetcher (fetch_wakes > 0 in its stage times).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE fw (id int PRIMARY KEY, v text)" -c "CREATE DATABASE t_fw"
kafka_start --topic srv.public.fw
src=$(connector_file src "table.include.list=public\\.fw")
walcast_start "$src"
# ~2.9 kB of hex per row (md5s of distinct seeds): zstd leaves about half of it
psql_q -c "INSERT INTO fw SELECT g, (SELECT string_agg(md5(g::text || ':' || i), '') FROM generate_series(1, 90) i)
  FROM generate_series(1, 6000) g"
wait_published
walcast_stop

printf '%s\n' "name=fw_pg" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" "topics=srv.public.fw" \
  "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/t_fw" "connection.username=postgres" "insert.mode=upsert" \
  "primary.key.mode=record_key" "schema.evolution=basic" "collection.name.format=\${source.table}" "batch.size=50" \
  "consumer.override.queued.max.messages.kbytes=256" "consumer.override.fetch.message.max.bytes=65536" \
  >"$IT_DIR/fw_pg.properties"
walcast_spawn "$IT_DIR/fw_pg.properties"
t0=$(date +%s)
rows() { psql -X -At -d t_fw -c "SELECT count(*) FROM fw" 2>/dev/null || echo 0; }
for _ in $(seq 1 300); do [ "$(rows)" = 6000 ] && break; sleep 0.1; done
took=$(( $(date +%s) - t0 ))
[ "$(rows)" = 6000 ] || { echo "the sink applied $(rows) of 6000 rows in 30 s: is it waiting for fetches?" >&2; exit 1; }
echo "6000 rows applied in about $took s"
walcast_stop
[ "$(psql -X -At -d t_fw -c "SELECT sum(id), md5(string_agg(v, '' ORDER BY id)) FROM fw")" = \
  "$(psql -X -At -c "SELECT sum(id), md5(string_agg(v, '' ORDER BY id)) FROM fw")" ] \
  || { echo "the target differs from the source" >&2; exit 1; }
wakes=$(grep -o 'msg="sink stage times" connector=fw_pg .*' "$IT_DIR/walcast.log" | grep -o 'fetch_wakes=[0-9]*' | cut -d= -f2)
[ "${wakes:-0}" -gt 0 ] || { echo "the sink never woke the fetcher (fetch_wakes=${wakes:-none})" >&2; grep "stage times" "$IT_DIR/walcast.log" >&2; exit 1; }
echo "the target equals the source; the fetcher was woken $wakes times"
