/**
 * `hq alloc` views for rendering tests.
 *
 * @module
 */
import type { QueueView } from "../../protocol/mod.ts";

/** A SLURM queue with 4-CPU workers and no allocations, with `over` applied. */
export function queueViewFixture(over: Partial<QueueView> = {}): QueueView {
  return {
    id: 1,
    params: {
      manager: "slurm",
      backlog: 1,
      maxWorkersPerAlloc: 1,
      maxWorkerCount: null,
      timeLimitMs: 3600_000,
      name: null,
      workerStartCmd: null,
      workerStopCmd: null,
      workerWrapCmd: null,
      workerTimeLimitMs: null,
      idleTimeoutMs: 300_000,
      onServerLost: "finish-running",
      workerArgs: ["--cpus", "4"],
      cpus: "4",
      resources: [],
      minUtilization: 0,
      additionalArgs: ["-p", "debug"],
    },
    state: "active",
    pauseReason: null,
    submitFailures: 0,
    allocationFailures: 0,
    backoffUntil: null,
    allocations: [],
    ...over,
  };
}
