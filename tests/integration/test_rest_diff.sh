#!/usr/bin/env bash
# test_rest_diff.sh: the same sequence of REST requests (create, duplicate, status, config get/put/patch,
# bad JSON, unknown connector, invalid config, validate, pause/resume/stop, restart with includeTasks and
# onlyFailed, offsets while stopped and while running, topics and reset, plugin configs, a finished
# initial_only connector, a JDBC sink's offsets, delete, loggers) sent to a real
# Kafka Connect 4.4 worker with Debezium 3.6.1 (scripts/connect.sh, distributed) and to walcast, both on
# one PostgreSQL and one Kafka; status codes and JSON shapes compared by rest_diff.py. A difference not
# listed there (and in docs/compatibility.md) fails the test.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY)"
kafka_start
bash "$ROOT/scripts/connect.sh" start --bootstrap "$BS" --dir "$IT_DIR/connect" --offsets-topic it_diff_connect_offsets \
  >"$IT_DIR/connect.out" 2>"$IT_DIR/connect-start.log"
# shellcheck disable=SC1091
. "$IT_DIR/connect/env"
IT_PIDS+=($CONNECT_PID)
rest_worker_start diff_w "offset.storage.topic=it_diff_w_offsets"
"$PY" "$ROOT/tests/integration/rest_diff.py" "$CONNECT_REST" "http://127.0.0.1:$PORT" "$PGPORT" | tee "$IT_DIR/diff.txt"
