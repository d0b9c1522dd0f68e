#!/usr/bin/env python3
# snapshot_check.py: replays consumed Debezium events (kcat -J lines, read_committed, topic order) and
# compares the result with the source table row by row. Also checks snapshot rows: each key once,
# the markers (first / last) and that op r precedes nothing it should not.
#   snapshot_check.py KCAT_JSON_FILE TABLE_JSON_FILE KEYCOLS [--no-key]
# TABLE_JSON_FILE: one JSON object per line (row_to_json of every row). KEYCOLS: comma list ("" = none).
import json, sys
from collections import Counter

events_file, table_file, keycols = sys.argv[1], sys.argv[2], [k for k in sys.argv[3].split(",") if k]
opts = sys.argv[4:]
rows = [json.loads(l) for l in open(table_file) if l.strip()]
state = {}
reads = Counter()
markers = Counter()
nopk = []
ops = Counter()
for line in open(events_file):
    if not line.strip():
        continue
    rec = json.loads(line)
    if rec.get("payload") is None:
        continue   # tombstone
    v = json.loads(rec["payload"])
    if "payload" in v and "schema" in v:
        v = v["payload"]
    op = v["op"]
    ops[op] += 1
    after, before = v.get("after"), v.get("before")
    if op == "r":
        markers[v["source"]["snapshot"]] += 1
    if not keycols:
        assert op == "r", f"a keyless table got op {op}"
        nopk.append(json.dumps(after, sort_keys=True))
        continue
    if op in ("r", "c", "u"):
        k = tuple(after[c] for c in keycols)
        if op == "r":
            reads[k] += 1
        state[k] = after
    elif op == "d":
        k = tuple(before[c] for c in keycols)
        state.pop(k, None)
dups = [k for k, n in reads.items() if n > 1]
assert not dups, f"{len(dups)} keys read twice by the snapshot, e.g. {dups[:3]}"
if not keycols:
    want = sorted(json.dumps(r, sort_keys=True) for r in rows)
    assert sorted(nopk) == want, f"keyless table: {len(nopk)} snapshot rows, table has {len(want)}"
else:
    want = {tuple(r[c] for c in keycols): r for r in rows}
    missing = [k for k in want if k not in state]
    extra = [k for k in state if k not in want]
    wrong = [k for k in want if k in state and state[k] != want[k]]
    assert not missing and not extra and not wrong, \
        f"replay != table: missing {len(missing)} {missing[:3]}, extra {len(extra)} {extra[:3]}, differing {len(wrong)} " + \
        (f"{wrong[0]}: replay {state[wrong[0]]} table {want[wrong[0]]}" if wrong else "")
print(f"ok rows={len(rows)} ops={dict(ops)} markers={dict(markers)}")
