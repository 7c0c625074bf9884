/**
 * One scheduling round: place ready tasks onto workers' free CPUs, then top up
 * each worker's bounded prefill queue. Cost follows the number of tasks placed
 * plus the tasks that could not be placed (bounded per round), not the total.
 *
 * @module
 */
import type { JobId, TaskId, WorkerId } from "../ids.ts";
import type { TaskAssignment } from "../fsproto/messages.ts";
import type { ReadyEntry } from "./ready_queue.ts";
import { type Job, type ServerState, taskKey, type WorkerRecord } from "./state.ts";
import { type Outbox, sendToWorker, setTaskState, taskCpus } from "./reactor.ts";

/** Most unplaceable ready tasks set aside in one round before it stops looking. */
const MAX_SKIPPED_PER_ROUND = 1024;

/** Result of a round. */
export interface ScheduleResult {
  /** Tasks placed. */
  placed: number;
}

function canEverRun(job: Job, worker: WorkerRecord): boolean {
  const cpus = taskCpus(job, worker);
  return cpus <= worker.cpus && worker.cpus > 0;
}

/** Runs one round at time `now`. */
export function schedule(state: ServerState, now: number, out: Outbox): ScheduleResult {
  state.needsSchedule = false;
  const workers = [...state.workers.values()].filter((w) => w.state === "running");
  if (workers.length === 0) return { placed: 0 };
  const batches = new Map<WorkerId, Map<JobId, TaskAssignment[]>>();
  const skipped: ReadyEntry[] = [];
  let placed = 0;
  let cursor = 0;
  const live = (e: ReadyEntry) => state.jobs.get(e.jobId)?.tasks.get(e.taskId)?.state === "waiting";

  const assign = (worker: WorkerRecord, job: Job, taskId: TaskId, prefill: boolean) => {
    const task = job.tasks.get(taskId)!;
    task.workerId = worker.id;
    worker.tasks.set(taskKey(job.id, taskId), { jobId: job.id, taskId, prefill });
    if (prefill) worker.prefilled++;
    else worker.fitLoad += taskCpus(job, worker);
    worker.lastBusyAt = now;
    setTaskState(state, job, taskId, task, "assigned", now);
    let perJob = batches.get(worker.id);
    if (!perJob) batches.set(worker.id, perJob = new Map());
    let list = perJob.get(job.id);
    if (!list) perJob.set(job.id, list = []);
    list.push({ id: taskId, instance: task.instance });
    placed++;
  };

  // Pass 1: tasks that fit into free CPUs now, spread round-robin over workers.
  while (state.ready.size > 0 && skipped.length < MAX_SKIPPED_PER_ROUND) {
    const entry = state.ready.peek()!;
    if (!live(entry)) {
      state.ready.pop();
      continue;
    }
    const job = state.jobs.get(entry.jobId)!;
    let target: WorkerRecord | undefined;
    for (let i = 0; i < workers.length; i++) {
      const w = workers[(cursor + i) % workers.length]!;
      if (canEverRun(job, w) && w.fitLoad + taskCpus(job, w) <= w.cpus) {
        target = w;
        cursor = (cursor + i + 1) % workers.length;
        break;
      }
    }
    if (!target) {
      if (!workers.some((w) => w.fitLoad < w.cpus)) break;
      skipped.push(state.ready.pop()!);
      continue;
    }
    state.ready.pop();
    assign(target, job, entry.taskId, false);
  }
  for (const entry of skipped) state.ready.push(entry);
  skipped.length = 0;

  // Pass 2: prefill, only while enough ready tasks remain for the others.
  const { prefillMax, prefillReserve } = state.config;
  while (state.ready.size > prefillReserve && skipped.length < MAX_SKIPPED_PER_ROUND) {
    const entry = state.ready.peek()!;
    if (!live(entry)) {
      state.ready.pop();
      continue;
    }
    const job = state.jobs.get(entry.jobId)!;
    let target: WorkerRecord | undefined;
    let best = prefillMax;
    for (const w of workers) {
      if (w.prefilled < best && canEverRun(job, w)) {
        target = w;
        best = w.prefilled;
      }
    }
    if (!target) {
      if (!workers.some((w) => w.prefilled < prefillMax)) break;
      skipped.push(state.ready.pop()!);
      continue;
    }
    state.ready.pop();
    assign(target, job, entry.taskId, true);
  }
  for (const entry of skipped) state.ready.push(entry);

  for (const [workerId, perJob] of batches) {
    for (const [jobId, tasks] of perJob) {
      const job = state.jobs.get(jobId)!;
      sendToWorker(out, workerId, {
        kind: "computeTasks",
        jobId,
        submitDir: job.submitDir,
        template: job.template,
        tasks,
      });
    }
  }
  return { placed };
}
