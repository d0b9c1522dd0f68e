#!/usr/bin/env bash
# test_docker_stack.sh: docker-compose.yml runs, end to end, on a Docker engine of the test's own
# (scripts/docker-engine.sh: Debian's dockerd, overlay2) with no image registry: the base image is a
# local debootstrap, walcast's image is built from the unchanged Dockerfile, every other service from
# Debian packages or Maven Central / Go proxy artifacts (scripts/compose-local.sh and the override in
# scripts/compose/local/). Then, through a current Docker Compose (compose.sh):
#   - the init service creates the source and three sinks through walcast's REST API and ends with 0,
#     printing the dashboard's URL;
#   - rows the writer and this test write to the source arrive, equal, in PostgreSQL, MariaDB and MongoDB;
#   - the REST API answers on the published port, /metrics and /dashboard serve data, Prometheus
#     scrapes walcast and loaded the alert rules;
#   - `docker compose stop walcast` ends walcast with exit status 0 (a clean stop on SIGTERM);
#   - `docker compose down -v` leaves no container, network or volume of the project behind.
# Everything runs on free loopback ports. The engine's data root stays in the cache so later runs reuse
# the base image and the apt layers: the first run builds for a few minutes, later ones in seconds.
. "$(dirname "$0")/lib.sh"
it_init
DDIR=$(mktemp -d /tmp/walcast-docker.XXXXXX)
PROJECT="walcast-it-$$"
DK=(/usr/bin/docker -H "unix://$DDIR/sock")
export DOCKER_HOST="unix://$DDIR/sock"
up=0
stack() { bash "$ROOT/scripts/compose-local.sh" compose -p "$PROJECT" "$@"; }
stack_cleanup() {
  if [ "$up" = 1 ]; then
    stack logs --no-color >"$IT_DIR/stack.log" 2>&1 || true
    stack down -v --remove-orphans >/dev/null 2>&1 || true
  fi
  bash "$ROOT/scripts/docker-engine.sh" stop "$DDIR"
}
trap 'rc=$?; stack_cleanup; (exit $rc); it_cleanup' EXIT
fail() { echo "$*" >&2; exit 1; }

bash "$ROOT/scripts/docker-engine.sh" start "$DDIR" >/dev/null
bash "$ROOT/scripts/docker-engine.sh" base "$DDIR"
start=$(date +%s)
bash "$ROOT/scripts/compose-local.sh" build 2>"$IT_DIR/build.log" || { cat "$IT_DIR/build.log" >&2; fail "building the stack's images failed"; }
echo "images built in $(( $(date +%s) - start ))s"
"${DK[@]}" run --rm walcast-local/walcast:dev version | grep -q '^walcast ' || fail "the Dockerfile's image does not run walcast version"

for v in POSTGRES_PORT KAFKA_PORT REGISTRY_PORT MARIADB_PORT MONGODB_PORT WALCAST_PORT PROMETHEUS_PORT; do
  export "$v=$(free_port)"
done
up=1
start=$(date +%s)
stack up -d --no-build >"$IT_DIR/up.log" 2>&1 || { cat "$IT_DIR/up.log" >&2; fail "docker compose up failed"; }

# the init service: ends with 0 once every connector runs
for i in $(seq 1 2400); do
  st=$("${DK[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$PROJECT-init-1" 2>/dev/null || echo "missing")
  case $st in
    "exited 0") break ;;
    exited*) stack logs --no-color init walcast >&2 || true; fail "the init service failed ($st)" ;;
  esac
  [ "$i" -eq 2400 ] && { stack logs --no-color init walcast >&2 || true; fail "the init service did not finish in 240 s"; }
  sleep 0.1
done
stack logs --no-color init >"$IT_DIR/init.log" 2>&1
grep -q "dashboard: http://localhost:$WALCAST_PORT/dashboard" "$IT_DIR/init.log" || { cat "$IT_DIR/init.log" >&2; fail "init did not print the dashboard's URL"; }
echo "stack up, connectors created and RUNNING in $(( $(date +%s) - start ))s"

REST="http://127.0.0.1:$WALCAST_PORT"
get() { "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' "$1"; }
get "$REST/connectors?expand=status" >"$IT_DIR/connectors.json"
"$PY" - "$IT_DIR/connectors.json" <<'PYEOF' || fail "the REST API does not list the four connectors RUNNING"
import json, sys
d = json.load(open(sys.argv[1]))
want = {"shop-source", "shop-postgres-sink", "shop-mariadb-sink", "shop-mongodb-sink"}
assert set(d) == want, sorted(d)
for n, v in d.items():
    assert v["status"]["connector"]["state"] == "RUNNING", (n, v)
    assert [t["state"] for t in v["status"]["tasks"]] == ["RUNNING"], (n, v)
PYEOF

# rows of our own beside the writer's, then the writer stops and every target must equal the source
export PGPASSWORD=postgres
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres \
  -c "INSERT INTO customers (name, email) SELECT 'it ' || g, 'it' || g || '@example.org' FROM generate_series(1, 20) g" \
  -c "UPDATE customers SET email = 'changed@example.org' WHERE name = 'it 3'" \
  -c "DELETE FROM customers WHERE name = 'it 4'"
stack stop writer >/dev/null 2>&1
[ "$(psql -X -At -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres -c 'SELECT count(*) FROM orders')" -gt 0 ] ||
  fail "the writer wrote no orders"
"$PY" "$ROOT/tests/integration/compose_compare.py" 120 "$POSTGRES_PORT" "$MARIADB_PORT" "$MONGODB_PORT" ||
  fail "the targets did not become equal to the source"

# /metrics: the source's events are counted; /dashboard: a page
get "$REST/metrics" >"$IT_DIR/metrics.txt"
seen=$(awk '/^debezium_metrics_TotalNumberOfEventsSeen\{.*context="streaming"/ { print $NF; exit }' "$IT_DIR/metrics.txt")
[ -n "$seen" ] && awk -v s="$seen" 'BEGIN { exit !(s > 0) }' || fail "GET /metrics counts no streamed events (got '${seen:-nothing}')"
get "$REST/dashboard" >"$IT_DIR/dashboard.html" || fail "GET /dashboard failed"
grep -qi "<html" "$IT_DIR/dashboard.html" || fail "GET /dashboard is not a page"

# Prometheus: walcast is up for it and the alert rules are loaded
PROM="http://127.0.0.1:$PROMETHEUS_PORT"
for i in $(seq 1 300); do
  q=$(get "$PROM/api/v1/query?query=up%7Bjob%3D%22walcast%22%7D" 2>/dev/null || true)
  case $q in *'"value":['*',"1"]'*) break ;; esac
  [ "$i" -eq 300 ] && fail "Prometheus did not scrape walcast in 30 s: ${q:-no answer}"
  sleep 0.1
done
get "$PROM/api/v1/rules" >"$IT_DIR/rules.json"
"$PY" - "$IT_DIR/rules.json" <<'PYEOF' || fail "Prometheus did not load walcast's alert rules"
import json, sys
groups = json.load(open(sys.argv[1]))["data"]["groups"]
alerts = [r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"]
assert alerts, groups
print(f"Prometheus scrapes walcast and holds {len(alerts)} alert rules")
PYEOF

# a clean stop: walcast ends with 0 on the SIGTERM compose sends
stack stop -t 30 walcast >/dev/null 2>&1
code=$("${DK[@]}" inspect -f '{{.State.ExitCode}}' "$PROJECT-walcast-1")
[ "$code" = 0 ] || { stack logs --no-color walcast | tail -30 >&2; fail "walcast exited with $code after docker compose stop"; }

stack logs --no-color >"$IT_DIR/stack.log" 2>&1 || true
stack down -v --remove-orphans >/dev/null 2>&1
up=0
left=$( { "${DK[@]}" ps -aq --filter "label=com.docker.compose.project=$PROJECT"
          "${DK[@]}" network ls -q --filter "label=com.docker.compose.project=$PROJECT"
          "${DK[@]}" volume ls -q --filter "label=com.docker.compose.project=$PROJECT"; } | wc -l)
[ "$left" -eq 0 ] || fail "docker compose down left $left containers, networks or volumes behind"
"${DK[@]}" image prune -f >/dev/null   # older builds' layers, so the cache does not grow run after run
echo "the compose stack runs: three targets equal to the source, REST, /metrics, /dashboard and Prometheus answer, down leaves nothing"
