# ports.sh: free_port for the scripts that start throwaway servers on loopback. Source it.
# free_port VAR [LOW SPAN]: a port in [LOW, LOW+SPAN) that nobody listens on and that this shell has
# not handed out yet, into VAR. The default range lies below Linux's ephemeral ports (32768-60999): a
# port some client holds as its local end is not seen by a connect probe, yet a listener cannot bind it.
FREE_PORTS_TAKEN=" "
free_port() {
  local var=$1 low=${2:-16000} span=${3:-16000} p
  for _ in $(seq 1 200); do
    p=$(( (RANDOM % span) + low ))
    case $FREE_PORTS_TAKEN in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      FREE_PORTS_TAKEN+="$p "
      printf -v "$var" '%s' "$p"
      return 0
    fi
  done
  echo "no free loopback port in $low-$((low + span - 1))" >&2
  return 1
}
