#!/usr/bin/env bash
# test_sink_reference.sh: walcast's JDBC sink side by side with Debezium's JDBC sink on Kafka Connect
# (tests/reference/sink_diff.sh): same topics, same sink config, into PostgreSQL and MariaDB; the tables
# each creates and fills must be the same but for the differences listed in docs/compatibility.md.
set -euo pipefail
exec bash "$(cd "$(dirname "$0")/../reference" && pwd)/sink_diff.sh"
