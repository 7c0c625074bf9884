/**
 * The automatic allocation pass: which queues submit how many allocations of
 * how many workers now, and why (the same reasoning feeds `hq alloc
 * explain`). Pure, driven by `now`.
 *
 * Per queue, in id order (an earlier queue takes demand first): a paused
 * queue, one in back-off or one with no room (queued allocations at the
 * backlog, workers at `--max-worker-count`) submits nothing. Otherwise the
 * server's scheduler answers how many workers of the queue's kind the
 * waiting tasks would keep busy (`queryNewWorkers`), counting the workers of
 * queued allocations as already coming. Multi-node tasks get allocations of
 * their node count first; single-node workers are split into allocations of
 * `--max-workers-per-alloc`, the remainder last; the count is capped by the
 * backlog and the worker cap. Nothing is submitted that no waiting task can
 * use.
 *
 * @module
 */
import {
  type ClassDemand,
  queryNewWorkers,
  type ServerState,
  type WorkerTypeQuery,
} from "../scheduler/mod.ts";
import { FRACTIONS_PER_UNIT, parseResourceDef, poolUnits } from "../resources/mod.ts";
import type { Queue } from "./queue.ts";
import {
  type AutoallocState,
  pendingAllocationSizes,
  queuedAllocations,
  queueWorkers,
} from "./state.ts";

/** Why a queue submits what it submits, for `hq alloc explain` and the log. */
export interface QueueDecision {
  queueId: number;
  /** Allocations to submit now, as worker counts (multi-node first). */
  submit: number[];
  /** One line per reason that limited or stopped the queue, empty when nothing did. */
  limits: string[];
  /** Waiting tasks this queue's workers would take, per request class. */
  demand: ClassDemand[];
  /** New single-node workers the waiting tasks would keep busy. */
  wantedWorkers: number;
  /** Node counts of the multi-node tasks the queue would take. */
  multiNode: number[];
  /** Queued allocations (submissions in flight included). */
  queuedAllocations: number;
  /** Workers queued and running. */
  workers: { queued: number; running: number };
  /** Whether the worker kind is a guess that a connected worker has not confirmed. */
  guessed: boolean;
  /** Until when the queue backs off after failures, ms; null when it does not. */
  backoffUntil: number | null;
}

/**
 * The worker kind a queue asks the scheduler about: the resources of a worker
 * of it that connected, else its `--cpus`/`--resource` (partial: what they do
 * not name is unknown).
 */
export function queueWorkerType(
  queue: Queue,
): Omit<WorkerTypeQuery, "maxWorkers" | "comingWorkers"> {
  const p = queue.params;
  const lifetimeMs = p.workerTimeLimitMs ?? p.timeLimitMs;
  const base = {
    lifetimeMs,
    maxWorkersPerAlloc: p.maxWorkersPerAlloc,
    minUtilization: p.minUtilization,
  };
  if (queue.observedCapacity !== null) {
    return { ...base, capacity: new Map(Object.entries(queue.observedCapacity)), partial: false };
  }
  const capacity = new Map<string, number>();
  const defs = [...(p.cpus === null ? [] : [`cpus=${p.cpus}`]), ...p.resources];
  for (const def of defs) {
    const pool = parseResourceDef(def);
    capacity.set(pool.name, poolUnits(pool) * FRACTIONS_PER_UNIT);
  }
  return { ...base, capacity, partial: true };
}

/**
 * Decides, for every queue, what to submit at `now` (see the module text).
 *
 * @example Usage
 * ```ts
 * import { decideSubmissions } from "./policy.ts";
 * import { addQueue, createAutoallocState } from "./state.ts";
 * import { testQueueParams } from "./testdata/params.ts";
 * import { createServerState, onSubmit } from "../scheduler/mod.ts";
 * import { jobSubmit } from "../scheduler/testdata/fixtures.ts";
 * import assert from "node:assert/strict";
 * const sched = createServerState("uid");
 * onSubmit(sched, jobSubmit("cpus=1", 20), 0);
 * const aa = createAutoallocState();
 * addQueue(aa, testQueueParams({ cpus: "4", backlog: 2 }), 0);
 * const [d] = decideSubmissions(aa, sched, 0);
 * assert.deepEqual(d!.submit, [1, 1]); // five workers wanted, the backlog allows two
 * ```
 */
export function decideSubmissions(
  aa: AutoallocState,
  sched: ServerState,
  now: number,
): QueueDecision[] {
  const queues = [...aa.queues.values()].sort((a, b) => a.id - b.id);
  const open: { queue: Queue; decision: QueueDecision; room: number; workerRoom: number }[] = [];
  const decisions: QueueDecision[] = [];
  for (const queue of queues) {
    const p = queue.params;
    const queued = queuedAllocations(aa, queue);
    const workers = queueWorkers(aa, queue);
    const decision: QueueDecision = {
      queueId: queue.id,
      submit: [],
      limits: [],
      demand: [],
      wantedWorkers: 0,
      multiNode: [],
      queuedAllocations: queued,
      workers,
      guessed: queue.observedCapacity === null,
      backoffUntil: now < queue.nextSubmitAt ? queue.nextSubmitAt : null,
    };
    decisions.push(decision);
    if (queue.state === "paused") {
      decision.limits.push(`paused: ${queue.pauseReason ?? "by the user"}`);
      continue;
    }
    const room = p.backlog - queued;
    const workerRoom = p.maxWorkerCount === null
      ? Infinity
      : p.maxWorkerCount - workers.queued - workers.running;
    if (decision.backoffUntil !== null) {
      decision.limits.push(
        `backing off after failures until ${new Date(decision.backoffUntil).toISOString()}`,
      );
    }
    if (room <= 0) decision.limits.push(`backlog: ${queued} of ${p.backlog} allocations queued`);
    if (workerRoom <= 0) {
      decision.limits.push(`max worker count: ${p.maxWorkerCount} workers queued or running`);
    }
    open.push({ queue, decision, room, workerRoom });
  }
  // One query per queue that can take demand, answered in queue order.
  const queries = open.map(({ queue, decision, workerRoom }) => ({
    ...queueWorkerType(queue),
    maxWorkers: Math.max(0, Math.min(workerRoom, 1_000_000)),
    comingWorkers: decision.workers.queued,
  }));
  const answers = queryNewWorkers(sched, queries, now);
  open.forEach(({ queue, decision, room, workerRoom }, i) => {
    const answer = answers[i]!;
    decision.demand = answer.classes;
    decision.wantedWorkers = answer.workers;
    decision.multiNode = answer.multiNode;
    if (decision.backoffUntil !== null || room <= 0 || workerRoom <= 0) return;
    if (answer.workers === 0 && answer.multiNode.length === 0) {
      decision.limits.push("no waiting task that a worker of this queue could run");
      return;
    }
    if (answer.workers >= workerRoom) {
      decision.limits.push(`max worker count ${queue.params.maxWorkerCount}`);
    }
    const per = queue.params.maxWorkersPerAlloc;
    // Multi-node tasks first take allocations still starting that are big enough.
    const pending = pendingAllocationSizes(aa, queue).sort((a, b) => a - b);
    const multiNode = answer.multiNode.filter((n) => {
      const i = pending.findIndex((size) => size >= n);
      if (i < 0) return true;
      pending.splice(i, 1);
      return false;
    });
    if (answer.workers === 0 && multiNode.length === 0) {
      decision.limits.push("the waiting tasks are covered by allocations still starting");
      return;
    }
    const wanted = [...multiNode];
    for (let left = answer.workers; left > 0; left -= per) wanted.push(Math.min(per, left));
    let workersLeft = workerRoom;
    for (const n of wanted) {
      if (decision.submit.length >= room) {
        decision.limits.push(`backlog ${queue.params.backlog}: ${queued(decision)} queued`);
        break;
      }
      if (n > workersLeft) break;
      decision.submit.push(n);
      workersLeft -= n;
    }
  });
  return decisions;
}

function queued(d: QueueDecision): number {
  return d.queuedAllocations + d.submit.length;
}

/**
 * Whether a pass is due at `now`: something happened and `tickMs` passed
 * since the last one, or `maxDelayMs` passed anyway. Never without queues.
 */
export function passDue(aa: AutoallocState, now: number): boolean {
  if (aa.queues.size === 0) return false;
  if (aa.lastPassAt === null) return true;
  const since = now - aa.lastPassAt;
  return (aa.wanted && since >= aa.settings.tickMs) || since >= aa.settings.maxDelayMs;
}
