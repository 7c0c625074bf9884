/**
 * Prefill, called by placement for each class with tasks left at the highest
 * such level: while the class has more than `prefillReserve` tasks left,
 * workers already running it get a bounded queue ({@link prefillCap}: `prefillMax`, more on a
 * slow link) of extra tasks, which they start the moment a task of the class ends. Past
 * `prefillMax`, a worker's queue is also bounded by its share, by speed, of the class's
 * unstarted tasks (`fair_share.ts`), so that workers on slow links do not end last; a worker
 * that would run dry before a prefill reaches it gets none on its own
 * ({@link drainsBeforeDelivery}), only with tasks to run. At the end of the queue the
 * tasks, the reserve included, are shared out by projected end time instead
 * ({@link prefillEndgame}, `endgame.ts`). Prefilled
 * tasks hold no resources; a worker reserved or held by a multi-node task
 * gets none, and only workers or classes that changed are looked at.
 *
 * @module
 */
import type { RequestClass, WorkerRecord } from "./state.ts";
import { canEverRun, placedKey, type RoundContext, takeTask } from "./schedule_context.ts";
import { drainsBeforeDelivery, prefillCap } from "./prefill_cap.ts";
import { fairShares, heldTotal, slotsFor } from "./fair_share.ts";
import { endgameLanes, inEndgame, placedInPass, shareByEnd, startingSoon } from "./endgame.ts";

/**
 * Queues up to `spare` tasks of the class at priority `p` on the workers that may take them
 * ({@link prefillTakers}), shared out evenly; returns how many.
 */
export function prefillClass(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  spare: number,
): number {
  const { config } = round.state;
  if (config.prefillMax <= 0 || spare <= 0) return 0;
  const takers = prefillTakers(round, cls);
  if (takers.length === 0) return 0;
  // Past `prefillMax`, no worker holds more than its share of what is left, however slow its
  // link: the one on the slowest link would otherwise hold the most when the queue runs dry.
  const fair = fairShares(cls, sharers(round, cls), cls.queue.size + heldTotal(cls));
  let done = 0;
  for (let i = 0; i < takers.length && done < spare; i++) {
    const w = takers[i]!;
    const held = cls.prefillHolders.get(w.id) ?? 0;
    // Tasks that would reach the worker after it ran dry come with its next tasks to run.
    if (
      !round.placedHere.has(placedKey(cls, w)) &&
      drainsBeforeDelivery(w, cls.id, held, slotsFor(cls, w))
    ) continue;
    const share = Math.max(1, Math.floor((spare - done) / (takers.length - i)));
    const room = (fair.get(w.id) ?? 0) + config.prefillMax - held;
    const k = Math.min(prefillCap(w, config) - w.prefilled, share, room, spare - done);
    const got = queuePrefill(round, w, cls, p, k);
    done += got;
    if (got < k) return done;
  }
  return done;
}

/**
 * Prefill at the end of the class's queue (`endgame.ts`): when the `remaining` ready tasks at
 * priority `p` are its end game, the workers that may take tasks get their share by projected
 * end time, the reserve included; returns how many were queued, or null when the queue is
 * not in its end game (or nothing is known to project from) and the usual prefill applies.
 */
export function prefillEndgame(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  remaining: number,
): number | null {
  const { config } = round.state;
  if (config.prefillMax <= 0 || remaining <= 0) return null;
  const workers = sharers(round, cls).filter((w) =>
    !round.reservedAt.has(w.id) && !round.multi.occupied(w) && canEverRun(cls, w, round.now)
  );
  if (workers.length === 0) return null;
  const lanes = endgameLanes(round.now, cls, workers, (w) => placedInPass(round, cls, w));
  if (lanes === null) return null;
  cls.endgame = inEndgame(lanes, remaining, cls.endgame ? 2 : 1);
  if (!cls.endgame) return null;
  const shares = shareByEnd(lanes, remaining);
  const limit = Math.max(config.prefillMax, config.prefillLimit ?? config.prefillMax);
  const takers = new Set(prefillTakers(round, cls).map((w) => w.id));
  let done = 0;
  for (const lane of lanes) {
    const w = lane.worker;
    if (lane.drained || !takers.has(w.id)) continue;
    const k = Math.min(shares.get(w.id) ?? 0, limit - w.prefilled, startingSoon(lane, round.now));
    const got = queuePrefill(round, w, cls, p, k);
    done += got;
    if (got < k) return done;
  }
  return done;
}

/**
 * Takes up to `k` ready tasks of the class at priority `p` as prefill for `w`; returns how
 * many (fewer when the level ran out).
 */
function queuePrefill(
  round: RoundContext,
  w: WorkerRecord,
  cls: RequestClass,
  p: number,
  k: number,
): number {
  let n = 0;
  while (n < k && takeTask(round, w, cls, null, p)) {
    w.prefilled++; // counted for the loop; commit recounts
    n++;
  }
  return n;
}

/**
 * Workers that may get prefilled tasks of the class: running it (before or in this pass),
 * with room in their queue, not reserved, not held by a multi-node task, changed since the
 * last round or given work in this pass (or the class gained tasks), and able to run it.
 */
export function prefillTakers(round: RoundContext, cls: RequestClass): WorkerRecord[] {
  const { config } = round.state;
  const { reservedAt, multi, placedHere, pending, changedWorkers, changedClasses, now } = round;
  return round.running.filter((w) =>
    !reservedAt.has(w.id) && w.prefilled < prefillCap(w, config) && !multi.occupied(w) &&
    ((w.classLoad.get(cls.id) ?? 0) > 0 || placedHere.has(placedKey(cls, w))) &&
    (pending.has(w.id) || changedWorkers.has(w.id) || changedClasses.has(cls.id)) &&
    canEverRun(cls, w, now)
  );
}

/** Workers that share the class's unstarted tasks: running it, given it now, or holding some. */
export function sharers(round: RoundContext, cls: RequestClass): WorkerRecord[] {
  return round.running.filter((w) =>
    (w.classLoad.get(cls.id) ?? 0) > 0 || round.placedHere.has(placedKey(cls, w)) ||
    cls.prefillHolders.has(w.id)
  );
}
