/**
 * Server-side checks of a submit against the state: the open job it adds to, its task ids
 * in that job's id space, its dependencies (in the submit, in the open job, in other jobs)
 * and its `--after` jobs. Each failure is a one-line error naming what is wrong.
 *
 * @module
 */
import {
  idSetCommon,
  idSetHas,
  idSetMax,
  type JobId,
  parseSelector,
  resolveSelector,
} from "../common/mod.ts";
import type { JobSubmit } from "../protocol/mod.ts";
import { getTask, type Job, type ServerState } from "../scheduler/mod.ts";

/** A submit the state refuses (unknown or closed job, reused ids, bad dependencies). */
export class SubmitRefusedError extends RangeError {
  /** `message` names the job, task or selector at fault. */
  constructor(message: string) {
    super(message);
    this.name = "SubmitRefusedError";
  }
}

/**
 * Checks `submit` against the state and returns it ready for `onSubmit` (auto ids shifted
 * past an open job's largest id) with its `--after` jobs resolved.
 *
 * @throws {SubmitRefusedError} When the state refuses it.
 */
export function checkSubmit(
  state: ServerState,
  submit: JobSubmit,
): { submit: JobSubmit; after: JobId[] } {
  let job: Job | undefined;
  if (submit.jobId !== undefined) {
    job = state.jobs.get(submit.jobId);
    if (!job) throw new SubmitRefusedError(`Job ${submit.jobId} not found`);
    if (!job.open) throw new SubmitRefusedError(`Job ${submit.jobId} is not open`);
    const max = idSetMax(job.ids);
    if (submit.autoIds && max !== undefined) submit = shiftIds(submit, max + 1);
    const common = idSetCommon(job.ids, submit.ids);
    if (common !== undefined) {
      throw new SubmitRefusedError(`Task ${common} already exists in job ${submit.jobId}`);
    }
  }
  checkGraphDeps(state, submit, job);
  const after = resolveAfter(state, submit.after);
  if (submit.jobId !== undefined && after.includes(submit.jobId)) {
    throw new SubmitRefusedError(`Job ${submit.jobId} cannot wait for itself (--after)`);
  }
  return { submit, after };
}

function shiftIds(submit: JobSubmit, by: number): JobSubmit {
  const ids = submit.ids.map((r) => ({ start: r.start + by, end: r.end + by }));
  if (ids.some((r) => r.end > 0xffffffff)) {
    throw new SubmitRefusedError("Task ids of the open job would exceed 4294967295");
  }
  const graph = submit.graph && {
    templates: submit.graph.templates,
    tasks: submit.graph.tasks.map((t) => ({
      ...t,
      id: t.id + by,
      deps: t.deps.map((d) => d + by),
    })),
  };
  return { ...submit, ids, ...(graph ? { graph } : {}) };
}

/**
 * Dependencies must name tasks defined before them: earlier in the submit's (topologically
 * sorted) graph, already in the open job, or in an existing other job. This also rules out
 * cycles.
 */
function checkGraphDeps(state: ServerState, submit: JobSubmit, job: Job | undefined): void {
  if (!submit.graph) return;
  const seen = new Set<number>();
  for (const task of submit.graph.tasks) {
    for (const dep of task.deps) {
      if (dep === task.id) {
        throw new SubmitRefusedError(`Task ${task.id} depends on itself`);
      }
      if (!seen.has(dep) && !(job && idSetHas(job.ids, dep))) {
        throw new SubmitRefusedError(
          `Task ${task.id} depends on task ${dep}, which is not defined before it`,
        );
      }
    }
    for (const dep of task.externalDeps ?? []) {
      const other = state.jobs.get(dep.jobId);
      if (!other) {
        throw new SubmitRefusedError(
          `Task ${task.id} depends on task ${dep.jobId}:${dep.id}, but job ${dep.jobId} does not exist`,
        );
      }
      if (getTask(other, dep.id) === undefined) {
        throw new SubmitRefusedError(
          `Task ${task.id} depends on task ${dep.jobId}:${dep.id}, which does not exist`,
        );
      }
    }
    seen.add(task.id);
  }
}

function resolveAfter(state: ServerState, selector: string | undefined): JobId[] {
  if (selector === undefined) return [];
  let sel;
  try {
    sel = parseSelector(selector);
  } catch (e) {
    throw new SubmitRefusedError(`Invalid --after selector "${selector}": ${(e as Error).message}`);
  }
  const existing = [...state.jobs.keys()].sort((a, b) => a - b);
  const ids = resolveSelector(sel, existing);
  if (sel.kind === "ids") {
    for (const r of sel.ids) {
      for (let id = r.start; id <= r.end && id - r.start < 10_000; id++) {
        if (!state.jobs.has(id)) throw new SubmitRefusedError(`Job ${id} (--after) not found`);
      }
    }
  }
  if (ids.length === 0) throw new SubmitRefusedError(`No job matches --after "${selector}"`);
  return ids;
}
