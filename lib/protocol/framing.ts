/**
 * Record framing for append-only channel logs (pure: no I/O).
 *
 * A record is one line of UTF-8:
 *
 * ```text
 * <len> <crc> <payload>\n
 * ```
 *
 * `payload` is a JSON text without raw newlines (what `JSON.stringify`
 * produces), `len` is the decimal byte length of the UTF-8 payload and `crc`
 * is the CRC-32 (IEEE 802.3, as in zlib) of the payload bytes as 8 lowercase
 * hex digits.
 *
 * Decoding treats a line without its terminating newline as "not yet
 * written" and leaves it unconsumed. A complete line that is malformed, has
 * the wrong length or fails its checksum is skipped and reported.
 *
 * @module
 */

import { CRC_TABLE } from "./_crc_table.ts";

/** A record decoded by {@linkcode decodeRecords}. */
export interface DecodedRecord {
  /** The payload text (a JSON text, as written). */
  payload: string;
  /** Absolute offset of the record's first byte. */
  offset: number;
  /** Absolute offset just past the record's newline. */
  end: number;
}

/** A skipped stretch of bytes reported by {@linkcode decodeRecords}. */
export interface CorruptRecord {
  /** Absolute offset of the first skipped byte. */
  offset: number;
  /** Absolute offset just past the last skipped byte. */
  end: number;
  /** Why the bytes were skipped, e.g. `checksum mismatch`. */
  reason: string;
}

/** The result of {@linkcode decodeRecords}. */
export interface DecodeResult {
  /** Good records, in order. */
  records: DecodedRecord[];
  /**
   * Number of bytes fully processed (good records and skipped corrupt
   * lines). An incomplete trailing record is not counted.
   */
  consumed: number;
  /** Skipped corrupt stretches, in order. */
  corrupt: CorruptRecord[];
}

/**
 * Thrown by {@linkcode encodeRecord} and {@linkcode encodeRecords} for a payload that cannot be
 * framed (one with a raw newline).
 *
 * @example Usage
 * ```ts
 * import { encodeRecord, RecordEncodeError } from "./framing.ts";
 * import assert from "node:assert/strict";
 * assert.throws(() => encodeRecord("two\nlines"), RecordEncodeError);
 * ```
 */
export class RecordEncodeError extends TypeError {
  /** `message` names the record's index and the start of its payload. */
  constructor(message: string) {
    super(message);
    this.name = "RecordEncodeError";
  }
}

const encoder = new TextEncoder();
// A leading byte order mark is part of the payload that was checksummed: keep it.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const NEWLINE = 10;
const SPACE = 32;
const MAX_LENGTH_DIGITS = 10;

/**
 * Computes the CRC-32 (IEEE, as in zlib and gzip) of `bytes[start..end)`.
 *
 * @example Usage
 * ```ts
 * import { crc32 } from "./framing.ts";
 * import assert from "node:assert/strict";
 * const bytes = new TextEncoder().encode("123456789");
 * assert.equal(crc32(bytes), 0xcbf43926); // the standard check value
 * assert.equal(crc32(bytes, 0, 0), 0);
 * ```
 *
 * @param bytes Input bytes.
 * @param start First byte to include.
 * @param end Byte just past the last one to include.
 * @returns The checksum as an unsigned 32-bit integer.
 */
export function crc32(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

function describe(payload: string): string {
  const shown = payload.length > 40 ? `${payload.slice(0, 40)}...` : payload;
  return JSON.stringify(shown);
}

function checkPayload(payload: string, index: number): void {
  if (typeof payload !== "string") {
    throw new RecordEncodeError(`Cannot encode record ${index}: payload is not a string`);
  }
  if (payload.includes("\n")) {
    throw new RecordEncodeError(
      `Cannot encode record ${index} ${describe(payload)}: payload contains a raw newline`,
    );
  }
}

const MAX_HEADER = MAX_LENGTH_DIGITS + 10; // "<len> <crc8> "

function writeHeader(out: Uint8Array, at: number, length: number, crc: number): number {
  const head = `${length} ${crc.toString(16).padStart(8, "0")} `;
  for (let j = 0; j < head.length; j++) out[at + j] = head.charCodeAt(j);
  return head.length;
}

/**
 * Frames a batch of payloads into one buffer, ready for a single append.
 *
 * @example Usage
 * ```ts
 * import { decodeRecords, encodeRecords } from "./framing.ts";
 * import assert from "node:assert/strict";
 * const bytes = encodeRecords(['{"a":1}', '"é"']);
 * const { records, consumed } = decodeRecords(bytes);
 * assert.deepEqual(records.map((r) => r.payload), ['{"a":1}', '"é"']);
 * assert.equal(consumed, bytes.length);
 * ```
 *
 * @param payloads JSON texts without raw newlines.
 * @returns The concatenated records.
 * @throws {RecordEncodeError} When a payload contains a raw newline.
 */
export function encodeRecords(payloads: readonly string[]): Uint8Array {
  let capacity = 0;
  for (let i = 0; i < payloads.length; i++) {
    const payload = payloads[i]!;
    checkPayload(payload, i);
    capacity += payload.length * 3 + MAX_HEADER + 1;
  }
  const out = new Uint8Array(capacity);
  let pos = 0;
  for (const payload of payloads) {
    // Encode the payload after room for the longest header, then slide it
    // left to sit right after the actual header.
    const bodyAt = pos + MAX_HEADER;
    const { written } = encoder.encodeInto(payload, out.subarray(bodyAt));
    const headLength = writeHeader(out, pos, written, crc32(out, bodyAt, bodyAt + written));
    out.copyWithin(pos + headLength, bodyAt, bodyAt + written);
    pos += headLength + written;
    out[pos++] = NEWLINE;
  }
  return out.subarray(0, pos);
}

/**
 * Frames one payload as a record.
 *
 * @example Usage
 * ```ts
 * import { encodeRecord } from "./framing.ts";
 * import assert from "node:assert/strict";
 * const line = new TextDecoder().decode(encodeRecord("{}"));
 * assert.match(line, /^2 [0-9a-f]{8} \{\}\n$/);
 * ```
 *
 * @param payload A JSON text without raw newlines.
 * @returns The record bytes, ending in a newline.
 * @throws {RecordEncodeError} When the payload contains a raw newline.
 */
export function encodeRecord(payload: string): Uint8Array {
  return encodeRecords([payload]);
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48; // 0-9
  if (byte >= 97 && byte <= 102) return byte - 87; // a-f
  return -1;
}

/**
 * Checks the line `bytes[start..newline)`. Returns the offset where its
 * payload starts, or a reason string when the line is corrupt.
 */
function parseLine(
  bytes: Uint8Array,
  start: number,
  newline: number,
): number | string {
  let i = start;
  let length = 0;
  while (i < newline && i - start <= MAX_LENGTH_DIGITS) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) break;
    length = length * 10 + d;
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > MAX_LENGTH_DIGITS || (digits > 1 && bytes[start] === 48)) {
    return "malformed header: bad length";
  }
  if (bytes[i] !== SPACE) return "malformed header: bad length";
  i++;
  if (i + 9 > newline) return "malformed header: bad checksum field";
  let crc = 0;
  for (let k = 0; k < 8; k++) {
    const h = hexValue(bytes[i + k]!);
    if (h < 0) return "malformed header: bad checksum field";
    crc = crc * 16 + h;
  }
  i += 8;
  if (bytes[i] !== SPACE) return "malformed header: bad checksum field";
  i++;
  const actual = newline - i;
  if (actual !== length) {
    return `length mismatch: header says ${length} bytes, line has ${actual}`;
  }
  if (crc32(bytes, i, newline) !== crc) return "checksum mismatch";
  return i;
}

/**
 * Decodes the complete records in `bytes`.
 *
 * @example Usage
 * ```ts
 * import { decodeRecords, encodeRecord } from "./framing.ts";
 * import assert from "node:assert/strict";
 * const good = encodeRecord('{"n":1}');
 * const damaged = encodeRecord('{"n":2}');
 * damaged[damaged.length - 2] = 0x20; // flip a payload byte: the checksum no longer fits
 * const partial = encodeRecord('{"n":3}').subarray(0, 5); // a record still being written
 * const bytes = new Uint8Array([...good, ...damaged, ...partial]);
 * const result = decodeRecords(bytes, 100);
 * assert.deepEqual(result.records.map((r) => [r.payload, r.offset]), [['{"n":1}', 100]]);
 * assert.deepEqual(result.corrupt.map((c) => c.reason), ["checksum mismatch"]);
 * // The partial record is left for a later read.
 * assert.equal(result.consumed, good.length + damaged.length);
 * ```
 *
 * - A trailing record without its newline is incomplete ("not yet written"):
 *   it is not consumed, so the caller reads it again later.
 * - A complete line whose header does not parse, whose length disagrees with
 *   the line, or whose checksum fails is skipped (through its newline) and
 *   reported in `corrupt`.
 * - A run of NUL bytes at the start of a line (a hole left in a sparse file by
 *   a crash) is reported and skipped; decoding resumes at the first non-NUL
 *   byte of the line. A NUL run with no newline after it is incomplete.
 *
 * @param bytes Bytes read from a channel log.
 * @param baseOffset Absolute offset of `bytes[0]` in the log; added to every
 *   offset in the result.
 * @returns Records, corrupt stretches and the number of bytes consumed.
 */
export function decodeRecords(bytes: Uint8Array, baseOffset = 0): DecodeResult {
  const records: DecodedRecord[] = [];
  const corrupt: CorruptRecord[] = [];
  const n = bytes.length;
  // Fast path: when the whole buffer decodes to a string of the same length,
  // every byte became exactly one UTF-16 unit (no multi-byte sequences), so
  // byte offsets are string indices and payloads can be sliced out of it.
  const whole = n > 0 ? decoder.decode(bytes) : "";
  const sliceable = whole.length === n;
  let pos = 0;
  while (pos < n) {
    const newline = bytes.indexOf(NEWLINE, pos);
    if (newline < 0) break;
    if (bytes[pos] === 0) {
      let q = pos + 1;
      while (q < newline && bytes[q] === 0) q++;
      const end = q === newline ? newline + 1 : q;
      corrupt.push({
        offset: baseOffset + pos,
        end: baseOffset + end,
        reason: "NUL bytes (hole in a sparse file)",
      });
      pos = end;
      continue;
    }
    const payloadStart = parseLine(bytes, pos, newline);
    if (typeof payloadStart === "string") {
      corrupt.push({
        offset: baseOffset + pos,
        end: baseOffset + newline + 1,
        reason: payloadStart,
      });
    } else {
      records.push({
        payload: sliceable
          ? whole.slice(payloadStart, newline)
          : decoder.decode(bytes.subarray(payloadStart, newline)),
        offset: baseOffset + pos,
        end: baseOffset + newline + 1,
      });
    }
    pos = newline + 1;
  }
  return { records, consumed: pos, corrupt };
}
