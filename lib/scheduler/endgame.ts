/**
 * The end of a class's queue, shared out by time rather than by counts. Once the ready tasks
 * are no more than it takes to bring every worker up to the one that frees up last, plus
 * {@link ENDGAME_ROUND_TRIPS} round trips of all their work ({@link inEndgame}), each
 * worker's work left is projected from what the server last heard (its running and prefilled
 * tasks of the class at its steady mean run time, less what it ran since that news left it),
 * and the tasks are shared so that the last one ends as early as it can, counting the time a
 * task takes to reach each worker ({@link shareByEnd}). A worker is sent only the tasks that
 * would start within two of its round trips ({@link startingSoon}); the rest are decided
 * later, on fresher news. A worker that will have run dry before a task reaches it is reached
 * by placement only, once it says it is free: its tasks wait in the queue for that.
 *
 * Counts alone leave the workers' queues about one round trip of work apart when the queue
 * runs dry, since each refill is decided on news one round trip old, and a slower machine
 * holds as many tasks as a fast one; this levels them.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { RequestClass, WorkerRecord } from "./state.ts";
import { placedKey, type RoundContext } from "./schedule_context.ts";
import { meanOfKnown, slotsFor } from "./fair_share.ts";

/** Round trips of the workers' work, beyond what levels them, that make the end game. */
export const ENDGAME_ROUND_TRIPS = 2;

/** When a worker could start a task sent now, and how fast it gets through the class. */
export interface EndgameLane {
  /** The worker. */
  readonly worker: WorkerRecord;
  /** Earliest start (server clock, ms) of a task sent now. */
  readonly startAt: number;
  /** Tasks of the class it ends per ms. */
  readonly rate: number;
  /** Whether it will have run dry before a task sent now reaches it. */
  readonly drained: boolean;
}

/**
 * The lanes of the class's `workers` at `now`, or null while some round trip or run time is
 * not known yet (nothing to project from). `placed` counts tasks of the class each worker was
 * given to run in this pass.
 */
export function endgameLanes(
  now: number,
  cls: RequestClass,
  workers: readonly WorkerRecord[],
  placed: (w: WorkerRecord) => number,
): EndgameLane[] | null {
  const usualRun = meanOfKnown(workers.map((w) => w.steadyRunMs));
  if (usualRun === null || workers.some((w) => w.roundTripMs === null)) return null;
  return workers.map((w) => {
    const slots = Math.max(1, slotsFor(cls, w));
    const runMs = Math.max(w.steadyRunMs ?? usualRun, 0.1);
    const rtt = w.roundTripMs!;
    const held = cls.prefillHolders.get(w.id) ?? 0;
    const given = placed(w);
    const running = (w.classLoad.get(cls.id) ?? 0) + given;
    // Running tasks are half done on average; the news left the worker half a round trip ago.
    const left = (held + running / 2) * runMs / slots - (now - w.lastSeen + rtt / 2);
    const freeAt = now + Math.max(0, left);
    const arrive = now + rtt / 2;
    const drained = freeAt < arrive && given === 0;
    // A drained worker asks again when free: its report and the answer take a round trip.
    const startAt = drained ? freeAt + rtt : Math.max(freeAt, arrive);
    return { worker: w, startAt, rate: slots / runMs, drained };
  });
}

/**
 * Whether `ready` tasks are the end game: no more than it takes to bring every lane up to
 * the one that frees up last, plus {@link ENDGAME_ROUND_TRIPS} round trips of the lanes' work;
 * `slack` times that for a queue already in it.
 */
export function inEndgame(lanes: readonly EndgameLane[], ready: number, slack = 1): boolean {
  const last = lanes.reduce((t, l) => Math.max(t, l.startAt), -Infinity);
  let need = 0;
  for (const l of lanes) {
    need += (last - l.startAt) * l.rate + ENDGAME_ROUND_TRIPS * l.rate * l.worker.roundTripMs!;
  }
  return ready <= slack * need;
}

/**
 * How many of `count` tasks each lane gets so that the last of them ends as early as it can
 * (water filling: lane `i` gets the tasks it ends by a common time `T`, the least `T` that
 * takes them all; ties of the last task go to the earliest lane).
 *
 * @example Usage
 * ```ts
 * import { shareByEnd } from "./endgame.ts";
 * import assert from "node:assert/strict";
 * const lane = (id: number, startAt: number, rate: number) =>
 *   ({ worker: { id } as never, startAt, rate, drained: false });
 * // The second worker frees up 10 ms later: 1 task per ms, 30 tasks.
 * const shares = shareByEnd([lane(1, 0, 1), lane(2, 10, 1)], 30);
 * assert.deepEqual([...shares.values()], [20, 10]);
 * ```
 */
export function shareByEnd(lanes: readonly EndgameLane[], count: number): Map<WorkerId, number> {
  const take = (t: number, l: EndgameLane) => Math.max(0, Math.floor((t - l.startAt) * l.rate));
  const total = (t: number) => lanes.reduce((n, l) => n + take(t, l), 0);
  let lo = lanes.reduce((t, l) => Math.min(t, l.startAt), Infinity);
  let hi = lanes.reduce((t, l) => Math.max(t, l.startAt), -Infinity) +
    count / lanes.reduce((r, l) => r + l.rate, 0) + 1;
  for (let i = 0; i < 60 && hi - lo > 1e-6; i++) {
    const mid = (lo + hi) / 2;
    if (total(mid) >= count) hi = mid;
    else lo = mid;
  }
  const shares = lanes.map((l) => take(hi, l));
  // Floors overshoot by at most one task a lane: drop the ones that end last.
  let extra = shares.reduce((a, b) => a + b, 0) - count;
  const byEnd = lanes.map((_, i) => i).filter((i) => shares[i]! > 0)
    .sort((a, b) => endOf(lanes[b]!, shares[b]!) - endOf(lanes[a]!, shares[a]!) || b - a);
  for (const i of byEnd) {
    if (extra <= 0) break;
    shares[i]!--;
    extra--;
  }
  return new Map(lanes.map((l, i) => [l.worker.id, shares[i]!]));
}

/**
 * Round trips ahead that a worker in the end game is sent tasks for. A refill reaches it a
 * round trip after its news left at the soonest: with 1.5, simulated workers ran dry and
 * sent prefills back; with 3, the last tasks were decided on older news and the ends spread
 * about a third further apart.
 */
export const ENDGAME_HORIZON_ROUND_TRIPS = 2;

/**
 * How many tasks sent now would start on the lane within {@link ENDGAME_HORIZON_ROUND_TRIPS}
 * of its round trips: the ones later than that are decided later, on fresher news.
 */
export function startingSoon(lane: EndgameLane, now: number): number {
  const horizon = now + ENDGAME_HORIZON_ROUND_TRIPS * lane.worker.roundTripMs!;
  return Math.max(0, Math.ceil((horizon - lane.startAt) * lane.rate));
}

function endOf(l: EndgameLane, n: number): number {
  return l.startAt + n / l.rate;
}

/** Tasks of the class placed on `w` (to run now) in this pass of `round`. */
export function placedInPass(round: RoundContext, cls: RequestClass, w: WorkerRecord): number {
  if (!round.placedHere.has(placedKey(cls, w))) return 0;
  let n = 0;
  for (const g of round.pending.get(w.id) ?? []) {
    if (g.cls === cls && g.variant !== null) n += g.ids.length;
  }
  return n;
}
