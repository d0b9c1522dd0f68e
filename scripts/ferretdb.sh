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

# shellcheck source=scripts/golib.sh
. "$HERE/golib.sh"

# The module zip lacks the generated build/version/version.txt (see above): written into the copy.
go_prepare() { echo "$VERSION" >build/version/version.txt; }

fetch() {
  [ -x "$BIN" ] && return 0
  echo "ferretdb.sh: building FerretDB $VERSION from the Go module proxy (first run only, a few minutes)" >&2
  go_build_module github.com/FerretDB/FerretDB "$VERSION" ./cmd/ferretdb "$BIN" --version
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
  wait_up ferretdb.sh FerretDB "$pid" "$WAIT" "$dir/ferretdb.log" ping_server "$port" || { stop "$dir"; exit 1; }
  echo "uri=mongodb://127.0.0.1:$port/"
  echo "dir=$dir"
}

# stop DIR: SIGTERM, up to 20 s, then SIGKILL; the backend cluster too; DIR removed either way.
stop() {
  local dir=$1
  [ -f "$dir/pid" ] && pid_stop "$(cat "$dir/pid")" 20
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
