/**
 * Synchronous reactors: apply one event to the server state and push the
 * resulting worker messages into an {@link Outbox}. No I/O, no clock reads.
 *
 * @module
 */
import type { JobId, TaskId, WorkerId } from "../ids.ts";
import type {
  CrashLimit,
  JobSubmit,
  TaskUpdate,
  ToWorkerMsg,
  WorkerConfig,
  WorkerStopReason,
} from "../fsproto/messages.ts";
import { idSetIterate, idSetSize } from "../cli/id_set.ts";
import { requestedAmount } from "../resources/request.ts";
import { poolUnits } from "../resources/descriptor.ts";
import { FRACTIONS_PER_UNIT } from "../resources/amount.ts";
import { assertNever } from "../_assert_never.ts";
import {
  emptyCounts,
  isJobComplete,
  isTerminal,
  type Job,
  markTaskDirty,
  type ServerState,
  taskKey,
  type TaskRecord,
  type TaskState,
  type WorkerRecord,
} from "./state.ts";

/** Messages to send after the round's commit, batched per worker. */
export type Outbox = Map<WorkerId, ToWorkerMsg[]>;

/** Queues a message for a worker. */
export function sendToWorker(out: Outbox, workerId: WorkerId, msg: ToWorkerMsg): void {
  let list = out.get(workerId);
  if (!list) out.set(workerId, list = []);
  list.push(msg);
}

/** Moves a task to a new state, keeping counters, dirty sets and completion up to date. */
export function setTaskState(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  task: TaskRecord,
  next: TaskState,
  now: number,
): void {
  job.counts[task.state]--;
  job.counts[next]++;
  task.state = next;
  markTaskDirty(state, job.id, taskId);
  if (next === "waiting") {
    state.ready.push({ priority: job.template.priority, jobId: job.id, taskId });
    state.needsSchedule = true;
  }
  if (isTerminal(next)) {
    task.finishedAt = now;
    if (isJobComplete(job)) job.completedAt = now;
  } else {
    job.completedAt = null;
  }
}

/** Total CPUs of a worker config in fixed point. */
export function workerCpus(config: WorkerConfig): number {
  const pool = config.resources.find((r) => r.name === "cpus");
  return pool ? poolUnits(pool) * FRACTIONS_PER_UNIT : 0;
}

/** CPUs a task of `job` takes on `worker` (the whole pool for `all`). */
export function taskCpus(job: Job, worker: WorkerRecord): number {
  const entry = job.template.request.entries.find((e) => e.resource === "cpus");
  if (!entry) return 0;
  return entry.policy === "all" ? worker.cpus : requestedAmount(job.template.request, "cpus");
}

/**
 * Adds a validated job; returns its id. The caller has validated `submit`.
 */
export function onSubmit(state: ServerState, submit: JobSubmit, now: number): JobId {
  const id = state.nextJobId++;
  state.dirtyMeta = true;
  const job: Job = {
    id,
    name: submit.name,
    submitDir: submit.submitDir,
    submittedAt: now,
    maxFails: submit.maxFails,
    template: submit.template,
    ids: submit.ids,
    tasks: new Map(),
    counts: emptyCounts(),
    cancelReason: null,
    completedAt: null,
  };
  for (const taskId of idSetIterate(submit.ids)) {
    job.tasks.set(taskId, {
      state: "waiting",
      instance: 0,
      crashCount: 0,
      workerId: null,
      startedAt: null,
      finishedAt: null,
      error: null,
    });
    state.ready.push({ priority: submit.template.priority, jobId: id, taskId });
  }
  job.counts.waiting = idSetSize(submit.ids);
  state.jobs.set(id, job);
  state.dirtyJobs.add(id);
  state.needsSchedule = true;
  return id;
}

/** Registers a worker (idempotent per key); returns its id. */
export function onWorkerRegistered(
  state: ServerState,
  key: string,
  config: WorkerConfig,
  now: number,
  out: Outbox,
): WorkerId {
  const existing = state.workerKeys.get(key);
  if (existing !== undefined) return existing;
  const id = state.nextWorkerId++;
  state.dirtyMeta = true;
  const worker: WorkerRecord = {
    id,
    key,
    config,
    state: "running",
    registeredAt: now,
    endedAt: null,
    lastSeen: now,
    lastBusyAt: now,
    lastTaskStartedAt: null,
    cpus: workerCpus(config),
    fitLoad: 0,
    prefilled: 0,
    tasks: new Map(),
  };
  state.workers.set(id, worker);
  state.workerKeys.set(key, id);
  state.dirtyWorkers.add(id);
  state.needsSchedule = true;
  sendToWorker(out, id, { kind: "registered", workerId: id, serverUid: state.serverUid });
  return id;
}

function detachTask(worker: WorkerRecord, job: Job, taskId: TaskId): void {
  const key = taskKey(job.id, taskId);
  const slot = worker.tasks.get(key);
  if (!slot) return;
  worker.tasks.delete(key);
  if (slot.prefill) worker.prefilled--;
  else worker.fitLoad -= taskCpus(job, worker);
}

function crashLimitReached(limit: CrashLimit, crashes: number): boolean {
  if (limit === "unlimited") return false;
  if (limit === "never-restart") return crashes >= 1;
  return crashes >= limit;
}

/** Applies a batch of task updates from a worker. Stale updates are ignored. */
export function onTaskUpdates(
  state: ServerState,
  workerId: WorkerId,
  updates: readonly TaskUpdate[],
  now: number,
  out: Outbox,
): void {
  const worker = state.workers.get(workerId);
  if (!worker || worker.state !== "running") return;
  worker.lastSeen = now;
  for (const update of updates) {
    const job = state.jobs.get(update.jobId);
    const task = job?.tasks.get(update.id);
    if (!job || !task) continue;
    if (task.workerId !== workerId || task.instance !== update.instance) continue;
    if (task.state !== "assigned" && task.state !== "running") continue;
    switch (update.kind) {
      case "started": {
        if (task.state !== "assigned") break;
        task.startedAt = update.at;
        worker.lastTaskStartedAt = update.at;
        const slot = worker.tasks.get(taskKey(job.id, update.id));
        if (slot?.prefill) {
          slot.prefill = false;
          worker.prefilled--;
          worker.fitLoad += taskCpus(job, worker);
        }
        setTaskState(state, job, update.id, task, "running", now);
        break;
      }
      case "finished":
        detachTask(worker, job, update.id);
        setTaskState(state, job, update.id, task, "finished", now);
        task.finishedAt = update.at;
        state.needsSchedule = true;
        break;
      case "failed":
        detachTask(worker, job, update.id);
        task.error = update.error;
        setTaskState(state, job, update.id, task, "failed", now);
        task.finishedAt = update.at;
        state.needsSchedule = true;
        checkMaxFails(state, job, now, out);
        break;
      case "canceled":
        // The server already marked the task canceled; nothing to do.
        break;
      default:
        assertNever(update, "task update");
    }
  }
  if (worker.tasks.size > 0) worker.lastBusyAt = now;
}

function checkMaxFails(state: ServerState, job: Job, now: number, out: Outbox): void {
  if (job.maxFails === null || job.counts.failed <= job.maxFails) return;
  stopUnfinished(state, job, "aborted", now, out);
}

/** Moves every unfinished task of a job to `target`, telling workers. Returns how many. */
export function stopUnfinished(
  state: ServerState,
  job: Job,
  target: "canceled" | "aborted",
  now: number,
  out: Outbox,
): number {
  const perWorker = new Map<WorkerId, { jobId: JobId; id: TaskId; instance: number }[]>();
  let count = 0;
  for (const [taskId, task] of job.tasks) {
    if (isTerminal(task.state)) continue;
    if ((task.state === "assigned" || task.state === "running") && task.workerId !== null) {
      const worker = state.workers.get(task.workerId);
      if (worker) {
        detachTask(worker, job, taskId);
        let list = perWorker.get(worker.id);
        if (!list) perWorker.set(worker.id, list = []);
        list.push({ jobId: job.id, id: taskId, instance: task.instance });
      }
    }
    setTaskState(state, job, taskId, task, target, now);
    count++;
  }
  for (const [workerId, tasks] of perWorker) {
    sendToWorker(out, workerId, { kind: "cancelTasks", tasks });
  }
  if (count > 0) state.needsSchedule = true;
  return count;
}

/** Records a heartbeat or any sign of life. */
export function onWorkerSeen(state: ServerState, workerId: WorkerId, now: number): void {
  const worker = state.workers.get(workerId);
  if (worker && worker.state === "running") worker.lastSeen = now;
}

/**
 * Ends a worker: its unfinished tasks return to waiting with a new instance;
 * running ones count a crash when `reason` is a failure.
 */
export function onWorkerLost(
  state: ServerState,
  workerId: WorkerId,
  reason: WorkerStopReason,
  now: number,
): void {
  const worker = state.workers.get(workerId);
  if (!worker || worker.state !== "running") return;
  worker.state = reason;
  worker.endedAt = now;
  state.dirtyWorkers.add(workerId);
  const crash = reason === "heartbeatLost" || reason === "connectionLost";
  for (const { jobId, taskId } of worker.tasks.values()) {
    const job = state.jobs.get(jobId);
    const task = job?.tasks.get(taskId);
    if (!job || !task || (task.state !== "assigned" && task.state !== "running")) continue;
    const wasRunning = task.state === "running";
    task.instance++;
    task.workerId = null;
    task.startedAt = null;
    if (crash && wasRunning) {
      task.crashCount++;
      if (crashLimitReached(job.template.crashLimit, task.crashCount)) {
        task.error =
          `Task was running on a worker that was lost; the task has crashed ${task.crashCount} times and the crash limit was reached`;
        setTaskState(state, job, taskId, task, "failed", now);
        continue;
      }
    }
    setTaskState(state, job, taskId, task, "waiting", now);
  }
  worker.tasks.clear();
  worker.fitLoad = 0;
  worker.prefilled = 0;
  state.needsSchedule = true;
}

/** Periodic checks: lost heartbeats and idle timeouts. */
export function onTick(state: ServerState, now: number, out: Outbox): void {
  for (const worker of state.workers.values()) {
    if (worker.state !== "running") continue;
    if (now - worker.lastSeen > 2 * worker.config.heartbeatMs) {
      onWorkerLost(state, worker.id, "heartbeatLost", now);
      continue;
    }
    if (worker.tasks.size > 0) {
      worker.lastBusyAt = now;
    } else if (
      worker.config.idleTimeoutMs !== null && now - worker.lastBusyAt > worker.config.idleTimeoutMs
    ) {
      sendToWorker(out, worker.id, { kind: "stop", reason: "idleTimeout" });
      onWorkerLost(state, worker.id, "idleTimeout", now);
    }
  }
}
