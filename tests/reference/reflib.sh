# reflib.sh: helpers for the differential tests against the real Debezium, on top of
# tests/integration/lib.sh: real Kafka brokers (scripts/kafka.sh), a Kafka Connect standalone worker
# with Debezium 3.6.1 (scripts/connect.sh) and walcast with several connector files. Everything
# started here is stopped by the EXIT trap (ref_init replaces lib.sh's trap and chains to it).
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
REF="$ROOT/tests/reference"
REF_KAFKAS=()
REF_CONNECT=""
REF_APICURIO=""

ref_init() {
  it_init
  # the servers' own folders live apart from IT_DIR (a cleanup that removes stale /tmp/walcast-it.*
  # folders of other runs cannot take a running broker's data away)
  REF_DIR=$(mktemp -d /tmp/walcast-ref.XXXXXX)
  REF_CONNECT_PID=""
  trap ref_cleanup EXIT
}

ref_cleanup() {
  local rc=$? d
  set +e   # clean up everything, whatever fails on the way
  if [ -n "$REF_CONNECT" ]; then
    [ $rc -ne 0 ] && cp "$REF_CONNECT/connect.log" "$IT_DIR/connect.log" 2>/dev/null
    bash "$ROOT/scripts/connect.sh" stop "$REF_CONNECT"
  fi
  ref_connect_reap
  [ -n "$REF_APICURIO" ] && bash "$ROOT/scripts/apicurio.sh" stop "$REF_APICURIO"
  for d in "${REF_KAFKAS[@]:-}"; do
    [ -n "$d" ] || continue
    [ $rc -ne 0 ] && cp "$d/node1/kafka.log" "$IT_DIR/kafka-$(basename "$d").log" 2>/dev/null
    bash "$ROOT/scripts/kafka.sh" stop "$d"
  done
  rm -rf "$REF_DIR"
  (exit $rc)
  it_cleanup
}

# ref_connect_reap: the worker of the last ref_connect_start, if it still runs (its folder gone):
# TERM, then KILL after 30 s. Only a JVM whose command line names our folder is signalled.
ref_connect_reap() {
  local pid=$REF_CONNECT_PID
  [ -n "$pid" ] || return 0
  REF_CONNECT_PID=""
  [ -r "/proc/$pid/cmdline" ] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$REF_DIR/connect" || return 0
  pid_stop "$pid" 30
}

# ref_kafka_start VAR...: starts one real Kafka per VAR, in parallel; sets each VAR to its bootstrap.
ref_kafka_start() {
  local v i=0 pids=()
  for v in "$@"; do
    bash "$ROOT/scripts/kafka.sh" start "$REF_DIR/kafka-$v" >"$IT_DIR/kafka-$v.out" 2>"$IT_DIR/kafka-$v.err" &
    pids+=($!)
    REF_KAFKAS+=("$REF_DIR/kafka-$v")
  done
  for v in "$@"; do
    wait "${pids[$i]}" || { cat "$IT_DIR/kafka-$v.err" >&2; echo "kafka $v did not start" >&2; return 1; }
    printf -v "$v" '%s' "$(sed -n 's/^bootstrap.servers=//p' "$IT_DIR/kafka-$v.out")"
    i=$((i + 1))
  done
}

# ref_connect_start BS [--offsets-topic T] CONNECTOR_FILE...: Kafka Connect with Debezium (standalone;
# with --offsets-topic a one-worker distributed cluster keeping offsets in T); returns when every
# connector's task is RUNNING.
ref_connect_start() {
  local bs=$1; shift
  REF_CONNECT="$REF_DIR/connect"
  bash "$ROOT/scripts/connect.sh" start --bootstrap "$bs" --dir "$REF_CONNECT" ${REF_AVRO_DBZ:+--apicurio} "$@" \
    >"$IT_DIR/connect.out"
  REF_CONNECT_PID=$(cat "$REF_CONNECT/pid")
}

# ref_connect_stop: clean stop (the tasks commit their offsets), bounded by connect.sh.
ref_connect_stop() {
  bash "$ROOT/scripts/connect.sh" stop "$REF_CONNECT"
  REF_CONNECT=""
  ref_connect_reap
}

# ref_slot_wait SLOT...: until every slot exists and a walsender streams from it (bounded, 60 s).
ref_slot_wait() {
  local s n=$# got
  local list; list=$(printf "'%s'," "$@"); list=${list%,}
  for _ in $(seq 1 300); do
    got=$(psql -X -At -c "SELECT count(*) FROM pg_replication_slots WHERE active AND slot_name IN ($list)")
    [ "$got" -eq "$n" ] && return 0
    sleep 0.2
  done
  echo "slots $* not all streaming after 60 s:" >&2
  psql -X -c "SELECT slot_name, active, confirmed_flush_lsn FROM pg_replication_slots" >&2
  return 1
}

# ref_walcast_start BS OFFSETS_TOPIC CONNECTOR_FILE...: walcast with one worker file for the real Kafka
# BS; returns when every connector started replication (bounded, 30 s).
ref_walcast_start() {
  local bs=$1 offs=$2; shift 2
  printf 'bootstrap.servers=%s\noffset.storage.topic=%s\n' "$bs" "$offs" >"$IT_DIR/ref-worker.properties"
  WALCAST_WORKER="$IT_DIR/ref-worker.properties" WALCAST_SOURCES=$# walcast_start "$@"
}

# ref_avro: Avro on both sides of the next ref_pairs (and --apicurio for ref_connect_start): Debezium's
# connectors write through Apicurio's AvroConverter (Confluent's is not on Maven Central) into a fresh
# Apicurio Registry 2.6.13 (REF_AVRO_DBZ, its Confluent-compatible API), with the Confluent wire format
# (as-confluent: magic byte and 4-byte content id, no headers); walcast through its own AvroConverter
# into the registry fixture (REF_AVRO_WC). ref.py compare decodes both (REF_REGISTRY_A/_B).
ref_avro() {
  local out
  out=$(bash "$ROOT/scripts/apicurio.sh" start "$REF_DIR/apicurio") || return 1
  REF_APICURIO="$REF_DIR/apicurio"
  REF_AVRO_DBZ="$(sed -n 's/^url=//p' <<<"$out")"
  # compatibility NONE, as an Apicurio Registry without rules: some chains change a subject's schema in
  # ways BACKWARD refuses (t9.merged-key: ByLogicalTableRouter's tables' keys; t11's expanded payloads)
  registry_start --compat NONE
  REF_AVRO_WC=$SR_URL
  export REF_REGISTRY_A="$REF_AVRO_DBZ/apis/ccompat/v7" REF_REGISTRY_B="$REF_AVRO_WC"
}

# ref_avro_converters SIDE: the converter lines of ref_avro for side dbz or wc, and Debezium's name
# adjustment for Avro on both (the workload's names are not all valid Avro names: without it Connect's
# task dies on AvroData's SchemaParseException, "Illegal character in: c_numeric_var.scale", and walcast
# refuses the connector, naming the two settings)
ref_avro_converters() {
  local kv
  echo "schema.name.adjustment.mode=avro"
  echo "field.name.adjustment.mode=avro"
  for kv in key value; do
    if [ "$1" = dbz ]; then
      echo "$kv.converter=io.apicurio.registry.utils.converter.AvroConverter"
      echo "$kv.converter.apicurio.registry.url=$REF_AVRO_DBZ/apis/registry/v2"
      echo "$kv.converter.apicurio.registry.auto-register=true"
      echo "$kv.converter.apicurio.registry.as-confluent=true"
      echo "$kv.converter.apicurio.registry.use-id=contentId"
      echo "$kv.converter.apicurio.registry.headers.enabled=false"
    else
      echo "$kv.converter=io.confluent.connect.avro.AvroConverter"
      echo "$kv.converter.schema.registry.url=$REF_AVRO_WC"
    fi
  done
}

# ref_pair NAME PREFIX [key=value]...: writes NAME.dbz.properties and NAME.walcast.properties, the same
# connector config except slot.name (dbz_NAME / wc_NAME). Prints nothing; files in $IT_DIR. After
# ref_avro, the pair's own key./value.converter lines give way to ref_avro_converters; an argument
# "avro:KEY=VALUE" is written (as KEY=VALUE) only after ref_avro.
ref_pair() {
  local name=$1 prefix=$2 side; shift 2
  for side in dbz wc; do
    {
      echo "name=$name"
      echo "connector.class=io.debezium.connector.postgresql.PostgresConnector"
      echo "database.hostname=127.0.0.1"
      echo "database.port=$PGPORT"
      echo "database.user=postgres"
      echo "database.password="
      echo "database.dbname=postgres"
      echo "topic.prefix=$prefix"
      echo "plugin.name=pgoutput"
      echo "slot.name=${side}_$name"
      case " $* " in *" snapshot.mode="*) ;; *) echo "snapshot.mode=no_data" ;; esac
      for kv in "$@"; do
        case "${REF_AVRO_WC:+avro}:$kv" in
          avro:key.converter*|avro:value.converter*) continue ;;
          avro:avro:*) echo "${kv#avro:}"; continue ;;   # "avro:KEY=VALUE": with Avro only
          :avro:*) continue ;;
        esac
        echo "$kv"
      done
      [ -z "${REF_AVRO_WC:-}" ] || ref_avro_converters "$side"
    } >"$IT_DIR/$name.$side.properties"
  done
}

# ref_sink_props NAME URL USER TOPICS_REGEX [header]: a JDBC sink config with the keys test_sink_jdbc.sh gives
# walcast, for Debezium's sink and walcast's alike, into $IT_DIR/NAME.properties (its path printed). With
# "header": Connect's StringConverter for headers, which Debezium's sink needs: with the default
# SimpleHeaderConverter its task dies on the first key change ("No schema defined for value of map field:
# __debezium.newkey", docs/compatibility.md); walcast's sink reads only __debezium.oldkey's presence.
ref_sink_props() {
  local f="$IT_DIR/$1.properties"
  cat >"$f" <<PROPS
name=$1
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=1
topics.regex=$4
connection.url=$2
connection.username=$3
connection.password=
insert.mode=upsert
delete.enabled=true
truncate.enabled=true
primary.key.mode=record_key
schema.evolution=basic
quote.identifiers=true
collection.name.format=\${source.table}
batch.size=500
consumer.override.auto.offset.reset=earliest
consumer.override.isolation.level=read_committed
PROPS
  [ "${5:-}" = header ] && echo "header.converter=org.apache.kafka.connect.storage.StringConverter" >>"$f"
  echo "$f"
}
