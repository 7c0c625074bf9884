/**
 * Placement, the first stage of a round and the driver of one pass: priority
 * levels from the highest down; at each level every class with ready tasks
 * there fills the free resources of the round's active workers, trying its
 * variants in order and honouring time requests, soft rejections,
 * reservations and min-utilization exclusions. What a class cannot place
 * goes on to prefill (`schedule_prefill.ts`, at the highest level with tasks
 * left) and then to reservation (`schedule_reserve.ts`). Multi-node classes
 * take whole free workers instead (`multinode_schedule.ts`).
 *
 * Resources are held as tasks are taken, so later classes see what is left;
 * queue counters change only at commit.
 *
 * @module
 */
import { blockKey, type RequestClass, type WorkerRecord } from "./state.ts";
import { fitCount, fitsTime, holdResources } from "./worker_load.ts";
import { isMultiNodeClass } from "./multinode.ts";
import { classWeight, placedKey, type RoundContext, takeTask } from "./schedule_context.ts";
import { prefillClass, prefillEndgame } from "./schedule_prefill.ts";
import { reserveClass, reserveWorkers } from "./schedule_reserve.ts";

/** Runs one placement pass over every priority level, with prefill and reservation. */
export function placeLevels(round: RoundContext): void {
  const { lowest, multi } = round;
  const { prefillReserve } = round.state.config;
  let top: number | null = null;
  for (const p of round.levels) {
    for (const cls of classesAtLevel(round, p)) {
      // Queue counters change only at commit; each class is seen once per level, so the
      // counter still tells what is left here.
      let remaining = cls.queue.countAt(p);
      if (isMultiNodeClass(cls)) {
        remaining -= multi.place(cls, p, remaining);
        if (remaining === 0) continue;
        top ??= p;
        if (lowest !== null && lowest < p) {
          reserveWorkers(round, cls, p, multi.reserve(cls, remaining));
        }
        continue;
      }
      remaining -= placeClass(round, cls, p, remaining);
      if (remaining === 0) continue;
      top ??= p;
      // Prefill before reserving: prefilled tasks need no reserved worker.
      if (p === top) {
        remaining -= prefillEndgame(round, cls, p, remaining) ??
          prefillClass(round, cls, p, remaining - prefillReserve);
      }
      if (remaining > 0 && lowest !== null && lowest < p) reserveClass(round, cls, p, remaining);
    }
  }
}

/**
 * Classes with ready tasks at priority `p`, in placement order: heavier requests
 * (`--weight`) first, then older jobs.
 */
export function classesAtLevel(round: RoundContext, p: number): RequestClass[] {
  const { isWaiting } = round;
  const atLevel = round.classes.filter((c) => c.queue.countAt(p) > 0);
  atLevel.sort((a, b) =>
    classWeight(b) - classWeight(a) ||
    (a.queue.peek(isWaiting)?.jobId ?? 0) - (b.queue.peek(isWaiting)?.jobId ?? 0)
  );
  return atLevel;
}

/**
 * Places up to `limit` tasks of a single-node class at priority `p` on the active workers
 * in order, skipping workers reserved at a higher priority or excluded; returns how many.
 */
export function placeClass(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  limit: number,
): number {
  let placed = 0;
  for (const w of round.active) {
    if (placed === limit) break;
    if ((round.reservedAt.get(w.id) ?? -Infinity) > p || round.excluded.has(w.id)) continue;
    placed += placeOnWorker(round, cls, p, w, limit - placed);
  }
  return placed;
}

/** Fills one worker with up to `limit` tasks of the class, variant by variant; returns how many. */
function placeOnWorker(
  round: RoundContext,
  cls: RequestClass,
  p: number,
  w: WorkerRecord,
  limit: number,
): number {
  if (round.multi.occupied(w)) return 0;
  let placed = 0;
  for (let v = 0; v < cls.variants.length && placed < limit; v++) {
    const req = cls.variants[v]!;
    if (w.blocked.has(blockKey(cls.id, v)) || !fitsTime(req, w, round.now)) continue;
    const n = fitCount(req, w, limit - placed);
    let k = 0;
    while (k < n && takeTask(round, w, cls, v, p)) k++;
    if (k > 0) {
      holdResources(req, w, k);
      round.placedHere.add(placedKey(cls, w));
    }
    placed += k;
    if (k < n) break; // nothing left at this level
  }
  return placed;
}
