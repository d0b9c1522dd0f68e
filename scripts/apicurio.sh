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
CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
VERSION=2.6.13.Final
HOME_DIR="$CACHE/apicurio-registry-$VERSION"
CONVERTER_DIR="$CACHE/apicurio-converter-$VERSION"
WAIT=${APICURIO_WAIT:-90}
HEAP=${APICURIO_HEAP:-384m}
die() { echo "apicurio.sh: $*" >&2; exit 1; }

# mvn_into DIR GOAL ARGS...: runs one maven-dependency-plugin goal in a scratch project under the cache
mvn_into() {
  local out=$1 goal=$2 pom=$3 work; shift 3
  work="$CACHE/dl.tmp.$$"
  rm -rf "$work" && mkdir -p "$work" "$CACHE/dl"
  cp "$pom" "$work/pom.xml"
  if ! (cd "$work" && mvn -B -q "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:$goal" "$@" \
          -DoutputDirectory="$out" >"$work/mvn.log" 2>&1); then
    tail -30 "$work/mvn.log" >&2
    rm -rf "$work"
    return 1
  fi
  rm -rf "$work"
}

fetch() {
  local tgz="$CACHE/dl/apicurio-registry-app-$VERSION-all.tar.gz"
  [ -f "$HOME_DIR/.complete" ] && return 0
  if [ ! -s "$tgz" ]; then
    echo "apicurio.sh: resolving Apicurio Registry $VERSION from Maven Central (first run only)" >&2
    mvn_into "$CACHE/dl.tmp.$$.out" copy "$HERE/reference/kafka-pom.xml" \
      "-Dartifact=io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all" ||
      die "could not resolve io.apicurio:apicurio-registry-app:$VERSION:tar.gz:all"
    mv "$CACHE/dl.tmp.$$.out/$(basename "$tgz")" "$tgz"
    rm -rf "$CACHE/dl.tmp.$$.out"
  fi
  rm -rf "$HOME_DIR" && mkdir -p "$HOME_DIR"
  tar -xzf "$tgz" -C "$HOME_DIR"
  [ -f "$HOME_DIR/apicurio-registry-app-$VERSION-runner.jar" ] || die "$tgz did not unpack to apicurio-registry-app-$VERSION-runner.jar"
  touch "$HOME_DIR/.complete"
}

fetch_converter() {
  [ -f "$CONVERTER_DIR/.complete" ] && return 0
  echo "apicurio.sh: resolving Apicurio's Kafka Connect converters $VERSION from Maven Central (first run only)" >&2
  rm -rf "$CONVERTER_DIR"
  mvn_into "$CONVERTER_DIR" copy-dependencies "$HERE/reference/apicurio-converter-pom.xml" \
    -DexcludeGroupIds=org.apache.kafka -DincludeScope=runtime ||
    die "could not resolve io.apicurio:apicurio-registry-utils-converter:$VERSION"
  [ -f "$CONVERTER_DIR/apicurio-registry-utils-converter-$VERSION.jar" ] || die "no converter jar in $CONVERTER_DIR"
  touch "$CONVERTER_DIR/.complete"
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
  for _ in $(seq 1 $((WAIT * 5))); do
    kill -0 "$pid" 2>/dev/null || { tail -30 "$dir/apicurio.log" >&2; stop "$dir"; die "the registry exited during start-up"; }
    up "$url" && break
    sleep 0.2
  done
  up "$url" || { tail -30 "$dir/apicurio.log" >&2; stop "$dir"; die "the registry did not answer within ${WAIT}s"; }
  echo "url=$url"
  echo "dir=$dir"
}

# stop DIR: SIGTERM, up to 20 s, then SIGKILL; DIR removed either way.
stop() {
  local dir=$1 pid
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  fetch) fetch ;;
  fetch-converter) fetch_converter; echo "$CONVERTER_DIR" ;;
  start) shift; start "$@" ;;
  stop) [ $# -eq 2 ] || die "usage: apicurio.sh stop DIR"; stop "$2" ;;
  *) die "usage: apicurio.sh fetch | fetch-converter | start [DIR] | stop DIR" ;;
esac
