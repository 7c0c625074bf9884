/**
 * Pure conversions between the journal's records and the server state:
 * `restoreState` folds stored data into a fresh state; `takeBatch` collects
 * what a round changed.
 *
 * @module
 */
import { idSetHas } from "../common/mod.ts";
import {
  addSubmitTasks,
  type BulkTasks,
  createServerState,
  holdRunning,
  isJobComplete,
  isTerminal,
  type Job,
  markTaskDirty,
  newJob,
  newWorkerRecord,
  pristineTask,
  type SchedulerConfig,
  type ServerState,
  settleEnds,
  type StoredSubmit,
  type TaskRecord,
  wireHooks,
  wireSubmit,
} from "../scheduler/mod.ts";
import {
  emptyBatch,
  type JobRecord,
  JOURNAL_VERSION,
  type JournalBatch,
  type JournalData,
  type SubmitRecord,
  type WorkerRecordStored,
} from "./store.ts";

/** Result of {@link restoreState}; the counts are for the server's start-up log line. */
export interface Restored {
  state: ServerState;
  /** Tasks that were assigned or running and now wait again. */
  requeued: number;
  /** Workers that were running when the journal was last written. */
  lostWorkers: number;
}

/**
 * Builds the server state from journal data at time `now` (ms since epoch). Unfinished tasks
 * go back to waiting with a new instance id; workers that were running are
 * marked lost (they re-register on their own). With `reattachUntil` (a server taking over a
 * crashed one's instance), running workers stay running as reattaching until then, with the
 * tasks that ran on them (see `lib/scheduler/reattach.ts`). `freshUid` becomes the server uid only when
 * the journal has none yet. Every requeued task and lost worker is marked dirty, so the next
 * {@link takeBatch} writes them back.
 *
 * @example Usage
 * ```ts
 * import { restoreState, takeBatch } from "./restore.ts";
 * import { buildSubmit } from "../cli/submit_args.ts";
 * import assert from "node:assert/strict";
 * const { job } = buildSubmit({ array: "0-2" }, ["hostname"], "/home/u");
 * const running = {
 *   state: "running" as const,
 *   instance: 0,
 *   crashCount: 0,
 *   workerId: 1,
 *   variant: 0,
 *   startedAt: 500,
 *   finishedAt: null,
 *   error: null,
 * };
 * const { state, requeued } = restoreState({
 *   meta: undefined,
 *   jobs: [{ ...job, id: 1, submittedAt: 100, cancelReason: null, completedAt: null }],
 *   tasks: [{ jobId: 1, taskId: 1, record: running }],
 *   workers: [],
 *   offsets: [],
 *   requests: [],
 * }, "fresh-uid", 1_000);
 * assert.equal(state.serverUid, "fresh-uid");
 * assert.equal(requeued, 1);
 * assert.equal(state.jobs.get(1)!.counts.waiting, 3);
 * // The requeued task is written back as waiting, with its next instance id.
 * const batch = takeBatch(state);
 * assert.equal(batch.meta?.serverUid, "fresh-uid");
 * assert.deepEqual(batch.tasks.map((t) => [t.taskId, t.record.state, t.record.instance]), [
 *   [1, "waiting", 1],
 * ]);
 * ```
 *
 * @throws {RangeError} When a stored task is not in its job's id set.
 */
export function restoreState(
  data: JournalData,
  freshUid: string,
  now: number,
  config?: SchedulerConfig,
  reattachUntil?: number,
): Restored {
  const state = createServerState(data.meta?.serverUid ?? freshUid, config);
  const reattach = reattachUntil !== undefined;
  const kept = restoreWorkers(state, data.workers, now, reattach);
  if (reattach && kept > 0) state.reattachUntil = reattachUntil;
  if (data.meta) {
    state.nextJobId = data.meta.nextJobId;
    state.nextWorkerId = data.meta.nextWorkerId;
  }
  state.dirtyMeta = true;
  for (const r of data.requests) state.appliedRequests.set(r.key, r.jobId);
  const stored = new Map<number, Map<number, TaskRecord>>();
  for (const t of data.tasks) {
    let m = stored.get(t.jobId);
    if (!m) stored.set(t.jobId, m = new Map());
    m.set(t.taskId, t.record);
  }
  const bulk = new Map<number, BulkTasks[]>();
  for (const b of data.bulk ?? []) {
    let list = bulk.get(b.jobId);
    if (!list) bulk.set(b.jobId, list = []);
    list.push(b);
  }
  const submits = new Map<number, SubmitRecord[]>();
  for (const sub of data.submits ?? []) {
    let list = submits.get(sub.jobId);
    if (!list) submits.set(sub.jobId, list = []);
    list.push(sub);
  }
  let requeued = 0;
  const jobs = [...data.jobs].sort((a, b) => a.id - b.id);
  for (const rec of jobs) {
    const job = newJob(rec.id, rec.name, rec.maxFails, rec.submittedAt, rec.open ?? false);
    for (const sub of storedSubmits(rec, submits.get(rec.id) ?? [])) {
      addSubmitTasks(state, job, sub);
    }
    job.cancelReason = rec.cancelReason;
    for (const [taskId, saved] of stored.get(rec.id) ?? []) {
      if (!idSetHas(job.ids, taskId)) {
        throw new RangeError(`Cannot restore job ${rec.id}: task ${taskId} is not in the job`);
      }
      const task: TaskRecord = { ...pristineTask(), ...saved };
      job.counts.waiting--;
      if (reattach && keepRunning(state, job, taskId, task)) {
        job.tasks.set(taskId, task);
        job.counts.running++;
        continue;
      }
      if (task.state === "assigned" || task.state === "running") {
        task.state = "waiting";
        task.instance++;
        task.workerId = null;
        task.variant = null;
        task.startedAt = null;
        requeued++;
        markTaskDirty(state, rec.id, taskId);
      }
      job.tasks.set(taskId, task);
      job.counts[task.state]++;
    }
    for (const b of bulk.get(rec.id) ?? []) restoreBulk(job, b);
    job.completedAt = rec.completedAt;
    state.jobs.set(job.id, job);
  }
  // Dependencies and queues once every job has its restored task states.
  const hooks = wireHooks(state, now);
  for (const job of state.jobs.values()) {
    for (let i = 0; i < job.submits.length; i++) wireSubmit(state, job, i, hooks);
    if (isJobComplete(job) && job.completedAt === null) job.completedAt = now;
  }
  settleEnds(state, now);
  state.needsSchedule = true;
  const wereRunning = data.workers.filter((w) => w.state === "running").length;
  return { state, requeued, lostWorkers: wereRunning - kept };
}

/**
 * Gives the tasks of a bulk entry its record, shared; a task with a record of its own keeps
 * that.
 *
 * @throws {RangeError} When an id is not in the job, or the record is not of an ended task.
 */
function restoreBulk(job: Job, bulk: BulkTasks): void {
  const state = bulk.record.state;
  if (!isTerminal(state)) {
    throw new RangeError(
      `Cannot restore job ${job.id}: a bulk entry of its tasks is in state "${state}", not an end state`,
    );
  }
  // One record for them all, as when they ended (nothing changes an ended task's record).
  const record = Object.freeze({ ...bulk.record });
  for (const r of bulk.ranges) {
    if (!idSetHas(job.ids, r.start) || !idSetHas(job.ids, r.end)) {
      throw new RangeError(
        `Cannot restore job ${job.id}: tasks ${r.start}-${r.end} are not in the job`,
      );
    }
    for (let id = r.start; id <= r.end; id++) {
      if (job.tasks.has(id)) continue;
      job.tasks.set(id, record);
      job.counts.waiting--;
      job.counts[state]++;
    }
  }
}

/**
 * Adds the stored workers. Those that were running are lost, or, when `reattach`, kept
 * running and marked reattaching (the server took over a crashed one). Returns how many
 * were kept.
 */
function restoreWorkers(
  state: ServerState,
  workers: readonly WorkerRecordStored[],
  now: number,
  reattach: boolean,
): number {
  let kept = 0;
  for (const w of workers) {
    const wasRunning = w.state === "running";
    const record = newWorkerRecord(w.id, w.key, w.config, w.registeredAt);
    if (wasRunning && reattach) {
      record.reattaching = true;
      kept++;
    } else {
      record.state = wasRunning ? "connectionLost" : w.state;
      record.endedAt = wasRunning ? now : w.endedAt;
    }
    record.lastSeen = now;
    record.lastBusyAt = now;
    record.lastTaskStartedAt = w.lastTaskStartedAt;
    state.workers.set(w.id, record);
    state.workerKeys.set(w.key, w.id);
    if (wasRunning && !reattach) state.dirtyWorkers.add(w.id);
  }
  return kept;
}

/**
 * Places a task stored as running back on its worker when that worker is reattaching
 * (single-node tasks only; a multi-node run is requeued). Returns whether it was kept.
 */
function keepRunning(state: ServerState, job: Job, taskId: number, task: TaskRecord): boolean {
  if (task.state !== "running" || task.workerId === null || task.variant === null) return false;
  const worker = state.workers.get(task.workerId);
  return !!worker?.reattaching && holdRunning(state, worker, job, taskId, task, task.variant);
}

/** A job's submits from the journal: its submit records, or the legacy single submit. */
function storedSubmits(rec: JobRecord, records: SubmitRecord[]): StoredSubmit[] {
  if (records.length > 0) {
    return records.sort((a, b) => a.index - b.index).map((r) => ({
      submittedAt: r.submittedAt,
      job: r.job,
      after: r.after,
    }));
  }
  if (rec.template === undefined || rec.ids === undefined) return [];
  return [{
    submittedAt: rec.submittedAt,
    job: {
      name: rec.name,
      maxFails: rec.maxFails,
      submitDir: rec.submitDir ?? "/",
      ids: rec.ids,
      template: rec.template,
    },
    after: [],
  }];
}

function jobRecord(job: Job): JobRecord {
  return {
    id: job.id,
    name: job.name,
    submittedAt: job.submittedAt,
    maxFails: job.maxFails,
    cancelReason: job.cancelReason,
    completedAt: job.completedAt,
    open: job.open,
  };
}

/**
 * Collects and clears the state's dirty sets into a journal batch (without `offsets` and the
 * request lists, which the server adds). Tasks in the `assigned` state are left out: they
 * would restore as waiting, exactly like their previous record. See {@link restoreState} for
 * an example.
 */
export function takeBatch(state: ServerState): JournalBatch {
  const batch = emptyBatch();
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
  if (state.newSubmits.length > 0) {
    batch.submits = [];
    for (const { jobId, index } of state.newSubmits) {
      const sub = state.jobs.get(jobId)?.submits[index];
      if (sub) batch.submits.push({ jobId, index, ...sub });
    }
    state.newSubmits = [];
  }
  for (const [jobId, ids] of state.dirtyTasks) {
    const job = state.jobs.get(jobId);
    if (!job) continue;
    for (const taskId of ids) {
      const record = job.tasks.get(taskId);
      // An assignment not yet started restores exactly like its previous record
      // (both end up waiting), so it is not written: a third fewer writes per task.
      if (record && record.state !== "assigned") {
        batch.tasks.push({ jobId, taskId, record: { ...record } });
      }
    }
  }
  state.dirtyTasks.clear();
  if (state.dirtyBulk.length > 0) {
    batch.bulk = state.dirtyBulk
      .filter((b) => state.jobs.has(b.jobId))
      .map((b) => ({ jobId: b.jobId, ranges: b.ranges, record: { ...b.record } }));
    state.dirtyBulk = [];
  }
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
  if (state.forgottenJobs.size > 0) {
    batch.jobsRemoved = [...state.forgottenJobs];
    state.forgottenJobs.clear();
  }
  if (state.removedWorkers.size > 0) {
    batch.workersRemoved = [...state.removedWorkers];
    state.removedWorkers.clear();
  }
  return batch;
}
