#!/usr/bin/env bash
# test_offsets_topic.sh: walcast makes its offsets topic as Kafka Connect does, on a real broker:
#  1. a missing connect-offsets is created before anything reads or writes it: cleanup.policy=compact,
#     25 partitions (Connect's offset.storage.partitions default), the broker's replication factor (it was
#     auto-created by the producers' first metadata request: delete policy, one partition);
#  2. offsets written into the 25 partitions are read back after restarts: every row once, none lost;
#  3. they land on the partition Kafka's Java producer (so Kafka Connect) picks for the same key bytes
#     (murmur2): the reader and every writer agree with Connect;
#  4. offset.storage.partitions and offset.storage.replication.factor are honoured; a replication factor the
#     cluster cannot give stops walcast with an error naming the key;
#  5. an existing offsets topic with cleanup.policy=delete is used as it is, with a warning naming the topic,
#     its policy and the kafka-configs.sh command that fixes it;
#  6. a worker with the REST API (config and status topics) creates it at its start too, before its REST
#     offsets endpoints or any connector read it.
#  7. a config topic of more than one partition stops a REST worker with an error naming the key, as Kafka
#     Connect refuses it (the order of a connector's records holds only within one partition).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE o (id int PRIMARY KEY)"
kafka_start --topic srv.public.o   # (deletes a connect-offsets an earlier test left on a shared broker)
describe() { "$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" describe "$1"; }

# 1. created at the first start, compacted, 25 partitions
cfg=$(connector_file offs "key.converter.schemas.enable=false")
walcast_start "$cfg"
grep -q 'msg="topic created.*topic=connect-offsets key=offset.storage.topic partitions=25 replication.factor=-1' "$IT_DIR/walcast.log" ||
  { echo "no \"topic created\" line for connect-offsets" >&2; grep -i topic "$IT_DIR/walcast.log" >&2; exit 1; }
d=$(describe connect-offsets)
[ "$d" = "partitions=25 replicas=1 cleanup.policy=compact" ] || { echo "connect-offsets is $d" >&2; exit 1; }
! grep -q 'not compacted' "$IT_DIR/walcast.log" || { echo "a warning about a topic walcast created itself" >&2; exit 1; }
echo "connect-offsets created: $d"

# 2. restarts resume from the offsets in the 25-partition topic
psql_q -c "INSERT INTO o SELECT generate_series(1, 10)"
wait_published
for i in 1 2 3; do
  walcast_stop
  psql_q -c "INSERT INTO o SELECT generate_series($((i * 10 + 1)), $((i * 10 + 10)))"
  walcast_start "$cfg"
  grep 'replication started' "$IT_DIR/walcast.log" | tail -1 | grep -o 'startup_ms=.*' || true
done
[ "$(grep -c 'resuming from stored offsets' "$IT_DIR/walcast.log")" -ge 3 ] ||
  { echo "walcast did not resume from stored offsets at each restart" >&2; exit 1; }
psql_q -c "INSERT INTO o VALUES (41)"
wait_published
walcast_stop
expect_ids_once srv.public.o 41 "rows, each once, after three restarts on a 25-partition offsets topic"

# 3. the partition of walcast's offset records is the one Kafka's Java producer picks for their key
kcat -C -b "$BS" -t connect-offsets -X isolation.level=read_committed -e -q -f '%p|%k\n' | sort -u >"$IT_DIR/parts.txt"
[ "$(wc -l <"$IT_DIR/parts.txt")" = 1 ] || { echo "offset records on several partitions or keys:" >&2; cat "$IT_DIR/parts.txt" >&2; exit 1; }
IFS='|' read -r wpart key <"$IT_DIR/parts.txt"
[ "$key" = '["it",{"server":"srv"}]' ] || { echo "unexpected offsets key $key" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 25 it_javapart
lib=$(ls -d "${WALCAST_CACHE:-$HOME/.cache/walcast}"/kafka-*/lib | head -1)
printf '%s|{}\n' "$key" | java -Xmx256m -cp "$lib/*" org.apache.kafka.tools.ConsoleProducer --bootstrap-server "$BS" \
  --topic it_javapart --property parse.key=true --property key.separator='|' >"$IT_DIR/java.log" 2>&1 ||
  { cat "$IT_DIR/java.log" >&2; exit 1; }
jpart=$(kcat -C -b "$BS" -t it_javapart -e -q -f '%p\n')
echo "offset key $key: walcast wrote partition $wpart, Kafka's Java producer picks $jpart (of 25)"
[ "$wpart" = "$jpart" ] || { echo "walcast's offset records are not where Kafka Connect would put them" >&2; exit 1; }

# 4. the worker keys; a replication factor a one-broker cluster cannot have
cp "$IT_DIR/worker.properties" "$IT_DIR/worker-custom.properties"
printf 'offset.storage.topic=it_offs_custom\noffset.storage.partitions=3\noffset.storage.replication.factor=1\n' \
  >>"$IT_DIR/worker-custom.properties"
cfg2=$(connector_file custom "name=custom" "slot.name=custom" "key.converter.schemas.enable=false")
WALCAST_WORKER="$IT_DIR/worker-custom.properties" walcast_start "$cfg2"
walcast_stop
d=$(describe it_offs_custom)
[ "$d" = "partitions=3 replicas=1 cleanup.policy=compact" ] || { echo "it_offs_custom is $d" >&2; exit 1; }
echo "offset.storage.partitions=3, offset.storage.replication.factor=1: $d"
cp "$IT_DIR/worker.properties" "$IT_DIR/worker-rf.properties"
printf 'offset.storage.topic=it_offs_rf\noffset.storage.replication.factor=3\n' >>"$IT_DIR/worker-rf.properties"
rc=0
timeout 120 "$WALCAST" run --worker "$IT_DIR/worker-rf.properties" "$cfg2" >/dev/null 2>"$IT_DIR/rf.log" || rc=$?
[ $rc -eq 1 ] && grep -q 'Kafka refused to create topic it_offs_rf (offset.storage.topic) with 25 partitions, replication factor 3.*correct offset.storage.replication.factor' "$IT_DIR/rf.log" || {
  echo "an impossible replication factor was not refused clearly (rc=$rc)" >&2; cat "$IT_DIR/rf.log" >&2; exit 1; }
grep -o 'Kafka refused to create topic.*' "$IT_DIR/rf.log" | head -1 | cut -c1-220

# 5. an existing topic with the delete policy: used, with a warning that says how to fix it
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 2 it_offs_delete
cp "$IT_DIR/worker.properties" "$IT_DIR/worker-delete.properties"
echo "offset.storage.topic=it_offs_delete" >>"$IT_DIR/worker-delete.properties"
WALCAST_WORKER="$IT_DIR/worker-delete.properties" walcast_start "$cfg2"
grep -q "msg=\"topic is not compacted.*topic=it_offs_delete key=offset.storage.topic cleanup.policy=delete fix=\"kafka-configs.sh --bootstrap-server $BS --alter --entity-type topics --entity-name it_offs_delete --add-config cleanup.policy=compact\"" "$IT_DIR/walcast.log" ||
  { echo "no warning about the delete-policy offsets topic" >&2; grep -i 'it_offs_delete' "$IT_DIR/walcast.log" >&2; exit 1; }
[ "$(grep -c 'topic is not compacted.*topic=it_offs_delete' "$IT_DIR/walcast.log")" = 1 ] || { echo "warned more than once" >&2; exit 1; }
psql_q -c "INSERT INTO o VALUES (42)"
wait_published custom
walcast_stop
d=$(describe it_offs_delete)
[ "$d" = "partitions=2 replicas=1 cleanup.policy=delete" ] || { echo "it_offs_delete was changed: $d" >&2; exit 1; }
[ "$(kcat -C -b "$BS" -t it_offs_delete -X isolation.level=read_committed -e -q -f '%k\n' | grep -c '"custom"')" -ge 1 ]
echo "a delete-policy offsets topic is used as it is, with a warning naming the fix"

# 6. a worker with the REST API creates it before its REST offsets endpoints (and any connector) can read it
rest_worker_start offrest "offset.storage.topic=it_offs_rest"
d=$(describe it_offs_rest)
[ "$d" = "partitions=25 replicas=1 cleanup.policy=compact" ] || { echo "the worker's it_offs_rest is $d" >&2; exit 1; }
walcast_stop
echo "a REST worker's offsets topic created at its start: $d"

# 7. a config topic with 3 partitions: refused at start, naming config.storage.topic
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 3 it_cfg3_configs
cp "$IT_DIR/worker.properties" "$IT_DIR/worker-cfg3.properties"
printf '%s\n' "listeners=http://127.0.0.1:$(free_port)" config.storage.topic=it_cfg3_configs \
  status.storage.topic=it_cfg3_status group.id=it_cfg3_group >>"$IT_DIR/worker-cfg3.properties"
rc=0
timeout 120 "$WALCAST" run --worker "$IT_DIR/worker-cfg3.properties" >/dev/null 2>"$IT_DIR/cfg3.log" || rc=$?
[ $rc -eq 1 ] && grep -q 'config.storage.topic it_cfg3_configs has 3 partitions: Kafka Connect (and walcast) require a single partition' "$IT_DIR/cfg3.log" || {
  echo "a 3-partition config topic was not refused clearly (rc=$rc)" >&2; cat "$IT_DIR/cfg3.log" >&2; exit 1; }
echo "a config topic of 3 partitions is refused: $(grep -o 'config.storage.topic it_cfg3_configs has 3 partitions' "$IT_DIR/cfg3.log" | head -1)"
