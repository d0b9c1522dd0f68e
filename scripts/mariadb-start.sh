#!/usr/bin/env bash
# mariadb-start.sh: starts a throwaway MariaDB (Debian's mariadb-server) in a temp dir on a free port,
# as an unprivileged user. Usage: scripts/mariadb-start.sh [DIR] -> prints DIR; DIR/env holds MYSQL_HOST,
# MYSQL_TCP_PORT, MYSQL_USER (root, no password, loopback only); stop with mariadb-stop.sh DIR.
set -euo pipefail

dir=${1:-$(mktemp -d /tmp/walcast-mariadb.XXXXXX)}
mkdir -p "$dir"
here=$(dirname "${BASH_SOURCE[0]}")
# shellcheck source=scripts/ports.sh
. "$here/ports.sh"
# a start that fails half way stops what it started
trap 'rc=$?; [ $rc -eq 0 ] || bash "$here/mariadb-stop.sh" "$dir" >/dev/null 2>&1; exit $rc' EXIT

MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)
[ -x "$MARIADBD" ] || { echo "mariadb-start: mariadbd not found; run scripts/install-deps.sh (mariadb-server)" >&2; exit 1; }

as_user=()
user=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  id walcast >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin walcast
  chown -R walcast "$dir"
  chmod 755 "$dir"
  as_user=(runuser -u walcast --)
  user=walcast
fi

# 22000-27999: apart from PostgreSQL's (10000-15999) and the default range's Kafka ports
free_port port 22000 6000 || exit 1
# mariadb-install-db's reason is near the top of its output (the rest is generic advice): show that part.
# It once failed in a loaded CI run with no reason kept; a second try on a fresh data dir follows a
# failure, and both failures are shown.
install_db() {
  "${as_user[@]}" mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --skip-test-db \
    --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 && return 0
  echo "mariadb-start: mariadb-install-db failed ($1 try); its output without the generic advice:" >&2
  sed -n '/You can also try to start/q;p' "$dir/install.log" | tail -40 >&2
  grep -iE "error|fail" "$dir/install.log" | head -10 >&2
  return 1
}
if ! install_db first; then
  rm -rf "$dir/data"
  install_db second || exit 1
fi
"${as_user[@]}" "$MARIADBD" --no-defaults --datadir="$dir/data" --user="$user" --port="$port" \
  --bind-address=127.0.0.1 --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/mariadb.log" \
  --skip-name-resolve --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 --skip-log-bin \
  --max-allowed-packet=64M --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
  >/dev/null 2>&1 </dev/null &
echo $! >"$dir/launcher.pid"
ping_server() { mariadb-admin --no-defaults --protocol=tcp -h 127.0.0.1 -P "$port" -u root ping >/dev/null 2>&1; }
wait_up mariadb-start "the server" "$(cat "$dir/launcher.pid")" 30 "$dir/mariadb.log" ping_server || exit 1
cat >"$dir/env" <<ENV
export MYSQL_HOST=127.0.0.1
export MYSQL_TCP_PORT=$port
export MYSQL_USER=root
export WALCAST_MYDIR=$dir
ENV
echo "$dir"
