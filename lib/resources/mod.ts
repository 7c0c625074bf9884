/**
 * The resource model, pure: fixed-point amounts, task requests and their
 * variants, worker pools, the worker-local allocator, and resource detection
 * from injected readers. Reading the real host is in `io/`.
 *
 * @module
 */
export * from "./allocator.ts";
export * from "./amount.ts";
export * from "./descriptor.ts";
export * from "./detect.ts";
export * from "./detect_mem.ts";
export * from "./detect_worker.ts";
export * from "./request.ts";
export * from "./variants.ts";
