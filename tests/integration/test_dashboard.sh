#!/usr/bin/env bash
# test_dashboard.sh: GET /dashboard in headless Chromium (Debian's chromium) under a workload: a source
# and a sink (tests/integration/monitoring.sh) while a writer inserts 5 rows every 0.2 s. The page is
# self-contained (no external script, style, font or URL); GET /dashboard/data holds the sampler's history
# (a sample a second) from the start, so the charts have points on first open; a screenshot taken under
# the workload is kept as an artefact (build/test-artefacts/dashboard.png, or $WALCAST_IT_ARTEFACTS);
# once the writer is stopped and the sink caught up, the DOM the page's script built (chromium --dump-dom)
# has points in every chart, both connectors RUNNING, a third (a sink into a database that does not
# exist) FAILED with its error, and every number it shows equal to the /metrics sample it names
# (dashboard_check.py).
. "$(dirname "$0")/lib.sh"
it_init
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { echo "chromium is missing: run scripts/install-deps.sh (Debian's chromium package)" >&2; exit 1; }
ART=${WALCAST_IT_ARTEFACTS:-$ROOT/build/test-artefacts}
mkdir -p "$ART"
. "$ROOT/tests/integration/monitoring.sh"
mon_start dash
U_DASH="$U/dashboard"
# a sink that fails: its database does not exist (the dashboard shows it FAILED with the error)
mon_post bad '{"connector.class":"io.debezium.connector.jdbc.JdbcSinkConnector","topics":"itm.public.t","connection.url":"jdbc:postgresql://127.0.0.1:'"$PGPORT"'/nodb","connection.username":"postgres","primary.key.mode":"record_key"}'
for _ in $(seq 1 300); do curl -sf "$U/connectors/bad/status" | grep -q FAILED && break; sleep 0.1; done
curl -sf "$U/connectors/bad/status" | grep -q FAILED || { echo "the sink into a missing database did not fail" >&2; exit 1; }

# the page: served from the binary, HTML, nothing external
curl -sf -D "$IT_DIR/page.h" "$U_DASH" >"$IT_DIR/page.html"
grep -qi '^content-type: text/html' "$IT_DIR/page.h"
if grep -Eqi '<(script|link|img|iframe)[^>]* (src|href)=|url\(|@import|https?://' "$IT_DIR/page.html"; then
  echo "the dashboard page refers to something outside itself:" >&2
  grep -Eio '<(script|link|img|iframe)[^>]* (src|href)=[^>]*|url\([^)]*\)|@import[^;]*|https?://[^"'"'"' ]*' "$IT_DIR/page.html" >&2
  exit 1
fi
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U_DASH")" = 405 ]
[ "$(curl -s -o /dev/null -w '%{http_code}' "$U/dashboard/x")" = 404 ]

mon_writer_start 100 600   # 5 rows every 0.2 s, until stopped (2 minutes at most)
# history: wait (bounded) until the ring holds 5 samples of each, the slot was read and rows were applied
hist_ready() {
  curl -sf "$U/dashboard/data" >"$IT_DIR/data.json" && "$PY" - "$IT_DIR/data.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = len(d["sources"]) == 1 and len(d["sinks"]) == 1
ok = ok and all(len(x["hist"]["t"]) >= 5 for x in d["sources"] + d["sinks"])
ok = ok and d["sources"][0]["slot_known"] and d["sinks"][0]["applied_total"] > 10
sys.exit(0 if ok else 1)
PY
}
for _ in $(seq 1 300); do hist_ready && break; sleep 0.1; done
hist_ready || { echo "no history in /dashboard/data within 30 s: $(head -c 600 "$IT_DIR/data.json")" >&2; exit 1; }
kill -0 "$MON_WRITER" 2>/dev/null || { echo "the writer ended before the screenshot: no workload to show" >&2; exit 1; }

chrome() {   # headless, its profile in IT_DIR; root needs --no-sandbox
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --user-data-dir="$IT_DIR/chromium" --hide-scrollbars --virtual-time-budget=4000 "$@" 2>>"$IT_DIR/chromium.err"
}
chrome --window-size=1280,1180 --screenshot="$IT_DIR/dashboard.png" "$U_DASH" >/dev/null
[ -s "$IT_DIR/dashboard.png" ] || { echo "chromium saved no screenshot" >&2; grep -v dbus "$IT_DIR/chromium.err" | tail -5 >&2; exit 1; }
cp "$IT_DIR/dashboard.png" "$ART/dashboard.png"

# the writer stopped and the sink caught up: the figures hold still, the DOM is compared with /metrics
mon_writer_stop
rows=$(psql -X -At -c 'SELECT count(*) FROM t')
caught_up() {
  curl -sf "$U/metrics" >"$IT_DIR/m" &&
    grep -qx 'walcast_sink_consumer_lag_records{connector="snk"} 0' "$IT_DIR/m" &&
    [ "$(psql -X -At -d tgt -c 'SELECT count(*) FROM t')" = $((rows + 1)) ]   # and the seeded row 11
}
for _ in $(seq 1 300); do caught_up && break; sleep 0.1; done
caught_up || { echo "the sink did not catch up: $(psql -X -At -d tgt -c 'SELECT count(*) FROM t') rows of $((rows + 1)), $(grep '^walcast_sink_consumer_lag_records' "$IT_DIR/m")" >&2; exit 1; }
curl -sf "$U/metrics" >"$IT_DIR/m.before"
chrome --dump-dom "$U_DASH" >"$IT_DIR/dom.html"
curl -sf "$U/metrics" >"$IT_DIR/m.after"
cp "$IT_DIR/dom.html" "$ART/dashboard-dom.html"
res=$("$PY" "$ROOT/tests/integration/dashboard_check.py" "$IT_DIR/dom.html" "$IT_DIR/m.before" "$IT_DIR/m.after" bad) ||
  { echo "the dashboard's DOM does not match /metrics (kept in $ART/dashboard-dom.html)" >&2; exit 1; }
echo "dashboard: $res; screenshot under the workload: $ART/dashboard.png"
