/**
 * Answers to read-only client requests, computed from the server state as
 * plain data (`lib/scheduler/views.ts`); the client shapes them into
 * HyperQueue's outputs.
 *
 * @module
 */
import { type JobId, parseSelector, resolveSelector } from "../common/mod.ts";
import { areTasksDone, getTask, isJobComplete, type ServerState } from "../scheduler/mod.ts";
import { jobDetailView, jobInfoView, taskPage } from "./views.ts";
import {
  type ExplainView,
  type FromClientMsg,
  type JobDetailView,
  type JobInfoView,
  type PackedTaskView,
  packTaskView,
  type TaskPageView,
  type WorkerView,
} from "../protocol/mod.ts";
import { explainView, workerViews } from "./worker_views.ts";

/** Job ids picked by a selector text, among existing jobs. @throws {SyntaxError|RangeError} */
export function selectJobs(state: ServerState, selector: string): JobId[] {
  const ids = [...state.jobs.keys()].sort((a, b) => a - b);
  return resolveSelector(parseSelector(selector), ids);
}

/** Worker ids picked by a selector text, among known workers. */
export function selectWorkers(state: ServerState, selector: string): number[] {
  const ids = [...state.workers.keys()].sort((a, b) => a - b);
  return resolveSelector(parseSelector(selector), ids);
}

/** `job list` data: all jobs by id (the client filters and counts them). */
export function jobListData(state: ServerState): JobInfoView[] {
  return [...state.jobs.values()].sort((a, b) => a.id - b.id).map(jobInfoView);
}

/** `job info` data: the selected jobs with all their tasks. */
export function jobInfoData(state: ServerState, selector: string): JobDetailView[] {
  return selectJobs(state, selector).map((id) => jobDetailView(state, state.jobs.get(id)!));
}

/** Most task ids one `taskList` page looks at: a page never holds the server up for long. */
export const TASK_PAGE_SCAN = 200_000;

/**
 * One page of `task list` / `task info` / `job info` tasks (see the `taskList` request): the
 * selected jobs in id order from the cursor on, at most `limit` tasks and
 * {@link TASK_PAGE_SCAN} ids looked at. Every job the page reached is a key, even without a
 * matching task.
 */
export function taskListData(
  state: ServerState,
  msg: Extract<FromClientMsg, { kind: "taskList" }>,
): TaskPageView {
  const tasks: Record<string, PackedTaskView[]> = {};
  let limit = msg.limit;
  let scan = TASK_PAGE_SCAN;
  let previous: JobId | null = null;
  for (const id of selectJobs(state, msg.selector)) {
    if (msg.after && id < msg.after.job) continue;
    if (limit <= 0 || scan <= 0) {
      return { tasks, next: { job: previous!, task: Number.MAX_SAFE_INTEGER } };
    }
    const page = taskPage(state, state.jobs.get(id)!, {
      taskIds: msg.taskIds,
      states: msg.states,
      after: msg.after?.job === id ? msg.after.task : null,
      limit,
      scan,
    });
    tasks[String(id)] = page.views.map(packTaskView);
    if (!page.done) return { tasks, next: { job: id, task: page.last! } };
    limit -= page.views.length;
    scan -= page.scanned;
    previous = id;
  }
  return { tasks, next: null };
}

/** Whether every selected job is complete. */
export function jobsComplete(
  state: ServerState,
  jobIds: readonly JobId[],
  withoutClose = false,
): boolean {
  return jobIds.every((id) => {
    const job = state.jobs.get(id);
    return !job || (withoutClose ? areTasksDone(job) : isJobComplete(job));
  });
}

/** `worker list` / `worker info` data: every worker by id (the client filters). */
export function workerListData(state: ServerState): WorkerView[] {
  return workerViews(state);
}

/**
 * `task explain` data for one task of one job at time `now`.
 *
 * @throws {RangeError} When the selector does not pick one job, or the task is not in it.
 */
export function taskExplainData(
  state: ServerState,
  selector: string,
  taskId: number,
  now: number,
): ExplainView {
  const ids = selectJobs(state, selector);
  if (ids.length !== 1) throw new RangeError(`Job ${selector} not found`);
  const job = state.jobs.get(ids[0]!)!;
  if (!getTask(job, taskId)) throw new RangeError(`Task ${taskId} not found in job ${job.id}`);
  return explainView(state, job, taskId, now);
}
