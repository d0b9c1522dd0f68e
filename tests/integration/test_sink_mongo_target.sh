#!/usr/bin/env bash
# test_sink_mongo_target.sh: sinks/mongo.c through its target interface (sk_mongo_ops) against a real
# MongoDB wire-protocol server: FerretDB v1.24.2 (scripts/ferretdb.sh) on its SQLite and its PostgreSQL
# backend, or the MongoDB at WALCAST_TEST_MONGODB_URI. Upserts in several write commands, one write per
# key, replays, stale versions skipped and counted, guarded deletes, offsets, truncate (test_mongo's
# test_live); every conflict type under every policy against pre-seeded documents, the walcast_conflicts
# collection, replays logging nothing twice (test_live_conflicts); another writer between the read and the
# write under target_wins (test_live_race); source_wins inserts falling back to guarded upserts
# (test_live_guarded). They skip without a server.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
it_init
FDB_DIRS=()
# it_cleanup takes the test's exit status from $?: keep it across the FerretDB stops
fdb_cleanup() {
  local rc=$?
  set +e
  for d in "${FDB_DIRS[@]:-}"; do [ -n "$d" ] && bash "$ROOT/scripts/ferretdb.sh" stop "$d"; done
  (exit $rc)
  it_cleanup
}
trap fdb_cleanup EXIT

chmod 755 "$IT_DIR"   # the PostgreSQL backend cluster runs as an unprivileged user below it
make -s -C "$ROOT" build/tests/test_mongo >/dev/null
run_live() {
  local out
  out=$(WALCAST_TEST_MONGODB_URI=$1 "$ROOT/build/tests/test_mongo" 2>&1) || { echo "$out" >&2; return 1; }
  for t in test_live test_live_conflicts test_live_race test_live_guarded; do
    echo "$out" | grep -q "\[       OK \] $t\$" || { echo "$out" >&2; echo "$t did not run" >&2; return 1; }
  done
}
if [ -n "${WALCAST_TEST_MONGODB_URI:-}" ]; then
  run_live "$WALCAST_TEST_MONGODB_URI"
  echo "ok: sk_mongo_ops against $WALCAST_TEST_MONGODB_URI" | sed 's|//[^@/]*@|//***@|'
  exit 0
fi
for backend in sqlite postgresql; do
  bash "$ROOT/scripts/ferretdb.sh" start --backend "$backend" "$IT_DIR/fdb-$backend" >"$IT_DIR/fdb-$backend.out" 2>"$IT_DIR/ferretdb-$backend.log" \
    || { cat "$IT_DIR/ferretdb-$backend.log" >&2; exit 1; }
  FDB_DIRS+=("$IT_DIR/fdb-$backend")
  uri=$(sed -n 's/^uri=//p' "$IT_DIR/fdb-$backend.out")
  run_live "$uri"
  echo "ok: sk_mongo_ops against FerretDB ($backend backend)"
done
