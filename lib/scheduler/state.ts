/**
 * Server state of the scheduling core: jobs, tasks, workers, request classes.
 *
 * Task lifecycle (user-visible state in brackets):
 * - `waiting` [WAITING]: ready, in its class queue.
 * - `assigned` [WAITING]: sent to a worker, to run now (with a variant) or
 *   prefilled (without one), not yet started.
 * - `running` [RUNNING]: the worker reported its start.
 *   A multi-node task is assigned and runs on its root worker and occupies
 *   every worker of its {@link MultiNodeRun}.
 * - `finished` / `failed` / `canceled` / `aborted`: terminal.
 *
 * Task records are sparse: a task still waiting in its first attempt has no
 * record (see {@link getTask}), so a million-task array costs little until
 * its tasks run.
 *
 * @module
 */
import {
  type IdRange,
  type IdSet,
  idSetHas,
  idSetRank,
  type JobId,
  type TaskId,
  type WorkerId,
} from "../common/mod.ts";
import type {
  JobSubmit,
  TaskRef,
  TaskTemplate,
  WorkerConfig,
  WorkerStopReason,
} from "../protocol/mod.ts";
import type { Amount, ResourceRequest } from "../resources/mod.ts";
import { ClassQueue } from "./task_queue.ts";
import type { TaskTable } from "./task_table.ts";
import { pristineTask, type TaskRecord, type TaskState } from "./task.ts";

export { isTerminal, pristineTask, TASK_STATES } from "./task.ts";
export type { TaskRecord, TaskState } from "./task.ts";

/**
 * Tasks of one job that share a definition: one per array submit, one per distinct
 * template of a task graph.
 */
export interface JobPart {
  /** What its tasks share. */
  template: TaskTemplate;
  /** Request class of its tasks. */
  classId: number;
  /** Client's directory at submission (`%{SUBMIT_DIR}`). */
  submitDir: string;
  /** Its tasks' ids. */
  ids: IdSet;
  /** `HQ_ENTRY` of each task in the order of `ids`, or null. */
  entries: string[] | null;
  /** Jobs (`--after`) still to complete before its tasks are ready; empty when none. */
  after: Set<JobId>;
  /** Index of the submit it came from. */
  submit: number;
}

/** A task a task depends on, or one that depends on it. */
export interface TaskLink {
  jobId: JobId;
  taskId: TaskId;
}

/** A submit as the journal keeps it, to rebuild the job's parts and dependencies. */
export interface StoredSubmit {
  submittedAt: number;
  job: JobSubmit;
  /** Jobs its tasks waited for (`--after`, resolved at submit). */
  after: JobId[];
}

/** A job with its tasks. */
export interface Job {
  /** Job id. */
  id: JobId;
  name: string;
  /** Submission (or `job open`) time. */
  submittedAt: number;
  /** Abort threshold. */
  maxFails: number | null;
  /** Task groups sharing a definition, in submit order. */
  parts: JobPart[];
  /** Part index of each task when the job has more than one part; null otherwise. */
  partOf: Map<TaskId, number> | null;
  /** Submits received, in order. */
  submits: StoredSubmit[];
  /** Whether more tasks may still be submitted (`job open` until `job close`). */
  open: boolean;
  /** Task ids. */
  ids: IdSet;
  /** Number of tasks. */
  size: number;
  /** Records of tasks that left their first waiting state (sparse). */
  tasks: TaskTable;
  /** Count of tasks per state. */
  counts: Record<TaskState, number>;
  /** Latest cancel reason. */
  cancelReason: string | null;
  /** When the last task completed (and the job was closed), or null. */
  completedAt: number | null;
  /** Dependencies of tasks that have some. */
  deps: Map<TaskId, TaskLink[]>;
  /** Unfinished dependency count of each waiting task that has one. */
  blocked: Map<TaskId, number>;
  /** Tasks (of any job) that depend on each task of this job. */
  dependents: Map<TaskId, TaskLink[]>;
}

/** The part of the job a task belongs to (the task must be in the job). */
export function partOf(job: Job, taskId: TaskId): JobPart {
  return job.parts[job.partOf === null ? 0 : job.partOf.get(taskId)!]!;
}

/** The `HQ_ENTRY` of a task of the part (`--each-line`, `--from-json`), if it has entries. */
export function entryOf(part: JobPart, taskId: TaskId): string | undefined {
  return part.entries === null ? undefined : part.entries[idSetRank(part.ids, taskId)];
}

/**
 * Whether a waiting task may run: no unfinished dependency and no job it waits for. `part`
 * is the task's, when the caller has it.
 */
export function isReady(job: Job, taskId: TaskId, part: JobPart = partOf(job, taskId)): boolean {
  return !job.blocked.has(taskId) && part.after.size === 0;
}

/** Tasks with one resource request (all variants equal) share a class and a queue. */
export interface RequestClass {
  /** Class id (not persisted). */
  id: number;
  /** Canonical text of the variants. */
  key: string;
  /** Alternative requests, in preference order. */
  variants: ResourceRequest[];
  /** Ready tasks. */
  queue: ClassQueue;
  /** Workers holding unstarted prefilled tasks of this class, with their count. */
  prefillHolders: Map<WorkerId, number>;
  /** Prefilled tasks of this class with a retract in flight. */
  retracting: number;
  /**
   * Whether its queue was in its end game when last looked at (`endgame.ts`): it stays there
   * until the queue is twice what would make one, so rounds do not flip in and out of it.
   */
  endgame: boolean;
}

/** Worker states shown in listings. */
export type WorkerState = "running" | WorkerStopReason;

/** A task on a worker: `variant` null while it is prefilled. */
export interface WorkerSlot {
  /** The task's record (its key in the worker's map). */
  record: TaskRecord;
  jobId: JobId;
  taskId: TaskId;
  classId: number;
  /** Priority of the task. */
  priority: number;
  /** Variant whose resources it holds, or null for a prefilled task. */
  variant: number | null;
  /** Whether a retract was sent for it. */
  retracting: boolean;
  /** Whether the server canceled it and waits for the worker to let go. */
  canceled: boolean;
}

/**
 * A multi-node task placed on whole workers of one group. Every worker in
 * `nodes` points to the same run through {@link WorkerRecord.multiNode} and
 * has all of its resources held; only the root (`nodes[0]`, the lowest id)
 * holds the task's slot and runs its command. Losing a non-root worker
 * removes it from `nodes`; losing the root requeues the task and frees the rest.
 */
export interface MultiNodeRun {
  /** The task's record. */
  record: TaskRecord;
  jobId: JobId;
  taskId: TaskId;
  /** Workers of the task, root first. */
  nodes: WorkerId[];
}

/** A registered worker. */
export interface WorkerRecord {
  /** Worker id. */
  id: WorkerId;
  /** Directory key under `workers/`. */
  key: string;
  /** Settings sent at registration. */
  config: WorkerConfig;
  state: WorkerState;
  /** Registration time (server clock). */
  registeredAt: number;
  /** End time, or null while running. */
  endedAt: number | null;
  /** Last record received (server clock). */
  lastSeen: number;
  /**
   * Start of the worker's idle clock (server clock): its registration, the
   * last tick or round that saw it busy ({@link isWorkerBusy}), or when its
   * last assigned or running task left.
   */
  lastBusyAt: number;
  /** Last task start reported. */
  lastTaskStartedAt: number | null;
  /** When its time limit ends (server clock), or null. */
  endsAt: number | null;
  /** Total amount per resource (fixed point). */
  capacity: Map<string, Amount>;
  /** Amount not held by tasks running or assigned to run now. */
  free: Map<string, Amount>;
  /** Unstarted prefilled tasks. */
  prefilled: number;
  /** Tasks on the worker, keyed by their record (identity keys are the cheapest). */
  tasks: Map<TaskRecord, WorkerSlot>;
  /** Tasks holding resources, per class id. */
  classLoad: Map<number, number>;
  /** `class:variant` pairs the worker rejected; cleared when it frees resources. */
  blocked: Set<string>;
  /** The multi-node task occupying the whole worker, or null. */
  multiNode: MultiNodeRun | null;
  /**
   * Restored by a server that took over a crashed one, and not yet answered its
   * `serverRestarted`: it may run tasks this server has not heard of.
   */
  reattaching: boolean;
  /** Moving average of the round trip to the worker (server clock), once measured. */
  roundTripMs: number | null;
  /** Round trips sampled, the first (left out of the average) included. */
  roundTripSamples: number;
  /** Moving average of its tasks' run times, once one ended. */
  meanRunMs: number | null;
  /**
   * A steadier average of its tasks' run times, once one ended: the mean of the first 100,
   * then a moving average over about as many (see `prefill_cap.ts`).
   */
  steadyRunMs: number | null;
  /** Run times sampled into {@link WorkerRecord.steadyRunMs} (counted up to the window). */
  runSamples: number;
}

/**
 * Tasks of a job that ended at once with the same record: the ones a cancel or an abort
 * stopped before they ever left the queue. The journal keeps them as id ranges and one
 * record, not a record per task (a million-task job is canceled and restored in moments).
 */
export interface BulkTasks {
  jobId: JobId;
  /** Their ids, ascending and disjoint. */
  ranges: IdRange[];
  /** The record every one of them has. */
  record: TaskRecord;
}

/** Scheduler settings. */
export interface SchedulerConfig {
  /** Extra tasks queued per worker beyond what fits. */
  prefillMax: number;
  /** Prefill only while more ready tasks than this remain. */
  prefillReserve: number;
  /**
   * Most prefilled tasks a worker on a slow link may hold (see `prefill_cap.ts`); absent:
   * `prefillMax`, never more.
   */
  prefillLimit?: number;
  /** Idle timeout for workers that set none (`server start --idle-timeout`). */
  workerIdleTimeoutMs?: number | null;
}

/** Default scheduler settings (HyperQueue's proactive filling numbers). */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  prefillMax: 40,
  prefillReserve: 16,
  prefillLimit: 2000,
};

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
  nextJobId: JobId;
  nextWorkerId: WorkerId;
  /** Request classes by id. */
  classes: Map<number, RequestClass>;
  /** Class ids by key. */
  classKeys: Map<string, number>;
  /** Scheduler settings. */
  config: SchedulerConfig;
  /** Jobs changed since the last commit. */
  dirtyJobs: Set<JobId>;
  /** Tasks changed since the last commit, by job. */
  dirtyTasks: Map<JobId, Set<TaskId>>;
  /** Tasks that ended together with one record since the last commit (journaled as ranges). */
  dirtyBulk: BulkTasks[];
  /** Workers changed since the last commit. */
  dirtyWorkers: Set<WorkerId>;
  /** Whether counters changed since the last commit. */
  dirtyMeta: boolean;
  /** Unstarted prefilled tasks per priority, over all workers. */
  prefillByPriority: Map<number, number>;
  /** Classes that gained ready tasks since the last round. */
  changedClasses: Set<number>;
  /** Workers whose free resources grew (or that joined) since the last round. */
  changedWorkers: Set<WorkerId>;
  /** Whether a scheduling round is needed. */
  needsSchedule: boolean;
  /**
   * When a reservation made in the last round lapses because the reserving tasks' time
   * request no longer fits the worker's remaining lifetime: {@link onTick} asks for a round
   * then. Null when no reservation lapses on its own.
   */
  scheduleAt: number | null;
  /**
   * Submits already applied, by request key (`client:request`) to the job they created, so
   * that an inbox file read again (after a crash between the commit and its removal) is not
   * applied twice. Restored from the journal.
   */
  appliedRequests: Map<string, JobId>;
  /**
   * Until when scheduling waits for restored workers to reattach (a server that took over
   * a crashed one does not know which waiting tasks they started); null when none is
   * reattaching.
   */
  reattachUntil: number | null;
  /**
   * Tasks the dead server sent to each restored worker (read back from its channels): if the
   * worker is lost before it reattaches, any of them may have run, so they run again under a
   * new instance id.
   */
  sentBeforeRestart: Map<WorkerId, TaskRef[]>;
  /** Jobs forgotten since the last commit: the journal drops them. */
  forgottenJobs: Set<JobId>;
  /** Ended workers pruned since the last commit: the journal drops them. */
  removedWorkers: Set<WorkerId>;
  /** Submits added since the last commit (the journal stores each once). */
  newSubmits: { jobId: JobId; index: number }[];
  /** Jobs waiting (`--after`) for each job to complete. */
  afterWaiters: Map<JobId, JobId[]>;
  /** Ended tasks whose dependents are still to settle, and completed jobs with waiters. */
  pendingEnds: { ended: TaskLink[]; completed: JobId[]; settling: boolean };
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
    classes: new Map(),
    classKeys: new Map(),
    config,
    dirtyJobs: new Set(),
    dirtyTasks: new Map(),
    dirtyBulk: [],
    dirtyWorkers: new Set(),
    dirtyMeta: false,
    prefillByPriority: new Map(),
    changedClasses: new Set(),
    changedWorkers: new Set(),
    needsSchedule: false,
    scheduleAt: null,
    appliedRequests: new Map(),
    reattachUntil: null,
    sentBeforeRestart: new Map(),
    forgottenJobs: new Set(),
    removedWorkers: new Set(),
    newSubmits: [],
    afterWaiters: new Map(),
    pendingEnds: { ended: [], completed: [], settling: false },
  };
}

/** Empty per-state counters. */
export function emptyCounts(): Record<TaskState, number> {
  return { waiting: 0, assigned: 0, running: 0, finished: 0, failed: 0, canceled: 0, aborted: 0 };
}

/** The task's record (a fresh pristine one when it has none), or undefined when not in the job. */
export function getTask(job: Job, taskId: TaskId): TaskRecord | undefined {
  const task = job.tasks.get(taskId);
  if (task) return task;
  return idSetHas(job.ids, taskId) ? pristineTask() : undefined;
}

/** The task's stored record, created when missing. The task must belong to the job. */
export function materializeTask(job: Job, taskId: TaskId): TaskRecord {
  let task = job.tasks.get(taskId);
  if (!task) job.tasks.set(taskId, task = pristineTask());
  return task;
}

/** Whether a task of the job is waiting (cheap; used by the queues). */
export function isTaskWaiting(job: Job | undefined, taskId: TaskId): boolean {
  if (!job) return false;
  const task = job.tasks.get(taskId);
  return task ? task.state === "waiting" : true;
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

/** Key of a (class, variant) pair in a worker's blocked set. */
export function blockKey(classId: number, variant: number): string {
  return `${classId}:${variant}`;
}

/**
 * Whether a worker has work that keeps it from idling: a task assigned to run
 * or running, or a multi-node task. Prefilled tasks do not count.
 */
export function isWorkerBusy(worker: WorkerRecord): boolean {
  return worker.tasks.size > worker.prefilled || worker.multiNode !== null;
}

/** Whether every task of the job is terminal (an open job may still get more). */
export function areTasksDone(job: Job): boolean {
  return job.counts.waiting + job.counts.assigned + job.counts.running === 0;
}

/** Whether the job is complete: every task terminal and the job not open. */
export function isJobComplete(job: Job): boolean {
  return !job.open && areTasksDone(job);
}
