#!/usr/bin/env bash
# test_sink_docs.sh: every key the sinks read (cfg_sink_parse in agent/config.c: JDBC and MongoDB) is in
# the README's sink table and in `walcast --help`, and sinks/README.md no longer calls MongoDB "another
# branch" (issue 17 item 11). Needs no server.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
keys=$(sed -n '/^int cfg_sink_parse/,/^}/p' "$ROOT/agent/config.c" \
  | grep -o '(m, "[a-z_.]*"' | sed 's/(m, "//; s/"$//; s/\.$/.<table>/' | sort -u)
[ "$(echo "$keys" | wc -l)" -gt 25 ] || { echo "found only $(echo "$keys" | wc -l) keys in cfg_sink_parse: the extraction broke" >&2; exit 1; }
table=$(sed -n '/^### Sinks (apply workers)/,/^## /p' "$ROOT/README.md" | grep '^| `')
help=$("$ROOT/build/walcast" --help 2>&1)
missing=0
for k in $keys consumer.override.*; do
  grep -qF "\`$k\`" <<<"$table" || { echo "README's sink table lacks $k" >&2; missing=1; }
  grep -qF "$k" <<<"$help" || { echo "walcast --help lacks $k" >&2; missing=1; }
done
[ $missing = 0 ]
grep -q "io.debezium.connector.mongodb.MongoDbSinkConnector" <<<"$help"
! grep -qi "another branch" "$ROOT/sinks/README.md" || { echo "sinks/README.md still calls MongoDB another branch" >&2; exit 1; }
echo "$(echo "$keys" | wc -l) sink keys documented in the README's table and in --help"
