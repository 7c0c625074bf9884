/**
 * Bad command-line input: each is rejected with exactly one line on stderr
 * and a non-zero exit code, and a running server is not disturbed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type HqResult } from "./_harness.ts";

function assertOneLineError(r: HqResult, pattern?: RegExp): void {
  assert.notEqual(r.code, 0, `exit code; stdout: ${r.stdout}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  if (pattern) assert.match(lines[0]!, pattern);
}

const BAD: string[][] = [
  ["submit", "--array", "1-x", "--", "true"],
  ["submit", "--array", "5-1", "--", "true"],
  ["submit", "--cpus", "abc", "--", "true"],
  ["submit", "--cpus", "0", "--", "true"],
  ["submit", "--time-limit", "5x", "--", "true"],
  ["submit", "--bogus-flag", "--", "true"],
  ["worker", "start", "--heartbeat", "5q"],
];

for (const args of BAD) {
  Deno.test(`e2e: cli rejects \`hq ${args.join(" ")}\` with one line`, async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      const r = await c.hq(args);
      assertOneLineError(r);
      const list = await c.hq(["job", "list", "--output-mode", "json"]);
      assert.equal(list.code, 0, list.stderr);
      assert.deepEqual(JSON.parse(list.stdout), [], "no job was created");
      assert.equal(c.procs[0]!.exited, undefined, "server still running");
    });
  });
}

Deno.test("e2e: cli job list against a non-existent server dir fails", async () => {
  await using c = await Cluster.create();
  const r = await c.hq(["job", "list"], { serverDir: join(c.root, "does", "not", "exist") });
  assert.equal(r.code, 1);
  assertOneLineError(r);
});

Deno.test("e2e: cli refuses a world-writable server dir", async () => {
  await using c = await Cluster.create();
  const dir = join(c.root, "open");
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o777);
  const r = await c.hq(["job", "list"], { serverDir: dir });
  assert.equal(r.code, 1);
  assertOneLineError(r, /writable/);
  const s = await c.hq(["server", "start"], { serverDir: dir });
  assert.notEqual(s.code, 0, `server start on a world-writable dir must fail: ${s.stderr}`);
  assert.match(s.stderr, /writable/);
  assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing created in the dir");
});
