/**
 * Output streaming on the worker (`--stream`): the pipes of a task's streamed channels are
 * read and their chunks appended, tagged with job, task, instance and channel, to this
 * worker process's stream file in the task's stream directory (one {@link StreamWriter} per
 * directory, shared by all tasks, writing in batches).
 *
 * HyperQueue's guarantee: once a task is reported finished or failed, its output and its end
 * marker are written to the file ({@link TaskStream.finish} with `durable`), and synced
 * (`fdatasync`, for readers on other machines) within a second after; a task canceled
 * or stopped by its time limit is reported at once, its buffered output written later or
 * lost. A streaming failure fails the task with an error starting `Streamer:`.
 *
 * @module
 */
import {
  type ChannelId,
  outputRecord,
  type StreamTaskRef,
  utf8CompleteLength,
} from "../../stream/mod.ts";
import { StreamWriter, type StreamWriterOptions } from "../../stream/io/mod.ts";
import { concatBytes } from "../../common/mod.ts";

/** Options of {@link TaskStreamer}. */
export interface TaskStreamerOptions {
  /**
   * How long a task's pipes may stay open after its process ended (a background process
   * may hold them) before they are closed, ms. @default 1000
   */
  drainMs?: number;
  /** Passed to each {@link StreamWriter}. */
  writer?: Pick<StreamWriterOptions, "rotateBytes" | "flushDelayMs" | "highWaterBytes">;
}

/** Who writes: put in each stream file's header. */
export interface StreamIdentity {
  serverUid: string;
  workerId: number;
}

/** The stream files of one worker process, by directory. */
export class TaskStreamer {
  readonly #writers = new Map<string, StreamWriter>();
  readonly #drainMs: number;
  readonly #writerOptions: TaskStreamerOptions["writer"];

  /** A streamer; it creates files only when a task streams. */
  constructor(options: TaskStreamerOptions = {}) {
    this.#drainMs = options.drainMs ?? 1000;
    this.#writerOptions = options.writer;
  }

  /** Paths of every stream file created so far. */
  get files(): string[] {
    return [...this.#writers.values()].flatMap((w) => w.files);
  }

  /**
   * The stream of one task instance into `dir` (created now when missing), nothing written
   * yet: {@link TaskStream.start} writes its start marker.
   *
   * @throws {Error} With a `Streamer:` message when the directory cannot be created.
   */
  open(dir: string, ref: StreamTaskRef, who: StreamIdentity): TaskStream {
    const key = `${dir}\0${who.serverUid}\0${who.workerId}`;
    let writer = this.#writers.get(key);
    if (writer === undefined) {
      try {
        Deno.mkdirSync(dir, { recursive: true });
      } catch (e) {
        throw new Error(
          `Streamer: cannot create stream directory ${dir}: ${(e as Error).message}`,
        );
      }
      writer = new StreamWriter({ ...this.#writerOptions, dir, ...who });
      this.#writers.set(key, writer);
    }
    return new TaskStream(writer, ref, this.#drainMs);
  }

  /** Writes, syncs and closes every stream file (the worker's end). */
  async close(): Promise<void> {
    const writers = [...this.#writers.values()];
    this.#writers.clear();
    await Promise.all(writers.map((w) => w.close().catch(() => {})));
  }
}

/** The streamed channels of one task instance. */
export class TaskStream {
  readonly #writer: StreamWriter;
  readonly #ref: StreamTaskRef;
  readonly #drainMs: number;
  readonly #pumps: Promise<void>[] = [];
  readonly #readers: ReadableStreamDefaultReader<Uint8Array>[] = [];
  readonly #errorsAtStart: number;

  /** Use {@link TaskStreamer.open}. */
  constructor(writer: StreamWriter, ref: StreamTaskRef, drainMs: number) {
    this.#writer = writer;
    this.#ref = ref;
    this.#drainMs = drainMs;
    this.#errorsAtStart = writer.errorCount;
  }

  /** Writes the start marker. */
  start(): void {
    this.#writer.append([{ k: "start", ...this.#ref, at: Date.now() }]);
  }

  /** Reads `pipe` to its end, appending its output as chunks of `channel`. */
  pump(pipe: ReadableStream<Uint8Array>, channel: ChannelId): void {
    const reader = pipe.getReader();
    this.#readers.push(reader);
    this.#pumps.push(this.#pump(reader, channel));
  }

  async #pump(reader: ReadableStreamDefaultReader<Uint8Array>, channel: ChannelId): Promise<void> {
    // Bytes of a character the pipe split: they go with the next read.
    let carry: Uint8Array | null = null;
    const append = (bytes: Uint8Array) =>
      this.#writer.append([outputRecord(this.#ref, channel, bytes, Date.now())]);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const bytes: Uint8Array = carry === null ? value : concatBytes([carry, value]);
        const complete = utf8CompleteLength(bytes);
        carry = complete < bytes.length ? bytes.slice(complete) : null;
        if (complete > 0) append(bytes.subarray(0, complete));
        // Back-pressure: a task that prints faster than the disk takes waits in its pipe.
        // A failed write is counted by the writer (finish() reports it); reading goes on,
        // so that the task never blocks on a full pipe.
        if (this.#writer.pendingBytes >= 4 * 1024 * 1024) {
          await this.#writer.flush().catch(() => {});
        }
      }
    } catch {
      // Canceled after the drain time: what was read is kept.
    } finally {
      if (carry !== null) append(carry);
    }
  }

  /**
   * Ends the stream once the task's process has ended: waits for its pipes to close (at most
   * the drain time, then closes them), writes the end marker and, when `durable`, writes the
   * file so that the output is there before the task is reported.
   *
   * @throws {Error} With a `Streamer:` message when a write of this stream failed.
   */
  async finish(durable: boolean): Promise<void> {
    const pumps = Promise.all(this.#pumps);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drained = await Promise.race([
      pumps.then(() => true),
      new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), this.#drainMs)),
    ]);
    clearTimeout(timer);
    if (!drained) {
      for (const r of this.#readers) r.cancel().catch(() => {});
      await pumps;
    }
    this.#writer.append([{ k: "end", ...this.#ref, at: Date.now() }]);
    if (!durable) return;
    try {
      // Written to the file before the task's end is reported (HyperQueue's guarantee); the
      // writer's fdatasync follows within a second, shared by the tasks ending meanwhile.
      await this.#writer.flush();
    } catch (e) {
      throw new Error(`Streamer: ${(e as Error).message}`);
    }
    if (this.#writer.errorCount > this.#errorsAtStart) {
      throw new Error(`Streamer: ${this.#writer.lastError?.message ?? "a write failed"}`);
    }
  }
}
