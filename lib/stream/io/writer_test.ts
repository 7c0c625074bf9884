import assert from "node:assert/strict";
import { buildOutputLog, catOutput, decodeStreamFile, outputRecord } from "../mod.ts";
import { readStreamFiles } from "./read_dir.ts";
import { StreamWriter } from "./writer.ts";

const enc = new TextEncoder();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hq-stream-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("StreamWriter batches appends into few writes and sync() makes them readable", async () => {
  await withDir(async (dir) => {
    const w = new StreamWriter({
      dir: `${dir}/s`,
      serverUid: "uid",
      workerId: 7,
      flushDelayMs: 10_000,
    });
    for (let t = 0; t < 100; t++) {
      w.append([{ k: "start", job: 1, task: t, inst: 0, at: t }]);
      w.append([outputRecord({ job: 1, task: t, inst: 0 }, 0, enc.encode(`line ${t}\n`), t)]);
      w.append([{ k: "end", job: 1, task: t, inst: 0, at: t }]);
    }
    assert.deepEqual(w.files, []); // nothing written before the delay or a sync
    await w.sync();
    assert.equal(w.files.length, 1);
    assert.match(w.files[0]!, /\/7-[0-9a-f]{12}\.0\.hqs$/);
    const file = decodeStreamFile(await Deno.readFile(w.files[0]!));
    assert.deepEqual(file.header?.server, "uid");
    assert.equal(file.header?.worker, 7);
    assert.equal(file.records.length, 300);
    await w.close();
    assert.throws(() => w.append([]), /closed stream writer/);
  });
});

Deno.test("StreamWriter writes pending records after the flush delay", async () => {
  await withDir(async (dir) => {
    const w = new StreamWriter({ dir, serverUid: "uid", workerId: 1, flushDelayMs: 5 });
    w.append([{ k: "end", job: 1, task: 0, inst: 0, at: 1 }]);
    for (let i = 0; i < 100 && w.files.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await w.flush();
    assert.equal(decodeStreamFile(await Deno.readFile(w.files[0]!)).records.length, 1);
    await w.close();
  });
});

Deno.test("StreamWriter rotates to a new part at its size limit; the reader joins them", async () => {
  await withDir(async (dir) => {
    const w = new StreamWriter({ dir, serverUid: "uid", workerId: 1, rotateBytes: 500 });
    const ref = { job: 3, task: 0, inst: 0 };
    w.append([{ k: "start", ...ref, at: 0 }]);
    let expected = "";
    for (let i = 0; i < 20; i++) {
      const text = `chunk ${i} ${"x".repeat(40)}\n`;
      expected += text;
      w.append([outputRecord(ref, 0, enc.encode(text), i)]);
      await w.flush();
    }
    w.append([{ k: "end", ...ref, at: 99 }]);
    await w.close();
    assert.ok(w.files.length > 2, `${w.files.length} parts`);
    const names = w.files.map((f) => f.slice(f.lastIndexOf("/") + 1));
    names.forEach((n, i) => assert.match(n, new RegExp(`\\.${i}\\.hqs$`)));
    const log = buildOutputLog(await readStreamFiles(dir));
    assert.equal(new TextDecoder().decode(catOutput(log, { job: 3, channel: 0 })), expected);
  });
});

Deno.test("StreamWriter reports a failed write through sync() and carries on after it", async () => {
  await withDir(async (dir) => {
    // The stream dir's place is taken by a file: nothing can be created there.
    await Deno.writeTextFile(`${dir}/s`, "");
    const w = new StreamWriter({ dir: `${dir}/s`, serverUid: "uid", workerId: 1 });
    w.append([{ k: "start", job: 1, task: 0, inst: 0, at: 0 }]);
    await assert.rejects(() => w.sync());
    assert.equal(w.errorCount, 1);
    assert.ok(w.lastError !== null);
    await Deno.remove(`${dir}/s`);
    await Deno.mkdir(`${dir}/s`);
    w.append([{ k: "end", job: 1, task: 0, inst: 0, at: 1 }]);
    await w.sync();
    assert.equal(w.errorCount, 1);
    const file = decodeStreamFile(await Deno.readFile(w.files[0]!));
    assert.deepEqual(file.records.map((r) => r.k), ["end"]); // the failed batch is lost
    await w.close();
  });
});

Deno.test("readStreamFiles() names a directory it cannot list", async () => {
  await assert.rejects(
    () => readStreamFiles("/nonexistent/hq-stream"),
    /Cannot read stream directory "\/nonexistent\/hq-stream"/,
  );
});
