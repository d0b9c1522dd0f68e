#!/usr/bin/env bash
# test_transforms_reference.sh: transforms= and predicates= diffed against Kafka Connect 4.4.0 running
# Debezium 3.6.1 and Kafka's own transforms (tests/reference/transforms_diff.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/../reference" && pwd)
bash "$here/transforms_diff.sh"
