#!/usr/bin/env bash
# test_sink_bidir.sh: two PostgreSQL databases replicating into each other through one `walcast run` (a
# source connector and a newer_wins sink per direction), with concurrent writers on both sides over
# overlapping keys. Both must end equal, and nothing may echo: each source publishes exactly the writes
# made on its own database (the sinks' sessions carry replication origins walcast_<sink>, which sources
# skip), so the number of applied changes is finite. Local writes are versioned by their commit time
# (track_commit_timestamp=on), applied ones by the source's.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "ALTER SYSTEM SET track_commit_timestamp = on" >/dev/null
runuser -u walcast -- pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null 2>&1 || pg_ctl -D "$PGDIR/data" -w -m fast restart >/dev/null
for db in a b; do
  psql_q -c "CREATE DATABASE $db"
  psql_q -d $db -c "CREATE TABLE t (id int PRIMARY KEY, v text, n int)"
done
# topic prefixes ita/itb: names the suite deletes between tests (kafka_admin.py TEST_TOPICS)
kafka_start --topic ita.public.t --topic itb.public.t
for db in a b; do
  other=$([ $db = a ] && echo b || echo a)
  printf '%s\n' "name=it_src_$db" "connector.class=io.debezium.connector.postgresql.PostgresConnector" \
    "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" "database.dbname=$db" \
    "topic.prefix=it$db" "slot.name=slot_$db" "publication.name=pub_$db" "snapshot.mode=no_data" \
    >"$IT_DIR/src_$db.properties"
  # the sink into $db takes the other database's changes
  printf '%s\n' "name=it_to_$db" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" \
    "topics=it$other.public.t" "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/$db" "connection.username=postgres" \
    "insert.mode=upsert" "delete.enabled=true" "primary.key.mode=record_key" "schema.evolution=basic" \
    "collection.name.format=\${source.table}" "conflict.policy=newer_wins" "conflict.log.enabled=true" \
    >"$IT_DIR/to_$db.properties"
done
WALCAST_SOURCES=2 walcast_start "$IT_DIR/src_a.properties" "$IT_DIR/src_b.properties" "$IT_DIR/to_a.properties" \
  "$IT_DIR/to_b.properties"
N=${BIDIR_WRITES:-300}
writer() {  # db: N single-statement transactions over 25 shared keys, some deletes
  local db=$1 i
  for i in $(seq 1 "$N"); do
    k=$(( (i * 7 + ${#db}) % 25 ))
    if [ $((i % 13)) -eq 0 ]; then
      echo "DELETE FROM t WHERE id = $k;"
    else
      echo "INSERT INTO t VALUES ($k, '$db$i', $i) ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v, n = EXCLUDED.n;"
    fi
  done | psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null
}
writer a & wa=$!
writer b & wb=$!
wait $wa; wait $wb
# everything each side wrote is published, then both tables converge
wait_published slot_a 60
wait_published slot_b 60
same() {
  [ "$(psql -X -At -d a -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM t")" = \
    "$(psql -X -At -d b -c "SELECT string_agg(id || '=' || v, ',' ORDER BY id) FROM t")" ]
}
applied_all() {  # both sinks have stored the end of the other side's topic (its last record is a commit marker)
  local ea eb
  ea=$(kcat -Q -b "$BS" -t ita.public.t:0:-1 2>/dev/null | awk '{print $NF}')
  eb=$(kcat -Q -b "$BS" -t itb.public.t:0:-1 2>/dev/null | awk '{print $NF}')
  [ -n "$ea" ] && [ -n "$eb" ] || return 1
  [ "$(psql -X -At -d b -c "SELECT max(\"offset\") + 1 FROM walcast_sink_offsets WHERE topic = 'ita.public.t'")" = "$ea" ] &&
    [ "$(psql -X -At -d a -c "SELECT max(\"offset\") + 1 FROM walcast_sink_offsets WHERE topic = 'itb.public.t'")" = "$eb" ]
}
for _ in $(seq 1 600); do applied_all && same && break; sleep 0.1; done
same || { echo "a and b differ:"; psql -X -At -d a -c "TABLE t ORDER BY id"; echo ---; psql -X -At -d b -c "TABLE t ORDER BY id"; exit 1; } >&2
walcast_stop
# no echo: each topic holds exactly the writes made on its own database (deletes: a record and a tombstone)
count() { kcat -C -b "$BS" -t "$1" -e -q -X isolation.level=read_committed -f '%S\n' | grep -vc '^-1$' || true; }
ca=$(count ita.public.t); cb=$(count itb.public.t)
dels=$(( N / 13 ))
echo "ita.public.t: $ca records, itb.public.t: $cb records (writes per side: $N, deletes among them: $dels)"
[ "$ca" -le "$N" ] && [ "$cb" -le "$N" ] || { echo "more records than local writes: changes echoed" >&2; exit 1; }
conf=$(psql -X -At -d a -c "SELECT count(*) FROM walcast_conflicts")
echo "a and b equal: $(psql -X -At -d a -c "SELECT count(*) FROM t") rows; conflicts logged on a: $conf"
