/**
 * Pure conversions between the journal's records and the server state:
 * `restoreState` folds stored data into a fresh state; `takeBatch` collects
 * what a round changed.
 *
 * @module
 */
import { idSetIterate, idSetSize } from "../cli/id_set.ts";
import {
  createServerState,
  emptyCounts,
  isJobComplete,
  type Job,
  type SchedulerConfig,
  type ServerState,
  type TaskRecord,
} from "../scheduler/state.ts";
import { workerCpus } from "../scheduler/reactor.ts";
import type { JobRecord, JournalBatch, JournalData, WorkerRecordStored } from "./store.ts";
import { JOURNAL_VERSION } from "./store.ts";

/** Result of a restore. */
export interface Restored {
  /** The state. */
  state: ServerState;
  /** Tasks that were assigned or running and now wait again. */
  requeued: number;
  /** Workers that were running when the journal was last written. */
  lostWorkers: number;
}

/**
 * Builds the server state from journal data at time `now`. Unfinished tasks
 * go back to waiting with a new instance id; workers that were running are
 * marked lost (they re-register on their own).
 */
export function restoreState(
  data: JournalData,
  freshUid: string,
  now: number,
  config?: SchedulerConfig,
): Restored {
  const state = createServerState(data.meta?.serverUid ?? freshUid, config);
  if (data.meta) {
    state.nextJobId = data.meta.nextJobId;
    state.nextWorkerId = data.meta.nextWorkerId;
  }
  state.dirtyMeta = true;
  const stored = new Map<number, Map<number, TaskRecord>>();
  for (const t of data.tasks) {
    let m = stored.get(t.jobId);
    if (!m) stored.set(t.jobId, m = new Map());
    m.set(t.taskId, t.record);
  }
  let requeued = 0;
  for (const rec of data.jobs) {
    const job: Job = {
      id: rec.id,
      name: rec.name,
      submitDir: rec.submitDir,
      submittedAt: rec.submittedAt,
      maxFails: rec.maxFails,
      template: rec.template,
      ids: rec.ids,
      tasks: new Map(),
      counts: emptyCounts(),
      cancelReason: rec.cancelReason,
      completedAt: rec.completedAt,
    };
    const records = stored.get(rec.id);
    for (const taskId of idSetIterate(rec.ids)) {
      const saved = records?.get(taskId);
      const task: TaskRecord = saved ? { ...saved } : {
        state: "waiting",
        instance: 0,
        crashCount: 0,
        workerId: null,
        startedAt: null,
        finishedAt: null,
        error: null,
      };
      if (task.state === "assigned" || task.state === "running") {
        task.state = "waiting";
        task.instance++;
        task.workerId = null;
        task.startedAt = null;
        requeued++;
        state.dirtyTasks.set(rec.id, (state.dirtyTasks.get(rec.id) ?? new Set()).add(taskId));
      }
      job.tasks.set(taskId, task);
      job.counts[task.state]++;
      if (task.state === "waiting") {
        state.ready.push({ priority: rec.template.priority, jobId: rec.id, taskId });
      }
    }
    if (job.tasks.size !== idSetSize(rec.ids)) {
      throw new RangeError(`Cannot restore job ${rec.id}: task count mismatch`);
    }
    if (isJobComplete(job) && job.completedAt === null) job.completedAt = now;
    state.jobs.set(job.id, job);
  }
  let lostWorkers = 0;
  for (const w of data.workers) {
    const wasRunning = w.state === "running";
    if (wasRunning) lostWorkers++;
    state.workers.set(w.id, {
      id: w.id,
      key: w.key,
      config: w.config,
      state: wasRunning ? "connectionLost" : w.state,
      registeredAt: w.registeredAt,
      endedAt: wasRunning ? now : w.endedAt,
      lastSeen: now,
      lastBusyAt: now,
      lastTaskStartedAt: w.lastTaskStartedAt,
      cpus: workerCpus(w.config),
      fitLoad: 0,
      prefilled: 0,
      tasks: new Map(),
    });
    state.workerKeys.set(w.key, w.id);
    if (wasRunning) state.dirtyWorkers.add(w.id);
  }
  state.needsSchedule = true;
  return { state, requeued, lostWorkers };
}

function jobRecord(job: Job): JobRecord {
  return {
    id: job.id,
    name: job.name,
    submitDir: job.submitDir,
    submittedAt: job.submittedAt,
    maxFails: job.maxFails,
    template: job.template,
    ids: job.ids,
    cancelReason: job.cancelReason,
    completedAt: job.completedAt,
  };
}

/** Collects and clears the state's dirty sets into a journal batch. */
export function takeBatch(state: ServerState): JournalBatch {
  const batch: JournalBatch = {
    jobs: [],
    tasks: [],
    workers: [],
    offsets: [],
    requestsDone: [],
    requestsForget: [],
  };
  if (state.dirtyMeta) {
    batch.meta = {
      format: { ...JOURNAL_VERSION },
      serverUid: state.serverUid,
      nextJobId: state.nextJobId,
      nextWorkerId: state.nextWorkerId,
    };
    state.dirtyMeta = false;
  }
  for (const jobId of state.dirtyJobs) {
    const job = state.jobs.get(jobId);
    if (job) batch.jobs.push(jobRecord(job));
  }
  state.dirtyJobs.clear();
  for (const [jobId, ids] of state.dirtyTasks) {
    const job = state.jobs.get(jobId);
    if (!job) continue;
    for (const taskId of ids) {
      const record = job.tasks.get(taskId);
      if (record) batch.tasks.push({ jobId, taskId, record: { ...record } });
    }
  }
  state.dirtyTasks.clear();
  for (const workerId of state.dirtyWorkers) {
    const w = state.workers.get(workerId);
    if (!w) continue;
    const stored: WorkerRecordStored = {
      id: w.id,
      key: w.key,
      config: w.config,
      state: w.state,
      registeredAt: w.registeredAt,
      endedAt: w.endedAt,
      lastTaskStartedAt: w.lastTaskStartedAt,
    };
    batch.workers.push(stored);
  }
  state.dirtyWorkers.clear();
  return batch;
}
