#!/usr/bin/env bash
# compose.sh: Docker Compose v5 (a current Compose implementation) built once from the Go module proxy
# into the cache, for the tests that validate and run docker-compose.yml. Debian 12 packages only the
# old Python docker-compose 1.29.
#
#   scripts/compose.sh fetch      build $CACHE/compose-$VERSION/bin/docker-compose (once; later runs reuse it)
#   scripts/compose.sh path       print the binary's path (building it first if needed)
#   scripts/compose.sh ARGS...    run it (e.g. scripts/compose.sh -f docker-compose.yml config -q)
#
# Why not `go install github.com/docker/compose/v5/cmd@VERSION`: the module's go.mod carries replace
# directives, which `go install pkg@version` refuses; a build inside the downloaded module works.
# Environment: WALCAST_CACHE (default ~/.cache/walcast).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
VERSION=v5.6.0
HOME_DIR="$CACHE/compose-${VERSION#v}"
BIN="$HOME_DIR/bin/docker-compose"
GO_MIN=26

die() { echo "compose.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/golib.sh
. "$HERE/golib.sh"

fetch() {
  [ -x "$BIN" ] && return 0
  echo "compose.sh: building Docker Compose $VERSION from the Go module proxy (first run only, several minutes)" >&2
  CGO_ENABLED=0 go_build_module github.com/docker/compose/v5 "$VERSION" ./cmd "$BIN" version \
    -ldflags "-w -X github.com/docker/compose/v5/internal.Version=$VERSION"
}

case "${1:-}" in
  fetch) fetch ;;
  path) fetch; echo "$BIN" ;;
  "") die "usage: compose.sh fetch | path | ARGS..." ;;
  *) fetch; exec "$BIN" "$@" ;;
esac
