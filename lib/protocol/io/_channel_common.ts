/**
 * Types, errors and helpers shared by the channel writer and reader
 * (see `channel_file.ts`).
 *
 * @module
 */

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
   * Keep the current segment open between appends. Only for a local
   * filesystem: on a network filesystem every batch must be its own
   * open-append-close. The owner must call `close()`.
   * @default {false}
   */
  keepOpen?: boolean;
  /**
   * Flush each batch's data (`fdatasync`) before the file is closed, so that a failure
   * the filesystem reports late is seen: NFS reports a full quota at close, which Deno
   * cannot see. On NFS the close flushes the same data anyway. Ignored with `keepOpen`.
   * @default {false}
   */
  syncData?: boolean;
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
  /**
   * Keep the current segment open between reads. Only for a local
   * filesystem: on a network filesystem every read must reopen the file.
   * The owner must call `close()`.
   * @default {false}
   */
  keepOpen?: boolean;
  /**
   * The channel lives on a network filesystem: every read opens the file without looking its
   * path up first and reads from the start of a page (`readFreshFrom`), so that appends from
   * other hosts are seen at once rather than up to a second later.
   * @default {false}
   */
  networkFs?: boolean;
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

/** Default size in bytes at which a segment rotates (4 MiB). */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024;
/** Start of every rotation record; the writer refuses payloads that begin with it. */
export const ROTATE_PREFIX = '{"v":1,"kind":"$rotate"';
/** A newline, as bytes. */
export const NEWLINE_BYTES = new Uint8Array([10]);
/** How much of a segment's end, in bytes, the writer reads back when it starts. */
export const TAIL_BYTES = 512;

/**
 * Checks a channel's directory (non-empty) and base name (letters, digits, `_`, `-`, `.`).
 *
 * @throws {ChannelNameError} When either cannot be used.
 */
export function checkName(dir: string, name: string): void {
  if (typeof dir !== "string" || dir === "") {
    throw new ChannelNameError(`Cannot use channel directory ${JSON.stringify(dir)}: empty`);
  }
  if (typeof name !== "string" || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
    throw new ChannelNameError(
      `Cannot use channel name ${JSON.stringify(name)}: use letters, digits, "_", "-" and "."`,
    );
  }
}

/**
 * Checks that a position holds non-negative safe integers and returns a copy; `what` names
 * the position in the error message.
 *
 * @throws {ChannelRangeError} When the segment or offset is out of range.
 */
export function checkPosition(position: ChannelPosition, what: string): ChannelPosition {
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

/** The file of one segment: `<dir>/<name>.<segment>.log`. */
export function segmentPath(dir: string, name: string, segment: number): string {
  return `${dir}/${name}.${segment}.log`;
}

/** The payload of the rotation record that ends a segment and points to segment `next`. */
export function rotationPayload(next: number): string {
  return JSON.stringify({ v: 1, kind: "$rotate", next });
}

/**
 * Returns the `next` segment of a rotation record read in `segment`, or `undefined` when it
 * is malformed or does not point past `segment`.
 */
export function rotationTarget(payload: string, segment: number): number | undefined {
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

/** Whether a path exists (not following symlinks). Synchronous inside, as `appendBytes`. */
export function exists(path: string): Promise<boolean> {
  try {
    Deno.lstatSync(path);
    return Promise.resolve(true);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return Promise.resolve(false);
    return Promise.reject(error);
  }
}
