#!/bin/sh
# entrypoint.sh: the root password (local and from other hosts) and the database on first start, then mariadbd on every interface.
set -eu
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
# Debian's package made a data folder already (root by unix socket only); the marker says we set it up
if [ ! -f /var/lib/mysql/.entrypoint-done ]; then
  [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  mariadbd --user=mysql --skip-networking --socket=/run/mysqld/init.sock &
  pid=$!
  i=0
  until mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 300 ] || { echo "entrypoint: mariadbd did not start" >&2; exit 1; }
    sleep 0.1
  done
  mariadb --socket=/run/mysqld/init.sock -u root <<SQL
CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD:?MARIADB_ROOT_PASSWORD is required}';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MARIADB_ROOT_PASSWORD}';
${MARIADB_DATABASE:+CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;}
SQL
  kill "$pid"; wait "$pid" || true
  touch /var/lib/mysql/.entrypoint-done
fi
exec mariadbd --user=mysql --bind-address=0.0.0.0 --port=3306
