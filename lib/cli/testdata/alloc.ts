/**
 * `hq alloc` views for rendering tests.
 *
 * @module
 */
import type { QueueView } from "../../protocol/mod.ts";
import { testQueueParams } from "../../autoalloc/testdata/params.ts";

/** A SLURM queue with 4-CPU workers and no allocations, with `over` applied. */
export function queueViewFixture(over: Partial<QueueView> = {}): QueueView {
  return {
    id: 1,
    params: testQueueParams({
      workerArgs: ["--cpus", "4"],
      cpus: "4",
      additionalArgs: ["-p", "debug"],
    }),
    state: "active",
    pauseReason: null,
    submitFailures: 0,
    allocationFailures: 0,
    backoffUntil: null,
    allocations: [],
    ...over,
  };
}
