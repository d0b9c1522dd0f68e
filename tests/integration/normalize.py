#!/usr/bin/python3
"""normalize.py: kcat -J lines -> stable text for golden files. Volatile fields (ts_*, lsn, txId,
sequence) are replaced by placeholders on the raw JSON text, so number formatting stays byte-exact.
A topic's schema is printed only when it differs from the previous record's."""
import json
import re
import sys

VOLATILE = [
    (re.compile(r'"(ts_ms|ts_us|ts_ns)":\d+'), r'"\1":"<ts>"'),
    (re.compile(r'"lsn":\d+'), '"lsn":"<lsn>"'),
    (re.compile(r'"txId":\d+'), '"txId":"<txid>"'),
    (re.compile(r'"sequence":"\[(?:null|\\"\d+\\"),\\"\d+\\"\]"'), '"sequence":"<seq>"'),
]


def norm(text):
    for rx, rep in VOLATILE:
        text = rx.sub(rep, text)
    return text


def split(raw):
    """(schema_text, payload_text) of a JsonConverter envelope, or (None, raw)."""
    if raw is None:
        return None, None
    if raw.startswith('{"schema":') and raw.endswith('}'):
        i = raw.find(',"payload":')
        return raw[10:i], raw[i + 11:-1]
    return None, raw


last = {}
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    rec = json.loads(line)
    t = rec["topic"]
    ks, kp = split(rec.get("key"))
    vs, vp = split(rec.get("payload"))
    out = []
    if last.get(t) is None:
        out.append(f"## {t}")
    prev = last.get(t, (None, None))
    if ks is not None and ks != prev[0]:
        out.append(f"key-schema: {ks}")
    if vs is not None and vs != prev[1]:
        out.append(f"value-schema: {vs}")
    last[t] = (ks if ks is not None else prev[0], vs if vs is not None else prev[1])
    hdrs = rec.get("headers") or []
    hs = "; ".join(f"{hdrs[i]}={hdrs[i + 1]}" for i in range(0, len(hdrs), 2)
                   if not hdrs[i].startswith("__debezium.context."))
    out.append(f"key: {kp if kp is not None else 'NULL'}")
    out.append(f"value: {norm(vp) if vp is not None else 'NULL'}")
    if hs:
        out.append(f"headers: {hs}")
    print("\n".join(out))
