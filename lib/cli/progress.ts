/**
 * The `job info` State cell of a job with several tasks: HyperQueue's
 * progress bar and one `STATE (n)` line per non-zero state.
 *
 * @module
 */

/** Number of tasks of a job in each user-visible state; a missing field counts as 0. */
export interface TaskStateCounts {
  /** Tasks running now. */
  readonly running?: number;
  /** Tasks waiting to run (including assigned but not yet started). */
  readonly waiting?: number;
  /** Tasks that finished successfully. */
  readonly finished?: number;
  /** Tasks that failed. */
  readonly failed?: number;
  /** Tasks canceled by the user. */
  readonly canceled?: number;
  /** Tasks aborted by HyperQueue (failed dependency or max-fails). */
  readonly aborted?: number;
}

/** Default number of cells inside the progress bar's brackets. */
export const DEFAULT_PROGRESS_WIDTH = 40;

function countOf(counts: TaskStateCounts, state: keyof TaskStateCounts): number {
  const value = counts[state] ?? 0;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot use task count ${value} for "${state}": it must be an integer >= 0`,
    );
  }
  return value;
}

/**
 * Completed tasks: finished + failed + canceled + aborted.
 *
 * @example Usage
 * ```ts
 * import { completedCount } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert.equal(completedCount({ running: 2, finished: 3, failed: 1 }), 4);
 * assert.throws(() => completedCount({ finished: -1 }), RangeError);
 * ```
 *
 * @throws {RangeError} When a count is not an integer >= 0.
 */
export function completedCount(counts: TaskStateCounts): number {
  return countOf(counts, "finished") + countOf(counts, "failed") + countOf(counts, "canceled") +
    countOf(counts, "aborted");
}

/**
 * HyperQueue's `job_progress_bar`: `[` + `width` cells + `]`. For canceled,
 * aborted, failed, finished and running tasks in turn,
 * `ceil(count / total * width)` cells (capped at what is left) are `#`; the
 * rest are `.`. A total of 0 gives an all-`.` bar.
 *
 * @example Usage
 * ```ts
 * import { renderProgressBar } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert.equal(renderProgressBar({ finished: 1, waiting: 2 }, 3, 10), "[####......]");
 * ```
 *
 * @throws {RangeError} When a count or `total` is not an integer >= 0, or `width` is not an integer >= 1.
 */
export function renderProgressBar(
  counts: TaskStateCounts,
  total: number,
  width: number = DEFAULT_PROGRESS_WIDTH,
): string {
  if (!Number.isInteger(total) || total < 0) {
    throw new RangeError(
      `Cannot render progress bar for total ${total}: it must be an integer >= 0`,
    );
  }
  if (!Number.isInteger(width) || width < 1) {
    throw new RangeError(
      `Cannot render progress bar of width ${width}: it must be an integer >= 1`,
    );
  }
  let filled = 0;
  for (const state of ["canceled", "aborted", "failed", "finished", "running"] as const) {
    const count = countOf(counts, state);
    const chars = total === 0 ? 0 : Math.ceil((count / total) * width);
    filled += Math.min(width - filled, chars);
  }
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/**
 * The lines after the bar in `job info`'s State cell: `RUNNING (n)`,
 * `FAILED (n)`, `FINISHED (n)`, `CANCELED (n)`, `ABORTED (n)` and
 * `WAITING (n)`, in that order, for the non-zero counts. Waiting is what the
 * other states leave of `total`.
 *
 * @example Usage
 * ```ts
 * import { formatStateLines } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(formatStateLines({ running: 1, finished: 2 }, 10), [
 *   "RUNNING (1)",
 *   "FINISHED (2)",
 *   "WAITING (7)",
 * ]);
 * ```
 *
 * @throws {RangeError} When a count is not an integer >= 0.
 */
export function formatStateLines(counts: TaskStateCounts, total: number): string[] {
  const running = countOf(counts, "running");
  const waiting = Math.max(0, total - running - completedCount(counts));
  const lines: [string, number][] = [
    ["RUNNING", running],
    ["FAILED", countOf(counts, "failed")],
    ["FINISHED", countOf(counts, "finished")],
    ["CANCELED", countOf(counts, "canceled")],
    ["ABORTED", countOf(counts, "aborted")],
    ["WAITING", waiting],
  ];
  return lines.filter(([, n]) => n > 0).map(([name, n]) => `${name} (${n})`);
}

/**
 * The whole State cell of a job with several tasks (or none): the bar, then
 * {@link formatStateLines}, one per line.
 *
 * @example Usage
 * ```ts
 * import { jobStateCell } from "./progress.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   jobStateCell({ failed: 1, finished: 199 }, 200),
 *   `[${"#".repeat(40)}]\nFAILED (1)\nFINISHED (199)`,
 * );
 * ```
 */
export function jobStateCell(counts: TaskStateCounts, total: number): string {
  return [renderProgressBar(counts, total), ...formatStateLines(counts, total)].join("\n");
}
