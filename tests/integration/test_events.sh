#!/usr/bin/env bash
# test_events.sh: every supported type, op, replica identity, TOAST, key change, message, truncate,
# masking and hostile identifiers, streamed through walcast to the embedded Kafka, read back with kcat
# and compared with golden/events.txt (volatile fields normalised).
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -f "$ROOT/tests/integration/sql/schema.sql"
TOPICS=(srv.public.types_all srv.public.ident_default srv.public.ident_full srv.public.ident_index
        srv.public.ident_nothing srv.public.toasty srv.public.toasty_full "srv.Odd_Schema.We_ird__DROP_TABLE_x__--"
        srv.message srv.public.truncme srv.public.masked srv.public.keyed srv.public.sentinel)
args=(); for t in "${TOPICS[@]}"; do args+=(--topic "$t"); done
kafka_start "${args[@]}"
cfg=$(connector_file events \
  "skipped.operations=none" \
  "column.mask.with.4.chars=public\\.masked\\.secret" \
  "column.truncate.to.5.chars=public.masked.long_text" \
  "column.mask.hash.v2.SHA-256.with.salt.pepper=public.masked.hashed" \
  "column.exclude.list=public.masked.skipme" \
  "message.key.columns=public.keyed:a,b" \
  "table.exclude.list=public.excluded_.*")
walcast_start "$cfg"
psql_q -f "$ROOT/tests/integration/sql/workload.sql" >/dev/null
wait_topic srv.public.sentinel 1
wait_published
consume "${TOPICS[@]}" >"$IT_DIR/raw.jsonl"
# every change record carries Debezium's context headers (message records carry none, as Debezium's)
$PY - "$IT_DIR/raw.jsonl" <<'PYEOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line); h = r.get("headers") or []
    d = dict(zip(h[0::2], h[1::2]))
    n += 1
    if r["topic"] == "srv.message":
        assert not h, r
        continue
    assert d.get("__debezium.context.connectorLogicalName") == "srv", r
    assert d.get("__debezium.context.taskId") == "0", r
    assert d.get("__debezium.context.connectorName") == "postgresql", r
assert n == 40, f"expected 40 records, got {n}"
PYEOF
$PY "$ROOT/tests/integration/normalize.py" <"$IT_DIR/raw.jsonl" >"$IT_DIR/events.txt"
golden_check events.txt "$IT_DIR/events.txt"
walcast_stop
grep -q "walcast stopped" "$IT_DIR/walcast.log"
