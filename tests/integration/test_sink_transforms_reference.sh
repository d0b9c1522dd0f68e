#!/usr/bin/env bash
# test_sink_transforms_reference.sh: sinks with transforms= side by side with Debezium's JDBC sink on Kafka
# Connect (tests/reference/sink_diff.sh with SINK_DIFF_TRANSFORMS=1): both unwrap the envelopes themselves
# (ExtractNewRecordState) and name tables by a RegexRouter's topic; the tables must be the same but for
# the differences listed in docs/compatibility.md.
set -euo pipefail
SINK_DIFF_TRANSFORMS=1 exec bash "$(cd "$(dirname "$0")/../reference" && pwd)/sink_diff.sh"
