/**
 * Automatic allocation's data: queues (what `hq alloc add` defines), the
 * allocations each queue submitted, and their states. Pure: times are
 * milliseconds given by the caller.
 *
 * @module
 */
import type { QueueParams } from "../protocol/mod.ts";

export type { ManagerKind, QueueParams } from "../protocol/mod.ts";

/** Allocation states: queued in the batch system, running, or ended (well or not). */
export type AllocationState = "queued" | "running" | "finished" | "failed";

/** One allocation a queue submitted. */
export interface Allocation {
  /** The batch system's job id (`123`, `4567.pbs-server`). */
  id: string;
  /** Queue that submitted it. */
  queueId: number;
  /** Workers (nodes) it was asked for. */
  workerCount: number;
  /** Its directory (script, `jobid`, `stdout`, `stderr`). */
  dir: string;
  state: AllocationState;
  /** When it was submitted, ms. */
  queuedAt: number;
  /** When its first worker connected or the batch system said it runs; null before. */
  startedAt: number | null;
  /** When it ended; null before. */
  endedAt: number | null;
  /** Workers of it that connected, by worker id, with when they connected. */
  connected: Record<number, number>;
  /** Workers of it that disconnected, by worker id, with why. */
  disconnected: Record<number, string>;
  /** Why it ended (shown by `alloc info`); null while it lives. */
  endReason: string | null;
}

/** Why a queue does not submit now. */
export type QueueState = "active" | "paused";

/** A queue of automatic allocation. */
export interface Queue {
  /** Queue id (1, 2, ...; never reused). */
  id: number;
  params: QueueParams;
  state: QueueState;
  /** Why it is paused: `user` (`hq alloc pause`) or the failure that paused it. */
  pauseReason: string | null;
  /** Allocations by batch job id, live and recently ended. */
  allocations: Map<string, Allocation>;
  /** Submission attempts that failed in a row (sbatch/qsub returned an error). */
  submitFailures: number;
  /** Allocations that failed in a row. */
  allocationFailures: number;
  /** Index into the back-off delays; 0 after a success. */
  backoffStep: number;
  /** Earliest time of the next submission attempt, ms. */
  nextSubmitAt: number;
  /** Counter of allocation directories (`001`, `002`, ...). */
  dirCounter: number;
  /**
   * Amount per resource (fixed point) of the last worker of this queue that connected: once
   * one has, its real resources replace the guess from `--cpus`/`--resource`.
   */
  observedCapacity: Record<string, number> | null;
}

/** How a queue's name appears in job names and directories: its name or `hq-<id>`. */
export function queueLabel(queue: Pick<Queue, "id" | "params">): string {
  return queue.params.name ?? `hq-${queue.id}`;
}
