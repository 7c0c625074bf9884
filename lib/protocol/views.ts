// deno-lint-ignore-file camelcase -- the view fields follow HyperQueue's snake_case names
/**
 * What the server answers to client queries: plain data for `job list/info`,
 * `task list/info/explain` and `worker list/info`, carrying everything
 * HyperQueue's outputs show in raw form (times in ms since the epoch,
 * durations in ms, resource amounts in fixed point, 1/10000). The server
 * builds them from its state (`lib/server`); the client prints them as
 * HyperQueue's JSON documents or tables (`lib/cli`).
 *
 * Times come from the server's clock, except a task's start and end, which
 * the worker reports with its own clock.
 *
 * @module
 */
import {
  assertNever,
  type IdRange,
  type JobId,
  type TaskId,
  type WorkerId,
} from "../common/mod.ts";
import type { AllocationPolicy, ResourcePool } from "../resources/mod.ts";
import type { CrashLimit, StreamSpec, WorkerConfig, WorkerStopReason } from "./messages.ts";

/** A task state as users see it (assigned tasks are waiting). */
export type TaskStateName = "waiting" | "running" | "finished" | "failed" | "canceled" | "aborted";

/** Per-state task counts as HyperQueue prints them. */
export interface TaskStatsView {
  running: number;
  finished: number;
  failed: number;
  canceled: number;
  aborted: number;
  waiting: number;
}

/** `job list` element; also the `info` of a {@link JobDetailView}. */
export interface JobInfoView {
  id: JobId;
  name: string;
  task_count: number;
  /** Whether more tasks may be submitted into the job (open jobs: always false for now). */
  is_open: boolean;
  task_stats: TaskStatsView;
  cancel_reason: string | null;
}

/** A worker a task runs or ran on. */
export interface TaskWorkerView {
  /** Worker id. */
  id: WorkerId;
  /** Its host name, or null when the server no longer knows the worker. */
  hostname: string | null;
}

/**
 * A task's resolved working directory and output paths (`null` output: discarded). A channel
 * that `stream` marks goes to the stream files instead (HyperQueue's pipe).
 */
export interface TaskPathsView {
  cwd: string;
  stdout: string | null;
  stderr: string | null;
  /** Present when the job streams its output (`--stream`). */
  stream?: StreamSpec;
}

/** A task of `task list`, `task info` and `job info`. */
export interface TaskView {
  id: TaskId;
  state: TaskStateName;
  /** Attempt number (HQ_INSTANCE_ID). */
  instance: number;
  /** Worker crashes survived. */
  crash_count: number;
  /** Start of the current attempt (worker clock), when it started. */
  started_at: number | null;
  /** End time of a completed task. */
  finished_at: number | null;
  /** Workers it runs or ran on, root first; empty when it has not started. */
  workers: TaskWorkerView[];
  /** Resolved paths, when it has started. */
  paths: TaskPathsView | null;
  /** Error text of a failed task, or why an aborted one was (a dependency). */
  error: string | null;
  /** Tasks it depends on (`3`, or `7:3` in another job); absent when none. */
  deps?: string[];
}

/** One requested resource of a variant. */
export interface RequestEntryView {
  resource: string;
  /** Amount in 1/10000 (0 for the policy `all`). */
  amount: number;
  policy: AllocationPolicy;
}

/** One resource request variant. */
export interface RequestView {
  /** Whole workers of a multi-node task; 0 for a single-node task. */
  n_nodes: number;
  /** `--time-request` in ms. */
  min_time_ms: number;
  /** Weight in 1/10000 (1.0 is 10000). */
  weight: number;
  entries: RequestEntryView[];
}

/** What every task of a submit shares. */
export interface TaskDescView {
  /** The program with its unresolved path templates (`null` output: discarded). */
  program: {
    args: string[];
    env: Record<string, string>;
    cwd: string;
    stdout: string | null;
    stderr: string | null;
  };
  requests: RequestView[];
  pin_mode: "taskset" | "omp" | null;
  priority: number;
  time_limit_ms: number | null;
  task_dir: boolean;
  crash_limit: CrashLimit;
  /** Where the streamed channels go (`--stream`, resolved); null when nothing is streamed. */
  stream: StreamSpec | null;
}

/** One submit of a job (a job has one submit until open jobs exist). */
export interface SubmitView {
  /** Task ids of the submit. */
  ids: IdRange[];
  /** The client's directory at submission. */
  submit_dir: string;
  task_desc: TaskDescView;
}

/** How many of a job's tasks a {@link JobDetailView} shows in full, per kind. */
export const JOB_DETAIL_SHOWN = 5;

/**
 * `job info` element. It carries no task list, which a million-task job would make huge:
 * what `job info` shows of its tasks comes summed up, the rest from `taskList` pages.
 */
export interface JobDetailView {
  info: JobInfoView;
  max_fails: number | null;
  /** Submission time. */
  submitted_at: number;
  /** When its last task completed, or null while it has tasks to run. */
  completed_at: number | null;
  submits: SubmitView[];
  /** Every worker a task of the job ran or runs on, by id. */
  workers: TaskWorkerView[];
  /** The first {@link JOB_DETAIL_SHOWN} failed tasks by id. */
  failed: TaskView[];
  /** The first {@link JOB_DETAIL_SHOWN} aborted tasks that have a reason, by id. */
  aborted: TaskView[];
  /** How many aborted tasks have a reason. */
  aborted_count: number;
}

/** Where a page of `taskList` ended: the last job and task id looked at. */
export interface TaskCursor {
  job: JobId;
  task: TaskId;
}

/**
 * A {@link TaskView} on the wire of `taskList` pages: members with their default value (the
 * value of a task that never started) left out, so that a page of waiting tasks stays small.
 */
export type PackedTaskView = Pick<TaskView, "id" | "state"> & Partial<TaskView>;

/**
 * Leaves out the members of a task view that hold their default value.
 *
 * @example Usage
 * ```ts
 * import { packTaskView, unpackTaskView } from "./views.ts";
 * import assert from "node:assert/strict";
 * const waiting = {
 *   id: 7,
 *   state: "waiting" as const,
 *   instance: 0,
 *   crash_count: 0,
 *   started_at: null,
 *   finished_at: null,
 *   workers: [],
 *   paths: null,
 *   error: null,
 * };
 * assert.deepEqual(packTaskView(waiting), { id: 7, state: "waiting" });
 * assert.deepEqual(unpackTaskView(packTaskView(waiting)), waiting);
 * ```
 */
export function packTaskView(view: TaskView): PackedTaskView {
  const packed: PackedTaskView = { id: view.id, state: view.state };
  if (view.instance !== 0) packed.instance = view.instance;
  if (view.crash_count !== 0) packed.crash_count = view.crash_count;
  if (view.started_at !== null) packed.started_at = view.started_at;
  if (view.finished_at !== null) packed.finished_at = view.finished_at;
  if (view.workers.length > 0) packed.workers = view.workers;
  if (view.paths !== null) packed.paths = view.paths;
  if (view.error !== null) packed.error = view.error;
  if (view.deps !== undefined) packed.deps = view.deps;
  return packed;
}

/** The task view that {@link packTaskView} packed. */
export function unpackTaskView(packed: PackedTaskView): TaskView {
  const view: TaskView = {
    id: packed.id,
    state: packed.state,
    instance: packed.instance ?? 0,
    crash_count: packed.crash_count ?? 0,
    started_at: packed.started_at ?? null,
    finished_at: packed.finished_at ?? null,
    workers: packed.workers ?? [],
    paths: packed.paths ?? null,
    error: packed.error ?? null,
  };
  if (packed.deps !== undefined) view.deps = packed.deps;
  return view;
}

/** One page of `taskList`: matching tasks by job id (every job the page reached is a key). */
export interface TaskPageView {
  tasks: Record<string, PackedTaskView[]>;
  /** Where to go on from, or null when the selection is exhausted. */
  next: TaskCursor | null;
}

/** What a worker is doing now (HyperQueue's `WorkerRuntimeInfo`). */
export type WorkerRuntimeView =
  | {
    kind: "singleNode";
    /** Tasks assigned to the worker to run now or running (prefilled ones not counted). */
    assigned_tasks: number;
    /** Tasks it reported as started. */
    running_tasks: number;
    /** Whether it is held for a multi-node task (not tracked here: always false). */
    is_reserved: boolean;
  }
  | {
    kind: "multiNode";
    /** Whether it is the root of the multi-node task it runs. */
    main_node: boolean;
  };

/** The last task a worker started. */
export interface LastTaskStartedView {
  job_id: JobId;
  task_id: TaskId;
  /** Start time (worker clock). */
  time: number;
}

/** `worker list` / `worker info` element. */
export interface WorkerView {
  id: WorkerId;
  /** `running`, or why it ended. */
  state: "running" | WorkerStopReason;
  configuration: {
    hostname: string;
    group: string;
    work_dir: string;
    /** What `Data provider` shows (no network here: `<hostname>:files`). */
    listen_address: string;
    process_pid: number;
    heartbeat_ms: number;
    idle_timeout_ms: number | null;
    time_limit_ms: number | null;
    on_server_lost: "stop" | "finish-running";
    /** `--min-utilization` in 1/10000. */
    min_utilization: number;
    /** Pools in the worker's order. */
    resources: ResourcePool[];
    manager: { kind: "slurm" | "pbs"; job_id: string } | null;
  };
  /** Registration time. */
  started_at: number;
  /** When it ended, or null while it runs. */
  ended_at: number | null;
  last_task_started: LastTaskStartedView | null;
  /** Null once the worker has ended. */
  runtime_info: WorkerRuntimeView | null;
}

/** One fact about a task on a worker (HyperQueue's `TaskExplainItem`). */
export type ExplainItemView =
  | {
    kind: "time";
    /** The variant's `--time-request`. */
    min_time_ms: number;
    /** What is left of the worker's time limit, or null without one. */
    remaining_time_ms: number | null;
  }
  | {
    kind: "resources";
    resource: string;
    /** Least amount the variant needs (1 unit for `all`), in 1/10000. */
    request_amount: number;
    /** What the worker has, in 1/10000. */
    worker_amount: number;
  }
  | {
    kind: "workerGroup";
    n_nodes: number;
    /** Running workers in the worker's group. */
    group_size: number;
  };

/** Explanation for one worker. */
export interface ExplainWorkerView {
  worker_id: WorkerId;
  /** Whether some variant has no blocking item. */
  runnable: boolean;
  /** Items per variant: a time item first when the variant has a time request. */
  variants: ExplainItemView[][];
}

/** `task explain` data. */
export interface ExplainView {
  job_id: JobId;
  task_id: TaskId;
  state: TaskStateName;
  /** Dependencies of the task (none until dependencies exist). */
  n_task_deps: number;
  /** Dependencies not finished yet. */
  n_waiting_deps: number;
  /** Running workers by id. */
  workers: ExplainWorkerView[];
}

/** The configuration part of a worker view, from what the worker sent at registration. */
export function configurationView(c: WorkerConfig): WorkerView["configuration"] {
  return {
    hostname: c.hostname,
    group: c.group,
    work_dir: c.workDir,
    listen_address: `${c.hostname}:files`,
    process_pid: c.pid,
    heartbeat_ms: c.heartbeatMs,
    idle_timeout_ms: c.idleTimeoutMs,
    time_limit_ms: c.timeLimitMs,
    on_server_lost: c.onServerLost,
    min_utilization: c.minUtilization,
    resources: c.resources.map((p) => ({
      name: p.name,
      kind: p.kind,
      groups: p.groups,
      size: p.size,
    })),
    manager: c.manager === null ? null : { kind: c.manager.kind, job_id: c.manager.jobId },
  };
}

/**
 * The view a worker has of itself right after registering (what `worker
 * start` prints): running, no task started yet, no runtime info.
 */
export function registeredWorkerView(
  id: WorkerId,
  config: WorkerConfig,
  registeredAt: number,
): WorkerView {
  return {
    id,
    state: "running",
    configuration: configurationView(config),
    started_at: registeredAt,
    ended_at: null,
    last_task_started: null,
    runtime_info: null,
  };
}

/**
 * Whether an explain item keeps its variant from running (tako's `is_blocking`).
 *
 * @example Usage
 * ```ts
 * import { isBlocking } from "./views.ts";
 * import assert from "node:assert/strict";
 * const gpus = { kind: "resources" as const, resource: "gpus", request_amount: 20000 };
 * assert.equal(isBlocking({ ...gpus, worker_amount: 10000 }), true);
 * assert.equal(isBlocking({ ...gpus, worker_amount: 40000 }), false);
 * assert.equal(isBlocking({ kind: "time", min_time_ms: 60_000, remaining_time_ms: null }), false);
 * ```
 */
export function isBlocking(item: ExplainItemView): boolean {
  switch (item.kind) {
    case "time":
      return item.remaining_time_ms !== null && item.min_time_ms > item.remaining_time_ms;
    case "resources":
      return item.request_amount > item.worker_amount;
    case "workerGroup":
      return item.n_nodes > item.group_size;
    default:
      return assertNever(item, "explain item");
  }
}
