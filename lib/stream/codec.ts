/**
 * Records of a stream file and their codec (pure: no I/O).
 *
 * A stream file holds framed records ({@link encodeRecords} of `lib/protocol`, one JSON text
 * per line with its length and CRC-32), so a torn tail is "not yet written" and a damaged
 * record is skipped, never fatal. The first record is a {@link StreamHeader}; the others are
 * {@link StreamRecord}s of any number of tasks, in the order the worker wrote them:
 *
 * ```text
 * {"k":"header","v":1,"server":"<uid>","worker":3,"part":0,"at":1767225600000}
 * {"k":"start","job":1,"task":7,"inst":0,"at":1767225600012}
 * {"k":"out","job":1,"task":7,"inst":0,"ch":0,"at":1767225600020,"text":"hello\n"}
 * {"k":"out","job":1,"task":7,"inst":0,"ch":1,"at":1767225600021,"b64":"/w=="}
 * {"k":"end","job":1,"task":7,"inst":0,"at":1767225600030}
 * ```
 *
 * `ch` is the channel, 0 for stdout and 1 for stderr (as HyperQueue numbers them); output is
 * `text` when it is valid UTF-8, else `b64` (base64). `at` is the worker's clock, ms.
 *
 * @module
 */
import { type CorruptRecord, decodeRecords, encodeRecords } from "../protocol/mod.ts";

/** Version of the stream file format, the `v` of its header; bump on an incompatible change. */
export const STREAM_FORMAT_VERSION = 1;

/** Name ending of stream files (HyperQueue's suffix; the format is this project's). */
export const STREAM_FILE_SUFFIX = ".hqs";

/** A channel of a task: 0 is stdout, 1 is stderr. */
export type ChannelId = 0 | 1;

/** Name of a channel. */
export type ChannelName = "stdout" | "stderr";

/** First record of a stream file: who writes it. */
export interface StreamHeader {
  k: "header";
  /** Format version ({@link STREAM_FORMAT_VERSION}). */
  v: number;
  /** Server uid of the worker that writes the file. */
  server: string;
  /** Worker id. */
  worker: number;
  /** Part number: a worker process starts at 0 and counts up when it rotates to a new file. */
  part: number;
  /** When the file was created (worker clock, ms). */
  at: number;
}

/** Which instance of which task a record belongs to. */
export interface StreamTaskRef {
  job: number;
  task: number;
  /** Instance id (`HQ_INSTANCE_ID`). */
  inst: number;
}

/** A chunk of output, as `text` (valid UTF-8) or `b64` (anything else). */
export type StreamOutputRecord = StreamTaskRef & {
  k: "out";
  ch: ChannelId;
  at: number;
  text?: string;
  b64?: string;
};

/** A record after the header. */
export type StreamRecord =
  /** The instance started streaming. */
  | StreamTaskRef & { k: "start"; at: number }
  | StreamOutputRecord
  /** The instance's streams are closed: everything it wrote is above. */
  | StreamTaskRef & { k: "end"; at: number };

const utf8 = new TextEncoder();
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Base64 of `bytes`.
 *
 * @example Usage
 * ```ts
 * import { decodeBase64, encodeBase64 } from "./codec.ts";
 * import assert from "node:assert/strict";
 * assert.equal(encodeBase64(new Uint8Array([255, 0, 10])), "/wAK");
 * assert.deepEqual(decodeBase64("/wAK"), new Uint8Array([255, 0, 10]));
 * ```
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Bytes of base64 `text`. @throws {SyntaxError} When it is not base64. */
export function decodeBase64(text: string): Uint8Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new SyntaxError("Cannot decode base64 output: invalid characters");
  }
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Where an incomplete UTF-8 sequence at the end of `bytes` starts (`bytes.length` when the
 * end is complete): a pipe may split a character, whose rest comes with the next read.
 *
 * @example Usage
 * ```ts
 * import { utf8CompleteLength } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const euro = new TextEncoder().encode("a€"); // 61 e2 82 ac
 * assert.equal(utf8CompleteLength(euro), 4);
 * assert.equal(utf8CompleteLength(euro.subarray(0, 3)), 1);
 * ```
 */
export function utf8CompleteLength(bytes: Uint8Array): number {
  const n = bytes.length;
  // A character has at most 4 bytes: look back at most 3 for its lead byte.
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? n - back : n;
  }
  return n;
}

/**
 * The output record of a chunk: `text` when the bytes are valid UTF-8, else `b64`.
 *
 * @example Usage
 * ```ts
 * import { outputRecord } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const ref = { job: 1, task: 2, inst: 0 };
 * assert.deepEqual(outputRecord(ref, 0, new TextEncoder().encode("hi\n"), 5), {
 *   k: "out", job: 1, task: 2, inst: 0, ch: 0, at: 5, text: "hi\n",
 * });
 * assert.equal(outputRecord(ref, 1, new Uint8Array([0xff]), 5).b64, "/w==");
 * ```
 */
export function outputRecord(
  ref: StreamTaskRef,
  channel: ChannelId,
  bytes: Uint8Array,
  at: number,
): StreamOutputRecord {
  const base = { k: "out" as const, job: ref.job, task: ref.task, inst: ref.inst, ch: channel, at };
  try {
    return { ...base, text: fatalUtf8.decode(bytes) };
  } catch {
    return { ...base, b64: encodeBase64(bytes) };
  }
}

/** The bytes of an output record. @throws {SyntaxError} When its `b64` is not base64. */
export function outputBytes(record: { text?: string; b64?: string }): Uint8Array {
  if (record.text !== undefined) return utf8.encode(record.text);
  return decodeBase64(record.b64 ?? "");
}

/**
 * Frames records (a header or stream records) for one append.
 *
 * @example Usage
 * ```ts
 * import { decodeStreamFile, encodeStreamRecords } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const header = { k: "header", v: 1, server: "uid", worker: 1, part: 0, at: 0 } as const;
 * const start = { k: "start", job: 1, task: 0, inst: 0, at: 1 } as const;
 * const file = decodeStreamFile(encodeStreamRecords([header, start]));
 * assert.deepEqual(file.header, header);
 * assert.deepEqual(file.records, [start]);
 * ```
 */
export function encodeStreamRecords(records: readonly (StreamHeader | StreamRecord)[]): Uint8Array {
  return encodeRecords(records.map((r) => JSON.stringify(r)));
}

/** A stream file, decoded. */
export interface DecodedStreamFile {
  /** Its header; null when it has none (see `headerError`). */
  header: StreamHeader | null;
  /**
   * Why the header is missing: `incomplete` for a file whose first record is not fully
   * written yet (an empty file, a worker that died at once), else what is wrong with it.
   */
  headerError?: string;
  /** Its records after the header, in file order. */
  records: StreamRecord[];
  /** Skipped stretches: records that failed their frame or are not stream records. */
  corrupt: CorruptRecord[];
  /** Bytes of an incomplete last record (a torn tail, or one still being written). */
  tornBytes: number;
}

function isNat(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function checkHeader(v: unknown): StreamHeader | string {
  if (typeof v !== "object" || v === null) return "header is not an object";
  const h = v as Record<string, unknown>;
  if (h.k !== "header") return "first record is not a header";
  if (!isNat(h.v)) return "header has no version";
  if (h.v !== STREAM_FORMAT_VERSION) {
    return `unsupported stream format version ${h.v} (this reader knows ${STREAM_FORMAT_VERSION})`;
  }
  if (typeof h.server !== "string" || !isNat(h.worker) || !isNat(h.part) || !isNat(h.at)) {
    return "header lacks server, worker, part or at";
  }
  return h as unknown as StreamHeader;
}

function checkRecord(v: unknown): StreamRecord | null {
  if (typeof v !== "object" || v === null) return null;
  const r = v as Record<string, unknown>;
  if (!isNat(r.job) || !isNat(r.task) || !isNat(r.inst) || !isNat(r.at)) return null;
  switch (r.k) {
    case "start":
    case "end":
      return r as unknown as StreamRecord;
    case "out":
      if (r.ch !== 0 && r.ch !== 1) return null;
      if (typeof r.text === "string" || typeof r.b64 === "string") {
        return r as unknown as StreamRecord;
      }
      return null;
    default:
      return null;
  }
}

/**
 * Decodes a stream file (or the start of one still being written): its header, its good
 * records, and what was skipped. A file whose first record is not a valid header of this
 * format has no records (`headerError` says why).
 *
 * @example Usage
 * ```ts
 * import { decodeStreamFile, encodeStreamRecords } from "./codec.ts";
 * import assert from "node:assert/strict";
 * const header = { k: "header", v: 1, server: "uid", worker: 1, part: 0, at: 0 } as const;
 * const end = { k: "end", job: 1, task: 0, inst: 0, at: 1 } as const;
 * const bytes = encodeStreamRecords([header, end, end]);
 * const torn = decodeStreamFile(bytes.subarray(0, bytes.length - 3)); // a tail cut short
 * assert.deepEqual(torn.records, [end]);
 * assert.equal(torn.tornBytes > 0, true);
 * assert.equal(decodeStreamFile(new Uint8Array()).headerError, "incomplete");
 * ```
 */
export function decodeStreamFile(bytes: Uint8Array): DecodedStreamFile {
  const { records: framed, consumed, corrupt } = decodeRecords(bytes);
  const tornBytes = bytes.length - consumed;
  const first = framed[0];
  if (first === undefined || (corrupt[0] !== undefined && corrupt[0].offset < first.offset)) {
    const headerError = corrupt.length > 0
      ? `bad header record: ${corrupt[0]!.reason}`
      : "incomplete";
    return { header: null, headerError, records: [], corrupt, tornBytes };
  }
  let header: StreamHeader | string;
  try {
    header = checkHeader(JSON.parse(first.payload));
  } catch {
    header = "header is not JSON";
  }
  if (typeof header === "string") {
    return { header: null, headerError: header, records: [], corrupt, tornBytes };
  }
  const records: StreamRecord[] = [];
  for (let i = 1; i < framed.length; i++) {
    const f = framed[i]!;
    let record: StreamRecord | null;
    try {
      record = checkRecord(JSON.parse(f.payload));
    } catch {
      record = null;
    }
    if (record === null) {
      corrupt.push({ offset: f.offset, end: f.end, reason: "not a stream record" });
    } else records.push(record);
  }
  corrupt.sort((a, b) => a.offset - b.offset);
  return { header, records, corrupt, tornBytes };
}

/**
 * The channel id of a channel name.
 *
 * @example Usage
 * ```ts
 * import { channelId } from "./codec.ts";
 * import assert from "node:assert/strict";
 * assert.equal(channelId("stderr"), 1);
 * ```
 */
export function channelId(name: ChannelName): ChannelId {
  return name === "stdout" ? 0 : 1;
}
