/**
 * End-to-end tests of `hq worker start --zero-worker`: tasks are reported finished
 * without running, so a program that does not exist "finishes", and no output file or
 * task directory appears; a normal worker on the same server still fails such tasks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster } from "./_harness.ts";

const MODES = [
  { label: "watch", flags: [] as string[] },
  { label: "poll-only", flags: ["--poll-only"] },
];

const TASKS = 2000;

/** Every path under `dir` (relative), or none when it does not exist. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(join(dir, prefix))) {
      const path = prefix === "" ? e.name : `${prefix}/${e.name}`;
      out.push(path);
      if (e.isDirectory) out.push(...await listTree(dir, path));
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return out;
}

for (const mode of MODES) {
  Deno.test(`e2e: [${mode.label}] a zero worker finishes tasks without running them`, async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer(mode.flags);
      await c.waitServerReady();
      const zeroWorkDir = join(c.root, "zero-work");
      const zero = c.startWorker([
        "--cpus",
        "4",
        "--work-dir",
        zeroWorkDir,
        "--zero-worker",
        ...mode.flags,
      ]);
      await c.waitWorkers(1, 20000, "zero worker registration");
      assert.match(zero.log, /WARN .*zero-worker mode: tasks are not executed/);

      const job = await c.submit([
        "--array",
        `1-${TASKS}`,
        "--task-dir",
        "--",
        "/nonexistent/program",
      ]);
      await c.waitJobComplete(job, 60000);
      const j = (await c.jobs()).find((j) => j.id === job)!;
      assert.equal(j.task_count, TASKS);
      assert.equal(j.task_stats.finished, TASKS, JSON.stringify(j));
      assert.equal(j.task_stats.failed, 0, JSON.stringify(j));
      // Neither the submit dir (default stdout/stderr paths) nor the worker's work dir
      // (task directories) got anything.
      assert.deepEqual(await listTree(c.workDir), []);
      assert.deepEqual(await listTree(zeroWorkDir), []);

      // The same tasks fail on a normal worker: the mode is what made them finish.
      await c.hqOk(["worker", "stop", "1"]);
      await c.waitWorkers(0, 20000, "zero worker stopped");
      c.startWorker(["--cpus", "1", ...mode.flags]);
      await c.waitWorkers(1, 20000, "normal worker registration");
      const failing = await c.submit(["--array", "1-3", "--", "/nonexistent/program"]);
      await c.waitJobComplete(failing, 20000);
      const tasks = await c.tasks(failing);
      assert.deepEqual(tasks.map((t) => t.state), ["failed", "failed", "failed"]);
      assert.match(tasks[0]!.error ?? "", /Cannot execute "\/nonexistent\/program"/);
      // And a task that does run leaves its output files where the check above looked.
      const runs = await c.submit(["--", "true"]);
      await c.waitJobComplete(runs, 20000);
      assert.ok(await c.jobFinished(runs));
      const files = await listTree(c.workDir);
      assert.ok(files.includes(`job-${runs}/0.stdout`), JSON.stringify(files));
    });
  });
}

Deno.test("e2e: worker start --help lists --zero-worker", async () => {
  await using c = await Cluster.create();
  const r = await c.hq(["worker", "start", "--help"], { noServerDir: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--zero-worker/);
});
