/**
 * The worker-local allocator: picks concrete indices (CPUs, GPUs, ...) and sum-pool amounts for
 * a task's request, following HyperQueue's policies (`compact`, `compact!`, `tight`, `tight!`,
 * `scatter`, `all`) and fractional rules. Pure: no I/O, no clock, no randomness.
 *
 * @module
 */
import { type Amount, FRACTIONS_PER_UNIT } from "./amount.ts";
import type { ResourcePool } from "./descriptor.ts";
import type { ResourceEntry, ResourceRequest } from "./request.ts";
import { IndexedPool } from "./_indexed_pool.ts";

/** What one task received of one resource. */
export interface AllocatedResource {
  resource: string;
  /**
   * Indices taken, with the fraction of each (10000 for a whole index); whole indices first,
   * a partially used index last. Empty for sum pools.
   */
  indices: { label: string; fraction: Amount }[];
  /** Total amount taken, in fixed point (the whole pool for the policy `all`). */
  amount: Amount;
}

/** What one task received: one item per requested resource, in request order. */
export interface Allocation {
  resources: AllocatedResource[];
}

/** The allocation of the first request variant that fits, and its 0-based index. */
export interface VariantAllocation {
  /** 0-based index into the variants given to {@link ResourceAllocator.tryAllocateVariants}. */
  variant: number;
  allocation: Allocation;
}

/** Free state of a sum pool. */
interface SumState {
  kind: "sum";
  name: string;
  capacity: Amount;
  free: Amount;
}

type PoolState = SumState | { kind: "indexed"; pool: IndexedPool };

/**
 * Allocates a worker's resource pools to tasks and takes them back.
 *
 * @example Usage
 * ```ts
 * import { allocationValues, ResourceAllocator } from "./allocator.ts";
 * import { parsePool } from "./descriptor.ts";
 * import assert from "node:assert/strict";
 * const allocator = new ResourceAllocator([parsePool("cpus", "3x4")]);
 * const request = {
 *   entries: [{ resource: "cpus", amount: 60000, policy: "tight" as const }],
 *   minTimeMs: 0,
 * };
 * const a = allocator.tryAllocate(request);
 * assert.ok(a !== null);
 * assert.equal(allocationValues(a.resources[0]!), "0,1,2,3,4,5");
 * assert.equal(allocator.free("cpus"), 60000);
 * allocator.release(a);
 * assert.equal(allocator.free("cpus"), 120000);
 * ```
 */
export class ResourceAllocator {
  #pools = new Map<string, PoolState>();

  /**
   * Creates an allocator with every pool wholly free.
   *
   * @throws {RangeError} When two pools share a name.
   */
  constructor(pools: readonly ResourcePool[]) {
    for (const pool of pools) {
      if (this.#pools.has(pool.name)) {
        throw new RangeError(
          `Cannot create resource allocator: resource "${pool.name}" is defined twice`,
        );
      }
      if (pool.kind === "sum") {
        const capacity = pool.size * FRACTIONS_PER_UNIT;
        this.#pools.set(pool.name, { kind: "sum", name: pool.name, capacity, free: capacity });
      } else {
        this.#pools.set(pool.name, { kind: "indexed", pool: new IndexedPool(pool.groups) });
      }
    }
  }

  /** Whether the request could be served by this worker when it is completely free. */
  canEverFit(request: ResourceRequest): boolean {
    return request.entries.every((entry) => {
      const state = this.#pools.get(entry.resource);
      if (state === undefined) return false;
      const capacity = state.kind === "sum"
        ? state.capacity
        : state.pool.labels.length * FRACTIONS_PER_UNIT;
      return entry.policy === "all" ? capacity >= FRACTIONS_PER_UNIT : entry.amount <= capacity;
    });
  }

  /**
   * Allocates the request now, or returns null (changing nothing) when it does not fit the
   * current free state, a strict policy cannot get its minimal group count, or a resource is
   * missing.
   */
  tryAllocate(request: ResourceRequest): Allocation | null {
    const resources: AllocatedResource[] = [];
    for (const entry of request.entries) {
      const state = this.#pools.get(entry.resource);
      const taken = state === undefined ? null : this.#take(entry, state);
      if (taken === null) {
        for (const r of resources) this.#giveBack(r);
        return null;
      }
      resources.push(taken);
    }
    return { resources };
  }

  /**
   * Allocates the first variant that fits now, in order; null when none does.
   * (HyperQueue's server weighs variants; a worker given a task only needs one that fits.)
   */
  tryAllocateVariants(requests: readonly ResourceRequest[]): VariantAllocation | null {
    for (let variant = 0; variant < requests.length; variant++) {
      const allocation = this.tryAllocate(requests[variant]!);
      if (allocation !== null) return { variant, allocation };
    }
    return null;
  }

  /**
   * Returns an allocation's resources. Nothing changes when the allocation does not match the
   * pools (unknown resource or label, or more than their capacity, as after a double release).
   *
   * @throws {RangeError} When the allocation cannot have come from this allocator's free state.
   */
  release(allocation: Allocation): void {
    const sums = new Map<SumState, Amount>();
    const indexed = new Map<IndexedPool, Map<number, Amount>>();
    for (const r of allocation.resources) {
      const state = this.#pools.get(r.resource);
      if (state === undefined) {
        throw new RangeError(
          `Cannot release resource "${r.resource}": the worker has no such pool`,
        );
      }
      if (state.kind === "sum") {
        sums.set(state, (sums.get(state) ?? 0) + r.amount);
        continue;
      }
      const back = indexed.get(state.pool) ?? new Map<number, Amount>();
      indexed.set(state.pool, back);
      for (const { label, fraction } of r.indices) {
        const p = state.pool.positionOf(label);
        if (p === undefined) {
          throw new RangeError(`Cannot release resource "${r.resource}": unknown index "${label}"`);
        }
        back.set(p, (back.get(p) ?? 0) + fraction);
      }
    }
    for (const [state, amount] of sums) {
      if (amount < 0 || state.free + amount > state.capacity) {
        throw new RangeError(
          `Cannot release resource "${state.name}": amount ${amount} exceeds what is in use`,
        );
      }
    }
    for (const [pool, back] of indexed) {
      for (const [p, fraction] of back) {
        if (fraction < 0 || pool.free[p]! + fraction > FRACTIONS_PER_UNIT) {
          throw new RangeError(
            `Cannot release index "${pool.labels[p]}": fraction ${fraction} exceeds what is in use`,
          );
        }
      }
    }
    for (const [state, amount] of sums) state.free += amount;
    for (const [pool, back] of indexed) {
      pool.apply({ positions: [...back.keys()], fractions: [...back.values()] }, -1);
    }
  }

  /** Free amount of a resource in fixed point; 0 for a resource the worker does not have. */
  free(resource: string): Amount {
    const state = this.#pools.get(resource);
    if (state === undefined) return 0;
    return state.kind === "sum" ? state.free : state.pool.totalFree();
  }

  /** Free fractions of each index of an indexed pool, in pool order; empty for other pools. */
  freeIndices(resource: string): { label: string; free: Amount }[] {
    const state = this.#pools.get(resource);
    if (state === undefined || state.kind === "sum") return [];
    return state.pool.labels.map((label, p) => ({ label, free: state.pool.free[p]! }));
  }

  /** Takes what `entry` asks for from `state` now, or returns null changing nothing. */
  #take(entry: ResourceEntry, state: PoolState): AllocatedResource | null {
    const resource = entry.resource;
    if (state.kind === "sum") {
      let amount = entry.amount;
      if (entry.policy === "all") {
        if (state.capacity < FRACTIONS_PER_UNIT || state.free !== state.capacity) return null;
        amount = state.capacity;
      }
      if (amount > state.free) return null;
      state.free -= amount;
      return { resource, indices: [], amount };
    }
    const pool = state.pool;
    const take = pool.choose(entry.amount, entry.policy);
    if (take === null) return null;
    pool.apply(take, 1);
    return {
      resource,
      indices: take.positions.map((p, i) => ({
        label: pool.labels[p]!,
        fraction: take.fractions[i]!,
      })),
      amount: take.fractions.reduce((a, b) => a + b, 0),
    };
  }

  /** Undoes a `#take` of this allocator (known to be valid). */
  #giveBack(r: AllocatedResource): void {
    const state = this.#pools.get(r.resource)!;
    if (state.kind === "sum") {
      state.free += r.amount;
      return;
    }
    const pool = state.pool;
    pool.apply({
      positions: r.indices.map((i) => pool.positionOf(i.label)!),
      fractions: r.indices.map((i) => i.fraction),
    }, -1);
  }
}

/**
 * Text for `HQ_RESOURCE_VALUES_<name>`: comma-separated labels, partially used indices last.
 *
 * @example Usage
 * ```ts
 * import { allocationValues } from "./allocator.ts";
 * import assert from "node:assert/strict";
 * const values = allocationValues({
 *   resource: "gpus",
 *   amount: 25000,
 *   indices: [
 *     { label: "3", fraction: 5000 },
 *     { label: "0", fraction: 10000 },
 *     { label: "1", fraction: 10000 },
 *   ],
 * });
 * assert.equal(values, "0,1,3");
 * ```
 */
export function allocationValues(a: AllocatedResource): string {
  const whole = a.indices.filter((i) => i.fraction >= FRACTIONS_PER_UNIT);
  const partial = a.indices.filter((i) => i.fraction < FRACTIONS_PER_UNIT);
  return [...whole, ...partial].map((i) => i.label).join(",");
}
