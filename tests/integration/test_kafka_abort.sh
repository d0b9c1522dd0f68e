#!/usr/bin/env bash
# test_kafka_abort.sh: the broker refuses records for good (INVALID_RECORD) in the middle of a workload:
# the Kafka transaction must be aborted, walcast rewinds to the last committed offset and goes on by
# itself. Nothing may be missing and per-key order must hold (test_crash.sh in abort mode); the 2.0.2
# mock keeps the aborted transaction's records visible, so re-sent whole transactions are counted.
CRASH_MODE=abort exec bash "$(dirname "$0")/test_crash.sh"
