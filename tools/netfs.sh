#!/usr/bin/env bash
# Two views of one directory over a loopback-only network filesystem.
#
# A private sshd listening on 127.0.0.1 exports <statedir>/export; it is
# mounted twice with sshfs (default caching options) at <statedir>/a and
# <statedir>/b. Each mount has its own kernel and sshfs caches, so a process
# working through view A and one working through view B behave like two
# cluster nodes sharing a network filesystem.
#
# Usage:
#   tools/netfs.sh start <statedir>   # prints NETFS_A=, NETFS_B=, NETFS_SSH_PORT=, NETFS_SSH_KEY=
#                                     # lines (the sshd also serves ssh logins on 127.0.0.1)
#   tools/netfs.sh stop <statedir>    # unmounts, stops the daemons, cleans up
#
# Needs root (FUSE mounts are only usable by the mounting user, and sshd is
# started directly). Installs openssh-server and sshfs with apt-get when they
# are missing. Processes are only ever signalled by their recorded pid.
set -euo pipefail

MARKER=".netfs-state"
MOUNT_TIMEOUT_S=15

log() { printf 'netfs: %s\n' "$*" >&2; }

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

ensure_packages() {
  local missing=0
  [[ -x /usr/sbin/sshd ]] || missing=1
  command -v sshfs >/dev/null 2>&1 || missing=1
  command -v fusermount3 >/dev/null 2>&1 || missing=1
  ((missing)) || return 0
  log "installing openssh-server and sshfs with apt-get"
  # Keep the package's maintainer scripts from starting a system-wide sshd.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        openssh-server sshfs
  } >&2 || rc=$?
  if ((added_policy)); then rm -f "$policy"; fi
  ((rc == 0)) || die "apt-get failed (exit $rc)"
  [[ -x /usr/sbin/sshd ]] || die "/usr/sbin/sshd still missing after install"
  command -v sshfs >/dev/null 2>&1 || die "sshfs still missing after install"
}

# Prints a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
  local port
  if command -v python3 >/dev/null 2>&1 &&
    port="$(python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null)" && [[ "$port" =~ ^[0-9]+$ ]]; then
    printf '%s\n' "$port"
    return 0
  fi
  for ((port = 2222; port < 2322; port++)); do
    # A successful connect means something listens there already.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  return 1
}

write_sshd_config() {
  local sd="$1" port="$2"
  cat >"$sd/sshd_config" <<EOF
# Private sshd for tools/netfs.sh; loopback only, public key only.
ListenAddress 127.0.0.1
Port $port
HostKey $sd/host_ed25519
PidFile $sd/sshd.pid
AuthorizedKeysFile $sd/client_ed25519.pub
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel ERROR
Subsystem sftp internal-sftp
EOF
}

# Starts sshd on a free port; retries a few ports in case of a bind race.
start_sshd() {
  local sd="$1" attempt port pid i
  mkdir -p /run/sshd
  chmod 755 /run/sshd
  for ((attempt = 0; attempt < 5; attempt++)); do
    port="$(free_port)" || die "no free TCP port found"
    write_sshd_config "$sd" "$port"
    /usr/sbin/sshd -t -f "$sd/sshd_config" || die "sshd rejects $sd/sshd_config"
    rm -f "$sd/sshd.pid"
    if /usr/sbin/sshd -f "$sd/sshd_config" -E "$sd/sshd.log" </dev/null >/dev/null 2>&1; then
      for ((i = 0; i < 50; i++)); do
        pid="$(read_pid "$sd/sshd.pid")"
        if [[ -n "$pid" ]] && pid_is "$pid" sshd; then
          printf '%s\n' "$pid" >"$sd/sshd.pid.recorded"
          printf '%s\n' "$port" >"$sd/port"
          return 0
        fi
        sleep 0.1
      done
    fi
    log "sshd did not start on port $port; retrying"
  done
  [[ -f "$sd/sshd.log" ]] && tail -n 20 "$sd/sshd.log" >&2
  die "could not start sshd"
}

mount_view() {
  local sd="$1" view="$2" port
  port="$(cat "$sd/port")"
  setsid sshfs -f -F /dev/null -p "$port" \
    -o "IdentityFile=$sd/client_ed25519,IdentitiesOnly=yes,BatchMode=yes" \
    -o "StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,LogLevel=ERROR" \
    "root@127.0.0.1:$sd/export" "$sd/$view" \
    </dev/null >>"$sd/sshfs-$view.log" 2>&1 &
  printf '%s\n' "$!" >"$sd/sshfs-$view.pid"
}

wait_mounted() {
  local sd="$1" view="$2" pid deadline
  pid="$(read_pid "$sd/sshfs-$view.pid")"
  deadline=$((SECONDS + MOUNT_TIMEOUT_S))
  until mountpoint -q "$sd/$view"; do
    if ! pid_is "$pid" sshfs; then
      tail -n 20 "$sd/sshfs-$view.log" >&2 || true
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "mount $sd/$view not active after ${MOUNT_TIMEOUT_S}s"
      tail -n 20 "$sd/sshfs-$view.log" >&2 || true
      return 1
    fi
    sleep 0.05
  done
}

cmd_start() {
  local sd probe i
  sd="$(abs_dir "$1" create)"
  if [[ -f "$sd/$MARKER" ]]; then
    if [[ -f "$sd/env" ]] && mountpoint -q "$sd/a" && mountpoint -q "$sd/b"; then
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
  command -v setsid >/dev/null 2>&1 || die "setsid (util-linux) is missing"
  [[ -e /dev/fuse ]] || die "/dev/fuse is missing (no FUSE support)"

  mkdir -p "$sd/export" "$sd/a" "$sd/b"
  ssh-keygen -q -t ed25519 -N '' -C netfs-host -f "$sd/host_ed25519" </dev/null >/dev/null
  ssh-keygen -q -t ed25519 -N '' -C netfs-client -f "$sd/client_ed25519" </dev/null >/dev/null

  start_sshd "$sd"
  mount_view "$sd" a
  mount_view "$sd" b
  wait_mounted "$sd" a || die "view a did not mount"
  wait_mounted "$sd" b || die "view b did not mount"

  probe=".netfs-probe-$$-$RANDOM"
  printf 'netfs probe %s\n' "$probe" >"$sd/a/$probe"
  for ((i = 0; i < 40; i++)); do
    if [[ "$(cat "$sd/b/$probe" 2>/dev/null)" == "netfs probe $probe" ]]; then break; fi
    sleep 0.05
  done
  if [[ "$(cat "$sd/b/$probe" 2>/dev/null)" != "netfs probe $probe" ]]; then
    die "a file written through $sd/a is not readable through $sd/b"
  fi
  rm -f "$sd/a/$probe"

  printf 'NETFS_A=%s\nNETFS_B=%s\nNETFS_SSH_PORT=%s\nNETFS_SSH_KEY=%s\n' \
    "$sd/a" "$sd/b" "$(cat "$sd/port")" "$sd/client_ed25519" >"$sd/env"
  START_OK=1
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

unmount_view() {
  local mp="$1" i
  mountpoint -q "$mp" 2>/dev/null || return 0
  for ((i = 0; i < 10; i++)); do
    fusermount3 -u "$mp" 2>/dev/null && return 0
    mountpoint -q "$mp" 2>/dev/null || return 0
    sleep 0.2
  done
  log "$mp is busy; unmounting lazily"
  fusermount3 -uz "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
}

cmd_stop() {
  local sd view pid
  [[ -d "$1" ]] || return 0
  sd="$(abs_dir "$1")"
  if [[ ! -f "$sd/$MARKER" ]]; then
    [[ -z "$(ls -A "$sd")" ]] || log "$sd was not made by this script; leaving it alone"
    return 0
  fi
  for view in a b; do
    unmount_view "$sd/$view"
  done
  for view in a b; do
    stop_pid "$(read_pid "$sd/sshfs-$view.pid")" sshfs 3
  done
  pid="$(read_pid "$sd/sshd.pid.recorded")"
  [[ -n "$pid" ]] || pid="$(read_pid "$sd/sshd.pid")"
  stop_pid "$pid" sshd 3
  for view in a b; do
    if mountpoint -q "$sd/$view" 2>/dev/null; then
      log "$sd/$view is still mounted; leaving $sd in place"
      return 1
    fi
  done
  # Remove the content (never crossing into another filesystem), then the dir.
  find "$sd" -mindepth 1 -maxdepth 1 -exec rm -rf --one-file-system -- {} +
  rmdir -- "$sd" 2>/dev/null || true
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) cmd_start "$2" ;;
  stop) cmd_stop "$2" ;;
  *) usage ;;
esac
