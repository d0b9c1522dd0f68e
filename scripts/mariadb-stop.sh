#!/usr/bin/env bash
# mariadb-stop.sh: stops a server started by mariadb-start.sh (its own pid files only) and removes its directory.
# SIGTERM goes to mariadbd alone: the launcher (runuser, as root) ends when it does, whereas a SIGTERM to
# runuser itself makes it wait 2 s before it kills its child. The launcher gets it only without mariadbd.
set -uo pipefail
dir=${1:?usage: mariadb-stop.sh DIR}
pid_of() { [ -f "$dir/$1" ] && cat "$dir/$1" 2>/dev/null; }
mysqld=$(pid_of mysqld.pid)
launcher=$(pid_of launcher.pid)
if [ -n "$mysqld" ] && kill -TERM "$mysqld" 2>/dev/null; then :; elif [ -n "$launcher" ]; then kill -TERM "$launcher" 2>/dev/null; fi
for _ in $(seq 1 100); do
  alive=0
  for p in $mysqld $launcher; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 0.05
done
for p in $mysqld $launcher; do kill -KILL "$p" 2>/dev/null; done
rm -rf "$dir"
