#!/usr/bin/env bash
# test_prometheus.sh: the Prometheus side of issue 20. promtool checks docs/prometheus/walcast-alerts.yml
# (check rules) and runs its unit tests (test rules tests/prometheus/alerts_test.yml: among them, a stopped
# sink fires WalcastConnectorNotRunning). Then Debian's prometheus (free port, temp folder, stopped by the
# EXIT trap) scrapes walcast every second, with those rules loaded, while a source and a sink
# (monitoring.sh) run under a writer; every PromQL query of every panel of docs/grafana/walcast-dashboard.json
# is evaluated through Prometheus's HTTP API and must return data (prom_panels.py); max_slot_wal_keep_size
# is set so that the limit's and safe_wal_size's series exist. Last, the sink is paused and the alert
# WalcastConnectorNotRunning goes pending for it in the real Prometheus.
. "$(dirname "$0")/lib.sh"
it_init
for c in prometheus promtool; do
  command -v $c >/dev/null || { echo "$c is missing: run scripts/install-deps.sh (Debian's prometheus package)" >&2; exit 1; }
done
RULES=$ROOT/docs/prometheus/walcast-alerts.yml
promtool check rules "$RULES" >"$IT_DIR/check.out" 2>&1 || { cat "$IT_DIR/check.out" >&2; exit 1; }
promtool test rules "$ROOT/tests/prometheus/alerts_test.yml" >"$IT_DIR/test.out" 2>&1 || { cat "$IT_DIR/test.out" >&2; exit 1; }

. "$ROOT/tests/integration/monitoring.sh"
limit_wal() {
  psql_q -c "ALTER SYSTEM SET max_slot_wal_keep_size = '1GB'" -c "SELECT pg_reload_conf()" >/dev/null
}
MON_BEFORE_CONNECTORS=limit_wal
mon_start prom
PPORT=$(free_port)
cat >"$IT_DIR/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: walcast
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
YML
prometheus --config.file="$IT_DIR/prometheus.yml" --storage.tsdb.path="$IT_DIR/prom" \
  --web.listen-address="127.0.0.1:$PPORT" --log.level=warn >"$IT_DIR/prometheus.log" 2>&1 &
IT_PIDS+=($!)
P="http://127.0.0.1:$PPORT"
for _ in $(seq 1 300); do curl -sf "$P/-/ready" >/dev/null && break; sleep 0.1; done
curl -sf "$P/-/ready" >/dev/null || { echo "prometheus did not become ready in 30 s" >&2; exit 1; }

mon_writer_start 100 600
# enough scrapes under the workload for rates and quantiles: 10 samples of the sink's applied counter
# that grew, and the slot read
q() { curl -sf --get "$P/api/v1/query" --data-urlencode "query=$1"; }
enough() {
  q 'count_over_time(walcast_sink_records_applied_total[1m]) >= 10 and delta(walcast_sink_records_applied_total[1m]) > 0' | grep -q '"result":\[{' &&
    q 'walcast_slot_safe_wal_size_bytes' | grep -q '"result":\[{'
}
for _ in $(seq 1 600); do enough && break; sleep 0.1; done
enough || { echo "prometheus has not scraped enough in 60 s: $(q up)" >&2; exit 1; }
"$PY" "$ROOT/tests/integration/prom_panels.py" "$P" "$ROOT/docs/grafana/walcast-dashboard.json" >"$IT_DIR/panels.out" ||
  { grep -v '^ok ' "$IT_DIR/panels.out" >&2; exit 1; }
mon_writer_stop

# a paused sink: the rule loaded in the real Prometheus goes pending for it (it fires after its 2 minutes)
curl -sf -X PUT "$U/connectors/snk/pause" >/dev/null
pending() { q 'ALERTS{alertname="WalcastConnectorNotRunning",connector="snk",status="paused"}' | grep -q '"result":\[{'; }
for _ in $(seq 1 300); do pending && break; sleep 0.1; done
pending || { echo "WalcastConnectorNotRunning did not go pending for the paused sink in 30 s" >&2; exit 1; }
# nothing else is wrong: no other alert for the running source
q 'ALERTS{connector="src"}' | grep -q '"result":\[\]' || { echo "an alert for the healthy source: $(q 'ALERTS{connector="src"}')" >&2; exit 1; }
echo "prometheus: rules checked and unit-tested; $(tail -1 "$IT_DIR/panels.out"); the paused sink's alert pending"
