/**
 * Stopping, as one, the tasks of a job that never left their first waiting state (a
 * canceled or aborted million-task array): they share one record and are journaled as id
 * ranges, so the cost is a pass over their ids, not a record each.
 *
 * @module
 */
import { type IdRange, idSetIterate } from "../common/mod.ts";
import { isJobComplete, isReady, type Job, partOf, type ServerState } from "./state.ts";
import { pristineTask, type TaskRecord } from "./task.ts";

/**
 * Moves every task of `job` that has no record yet (waiting since its submit) to `target`,
 * as the per-task move would (counters, ready counts, dependents to settle, the job's
 * completion), and queues them for the journal as id ranges with one record
 * (`state.dirtyBulk`). They all share that record, frozen: nothing changes an ended task's
 * record. The caller settles dependents (`settleEnds`) and drops the job from its queues.
 * Returns how many tasks it stopped.
 *
 * @example Usage
 * ```ts
 * import { stopPristine } from "./stop_pristine.ts";
 * import { createServerState } from "./state.ts";
 * import { onSubmit } from "./job_events.ts";
 * import { jobSubmit } from "./testdata/fixtures.ts";
 * import assert from "node:assert/strict";
 * const state = createServerState("uid", { prefillMax: 40, prefillReserve: 16 });
 * const job = state.jobs.get(onSubmit(state, jobSubmit("cpus=1", 1000), 0))!;
 * assert.equal(stopPristine(state, job, "canceled", 5), 1000);
 * assert.equal(job.counts.canceled, 1000);
 * assert.equal(job.tasks.get(7)?.finishedAt, 5);
 * assert.deepEqual(state.dirtyBulk[0]?.ranges, [{ start: 0, end: 999 }]);
 * ```
 */
export function stopPristine(
  state: ServerState,
  job: Job,
  target: "canceled" | "aborted",
  now: number,
): number {
  if (job.counts.waiting === 0) return 0;
  const record: TaskRecord = Object.freeze({ ...pristineTask(), state: target, finishedAt: now });
  // Ready tasks are counted in their class's queue, per priority.
  const ready = new Map<number, Map<number, number>>();
  const ranges: IdRange[] = [];
  const pending = state.pendingEnds;
  let start = -1;
  let end = -2;
  let stopped = 0;
  for (const taskId of idSetIterate(job.ids)) {
    if (job.tasks.has(taskId)) continue;
    const part = partOf(job, taskId);
    if (isReady(job, taskId, part)) {
      let byPriority = ready.get(part.classId);
      if (!byPriority) ready.set(part.classId, byPriority = new Map());
      const p = part.template.priority;
      byPriority.set(p, (byPriority.get(p) ?? 0) + 1);
    }
    job.tasks.set(taskId, record);
    job.blocked.delete(taskId);
    if (job.dependents.has(taskId)) pending.ended.push({ jobId: job.id, taskId });
    if (taskId !== end + 1) {
      if (start >= 0) ranges.push({ start, end });
      start = taskId;
    }
    end = taskId;
    stopped++;
  }
  if (stopped === 0) return 0;
  ranges.push({ start, end });
  for (const [classId, byPriority] of ready) {
    const queue = state.classes.get(classId)!.queue;
    for (const [priority, n] of byPriority) queue.count(priority, -n);
  }
  job.counts.waiting -= stopped;
  job.counts[target] += stopped;
  state.dirtyBulk.push({ jobId: job.id, ranges, record });
  if (isJobComplete(job)) {
    job.completedAt = now;
    if (state.afterWaiters.has(job.id)) pending.completed.push(job.id);
  }
  return stopped;
}
