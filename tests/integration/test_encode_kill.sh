#!/usr/bin/env bash
# test_encode_kill.sh: per-key order, no loss and no duplicate with the stream encoded on several encoder
# threads (walcast.encode.threads=3; JSON with schemas, the default and costliest converter) under SIGKILLs.
# Four tables of many keys, their topics of 3 partitions each; a writer's transactions each add 1 to the
# version v of a few hundred keys of every table (so the records of one source transaction are spread over
# the threads), plus hot keys, inserts and deletes. walcast is SIGKILLed KILLS times while it streams, at
# random moments (inside Kafka transactions, during their commits, with records queued for the encoders).
# In what a read_committed consumer gets, per key: the first update of a key that existed before has
# v = 1, each update's v is exactly the one before + 1 (none lost, none twice, none reordered), nothing
# follows a delete, and the replay equals the table.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
ROWS=${ENCODE_KILL_ROWS:-10000}
KILLS=${ENCODE_KILL_KILLS:-6}
TABLES="t1 t2 t3 t4"
for t in $TABLES; do
  psql_q -c "CREATE TABLE $t (id int PRIMARY KEY, v int NOT NULL, pad text)" \
    -c "INSERT INTO $t SELECT g, 0, repeat('x', 40) FROM generate_series(1, $ROWS) g"
done
kafka_start --partitions 3 --topic srv.public.t1 --topic srv.public.t2 --topic srv.public.t3 --topic srv.public.t4
"$PY" "$ROOT/tests/integration/kafka_admin.py" "$BS" create --partitions 1 connect-offsets
cfg=$(connector_file enc "walcast.encode.threads=3" "walcast.transaction.max.ms=50" "status.update.interval.ms=300")
# the slot exists (and so every change is captured) from the first start on
walcast_start "$cfg"
grep -q 'msg="encoder threads started".*threads=3' "$IT_DIR/walcast.log" || { echo "no 'encoder threads started' threads=3 line" >&2; exit 1; }

# the writer: transactions touching many keys of every table, until told to stop
(
  i=0
  while [ ! -e "$IT_DIR/stop-writer" ]; do
    i=$((i + 1))
    sql="BEGIN;"
    for t in $TABLES; do
      sql="$sql UPDATE $t SET v = v + 1 WHERE id % 40 = $((i % 40));"
      sql="$sql UPDATE $t SET v = v + 1 WHERE id = $(( (i * 31) % 100 + 1 ));"   # a few hot keys
    done
    sql="$sql INSERT INTO t$((i % 4 + 1)) VALUES ($((ROWS + i)), 0, 'new');"
    [ $((i % 5)) -eq 0 ] && sql="$sql DELETE FROM t$((i % 4 + 1)) WHERE id = $(( (i * 104723) % ROWS + 101 ));"
    echo "$sql COMMIT;"
    sleep 0.005
  done | psql -X -q -v ON_ERROR_STOP=1 >/dev/null
) &
writer=$!

# the first kill a random moment 0.1-1 s into the run (the writer keeps the stream busy meanwhile)
kill_streaming "$KILLS" "$cfg"
echo "$KILLS SIGKILLs while streaming"
walcast_spawn "$cfg"
wait_log 'replication started' "$((KILLS + 1))" 60
touch "$IT_DIR/stop-writer"
wait "$writer"
wait_published debezium 180
walcast_stop
for t in $TABLES; do
  # partition, key and value a line (JsonConverter's text has no raw tab or newline; a tombstone's value is empty)
  kcat -C -b "$BS" -t "srv.public.$t" -o beginning -X isolation.level=read_committed -e -q -f '%p\t%k\t%s\n' >"$IT_DIR/$t.tsv"
  psql -X -At -c "SELECT id, v FROM $t" >"$IT_DIR/$t.rows"
done
"$PY" - "$IT_DIR" "$ROWS" $TABLES <<'PYEOF'
import json, sys
d, rows, tables = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
total = 0
def payload(s):
    # the envelope's "payload" member parsed alone (it ends the text; its schema, ~70% of the bytes, is not read):
    # the checks read hundreds of thousands of events, 4x the CPU when each envelope was parsed whole
    return json.loads(s[s.rindex(',"payload":') + 11:-1])
for t in tables:
    last = {}        # key -> (op, v) of its last event
    part = {}        # key -> partition (a key stays on one partition)
    state = {}
    ups = 0
    for line in open(f"{d}/{t}.tsv"):
        p, key, value = line.rstrip("\n").split("\t")
        k = payload(key)["id"]
        assert part.setdefault(k, p) == p, f"{t} key {k} on two partitions"
        if not value:
            continue   # tombstone
        e = payload(value)
        op = e["op"]
        prev = last.get(k)
        assert not prev or prev[0] != "d", f"{t} key {k}: {op} after its delete"
        if op == "d":
            last[k] = ("d", None)
            state.pop(k, None)
            continue
        v = e["after"]["v"]
        if op == "c":
            assert not prev and v == 0, f"{t} key {k}: create with v={v} after {prev}"
        elif op == "u":
            want = prev[1] + 1 if prev else (1 if k <= rows else None)
            assert want is not None and v == want, f"{t} key {k}: update to v={v} after {prev} (lost, repeated or reordered)"
            ups += 1
        else:
            raise AssertionError(f"{t} key {k}: unexpected op {op}")
        last[k] = (op, v)
        state[k] = v
    want = {}
    for line in open(f"{d}/{t}.rows"):
        i, v = line.strip().split("|")
        if int(v) > 0 or int(i) > rows:
            want[int(i)] = int(v)   # keys never changed since the slot exists are not in Kafka
    got = {k: v for k, v in state.items()}
    assert got == want, f"{t}: replay != table: missing {len(set(want) - set(got))}, extra {len(set(got) - set(want))}, " \
        f"differing {sum(1 for k in want if k in got and got[k] != want[k])}"
    total += ups
    print(f"{t}: {len(want)} keys in order over {len(set(part.values()))} partitions ({ups} updates)")
assert total > 10000, f"only {total} updates: the kills did not meet a busy stream"
PYEOF
