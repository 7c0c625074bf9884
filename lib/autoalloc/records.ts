/**
 * Automatic allocation in the journal: queues with their allocations as
 * stored records, the changes of a round, and the state rebuilt from them
 * at a restart (queues keep their ids and counters; live allocations stay
 * tracked, and their workers reattach like any other).
 *
 * @module
 */
import type { Allocation, Queue, QueueParams } from "./queue.ts";
import type { AutoallocSettings } from "./settings.ts";
import { type AutoallocState, createAutoallocState } from "./state.ts";

/** A queue as stored, with its allocations. */
export interface QueueRecord {
  id: number;
  params: QueueParams;
  state: Queue["state"];
  pauseReason: string | null;
  submitFailures: number;
  allocationFailures: number;
  backoffStep: number;
  nextSubmitAt: number;
  dirCounter: number;
  observedCapacity: Record<string, number> | null;
  allocations: Allocation[];
}

/** Automatic allocation's changes of one round. */
export interface QueueBatch {
  /** Queues added or changed. */
  queues: QueueRecord[];
  /** Ids of queues removed. */
  queuesRemoved: number[];
  /** The next queue id, when it changed. */
  nextQueueId?: number;
}

/** The stored form of a queue. */
export function queueRecord(queue: Queue): QueueRecord {
  return structuredClone({
    id: queue.id,
    params: queue.params,
    state: queue.state,
    pauseReason: queue.pauseReason,
    submitFailures: queue.submitFailures,
    allocationFailures: queue.allocationFailures,
    backoffStep: queue.backoffStep,
    nextSubmitAt: queue.nextSubmitAt,
    dirCounter: queue.dirCounter,
    observedCapacity: queue.observedCapacity,
    allocations: [...queue.allocations.values()],
  });
}

/** Takes the changes since the last call (queues changed or removed, the id counter). */
export function takeQueueBatch(aa: AutoallocState): QueueBatch {
  const batch: QueueBatch = { queues: [], queuesRemoved: [] };
  for (const id of aa.dirtyQueues) {
    const queue = aa.queues.get(id);
    if (queue) batch.queues.push(queueRecord(queue));
    else batch.queuesRemoved.push(id);
  }
  aa.dirtyQueues.clear();
  if (aa.dirtyMeta) {
    batch.nextQueueId = aa.nextQueueId;
    aa.dirtyMeta = false;
  }
  return batch;
}

/**
 * The state stored `records` describe. Live allocations are checked with the
 * batch system at once (the first round queries their status).
 *
 * @example Usage
 * ```ts
 * import { queueRecord, restoreAutoalloc } from "./records.ts";
 * import { addQueue, createAutoallocState } from "./state.ts";
 * import { testQueueParams } from "./testdata/params.ts";
 * import assert from "node:assert/strict";
 * const aa = createAutoallocState();
 * const queue = addQueue(aa, testQueueParams({ backlog: 3 }), 0);
 * const again = restoreAutoalloc([queueRecord(queue)], 2);
 * assert.equal(again.queues.get(1)?.params.backlog, 3);
 * assert.equal(again.nextQueueId, 2);
 * ```
 */
export function restoreAutoalloc(
  records: readonly QueueRecord[],
  nextQueueId: number,
  settings?: AutoallocSettings,
): AutoallocState {
  const aa = createAutoallocState(settings);
  for (const r of records) {
    const { allocations, ...rest } = structuredClone(r);
    aa.queues.set(r.id, { ...rest, allocations: new Map(allocations.map((a) => [a.id, a])) });
  }
  aa.nextQueueId = Math.max(nextQueueId, ...records.map((r) => r.id + 1), 1);
  aa.lastRefreshAt = -Infinity;
  aa.wanted = aa.queues.size > 0;
  return aa;
}
