/**
 * The reading side of a channel log (see `channel_file.ts`).
 *
 * @module
 */
import { decodeRecords } from "../mod.ts";
import { readFreshFrom, readFrom } from "./fs_util.ts";
import { KeptFile } from "./_kept_file.ts";
import { ForeignFileError } from "./owned_file.ts";
import {
  type ChannelCorruptRecord,
  type ChannelPosition,
  ChannelRangeError,
  type ChannelReaderOptions,
  type ChannelReadResult,
  type ChannelRecord,
  checkName,
  checkPosition,
  ROTATE_PREFIX,
  rotationTarget,
  segmentPath,
} from "./_channel_common.ts";

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
 *
 * @example Restart from a saved position
 * ```ts
 * import { ChannelReader, ChannelWriter } from "./channel_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ChannelWriter(dir, "replies");
 *   await writer.append(['"one"', '"two"']);
 *   const reader = new ChannelReader(dir, "replies");
 *   const { records } = await reader.read();
 *   const saved = records[0]!.position; // only "one" was processed
 *   const restarted = new ChannelReader(dir, "replies", saved);
 *   assert.deepEqual((await restarted.read()).records.map((r) => r.payload), ['"two"']);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class ChannelReader {
  #kept: KeptFile | null = null;
  #dir: string;
  #name: string;
  #segment: number;
  #offset: number;
  #graceMs: number;
  #suspect: Suspect | undefined;
  #refused: string | undefined;
  #fresh = false;

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
    if (options.keepOpen) this.#kept = new KeptFile();
    this.#fresh = options.networkFs ?? false;
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

  /** Releases a kept-open file (see `keepOpen`). */
  close(): void {
    this.#kept?.close();
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
      let bytes: Uint8Array | undefined;
      try {
        bytes = this.#kept
          ? this.#kept.readFrom(path, this.#offset)
          : this.#fresh
          ? await readFreshFrom(path, this.#offset)
          : await readFrom(path, this.#offset);
      } catch (error) {
        if (!(error instanceof ForeignFileError)) throw error;
        // Never read: reported once, and the channel waits for a file it may trust.
        if (this.#refused !== error.message) {
          this.#refused = error.message;
          const at = { segment, offset: this.#offset, end: this.#offset };
          corrupt.push({ ...at, reason: error.message, path });
        }
        break;
      }
      this.#refused = undefined;
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
