/**
 * LMDB adapter of the journal port; the only module that imports `lmdb`.
 *
 * Keys are arrays: `["m"]` meta, `["j", job]`, `["t", job, task]`,
 * `["w", worker]`, `["o", worker]` channel offsets, `["r", key]` applied
 * submit requests, `["s", job, index]` the submits of jobs (format 2.3), `["q", queue]` automatic allocation queues and `["A"]` the
 * next queue id. Each commit is one synchronous write transaction.
 *
 * @module
 */
import { statfsSync } from "node:fs";
import { open, type RootDatabase } from "lmdb";
import {
  JOURNAL_VERSION,
  type JournalBatch,
  type JournalData,
  JournalFormatError,
  type JournalStore,
  JournalVersionError,
  type MetaRecord,
  READABLE_MAJORS,
  type SubmitRecord,
} from "../mod.ts";
import type { QueueRecord } from "../../autoalloc/mod.ts";
import { dirname } from "../../common/mod.ts";
import type { BulkTasks } from "../../scheduler/mod.ts";

type Key = (string | number)[];

/** LMDB's meta page magic (`MDB_MAGIC`), little-endian, in the first page of a data file. */
const LMDB_MAGIC = [0xde, 0xc0, 0xef, 0xbe];

/**
 * Refuses a data file that is not LMDB's before LMDB maps it (LMDB crashes
 * the process on a foreign file rather than reporting it).
 */
function checkLmdbFile(path: string): void {
  let file = path;
  try {
    if (Deno.statSync(path).isDirectory) file = `${path}/data.mdb`;
  } catch {
    return; // a new journal
  }
  let head: Uint8Array;
  try {
    const f = Deno.openSync(file, { read: true });
    try {
      head = new Uint8Array(64);
      const n = f.readSync(head) ?? 0;
      head = head.subarray(0, n);
    } finally {
      f.close();
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new JournalFormatError(`Cannot open journal "${path}": ${(e as Error).message}`);
  }
  if (head.length === 0) return;
  for (let i = 8; i + 4 <= head.length; i += 4) {
    if (LMDB_MAGIC.every((b, k) => head[i + k] === b)) return;
  }
  throw new JournalFormatError(
    `Cannot open journal "${path}": it is not a journal written by this program (no LMDB header)`,
  );
}

/** Free bytes a commit leaves on the journal's filesystem at least, beyond its estimate. */
export const COMMIT_SPACE_MARGIN = 256 * 1024;

/** Bytes a commit is taken to need per record it writes (LMDB copies the pages it changes). */
const COMMIT_BYTES_PER_RECORD = 512;

/** Records a batch writes or removes, for the space it may need. */
function batchRecords(b: JournalBatch): number {
  return 1 + b.jobs.length + (b.submits?.length ?? 0) + b.tasks.length +
    (b.bulk?.length ?? 0) + b.workers.length + b.offsets.length + b.requestsDone.length +
    b.requestsForget.length + (b.queues?.length ?? 0) + (b.queuesRemoved?.length ?? 0) +
    (b.workersRemoved?.length ?? 0) * 2 + (b.jobsRemoved?.length ?? 0);
}

/**
 * Journal store in an LMDB environment directory (or file).
 *
 * @example Usage
 * ```ts
 * import { LmdbJournalStore } from "./lmdb_store.ts";
 * import { JOURNAL_VERSION, JournalVersionError } from "../store.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const batch = {
 *     meta: { format: { ...JOURNAL_VERSION }, serverUid: "u1", nextJobId: 4, nextWorkerId: 1 },
 *     jobs: [],
 *     tasks: [],
 *     workers: [],
 *     offsets: [],
 *     requestsDone: [],
 *     requestsForget: [],
 *   };
 *   const store = new LmdbJournalStore(dir);
 *   store.commit(batch);
 *   await store.flush();
 *   await store.close();
 *   const reopened = new LmdbJournalStore(dir);
 *   assert.equal(reopened.load().meta?.nextJobId, 4);
 *   // A journal of another major version is refused when it is opened.
 *   const format = { major: JOURNAL_VERSION.major + 1, minor: 0 };
 *   reopened.commit({ ...batch, meta: { ...batch.meta, format } });
 *   await reopened.close();
 *   assert.throws(() => new LmdbJournalStore(dir), JournalVersionError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class LmdbJournalStore implements JournalStore {
  #db: RootDatabase<unknown, Key>;
  readonly #path: string;
  readonly #readOnly: boolean;
  #broken = false;

  /**
   * Opens (creating) the environment at `path`: a directory holding
   * `data.mdb`, or a file of its own. With `readOnly` (`hq journal export`), nothing is
   * created or written.
   *
   * @throws {JournalVersionError} When the journal has another major format version.
   * @throws {JournalFormatError} When `path` holds something that is not an LMDB journal.
   */
  constructor(path: string, options: { readOnly?: boolean } = {}) {
    checkLmdbFile(path);
    this.#path = path;
    this.#readOnly = options.readOnly ?? false;
    this.#db = this.#open();
    const meta = this.#db.get(["m"]) as MetaRecord | undefined;
    if (meta && !READABLE_MAJORS.includes(meta.format.major)) {
      const relation = meta.format.major > JOURNAL_VERSION.major ? "newer" : "older";
      this.#db.close();
      throw new JournalVersionError(
        `Cannot open journal "${path}": format ${meta.format.major}.${meta.format.minor} is ${relation} than ${JOURNAL_VERSION.major}.${JOURNAL_VERSION.minor} and cannot be read`,
      );
    }
  }

  /** Reads every record; the server calls it once, at start. */
  load(): JournalData {
    const db = this.#db;
    const data: JournalData = {
      meta: db.get(["m"]) as MetaRecord | undefined,
      jobs: [],
      tasks: [],
      workers: [],
      offsets: [],
      requests: [],
      queues: [],
    };
    const nextQueueId = db.get(["A"]) as number | undefined;
    if (nextQueueId !== undefined) data.nextQueueId = nextQueueId;
    for (const { key, value } of db.getRange({ start: ["q"], end: ["q", Infinity] })) {
      if (key[0] === "q") data.queues!.push(value as QueueRecord);
    }
    for (const { key, value } of db.getRange({ start: ["j"], end: ["j", Infinity] })) {
      if (key[0] === "j") data.jobs.push(value as JournalData["jobs"][number]);
    }
    data.submits = [];
    for (const { key, value } of db.getRange({ start: ["s"], end: ["s", Infinity] })) {
      if (key[0] === "s") data.submits.push(value as SubmitRecord);
    }
    for (const { key, value } of db.getRange({ start: ["t"], end: ["t", Infinity] })) {
      if (key[0] !== "t") continue;
      data.tasks.push({
        jobId: key[1] as number,
        taskId: key[2] as number,
        record: value as JournalData["tasks"][number]["record"],
      });
    }
    data.bulk = [];
    for (const { key, value } of db.getRange({ start: ["b"], end: ["b", Infinity] })) {
      if (key[0] === "b") data.bulk.push(value as BulkTasks);
    }
    for (const { key, value } of db.getRange({ start: ["w"], end: ["w", Infinity] })) {
      if (key[0] === "w") data.workers.push(value as JournalData["workers"][number]);
    }
    for (const { key, value } of db.getRange({ start: ["o"], end: ["o", Infinity] })) {
      if (key[0] !== "o") continue;
      const v = value as { segment: number; offset: number };
      data.offsets.push({ workerId: key[1] as number, segment: v.segment, offset: v.offset });
    }
    for (const { key, value } of db.getRange({ start: ["r"], end: ["r", "\uffff"] })) {
      if (key[0] === "r") data.requests.push({ key: key[1] as string, jobId: value as number });
    }
    return data;
  }

  /**
   * Forces everything committed so far to disk. Commits themselves do not
   * sync: they survive the server process being killed, and the server
   * flushes before it acknowledges a submit and about once a second.
   */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => {
      // `sync` exists at run time but is missing from lmdb's type declarations.
      const db = this.#db as unknown as { sync(cb: (error?: Error) => void): void };
      db.sync((error) => (error ? reject(error) : resolve()));
    });
  }

  /**
   * Writes a batch in one atomic transaction (see {@link LmdbJournalStore.flush}). It first
   * checks that the journal's filesystem has room for it ({@link COMMIT_SPACE_MARGIN} more
   * than an estimate of the pages it writes): LMDB's handling of a write that fails for
   * want of space can corrupt the process's memory, so a full disk is caught before LMDB
   * writes, with the error a failed write would give.
   *
   * @throws {Error} `No space left on device: ...` when the room is not there.
   */
  commit(batch: JournalBatch): void {
    const need = COMMIT_SPACE_MARGIN + batchRecords(batch) * COMMIT_BYTES_PER_RECORD;
    const free = this.#freeBytes();
    if (free !== null && free < need) {
      throw new Error(
        `No space left on device: ${free} bytes free beside the journal, a commit may need ${need} (checked before writing)`,
      );
    }
    this.#broken = true;
    const db = this.#db;
    db.transactionSync(() => {
      if (batch.meta) db.putSync(["m"], batch.meta);
      for (const j of batch.jobs) db.putSync(["j", j.id], j);
      for (const s of batch.submits ?? []) db.putSync(["s", s.jobId, s.index], s);
      for (const t of batch.tasks) db.putSync(["t", t.jobId, t.taskId], t.record);
      for (const b of batch.bulk ?? []) db.putSync(["b", b.jobId, b.ranges[0]!.start], b);
      for (const w of batch.workers) db.putSync(["w", w.id], w);
      for (const o of batch.offsets) {
        db.putSync(["o", o.workerId], { segment: o.segment, offset: o.offset });
      }
      for (const r of batch.requestsDone) db.putSync(["r", r.key], r.jobId);
      for (const k of batch.requestsForget) db.removeSync(["r", k]);
      for (const q of batch.queues ?? []) db.putSync(["q", q.id], q);
      for (const id of batch.queuesRemoved ?? []) db.removeSync(["q", id]);
      if (batch.nextQueueId !== undefined) db.putSync(["A"], batch.nextQueueId);
      for (const id of batch.workersRemoved ?? []) {
        db.removeSync(["w", id]);
        db.removeSync(["o", id]);
      }
      for (const id of batch.jobsRemoved ?? []) {
        db.removeSync(["j", id]);
        for (const key of [...db.getKeys({ start: ["s", id], end: ["s", id, Infinity] })]) {
          db.removeSync(key);
        }
        for (const key of [...db.getKeys({ start: ["t", id], end: ["t", id, Infinity] })]) {
          db.removeSync(key);
        }
        for (const key of [...db.getKeys({ start: ["b", id], end: ["b", id, Infinity] })]) {
          db.removeSync(key);
        }
      }
    });
    this.#broken = false;
  }

  /** Free bytes for an unprivileged writer on the journal's filesystem; null when unknown. */
  #freeBytes(): number | null {
    for (const at of [this.#path, dirname(this.#path)]) {
      try {
        const st = statfsSync(at);
        return Number(st.bavail) * Number(st.bsize);
      } catch {
        // not there: its folder
      }
    }
    return null;
  }

  /**
   * Closes and reopens the environment after a failed write (a full disk): LMDB's state after
   * a failed write transaction is not to be written through again; a fresh environment
   * starts from the last committed transaction. Nothing to do when the failure was the space
   * check of {@link LmdbJournalStore.commit}, before LMDB wrote.
   */
  async recover(): Promise<void> {
    if (!this.#broken) return;
    try {
      await this.#db.close();
    } catch {
      // Closing a broken environment may fail; it is replaced either way.
    }
    this.#db = this.#open();
    this.#broken = false;
  }

  #open(): RootDatabase<unknown, Key> {
    return open<unknown, Key>({
      path: this.#path,
      compression: false,
      encoding: "msgpack",
      noSync: true,
      ...(this.#readOnly ? { readOnly: true } : {}),
    });
  }

  /** Closes the LMDB environment; the store cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#db.close();
  }
}
