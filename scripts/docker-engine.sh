#!/usr/bin/env bash
# docker-engine.sh: a Docker engine of the tests' own (Debian's docker.io dockerd, overlay2), and the
# Debian 12 base images the Dockerfile's FROM lines name, made locally: no image registry is reachable
# here, so `debian:12` and `debian:12-slim` are one debootstrap --variant=minbase of bookworm from
# Debian's archive, imported with `docker import`.
#
#   scripts/docker-engine.sh start DIR    start dockerd (socket, exec root and log under DIR; images in the
#                                         cache's data root, so later runs reuse them), wait until it
#                                         answers (bounded); prints "DOCKER_HOST=unix://DIR/sock"
#   scripts/docker-engine.sh base DIR     make sure the base images exist in the engine started in DIR
#                                         (debootstrap once into the cache, then docker import)
#   scripts/docker-engine.sh stop DIR     stop that engine (and its containerd) by PID, remove DIR
#
# One engine at a time owns the cache's data root: start waits (bounded) while another holds it.
# Environment: WALCAST_CACHE (default ~/.cache/walcast), DOCKER_WAIT (seconds, default 60).
set -euo pipefail

CACHE=${WALCAST_CACHE:-${HOME:-/root}/.cache/walcast}
ROOT="$CACHE/docker"
WAIT=${DOCKER_WAIT:-60}
DOCKER=/usr/bin/docker   # Debian's client, the engine's own version (another client may sit earlier on PATH)
die() { echo "docker-engine.sh: $*" >&2; exit 1; }

start() {
  local dir=$1 owner i
  command -v dockerd >/dev/null || die "dockerd not found: run scripts/install-deps.sh (installs docker.io)"
  mkdir -p "$dir" "$ROOT/data"
  # the data root is ours once no live engine holds it
  for i in $(seq 1 $((WAIT * 10))); do
    owner=$(cat "$ROOT/owner" 2>/dev/null || true)
    { [ -z "$owner" ] || ! kill -0 "$owner" 2>/dev/null; } && break
    [ "$i" -eq $((WAIT * 10)) ] && die "another engine (pid $owner) holds $ROOT/data"
    sleep 0.1
  done
  dockerd --data-root "$ROOT/data" --exec-root "$dir/exec" --pidfile "$dir/pid" -H "unix://$dir/sock" \
    --storage-driver overlay2 >"$dir/log" 2>&1 &
  echo $! >"$dir/dockerd.pid"
  echo $! >"$ROOT/owner"
  for i in $(seq 1 $((WAIT * 10))); do
    "$DOCKER" -H "unix://$dir/sock" info >/dev/null 2>&1 && { echo "DOCKER_HOST=unix://$dir/sock"; return 0; }
    kill -0 "$(cat "$dir/dockerd.pid")" 2>/dev/null || { tail -20 "$dir/log" >&2; die "dockerd exited (log: $dir/log)"; }
    sleep 0.1
  done
  tail -20 "$dir/log" >&2
  stop "$dir"
  die "dockerd did not answer within ${WAIT}s"
}

base() {
  local dir=$1 dk="$DOCKER -H unix://$1/sock" tmp
  $dk image inspect debian:12 debian:12-slim >/dev/null 2>&1 && return 0
  if [ ! -s "$ROOT/debian12-minbase.tar" ]; then
    command -v debootstrap >/dev/null || die "debootstrap not found: run scripts/install-deps.sh"
    echo "docker-engine.sh: debootstrap of Debian 12 (first run only, a few minutes)" >&2
    tmp="$ROOT/rootfs.$$"
    rm -rf "$tmp"
    if ! debootstrap --variant=minbase bookworm "$tmp" http://deb.debian.org/debian >"$ROOT/debootstrap.log" 2>&1; then
      tail -20 "$ROOT/debootstrap.log" >&2; rm -rf "$tmp"; die "debootstrap failed (log: $ROOT/debootstrap.log)"
    fi
    rm -f "$tmp"/var/cache/apt/archives/*.deb
    tar -C "$tmp" -cf "$ROOT/debian12-minbase.tar.tmp" . && mv "$ROOT/debian12-minbase.tar.tmp" "$ROOT/debian12-minbase.tar"
    rm -rf "$tmp"
  fi
  $dk import -c 'CMD ["bash"]' "$ROOT/debian12-minbase.tar" debian:12 >/dev/null
  $dk tag debian:12 debian:12-slim
}

stop() {
  local dir=$1 pid i
  pid=$(cat "$dir/dockerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  [ "$(cat "$ROOT/owner" 2>/dev/null)" = "$pid" ] && rm -f "$ROOT/owner"
  # dockerd leaves its network namespace file mounted under the exec root
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: docker-engine.sh start DIR"; start "$2" ;;
  base) [ $# -eq 2 ] || die "usage: docker-engine.sh base DIR"; base "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: docker-engine.sh stop DIR"; stop "$2" ;;
  *) die "usage: docker-engine.sh start DIR | base DIR | stop DIR" ;;
esac
