#!/usr/bin/env python3
"""dashboard_check.py DOM METRICS_BEFORE METRICS_AFTER [FAILED_NAME]: checks the DOM GET /dashboard left after
its script ran (chromium --dump-dom): the page loaded its data, every chart has points (at least 2), there
is a source and a sink card, RUNNING, and (FAILED_NAME) that connector's card shows FAILED with its error;
every number shown (an element with data-series) equals the
/metrics sample it names, taken between two scrapes: the value must lie between the scrape before the
page was opened and the one after (equal when nothing moved). Prints what it checked; exits 1 naming
the first mismatch."""
import re
import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.charts, self.polylines, self.figures, self.cards, self.states = [], [], [], [], []
        self.body_loaded = False
        self.external = []
        self.card = None            # the connector of the card being read
        self.state_of, self.task_state_of, self.error_of = {}, {}, {}
        self.in_error = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-loaded") == "1":
            self.body_loaded = True
        if tag == "svg" and "series" in (a.get("class") or "").split():
            self.charts.append(a)
        if tag == "polyline":
            self.polylines.append(a.get("points", ""))
        if "data-series" in a:
            self.figures.append((a["data-series"], a.get("data-value")))
        if tag == "div" and "card" in (a.get("class") or "").split() and "data-connector" in a:
            self.cards.append((a["class"], a["data-connector"]))
            self.card = a["data-connector"]
        if "data-state" in a:
            self.states.append(a["data-state"])
            self.state_of[self.card] = a["data-state"]
        if "data-task-state" in a:
            self.task_state_of[self.card] = a["data-task-state"]
        if tag == "div" and a.get("class") == "error":
            self.in_error = True
        for k in ("src", "href"):
            if k in a and re.match(r"^(https?:)?//", a[k]):
                self.external.append(a[k])

    def handle_endtag(self, tag):
        if tag == "div":
            self.in_error = False

    def handle_data(self, data):
        if self.in_error:
            self.error_of[self.card] = self.error_of.get(self.card, "") + data


def samples(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rstrip("\n").rpartition(" ")
        out[name] = float(value)
    return out


def value_of(series, m):
    s = re.match(r"^sum\((.*)\{(.*)\}\)$", series)
    if s:   # the sum of a family's samples that carry these labels
        pre = s.group(1) + "{" + s.group(2) + ","
        found = [v for k, v in m.items() if k.startswith(pre)]
        return sum(found) if found else None
    return m.get(series)


def main():
    dom_path, before_path, after_path = sys.argv[1:4]
    d = Dom()
    d.feed(open(dom_path, encoding="utf-8").read())
    errors = []
    if not d.body_loaded:
        errors.append("the page's script did not render /dashboard/data (body has no data-loaded)")
    if d.external:
        errors.append("external resources: %s" % d.external)
    kinds = {c.split()[1] for c, _ in d.cards}
    if not {"source", "sink"} <= kinds:
        errors.append("expected a source and a sink card, found %s" % sorted(kinds))
    if not d.charts:
        errors.append("no chart")
    for c in d.charts:
        if int(c.get("data-points", "0")) < 2:
            errors.append("chart %s has %s points" % (c.get("data-chart"), c.get("data-points")))
    for p in d.polylines:
        if len(p.split()) < 2:
            errors.append("a polyline with fewer than 2 points: '%s'" % p)
    failed = sys.argv[4] if len(sys.argv) > 4 else None
    shown = lambda c: (d.state_of.get(c), d.task_state_of.get(c))
    for c in d.state_of:
        if c != failed and shown(c) != ("RUNNING", "RUNNING"):
            errors.append("connector %s is shown %s/%s" % ((c,) + shown(c)))
    for c in ("src", "snk"):
        if shown(c) != ("RUNNING", "RUNNING"):
            errors.append("connector %s is shown %s/%s, expected RUNNING" % ((c,) + shown(c)))
    if failed and ("FAILED" not in shown(failed) or not d.error_of.get(failed, "").strip()):
        errors.append("connector %s: shown %s/%s with error %r, expected FAILED with its error" %
                      ((failed,) + shown(failed) + (d.error_of.get(failed),)))
    before, after = samples(before_path), samples(after_path)
    checked = 0
    for series, shown in d.figures:
        a, b = value_of(series, before), value_of(series, after)
        if a is None or b is None:
            errors.append("%s is shown but not in /metrics" % series)
            continue
        v = float(shown)
        lo, hi = min(a, b), max(a, b)
        tol = 1e-6 * max(1.0, abs(lo), abs(hi))
        if not (lo - tol <= v <= hi + tol):
            errors.append("%s shows %s, /metrics had %s before and %s after" % (series, shown, a, b))
        checked += 1
    if errors:
        for e in errors:
            print("dashboard: " + e, file=sys.stderr)
        sys.exit(1)
    print("%d charts with points (%s), %d numbers equal to /metrics%s" %
          (len(d.charts), ", ".join("%s=%s" % (c.get("data-chart"), c.get("data-points")) for c in d.charts), checked,
           "; %s shown FAILED: %s" % (failed, d.error_of[failed].strip()[:120]) if failed else ""))


if __name__ == "__main__":
    main()
