#!/usr/bin/env bash
# test_crash_commit.sh: exactly once through crashes between the Kafka commit and the LSN flush
# (test_crash.sh in commit mode): no record missing, none twice, in commit order.
CRASH_MODE=commit exec bash "$(dirname "$0")/test_crash.sh"
