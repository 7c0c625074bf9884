/**
 * A short synchronous pause.
 *
 * @module
 */

let cell: Int32Array | undefined;

/**
 * Blocks the calling thread for about `ms` milliseconds (fractions allowed), without a
 * timer: Deno's first `setTimeout` in a process costs several milliseconds, and its timers
 * fire a millisecond late at best, which is more than a short command can spare.
 *
 * @example Usage
 * ```ts
 * import { sleepSync } from "./sleep.ts";
 * import assert from "node:assert/strict";
 * const t0 = performance.now();
 * sleepSync(2);
 * assert.ok(performance.now() - t0 >= 1.9);
 * ```
 */
export function sleepSync(ms: number): void {
  cell ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(cell, 0, 0, ms);
}
