#!/usr/bin/env bash
# test_corrupt_wire.sh: a corrupted pgoutput message on the wire (via corrupt_proxy.py) gives a clear
# error and a reconnect; walcast neither crashes nor guesses, and no row is lost.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE c (id int PRIMARY KEY)"
kafka_start --topic srv.public.c
proxy_start corrupt_proxy.py
cfg=$(connector_file corrupt "database.sslmode=disable" "key.converter.schemas.enable=false")
sed -i "s/^database.port=.*/database.port=$PROXY_PORT/" "$cfg"
walcast_start "$cfg"
psql_q -c "INSERT INTO c SELECT g FROM generate_series(1, 50) g"
wait_topic srv.public.c 50 30
grep -q "unknown pgoutput message type 0x5a" "$IT_DIR/walcast.log"
grep -q "replication interrupted; reconnecting" "$IT_DIR/walcast.log"
kill -0 "$WALCAST_PID"
[ "$(kcat -C -b "$BS" -t srv.public.c -e -q -f '%k\n' | sort -u | wc -l)" -eq 50 ]
walcast_stop
