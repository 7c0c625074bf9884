/**
 * The journal port: the server's durable state, written one transaction per
 * scheduling round. Only `lmdb_store.ts` implements it on disk.
 *
 * @module
 */
import type { JobId, TaskId, WorkerId } from "../ids.ts";
import type { IdRange } from "../cli/id_set.ts";
import type { TaskTemplate, WorkerConfig } from "../fsproto/messages.ts";
import type { TaskRecord, WorkerState } from "../scheduler/state.ts";

/** Journal format version; a newer major version is refused. */
export const JOURNAL_VERSION = { major: 2, minor: 0 } as const;

/** Counters and identity. */
export interface MetaRecord {
  /** Format version of the journal. */
  format: { major: number; minor: number };
  /** Server uid. */
  serverUid: string;
  /** Next job id. */
  nextJobId: number;
  /** Next worker id. */
  nextWorkerId: number;
}

/** A job without its task records. */
export interface JobRecord {
  id: JobId;
  name: string;
  submitDir: string;
  submittedAt: number;
  maxFails: number | null;
  template: TaskTemplate;
  ids: IdRange[];
  cancelReason: string | null;
  completedAt: number | null;
}

/** A worker as stored. */
export interface WorkerRecordStored {
  id: WorkerId;
  key: string;
  config: WorkerConfig;
  state: WorkerState;
  registeredAt: number;
  endedAt: number | null;
  lastTaskStartedAt: number | null;
}

/** Everything the journal holds. */
export interface JournalData {
  meta: MetaRecord | undefined;
  jobs: JobRecord[];
  tasks: { jobId: JobId; taskId: TaskId; record: TaskRecord }[];
  workers: WorkerRecordStored[];
  offsets: { workerId: WorkerId; segment: number; offset: number }[];
  requests: { key: string; jobId: JobId }[];
}

/** Changes of one round. */
export interface JournalBatch {
  meta?: MetaRecord;
  jobs: JobRecord[];
  tasks: { jobId: JobId; taskId: TaskId; record: TaskRecord }[];
  workers: WorkerRecordStored[];
  offsets: { workerId: WorkerId; segment: number; offset: number }[];
  /** Submit requests applied (client key + request number), for replay safety. */
  requestsDone: { key: string; jobId: JobId }[];
  /** Request keys whose inbox files are gone, so they can be forgotten. */
  requestsForget: string[];
}

/** A store of server state. */
export interface JournalStore {
  /** Reads everything. */
  load(): JournalData;
  /** Writes one batch atomically; durable against a killed server process. */
  commit(batch: JournalBatch): void;
  /** Makes everything committed durable against a machine crash. */
  flush(): Promise<void>;
  /** Closes the store. */
  close(): Promise<void>;
}

/** Raised when the journal was written by an incompatible version. */
export class JournalVersionError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JournalVersionError";
  }
}

/** Raised when a journal path holds something that is not a journal. */
export class JournalFormatError extends Error {
  /** Creates the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "JournalFormatError";
  }
}

/** In-memory store for tests and simulations. */
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
  #workers = new Map<WorkerId, WorkerRecordStored>();
  #offsets = new Map<WorkerId, { workerId: WorkerId; segment: number; offset: number }>();
  #requests = new Map<string, JobId>();

  /** Reads everything (deep copies). */
  load(): JournalData {
    return structuredClone({
      meta: this.#data.meta,
      jobs: [...this.#jobs.values()],
      tasks: [...this.#tasks.values()],
      workers: [...this.#workers.values()],
      offsets: [...this.#offsets.values()],
      requests: [...this.#requests].map(([key, jobId]) => ({ key, jobId })),
    });
  }

  /** Applies a batch. */
  commit(batch: JournalBatch): void {
    const b = structuredClone(batch);
    if (b.meta) this.#data.meta = b.meta;
    for (const j of b.jobs) this.#jobs.set(j.id, j);
    for (const t of b.tasks) this.#tasks.set(`${t.jobId}:${t.taskId}`, t);
    for (const w of b.workers) this.#workers.set(w.id, w);
    for (const o of b.offsets) this.#offsets.set(o.workerId, o);
    for (const r of b.requestsDone) this.#requests.set(r.key, r.jobId);
    for (const k of b.requestsForget) this.#requests.delete(k);
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
