/**
 * Reactors for workers: registration, signs of life, loss, and the periodic
 * checks (heartbeats, idle timeouts). No I/O, no clock reads.
 *
 * @module
 */
import { idSetHas, type WorkerId } from "../common/mod.ts";
import type { CrashLimit, WorkerConfig, WorkerStopReason } from "../protocol/mod.ts";
import {
  isWorkerBusy,
  materializeTask,
  partOf,
  type ServerState,
  type WorkerRecord,
} from "./state.ts";
import { workerCapacity } from "./worker_load.ts";
import { onMultiNodeWorkerLost } from "./multinode.ts";
import { countPrefill, type Outbox, sendToWorker, setTaskState } from "./reactor.ts";

/** A fresh worker record; `now` is the server clock. */
export function newWorkerRecord(
  id: WorkerId,
  key: string,
  config: WorkerConfig,
  now: number,
): WorkerRecord {
  const capacity = workerCapacity(config);
  return {
    id,
    key,
    config,
    state: "running",
    registeredAt: now,
    endedAt: null,
    lastSeen: now,
    lastBusyAt: now,
    lastTaskStartedAt: null,
    endsAt: config.timeLimitMs === null ? null : now + config.timeLimitMs,
    capacity,
    free: new Map(capacity),
    prefilled: 0,
    tasks: new Map(),
    classLoad: new Map(),
    blocked: new Set(),
    multiNode: null,
    reattaching: false,
    roundTripMs: null,
    roundTripSamples: 0,
    meanRunMs: null,
    steadyRunMs: null,
    runSamples: 0,
  };
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
  state.workers.set(id, newWorkerRecord(id, key, config, now));
  state.workerKeys.set(key, id);
  state.dirtyWorkers.add(id);
  state.changedWorkers.add(id);
  state.needsSchedule = true;
  sendToWorker(out, id, { kind: "registered", workerId: id, serverUid: state.serverUid });
  return id;
}

/** Whether a task has crashed as often as its limit allows. */
export function crashLimitReached(limit: CrashLimit, crashes: number): boolean {
  if (limit === "unlimited") return false;
  if (limit === "never-restart") return crashes >= 1;
  return crashes >= limit;
}

/** Whether a worker's end counts as a crash for its running tasks (HyperQueue's `is_failure`). */
export function isWorkerFailure(reason: WorkerStopReason): boolean {
  return reason === "heartbeatLost" || reason === "connectionLost";
}

/** Error of a `--crash-limit never-restart` task whose worker ended while it ran. */
export const NEVER_RESTART_ERROR =
  "Task was running on a lost worker while never restart flag was set.";

/** Error of a task whose lost workers reached its crash limit. */
export function crashLimitError(count: number): string {
  return `Task was running on a worker that was lost; the task has occurred ${count} times in this situation and limit was reached.`;
}

/** Records a heartbeat or any sign of life. */
export function onWorkerSeen(state: ServerState, workerId: WorkerId, now: number): void {
  const worker = state.workers.get(workerId);
  if (worker && worker.state === "running") worker.lastSeen = now;
}

/**
 * Ends a worker: its unfinished tasks return to waiting with a new instance.
 * A running task fails at once with `--crash-limit never-restart` (whatever
 * the reason); otherwise it counts a crash when `reason` is a failure
 * ({@link isWorkerFailure}) and fails when that reaches its crash limit. A
 * worker of a multi-node task leaves it (see `multinode.ts`).
 */
export function onWorkerLost(
  state: ServerState,
  workerId: WorkerId,
  reason: WorkerStopReason,
  now: number,
): void {
  const worker = state.workers.get(workerId);
  if (!worker || worker.state !== "running") return;
  if (worker.reattaching) renewSentBeforeRestart(state, workerId, now);
  worker.state = reason;
  worker.endedAt = now;
  worker.reattaching = false;
  state.dirtyWorkers.add(workerId);
  state.changedWorkers.delete(workerId);
  const crash = isWorkerFailure(reason);
  for (const slot of worker.tasks.values()) {
    if (slot.variant === null) countPrefill(state, worker, slot, -1);
    const job = state.jobs.get(slot.jobId);
    if (!job || slot.canceled) continue;
    const task = materializeTask(job, slot.taskId);
    if (task.state !== "assigned" && task.state !== "running") continue;
    const wasRunning = task.state === "running";
    task.instance++;
    task.workerId = null;
    task.variant = null;
    task.startedAt = null;
    const crashLimit = partOf(job, slot.taskId).template.crashLimit;
    if (wasRunning && crashLimit === "never-restart") {
      task.error = NEVER_RESTART_ERROR;
      setTaskState(state, job, slot.taskId, task, "failed", now);
      continue;
    }
    if (wasRunning && crash) {
      task.crashCount++;
      if (crashLimitReached(crashLimit, task.crashCount)) {
        task.error = crashLimitError(task.crashCount);
        setTaskState(state, job, slot.taskId, task, "failed", now);
        continue;
      }
    }
    setTaskState(state, job, slot.taskId, task, "waiting", now);
  }
  onMultiNodeWorkerLost(state, worker);
  worker.tasks.clear();
  worker.classLoad.clear();
  worker.free = new Map(worker.capacity);
  worker.blocked.clear();
  state.needsSchedule = true;
}

/**
 * A restored worker is lost before it reattached: the tasks the dead server sent it that wait
 * again may have run there (their starts never reached a journal), so each gets a new
 * instance id, keeping its output apart from that attempt's.
 */
function renewSentBeforeRestart(state: ServerState, workerId: WorkerId, now: number): void {
  for (const ref of state.sentBeforeRestart.get(workerId) ?? []) {
    const job = state.jobs.get(ref.jobId);
    if (!job || !idSetHas(job.ids, ref.id)) continue;
    const task = materializeTask(job, ref.id);
    if (task.state !== "waiting" || task.instance !== ref.instance) continue;
    task.instance++;
    setTaskState(state, job, ref.id, task, "waiting", now);
  }
  state.sentBeforeRestart.delete(workerId);
}

/**
 * Periodic checks: lost heartbeats, idle timeouts, reservations that lapse
 * with time. A worker idles from its registration or from when its last
 * assigned or running task left ({@link isWorkerBusy}; the reactors restart
 * the clock then), and is stopped once it idled for its idle timeout.
 */
export function onTick(state: ServerState, now: number, out: Outbox): void {
  if (state.scheduleAt !== null && now >= state.scheduleAt) {
    state.scheduleAt = null;
    state.needsSchedule = true;
  }
  for (const worker of state.workers.values()) {
    if (worker.state !== "running") continue;
    if (now - worker.lastSeen > 2 * worker.config.heartbeatMs) {
      // A worker that is only slow (a stopped process, a lagging mount) reads this later and
      // stops its tasks: they run elsewhere now.
      sendToWorker(out, worker.id, { kind: "stop", reason: "heartbeatLost" });
      onWorkerLost(state, worker.id, "heartbeatLost", now);
      continue;
    }
    const idleTimeout = worker.config.idleTimeoutMs ?? state.config.workerIdleTimeoutMs ?? null;
    if (isWorkerBusy(worker)) {
      worker.lastBusyAt = now;
    } else if (
      idleTimeout !== null && now - worker.lastBusyAt > idleTimeout
    ) {
      sendToWorker(out, worker.id, { kind: "stop", reason: "idleTimeout" });
      onWorkerLost(state, worker.id, "idleTimeout", now);
    }
  }
}
