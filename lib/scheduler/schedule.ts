/**
 * One scheduling round (greedy, incremental), as named stages over one
 * `RoundContext` (`schedule_context.ts`):
 *
 * 1. Placement (`schedule_place.ts`): priority levels from the highest down;
 *    at each level every class with ready tasks there fills the workers' free
 *    resources, trying its variants in order, honouring time requests, soft
 *    rejections and reservations. Only pairs that may have changed are looked
 *    at: every worker when some class gained ready tasks, else the workers
 *    whose resources grew or that were reserved last round.
 * 2. Prefill (`schedule_prefill.ts`): at the highest level that still has
 *    tasks left, while a class has more than the reserve, workers running
 *    that class get a bounded queue of extra tasks.
 * 3. Reservation (`schedule_reserve.ts`): a class with tasks still waiting
 *    after that reserves as many capable workers (the emptiest first) against
 *    lower priorities, and retracts lower-priority prefilled tasks from them,
 *    so big tasks are not starved. A reservation lasts one round; one kept
 *    only by a time request asks for a new round when that request stops
 *    fitting the worker.
 * 4. Min-utilization (`schedule_min_utilization.ts`): a pass (steps 1 to 3)
 *    whose new work leaves a worker below its minimum is undone and run again
 *    without that worker.
 * 5. Commit (`schedule_commit.ts`): the placements become assigned tasks and
 *    `computeTasks` messages.
 * 6. Retract (`schedule_retract.ts`): a worker with room for a class whose
 *    ready queue is empty pulls unstarted prefilled tasks of that class away
 *    from other workers.
 *
 * Multi-node classes take whole free workers of one group instead of steps 1
 * to 3 (see `multinode_schedule.ts`); workers they occupy get nothing else.
 *
 * @module
 */
import type { ServerState } from "./state.ts";
import type { Outbox } from "./reactor.ts";
import { beginRound } from "./schedule_context.ts";
import { placeLevels } from "./schedule_place.ts";
import { undoPass, workersBelowMinUtilization } from "./schedule_min_utilization.ts";
import { retractForIdleRoom, retractFromReserved } from "./schedule_retract.ts";
import { commitPlacements } from "./schedule_commit.ts";

export { canEverRun, classWeight } from "./schedule_context.ts";

/** Result of a round. */
export interface ScheduleResult {
  /** Tasks placed to run now. */
  placed: number;
  /** Tasks prefilled. */
  prefilled: number;
  /** Retracts sent. */
  retracted: number;
}

/** Runs one round at time `now`; messages to workers go to `out`. */
export function schedule(state: ServerState, now: number, out: Outbox): ScheduleResult {
  const round = beginRound(state, now, out);
  if (round === null) return { placed: 0, prefilled: 0, retracted: 0 };
  // Each undone pass excludes at least one more worker, so this ends.
  for (;;) {
    placeLevels(round);
    const below = workersBelowMinUtilization(round);
    if (below.length === 0) break;
    undoPass(round, below);
  }
  const retractedForReservations = retractFromReserved(round);
  const { placed, prefilled } = commitPlacements(round);
  const retractedForRoom = retractForIdleRoom(round);
  return { placed, prefilled, retracted: retractedForReservations + retractedForRoom };
}
