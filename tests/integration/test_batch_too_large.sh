#!/usr/bin/env bash
# test_batch_too_large.sh: walcast's producers send batches larger than 1 MB by default (README, Batching),
# but a topic's max.message.bytes (1 MB: the broker's default, as here) bounds a batch as the broker stores
# it, compressed. Rows that do not compress (random bytea, ~4 KB a record in base64), thousands per
# transaction, make a batch the broker refuses as too large (MESSAGE_TOO_LARGE) although every record is
# far below the limit. walcast must not stop for good, lose or duplicate anything: it aborts the
# transaction, goes on with 1 MB batches, sends it again, and says so in one warning naming the setting.
# Every row then arrives exactly once, in order per key (read_committed), with the updates after the inserts.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE noise (id int PRIMARY KEY, v bytea)"
kafka_start --topic srv.public.noise --topic srv.public.noisesnap --topic connect-offsets
cfg=$(connector_file noise "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
walcast_start "$cfg"

# published WHAT: waits (bounded, 180 s) until walcast has committed everything written so far; fails at once
# when walcast stops meanwhile
published() {
  for _ in $(seq 1 36); do
    kill -0 "$WALCAST_PID" 2>/dev/null || {
      echo "walcast stopped $1" >&2
      grep 'level=fatal\|level=error' "$IT_DIR/walcast.log" | cut -c1-400 >&2
      return 1
    }
    wait_published debezium 5 2>/dev/null && return 0
  done
  echo "not published within 180 s $1" >&2
  return 1
}
# insert_rows FROM TO: one transaction of rows FROM..TO, each with 3,008 bytes that do not compress
insert_rows() {
  psql_q -c "INSERT INTO noise SELECT i, (SELECT string_agg(sha256(convert_to(i || '.' || j || '.' || random(), 'UTF8')), ''::bytea)
             FROM generate_series(1, 94) j) FROM generate_series($1, $2) i"
}
# 4 transactions of 1,500 rows: ~6 MB of records each, incompressible
for t in 0 1 2 3; do insert_rows $((t * 1500 + 1)) $((t * 1500 + 1500)); done
published "on the refused batch"
n=$(grep -c 'Kafka refused a batch as too large' "$IT_DIR/walcast.log" || true)
[ "$n" -eq 1 ] || { echo "expected one warning about the refused batch, found $n" >&2; grep 'level=warn\|level=error' "$IT_DIR/walcast.log" | cut -c1-400 >&2; exit 1; }
grep 'Kafka refused a batch as too large' "$IT_DIR/walcast.log" | grep -q 'producer.batch.size' ||
  { echo "the warning does not name the setting that avoids it" >&2; exit 1; }
grep -o 'level=warn msg="Kafka refused a batch.*' "$IT_DIR/walcast.log" | cut -c1-400

# after the fallback: more large transactions, and an update of the first 500 rows in one transaction
insert_rows 6001 7500
insert_rows 7501 9000
psql_q -c "UPDATE noise SET v = v || '\x00'::bytea WHERE id <= 500"
published "after the fallback"
[ "$(grep -c 'Kafka refused a batch as too large' "$IT_DIR/walcast.log")" -eq 1 ] || { echo "refused again after the fallback" >&2; exit 1; }
walcast_stop

kcat -C -b "$BS" -t srv.public.noise -o beginning -X isolation.level=read_committed -e -q -f '%k\t%s\n' >"$IT_DIR/events.txt"
"$PY" - "$IT_DIR/events.txt" <<'PYEOF'
import json, sys
events = []
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("\t", 1)
    events.append((json.loads(k)["id"], json.loads(v)["op"]))
creates = [i for i, op in events if op == "c"]
updates = [i for i, op in events if op == "u"]
assert len(events) == len(creates) + len(updates), "events other than c/u"
assert creates == list(range(1, 9001)), f"creates not 1..9000 once each in order: {len(creates)}, {creates[:3]}...{creates[-3:]}"
assert updates == list(range(1, 501)), f"updates not 1..500 once each in order: {len(updates)}"
assert events[-500:] == [(i, "u") for i in range(1, 501)], "an update before the inserts"
print(f"{len(creates)} creates and {len(updates)} updates, each once, in order, read_committed")
PYEOF
echo "a batch refused as too large is sent again in 1 MB batches; nothing lost or duplicated"

# the same during an initial snapshot (its chunks are sent again after the rewind): 6,000 such rows read by a
# new connector with snapshot.mode=initial
psql_q -c "CREATE TABLE noisesnap (id int PRIMARY KEY, v bytea)"
psql_q -c "INSERT INTO noisesnap SELECT i, (SELECT string_agg(sha256(convert_to(i || '.' || j || '.' || random(), 'UTF8')), ''::bytea)
           FROM generate_series(1, 94) j) FROM generate_series(1, 6000) i"
snapcfg=$(connector_file noisesnap "name=snapit" "slot.name=snapit" "snapshot.mode=initial" "table.include.list=public.noisesnap" \
  "key.converter.schemas.enable=false" "value.converter.schemas.enable=false")
: >"$IT_DIR/walcast.log"
walcast_spawn "$snapcfg"
wait_topic srv.public.noisesnap 6000 180 || { grep 'level=fatal\|level=error' "$IT_DIR/walcast.log" | cut -c1-400 >&2; exit 1; }
kill -0 "$WALCAST_PID" 2>/dev/null || { echo "walcast stopped in the snapshot" >&2; exit 1; }
[ "$(grep -c 'Kafka refused a batch as too large' "$IT_DIR/walcast.log")" -eq 1 ] || { echo "no (or more than one) warning in the snapshot" >&2; exit 1; }
walcast_stop
kcat -C -b "$BS" -t srv.public.noisesnap -o beginning -X isolation.level=read_committed -e -q -f '%k\n' >"$IT_DIR/snapids.txt"
"$PY" - "$IT_DIR/snapids.txt" <<'PYEOF'
import json, sys
ids = sorted(json.loads(l)["id"] for l in open(sys.argv[1]) if l.strip())
assert ids == list(range(1, 6001)), f"snapshot rows not 1..6000 once each: {len(ids)}"
print(len(ids), "snapshot rows, each once, read_committed")
PYEOF
echo "also in a snapshot"
