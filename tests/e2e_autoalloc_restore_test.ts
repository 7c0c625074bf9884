/**
 * Automatic allocation queues live in the journal: a server started again on
 * the same directory has them back, with their ids, settings and state.
 * (No batch system needed: nothing waits, so nothing is submitted.)
 */
import assert from "node:assert/strict";
import { Cluster } from "./_harness.ts";

Deno.test("e2e: a restarted server restores its allocation queues", async () => {
  await using c = await Cluster.create();
  const s1 = c.startServer();
  await c.waitServerReady();
  for (const args of [["--name", "first", "--backlog", "3"], ["--name", "second", "--cpus", "8"]]) {
    const add = await c.hq([
      "alloc",
      "add",
      "slurm",
      "--time-limit",
      "2h",
      "--no-dry-run",
      ...args,
      "--",
      "-p",
      "batch",
    ]);
    assert.equal(add.code, 0, add.stderr);
  }
  assert.equal((await c.hq(["alloc", "pause", "2"])).code, 0);
  assert.equal((await c.hq(["server", "stop"])).code, 0);
  assert.equal((await s1.status).code, 0);

  c.startServer();
  await c.waitServerReady();
  const list = await c.hq(["--output-mode", "json", "alloc", "list"]);
  assert.equal(list.code, 0, list.stderr);
  const queues = JSON.parse(list.stdout) as {
    id: number;
    name: string;
    state: string;
    backlog: number;
    timelimit: number;
    additional_args: string[];
  }[];
  assert.deepEqual(
    queues.map((q) => [q.id, q.name, q.state, q.backlog, q.timelimit, q.additional_args]),
    [
      [1, "first", "Active", 3, 7200, ["-p", "batch"]],
      [2, "second", "Paused", 1, 7200, ["-p", "batch"]],
    ],
  );
  // New queues continue the ids.
  const third = await c.hq(["alloc", "add", "pbs", "--time-limit", "1h", "--no-dry-run"]);
  assert.match(third.stderr, /Allocation queue 3 successfully created/);
});
