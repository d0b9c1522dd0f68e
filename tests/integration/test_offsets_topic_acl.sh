#!/usr/bin/env bash
# test_offsets_topic_acl.sh: a principal that may not create the offsets topic, on a real broker with SASL/PLAIN
# and ACLs (StandardAuthorizer; walcast is User:walcast, allowed everything but CREATE on the offsets topic and
# the cluster): as Kafka Connect's TopicAdmin, walcast falls back to the topic as it is.
#  1. the topic missing (and not auto-created: the broker's auto-creation needs CREATE too): walcast stops with
#     exit code 1 and an error naming the topic, the missing permission and the kafka-topics.sh command;
#  2. the topic made by an administrator with the broker's defaults (delete policy): walcast warns that it is not
#     compacted (with the kafka-configs.sh fix), and streams into it.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE a (id int PRIMARY KEY)"
cat >"$IT_DIR/acl.properties" <<'PROPS'
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw" user_walcast="walcast-pw";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:admin;User:ANONYMOUS
allow.everyone.if.no.acl.found=false
PROPS
KAFKA_NODE_EXTRA="$IT_DIR/acl.properties" kafka_own_start 1
{
  echo "bootstrap.servers=$BS"
  echo "producer.security.protocol=SASL_PLAINTEXT"
  echo "producer.sasl.mechanism=PLAIN"
  echo "producer.sasl.username=walcast"
  echo "producer.sasl.password=walcast-pw"
  echo "offset.storage.topic=it_acl_offsets"
} >"$IT_DIR/worker.properties"
# as User:admin: User:walcast may do all but CREATE on it_acl_offsets (and on the cluster: no ACL grants it)
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw";\n' \
  >"$IT_DIR/admin.properties"
acl() {
  bash "$ROOT/scripts/kafka.sh" java "$KAFKA_DIR" org.apache.kafka.tools.AclCommand --bootstrap-server "$BS" \
    --command-config "$IT_DIR/admin.properties" --add "$@" >>"$IT_DIR/acl.log" 2>&1 || { cat "$IT_DIR/acl.log" >&2; exit 1; }
}
acl --allow-principal User:walcast --operation All --topic '*' --group '*' --transactional-id '*'
acl --allow-principal User:walcast --operation IdempotentWrite --operation Describe --cluster
acl --deny-principal User:walcast --operation Create --topic it_acl_offsets
topics() {
  bash "$ROOT/scripts/kafka.sh" java "$KAFKA_DIR" org.apache.kafka.tools.TopicCommand --bootstrap-server "$BS" \
    --command-config "$IT_DIR/admin.properties" "$@" >>"$IT_DIR/topics.log" 2>&1 || { cat "$IT_DIR/topics.log" >&2; exit 1; }
}
topics --create --topic srv.public.a --partitions 1
cfg=$(connector_file acl "key.converter.schemas.enable=false")

# 1. missing and not creatable: a clear error (ACLs reach the broker's authorizer a moment after they are made:
# the first attempts may still see none, so walcast is run until it says what this test expects, bounded)
ok=""
for _ in $(seq 1 10); do
  rc=0
  timeout 120 "$WALCAST" run --worker "$IT_DIR/worker.properties" "$cfg" >/dev/null 2>"$IT_DIR/nocreate.log" || rc=$?
  if [ $rc -eq 1 ] && grep -q 'the offsets topic it_acl_offsets does not exist, walcast may not create it and the broker did not auto-create it: create it (kafka-topics.sh --bootstrap-server [^ ]* --create --topic it_acl_offsets --partitions 25 --config cleanup.policy=compact) or grant walcast CREATE on it' "$IT_DIR/nocreate.log"; then
    ok=1; break
  fi
  sleep 1
done
[ -n "$ok" ] || { echo "no clear error without CREATE permission (rc=$rc)" >&2; cat "$IT_DIR/nocreate.log" >&2; exit 1; }
grep -q 'msg="cannot create the topic (no CREATE permission.*topic=it_acl_offsets key=offset.storage.topic error="[^"]*[Aa]uthoriz' "$IT_DIR/nocreate.log" ||
  { echo "no warning naming the refused creation" >&2; cat "$IT_DIR/nocreate.log" >&2; exit 1; }
grep -o 'the offsets topic it_acl_offsets does not exist.*' "$IT_DIR/nocreate.log" | head -1 | cut -c1-200

# 2. an administrator made it with the broker's defaults: used, with the warning about its policy
topics --create --topic it_acl_offsets --partitions 1
walcast_start "$cfg"
# (an existing topic is not created again: no CreateTopics, no warning about it)
! grep -q 'msg="cannot create the topic' "$IT_DIR/walcast.log" || { echo "CreateTopics for an existing topic" >&2; exit 1; }
grep -q 'msg="topic is not compacted.*topic=it_acl_offsets key=offset.storage.topic cleanup.policy=delete fix="kafka-configs.sh' "$IT_DIR/walcast.log" ||
  { echo "no warning about the delete policy of the topic walcast may not create" >&2; cat "$IT_DIR/walcast.log" >&2; exit 1; }
psql_q -c "INSERT INTO a SELECT generate_series(1, 5)"
wait_published
walcast_stop
n=$(kcat -C -b "$BS" -X security.protocol=SASL_PLAINTEXT -X sasl.mechanism=PLAIN -X sasl.username=admin -X sasl.password=admin-pw \
  -t srv.public.a -X isolation.level=read_committed -e -q -f '%k\n' | wc -l)
[ "$n" = 5 ] || { echo "srv.public.a holds $n records, expected 5" >&2; exit 1; }
echo "without CREATE permission: a clear error while the topic is missing; then the administrator's topic used, with a warning"
