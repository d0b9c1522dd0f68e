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
  ensure_go
  local dir src
  echo "compose.sh: building Docker Compose $VERSION from the Go module proxy (first run only, several minutes)" >&2
  dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/docker/compose/v5@$VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download github.com/docker/compose/v5@$VERSION gave no module directory"
  src="$HOME_DIR/src.$$"
  rm -rf "$src" && mkdir -p "$HOME_DIR/bin"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  if ! (cd "$src" && GOTOOLCHAIN=local CGO_ENABLED=0 go build -buildvcs=false -trimpath \
          -ldflags "-w -X github.com/docker/compose/v5/internal.Version=$VERSION" -o "$BIN.tmp" ./cmd) \
        >"$HOME_DIR/build.log" 2>&1; then
    tail -30 "$HOME_DIR/build.log" >&2
    rm -rf "$src" "$BIN.tmp"
    die "go build of Docker Compose $VERSION failed (log: $HOME_DIR/build.log)"
  fi
  rm -rf "$src"
  "$BIN.tmp" version >/dev/null 2>&1 || { rm -f "$BIN.tmp"; die "the built binary does not run: $BIN.tmp version failed"; }
  mv "$BIN.tmp" "$BIN"   # last: a partial build is redone
}

case "${1:-}" in
  fetch) fetch ;;
  path) fetch; echo "$BIN" ;;
  "") die "usage: compose.sh fetch | path | ARGS..." ;;
  *) fetch; exec "$BIN" "$@" ;;
esac
