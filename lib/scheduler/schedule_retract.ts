/**
 * Retraction of unstarted prefilled tasks, at two points of a round:
 *
 * - before the commit, reserved workers give up their prefilled tasks of
 *   lower priority than the reservation ({@link retractFromReserved});
 * - after it, a worker with room for a class whose ready queue is empty pulls
 *   that class's prefilled tasks away from other workers
 *   ({@link retractForIdleRoom}).
 *
 * A retract is a request: the worker returns the tasks it has not started
 * (they become waiting again) and starts the others anyway. Retracts in
 * flight are counted per class so they are not sent twice.
 *
 * @module
 */
import {
  blockKey,
  materializeTask,
  type RequestClass,
  type WorkerRecord,
  type WorkerSlot,
} from "./state.ts";
import { sendToWorker } from "./reactor.ts";
import { fitCount, fitsTime } from "./worker_load.ts";
import type { RoundContext } from "./schedule_context.ts";

/**
 * Reserved workers give up their lower-priority prefilled tasks; returns how many retracts
 * were sent. A reservation holds for this round only, so every reserved worker is marked
 * changed: it is looked at again next round, when whatever it was kept for may have gone
 * elsewhere or been canceled.
 */
export function retractFromReserved(round: RoundContext): number {
  const { state } = round;
  let retracted = 0;
  for (const [id, p] of round.reservedAt) {
    state.changedWorkers.add(id);
    if (![...state.prefillByPriority.keys()].some((q) => q < p)) continue;
    const w = state.workers.get(id)!;
    const victims = [...w.tasks.values()].filter((s) =>
      s.variant === null && !s.retracting && !s.canceled && s.priority < p
    );
    retracted += retractSlots(round, w, victims);
  }
  return retracted;
}

/**
 * Classes with nothing ready but prefilled tasks somewhere: each active single-node worker
 * with room for some of them pulls that many (less the retracts already in flight) from the
 * other holders, the largest holder first. Returns how many retracts were sent.
 */
export function retractForIdleRoom(round: RoundContext): number {
  let retracted = 0;
  for (const cls of round.state.classes.values()) {
    if (cls.queue.size > 0 || cls.prefillHolders.size === 0) continue;
    for (const w of round.active) {
      if (w.multiNode !== null) continue;
      let want = roomFor(round, cls, w) - cls.retracting;
      if (want <= 0) continue;
      const holders = [...cls.prefillHolders].filter(([id]) => id !== w.id)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      for (const [holderId] of holders) {
        if (want <= 0) break;
        const holder = round.state.workers.get(holderId)!;
        const victims: WorkerSlot[] = [];
        for (const s of holder.tasks.values()) {
          if (victims.length >= want) break;
          if (s.classId === cls.id && s.variant === null && !s.retracting && !s.canceled) {
            victims.push(s);
          }
        }
        want -= victims.length;
        retracted += retractSlots(round, holder, victims);
      }
    }
  }
  return retracted;
}

/** How many tasks of the class fit the worker's free resources now, with its best variant. */
function roomFor(round: RoundContext, cls: RequestClass, w: WorkerRecord): number {
  let room = 0;
  for (let v = 0; v < cls.variants.length; v++) {
    const req = cls.variants[v]!;
    if (w.blocked.has(blockKey(cls.id, v)) || !fitsTime(req, w, round.now)) continue;
    room = Math.max(room, fitCount(req, w, 1 << 20));
  }
  return room;
}

/** Marks the slots as retracting and sends the worker one retract for them; returns how many. */
export function retractSlots(round: RoundContext, w: WorkerRecord, slots: WorkerSlot[]): number {
  if (slots.length === 0) return 0;
  const { state } = round;
  for (const s of slots) {
    s.retracting = true;
    state.classes.get(s.classId)!.retracting++;
  }
  sendToWorker(round.out, w.id, {
    kind: "retractTasks",
    tasks: slots.map((s) => ({
      jobId: s.jobId,
      id: s.taskId,
      instance: materializeTask(state.jobs.get(s.jobId)!, s.taskId).instance,
    })),
  });
  return slots.length;
}
