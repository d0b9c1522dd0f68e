#!/bin/sh
# entrypoint.sh: initdb on first start (password from POSTGRES_PASSWORD, connections from anywhere with
# scram), the init scripts, then the server as the postgres user. Other commands (psql, sh) run as given.
set -eu
if [ "${1:-}" != postgres ]; then exec "$@"; fi
shift
mkdir -p "$PGDATA" /run/postgresql && chown -R postgres:postgres "$PGDATA" /run/postgresql
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" >/tmp/pwfile
  chown postgres /tmp/pwfile
  su postgres -c "initdb -U postgres --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 -D '$PGDATA'" >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  echo "host replication all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  su postgres -c "pg_ctl -D '$PGDATA' -o '-c listen_addresses=' -w start" >/dev/null
  for f in /docker-entrypoint-initdb.d/*.sql; do
    [ -e "$f" ] || continue
    echo "entrypoint: running $f"
    su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -f '$f'"
  done
  su postgres -c "pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
fi
exec su postgres -c "exec postgres -D '$PGDATA' -c listen_addresses='*' $*"
