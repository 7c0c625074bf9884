// deno-lint-ignore-file camelcase -- HyperQueue's JSON field names are snake_case
/**
 * Read-only views of the server state in HyperQueue's JSON shapes; clients
 * print them as JSON or render them as tables.
 *
 * @module
 */
import type { JobId, TaskId } from "../ids.ts";
import type { StdioSpec, TaskTemplate } from "../fsproto/messages.ts";
import { formatRequestAmount } from "../resources/request.ts";
import type { PoolKind } from "../resources/descriptor.ts";
import type { ExplainBlocker } from "./explain.ts";
import { formatIdSet, type IdRange, idSetIterate } from "../cli/id_set.ts";
import {
  type Job,
  pristineTask,
  type ServerState,
  type TaskRecord,
  type TaskState,
  type WorkerRecord,
} from "./state.ts";

/** Per-state counts as HyperQueue prints them. */
export interface TaskStatsView {
  running: number;
  finished: number;
  failed: number;
  canceled: number;
  aborted: number;
  waiting: number;
}

/** `job list` element. */
export interface JobInfoView {
  id: JobId;
  name: string;
  task_count: number;
  is_open: boolean;
  task_stats: TaskStatsView;
  cancel_reason: string | null;
}

/** Task element of `task list`, `task info` and `job info`. */
export interface TaskView {
  id: TaskId;
  state: "waiting" | "running" | "finished" | "failed" | "canceled" | "aborted";
  instance: number;
  crash_count: number;
  started_at?: string;
  worker?: number;
  finished_at?: string;
  error?: string;
}

/** Task description of a submit. */
export interface TaskDescView {
  program: {
    args: string[];
    env: Record<string, string>;
    cwd: string;
    stdout: string | null;
    stderr: string | null;
  };
  resources: {
    n_nodes: number;
    resources: { resource: string; request: string }[];
    min_time: number;
    weight: number;
  }[];
  pin_mode: string | null;
  priority: number;
  time_limit: number | null;
  task_dir: boolean;
  crash_limit: number | string;
}

/** `job info` element. */
export interface JobDetailView {
  info: JobInfoView;
  max_fails: number | null;
  started_at: string;
  finished_at: string | null;
  submit_dir: string;
  submits: { array: TaskDescView; ids: string }[];
  tasks: TaskView[];
}

/** `worker list` / `worker info` element. */
export interface WorkerView {
  id: number;
  state: string;
  configuration: {
    heartbeat_interval: number;
    idle_timeout: number | null;
    time_limit: number | null;
    work_dir: string;
    hostname: string;
    group: string;
    listen_address: string;
    resources: {
      resources: { name: string; kind: PoolKind; groups?: string[][]; size?: number }[];
      coupling: null;
    };
    on_server_lost: string;
    min_utilization: number;
    process_pid: number;
  };
  allocation: { manager: string; id: string } | null;
  runtime_info: { running_tasks: number; queued_tasks: number };
  last_task_started: string | null;
  started: string;
  ended: { at: string; reason: string } | null;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** User-visible state name of a task state. */
export function userState(state: TaskState): TaskView["state"] {
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
    is_open: false,
    task_stats: taskStats(job),
    cancel_reason: job.cancelReason,
  };
}

/** One task as shown in listings. */
export function taskView(taskId: TaskId, task: TaskRecord): TaskView {
  const view: TaskView = {
    id: taskId,
    state: userState(task.state),
    instance: task.instance,
    crash_count: task.crashCount,
  };
  if (task.startedAt !== null && task.state !== "waiting" && task.state !== "assigned") {
    view.started_at = iso(task.startedAt);
    if (task.workerId !== null) view.worker = task.workerId;
  }
  if (
    task.finishedAt !== null &&
    (task.state === "finished" || task.state === "failed" || task.state === "canceled" ||
      task.state === "aborted")
  ) {
    view.finished_at = iso(task.finishedAt);
  }
  if (task.error !== null && task.state === "failed") view.error = task.error;
  return view;
}

function stdioView(spec: StdioSpec): string | null {
  return spec === null ? null : spec.path;
}

/** Task description view of a template. */
export function taskDescView(t: TaskTemplate): TaskDescView {
  return {
    program: {
      args: t.program.args,
      env: t.program.env,
      cwd: t.program.cwd,
      stdout: stdioView(t.program.stdout),
      stderr: stdioView(t.program.stderr),
    },
    resources: t.requests.map((rq) => ({
      n_nodes: rq.nNodes ?? 0,
      resources: rq.entries.map((e) => ({
        resource: e.resource,
        request: formatRequestAmount(e),
      })),
      min_time: rq.minTimeMs / 1000,
      weight: 1,
    })),
    pin_mode: t.pin,
    priority: t.priority,
    time_limit: t.timeLimitMs === null ? null : t.timeLimitMs / 1000,
    task_dir: false,
    crash_limit: t.crashLimit,
  };
}

/** Tasks of a job, optionally restricted to a set of ids. */
export function taskViews(job: Job, only: ((id: TaskId) => boolean) | null): TaskView[] {
  const views: TaskView[] = [];
  for (const taskId of idSetIterate(job.ids)) {
    if (only && !only(taskId)) continue;
    views.push(taskView(taskId, job.tasks.get(taskId) ?? pristineTask()));
  }
  return views;
}

/** `job info` view. */
export function jobDetailView(job: Job): JobDetailView {
  return {
    info: jobInfoView(job),
    max_fails: job.maxFails,
    started_at: iso(job.submittedAt),
    finished_at: job.completedAt === null ? null : iso(job.completedAt),
    submit_dir: job.submitDir,
    submits: [{ array: taskDescView(job.template), ids: formatIdSet(job.ids as IdRange[]) }],
    tasks: taskViews(job, null),
  };
}

/** `worker list` view. */
export function workerView(worker: WorkerRecord): WorkerView {
  const c = worker.config;
  let running = 0;
  for (const slot of worker.tasks.values()) if (slot.variant !== null) running++;
  return {
    id: worker.id,
    state: worker.state,
    configuration: {
      heartbeat_interval: c.heartbeatMs / 1000,
      idle_timeout: c.idleTimeoutMs === null ? null : c.idleTimeoutMs / 1000,
      time_limit: c.timeLimitMs === null ? null : c.timeLimitMs / 1000,
      work_dir: c.workDir,
      hostname: c.hostname,
      group: c.group,
      listen_address: `${c.hostname}:files`,
      resources: {
        resources: c.resources.map((r) =>
          r.kind === "sum"
            ? { name: r.name, kind: r.kind, size: r.size }
            : { name: r.name, kind: r.kind, groups: r.groups }
        ),
        coupling: null,
      },
      on_server_lost: c.onServerLost,
      min_utilization: c.minUtilization / 10_000,
      process_pid: c.pid,
    },
    allocation: c.manager === null
      ? null
      : { manager: c.manager.kind === "slurm" ? "SLURM" : "PBS", id: c.manager.jobId },
    runtime_info: { running_tasks: running, queued_tasks: worker.tasks.size - running },
    last_task_started: worker.lastTaskStartedAt === null ? null : iso(worker.lastTaskStartedAt),
    started: iso(worker.registeredAt),
    ended: worker.endedAt === null ? null : { at: iso(worker.endedAt), reason: worker.state },
  };
}

/** Workers sorted by id. */
export function workerViews(state: ServerState): WorkerView[] {
  return [...state.workers.values()].sort((a, b) => a.id - b.id).map(workerView);
}

/** JSON shape of `task explain`. */
export interface ExplainView {
  job_id: JobId;
  task_id: number;
  state: string;
  n_waiting_deps: number;
  n_deps: number;
  workers: {
    worker_id: number;
    runnable: boolean;
    variants: { variant: number; blockers: ExplainBlocker[] }[];
  }[];
}
