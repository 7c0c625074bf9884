/**
 * One scheduling round (greedy, incremental):
 *
 * 1. Placement: priority levels from the highest down; at each level every
 *    class with ready tasks there fills the workers' free resources, trying
 *    its variants in order, honouring time requests, soft rejections and
 *    reservations. Only pairs that may have changed are looked at: every
 *    worker when some class gained ready tasks, else the workers whose
 *    resources grew or that were reserved last round.
 * 2. Prefill: at the highest level that still has tasks left, while a class
 *    has more than the reserve, workers running that class get a bounded
 *    queue of extra tasks.
 * 3. Reservation: a class with tasks still waiting after that reserves as
 *    many capable workers (the emptiest first) against lower priorities, and
 *    retracts lower-priority prefilled tasks from them, so big tasks are not
 *    starved. A reservation lasts one round; one kept only by a time request
 *    asks for a new round when that request stops fitting the worker.
 * 4. Min-utilization: a pass whose new work leaves a worker below its minimum
 *    is undone and run again without that worker.
 * 5. Retract: a worker with room for a class whose ready queue is empty pulls
 *    unstarted prefilled tasks of that class away from other workers.
 *
 * Multi-node classes take whole free workers of one group instead of steps 1
 * to 3 (see `multinode_schedule.ts`); workers they occupy get nothing else.
 *
 * @module
 */
import type { JobId, WorkerId } from "../ids.ts";
import type { TaskAssignment } from "../fsproto/messages.ts";
import {
  blockKey,
  isTaskWaiting,
  materializeTask,
  type RequestClass,
  type ServerState,
  type WorkerRecord,
  type WorkerSlot,
} from "./state.ts";
import { assignTasks, countPrefill, type Outbox, sendToWorker } from "./reactor.ts";
import { cpusUsed, fitCount, fitsCapacity, fitsTime, holdResources } from "./worker_load.ts";
import { isMultiNodeClass } from "./multinode.ts";
import { MultiNodeRound } from "./multinode_schedule.ts";
import { requestWeight } from "../resources/request.ts";

/** Result of a round. */
export interface ScheduleResult {
  /** Tasks placed to run now. */
  placed: number;
  /** Tasks prefilled. */
  prefilled: number;
  /** Retracts sent. */
  retracted: number;
}

/** Tasks of one job given to one worker in a round, with one variant (null: prefilled). */
interface PlacementGroup {
  cls: RequestClass;
  variant: number | null;
  jobId: JobId;
  priority: number;
  ids: number[];
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

/** Runs one round at time `now`. */
export function schedule(state: ServerState, now: number, out: Outbox): ScheduleResult {
  state.needsSchedule = false;
  state.scheduleAt = null;
  const changedWorkers = state.changedWorkers;
  const changedClasses = state.changedClasses;
  state.changedWorkers = new Set();
  state.changedClasses = new Set();
  const result: ScheduleResult = { placed: 0, prefilled: 0, retracted: 0 };
  const running: WorkerRecord[] = [];
  for (const w of state.workers.values()) if (w.state === "running") running.push(w);
  if (running.length === 0) return result;
  const active = changedClasses.size > 0
    ? running
    : running.filter((w) => changedWorkers.has(w.id));
  const classes = [...state.classes.values()].filter((c) => c.queue.size > 0);
  const isWaiting = (jobId: JobId, taskId: number) => isTaskWaiting(state.jobs.get(jobId), taskId);
  const { prefillMax, prefillReserve } = state.config;
  const pending = new Map<WorkerId, PlacementGroup[]>();
  const reservedAt = new Map<WorkerId, number>();
  const lowest = lowestPriority(state, classes);
  const placedHere = new Set<string>(); // `class:worker` pairs given tasks to run now
  const multi = new MultiNodeRound({
    running,
    now,
    isWaiting,
    busy: (w) => pending.has(w.id),
    reservedAt,
  });
  /** Takes the next task of the class at priority `p` into the worker's groups; false when none. */
  const take = (w: WorkerRecord, cls: RequestClass, variant: number | null, p: number): boolean => {
    const id = cls.queue.takeAt(isWaiting, p);
    if (id < 0) return false;
    const jobId = cls.queue.lastJob;
    let list = pending.get(w.id);
    if (!list) pending.set(w.id, list = []);
    let group = list[list.length - 1];
    if (!group || group.cls !== cls || group.variant !== variant || group.jobId !== jobId) {
      list.push(group = { cls, variant, jobId, priority: p, ids: [] });
    }
    group.ids.push(id);
    return true;
  };

  const levels = [...new Set(classes.flatMap((c) => c.queue.priorities()))].sort((a, b) => b - a);
  // Min-utilization: a pass whose new work leaves a worker below its minimum is undone
  // and run again without that worker, so its tasks go elsewhere in priority order.
  const excluded = new Set<WorkerId>();
  for (;;) {
    placeLevels();
    // Prefilled tasks hold nothing, so only workers given tasks to run now are judged.
    const below = [...pending].filter(([id, list]) =>
      list.some((g) => g.variant !== null) && belowMinUtilization(state.workers.get(id)!)
    ).map(([id]) => id);
    if (below.length === 0) break;
    for (const id of below) excluded.add(id);
    for (const [workerId, list] of pending) {
      const w = state.workers.get(workerId)!;
      for (const g of list) {
        if (g.variant === null) w.prefilled -= g.ids.length;
        else holdResources(g.cls.variants[g.variant]!, w, -g.ids.length);
        for (const id of g.ids) g.cls.queue.push(g.jobId, g.priority, id);
      }
    }
    for (const m of multi.undo()) m.cls.queue.push(m.jobId, m.priority, m.taskId);
    pending.clear();
    placedHere.clear();
    reservedAt.clear();
  }

  function placeLevels(): void {
    let top: number | null = null;
    for (const p of levels) {
      const atLevel = classes.filter((c) => c.queue.countAt(p) > 0);
      // Among equal priorities, heavier requests (`--weight`) go first, then older jobs.
      atLevel.sort((a, b) =>
        classWeight(b) - classWeight(a) ||
        (a.queue.peek(isWaiting)?.jobId ?? 0) - (b.queue.peek(isWaiting)?.jobId ?? 0)
      );
      for (const cls of atLevel) {
        // Queue counters change only at commit; each class is seen once per level, so the
        // counter still tells what is left here.
        let remaining = cls.queue.countAt(p);
        if (isMultiNodeClass(cls)) {
          remaining -= multi.place(cls, p, remaining);
          if (remaining === 0) continue;
          top ??= p;
          if (lowest !== null && lowest < p) {
            reserveWorkers(cls, p, multi.reserve(cls, remaining));
          }
          continue;
        }
        for (const w of active) {
          if (remaining === 0) break;
          if ((reservedAt.get(w.id) ?? -Infinity) > p || excluded.has(w.id)) continue;
          remaining -= placeOnWorker(cls, p, w, remaining);
        }
        if (remaining === 0) continue;
        top ??= p;
        // Prefill before reserving: prefilled tasks need no reserved worker.
        if (p === top) remaining -= prefill(cls, p, remaining - prefillReserve);
        if (remaining > 0 && lowest !== null && lowest < p) reserve(cls, p, remaining);
      }
    }
  }

  function placeOnWorker(cls: RequestClass, p: number, w: WorkerRecord, limit: number): number {
    if (multi.occupied(w)) return 0;
    let placed = 0;
    for (let v = 0; v < cls.variants.length && placed < limit; v++) {
      const req = cls.variants[v]!;
      if (w.blocked.has(blockKey(cls.id, v)) || !fitsTime(req, w, now)) continue;
      const n = fitCount(req, w, limit - placed);
      let k = 0;
      while (k < n && take(w, cls, v, p)) k++;
      if (k > 0) {
        holdResources(req, w, k);
        placedHere.add(`${cls.id}:${w.id}`);
      }
      placed += k;
      if (k < n) break; // nothing left at this level
    }
    return placed;
  }

  /** Queues up to `spare` tasks on workers running the class; returns how many. */
  function prefill(cls: RequestClass, p: number, spare: number): number {
    if (prefillMax <= 0 || spare <= 0) return 0;
    const takers = running.filter((w) =>
      !reservedAt.has(w.id) && w.prefilled < prefillMax && !multi.occupied(w) &&
      ((w.classLoad.get(cls.id) ?? 0) > 0 || placedHere.has(`${cls.id}:${w.id}`)) &&
      (pending.has(w.id) || changedWorkers.has(w.id) || changedClasses.has(cls.id)) &&
      canEverRun(cls, w, now)
    );
    let done = 0;
    for (let i = 0; i < takers.length && done < spare; i++) {
      const w = takers[i]!;
      const share = Math.max(1, Math.floor((spare - done) / (takers.length - i)));
      let k = Math.min(prefillMax - w.prefilled, share);
      while (k-- > 0 && done < spare) {
        if (!take(w, cls, null, p)) return done;
        w.prefilled++; // counted for the loop; commit recounts
        done++;
      }
    }
    return done;
  }

  function reserve(cls: RequestClass, p: number, count: number): void {
    const capable = running.filter((w) => !reservedAt.has(w.id) && canEverRun(cls, w, now));
    capable.sort((a, b) => cpusUsed(a) - cpusUsed(b) || a.id - b.id);
    reserveWorkers(cls, p, capable.slice(0, count));
  }

  function reserveWorkers(cls: RequestClass, p: number, workers: WorkerRecord[]): void {
    for (const w of workers) {
      reservedAt.set(w.id, p);
      const lapse = reservationLapse(cls, w);
      if (lapse !== null && (state.scheduleAt === null || lapse < state.scheduleAt)) {
        state.scheduleAt = lapse;
      }
    }
  }

  function retract(w: WorkerRecord, slots: WorkerSlot[]): number {
    if (slots.length === 0) return 0;
    for (const s of slots) {
      s.retracting = true;
      state.classes.get(s.classId)!.retracting++;
    }
    sendToWorker(out, w.id, {
      kind: "retractTasks",
      tasks: slots.map((s) => ({
        jobId: s.jobId,
        id: s.taskId,
        instance: materializeTask(state.jobs.get(s.jobId)!, s.taskId).instance,
      })),
    });
    return slots.length;
  }

  // Reserved workers give up their lower-priority prefilled tasks. A reservation holds for
  // this round only: reserved workers are looked at again next round, when whatever they
  // were kept for may have gone elsewhere or been canceled.
  for (const [id, p] of reservedAt) {
    state.changedWorkers.add(id);
    if (![...state.prefillByPriority.keys()].some((q) => q < p)) continue;
    const w = state.workers.get(id)!;
    const victims = [...w.tasks.values()].filter((s) =>
      s.variant === null && !s.retracting && !s.canceled && s.priority < p
    );
    result.retracted += retract(w, victims);
  }

  // Commit.
  for (const [workerId, list] of pending) {
    const w = state.workers.get(workerId)!;
    const perJob = new Map<JobId, TaskAssignment[]>();
    for (const { cls, variant, jobId, priority, ids } of list) {
      const job = state.jobs.get(jobId)!;
      let assignments = perJob.get(jobId);
      if (!assignments) perJob.set(jobId, assignments = []);
      for (const taskId of ids) {
        const task = materializeTask(job, taskId);
        task.workerId = w.id;
        task.variant = variant;
        const slot: WorkerSlot = {
          record: task,
          jobId,
          taskId,
          classId: cls.id,
          priority,
          variant,
          retracting: false,
          canceled: false,
        };
        w.tasks.set(task, slot);
        if (variant === null) {
          w.prefilled--;
          countPrefill(state, w, slot, 1);
        }
        task.state = "assigned";
        assignments.push({ id: taskId, instance: task.instance, variant });
      }
      assignTasks(state, job, priority, ids.length);
      if (variant === null) {
        result.prefilled += ids.length;
      } else {
        // Resources were taken during placement; count the class load only.
        w.classLoad.set(cls.id, (w.classLoad.get(cls.id) ?? 0) + ids.length);
        result.placed += ids.length;
      }
    }
    w.lastBusyAt = now;
    for (const [jobId, tasks] of perJob) {
      const job = state.jobs.get(jobId)!;
      sendToWorker(out, w.id, {
        kind: "computeTasks",
        jobId,
        submitDir: job.submitDir,
        template: job.template,
        tasks,
      });
    }
  }

  result.placed += multi.commit(
    state,
    (jobId, priority) => assignTasks(state, state.jobs.get(jobId)!, priority, 1),
    (workerId, msg) => sendToWorker(out, workerId, msg),
  );

  // Retract for idle room: classes with nothing ready but prefilled tasks elsewhere.
  for (const cls of state.classes.values()) {
    if (cls.queue.size > 0 || cls.prefillHolders.size === 0) continue;
    for (const w of active) {
      if (w.multiNode !== null) continue;
      let room = 0;
      for (let v = 0; v < cls.variants.length; v++) {
        const req = cls.variants[v]!;
        if (w.blocked.has(blockKey(cls.id, v)) || !fitsTime(req, w, now)) continue;
        room = Math.max(room, fitCount(req, w, 1 << 20));
      }
      let want = room - cls.retracting;
      if (want <= 0) continue;
      const holders = [...cls.prefillHolders].filter(([id]) => id !== w.id)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      for (const [holderId] of holders) {
        if (want <= 0) break;
        const holder = state.workers.get(holderId)!;
        const victims: WorkerSlot[] = [];
        for (const s of holder.tasks.values()) {
          if (victims.length >= want) break;
          if (s.classId === cls.id && s.variant === null && !s.retracting && !s.canceled) {
            victims.push(s);
          }
        }
        want -= victims.length;
        result.retracted += retract(holder, victims);
      }
    }
  }
  return result;
}

function lowestPriority(state: ServerState, classes: RequestClass[]): number | null {
  let lowest: number | null = null;
  for (const c of classes) {
    for (const p of c.queue.priorities()) if (lowest === null || p < lowest) lowest = p;
  }
  for (const p of state.prefillByPriority.keys()) if (lowest === null || p < lowest) lowest = p;
  return lowest;
}

function belowMinUtilization(w: WorkerRecord): boolean {
  const min = w.config.minUtilization ?? 0;
  if (min <= 0) return false;
  return cpusUsed(w) < Math.ceil((w.capacity.get("cpus") ?? 0) * min / 10_000);
}

/**
 * When a reservation of `worker` for `cls` stops mattering because no variant's time request
 * fits the worker's remaining lifetime any more; null when that happens only as the worker ends.
 */
function reservationLapse(cls: RequestClass, worker: WorkerRecord): number | null {
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
