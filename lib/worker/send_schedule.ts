/**
 * When the worker's batches go out: task updates are flushed after a short
 * gap, so that one channel append carries many of them, and a heartbeat is
 * added whenever nothing was sent for a heartbeat interval (any batch shows
 * the worker alive). Pure: time is passed in; the shell owns the timer.
 *
 * The gap adapts: at least {@link FLUSH_GAP_MS} while tasks end quickly, and
 * longer, up to {@link MAX_FLUSH_GAP_MS}, while the prefilled queue covers a
 * while of work, since then nothing on the worker waits on the server and
 * updates may share fewer, larger batches.
 *
 * @module
 */
import type { FromWorkerMsg } from "../protocol/mod.ts";

/** Least gap between two update flushes while tasks end in quick succession, ms. */
export const FLUSH_GAP_MS = 5;
/** Longest gap between flushes while tasks keep ending (heartbeats are separate), ms. */
export const MAX_FLUSH_GAP_MS = 50;

/** What the flush gap depends on. */
export interface FlushLoad {
  /** Prefilled tasks waiting on the worker. */
  prefilled: number;
  /** Moving average of task run times, ms (see {@link nextMeanRunMs}). */
  meanRunMs: number;
  /** Task processes running. */
  running: number;
}

/**
 * The gap between two update flushes: a quarter of the time the prefilled
 * queue covers, within [{@link FLUSH_GAP_MS}, {@link MAX_FLUSH_GAP_MS}].
 *
 * @example Usage
 * ```ts
 * import { flushGapMs } from "./send_schedule.ts";
 * import assert from "node:assert/strict";
 * assert.equal(flushGapMs({ prefilled: 0, meanRunMs: 100, running: 2 }), 5);
 * assert.equal(flushGapMs({ prefilled: 4, meanRunMs: 20, running: 2 }), 10);
 * ```
 */
export function flushGapMs(load: FlushLoad): number {
  const cover = load.prefilled * load.meanRunMs / Math.max(1, load.running);
  return Math.min(MAX_FLUSH_GAP_MS, Math.max(FLUSH_GAP_MS, cover / 4));
}

/** The moving average of task run times after a task that ran `runMs`. */
export function nextMeanRunMs(meanMs: number, runMs: number): number {
  return 0.9 * meanMs + 0.1 * runMs;
}

/** Tracks the last send, for the flush gap and the heartbeat. */
export class SendSchedule {
  readonly #heartbeatMs: number;
  #lastSentAt = 0;

  /** A schedule with a heartbeat every `heartbeatMs`. */
  constructor(heartbeatMs: number) {
    this.#heartbeatMs = heartbeatMs;
  }

  /** How long an update that is ready at `now` waits before it is flushed. */
  flushDelayMs(load: FlushLoad, now: number): number {
    return Math.max(0, flushGapMs(load) - (now - this.#lastSentAt));
  }

  /**
   * Completes the batch sent at `now`: adds a heartbeat when one is due, and
   * records the send when the batch is not empty. Returns `batch`.
   */
  seal(batch: FromWorkerMsg[], now: number): FromWorkerMsg[] {
    if (now - this.#lastSentAt >= this.#heartbeatMs) batch.push({ kind: "heartbeat", at: now });
    if (batch.length > 0) this.#lastSentAt = now;
    return batch;
  }
}
