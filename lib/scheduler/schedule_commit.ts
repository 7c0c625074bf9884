/**
 * Commit, the last placing stage of a round: the pending placements become
 * assigned tasks. Each task gets its record and a slot on its worker,
 * prefilled ones are counted as such, queue and job counters move from
 * waiting to assigned, and each worker gets one `computeTasks` message per
 * job. Multi-node placements commit after the single-node ones.
 *
 * @module
 */
import type { JobId, WorkerId } from "../common/mod.ts";
import type { TaskAssignment } from "../protocol/mod.ts";
import { entryOf, type JobPart, materializeTask, partOf, type WorkerSlot } from "./state.ts";
import { assignTasks, countPrefill, sendToWorker } from "./reactor.ts";
import type { PlacementGroup, RoundContext } from "./schedule_context.ts";

/** Tasks committed by {@link commitPlacements}. */
export interface CommitCounts {
  /** Tasks assigned to run now (multi-node ones included). */
  placed: number;
  /** Tasks prefilled. */
  prefilled: number;
}

/** Commits the pass's single-node and multi-node placements; returns how many of each kind. */
export function commitPlacements(round: RoundContext): CommitCounts {
  const { state, out } = round;
  const counts: CommitCounts = { placed: 0, prefilled: 0 };
  for (const [workerId, list] of round.pending) commitWorker(round, workerId, list, counts);
  counts.placed += round.multi.commit(
    state,
    (jobId, classId, priority) => assignTasks(state, state.jobs.get(jobId)!, classId, priority, 1),
    (workerId, msg) => sendToWorker(out, workerId, msg),
  );
  return counts;
}

/** Commits one worker's placement groups, adding to `counts`. */
function commitWorker(
  round: RoundContext,
  workerId: WorkerId,
  list: readonly PlacementGroup[],
  counts: CommitCounts,
): void {
  const { state } = round;
  const w = state.workers.get(workerId)!;
  const perPart = new Map<JobPart, { jobId: JobId; tasks: TaskAssignment[] }>();
  for (const { cls, variant, jobId, priority, ids } of list) {
    const job = state.jobs.get(jobId)!;
    const single = job.parts.length === 1 ? job.parts[0]! : null;
    for (const taskId of ids) {
      const part = single ?? partOf(job, taskId);
      let group = perPart.get(part);
      if (!group) perPart.set(part, group = { jobId, tasks: [] });
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
        w.prefilled--; // placement counted it ahead; countPrefill counts it for good
        countPrefill(state, w, slot, 1);
      }
      task.state = "assigned";
      const assignment: TaskAssignment = { id: taskId, instance: task.instance, variant };
      const entry = entryOf(part, taskId);
      if (entry !== undefined) assignment.entry = entry;
      group.tasks.push(assignment);
    }
    assignTasks(state, job, cls.id, priority, ids.length);
    if (variant === null) {
      counts.prefilled += ids.length;
    } else {
      // Resources were taken during placement; count the class load only.
      w.classLoad.set(cls.id, (w.classLoad.get(cls.id) ?? 0) + ids.length);
      counts.placed += ids.length;
    }
  }
  w.lastBusyAt = round.now;
  for (const [part, { jobId, tasks }] of perPart) {
    sendToWorker(round.out, w.id, {
      kind: "computeTasks",
      jobId,
      submitDir: part.submitDir,
      template: part.template,
      tasks,
      sentAt: round.now,
    });
  }
}
