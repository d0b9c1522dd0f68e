#!/usr/bin/env bash
# connect.sh: a throwaway Kafka Connect standalone worker running Debezium's PostgreSQL connector, on a
# free loopback REST port against a given Kafka, for the differential tests against the real Debezium.
#
#   scripts/connect.sh fetch                    resolve Connect (kafka.sh's lib folder) and unpack the
#                                               Debezium plugin into the cache (once; later runs reuse it),
#                                               and Debezium's JDBC sink plugin beside it
#   scripts/connect.sh start --bootstrap BS [--dir DIR] [--offsets-topic T] CONNECTOR.properties...
#                                               start the worker, wait until every connector and its
#                                               task are RUNNING (bounded); prints "rest=URL", "dir=DIR";
#                                               with --offsets-topic no connector file is needed;
#                                               --group G (with --offsets-topic): group.id G and topics
#                                               G-configs, G-status instead of fresh ones (a worker that
#                                               takes back what an earlier worker, or walcast, kept there);
#                                               several workers started with the same --group and
#                                               --offsets-topic form one distributed cluster (each on a
#                                               free REST port of its own; worker_id 127.0.0.1:PORT);
#                                               --set KEY=VALUE (repeatable) adds or overrides a worker
#                                               property (scheduled.rebalance.max.delay.ms=0, …)
#                                               --apicurio: Apicurio Registry's converters
#                                               (io.apicurio.registry.utils.converter.*, scripts/apicurio.sh
#                                               fetch-converter) on the worker's class path, after Kafka's
#                                               jars (whose Jackson wins: in a plugin folder, the converters'
#                                               older Jackson broke Debezium's CloudEventsConverter, and
#                                               plugin.discovery=service_load finds no converter there: the
#                                               jars carry no ServiceLoader manifest)
#                                               --mongodb: Debezium's MongoDB plugin (its MongoDbSinkConnector)
#                                               fetched from Maven Central into the plugin path
#   scripts/connect.sh status DIR NAME          the REST status of one connector (JSON)
#   scripts/connect.sh stop DIR                 clean stop (tasks commit their offsets), remove DIR
#   scripts/connect.sh kill DIR                 SIGKILL the worker (a crash: nothing committed), keep DIR
#
# Offsets: by default a standalone worker (ConnectStandalone), offsets in DIR/offsets (a file). With
# --offsets-topic T a one-worker distributed cluster (ConnectDistributed, a fresh group.id and fresh
# config/status topics each start) keeps them in topic T of its Kafka, in the format walcast reads and
# writes, and the connectors are created through REST. (A connector-level offsets.storage.topic does not
# help in standalone: WorkerConfig.connectorOffsetsTopicsPermitted() is false there, so the worker
# silently keeps using its file.)
# DIR/env holds CONNECT_REST, CONNECT_DIR, CONNECT_PID.
# Environment: WALCAST_CACHE (default ~/.cache/walcast), CONNECT_HEAP (default 512m),
# CONNECT_WAIT (seconds to wait for RUNNING, default 120), CONNECT_LOG_INFO (logger names, space-separated, to
# log at INFO besides Connect's start and Debezium), CONNECT_LOG_DEBUG (the same, at DEBUG), CONNECT_JAVA_OPTS
# (more JVM options, e.g. a JFR recording with jdk.JavaExceptionThrow enabled to see exceptions a connector
# swallows, as Debezium's MongoDB sink task's put() does).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/ports.sh
. "$HERE/ports.sh"
# shellcheck source=scripts/maven.sh
. "$HERE/maven.sh"
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/reference/kafka-pom.xml")
LIB="$CACHE/kafka-$KAFKA_VERSION/lib"
DEBEZIUM_VERSION=3.6.1.Final
PLUGINS="$CACHE/connect-plugins-$DEBEZIUM_VERSION"
HEAP=${CONNECT_HEAP:-512m}
WAIT=${CONNECT_WAIT:-120}

die() { echo "connect.sh: $*" >&2; exit 1; }

# fetch: Connect comes with kafka.sh's lib folder (connect-runtime, connect-json, connect-transforms of the
# same Kafka version); the Debezium plugin archive comes from Maven Central and is unpacked into
# $PLUGINS/debezium-connector-postgres. The marker file is written last, so a partial unpack is redone.
fetch() {
  bash "$HERE/kafka.sh" fetch
  [ -f "$PLUGINS/.complete" ] && return 0
  local tgz
  tgz=$(maven_artifact "io.debezium:debezium-connector-postgres:$DEBEZIUM_VERSION:tar.gz:plugin" \
        "debezium-connector-postgres-$DEBEZIUM_VERSION-plugin.tar.gz" connect.sh)
  rm -rf "$PLUGINS" && mkdir -p "$PLUGINS"
  tar -xzf "$tgz" -C "$PLUGINS"
  [ -f "$PLUGINS/debezium-connector-postgres/debezium-connector-postgres-$DEBEZIUM_VERSION.jar" ] ||
    die "the plugin archive $tgz did not unpack to debezium-connector-postgres/"
  touch "$PLUGINS/.complete"
}

# fetch_plugin NAME VERSION: Debezium's NAME plugin archive (io.debezium:debezium-connector-NAME:VERSION,
# from Maven Central) unpacked beside the postgres plugin as $PLUGINS/debezium-connector-NAME, with a
# marker file of its own written last.
fetch_plugin() {
  local name=$1 version=$2 tgz
  [ -f "$PLUGINS/.complete-$name-$version" ] && return 0
  tgz=$(maven_artifact "io.debezium:debezium-connector-$name:$version:tar.gz:plugin" \
        "debezium-connector-$name-$version-plugin.tar.gz" connect.sh)
  rm -rf "$PLUGINS/debezium-connector-$name"
  tar -xzf "$tgz" -C "$PLUGINS"
  [ -f "$PLUGINS/debezium-connector-$name/debezium-connector-$name-$version.jar" ] ||
    die "the plugin archive $tgz did not unpack to debezium-connector-$name/"
  touch "$PLUGINS/.complete-$name-$version"
}

# fetch_jdbc: Debezium's JDBC sink plugin (with its Hibernate, Agroal and PostgreSQL/MariaDB/MySQL JDBC
# drivers). io.debezium:debezium-connector-jdbc is not served at 3.6.1.Final (neither the jar nor the
# -plugin archive resolve from Maven Central here), 3.6.0.Final is: the plugin brings its own debezium-sink,
# debezium-core parts and kafka-clients 4.3.0 jars (the worker's own Connect API wins: plugin isolation
# delegates org.apache.kafka.* to the worker), so 3.6.0 beside the 3.6.1 source connector is fine.
JDBC_SINK_VERSION=${JDBC_SINK_VERSION:-3.6.0.Final}
fetch_jdbc() { fetch_plugin jdbc "$JDBC_SINK_VERSION"; }

# fetch_mongodb: Debezium's MongoDB plugin (MongoDbSinkConnector, the MongoDB driver), only for --mongodb
# (test_sink_transforms_mongo.sh)
fetch_mongodb() { fetch_plugin mongodb "$DEBEZIUM_VERSION"; }


# http_get URL: the body, or nothing when the server does not answer (yet). (python3, not curl: curl is
# not among the packages install-deps.sh installs.)
http_get() {
  /usr/bin/python3 - "$1" <<'PYEOF' 2>/dev/null || true
import sys, urllib.request, urllib.error
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode())
except urllib.error.HTTPError as e:
    sys.stdout.write(e.read().decode())
PYEOF
}

# post_connector URL FILE: creates the connector of a .properties file through REST (POST /connectors).
post_connector() {
  /usr/bin/python3 - "$1" "$2" <<'PYEOF'
import json, re, sys, urllib.request, urllib.error
cfg = {}
for line in open(sys.argv[2], encoding="utf-8"):
    line = line.strip()
    if not line or line[0] in "#!" or "=" not in line:
        continue
    k, v = line.split("=", 1)
    # Java properties escapes: a backslash keeps the next character (\\ -> \, \. -> .)
    cfg[k.strip()] = re.sub(r"\\(.)", r"\1", v.strip())
body = json.dumps({"name": cfg["name"], "config": cfg}).encode()
req = urllib.request.Request(sys.argv[1] + "/connectors", data=body, method="POST",
                             headers={"Content-Type": "application/json"})
try:
    urllib.request.urlopen(req, timeout=30).read()
except urllib.error.HTTPError as e:
    sys.exit("POST /connectors for %s: HTTP %d %s" % (cfg["name"], e.code, e.read().decode()))
PYEOF
}

# rest_up URL: true when the worker's REST API lists its connectors
rest_up() { http_get "$1/connectors" | grep -q '^\['; }

# conn_state JSON: "CONNECTOR_STATE TASK_STATE" from a /connectors/NAME/status answer.
conn_state() {
  /usr/bin/python3 -c '
import json, sys
try:
    s = json.loads(sys.stdin.read())
except ValueError:
    print("NONE NONE"); sys.exit(0)
tasks = s.get("tasks") or [{}]
print(s.get("connector", {}).get("state", "NONE"), tasks[0].get("state", "NONE"))'
}

write_config() {
  local dir=$1 bs=$2 port=$3 offsets=$4 group=${5:-}
  shift 5
  if [ -n "$offsets" ]; then
    group=${group:-walcast-connect-$(basename "$dir")-$$}
    cat >"$dir/worker.properties" <<EOF
group.id=$group
config.storage.topic=$group-configs
status.storage.topic=$group-status
offset.storage.topic=$offsets
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
status.storage.partitions=1
EOF
  else
    echo "offset.storage.file.filename=$dir/offsets" >"$dir/worker.properties"
  fi
  cat >>"$dir/worker.properties" <<EOF
bootstrap.servers=$bs
listeners=http://127.0.0.1:$port
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$port
plugin.path=$PLUGINS
plugin.discovery=service_load
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.flush.interval.ms=1000
consumer.isolation.level=read_committed
EOF
  # --set KEY=VALUE: last, so that it wins over the lines above (Java properties: the last one counts)
  local kv
  for kv in "$@"; do echo "$kv" >>"$dir/worker.properties"; done
  { cat "$HERE/reference/log4j2.properties"; cat <<'EOF'
logger.connect.name = org.apache.kafka.connect.runtime.Connect
logger.connect.level = INFO
logger.dbz.name = io.debezium
logger.dbz.level = INFO
EOF
  # CONNECT_LOG_INFO: more loggers at INFO (bench_cluster.sh reads the group's assignments from
  # org.apache.kafka.connect.runtime.distributed)
  local l n=0
  for l in ${CONNECT_LOG_INFO:-}; do
    n=$((n + 1)); printf 'logger.extra%d.name = %s\nlogger.extra%d.level = INFO\n' "$n" "$l" "$n"
  done
  # CONNECT_LOG_DEBUG: loggers at DEBUG, to diagnose a connector (e.g. io.debezium.connector.mongodb.sink)
  for l in ${CONNECT_LOG_DEBUG:-}; do
    n=$((n + 1)); printf 'logger.extra%d.name = %s\nlogger.extra%d.level = DEBUG\n' "$n" "$l" "$n"
  done
} >"$dir/log4j2.properties"
}

start() {
  local bs="" dir="" offsets="" group="" cp="$LIB/*" conns=() args=() sets=() port f name pid t0 state main
  while [ $# -gt 0 ]; do
    case $1 in
      --bootstrap) bs=$2; shift 2 ;;
      --offsets-topic) offsets=$2; shift 2 ;;
      --group) group=$2; shift 2 ;;
      --set) [[ $2 == ?*=* ]] || die "start: --set wants KEY=VALUE, not '$2'"; sets+=("$2"); shift 2 ;;
      --apicurio) cp="$cp:$(bash "$HERE/apicurio.sh" fetch-converter)/*"; shift ;;
      --mongodb) fetch_mongodb >&2; shift ;;
      --dir) dir=$2; shift 2 ;;
      -*) die "start: unknown option $1" ;;
      *) [ -f "$1" ] || die "start: no connector file $1"; conns+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
    esac
  done
  [ -n "$bs" ] || die "start: --bootstrap HOST:PORT is required"
  # a distributed worker (--offsets-topic) may start empty: its connectors come through REST later
  [ ${#conns[@]} -gt 0 ] || [ -n "$offsets" ] || die "start: at least one connector .properties file is required"
  fetch >&2
  fetch_jdbc >&2
  dir=${dir:-$(mktemp -d /tmp/walcast-connect.XXXXXX)}
  mkdir -p "$dir"
  free_port port || die "no free port found"
  [ -z "$group" ] || [ -n "$offsets" ] || die "start: --group needs --offsets-topic (a distributed worker)"
  write_config "$dir" "$bs" "$port" "$offsets" "$group" "${sets[@]}"
  t0=$(date +%s.%N)
  main=org.apache.kafka.connect.cli.ConnectStandalone
  args=("${conns[@]}")
  [ -n "$offsets" ] && { main=org.apache.kafka.connect.cli.ConnectDistributed; args=(); }
  # setsid: a Ctrl-C meant for the caller does not reach the worker before the caller's cleanup stops it
  # shellcheck disable=SC2086
  setsid java ${CONNECT_JAVA_OPTS:-} -Xms128m "-Xmx$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$cp" \
    "$main" "$dir/worker.properties" "${args[@]}" \
    >>"$dir/connect.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  {
    echo "export CONNECT_DIR=$dir"
    echo "export CONNECT_REST=http://127.0.0.1:$port"
    echo "export CONNECT_PID=$pid"
  } >"$dir/env"
  if [ -n "$offsets" ]; then
    # distributed: the connectors come through REST once the worker answers
    wait_up connect.sh "the worker" "$pid" "$WAIT" "$dir/connect.log" rest_up "http://127.0.0.1:$port" || { stop "$dir"; exit 1; }
    for f in "${conns[@]}"; do
      post_connector "http://127.0.0.1:$port" "$f" || { tail -40 "$dir/connect.log" >&2; stop "$dir"; die "could not create the connector of $f"; }
    done
  fi
  for f in "${conns[@]}"; do
    name=$(sed -n 's/^name[ \t]*=[ \t]*//p' "$f" | head -1)
    [ -n "$name" ] || { stop "$dir"; die "start: $f has no name="; }
    state=""
    for _ in $(seq 1 $((WAIT * 5))); do
      kill -0 "$pid" 2>/dev/null || { tail -60 "$dir/connect.log" >&2; stop "$dir"; die "the worker exited during start-up"; }
      state=$(http_get "http://127.0.0.1:$port/connectors/$name/status" | conn_state)
      case $state in
        "RUNNING RUNNING") break ;;
        *FAILED*) http_get "http://127.0.0.1:$port/connectors/$name/status" >&2; echo >&2
                  tail -60 "$dir/connect.log" >&2; stop "$dir"; die "connector $name failed to start" ;;
      esac
      sleep 0.2
    done
    [ "$state" = "RUNNING RUNNING" ] || { tail -60 "$dir/connect.log" >&2; stop "$dir"; die "connector $name not RUNNING within ${WAIT}s (state: $state)"; }
  done
  echo "connect.sh: worker and ${#conns[@]} connector(s) RUNNING after $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s" >&2
  echo "rest=http://127.0.0.1:$port"
  echo "dir=$dir"
}

# stop DIR: SIGTERM runs Connect's shutdown hook (tasks stop and commit their offsets, the producer
# flushes); a worker still there after 60 s is killed. DIR is removed either way.
stop() {
  local dir=$1
  [ -f "$dir/pid" ] && pid_stop "$(cat "$dir/pid")" 60 "connect.sh: worker"
  rm -rf "$dir"
}

cmd=${1:-}; shift || true
case $cmd in
  fetch) fetch; fetch_jdbc ;;
  start) start "$@" ;;
  status) [ $# -eq 2 ] || die "usage: connect.sh status DIR NAME"; . "$1/env"; http_get "$CONNECT_REST/connectors/$2/status"; echo ;;
  stop) [ $# -eq 1 ] || die "usage: connect.sh stop DIR"; stop "$1" ;;
  kill) [ $# -eq 1 ] || die "usage: connect.sh kill DIR"; [ -f "$1/pid" ] || die "kill: no worker in $1"
        pid_stop -KILL "$(cat "$1/pid")" 30 ;;
  *) die "usage: connect.sh fetch | start --bootstrap BS [--dir DIR] [--offsets-topic T [--group G]] [--set K=V]... CONNECTOR.properties... | status DIR NAME | stop DIR | kill DIR" ;;
esac
