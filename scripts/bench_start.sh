#!/usr/bin/env bash
# bench_start.sh: how long walcast takes from its start to its first change visible in Kafka, next to
# pg_recvlogical's start -> first change on the same server. One throwaway PostgreSQL and one Kafka broker
# (bench_lib.sh); one change waits in each slot when its reader starts (written, then flushed with
# scripts/pg-flush.sh). Each round:
#   pg_recvlogical   (pgoutput, the slot's own speed) process start -> the first byte it writes
#   walcast, topic exists    process start -> the change readable by a read_committed consumer (the last stable
#                            offset of its topic's partition moved: bench_tool.py startvis), then SIGINT
#   walcast, new topic       the same for a table created for the round: its topic does not exist, the broker
#                            auto-creates it on walcast's first request for it
# Printed: medians of BENCH_START_RUNS rounds (5), with walcast's own "replication started" startup_ms beside
# them; before the rounds, one start on the new broker (its first transactional requests: the broker creates
# and loads __transaction_state) that is not in the medians.
#   BENCH_WALCAST=<binary>   the build to time (default build/walcast)
#   BENCH_START_AB=<binary>  another build in the same rounds, alternating which goes first; both medians
#   BENCH_KEEP=<dir>         keeps the logs
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/bench_lib.sh
. "$ROOT/scripts/bench_lib.sh"
RUNS=${BENCH_START_RUNS:-5}
A=${BENCH_WALCAST:-$ROOT/build/walcast}
B=${BENCH_START_AB:-}
[ -x "$A" ] || { echo "bench-start: $A not built (make)" >&2; exit 1; }
[ -z "$B" ] || [ -x "$B" ] || { echo "bench-start: BENCH_START_AB=$B is not an executable" >&2; exit 1; }

bench_init bench-start start
bench_servers
echo "bench-start: Kafka at $BS, PostgreSQL on port $PGPORT; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
q -c "CREATE TABLE s (id serial PRIMARY KEY, v int)" -c "CREATE PUBLICATION start_pub FOR ALL TABLES" \
  -c "SELECT 1 FROM pg_create_logical_replication_slot('startbench', 'pgoutput')" \
  -c "SELECT 1 FROM pg_create_logical_replication_slot('startrecv', 'pgoutput')" >/dev/null
echo "bootstrap.servers=$BS" >"$WORK/worker.properties"
printf '%s\n' "name=startbench" "connector.class=io.debezium.connector.postgresql.PostgresConnector" \
  "database.hostname=127.0.0.1" "database.port=$PGPORT" "database.user=postgres" "database.dbname=postgres" \
  "topic.prefix=sb" "slot.name=startbench" "publication.name=start_pub" "snapshot.mode=no_data" \
  >"$WORK/c.properties"

flush() { bash "$ROOT/scripts/pg-flush.sh"; }
# vis BIN TOPIC -> VIS (ms to the change visible), UP (walcast's startup_ms: process loaded -> replication started)
vis() {
  VIS=$(/usr/bin/python3 "$TOOL" startvis "$BS" "$2" 60 "$WORK/walcast.log" env WALCAST_LOG=debug "$1" run \
    --worker "$WORK/worker.properties" "$WORK/c.properties") || die "walcast's change did not show: $(tail -3 "$WORK/walcast.log")"
  UP=$(grep 'msg="replication started"' "$WORK/walcast.log" | tail -1 | sed -n 's/.* startup_ms=\([0-9]*\).*/\1/p')
}
declare -A R
ntab=0
# one_round WHICH(A|B) BIN: the two walcast starts of one build
one_round() {
  q -c "INSERT INTO s (v) VALUES (1)" && flush
  vis "$2" sb.public.s; R[$1,same]+=" $VIS"; R[$1,sameup]+=" $UP"
  ntab=$((ntab + 1))
  q -c "CREATE TABLE n$ntab (id int PRIMARY KEY)" -c "INSERT INTO n$ntab VALUES (1)" && flush
  vis "$2" "sb.public.n$ntab"; R[$1,new]+=" $VIS"; R[$1,newup]+=" $UP"
}

# the first start on this broker (new topic too), apart
q -c "INSERT INTO s (v) VALUES (0)" && flush
vis "$A" sb.public.s
echo "bench-start: first start on the new broker (topic new too): ${VIS} ms to visible, replication started at ${UP} ms"

RECV=()
for ((r = 1; r <= RUNS; r++)); do
  flush
  q -c "SELECT 1 FROM pg_replication_slot_advance('startrecv', pg_current_wal_flush_lsn())" >/dev/null
  q -c "INSERT INTO s (v) VALUES (2)" && flush
  RECV+=("$(/usr/bin/python3 "$TOOL" firstbyte 60 -d "host=127.0.0.1 port=$PGPORT user=postgres dbname=postgres" \
    --slot startrecv --start -o proto_version=1 -o publication_names=start_pub -f -)") || die "pg_recvlogical wrote nothing"
  if [ -z "$B" ]; then one_round A "$A"
  elif [ $((r % 2)) -eq 1 ]; then one_round A "$A"; one_round B "$B"
  else one_round B "$B"; one_round A "$A"; fi
  echo "bench-start: round $r: pg_recvlogical ${RECV[-1]} ms; walcast $(for k in A ${B:+B}; do
    printf '%s: exists %s, new %s ms; ' "$k" "${R[$k,same]##* }" "${R[$k,new]##* }"; done)"
done

echo
echo "== start -> first change, one change waiting in the slot (medians of $RUNS rounds; load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%-64s %10s\n' "pg_recvlogical (pgoutput): start -> first byte" "$(median "${RECV[@]}") ms"
for k in A ${B:+B}; do
  bin=$A; [ "$k" = B ] && bin=$B
  # shellcheck disable=SC2086
  {
    printf '%-64s %10s   (replication started: %s ms)\n' "walcast $k ($bin), topic exists: start -> visible" \
      "$(median ${R[$k,same]}) ms" "$(median ${R[$k,sameup]})"
    printf '%-64s %10s   (replication started: %s ms)\n' "walcast $k, new topic (auto-created): start -> visible" \
      "$(median ${R[$k,new]}) ms" "$(median ${R[$k,newup]})"
  }
done
