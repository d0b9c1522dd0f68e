#!/usr/bin/env bash
# pg-start.sh: starts a throwaway PostgreSQL 15 (wal_level=logical) in a temp dir on a free port.
# Usage: scripts/pg-start.sh [DIR]  -> prints DIR; DIR/env holds PGHOST/PGPORT/PGUSER; stop with pg-stop.sh DIR.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=${1:-$(mktemp -d /tmp/walcast-pg.XXXXXX)}
mkdir -p "$dir"
# shellcheck source=scripts/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"


# PostgreSQL refuses to run as root: use an unprivileged system user.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  id walcast >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin walcast
  chown -R walcast "$dir"
  chmod 755 "$dir"
  as_pg=(runuser -u walcast --)
fi

# 10000-15999: apart from the other servers' ports (ports.sh's default range)
free_port port 10000 6000 || exit 1
# --no-sync: a throwaway cluster (fsync=off below) need not wait for its files to reach the disk
"${as_pg[@]}" "$PGBIN/initdb" --no-sync -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 64
max_wal_senders = 64
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
max_wal_size = 4GB
logical_decoding_work_mem = 64MB
wal_sender_timeout = 60s
CONF
echo "host replication all 127.0.0.1/32 trust" >>"$dir/data/pg_hba.conf"
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
  || { cat "$dir/postgres.log" >&2; exit 1; }
cat >"$dir/env" <<ENV
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=postgres
export PGDATABASE=postgres
export WALCAST_PGDIR=$dir
ENV
echo "$dir"
