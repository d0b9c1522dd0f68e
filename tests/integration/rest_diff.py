#!/usr/bin/env python3
"""rest_diff.py: sends the same sequence of REST requests to a real Kafka Connect worker (with Debezium)
and to walcast, and compares status codes and JSON shapes (keys, types, enum values; worker ids,
traces, messages and times normalised). Differences listed in KNOWN (each with its reason, the same
as docs/compatibility.md) are reported and allowed; any other fails.

usage: rest_diff.py CONNECT_URL WALCAST_URL PGPORT
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

CONNECT, WALCAST, PGPORT = sys.argv[1], sys.argv[2], sys.argv[3]
ENUMS = {"state", "type", "status"}

PLUGIN_CONFIG = ("walcast lists the keys it takes (Debezium's, Connect's, its own) as STRING or PASSWORD without "
                 "defaults or groups, and says which it ignores; Connect lists the plugin's ConfigDef with its types")
# step -> reason: a difference kept on purpose (docs/compatibility.md, "REST API: differences")
KNOWN = {
    "bad json": "Connect answers 500 with Jackson's text (which quotes the body); walcast 400 without it",
    "plugins all": "walcast lists its converters only, Connect every transform, predicate and converter (same shape)",
    "validate": "walcast lists the keys of the request with walcast check's results, Connect every definition",
    "validate invalid": "walcast lists the keys of the request with walcast check's results, Connect every definition",
    "plugin config": PLUGIN_CONFIG,
    "plugin config alias": PLUGIN_CONFIG,
    "plugin config sink": PLUGIN_CONFIG,
    "loggers": "walcast has one level (root); Connect lists each configured logger",
    "root": "walcast's version and an empty kafka_cluster_id",
    "invalid config": "Connect 4.4 answers 500 with a NullPointerException's text (AbstractHerder.maybeAddConfigErrors meets "
                      "a ConfigInfo without a value); walcast 400 with the message Connect means to give",
    "logger put": "walcast names the logger it set (it has one level); Connect lists the log4j loggers that exist under "
                  "the name (none here)",
}


def config(slot, prefix, **extra):
    c = {"connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": "127.0.0.1",
         "database.port": PGPORT, "database.user": "postgres", "database.password": "hunter2",
         "database.dbname": "postgres", "topic.prefix": prefix, "snapshot.mode": "no_data", "slot.name": slot,
         "plugin.name": "pgoutput", "tasks.max": "1"}
    c.update(extra)
    return c


def call(base, method, path, body=None):
    data = None
    if body is not None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            raw = r.read().decode()
            code = r.status
    except urllib.error.HTTPError as e:
        raw = e.read().decode()
        code = e.code
    try:
        j = json.loads(raw) if raw.strip() else None
    except ValueError:
        j = "<not json: %s>" % raw[:80]
    return code, j


def shape(v, key=None):
    """Keys, types and enum values; free text and ids normalised."""
    if isinstance(v, dict):
        if key in ("config", "properties", "partition", "offset"):
            return {"<map of str>": "str"}
        return {k: shape(x, k) for k, x in sorted(v.items())}
    if isinstance(v, list):
        shapes = []
        for x in v:
            s = shape(x)
            if s not in shapes:
                shapes.append(s)
        return shapes
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, str):
        return v if key in ENUMS else "str"
    return "null" if v is None else type(v).__name__


def wait_state(base, name, want):
    for _ in range(600):
        code, j = call(base, "GET", "/connectors/%s/status" % name)
        if code == 200 and j["connector"]["state"] == want[0] and [t["state"] for t in j["tasks"]] == want[1]:
            return
        time.sleep(0.1)
    raise SystemExit("%s: %s never reached %s: %s" % (base, name, want, j))


def wait_for(base, path, ok, what):
    """Polls GET base+path (bounded, 90 s: a snapshot on a loaded machine once took longer than 30 s)
    until ok(body); fails the test saying what did not happen."""
    for _ in range(900):
        j = call(base, "GET", path)[1]
        if ok(j):
            return
        time.sleep(0.1)
    raise SystemExit("%s: %s within 90 s: %s" % (base, what, j))


def has_topics(j):
    return bool(j.get("inv", {}).get("topics"))


differences, known, details = [], [], []


def step(name, method, path, body=None, c_body=None, w_body=None, w_path=None):
    cc, cj = call(CONNECT, method, path, c_body if c_body is not None else body)
    wc, wj = call(WALCAST, method, w_path or path, w_body if w_body is not None else body)
    same = cc == wc and shape(cj) == shape(wj)
    line = "%-28s %-6s %-48s connect %d  walcast %d" % (name, method, path[:48], cc, wc)
    if same:
        print("same  " + line)
    elif name in KNOWN:
        known.append(name)
        print("KEPT  " + line + "  (" + KNOWN[name] + ")")
    else:
        differences.append(name)
        details.append("%s: connect %d %s / walcast %d %s" % (name, cc, json.dumps(cj)[:300], wc, json.dumps(wj)[:300]))
        print("DIFF  " + line)
        print("      connect: %s" % json.dumps(shape(cj))[:600])
        print("      walcast: %s" % json.dumps(shape(wj))[:600])
    if not same and (isinstance(cj, dict) and "message" in cj or isinstance(wj, dict) and "message" in wj):
        print("      connect says: %s" % str((cj or {}).get("message") if isinstance(cj, dict) else cj)[:300])
        print("      walcast says: %s" % str((wj or {}).get("message") if isinstance(wj, dict) else wj)[:300])
    return cj, wj


# the connector: the same name on both, its own slot and topic prefix on each
C = config("diff_c", "dc")
W = config("diff_w", "dw")
step("root", "GET", "/")
step("health", "GET", "/health")
step("list empty", "GET", "/connectors")
step("create", "POST", "/connectors", c_body={"name": "inv", "config": C}, w_body={"name": "inv", "config": W})
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "inv", ("RUNNING", ["RUNNING"]))
# both tasks are RUNNING once their slots exist (test_rest_running.sh); waiting until both stream as well
# keeps the first change and the offsets it stores comparable
for _ in range(300):
    out = subprocess.run(["psql", "-X", "-At", "-c", "SELECT count(*) FROM pg_replication_slots WHERE active AND "
                          "slot_name IN ('diff_c', 'diff_w')"], check=True, capture_output=True, text=True).stdout
    if out.strip() == "2":
        break
    time.sleep(0.1)
else:
    raise SystemExit("the slots diff_c and diff_w were not both active within 30 s")
# a change, so that both have stored an offset (Connect flushes offsets after records, each second here)
subprocess.run(["psql", "-X", "-q", "-c", "INSERT INTO t VALUES (1)"], check=True)
for base in (CONNECT, WALCAST):
    wait_for(base, "/connectors/inv/offsets", lambda j: j.get("offsets"), "no offset stored for inv")
# the row made both track their topic (Connect when it sends the record, walcast when it produces it)
for base in (CONNECT, WALCAST):
    wait_for(base, "/connectors/inv/topics", has_topics, "the topic of the first row not tracked")
step("offsets while running", "GET", "/connectors/inv/offsets")
step("create duplicate", "POST", "/connectors", c_body={"name": "inv", "config": C}, w_body={"name": "inv", "config": W})
step("status", "GET", "/connectors/inv/status")
step("info", "GET", "/connectors/inv")
step("config", "GET", "/connectors/inv/config")
step("list", "GET", "/connectors")
step("list expanded", "GET", "/connectors?expand=status&expand=info")
step("tasks", "GET", "/connectors/inv/tasks")
step("task status", "GET", "/connectors/inv/tasks/0/status")
step("task status unknown", "GET", "/connectors/inv/tasks/5/status")
step("config put", "PUT", "/connectors/inv/config", c_body=C, w_body=W)
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
step("config patch", "PATCH", "/connectors/inv/config", {"heartbeat.interval.ms": "0"})
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
step("config put new", "PUT", "/connectors/inv2/config", c_body=config("diff_c2", "dc2", name="inv2"),
     w_body=config("diff_w2", "dw2", name="inv2"))
step("config put name mismatch", "PUT", "/connectors/inv2/config", {"name": "other"})
step("bad json", "POST", "/connectors", "{bad")
step("unknown connector", "GET", "/connectors/nope")
step("unknown connector status", "GET", "/connectors/nope/status")
step("unknown connector pause", "PUT", "/connectors/nope/pause")
step("unknown connector delete", "DELETE", "/connectors/nope")
step("invalid config", "POST", "/connectors",
     {"name": "broken", "config": config("diff_x", "dx", **{"snapshot.mode": "sometimes"})})
step("validate", "PUT", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate",
     dict(C, name="v"))
step("validate invalid", "PUT", "/connector-plugins/PostgresConnector/config/validate",
     dict(C, name="v", **{"snapshot.mode": "sometimes"}))
step("validate class mismatch", "PUT", "/connector-plugins/PostgresConnector/config/validate",
     {"connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector"})
step("plugins", "GET", "/connector-plugins")
step("plugins all", "GET", "/connector-plugins?connectorsOnly=false")
step("plugin config", "GET", "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config")
step("plugin config alias", "GET", "/connector-plugins/PostgresConnector/config")
step("plugin config sink", "GET", "/connector-plugins/io.debezium.connector.jdbc.JdbcSinkConnector/config")
step("plugin config unknown", "GET", "/connector-plugins/com.example.NopeConnector/config")
step("pause", "PUT", "/connectors/inv/pause")
wait_state(CONNECT, "inv", ("PAUSED", ["PAUSED"]))
step("status paused", "GET", "/connectors/inv/status")
step("resume", "PUT", "/connectors/inv/resume")
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
step("offsets alter while running", "PATCH", "/connectors/inv/offsets",
     {"offsets": [{"partition": {"server": "dc"}, "offset": {"lsn": 1}}]},
     w_body={"offsets": [{"partition": {"server": "dw"}, "offset": {"lsn": 1}}]})
step("stop", "PUT", "/connectors/inv/stop")
wait_state(CONNECT, "inv", ("STOPPED", []))
CONNECT_OFFSETS = {"offsets": call(CONNECT, "GET", "/connectors/inv/offsets")[1]["offsets"]}
WALCAST_OFFSETS = {"offsets": call(WALCAST, "GET", "/connectors/inv/offsets")[1]["offsets"]}
step("status stopped", "GET", "/connectors/inv/status")
step("info stopped", "GET", "/connectors/inv")
step("offsets while stopped", "GET", "/connectors/inv/offsets")
step("offsets alter while stopped", "PATCH", "/connectors/inv/offsets",
     c_body=CONNECT_OFFSETS, w_body=WALCAST_OFFSETS)
step("offsets after alter", "GET", "/connectors/inv/offsets")
step("offsets alter empty", "PATCH", "/connectors/inv/offsets", {"offsets": []})
step("offsets reset while stopped", "DELETE", "/connectors/inv/offsets")
step("offsets after reset", "GET", "/connectors/inv/offsets")
# the offsets read before, written back, so both resume where they were
step("offsets restore", "PATCH", "/connectors/inv/offsets", c_body=CONNECT_OFFSETS, w_body=WALCAST_OFFSETS)
step("resume stopped", "PUT", "/connectors/inv/resume")
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "inv", ("RUNNING", ["RUNNING"]))
# after each restart both sides run again before the next step (a restart answered while the previous
# one is still under way shows the task UNASSIGNED on the slower side: seen once in CI, on walcast)
step("restart", "POST", "/connectors/inv/restart")
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "inv", ("RUNNING", ["RUNNING"]))
step("restart include tasks", "POST", "/connectors/inv/restart?includeTasks=true")
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "inv", ("RUNNING", ["RUNNING"]))
step("restart only failed", "POST", "/connectors/inv/restart?includeTasks=true&onlyFailed=true")
step("task restart", "POST", "/connectors/inv/tasks/0/restart")
wait_state(CONNECT, "inv", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "inv", ("RUNNING", ["RUNNING"]))
step("task restart unknown", "POST", "/connectors/inv/tasks/7/restart")
step("topics", "GET", "/connectors/inv/topics")
step("topics unknown connector", "GET", "/connectors/nope/topics")
step("topics reset", "PUT", "/connectors/inv/topics/reset")
# Connect forgets the topics when it reads its own tombstones back from the status topic: wait for that
wait_for(CONNECT, "/connectors/inv/topics", lambda j: not has_topics(j), "topics not forgotten after a reset")
step("topics after reset", "GET", "/connectors/inv/topics")
step("topics reset unknown connector", "PUT", "/connectors/nope/topics/reset")
step("topics wrong method", "POST", "/connectors/inv/topics")
# a row after the reset: both track the topic again (then delete shows what happens to it)
subprocess.run(["psql", "-X", "-q", "-c", "INSERT INTO t VALUES (2)"], check=True)
for base in (CONNECT, WALCAST):
    wait_for(base, "/connectors/inv/topics", has_topics, "the topic not tracked again after a row")
step("topics again", "GET", "/connectors/inv/topics")
# snapshot.mode=initial_only: once the snapshot is done Debezium streams nothing, and Connect keeps the
# connector and its task RUNNING (the task polls an empty queue); walcast's thread has ended, and it shows
# RUNNING too
step("initial_only create", "POST", "/connectors",
     c_body={"name": "snap", "config": config("snap_c", "sc", **{"snapshot.mode": "initial_only"})},
     w_body={"name": "snap", "config": config("snap_w", "sw", **{"snapshot.mode": "initial_only"})})
for base in (CONNECT, WALCAST):
    wait_for(base, "/connectors/snap/offsets",
             lambda j: any(o["offset"].get("snapshot_completed") for o in j.get("offsets", [])), "snapshot not completed")
step("initial_only offsets", "GET", "/connectors/snap/offsets")
step("initial_only status", "GET", "/connectors/snap/status")
step("initial_only task status", "GET", "/connectors/snap/tasks/0/status")
step("initial_only delete", "DELETE", "/connectors/snap")
# a JDBC sink on each (reading its own side's topic into its own table): offsets in Connect's sink shape
def sink(topic, table):
    return {"connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector", "topics": topic,
            "connection.url": "jdbc:postgresql://127.0.0.1:%s/postgres" % PGPORT, "connection.username": "postgres",
            "connection.password": "hunter2", "insert.mode": "upsert", "primary.key.mode": "record_key",
            "schema.evolution": "basic", "collection.name.format": table, "tasks.max": "1"}


SC, SW = sink("dc.public.t", "diff_sink_c"), sink("dw.public.t", "diff_sink_w")
# two names: a sink's consumer group is connect-<name> on both, and they share the broker
C_SNK, W_SNK = "/connectors/snk", "/connectors/snkw"
step("sink create", "POST", "/connectors", c_body={"name": "snk", "config": SC}, w_body={"name": "snkw", "config": SW})
wait_state(CONNECT, "snk", ("RUNNING", ["RUNNING"]))
wait_state(WALCAST, "snkw", ("RUNNING", ["RUNNING"]))
for base, path in ((CONNECT, C_SNK), (WALCAST, W_SNK)):   # both have applied the rows and committed their positions
    wait_for(base, path + "/offsets", lambda j: j.get("offsets"), "the sink stored no offset")


def sstep(name, method, sub, body=None, c_body=None, w_body=None):
    step(name, method, C_SNK + sub, body, c_body, w_body, w_path=W_SNK + sub)


sstep("sink tasks", "GET", "/tasks")
# the task class is Debezium's (shapes hide it: compared as it is)
for base, path in ((CONNECT, C_SNK), (WALCAST, W_SNK)):
    tc = call(base, "GET", path + "/tasks")[1][0]["config"].get("task.class")
    if tc != "io.debezium.connector.jdbc.JdbcSinkConnectorTask":
        differences.append("sink task.class")
        details.append("sink task.class: %s says %s" % (base, tc))
sstep("sink offsets while running", "GET", "/offsets")
sstep("sink offsets alter while running", "PATCH", "/offsets",
      {"offsets": [{"partition": {"kafka_topic": "x", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]})
sstep("sink stop", "PUT", "/stop")
wait_state(CONNECT, "snk", ("STOPPED", []))
sstep("sink offsets alter no partition", "PATCH", "/offsets",
      {"offsets": [{"partition": {"kafka_topic": "dc.public.t"}, "offset": {"kafka_offset": 1}}]})
sstep("sink offsets alter bad offset", "PATCH", "/offsets",
      {"offsets": [{"partition": {"kafka_topic": "dc.public.t", "kafka_partition": 0}, "offset": {"x": 1}}]})
sstep("sink offsets alter", "PATCH", "/offsets",
      c_body={"offsets": [{"partition": {"kafka_topic": "dc.public.t", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]},
      w_body={"offsets": [{"partition": {"kafka_topic": "dw.public.t", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}]})
sstep("sink offsets after alter", "GET", "/offsets")
sstep("sink offsets reset", "DELETE", "/offsets")
sstep("sink offsets after reset", "GET", "/offsets")
sstep("sink delete", "DELETE", "")
step("loggers", "GET", "/admin/loggers")
step("logger get", "GET", "/admin/loggers/root")
step("logger put", "PUT", "/admin/loggers/io.debezium", {"level": "INFO"})
step("logger put invalid", "PUT", "/admin/loggers/root", {"level": "LOUD"})
step("delete", "DELETE", "/connectors/inv")
step("delete 2", "DELETE", "/connectors/inv2")
step("deleted", "GET", "/connectors/inv")
step("topics after delete", "GET", "/connectors/inv/topics")
step("list after delete", "GET", "/connectors")

print("%d steps kept as known differences, %d unexpected differences" % (len(known), len(differences)))
if differences:
    print("unexpected: " + ", ".join(differences))
    for d in details:
        print("  " + d)
    sys.exit(1)
