#!/usr/bin/python3
# bench_tool.py: measuring helpers for scripts/bench.sh (Kafka side through python3-confluent-kafka).
#   watch BS TOPIC TOTAL PID REST BOUND     a topic's record count (high watermark of a non-transactional
#        producer's single-partition topic) until it reaches TOTAL; prints "t_first n_first t_end cpu_first
#        cpu_end hwm_kb" (times in s since the epoch, CPU = utime+stime of PID in s, VmHWM of PID).
#        Fails when PID exits, when the Connect REST status at REST shows FAILED, or after BOUND s.
#   latency BS TOPIC OUT COUNTFILE BOUND    pre-creates TOPIC (1 partition), prints "ready", then reads it
#        read_committed and writes "ts_us ms txid now_us" (ts column, now - ts, source.txId, arrival) per event to OUT
#        until it has as many events as the number written to COUNTFILE (once the load is over), or BOUND s. Prints
#        the event count.
#   stages LOG LAT FROM_US                  the per-stage breakdown of walcast's latency: joins the "latency trace"
#        lines of walcast's debug LOG with the consumer's LAT file (latency's OUT) on the xid, for the events written
#        at or after FROM_US, and prints p50/p99 per stage.
#   startup LOG T0 T1 END_LSN               where one walcast drain's time went, from its debug LOG: its "start-up trace"
#        marks, its last "latency trace" line and the "standby status update" that confirmed END_LSN, with T0 (the
#        bench started walcast) and T1 (the bench saw the slot confirmed to END_LSN), s since the epoch. Prints one
#        line of name=ms (STARTUP_STAGES below; startup and tail in all; cpu_startup, the process's CPU up to
#        its first record, of it cpu_loaded up to the connector's thread, cpu_initpid and cpu_offsets over those
#        stages: the offsets reader's two consumers, whose threads end with it), or "none missing=..." when a
#        mark is missing.
#   requests LOG FROM_MS TO_MS              the broker's own view of the requests it completed between FROM_MS and
#        TO_MS (ms since the epoch), from its request log (scripts/kafka.sh KAFKA_REQUEST_LOG): per API and client
#        kind, count, p50/p99/max of the total time and the p99 of its parts (request queue, local, remote = waiting
#        for another request or broker, response queue, send), and the error codes answered (51 =
#        CONCURRENT_TRANSACTIONS: a transactional producer began its next transaction before the coordinator had
#        written the previous one's markers; librdkafka 2.0.2 retries it after a fixed 20 ms). Then, for walcast's
#        transactional producers (client.id walcast-*), how each commit (an EndTxn) registered its partitions: in one
#        AddPartitionsToTxn, the offsets partition and then the data partitions in a second one (librdkafka sends the
#        second only after the first's answer and its 1 ms timer: docs/operations.md, "A second registration"), or
#        with refused (51) requests retried; and how long after the offsets partition's answer the data one was sent.
#   produce_chain LOG CLIENT_ID              the Kafka side of one snapshot (or drain) from the broker's request log: the
#        data Produce requests of CLIENT_ID's producers (not the offsets topic), from the first to the last: how many,
#        their mean uncompressed size, the broker's time on them (sum), the client's time between one request's
#        response and the next request of the same Kafka transaction (p10/p50 and sum: librdkafka 2.0.2 keeps one
#        Produce request in flight per partition, so that gap is librdkafka building and compressing the next batch,
#        or waiting for it to fill, or for a core), and the gaps at the switches from one Kafka transaction to the
#        next (count, sum, median).
#   gc LOG FROM_MS TO_MS                    the JVM's stop-the-world pauses from its -Xlog:gc:file=LOG:timemillis
#        between FROM_MS and TO_MS (ms since the epoch): count, sum, longest.
#   warmup BS                               one committed transaction of a transactional producer, so that the
#        broker's transaction coordinator is loaded before anything is timed.
#   cpuwatch PID POSTMASTER BROKER          samples every 0.1 s, until PID exits: the CPU of each thread of PID (by
#        name: walcast-snap = snapshot readers, walcast = connector thread, rdk:* = librdkafka), of the
#        PostgreSQL processes started meanwhile under POSTMASTER (the readers' and the planner's backends), of
#        BROKER, and the machine's idle time (/proc/stat); prints "thread NAME xN cpu_s", "backends xN cpu_s",
#        "broker cpu_s", "wall s", "idle core_s" and "hwm kB" (PID's last VmHWM) lines.
#   offcpu DATA PID WALSENDER BROKER        where the threads of walcast (PID), its walsender and the broker spent a drain
#        recorded by bench.sh's BENCH_SCHED (perf sched_switch/sched_wakeup with call chains, all CPUs): per
#        thread, ms running, ms runnable but waiting for a core (sch delay), ms asleep, and the sleep split by
#        where the thread went to sleep (the kernel's wait function and the first user frame of its call chain).
#   recvlogical OUT COUNTFILE BOUND ARGS... runs pg_recvlogical ARGS (test_decoding with include-timestamp)
#        and writes "commit_us ms" (commit time, now - it) per COMMIT of a transaction that inserted a row, until
#        COUNTFILE's number of commits is reached, or BOUND s; stops pg_recvlogical.
#   startvis BS TOPIC BOUND LOG CMD...      runs CMD (walcast run ...; stderr appended to LOG) and prints the ms from
#        its start until partition 0 of TOPIC holds a record more for a read_committed reader than before the start
#        (its last stable offset, polled every ~2 ms with a Metadata and a ListOffsets request; a topic that does not
#        exist yet counts 0 and is not created by asking); then stops CMD with SIGINT. Fails after BOUND s.
#   firstbyte BOUND ARGS...                 runs pg_recvlogical ARGS (with -f -) and prints the ms from its start to the
#        first byte it writes (pgoutput sends a transaction's BEGIN with its first change); then stops it.
import json, os, subprocess, sys, time, datetime, urllib.request

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def hwm_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def read_count(path):
    try:
        with open(path) as f:
            s = f.read().strip()
        return int(s) if s else None
    except FileNotFoundError:
        return None


def connect_failed(rest):
    try:
        with urllib.request.urlopen(rest, timeout=2) as r:
            s = json.loads(r.read())
    except Exception:
        return None
    if s.get("connector", {}).get("state") == "FAILED" or any(t.get("state") == "FAILED" for t in s.get("tasks", [])):
        return json.dumps(s)[:2000]
    return None


def watch(bs, topic, total, pid, rest, bound):
    from confluent_kafka import Consumer, TopicPartition, KafkaException
    c = Consumer({"bootstrap.servers": bs, "group.id": "bench-watch", "enable.auto.commit": False})
    tp = TopicPartition(topic, 0)
    deadline = time.time() + bound
    first = None
    last_rest = 0
    while True:
        now = time.time()
        if now > deadline:
            sys.exit("watch: %s has not reached %d records within %d s (first: %s)" % (topic, total, bound, first))
        if not os.path.exists("/proc/%d" % pid):
            sys.exit("watch: process %d exited before %s reached %d records" % (pid, topic, total))
        if rest and now - last_rest > 1:
            last_rest = now
            failed = connect_failed(rest)
            if failed:
                sys.exit("watch: connector FAILED: " + failed)
        try:
            hw = c.get_watermark_offsets(tp, timeout=2, cached=False)[1]
        except KafkaException:
            hw = 0  # the topic does not exist yet
        t = time.time()
        if hw > 0 and first is None:
            first = (t, hw, cpu_s(pid))
        if hw >= total:
            print("%.3f %d %.3f %.2f %.2f %d" % (first[0], first[1], t, first[2], cpu_s(pid), hwm_kb(pid)))
            return
        time.sleep(0.02)  # poll interval of the count, not a wait for an event


def latency(bs, topic, out, countfile, bound):
    from confluent_kafka import Consumer, TopicPartition, OFFSET_BEGINNING
    from confluent_kafka.admin import AdminClient, NewTopic
    a = AdminClient({"bootstrap.servers": bs})
    for f in a.create_topics([NewTopic(topic, 1, 1)]).values():
        try:
            f.result(30)
        except Exception as e:
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                raise
    c = Consumer({"bootstrap.servers": bs, "group.id": "bench-lat", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 5, "fetch.error.backoff.ms": 5})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    print("ready", flush=True)
    deadline = time.time() + bound
    n, want = 0, None
    with open(out, "w", buffering=1) as o:  # line-buffered: bench.sh counts the lines while this runs
        while time.time() < deadline:
            if want is None:
                want = read_count(countfile)
            if want is not None and n >= want:
                break
            m = c.poll(0.05)
            if m is None or m.error() or m.value() is None:
                continue
            now = time.time()
            v = json.loads(m.value())
            p = v.get("payload", v) if "schema" in v else v
            ts = p["after"]["ts"]
            o.write("%d %.3f %s %d\n" % (ts, (now - ts / 1e6) * 1000, p.get("source", {}).get("txId", "-"), now * 1e6))
            n += 1
    c.close()
    print(n)
    if want is None or n < want:
        sys.exit("latency: %s: %d of %s events within %d s" % (topic, n, want, bound))


def recvlogical(out, countfile, bound, args):
    import threading
    import ctypes, signal
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    # pg_recvlogical goes when this process goes, however it is stopped (PR_SET_PDEATHSIG)
    p = subprocess.Popen(["pg_recvlogical"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         preexec_fn=lambda: libc.prctl(1, signal.SIGTERM))
    state = {"n": 0}
    o = open(out, "w", buffering=1)

    def reader():  # one thread reads the lines, so that the main loop's bound holds when nothing arrives
        ins = False
        for line in p.stdout:
            if line.startswith("table ") and ": INSERT:" in line:
                ins = True
            elif line.startswith("COMMIT") and "(at " in line:
                if ins:
                    ts = line.split("(at ", 1)[1].rstrip(")\n")
                    t = datetime.datetime.fromisoformat(ts.replace("+00", "+00:00")).timestamp()
                    o.write("%d %.3f\n" % (int(t * 1e6), (time.time() - t) * 1000))
                    state["n"] += 1
                ins = False

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    deadline = time.time() + bound
    want = None
    while time.time() < deadline and p.poll() is None:
        if want is None:
            want = read_count(countfile)
        if want is not None and state["n"] >= want:
            break
        time.sleep(0.05)  # poll interval of the count
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    th.join(5)
    o.close()
    n = state["n"]
    print(n)
    if want is None or n < want:
        sys.exit("recvlogical: %d of %s commits within %d s" % (n, want, bound))


def stages(log, lat, from_us):
    trace = {}
    with open(log) as f:
        for line in f:
            if 'msg="latency trace"' not in line:
                continue
            kv = dict(w.split("=", 1) for w in line.split() if "=" in w and not w.startswith("msg="))
            trace[kv["xid"]] = [int(kv[k]) for k in ("source_commit_us", "queued_us", "commit_start_us", "flushed_us",
                                                     "committed_us")]
    names = ["write (ts column) -> source commit time", "source commit -> queued in the producer",
             "queued -> commit_transaction called", "commit called -> records acknowledged",
             "records acknowledged -> EndTxn answered", "EndTxn answered -> consumer has it",
             "total: write -> consumer has it"]
    vals = [[] for _ in names]
    missing = 0
    with open(lat) as f:
        for line in f:
            w = line.split()
            if len(w) < 4 or int(w[0]) < from_us:
                continue
            t = trace.get(w[2])
            if t is None:
                missing += 1
                continue
            pts = [int(w[0])] + t + [int(w[3])]
            for i in range(len(pts) - 1):
                vals[i].append((pts[i + 1] - pts[i]) / 1000)
            vals[-1].append((pts[-1] - pts[0]) / 1000)

    if not vals[0]:
        print("   (no \"latency trace\" line matched the consumer's events: a walcast without the trace, or no debug log)")
        return

    def pct(v, q):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")
    print("   %-52s %9s %9s" % ("stage (walcast, per source transaction)", "p50 ms", "p99 ms"))
    for n, v in zip(names, vals):
        print("   %-52s %9.2f %9.2f" % (n, pct(v, 0.5), pct(v, 0.99)))
    print("   (%d events joined with their trace line, %d without. source commit -> queued: WAL flush, walsender,"
          % (len(vals[0]), missing))
    print("   decoding and encoding; queued -> commit called: the commit timer and the previous commit still running")
    print("   (the records are produced meanwhile, once the previous transaction's are acknowledged);")
    print("   EndTxn answered -> consumer: the markers, the last stable offset, the consumer's fetch. p99s do not add up)")


# startup's stages (ms): name, what it is. Kafka's start and PostgreSQL's first part run side by side (pgside);
# the others one after the other.
STARTUP_STAGES = [
    ("exec", "bench starts walcast -> walcast's process loaded (fork, exec, shared libraries)"),
    ("config", "configuration read, the connector's thread running"),
    ("producers", "the transactional producers made (rd_kafka_new)"),
    ("initpid", "every producer's InitProducerId answered (fencing; at once)"),
    ("offsets", "the stored offsets read (offsets topic to its end)"),
    ("pgside", "beside those: PostgreSQL's connections, checks and types"),
    ("join", "both done -> joined (the later of the two to the join)"),
    ("setup", "converters, snapshot plans"),
    ("slot", "publication and slot ready (and, when the part beside failed, connections and types)"),
    ("startrepl", "START_REPLICATION answered"),
    ("firstrec", "first record handed to a producer"),
    ("drain", "the drain: first record -> the last record acknowledged"),
    ("commit", "last record acknowledged -> its Kafka commit answered (EndTxn)"),
    ("confirm", "last commit -> the status update confirming the end sent"),
    ("seen", "status sent -> the bench saw the slot confirmed"),
]


def lsn_num(s):
    hi, lo = s.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def startup(log, t0, t1, end_lsn):
    end = lsn_num(end_lsn)
    w = {"bench": t0 * 1e6, "seen": t1 * 1e6}   # wall us
    c = {}                                       # process CPU us
    last = None
    with open(log) as f:
        for line in f:
            if 'msg="start-up trace"' in line:
                for m in line.split("marks=", 1)[1].split()[0].split(","):
                    name, wall, cpu = m.split(":")
                    if int(wall):
                        w[name], c[name] = int(wall), int(cpu)
            elif 'msg="latency trace"' in line:
                kv = dict(x.split("=", 1) for x in line.split() if "=" in x and not x.startswith("msg="))
                if last is None or int(kv["committed_us"]) >= last[1]:
                    last = (int(kv["flushed_us"]), int(kv["committed_us"]))
            elif 'msg="standby status update"' in line and "status" not in w:
                kv = dict(x.split("=", 1) for x in line.split() if "=" in x and not x.startswith("msg="))
                if int(kv["flush_lsn"]) >= end:
                    w["status"] = int(kv["at_us"])
    if last:
        w["last_ack"], w["last_commit"] = last
    need = ["process", "config", "producers", "ready", "offsets", "prepared", "streaming", "first_record", "last_ack",
            "last_commit", "status"]
    if any(m not in w for m in need):
        print("none missing=%s" % ",".join(m for m in need if m not in w))
        return
    early = "pg_begin" in w and "connected" in w and "session" in w and w["connected"] < w["session"]
    joined = w.get("joined", w["offsets"])
    session = w.get("session", joined)
    d = lambda a, b: (a - b) / 1000
    v = {"exec": d(w["process"], w["bench"]), "config": d(w["config"], w["process"]),
         "producers": d(w["producers"], w["config"]), "initpid": d(w["ready"], w["producers"]),
         "offsets": d(w["offsets"], w["ready"]),
         "join": d(joined, max(w["offsets"], w["connected"] if early else 0)),
         "setup": d(session, joined), "slot": d(w["prepared"], session),
         "startrepl": d(w["streaming"], w["prepared"]), "firstrec": d(w["first_record"], w["streaming"]),
         "drain": d(w["last_ack"], w["first_record"]), "commit": d(w["last_commit"], w["last_ack"]),
         "confirm": d(w["status"], w["last_commit"]), "seen": d(w["seen"], w["status"]),
         "startup": d(w["first_record"], w["bench"]), "tail": d(w["seen"], w["last_ack"]),
         "cpu_startup": c["first_record"] / 1000, "cpu_loaded": c["config"] / 1000,
         "cpu_initpid": (c["ready"] - c["producers"]) / 1000, "cpu_offsets": (c["offsets"] - c["ready"]) / 1000}
    if early:
        v["pgside"] = d(w["connected"], w["pg_begin"])
    print(" ".join("%s=%.1f" % (k, x) for k, x in v.items()))


def requests(log, from_ms, to_ms):
    import re
    by, errs = {}, {}
    with open(log) as f:
        for line in f:
            if not line.startswith("[") or "Completed request:" not in line:
                continue
            ts = int(line[1:line.index("]")])
            if ts < from_ms or ts > to_ms:
                continue
            try:
                r = json.loads(line[line.index("Completed request:") + 18:])
            except ValueError:
                continue
            h = r["requestHeader"]
            cid = h.get("clientId") or ""
            # the broker's own clients: the transaction marker sender, KIP-890's verification of a transactional
            # produce (AddPartitionsManager), the controller's heartbeats
            who = "marker sender" if "txn-marker" in cid else "produce verification" if "AddPartitions" in cid \
                else "client" if not cid.isdigit() else "broker"
            key = "%s (%s)" % (h["requestApiKeyName"], who)
            r["_end"] = ts
            by.setdefault(key, []).append(r)
            for c in set(re.findall(r'[eE]rrorCode": ?([1-9][0-9]*)', json.dumps(r.get("response", {})))):
                errs[(key, c)] = errs.get((key, c), 0) + 1

    def pct(v, q):
        v = sorted(v)
        return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")
    print("   %-44s %6s %7s %7s %7s  %s" % ("API (sender)", "n", "p50 ms", "p99 ms", "max ms",
                                            "p99 of queue/local/remote/respq/send; errors"))
    for k in sorted(by):
        v = by[k]
        t = [x["totalTimeMs"] for x in v]
        parts = "/".join("%.1f" % pct([x.get(f, 0) for x in v], 0.99) for f in (
            "requestQueueTimeMs", "localTimeMs", "remoteTimeMs", "responseQueueTimeMs", "sendTimeMs"))
        e = ", ".join("%s x%d" % (c, n) for (kk, c), n in sorted(errs.items()) if kk == k)
        print("   %-44s %6d %7.2f %7.2f %7.2f  %s%s" % (k, len(v), pct(t, 0.5), pct(t, 0.99), max(t), parts,
                                                    "; " + e if e else ""))
    registrations(by)


def registrations(by):
    """walcast's commits by how their partitions were registered (see the header: requests)."""
    per = {}   # transactional.id -> [(start ms, kind, topics, refused)]
    for key in ("ADD_PARTITIONS_TO_TXN (client)", "END_TXN (client)"):
        for r in by.get(key, []):
            if not (r["requestHeader"].get("clientId") or "").startswith("walcast-"):
                continue
            q = r["request"]
            tid = q.get("v3AndBelowTransactionalId") or q.get("transactionalId")
            end = r["_end"]
            if key.startswith("END"):
                per.setdefault(tid, []).append((end - r["totalTimeMs"], end, "E", None, False))
            else:
                topics = [t["name"] for t in q.get("v3AndBelowTopics", [])]
                refused = '"partitionErrorCode":51' in json.dumps(r.get("response", {}), separators=(",", ":"))
                per.setdefault(tid, []).append((end - r["totalTimeMs"], end, "A", topics, refused))
    one = split = retried = other = 0
    gaps = []
    for evs in per.values():
        evs.sort(key=lambda e: e[0])
        cur = []
        for e in evs:
            if e[2] != "E":
                cur.append(e)
                continue
            offs = lambda a: all("offset" in t for t in a[3])
            if any(a[4] for a in cur):
                retried += 1
            elif len(cur) == 1:
                one += 1
            elif len(cur) == 2 and offs(cur[0]) and not any("offset" in t for t in cur[1][3]):
                split += 1
                gaps.append(cur[1][0] - cur[0][1])
            else:
                other += 1
            cur = []
    n = one + split + retried + other
    if not n:
        return
    gaps.sort()
    print("   walcast's %d commits registered their partitions: in one AddPartitionsToTxn %.1f%%, offsets then data in "
          "two %.1f%% (the data one sent a p50 %.2f ms after the first's answer), with a refused (51) one %.1f%%, "
          "otherwise %.1f%%" % (n, 100.0 * one / n, 100.0 * split / n, gaps[len(gaps) // 2] if gaps else float("nan"),
                                100.0 * retried / n, 100.0 * other / n))


def produce_chain(log, client_id):
    data = []
    with open(log) as f:
        for line in f:
            if "Completed request:" not in line or ('"clientId":"%s"' % client_id) not in line:
                continue
            r = json.loads(line[line.index("Completed request:") + 18:])
            if r["requestHeader"]["requestApiKeyName"] != "PRODUCE":
                continue
            topics = [t.get("name", "") for t in r["request"].get("topicData", [])]
            if any("offsets" in t for t in topics):
                continue
            end = int(line[1:line.index("]")])
            data.append((end - r["totalTimeMs"], end, r["request"].get("transactionalId", ""),
                         r.get("temporaryMemoryBytes", 0)))
    if len(data) < 2:
        print("   %s: fewer than 2 data Produce requests in the request log" % client_id)
        return
    data.sort()
    within, switch = [], []
    for a, b in zip(data, data[1:]):
        (within if a[2] == b[2] else switch).append(b[0] - a[1])
    within.sort()
    switch.sort()

    def q(v, f):
        return v[min(len(v) - 1, int(len(v) * f))] if v else float("nan")
    # chains at work at once: a producer's chain works from a request's start to its next request's start when
    # that follows within 50 ms of the answer (building and compressing the next batch, then the broker), else
    # for the request alone; librdkafka 2.0.2 keeps one request in flight per partition and producer, so two
    # chains at once need two producers (the snapshot's lanes)
    by_tid = {}
    for d in data:
        by_tid.setdefault(d[2], []).append(d)
    ev = []
    for reqs in by_tid.values():
        for a, b in zip(reqs, reqs[1:] + [None]):
            stop = b[0] if b is not None and b[0] - a[1] < 50 else a[1]
            ev += [(a[0], 1), (stop, -1)]
    ev.sort(key=lambda e: (e[0], e[1]))
    depth, last, busy, both = 0, 0, 0, 0
    for at, step in ev:
        if depth >= 1:
            busy += at - last
        if depth >= 2:
            both += at - last
        depth, last = depth + step, at
    print("   %s: producer chains at work: >= 1 for %.2f s, >= 2 at once for %.2f s (%.0f%%)"
          % (client_id, busy / 1000, both / 1000, 100.0 * both / busy if busy else 0))
    print("   %s: %d data batches (%.1f MB each uncompressed) in %.2f s: broker %.2f s; client between a response and "
          "the next request %.2f s (p10 %.2f ms, p50 %.2f ms); %d Kafka transaction switches %.2f s (median %.1f ms)"
          % (client_id, len(data), sum(d[3] for d in data) / len(data) / 1e6, (data[-1][1] - data[0][0]) / 1000,
             sum(d[1] - d[0] for d in data) / 1000, sum(within) / 1000, q(within, 0.1), q(within, 0.5), len(switch),
             sum(switch) / 1000, q(switch, 0.5)))


def gc(log, from_ms, to_ms):
    import re
    pauses = []
    with open(log) as f:
        for line in f:
            m = re.match(r"\[([0-9]+)ms\].*Pause.* ([0-9.]+)ms$", line.strip())
            if m:
                t = int(m.group(1))
                if from_ms <= t <= to_ms:
                    pauses.append(float(m.group(2)))
    print("   broker JVM stop-the-world pauses: %d, %.1f ms in all, longest %.1f ms"
          % (len(pauses), sum(pauses), max(pauses) if pauses else 0))


def proc_ticks(path):
    try:
        with open(path) as f:
            head, tail = f.read().rsplit(")", 1)
    except OSError:
        return None
    fields = tail.split()
    # comm, ppid, ticks (utime + stime), starttime (ticks since boot)
    return head.split("(", 1)[1], int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])


def cpuwatch(pid, postmaster, broker):
    def idle():
        with open("/proc/stat") as f:
            v = f.readline().split()[1:]
        return int(v[3]) + int(v[4])  # idle + iowait, in ticks summed over the cores
    born = proc_ticks("/proc/%d/stat" % pid)[3]   # backends started since PID was (before this tool ran too)
    threads, backends = {}, {}
    b0 = cpu_s(broker)
    i0, t0 = idle(), time.time()
    hwm = 0
    while os.path.exists("/proc/%d/stat" % pid) and proc_ticks("/proc/%d/stat" % pid) and \
            open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z":
        for t in os.listdir("/proc/%d/task" % pid) if os.path.isdir("/proc/%d/task" % pid) else []:
            v = proc_ticks("/proc/%d/task/%s/stat" % (pid, t))
            if v:
                threads[t] = (v[0], v[2])
        for p in os.listdir("/proc"):
            if p.isdigit():
                v = proc_ticks("/proc/%s/stat" % p)
                if v and v[1] == postmaster and v[3] >= born:
                    backends[p] = v[2]
        b1, i1, t1 = cpu_s(broker), idle(), time.time()
        try:
            hwm = hwm_kb(pid) or hwm
        except OSError:
            pass
        time.sleep(0.1)
    by = {}
    for comm, ticks in threads.values():
        for name in ("rdk", comm) if comm.startswith("rdk:") else (comm,):
            n, c = by.get(name, (0, 0))
            by[name] = (n + 1, c + ticks)
    for name, (n, c) in sorted(by.items()):
        print("thread %s x%d %.2f" % (name, n, c / TICK))
    print("backends x%d %.2f" % (len(backends), sum(backends.values()) / TICK))
    print("broker %.2f" % (b1 - b0))
    print("wall %.2f" % (t1 - t0))
    print("idle %.2f" % ((i1 - i0) / TICK))
    print("hwm %d" % hwm)


def offcpu(data, pid, walsender, broker):
    import re
    out = subprocess.run(["perf", "sched", "timehist", "-i", data, "--state", "-g", "--max-stack", "40"],
                         capture_output=True, text=True).stdout
    head = re.compile(r"^\s*([0-9.]+)\s+\[\d+\]\s+(.+?)\[(\d+)(?:/(\d+))?\]\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+(\S)\s*(.*)$")
    t = {}       # tid -> [name, pid, run, delay, sleep, {reason: ms}, reason of the last sched-out]
    first = last = None
    for line in out.splitlines():
        m = head.match(line)
        if not m:
            continue
        ts, name, tid, tpid = float(m.group(1)), m.group(2).strip(), int(m.group(3)), int(m.group(4) or m.group(3))
        first = ts if first is None else first
        last = ts
        if tpid not in (pid, walsender, broker):
            continue
        wait, delay, run, state, chain = float(m.group(5)), float(m.group(6)), float(m.group(7)), m.group(8), m.group(9)
        e = t.setdefault(tid, [name, tpid, 0.0, 0.0, 0.0, {}, None])
        e[2] += run
        e[3] += delay
        if e[6] is not None and e[6].startswith("R"):
            e[3] += wait   # preempted (no wakeup event): its wait was for a core
        else:
            e[4] += wait
            if e[6] is not None and wait > 0:
                e[5][e[6]] = e[5].get(e[6], 0.0) + wait
        frames = [f.strip() for f in chain.split("<-")] if chain else []
        kern = next((f for f in frames if f.startswith(("futex", "do_sys_poll", "do_epoll", "hrtimer_nanosleep",
                                                         "do_nanosleep", "sk_wait", "tcp_recvmsg", "unix_stream",
                                                         "pipe_read", "do_select", "io_schedule", "__x64_sys"))), frames[0] if frames else "")
        user = next((f for f in frames if not f.startswith(("__x64", "do_", "x64_", "entry_", "__do", "syscall",
                      "futex", "schedule", "hrtimer", "__schedule", "__futex", "common_nsleep", "poll_", "ep_",
                      "__se_", "__ia32", "ksys_", "__sys", "sk_", "tcp_", "inet_", "sock_", "unix_", "vfs_",
                      "new_sync", "pipe_", "ret_from", "kthread", "wait_", "io_", "__wait", "__sk", "[unknown]",
                      "exit_to", "irqentry", "asm_", "__cond_resched", "__pfx"))), "")
        e[6] = (state + " " + kern + (" <- " + user if user else ""))[:90]
        if pid in (e[1],) and e[0] != name:
            e[0] = name
    print("   recorded %.2f s; per thread: ms running / runnable, waiting for a core / asleep (where it went to sleep)" % ((last or 0) - (first or 0)))
    groups = {}
    for tid, e in t.items():
        if e[1] == broker:
            g = groups.setdefault("Kafka broker (all threads)", [0.0, 0.0, 0.0])
            g[0] += e[2]; g[1] += e[3]; g[2] += e[4]
            continue
        name = e[0] if e[1] == pid else "walsender"
        if e[2] < 1:
            continue
        print("   %-24s %-8d run %7.0f  runnable %6.0f  asleep %7.0f" % (name, tid, e[2], e[3], e[4]))
        for r, ms in sorted(e[5].items(), key=lambda x: -x[1])[:4]:
            if ms >= 1:
                print("   %40s %7.0f ms  %s" % ("", ms, r))
    for k, g in groups.items():
        print("   %-33s run %7.0f  runnable %6.0f" % (k, g[0], g[1]))


def pdeathsig():  # a child goes when this process goes, however it is stopped (PR_SET_PDEATHSIG)
    import ctypes, signal
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def stable_end(c, topic):
    from confluent_kafka import TopicPartition
    t = c.list_topics(topic, timeout=5).topics.get(topic)
    if t is None or t.error is not None or 0 not in t.partitions or t.partitions[0].leader < 0:
        return 0
    # librdkafka's ListOffsets carries the reader's isolation level: read_committed answers the last stable offset
    return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=5, cached=False)[1]


def stop_child(p):
    import signal
    p.send_signal(signal.SIGINT)
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def startvis(bs, topic, bound, log, cmd):
    from confluent_kafka import Consumer, KafkaException
    c = Consumer({"bootstrap.servers": bs, "group.id": "bench-start", "isolation.level": "read_committed",
                  "allow.auto.create.topics": False, "enable.auto.commit": False})
    before = stable_end(c, topic)
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "a"), preexec_fn=pdeathsig)
    seen = None
    while time.time() - t0 < bound and p.poll() is None:
        try:
            if stable_end(c, topic) > before:
                seen = time.time()
                break
        except KafkaException:
            pass   # the topic appeared in the metadata before its partition's leader could answer
        time.sleep(0.002)
    stop_child(p)
    c.close()
    if seen is None:
        sys.exit("startvis: nothing new in %s within %d s of the start (exit %s)" % (topic, bound, p.returncode))
    print("%.1f" % ((seen - t0) * 1000))


def firstbyte(bound, args):
    import threading
    t0 = time.time()
    p = subprocess.Popen(["pg_recvlogical"] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
                         preexec_fn=pdeathsig)
    got = {}
    th = threading.Thread(target=lambda: got.setdefault("b", (p.stdout.read(1), time.time())), daemon=True)
    th.start()
    th.join(bound)
    stop_child(p)
    if "b" not in got or not got["b"][0]:
        sys.exit("firstbyte: pg_recvlogical wrote nothing within %d s" % bound)
    print("%.1f" % ((got["b"][1] - t0) * 1000))


def warmup(bs):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bs, "transactional.id": "bench-warmup"})
    p.init_transactions(60)
    p.begin_transaction()
    p.produce("bench-warmup", b"x")
    p.commit_transaction(60)


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "watch":
        watch(a[0], a[1], int(a[2]), int(a[3]), a[4], int(a[5]))
    elif cmd == "latency":
        latency(a[0], a[1], a[2], a[3], int(a[4]))
    elif cmd == "stages":
        stages(a[0], a[1], int(a[2]))
    elif cmd == "startup":
        startup(a[0], float(a[1]), float(a[2]), a[3])
    elif cmd == "requests":
        requests(a[0], int(a[1]), int(a[2]))
    elif cmd == "produce_chain":
        produce_chain(a[0], a[1])
    elif cmd == "gc":
        gc(a[0], int(a[1]), int(a[2]))
    elif cmd == "warmup":
        warmup(a[0])
    elif cmd == "offcpu":
        offcpu(a[0], int(a[1]), int(a[2]), int(a[3]))
    elif cmd == "cpuwatch":
        cpuwatch(int(a[0]), int(a[1]), int(a[2]))
    elif cmd == "recvlogical":
        recvlogical(a[0], a[1], int(a[2]), a[3:])
    elif cmd == "startvis":
        startvis(a[0], a[1], int(a[2]), a[3], a[4:])
    elif cmd == "firstbyte":
        firstbyte(int(a[0]), a[1:])
    else:
        sys.exit("usage: bench_tool.py watch|latency|recvlogical ...")
