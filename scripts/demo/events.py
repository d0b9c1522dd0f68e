#!/usr/bin/python3
# events.py: the demo's event lines. Follows the files kcat writes (one a topic, lines of
# "topic TAB key TAB value", Kafka Connect JSON with schemas) and prints one compact line a change event:
#   HH:MM:SS  demo.public.orders     u  id=203
# The snapshot's events (op r) are not listed one by one: once a topic's stop coming for a second (or its
# first streamed event arrives), one line sums them up (count, first and last key). Tombstones (the null
# record after each delete) are counted, not shown. Ends at EOF of nothing: the demo stops it (SIGTERM).
#   events.py FILE...
import json
import os
import signal
import sys
import time

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def key_text(raw):
    """The key's fields as name=value (the payload of a JSON-with-schemas key, or a schemaless one)."""
    try:
        k = json.loads(raw)
    except ValueError:
        return raw[:40]
    if isinstance(k, dict) and "payload" in k and "schema" in k:
        k = k["payload"]
    if isinstance(k, dict):
        return " ".join(f"{n}={v}" for n, v in k.items())
    return str(k)


def out(line):
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        sys.exit(0)


class Topic:
    def __init__(self, name):
        self.name = name
        self.snap = 0        # op r events not summed up yet
        self.snap_first = self.snap_last = ""
        self.snap_at = 0.0

    def flush_snapshot(self):
        if self.snap:
            rng = self.snap_first if self.snap == 1 else f"{self.snap_first} … {self.snap_last}"
            out(f"snapshot  {self.name:<22} r  {self.snap} rows ({rng})")
            self.snap = 0


def main(paths):
    files = {p: None for p in paths}
    partial = {p: "" for p in paths}
    topics = {}
    width = 22
    while True:
        got = False
        for p in paths:
            if files[p] is None:
                try:
                    files[p] = open(p, "r", encoding="utf-8", errors="replace")
                except FileNotFoundError:
                    continue
            chunk = files[p].read()
            if not chunk:
                continue
            got = True
            data = partial[p] + chunk
            lines = data.split("\n")
            partial[p] = lines.pop()
            for line in lines:
                parts = line.split("\t", 2)
                if len(parts) != 3:
                    continue
                name, key, value = parts
                t = topics.setdefault(name, Topic(name))
                if not value.strip():
                    continue  # a tombstone
                try:
                    v = json.loads(value)
                    payload = v.get("payload", v) if isinstance(v, dict) else {}
                    op = payload.get("op") or "?"
                except ValueError:
                    op = "?"
                k = key_text(key) if key else "-"
                if op == "r":
                    if not t.snap:
                        t.snap_first = k
                    t.snap += 1
                    t.snap_last = k
                    t.snap_at = time.monotonic()
                    continue
                t.flush_snapshot()
                out(f"{time.strftime('%H:%M:%S')}  {name:<{width}} {op}  {k}")
        now = time.monotonic()
        for t in topics.values():
            if t.snap and now - t.snap_at >= 1.0:
                t.flush_snapshot()
        if not got:
            time.sleep(0.1)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: events.py FILE...")
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        pass
    os._exit(0)
