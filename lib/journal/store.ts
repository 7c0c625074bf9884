/**
 * The journal port: the server's durable state, written one transaction per
 * scheduling round. Only `lmdb_store.ts` implements it on disk.
 *
 * @module
 */
import type { IdRange, JobId, TaskId, WorkerId } from "../common/mod.ts";
import type { JobSubmit, TaskTemplate, WorkerConfig } from "../protocol/mod.ts";
import type { BulkTasks, TaskRecord, WorkerState } from "../scheduler/mod.ts";
import type { QueueRecord } from "../autoalloc/mod.ts";

/**
 * Journal format version, written in {@link MetaRecord.format}; a journal of a major
 * version not in {@link READABLE_MAJORS} is refused (bump the major on any change an older
 * server cannot read). 3.0: tasks that ended together kept as id ranges ({@link BulkTasks}),
 * which a 2.x server would take for waiting tasks.
 */
export const JOURNAL_VERSION = { major: 3, minor: 0 } as const;

/** Major journal versions this server restores (2.x has no bulk task records). */
export const READABLE_MAJORS: readonly number[] = [2, 3];

/** The journal's header: format version, server identity and id counters. */
export interface MetaRecord {
  /** Compared with {@link JOURNAL_VERSION} when the journal is opened. */
  format: { major: number; minor: number };
  /** Uid of the server that created the journal; a restored server keeps it. */
  serverUid: string;
  nextJobId: number;
  nextWorkerId: number;
}

/** A job without its task records (those are stored one per task). */
export interface JobRecord {
  id: JobId;
  name: string;
  submittedAt: number;
  maxFails: number | null;
  cancelReason: string | null;
  completedAt: number | null;
  /** Whether the job is open (format 2.3; absent before). */
  open?: boolean;
  /** The only submit's directory (before format 2.3, which stores submits apart). */
  submitDir?: string;
  /** The only submit's template (before format 2.3). */
  template?: TaskTemplate;
  /** The only submit's ids (before format 2.3). */
  ids?: IdRange[];
}

/** One submit of a job (format 2.3), written once under `["s", job, index]`. */
export interface SubmitRecord {
  jobId: JobId;
  /** Position among the job's submits, from 0. */
  index: number;
  submittedAt: number;
  /** The submit as applied (placeholders filled, ids shifted). */
  job: JobSubmit;
  /** Jobs its tasks waited for (`--after`). */
  after: JobId[];
}

/** A worker as stored: its registration and end state, none of its live bookkeeping. */
export interface WorkerRecordStored {
  id: WorkerId;
  key: string;
  config: WorkerConfig;
  state: WorkerState;
  registeredAt: number;
  endedAt: number | null;
  lastTaskStartedAt: number | null;
}

/** Everything the journal holds, as {@link JournalStore.load} returns it. */
export interface JournalData {
  /** Undefined for a new, empty journal. */
  meta: MetaRecord | undefined;
  jobs: JobRecord[];
  /** Only tasks that have left the pristine waiting state; the others are implied by the job. */
  tasks: { jobId: JobId; taskId: TaskId; record: TaskRecord }[];
  /** Tasks that ended together, as id ranges with one record (format 3.0; absent before). */
  bulk?: BulkTasks[];
  workers: WorkerRecordStored[];
  /** How far the server has read each worker's channel (segment and byte offset). */
  offsets: { workerId: WorkerId; segment: number; offset: number }[];
  /** Submit requests already applied (request key to job id), so a replayed one is not. */
  requests: { key: string; jobId: JobId }[];
  /** Submits of the jobs (format 2.3; absent before). */
  submits?: SubmitRecord[];
  /** Automatic allocation queues with their allocations (format 2.1; absent before). */
  queues?: QueueRecord[];
  /** Next automatic allocation queue id (format 2.1). */
  nextQueueId?: number;
}

/**
 * Changes of one scheduling round; records replace the stored ones with the same key.
 * `takeBatch` in `restore.ts` builds it from the server state.
 */
export interface JournalBatch {
  meta?: MetaRecord;
  jobs: JobRecord[];
  tasks: { jobId: JobId; taskId: TaskId; record: TaskRecord }[];
  /** Tasks that ended together (each entry written once, keyed by its job and first id). */
  bulk?: BulkTasks[];
  workers: WorkerRecordStored[];
  offsets: { workerId: WorkerId; segment: number; offset: number }[];
  /** Submit requests applied (client key + request number), for replay safety. */
  requestsDone: { key: string; jobId: JobId }[];
  /** Request keys whose inbox files are gone, so they can be forgotten. */
  requestsForget: string[];
  /** Submits added (each written once). */
  submits?: SubmitRecord[];
  /** Automatic allocation queues added or changed. */
  queues?: QueueRecord[];
  /** Automatic allocation queues removed. */
  queuesRemoved?: number[];
  /** Next automatic allocation queue id, when it changed. */
  nextQueueId?: number;
  /** Jobs forgotten (`job forget`): their records and all their tasks are removed. */
  jobsRemoved?: JobId[];
  /** Ended workers pruned (`journal prune`): their records and channel offsets are removed. */
  workersRemoved?: WorkerId[];
}

/**
 * A batch that changes nothing, to add to.
 *
 * @example Usage
 * ```ts
 * import { emptyBatch } from "./store.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(emptyBatch().tasks, []);
 * ```
 */
export function emptyBatch(): JournalBatch {
  return { jobs: [], tasks: [], workers: [], offsets: [], requestsDone: [], requestsForget: [] };
}

/**
 * A store of server state: the port the server writes its journal through.
 * `LmdbJournalStore` in `lmdb_store.ts` keeps it on disk, {@link MemoryJournalStore}
 * in memory.
 */
export interface JournalStore {
  /** Reads the whole journal; the server calls it once, at start, to restore. */
  load(): JournalData;
  /** Writes one batch atomically; durable against a killed server process. */
  commit(batch: JournalBatch): void;
  /** Makes everything committed durable against a machine crash. */
  flush(): Promise<void>;
  /** Gets the store ready to be written again after a failed commit (optional). */
  recover?(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Raised when the journal was written with another major {@link JOURNAL_VERSION}; the
 * message names both versions.
 */
export class JournalVersionError extends Error {
  /** `options.cause` is kept as the error's cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JournalVersionError";
  }
}

/**
 * Raised when a journal path holds something that is not a journal (checked before LMDB maps
 * the file, since LMDB would crash the process instead).
 */
export class JournalFormatError extends Error {
  /** `options.cause` is kept as the error's cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JournalFormatError";
  }
}

/**
 * In-memory store for tests and simulations. Batches and loads are deep copies, so later
 * changes to the server state cannot reach what was committed.
 *
 * @example Usage
 * ```ts
 * import { JOURNAL_VERSION, MemoryJournalStore } from "./store.ts";
 * import assert from "node:assert/strict";
 * const store = new MemoryJournalStore();
 * const batch = {
 *   meta: { format: { ...JOURNAL_VERSION }, serverUid: "u1", nextJobId: 2, nextWorkerId: 1 },
 *   jobs: [],
 *   tasks: [],
 *   workers: [],
 *   offsets: [{ workerId: 1, segment: 0, offset: 64 }],
 *   requestsDone: [{ key: "c1:1", jobId: 1 }],
 *   requestsForget: [],
 * };
 * store.commit(batch);
 * batch.offsets[0]!.offset = 999; // no effect on what was committed
 * const data = store.load();
 * assert.equal(data.meta?.serverUid, "u1");
 * assert.deepEqual(data.offsets, [{ workerId: 1, segment: 0, offset: 64 }]);
 * assert.deepEqual(data.requests, [{ key: "c1:1", jobId: 1 }]);
 * // Once the inbox file of a request is gone, the server forgets it.
 * store.commit({
 *   jobs: [],
 *   tasks: [],
 *   workers: [],
 *   offsets: [],
 *   requestsDone: [],
 *   requestsForget: ["c1:1"],
 * });
 * assert.deepEqual(store.load().requests, []);
 * await store.close();
 * ```
 */
export class MemoryJournalStore implements JournalStore {
  #data: JournalData = {
    meta: undefined,
    jobs: [],
    tasks: [],
    workers: [],
    offsets: [],
    requests: [],
  };
  #jobs = new Map<JobId, JobRecord>();
  #tasks = new Map<string, { jobId: JobId; taskId: TaskId; record: TaskRecord }>();
  #bulk = new Map<string, BulkTasks>();
  #submits = new Map<string, SubmitRecord>();
  #workers = new Map<WorkerId, WorkerRecordStored>();
  #offsets = new Map<WorkerId, { workerId: WorkerId; segment: number; offset: number }>();
  #requests = new Map<string, JobId>();
  #queues = new Map<number, QueueRecord>();
  #nextQueueId: number | undefined;

  /** Reads everything (deep copies). */
  load(): JournalData {
    return structuredClone({
      meta: this.#data.meta,
      jobs: [...this.#jobs.values()],
      tasks: [...this.#tasks.values()],
      bulk: [...this.#bulk.values()],
      submits: [...this.#submits.values()],
      workers: [...this.#workers.values()],
      offsets: [...this.#offsets.values()],
      requests: [...this.#requests].map(([key, jobId]) => ({ key, jobId })),
      queues: [...this.#queues.values()],
      ...(this.#nextQueueId === undefined ? {} : { nextQueueId: this.#nextQueueId }),
    });
  }

  /** Applies a copy of the batch. */
  commit(batch: JournalBatch): void {
    const b = structuredClone(batch);
    if (b.meta) this.#data.meta = b.meta;
    for (const j of b.jobs) this.#jobs.set(j.id, j);
    for (const t of b.tasks) this.#tasks.set(`${t.jobId}:${t.taskId}`, t);
    for (const k of b.bulk ?? []) this.#bulk.set(`${k.jobId}:${k.ranges[0]!.start}`, k);
    for (const s of b.submits ?? []) this.#submits.set(`${s.jobId}:${s.index}`, s);
    for (const w of b.workers) this.#workers.set(w.id, w);
    for (const o of b.offsets) this.#offsets.set(o.workerId, o);
    for (const r of b.requestsDone) this.#requests.set(r.key, r.jobId);
    for (const k of b.requestsForget) this.#requests.delete(k);
    for (const q of b.queues ?? []) this.#queues.set(q.id, q);
    for (const id of b.queuesRemoved ?? []) this.#queues.delete(id);
    if (b.nextQueueId !== undefined) this.#nextQueueId = b.nextQueueId;
    for (const id of b.workersRemoved ?? []) {
      this.#workers.delete(id);
      this.#offsets.delete(id);
    }
    for (const id of b.jobsRemoved ?? []) {
      this.#jobs.delete(id);
      for (const [key, t] of this.#tasks) if (t.jobId === id) this.#tasks.delete(key);
      for (const [key, k] of this.#bulk) if (k.jobId === id) this.#bulk.delete(key);
      for (const [key, s] of this.#submits) if (s.jobId === id) this.#submits.delete(key);
    }
  }

  /** Nothing to flush. */
  flush(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
