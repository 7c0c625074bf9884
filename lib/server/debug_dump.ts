// deno-lint-ignore-file camelcase -- the dump uses snake_case keys, as HyperQueue's does
/**
 * `hq server debug-dump`: the scheduler's internal state as plain data, for
 * diagnosing why work is placed as it is. Like HyperQueue's dump it names no
 * job, command or path: only ids, states, counters and resource amounts.
 *
 * @module
 */
import { prefillCap, type ServerState, type TaskState } from "../scheduler/mod.ts";
import type { ResourceRequest } from "../resources/mod.ts";
import type { WorkerStopReason } from "../protocol/mod.ts";

/** One task that left its first waiting state. */
export interface DebugTask {
  job_id: number;
  task_id: number;
  state: TaskState;
  instance: number;
  crash_count: number;
  worker_id: number | null;
  variant: number | null;
}

/** What the dump holds; `tako` is the engine's part, as in HyperQueue's dump. */
export interface DebugDump {
  version: 1;
  now: number;
  tako: {
    workers: {
      id: number;
      state: "running" | WorkerStopReason;
      capacity: Record<string, number>;
      free: Record<string, number>;
      prefilled: number;
      assigned_tasks: { job_id: number; task_id: number; variant: number | null }[];
      blocked: string[];
      multi_node_task: { job_id: number; task_id: number; nodes: number[] } | null;
      last_seen: number;
      ends_at: number | null;
      /** Measured round trip to the worker (moving average), once known. */
      round_trip_ms: number | null;
      /** Measured task run time on the worker (moving average), once known. */
      mean_run_ms: number | null;
      /** Most prefilled tasks it may hold now. */
      prefill_cap: number;
    }[];
    classes: {
      id: number;
      variants: ResourceRequest[];
      ready: number;
      prefill_holders: Record<string, number>;
      retracting: number;
    }[];
    tasks: DebugTask[];
    needs_schedule: boolean;
    schedule_at: number | null;
  };
  hq: {
    jobs: {
      id: number;
      task_count: number;
      counts: Record<TaskState, number>;
      class_ids: number[];
      priorities: number[];
      max_fails: number | null;
      completed_at: number | null;
    }[];
    next_job_id: number;
    next_worker_id: number;
  };
}

/** Builds the dump (pure). */
export function debugDump(state: ServerState, now: number): DebugDump {
  const tasks: DebugTask[] = [];
  for (const job of state.jobs.values()) {
    for (const [taskId, r] of job.tasks) {
      tasks.push({
        job_id: job.id,
        task_id: taskId,
        state: r.state,
        instance: r.instance,
        crash_count: r.crashCount,
        worker_id: r.workerId,
        variant: r.variant,
      });
    }
  }
  return {
    version: 1,
    now,
    tako: {
      workers: [...state.workers.values()].map((w) => ({
        id: w.id,
        state: w.state,
        capacity: Object.fromEntries(w.capacity),
        free: Object.fromEntries(w.free),
        prefilled: w.prefilled,
        assigned_tasks: [...w.tasks.values()].map((slot) => ({
          job_id: slot.jobId,
          task_id: slot.taskId,
          variant: slot.variant,
        })),
        blocked: [...w.blocked],
        multi_node_task: w.multiNode === null ? null : {
          job_id: w.multiNode.jobId,
          task_id: w.multiNode.taskId,
          nodes: [...w.multiNode.nodes],
        },
        last_seen: w.lastSeen,
        ends_at: w.endsAt,
        round_trip_ms: w.roundTripMs,
        mean_run_ms: w.meanRunMs,
        prefill_cap: prefillCap(w, state.config),
      })),
      classes: [...state.classes.values()].map((c) => ({
        id: c.id,
        variants: c.variants,
        ready: c.queue.size,
        prefill_holders: Object.fromEntries(c.prefillHolders),
        retracting: c.retracting,
      })),
      tasks,
      needs_schedule: state.needsSchedule,
      schedule_at: state.scheduleAt,
    },
    hq: {
      jobs: [...state.jobs.values()].map((j) => ({
        id: j.id,
        task_count: j.size,
        counts: { ...j.counts },
        class_ids: j.parts.map((p) => p.classId),
        priorities: j.parts.map((p) => p.template.priority),
        max_fails: j.maxFails,
        completed_at: j.completedAt,
      })),
      next_job_id: state.nextJobId,
      next_worker_id: state.nextWorkerId,
    },
  };
}
