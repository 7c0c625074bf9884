/**
 * How many prefilled tasks a worker may hold. On a local disk the server answers a worker
 * within milliseconds and the base cap (`prefillMax`, HyperQueue's 40) keeps it busy; on a
 * network filesystem each hop waits for the other side's poll and for the mount's caches, so
 * a worker that runs short tasks drains 40 long before new ones arrive. The cap grows to
 * cover {@link PREFILL_COVER_ROUND_TRIPS} measured round trips of the worker's measured
 * task times, bounded by `prefillLimit`; prefilled tasks stay retractable, are still
 * shared out evenly between workers (`schedule_prefill.ts`), and past `prefillMax` no worker
 * holds more than its share of what is left (`fair_share.ts`).
 *
 * The measures are moving averages kept on the worker record: the round trip from the
 * `sentAt` a worker echoes back (its first left out), and the run time from its `started` and
 * `finished` updates (with a steadier average beside it for `endgame.ts`).
 *
 * @module
 */
import type { SchedulerConfig, WorkerRecord } from "./state.ts";

/** Round trips of work a worker should hold. */
export const PREFILL_COVER_ROUND_TRIPS = 3;

/** Weight of a new sample in the moving averages. */
const ALPHA = 0.2;

/** The moving average after `sample` (the sample itself when there was none). */
function average(previous: number | null, sample: number): number {
  return previous === null ? sample : previous + ALPHA * (sample - previous);
}

/**
 * Records a round trip of `ms` to the worker (from an echoed `sentAt`). The first one is left
 * out: it includes the worker's cold start (its first task launch, code compiled on first
 * use), 170-480 ms across two sshfs views whose round trips are 40-60 ms after. Counted, it
 * let a worker hoard hundreds of tasks, and with no tasks sent to it after that, no sample
 * corrected it.
 */
export function sampleRoundTrip(worker: WorkerRecord, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  if (worker.roundTripSamples++ > 0) worker.roundTripMs = average(worker.roundTripMs, ms);
}

/** Samples in the window of a worker's steady mean run time (`steadyRunMs`). */
export const STEADY_RUN_SAMPLES = 100;

/** Records a task run of `ms` on the worker, in both of its averages. */
export function sampleRunTime(worker: WorkerRecord, ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) return;
  worker.meanRunMs = average(worker.meanRunMs, ms);
  worker.runSamples = Math.min(worker.runSamples + 1, STEADY_RUN_SAMPLES);
  const steady = worker.steadyRunMs ?? ms;
  worker.steadyRunMs = steady + (ms - steady) / worker.runSamples;
}

/**
 * The most prefilled tasks the worker may hold now: `prefillMax`, or enough to keep its
 * running tasks fed for a few round trips when that is more, never over `prefillLimit`.
 *
 * @example Usage
 * ```ts
 * import { prefillCap } from "./prefill_cap.ts";
 * import type { WorkerRecord } from "./state.ts";
 * import assert from "node:assert/strict";
 * const config = { prefillMax: 40, prefillReserve: 16, prefillLimit: 2000 };
 * const worker = { roundTripMs: 200, meanRunMs: 2, tasks: new Map([[{}, {}], [{}, {}]]), prefilled: 0 };
 * // 2 tasks running, each 2 ms, a 200 ms round trip: 3 round trips are 600 tasks.
 * assert.equal(prefillCap(worker as unknown as WorkerRecord, config), 600);
 * assert.equal(prefillCap({ ...worker, roundTripMs: null } as unknown as WorkerRecord, config), 40);
 * ```
 */
export function prefillCap(worker: WorkerRecord, config: SchedulerConfig): number {
  const base = config.prefillMax;
  const limit = Math.max(base, config.prefillLimit ?? base);
  const { roundTripMs, meanRunMs } = worker;
  if (base <= 0 || roundTripMs === null || meanRunMs === null) return base;
  const running = Math.max(1, worker.tasks.size - worker.prefilled);
  const need = Math.ceil(
    PREFILL_COVER_ROUND_TRIPS * roundTripMs * running / Math.max(meanRunMs, 0.1),
  );
  return Math.min(limit, Math.max(base, need));
}

/**
 * Whether a prefill sent to the worker now would likely find nothing of its class running
 * there: its `held` unstarted and its running tasks of the class end sooner than a message
 * takes to reach it (half a round trip), at `slots` tasks at once. The worker would only send
 * such tasks back (a prefilled task starts when one of its class ends), a round trip later;
 * it gets them with its next tasks to run instead.
 *
 * @example Usage
 * ```ts
 * import { drainsBeforeDelivery } from "./prefill_cap.ts";
 * import type { WorkerRecord } from "./state.ts";
 * import assert from "node:assert/strict";
 * const worker = { roundTripMs: 500, meanRunMs: 3, classLoad: new Map([[1, 2]]) };
 * const w = worker as unknown as WorkerRecord;
 * // 2 running and 10 held tasks of 3 ms on 2 slots end in 18 ms, a message takes 250 ms.
 * assert.equal(drainsBeforeDelivery(w, 1, 10, 2), true);
 * assert.equal(drainsBeforeDelivery(w, 1, 400, 2), false);
 * assert.equal(drainsBeforeDelivery({ ...worker, roundTripMs: null } as unknown as WorkerRecord, 1, 0, 2), false);
 * ```
 */
export function drainsBeforeDelivery(
  worker: WorkerRecord,
  classId: number,
  held: number,
  slots: number,
): boolean {
  const { roundTripMs, meanRunMs } = worker;
  if (roundTripMs === null || meanRunMs === null) return false;
  const running = worker.classLoad.get(classId) ?? 0;
  return (held + running) * meanRunMs / Math.max(1, slots) < roundTripMs / 2;
}
