#!/usr/bin/env bash
# bench_codecs.sh (part of `make bench`): Kafka compression codecs for walcast's records (issue 21 B).
# One throwaway PostgreSQL 15 and one real Kafka 4.4.0 broker; BENCH_CODEC_ROWS (100,000) rows in
# transactions of 1,000 are written once, with one slot per codec and format made before, so that every
# run drains the same backlog. For each codec of BENCH_CODECS (none lz4 zstd snappy) and format (JSON with
# schemas, walcast's default converter; Avro through a schema registry), walcast's source runs with
# producer.compression.type=<codec> until its slot is confirmed to the end, and reports:
#   source rows/s        from start to the slot's confirmed position (walcast confirms after the Kafka commit)
#   walcast CPU s/M rows utime+stime of the walcast process per million rows
#   broker CPU s/M rows  the broker's utime+stime over the run, per million rows
#   log bytes/row        the topic's log segments on the broker over rows: Kafka keeps the producer's batches
#                        as they came (topic compression.type=producer), so this is also what the producer
#                        sent, less the request framing
# then a walcast JDBC sink applies that topic into PostgreSQL (the consumer decompresses what the producer
# compressed): sink CPU us/row. Medians of BENCH_CODEC_RUNS (1) runs. Every process started here is stopped
# on exit; BENCH_KEEP=DIR keeps the work folder.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
ROWS=${BENCH_CODEC_ROWS:-100000}
CODECS=${BENCH_CODECS:-none lz4 zstd snappy}
RUNS=${BENCH_CODEC_RUNS:-1}
FORMATS="json avro"
bench_init bench-codecs bench-codecs
bench_servers
bench_registry
echo "bench-codecs: Kafka at $BS, PostgreSQL on port $PGPORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

q -c "CREATE TABLE bench (id int PRIMARY KEY, v int NOT NULL, t text, ts timestamptz, n numeric(12,2))" \
  -c "CREATE PUBLICATION bench_pub FOR TABLE bench" -c "CREATE DATABASE target"
for r in $(seq 1 "$RUNS"); do
  for c in $CODECS; do
    for f in $FORMATS; do q -c "SELECT 1 FROM pg_create_logical_replication_slot('s_${c}_${f}_$r', 'pgoutput')" >/dev/null; done
  done
done
for ((i = 0; i < ROWS; i += 1000)); do
  echo "INSERT INTO bench SELECT g, g * 7, 'row ' || g || ' some text to carry', '2024-01-01'::timestamptz + g * interval '1 s', g / 3.0 FROM generate_series($((i + 1)), $((i + 1000 < ROWS ? i + 1000 : ROWS))) g;"
done | q
END_LSN=$(q -c "SELECT pg_current_wal_insert_lsn()")
flushed() { [ "$(q -c "SELECT confirmed_flush_lsn >= '$END_LSN' FROM pg_replication_slots WHERE slot_name = '$1'")" = t ]; }
conv() {  # format -> converter settings
  [ "$1" = avro ] || return 0
  printf '%s\n' "key.converter=io.confluent.connect.avro.AvroConverter" "key.converter.schema.registry.url=$SR_URL" \
    "value.converter=io.confluent.connect.avro.AvroConverter" "value.converter.schema.registry.url=$SR_URL"
}

declare -A RATE CPU BROKER BYTES SINK
for r in $(seq 1 "$RUNS"); do
  for c in $CODECS; do
    for f in $FORMATS; do
      slot="s_${c}_${f}_$r" prefix="c_${c}_${f}_$r"
      printf '%s\n' "bootstrap.servers=$BS" "producer.compression.type=$c" >"$WORK/worker-$c.properties"
      { printf '%s\n' "name=$prefix" "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" \
          "database.dbname=postgres" "topic.prefix=$prefix" "slot.name=$slot" "publication.name=bench_pub" \
          "publication.autocreate.mode=disabled" "snapshot.mode=no_data" "status.update.interval.ms=50"
        conv "$f"; } >"$WORK/$prefix.properties"
      b0=$(cpu_of "$BROKER_PID")
      t0=$(now)
      "$ROOT/build/walcast" run --worker "$WORK/worker-$c.properties" "$WORK/$prefix.properties" >/dev/null 2>"$WORK/$prefix.log" &
      pid=$!
      PIDS+=($pid)
      for _ in $(seq 1 12000); do
        flushed "$slot" && break
        kill -0 $pid 2>/dev/null || die "walcast ($c, $f) exited: $(tail -3 "$WORK/$prefix.log")"
        sleep 0.05
      done
      flushed "$slot" || die "walcast ($c, $f) did not confirm its slot within 600 s"
      t1=$(now)
      cpu=$(cpu_of $pid)
      b1=$(cpu_of "$BROKER_PID")
      kill -INT $pid; wait $pid || true
      bytes=$(find "$KDIR"/node1/data -path "*/$prefix.public.bench-*" -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
      RATE[$c.$f]="${RATE[$c.$f]:-} $(calc "%.0f" "$ROWS / ($t1 - $t0)")"
      CPU[$c.$f]="${CPU[$c.$f]:-} $(calc "%.2f" "1e6 * $cpu / $ROWS")"
      BROKER[$c.$f]="${BROKER[$c.$f]:-} $(calc "%.2f" "1e6 * ($b1 - $b0) / $ROWS")"
      BYTES[$c.$f]="${BYTES[$c.$f]:-} $(calc "%.0f" "$bytes / $ROWS")"
      # the sink side: the consumer decompresses and decodes the same topic into PostgreSQL
      table="${prefix}_public_bench"
      { printf '%s\n' "name=sink-$prefix" "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector" \
          "topics=$prefix.public.bench" "connection.url=jdbc:postgresql://127.0.0.1:$PGPORT/target" \
          "connection.username=postgres" "insert.mode=upsert" "primary.key.mode=record_key" "schema.evolution=basic"
        conv "$f" | grep '^value' || true; } >"$WORK/sink-$prefix.properties"
      "$ROOT/build/walcast" run --worker "$WORK/worker-$c.properties" "$WORK/sink-$prefix.properties" >/dev/null 2>"$WORK/sink-$prefix.log" &
      pid=$!
      PIDS+=($pid)
      for _ in $(seq 1 12000); do
        [ "$(q -d target -c "SELECT count(*) FROM $table" 2>/dev/null || echo 0)" -ge "$ROWS" ] && break
        kill -0 $pid 2>/dev/null || die "sink ($c, $f) exited: $(tail -3 "$WORK/sink-$prefix.log")"
        sleep 0.05
      done
      cpu=$(cpu_of $pid)
      kill -INT $pid; wait $pid || true
      SINK[$c.$f]="${SINK[$c.$f]:-} $(calc "%.1f" "1e6 * $cpu / $ROWS")"
      echo "bench-codecs: run $r $c $f: $(median ${RATE[$c.$f]}) rows/s, log $(median ${BYTES[$c.$f]}) B/row" >&2
    done
  done
done

echo
echo "== Kafka compression codecs: $ROWS rows (5 columns), median of $RUNS run(s); load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %12s %17s %16s %14s %14s\n' "codec, format" "source rows/s" "walcast CPU s/M" "broker CPU s/M" "log B/row" "sink CPU us/row"
for f in $FORMATS; do
  for c in $CODECS; do
    printf '%-22s %12s %17s %16s %14s %14s\n' "$c, $([ "$f" = json ] && echo "JSON+schemas" || echo Avro)" \
      "$(median ${RATE[$c.$f]})" "$(median ${CPU[$c.$f]})" "$(median ${BROKER[$c.$f]})" "$(median ${BYTES[$c.$f]})" \
      "$(median ${SINK[$c.$f]})"
  done
done
