import assert from "node:assert/strict";
import {
  appendBytes,
  ensureDirMode,
  readFileIfExists,
  readFrom,
  writeFileAtomic,
} from "./fs_util.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("writeFileAtomic() replaces a file with mode 0600 and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/state.json`;
    await writeFileAtomic(path, '{"a":1}');
    await writeFileAtomic(path, encoder.encode('{"a":2}'), { sync: true });
    assert.equal(await Deno.readTextFile(path), '{"a":2}');
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, ["state.json"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeFileAtomic() fails on a missing directory and cleans up", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(writeFileAtomic(`${dir}/missing/x`, "x"), Deno.errors.NotFound);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDirMode() creates parents with mode 0700 and tolerates races", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/a/b/c`;
    await Promise.all([ensureDirMode(path), ensureDirMode(path), ensureDirMode(path)]);
    await ensureDirMode(path);
    assert.ok((await Deno.stat(path)).isDirectory);
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o700);
    await Deno.writeTextFile(`${dir}/file`, "x");
    await assert.rejects(ensureDirMode(`${dir}/file`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFileIfExists() returns undefined for a missing file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readFileIfExists(`${dir}/nope`), undefined);
    await Deno.writeTextFile(`${dir}/yes`, "hi");
    assert.equal(decoder.decode(await readFileIfExists(`${dir}/yes`)), "hi");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("appendBytes() creates with mode 0600 and appends", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log`;
    await appendBytes(path, encoder.encode("one\n"));
    await appendBytes(path, encoder.encode("two\n"));
    assert.equal(await Deno.readTextFile(path), "one\ntwo\n");
    assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
    await assert.rejects(
      appendBytes(`${dir}/other`, encoder.encode("x"), { create: false }),
      Deno.errors.NotFound,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readFrom() reads from an offset to end of file, large files included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/log`;
    assert.equal(await readFrom(path, 0), undefined);
    const big = new Uint8Array(300_000);
    for (let i = 0; i < big.length; i++) big[i] = i % 251;
    await Deno.writeFile(path, big);
    assert.deepEqual(await readFrom(path, 0), big);
    assert.deepEqual(await readFrom(path, 123_457), big.subarray(123_457));
    assert.equal((await readFrom(path, big.length))!.length, 0);
    assert.equal((await readFrom(path, big.length + 10))!.length, 0);
    await assert.rejects(readFrom(path, -1), RangeError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
