/**
 * Progress bar and per-state task counts shown in `job info` and `job wait`.
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

/** The states in the order {@link formatStateCounts} prints them. */
export const STATE_COUNT_ORDER: readonly (keyof TaskStateCounts)[] = [
  "running",
  "waiting",
  "finished",
  "failed",
  "canceled",
  "aborted",
];

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

/** Completed tasks: finished + failed + canceled + aborted. */
export function completedCount(counts: TaskStateCounts): number {
  return countOf(counts, "finished") + countOf(counts, "failed") + countOf(counts, "canceled") +
    countOf(counts, "aborted");
}

/**
 * Renders `[` + `width` cells + `]`: the first
 * `floor(completed * width / total)` cells are `#`, the rest `.`, where
 * completed is finished + failed + canceled + aborted (capped at `total`).
 * A total of 0 gives an all-`.` bar.
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
  const completed = Math.min(completedCount(counts), total);
  const filled = total === 0 ? 0 : Math.floor((completed * width) / total);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

/**
 * Formats non-zero counts as `1 RUNNING, 16 WAITING, 3 FINISHED`, in the
 * order RUNNING, WAITING, FINISHED, FAILED, CANCELED, ABORTED; all-zero
 * counts give `""`.
 *
 * @throws {RangeError} When a count is not an integer >= 0.
 */
export function formatStateCounts(counts: TaskStateCounts): string {
  const parts: string[] = [];
  for (const state of STATE_COUNT_ORDER) {
    const value = countOf(counts, state);
    if (value > 0) parts.push(`${value} ${state.toUpperCase()}`);
  }
  return parts.join(", ");
}
