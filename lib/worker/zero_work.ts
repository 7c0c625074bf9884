/**
 * Zero-worker mode (`hq worker start --zero-worker`, a build feature of
 * HyperQueue used by its own benchmarks): the worker registers, takes
 * assignments, allocates resources and reports exactly as usual, but every
 * task it starts is reported finished at once, as if its program had exited
 * with code 0 instantly. Nothing is spawned, no output file or task
 * directory is created, and streaming and time limits do not apply. What is
 * left to measure is the server and the file protocol alone.
 *
 * Pure: the shell (`io/run.ts`) calls {@link finishStartsAtOnce} where it
 * would launch processes.
 *
 * @module
 */
import { type WorkerCore, workerTaskKey } from "./core.ts";

/**
 * Ends every task the core hands out as finished at `now`, also the prefilled
 * tasks that start on the allocation of one that ended, until the core has
 * nothing left to start. Each task's `started` and `finished` updates are
 * queued in the core, in that order. Returns how many tasks were ended.
 *
 * @example Usage
 * ```ts
 * import { finishStartsAtOnce, WorkerCore } from "./mod.ts";
 * import { parseResourceDef } from "../resources/mod.ts";
 * import assert from "node:assert/strict";
 * const core = new WorkerCore([parseResourceDef("cpus=1")]);
 * assert.equal(finishStartsAtOnce(core, 0), 0);
 * assert.equal(core.running.size, 0);
 * ```
 */
export function finishStartsAtOnce(core: WorkerCore, now: number): number {
  let ended = 0;
  for (let starts = core.takeStarts(); starts.length > 0; starts = core.takeStarts()) {
    for (const order of starts) {
      core.onEnded(workerTaskKey(order.jobId, order.taskId), { kind: "finished" }, now);
      ended++;
    }
  }
  return ended;
}
