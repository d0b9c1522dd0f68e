#!/usr/bin/env bash
# mariadb-stop.sh: stops a server started by mariadb-start.sh (its own pid file only) and removes its directory.
set -uo pipefail
dir=${1:?usage: mariadb-stop.sh DIR}
for f in "$dir/mysqld.pid" "$dir/launcher.pid"; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
done
for _ in $(seq 1 100); do
  alive=0
  for f in "$dir/mysqld.pid" "$dir/launcher.pid"; do
    [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && alive=1
  done
  [ $alive -eq 0 ] && break
  sleep 0.1
done
for f in "$dir/mysqld.pid" "$dir/launcher.pid"; do
  [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null || true
done
rm -rf "$dir"
