/**
 * Automatic allocation's settings: HyperQueue's timings and limits, and the
 * `HQ_AUTOALLOC_*` environment variables that override some of them. Pure.
 *
 * @module
 */

/** Settings; HyperQueue's `HQ_AUTOALLOC_*` variables override them (see the server shell). */
export interface AutoallocSettings {
  /**
   * Least time between passes that events ask for, ms. HyperQueue checks every 5 s; 100 ms
   * here (a pass is one scheduler query), so that a submit reaches the batch system at once.
   */
  tickMs: number;
  /** Pass at most this long apart even with no event, ms (30 s). */
  maxDelayMs: number;
  /** Ask the batch system about live allocations this often, ms (30 min). */
  refreshMs: number;
  /** Allocations failing in a row that pause the queue (3). */
  maxAllocationFails: number;
  /** Submissions failing in a row that pause the queue (10). */
  maxSubmitFails: number;
  /** Delays after 0, 1, 2, ... failures in a row, ms (`[0, 1m, 15m, 30m, 60m]`, the last repeats). */
  backoffMs: readonly number[];
  /** An allocation whose workers were all lost this soon after connecting failed, ms (60 s). */
  failFastMs: number;
  /** Directories of ended allocations kept per queue (20). */
  keepEnded: number;
}

/** HyperQueue's defaults (but {@link AutoallocSettings.tickMs}). */
export const DEFAULT_AUTOALLOC_SETTINGS: AutoallocSettings = {
  tickMs: 100,
  maxDelayMs: 30_000,
  refreshMs: 30 * 60_000,
  maxAllocationFails: 3,
  maxSubmitFails: 10,
  backoffMs: [0, 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000],
  failFastMs: 60_000,
  keepEnded: 20,
};

/**
 * Settings with HyperQueue's environment overrides applied (mainly for tests):
 * `HQ_AUTOALLOC_REFRESH_INTERVAL_MS`, `HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS`,
 * `HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS`, `HQ_AUTOALLOC_MAX_ALLOCATION_FAILS`.
 *
 * @example Usage
 * ```ts
 * import { settingsFromEnv } from "./settings.ts";
 * import assert from "node:assert/strict";
 * const env: Record<string, string> = { HQ_AUTOALLOC_REFRESH_INTERVAL_MS: "500" };
 * assert.equal(settingsFromEnv((n) => env[n]).refreshMs, 500);
 * assert.throws(() => settingsFromEnv(() => "soon"), RangeError);
 * ```
 *
 * @throws {RangeError} When a variable is not a non-negative integer.
 */
export function settingsFromEnv(get: (name: string) => string | undefined): AutoallocSettings {
  const read = (name: string, fallback: number): number => {
    const text = get(name);
    if (text === undefined || text === "") return fallback;
    if (!/^\d+$/.test(text)) {
      throw new RangeError(`${name}="${text}" is not a non-negative integer`);
    }
    return Number(text);
  };
  const d = DEFAULT_AUTOALLOC_SETTINGS;
  return {
    ...d,
    refreshMs: read("HQ_AUTOALLOC_REFRESH_INTERVAL_MS", d.refreshMs),
    maxDelayMs: read("HQ_AUTOALLOC_MAX_SCHEDULE_DELAY_MS", d.maxDelayMs),
    tickMs: read("HQ_AUTOALLOC_SCHEDULE_TICK_INTERVAL_MS", d.tickMs),
    maxAllocationFails: read("HQ_AUTOALLOC_MAX_ALLOCATION_FAILS", d.maxAllocationFails),
  };
}
