/**
 * The writing side of a channel log (see `channel_file.ts`).
 *
 * @module
 */
import { decodeRecords, encodeRecords } from "../mod.ts";
import { appendBytes, readFrom } from "./fs_util.ts";
import { KeptFile } from "./_kept_file.ts";
import { concatBytes } from "../../common/mod.ts";
import {
  ChannelNameError,
  type ChannelPosition,
  ChannelRangeError,
  type ChannelWriterOptions,
  checkName,
  checkPosition,
  DEFAULT_SEGMENT_BYTES,
  exists,
  NEWLINE_BYTES,
  ROTATE_PREFIX,
  rotationPayload,
  rotationTarget,
  segmentPath,
  TAIL_BYTES,
} from "./_channel_common.ts";

/**
 * Appends batches of records to a channel; the only writer of its files.
 *
 * Appends are serialized: concurrent calls run one after another.
 *
 * @example Rotation and acknowledgement
 * ```ts
 * import { ChannelReader, ChannelWriter } from "./channel_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   // A tiny segment size, so that every batch after the first starts a new segment.
 *   const writer = new ChannelWriter(dir, "log", { segmentBytes: 1 });
 *   await writer.append(['"a"']);
 *   await writer.append(['"b"']);
 *   assert.equal(writer.position.segment, 1);
 *   const reader = new ChannelReader(dir, "log");
 *   const result = await reader.read();
 *   assert.deepEqual(result.records.map((r) => r.payload), ['"a"', '"b"']);
 *   assert.deepEqual(result.rotatedPast, [0]);
 *   // Told that the reader has moved past segment 0, the writer deletes it.
 *   await writer.acknowledge(1);
 *   const files = [...Deno.readDirSync(dir)].map((e) => e.name);
 *   assert.deepEqual(files, ["log.1.log"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ChannelWriter {
  #kept: KeptFile | null;
  #syncData: boolean;
  #dir: string;
  #name: string;
  #segmentBytes: number;
  #segment: number;
  #size: number;
  /** Whether the files have been checked since construction or a failed write. */
  #checked = false;
  /** Bytes to put before the next write to the current segment (ends a torn line). */
  #prefix: Uint8Array | undefined;
  /** Lowest segment that may still exist. */
  #lowest: number | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Creates a writer for the channel `name` in `dir`. Touches no file until
   * the first append.
   *
   * @param dir Directory of the segment files; must exist.
   * @param name Base name of the segment files.
   * @param options Segment size and start position.
   */
  constructor(dir: string, name: string, options: ChannelWriterOptions = {}) {
    checkName(dir, name);
    const { segmentBytes = DEFAULT_SEGMENT_BYTES, start = { segment: 0, offset: 0 } } = options;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new ChannelRangeError(
        `Cannot use segmentBytes ${segmentBytes} for channel "${name}": not a positive integer`,
      );
    }
    const checked = checkPosition(start, `start position of channel "${name}":`);
    this.#dir = dir;
    this.#name = name;
    this.#segmentBytes = segmentBytes;
    this.#segment = checked.segment;
    this.#size = checked.offset;
    this.#kept = options.keepOpen ? new KeptFile() : null;
    this.#syncData = options.syncData ?? false;
  }

  /** Releases a kept-open file (see `keepOpen`). */
  close(): void {
    this.#kept?.close();
  }

  /**
   * Where the next append will go: the end of the current segment (as far as
   * this writer knows; before the first append, the `start` it was given).
   * Persist it to restart the writer later with the `start` option.
   */
  get position(): ChannelPosition {
    return { segment: this.#segment, offset: this.#size };
  }

  /**
   * Appends `payloads` as one batch with a single open-append-close. First
   * rotates to a new segment when the current one has grown past
   * `segmentBytes`. An empty batch writes nothing.
   *
   * @param payloads JSON texts without raw newlines.
   * @throws {RecordEncodeError} When a payload contains a raw newline.
   * @throws {ChannelNameError} When a payload looks like a rotation record.
   */
  append(payloads: readonly string[]): Promise<void> {
    for (const payload of payloads) {
      if (typeof payload === "string" && payload.startsWith(ROTATE_PREFIX)) {
        return Promise.reject(
          new ChannelNameError(
            `Cannot append ${JSON.stringify(payload)} to channel "${this.#name}": ` +
              `payloads starting with ${ROTATE_PREFIX} are reserved`,
          ),
        );
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeRecords(payloads);
    } catch (error) {
      return Promise.reject(error);
    }
    if (bytes.length === 0) return Promise.resolve();
    return this.#serialize(() => this.#appendBytes(bytes));
  }

  /**
   * Deletes every segment file numbered below `segment` that still exists:
   * the reader has moved past them. Never deletes the segment being written.
   *
   * @param segment First segment to keep.
   */
  acknowledge(segment: number): Promise<void> {
    if (!Number.isSafeInteger(segment) || segment < 0) {
      return Promise.reject(
        new ChannelRangeError(
          `Cannot acknowledge segment ${segment} of channel "${this.#name}": ` +
            "not a non-negative integer",
        ),
      );
    }
    return this.#serialize(() => this.#acknowledge(segment));
  }

  #serialize(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }

  #path(segment: number): string {
    return segmentPath(this.#dir, this.#name, segment);
  }

  async #appendBytes(bytes: Uint8Array): Promise<void> {
    if (!this.#checked) await this.#check();
    if (this.#size >= this.#segmentBytes) {
      const next = this.#segment + 1;
      // The new segment exists before the record that points to it: a reader on a network
      // mount that looked for it too early would cache "no such file" for a while.
      await appendBytes(this.#path(next), new Uint8Array(0));
      await this.#write(encodeRecords([rotationPayload(next)]));
      this.#segment = next;
      this.#size = 0;
      this.#prefix = undefined;
    }
    await this.#write(bytes);
  }

  /** Appends to the current segment; on failure the size is unknown, so re-check next time. */
  async #write(bytes: Uint8Array): Promise<void> {
    const data = this.#prefix === undefined ? bytes : concatBytes([this.#prefix, bytes]);
    try {
      if (this.#kept) this.#kept.append(this.#path(this.#segment), data);
      else await appendBytes(this.#path(this.#segment), data, { syncData: this.#syncData });
    } catch (error) {
      this.#checked = false;
      throw error;
    }
    this.#prefix = undefined;
    this.#size += data.length;
  }

  /**
   * Finds the real end of the channel after a restart (or a failed write):
   * later segments that exist, a rotation written without its new segment,
   * the real size of the current segment, and a torn last line.
   */
  async #check(): Promise<void> {
    // One listing rather than a lookup per file: each lookup of a missing file costs an
    // exception, and a server answering a new client pays for several.
    const listed = this.#listed();
    let segment = this.#segment;
    if (!listed.has(segment)) { for (const n of listed) segment = Math.max(segment, n); }
    while (listed.has(segment + 1)) segment++;
    if (segment !== this.#segment) {
      this.#segment = segment;
      this.#size = 0;
    }
    const path = this.#path(segment);
    let from = Math.max(0, this.#size - TAIL_BYTES);
    let tail = listed.has(segment) ? await readFrom(path, from) : undefined;
    if (tail !== undefined && tail.length === 0 && from > 0) {
      from = 0;
      tail = await readFrom(path, 0);
    }
    this.#prefix = undefined;
    if (tail === undefined || from + tail.length === 0) {
      this.#size = 0;
      this.#checked = true;
      return;
    }
    this.#size = from + tail.length;
    if (tail[tail.length - 1] !== 10) {
      this.#prefix = NEWLINE_BYTES;
    } else {
      const next = lastRotation(tail, from === 0, segment);
      if (next !== undefined) {
        this.#segment = next;
        this.#size = 0;
      }
    }
    this.#checked = true;
  }

  /** Numbers of this channel's segment files (none when the folder is missing). */
  #listed(): Set<number> {
    const listed = new Set<number>();
    const prefix = `${this.#name}.`;
    try {
      for (const entry of Deno.readDirSync(this.#dir)) {
        if (!entry.name.startsWith(prefix) || !entry.name.endsWith(".log")) continue;
        const middle = entry.name.slice(prefix.length, -4);
        if (/^(0|[1-9][0-9]*)$/.test(middle)) listed.add(Number(middle));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return listed;
  }

  async #acknowledge(segment: number): Promise<void> {
    const limit = Math.min(segment, this.#segment);
    if (this.#lowest !== undefined && this.#lowest >= limit) return;
    let low = limit;
    // Segments are deleted oldest first, so the ones left form a run ending at
    // the current segment: find its start, then delete upwards.
    const floor = this.#lowest ?? 0;
    while (low > floor && await exists(this.#path(low - 1))) low--;
    for (let s = low; s < limit; s++) {
      try {
        await Deno.remove(this.#path(s));
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      this.#lowest = s + 1;
    }
    this.#lowest = limit;
  }
}

/**
 * Returns the `next` segment when the last complete line of `tail` is a
 * rotation record. `atStart` says whether `tail` starts at a line boundary.
 */
function lastRotation(tail: Uint8Array, atStart: boolean, segment: number): number | undefined {
  const lastNewline = tail.length - 1;
  const previous = lastNewline > 0 ? tail.lastIndexOf(10, lastNewline - 1) : -1;
  if (previous < 0 && !atStart) return undefined;
  const decoded = decodeRecords(tail.subarray(previous + 1));
  const record = decoded.records[0];
  if (decoded.records.length !== 1 || record === undefined) return undefined;
  if (!record.payload.startsWith(ROTATE_PREFIX)) return undefined;
  return rotationTarget(record.payload, segment);
}
