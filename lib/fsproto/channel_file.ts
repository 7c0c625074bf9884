/**
 * Single-writer, segmented, append-only channel logs on shared storage.
 *
 * A channel is a directory plus a base name: `workers/w1` + `to-server` gives
 * the segment files `to-server.0.log`, `to-server.1.log`, ... Each segment
 * holds framed records (see `framing.ts`). Exactly one process writes a
 * channel ({@linkcode ChannelWriter}), exactly one reads it
 * ({@linkcode ChannelReader}).
 *
 * The writer appends each batch with one open-append-close, so on NFS the
 * batch is flushed when it closes (close-to-open consistency). Once a segment
 * has grown past its size limit, the writer ends it with a rotation record
 * (payload `{"v":1,"kind":"$rotate","next":N}`) and continues in segment `N`.
 * The reader hides rotation records and follows them. Old segments are
 * deleted by the writer when told the reader has moved past them
 * ({@linkcode ChannelWriter.prototype.acknowledge}).
 *
 * The reader reopens the current segment on every read and reads from its
 * offset to end of file. Because every record is framed (length, checksum,
 * newline), an incomplete tail, including the content cut short that a
 * network filesystem can briefly return after a reopen (new data truncated to
 * an old cached size), looks like a record not yet written and is simply read
 * again on the next call.
 *
 * Payloads starting with `{"v":1,"kind":"$rotate"` are reserved for rotation
 * records and rejected by the writer.
 *
 * @module
 */

import { decodeRecords, encodeRecords } from "./framing.ts";
import { appendBytes, readFrom } from "./fs_util.ts";

/** A place in a channel: a segment number and a byte offset within it. */
export type ChannelPosition = { segment: number; offset: number };

/** Options for {@linkcode ChannelWriter}. */
export interface ChannelWriterOptions {
  /**
   * Size after which the writer rotates to a new segment (checked before each
   * batch, so a segment can exceed it by one batch).
   * @default {4194304}
   */
  segmentBytes?: number;
  /**
   * Where the previous writer process left off (its last
   * {@linkcode ChannelWriter.prototype.position}). A restarted writer must pass
   * it. Before its first append the writer checks the files: it moves on to
   * later segments that exist, finishes a rotation left half done, measures
   * the real segment size, and ends a torn last line so that new records stay
   * readable.
   * @default {{ segment: 0, offset: 0 }}
   */
  start?: ChannelPosition;
}

/** Options for {@linkcode ChannelReader}. */
export interface ChannelReaderOptions {
  /**
   * How long (in milliseconds) a corrupt stretch must stay unchanged at the
   * same place before the reader skips it. With `0` it is skipped (and
   * reported) as soon as it is seen. A positive value guards against a
   * network filesystem that briefly shows a hole (zeros) where a batch still
   * being flushed will land: the reader stops before the suspect bytes,
   * re-reads them on later calls, and skips them only once they are still
   * corrupt after this long. About 1000 is sensible on NFS.
   * @default {0}
   */
  corruptGraceMs?: number;
}

/** A record delivered by {@linkcode ChannelReader.prototype.read}. */
export interface ChannelRecord {
  /** The payload text. */
  payload: string;
  /** The position just after this record. */
  position: ChannelPosition;
}

/** A corrupt stretch skipped by {@linkcode ChannelReader.prototype.read}. */
export interface ChannelCorruptRecord {
  /** Segment that holds it. */
  segment: number;
  /** Offset of its first byte in the segment. */
  offset: number;
  /** Offset just past its last byte. */
  end: number;
  /** Why it was skipped, e.g. `checksum mismatch`. */
  reason: string;
  /** The segment file's path. */
  path: string;
}

/** The result of {@linkcode ChannelReader.prototype.read}. */
export interface ChannelReadResult {
  /** New records, in order; rotation records are not included. */
  records: ChannelRecord[];
  /** Corrupt stretches skipped in this call. */
  corrupt: ChannelCorruptRecord[];
  /** The reader's position after this call. */
  position: ChannelPosition;
  /** Segments fully consumed (rotated past) in this call. */
  rotatedPast: number[];
}

/** Thrown for a channel name or directory that cannot be used. */
export class ChannelNameError extends TypeError {
  /** Creates the error with a message that names the input. */
  constructor(message: string) {
    super(message);
    this.name = "ChannelNameError";
  }
}

/** Thrown for a position, segment number or size out of range. */
export class ChannelRangeError extends RangeError {
  /** Creates the error with a message that names the input. */
  constructor(message: string) {
    super(message);
    this.name = "ChannelRangeError";
  }
}

const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
const ROTATE_PREFIX = '{"v":1,"kind":"$rotate"';
const NEWLINE_BYTES = new Uint8Array([10]);
const TAIL_BYTES = 512;

function checkName(dir: string, name: string): void {
  if (typeof dir !== "string" || dir === "") {
    throw new ChannelNameError(`Cannot use channel directory ${JSON.stringify(dir)}: empty`);
  }
  if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new ChannelNameError(
      `Cannot use channel name ${JSON.stringify(name)}: use letters, digits, "_", "-" and "."`,
    );
  }
}

function checkPosition(position: ChannelPosition, what: string): ChannelPosition {
  const { segment, offset } = position;
  if (!Number.isSafeInteger(segment) || segment < 0) {
    throw new ChannelRangeError(
      `Cannot use ${what} segment ${segment}: not a non-negative integer`,
    );
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ChannelRangeError(`Cannot use ${what} offset ${offset}: not a non-negative integer`);
  }
  return { segment, offset };
}

function segmentPath(dir: string, name: string, segment: number): string {
  return `${dir}/${name}.${segment}.log`;
}

function rotationPayload(next: number): string {
  return JSON.stringify({ v: 1, kind: "$rotate", next });
}

/** Returns the `next` segment of a rotation record, or `undefined` when it is malformed. */
function rotationTarget(payload: string, segment: number): number | undefined {
  try {
    const parsed: unknown = JSON.parse(payload);
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const next = (parsed as { next?: unknown }).next;
    if (typeof next === "number" && Number.isSafeInteger(next) && next > segment) return next;
  } catch {
    // Malformed: reported by the caller.
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * Appends batches of records to a channel; the only writer of its files.
 *
 * Appends are serialized: concurrent calls run one after another.
 */
export class ChannelWriter {
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
      await this.#write(encodeRecords([rotationPayload(next)]));
      this.#segment = next;
      this.#size = 0;
      this.#prefix = undefined;
    }
    await this.#write(bytes);
  }

  /** Appends to the current segment; on failure the size is unknown, so re-check next time. */
  async #write(bytes: Uint8Array): Promise<void> {
    const data = this.#prefix === undefined ? bytes : concat(this.#prefix, bytes);
    try {
      await appendBytes(this.#path(this.#segment), data);
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
    let segment = this.#segment;
    if (!(await exists(this.#path(segment)))) {
      segment = Math.max(segment, await this.#highestListed());
    }
    while (await exists(this.#path(segment + 1))) segment++;
    if (segment !== this.#segment) {
      this.#segment = segment;
      this.#size = 0;
    }
    const path = this.#path(segment);
    let from = Math.max(0, this.#size - TAIL_BYTES);
    let tail = await readFrom(path, from);
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

  /** Highest segment number among this channel's files (0 when none). */
  async #highestListed(): Promise<number> {
    let highest = 0;
    const prefix = `${this.#name}.`;
    try {
      for await (const entry of Deno.readDir(this.#dir)) {
        if (!entry.name.startsWith(prefix) || !entry.name.endsWith(".log")) continue;
        const middle = entry.name.slice(prefix.length, -4);
        if (!/^(0|[1-9][0-9]*)$/.test(middle)) continue;
        highest = Math.max(highest, Number(middle));
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return highest;
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

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
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

interface Suspect {
  segment: number;
  offset: number;
  since: number;
}

/**
 * Reads a channel: delivers each record once, in order, following rotations.
 *
 * Exactly-once processing across restarts: persist
 * {@linkcode ChannelReader.prototype.position} (or a record's `position`)
 * atomically with the effects of the records read, and create the reader
 * from that position after a restart.
 */
export class ChannelReader {
  #dir: string;
  #name: string;
  #segment: number;
  #offset: number;
  #graceMs: number;
  #suspect: Suspect | undefined;

  /**
   * Creates a reader for the channel `name` in `dir`. Touches no file until
   * the first read.
   *
   * @param dir Directory of the segment files.
   * @param name Base name of the segment files.
   * @param start Position to read from (default: start of segment 0).
   * @param options Handling of corrupt stretches.
   */
  constructor(
    dir: string,
    name: string,
    start: ChannelPosition = { segment: 0, offset: 0 },
    options: ChannelReaderOptions = {},
  ) {
    checkName(dir, name);
    const { segment, offset } = checkPosition(start, `start position of channel "${name}":`);
    const { corruptGraceMs = 0 } = options;
    if (!Number.isFinite(corruptGraceMs) || corruptGraceMs < 0) {
      throw new ChannelRangeError(
        `Cannot use corruptGraceMs ${corruptGraceMs} for channel "${name}": not a non-negative number`,
      );
    }
    this.#dir = dir;
    this.#name = name;
    this.#segment = segment;
    this.#offset = offset;
    this.#graceMs = corruptGraceMs;
  }

  /** The position after the last record delivered (or skipped). */
  get position(): ChannelPosition {
    return { segment: this.#segment, offset: this.#offset };
  }

  /**
   * Moves the reader to `position`. Records after it are delivered by the
   * next read, including ones delivered before.
   *
   * @param position Where to read next.
   */
  seek(position: ChannelPosition): void {
    const { segment, offset } = checkPosition(
      position,
      `seek position of channel "${this.#name}":`,
    );
    this.#segment = segment;
    this.#offset = offset;
    this.#suspect = undefined;
  }

  /**
   * Reads the records appended since the last call. Reopens the current
   * segment, reads to end of file, and follows rotation records into the next
   * segments. An incomplete last record is left for a later call. Returns an
   * empty result when the segment file does not exist yet.
   *
   * @returns New records, skipped corrupt stretches, the new position and the
   *   segments rotated past.
   */
  async read(): Promise<ChannelReadResult> {
    const records: ChannelRecord[] = [];
    const corrupt: ChannelCorruptRecord[] = [];
    const rotatedPast: number[] = [];
    while (true) {
      const segment = this.#segment;
      const path = segmentPath(this.#dir, this.#name, segment);
      const bytes = await readFrom(path, this.#offset);
      if (bytes === undefined || bytes.length === 0) break;
      const next = this.#consume(bytes, path, records, corrupt);
      if (next === undefined) break;
      rotatedPast.push(segment);
      this.#segment = next;
      this.#offset = 0;
    }
    return { records, corrupt, position: this.position, rotatedPast };
  }

  /**
   * Delivers the records in `bytes` (read at the current offset) and advances.
   * Returns the next segment when a rotation record was reached.
   */
  #consume(
    bytes: Uint8Array,
    path: string,
    records: ChannelRecord[],
    corrupt: ChannelCorruptRecord[],
  ): number | undefined {
    const segment = this.#segment;
    const decoded = decodeRecords(bytes, this.#offset);
    const good = decoded.records;
    const bad = decoded.corrupt;
    let g = 0;
    let b = 0;
    while (g < good.length || b < bad.length) {
      const record = good[g];
      const stretch = bad[b];
      if (record !== undefined && (stretch === undefined || record.offset < stretch.offset)) {
        g++;
        if (record.payload.startsWith(ROTATE_PREFIX)) {
          const next = rotationTarget(record.payload, segment);
          if (next !== undefined) return next;
          this.#offset = record.end;
          corrupt.push({
            segment,
            offset: record.offset,
            end: record.end,
            reason: "malformed rotation record",
            path,
          });
          continue;
        }
        this.#offset = record.end;
        records.push({ payload: record.payload, position: { segment, offset: record.end } });
        continue;
      }
      if (stretch === undefined) break;
      b++;
      if (!this.#settled(segment, stretch.offset)) return undefined;
      this.#offset = stretch.end;
      corrupt.push({
        segment,
        offset: stretch.offset,
        end: stretch.end,
        reason: stretch.reason,
        path,
      });
    }
    // Records and skipped stretches tile the consumed bytes, so the offset is
    // now at the end of what was consumed; an incomplete tail waits.
    return undefined;
  }

  /** Whether a corrupt stretch at this place has been seen for at least the grace period. */
  #settled(segment: number, offset: number): boolean {
    if (this.#graceMs === 0) return true;
    const now = Date.now();
    const suspect = this.#suspect;
    if (suspect !== undefined && suspect.segment === segment && suspect.offset === offset) {
      if (now - suspect.since >= this.#graceMs) {
        this.#suspect = undefined;
        return true;
      }
      return false;
    }
    this.#suspect = { segment, offset, since: now };
    return false;
  }
}
