#!/usr/bin/env bash
# test_reference.sh: differential tests against the real Debezium 3.6.1 on Kafka Connect 4.4.0 (see
# tests/reference/): the same workload through both, compared record by record; the type matrix
# (types_diff.sh: every built-in type, handling modes, defaults, snapshot and streaming); the initial snapshot
# of the same tables through both; numeric at its edges in every decimal mode, JSON and Avro
# (numeric_diff.sh); snapshot.mode=initial_only run twice (initial_only_diff.sh); then Debezium and walcast taking over each other's offsets.
set -euo pipefail
here=$(cd "$(dirname "$0")/../reference" && pwd)
bash "$here/differential.sh"
bash "$here/types_diff.sh"
bash "$here/snapshot_diff.sh"
bash "$here/numeric_diff.sh"
bash "$here/initial_only_diff.sh"
bash "$here/takeover.sh"
