/**
 * Task dependencies end to end: job definition files with `deps`, a failing dependency
 * aborting its subtree (with the reason in `task info`), dependencies surviving a server
 * restart, open jobs fed by several submits, and `--after`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type JobJson, waitFor } from "./_harness.ts";
import { netfsViews, requirement } from "./_env.ts";

/** A task that fails unless every dependency left its marker, then leaves its own. */
function markerTask(id: number, deps: number[], extra = ""): string {
  const checks = deps.map((d) => `test -f ${d}.done || exit 7; `).join("");
  return `[[task]]
id = ${id}
deps = [${deps.join(", ")}]
command = ["bash", "-c", "${checks}${extra}touch ${id}.done"]
`;
}

async function submitFile(c: Cluster, toml: string, args: string[] = []): Promise<number> {
  const path = join(c.workDir, `job-${crypto.randomUUID().slice(0, 8)}.toml`);
  await Deno.writeTextFile(path, toml);
  const r = await c.hqOk(["job", "submit-file", path, ...args]);
  const m = r.stdout.match(/job ID: (\d+)/);
  if (!m) throw new Error(`unexpected submit-file output: ${r.stdout}`);
  return Number(m[1]);
}

async function job(c: Cluster, id: number): Promise<JobJson> {
  const found = (await c.jobs()).find((j) => j.id === id);
  if (!found) throw new Error(`job ${id} not listed`);
  return found;
}

Deno.test("e2e: a diamond runs in order; a failing dependency aborts its subtree", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4"]);
    const diamond = await submitFile(
      c,
      markerTask(0, [], "sleep 0.3; ") + markerTask(1, [0]) + markerTask(2, [0]) +
        markerTask(3, [1, 2]),
    );
    await c.waitJobComplete(diamond);
    assert.ok(await c.jobFinished(diamond), "every task found its dependencies' markers");

    // 10 fails; 11 and 12 depend on it (12 through 11); 13 is independent.
    const failing = await submitFile(
      c,
      `[[task]]\nid = 10\ncommand = ["false"]\n` + markerTask(11, [10]) + markerTask(12, [11]) +
        markerTask(13, []),
    );
    await c.waitJobComplete(failing);
    const j = await job(c, failing);
    assert.deepEqual(
      [j.task_stats.failed, j.task_stats.aborted, j.task_stats.finished],
      [1, 2, 1],
    );
    const info = (await c.hqOk(["task", "info", String(failing), "12"])).stdout;
    assert.match(info, /State\s*\|\s*ABORTED/);
    assert.match(info, /Dependency task 11 was aborted/);
    assert.match(info, /Dependencies\s*\|\s*11/);
    const jobInfo = (await c.hqOk(["job", "info", String(failing)])).stdout;
    assert.match(jobInfo, /\| 11 +\| Dependency task 10 failed +\|/);
    assert.match(jobInfo, /2 tasks aborted\./);
    const list = (await c.hqOk(["task", "list", String(failing), "-v"])).stdout;
    assert.match(list, /11 .*ABORTED.*Dependency task 10 failed/);
  });
});

Deno.test("e2e: blocked tasks stay blocked across a server restart", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const chain = await submitFile(
      c,
      markerTask(0, []) + markerTask(1, [0]) + markerTask(2, [1]),
    );
    const explain = (await c.hqOk(["task", "explain", String(chain), "2"])).stdout;
    assert.match(
      explain,
      /Task \d+@2 is not ready to run, because 1\/1 dependencies are not finished/,
    );
    await c.hqOk(["server", "stop"]);
    c.startServer();
    await c.waitServerReady();
    assert.match(
      (await c.hqOk(["task", "explain", String(chain), "1"])).stdout,
      /1\/1 dependencies are not finished/,
      "still blocked after the restart",
    );
    c.startWorker(["--cpus", "4"]);
    await c.waitJobComplete(chain);
    assert.ok(await c.jobFinished(chain), "the chain ran in order after the restart");
  });
});

Deno.test("e2e: an open job fed three times, then closed; --after waits for other jobs", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const opened = await c.hqOk(["job", "open", "--name", "feed"]);
    const id = Number(opened.stdout.match(/^Job (\d+) is open\.$/m)?.[1]);
    assert.ok(id > 0, opened.stdout);
    // A job waiting for the open job starts only once it is closed.
    const after = await c.submit(["--after", String(id), "--", "touch", "after.done"]);
    c.startWorker(["--cpus", "2"]);
    await c.hqOk(["submit", "--job", String(id), "--", "true"]);
    await c.hqOk(["submit", "--job", String(id), "--array", "5-6", "--", "true"]);
    await submitFile(c, markerTask(20, []) + markerTask(21, [20]), ["--job", String(id)]);
    await c.hqOk(["job", "wait", String(id), "--without-close"]);
    const open = await job(c, id);
    assert.equal(open.task_count, 5);
    assert.equal(open.task_stats.finished, 5);
    const listed = (await c.hqOk(["job", "list"])).stdout;
    assert.match(listed, new RegExp(`\\*${id} \\| feed\\s*\\| OPENED`));
    assert.match(listed, /\* = Open jobs/);
    const ids = (await c.tasks(id)).map((t) => t.id).sort((a, b) => a - b);
    assert.deepEqual(ids, [0, 5, 6, 20, 21]);
    // Reusing an id of the open job is refused; the server stays healthy.
    const reused = await c.hq(["submit", "--job", String(id), "--array", "5", "--", "true"]);
    assert.notEqual(reused.code, 0);
    assert.match(reused.stderr, /Task 5 already exists in job/);
    assert.equal((await job(c, after)).task_stats.waiting, 1, "--after still waits");
    await c.hqOk(["job", "close", String(id)]);
    await c.waitJobComplete(after);
    assert.ok(await c.jobFinished(after));
    const again = await c.hq(["job", "close", String(id)]);
    assert.notEqual(again.code, 0);
    await waitFor(async () => (await job(c, id)).task_stats.finished === 5, 5000, "closed");
    assert.match(
      (await c.hqOk(["job", "list", "--all"])).stdout,
      new RegExp(`${id} \\| feed\\s*\\| FINISHED`),
    );
  });
});

const netfs = requirement(
  netfsViews() !== undefined,
  "two sshfs views (HQ_TEST_NETFS_A/B; tools/netfs.sh start)",
);

Deno.test({
  name: "e2e: netfs: a diamond and a failing dependency across two sshfs views (poll-only)",
  ignore: netfs.ignore,
  fn: async () => {
    netfs.check();
    await using c = await Cluster.create({ netfs: true });
    await c.withLogs(async () => {
      c.startServer(["--poll-only"]);
      await c.waitServerReady(30000);
      c.startWorker(["--cpus", "4", "--poll-only"], { view: "b" });
      await c.waitWorkers(1, 60000, "worker registration");
      const diamond = await submitFile(
        c,
        markerTask(0, []) + markerTask(1, [0]) + markerTask(2, [0]) + markerTask(3, [1, 2]) +
          `[[task]]\nid = 10\ncommand = ["false"]\n` + markerTask(11, [10]) +
          markerTask(12, [11]),
      );
      await c.waitJobComplete(diamond, 120000);
      const j = await job(c, diamond);
      assert.deepEqual(
        [j.task_stats.finished, j.task_stats.failed, j.task_stats.aborted],
        [4, 1, 2],
      );
    });
  },
});
