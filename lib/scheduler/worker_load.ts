/**
 * Server-side resource accounting of workers: totals and free amounts per
 * resource in fixed point. The server counts amounts only; the worker picks
 * concrete indices and soft-rejects what fragmentation keeps it from placing.
 *
 * @module
 */
import type { WorkerConfig } from "../protocol/mod.ts";
import {
  type Amount,
  FRACTIONS_PER_UNIT,
  poolUnits,
  type ResourceEntry,
  type ResourceRequest,
} from "../resources/mod.ts";
import type { WorkerRecord } from "./state.ts";

/** Total amount per resource of a worker config. */
export function workerCapacity(config: WorkerConfig): Map<string, Amount> {
  const capacity = new Map<string, Amount>();
  for (const pool of config.resources) {
    capacity.set(pool.name, poolUnits(pool) * FRACTIONS_PER_UNIT);
  }
  return capacity;
}

/** Amount an entry takes on a worker (the whole pool for `all`). */
export function entryAmount(entry: ResourceEntry, capacity: Map<string, Amount>): Amount {
  return entry.policy === "all" ? capacity.get(entry.resource) ?? 0 : entry.amount;
}

/** Whether the worker has enough of every requested resource when empty. */
export function fitsCapacity(request: ResourceRequest, worker: WorkerRecord): boolean {
  for (const entry of request.entries) {
    const total = worker.capacity.get(entry.resource) ?? 0;
    if (total === 0 || entryAmount(entry, worker.capacity) > total) return false;
  }
  return true;
}

/** Whether the worker lives long enough for the request's time request. */
export function fitsTime(request: ResourceRequest, worker: WorkerRecord, now: number): boolean {
  return worker.endsAt === null || now + request.minTimeMs <= worker.endsAt;
}

/** How many copies of the request fit in the worker's free resources, at most `limit`. */
export function fitCount(request: ResourceRequest, worker: WorkerRecord, limit: number): number {
  return copiesIn(request, worker.free, worker.capacity, limit);
}

/**
 * How many copies of the request fit in `amounts` (a worker's free or total resources), at
 * most `limit`; `capacity` sizes the entries that take a whole pool.
 */
export function copiesIn(
  request: ResourceRequest,
  amounts: ReadonlyMap<string, Amount>,
  capacity: Map<string, Amount>,
  limit: number,
): number {
  let n = limit;
  for (const entry of request.entries) {
    const amount = entryAmount(entry, capacity);
    if (amount === 0) continue;
    const k = Math.floor((amounts.get(entry.resource) ?? 0) / amount);
    if (k < n) n = k;
    if (n === 0) return 0;
  }
  return n;
}

/**
 * Takes `times` copies of the request's amounts from the worker's free pool
 * (a negative `times` gives them back).
 */
export function holdResources(request: ResourceRequest, worker: WorkerRecord, times: number): void {
  for (const entry of request.entries) {
    const amount = entryAmount(entry, worker.capacity);
    worker.free.set(entry.resource, (worker.free.get(entry.resource) ?? 0) - times * amount);
  }
}

/** CPUs in use (fixed point). */
export function cpusUsed(worker: WorkerRecord): Amount {
  return (worker.capacity.get("cpus") ?? 0) - (worker.free.get("cpus") ?? 0);
}
