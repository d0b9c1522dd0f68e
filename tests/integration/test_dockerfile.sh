#!/usr/bin/env bash
# test_dockerfile.sh: the Dockerfile builds what the Makefile builds. Every pkg-config library the
# Makefile links (PKGS) has its development package in the build stage, every shared library
# build/walcast needs (its ELF NEEDED entries, libc aside) has its runtime package in the final stage,
# and docker-compose.yml is valid for a current Compose implementation (Docker Compose v5, built by
# scripts/compose.sh). A library added to the Makefile but not to the Dockerfile fails here: the image
# would not build, or would not start.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
fail=0

# stage_pkgs N: the packages apt-get installs in the Nth stage (1 = build, 2 = final) of the Dockerfile.
stage_pkgs() {
  awk -v want="$1" '
    /^FROM / { stage++ }
    stage == want { line = line " " $0; if ($0 !~ /\\$/) { if (line ~ /apt-get install/) print line; line = "" } }' Dockerfile |
    sed 's/.*apt-get install//; s/&&.*//; s/\\//g' | tr ' ' '\n' | grep -v '^-' | grep -v '^$' | sort -u
}
build_pkgs=$(stage_pkgs 1)
final_pkgs=$(stage_pkgs 2)
[ -n "$build_pkgs" ] && [ -n "$final_pkgs" ] || { echo "cannot read the apt-get lines of the Dockerfile's two stages" >&2; exit 1; }

pkgs=$(sed -n 's/^PKGS *:= *//p' Makefile)
[ -n "$pkgs" ] || { echo "no PKGS line in the Makefile" >&2; exit 1; }
for p in $pkgs; do
  pc="$(pkg-config --variable=pcfiledir "$p" 2>/dev/null)/$p.pc"
  dev=$(dpkg -S "$pc" 2>/dev/null | awk -F: 'NR == 1 { print $1 }' || true)
  [ -n "$dev" ] || { echo "pkg-config $p: no Debian package owns $pc (run scripts/install-deps.sh)" >&2; fail=1; continue; }
  if ! grep -qx "$dev" <<<"$build_pkgs"; then
    echo "Dockerfile build stage lacks $dev (the Makefile links pkg-config $p)" >&2; fail=1
  fi
done

[ -x build/walcast ] || make -s all >/dev/null
for so in $(readelf -d build/walcast | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
  case "$so" in libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|ld-linux*) continue ;; esac
  # no early exit in awk: under pipefail, ldconfig killed by SIGPIPE would end the script silently
  path=$(ldconfig -p | awk -v s="$so" '$1 == s && /x86-64/ && !found { print $NF; found = 1 }' || true)
  [ -n "$path" ] || { echo "$so: not found by ldconfig" >&2; fail=1; continue; }
  run=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | awk -F: 'NR == 1 { print $1 }' || true)
  [ -n "$run" ] || run=$(dpkg -S "$path" 2>/dev/null | awk -F: 'NR == 1 { print $1 }' || true)
  [ -n "$run" ] || { echo "$so: no Debian package owns $path" >&2; fail=1; continue; }
  if ! grep -qx "$run" <<<"$final_pkgs"; then
    echo "Dockerfile final stage lacks $run (build/walcast needs $so)" >&2; fail=1
  fi
done

# The compose file, read by a real Compose implementation.
compose=$(bash scripts/compose.sh path)
"$compose" -f docker-compose.yml config -q || { echo "docker-compose.yml is not valid for Docker Compose" >&2; fail=1; }

[ $fail -eq 0 ] || exit 1
echo "Dockerfile stages hold every library the Makefile links; docker-compose.yml is valid"
