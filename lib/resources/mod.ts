/**
 * The resource model: fixed-point amounts, task requests and their variants, worker pools, and
 * the worker-local allocator. Everything here is pure (no I/O, no clock, no randomness); resource
 * detection lives in `detect.ts` and is not re-exported here.
 *
 * @example Usage
 * ```ts
 * import { buildRequestVariants, parseResourceDef, ResourceAllocator } from "./mod.ts";
 * const allocator = new ResourceAllocator([parseResourceDef("cpus=2x4")]);
 * const [request] = buildRequestVariants({ cpus: "4 compact!", resources: [], timeRequestMs: 0 });
 * allocator.tryAllocate(request!); // four cpus of one group
 * ```
 *
 * @module
 */
export * from "./amount.ts";
export * from "./request.ts";
export * from "./variants.ts";
export * from "./descriptor.ts";
export * from "./allocator.ts";
