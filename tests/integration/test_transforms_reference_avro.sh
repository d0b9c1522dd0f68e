#!/usr/bin/env bash
# test_transforms_reference_avro.sh: test_transforms_reference.sh's transform chains with Avro keys and
# values (tests/reference/transforms_diff.sh with REF_AVRO=1): Debezium 3.6.1 on Kafka Connect 4.4.0 writes
# through Apicurio Registry 2.6.13's AvroConverter in its Confluent-compatible mode into an Apicurio
# Registry, walcast through its own AvroConverter into the registry fixture; every topic's records are
# decoded on each side with the schemas its registry holds and compared (schemas as registered, values,
# keys, partitions, headers), and every subject version by version. TF_PAIRS picks the pairs (default: a
# subset covering each transform and predicate kind once; TF_PAIRS="t1 t2 ..." for all of them).
set -euo pipefail
export REF_AVRO=1
export TF_PAIRS=${TF_PAIRS:-t1 t2 t3 t4 t7 t8 t9 tc1 tt1 tp1 th1 th3 t11 t13}
exec bash "$(cd "$(dirname "$0")/../reference" && pwd)/transforms_diff.sh"
