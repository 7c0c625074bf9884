/**
 * The worker's pure core: which task runs when and with which resources.
 *
 * Tasks sent to run now (with a variant) are allocated at once by the local
 * {@link ResourceAllocator}; one that fragmentation keeps out is rejected
 * (soft). Prefilled tasks (no variant) wait in a queue per request class, in
 * priority order, and start only when a task of their class ends, reusing its
 * allocation, so the server learns of the end and the start in the same
 * batch and its accounting stays exact. Prefilled tasks whose class no
 * longer runs here, and retracted ones, are returned unstarted. A multi-node
 * task (sent only to its root, with the node list) owns the whole worker: it
 * starts at once without touching the allocator. No I/O and no
 * clock: the shell passes `now` and launches what
 * {@link WorkerCore.takeStarts} hands out.
 *
 * @module
 */
import type { JobId, TaskId } from "../common/mod.ts";
import type {
  RunningTaskRef,
  TaskAssignment,
  TaskNode,
  TaskRef,
  TaskTemplate,
  TaskUpdate,
  ToWorkerMsg,
} from "../protocol/mod.ts";
import {
  type Allocation,
  isMultiNode,
  ResourceAllocator,
  type ResourcePool,
} from "../resources/mod.ts";

/** A task the worker knows about. */
export interface WorkerTask {
  jobId: JobId;
  taskId: TaskId;
  /** Attempt. */
  instance: number;
  /** Submit directory of the job. */
  submitDir: string;
  /** Its `HQ_ENTRY` (`--each-line`, `--from-json`), if it has one. */
  entry?: string;
  /** Shared definition. */
  template: TaskTemplate;
  /** Request class key (same requests, same class). */
  classKey: string;
}

/** A task to launch now. */
export interface StartOrder extends WorkerTask {
  /** Variant it runs with. */
  variant: number;
  /** Resources it got (none for a multi-node task, which owns the whole worker). */
  allocation: Allocation;
  /** Workers of a multi-node task, this one (the root) first; null for a single-node task. */
  nodes: TaskNode[] | null;
  /** When it started (worker clock). */
  startedAt: number;
}

/** How a launched task ended. */
export type TaskOutcome =
  | { kind: "finished" }
  | { kind: "failed"; error: string }
  | { kind: "canceled" };

/** Key of a task on the worker. */
export function workerTaskKey(jobId: JobId, taskId: TaskId): string {
  return `${jobId}:${taskId}`;
}

/** Whether queued task `a` starts before `b`: higher priority first, then job id, then task id. */
function queuedBefore(a: WorkerTask, b: WorkerTask): boolean {
  const pa = a.template.priority;
  const pb = b.template.priority;
  if (pa !== pb) return pa > pb;
  return a.jobId !== b.jobId ? a.jobId < b.jobId : a.taskId < b.taskId;
}

/** Scheduling state of one worker. */
export class WorkerCore {
  readonly #allocator: ResourceAllocator;
  readonly #running = new Map<string, StartOrder>();
  readonly #prefill = new Map<string, WorkerTask[]>();
  #starts: StartOrder[] = [];
  #kills: string[] = [];
  #updates: TaskUpdate[] = [];
  #held = false;

  /** Creates the core for the worker's pools. */
  constructor(pools: readonly ResourcePool[]) {
    this.#allocator = new ResourceAllocator(pools);
  }

  /** Tasks running (launched, not yet ended). */
  get running(): ReadonlyMap<string, StartOrder> {
    return this.#running;
  }

  /** Number of prefilled tasks waiting. */
  get prefilled(): number {
    let n = 0;
    for (const list of this.#prefill.values()) n += list.length;
    return n;
  }

  /** Whether new starts are held (see {@link WorkerCore.setHeld}). */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Holds or releases new starts. While the server is gone or replaced, the worker
   * starts nothing more: tasks sent to run are returned, a prefilled task does not take
   * over the resources of one that ended, and queued tasks left without a running task of
   * their class go back. Running tasks run on.
   */
  setHeld(held: boolean, now: number): void {
    if (this.#held === held) return;
    this.#held = held;
    if (!held) this.#returnOrphans(now);
  }

  /**
   * Forgets the queued tasks without a word to the server: they came from a server that
   * died, and the one that took over holds them as waiting.
   */
  dropQueued(): void {
    this.#prefill.clear();
  }

  /** The tasks running here, for a restarted server (`reattached`). */
  runningRefs(): RunningTaskRef[] {
    return [...this.#running.values()].map((o) => ({
      jobId: o.jobId,
      id: o.taskId,
      instance: o.instance,
      variant: o.variant,
      startedAt: o.startedAt,
    }));
  }

  /** Applies a task-related server message (`computeTasks`, `cancelTasks`, `retractTasks`). */
  onMessage(msg: ToWorkerMsg, now: number): void {
    switch (msg.kind) {
      case "computeTasks": {
        if (this.#held) {
          for (const a of msg.tasks) {
            const ref = { jobId: msg.jobId, id: a.id, instance: a.instance, at: now };
            this.#updates.push({ kind: "returned", ...ref });
          }
          break;
        }
        const classKey = JSON.stringify(msg.template.requests);
        const base = {
          jobId: msg.jobId,
          submitDir: msg.submitDir,
          template: msg.template,
          classKey,
        };
        const taskOf = (a: TaskAssignment): WorkerTask => {
          const task: WorkerTask = { ...base, taskId: a.id, instance: a.instance };
          if (a.entry !== undefined) task.entry = a.entry;
          return task;
        };
        for (const a of msg.tasks) {
          if (a.variant !== null) this.#startNow(taskOf(a), a.variant, a.nodes ?? null, now);
        }
        for (const a of msg.tasks) {
          if (a.variant !== null) continue;
          let list = this.#prefill.get(classKey);
          if (!list) this.#prefill.set(classKey, list = []);
          // Keep the server's order (priority, then job, then task): a higher-priority task
          // prefilled later must not start after lower ones queued before it.
          const task = taskOf(a);
          let i = list.length;
          while (i > 0 && queuedBefore(task, list[i - 1]!)) i--;
          list.splice(i, 0, task);
        }
        this.#returnOrphans(now);
        break;
      }
      case "cancelTasks":
        for (const ref of msg.tasks) {
          const running = this.#running.get(workerTaskKey(ref.jobId, ref.id));
          if (running && running.instance === ref.instance) {
            this.#kills.push(workerTaskKey(ref.jobId, ref.id));
          } else if (this.#takePrefilled(ref)) {
            this.#updates.push({
              kind: "canceled",
              jobId: ref.jobId,
              id: ref.id,
              instance: ref.instance,
              at: now,
            });
          }
        }
        break;
      case "retractTasks":
        for (const ref of msg.tasks) {
          if (this.#takePrefilled(ref)) {
            this.#updates.push({
              kind: "returned",
              jobId: ref.jobId,
              id: ref.id,
              instance: ref.instance,
              at: now,
            });
          }
        }
        break;
      default:
        break;
    }
  }

  /** Reports the end of a launched task; may hand its resources to a prefilled task of its class. */
  onEnded(key: string, outcome: TaskOutcome, now: number): void {
    const order = this.#running.get(key);
    if (!order) return;
    this.#running.delete(key);
    const ref = { jobId: order.jobId, id: order.taskId, instance: order.instance, at: now };
    this.#updates.push(
      outcome.kind === "failed"
        ? { kind: "failed", ...ref, error: outcome.error }
        : { kind: outcome.kind, ...ref },
    );
    if (order.nodes !== null) return; // Held nothing; multi-node tasks are never prefilled.
    const next = this.#held ? undefined : this.#prefill.get(order.classKey)?.shift();
    if (next) {
      this.#launch(
        {
          ...next,
          variant: order.variant,
          allocation: order.allocation,
          nodes: null,
          startedAt: now,
        },
        now,
      );
    } else {
      this.#allocator.release(order.allocation);
      this.#returnOrphans(now);
    }
  }

  /**
   * Returns the prefilled tasks whose time request no variant can meet in
   * the `remainingMs` the worker has left (`--retract-check-interval`), so
   * the server places them on a worker that lives long enough. Returns how
   * many went back.
   */
  returnOverdue(remainingMs: number, now: number): number {
    let n = 0;
    for (const [key, list] of this.#prefill) {
      const keep = list.filter((t) => {
        const fits = t.template.requests.some((r) => r.minTimeMs <= remainingMs);
        if (!fits) {
          this.#returned(t, now);
          n++;
        }
        return fits;
      });
      if (keep.length === 0) this.#prefill.delete(key);
      else this.#prefill.set(key, keep);
    }
    return n;
  }

  /** Returns every prefilled task unstarted (the worker is stopping). */
  returnAll(now: number): void {
    for (const list of this.#prefill.values()) {
      for (const t of list) this.#returned(t, now);
    }
    this.#prefill.clear();
  }

  /** Tasks to launch, in order; each already has its `started` update queued. */
  takeStarts(): StartOrder[] {
    const starts = this.#starts;
    this.#starts = [];
    return starts;
  }

  /** Keys of running tasks to kill (canceled by the server). */
  takeKills(): string[] {
    const kills = this.#kills;
    this.#kills = [];
    return kills;
  }

  /** Updates to report, in order. */
  takeUpdates(): TaskUpdate[] {
    const updates = this.#updates;
    this.#updates = [];
    return updates;
  }

  #startNow(task: WorkerTask, variant: number, nodes: TaskNode[] | null, now: number): void {
    const request = task.template.requests[variant];
    if (request && isMultiNode(request)) {
      const self = nodes ?? [];
      const order = { ...task, variant, allocation: { resources: [] }, nodes: self };
      this.#launch({ ...order, startedAt: now }, now);
      return;
    }
    const allocation = request ? this.#allocator.tryAllocate(request) : null;
    if (!allocation) {
      this.#updates.push({
        kind: "rejected",
        jobId: task.jobId,
        id: task.taskId,
        instance: task.instance,
        at: now,
        variant,
      });
      return;
    }
    this.#launch({ ...task, variant, allocation, nodes: null, startedAt: now }, now);
  }

  #launch(order: StartOrder, now: number): void {
    this.#running.set(workerTaskKey(order.jobId, order.taskId), order);
    this.#starts.push(order);
    this.#updates.push({
      kind: "started",
      jobId: order.jobId,
      id: order.taskId,
      instance: order.instance,
      at: now,
      variant: order.variant,
    });
  }

  #takePrefilled(ref: TaskRef): boolean {
    for (const [key, list] of this.#prefill) {
      const i = list.findIndex((t) =>
        t.jobId === ref.jobId && t.taskId === ref.id && t.instance === ref.instance
      );
      if (i >= 0) {
        list.splice(i, 1);
        if (list.length === 0) this.#prefill.delete(key);
        return true;
      }
    }
    return false;
  }

  #returnOrphans(now: number): void {
    if (this.#prefill.size === 0) return;
    const live = new Set<string>();
    for (const order of this.#running.values()) live.add(order.classKey);
    for (const [key, list] of this.#prefill) {
      if (live.has(key)) continue;
      for (const t of list) this.#returned(t, now);
      this.#prefill.delete(key);
    }
  }

  #returned(t: WorkerTask, now: number): void {
    this.#updates.push({
      kind: "returned",
      jobId: t.jobId,
      id: t.taskId,
      instance: t.instance,
      at: now,
    });
  }
}
