/**
 * Read-only views of workers (`worker list/info`) and of `task explain`, as
 * plain data for clients; see `views.ts` for the conventions (ms times,
 * fixed-point amounts).
 *
 * @module
 */
import type { TaskId, WorkerId } from "../common/mod.ts";
import { FRACTIONS_PER_UNIT } from "../resources/mod.ts";
import {
  configurationView,
  type ExplainItemView,
  type ExplainView,
  type ExplainWorkerView,
  isBlocking,
  type LastTaskStartedView,
  type WorkerRuntimeView,
  type WorkerView,
} from "../protocol/mod.ts";
import {
  groupSizes,
  type Job,
  partOf,
  type ServerState,
  type WorkerRecord,
} from "../scheduler/mod.ts";
import { userState } from "./views.ts";

function runtimeInfo(w: WorkerRecord): WorkerRuntimeView | null {
  if (w.state !== "running") return null;
  if (w.multiNode) return { kind: "multiNode", main_node: w.multiNode.nodes[0] === w.id };
  let running = 0;
  for (const slot of w.tasks.values()) if (slot.record.state === "running") running++;
  return {
    kind: "singleNode",
    assigned_tasks: w.tasks.size - w.prefilled,
    running_tasks: running,
    is_reserved: false,
  };
}

/**
 * The task each worker started last. The state keeps only the time, so the
 * task is the one on the worker, or else the newest task record naming the
 * worker, with that start time; null when it is no longer known (the task
 * ran again elsewhere since).
 */
function lastTasksStarted(
  state: ServerState,
  workers: readonly WorkerRecord[],
): Map<WorkerId, LastTaskStartedView> {
  const found = new Map<WorkerId, LastTaskStartedView>();
  const missing = new Map<WorkerId, number>();
  for (const w of workers) {
    const at = w.lastTaskStartedAt;
    if (at === null) continue;
    const run = w.multiNode;
    if (run && run.nodes[0] === w.id && run.record.startedAt === at) {
      found.set(w.id, { job_id: run.jobId, task_id: run.taskId, time: at });
      continue;
    }
    for (const slot of w.tasks.values()) {
      if (slot.record.startedAt === at) {
        found.set(w.id, { job_id: slot.jobId, task_id: slot.taskId, time: at });
        break;
      }
    }
    if (!found.has(w.id)) missing.set(w.id, at);
  }
  if (missing.size === 0) return found;
  const jobs: Job[] = [...state.jobs.values()].sort((a, b) => b.id - a.id);
  for (const job of jobs) {
    for (const [taskId, record] of job.tasks) {
      const id = record.workerId;
      if (id === null || record.startedAt === null || missing.get(id) !== record.startedAt) {
        continue;
      }
      found.set(id, { job_id: job.id, task_id: taskId, time: record.startedAt });
      missing.delete(id);
      if (missing.size === 0) return found;
    }
  }
  return found;
}

function workerView(w: WorkerRecord, last: LastTaskStartedView | null): WorkerView {
  return {
    id: w.id,
    state: w.state,
    configuration: configurationView(w.config),
    started_at: w.registeredAt,
    ended_at: w.endedAt,
    last_task_started: last,
    runtime_info: runtimeInfo(w),
  };
}

/** Every worker, sorted by id. */
export function workerViews(state: ServerState): WorkerView[] {
  const workers = [...state.workers.values()].sort((a, b) => a.id - b.id);
  const last = lastTasksStarted(state, workers);
  return workers.map((w) => workerView(w, last.get(w.id) ?? null));
}

/**
 * `task explain` for a task of `job` at time `now`, against every running
 * worker: per variant, a time item when it has a time request, then one
 * resources item per requested resource (or a worker-group item for a
 * multi-node variant), blocking or not, as tako's `task_explain_for_worker`.
 */
export function explainView(
  state: ServerState,
  job: Job,
  taskId: TaskId,
  now: number,
): ExplainView {
  const cls = state.classes.get(partOf(job, taskId).classId)!;
  const sizes = groupSizes(state);
  const record = job.tasks.get(taskId);
  const workers = [...state.workers.values()]
    .filter((w) => w.state === "running")
    .sort((a, b) => a.id - b.id)
    .map((w): ExplainWorkerView => {
      const variants = cls.variants.map((rq) => {
        const items: ExplainItemView[] = [];
        if (rq.minTimeMs > 0) {
          items.push({
            kind: "time",
            min_time_ms: rq.minTimeMs,
            remaining_time_ms: w.endsAt === null ? null : Math.max(0, w.endsAt - now),
          });
        }
        if ((rq.nNodes ?? 0) > 0) {
          items.push({
            kind: "workerGroup",
            n_nodes: rq.nNodes!,
            group_size: sizes.get(w.config.group) ?? 0,
          });
        } else {
          for (const e of rq.entries) {
            items.push({
              kind: "resources",
              resource: e.resource,
              request_amount: e.policy === "all" ? FRACTIONS_PER_UNIT : e.amount,
              worker_amount: w.capacity.get(e.resource) ?? 0,
            });
          }
        }
        return items;
      });
      return {
        worker_id: w.id,
        runnable: variants.some((items) => !items.some(isBlocking)),
        variants,
      };
    });
  return {
    job_id: job.id,
    task_id: taskId,
    state: userState(record?.state ?? "waiting"),
    n_task_deps: job.deps.get(taskId)?.length ?? 0,
    n_waiting_deps: job.blocked.get(taskId) ?? 0,
    workers,
  };
}
