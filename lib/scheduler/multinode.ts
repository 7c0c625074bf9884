/**
 * Server-side accounting of multi-node tasks (`hq submit --nodes N`).
 *
 * A multi-node task takes N whole workers of one group: every one of them is
 * completely free when the task is placed (no task, no prefilled task, all
 * resources free), and each then holds all of its resources (free = 0) and
 * points to the shared {@link MultiNodeRun}. Only the root (the lowest id)
 * holds the task's slot, so the task's state, instance and crash counting
 * work as for a single-node task on the root:
 *
 * - finish, failure or cancel on the root ({@link releaseMultiNode} through
 *   the root's slot release) frees every worker of the run;
 * - losing the root requeues the task through its slot and frees the others;
 * - losing a non-root worker just removes it from the run (HQ ≥ 0.25.1).
 *
 * Placement and reservation live in `multinode_schedule.ts`.
 *
 * @module
 */
import type { JobId, TaskId } from "../common/mod.ts";
import { isMultiNode } from "../resources/mod.ts";
import {
  blockKey,
  type MultiNodeRun,
  type RequestClass,
  type ServerState,
  type TaskRecord,
  type WorkerRecord,
} from "./state.ts";
import { fitsTime } from "./worker_load.ts";

/** Whether the class's tasks are multi-node (all variants are, or none; see validation). */
export function isMultiNodeClass(cls: RequestClass): boolean {
  const first = cls.variants[0];
  return first !== undefined && isMultiNode(first);
}

/** Takes (`sign` 1) or gives back (-1) all of a worker's resources for a multi-node task. */
export function holdWholeWorker(worker: WorkerRecord, sign: 1 | -1): void {
  for (const [resource, capacity] of worker.capacity) {
    worker.free.set(resource, (worker.free.get(resource) ?? 0) - sign * capacity);
  }
}

/** Whether a running worker is completely free: no task of any kind and nothing held. */
export function isWholeFree(worker: WorkerRecord): boolean {
  if (worker.state !== "running" || worker.multiNode !== null || worker.tasks.size > 0) {
    return false;
  }
  for (const [resource, capacity] of worker.capacity) {
    if ((worker.free.get(resource) ?? 0) !== capacity) return false;
  }
  return true;
}

/** Number of running workers per group. */
export function groupSizes(state: ServerState): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const w of state.workers.values()) {
    if (w.state === "running") sizes.set(w.config.group, (sizes.get(w.config.group) ?? 0) + 1);
  }
  return sizes;
}

/**
 * Whether variant `variant` of a multi-node class could ever run with `worker` among its
 * nodes: not rejected there, its time request fits, and the worker's group has enough
 * running workers (`groupSize`).
 */
export function multiNodeCanRun(
  cls: RequestClass,
  variant: number,
  worker: WorkerRecord,
  now: number,
  groupSize: number,
): boolean {
  const req = cls.variants[variant]!;
  return !worker.blocked.has(blockKey(cls.id, variant)) && fitsTime(req, worker, now) &&
    groupSize >= (req.nNodes ?? 0);
}

/**
 * Records a placed multi-node task on its workers (their resources are already held
 * through {@link holdWholeWorker}); returns the run. `nodes` lists the root first.
 */
export function occupyNodes(
  record: TaskRecord,
  jobId: JobId,
  taskId: TaskId,
  nodes: readonly WorkerRecord[],
): MultiNodeRun {
  const run: MultiNodeRun = { record, jobId, taskId, nodes: nodes.map((w) => w.id) };
  for (const w of nodes) w.multiNode = run;
  return run;
}

/**
 * Frees every worker still in the run (the root's slot is released by the caller) and
 * asks for a scheduling round.
 */
export function releaseMultiNode(state: ServerState, run: MultiNodeRun): void {
  for (const id of run.nodes) {
    const w = state.workers.get(id);
    if (!w || w.multiNode !== run) continue;
    w.multiNode = null;
    if (w.state !== "running") continue;
    holdWholeWorker(w, -1);
    state.changedWorkers.add(id);
  }
  run.nodes = [];
  state.needsSchedule = true;
}

/**
 * A worker of a multi-node run ends: the root frees the other workers (its slot requeues
 * the task), a non-root worker just leaves the run and the task continues.
 */
export function onMultiNodeWorkerLost(state: ServerState, worker: WorkerRecord): void {
  const run = worker.multiNode;
  if (run === null) return;
  worker.multiNode = null;
  if (run.nodes[0] === worker.id) releaseMultiNode(state, run);
  else run.nodes = run.nodes.filter((id) => id !== worker.id);
}

/** The slot release of a multi-node task's root frees its whole run. */
export function onMultiNodeSlotReleased(
  state: ServerState,
  worker: WorkerRecord,
  record: TaskRecord,
): void {
  const run = worker.multiNode;
  if (run !== null && run.record === record) releaseMultiNode(state, run);
}
