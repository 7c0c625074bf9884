/**
 * Replies to `hq alloc ...` requests: queues and allocations as the server
 * sends them (raw times in ms, amounts in fixed point); the CLI formats them.
 *
 * @module
 */
import type { QueueParams } from "./messages.ts";
import type { ResourceRequest } from "../resources/mod.ts";

/** One allocation of a queue. */
export interface AllocationView {
  /** The batch system's job id. */
  id: string;
  queueId: number;
  /** Workers (nodes) asked for. */
  workerCount: number;
  /** Its directory (script, `jobid`, `stdout`, `stderr`). */
  dir: string;
  state: "queued" | "running" | "finished" | "failed";
  queuedAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** Ids of its workers that connected, and of those that left. */
  connected: number[];
  disconnected: number[];
  /** Why it ended; null while it lives. */
  endReason: string | null;
}

/** A queue with its allocations. */
export interface QueueView {
  id: number;
  params: QueueParams;
  state: "active" | "paused";
  /** Why it is paused; null while active. */
  pauseReason: string | null;
  submitFailures: number;
  allocationFailures: number;
  /** Earliest next submission after failures, ms; null when not backing off. */
  backoffUntil: number | null;
  /** Live and recently ended allocations, oldest first. */
  allocations: AllocationView[];
}

/** `hq alloc explain`: what a queue would submit now and why. */
export interface AllocExplainView {
  queue: QueueView;
  /** Server time of the answer, ms. */
  now: number;
  /** Allocations it would submit now, as worker counts. */
  submit: number[];
  /** What limited or stopped it, one line each. */
  limits: string[];
  /** Waiting tasks its workers would take, per request (its variants). */
  demand: { variants: ResourceRequest[]; tasks: number }[];
  /** New single-node workers the waiting tasks would keep busy. */
  wantedWorkers: number;
  /** Node counts of multi-node tasks it would take. */
  multiNode: number[];
  queuedAllocations: number;
  workers: { queued: number; running: number };
  /** The worker resources the query used (fixed point), and whether they are only a guess. */
  workerResources: Record<string, number>;
  guessed: boolean;
}
