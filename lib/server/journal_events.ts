/**
 * The journal as events (`hq journal export|replay|stream`): this project's
 * journal keeps the current state, not a log, so the events are derived from
 * it: what happened to every worker, job and task that is still known, in
 * time order. Live events come from each round's journal batch. Pure.
 *
 * @module
 */
import type { JobId, TaskId } from "../common/mod.ts";
import type { JournalEventView } from "../protocol/mod.ts";
import type { JournalBatch } from "../journal/mod.ts";
import type { BulkTasks, Job, ServerState, TaskRecord } from "../scheduler/mod.ts";
import { taskDescView } from "./views.ts";
import { workerViews } from "./worker_views.ts";

/** What a live stream has already told (so each event is told once). */
export interface StreamTracker {
  workers: Set<number>;
  lostWorkers: Set<number>;
  jobs: Set<JobId>;
  completedJobs: Set<JobId>;
  /** Task attempts told started, as `job:task:instance`. */
  started: Set<string>;
}

function jobCreated(job: Job): JournalEventView {
  return {
    type: "job-created",
    at: job.submittedAt,
    job: job.id,
    name: job.name,
    maxFails: job.maxFails,
    submitDir: job.parts[0]?.submitDir ?? "",
    ids: [...job.ids],
    task: job.parts[0] ? taskDescView(job.parts[0].template) : null,
    closedJob: !job.open,
  };
}

/** The events of one task record; ended canceled or aborted tasks are batched by the caller. */
function taskEvents(
  jobId: JobId,
  taskId: TaskId,
  t: TaskRecord,
  started: Set<string> | null,
): JournalEventView[] {
  const events: JournalEventView[] = [];
  const attempt = `${jobId}:${taskId}:${t.instance}`;
  if (t.startedAt !== null && t.workerId !== null && !started?.has(attempt)) {
    started?.add(attempt);
    events.push({
      type: "task-started",
      at: t.startedAt,
      job: jobId,
      task: taskId,
      instance: t.instance,
      worker: t.workerId,
    });
  }
  const at = t.finishedAt ?? t.startedAt ?? 0;
  if (t.state === "finished") events.push({ type: "task-finished", at, job: jobId, task: taskId });
  if (t.state === "failed") {
    events.push({ type: "task-failed", at, job: jobId, task: taskId, error: t.error ?? "" });
  }
  return events;
}

/** The tasks of bulk journal entries, one by one. */
function* bulkTasks(bulk: readonly BulkTasks[]): Generator<[JobId, TaskId, TaskRecord]> {
  for (const b of bulk) {
    for (const r of b.ranges) {
      for (let id = r.start; id <= r.end; id++) yield [b.jobId, id, b.record];
    }
  }
}

/** Canceled and aborted tasks, one event per job, state and time (as HyperQueue batches them). */
function stoppedEvents(tasks: Iterable<[JobId, TaskId, TaskRecord]>): JournalEventView[] {
  const groups = new Map<string, JournalEventView & { tasks: TaskId[] }>();
  for (const [jobId, taskId, t] of tasks) {
    if (t.state !== "canceled" && t.state !== "aborted") continue;
    const at = t.finishedAt ?? 0;
    const key = `${jobId}:${t.state}:${at}`;
    let group = groups.get(key);
    if (!group) {
      group = { type: `task-${t.state}`, at, job: jobId, tasks: [] };
      groups.set(key, group);
    }
    group.tasks.push(taskId);
  }
  return [...groups.values()];
}

function byTime(events: JournalEventView[]): JournalEventView[] {
  // Stable: events of one moment keep their logical order.
  return events.map((e, i) => [e, i] as const).sort((a, b) => a[0].at - b[0].at || a[1] - b[1])
    .map(([e]) => e);
}

/**
 * Every event the state still tells of, in time order, starting with the server's start at
 * `startedAt`. With `tracker`, it is filled so that a live stream goes on from here.
 */
export function pastEvents(
  state: ServerState,
  startedAt: number,
  tracker?: StreamTracker,
): JournalEventView[] {
  const events: JournalEventView[] = [];
  for (const w of workerViews(state)) {
    events.push({ type: "worker-connected", at: w.started_at, worker: w });
    tracker?.workers.add(w.id);
    if (w.ended_at !== null && w.state !== "running") {
      events.push({ type: "worker-lost", at: w.ended_at, id: w.id, reason: w.state });
      tracker?.lostWorkers.add(w.id);
    }
  }
  for (const job of [...state.jobs.values()].sort((a, b) => a.id - b.id)) {
    events.push(jobCreated(job));
    tracker?.jobs.add(job.id);
    const records: [JobId, TaskId, TaskRecord][] = [];
    for (const [taskId, t] of job.tasks) {
      events.push(...taskEvents(job.id, taskId, t, tracker?.started ?? null));
      records.push([job.id, taskId, t]);
    }
    events.push(...stoppedEvents(records));
    if (job.completedAt !== null) {
      events.push({ type: "job-completed", at: job.completedAt, job: job.id });
      tracker?.completedJobs.add(job.id);
    }
  }
  return [{ type: "server-start", at: startedAt, serverUid: state.serverUid }, ...byTime(events)];
}

/** A tracker that has told nothing yet. */
export function newStreamTracker(): StreamTracker {
  return {
    workers: new Set(),
    lostWorkers: new Set(),
    jobs: new Set(),
    completedJobs: new Set(),
    started: new Set(),
  };
}

/** The events a round's journal batch tells that `tracker` has not told yet. */
export function batchEvents(
  state: ServerState,
  batch: JournalBatch,
  tracker: StreamTracker,
): JournalEventView[] {
  const events: JournalEventView[] = [];
  const views = batch.workers.length > 0 ? workerViews(state) : [];
  for (const w of batch.workers) {
    const view = views.find((v) => v.id === w.id);
    if (view && !tracker.workers.has(w.id)) {
      tracker.workers.add(w.id);
      events.push({ type: "worker-connected", at: w.registeredAt, worker: view });
    }
    if (w.state !== "running" && !tracker.lostWorkers.has(w.id)) {
      tracker.lostWorkers.add(w.id);
      events.push({ type: "worker-lost", at: w.endedAt ?? 0, id: w.id, reason: w.state });
    }
  }
  for (const rec of batch.jobs) {
    const job = state.jobs.get(rec.id);
    if (job && !tracker.jobs.has(rec.id)) {
      tracker.jobs.add(rec.id);
      events.push(jobCreated(job));
    }
  }
  for (const t of batch.tasks) {
    events.push(...taskEvents(t.jobId, t.taskId, t.record, tracker.started));
  }
  events.push(...stoppedEvents(batch.tasks.map((t) => [t.jobId, t.taskId, t.record])));
  events.push(...stoppedEvents(bulkTasks(batch.bulk ?? [])));
  for (const rec of batch.jobs) {
    if (rec.completedAt !== null && !tracker.completedJobs.has(rec.id)) {
      tracker.completedJobs.add(rec.id);
      events.push({ type: "job-completed", at: rec.completedAt, job: rec.id });
    }
  }
  return byTime(events);
}
