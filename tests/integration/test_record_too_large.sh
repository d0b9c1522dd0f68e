#!/usr/bin/env bash
# test_record_too_large.sh: a row whose record exceeds the producer's (message.max.bytes) or the
# broker's (max.message.bytes) limit is refused for good. walcast must stop with an error naming the
# topic, the key, the size and the settings to raise -- not abort, rewind and send it again forever
# while the slot pins WAL -- and the slot stays before the row, so nothing is lost once it is fixed.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE big (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.big --topic connect-offsets
cfg=$(connector_file big "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")

# expect_refusal WHAT PATTERN: walcast (started by the caller) exits 1 within 60 s with PATTERN
expect_refusal() {
  wait_exit "$WALCAST_PID" 60 "$1: walcast, after the refused record," || exit 1
  [ "$EXIT_RC" -eq 1 ] || { echo "$1: expected exit 1, got $EXIT_RC" >&2; exit 1; }
  grep -q "$2" "$IT_DIR/walcast.log" || { echo "$1: the error does not say what to do" >&2; grep "fatal" "$IT_DIR/walcast.log" >&2; exit 1; }
  [ "$(grep -c 'replication interrupted' "$IT_DIR/walcast.log")" -eq 0 ] || { echo "$1: walcast rewound and retried" >&2; exit 1; }
  grep -o 'level=fatal.*' "$IT_DIR/walcast.log" | tail -1 | cut -c1-400
}

# 1. over the producer's limit (librdkafka's message.max.bytes, 1,000,000 by default)
walcast_start "$cfg"
psql_q -c "INSERT INTO big VALUES (1, 'small')"
psql_q -c "INSERT INTO big SELECT 2, string_agg(md5(random()::text), '') FROM generate_series(1, 125000)"
expect_refusal "producer limit" 'connector failed.*cannot produce to topic srv.public.big: .*key {.*id.*:2}, [0-9]* bytes).*producer.message.max.bytes'

# 2. over the broker's limit (the topic's max.message.bytes, 1 MB by default): the producer allows 20 MB
echo "producer.message.max.bytes=20000000" >>"$IT_DIR/worker.properties"
: >"$IT_DIR/walcast.log"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
expect_refusal "broker limit" 'connector failed.*srv.public.big.*key {.*id.*:2}.*max.message.bytes'

# nothing after the last good record was confirmed: row 1 published once, row 2 still in the slot
kcat -C -b "$BS" -t srv.public.big -o beginning -e -q -f '%k\n' >"$IT_DIR/keys.txt"
[ "$(cat "$IT_DIR/keys.txt")" = '{"id":1}' ] || { echo "topic holds: $(cat "$IT_DIR/keys.txt")" >&2; exit 1; }
# the refused row (the last insert) is still in the slot (row 1 may or may not be confirmed yet)
[ "$(psql -X -At -c "SELECT count(*) FROM pg_logical_slot_peek_binary_changes('debezium', NULL, NULL, 'proto_version', '1', 'publication_names', 'dbz_publication') WHERE substr(data, 1, 1) = 'I'")" -ge 1 ] || {
  echo "the slot was confirmed past the refused row" >&2; exit 1; }
echo "too-large records stop walcast with a clear error; the row stays in the slot"

# 3. the same refusal while the initial snapshot reads the row: a snapshot row's status reaches the
# connector as it is (the snapshot's hooks once turned every failure into "retry", so a row that can
# never be produced was read again for ever)
psql_q -c "CREATE TABLE bigsnap (id int PRIMARY KEY, v text)"
psql_q -c "INSERT INTO bigsnap SELECT 7, string_agg(md5(random()::text), '') FROM generate_series(1, 125000)"
snapcfg=$(connector_file bigsnap "name=snapit" "slot.name=snapit" "snapshot.mode=initial" "table.include.list=public.bigsnap" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
sed -i '/^producer.message.max.bytes=/d' "$IT_DIR/worker.properties"
: >"$IT_DIR/walcast.log"
"$WALCAST" run --worker "$IT_DIR/worker.properties" "$snapcfg" >/dev/null 2>>"$IT_DIR/walcast.log" &
WALCAST_PID=$!
IT_PIDS+=($WALCAST_PID)
expect_refusal "snapshot row" 'connector failed.*cannot produce to topic srv.public.bigsnap: .*key {.*id.*:7}, [0-9]* bytes).*producer.message.max.bytes'
echo "a too-large snapshot row stops walcast too"
