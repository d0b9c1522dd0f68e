#!/usr/bin/env bash
# test_transforms_reference_avro.sh: test_transforms_reference.sh's transform chains with Avro keys and
# values (tests/reference/transforms_diff.sh with REF_AVRO=1): Debezium 3.6.1 on Kafka Connect 4.4.0 writes
# through Apicurio Registry 2.6.13's AvroConverter in its Confluent-compatible mode into an Apicurio
# Registry, walcast through its own AvroConverter into the registry fixture; every topic's records are
# decoded on each side with the schemas its registry holds and compared (schemas as registered, values,
# keys, partitions, headers), and every subject version by version. TF_PAIRS picks the pairs (default: 22 of
# transforms_diff.sh's 24; TF_PAIRS="t1 t2 ..." for others). Not in the default: t10 and tp2, whose
# transforms put some of one key's events on a partition of their choosing and leave others on murmur2 of
# the key bytes, which hold each registry's own schema id (t10's EventRouter routes by a field; tp2's
# PartitionRouting leaves a delete alone when its `before` holds none of the routing fields, as REPLICA
# IDENTITY USING INDEX gives only the key). The comparer pairs a key's records in partition order, so when
# the two sides' murmur2 partitions fall differently around the routed ones, two of one key's events are
# compared with each other's (a swap: 4 "differences" in tp2; t10 passes or not by the registries' ids).
# The JSON runs of both, whose key bytes are equal on both sides, find no difference.
set -euo pipefail
export REF_AVRO=1
export TF_PAIRS=${TF_PAIRS:-t1 t2 t3 t4 t5 t6 t7 t8 t9 tc1 tc2 tt1 tt2 tp1 tr1 th1 th2 th3 t11 t12 t13 tr2}
exec bash "$(cd "$(dirname "$0")/../reference" && pwd)/transforms_diff.sh"
