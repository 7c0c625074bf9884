/**
 * Work a process puts off until it has to wait anyway. A client command spends a few
 * milliseconds waiting for the server's answer; work that must be done before the command
 * prints anything, but not before it asks, is done there instead of on the way in (the
 * umbrella checks there that the bundle it loaded is fresh).
 *
 * The queue lives on `globalThis` under a registered symbol, so that a bundled copy of this
 * module and the source module share it.
 *
 * @module
 */

const QUEUE = Symbol.for("hq.idleWork");

type Holder = { [QUEUE]?: (() => void)[] };

function queue(): (() => void)[] {
  const g = globalThis as Holder;
  return g[QUEUE] ??= [];
}

/**
 * Puts `work` off until the next {@link runIdleWork}; returns a function that withdraws it.
 *
 * @example Usage
 * ```ts
 * import { deferToIdle, runIdleWork } from "./idle_work.ts";
 * import assert from "node:assert/strict";
 * let runs = 0;
 * deferToIdle(() => runs++);
 * const withdraw = deferToIdle(() => runs += 10);
 * withdraw();
 * runIdleWork();
 * runIdleWork();
 * assert.equal(runs, 1);
 * ```
 */
export function deferToIdle(work: () => void): () => void {
  queue().push(work);
  return () => {
    const q = queue();
    const i = q.indexOf(work);
    if (i >= 0) q.splice(i, 1);
  };
}

/**
 * Runs the work put off so far, in order. Work that returns is done and leaves the queue;
 * work that throws stays in it and its error propagates, so that every later call throws
 * again: a process whose deferred check failed cannot go on as if it had passed.
 *
 * @example Usage
 * ```ts
 * import { deferToIdle, runIdleWork } from "./idle_work.ts";
 * import assert from "node:assert/strict";
 * const withdraw = deferToIdle(() => {
 *   throw new Error("stale");
 * });
 * assert.throws(runIdleWork, /stale/);
 * assert.throws(runIdleWork, /stale/);
 * withdraw();
 * runIdleWork();
 * ```
 */
export function runIdleWork(): void {
  const q = (globalThis as Holder)[QUEUE];
  while (q !== undefined && q.length > 0) {
    q[0]!();
    q.shift();
  }
}
