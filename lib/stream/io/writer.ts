/**
 * The writing end of stream files: one {@link StreamWriter} per worker process and stream
 * directory appends framed records in batches (a short delay or a size threshold, never one
 * write per line), rotates to a new part at a size limit, and on {@link StreamWriter.sync}
 * writes what is pending and makes it durable (`fdatasync`) for everything appended before;
 * {@link StreamWriter.flush} writes now and syncs soon after.
 *
 * @module
 */
import {
  encodeStreamRecords,
  STREAM_FILE_SUFFIX,
  STREAM_FORMAT_VERSION,
  type StreamRecord,
} from "../mod.ts";
import { concatBytes } from "../../common/mod.ts";
import { randomToken } from "../../common/io/mod.ts";

/** Options of {@link StreamWriter}. */
export interface StreamWriterOptions {
  /** The stream directory (created when missing). */
  dir: string;
  /** Server uid written in each file's header. */
  serverUid: string;
  /** Worker id written in each file's header and name. */
  workerId: number;
  /** Size from which a file is closed and the next part begins, bytes. @default 256 MiB */
  rotateBytes?: number;
  /** Longest time appended records wait before they are written, ms. @default 20 */
  flushDelayMs?: number;
  /** Pending bytes from which they are written at once. @default 1 MiB */
  highWaterBytes?: number;
  /** Longest time between a {@link StreamWriter.flush} and the `fdatasync` after it, ms. @default 1000 */
  syncDelayMs?: number;
}

/** Default of {@link StreamWriterOptions.rotateBytes}. */
export const DEFAULT_ROTATE_BYTES = 256 * 1024 * 1024;

/** Appends records of many tasks to this process's stream files in one directory. */
export class StreamWriter {
  readonly #dir: string;
  readonly #serverUid: string;
  readonly #workerId: number;
  readonly #rotateBytes: number;
  readonly #flushDelayMs: number;
  readonly #highWaterBytes: number;
  #token = randomToken(6);
  #part = 0;
  #file: Deno.FsFile | null = null;
  #fileBytes = 0;
  #dirMade = false;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #queuedSync: Promise<void> | null = null;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #syncDelayMs: number;
  #closed = false;
  readonly #created: string[] = [];
  #errors = 0;
  #lastError: Error | null = null;

  /** A writer; it creates no file before the first write. */
  constructor(options: StreamWriterOptions) {
    this.#dir = options.dir;
    this.#serverUid = options.serverUid;
    this.#workerId = options.workerId;
    this.#rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES;
    this.#flushDelayMs = options.flushDelayMs ?? 20;
    this.#highWaterBytes = options.highWaterBytes ?? 1024 * 1024;
    this.#syncDelayMs = options.syncDelayMs ?? 1000;
  }

  /** Paths of the files this writer created, in order. */
  get files(): readonly string[] {
    return this.#created;
  }

  /** Bytes appended but not yet written. */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** How many writes failed so far (their records are lost). */
  get errorCount(): number {
    return this.#errors;
  }

  /** The last write error, if any. */
  get lastError(): Error | null {
    return this.#lastError;
  }

  /** Queues records; they are written within the flush delay, or at once above the high water. */
  append(records: readonly StreamRecord[]): void {
    if (this.#closed) throw new Error("Cannot append to a closed stream writer");
    const bytes = encodeStreamRecords(records);
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    if (this.#pendingBytes >= this.#highWaterBytes) {
      this.#enqueue(false).catch(() => {}); // Counted in errorCount; a sync reports it.
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#enqueue(false).catch(() => {});
      }, this.#flushDelayMs);
    }
  }

  /**
   * Writes what is pending now; resolves once written (readers on this machine see it). An
   * `fdatasync` follows within the sync delay, one for every flush in between, so that
   * readers on other machines of a network filesystem see it soon too.
   */
  flush(): Promise<void> {
    if (this.#syncTimer === undefined) {
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        if (!this.#closed) this.sync().catch(() => {}); // Counted in errorCount.
      }, this.#syncDelayMs);
    }
    return this.#enqueue(false);
  }

  /**
   * Writes everything appended so far and makes it durable. Concurrent calls share one
   * write and one `fdatasync`.
   *
   * @throws {Error} When the write or the sync fails.
   */
  sync(): Promise<void> {
    this.#queuedSync ??= this.#enqueue(true);
    return this.#queuedSync;
  }

  /** Syncs and closes the current file; a later append would throw. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.sync();
    } finally {
      this.#closed = true;
      clearTimeout(this.#timer);
      this.#timer = undefined;
      clearTimeout(this.#syncTimer);
      this.#syncTimer = undefined;
      await this.#chain;
      this.#closeFile();
    }
  }

  #enqueue(sync: boolean): Promise<void> {
    const run = this.#chain.then(() => {
      if (sync) this.#queuedSync = null;
      return this.#write(sync);
    });
    this.#chain = run.catch(() => {});
    return run;
  }

  async #write(sync: boolean): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const parts = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    try {
      if (parts.length > 0) {
        const head = this.#file === null ? this.#open() : null;
        const bytes = concatBytes(head ? [head, ...parts] : parts);
        const file = this.#file!;
        for (let done = 0; done < bytes.length;) {
          done += await file.write(bytes.subarray(done));
        }
        this.#fileBytes += bytes.length;
      }
      if (this.#file !== null && (sync || this.#fileBytes >= this.#rotateBytes)) {
        await this.#file.syncData();
      }
      if (this.#fileBytes >= this.#rotateBytes) this.#closeFile();
    } catch (e) {
      // The file may end in a torn record now: what follows goes to a new part.
      this.#errors++;
      this.#lastError = e as Error;
      this.#closeFile();
      throw e;
    }
  }

  /** Opens the next part; returns its header bytes, to go first in the write. */
  #open(): Uint8Array {
    if (!this.#dirMade) {
      Deno.mkdirSync(this.#dir, { recursive: true });
      this.#dirMade = true;
    }
    for (let attempt = 0;; attempt++) {
      const path =
        `${this.#dir}/${this.#workerId}-${this.#token}.${this.#part}${STREAM_FILE_SUFFIX}`;
      try {
        this.#file = Deno.openSync(path, { write: true, append: true, createNew: true });
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists) || attempt > 3) throw e;
        this.#token = randomToken(6);
        continue;
      }
      this.#created.push(path);
      this.#fileBytes = 0;
      return encodeStreamRecords([{
        k: "header",
        v: STREAM_FORMAT_VERSION,
        server: this.#serverUid,
        worker: this.#workerId,
        part: this.#part++,
        at: Date.now(),
      }]);
    }
  }

  #closeFile(): void {
    try {
      this.#file?.close();
    } catch {
      // Already closed.
    }
    this.#file = null;
  }
}
