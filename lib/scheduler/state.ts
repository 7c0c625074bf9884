/**
 * Server state of the scheduling core: jobs, tasks, workers, counters.
 *
 * Task lifecycle (user-visible state in brackets):
 * - `waiting` [WAITING]: ready, in the ready queue.
 * - `assigned` [WAITING]: sent to a worker (fitting now or prefilled), not yet started.
 * - `running` [RUNNING]: the worker reported its start.
 * - `finished` / `failed` / `canceled` / `aborted`: terminal.
 * A lost worker sends its `assigned` and `running` tasks back to `waiting`
 * with a new instance id; `running` ones also count a crash.
 *
 * @module
 */
import type { JobId, TaskId, WorkerId } from "../ids.ts";
import type { IdRange } from "../cli/id_set.ts";
import type { TaskTemplate, WorkerConfig, WorkerStopReason } from "../fsproto/messages.ts";
import { ReadyQueue } from "./ready_queue.ts";

/** Internal task state. */
export type TaskState =
  | "waiting"
  | "assigned"
  | "running"
  | "finished"
  | "failed"
  | "canceled"
  | "aborted";

/** All task states, in display order. */
export const TASK_STATES: readonly TaskState[] = [
  "waiting",
  "assigned",
  "running",
  "finished",
  "failed",
  "canceled",
  "aborted",
];

/** Whether a task state is terminal. */
export function isTerminal(state: TaskState): boolean {
  return state === "finished" || state === "failed" || state === "canceled" ||
    state === "aborted";
}

/** One task of a job. */
export interface TaskRecord {
  /** Current state. */
  state: TaskState;
  /** Attempt number, starting at 0. */
  instance: number;
  /** Worker crashes survived so far. */
  crashCount: number;
  /** Worker holding or having run the task. */
  workerId: WorkerId | null;
  /** Start time (ms since epoch). */
  startedAt: number | null;
  /** End time (ms since epoch). */
  finishedAt: number | null;
  /** Error text of a failed task. */
  error: string | null;
}

/** A job with its tasks. */
export interface Job {
  /** Job id. */
  id: JobId;
  /** Name. */
  name: string;
  /** Client's directory at submission. */
  submitDir: string;
  /** Submission time. */
  submittedAt: number;
  /** Abort threshold. */
  maxFails: number | null;
  /** Shared task definition. */
  template: TaskTemplate;
  /** Task ids. */
  ids: IdRange[];
  /** Tasks by id. */
  tasks: Map<TaskId, TaskRecord>;
  /** Count of tasks per state. */
  counts: Record<TaskState, number>;
  /** Latest cancel reason. */
  cancelReason: string | null;
  /** When the last task completed, or null. */
  completedAt: number | null;
}

/** Worker states shown in listings. */
export type WorkerState = "running" | WorkerStopReason;

/** A registered worker. */
export interface WorkerRecord {
  /** Worker id. */
  id: WorkerId;
  /** Directory key under `workers/`. */
  key: string;
  /** Settings sent at registration. */
  config: WorkerConfig;
  /** State. */
  state: WorkerState;
  /** Registration time (server clock). */
  registeredAt: number;
  /** End time, or null while running. */
  endedAt: number | null;
  /** Last record received (server clock). */
  lastSeen: number;
  /** Last time the worker had any task (server clock). */
  lastBusyAt: number;
  /** Last task start reported. */
  lastTaskStartedAt: number | null;
  /** Total CPUs in fixed point. */
  cpus: number;
  /** CPUs of tasks placed to run now. */
  fitLoad: number;
  /** Number of tasks queued beyond what fits (prefill). */
  prefilled: number;
  /** Tasks on the worker: key `job:task` to whether it is prefilled. */
  tasks: Map<string, { jobId: JobId; taskId: TaskId; prefill: boolean }>;
}

/** Scheduler settings. */
export interface SchedulerConfig {
  /** Extra tasks queued per worker beyond what fits. */
  prefillMax: number;
  /** Prefill only while more ready tasks than this remain. */
  prefillReserve: number;
}

/** Default scheduler settings. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = { prefillMax: 40, prefillReserve: 16 };

/** Whole server state. */
export interface ServerState {
  /** Server uid, stable across restores. */
  serverUid: string;
  /** Jobs by id. */
  jobs: Map<JobId, Job>;
  /** Workers by id. */
  workers: Map<WorkerId, WorkerRecord>;
  /** Worker ids by key. */
  workerKeys: Map<string, WorkerId>;
  /** Next job id. */
  nextJobId: JobId;
  /** Next worker id. */
  nextWorkerId: WorkerId;
  /** Ready tasks. */
  ready: ReadyQueue;
  /** Scheduler settings. */
  config: SchedulerConfig;
  /** Jobs changed since the last commit. */
  dirtyJobs: Set<JobId>;
  /** Tasks changed since the last commit, by job. */
  dirtyTasks: Map<JobId, Set<TaskId>>;
  /** Workers changed since the last commit. */
  dirtyWorkers: Set<WorkerId>;
  /** Whether counters changed since the last commit. */
  dirtyMeta: boolean;
  /** Whether a scheduling round is needed. */
  needsSchedule: boolean;
}

/** Creates an empty state. */
export function createServerState(
  serverUid: string,
  config: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG,
): ServerState {
  return {
    serverUid,
    jobs: new Map(),
    workers: new Map(),
    workerKeys: new Map(),
    nextJobId: 1,
    nextWorkerId: 1,
    ready: new ReadyQueue(),
    config,
    dirtyJobs: new Set(),
    dirtyTasks: new Map(),
    dirtyWorkers: new Set(),
    dirtyMeta: false,
    needsSchedule: false,
  };
}

/** Empty per-state counters. */
export function emptyCounts(): Record<TaskState, number> {
  return { waiting: 0, assigned: 0, running: 0, finished: 0, failed: 0, canceled: 0, aborted: 0 };
}

/** Marks a task as changed for the next commit. */
export function markTaskDirty(state: ServerState, jobId: JobId, taskId: TaskId): void {
  let set = state.dirtyTasks.get(jobId);
  if (!set) state.dirtyTasks.set(jobId, set = new Set());
  set.add(taskId);
  state.dirtyJobs.add(jobId);
}

/** Key of a task in worker maps. */
export function taskKey(jobId: JobId, taskId: TaskId): string {
  return `${jobId}:${taskId}`;
}

/** Whether every task of the job is terminal. */
export function isJobComplete(job: Job): boolean {
  return job.counts.waiting + job.counts.assigned + job.counts.running === 0;
}
