/**
 * Reattachment of workers to a server that took over a crashed server's
 * instance. The journal knows which tasks ran where at its last commit, but
 * not the assignments that followed it (they are not journaled) nor the starts
 * the workers made while no server ran. So:
 *
 * - restored workers are `reattaching`, and no scheduling pass runs until
 *   each has answered the new server's `serverRestarted` or
 *   {@link expireReattach} declares it lost;
 * - a `started` update from a reattaching worker for a task the server holds
 *   as waiting, with the same instance, is adopted: the task runs there;
 * - the worker's `reattached` answer lists what it still runs: anything else
 *   the server placed there is gone and waits again, and a listed attempt the
 *   server does not hold there is canceled on the worker.
 *
 * No I/O, no clock reads.
 *
 * @module
 */
import { idSetHas, type TaskId, type WorkerId } from "../common/mod.ts";
import type { RunningTaskRef, TaskRef, TaskUpdate } from "../protocol/mod.ts";
import { isMultiNode } from "../resources/mod.ts";
import {
  type Job,
  materializeTask,
  partOf,
  type ServerState,
  type WorkerRecord,
  type WorkerSlot,
} from "./state.ts";
import type { TaskRecord } from "./task.ts";
import { holdSlot, type Outbox, releaseSlot, sendToWorker, setTaskState } from "./reactor.ts";
import { onWorkerLost } from "./worker_events.ts";

/** How long a server that took over waits for its restored workers, ms. */
export const REATTACH_WAIT_MS = 15_000;

/** Whether scheduling must wait for workers that may run tasks the server does not know of. */
export function awaitingReattach(state: ServerState): boolean {
  return state.reattachUntil !== null;
}

/**
 * Adopts a task a reattaching worker reports started while the server holds it
 * as waiting with the same instance (assigned by the dead server, or started
 * while no server ran). Returns false when the update is not adoptable.
 */
export function adoptStarted(
  state: ServerState,
  worker: WorkerRecord,
  update: Extract<TaskUpdate, { kind: "started" }>,
  now: number,
): boolean {
  if (!worker.reattaching) return false;
  const job = state.jobs.get(update.jobId);
  if (!job || !idSetHas(job.ids, update.id)) return false;
  const task = materializeTask(job, update.id);
  if (task.state !== "waiting" || task.instance !== update.instance) return false;
  if (!holdRunning(state, worker, job, update.id, task, update.variant)) return false;
  task.workerId = worker.id;
  task.variant = update.variant;
  task.startedAt = update.at;
  worker.lastTaskStartedAt = update.at;
  setTaskState(state, job, update.id, task, "running", now);
  return true;
}

/**
 * Gives `worker` a slot holding the resources of `variant` for a task that runs there (a
 * single-node variant the job has); false, changing nothing, otherwise. The task's own
 * record is the caller's to update.
 */
export function holdRunning(
  state: ServerState,
  worker: WorkerRecord,
  job: Job,
  taskId: TaskId,
  task: TaskRecord,
  variant: number,
): boolean {
  const part = partOf(job, taskId);
  const request = part.template.requests[variant];
  if (request === undefined || isMultiNode(request)) return false;
  const slot: WorkerSlot = {
    record: task,
    jobId: job.id,
    taskId,
    classId: part.classId,
    priority: part.template.priority,
    variant,
    retracting: false,
    canceled: false,
  };
  worker.tasks.set(task, slot);
  holdSlot(state, worker, slot, 1);
  return true;
}

/**
 * A reattaching worker answered: reconciles what the server holds on it with
 * what it still `running`, ends its reattachment, and lets scheduling resume
 * once no worker is left reattaching.
 */
export function onWorkerReattached(
  state: ServerState,
  workerId: WorkerId,
  running: readonly RunningTaskRef[],
  now: number,
  out: Outbox,
): void {
  const worker = state.workers.get(workerId);
  if (!worker || worker.state !== "running" || !worker.reattaching) return;
  const listed = new Map<string, RunningTaskRef>();
  for (const r of running) listed.set(`${r.jobId}:${r.id}:${r.instance}`, r);
  for (const slot of [...worker.tasks.values()]) {
    const key = `${slot.jobId}:${slot.taskId}:${slot.record.instance}`;
    if (listed.delete(key)) continue;
    // Placed here, not running here: ended unreported or never started. It runs again.
    const job = state.jobs.get(slot.jobId)!;
    releaseSlot(state, worker, slot, now);
    if (slot.canceled) continue;
    const task = slot.record;
    task.instance++;
    task.workerId = null;
    task.variant = null;
    task.startedAt = null;
    setTaskState(state, job, slot.taskId, task, "waiting", now);
  }
  const stale: TaskRef[] = [];
  for (const r of listed.values()) {
    const update = { kind: "started" as const, ...r, at: r.startedAt };
    if (!adoptStarted(state, worker, update, now)) {
      stale.push({ jobId: r.jobId, id: r.id, instance: r.instance });
    }
  }
  if (stale.length > 0) sendToWorker(out, workerId, { kind: "cancelTasks", tasks: stale });
  worker.reattaching = false;
  worker.lastSeen = now;
  state.sentBeforeRestart.delete(workerId);
  state.changedWorkers.add(workerId);
  endReattachIfDone(state);
}

/**
 * Once the wait is over, declares the workers that did not reattach lost and
 * tells them to stop; returns their ids.
 */
export function expireReattach(state: ServerState, now: number, out: Outbox): WorkerId[] {
  if (state.reattachUntil === null || now < state.reattachUntil) return [];
  const lost: WorkerId[] = [];
  for (const w of state.workers.values()) {
    if (w.state !== "running" || !w.reattaching) continue;
    sendToWorker(out, w.id, { kind: "stop", reason: "connectionLost" });
    onWorkerLost(state, w.id, "connectionLost", now);
    lost.push(w.id);
  }
  state.reattachUntil = null;
  state.needsSchedule = true;
  return lost;
}

/** Ends the wait when no running worker is reattaching any more. */
export function endReattachIfDone(state: ServerState): void {
  if (state.reattachUntil === null) return;
  for (const w of state.workers.values()) if (w.state === "running" && w.reattaching) return;
  state.reattachUntil = null;
  state.needsSchedule = true;
}
