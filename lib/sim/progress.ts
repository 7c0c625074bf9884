/**
 * Progress invariants of the simulation, checked after every server step:
 *
 * - {@link checkWorkConservation} (c): no ready task could run now on a
 *   worker that is not legitimately kept from it.
 * - {@link checkPriorities} (d): no task placed in a round took room that a
 *   task still waiting at a strictly higher priority could use.
 * - {@link checkFinished} and {@link describeStuck} (e): at the end every
 *   task is terminal and each finished one really finished on a worker; a run
 *   that does not end in time says which jobs are stuck.
 *
 * @module
 */
import type { WorkerId } from "../common/mod.ts";
import { FRACTIONS_PER_UNIT, type ResourceRequest } from "../resources/mod.ts";
import {
  blockKey,
  canEverRun,
  cpusUsed,
  entryAmount,
  fitsTime,
  groupSizes,
  isMultiNodeClass,
  multiNodeCanRun,
  type Outbox,
  type RequestClass,
  type ServerState,
  type WorkerRecord,
} from "../scheduler/mod.ts";
import { InvariantError } from "./invariants.ts";

function fail(message: string): never {
  throw new InvariantError(message);
}

function fitsFree(req: ResourceRequest, w: WorkerRecord, extra?: Map<string, number>): boolean {
  return req.entries.every((e) => {
    const free = (w.free.get(e.resource) ?? 0) + (extra?.get(e.resource) ?? 0);
    const cap = w.capacity.get(e.resource) ?? 0;
    return cap > 0 && entryAmount(e, w.capacity) <= free;
  });
}

function runnableNow(
  cls: RequestClass,
  w: WorkerRecord,
  now: number,
  extra?: Map<string, number>,
): boolean {
  return cls.variants.some((req, v) =>
    !w.blocked.has(blockKey(cls.id, v)) && fitsTime(req, w, now) && fitsFree(req, w, extra)
  );
}

/** Whether some variant of the class could ever run on (or, multi-node, with) the worker. */
function couldEverRun(
  cls: RequestClass,
  w: WorkerRecord,
  now: number,
  sizes: ReadonlyMap<string, number>,
): boolean {
  if (!isMultiNodeClass(cls)) return canEverRun(cls, w, now);
  const size = sizes.get(w.config.group) ?? 0;
  return cls.variants.some((_, v) => multiNodeCanRun(cls, v, w, now, size));
}

/** Priority each running worker is kept at: the highest waiting class that could ever run there. */
function keptAt(
  state: ServerState,
  top: ReadonlyMap<RequestClass, number>,
  now: number,
): Map<WorkerRecord, number> {
  const sizes = groupSizes(state);
  const kept = new Map<WorkerRecord, number>();
  for (const w of state.workers.values()) {
    if (w.state !== "running") continue;
    let at = -Infinity;
    for (const [cls, p] of top) if (p > at && couldEverRun(cls, w, now, sizes)) at = p;
    kept.set(w, at);
  }
  return kept;
}

/**
 * Whether a waiting multi-node class at `p` could run now on workers of one group that
 * are free, or would be without this round's lower-priority placements (`lower`: per
 * worker, the slots they added and whether they took it whole). With no `lower`, any such
 * group counts; with it, only a group where those placements made the difference.
 */
function multiNodeRunnable(
  cls: RequestClass,
  p: number,
  now: number,
  kept: ReadonlyMap<WorkerRecord, number>,
  lower: ReadonlyMap<WorkerRecord, { slots: number; whole: boolean }> | null,
): string | null {
  for (let v = 0; v < cls.variants.length; v++) {
    const n = cls.variants[v]!.nNodes ?? 0;
    const free = new Map<string, WorkerRecord[]>();
    for (const [w, at] of kept) {
      if (at > p || !multiNodeCanRun(cls, v, w, now, n)) continue;
      const l = lower?.get(w) ?? { slots: 0, whole: false };
      const slotsLeft = w.tasks.size - l.slots;
      if (slotsLeft !== 0 || (w.multiNode !== null && !l.whole)) continue;
      let list = free.get(w.config.group);
      if (!list) free.set(w.config.group, list = []);
      list.push(w);
    }
    for (const [group, list] of free) {
      if (list.length < n) continue;
      if (lower !== null && !list.some((w) => lower.has(w))) continue;
      return `group ${group} has ${list.length} free workers (${list.map((w) => w.id)})`;
    }
  }
  return null;
}

/** Highest waiting priority per class. */
function topWaiting(state: ServerState): Map<RequestClass, number> {
  const top = new Map<RequestClass, number>();
  for (const cls of state.classes.values()) {
    const p = cls.queue.priorities()[0];
    if (p !== undefined) top.set(cls, p);
  }
  return top;
}

function belowMinUtilization(w: WorkerRecord): boolean {
  const min = w.config.minUtilization;
  if (min <= 0) return false;
  return cpusUsed(w) < Math.ceil((w.capacity.get("cpus") ?? 0) * min / 10_000);
}

/**
 * Invariant c, after a round: no waiting task could run now on a live
 * worker's free resources, unless the worker is below its min-utilization or
 * reserved (some waiting task of higher priority could ever run there).
 */
export function checkWorkConservation(state: ServerState, now: number): void {
  const top = topWaiting(state);
  if (top.size === 0) return;
  const kept = keptAt(state, top, now);
  for (const [cls, p] of top) {
    if (!isMultiNodeClass(cls)) continue;
    const why = multiNodeRunnable(cls, p, now, kept, null);
    if (why !== null) {
      fail(`work conservation: multi-node class ${cls.id} (priority ${p}) could run now: ${why}`);
    }
  }
  for (const [w, reservedAt] of kept) {
    if (belowMinUtilization(w)) continue;
    for (const [cls, p] of top) {
      if (p < reservedAt || isMultiNodeClass(cls)) continue;
      if (runnableNow(cls, w, now)) {
        fail(
          `work conservation: class ${cls.id} (priority ${p}, ${cls.queue.size} waiting) ` +
            `could run now on worker ${w.id} (free ${fmtFree(w)})`,
        );
      }
    }
  }
}

/** A task placed to run now in a round. */
export interface RoundPlacement {
  /** Worker it went to. */
  workerId: WorkerId;
  priority: number;
  /** The request of its variant. */
  request: ResourceRequest;
  /** Multi-node: the worker is one of the task's nodes and was taken whole. */
  whole?: { root: boolean };
}

/**
 * Invariant d, after a round: no task was placed onto a worker whose room,
 * without the placements of lower priority, would fit a task still waiting at
 * a strictly higher priority.
 */
export function checkPriorities(
  state: ServerState,
  placements: readonly RoundPlacement[],
  now: number,
): void {
  if (placements.length === 0) return;
  const top = topWaiting(state);
  const byWorker = new Map<WorkerId, RoundPlacement[]>();
  for (const pl of placements) {
    let list = byWorker.get(pl.workerId);
    if (!list) byWorker.set(pl.workerId, list = []);
    list.push(pl);
  }
  const kept = keptAt(state, top, now);
  for (const [cls, p] of top) {
    if (!isMultiNodeClass(cls)) continue;
    const lower = new Map<WorkerRecord, { slots: number; whole: boolean }>();
    for (const pl of placements) {
      if (pl.priority >= p) continue;
      const w = state.workers.get(pl.workerId)!;
      const l = lower.get(w) ?? { slots: 0, whole: false };
      if (!pl.whole || pl.whole.root) l.slots++;
      if (pl.whole) l.whole = true;
      lower.set(w, l);
    }
    if (lower.size === 0) continue;
    const why = multiNodeRunnable(cls, p, now, kept, lower);
    if (why !== null) {
      fail(
        `priority: lower-priority tasks took workers that multi-node class ${cls.id} ` +
          `waiting at ${p} could use: ${why}`,
      );
    }
  }
  for (const [workerId, list] of byWorker) {
    const w = state.workers.get(workerId)!;
    if (w.config.minUtilization > 0) continue;
    for (const [cls, p] of top) {
      if (isMultiNodeClass(cls)) continue;
      const lower = list.filter((pl) => pl.priority < p);
      if (lower.length === 0) continue;
      const extra = new Map<string, number>();
      for (const pl of lower) {
        if (pl.whole) {
          for (const [r, cap] of w.capacity) extra.set(r, (extra.get(r) ?? 0) + cap);
          continue;
        }
        for (const e of pl.request.entries) {
          extra.set(e.resource, (extra.get(e.resource) ?? 0) + entryAmount(e, w.capacity));
        }
      }
      if (runnableNow(cls, w, now, extra)) {
        fail(
          `priority: worker ${w.id} got ${lower.length} task(s) below priority ${p} ` +
            `while class ${cls.id} waits there at ${p} (free ${fmtFree(w)})`,
        );
      }
    }
  }
}

function fmtFree(w: WorkerRecord): string {
  return [...w.free].map(([r, a]) => `${r}=${a / FRACTIONS_PER_UNIT}`).join(" ");
}

/** Invariant e: every finished task's attempt was finished by some worker. */
export function checkFinished(state: ServerState, finishedRuns: ReadonlySet<string>): void {
  for (const job of state.jobs.values()) {
    const c = job.counts;
    if (c.waiting + c.assigned + c.running > 0) fail(`job ${job.id} is not complete at the end`);
    for (const [taskId, task] of job.tasks) {
      const run = `${job.id}:${taskId}:${task.instance}`;
      if (task.state === "finished" && !finishedRuns.has(run)) {
        fail(`task ${run} is finished but no worker finished it`);
      }
    }
  }
}

/** The first few incomplete jobs, for a liveness failure. */
export function describeStuck(state: ServerState): string {
  const parts: string[] = [];
  for (const job of state.jobs.values()) {
    const c = job.counts;
    if (c.waiting + c.assigned + c.running > 0) {
      parts.push(
        `job ${job.id} class ${job.parts[0]?.classId} p${job.parts[0]?.template.priority}: ` +
          `${c.waiting} waiting, ${c.assigned} assigned, ${c.running} running`,
      );
    }
  }
  return parts.slice(0, 5).join("; ");
}

/** The tasks a round placed to run now, from what it sent. */
export function placementsOf(out: Outbox): RoundPlacement[] {
  const list: RoundPlacement[] = [];
  for (const [workerId, msgs] of out) {
    for (const m of msgs) {
      if (m.kind !== "computeTasks") continue;
      for (const t of m.tasks) {
        if (t.variant === null) continue;
        if (t.nodes) {
          const request = m.template.requests[t.variant]!;
          const priority = m.template.priority;
          t.nodes.forEach((n, i) => {
            list.push({ workerId: n.workerId, priority, request, whole: { root: i === 0 } });
          });
          continue;
        }
        list.push({
          workerId,
          priority: m.template.priority,
          request: m.template.requests[t.variant]!,
        });
      }
    }
  }
  return list;
}
