#!/usr/bin/python3
"""registry_fixture.py: a small Confluent Schema Registry for tests: the REST subset walcast uses.

POST /subjects/S/versions (register; BACKWARD/FORWARD/FULL/NONE compatibility checked with python3-avro's
ReaderWriterCompatibilityChecker, 409 when incompatible), POST /subjects/S (lookup), GET /subjects,
GET /subjects/S/versions, GET /subjects/S/versions/N|latest, GET /schemas/ids/N, GET|PUT /config[/S].
Test controls: POST /__fixture/fail {"status":503,"count":N} answers the next N requests with that
status. State lives in a JSON file so a restarted fixture keeps its ids. Prints "port=N" when ready.
"""
import argparse
import base64
import json
import os
import signal
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

LOCK = threading.Lock()
ARGS = None
STATE = {"schemas": [], "subjects": {}, "config": {}, "global": "BACKWARD"}
FAIL = {"status": 0, "count": 0}


def save():
    if ARGS.state:
        tmp = ARGS.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(STATE, f)
        os.replace(tmp, ARGS.state)


def schema_id(text):
    """Ids are global: the same schema text under two subjects has one id, as in Confluent's."""
    canon = json.dumps(json.loads(text), sort_keys=True)
    for i, s in enumerate(STATE["schemas"]):
        if json.dumps(json.loads(s), sort_keys=True) == canon:
            return i + 1
    STATE["schemas"].append(text)
    return len(STATE["schemas"])


def compatible(level, new, old):
    """(ok, message) for registering new after old under level."""
    if level == "NONE":
        return True, ""
    rn, ro = avro.schema.parse(new), avro.schema.parse(old)
    checks = []
    if level.startswith("BACKWARD") or level.startswith("FULL"):
        checks.append((rn, ro, "BACKWARD"))
    if level.startswith("FORWARD") or level.startswith("FULL"):
        checks.append((ro, rn, "FORWARD"))
    for reader, writer, kind in checks:
        r = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
        if r.compatibility != SchemaCompatibilityType.compatible:
            return False, "%s: %s at %s" % (kind, "; ".join(sorted(r.messages)), "/".join(map(str, r.locations)))
    return True, ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # headers and body go out in two writes: without this, Nagle + delayed ACK add 40 ms to each
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *a):
        if ARGS.log:
            with open(ARGS.log, "a") as f:
                f.write("%s %s auth=%s\n" % (self.command, self.path, "Authorization" in self.headers))

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, msg):
        self.reply(status, {"error_code": code, "message": msg})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")

    def gate(self):
        """True when the request may go on (auth and injected failures)."""
        if self.path.startswith("/__fixture/"):
            return True
        if ARGS.user_info:
            want = "Basic " + base64.b64encode(ARGS.user_info.encode()).decode()
            if self.headers.get("Authorization") != want:
                self.error(401, 401, "Unauthorized")
                return False
        with LOCK:
            if FAIL["count"] > 0:
                FAIL["count"] -= 1
                self.error(FAIL["status"], FAIL["status"] * 100 + 1, "injected failure")
                return False
        return True

    def do_GET(self):
        if not self.gate():
            return
        p = [unquote(x) for x in self.path.split("?")[0].strip("/").split("/")]
        with LOCK:
            subs = STATE["subjects"]
            if p == ["subjects"]:
                return self.reply(200, sorted(subs))
            if len(p) >= 3 and p[0] == "subjects" and p[2] == "versions":
                vers = subs.get(p[1])
                if vers is None:
                    return self.error(404, 40401, "Subject '%s' not found." % p[1])
                if len(p) == 3:
                    return self.reply(200, list(range(1, len(vers) + 1)))
                v = len(vers) if p[3] == "latest" else int(p[3])
                if v < 1 or v > len(vers):
                    return self.error(404, 40402, "Version %s not found." % p[3])
                sid = vers[v - 1]
                return self.reply(200, {"subject": p[1], "version": v, "id": sid,
                                        "schema": STATE["schemas"][sid - 1]})
            if len(p) == 3 and p[:2] == ["schemas", "ids"]:
                sid = int(p[2])
                if sid < 1 or sid > len(STATE["schemas"]):
                    return self.error(404, 40403, "Schema %d not found" % sid)
                return self.reply(200, {"schema": STATE["schemas"][sid - 1]})
            if p == ["config"]:
                return self.reply(200, {"compatibilityLevel": STATE["global"]})
            if len(p) == 2 and p[0] == "config":
                lvl = STATE["config"].get(p[1])
                if lvl is None:
                    return self.error(404, 40408, "Subject '%s' does not have subject-level compatibility configured" % p[1])
                return self.reply(200, {"compatibilityLevel": lvl})
        self.error(404, 404, "HTTP 404 Not Found")

    def do_PUT(self):
        if not self.gate():
            return
        p = [unquote(x) for x in self.path.strip("/").split("/")]
        b = self.body()
        with LOCK:
            if p[0] == "config":
                lvl = b.get("compatibility", "").upper()
                if len(p) == 1:
                    STATE["global"] = lvl
                else:
                    STATE["config"][p[1]] = lvl
                save()
                return self.reply(200, {"compatibility": lvl})
        self.error(404, 404, "HTTP 404 Not Found")

    def do_POST(self):
        if not self.gate():
            return
        p = [unquote(x) for x in self.path.split("?")[0].strip("/").split("/")]
        b = self.body()
        if p == ["__fixture", "fail"]:
            with LOCK:
                FAIL["status"], FAIL["count"] = int(b["status"]), int(b["count"])
            return self.reply(200, FAIL)
        if len(p) < 2 or p[0] != "subjects":
            return self.error(404, 404, "HTTP 404 Not Found")
        text = b.get("schema")
        try:
            avro.schema.parse(text)
        except Exception as e:  # noqa: BLE001 - the registry answers 422 for any parse failure
            return self.error(422, 42201, "Invalid schema %s" % e)
        subj = p[1]
        canon = json.dumps(json.loads(text), sort_keys=True)
        with LOCK:
            vers = STATE["subjects"].get(subj, [])
            for i, sid in enumerate(vers):
                if json.dumps(json.loads(STATE["schemas"][sid - 1]), sort_keys=True) == canon:
                    return self.reply(200, {"subject": subj, "version": i + 1, "id": sid, "schema": text}
                                      if len(p) == 2 else {"id": sid})
            if len(p) == 2:
                if not vers:
                    return self.error(404, 40401, "Subject '%s' not found." % subj)
                return self.error(404, 40403, "Schema not found")
            if vers:
                lvl = STATE["config"].get(subj, STATE["global"])
                ok, why = compatible(lvl, text, STATE["schemas"][vers[-1] - 1])
                if not ok:
                    return self.error(409, 409, "Schema being registered is incompatible with an earlier schema for subject \"%s\", details: [%s]" % (subj, why))
            sid = schema_id(text)
            STATE["subjects"].setdefault(subj, []).append(sid)
            save()
            return self.reply(200, {"id": sid})


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--state")
    ap.add_argument("--log")
    ap.add_argument("--user-info")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca", help="require a client certificate signed by this CA (PEM)")
    ap.add_argument("--compat", default="BACKWARD")
    ARGS = ap.parse_args()
    # a background job of a script starts with SIGINT ignored; tests stop the fixture with INT or TERM
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    if ARGS.state and os.path.exists(ARGS.state):
        with open(ARGS.state) as f:
            STATE.update(json.load(f))
    else:
        STATE["global"] = ARGS.compat.upper()
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        if ARGS.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(ARGS.client_ca)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("port=%d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
