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
import { open, type RootDatabase } from "lmdb";
import {
  JOURNAL_VERSION,
  type JournalBatch,
  type JournalData,
  JournalFormatError,
  type JournalStore,
  JournalVersionError,
  type MetaRecord,
  type SubmitRecord,
} from "../mod.ts";
import type { QueueRecord } from "../../autoalloc/mod.ts";

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
    if (meta && meta.format.major !== JOURNAL_VERSION.major) {
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

  /** Writes a batch in one atomic transaction (see {@link LmdbJournalStore.flush}). */
  commit(batch: JournalBatch): void {
    const db = this.#db;
    db.transactionSync(() => {
      if (batch.meta) db.putSync(["m"], batch.meta);
      for (const j of batch.jobs) db.putSync(["j", j.id], j);
      for (const s of batch.submits ?? []) db.putSync(["s", s.jobId, s.index], s);
      for (const t of batch.tasks) db.putSync(["t", t.jobId, t.taskId], t.record);
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
      }
    });
  }

  /**
   * Closes and reopens the environment after a failed write (a full disk): LMDB's state after
   * a failed write transaction is not to be written through again; a fresh environment
   * starts from the last committed transaction.
   */
  async recover(): Promise<void> {
    try {
      await this.#db.close();
    } catch {
      // Closing a broken environment may fail; it is replaced either way.
    }
    this.#db = this.#open();
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
