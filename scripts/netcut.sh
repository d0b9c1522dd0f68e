#!/usr/bin/env bash
# netcut.sh: cuts ONE process off from a set of TCP ports on this host (a Kafka cluster's broker ports)
# for a while and restores it, for failure tests and benchmarks (a network partition of one worker while
# every other process keeps its network). Needs root, iptables with the cgroup and connmark matches, and
# a cgroup v2 hierarchy (a hybrid host's /sys/fs/cgroup/unified will do).
#
#   scripts/netcut.sh check                    exit 0 when this host can cut (else says what is missing)
#   scripts/netcut.sh exec NAME CMD [ARGS...]  join the cgroup walcast-netcut/NAME, then exec CMD: the
#                                              caller's $! is CMD's own pid
#   scripts/netcut.sh cut NAME PORT[,PORT...] [--for SECONDS]
#                                              drop every TCP packet between NAME's processes and those
#                                              ports, both ways (returns at once; with --for: waits that
#                                              long, then restores; restores too when stopped by a signal)
#   scripts/netcut.sh restore NAME             remove the rules `cut NAME` added (none: nothing to do)
#   scripts/netcut.sh clean NAME               restore, move what is left in NAME's cgroup back to the
#                                              root group, remove the cgroup (a test's EXIT trap calls it)
#   scripts/netcut.sh status NAME              "cut" or "open"
#
# How one process is told apart: iptables' cgroup match (`-m cgroup --path`) sees the cgroup a socket was
# created in, in the OUTPUT chain only. So the process runs in a cgroup of its own from the start (exec):
# a socket it opened before it joined is not matched. Its packets to the ports set a connection mark
# (bits 16-23 of the conntrack mark, one value per cut NAME) and are dropped; packets of a marked
# connection are dropped both in OUTPUT and INPUT, so the replies of the brokers never arrive either. A
# connection is marked by its first packet from the process after the cut; a Kafka client, which
# heartbeats and fetches all the time, sends one within its poll interval. New connections are cut too
# (their SYN is dropped). Only IPv4 (the test servers listen on 127.0.0.1).
#
# Rule hygiene: every rule lives in the chain WCNC-NAME, reached from one jump rule at the head of INPUT
# and OUTPUT each; restore deletes exactly those two jumps and that chain, never anything else.
set -euo pipefail

die() { echo "netcut.sh: $*" >&2; exit 1; }
IPT=${NETCUT_IPTABLES:-iptables}
MASK=0xff0000

cg_root() {
  local r
  r=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  [ -n "$r" ] || die "no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup/unified)"
  echo "$r"
}

check_name() {
  [[ $1 =~ ^[A-Za-z0-9_-]{1,20}$ ]] || die "NAME '$1': 1-20 letters, digits, '-' or '_'"
}

chain_exists() { "$IPT" -w -S "WCNC-$1" >/dev/null 2>&1; }

check() {
  [ "$(id -u)" -eq 0 ] || die "needs root (iptables, cgroups)"
  command -v "$IPT" >/dev/null || die "$IPT not found: run scripts/install-deps.sh (installs iptables)"
  local root probe="WCNC-probe$$"
  root=$(cg_root)
  [ -w "$root" ] || die "the cgroup v2 hierarchy $root is not writable"
  mkdir -p "$root/walcast-netcut" || die "cannot create $root/walcast-netcut"
  # the matches this script needs, tried in a chain of its own that nothing jumps to
  "$IPT" -w -N "$probe" 2>/dev/null || die "$IPT cannot create a chain (no CAP_NET_ADMIN?)"
  local ok=1
  "$IPT" -w -A "$probe" -p tcp -m cgroup --path walcast-netcut -m multiport --dports 1 \
    -j CONNMARK --set-xmark 0x10000/$MASK 2>/dev/null || ok=0
  "$IPT" -w -A "$probe" -p tcp -m connmark --mark 0x10000/$MASK -j DROP 2>/dev/null || ok=0
  "$IPT" -w -F "$probe"; "$IPT" -w -X "$probe"
  [ $ok -eq 1 ] || die "$IPT lacks the cgroup or connmark match (kernel modules xt_cgroup, xt_connmark)"
}

do_exec() {
  local name=$1 root; shift
  check_name "$name"
  [ $# -gt 0 ] || die "exec: no command"
  root=$(cg_root)
  mkdir -p "$root/walcast-netcut/$name" || die "cannot create the cgroup $root/walcast-netcut/$name"
  echo $$ >"$root/walcast-netcut/$name/cgroup.procs" || die "cannot join the cgroup walcast-netcut/$name"
  exec "$@"
}

# a mark value in bits 16-23 that no other cut uses now
free_mark() {
  local used m
  used=$("$IPT" -w -S 2>/dev/null | sed -n 's/.*--set-xmark \(0x[0-9a-f]*\)\/0xff0000.*/\1/p')
  for m in $(seq 1 255); do
    printf -v m '0x%x' $((m << 16))
    grep -qx "$m" <<<"$used" || { echo "$m"; return 0; }
  done
  die "every connection mark value is in use (255 cuts at once?)"
}

cut() {
  local name=$1 ports=$2 mark root
  check_name "$name"
  [[ $ports =~ ^[0-9]+(,[0-9]+)*$ ]] || die "PORTS '$ports': numbers separated by commas"
  [ "$(tr ',' '\n' <<<"$ports" | wc -l)" -le 15 ] || die "at most 15 ports (iptables' multiport)"
  root=$(cg_root)
  [ -d "$root/walcast-netcut/$name" ] || die "no cgroup walcast-netcut/$name: start the process with 'netcut.sh exec $name CMD'"
  chain_exists "$name" && die "$name is cut already (netcut.sh restore $name first)"
  mark=$(free_mark)
  "$IPT" -w -N "WCNC-$name"
  # from here on a failure must not leave half a cut behind
  trap 'restore "$name"' ERR
  "$IPT" -w -A "WCNC-$name" -p tcp -m cgroup --path "walcast-netcut/$name" -m multiport --dports "$ports" \
    -j CONNMARK --set-xmark "$mark/$MASK"
  "$IPT" -w -A "WCNC-$name" -p tcp -m connmark --mark "$mark/$MASK" -j DROP
  "$IPT" -w -I OUTPUT 1 -j "WCNC-$name"
  "$IPT" -w -I INPUT 1 -j "WCNC-$name"
  trap - ERR
}

restore() {
  local name=$1
  check_name "$name"
  while "$IPT" -w -C OUTPUT -j "WCNC-$name" 2>/dev/null; do "$IPT" -w -D OUTPUT -j "WCNC-$name"; done
  while "$IPT" -w -C INPUT -j "WCNC-$name" 2>/dev/null; do "$IPT" -w -D INPUT -j "WCNC-$name"; done
  if chain_exists "$name"; then "$IPT" -w -F "WCNC-$name"; "$IPT" -w -X "WCNC-$name"; fi
}

clean() {
  local name=$1 root dir p
  restore "$name"
  root=$(cg_root)
  dir="$root/walcast-netcut/$name"
  [ -d "$dir" ] || return 0
  # processes still inside (the caller's trap may run before they are gone) go back to the root group
  while read -r p; do [ -n "$p" ] && echo "$p" >"$root/cgroup.procs" 2>/dev/null || true; done <"$dir/cgroup.procs"
  rmdir "$dir" 2>/dev/null || echo "netcut.sh: the cgroup $dir is still busy; left in place" >&2
}

cmd=${1:-}; shift || true
case $cmd in
  check) check; echo "netcut.sh: this host can cut ($IPT, cgroup v2 at $(cg_root))" ;;
  exec) [ $# -ge 2 ] || die "usage: netcut.sh exec NAME CMD [ARGS...]"; do_exec "$@" ;;
  cut)
    [ $# -eq 2 ] || [ $# -eq 4 ] || die "usage: netcut.sh cut NAME PORT[,PORT...] [--for SECONDS]"
    if [ $# -eq 4 ]; then
      [ "$3" = --for ] && [[ $4 =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "usage: netcut.sh cut NAME PORTS --for SECONDS"
      check_name "$1"
      cut "$1" "$2"
      trap 'restore "$1"' EXIT
      trap 'exit 143' TERM
      trap 'exit 130' INT
      echo "netcut.sh: $1 cut from ports $2 for $4 s" >&2
      sleep "$4" & wait $!
    else
      cut "$1" "$2"
    fi ;;
  restore) [ $# -eq 1 ] || die "usage: netcut.sh restore NAME"; restore "$1" ;;
  clean) [ $# -eq 1 ] || die "usage: netcut.sh clean NAME"; check_name "$1"; clean "$1" ;;
  status) [ $# -eq 1 ] || die "usage: netcut.sh status NAME"; check_name "$1"; chain_exists "$1" && echo cut || echo open ;;
  *) die "usage: netcut.sh check | exec NAME CMD... | cut NAME PORTS [--for SECONDS] | restore NAME | clean NAME | status NAME" ;;
esac
