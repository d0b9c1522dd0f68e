#!/usr/bin/python3
# bench_cluster_probe.py: the REST and topic side of scripts/bench_cluster.sh, the same for Kafka Connect's
# workers and walcast's (both answer Connect's REST API).
#
#   consume BS TOPIC_REGEX                   print "TOPIC ID EPOCH" for every record (read_committed), the
#                                            ID read from the Debezium envelope's after.id (until killed)
#   post URL CONFIG_JSON                     POST /connectors {name, config}
#   wait-running URLS NAME SECONDS           until a worker says the connector and its task are RUNNING;
#                                            prints the task's worker_id
#   takeover URLS NAME VICTIM_ID T0 LOG TOPIC ID SECONDS
#                                            after the worker VICTIM_ID was killed at T0 (epoch seconds):
#                                            until the task is RUNNING on another worker (REST status, asked
#                                            of the live workers URLS) and the record ID has appeared in
#                                            TOPIC (the consume log LOG); prints "RUN DATA WORKER" (seconds
#                                            after T0 of each, the task's new worker_id)
#   settle URLS NAME SECONDS                 until every worker of URLS answers, lists NAME, says RUNNING
#                                            for the connector and its task, and the task stays on one worker
#                                            for 3 s; prints that worker_id
import json
import sys
import time
import urllib.error
import urllib.request


def die(msg):
    sys.exit(f"bench_cluster_probe: {msg}")


def get(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except Exception:
        return 0, ""


def status(url, name):
    """(connector state, task state, task worker_id) or None when the worker does not answer."""
    code, body = get(f"{url}/connectors/{name}/status")
    if code != 200:
        return None
    try:
        s = json.loads(body)
    except ValueError:
        return None
    tasks = s.get("tasks") or [{}]
    return (s.get("connector", {}).get("state", "NONE"), tasks[0].get("state", "NONE"),
            tasks[0].get("worker_id", ""))


def consume(bs, regex):
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": bs, "group.id": f"bench-cluster-probe-{time.time()}",
                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "topic.metadata.refresh.interval.ms": 1000})
    c.subscribe([regex])
    while True:
        m = c.poll(0.2)
        if m is None or m.error() or m.value() is None:
            continue
        now = time.time()
        try:
            v = json.loads(m.value())
            after = (v.get("payload", v) or {}).get("after") or {}
            print(m.topic(), after.get("id"), f"{now:.3f}", flush=True)
        except (ValueError, AttributeError):
            pass


def post(url, cfg_json):
    cfg = json.loads(cfg_json)
    body = json.dumps({"name": cfg["name"], "config": cfg}).encode()
    req = urllib.request.Request(f"{url}/connectors", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    for _ in range(60):
        try:
            urllib.request.urlopen(req, timeout=30).read()
            return
        except urllib.error.HTTPError as e:
            # 409: a rebalance is going on (Connect), try again; anything else is an error
            if e.code != 409:
                die(f"POST {url}/connectors: HTTP {e.code} {e.read().decode()}")
        except Exception:
            pass
        time.sleep(1)
    die(f"POST {url}/connectors: no success within 60 s")


def wait_running(urls, name, secs):
    end = time.time() + secs
    while time.time() < end:
        for u in urls:
            s = status(u, name)
            if s and s[0] == "RUNNING" and s[1] == "RUNNING":
                print(s[2])
                return
            if s and "FAILED" in s[:2]:
                die(f"{name} FAILED: {get(f'{u}/connectors/{name}/status')[1][:3000]}")
        time.sleep(0.2)
    die(f"{name} not RUNNING within {secs} s: {[status(u, name) for u in urls]}")


def seen(log, topic, ident):
    try:
        with open(log) as f:
            for line in f:
                p = line.split()
                if len(p) == 3 and p[0] == topic and p[1] == ident:
                    return float(p[2])
    except OSError:
        pass
    return None


def takeover(urls, name, victim, t0, log, topic, ident, secs):
    end = time.time() + secs
    run = data = None
    worker = ""
    while time.time() < end:
        if run is None:
            for u in urls:
                s = status(u, name)
                if s and s[1] == "RUNNING" and s[2] and s[2] != victim:
                    run, worker = time.time(), s[2]
                    break
        if data is None:
            data = seen(log, topic, ident)
        if run is not None and data is not None:
            print(f"{run - t0:.3f} {data - t0:.3f} {worker}")
            return
        time.sleep(0.1)
    die(f"no takeover within {secs} s (task RUNNING elsewhere: {run is not None}, row {ident} in {topic}: "
        f"{data is not None}); status: {[status(u, name) for u in urls]}")


def settle(urls, name, secs):
    end = time.time() + secs
    stable_since, last = None, None
    while time.time() < end:
        states = [status(u, name) for u in urls]
        ok = all(s and s[0] == "RUNNING" and s[1] == "RUNNING" for s in states)
        ids = {s[2] for s in states if s}
        if ok and len(ids) == 1:
            wid = ids.pop()
            if wid != last:
                stable_since, last = time.time(), wid
            elif time.time() - stable_since >= 3:
                print(wid)
                return
        else:
            stable_since, last = None, None
        time.sleep(0.3)
    die(f"{name} did not settle within {secs} s: {[status(u, name) for u in urls]}")


def main():
    a = sys.argv[1:]
    if not a:
        die("usage: consume|post|wait-running|takeover|settle ...")
    cmd, a = a[0], a[1:]
    if cmd == "consume" and len(a) == 2:
        consume(*a)
    elif cmd == "post" and len(a) == 2:
        post(*a)
    elif cmd == "wait-running" and len(a) == 3:
        wait_running(a[0].split(","), a[1], float(a[2]))
    elif cmd == "takeover" and len(a) == 8:
        takeover(a[0].split(","), a[1], a[2], float(a[3]), a[4], a[5], a[6], float(a[7]))
    elif cmd == "settle" and len(a) == 3:
        settle(a[0].split(","), a[1], float(a[2]))
    else:
        die(f"bad arguments for {cmd}: {a}")


if __name__ == "__main__":
    main()
