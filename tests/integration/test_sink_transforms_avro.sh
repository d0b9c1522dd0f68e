#!/usr/bin/env bash
# test_sink_transforms_avro.sh: test_sink_transforms.sh with Avro on the wire (the sources write through the
# schema registry fixture; the sinks decode the Confluent wire format before their transforms).
SINK_FORMAT=avro exec bash "$(dirname "$0")/test_sink_transforms.sh"
