/**
 * How submits become a job's tasks: parts (tasks sharing a definition), the task-id space
 * of open jobs, dependencies between tasks and jobs waiting for other jobs (`--after`).
 *
 * A submit is added in two steps: {@link addSubmitTasks} creates its parts and counts its
 * tasks as waiting; {@link wireSubmit} then links its dependencies and queues the tasks
 * that are ready. A restored server runs the first step for every job, applies the
 * journaled task records, and only then wires, so that dependencies see restored states.
 *
 * @module
 */
import {
  type IdSet,
  idSetFromIds,
  idSetIterate,
  idSetSize,
  idSetUnion,
  type JobId,
  type TaskId,
} from "../common/mod.ts";
import type { JobSubmit } from "../protocol/mod.ts";
import {
  getTask,
  isTerminal,
  type Job,
  type JobPart,
  partOf,
  type ServerState,
  type StoredSubmit,
  type TaskLink,
} from "./state.ts";
import { TaskTable } from "./task_table.ts";
import { ensureClass } from "./reactor.ts";

/** A new job without tasks (`job open`, or before its first submit). */
export function newJob(
  id: JobId,
  name: string,
  maxFails: number | null,
  now: number,
  open: boolean,
): Job {
  return {
    id,
    name,
    submittedAt: now,
    maxFails,
    parts: [],
    partOf: null,
    submits: [],
    open,
    ids: [],
    size: 0,
    tasks: new TaskTable([]),
    counts: {
      waiting: 0,
      assigned: 0,
      running: 0,
      finished: 0,
      failed: 0,
      canceled: 0,
      aborted: 0,
    },
    cancelReason: null,
    completedAt: null,
    deps: new Map(),
    blocked: new Map(),
    dependents: new Map(),
  };
}

/**
 * Adds a submit's parts and ids to a job and counts its tasks as waiting; nothing is queued
 * yet (see {@link wireSubmit}). The caller has checked that the ids are new to the job.
 * Returns the submit's index.
 */
export function addSubmitTasks(state: ServerState, job: Job, stored: StoredSubmit): number {
  const index = job.submits.length;
  const submit = stored.job;
  job.submits.push(stored);
  const first = job.parts.length;
  if (submit.graph) {
    const partByTemplate = new Map<number, number>();
    const idsByPart: number[][] = [];
    for (const task of submit.graph.tasks) {
      let p = partByTemplate.get(task.template);
      if (p === undefined) {
        p = job.parts.length;
        partByTemplate.set(task.template, p);
        job.parts.push(newPart(state, submit, submit.graph.templates[task.template]!, [], index));
        idsByPart.push([]);
      }
      idsByPart[p - first]!.push(task.id);
    }
    idsByPart.forEach((ids, i) => {
      job.parts[first + i]!.ids = idSetFromIds(ids);
    });
  } else {
    const part = newPart(state, submit, submit.template, submit.ids, index);
    part.entries = submit.entries ?? null;
    job.parts.push(part);
  }
  for (const id of stored.after) job.parts.slice(first).forEach((p) => p.after.add(id));
  if (job.parts.length > 1) {
    if (job.partOf === null) {
      job.partOf = new Map();
      for (const id of idSetIterate(job.ids)) job.partOf.set(id, 0);
    }
    for (let p = first; p < job.parts.length; p++) {
      for (const id of idSetIterate(job.parts[p]!.ids)) job.partOf.set(id, p);
    }
  }
  const wasEmpty = job.size === 0 && job.submits.length === 1 && !job.open;
  job.ids = job.ids.length === 0 ? submit.ids : idSetUnion(job.ids, submit.ids);
  const n = idSetSize(submit.ids);
  job.size += n;
  job.counts.waiting += n;
  // A plain array keeps the dense task table; a job that grows needs the map form.
  if (wasEmpty) job.tasks = new TaskTable(job.ids);
  else if (job.tasks.isDense) job.tasks = job.tasks.toMapForm();
  job.completedAt = null;
  return index;
}

function newPart(
  state: ServerState,
  submit: JobSubmit,
  template: JobSubmit["template"],
  ids: IdSet,
  index: number,
): JobPart {
  const cls = ensureClass(state, template.requests);
  return {
    template,
    classId: cls.id,
    submitDir: submit.submitDir,
    ids,
    entries: null,
    after: new Set(),
    submit: index,
  };
}

/** What {@link wireSubmit} asks its caller to do with tasks it cannot settle itself. */
export interface WireHooks {
  /** Queues a waiting task that became ready. */
  ready(job: Job, taskId: TaskId): void;
  /** Queues every waiting task of a part at once (no task of it is blocked). */
  readyPart(job: Job, part: JobPart): void;
  /** Aborts a waiting task whose dependency ended without finishing. */
  abort(job: Job, taskId: TaskId, error: string): void;
}

/**
 * Links a submit's dependencies (its graph's, and `--after` jobs) and hands its ready
 * waiting tasks to `hooks`. Dependencies already finished do not block; one already
 * failed, canceled or aborted aborts the task at once.
 */
export function wireSubmit(state: ServerState, job: Job, index: number, hooks: WireHooks): void {
  const stored = job.submits[index]!;
  const parts = job.parts.filter((p) => p.submit === index);
  for (const after of stored.after) {
    const waiting = state.jobs.get(after);
    if (!waiting || waiting.completedAt !== null) {
      // Aborted while still gated, so that they are not counted as ready tasks.
      const failed = waiting ? jobFailure(waiting) : null;
      if (failed) { for (const p of parts) abortPart(job, p, `Job ${after} ${failed}`, hooks); }
      for (const p of parts) p.after.delete(after);
      continue;
    }
    const list = state.afterWaiters.get(after) ?? [];
    if (!list.includes(job.id)) list.push(job.id);
    state.afterWaiters.set(after, list);
  }
  const graph = stored.job.graph;
  const aborted = new Map<TaskId, string>();
  if (graph) {
    for (const task of graph.tasks) {
      const links: TaskLink[] = [
        ...task.deps.map((taskId) => ({ jobId: job.id, taskId })),
        ...(task.externalDeps ?? []).map((d) => ({ jobId: d.jobId, taskId: d.id })),
      ];
      if (links.length === 0) continue;
      job.deps.set(task.id, links);
      const record = getTask(job, task.id)!;
      if (isTerminal(record.state)) continue;
      let open = 0;
      for (const link of links) {
        const depJob = state.jobs.get(link.jobId);
        const dep = depJob && getTask(depJob, link.taskId);
        if (dep?.state === "finished") continue;
        if (!dep || isTerminal(dep.state)) {
          aborted.set(task.id, dependencyError(job.id, link, dep?.state ?? "forgotten"));
          continue;
        }
        open++;
        let list = depJob.dependents.get(link.taskId);
        if (!list) depJob.dependents.set(link.taskId, list = []);
        list.push({ jobId: job.id, taskId: task.id });
      }
      // A task to abort stays blocked until then, so that it is not queued first.
      if (aborted.has(task.id)) job.blocked.set(task.id, open + 1);
      else if (open > 0) job.blocked.set(task.id, open);
    }
  }
  for (const part of parts) if (part.after.size === 0) releasePart(job, part, hooks);
  for (const [taskId, error] of aborted) {
    if (getTask(job, taskId)!.state === "waiting") hooks.abort(job, taskId, error);
  }
}

/** Hands the ready waiting tasks of a part whose `--after` jobs all completed to `hooks`. */
export function releasePart(job: Job, part: JobPart, hooks: WireHooks): void {
  if (job.blocked.size === 0) {
    hooks.readyPart(job, part);
    return;
  }
  for (const taskId of idSetIterate(part.ids)) {
    if (!job.blocked.has(taskId) && getTask(job, taskId)!.state === "waiting") {
      hooks.ready(job, taskId);
    }
  }
}

function abortPart(job: Job, part: JobPart, error: string, hooks: WireHooks): void {
  for (const taskId of idSetIterate(part.ids)) {
    if (getTask(job, taskId)!.state === "waiting") hooks.abort(job, taskId, error);
  }
}

/** Why a completed job does not let its waiters run, or null when all its tasks finished. */
export function jobFailure(job: Job): string | null {
  if (job.counts.failed > 0) return "failed";
  if (job.counts.canceled > 0) return "was canceled";
  if (job.counts.aborted > 0) return "was aborted";
  return null;
}

/** The error of a task aborted because `dep` ended in `state`. */
export function dependencyError(jobId: JobId, dep: TaskLink, state: string): string {
  const name = dep.jobId === jobId ? `task ${dep.taskId}` : `task ${dep.jobId}:${dep.taskId}`;
  const how = state === "failed" ? "failed" : state === "forgotten" ? "is unknown" : `was ${state}`;
  return `Dependency ${name} ${how}`;
}

/**
 * Settles what depends on a task that just ended: a finished task unblocks its dependents
 * (handing those now ready to `hooks.ready`); any other end aborts them (their own
 * dependents follow when `hooks.abort` ends them, which also drops them from `blocked`).
 */
export function onTaskEnded(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  finished: boolean,
  hooks: WireHooks,
): void {
  const list = job.dependents.get(taskId);
  if (!list) return;
  job.dependents.delete(taskId);
  const endState = getTask(job, taskId)!.state;
  for (const link of list) {
    const dependent = state.jobs.get(link.jobId);
    if (!dependent || getTask(dependent, link.taskId)?.state !== "waiting") continue;
    if (!finished) {
      hooks.abort(
        dependent,
        link.taskId,
        dependencyError(dependent.id, { jobId: job.id, taskId }, endState),
      );
      continue;
    }
    const left = (dependent.blocked.get(link.taskId) ?? 1) - 1;
    if (left > 0) {
      dependent.blocked.set(link.taskId, left);
      continue;
    }
    dependent.blocked.delete(link.taskId);
    if (partOf(dependent, link.taskId).after.size === 0) hooks.ready(dependent, link.taskId);
  }
}

/**
 * Releases (or, when `job` did not finish every task, aborts) the tasks of jobs that waited
 * for `job` to complete.
 */
export function onJobCompleted(state: ServerState, job: Job, hooks: WireHooks): void {
  const waiters = state.afterWaiters.get(job.id);
  if (!waiters) return;
  state.afterWaiters.delete(job.id);
  const failure = jobFailure(job);
  for (const waiterId of waiters) {
    const waiter = state.jobs.get(waiterId);
    if (!waiter) continue;
    for (const part of waiter.parts) {
      if (!part.after.has(job.id)) continue;
      if (failure) abortPart(waiter, part, `Job ${job.id} ${failure}`, hooks);
      part.after.delete(job.id);
      if (!failure && part.after.size === 0) releasePart(waiter, part, hooks);
    }
  }
}
