/**
 * `job forget`: completed jobs leave the server's memory and its journal for
 * good. Only complete jobs qualify (no task waits, is assigned or runs), so no
 * worker holds anything of them. No I/O, no clock reads.
 *
 * @module
 */
import type { JobId } from "../common/mod.ts";
import type { ForgettableState } from "../protocol/mod.ts";
import { isJobComplete, type Job, type ServerState } from "./state.ts";

/** The state word of a complete job, as `job forget --filter` names it (HyperQueue's order). */
export function completedState(job: Job): ForgettableState {
  if (job.counts.failed > 0) return "failed";
  if (job.counts.aborted > 0) return "aborted";
  if (job.counts.canceled > 0) return "canceled";
  return "finished";
}

/** Whether a job may be forgotten with `filter`: it exists, is complete and in a listed state. */
export function canForget(
  state: ServerState,
  jobId: JobId,
  filter: ReadonlySet<ForgettableState>,
): boolean {
  const job = state.jobs.get(jobId);
  return job !== undefined && isJobComplete(job) && filter.has(completedState(job));
}

/**
 * Jobs some running worker still holds a task of (a canceled task whose process the worker
 * has not reported ended yet): they cannot be forgotten before it lets go.
 */
export function heldJobs(state: ServerState): Set<JobId> {
  const held = new Set<JobId>();
  for (const w of state.workers.values()) {
    if (w.state !== "running") continue;
    for (const slot of w.tasks.values()) held.add(slot.jobId);
  }
  return held;
}

/**
 * Drops a complete job: its record, its tasks and its queue entry go; the next journal
 * batch removes it from the journal. Returns false (and changes nothing) for a job that
 * does not exist, is not complete, or is still held by a worker (`held`, from
 * {@link heldJobs}: computed here when not given).
 */
export function forgetJob(
  state: ServerState,
  jobId: JobId,
  held: ReadonlySet<JobId> = heldJobs(state),
): boolean {
  const job = state.jobs.get(jobId);
  if (!job || !isJobComplete(job) || held.has(jobId)) return false;
  for (const part of job.parts) state.classes.get(part.classId)?.queue.removeJob(jobId);
  state.jobs.delete(jobId);
  state.dirtyJobs.delete(jobId);
  state.dirtyTasks.delete(jobId);
  state.forgottenJobs.add(jobId);
  return true;
}
