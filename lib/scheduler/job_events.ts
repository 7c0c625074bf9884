/**
 * Reactors of jobs as a whole: a submit (a new job, or tasks added to an open job), `job
 * open` and `job close`, and the settling of what depends on ended tasks and completed jobs
 * (dependencies, `--after`), through the hooks {@link wireHooks} gives `submits.ts`.
 *
 * @module
 */
import { idSetIterate, idSetSize, type JobId } from "../common/mod.ts";
import type { JobSubmit } from "../protocol/mod.ts";
import {
  getTask,
  isJobComplete,
  type Job,
  type JobPart,
  materializeTask,
  partOf,
  type ServerState,
} from "./state.ts";
import {
  addSubmitTasks,
  newJob,
  onJobCompleted,
  onTaskEnded,
  type WireHooks,
  wireSubmit,
} from "./submits.ts";
import { setTaskState } from "./reactor.ts";

/**
 * Adds a validated submit as a new job, or to the open job it names; returns the job id.
 * The caller has validated `submit` (ids new to the job, dependencies known) and resolved
 * its `--after` jobs.
 */
export function onSubmit(
  state: ServerState,
  submit: JobSubmit,
  now: number,
  after: JobId[] = [],
): JobId {
  let job = submit.jobId === undefined ? undefined : state.jobs.get(submit.jobId);
  if (!job) {
    job = newJob(state.nextJobId++, submit.name, submit.maxFails, now, false);
    state.dirtyMeta = true;
    state.jobs.set(job.id, job);
  }
  const index = addSubmitTasks(state, job, { submittedAt: now, job: submit, after });
  state.newSubmits.push({ jobId: job.id, index });
  state.dirtyJobs.add(job.id);
  wireSubmit(state, job, index, wireHooks(state, now));
  settleEnds(state, now);
  return job.id;
}

/** Creates an empty open job (`job open`); returns its id. */
export function onJobOpen(
  state: ServerState,
  name: string,
  maxFails: number | null,
  now: number,
): JobId {
  const job = newJob(state.nextJobId++, name, maxFails, now, true);
  state.dirtyMeta = true;
  state.jobs.set(job.id, job);
  state.dirtyJobs.add(job.id);
  return job.id;
}

/** Closes an open job; it completes now when all its tasks have. */
export function onJobClose(state: ServerState, job: Job, now: number): void {
  job.open = false;
  state.dirtyJobs.add(job.id);
  if (isJobComplete(job)) {
    job.completedAt = now;
    if (state.afterWaiters.has(job.id)) state.pendingEnds.completed.push(job.id);
    settleEnds(state, now);
  }
}

/** The hooks through which dependencies make tasks ready or abort them. */
export function wireHooks(state: ServerState, now: number): WireHooks {
  return {
    ready(job, taskId) {
      const part = partOf(job, taskId);
      const queue = state.classes.get(part.classId)!.queue;
      queue.count(part.template.priority, 1);
      queue.push(job.id, part.template.priority, taskId);
      state.changedClasses.add(part.classId);
      state.needsSchedule = true;
    },
    readyPart(job, part) {
      const n = waitingInPart(job, part);
      if (n === 0) return;
      const queue = state.classes.get(part.classId)!.queue;
      queue.count(part.template.priority, n);
      queue.addJob(job.id, part.template.priority, part.ids);
      state.changedClasses.add(part.classId);
      state.needsSchedule = true;
    },
    abort(job, taskId, error) {
      const task = materializeTask(job, taskId);
      task.error = error;
      setTaskState(state, job, taskId, task, "aborted", now);
    },
  };
}

function waitingInPart(job: Job, part: JobPart): number {
  if (job.parts.length === 1) return job.counts.waiting;
  const size = idSetSize(part.ids);
  let n = size;
  // The smaller side is walked: a new submit to an open job with many records looks at its
  // own ids only.
  if (size < job.tasks.size) {
    for (const id of idSetIterate(part.ids)) {
      const task = job.tasks.get(id);
      if (task && task.state !== "waiting") n--;
    }
  } else {
    for (const [id, task] of job.tasks) {
      if (task.state !== "waiting" && partOf(job, id) === part) n--;
    }
  }
  return n;
}

/** Settles dependents of ended tasks and waiters of completed jobs, iteratively (chains are long). */
export function settleEnds(state: ServerState, now: number): void {
  const pending = state.pendingEnds;
  if (pending.settling) return;
  pending.settling = true;
  try {
    const hooks = wireHooks(state, now);
    for (;;) {
      const ended = pending.ended.pop();
      if (ended) {
        const job = state.jobs.get(ended.jobId);
        const task = job && getTask(job, ended.taskId);
        if (task) onTaskEnded(state, job, ended.taskId, task.state === "finished", hooks);
        continue;
      }
      const completed = pending.completed.pop();
      if (completed === undefined) break;
      const job = state.jobs.get(completed);
      if (job) onJobCompleted(state, job, hooks);
    }
  } finally {
    pending.settling = false;
  }
}
