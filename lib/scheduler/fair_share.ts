/**
 * Fair shares of a class's unstarted tasks between workers, by speed. A worker's prefill cap
 * grows with its round trip (`prefill_cap.ts`), so without a bound the worker on the slowest
 * link would hold the most when the queue runs dry and end last, a round trip of its own or
 * more after the others. Bounded by its share of what is left, every worker holds about as
 * much work as it can run in the time the others need for theirs, and they end together.
 *
 * A worker's speed for a class is how many of its tasks it runs at once when empty (the best
 * variant) over its measured mean run time (the others' mean while it has none).
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { RequestClass, WorkerRecord } from "./state.ts";
import { copiesIn } from "./worker_load.ts";

/** How many tasks of the class the worker runs at once when it is empty, with its best variant. */
export function slotsFor(cls: RequestClass, w: WorkerRecord): number {
  let best = 0;
  for (const req of cls.variants) {
    const n = copiesIn(req, w.capacity, w.capacity, Infinity);
    best = Math.max(best, n === Infinity ? 1 : n);
  }
  return best;
}

/**
 * Each worker's share of `total` unstarted tasks of the class, in proportion to its speed,
 * rounded up (so shares never leave a task without a worker).
 *
 * @example Usage
 * ```ts
 * import { fairShares } from "./fair_share.ts";
 * import type { RequestClass, WorkerRecord } from "./state.ts";
 * import assert from "node:assert/strict";
 * const cls = { variants: [{ entries: [{ resource: "cpus", amount: 10000, policy: "compact" }] }] };
 * const worker = (id: number, cpus: number) => ({
 *   id,
 *   capacity: new Map([["cpus", cpus * 10000]]),
 *   meanRunMs: 3,
 * });
 * const shares = fairShares(
 *   cls as unknown as RequestClass,
 *   [worker(1, 2), worker(2, 2), worker(3, 4)] as unknown as WorkerRecord[],
 *   100,
 * );
 * assert.deepEqual([...shares], [[1, 25], [2, 25], [3, 50]]);
 * ```
 */
export function fairShares(
  cls: RequestClass,
  workers: readonly WorkerRecord[],
  total: number,
): Map<WorkerId, number> {
  // A worker that has not finished a task yet is taken to be as fast as the others.
  const usual = meanOfKnown(workers.map((w) => w.meanRunMs)) ?? 1;
  const speeds = workers.map((w) => slotsFor(cls, w) / Math.max(w.meanRunMs ?? usual, 0.1));
  const sum = speeds.reduce((a, b) => a + b, 0);
  const shares = new Map<WorkerId, number>();
  workers.forEach((w, i) => {
    shares.set(w.id, sum > 0 ? Math.ceil(total * speeds[i]! / sum) : total);
  });
  return shares;
}

/** The mean of the values that are known (not null); null when none is. */
export function meanOfKnown(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 ? known.reduce((a, b) => a + b, 0) / known.length : null;
}

/** Unstarted tasks of the class on workers (prefilled, retracts in flight included). */
export function heldTotal(cls: RequestClass): number {
  let n = 0;
  for (const held of cls.prefillHolders.values()) n += held;
  return n;
}
