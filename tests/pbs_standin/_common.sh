# Shared by the OpenPBS stand-ins (qsub, qstat, qdel, pbsdsh, _run_job); sourced, not run.
#
# State lives under $HQ_PBS_STANDIN_DIR (required):
#   seq                 last job number handed out
#   calls.log           one line per stand-in call: "<epoch>\t<program>\t<cwd>\t<args...>"
#   jobs/<n>/static     attributes fixed at submission (bash `declare -p` text, sourced)
#   jobs/<n>/state      attributes that change (same form), written under jobs/<n>/lock
#   jobs/<n>/script     the job script as submitted (qsub copies it, as PBS does)
#   jobs/<n>/nodes      $PBS_NODEFILE: one line per node of `-l select=N`
#   jobs/<n>/deleted    present once qdel got the job; walltime_hit once its walltime ran out
# Every process of a running job carries HQ_PBS_STANDIN_JOB=<jobs/<n>> in its
# environment, so a test can find and kill whatever a job left behind.

# shellcheck disable=SC2034 # used by the scripts that source this
STANDIN_SERVER=standin-server
STANDIN_VERSION=22.05.11
# OpenPBS waits kill_delay (10 s) between SIGTERM and SIGKILL; shortened here.
STANDIN_KILL_DELAY=${HQ_PBS_STANDIN_KILL_DELAY:-2}

standin_init() { # <program>
  PROG=$1
  shift
  if [ -z "${HQ_PBS_STANDIN_DIR:-}" ]; then
    echo "$PROG: HQ_PBS_STANDIN_DIR is not set: the PBS stand-in keeps its jobs in that directory" >&2
    exit 2
  fi
  STATE_DIR=$HQ_PBS_STANDIN_DIR
  mkdir -p "$STATE_DIR/jobs" || exit 2
  local IFS=' '
  printf '%s\t%s\t%s\t%s\n' "$(printf '%(%s)T' -1)" "$PROG" "$PWD" "$*" >>"$STATE_DIR/calls.log"
}

now() { printf '%(%s)T' -1; }

# OpenPBS prints times as "Thu May 02 09:58:40 2024".
pbs_time() { printf '%(%a %b %d %H:%M:%S %Y)T' "$1"; }

hms() { # seconds -> HH:MM:SS
  local s=$1
  ((s < 0)) && s=0
  printf '%02d:%02d:%02d' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
}

# Job number of an id ("7", "7.standin-server", "7.standin-server@standin-server"), or fail.
job_number() {
  local id=${1%@*}
  local n=${id%%.*}
  [[ $n =~ ^[0-9]+$ ]] || return 1
  [[ $id == "$n" || $id == "$n.$STANDIN_SERVER" ]] || return 1
  [ -f "$STATE_DIR/jobs/$n/static" ] || return 1
  echo "$n"
}

lock_job() { # <jobdir>: holds the job's lock on fd 9 until unlock_job
  exec 9>"$1/lock"
  flock 9
}
unlock_job() { exec 9>&-; }

load_job() { # <jobdir>: sources its static and state attributes
  # shellcheck disable=SC1091
  source "$1/static"
  # shellcheck disable=SC1091
  source "$1/state"
}

# `declare -p` of the named variables, as globals (so that load_job works inside functions).
dump_vars() {
  declare -p "$@" | sed -e 's/^declare -- /declare -g /' -e 's/^declare -\([a-zA-Z]*\) /declare -g\1 /'
}

# Writes the changing attributes (call with the lock held).
save_state() { # <jobdir>
  dump_vars job_state substate mtime stime session_id exit_status comment >"$1/state.tmp" &&
    mv -f "$1/state.tmp" "$1/state"
}

# True while a process of process group <pgid> lives (zombies do not count).
group_alive() {
  local pg=$1 f line rest
  local -a fields
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    rest=${line##*) }
    read -r -a fields <<<"$rest"
    [ "${fields[2]}" = "$pg" ] && [ "${fields[0]}" != Z ] && return 0
  done
  return 1
}

# SIGTERM to the group, SIGKILL after the kill delay; returns once no process of it is left.
kill_group() { # <pgid> [delay]
  local pg=$1 delay=${2:-$STANDIN_KILL_DELAY} i
  kill -TERM -- "-$pg" 2>/dev/null
  for ((i = 0; i < delay * 10; i++)); do
    group_alive "$pg" || return 0
    sleep 0.1
  done
  kill -KILL -- "-$pg" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    group_alive "$pg" || return 0
    sleep 0.1
  done
}

# JSON string literal.
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/\\t}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  printf '"%s"' "$s"
}
