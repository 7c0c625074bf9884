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
  type IdSet,
  idSetIntersect,
  type TaskId,
  type WorkerId,
} from "../common/mod.ts";
import {
  JOB_DETAIL_SHOWN,
  type JobDetailView,
  type JobInfoView,
  type TaskDescView,
  type TaskPathsView,
  type TaskStateName,
  type TaskStatsView,
  type TaskTemplate,
  type TaskView,
  type TaskWorkerView,
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

/** Resolves the paths of one task instance, with the stream its job's output goes to. */
export type TaskPathsOf = (taskId: TaskId, instance: number) => TaskPathsView;

/** The resolver of a job's task paths (compiled once per part of the job). */
export function jobTaskPaths(state: ServerState, job: Job): TaskPathsOf {
  const resolvers = new Map<JobPart, TaskPathsOf>();
  return (taskId, instance) => {
    const part = partOf(job, taskId);
    let resolve = resolvers.get(part);
    if (!resolve) {
      const program = part.template.program;
      const resolved = compileTaskPaths(
        {
          cwd: program.cwd,
          stdout: program.stdout?.path ?? null,
          stderr: program.stderr?.path ?? null,
        },
        { jobId: job.id, submitDir: part.submitDir, serverUid: state.serverUid },
      );
      const stream = program.stream;
      resolve = stream === undefined ? resolved : (t, i) => ({ ...resolved(t, i), stream });
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
  paths: TaskPathsOf,
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
    stream: t.program.stream ?? null,
  };
}

/** What {@link taskPage} looks at. */
export interface TaskPageOptions {
  /** Only these ids (null: all of the job's). */
  taskIds: IdSet | null;
  /** Only tasks in these states (null: any). */
  states: readonly TaskStateName[] | null;
  /** Start after this id (null: from the first). */
  after: TaskId | null;
  /** Most tasks to return. */
  limit: number;
  /** Most ids to look at (a filter that rarely matches still ends a page soon). */
  scan: number;
}

/** A page of a job's tasks: the views, the last id looked at, how many, and whether all were. */
export interface TaskPage {
  views: TaskView[];
  last: TaskId | null;
  scanned: number;
  done: boolean;
}

/** A page of a job's tasks in ascending id order (see {@link TaskPageOptions}). */
export function taskPage(state: ServerState, job: Job, o: TaskPageOptions): TaskPage {
  const views: TaskView[] = [];
  const paths = jobTaskPaths(state, job);
  const wanted = o.states ? new Set(o.states) : null;
  let scanned = 0;
  let last: TaskId | null = null;
  for (const r of o.taskIds ? idSetIntersect(job.ids, o.taskIds) : job.ids) {
    for (let id = Math.max(r.start, (o.after ?? -1) + 1); id <= r.end; id++) {
      if (views.length >= o.limit || scanned >= o.scan) {
        return { views, last, scanned, done: false };
      }
      scanned++;
      last = id;
      const task = job.tasks.get(id);
      if (wanted && !wanted.has(task ? userState(task.state) : "waiting")) continue;
      views.push(taskView(state, job, id, task ?? pristineTask(), paths));
    }
  }
  return { views, last, scanned, done: true };
}

/**
 * `job info` view of a job: its tasks summed up (workers, the first failed and aborted
 * ones), from the records of tasks that ever left the queue; pristine tasks need no look.
 */
export function jobDetailView(state: ServerState, job: Job): JobDetailView {
  const workerIds = new Set<WorkerId>();
  const failed: TaskId[] = [];
  const aborted: TaskId[] = [];
  for (const [id, task] of job.tasks.entries()) {
    const visible = userState(task.state);
    if (task.startedAt !== null && visible !== "waiting") {
      for (const w of taskWorkers(state, task)) workerIds.add(w.id);
    }
    if (visible === "failed") failed.push(id);
    else if (visible === "aborted" && task.error !== null) aborted.push(id);
  }
  const paths = jobTaskPaths(state, job);
  const firstViews = (ids: TaskId[]) =>
    ids.sort((a, b) => a - b).slice(0, JOB_DETAIL_SHOWN).map((id) =>
      taskView(state, job, id, job.tasks.get(id)!, paths)
    );
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
    workers: [...workerIds].sort((a, b) => a - b).map((id) => ({
      id,
      hostname: state.workers.get(id)?.config.hostname ?? null,
    })),
    failed: firstViews(failed),
    aborted: firstViews(aborted),
    aborted_count: aborted.length,
  };
}
