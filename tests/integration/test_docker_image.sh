#!/usr/bin/env bash
# test_docker_image.sh: the unchanged Dockerfile builds an image that streams. A Docker engine of the
# test's own (scripts/docker-engine.sh: Debian's dockerd, overlay2; the debian:12 and debian:12-slim
# images the FROM lines name are a local debootstrap, since no registry is reachable), `docker build`
# from a clean copy of the tree, then the image runs `walcast run` (host network) against a throwaway
# PostgreSQL and the suite's Kafka: rows inserted reach their topic, and `docker stop` ends walcast
# with exit status 0. Everything the test started is stopped; the engine's data root stays in the cache
# so a later run reuses the base images and the apt layers (first run: debootstrap and build, ~5 min).
. "$(dirname "$0")/lib.sh"
it_init
DDIR=$(mktemp -d /tmp/walcast-docker.XXXXXX)
CTR="walcast-it-$$"
docker_cleanup() {
  [ -S "$DDIR/sock" ] && /usr/bin/docker -H "unix://$DDIR/sock" rm -f "$CTR" >/dev/null 2>&1 || true
  bash "$ROOT/scripts/docker-engine.sh" stop "$DDIR"
}
trap 'rc=$?; docker_cleanup; (exit $rc); it_cleanup' EXIT

bash "$ROOT/scripts/docker-engine.sh" start "$DDIR" >/dev/null
DK=(/usr/bin/docker -H "unix://$DDIR/sock")
bash "$ROOT/scripts/docker-engine.sh" base "$DDIR"

# the build context is what git tracks (a fresh clone's), never a developer's build/ folder
mkdir -p "$IT_DIR/ctx"
git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp --parents -t "$IT_DIR/ctx")
start=$(date +%s)
DOCKER_BUILDKIT=0 "${DK[@]}" build -q -t walcast:it "$IT_DIR/ctx" >"$IT_DIR/build.log" 2>&1 ||
  { tail -30 "$IT_DIR/build.log" >&2; echo "docker build of the Dockerfile failed" >&2; exit 1; }
echo "image built in $(( $(date +%s) - start ))s"
"${DK[@]}" run --rm walcast:it version | grep -q '^walcast ' || { echo "the image does not run walcast version" >&2; exit 1; }

pg_start
psql_q -c "CREATE TABLE dk (id int PRIMARY KEY, v text)"
kafka_start --topic srv.public.dk --topic connect-offsets
mkdir -p "$IT_DIR/etc"
cp "$IT_DIR/worker.properties" "$IT_DIR/etc/worker.properties"
cp "$(connector_file dk "table.include.list=public.dk")" "$IT_DIR/etc/dk.properties"
chmod 755 "$IT_DIR" "$IT_DIR/etc"; chmod 644 "$IT_DIR/etc"/*
"${DK[@]}" run -d --name "$CTR" --network host -v "$IT_DIR/etc:/etc/walcast:ro" walcast:it \
  run --worker /etc/walcast/worker.properties /etc/walcast/dk.properties >/dev/null
for i in $(seq 1 300); do
  "${DK[@]}" logs "$CTR" 2>&1 | grep -q "replication started" && break
  [ "$("${DK[@]}" inspect -f '{{.State.Running}}' "$CTR")" = true ] || { "${DK[@]}" logs "$CTR" >&2; echo "walcast in the container exited" >&2; exit 1; }
  [ "$i" -eq 300 ] && { "${DK[@]}" logs "$CTR" >&2; echo "walcast in the container did not start streaming in 30 s" >&2; exit 1; }
  sleep 0.1
done
psql_q -c "INSERT INTO dk SELECT g, 'row ' || g FROM generate_series(1, 50) g"
wait_topic srv.public.dk 50 60 || { "${DK[@]}" logs "$CTR" >&2; echo "the rows did not reach Kafka" >&2; exit 1; }
"${DK[@]}" stop -t 30 "$CTR" >/dev/null
code=$("${DK[@]}" inspect -f '{{.State.ExitCode}}' "$CTR")
"${DK[@]}" logs "$CTR" >"$IT_DIR/walcast.log" 2>&1
[ "$code" = 0 ] || { echo "walcast in the container exited with $code after docker stop" >&2; exit 1; }
"${DK[@]}" rm "$CTR" >/dev/null
"${DK[@]}" image prune -f >/dev/null   # older builds' layers, so the cache does not grow run after run
echo "the Dockerfile's image streams 50 rows to Kafka and stops cleanly"
