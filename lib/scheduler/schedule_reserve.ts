/**
 * Reservation, called by placement for each class with tasks still waiting
 * after placement and prefill, when lower priorities have work: the class
 * keeps as many capable workers (the emptiest first) away from lower
 * priorities, so big tasks are not starved while small ones fill every gap.
 * Reserved workers give up their lower-priority prefilled tasks (see
 * `schedule_retract.ts`). A reservation lasts one round; one kept only by a
 * time request asks for a new round when that request stops fitting the
 * worker's remaining lifetime.
 *
 * @module
 */
import { blockKey, type RequestClass, type WorkerRecord } from "./state.ts";
import { cpusUsed, fitsCapacity } from "./worker_load.ts";
import { canEverRun, type RoundContext } from "./schedule_context.ts";

/**
 * Reserves up to `count` workers not yet reserved that could run the class, the least busy
 * first (then by id), at priority `p`.
 */
export function reserveClass(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  count: number,
): void {
  const { reservedAt, now } = round;
  const capable = round.running.filter((w) => !reservedAt.has(w.id) && canEverRun(cls, w, now));
  capable.sort((a, b) => cpusUsed(a) - cpusUsed(b) || a.id - b.id);
  reserveWorkers(round, cls, p, capable.slice(0, count));
}

/**
 * Reserves the workers at priority `p` for the class, and moves the state's `scheduleAt`
 * to the earliest time one of these reservations lapses on its own.
 */
export function reserveWorkers(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  workers: readonly WorkerRecord[],
): void {
  const { state } = round;
  for (const w of workers) {
    round.reservedAt.set(w.id, p);
    const lapse = reservationLapse(cls, w);
    if (lapse !== null && (state.scheduleAt === null || lapse < state.scheduleAt)) {
      state.scheduleAt = lapse;
    }
  }
}

/**
 * When a reservation of `worker` for `cls` stops mattering because no variant's time request
 * fits the worker's remaining lifetime any more; null when that happens only as the worker ends.
 */
export function reservationLapse(cls: RequestClass, worker: WorkerRecord): number | null {
  if (worker.endsAt === null) return null;
  let last: number | null = null;
  for (let v = 0; v < cls.variants.length; v++) {
    const req = cls.variants[v]!;
    if (worker.blocked.has(blockKey(cls.id, v)) || !fitsCapacity(req, worker)) continue;
    if (req.minTimeMs === 0) return null;
    const lapse = worker.endsAt - req.minTimeMs + 1;
    if (last === null || lapse > last) last = lapse;
  }
  return last;
}
