/**
 * Synchronous reactors: apply one event to the server state and push the
 * resulting worker messages into an {@link Outbox}. No I/O, no clock reads.
 *
 * @module
 */
import { assertNever, type TaskId, type WorkerId } from "../common/mod.ts";
import type { TaskRef, TaskUpdate, ToWorkerMsg } from "../protocol/mod.ts";
import type { ResourceRequest } from "../resources/mod.ts";
import {
  areTasksDone,
  isJobComplete,
  isReady,
  isTerminal,
  isWorkerBusy,
  type Job,
  markTaskDirty,
  partOf,
  type RequestClass,
  type ServerState,
  type TaskRecord,
  type TaskState,
  type WorkerRecord,
  type WorkerSlot,
} from "./state.ts";
import { ClassQueue } from "./task_queue.ts";
import { settleEnds } from "./job_events.ts";
import { holdResources } from "./worker_load.ts";
import { onMultiNodeSlotReleased } from "./multinode.ts";
import { adoptStarted } from "./reattach.ts";
import { sampleRunTime } from "./prefill_cap.ts";
import { stopPristine } from "./stop_pristine.ts";

/** Messages to send after the round's commit, batched per worker. */
export type Outbox = Map<WorkerId, ToWorkerMsg[]>;

/** Queues a message for a worker. */
export function sendToWorker(out: Outbox, workerId: WorkerId, msg: ToWorkerMsg): void {
  let list = out.get(workerId);
  if (!list) out.set(workerId, list = []);
  list.push(msg);
}

/** The class of a set of request variants, created on first use. */
export function ensureClass(state: ServerState, variants: ResourceRequest[]): RequestClass {
  const key = JSON.stringify(variants);
  const found = state.classKeys.get(key);
  if (found !== undefined) return state.classes.get(found)!;
  const cls: RequestClass = {
    id: state.classes.size + 1,
    key,
    variants,
    queue: new ClassQueue(),
    prefillHolders: new Map(),
    retracting: 0,
    endgame: false,
  };
  state.classes.set(cls.id, cls);
  state.classKeys.set(key, cls.id);
  return cls;
}

/** Moves a task to a new state, keeping counters, queues, dirty sets and completion up to date. */
export function setTaskState(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  task: TaskRecord,
  next: TaskState,
  now: number,
): void {
  const part = partOf(job, taskId);
  const queue = state.classes.get(part.classId)!.queue;
  const priority = part.template.priority;
  if (task.state === "waiting" && isReady(job, taskId, part)) queue.count(priority, -1);
  job.counts[task.state]--;
  job.counts[next]++;
  task.state = next;
  markTaskDirty(state, job.id, taskId);
  if (next === "waiting") {
    queue.count(priority, 1);
    queue.push(job.id, priority, taskId);
    state.changedClasses.add(part.classId);
    state.needsSchedule = true;
  }
  if (isTerminal(next)) {
    task.finishedAt = now;
    job.blocked.delete(taskId);
    const pending = state.pendingEnds;
    if (job.dependents.has(taskId)) pending.ended.push({ jobId: job.id, taskId });
    if (isJobComplete(job)) {
      job.completedAt = now;
      if (state.afterWaiters.has(job.id)) pending.completed.push(job.id);
    }
    settleEnds(state, now);
  } else {
    job.completedAt = null;
  }
}

/**
 * Counts `n` waiting tasks of a job as `assigned` (their records are already
 * set): the hot path of a round, so it skips what {@link setTaskState} does
 * for other moves. An assignment is not journaled: restoring it or its
 * previous record both give a waiting task.
 */
export function assignTasks(
  state: ServerState,
  job: Job,
  classId: number,
  priority: number,
  n: number,
): void {
  state.classes.get(classId)!.queue.count(priority, -n);
  job.counts.waiting -= n;
  job.counts.assigned += n;
}

/** Records that a worker gains (`delta` 1) or loses (-1) an unstarted prefilled task. */
export function countPrefill(
  state: ServerState,
  worker: WorkerRecord,
  slot: WorkerSlot,
  delta: 1 | -1,
): void {
  worker.prefilled += delta;
  const cls = state.classes.get(slot.classId)!;
  const n = (cls.prefillHolders.get(worker.id) ?? 0) + delta;
  if (n <= 0) cls.prefillHolders.delete(worker.id);
  else cls.prefillHolders.set(worker.id, n);
  const p = (state.prefillByPriority.get(slot.priority) ?? 0) + delta;
  if (p <= 0) state.prefillByPriority.delete(slot.priority);
  else state.prefillByPriority.set(slot.priority, p);
  if (slot.retracting && delta === -1) {
    slot.retracting = false;
    cls.retracting--;
  }
}

/** Makes a slot hold (`sign` 1) or let go of (-1) its variant's resources. */
export function holdSlot(state: ServerState, worker: WorkerRecord, slot: WorkerSlot, sign: 1 | -1) {
  holdResources(state.classes.get(slot.classId)!.variants[slot.variant!]!, worker, sign);
  const n = (worker.classLoad.get(slot.classId) ?? 0) + sign;
  if (n <= 0) worker.classLoad.delete(slot.classId);
  else worker.classLoad.set(slot.classId, n);
}

/**
 * Removes a task from a worker, giving its resources back. A task that held
 * resources (assigned to run or running) restarts the idle clock of its
 * worker, and of every worker of its multi-node run.
 */
export function releaseSlot(
  state: ServerState,
  worker: WorkerRecord,
  slot: WorkerSlot,
  now: number,
): void {
  worker.tasks.delete(slot.record);
  if (slot.variant === null) {
    countPrefill(state, worker, slot, -1);
    return;
  }
  holdSlot(state, worker, slot, -1);
  worker.lastBusyAt = now;
  const run = worker.multiNode;
  if (run !== null && run.record === slot.record) {
    for (const id of run.nodes) {
      const node = state.workers.get(id);
      if (node) node.lastBusyAt = now;
    }
  }
  onMultiNodeSlotReleased(state, worker, slot.record);
  worker.blocked.clear();
  state.changedWorkers.add(worker.id);
  state.needsSchedule = true;
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
    const task = state.jobs.get(update.jobId)?.tasks.get(update.id);
    const slot = task && worker.tasks.get(task);
    if (!task || !slot) {
      // An attempt the server did not place here: adopted while the worker reattaches
      // (see `reattach.ts`), otherwise stopped, so that no task runs twice.
      if (update.kind === "started" && !adoptStarted(state, worker, update, now)) {
        const ref = { jobId: update.jobId, id: update.id, instance: update.instance };
        sendToWorker(out, workerId, { kind: "cancelTasks", tasks: [ref] });
      }
      continue;
    }
    const job = state.jobs.get(update.jobId)!;
    if (task.instance !== update.instance) continue;
    // A variant the job does not have (a forged or damaged record) never reaches the accounting.
    if (
      (update.kind === "started" || update.kind === "rejected") &&
      partOf(job, update.id).template.requests[update.variant] === undefined
    ) continue;
    if (slot.canceled) {
      // The server already ended the task; only the worker's resources are left to settle.
      if (update.kind === "started") {
        if (slot.variant === null) {
          countPrefill(state, worker, slot, -1);
          slot.variant = update.variant;
          holdSlot(state, worker, slot, 1);
        }
      } else {
        releaseSlot(state, worker, slot, now);
      }
      continue;
    }
    switch (update.kind) {
      case "started": {
        if (task.state !== "assigned") break;
        if (slot.variant === null) {
          countPrefill(state, worker, slot, -1);
          slot.variant = update.variant;
          holdSlot(state, worker, slot, 1);
        }
        slot.retracting = false;
        task.variant = slot.variant;
        task.startedAt = update.at;
        worker.lastTaskStartedAt = update.at;
        setTaskState(state, job, update.id, task, "running", now);
        break;
      }
      case "finished":
        if (task.startedAt !== null) sampleRunTime(worker, update.at - task.startedAt);
        releaseSlot(state, worker, slot, now);
        setTaskState(state, job, update.id, task, "finished", now);
        task.finishedAt = update.at;
        break;
      case "failed":
        releaseSlot(state, worker, slot, now);
        task.error = update.error;
        setTaskState(state, job, update.id, task, "failed", now);
        task.finishedAt = update.at;
        checkMaxFails(state, job, now, out);
        break;
      case "returned":
      case "rejected":
        if (task.state !== "assigned") break;
        releaseSlot(state, worker, slot, now);
        // Blocked until the worker frees resources: a worker that holds nothing frees none, and
        // a rejection there cannot be fragmentation.
        if (update.kind === "rejected" && worker.classLoad.size > 0) {
          worker.blocked.add(`${slot.classId}:${update.variant}`);
        }
        task.workerId = null;
        task.variant = null;
        setTaskState(state, job, update.id, task, "waiting", now);
        break;
      case "canceled":
        // Only the server cancels; a canceled slot was handled above.
        break;
      default:
        assertNever(update, "task update");
    }
  }
  if (isWorkerBusy(worker)) worker.lastBusyAt = now;
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
  if (areTasksDone(job)) return 0;
  const perWorker = new Map<WorkerId, TaskRef[]>();
  let count = 0;
  const stopOne = (taskId: TaskId, task: TaskRecord) => {
    if (isTerminal(task.state)) return;
    if (task.workerId !== null && (task.state === "assigned" || task.state === "running")) {
      const worker = state.workers.get(task.workerId);
      const slot = worker?.tasks.get(task);
      if (worker && slot) {
        slot.canceled = true;
        let list = perWorker.get(worker.id);
        if (!list) perWorker.set(worker.id, list = []);
        list.push({ jobId: job.id, id: taskId, instance: task.instance });
      }
    }
    setTaskState(state, job, taskId, task, target, now);
    count++;
  };
  // Dependents in this job are stopped with it (not aborted for a dependency): settle after.
  const pending = state.pendingEnds;
  const wasSettling = pending.settling;
  pending.settling = true;
  for (const [taskId, task] of job.tasks) stopOne(taskId, task);
  // Tasks that never left the queue end together, with one record.
  count += stopPristine(state, job, target, now);
  pending.settling = wasSettling;
  settleEnds(state, now);
  for (const part of job.parts) state.classes.get(part.classId)!.queue.removeJob(job.id);
  // Waiting tasks may have kept workers reserved; the next round looks at those again.
  state.needsSchedule = true;
  for (const [workerId, tasks] of perWorker) {
    sendToWorker(out, workerId, { kind: "cancelTasks", tasks });
  }
  return count;
}
