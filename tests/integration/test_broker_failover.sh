#!/usr/bin/env bash
# test_broker_failover.sh: three real brokers; under the mixed workload the data partition's leader is
# killed (kill -9), then, once it is back, the transaction coordinator. walcast rides through both
# without a restart; every change exactly once, in order (test_crash.sh in failover mode).
CRASH_MODE=failover exec bash "$(dirname "$0")/test_crash.sh"
