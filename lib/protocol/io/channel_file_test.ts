import assert from "node:assert/strict";
import {
  ChannelNameError,
  type ChannelPosition,
  ChannelReader,
  ChannelWriter,
} from "./channel_file.ts";
import { encodeRecord, encodeRecords } from "../framing.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function msg(n: number): string {
  return JSON.stringify({ kind: "finished", task: n, note: "ß✓" });
}

async function segmentFiles(dir: string, name: string): Promise<number[]> {
  const found: number[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = entry.name.match(new RegExp(`^${name}\\.(\\d+)\\.log$`));
    if (match) found.push(Number(match[1]));
  }
  return found.sort((a, b) => a - b);
}

async function readAll(reader: ChannelReader): Promise<string[]> {
  const out: string[] = [];
  while (true) {
    const result = await reader.read();
    if (result.records.length === 0) return out;
    for (const r of result.records) out.push(r.payload);
  }
}

Deno.test("ChannelReader.read() returns an empty result before the file exists", async () => {
  await withTempDir(async (dir) => {
    const reader = new ChannelReader(dir, "to-server");
    const result = await reader.read();
    assert.deepEqual(result, {
      records: [],
      corrupt: [],
      position: { segment: 0, offset: 0 },
      rotatedPast: [],
    });
  });
});

Deno.test("ChannelWriter.append() and ChannelReader.read() round-trip batches", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "to-server");
    const reader = new ChannelReader(dir, "to-server");
    await writer.append([msg(1), msg(2)]);
    const first = await reader.read();
    assert.deepEqual(first.records.map((r) => r.payload), [msg(1), msg(2)]);
    assert.deepEqual(first.position, writer.position);
    assert.deepEqual(first.records[1]!.position, writer.position);
    assert.equal((await reader.read()).records.length, 0);

    const expected: string[] = [];
    for (let b = 0; b < 50; b++) {
      const batch = Array.from({ length: b % 7 }, (_, i) => msg(b * 100 + i));
      expected.push(...batch);
      await writer.append(batch);
    }
    assert.deepEqual(await readAll(reader), expected);
    assert.deepEqual(reader.position, writer.position);
    assert.equal((await Deno.stat(`${dir}/to-server.0.log`)).mode! & 0o777, 0o600);
  });
});

Deno.test("ChannelReader.read() waits for a partial last record to be completed", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ch.0.log`;
    const writer = new ChannelWriter(dir, "ch");
    const reader = new ChannelReader(dir, "ch");
    await writer.append([msg(1)]);
    const tail = encodeRecord(msg(2));
    const half = Math.floor(tail.length / 2);
    await Deno.writeFile(path, tail.subarray(0, half), { append: true });
    const first = await reader.read();
    assert.deepEqual(first.records.map((r) => r.payload), [msg(1)]);
    assert.deepEqual(first.corrupt, []);
    assert.equal((await reader.read()).records.length, 0);
    await Deno.writeFile(path, tail.subarray(half), { append: true });
    const second = await reader.read();
    assert.deepEqual(second.records.map((r) => r.payload), [msg(2)]);
    assert.equal(second.position.offset, (await Deno.stat(path)).size);
  });
});

Deno.test("ChannelReader.read() skips and reports a corrupt record in the middle", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ch.0.log`;
    const bytes = encodeRecords([msg(1), msg(2), msg(3)]);
    const secondStart = encodeRecord(msg(1)).length;
    const secondEnd = secondStart + encodeRecord(msg(2)).length;
    bytes[secondEnd - 3] = bytes[secondEnd - 3]! ^ 0x01; // flip a bit in the second payload
    await Deno.writeFile(path, bytes);
    const reader = new ChannelReader(dir, "ch");
    const result = await reader.read();
    assert.deepEqual(result.records.map((r) => r.payload), [msg(1), msg(3)]);
    assert.deepEqual(result.corrupt, [{
      segment: 0,
      offset: secondStart,
      end: secondEnd,
      reason: "checksum mismatch",
      path,
    }]);
    assert.deepEqual(result.position, { segment: 0, offset: bytes.length });
  });
});

Deno.test("ChannelReader.read() with corruptGraceMs holds a corrupt record until it settles", async () => {
  await withTempDir(async (dir) => {
    const path = `${dir}/ch.0.log`;
    const bytes = encodeRecords([msg(1), msg(2), msg(3)]);
    const secondStart = encodeRecord(msg(1)).length;
    const secondEnd = secondStart + encodeRecord(msg(2)).length;
    const hidden = bytes.slice(secondStart, secondEnd);
    bytes.fill(0, secondStart, secondEnd); // a hole where a flush has not landed yet
    await Deno.writeFile(path, bytes);
    const reader = new ChannelReader(dir, "ch", undefined, { corruptGraceMs: 50 });
    const first = await reader.read();
    assert.deepEqual(first.records.map((r) => r.payload), [msg(1)]);
    assert.deepEqual(first.corrupt, []);
    assert.deepEqual(first.position, { segment: 0, offset: secondStart });

    // The late data lands: nothing is lost.
    const file = await Deno.open(path, { write: true });
    await file.seek(secondStart, Deno.SeekMode.Start);
    await file.write(hidden);
    file.close();
    const second = await reader.read();
    assert.deepEqual(second.records.map((r) => r.payload), [msg(2), msg(3)]);

    // A hole that stays is skipped once the grace period has passed.
    await Deno.writeFile(path, new Uint8Array(20), { append: true });
    await Deno.writeFile(path, encodeRecord(msg(4)), { append: true });
    const held = await reader.read();
    assert.equal(held.records.length, 0);
    assert.equal(held.corrupt.length, 0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const skipped = await reader.read();
    assert.deepEqual(skipped.records.map((r) => r.payload), [msg(4)]);
    assert.equal(skipped.corrupt.length, 1);
  });
});

Deno.test("ChannelWriter rotates segments; every record arrives once, in order", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "to-worker", { segmentBytes: 200 });
    const reader = new ChannelReader(dir, "to-worker");
    const expected: string[] = [];
    const got: string[] = [];
    const rotated: number[] = [];
    let n = 0;
    for (let round = 0; round < 30; round++) {
      for (let b = 0; b < 1 + (round % 3); b++) {
        const batch = Array.from({ length: 1 + (round % 4) }, () => msg(n++));
        expected.push(...batch);
        await writer.append(batch);
      }
      const result = await reader.read();
      got.push(...result.records.map((r) => r.payload));
      rotated.push(...result.rotatedPast);
      assert.deepEqual(result.corrupt, []);
      assert.ok(result.records.every((r) => !r.payload.includes("$rotate")));
      await writer.acknowledge(result.position.segment);
      assert.ok((await segmentFiles(dir, "to-worker")).length <= 2);
    }
    assert.deepEqual(got, expected);
    assert.ok(writer.position.segment >= 5, `segment ${writer.position.segment}`);
    assert.deepEqual(rotated, Array.from({ length: writer.position.segment }, (_, i) => i));
    assert.deepEqual(reader.position, writer.position);
    assert.deepEqual(await segmentFiles(dir, "to-worker"), [writer.position.segment]);
  });
});

Deno.test("ChannelReader.read() follows several rotations in one call", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "ch", { segmentBytes: 100 });
    const expected = Array.from({ length: 20 }, (_, i) => msg(i));
    for (const m of expected) await writer.append([m]);
    const reader = new ChannelReader(dir, "ch");
    const result = await reader.read();
    assert.deepEqual(result.records.map((r) => r.payload), expected);
    assert.equal(result.rotatedPast.length, writer.position.segment);
    await writer.acknowledge(result.position.segment);
    assert.deepEqual(await segmentFiles(dir, "ch"), [writer.position.segment]);
  });
});

Deno.test("ChannelWriter restarted with start continues the channel", async () => {
  await withTempDir(async (dir) => {
    const reader = new ChannelReader(dir, "ch");
    const expected: string[] = [];
    let saved: ChannelPosition = { segment: 0, offset: 0 };
    for (let life = 0; life < 6; life++) {
      const writer = new ChannelWriter(dir, "ch", { segmentBytes: 150, start: saved });
      for (let i = 0; i < 3; i++) {
        const m = msg(life * 10 + i);
        expected.push(m);
        await writer.append([m]);
      }
      saved = writer.position;
    }
    assert.deepEqual(await readAll(reader), expected);
    assert.deepEqual(reader.position, saved);
  });
});

Deno.test("ChannelWriter restarted from a stale start finds the real end", async () => {
  await withTempDir(async (dir) => {
    const expected: string[] = [];
    const first = new ChannelWriter(dir, "ch", { segmentBytes: 150 });
    const stale = first.position;
    for (let i = 0; i < 10; i++) {
      expected.push(msg(i));
      await first.append([msg(i)]);
    }
    // Crash mid-append: a torn record at the end of the last segment.
    const torn = encodeRecord(msg(99));
    await Deno.writeFile(
      `${dir}/ch.${first.position.segment}.log`,
      torn.subarray(0, 9),
      { append: true },
    );
    const second = new ChannelWriter(dir, "ch", { segmentBytes: 150, start: stale });
    for (let i = 10; i < 15; i++) {
      expected.push(msg(i));
      await second.append([msg(i)]);
    }
    const reader = new ChannelReader(dir, "ch");
    const got: string[] = [];
    let corrupt = 0;
    while (true) {
      const result = await reader.read();
      corrupt += result.corrupt.length;
      if (result.records.length === 0) break;
      got.push(...result.records.map((r) => r.payload));
    }
    assert.deepEqual(got, expected);
    assert.equal(corrupt, 1);
    assert.deepEqual(reader.position, second.position);
  });
});

Deno.test("ChannelWriter finishes a rotation interrupted before the new segment", async () => {
  await withTempDir(async (dir) => {
    // Segment 0 ends in a rotation record but segment 1 was never created.
    await Deno.writeFile(
      `${dir}/ch.0.log`,
      encodeRecords([msg(0), JSON.stringify({ v: 1, kind: "$rotate", next: 1 })]),
    );
    const writer = new ChannelWriter(dir, "ch", { start: { segment: 0, offset: 0 } });
    await writer.append([msg(1)]);
    assert.equal(writer.position.segment, 1);
    const reader = new ChannelReader(dir, "ch");
    assert.deepEqual(await readAll(reader), [msg(0), msg(1)]);
  });
});

Deno.test("ChannelReader restarted from a saved position gets exactly the later records", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "ch", { segmentBytes: 180 });
    const all = Array.from({ length: 24 }, (_, i) => msg(i));
    for (let i = 0; i < all.length; i += 3) await writer.append(all.slice(i, i + 3));
    const reader = new ChannelReader(dir, "ch");
    const result = await reader.read();
    assert.deepEqual(result.records.map((r) => r.payload), all);
    for (let k = 0; k < all.length; k++) {
      const saved = result.records[k]!.position;
      const restarted = new ChannelReader(dir, "ch", saved);
      assert.deepEqual(await readAll(restarted), all.slice(k + 1), `after record ${k}`);
      reader.seek(saved);
      assert.deepEqual(await readAll(reader), all.slice(k + 1), `seek after record ${k}`);
    }
  });
});

Deno.test("ChannelWriter rejects bad names and reserved payloads", async () => {
  await withTempDir(async (dir) => {
    assert.throws(() => new ChannelWriter(dir, "../x"), ChannelNameError);
    assert.throws(() => new ChannelReader(dir, ""), ChannelNameError);
    assert.throws(() => new ChannelWriter(dir, "ok", { segmentBytes: 0 }), RangeError);
    const writer = new ChannelWriter(dir, "ok");
    await assert.rejects(
      writer.append([JSON.stringify({ v: 1, kind: "$rotate", next: 5 })]),
      ChannelNameError,
    );
    await assert.rejects(writer.append(['"a\nb"']), TypeError);
    await writer.append([]);
    assert.deepEqual(await segmentFiles(dir, "ok"), []);
  });
});

Deno.test("ChannelWriter.append() serializes concurrent calls", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "ch", { segmentBytes: 300 });
    const all = Array.from({ length: 40 }, (_, i) => msg(i));
    await Promise.all(all.map((m) => writer.append([m])));
    assert.deepEqual(await readAll(new ChannelReader(dir, "ch")), all);
  });
});

Deno.test("kept-open writer and reader deliver every record across rotations", async () => {
  await withTempDir(async (dir) => {
    const writer = new ChannelWriter(dir, "ch", { segmentBytes: 200, keepOpen: true });
    const reader = new ChannelReader(dir, "ch", undefined, { keepOpen: true });
    try {
      const got: string[] = [];
      for (let i = 0; i < 30; i++) {
        await writer.append([msg(i)]);
        if (i % 7 === 0) got.push(...await readAll(reader));
        const res = await reader.read();
        got.push(...res.records.map((r) => r.payload));
        for (const s of res.rotatedPast) await writer.acknowledge(s);
      }
      got.push(...await readAll(reader));
      assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => msg(i)));
      assert.ok((await segmentFiles(dir, "ch")).length < 30 * 40 / 200, "old segments deleted");
    } finally {
      writer.close();
      reader.close();
    }
  });
});

Deno.test("ChannelWriter creates the next segment before the rotation record that points to it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writer = new ChannelWriter(dir, "log", { segmentBytes: 1 });
    await writer.append(['"a"']);
    // Segment 1 cannot be created (a directory stands in its way): no rotation record
    // may point to it.
    await Deno.mkdir(`${dir}/log.1.log`);
    await assert.rejects(writer.append(['"b"']));
    const text = await Deno.readTextFile(`${dir}/log.0.log`);
    assert.ok(!text.includes("$rotate"), text);
    await Deno.remove(`${dir}/log.1.log`);
    await writer.append(['"b"']);
    const reader = new ChannelReader(dir, "log");
    assert.deepEqual((await reader.read()).records.map((r) => r.payload), ['"a"', '"b"']);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
