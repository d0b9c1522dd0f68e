#!/usr/bin/env bash
# install-deps.sh: installs everything walcast needs to build, test and run its demo (Debian 12).
# Idempotent: does nothing but a dpkg check when every package is already there.
set -euo pipefail

PKGS=(build-essential pkg-config clang libclang-rt-14-dev
      libpq-dev libssl-dev librdkafka-dev libjansson-dev libzstd-dev libcmocka-dev libcurl4-openssl-dev libmicrohttpd-dev libavro-dev openssl
      libmariadb-dev libmariadb3 mariadb-server mariadb-client libmongoc-dev
      postgresql-15 postgresql-client-15 kcat linux-perf
      python3 python3-avro python3-confluent-kafka python3-pymongo procps bc curl prometheus chromium
      openjdk-17-jre-headless maven
      docker.io debootstrap iptables)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The cluster is started by our scripts, never by the package: keep the service from starting.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.walcast
[ -e /usr/sbin/policy-rc.d ] || { cp /usr/sbin/policy-rc.d.walcast /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT; }
rm -f /usr/sbin/policy-rc.d.walcast
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
