/**
 * Answers to read-only client requests, computed from the server state.
 *
 * @module
 */
import type { JobId } from "../ids.ts";
import { parseSelector, resolveSelector } from "../cli/selector.ts";
import { type IdRange, idSetHas } from "../cli/id_set.ts";
import type { ServerState } from "../scheduler/state.ts";
import { getTask, isJobComplete } from "../scheduler/state.ts";
import { explainTask } from "../scheduler/explain.ts";
import {
  type ExplainView,
  type JobDetailView,
  jobDetailView,
  type JobInfoView,
  jobInfoView,
  type TaskView,
  taskViews,
  userState,
  workerViews,
} from "../scheduler/views.ts";

/** Job ids picked by a selector text. @throws {SyntaxError|RangeError} */
export function selectJobs(state: ServerState, selector: string): JobId[] {
  const ids = [...state.jobs.keys()].sort((a, b) => a - b);
  return resolveSelector(parseSelector(selector), ids);
}

/** Worker ids picked by a selector text. */
export function selectWorkers(state: ServerState, selector: string): number[] {
  const ids = [...state.workers.keys()].sort((a, b) => a - b);
  return resolveSelector(parseSelector(selector), ids);
}

/** `job list` data: all jobs (the client filters). */
export function jobListData(state: ServerState): JobInfoView[] {
  return [...state.jobs.values()].sort((a, b) => a.id - b.id).map(jobInfoView);
}

/** `job info` data. */
export function jobInfoData(state: ServerState, selector: string): JobDetailView[] {
  return selectJobs(state, selector).map((id) => jobDetailView(state.jobs.get(id)!));
}

/** `task list` data keyed by job id. */
export function taskListData(
  state: ServerState,
  selector: string,
  taskIds: IdRange[] | null,
): Record<string, TaskView[]> {
  const result: Record<string, TaskView[]> = {};
  for (const id of selectJobs(state, selector)) {
    const job = state.jobs.get(id)!;
    result[String(id)] = taskViews(job, taskIds ? (t) => idSetHas(taskIds, t) : null);
  }
  return result;
}

/** Whether every selected job is complete. */
export function jobsComplete(state: ServerState, jobIds: readonly JobId[]): boolean {
  return jobIds.every((id) => {
    const job = state.jobs.get(id);
    return !job || isJobComplete(job);
  });
}

/** `worker list` data. */
export function workerListData(state: ServerState): ReturnType<typeof workerViews> {
  return workerViews(state);
}

/** `task explain` data for one task of one job. @throws {RangeError} When either is missing. */
export function taskExplainData(
  state: ServerState,
  selector: string,
  taskId: number,
  now: number,
): ExplainView {
  const ids = selectJobs(state, selector);
  if (ids.length !== 1) throw new RangeError(`Job ${selector} not found or not a single job`);
  const job = state.jobs.get(ids[0]!)!;
  const task = getTask(job, taskId);
  if (!task) throw new RangeError(`Task ${taskId} not found in job ${job.id}`);
  const e = explainTask(state, job, now);
  return {
    job_id: job.id,
    task_id: taskId,
    state: userState(task.state),
    n_waiting_deps: e.waitingDeps,
    n_deps: e.totalDeps,
    workers: e.workers.map((w) => ({
      worker_id: w.workerId,
      runnable: w.runnable,
      variants: w.variants.map((v) => ({ variant: v.variant, blockers: v.blockers })),
    })),
  };
}
