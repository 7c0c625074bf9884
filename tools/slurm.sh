#!/usr/bin/env bash
# A real single-node SLURM (Debian's slurmctld + slurmd + munge) for tests.
#
# One node, named after `hostname -s`, reached at 127.0.0.1, advertising
# ADVERTISED_CPUS cpus (more than the machine has, through
# SlurmdParameters=config_overrides) so several 1-cpu allocations run at
# once. Partitions: debug (the default) and batch. Finished jobs stay visible
# to `scontrol show job` and `squeue -t all` for an hour (MinJobAge).
#
# Usage:
#   tools/slurm.sh start <statedir>   # prints SLURM_CONF=, SLURM_PARTITION=, SLURM_PARTITIONS=,
#                                     # SLURM_NODE=, SLURM_CPUS=, SLURM_READY=1 lines
#   tools/slurm.sh stop <statedir>    # cancels every job, stops the daemons, cleans up
#
# Where the configuration lives: <statedir>/slurm.conf, and the caller exports
# the printed SLURM_CONF (SLURM's own variable, read by sbatch, squeue,
# scontrol, scancel, srun, and inherited by the jobs). Nothing is written
# under /etc/slurm, /var/spool or /var/log: everything (config, controller
# state, slurmd spool, logs, pid files, the munge socket) sits in <statedir>,
# so `stop` can remove all of it, a machine that has its own SLURM
# configuration is not overwritten, and a client without SLURM_CONF fails
# loudly ("Could not establish a configuration source") instead of talking to
# some other cluster. The one shared file is /etc/munge/munge.key, created
# only when missing. The daemons still use SLURM's fixed ports 6817/6818, so
# only one instance runs per machine.
#
# Needs root (the daemons run as root; munged runs as user munge). Installs
# slurmctld, slurmd, slurm-client and munge with apt-get when they are
# missing. Processes are only ever signalled by their recorded pid, after
# checking /proc/PID/comm.
set -euo pipefail

MARKER=".slurm-state"
ADVERTISED_CPUS=8
READY_TIMEOUT_S=30
# Longest wait for cancelled jobs to leave the node before the daemons stop.
DRAIN_TIMEOUT_S=20

log() { printf 'slurm: %s\n' "$*" >&2; }

die() {
  log "error: $*"
  exit 1
}

usage() {
  printf 'usage: %s start|stop <statedir>\n' "$0" >&2
  exit 2
}

# shellcheck source=tools/_daemon.sh
. "$(dirname "${BASH_SOURCE[0]}")/_daemon.sh"

have_packages() {
  [[ -x /usr/sbin/slurmctld && -x /usr/sbin/slurmd && -x /usr/sbin/munged ]] || return 1
  local c
  for c in sbatch squeue scontrol scancel sinfo sdiag; do
    command -v "$c" >/dev/null 2>&1 || return 1
  done
}

ensure_packages() {
  have_packages && return 0
  log "installing slurmctld, slurmd, slurm-client and munge with apt-get"
  # There is no init system: keep the maintainer scripts from trying to start
  # the daemons (invoke-rc.d obeys policy-rc.d; exit 101 = "not allowed").
  # An existing policy-rc.d is left as it is; a refusal it causes is harmless.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0 t0=$SECONDS
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        slurmctld slurmd slurm-client munge
  } >&2 || rc=$?
  if ((added_policy)); then rm -f "$policy"; fi
  # A postinst that failed only because it could not start its service leaves
  # the package unconfigured; the binaries are there all the same.
  if ((rc != 0)); then
    DEBIAN_FRONTEND=noninteractive dpkg --configure -a >&2 || true
  fi
  have_packages || die "apt-get failed (exit $rc); SLURM or munge binaries are still missing"
  log "packages installed in $((SECONDS - t0))s"
}

ensure_munge_key() {
  local key=/etc/munge/munge.key
  id munge >/dev/null 2>&1 || die "user munge does not exist (is the munge package configured?)"
  if [[ ! -s "$key" ]]; then
    log "creating $key"
    mkdir -p /etc/munge
    if command -v mungekey >/dev/null 2>&1; then
      mungekey --create --keyfile="$key" --force >&2
    else
      dd if=/dev/urandom of="$key" bs=1 count=1024 status=none
    fi
  fi
  chown munge:munge /etc/munge "$key"
  chmod 700 /etc/munge
  chmod 400 "$key"
}

# munged with its socket, pid, seed and log files in <statedir>/munge.
start_munged() {
  local sd="$1" md="$1/munge" pid i
  mkdir -p "$md"
  chown munge:munge "$md"
  # munged refuses a socket directory writable by others; 0755 lets every
  # user (jobs of non-root users too) reach the socket.
  chmod 755 "$md"
  runuser -u munge -- /usr/sbin/munged \
    --socket="$md/munge.socket" --key-file=/etc/munge/munge.key \
    --pid-file="$md/munged.pid" --seed-file="$md/munged.seed" \
    --log-file="$md/munged.log" </dev/null >/dev/null 2>>"$sd/log/munged.err" ||
    {
      cat "$sd/log/munged.err" "$md/munged.log" >&2 2>/dev/null || true
      die "munged did not start"
    }
  for ((i = 0; i < 50; i++)); do
    pid="$(read_pid "$md/munged.pid")"
    if [[ -n "$pid" ]] && pid_is "$pid" munged; then
      printf '%s\n' "$pid" >"$sd/munged.pid.recorded"
      return 0
    fi
    sleep 0.1
  done
  die "munged wrote no pid file ($md/munged.pid)"
}

# Prints slurmd -C's value of field $1 (e.g. RealMemory) from its line $2.
hw_field() {
  local re="(^| )$1=([^ ]+)"
  [[ "$2" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[2]}"
}

write_slurm_conf() {
  local sd="$1" host="$2" hw mem cpus real_cpus
  hw="$(/usr/sbin/slurmd -C 2>/dev/null | grep -m1 '^NodeName=')" ||
    die "slurmd -C printed no node line"
  real_cpus="$(hw_field CPUs "$hw")" || die "no CPUs= in slurmd -C output: $hw"
  mem="$(hw_field RealMemory "$hw")" || mem=1
  cpus=$((real_cpus > ADVERTISED_CPUS ? real_cpus : ADVERTISED_CPUS))
  cat >"$sd/slurm.conf" <<EOF
# Single-node SLURM for tests, written by tools/slurm.sh.
# slurmd -C: $hw
ClusterName=hqtest
SlurmctldHost=$host(127.0.0.1)
# Both daemons run as root, so the state below can live in any root-owned dir.
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sd/munge/munge.socket
StateSaveLocation=$sd/ctld
SlurmdSpoolDir=$sd/spool
SlurmctldPidFile=$sd/slurmctld.pid
SlurmdPidFile=$sd/slurmd.pid
SlurmctldLogFile=$sd/log/slurmctld.log
SlurmdLogFile=$sd/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Schedule as soon as a job arrives; keep finished jobs visible for an hour.
SchedulerParameters=batch_sched_delay=0
MinJobAge=3600
KillWait=5
ReturnToService=2
MailProg=/bin/true
# The node advertises $cpus cpus (the machine has $real_cpus) so several small
# allocations fit at once.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Boards=1 SocketsPerBoard=1 CoresPerSocket=$cpus ThreadsPerCore=1 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=$host MaxTime=INFINITE State=UP
EOF
  printf '%s\n' "$cpus" >"$sd/cpus"
}

# Starts daemon $2 (slurmctld or slurmd) with the config in $1; records its pid.
start_daemon() {
  local sd="$1" name="$2" pid i
  rm -f "$sd/$name.pid"
  SLURM_CONF="$sd/slurm.conf" "/usr/sbin/$name" -f "$sd/slurm.conf" \
    </dev/null >/dev/null 2>>"$sd/log/$name.err" || {
    tail -n 20 "$sd/log/$name.err" "$sd/log/$name.log" >&2 2>/dev/null || true
    die "$name did not start"
  }
  for ((i = 0; i < 100; i++)); do
    pid="$(read_pid "$sd/$name.pid")"
    if [[ -n "$pid" ]] && pid_is "$pid" "$name"; then
      printf '%s\n' "$pid" >"$sd/$name.pid.recorded"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$sd/log/$name.err" "$sd/log/$name.log" >&2 2>/dev/null || true
  die "$name is not running (no live pid in $sd/$name.pid)"
}

# True once the controller answers, has run a scheduling cycle and the node is idle.
is_ready() {
  local sd="$1" host="$2" cycles state
  export SLURM_CONF="$sd/slurm.conf"
  scontrol ping 2>/dev/null | grep -q 'is UP' || return 1
  cycles="$(sdiag 2>/dev/null | awk -F: '/^Main schedule statistics/ { m = 1 }
    m && /Total cycles/ { gsub(/ /, "", $2); print $2; exit }')"
  [[ "$cycles" =~ ^[0-9]+$ ]] && ((cycles > 0)) || return 1
  state="$(sinfo -h -n "$host" -o '%t' 2>/dev/null | sort -u)"
  [[ "$state" == idle ]]
}

wait_ready() {
  local sd="$1" host="$2" deadline
  deadline=$((SECONDS + READY_TIMEOUT_S))
  until is_ready "$sd" "$host"; do
    pid_is "$(read_pid "$sd/slurmctld.pid.recorded")" slurmctld || {
      tail -n 20 "$sd/log/slurmctld.log" >&2 2>/dev/null || true
      die "slurmctld exited"
    }
    pid_is "$(read_pid "$sd/slurmd.pid.recorded")" slurmd || {
      tail -n 20 "$sd/log/slurmd.log" >&2 2>/dev/null || true
      die "slurmd exited"
    }
    if ((SECONDS >= deadline)); then
      SLURM_CONF="$sd/slurm.conf" sinfo -N -l >&2 2>&1 || true
      tail -n 20 "$sd/log/slurmctld.log" "$sd/log/slurmd.log" >&2 2>/dev/null || true
      die "the node is not idle, or no scheduling cycle ran, after ${READY_TIMEOUT_S}s"
    fi
    sleep 0.2
  done
}

all_running() {
  local sd="$1"
  pid_is "$(read_pid "$sd/munged.pid.recorded")" munged &&
    pid_is "$(read_pid "$sd/slurmctld.pid.recorded")" slurmctld &&
    pid_is "$(read_pid "$sd/slurmd.pid.recorded")" slurmd
}

cmd_start() {
  local sd host t0=$SECONDS
  ((EUID == 0)) || die "must run as root (the daemons run as root and munged as user munge)"
  sd="$(abs_dir "$1" create)"
  if [[ -f "$sd/$MARKER" ]]; then
    if [[ -f "$sd/env" ]] && all_running "$sd" &&
      SLURM_CONF="$sd/slurm.conf" scontrol ping 2>/dev/null | grep -q 'is UP'; then
      log "already running in $sd"
      cat "$sd/env"
      return 0
    fi
    log "stale state in $sd; stopping it first"
    cmd_stop "$sd"
    mkdir -p "$sd"
  elif [[ -n "$(ls -A "$sd")" ]]; then
    die "$sd is not empty and was not made by this script"
  fi
  : >"$sd/$MARKER"
  # From here on, undo everything if start does not finish.
  START_SD="$sd"
  trap on_start_exit EXIT

  ensure_packages
  host="$(hostname -s)"
  [[ -n "$host" ]] || die "hostname -s is empty"
  # munged (user munge) must traverse <statedir> to reach its own directory.
  chmod 755 "$sd"
  mkdir -p "$sd/log" "$sd/ctld" "$sd/spool"
  ensure_munge_key
  start_munged "$sd"
  write_slurm_conf "$sd" "$host"
  start_daemon "$sd" slurmctld
  start_daemon "$sd" slurmd
  wait_ready "$sd" "$host"

  printf 'SLURM_CONF=%s\nSLURM_PARTITION=debug\nSLURM_PARTITIONS=debug,batch\nSLURM_NODE=%s\nSLURM_CPUS=%s\nSLURM_READY=1\n' \
    "$sd/slurm.conf" "$host" "$(cat "$sd/cpus")" >"$sd/env"
  START_OK=1
  log "ready in $((SECONDS - t0))s (node $host, $(cat "$sd/cpus") cpus)"
  cat "$sd/env"
}

START_SD=""
START_OK=0
on_start_exit() {
  local rc=$?
  if ((START_OK == 0)) && [[ -n "$START_SD" ]]; then
    log "start failed; cleaning up $START_SD"
    cmd_stop "$START_SD" || true
  fi
  return "$rc"
}

# Cancels every job and waits until none is left running or completing.
drain_jobs() {
  local sd="$1" ids deadline left
  export SLURM_CONF="$sd/slurm.conf"
  scontrol ping 2>/dev/null | grep -q 'is UP' || return 0
  ids="$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')" || ids=""
  [[ -n "${ids// /}" ]] || return 0
  log "cancelling jobs: $ids"
  # shellcheck disable=SC2086 # word splitting of the id list is intended
  scancel $ids 2>/dev/null || true
  deadline=$((SECONDS + DRAIN_TIMEOUT_S))
  while :; do
    left="$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')" || left=""
    [[ -n "${left// /}" ]] || return 0
    if ((SECONDS >= deadline)); then
      log "jobs still listed after ${DRAIN_TIMEOUT_S}s: $left"
      return 0
    fi
    sleep 0.2
  done
}

# Stops slurmstepd processes left by our slurmd (a job step survives slurmd's
# exit by design). A slurmstepd is ours when it holds a file under <statedir>
# open (it logs to <statedir>/log/slurmd.log).
stop_stepds() {
  local sd="$1" p pid
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    [[ "$(cat "$p/comm" 2>/dev/null)" == slurmstepd ]] || continue
    if find "$p/fd" -mindepth 1 -maxdepth 1 -lname "$sd/*" 2>/dev/null | grep -q .; then
      log "stopping leftover slurmstepd (pid $pid)"
      stop_pid "$pid" slurmstepd 5
    fi
  done
}

cmd_stop() {
  local sd
  [[ -d "$1" ]] || return 0
  sd="$(abs_dir "$1")"
  if [[ ! -f "$sd/$MARKER" ]]; then
    [[ -z "$(ls -A "$sd")" ]] || log "$sd was not made by this script; leaving it alone"
    return 0
  fi
  if [[ -f "$sd/slurm.conf" ]] && pid_is "$(read_pid "$sd/slurmctld.pid.recorded")" slurmctld; then
    drain_jobs "$sd"
  fi
  stop_pid "$(read_pid "$sd/slurmd.pid.recorded")" slurmd
  stop_stepds "$sd"
  # SIGTERM lets slurmctld save its state; it has nothing left to schedule.
  stop_pid "$(read_pid "$sd/slurmctld.pid.recorded")" slurmctld
  stop_pid "$(read_pid "$sd/munged.pid.recorded")" munged
  local name
  for name in slurmd slurmctld munged; do
    if pid_is "$(read_pid "$sd/$name.pid.recorded")" "$name"; then
      log "$name is still running; leaving $sd in place"
      return 1
    fi
  done
  find "$sd" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} +
  rmdir -- "$sd" 2>/dev/null || true
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) cmd_start "$2" ;;
  stop) cmd_stop "$2" ;;
  *) usage ;;
esac
