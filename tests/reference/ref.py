#!/usr/bin/python3
# ref.py: Kafka side of the differential test against the real Debezium: creates topics, waits for
# records, and compares two brokers' topics record by record (Debezium's broker = A, walcast's = B).
#
#   ref.py topics BS PARTITIONS TOPIC...            create TOPIC with PARTITIONS partitions (idempotent)
#   ref.py wait BS SECONDS TOPIC:N...                until every TOPIC holds at least N records
#   ref.py compare BS_A BS_B SECONDS PREFIX...        compare every topic of the PREFIXes on both sides
#   ref.py compacted BS TOPIC...                      create compacted one-partition TOPICs (offsets)
#   ref.py wait-id BS SECONDS TOPIC FIELD VALUE       until a record's after.FIELD is VALUE
#   ref.py offsets BS TOPIC                           the records of an offsets topic, key TAB value
#   ref.py ids BS TOPIC FIELD                         the FIELD of each value's "after" (JSON), one a line
#
# Reads with isolation.level=read_committed (Debezium's producer is not transactional, walcast's is).
#
# REF_REGISTRY_A / REF_REGISTRY_B (Confluent-API registry URLs of the two sides, transforms_diff.sh with
# REF_AVRO=1): keys and values in the Confluent wire format are decoded with python3-avro by the writer
# schema each side's registry gives for the id in the record, and compared as the JSON text
# {"schema": the schema as registered (parsed), "payload": the decoded datum}; compare also compares
# every subject of the compared topics, version by version, as the two registries hold them. A keyed
# record's partition is murmur2 of key bytes that hold each registry's own schema id: two partitions that
# are each that on their side are equal (Murmur2Partition), and records are compared key by key.
import base64
import io
import json
import urllib.request
import os
import re
import struct
import sys
import time
import uuid

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from murmur2 import partition as default_partition  # noqa: E402


def consumer(bs):
    return Consumer({"bootstrap.servers": bs, "group.id": "ref-" + uuid.uuid4().hex,
                     "enable.auto.commit": False, "auto.offset.reset": "earliest",
                     "isolation.level": "read_committed", "enable.partition.eof": True})


REGISTRY_SCHEMAS = {}


def avro_records(registry, recs, nparts):
    """A topic's records with Avro keys and values as avro_text gives them. The partition of a keyed record
    is murmur2 of its key bytes, which hold the registry's schema id, different on the two sides: such a
    partition becomes a Murmur2Partition (equal to any other), unless a transform chose the partitions of
    the topic's records (some keyed record with a value sits elsewhere: PartitionRouting, which leaves
    tombstones alone); records are then ordered key by key (each key's records in partition order, the
    murmur2 ones last, each partition in offset order)."""
    on_hash = lambda r: r[2] is not None and r[0] == default_partition(r[2], nparts)
    routed = any(r[2] is not None and r[3] is not None and not on_hash(r) for r in recs)
    out = []
    for p, o, k, v, h in recs:
        if on_hash((p, o, k, v, h)) and not (routed and v is not None):
            p = Murmur2Partition(p)
        out.append((p, o, avro_text(registry, k), avro_text(registry, v), h))
    out.sort(key=lambda r: (r[2] or b"", isinstance(r[0], Murmur2Partition),
                            0 if isinstance(r[0], Murmur2Partition) else r[0], r[1]))
    return out


class Murmur2Partition(int):
    """A partition that is murmur2 of the record's own key bytes: equal to any other such partition (the
    key bytes hold each registry's schema id), else compared as the number (a transform's choice)."""
    def __eq__(self, other):
        return isinstance(other, Murmur2Partition) or int(self) == other

    def __ne__(self, other):
        return not self == other

    __hash__ = int.__hash__

    def __repr__(self):
        return "%d=murmur2(key)" % int(self)


def registry_get(reg, path):
    with urllib.request.urlopen(reg.rstrip("/") + path, timeout=10) as r:
        return json.load(r)


def without_logical(sch):
    if isinstance(sch, dict):
        return {k: without_logical(x) for k, x in sch.items() if k != "logicalType"}
    if isinstance(sch, list):
        return [without_logical(x) for x in sch]
    return sch


def avro_plain(v):
    if isinstance(v, dict):
        return {k: avro_plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [avro_plain(x) for x in v]
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return v


def avro_text(reg, raw):
    """A Confluent wire format record decoded into JSON text {"schema", "payload"} (see the header)."""
    import avro.io
    import avro.schema
    if raw is None or raw[:1] != b"\0" or len(raw) < 5:
        return raw
    sid = struct.unpack(">i", raw[1:5])[0]
    if (reg, sid) not in REGISTRY_SCHEMAS:
        text = registry_get(reg, "/schemas/ids/%d" % sid)["schema"]
        # decoded without logical types: the values as written (a date or timestamp out of Python's
        # range, a PostgreSQL infinity, does not fit a datetime); the schema keeps them for the comparison
        REGISTRY_SCHEMAS[(reg, sid)] = (json.loads(text), avro.schema.parse(json.dumps(without_logical(json.loads(text)))))
    parsed, sch = REGISTRY_SCHEMAS[(reg, sid)]
    dec = avro.io.BinaryDecoder(io.BytesIO(raw[5:]))
    datum = avro.io.DatumReader(sch).read(dec)
    left = len(raw) - 5 - dec.reader.tell()
    if left:
        return json.dumps({"<undecoded>": "%d bytes after the Avro body" % left}).encode()
    return json.dumps({"schema": parsed, "payload": avro_plain(datum)}, ensure_ascii=False,
                      separators=(",", ":")).encode()


def read_all(bs, topics, registry=None):
    """Every record of the topics: {topic: [(partition, offset, key bytes, value bytes, headers)]}; with a
    registry URL, Avro keys and values as avro_text gives them."""
    c = consumer(bs)
    try:
        md = c.list_topics(timeout=10)
        parts = [TopicPartition(t, p, 0) for t in topics if t in md.topics
                 for p in md.topics[t].partitions]
        out = {t: [] for t in topics}
        if not parts:
            return out
        c.assign(parts)
        pending = {(tp.topic, tp.partition) for tp in parts}
        deadline = time.time() + 30
        while pending and time.time() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    pending.discard((m.topic(), m.partition()))
                    continue
                raise KafkaException(m.error())
            out[m.topic()].append((m.partition(), m.offset(), m.key(), m.value(),
                                   [(k, v) for k, v in (m.headers() or [])]))
        if pending:
            raise RuntimeError(f"no end of partition within 30 s for {sorted(pending)}")
        for t in out:
            out[t].sort(key=lambda r: (r[0], r[1]))
            if registry:
                out[t] = avro_records(registry, out[t], len(md.topics[t].partitions) if t in md.topics else 1)
        return out
    finally:
        c.close()


def topic_names(bs, prefixes):
    c = consumer(bs)
    try:
        names = c.list_topics(timeout=10).topics.keys()
    finally:
        c.close()
    keep = []
    for t in names:
        for p in prefixes:
            # topic.delimiter "." (the default) or "_"
            if any(t.startswith(p + d) or t == "__debezium-heartbeat" + d + p for d in (".", "_")):
                keep.append(t)
    return sorted(keep)


def cmd_topics(bs, partitions, topics, config=None):
    a = AdminClient({"bootstrap.servers": bs})
    fs = a.create_topics([NewTopic(t, int(partitions), 1, config=config or {}) for t in topics],
                         operation_timeout=30)
    for t, f in fs.items():
        try:
            f.result()
        except KafkaException as e:
            if e.args[0].code() != 36:  # TOPIC_ALREADY_EXISTS
                raise


def cmd_wait(bs, secs, specs):
    want = {}
    for s in specs:
        t, n = s.rsplit(":", 1)
        want[t] = int(n)
    deadline = time.time() + float(secs)
    while True:
        got = {t: len(v) for t, v in read_all(bs, list(want)).items()}
        if all(got[t] >= n for t, n in want.items()):
            return
        if time.time() > deadline:
            prefixes = sorted({t.split(".")[0] for t in want})
            alltopics = read_all(bs, topic_names(bs, prefixes))
            sys.exit(f"ref.py wait: after {secs}s on {bs}: " +
                     ", ".join(f"{t} has {got[t]}/{n}" for t, n in want.items()) +
                     "; topics there: " + ", ".join(f"{t}:{len(v)}" for t, v in sorted(alltopics.items())))
        time.sleep(0.3)


# --- normalisation: only what must differ between two agents reading the same WAL -------------------
# Envelope ts_ms/ts_us/ts_ns, a message's ts_ms and a heartbeat's ts_ms are the agent's clock when it
# emitted the record (Debezium's docs: "the time at which the connector processed the event"), so two
# agents never agree on them. source.version names the agent (walcast writes its own version, see
# DEBEZIUM.md). Everything else -- source.ts_ms (commit time), lsn, txId, sequence, the transaction
# block, keys, schemas, headers -- comes from the WAL and must be equal.
def normalise_value(topic, v):
    if not isinstance(v, dict):
        return v
    payload = v.get("payload") if "schema" in v and "payload" in v else v
    if isinstance(payload, dict):
        for f in ("ts_ms", "ts_us", "ts_ns"):
            if f in payload and payload[f] is not None:
                payload[f] = "<ts>"
        normalise_tx(payload)
        src = payload.get("source")
        if isinstance(src, dict) and "version" in src:
            src["version"] = "<version>"
        for f in ("source.version", "source_version"):   # flattened by Flatten$Value (transforms_diff.sh)
            if f in payload:
                payload[f] = "<version>"
        # REF_SNAPSHOT=1 (snapshot_diff.sh): each side's snapshot rows carry its own slot's consistent
        # point (lsn, sequence), its snapshot transaction (txId) and the time it read the table (ts_*)
        if os.environ.get("REF_SNAPSHOT") and payload.get("op") == "r" and isinstance(src, dict):
            for f in SNAP_FIELDS:
                if src.get(f) is not None:
                    src[f] = "<snapshot>"
    return v


SNAP_FIELDS = ("ts_ms", "ts_us", "ts_ns", "txId", "lsn", "sequence")
SNAP_TEXT_RE = re.compile(rb'"(ts_ms|ts_us|ts_ns|txId|lsn)":-?\d+|"sequence":"(?:[^"\\]|\\.)*"')


UUID7_RE = re.compile(rb"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
MSG_COLL_RE = re.compile(r"(LogicalDecodingMessageMonitor\$LogicalDecodingMessageId@)[0-9a-f]+$")


def normalise_headers(hs):
    """__debezium.context.runId is a fresh UUIDv7 per connector run on both sides: its form is
    checked, its value is not compared."""
    out = []
    for k, v in hs:
        if k == "__debezium.context.runId":
            v = b"<uuid7>" if v is not None and UUID7_RE.match(v) else v
        out.append((k, v))
    return out


def normalise_tx(payload):
    """Debezium names a logical decoding message's data collection by Java's Object.toString: a class
    name, '@', the object's identity hash. The hash differs per message and per run (also between two
    Debezium runs), and the list is in HashMap order of those names: the suffix is replaced and the
    list sorted when such an entry is present (docs/compatibility.md)."""
    dcs = payload.get("data_collections") if isinstance(payload, dict) else None
    if not isinstance(dcs, list):
        return
    hit = False
    for d in dcs:
        if isinstance(d, dict) and isinstance(d.get("data_collection"), str):
            n = MSG_COLL_RE.sub(r"\1<identity>", d["data_collection"])
            hit = hit or n != d["data_collection"]
            d["data_collection"] = n
    if hit:
        dcs.sort(key=lambda d: json.dumps(d, sort_keys=True))


TS_RE = re.compile(rb'"(ts_ms|ts_us|ts_ns)":-?\d+')
VERSION_RE = re.compile(rb'"version":"[^"]*","connector"')
FLAT_VERSION_RE = re.compile(rb'"source[._]version":"[^"]*"')   # Flatten$Value (transforms_diff.sh)


def normalise_text(b):
    """The same normalisation on the raw bytes, so number and string formatting is compared too. Only
    the envelope's own ts fields are volatile; the source block's ts_* are kept (see normalise_value)
    by undoing the replacement inside "source":{...}."""
    if b is None:
        return None
    src = re.search(rb'"source":\{[^{}]*\}', b)
    keep = src.group(0) if src else None
    out = TS_RE.sub(lambda m: b'"' + m.group(1) + b'":"<ts>"', b)
    out = FLAT_VERSION_RE.sub(lambda m: m.group(0)[:15] + b'":"<version>"', out)
    if keep is not None and os.environ.get("REF_SNAPSHOT") and b'"op":"r"' in b:
        keep = SNAP_TEXT_RE.sub(b'"<snapshot>"', keep)
    if keep is not None:
        out = re.sub(rb'"source":\{[^{}]*\}', lambda _m: VERSION_RE.sub(b'"version":"<version>","connector"', keep),
                     out, count=1)
    return out


# Differences that are known and documented (docs/compatibility.md): walcast deliberately does not copy
# these Debezium 3.6.1 behaviours. Each rule: (id, predicate on a (path, debezium, walcast) difference).
# They are reported with their count but do not fail the test; anything else does.
KNOWN = [
    # A column of type name: Debezium's pgoutput value resolver has no case for it and its fallback
    # yields null, so every name value streams as null. c_name is the workload's only name column.
    # (Transformed records have it elsewhere: value/c_name, value/payload/c_name, value/row/c_name.)
    # d_name and e_user are name columns of types_diff.sh.
    ("name-column-null", lambda p, a, b: re.search(r"(^|/)(c_name|d_name|e_user)$", p) is not None
        and a is None and isinstance(b, str)),
    # A literal default with an escaped quote ('it''s'): Debezium's default-value parser stops at the
    # doubled quote and keeps "it"; walcast unescapes the literal. The schema default differs, and so
    # does a null value written as the default by the JSON converter (replace.null.with.default).
    # (With Avro, REF_AVRO=1: the default is the schema's connect.default.)
    ("quoted-default", lambda p, a, b: ("c_default_text" in p or re.search(r"fields\[\d+\]/default$", p) is not None
                                        or p.endswith("/connect.default"))
        and a == "it" and b == "it's"),
    # A float32 printed by Jackson through the JDK's Float.toString: before JDK 19 that is not always the
    # shortest form (JDK 17 prints 1.17549435E-38 where 1.1754944E-38 names the same float). walcast
    # prints the shortest form, as JDK 19+ does; the value read back is the same float32.
    ("jdk17-float-digits", lambda p, a, b: isinstance(a, float) and isinstance(b, float) and a != b
        and same_float32(a, b)),
    # The same for doubles: the parsed values are equal, only the raw text differs in a number's digits.
    ("jdk17-double-digits", lambda p, a, b: p == "value text" and same_numbers(a, b)),
]


# Snapshots only (REF_SNAPSHOT=1): Debezium reads a snapshot's date through JDBC's java.sql.Date, which
# drops the era, so a BC date arrives as the same year AD (0044-03-15 BC as 0044-03-15); its streaming
# path and walcast keep the BC date (days before 0001-01-01).
KNOWN.append(("snapshot-bc-date", lambda p, a, b: bool(os.environ.get("REF_SNAPSHOT"))
              and re.search(r"/(after|before)/(c_date|d)$", p) is not None and isinstance(a, int) and isinstance(b, int)
              and b < -719162 <= a))


NUM_RE = re.compile(rb'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:E-?\d+)?')


def same_numbers(a, b):
    """Two raw texts equal once every number is read as a double: JDK 17's Double.toString is not always
    the shortest form (jdk17-double-digits)."""
    if not isinstance(a, bytes) or not isinstance(b, bytes):
        return False
    canon = lambda t: NUM_RE.sub(lambda m: m.group(0) if m.group(0).startswith(b'"')
                                 else repr(float(m.group(0))).encode(), t)
    try:
        return canon(a) == canon(b)
    except (ValueError, OverflowError):
        return False


def same_float32(a, b):
    try:
        return struct.pack("<f", a) == struct.pack("<f", b)
    except OverflowError:   # a double beyond float32's range
        return False


# Snapshots only: a date infinity read by the snapshot goes through java.sql.Date (pgjdbc's
# DATE_POSITIVE/NEGATIVE_INFINITY turned into days: -622191234 / -625821272), as date[] elements do;
# Debezium's streaming path and walcast give -2147472692 / -2147472691 for a scalar date.
KNOWN.append(("snapshot-date-infinity", lambda p, a, b: bool(os.environ.get("REF_SNAPSHOT"))
              and re.search(r"/(after|before)/\w+$", p) is not None
              and (a, b) in ((-622191234, -2147472692), (-625821272, -2147472691))))


# Snapshots only: Debezium's snapshot reads a table's columns through JDBC metadata, which lists a
# generated column (e_gen, GENERATED ALWAYS AS ... STORED); its streaming path (pgoutput's Relation
# message) does not have it. walcast leaves it out of both.
def without_generated(fields):
    return [f for f in fields if not (isinstance(f, dict) and f.get("field") == "e_gen")]


KNOWN.append(("snapshot-generated-column", lambda p, a, b: bool(os.environ.get("REF_SNAPSHOT")) and (
    (re.search(r"/(after|before)/e_gen$", p) is not None and b == "<absent>")
    or (p.endswith("/fields") and isinstance(a, list) and isinstance(b, list) and len(a) == len(b) + 1
        and without_generated(a) == b))))


def known(path, a, b):
    for kid, pred in KNOWN:
        if pred(path, a, b):
            return kid
    return None


def unknown(diffs, known_counts):
    """The differences that are not known ones; the known ones counted by kind into known_counts."""
    rest = []
    for d in diffs:
        kid = known(*d)
        if kid:
            known_counts[kid] = known_counts.get(kid, 0) + 1
        else:
            rest.append(d)
    return rest


def parse(b):
    if b is None:
        return None
    try:
        return json.loads(b)
    except ValueError:
        return {"<unparsed>": b.decode("utf-8", "replace")}


def jdiff(a, b, path, out):
    """Paths where two parsed JSON values differ (at most 40 per record)."""
    if len(out) >= 40:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a.keys()) != list(b.keys()) and set(a.keys()) == set(b.keys()):
            out.append((path + "{order}", list(a.keys()), list(b.keys())))
        for k in list(a.keys()) + [k for k in b.keys() if k not in a]:
            if k not in a or k not in b:
                out.append((path + "/" + k, a.get(k, "<absent>"), b.get(k, "<absent>")))
            else:
                jdiff(a[k], b[k], path + "/" + k, out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            jdiff(x, y, f"{path}[{i}]", out)
    elif a != b or type(a) != type(b):
        out.append((path, a, b))


def short(x, n=160):
    if isinstance(x, bytes):
        x = x.decode("utf-8", "replace")
    s = json.dumps(x, ensure_ascii=False, default=lambda o: o.decode("utf-8", "replace")) if not isinstance(x, str) else repr(x)
    return s if len(s) <= n else s[:n] + "…"


def align_null_keys(recs):
    """Keyed records in (partition, offset) order, then the null-key ones (truncates) in WAL order:
    those land on whatever partition the producer picks, so their partition says nothing."""
    keyed = [r for r in recs if r[2] is not None]
    nulls = [r for r in recs if r[2] is None]

    def lsn(r):
        try:
            v = json.loads(r[3])
            return (v.get("payload", v).get("source") or {}).get("lsn") or 0
        except (TypeError, ValueError, AttributeError):
            return 0
    return keyed + sorted(nulls, key=lambda r: (lsn(r), r[0], r[1]))


def cmd_compare(bs_a, bs_b, secs, prefixes):
    """Waits (bounded) until both sides hold the same topics with the same record counts, then compares
    them record by record. Heartbeat topics: counts depend on time; only the first record is compared."""
    deadline = time.time() + float(secs)
    while True:
        ta, tb = topic_names(bs_a, prefixes), topic_names(bs_b, prefixes)
        da = read_all(bs_a, ta, os.environ.get("REF_REGISTRY_A"))
        db = read_all(bs_b, tb, os.environ.get("REF_REGISTRY_B"))
        counts_a = {t: len(v) for t, v in da.items() if "heartbeat" not in t}
        counts_b = {t: len(v) for t, v in db.items() if "heartbeat" not in t}
        if counts_a == counts_b or time.time() > deadline:
            break
        time.sleep(0.5)
    problems = 0
    dump = os.environ.get("REF_DUMP")
    if dump:
        with open(dump, "w") as f:
            for side, d in (("debezium", da), ("walcast", db)):
                for t, recs in d.items():
                    for r in recs:
                        f.write(json.dumps({"side": side, "topic": t, "partition": r[0], "offset": r[1],
                                            "key": r[2].decode() if r[2] is not None else None,
                                            "value": r[3].decode() if r[3] is not None else None,
                                            "headers": [[k, v.decode() if v is not None else None] for k, v in r[4]]},
                                           ensure_ascii=False) + "\n")
    kinds = {}
    known_counts = {}
    for t in sorted(set(ta) | set(tb)):
        ra, rb = da.get(t), db.get(t)
        if ra is None or rb is None:
            print(f"TOPIC {t}: only on {'debezium' if rb is None else 'walcast'}"
                  f" ({len(ra or rb)} records)")
            problems += 1
            continue
        if "heartbeat" in t:
            ra, rb = ra[:1], rb[:1]
            if not ra or not rb:
                print(f"TOPIC {t}: heartbeats debezium={len(da[t])} walcast={len(db[t])}")
                problems += 1
                continue
        ra, rb = align_null_keys(ra), align_null_keys(rb)
        if len(ra) != len(rb):
            print(f"TOPIC {t}: {len(ra)} records from debezium, {len(rb)} from walcast")
            problems += 1
        shown = 0
        for i, (a, b) in enumerate(zip(ra, rb)):
            diffs = []
            # a null key's partition is the producer's free choice (sticky partitioner): not compared
            if a[0] != b[0] and not (a[2] is None and b[2] is None):
                diffs.append(("partition", a[0], b[0]))
            if a[2] != b[2]:
                jd = []
                jdiff(parse(a[2]), parse(b[2]), "key", jd)
                diffs += jd or [("key bytes", a[2], b[2])]
            va, vb = normalise_value(t, parse(a[3])), normalise_value(t, parse(b[3]))
            jd = []
            jdiff(va, vb, "value", jd)
            diffs += jd
            if not jd and "LogicalDecodingMessageId@" not in (a[3] or b"").decode("utf-8", "replace") and \
                    normalise_text(a[3]) != normalise_text(b[3]):
                diffs.append(("value text", normalise_text(a[3]), normalise_text(b[3])))
            ha = normalise_headers(a[4])
            hb = normalise_headers(b[4])
            if ha != hb:
                only_a = [h for h in ha if h not in hb]
                only_b = [h for h in hb if h not in ha]
                diffs.append(("headers", only_a or ha, only_b or hb))
            diffs = unknown(diffs, known_counts)
            if diffs:
                for p, x, y in diffs:
                    k = re.sub(r"\[\d+\]", "[]", p) + (" " + short(x, 60) + " | " + short(y, 60) if p == "headers" else "")
                    kinds.setdefault(k, [0, t, i, x, y])[0] += 1
                problems += 1
                if shown < 6:
                    print(f"TOPIC {t} #{i} (partition {a[0]}/{b[0]}, key {short(a[2], 80)}):")
                    for p, x, y in diffs:
                        print(f"   {p}: debezium={short(x)} walcast={short(y)}")
                shown += 1
        if shown > 6:
            print(f"TOPIC {t}: {shown - 6} more records differ")
    if os.environ.get("REF_REGISTRY_A") and os.environ.get("REF_REGISTRY_B"):
        problems += compare_subjects(os.environ["REF_REGISTRY_A"], os.environ["REF_REGISTRY_B"],
                                     set(ta) | set(tb), kinds, known_counts)
    print("--- kinds of differences (count, first topic/record, debezium | walcast):")
    for k, (n, t, i, x, y) in sorted(kinds.items()):
        print(f"{n:5d} {k}  [{t} #{i}] {short(x, 100)} | {short(y, 100)}")
    for kid, n in sorted(known_counts.items()):
        print(f"known difference {kid}: {n} (docs/compatibility.md)")
    total = sum(len(v) for v in da.values())
    print(f"compared {len(set(ta) | set(tb))} topics, {total} debezium records: {problems} differences")
    sys.exit(1 if problems else 0)


def subject_versions(reg, subject):
    """[(version, parsed schema)] of a subject, oldest first."""
    out = []
    for v in registry_get(reg, "/subjects/%s/versions" % urllib.request.quote(subject, safe="")):
        got = registry_get(reg, "/subjects/%s/versions/%s" % (urllib.request.quote(subject, safe=""), v))
        out.append((v, json.loads(got["schema"])))
    return out


def apicurio_reused(reg_a, reg_b, subject):
    """Apicurio's converter registers a schema once: a topic whose key (or value) schema is the very
    schema it already registered for another topic gets no subject of its own, its records carry that
    one's id (its schema resolver caches by content). Confluent's converter, and walcast, register it
    under each topic's subject (docs/compatibility.md). True when every version of walcast's SUBJECT is a
    schema the Debezium side's registry holds under another subject of the same kind (key/value)."""
    kind = subject.rsplit("-", 1)[-1]
    theirs = [sch for s in registry_get(reg_a, "/subjects") if s.endswith("-" + kind)
              for _v, sch in subject_versions(reg_a, s)]
    return all(sch in theirs for _v, sch in subject_versions(reg_b, subject))


def compare_subjects(reg_a, reg_b, topics, kinds, known_counts):
    """The subjects TOPIC-key / TOPIC-value of the compared topics (TopicNameStrategy, Apicurio's
    TopicIdStrategy): the same names on both sides, and version by version the same schema."""
    subs = lambda reg: {s for s in registry_get(reg, "/subjects")
                        if s.rsplit("-", 1)[0] in topics and s.rsplit("-", 1)[-1] in ("key", "value")}
    sa, sb = subs(reg_a), subs(reg_b)
    problems = 0
    for s in sorted(sa | sb):
        if s in sb and s not in sa and apicurio_reused(reg_a, reg_b, s):
            known_counts["apicurio-content-reuse"] = known_counts.get("apicurio-content-reuse", 0) + 1
            continue
        if s not in sa or s not in sb:
            print(f"SUBJECT {s}: only on {'debezium' if s in sa else 'walcast'}")
            problems += 1
            continue
        va, vb = subject_versions(reg_a, s), subject_versions(reg_b, s)
        if len(va) != len(vb):
            print(f"SUBJECT {s}: {len(va)} versions from debezium, {len(vb)} from walcast")
            problems += 1
        for (na, a), (nb, b) in zip(va, vb):
            diffs = []
            jdiff(a, b, "schema", diffs)
            rest = unknown(diffs, known_counts)
            if rest:
                problems += 1
                print(f"SUBJECT {s} version {na}/{nb}:")
                for p, x, y in rest[:10]:
                    print(f"   {p}: debezium={short(x)} walcast={short(y)}")
                    k = "subject " + re.sub(r"\[\d+\]", "[]", p)
                    kinds.setdefault(k, [0, s, na, x, y])[0] += 1
    print(f"compared {len(sa | sb)} subjects")
    return problems


def cmd_wait_id(bs, secs, topic, field, want):
    """Until a record whose after.FIELD is WANT is in TOPIC (bounded)."""
    deadline = time.time() + float(secs)
    while True:
        for _p, _o, _k, v, _h in read_all(bs, [topic])[topic]:
            if v is None:
                continue
            d = json.loads(v)
            d = d.get("payload", d)
            if d.get("after") is not None and str(d["after"][field]) == want:
                return
        if time.time() > deadline:
            sys.exit(f"ref.py wait-id: no {field}={want} in {topic} after {secs}s")
        time.sleep(0.3)


def cmd_offsets(bs, topic):
    """The offset records of an offsets topic: key TAB value, one a line."""
    for _p, _o, k, v, _h in read_all(bs, [topic])[topic]:
        print((k or b"").decode() + "\t" + (v.decode() if v is not None else "null"))


def cmd_ids(bs, topic, field):
    for _p, _o, _k, v, _h in read_all(bs, [topic])[topic]:
        if v is None:
            continue
        d = json.loads(v)
        d = d.get("payload", d)
        if d.get("after") is not None:
            print(d["after"][field])


def cmd_count(bs, prefix, text):
    """How many records of the prefix's topics have text in their value (a pair must not compare nothing)."""
    recs = read_all(bs, topic_names(bs, [prefix]))
    n = sum(1 for rs in recs.values() for r in rs if r[3] is not None and text.encode() in r[3])
    print(f"{prefix}: {n} records with {text}")
    if not n:
        sys.exit(f"ref.py count: no record of {prefix}.* has {text} in its value")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "topics":
        cmd_topics(args[0], args[1], args[2:])
    elif cmd == "compacted":
        cmd_topics(args[0], 1, args[1:], {"cleanup.policy": "compact"})
    elif cmd == "wait":
        cmd_wait(args[0], args[1], args[2:])
    elif cmd == "compare":
        cmd_compare(args[0], args[1], args[2], args[3:])
    elif cmd == "wait-id":
        cmd_wait_id(args[0], args[1], args[2], args[3], args[4])
    elif cmd == "offsets":
        cmd_offsets(args[0], args[1])
    elif cmd == "ids":
        cmd_ids(args[0], args[1], args[2])
    elif cmd == "count":
        cmd_count(args[0], args[1], args[2])
    else:
        sys.exit(f"ref.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
