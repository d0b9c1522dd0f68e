#!/bin/sh
# entrypoint.sh: server.properties from the KAFKA_* variables, storage formatted on first start, the broker.
set -eu
conf=/opt/kafka/server.properties
: >"$conf"
env | grep -v '^KAFKA_HEAP=' | sed -n 's/^KAFKA_\([A-Z0-9_]*\)=\(.*\)$/\1=\2/p' | while IFS='=' read -r k v; do
  echo "$(echo "$k" | tr 'A-Z_' 'a-z.')=$v" >>"$conf"
done
grep -q '^log.dirs=' "$conf" || echo "log.dirs=/var/lib/kafka/data" >>"$conf"
run() { java -Xms128m -Xmx${KAFKA_HEAP:-512m} -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' "$@"; }
if [ ! -f /var/lib/kafka/data/meta.properties ]; then
  run kafka.tools.StorageTool format -t "${CLUSTER_ID:-4L6g3nShT-eMCtK--X86sw}" -c "$conf" >/dev/null
fi
exec java -Xms128m -Xmx${KAFKA_HEAP:-512m} -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties -cp '/opt/kafka/libs/*' kafka.Kafka "$conf"
