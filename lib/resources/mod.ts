/**
 * The resource model: fixed-point amounts, task requests and their variants, worker pools, and
 * the worker-local allocator. Everything here is pure (no I/O, no clock, no randomness); resource
 * detection lives in `detect.ts` and is not re-exported here.
 *
 * @example Usage
 * ```ts
 * import {
 *   allocationValues,
 *   buildRequestVariants,
 *   parseResourceDef,
 *   ResourceAllocator,
 * } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const allocator = new ResourceAllocator([parseResourceDef("cpus=2x4")]);
 * const [request] = buildRequestVariants({ cpus: "4 compact!", resources: [], timeRequestMs: 0 });
 * const allocation = allocator.tryAllocate(request!);
 * assert.ok(allocation !== null);
 * // `compact!` keeps the four cpus in one group (the group of cpus 0-3).
 * assert.equal(allocationValues(allocation.resources[0]!), "0,1,2,3");
 * allocator.release(allocation);
 * ```
 *
 * @module
 */
export * from "./amount.ts";
export * from "./request.ts";
export * from "./variants.ts";
export * from "./descriptor.ts";
export * from "./allocator.ts";
