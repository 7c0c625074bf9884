/**
 * Min-utilization (`worker start --min-utilization`): a placement pass whose
 * new work leaves a worker below its minimum share of CPUs in use is undone
 * as a whole and run again without that worker, so its tasks go elsewhere in
 * priority order. Each redo excludes at least one more worker, so the passes
 * end.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import type { WorkerRecord } from "./state.ts";
import { cpusUsed, holdResources } from "./worker_load.ts";
import type { RoundContext } from "./schedule_context.ts";

/**
 * Workers given tasks to run now in this pass that stay below their minimum utilization.
 * Prefilled tasks hold nothing, so workers given only those are not judged.
 */
export function workersBelowMinUtilization(round: RoundContext): WorkerId[] {
  const below: WorkerId[] = [];
  for (const [id, list] of round.pending) {
    if (list.some((g) => g.variant !== null) && belowMinUtilization(round.state.workers.get(id)!)) {
      below.push(id);
    }
  }
  return below;
}

/**
 * Undoes the pass: gives back held resources and prefill counts, returns every taken task
 * (multi-node ones too) to its queue, clears the pass's placements and reservations, and
 * excludes the `below` workers from the passes that follow.
 */
export function undoPass(round: RoundContext, below: readonly WorkerId[]): void {
  for (const id of below) round.excluded.add(id);
  for (const [workerId, list] of round.pending) {
    const w = round.state.workers.get(workerId)!;
    for (const g of list) {
      if (g.variant === null) w.prefilled -= g.ids.length;
      else holdResources(g.cls.variants[g.variant]!, w, -g.ids.length);
      for (const id of g.ids) g.cls.queue.push(g.jobId, g.priority, id);
    }
  }
  for (const m of round.multi.undo()) m.cls.queue.push(m.jobId, m.priority, m.taskId);
  round.pending.clear();
  round.placedHere.clear();
  round.reservedAt.clear();
}

/** Whether the worker's CPUs in use are below its `--min-utilization` share (1/10,000). */
export function belowMinUtilization(w: WorkerRecord): boolean {
  const min = w.config.minUtilization ?? 0;
  if (min <= 0) return false;
  return cpusUsed(w) < Math.ceil((w.capacity.get("cpus") ?? 0) * min / 10_000);
}
