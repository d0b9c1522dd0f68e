#!/usr/bin/env bash
# kafka.sh: a throwaway Apache Kafka 4.x (KRaft, combined broker+controller) on free loopback ports,
# from Maven Central into a cache outside the work tree, for tests and benchmarks.
#
#   scripts/kafka.sh fetch                      resolve the jars (once; later runs reuse the cache)
#   scripts/kafka.sh start [--brokers N] [DIR]  start N nodes (default 1); prints
#                                               "bootstrap.servers=HOST:PORT,…" then "dir=DIR"
#   scripts/kafka.sh stop DIR                   stop every node and remove DIR
#   scripts/kafka.sh kill DIR NODE              kill -9 one node (its data stays)
#   scripts/kafka.sh down DIR NODE              stop one node cleanly (its data stays)
#   scripts/kafka.sh up DIR NODE                start that node again on the same ports and data
#   scripts/kafka.sh java DIR CLASS ARGS...     run a Kafka tool class (TopicCommand, …) on the cluster's jars
#
# DIR/env holds KAFKA_BS, KAFKA_DIR, KAFKA_NODES and KAFKA_PORT_<n> for scripts that source it.
# Environment: WALCAST_CACHE (default ~/.cache/walcast), KAFKA_HEAP (default 512m), KAFKA_JVM_EXTRA (more
# options for the broker JVMs, e.g. "-Xlog:gc:file=/tmp/gc.log" for a GC log), KAFKA_REQUEST_LOG (a file: every
# request the nodes complete is logged there as kafka.request.logger's DEBUG JSON line, with its API, its
# times (queue, local, remote, response queue, send) and its response; bench_tool.py requests sums it up),
# KAFKA_NODE_EXTRA (a file whose lines are appended to every node's server.properties: they override the
# defaults above, e.g. a SASL listener and an authorizer for a test of ACLs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/reference/kafka-pom.xml")
LIB="$CACHE/kafka-$KAFKA_VERSION/lib"
HEAP=${KAFKA_HEAP:-512m}

die() { echo "kafka.sh: $*" >&2; exit 1; }

# fetch: copies the pom's runtime dependencies into $LIB. A partial folder from an interrupted run is
# thrown away: the marker file is written last.
fetch() {
  [ -f "$LIB/.complete" ] && return 0
  command -v java >/dev/null || die "java not found: run scripts/install-deps.sh (installs openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found: run scripts/install-deps.sh (installs maven)"
  local work="$CACHE/kafka-$KAFKA_VERSION.tmp.$$"
  rm -rf "$work" && mkdir -p "$work"
  cp "$HERE/reference/kafka-pom.xml" "$work/pom.xml"
  echo "kafka.sh: resolving Apache Kafka $KAFKA_VERSION from Maven Central into $LIB (first run only)" >&2
  if ! (cd "$work" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1); then
    tail -30 "$work/mvn.log" >&2
    die "could not resolve Kafka $KAFKA_VERSION (see the Maven output above)"
  fi
  rm -rf "$LIB" && mkdir -p "$(dirname "$LIB")" && mv "$work/lib" "$LIB"
  touch "$LIB/.complete"
  rm -rf "$work"
}

kjava() {  # kjava DIR CLASS ARGS...: a JVM on the cluster's jars with its logging config
  local dir=$1; shift
  java -Xms128m "-Xmx$HEAP" -XX:+UseG1GC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$LIB/*" "$@"
}

# shellcheck source=scripts/ports.sh
. "$HERE/ports.sh"

write_log4j() {
  { cat "$HERE/reference/log4j2.properties"; cat <<'EOF'
logger.ready.name = kafka.server.KafkaRaftServer
logger.ready.level = INFO
EOF
  if [ -n "${KAFKA_REQUEST_LOG:-}" ]; then cat <<EOF
appender.req.type = File
appender.req.name = REQ
appender.req.fileName = $KAFKA_REQUEST_LOG
appender.req.layout.type = PatternLayout
appender.req.layout.pattern = [%d{UNIX_MILLIS}] %m%n
logger.req.name = kafka.request.logger
logger.req.level = DEBUG
logger.req.additivity = false
logger.req.appenderRef.req.ref = REQ
EOF
  fi
} >"$1/log4j2.properties"
}

# node_config DIR NODE N: server.properties of one node of an N-node cluster (every node a voter).
node_config() {
  local dir=$1 n=$2 nodes=$3 rf=1 isr=1 voters="" i
  [ "$nodes" -ge 3 ] && { rf=3; isr=2; }
  for i in $(seq 1 "$nodes"); do
    voters+="${voters:+,}$i@127.0.0.1:$(eval echo "\$CPORT_$i")"
  done
  cat >"$dir/node$n/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(eval echo "\$PORT_$n"),CONTROLLER://127.0.0.1:$(eval echo "\$CPORT_$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(eval echo "\$PORT_$n")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/node$n/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
num.partitions=1
auto.create.topics.enable=true
delete.topic.enable=true
log.segment.bytes=67108864
log.retention.check.interval.ms=600000
# records may carry old timestamps (EventRouter's timestamp column: 2024 in transforms_diff.sh); the
# default 7-day retention deleted them within a minute of the first retention pass (30 s after start)
log.retention.ms=-1
transaction.max.timeout.ms=900000
# a killed node's partitions move after 3 s instead of 9 (failover tests)
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
# tests freeze a producer past its transaction timeout: abort such transactions within a second
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
unclean.leader.election.enable=false
EOF
  if [ -n "${KAFKA_NODE_EXTRA:-}" ]; then cat "$KAFKA_NODE_EXTRA" >>"$dir/node$n/server.properties"; fi
}

# node_start DIR NODE: starts one node in the background, records its pid.
node_start() {
  local dir=$1 n=$2
  # setsid: a Ctrl-C meant for the test does not reach the broker before the test's cleanup stops it
  # shellcheck disable=SC2086
  setsid java -Xms128m "-Xmx$HEAP" -XX:+UseG1GC -Djava.awt.headless=true ${KAFKA_JVM_EXTRA:-} \
    "-Dlog4j2.configurationFile=$dir/log4j2.properties" -cp "$LIB/*" kafka.Kafka "$dir/node$n/server.properties" \
    >>"$dir/node$n/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/node$n/pid"
}

node_wait() {  # node_wait DIR NODE: until the node logs "Kafka Server started" (bounded)
  local dir=$1 n=$2 pid
  pid=$(cat "$dir/node$n/pid")
  for _ in $(seq 1 1200); do
    grep -q "Kafka Server started" "$dir/node$n/kafka.log" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      grep -q "Address already in use" "$dir/node$n/kafka.log" && return 2   # a port was taken meanwhile
      tail -40 "$dir/node$n/kafka.log" >&2; die "node $n exited during start-up (log: $dir/node$n/kafka.log)"
    fi
    sleep 0.1
  done
  tail -40 "$dir/node$n/kafka.log" >&2
  die "node $n did not start within 120 s"
}

# start_nodes DIR N: ports, configuration, format, start, wait; 2 when a port was taken meanwhile.
start_nodes() {
  local dir=$1 nodes=$2 n id bs="" rc
  for n in $(seq 1 "$nodes"); do
    free_port "PORT_$n" || die "no free port found"
    free_port "CPORT_$n" || die "no free port found"
  done
  id=$(kjava "$dir" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  [ -n "$id" ] || die "kafka.tools.StorageTool random-uuid printed nothing"
  for n in $(seq 1 "$nodes"); do
    mkdir -p "$dir/node$n"
    node_config "$dir" "$n" "$nodes"
    kjava "$dir" kafka.tools.StorageTool format -t "$id" -c "$dir/node$n/server.properties" \
      >"$dir/node$n/format.log" 2>&1 || { cat "$dir/node$n/format.log" >&2; die "formatting node $n failed"; }
    bs+="${bs:+,}127.0.0.1:$(eval echo "\$PORT_$n")"
  done
  {
    echo "export KAFKA_DIR=$dir"
    echo "export KAFKA_BS=$bs"
    echo "export KAFKA_NODES=$nodes"
    for n in $(seq 1 "$nodes"); do echo "export KAFKA_PORT_$n=$(eval echo "\$PORT_$n")"; done
  } >"$dir/env"
  for n in $(seq 1 "$nodes"); do node_start "$dir" "$n"; done
  for n in $(seq 1 "$nodes"); do
    rc=0
    node_wait "$dir" "$n" || rc=$?
    [ $rc -eq 0 ] || return $rc
  done
  KAFKA_BS_STARTED=$bs
}

start() {
  local nodes=1 dir="" n id
  while [ $# -gt 0 ]; do
    case $1 in
      --brokers) nodes=$2; shift 2 ;;
      -*) die "start: unknown option $1" ;;
      *) dir=$1; shift ;;
    esac
  done
  fetch
  dir=${dir:-$(mktemp -d /tmp/walcast-kafka.XXXXXX)}
  mkdir -p "$dir"
  write_log4j "$dir"
  local attempt bs rc
  for attempt in 1 2 3; do
    start_nodes "$dir" "$nodes" && break
    rc=$?
    [ $rc -eq 2 ] && [ $attempt -lt 3 ] || die "could not start Kafka (attempt $attempt)"
    echo "kafka.sh: a port was taken while the broker started; again with other ports" >&2
    for n in "$dir"/node*; do [ -d "$n" ] && node_signal "$dir" "${n##*node}" KILL; done
    rm -rf "$dir"/node* "$dir/env"
  done
  bs=$KAFKA_BS_STARTED
  echo "bootstrap.servers=$bs"
  echo "dir=$dir"
}

node_signal() {  # node_signal DIR NODE SIGNAL: signals one node and waits until it is gone
  local dir=$1 n=$2 sig=$3
  [ -f "$dir/node$n/pid" ] || return 0
  pid_stop "-$sig" "$(cat "$dir/node$n/pid")" 30
  rm -f "$dir/node$n/pid"
}

stop() {
  local dir=$1 n
  [ -f "$dir/env" ] || { rm -rf "$dir"; return 0; }
  for n in "$dir"/node*; do [ -d "$n" ] && node_signal "$dir" "${n##*node}" KILL; done
  rm -rf "$dir"
}

cmd=${1:-}; shift || true
case $cmd in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) [ $# -eq 1 ] || die "usage: kafka.sh stop DIR"; stop "$1" ;;
  kill) [ $# -eq 2 ] || die "usage: kafka.sh kill DIR NODE"; node_signal "$1" "$2" KILL ;;
  down) [ $# -eq 2 ] || die "usage: kafka.sh down DIR NODE"; node_signal "$1" "$2" TERM ;;
  up) [ $# -eq 2 ] || die "usage: kafka.sh up DIR NODE"
      : >"$1/node$2/kafka.log.new"; mv "$1/node$2/kafka.log" "$1/node$2/kafka.log.$(date +%s%N)" 2>/dev/null || true
      rm -f "$1/node$2/kafka.log.new"; node_start "$1" "$2"; node_wait "$1" "$2" ;;
  java) [ $# -ge 2 ] || die "usage: kafka.sh java DIR CLASS ARGS..."; d=$1; shift; fetch; kjava "$d" "$@" ;;
  *) die "usage: kafka.sh fetch | start [--brokers N] [DIR] | stop DIR | kill|down|up DIR NODE | java DIR CLASS ARGS..." ;;
esac
