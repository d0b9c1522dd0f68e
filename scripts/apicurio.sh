#!/usr/bin/env bash
# apicurio.sh: Apicurio Registry 2.6.13.Final (3.x needs Java 21, which Debian 12 does not package), both
# its server and its Kafka Connect converters, from Maven Central into the cache.
#
#   scripts/apicurio.sh fetch              the registry's Quarkus fast-jar, unpacked once into
#                                          $CACHE/apicurio-registry-2.6.13.Final
#   scripts/apicurio.sh fetch-converter    the converters (io.apicurio:apicurio-registry-utils-converter and
#                                          its dependencies but Kafka's) into $CACHE/apicurio-converter-2.6.13.Final;
#                                          prints that folder
#   scripts/apicurio.sh start [DIR]        a throwaway in-memory registry on a free loopback port; waits
#                                          until it answers (bounded); prints "url=http://..." and "dir=DIR"
#   scripts/apicurio.sh stop DIR           stop it, remove DIR
#
# DIR/env holds APICURIO_URL (the server's root: /apis/registry/v2 is Apicurio's API, /apis/ccompat/v7
# Confluent's), APICURIO_DIR, APICURIO_PID. Environment: WALCAST_CACHE (default ~/.cache/walcast),
# APICURIO_WAIT (seconds to wait for it, default 90), APICURIO_HEAP (default 384m).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/ports.sh
. "$HERE/ports.sh"
# shellcheck source=scripts/maven.sh
. "$HERE/maven.sh"
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
VERSION=2.6.13.Final
HOME_DIR="$CACHE/apicurio-registry-$VERSION"
CONVERTER_DIR="$CACHE/apicurio-converter-$VERSION"
WAIT=${APICURIO_WAIT:-90}
HEAP=${APICURIO_HEAP:-384m}
die() { echo "apicurio.sh: $*" >&2; exit 1; }

fetch() {
  local tgz
  [ -f "$HOME_DIR/.complete" ] && return 0
  tgz=$(maven_artifact "io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" "apicurio-registry-app-$VERSION-all.tar.gz" apicurio.sh)
  rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR"
  tar -xzf "$tgz" -C "$HOME_DIR"
  [ -f "$HOME_DIR/apicurio-registry-app-$VERSION-runner.jar" ] || die "$tgz did not unpack to apicurio-registry-app-$VERSION-runner.jar"
  touch "$HOME_DIR/.complete"
}

fetch_converter() {
  maven_dependencies "$HERE/reference/apicurio-converter-pom.xml" "$CONVERTER_DIR" apicurio.sh >/dev/null
  [ -f "$CONVERTER_DIR/apicurio-registry-utils-converter-$VERSION.jar" ] || die "no converter jar in $CONVERTER_DIR"
}

up() { /usr/bin/python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3).read()' \
         "$1/apis/registry/v2/system/info" 2>/dev/null; }

start() {
  local dir=${1:-} port pid url
  fetch
  dir=${dir:-$(mktemp -d /tmp/walcast-apicurio.XXXXXX)}
  mkdir -p "$dir"
  free_port port || die "no free port found"
  url="http://127.0.0.1:$port"
  # setsid: a Ctrl-C meant for the caller does not reach it before the caller's cleanup stops it
  setsid java -Xms64m "-Xmx$HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$port" -Dquarkus.log.level=WARN \
    -jar "$HOME_DIR/apicurio-registry-app-$VERSION-runner.jar" >>"$dir/apicurio.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  printf 'export APICURIO_DIR=%s\nexport APICURIO_URL=%s\nexport APICURIO_PID=%s\n' "$dir" "$url" "$pid" >"$dir/env"
  wait_up apicurio.sh "the registry" "$pid" "$WAIT" "$dir/apicurio.log" up "$url" || { stop "$dir"; exit 1; }
  echo "url=$url"
  echo "dir=$dir"
}

# stop DIR: SIGTERM, up to 20 s, then SIGKILL; DIR removed either way.
stop() {
  local dir=$1
  [ -f "$dir/pid" ] && pid_stop "$(cat "$dir/pid")" 20
  rm -rf "$dir"
}

case "${1:-}" in
  fetch) fetch ;;
  fetch-converter) fetch_converter; echo "$CONVERTER_DIR" ;;
  start) shift; start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: apicurio.sh stop DIR"; stop "$2" ;;
  *) die "usage: apicurio.sh fetch | fetch-converter | start [DIR] | stop DIR" ;;
esac
