/**
 * Automatic allocation's state in the server and how events change it: queues
 * added, paused, resumed and removed; allocations submitted, started by
 * their first worker, ended by their last one or by the batch system's word;
 * failures counted and the back-off and auto-pause they lead to. Pure: the
 * shell runs the batch system's commands (the {@link AutoallocAction}s) and
 * brings their results back as {@link AutoallocEvent}s.
 *
 * @module
 */
import { assertNever } from "../common/mod.ts";
import type { Allocation, AllocationState, ManagerKind, Queue, QueueParams } from "./queue.ts";
import { type AutoallocSettings, DEFAULT_AUTOALLOC_SETTINGS } from "./settings.ts";

/** What the shell must do for automatic allocation. */
export type AutoallocAction =
  /** Write `script` into the allocation dir `dir` and submit it. */
  | {
    kind: "submit";
    queueId: number;
    manager: ManagerKind;
    dir: string;
    script: string;
    workerCount: number;
    /** Files the script runs (the worker program), checked to exist before submitting. */
    requires: string[];
  }
  /** Cancel allocations (at `server stop`, `alloc remove`, a dry run's test allocation). */
  | { kind: "cancel"; manager: ManagerKind; ids: string[] }
  /** Ask the batch system for the state of allocations. */
  | { kind: "status"; manager: ManagerKind; ids: string[] }
  /** Submit `script` in `dir` and cancel it at once, to see that submitting works. */
  | {
    kind: "dryRun";
    token: number;
    manager: ManagerKind;
    dir: string;
    script: string;
    requires: string[];
  }
  /** Remove directories of allocations no longer kept. */
  | { kind: "removeDirs"; dirs: string[] };

/** What the shell saw when it did an {@link AutoallocAction}. */
export type AutoallocEvent =
  | {
    kind: "submitted";
    queueId: number;
    manager: ManagerKind;
    id: string;
    dir: string;
    workerCount: number;
  }
  | { kind: "submitFailed"; queueId: number; dir: string; error: string; workerCount: number }
  | {
    kind: "status";
    manager: ManagerKind;
    states: { id: string; state: AllocationState | null; reason: string | null }[];
  }
  | { kind: "statusFailed"; manager: ManagerKind; ids: string[]; error: string }
  | { kind: "dryRunDone"; token: number; error: string | null };

/** Automatic allocation in the server. */
export interface AutoallocState {
  settings: AutoallocSettings;
  /** Queues by id. */
  queues: Map<number, Queue>;
  nextQueueId: number;
  /** Submissions sent to the shell and not answered yet, per queue: workers they ask for. */
  inFlight: Map<number, number[]>;
  /** Last pass, ms; null before the first. */
  lastPassAt: number | null;
  /** Whether something happened that can change a pass's answer. */
  wanted: boolean;
  /** Last status query sent, ms. */
  lastRefreshAt: number;
  /** Status queries not answered yet. */
  refreshing: number;
  /** Status query errors in a row per allocation id. */
  statusErrors: Map<string, number>;
  /** Queues changed since the last commit (a removed one is missing from `queues`). */
  dirtyQueues: Set<number>;
  /** Whether `nextQueueId` changed since the last commit. */
  dirtyMeta: boolean;
  /** Number of the next dry run (its directory, `autoalloc/dry-run/<NNN>`). */
  nextDryRun: number;
  /** Directories of allocations forgotten since the last round, to remove. */
  forgottenDirs: string[];
  /** Log lines of changes no request asked for (a queue pausing itself), until taken. */
  log: string[];
}

/** An empty state with `settings`. */
export function createAutoallocState(
  settings: AutoallocSettings = DEFAULT_AUTOALLOC_SETTINGS,
): AutoallocState {
  return {
    settings,
    queues: new Map(),
    nextQueueId: 1,
    inFlight: new Map(),
    lastPassAt: null,
    wanted: false,
    lastRefreshAt: 0,
    refreshing: 0,
    statusErrors: new Map(),
    dirtyQueues: new Set(),
    dirtyMeta: false,
    nextDryRun: 1,
    forgottenDirs: [],
    log: [],
  };
}

/** Adds a queue; returns it. */
export function addQueue(aa: AutoallocState, params: QueueParams, now: number): Queue {
  const queue: Queue = {
    id: aa.nextQueueId++,
    params,
    state: "active",
    pauseReason: null,
    allocations: new Map(),
    submitFailures: 0,
    allocationFailures: 0,
    backoffStep: 0,
    nextSubmitAt: now,
    dirCounter: 0,
    observedCapacity: null,
  };
  aa.queues.set(queue.id, queue);
  aa.dirtyQueues.add(queue.id);
  aa.dirtyMeta = true;
  aa.wanted = true;
  return queue;
}

/** Allocations of a queue that may still start workers (queued or running). */
export function liveAllocations(queue: Queue): Allocation[] {
  return [...queue.allocations.values()].filter((a) =>
    a.state === "queued" || a.state === "running"
  );
}

/** The allocation with batch id `id`, with its queue. */
export function findAllocation(
  aa: AutoallocState,
  id: string,
): { queue: Queue; allocation: Allocation } | undefined {
  for (const queue of aa.queues.values()) {
    const allocation = queue.allocations.get(id);
    if (allocation) return { queue, allocation };
  }
  return undefined;
}

/** Pauses a queue (`hq alloc pause`, or a failure limit with its reason). */
export function pauseQueue(aa: AutoallocState, queue: Queue, reason: string): void {
  queue.state = "paused";
  queue.pauseReason = reason;
  aa.dirtyQueues.add(queue.id);
  aa.log.push(`[autoalloc] queue ${queue.id} paused: ${reason}`);
}

/** Resumes a queue: failure counts and back-off start over. */
export function resumeQueue(aa: AutoallocState, queue: Queue, now: number): void {
  queue.state = "active";
  queue.pauseReason = null;
  queue.submitFailures = 0;
  queue.allocationFailures = 0;
  queue.backoffStep = 0;
  queue.nextSubmitAt = now;
  aa.dirtyQueues.add(queue.id);
  aa.wanted = true;
}

/**
 * Removes a queue; returns the ids of its live allocations, for the shell to
 * cancel.
 */
export function removeQueue(aa: AutoallocState, queue: Queue): string[] {
  const live = liveAllocations(queue).map((a) => a.id);
  aa.queues.delete(queue.id);
  aa.inFlight.delete(queue.id);
  aa.dirtyQueues.add(queue.id);
  return live;
}

function backoff(aa: AutoallocState, queue: Queue, now: number): void {
  const delays = aa.settings.backoffMs;
  queue.backoffStep = Math.min(queue.backoffStep + 1, delays.length - 1);
  queue.nextSubmitAt = now + (delays[queue.backoffStep] ?? 0);
}

function endAllocation(
  aa: AutoallocState,
  queue: Queue,
  a: Allocation,
  state: "finished" | "failed",
  reason: string,
  now: number,
): void {
  if (a.state === "finished" || a.state === "failed") return;
  a.state = state;
  a.endedAt = now;
  a.endReason = reason;
  aa.dirtyQueues.add(queue.id);
  aa.wanted = true;
  aa.log.push(`[autoalloc] allocation ${a.id} of queue ${queue.id} ${state}: ${reason}`);
  if (state === "failed") {
    queue.allocationFailures++;
    backoff(aa, queue, now);
    const limit = aa.settings.maxAllocationFails;
    if (queue.state === "active" && queue.allocationFailures >= limit) {
      pauseQueue(aa, queue, `${limit} allocations failed in a row (the last: ${reason})`);
    }
  } else {
    queue.allocationFailures = 0;
  }
  pruneEnded(aa, queue);
}

/** Keeps the newest `keepEnded` ended allocations of a queue. */
function pruneEnded(aa: AutoallocState, queue: Queue): void {
  const ended = [...queue.allocations.values()].filter((a) =>
    a.state === "finished" || a.state === "failed"
  ).sort((x, y) => (x.endedAt ?? 0) - (y.endedAt ?? 0));
  for (const a of ended.slice(0, Math.max(0, ended.length - aa.settings.keepEnded))) {
    queue.allocations.delete(a.id);
    aa.forgottenDirs.push(a.dir);
  }
}

/** Applies what the shell saw; returns log lines. */
export function onAutoallocEvent(aa: AutoallocState, event: AutoallocEvent, now: number): string[] {
  const log: string[] = [];
  switch (event.kind) {
    case "submitted": {
      takeInFlight(aa, event.queueId, event.workerCount);
      const queue = aa.queues.get(event.queueId);
      if (!queue) {
        // Removed meanwhile: nobody tracks it; the shell cancels what it reports here.
        log.push(`[autoalloc] allocation ${event.id} of removed queue ${event.queueId}`);
        break;
      }
      queue.allocations.set(event.id, {
        id: event.id,
        queueId: queue.id,
        workerCount: event.workerCount,
        dir: event.dir,
        state: "queued",
        queuedAt: now,
        startedAt: null,
        endedAt: null,
        connected: {},
        disconnected: {},
        endReason: null,
      });
      queue.submitFailures = 0;
      queue.backoffStep = 0;
      aa.dirtyQueues.add(queue.id);
      log.push(
        `[autoalloc] queue ${queue.id}: submitted allocation ${event.id} (${event.workerCount} worker${
          event.workerCount === 1 ? "" : "s"
        })`,
      );
      break;
    }
    case "submitFailed": {
      takeInFlight(aa, event.queueId, event.workerCount);
      const queue = aa.queues.get(event.queueId);
      if (!queue) break;
      queue.submitFailures++;
      backoff(aa, queue, now);
      aa.dirtyQueues.add(queue.id);
      log.push(`[autoalloc] queue ${queue.id}: submitting an allocation failed: ${event.error}`);
      const limit = aa.settings.maxSubmitFails;
      if (queue.state === "active" && queue.submitFailures >= limit) {
        pauseQueue(aa, queue, `${limit} submissions failed in a row (the last: ${event.error})`);
      }
      break;
    }
    case "status": {
      aa.refreshing = Math.max(0, aa.refreshing - 1);
      for (const s of event.states) {
        aa.statusErrors.delete(s.id);
        const found = findAllocation(aa, s.id);
        if (!found || s.state === null) continue;
        const { queue, allocation: a } = found;
        if (s.state === "running" && a.state === "queued") {
          a.state = "running";
          a.startedAt = now;
          aa.dirtyQueues.add(queue.id);
        } else if (s.state === "finished" || s.state === "failed") {
          const never = Object.keys(a.connected).length === 0;
          const failed = s.state === "failed" || never;
          const why = s.reason ?? (never ? "it ended before any worker connected" : "it ended");
          endAllocation(aa, queue, a, failed ? "failed" : "finished", why, now);
        }
      }
      break;
    }
    case "statusFailed": {
      aa.refreshing = Math.max(0, aa.refreshing - 1);
      for (const id of event.ids) {
        const errors = (aa.statusErrors.get(id) ?? 0) + 1;
        aa.statusErrors.set(id, errors);
        const found = findAllocation(aa, id);
        if (!found) continue;
        const { queue, allocation: a } = found;
        // HyperQueue's limits: a queued allocation the batch system keeps failing to
        // describe failed, a running one finished.
        if (a.state === "queued" && errors > 10) {
          endAllocation(aa, queue, a, "failed", `status unknown: ${event.error}`, now);
        } else if (a.state === "running" && errors > 20) {
          endAllocation(aa, queue, a, "finished", `status unknown: ${event.error}`, now);
        }
      }
      log.push(`[autoalloc] status query failed: ${event.error}`);
      break;
    }
    case "dryRunDone":
      break;
    default:
      return assertNever(event, "autoalloc event");
  }
  return log;
}

function takeInFlight(aa: AutoallocState, queueId: number, workers: number): void {
  const list = aa.inFlight.get(queueId);
  if (!list) return;
  const i = list.indexOf(workers);
  if (i >= 0) list.splice(i, 1);
  if (list.length === 0) aa.inFlight.delete(queueId);
}

/**
 * A worker registered: when it names an allocation of a queue, the allocation
 * runs and the queue learns its workers' real resources.
 */
export function onAllocationWorker(
  aa: AutoallocState,
  workerId: number,
  manager: { kind: ManagerKind; jobId: string } | null,
  capacity: Record<string, number>,
  now: number,
): void {
  if (manager === null) return;
  const found = findAllocation(aa, manager.jobId);
  if (!found) return;
  const { queue, allocation: a } = found;
  if (a.state === "queued") {
    a.state = "running";
    a.startedAt = now;
  }
  a.connected[workerId] = now;
  queue.observedCapacity = capacity;
  aa.dirtyQueues.add(queue.id);
  aa.wanted = true;
}

/**
 * A worker ended. Its allocation finishes when every worker it asked for
 * connected and left; it failed when all of them were lost within
 * `failFastMs` of connecting.
 */
export function onAllocationWorkerEnded(
  aa: AutoallocState,
  workerId: number,
  manager: { kind: ManagerKind; jobId: string } | null,
  reason: string,
  lost: boolean,
  now: number,
): void {
  if (manager === null) return;
  const found = findAllocation(aa, manager.jobId);
  if (!found) return;
  const { queue, allocation: a } = found;
  if (a.connected[workerId] === undefined) return;
  a.disconnected[workerId] = lost ? `lost: ${reason}` : reason;
  aa.dirtyQueues.add(queue.id);
  aa.wanted = true;
  const ids = Object.keys(a.connected);
  if (ids.length < a.workerCount || !ids.every((id) => a.disconnected[Number(id)])) return;
  const fast = ids.every((id) =>
    a.disconnected[Number(id)]!.startsWith("lost: ") &&
    now - a.connected[Number(id)]! <= aa.settings.failFastMs
  );
  if (fast) {
    endAllocation(aa, queue, a, "failed", `its workers were lost within a minute (${reason})`, now);
  } else {
    endAllocation(aa, queue, a, "finished", `its workers ended (${reason})`, now);
  }
}

/**
 * Workers of a queue still to come (submissions in flight, queued allocations, workers of
 * running allocations that have not connected yet) and running (connected, not gone).
 */
export function queueWorkers(
  aa: AutoallocState,
  queue: Queue,
): { queued: number; running: number } {
  let queued = (aa.inFlight.get(queue.id) ?? []).reduce((s, n) => s + n, 0);
  let running = 0;
  for (const a of liveAllocations(queue)) {
    const connected = Object.keys(a.connected).length;
    queued += Math.max(0, a.workerCount - connected);
    running += connected - Object.keys(a.disconnected).length;
  }
  return { queued, running };
}

/**
 * Sizes of the allocations of a queue whose workers are still to come, whole or in part:
 * submissions in flight, queued allocations, and running ones not all of whose workers
 * connected. A multi-node task waits for one of these rather than for a new allocation.
 */
export function pendingAllocationSizes(aa: AutoallocState, queue: Queue): number[] {
  const sizes = [...(aa.inFlight.get(queue.id) ?? [])];
  for (const a of liveAllocations(queue)) {
    if (Object.keys(a.connected).length < a.workerCount) sizes.push(a.workerCount);
  }
  return sizes;
}

/** Queued allocations of a queue, submissions in flight included. */
export function queuedAllocations(aa: AutoallocState, queue: Queue): number {
  const live = liveAllocations(queue).filter((a) => a.state === "queued").length;
  return live + (aa.inFlight.get(queue.id)?.length ?? 0);
}
