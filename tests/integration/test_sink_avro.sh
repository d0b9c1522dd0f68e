#!/usr/bin/env bash
# test_sink_avro.sh: test_sink_jdbc.sh with Avro on the wire: walcast's source writes through the schema
# registry fixture (AvroConverter) and the PostgreSQL and MariaDB sinks decode the Confluent wire format
# with writer schemas fetched by id; the same row-by-row comparison, with 2 SIGKILLs.
SINK_FORMAT=avro SINK_KILLS=${SINK_KILLS:-2} exec bash "$(dirname "$0")/test_sink_jdbc.sh"
