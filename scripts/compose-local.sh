#!/usr/bin/env bash
# compose-local.sh: docker-compose.yml's whole stack on a machine that reaches no image registry, only
# Debian's archive, Maven Central and the Go module proxy. Every image is built locally: the services'
# stand-ins from scripts/compose/local/ (Debian packages, Kafka's jars, Apicurio Registry, FerretDB),
# walcast from the unchanged Dockerfile, all on the debian:12 base image docker-engine.sh makes.
#
#   scripts/compose-local.sh prepare          fill the build contexts in $CACHE/compose-local (Kafka's jars,
#                                             Apicurio Registry, FerretDB: fetched once into the cache)
#   scripts/compose-local.sh build            prepare, then build every image that is missing or changed
#                                             (the classic builder; layers stay in the engine's cache)
#   scripts/compose-local.sh compose ARGS...  Docker Compose (compose.sh) on docker-compose.yml with
#                                             scripts/compose/local/docker-compose.local.yml over it
#
# DOCKER_HOST names the engine (scripts/docker-engine.sh start prints it). Environment: WALCAST_CACHE
# (default ~/.cache/walcast); the port variables of docker-compose.yml (POSTGRES_PORT, WALCAST_PORT, …).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
CTX="$CACHE/compose-local"
APICURIO_VERSION=2.6.13.Final   # scripts/apicurio.sh fetches it
DOCKER=/usr/bin/docker
die() { echo "compose-local.sh: $*" >&2; exit 1; }

# sync SRC DST: DST holds exactly SRC's files (hard links when the file system allows, so the big jars are
# not copied on every run; their timestamps are kept, so the builder's cache stays valid)
sync() {
  rm -rf "$2" && mkdir -p "$(dirname "$2")"
  cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"
}

prepare() {
  local kafka_version
  kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/reference/kafka-pom.xml")
  bash "$HERE/kafka.sh" fetch
  bash "$HERE/ferretdb.sh" fetch
  bash "$HERE/apicurio.sh" fetch
  mkdir -p "$CTX"
  local s
  for s in postgres jre kafka registry mariadb ferretdb prometheus curl; do
    rm -rf "$CTX/$s" && cp -a "$HERE/compose/local/$s" "$CTX/$s"
  done
  sync "$CACHE/kafka-$kafka_version/lib" "$CTX/kafka/lib"
  sync "$CACHE/apicurio-registry-$APICURIO_VERSION" "$CTX/registry/apicurio"
  local fv
  fv=$(sed -n 's/^VERSION=v//p' "$HERE/ferretdb.sh")
  cp -p "$CACHE/ferretdb-$fv/bin/ferretdb" "$CTX/ferretdb/ferretdb"
  # walcast's own context: what git tracks (a fresh clone's files), never a developer's build/ folder
  rm -rf "$CTX/walcast" && mkdir -p "$CTX/walcast"
  git -C "$ROOT" ls-files -z | (cd "$ROOT" && xargs -0 cp -p --parents -t "$CTX/walcast")
}

image() {  # image TAG CONTEXT
  echo "compose-local.sh: building $1" >&2
  DOCKER_BUILDKIT=0 "$DOCKER" build -q -t "$1" "$2" >"$CTX/build-${1//[\/:]/_}.log" 2>&1 ||
    { tail -30 "$CTX/build-${1//[\/:]/_}.log" >&2; die "docker build of $1 failed (log: $CTX/build-${1//[\/:]/_}.log)"; }
}

build() {
  [ -n "${DOCKER_HOST:-}" ] || die "set DOCKER_HOST (scripts/docker-engine.sh start DIR prints it)"
  prepare
  image walcast-local/jre "$CTX/jre"
  image walcast-local/postgres:15 "$CTX/postgres"
  image walcast-local/kafka:4.4.0 "$CTX/kafka"
  image walcast-local/apicurio-registry:2.6.13.Final "$CTX/registry"
  image walcast-local/mariadb:bookworm "$CTX/mariadb"
  image walcast-local/ferretdb:1.24.2 "$CTX/ferretdb"
  image walcast-local/prometheus:bookworm "$CTX/prometheus"
  image walcast-local/curl:bookworm "$CTX/curl"
  image walcast-local/walcast:dev "$CTX/walcast"
}

compose() {
  export WALCAST_LOCAL_CTX="$CTX"
  bash "$HERE/compose.sh" --project-directory "$ROOT" -f "$ROOT/docker-compose.yml" \
    -f "$HERE/compose/local/docker-compose.local.yml" "$@"
}

case "${1:-}" in
  prepare) prepare ;;
  build) build ;;
  compose) shift; compose "$@" ;;
  *) die "usage: compose-local.sh prepare | build | compose ARGS..." ;;
esac
