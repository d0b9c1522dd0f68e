#!/usr/bin/env bash
# ferretdb.sh: a throwaway FerretDB v1.24.2 (a MongoDB wire-protocol server) on a free loopback port, for
# the MongoDB sink's tests and benchmarks. Built once from the Go module proxy into the cache.
#
#   scripts/ferretdb.sh fetch                    build the binary into $CACHE/ferretdb-1.24.2/bin (once)
#   scripts/ferretdb.sh start [--backend sqlite|postgresql] [DIR]
#                                                start it (SQLite backend by default, in DIR/sqlite/; the
#                                                PostgreSQL backend uses a throwaway scripts/pg-start.sh
#                                                cluster under DIR/pg), wait until it answers a ping
#                                                (bounded); prints "uri=mongodb://..." and "dir=DIR".
#   scripts/ferretdb.sh stop DIR                 stop the server (and its cluster), remove DIR
#
# DIR/env holds FERRETDB_URI, FERRETDB_DIR, FERRETDB_PID. A start that fails stops what it started.
# Callers stop it from their EXIT trap (tests/integration/test_sink_mongo.sh does).
# Environment: WALCAST_CACHE (default ~/.cache/walcast), FERRETDB_WAIT (seconds to wait, default 60).
#
# Why not `go install .../cmd/ferretdb@v1.24.2`: build/version/version.go panics at init unless the
# generated build/version/version.txt exists, and the module zip does not carry it (FerretDB issue
# #2982). So: download the module, write version.txt into a copy, build that copy.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/ports.sh
. "$HERE/ports.sh"
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
VERSION=v1.24.2
HOME_DIR="$CACHE/ferretdb-${VERSION#v}"
BIN="$HOME_DIR/bin/ferretdb"
WAIT=${FERRETDB_WAIT:-60}

die() { echo "ferretdb.sh: $*" >&2; exit 1; }

# go_ok: the go on PATH is 1.24 or newer (FerretDB's go.mod).
go_ok() {
  local v
  v=$(GOTOOLCHAIN=local go env GOVERSION 2>/dev/null) || return 1
  v=${v#go}
  [ "${v%%.*}" -gt 1 ] || { v=${v#1.}; [ "${v%%.*}" -ge 24 ]; }
}

# A Go toolchain for the build: the installed one when it is new enough, else the one the Go module proxy
# serves as module golang.org/toolchain (what `GOTOOLCHAIN=goX` downloads; Debian 12's golang is 1.19),
# unpacked once into the cache.
ensure_go() {
  command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null && go_ok && return 0
  local gv=1.26.8 proxy zip
  local gdir="$CACHE/go$gv"
  if [ ! -x "$gdir/bin/go" ]; then
    proxy=${GOPROXY:-https://proxy.golang.org}; proxy=${proxy%%,*}
    [ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
    echo "ferretdb.sh: fetching Go $gv from $proxy (module golang.org/toolchain)" >&2
    mkdir -p "$CACHE"
    zip="$CACHE/go$gv.zip.$$"
    curl -fsSL --retry 3 -o "$zip" "$proxy/golang.org/toolchain/@v/v0.0.1-go$gv.linux-amd64.zip" ||
      { rm -f "$zip"; die "cannot download Go $gv from $proxy; install Go 1.24 or newer (https://go.dev/dl)"; }
    rm -rf "$gdir.tmp"
    python3 - "$zip" "$gdir.tmp" <<'PYEOF' || { rm -rf "$zip" "$gdir.tmp"; die "cannot unpack the Go toolchain"; }
import os, sys, zipfile
# entries are golang.org/toolchain@v0.0.1-goX.linux-amd64/<GOROOT path>
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        name = info.filename.split(".linux-amd64/", 1)
        if len(name) < 2 or not name[1] or ".." in name[1].split("/"):
            continue
        out = os.path.join(sys.argv[2], name[1])
        if info.is_dir():
            os.makedirs(out, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(out, mode or 0o644)
PYEOF
    rm -f "$zip"
    mv "$gdir.tmp" "$gdir"
  fi
  PATH="$gdir/bin:$PATH"
  go_ok || die "the Go toolchain in $gdir does not run"
}

fetch() {
  [ -x "$BIN" ] && return 0
  ensure_go
  local src dir
  echo "ferretdb.sh: building FerretDB $VERSION from the Go module proxy (first run only, a few minutes)" >&2
  # GOTOOLCHAIN=local: never download another toolchain; use the installed Go (1.24 or newer).
  dir=$(GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download github.com/FerretDB/FerretDB@$VERSION gave no module directory"
  src="$HOME_DIR/src.$$"
  rm -rf "$src" && mkdir -p "$HOME_DIR/bin"
  cp -r "$dir" "$src" && chmod -R u+w "$src"
  echo "$VERSION" >"$src/build/version/version.txt"
  if ! (cd "$src" && GOTOOLCHAIN=local go build -buildvcs=false -trimpath -o "$BIN.tmp" ./cmd/ferretdb) >"$HOME_DIR/build.log" 2>&1; then
    tail -30 "$HOME_DIR/build.log" >&2
    rm -rf "$src" "$BIN.tmp"
    die "go build of FerretDB $VERSION failed (log: $HOME_DIR/build.log)"
  fi
  rm -rf "$src"
  "$BIN.tmp" --version >/dev/null 2>&1 || { rm -f "$BIN.tmp"; die "the built binary does not run: $BIN.tmp --version failed"; }
  mv "$BIN.tmp" "$BIN"   # last: a partial build is redone
}

# ping PORT: true when the server answers the hello/ping command. (python3 with Debian's pymongo when it
# is there; else a plain TCP connect, enough for fetch-less uses.)
ping_server() {
  /usr/bin/python3 - "$1" <<'PYEOF' 2>/dev/null
import socket, sys
port = int(sys.argv[1])
try:
    import pymongo
except ImportError:
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    sys.exit(0)
c = pymongo.MongoClient("127.0.0.1", port, serverSelectionTimeoutMS=1000, connectTimeoutMS=1000)
try:
    c.admin.command("ping")
finally:
    c.close()
PYEOF
}

start() {
  local backend=sqlite dir="" port pid pgdir="" pgurl="" args=()
  while [ $# -gt 0 ]; do
    case $1 in
      --backend) backend=$2; shift 2 ;;
      -*) die "start: unknown option $1" ;;
      *) dir=$1; shift ;;
    esac
  done
  case $backend in sqlite|postgresql) ;; *) die "start: --backend must be sqlite or postgresql, not $backend" ;; esac
  fetch
  dir=${dir:-$(mktemp -d /tmp/walcast-ferretdb.XXXXXX)}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"   # the PostgreSQL backend runs as an unprivileged user under it
  free_port port || die "no free port found"
  if [ "$backend" = sqlite ]; then
    # the SQLite URI must use file:, name an existing directory and end in /
    mkdir -p "$dir/sqlite"
    args=(--handler=sqlite "--sqlite-url=file:$dir/sqlite/")
  else
    pgdir=$(bash "$HERE/pg-start.sh" "$dir/pg") || { rm -rf "$dir"; die "the PostgreSQL backend cluster did not start"; }
    # shellcheck disable=SC1091
    pgurl=$(. "$pgdir/env" && echo "postgres://postgres@127.0.0.1:$PGPORT/postgres")
    args=(--handler=postgresql "--postgresql-url=$pgurl")
  fi
  setsid "$BIN" "${args[@]}" "--listen-addr=127.0.0.1:$port" --state-dir=- --debug-addr=- \
    --telemetry=disable --log-level=warn >>"$dir/ferretdb.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  {
    echo "export FERRETDB_DIR=$dir"
    echo "export FERRETDB_URI=mongodb://127.0.0.1:$port/"
    echo "export FERRETDB_PID=$pid"
  } >"$dir/env"
  for _ in $(seq 1 $((WAIT * 5))); do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$dir/ferretdb.log" >&2; stop "$dir"; die "FerretDB exited during start-up"; }
    ping_server "$port" && break
    sleep 0.2
  done
  ping_server "$port" || { tail -30 "$dir/ferretdb.log" >&2; stop "$dir"; die "FerretDB did not answer a ping within ${WAIT}s"; }
  echo "uri=mongodb://127.0.0.1:$port/"
  echo "dir=$dir"
}

# stop DIR: SIGTERM, up to 20 s, then SIGKILL; the backend cluster too; DIR removed either way.
stop() {
  local dir=$1 pid
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -d "$dir/pg" ] && bash "$HERE/pg-stop.sh" "$dir/pg"
  rm -rf "$dir"
}

cmd=${1:-}; shift || true
case $cmd in
  fetch) fetch ;;
  start) start "$@" ;;
  stop) [ $# -eq 1 ] || die "usage: ferretdb.sh stop DIR"; stop "$1" ;;
  *) die "usage: ferretdb.sh fetch | start [--backend sqlite|postgresql] [DIR] | stop DIR" ;;
esac
