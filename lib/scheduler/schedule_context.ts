/**
 * The context of one scheduling round, shared by its stages (see the stage
 * list in `schedule.ts`). It holds what the round looks at, fixed when the
 * round begins, and what the stages build up before the commit: the
 * pending placements per worker, the reservations and the multi-node
 * placements. Nothing in it is sent or counted as assigned until
 * the commit (`schedule_commit.ts`) runs, which is what lets the min-utilization
 * stage undo a whole pass.
 *
 * @module
 */
import type { JobId, WorkerId } from "../common/mod.ts";
import {
  blockKey,
  isTaskWaiting,
  type RequestClass,
  type ServerState,
  type WorkerRecord,
} from "./state.ts";
import type { Outbox } from "./reactor.ts";
import type { IsWaiting } from "./task_queue.ts";
import { fitsCapacity, fitsTime } from "./worker_load.ts";
import { MultiNodeRound } from "./multinode_schedule.ts";
import { requestWeight } from "../resources/mod.ts";

/** Tasks of one job given to one worker in a round, with one variant (null: prefilled). */
export interface PlacementGroup {
  /** Class of the tasks. */
  cls: RequestClass;
  /** Variant they run with, or null when prefilled. */
  variant: number | null;
  jobId: JobId;
  /** Priority level they were taken at. */
  priority: number;
  /** Task ids, in the order taken. */
  ids: number[];
}

/**
 * One scheduling round: its inputs, fixed by {@link beginRound}, and the
 * state of the current placement pass. `pending`, `placedHere`, `reservedAt`
 * and `multi` belong to the pass and are cleared when min-utilization undoes
 * it; `excluded` grows over the passes.
 */
export interface RoundContext {
  /** The server state the round works on. */
  readonly state: ServerState;
  /** Round time. */
  readonly now: number;
  /** Where messages to workers go. */
  readonly out: Outbox;
  /** Running workers, in registration order. */
  readonly running: readonly WorkerRecord[];
  /**
   * Workers that placement looks at: every running one when some class gained
   * ready tasks, else those whose resources grew or that were reserved last round.
   */
  readonly active: readonly WorkerRecord[];
  /** Classes with ready tasks. */
  readonly classes: readonly RequestClass[];
  /** Priority levels with ready tasks, highest first. */
  readonly levels: readonly number[];
  /** Lowest priority of ready or prefilled tasks; null when there is none. */
  readonly lowest: number | null;
  /** Workers changed since the last round (the state's set, taken at the start). */
  readonly changedWorkers: ReadonlySet<WorkerId>;
  /** Classes that gained ready tasks since the last round (taken at the start). */
  readonly changedClasses: ReadonlySet<number>;
  /** Whether a queued task still waits. */
  readonly isWaiting: IsWaiting;
  /** Single-node placements of the pass, per worker, in the order taken. */
  readonly pending: Map<WorkerId, PlacementGroup[]>;
  /** `class:worker` pairs (see {@link placedKey}) given tasks to run now in the pass. */
  readonly placedHere: Set<string>;
  /** Priority each worker is reserved at in the pass. */
  readonly reservedAt: Map<WorkerId, number>;
  /** Workers left out of placement because their new work left them below their minimum. */
  readonly excluded: Set<WorkerId>;
  /** Multi-node placements of the pass. */
  readonly multi: MultiNodeRound;
}

/**
 * Begins a round at `now`: takes the state's change sets (later changes count for the next
 * round) and clears its request for a round. Returns null when no worker is running.
 */
export function beginRound(state: ServerState, now: number, out: Outbox): RoundContext | null {
  state.needsSchedule = false;
  state.scheduleAt = null;
  const changedWorkers = state.changedWorkers;
  const changedClasses = state.changedClasses;
  state.changedWorkers = new Set();
  state.changedClasses = new Set();
  const running: WorkerRecord[] = [];
  for (const w of state.workers.values()) if (w.state === "running") running.push(w);
  if (running.length === 0) return null;
  const active = changedClasses.size > 0
    ? running
    : running.filter((w) => changedWorkers.has(w.id));
  const classes = [...state.classes.values()].filter((c) => c.queue.size > 0);
  const isWaiting = (jobId: JobId, taskId: number) => isTaskWaiting(state.jobs.get(jobId), taskId);
  const pending = new Map<WorkerId, PlacementGroup[]>();
  const reservedAt = new Map<WorkerId, number>();
  return {
    state,
    now,
    out,
    running,
    active,
    classes,
    levels: [...new Set(classes.flatMap((c) => c.queue.priorities()))].sort((a, b) => b - a),
    lowest: lowestPriority(state, classes),
    changedWorkers,
    changedClasses,
    isWaiting,
    pending,
    placedHere: new Set(),
    reservedAt,
    excluded: new Set(),
    multi: new MultiNodeRound({
      running,
      now,
      isWaiting,
      busy: (w) => pending.has(w.id),
      reservedAt,
    }),
  };
}

/**
 * Takes the next task of the class at priority `p` into the worker's pending groups, to run
 * with `variant` (null: prefilled); false when none is left at that level. Queue counters are
 * left alone until commit.
 */
export function takeTask(
  round: RoundContext,
  w: WorkerRecord,
  cls: RequestClass,
  variant: number | null,
  p: number,
): boolean {
  const id = cls.queue.takeAt(round.isWaiting, p);
  if (id < 0) return false;
  const jobId = cls.queue.lastJob;
  let list = round.pending.get(w.id);
  if (!list) round.pending.set(w.id, list = []);
  let group = list[list.length - 1];
  if (!group || group.cls !== cls || group.variant !== variant || group.jobId !== jobId) {
    list.push(group = { cls, variant, jobId, priority: p, ids: [] });
  }
  group.ids.push(id);
  return true;
}

/** Key of a class and worker pair in {@link RoundContext.placedHere}. */
export function placedKey(cls: RequestClass, w: WorkerRecord): string {
  return `${cls.id}:${w.id}`;
}

/** A class's weight: the largest weight of its variants. */
export function classWeight(cls: RequestClass): number {
  let w = 0;
  for (const v of cls.variants) w = Math.max(w, requestWeight(v));
  return w;
}

/** Whether some variant of the class could run on the worker at all (ignoring current load). */
export function canEverRun(cls: RequestClass, worker: WorkerRecord, now: number): boolean {
  return cls.variants.some((req, v) =>
    !worker.blocked.has(blockKey(cls.id, v)) && fitsCapacity(req, worker) &&
    fitsTime(req, worker, now)
  );
}

/** Lowest priority among the classes' ready tasks and all prefilled tasks. */
function lowestPriority(state: ServerState, classes: RequestClass[]): number | null {
  let lowest: number | null = null;
  for (const c of classes) {
    for (const p of c.queue.priorities()) if (lowest === null || p < lowest) lowest = p;
  }
  for (const p of state.prefillByPriority.keys()) if (lowest === null || p < lowest) lowest = p;
  return lowest;
}
