#!/usr/bin/env bash
# test_kafka_faults.sh: broker faults on the mock cluster (walcast kafka --brokers 3 --control) while a
# workload streams: request errors on Produce, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn, the
# partition leader down then up, the transaction coordinator moved. walcast must keep running without
# a restart, and the read_committed consumer must get exactly the reference sequence (test_crash.sh
# in faults mode).
CRASH_MODE=faults exec bash "$(dirname "$0")/test_crash.sh"
