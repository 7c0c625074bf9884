/**
 * Read-only views of the server state: the plain data the server sends to
 * clients for `job list/info`, `task list/info` (and `task explain`, `worker
 * list/info`: see `worker_views.ts`). They carry everything HyperQueue's
 * outputs show, in raw form: times in ms since the epoch, durations in ms,
 * resource amounts in fixed point (1/10000). The client turns them into
 * HyperQueue's JSON documents (`lib/cli/hq_json.ts`) or tables
 * (`lib/cli/render.ts`).
 *
 * Times come from the server's clock, except a task's start and end, which
 * the worker reports with its own clock.
 *
 * @module
 */
import {
  compileTaskPaths,
  idSetIterate,
  type TaskId,
  type TaskPathResolver,
} from "../common/mod.ts";
import type {
  JobDetailView,
  JobInfoView,
  TaskDescView,
  TaskStateName,
  TaskStatsView,
  TaskTemplate,
  TaskView,
  TaskWorkerView,
} from "../protocol/mod.ts";
import { requestWeight } from "../resources/mod.ts";
import {
  type Job,
  type JobPart,
  partOf,
  pristineTask,
  type ServerState,
  type TaskRecord,
  type TaskState,
} from "../scheduler/mod.ts";

/** User-visible state name of a task state. */
export function userState(state: TaskState): TaskStateName {
  return state === "assigned" ? "waiting" : state;
}

/** Counts in HyperQueue's shape (assigned tasks count as waiting). */
export function taskStats(job: Job): TaskStatsView {
  const c = job.counts;
  return {
    running: c.running,
    finished: c.finished,
    failed: c.failed,
    canceled: c.canceled,
    aborted: c.aborted,
    waiting: c.waiting + c.assigned,
  };
}

/** `job list` view of one job. */
export function jobInfoView(job: Job): JobInfoView {
  return {
    id: job.id,
    name: job.name,
    task_count: job.size,
    is_open: job.open,
    task_stats: taskStats(job),
    cancel_reason: job.cancelReason,
  };
}

function taskWorkers(state: ServerState, task: TaskRecord): TaskWorkerView[] {
  if (task.workerId === null) return [];
  const root = state.workers.get(task.workerId);
  const run = root?.multiNode;
  const ids = run && run.record === task ? run.nodes : [task.workerId];
  return ids.map((id) => ({ id, hostname: state.workers.get(id)?.config.hostname ?? null }));
}

/** The resolver of a job's task paths (compiled once per part of the job). */
export function jobTaskPaths(state: ServerState, job: Job): TaskPathResolver {
  const resolvers = new Map<JobPart, TaskPathResolver>();
  return (taskId, instance) => {
    const part = partOf(job, taskId);
    let resolve = resolvers.get(part);
    if (!resolve) {
      const program = part.template.program;
      resolve = compileTaskPaths(
        {
          cwd: program.cwd,
          stdout: program.stdout?.path ?? null,
          stderr: program.stderr?.path ?? null,
        },
        { jobId: job.id, submitDir: part.submitDir, serverUid: state.serverUid },
      );
      resolvers.set(part, resolve);
    }
    return resolve(taskId, instance);
  };
}

/** One task as clients see it; `paths` resolves its paths (see {@link jobTaskPaths}). */
export function taskView(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  task: TaskRecord,
  paths: TaskPathResolver,
): TaskView {
  const visible = userState(task.state);
  const started = task.startedAt !== null && visible !== "waiting";
  const deps = job.deps.get(taskId);
  return {
    id: taskId,
    state: visible,
    instance: task.instance,
    crash_count: task.crashCount,
    started_at: started ? task.startedAt : null,
    finished_at: visible === "waiting" || visible === "running" ? null : task.finishedAt,
    workers: started ? taskWorkers(state, task) : [],
    paths: started ? paths(taskId, task.instance) : null,
    error: visible === "failed" || visible === "aborted" ? task.error : null,
    ...(deps
      ? { deps: deps.map((d) => d.jobId === job.id ? `${d.taskId}` : `${d.jobId}:${d.taskId}`) }
      : {}),
  };
}

/** Task description view of a template. */
export function taskDescView(t: TaskTemplate): TaskDescView {
  return {
    program: {
      args: t.program.args,
      env: t.program.env,
      cwd: t.program.cwd,
      stdout: t.program.stdout?.path ?? null,
      stderr: t.program.stderr?.path ?? null,
    },
    requests: t.requests.map((rq) => ({
      n_nodes: rq.nNodes ?? 0,
      min_time_ms: rq.minTimeMs,
      weight: requestWeight(rq),
      entries: rq.entries.map((e) => ({
        resource: e.resource,
        amount: e.amount,
        policy: e.policy,
      })),
    })),
    pin_mode: t.pin,
    priority: t.priority,
    time_limit_ms: t.timeLimitMs,
    task_dir: t.taskDir ?? false,
    crash_limit: t.crashLimit,
  };
}

/** Tasks of a job in ascending id order, optionally only those `only` accepts. */
export function taskViews(
  state: ServerState,
  job: Job,
  only: ((id: TaskId) => boolean) | null,
): TaskView[] {
  const views: TaskView[] = [];
  const paths = jobTaskPaths(state, job);
  for (const taskId of idSetIterate(job.ids)) {
    if (only && !only(taskId)) continue;
    views.push(taskView(state, job, taskId, job.tasks.get(taskId) ?? pristineTask(), paths));
  }
  return views;
}

/** `job info` view of a job, with all its tasks. */
export function jobDetailView(state: ServerState, job: Job): JobDetailView {
  return {
    info: jobInfoView(job),
    max_fails: job.maxFails,
    submitted_at: job.submittedAt,
    completed_at: job.completedAt,
    submits: job.parts.map((part) => ({
      ids: part.ids.map((r) => ({ start: r.start, end: r.end })),
      submit_dir: part.submitDir,
      task_desc: taskDescView(part.template),
    })),
    tasks: taskViews(state, job, null),
  };
}
