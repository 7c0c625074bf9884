// deno-lint-ignore-file camelcase -- the view fields follow HyperQueue's snake_case names
/**
 * Read-only views of workers (`worker list/info`) and of `task explain`, as
 * plain data for clients; see `views.ts` for the conventions (ms times,
 * fixed-point amounts).
 *
 * @module
 */
import { assertNever, type JobId, type TaskId, type WorkerId } from "../common/mod.ts";
import { FRACTIONS_PER_UNIT, type ResourcePool } from "../resources/mod.ts";
import type { WorkerConfig } from "../protocol/mod.ts";
import {
  groupSizes,
  type Job,
  type ServerState,
  type WorkerRecord,
  type WorkerState,
} from "../scheduler/mod.ts";
import { type TaskStateName, userState } from "./views.ts";

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
  state: WorkerState;
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

function runtimeInfo(w: WorkerRecord): WorkerRuntimeView | null {
  if (w.state !== "running") return null;
  if (w.multiNode) return { kind: "multiNode", main_node: w.multiNode.nodes[0] === w.id };
  let running = 0;
  for (const slot of w.tasks.values()) if (slot.record.state === "running") running++;
  return {
    kind: "singleNode",
    assigned_tasks: w.tasks.size - w.prefilled,
    running_tasks: running,
    is_reserved: false,
  };
}

/**
 * The task each worker started last. The state keeps only the time, so the
 * task is the one on the worker, or else the newest task record naming the
 * worker, with that start time; null when it is no longer known (the task
 * ran again elsewhere since).
 */
function lastTasksStarted(
  state: ServerState,
  workers: readonly WorkerRecord[],
): Map<WorkerId, LastTaskStartedView> {
  const found = new Map<WorkerId, LastTaskStartedView>();
  const missing = new Map<WorkerId, number>();
  for (const w of workers) {
    const at = w.lastTaskStartedAt;
    if (at === null) continue;
    const run = w.multiNode;
    if (run && run.nodes[0] === w.id && run.record.startedAt === at) {
      found.set(w.id, { job_id: run.jobId, task_id: run.taskId, time: at });
      continue;
    }
    for (const slot of w.tasks.values()) {
      if (slot.record.startedAt === at) {
        found.set(w.id, { job_id: slot.jobId, task_id: slot.taskId, time: at });
        break;
      }
    }
    if (!found.has(w.id)) missing.set(w.id, at);
  }
  if (missing.size === 0) return found;
  const jobs: Job[] = [...state.jobs.values()].sort((a, b) => b.id - a.id);
  for (const job of jobs) {
    for (const [taskId, record] of job.tasks) {
      const id = record.workerId;
      if (id === null || record.startedAt === null || missing.get(id) !== record.startedAt) {
        continue;
      }
      found.set(id, { job_id: job.id, task_id: taskId, time: record.startedAt });
      missing.delete(id);
      if (missing.size === 0) return found;
    }
  }
  return found;
}

function configurationView(c: WorkerConfig): WorkerView["configuration"] {
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

function workerView(w: WorkerRecord, last: LastTaskStartedView | null): WorkerView {
  return {
    id: w.id,
    state: w.state,
    configuration: configurationView(w.config),
    started_at: w.registeredAt,
    ended_at: w.endedAt,
    last_task_started: last,
    runtime_info: runtimeInfo(w),
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

/** Every worker, sorted by id. */
export function workerViews(state: ServerState): WorkerView[] {
  const workers = [...state.workers.values()].sort((a, b) => a.id - b.id);
  const last = lastTasksStarted(state, workers);
  return workers.map((w) => workerView(w, last.get(w.id) ?? null));
}

/**
 * `task explain` for a task of `job` at time `now`, against every running
 * worker: per variant, a time item when it has a time request, then one
 * resources item per requested resource (or a worker-group item for a
 * multi-node variant), blocking or not, as tako's `task_explain_for_worker`.
 */
export function explainView(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  now: number,
): ExplainView {
  const cls = state.classes.get(job.classId)!;
  const sizes = groupSizes(state);
  const record = job.tasks.get(taskId);
  const workers = [...state.workers.values()]
    .filter((w) => w.state === "running")
    .sort((a, b) => a.id - b.id)
    .map((w): ExplainWorkerView => {
      const variants = cls.variants.map((rq) => {
        const items: ExplainItemView[] = [];
        if (rq.minTimeMs > 0) {
          items.push({
            kind: "time",
            min_time_ms: rq.minTimeMs,
            remaining_time_ms: w.endsAt === null ? null : Math.max(0, w.endsAt - now),
          });
        }
        if ((rq.nNodes ?? 0) > 0) {
          items.push({
            kind: "workerGroup",
            n_nodes: rq.nNodes!,
            group_size: sizes.get(w.config.group) ?? 0,
          });
        } else {
          for (const e of rq.entries) {
            items.push({
              kind: "resources",
              resource: e.resource,
              request_amount: e.policy === "all" ? FRACTIONS_PER_UNIT : e.amount,
              worker_amount: w.capacity.get(e.resource) ?? 0,
            });
          }
        }
        return items;
      });
      return {
        worker_id: w.id,
        runnable: variants.some((items) => !items.some(isBlocking)),
        variants,
      };
    });
  return {
    job_id: job.id,
    task_id: taskId,
    state: userState(record?.state ?? "waiting"),
    n_task_deps: 0,
    n_waiting_deps: 0,
    workers,
  };
}

/**
 * Whether an explain item keeps its variant from running (tako's `is_blocking`).
 *
 * @example Usage
 * ```ts
 * import { isBlocking } from "./worker_views.ts";
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
