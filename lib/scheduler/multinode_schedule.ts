/**
 * Multi-node tasks in a scheduling round: placement onto whole free workers
 * of one group, reservation against lower priorities, undo and commit.
 *
 * - Placement: at the task's priority level, the running workers that are
 *   completely free (see {@link isWholeFree}), not given anything else in
 *   this round, not reserved at a higher priority, and whose remaining
 *   lifetime fits the time request are grouped by `config.group`; each task
 *   takes the `nNodes` lowest ids of the first group that has enough. The
 *   root is the first of them. There is no prefill for multi-node tasks.
 * - Reservation: tasks left over at a level reserve, per task, `nNodes`
 *   workers of a group large enough (whole-free ones first, then the least
 *   loaded), so lower-priority work neither lands on them nor stays
 *   prefilled there, and they drain until the task fits. As for
 *   single-node tasks, a reservation only holds off strictly lower
 *   priorities: tasks of equal priority are not kept back (HQ's priority
 *   rule), so a steady stream of equal-priority small tasks can delay a
 *   multi-node task; give it a higher priority to avoid that.
 *
 * @module
 */
import type { JobId, TaskId, WorkerId } from "../common/mod.ts";
import type { TaskAssignment, ToWorkerMsg } from "../protocol/mod.ts";
import type { IsWaiting } from "./task_queue.ts";
import {
  entryOf,
  materializeTask,
  partOf,
  type RequestClass,
  type ServerState,
  type WorkerRecord,
  type WorkerSlot,
} from "./state.ts";
import { holdWholeWorker, isWholeFree, multiNodeCanRun, occupyNodes } from "./multinode.ts";
import { cpusUsed } from "./worker_load.ts";

/** One multi-node task placed in a round, before commit. */
export interface MultiNodePlacement {
  /** Its class. */
  cls: RequestClass;
  /** Variant it runs with. */
  variant: number;
  jobId: JobId;
  taskId: TaskId;
  /** Priority level it was taken at. */
  priority: number;
  /** Its workers, root first. */
  nodes: WorkerRecord[];
}

/** What the round lends to {@link MultiNodeRound}. */
export interface MultiNodeRoundOptions {
  /** Running workers, by id. */
  running: readonly WorkerRecord[];
  /** Round time. */
  now: number;
  /** Whether a queued task still waits. */
  isWaiting: IsWaiting;
  /** Workers given single-node work in this round so far. */
  busy: (w: WorkerRecord) => boolean;
  /** Priority each worker is reserved at in this round. */
  reservedAt: ReadonlyMap<WorkerId, number>;
}

/** Multi-node placements of one scheduling round. */
export class MultiNodeRound {
  readonly #opts: MultiNodeRoundOptions;
  #pending: MultiNodePlacement[] = [];
  readonly #taken = new Set<WorkerId>();

  /** Starts the round's bookkeeping. */
  constructor(options: MultiNodeRoundOptions) {
    this.#opts = options;
  }

  /** Placements not yet committed. */
  get pending(): readonly MultiNodePlacement[] {
    return this.#pending;
  }

  /** Whether a multi-node task holds the worker (from before, or placed in this round). */
  occupied(w: WorkerRecord): boolean {
    return w.multiNode !== null || this.#taken.has(w.id);
  }

  /** Places up to `limit` tasks of the class at priority `p`; returns how many. */
  place(cls: RequestClass, p: number, limit: number): number {
    const { running, now, isWaiting, busy, reservedAt } = this.#opts;
    let placed = 0;
    for (let v = 0; v < cls.variants.length && placed < limit; v++) {
      const req = cls.variants[v]!;
      const n = req.nNodes ?? 0;
      const groups = byGroup(
        running.filter((w) =>
          !this.#taken.has(w.id) && !busy(w) && (reservedAt.get(w.id) ?? -Infinity) <= p &&
          isWholeFree(w) && multiNodeCanRun(cls, v, w, now, n)
        ),
      );
      for (const list of groups.values()) {
        while (list.length >= n && placed < limit) {
          const taskId = cls.queue.takeAt(isWaiting, p);
          if (taskId < 0) return placed;
          const nodes = list.splice(0, n);
          for (const w of nodes) {
            this.#taken.add(w.id);
            holdWholeWorker(w, 1);
          }
          this.#pending.push({
            cls,
            variant: v,
            jobId: cls.queue.lastJob,
            taskId,
            priority: p,
            nodes,
          });
          placed++;
        }
      }
    }
    return placed;
  }

  /**
   * Chooses workers to reserve for `count` tasks of the class left waiting:
   * `nNodes` not yet reserved workers of one group that could run it, per task.
   */
  reserve(cls: RequestClass, count: number): WorkerRecord[] {
    const { running, now, reservedAt } = this.#opts;
    const sizes = new Map<string, number>();
    for (const w of running) sizes.set(w.config.group, (sizes.get(w.config.group) ?? 0) + 1);
    const chosen: WorkerRecord[] = [];
    const used = new Set<WorkerId>();
    for (let v = 0; v < cls.variants.length && count > 0; v++) {
      const n = cls.variants[v]!.nNodes ?? 0;
      const groups = byGroup(
        running.filter((w) =>
          !reservedAt.has(w.id) && !this.#taken.has(w.id) &&
          multiNodeCanRun(cls, v, w, now, sizes.get(w.config.group) ?? 0)
        ),
      );
      for (const list of groups.values()) {
        list.sort((a, b) =>
          Number(!isWholeFree(a)) - Number(!isWholeFree(b)) || a.tasks.size - b.tasks.size ||
          cpusUsed(a) - cpusUsed(b) || a.id - b.id
        );
        let free = list.filter((w) => !used.has(w.id));
        while (count > 0 && free.length >= n) {
          for (const w of free.slice(0, n)) {
            used.add(w.id);
            chosen.push(w);
          }
          free = free.slice(n);
          count--;
        }
      }
    }
    return chosen;
  }

  /** Gives back everything placed (the round starts over); returns the tasks to requeue. */
  undo(): MultiNodePlacement[] {
    for (const m of this.#pending) for (const w of m.nodes) holdWholeWorker(w, -1);
    const undone = this.#pending;
    this.#pending = [];
    this.#taken.clear();
    return undone;
  }

  /**
   * Commits the placements: the root gets the slot and a `computeTasks` message with the
   * node list; every node points to the run. `assign` counts the task as assigned and
   * `send` queues the message (the reactor's helpers). Returns how many were committed.
   */
  commit(
    state: ServerState,
    assign: (jobId: JobId, classId: number, priority: number) => void,
    send: (workerId: WorkerId, msg: ToWorkerMsg) => void,
  ): number {
    const { now } = this.#opts;
    for (const m of this.#pending) {
      const job = state.jobs.get(m.jobId)!;
      const root = m.nodes[0]!;
      const task = materializeTask(job, m.taskId);
      task.workerId = root.id;
      task.variant = m.variant;
      task.state = "assigned";
      const slot: WorkerSlot = {
        record: task,
        jobId: m.jobId,
        taskId: m.taskId,
        classId: m.cls.id,
        priority: m.priority,
        variant: m.variant,
        retracting: false,
        canceled: false,
      };
      root.tasks.set(task, slot);
      root.classLoad.set(m.cls.id, (root.classLoad.get(m.cls.id) ?? 0) + 1);
      occupyNodes(task, m.jobId, m.taskId, m.nodes);
      for (const w of m.nodes) w.lastBusyAt = now;
      assign(m.jobId, m.cls.id, m.priority);
      const part = partOf(job, m.taskId);
      const assignment: TaskAssignment = {
        id: m.taskId,
        instance: task.instance,
        variant: m.variant,
        nodes: m.nodes.map((w) => ({ workerId: w.id, hostname: w.config.hostname })),
      };
      const entry = entryOf(part, m.taskId);
      if (entry !== undefined) assignment.entry = entry;
      send(root.id, {
        kind: "computeTasks",
        jobId: m.jobId,
        submitDir: part.submitDir,
        template: part.template,
        tasks: [assignment],
        sentAt: now,
      });
    }
    const n = this.#pending.length;
    this.#pending = [];
    return n;
  }
}

/** Workers grouped by `config.group`, each list in the given order. */
function byGroup(workers: WorkerRecord[]): Map<string, WorkerRecord[]> {
  const groups = new Map<string, WorkerRecord[]>();
  for (const w of workers) {
    let list = groups.get(w.config.group);
    if (!list) groups.set(w.config.group, list = []);
    list.push(w);
  }
  return groups;
}
