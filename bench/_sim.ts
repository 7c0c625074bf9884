/**
 * Fixtures of the benchmarks of the scheduling core (no files, no processes).
 *
 * @module
 */
import type { WorkerConfig } from "../lib/protocol/messages.ts";
import { parsePool } from "../lib/resources/descriptor.ts";

/** Settings of a simulated worker with `cpus` CPUs. */
export function simWorkerConfig(cpus: number): WorkerConfig {
  return {
    hostname: "sim",
    pid: 1,
    heartbeatMs: 8000,
    idleTimeoutMs: null,
    timeLimitMs: null,
    workDir: "/tmp",
    onServerLost: "stop",
    group: "default",
    resources: [parsePool("cpus", String(cpus))],
    minUtilization: 0,
    manager: null,
    startedAt: 0,
  };
}
