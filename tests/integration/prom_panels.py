#!/usr/bin/env python3
"""prom_panels.py PROMETHEUS_URL DASHBOARD_JSON: evaluates every PromQL query of every panel of a Grafana
dashboard through Prometheus's HTTP API (/api/v1/query, instant, now; Grafana's $__rate_interval and
$__interval become 30s) and checks that each returns data: status success, at least one series, at
least one finite value. Prints one line a query; exits 1 when any returns nothing."""
import json
import math
import sys
import urllib.parse
import urllib.request


def main():
    url, path = sys.argv[1], sys.argv[2]
    dash = json.load(open(path))
    bad = n = 0
    for p in dash["panels"]:
        for t in p.get("targets", []):
            expr = t["expr"].replace("$__rate_interval", "30s").replace("$__interval", "30s")
            q = urllib.parse.urlencode({"query": expr})
            with urllib.request.urlopen("%s/api/v1/query?%s" % (url, q), timeout=10) as r:
                ans = json.load(r)
            res = ans.get("data", {}).get("result", []) if ans.get("status") == "success" else []
            vals = [float(s["value"][1]) for s in res]
            ok = bool(vals) and any(math.isfinite(v) for v in vals)
            n += 1
            if not ok:
                bad += 1
            print("%s panel %d %r %s: %s" % ("ok " if ok else "BAD", p["id"], p["title"], t["refId"],
                                             ", ".join("%g" % v for v in vals[:4]) if vals else ans.get("error", "no data")))
    print("%d queries, %d without data" % (n, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
