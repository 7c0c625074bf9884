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
 * @example Usage
 * ```ts
 * import { ChannelReader, ChannelWriter } from "./channel_file.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const writer = new ChannelWriter(dir, "to-server");
 *   const reader = new ChannelReader(dir, "to-server");
 *   await writer.append(['{"n":1}', '{"n":2}']);
 *   const first = await reader.read();
 *   assert.deepEqual(first.records.map((r) => r.payload), ['{"n":1}', '{"n":2}']);
 *   // Each record is delivered once: a second read sees only what was appended since.
 *   await writer.append(['{"n":3}']);
 *   assert.deepEqual((await reader.read()).records.map((r) => r.payload), ['{"n":3}']);
 *   assert.deepEqual((await reader.read()).records, []);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 *
 * @module
 */

export {
  type ChannelCorruptRecord,
  ChannelNameError,
  type ChannelPosition,
  ChannelRangeError,
  type ChannelReaderOptions,
  type ChannelReadResult,
  type ChannelRecord,
  type ChannelWriterOptions,
  segmentPath,
} from "./_channel_common.ts";
export { ChannelWriter } from "./_channel_writer.ts";
export { ChannelReader } from "./_channel_reader.ts";
