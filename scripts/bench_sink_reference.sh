#!/usr/bin/env bash
# bench_sink_reference.sh: the reference for walcast's apply rate: Debezium's JDBC sink (3.6.0.Final on
# Kafka Connect 4.4.0 standalone, scripts/connect.sh) applying a topic of SINK_BENCH_ROWS rows (default
# 200000, produced by walcast's source) into PostgreSQL, then into MariaDB, each alone, from the moment
# its task is RUNNING until the target holds every row. Prints one line per target:
#   jdbc_sink_rows_per_s postgresql N (ROWS rows in S s)
#   jdbc_sink_rows_per_s mariadb N (...)
# Same sink settings as walcast's sink tests (upsert, record_key, schema.evolution=basic, batch.size=500).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/walcast ] || make -s
SINK_BENCH_ROWS=${SINK_BENCH_ROWS:-200000} bash tests/reference/sink_capture.sh --bench | grep '^jdbc_sink_rows_per_s'
