/**
 * Invariants of the scheduler checked by the simulation after every step.
 * Each check throws an {@link InvariantError} naming what broke.
 *
 * - {@link checkServerState}: server accounting (free never negative and equal
 *   to capacity minus what slots hold, or 0 on a worker of a multi-node
 *   task), one state per task, per-job and per-queue counters, slot/task
 *   agreement, prefill counters, multi-node runs (root holds the slot, the
 *   other nodes hold nothing else, every node points to a live run).
 * - {@link checkWorkerAllocations}: a worker core's allocations never
 *   over-commit an index or a sum pool, and the server never believes free
 *   what the worker has in use.
 *
 * The checks of progress (work conservation, priorities, liveness) are in
 * `progress.ts`.
 *
 * @module
 */
import { idSetIterate, type WorkerId } from "../common/mod.ts";
import { FRACTIONS_PER_UNIT, isMultiNode, poolUnits, type ResourcePool } from "../resources/mod.ts";
import type { StartOrder } from "../worker/mod.ts";
import type { TaskUpdate } from "../protocol/mod.ts";
import {
  entryAmount,
  getTask,
  isReady,
  isTerminal,
  type Job,
  partOf,
  type ServerState,
  TASK_STATES,
  taskKey,
  type TaskRecord,
  type TaskState,
  type WorkerRecord,
} from "../scheduler/mod.ts";

/** A broken invariant. */
export class InvariantError extends Error {
  /** Creates the error with a description of the broken invariant. */
  constructor(message: string) {
    super(message);
    this.name = "InvariantError";
  }
}

function fail(message: string): never {
  throw new InvariantError(message);
}

interface Tally {
  slotOf: Map<string, WorkerId>;
  prefillByPriority: Map<number, number>;
  retractingByClass: Map<number, number>;
  holders: Map<number, Map<WorkerId, number>>;
}

function bump<K>(m: Map<K, number>, k: K): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

/** Checks the server's own bookkeeping, all of it (invariants a and b). */
export function checkServerState(state: ServerState): void {
  const tally: Tally = {
    slotOf: new Map(),
    prefillByPriority: new Map(),
    retractingByClass: new Map(),
    holders: new Map(),
  };
  for (const w of state.workers.values()) checkWorker(state, w, tally);
  if (!sameCounts(state.prefillByPriority, tally.prefillByPriority)) {
    fail(`prefillByPriority disagrees with the slots`);
  }
  for (const cls of state.classes.values()) {
    const retracting = tally.retractingByClass.get(cls.id) ?? 0;
    if (cls.retracting !== retracting) {
      fail(`class ${cls.id}: retracting ${cls.retracting}, slots ${retracting}`);
    }
    if (!sameCounts(cls.prefillHolders, tally.holders.get(cls.id) ?? new Map())) {
      fail(`class ${cls.id}: prefillHolders disagree with the slots`);
    }
  }
  const waitingByClass = new Map<number, Map<number, number>>();
  const addReady = (classId: number, p: number, n: number) => {
    let m = waitingByClass.get(classId);
    if (!m) waitingByClass.set(classId, m = new Map());
    m.set(p, (m.get(p) ?? 0) + n);
  };
  for (const job of state.jobs.values()) {
    const waiting = checkJob(state, job, tally.slotOf);
    if (waiting === 0) continue;
    const only = job.parts.length === 1 ? job.parts[0]! : null;
    if (only && job.blocked.size === 0) {
      if (only.after.size === 0) addReady(only.classId, only.template.priority, waiting);
      continue;
    }
    // Only ready tasks are counted in the queues: walk the job.
    for (const id of idSetIterate(job.ids)) {
      if (getTask(job, id)!.state !== "waiting" || !isReady(job, id)) continue;
      const part = partOf(job, id);
      addReady(part.classId, part.template.priority, 1);
    }
  }
  for (const cls of state.classes.values()) {
    const m = waitingByClass.get(cls.id) ?? new Map<number, number>();
    let total = 0;
    for (const [p, n] of m) {
      total += n;
      if (cls.queue.countAt(p) !== n) {
        fail(`class ${cls.id}: queue counts ${cls.queue.countAt(p)} at ${p}, jobs ${n}`);
      }
    }
    if (cls.queue.size !== total) fail(`class ${cls.id}: queue size ${cls.queue.size} != ${total}`);
  }
}

/**
 * Cheap check after one worker's batch: that worker's accounting and slots,
 * and the state of each task it reported on.
 */
export function checkAfterBatch(
  state: ServerState,
  workerId: WorkerId,
  updates: readonly TaskUpdate[],
): void {
  const w = state.workers.get(workerId);
  if (w) checkWorker(state, w, null);
  for (const u of updates) {
    const job = state.jobs.get(u.jobId);
    const task = job?.tasks.get(u.id);
    if (task) checkTask(state, taskKey(u.jobId, u.id), task, null);
  }
}

/** One worker's slots and accounting; `tally` collects totals for the global checks. */
function checkWorker(state: ServerState, w: WorkerRecord, tally: Tally | null): void {
  if (w.state !== "running") {
    if (w.tasks.size > 0) fail(`worker ${w.id} is ${w.state} but holds ${w.tasks.size} tasks`);
    if (w.multiNode !== null) fail(`worker ${w.id} is ${w.state} but is in a multi-node run`);
    return;
  }
  checkMultiNode(state, w);
  const held = new Map<string, number>();
  const load = new Map<number, number>();
  let prefilled = 0;
  for (const [record, slot] of w.tasks) {
    const key = taskKey(slot.jobId, slot.taskId);
    const job = state.jobs.get(slot.jobId);
    if (!job) fail(`worker ${w.id} holds task ${slot.jobId}@${slot.taskId} of an unknown job`);
    const task = job.tasks.get(slot.taskId);
    if (record !== task || slot.record !== task) {
      fail(`worker ${w.id}: slot ${slot.jobId}@${slot.taskId} is not keyed by its task's record`);
    }
    const taskState: TaskState = task?.state ?? "waiting";
    if (slot.canceled) {
      if (!isTerminal(taskState)) fail(`canceled slot ${key} on ${w.id} but task ${taskState}`);
    } else {
      if (taskState !== "assigned" && taskState !== "running") {
        fail(`task ${key} is ${taskState} but has a slot on worker ${w.id}`);
      }
      if (task!.workerId !== w.id) fail(`task ${key} on worker ${w.id} says ${task!.workerId}`);
      if (tally) {
        const other = tally.slotOf.get(key);
        if (other !== undefined) fail(`task ${key} has slots on workers ${other} and ${w.id}`);
        tally.slotOf.set(key, w.id);
      }
      if (taskState === "running" && slot.variant === null) {
        fail(`task ${key} is running but its slot on ${w.id} is prefilled`);
      }
      if (taskState === "running" && task!.variant !== slot.variant) {
        fail(`task ${key} runs with variant ${task!.variant}, slot says ${slot.variant}`);
      }
    }
    const cls = state.classes.get(slot.classId)!;
    if (slot.variant === null) {
      prefilled++;
      if (tally) {
        bump(tally.prefillByPriority, slot.priority);
        let h = tally.holders.get(cls.id);
        if (!h) tally.holders.set(cls.id, h = new Map());
        bump(h, w.id);
        if (slot.retracting) bump(tally.retractingByClass, cls.id);
      }
    } else {
      bump(load, cls.id);
      for (const e of cls.variants[slot.variant]!.entries) {
        held.set(e.resource, (held.get(e.resource) ?? 0) + entryAmount(e, w.capacity));
      }
    }
  }
  for (const [resource, capacity] of w.capacity) {
    const free = w.free.get(resource) ?? 0;
    if (free < 0) fail(`worker ${w.id}: ${resource} over-committed (free ${free})`);
    const expect = capacity - (held.get(resource) ?? 0) - (w.multiNode !== null ? capacity : 0);
    if (free !== expect) fail(`worker ${w.id}: ${resource} free ${free}, slots leave ${expect}`);
  }
  if (w.blocked.size > 0 && load.size === 0) {
    fail(`worker ${w.id} holds nothing but still blocks ${[...w.blocked].join(", ")}`);
  }
  if (w.prefilled !== prefilled) fail(`worker ${w.id}: prefilled ${w.prefilled} != ${prefilled}`);
  if (!sameCounts(w.classLoad, load)) fail(`worker ${w.id}: classLoad disagrees with its slots`);
}

/** A worker's part in a multi-node run, and its multi-node slots. */
function checkMultiNode(state: ServerState, w: WorkerRecord): void {
  // Multi-node tasks are never prefilled, so their slots show in the class load.
  const hasMulti = [...w.classLoad.keys()].some((id) =>
    isMultiNode(state.classes.get(id)!.variants[0]!)
  );
  for (const slot of hasMulti || w.multiNode !== null ? w.tasks.values() : []) {
    const cls = state.classes.get(slot.classId)!;
    if (!isMultiNode(cls.variants[0]!)) continue;
    if (slot.variant === null) fail(`multi-node task ${slot.jobId}@${slot.taskId} is prefilled`);
    const run = w.multiNode;
    if (run === null || run.record !== slot.record || run.nodes[0] !== w.id) {
      fail(`worker ${w.id} holds multi-node task ${slot.jobId}@${slot.taskId} but is not its root`);
    }
  }
  const run = w.multiNode;
  if (run === null) return;
  if (!run.nodes.includes(w.id)) fail(`worker ${w.id} points to a multi-node run without it`);
  const root = state.workers.get(run.nodes[0]!);
  if (!root || root.state !== "running" || root.multiNode !== run || !root.tasks.has(run.record)) {
    fail(`worker ${w.id}: multi-node run ${run.jobId}@${run.taskId} has no live root`);
  }
  if (root !== w && w.tasks.size > 0) {
    fail(`worker ${w.id} is a non-root node of ${run.jobId}@${run.taskId} but holds tasks`);
  }
  if (root === w && w.tasks.size !== 1) {
    fail(
      `worker ${w.id} is the root of ${run.jobId}@${run.taskId} but holds ${w.tasks.size} tasks`,
    );
  }
  const ids = new Set(run.nodes);
  if (ids.size !== run.nodes.length) {
    fail(`multi-node run ${run.jobId}@${run.taskId} repeats nodes`);
  }
  for (const id of run.nodes) {
    const node = state.workers.get(id);
    if (!node || node.multiNode !== run) {
      fail(`multi-node run ${run.jobId}@${run.taskId} lists worker ${id}, which is not in it`);
    }
    if (node.config.group !== root.config.group) {
      fail(`multi-node run ${run.jobId}@${run.taskId} spans groups`);
    }
  }
}

/**
 * One job: counters match its tasks, and each assigned or running task sits
 * on a live worker's slot (found through `slotOf`, or looked up). Returns the
 * number of waiting tasks.
 */
function checkJob(state: ServerState, job: Job, slotOf: Map<string, WorkerId> | null): number {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
  for (const [taskId, task] of job.tasks) {
    counts[task.state]++;
    checkTask(state, taskKey(job.id, taskId), task, slotOf);
  }
  counts.waiting += job.size - job.tasks.size;
  for (const s of TASK_STATES) {
    if (counts[s] !== job.counts[s]) {
      fail(`job ${job.id}: ${s} counted ${job.counts[s]}, tasks say ${counts[s]}`);
    }
  }
  return counts.waiting;
}

/** An assigned or running task sits on a live slot of its worker; a waiting one names none. */
function checkTask(
  state: ServerState,
  key: string,
  task: TaskRecord,
  slotOf: Map<string, WorkerId> | null,
): void {
  if (task.state === "assigned" || task.state === "running") {
    const on = slotOf ? slotOf.get(key) : lookUpSlot(state, task, task.workerId);
    if (on === undefined || on !== task.workerId) {
      fail(`task ${key} is ${task.state} on worker ${task.workerId} without a live slot there`);
    }
  } else if (task.state === "waiting" && task.workerId !== null) {
    fail(`waiting task ${key} still names worker ${task.workerId}`);
  }
}

function lookUpSlot(
  state: ServerState,
  task: TaskRecord,
  workerId: WorkerId | null,
): WorkerId | undefined {
  if (workerId === null) return undefined;
  const w = state.workers.get(workerId);
  const slot = w?.state === "running" ? w.tasks.get(task) : undefined;
  return slot && !slot.canceled ? workerId : undefined;
}

function sameCounts<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * Checks a worker core's allocations against its pools, and, when `server`
 * is given, that the server holds at least what the worker uses.
 */
export function checkWorkerAllocations(
  label: string,
  pools: readonly ResourcePool[],
  running: ReadonlyMap<string, StartOrder>,
  server: WorkerRecord | null,
): void {
  const used = new Map<string, number>();
  const perIndex = new Map<string, Map<string, number>>();
  for (const order of running.values()) {
    for (const r of order.allocation.resources) {
      used.set(r.resource, (used.get(r.resource) ?? 0) + r.amount);
      if (r.indices.length === 0) continue;
      let m = perIndex.get(r.resource);
      if (!m) perIndex.set(r.resource, m = new Map());
      for (const i of r.indices) {
        const n = (m.get(i.label) ?? 0) + i.fraction;
        if (n > FRACTIONS_PER_UNIT) {
          fail(`${label}: ${r.resource} ${i.label} over-committed (${n})`);
        }
        m.set(i.label, n);
      }
    }
  }
  for (const pool of pools) {
    const capacity = poolUnits(pool) * FRACTIONS_PER_UNIT;
    const u = used.get(pool.name) ?? 0;
    if (u > capacity) fail(`${label}: ${pool.name} uses ${u} of ${capacity}`);
    if (server && server.state === "running") {
      const serverUsed = capacity - (server.free.get(pool.name) ?? 0);
      if (serverUsed < u) {
        fail(`${label}: server holds ${serverUsed} of ${pool.name}, the worker uses ${u}`);
      }
    }
  }
}
