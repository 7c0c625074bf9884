import assert from "node:assert/strict";
import {
  decodeBase64,
  decodeStreamFile,
  encodeBase64,
  encodeStreamRecords,
  outputBytes,
  outputRecord,
  STREAM_FORMAT_VERSION,
  type StreamHeader,
  type StreamRecord,
  utf8CompleteLength,
} from "./codec.ts";
import { encodeRecord } from "../protocol/mod.ts";

const HEADER: StreamHeader = { k: "header", v: 1, server: "uid", worker: 2, part: 0, at: 10 };
const REF = { job: 1, task: 5, inst: 0 };

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

Deno.test("encodeStreamRecords() and decodeStreamFile() round-trip every record kind", () => {
  const records: StreamRecord[] = [
    { k: "start", ...REF, at: 11 },
    outputRecord(REF, 0, new TextEncoder().encode('line 1\nline "2"\n'), 12),
    outputRecord(REF, 1, new Uint8Array([0, 255, 10]), 13),
    { k: "end", ...REF, at: 14 },
  ];
  const file = decodeStreamFile(encodeStreamRecords([HEADER, ...records]));
  assert.deepEqual(file.header, HEADER);
  assert.deepEqual(file.records, records);
  assert.deepEqual(file.corrupt, []);
  assert.equal(file.tornBytes, 0);
  assert.equal(
    new TextDecoder().decode(outputBytes(records[1] as { text: string })),
    'line 1\nline "2"\n',
  );
  assert.deepEqual(outputBytes(records[2] as { b64: string }), new Uint8Array([0, 255, 10]));
});

Deno.test("decodeStreamFile() leaves a torn tail unread and skips a damaged record", () => {
  const a = outputRecord(REF, 0, new TextEncoder().encode("a\n"), 1);
  const b = outputRecord(REF, 0, new TextEncoder().encode("b\n"), 2);
  const c = outputRecord(REF, 0, new TextEncoder().encode("c\n"), 3);
  const damaged = encodeStreamRecords([b]);
  damaged[damaged.length - 4] = damaged[damaged.length - 4]! ^ 1; // a payload byte: bad checksum
  const torn = encodeStreamRecords([c]).subarray(0, 9);
  const file = decodeStreamFile(concat(encodeStreamRecords([HEADER, a]), damaged, torn));
  assert.deepEqual(file.records, [a]);
  assert.deepEqual(file.corrupt.map((x) => x.reason), ["checksum mismatch"]);
  assert.equal(file.tornBytes, 9);
});

Deno.test("decodeStreamFile() refuses files without a valid header of this version", () => {
  assert.equal(decodeStreamFile(new Uint8Array()).headerError, "incomplete");
  // HyperQueue's own binary stream file.
  assert.match(
    decodeStreamFile(new TextEncoder().encode("hqsf0000\x01\x02\n")).headerError!,
    /^bad header record/,
  );
  const newer = encodeStreamRecords([{ ...HEADER, v: STREAM_FORMAT_VERSION + 1 }]);
  assert.match(decodeStreamFile(newer).headerError!, /unsupported stream format version 2/);
  const noHeader = encodeStreamRecords([{ k: "start", ...REF, at: 1 }]);
  assert.equal(decodeStreamFile(noHeader).headerError, "first record is not a header");
  assert.deepEqual(decodeStreamFile(noHeader).records, []);
});

Deno.test("decodeStreamFile() reports well-framed records that are not stream records", () => {
  const bytes = concat(
    encodeStreamRecords([HEADER]),
    encodeRecord('{"k":"out","job":1,"task":2,"inst":0,"ch":7,"at":1,"text":"x"}'),
    encodeRecord("not json"),
    encodeStreamRecords([{ k: "end", ...REF, at: 2 }]),
  );
  const file = decodeStreamFile(bytes);
  assert.deepEqual(file.records, [{ k: "end", ...REF, at: 2 }]);
  assert.deepEqual(file.corrupt.map((c) => c.reason), [
    "not a stream record",
    "not a stream record",
  ]);
});

Deno.test("utf8CompleteLength() holds back only an incomplete final character", () => {
  const enc = new TextEncoder();
  const text = enc.encode("x€😀");
  for (let cut = 0; cut <= text.length; cut++) {
    const part = text.subarray(0, cut);
    const complete = utf8CompleteLength(part);
    assert.ok(complete <= cut);
    assert.doesNotThrow(() =>
      new TextDecoder("utf-8", { fatal: true }).decode(part.subarray(0, complete))
    );
    assert.ok(cut - complete < 4);
  }
  assert.equal(utf8CompleteLength(enc.encode("abc")), 3);
  assert.equal(utf8CompleteLength(new Uint8Array()), 0);
});

Deno.test("encodeBase64() round-trips large binary chunks", () => {
  const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
  assert.deepEqual(decodeBase64(encodeBase64(bytes)), bytes);
  assert.throws(() => decodeBase64("!!"), SyntaxError);
});
