#!/usr/bin/env bash
# pg-stop.sh: stops a cluster started by pg-start.sh and removes its directory.
set -uo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=${1:?usage: pg-stop.sh DIR}
[ -d "$dir/data" ] || { rm -rf "$dir"; exit 0; }
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(runuser -u walcast --)
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
rm -rf "$dir"
