#!/usr/bin/env bash
# Captures real outputs of the single-node SLURM made by tools/slurm.sh into
# this folder (see README.md). Run as root with that SLURM's SLURM_CONF
# exported; with --timeout it also waits (60-90 s) for a TIMEOUT job.
#
#   eval "$(bash tools/slurm.sh start /tmp/slurmstate | sed 's/^/export /')"
#   bash lib/autoalloc/testdata/slurm/capture.sh [--timeout]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
WANT_TIMEOUT=0
[[ "${1:-}" == --timeout ]] && WANT_TIMEOUT=1
[[ -n "${SLURM_CONF:-}" ]] || {
  echo "capture: export SLURM_CONF first" >&2
  exit 1
}

WORK=/tmp/hq-slurm-capture
rm -rf "$WORK"
mkdir -p "$WORK"
cat >"$WORK/ok.sh" <<'SCRIPT'
#!/bin/bash
echo "worker would start here"
SCRIPT
cat >"$WORK/sleep.sh" <<'SCRIPT'
#!/bin/bash
sleep 300
SCRIPT
cat >"$WORK/fail.sh" <<'SCRIPT'
#!/bin/bash
echo "failing on purpose" >&2
exit 1
SCRIPT

# sbatch options in the shape autoalloc uses.
opts() { printf '%s\n' "--job-name=hq-alloc-$1" "--output=$WORK/%j.stdout" \
  "--error=$WORK/%j.stderr" --nodes=1 "--time=${2:-00:10:00}"; }

# Runs a command; keeps stdout, stderr and the exit code as $1.{stdout,stderr,exit}.txt.
keep() {
  local name="$1" rc=0
  shift
  "$@" >"$HERE/$name.stdout.txt" 2>"$HERE/$name.stderr.txt" || rc=$?
  printf '%s\n' "$rc" >"$HERE/$name.exit.txt"
}

state() { scontrol show job "$1" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2; }

wait_state() {
  local id="$1" want="$2" limit="${3:-20}" t0=$SECONDS
  until [[ "$(state "$id")" == "$want" ]]; do
    if ((SECONDS - t0 > limit)); then
      echo "capture: job $id not $want after ${limit}s (is $(state "$id"))" >&2
      exit 1
    fi
    sleep 0.2
  done
}

show() { scontrol show job "$1" >"$HERE/scontrol_show_job_$2.txt"; }

mapfile -t O1 < <(opts 1 00:01:00)
if ((WANT_TIMEOUT)); then
  timeout_id="$(sbatch --parsable "${O1[@]}" "$WORK/sleep.sh")"
fi

mapfile -t O < <(opts 1)
sbatch "${O[@]}" "$WORK/ok.sh" >"$HERE/sbatch.txt"
completed_id="$(grep -oE '[0-9]+' "$HERE/sbatch.txt")"
sbatch --parsable "${O[@]}" "$WORK/ok.sh" >"$HERE/sbatch_parsable.txt"
keep sbatch_unknown_partition sbatch "${O[@]}" -p nosuchpartition "$WORK/ok.sh"
keep sbatch_invalid_option sbatch "${O[@]}" --no-such-option "$WORK/ok.sh"
keep sbatch_invalid_time sbatch "${O[@]}" --time=soon "$WORK/ok.sh"
keep sbatch_missing_script sbatch "${O[@]}" "$WORK/no-such-script.sh"

running_id="$(sbatch --parsable "${O[@]}" "$WORK/sleep.sh")"
pending_begin_id="$(sbatch --parsable "${O[@]}" --begin=now+1hour "$WORK/ok.sh")"
pending_held_id="$(sbatch --parsable "${O[@]}" -H "$WORK/ok.sh")"
failed_id="$(sbatch --parsable "${O[@]}" "$WORK/fail.sh")"
cancel_pending_id="$(sbatch --parsable "${O[@]}" -H "$WORK/ok.sh")"
cancel_running_id="$(sbatch --parsable "${O[@]}" "$WORK/sleep.sh")"

wait_state "$completed_id" COMPLETED
wait_state "$running_id" RUNNING
wait_state "$failed_id" FAILED
wait_state "$cancel_running_id" RUNNING
show "$completed_id" completed
show "$running_id" running
show "$pending_begin_id" pending_begin
show "$pending_held_id" pending_held
show "$failed_id" failed
scancel "$cancel_pending_id"
scancel "$cancel_running_id"
# Right after scancel a running job is COMPLETING until slurmd reports it gone.
show "$cancel_running_id" completing_after_scancel
if [[ "$(state "$cancel_running_id")" != COMPLETING ]]; then
  echo "capture: note: job $cancel_running_id was no longer COMPLETING" >&2
fi
wait_state "$cancel_pending_id" CANCELLED
wait_state "$cancel_running_id" CANCELLED
show "$cancel_pending_id" cancelled_pending
show "$cancel_running_id" cancelled_running

# A job that waits for cpus: the node has 8, the running sleep jobs hold some.
resources_id="$(sbatch --parsable "${O[@]}" --exclusive "$WORK/ok.sh")"
sleep 1
show "$resources_id" pending_resources
scancel "$resources_id"

keep scontrol_show_job_unknown scontrol show job 999999
keep scontrol_show_job_two_ids scontrol show job "$completed_id" "$running_id"
keep scontrol_show_job_comma_ids scontrol show job "$completed_id,$running_id"
scontrol -o show job "$running_id" >"$HERE/scontrol_show_job_oneline_running.txt"

ids="$completed_id,$running_id,$pending_begin_id,$pending_held_id,$failed_id"
ids+=",$cancel_pending_id,$cancel_running_id"
squeue -h -o '%i %T' -j "$ids" >"$HERE/squeue_states.txt"
squeue -h -o '%i %T' -t all -j "$ids" >"$HERE/squeue_states_all.txt"
keep squeue_unknown squeue -h -o '%i %T' -j 999999
keep squeue_known_and_unknown squeue -h -o '%i %T' -j "$running_id,999999"
keep scancel_unknown scancel 999999
keep scancel_finished scancel "$completed_id"

if ((WANT_TIMEOUT)); then
  wait_state "$timeout_id" TIMEOUT 150
  show "$timeout_id" timeout
fi

scancel "$running_id" "$pending_begin_id" "$pending_held_id"
# Everything listed, in scontrol's multi-record format (blank-line separated).
scontrol show job >"$HERE/scontrol_show_job_all.txt"
sbatch --version >"$HERE/sbatch_version.txt"
echo "capture: done (jobs $ids${timeout_id:+,$timeout_id})" >&2
