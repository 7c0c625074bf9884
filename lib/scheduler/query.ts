/**
 * What new workers would get work: the question automatic allocation asks
 * the scheduler (HyperQueue's `WorkerTypeQuery`). Each query describes a
 * kind of worker a queue can start; the answer says how many such workers
 * the waiting tasks would keep busy. Queries are answered in order and share
 * the waiting tasks, so an earlier queue takes demand first.
 *
 * The tasks counted are the ready ones a scheduling round left over: the
 * running workers had no room for them. Placement follows the round's rules
 * on virtual workers: priorities from the highest down, variants in order,
 * the resource amounts of `worker_load.ts`, time requests against the
 * worker's lifetime, and min-utilization. Resources a partial query does not
 * name count as unlimited, but tasks that need one get at most one new worker:
 * a queue that does not know whether its workers have a resource asks for one
 * worker (a probe), and more once a real worker has shown its resources.
 *
 * @module
 */
import type { Amount, ResourceRequest } from "../resources/mod.ts";
import type { ServerState } from "./state.ts";

/** A kind of worker that could be started. */
export interface WorkerTypeQuery {
  /** Amount per resource of one such worker, fixed point. */
  capacity: ReadonlyMap<string, Amount>;
  /** Whether resources not in `capacity` are unknown (then unlimited) rather than absent. */
  partial: boolean;
  /** How long such a worker lives, ms. */
  lifetimeMs: number;
  /** Most new workers of this kind to plan. */
  maxWorkers: number;
  /** Workers of this kind already coming (queued allocations): they take tasks first. */
  comingWorkers: number;
  /** Most workers one allocation can have (multi-node tasks need that many). */
  maxWorkersPerAlloc: number;
  /** Least CPU use of a worker, 1/10000 of its CPUs, for it to count. */
  minUtilization: number;
}

/** Demand of one request class on one query. */
export interface ClassDemand {
  /** Request class id. */
  classId: number;
  /** Its waiting tasks this query took. */
  tasks: number;
}

/** The answer to one query. */
export interface WorkerTypeAnswer {
  /** New single-node workers that would get work (beyond the coming ones). */
  workers: number;
  /** Node counts of the multi-node tasks this query takes, one entry per task. */
  multiNode: number[];
  /** Waiting tasks taken, per class (for `alloc explain`). */
  classes: ClassDemand[];
}

interface Virtual {
  free: Map<string, number>;
  cpusUsed: number;
  tasks: number;
}

/** Amount one copy of `request` takes of `resource` on the query's worker. */
function amountOn(request: ResourceRequest, q: WorkerTypeQuery, resource: string): number {
  const entry = request.entries.find((e) => e.resource === resource)!;
  if (entry.policy !== "all") return entry.amount;
  return q.capacity.get(resource) ?? 0;
}

/** Whether an empty worker of the query's kind could run `request` at all. */
export function queryFits(request: ResourceRequest, q: WorkerTypeQuery): boolean {
  if (request.minTimeMs > q.lifetimeMs) return false;
  for (const entry of request.entries) {
    const total = q.capacity.get(entry.resource);
    if (total === undefined) {
      if (!q.partial || entry.policy === "all") return false;
      continue;
    }
    if (total === 0 || amountOn(request, q, entry.resource) > total) return false;
  }
  return true;
}

/** How many copies fit in a virtual worker's free amounts (Infinity when nothing limits them). */
function fits(request: ResourceRequest, q: WorkerTypeQuery, w: Virtual): number {
  let n = Infinity;
  for (const entry of request.entries) {
    const free = w.free.get(entry.resource);
    if (free === undefined) continue; // unknown resource of a partial query: unlimited
    const amount = amountOn(request, q, entry.resource);
    if (amount > 0) n = Math.min(n, Math.floor(free / amount));
  }
  return n;
}

function place(request: ResourceRequest, q: WorkerTypeQuery, w: Virtual, k: number): void {
  for (const entry of request.entries) {
    const free = w.free.get(entry.resource);
    if (free === undefined) continue;
    const amount = amountOn(request, q, entry.resource) * k;
    w.free.set(entry.resource, free - amount);
    if (entry.resource === "cpus") w.cpusUsed += amount;
  }
  w.tasks += k;
}

function emptyWorker(q: WorkerTypeQuery): Virtual {
  return { free: new Map(q.capacity), cpusUsed: 0, tasks: 0 };
}

/** Ready tasks per class and priority, highest priority first. */
function readyByPriority(state: ServerState): { classId: number; priority: number; n: number }[] {
  const out: { classId: number; priority: number; n: number }[] = [];
  for (const cls of state.classes.values()) {
    for (const p of cls.queue.priorities()) {
      const n = cls.queue.countAt(p);
      if (n > 0) out.push({ classId: cls.id, priority: p, n });
    }
  }
  return out.sort((a, b) => b.priority - a.priority || a.classId - b.classId);
}

/**
 * Answers `queries` in order over the ready tasks of `state`; an earlier
 * query takes the tasks it can run before a later one sees them.
 *
 * @example Usage
 * ```ts
 * import { queryNewWorkers } from "./query.ts";
 * import { createServerState } from "./state.ts";
 * import { onSubmit } from "./job_events.ts";
 * import { jobSubmit } from "./testdata/fixtures.ts";
 * import assert from "node:assert/strict";
 * const state = createServerState("uid");
 * onSubmit(state, jobSubmit("cpus=2", 10), 0); // ten 2-CPU tasks, no worker
 * const q = {
 *   capacity: new Map([["cpus", 40000]]), // 4 CPUs
 *   partial: false,
 *   lifetimeMs: 3600_000,
 *   maxWorkers: 100,
 *   comingWorkers: 0,
 *   maxWorkersPerAlloc: 1,
 *   minUtilization: 0,
 * };
 * assert.equal(queryNewWorkers(state, [q], 0)[0]!.workers, 5);
 * ```
 */
export function queryNewWorkers(
  state: ServerState,
  queries: readonly WorkerTypeQuery[],
  _now: number,
): WorkerTypeAnswer[] {
  const left = readyByPriority(state);
  return queries.map((q) => {
    const answer: WorkerTypeAnswer = { workers: 0, multiNode: [], classes: [] };
    const taken = new Map<number, number>();
    const coming: Virtual[] = Array.from({ length: q.comingWorkers }, () => emptyWorker(q));
    const fresh: Virtual[] = [];
    for (const item of left) {
      if (item.n === 0) continue;
      const cls = state.classes.get(item.classId)!;
      const nNodes = cls.variants[0]?.nNodes ?? 0;
      if (nNodes > 1) {
        const req = cls.variants[0]!;
        if (nNodes > q.maxWorkersPerAlloc || req.minTimeMs > q.lifetimeMs) continue;
        for (let i = 0; i < item.n; i++) answer.multiNode.push(nNodes);
        taken.set(item.classId, (taken.get(item.classId) ?? 0) + item.n);
        item.n = 0;
        continue;
      }
      const request = cls.variants.find((v) => queryFits(v, q));
      if (request === undefined) continue;
      // A request for a resource the query does not know can only be tried on one worker.
      const probing = request.entries.some((e) => !q.capacity.has(e.resource));
      const cap = probing ? Math.min(q.maxWorkers, 1) : q.maxWorkers;
      let n = item.n;
      for (const w of [...coming, ...fresh]) {
        if (n === 0) break;
        const k = Math.min(n, fits(request, q, w));
        if (k > 0) place(request, q, w, k);
        n -= k;
      }
      while (n > 0 && fresh.length < cap) {
        const w = emptyWorker(q);
        const k = Math.min(n, fits(request, q, w));
        if (k <= 0) break;
        place(request, q, w, k);
        fresh.push(w);
        n -= k;
      }
      taken.set(item.classId, (taken.get(item.classId) ?? 0) + item.n - n);
      item.n = n;
    }
    const cpus = q.capacity.get("cpus");
    const enough = (w: Virtual) =>
      w.tasks > 0 &&
      (q.minUtilization === 0 || cpus === undefined ||
        w.cpusUsed * 10_000 >= q.minUtilization * cpus);
    answer.workers = fresh.filter(enough).length;
    for (const [classId, tasks] of taken) if (tasks > 0) answer.classes.push({ classId, tasks });
    return answer;
  });
}
