# shellcheck shell=bash
# Shell helpers shared by tools/netfs.sh and tools/slurm.sh: paths and the
# daemons they start, which are only ever signalled by their recorded pid after
# a check of /proc/PID/comm. The sourcing script defines log().

# Absolute, physical path of a directory (created if needed when $2 = create).
abs_dir() {
  if [[ "${2:-}" == create ]]; then mkdir -p -- "$1"; fi
  (cd -- "$1" && pwd -P)
}

# True when PID is a live (not zombie) process whose /proc/PID/comm is $2.
pid_is() {
  local pid="$1" want="$2" comm stat
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
  [[ "$comm" == "$want" ]] || return 1
  # A daemon's exit is reaped by whoever adopted it, maybe late; a zombie is dead.
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat%% *}" != Z ]]
}

# Signal a recorded pid (TERM, then KILL after $3 s, default 10) if it is still $2.
stop_pid() {
  local pid="$1" want="$2" grace="${3:-10}" i
  pid_is "$pid" "$want" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    pid_is "$pid" "$want" || return 0
    sleep 0.1
  done
  log "$want (pid $pid) ignored SIGTERM for ${grace}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do
    pid_is "$pid" "$want" || return 0
    sleep 0.1
  done
  log "$want (pid $pid) is still alive after SIGKILL"
}

read_pid() {
  local f="$1"
  [[ -f "$f" ]] || return 0
  tr -dc '0-9' <"$f" || true
}
