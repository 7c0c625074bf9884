/**
 * Queue parameters for tests: HyperQueue's defaults (1 hour, backlog 1, one
 * worker per allocation, SLURM) with the given fields replaced.
 *
 * @module
 */
import type { QueueParams } from "../queue.ts";

/** Default queue parameters, overridden by `over`. */
export function testQueueParams(over: Partial<QueueParams> = {}): QueueParams {
  return {
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
    workerArgs: [],
    cpus: null,
    resources: [],
    minUtilization: 0,
    additionalArgs: [],
    ...over,
  };
}
