# ports.sh: what the scripts that start throwaway servers on loopback share: a free port, a bounded wait
# until the server answers, a bounded stop. Source it.
# free_port VAR [LOW SPAN]: a port in [LOW, LOW+SPAN) that nobody listens on and that nobody has
# claimed in the last 10 minutes, into VAR. The default range lies below Linux's ephemeral ports
# (32768-60999): a port some client holds as its local end is not seen by a connect probe, yet a
# listener cannot bind it. A port is claimed with a folder under WALCAST_PORT_CLAIMS (mkdir is atomic),
# so two scripts running side by side (the integration lanes, helpers) never hand out the same port
# between one's probe and its server's bind, which for a JVM can be seconds; a claim older than 10
# minutes is stale (its server has bound the port long since, or never will) and may be taken again.
FREE_PORTS_TAKEN=" "
PORT_CLAIMS=${WALCAST_PORT_CLAIMS:-${TMPDIR:-/tmp}/walcast-port-claims}
free_port() {
  local var=$1 low=${2:-16000} span=${3:-16000} p claims=$PORT_CLAIMS
  mkdir -p "$claims" 2>/dev/null && [ -w "$claims" ] || claims=   # no claims where it cannot write
  local start=$((RANDOM % span)) i
  for ((i = 0; i < span && i < 2000; i++)); do   # from a random start, each port of the range in turn
    p=$(( (start + i) % span + low ))
    case $FREE_PORTS_TAKEN in *" $p "*) continue ;; esac
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
    if [ -n "$claims" ] && ! mkdir "$claims/$p" 2>/dev/null; then
      [ -n "$(find "$claims/$p" -maxdepth 0 -mmin +10 2>/dev/null)" ] || continue
      touch "$claims/$p" 2>/dev/null || continue   # a stale claim: ours now
    fi
    FREE_PORTS_TAKEN+="$p "
    printf -v "$var" '%s' "$p"
    return 0
  done
  echo "no free loopback port in $low-$((low + span - 1)) (none unclaimed in $PORT_CLAIMS)" >&2
  return 1
}

# pid_gone PID SECONDS: true as soon as PID no longer runs (polled every 0.1 s); false when it still runs
# after SECONDS.
pid_gone() {
  local pid=$1 i
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  ! kill -0 "$pid" 2>/dev/null
}

# pid_stop [-SIGNAL] PID SECONDS [WHO]: SIGNAL (default TERM), up to SECONDS for PID to end, then SIGKILL;
# with WHO, a line on stderr says when it came to that. Returns once the signals are sent.
pid_stop() {
  local sig=TERM
  case $1 in -*) sig=${1#-}; shift ;; esac
  local pid=$1 secs=$2 who=${3:-}
  kill "-$sig" "$pid" 2>/dev/null || return 0
  pid_gone "$pid" "$secs" && return 0
  [ -z "$who" ] || echo "$who: $pid still running $secs s after SIG$sig: killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# wait_up WHO WHAT PID SECONDS LOG CMD...: runs CMD every 0.2 s until it succeeds (0). When PID (the
# server, started in the background) ends first or SECONDS pass, prints the last 40 lines of LOG and
# "WHO: WHAT exited during start-up" or "WHO: WHAT did not answer within SECONDSs" on stderr and returns 1:
# the caller stops what it started.
wait_up() {
  local who=$1 what=$2 pid=$3 secs=$4 log=$5 i
  shift 5
  for ((i = 0; i < secs * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { tail -40 "$log" >&2; echo "$who: $what exited during start-up" >&2; return 1; }
    "$@" && return 0
    sleep 0.2
  done
  "$@" && return 0
  tail -40 "$log" >&2
  echo "$who: $what did not answer within ${secs}s" >&2
  return 1
}
