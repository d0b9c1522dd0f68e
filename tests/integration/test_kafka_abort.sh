#!/usr/bin/env bash
# test_kafka_abort.sh: the real broker aborts walcast's open Kafka transaction (walcast frozen past
# its transaction timeout, twice): walcast aborts, rewinds to the last committed offset and goes on by
# itself; every change exactly once, in order (test_crash.sh in abort mode).
CRASH_MODE=abort exec bash "$(dirname "$0")/test_crash.sh"
