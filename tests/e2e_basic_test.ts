/**
 * End-to-end tests of the basic flows: submit, run, wait, cancel, failures,
 * and the server-start guards. Each test runs real `hq` processes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, pidAlive, readOr, waitFor } from "./_harness.ts";

const MODES = [
  { label: "watch", flags: [] as string[] },
  { label: "poll-only", flags: ["--poll-only"] },
];

async function assertAllFinished(c: Cluster, job: number, count: number): Promise<void> {
  const j = (await c.jobs()).find((j) => j.id === job);
  assert.ok(j, `job ${job} in job list`);
  assert.equal(j.task_count, count);
  assert.equal(j.task_stats.finished, count, JSON.stringify(j));
}

for (const mode of MODES) {
  Deno.test(`e2e: [${mode.label}] submit, then start worker; task runs`, async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer(mode.flags);
      await c.waitServerReady();
      const id = await c.submit(["--", "bash", "-c", "echo hello-$HQ_TASK_ID"]);
      assert.equal(id, 1);
      c.startWorker(["--cpus", "1", ...mode.flags]);
      await c.waitJobComplete(1, 20000);
      await assertAllFinished(c, 1, 1);
      const out = await readOr(join(c.workDir, "job-1", "0.stdout"));
      assert.equal(out, "hello-0\n");
    });
  });

  Deno.test(`e2e: [${mode.label}] start worker, then submit; job wait`, async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer(mode.flags);
      await c.waitServerReady();
      c.startWorker(["--cpus", "2", ...mode.flags]);
      await c.waitWorkers(1, 20000, "worker registration");
      const id = await c.submit(["--array", "1-3", "--", "bash", "-c", "echo $HQ_TASK_ID"]);
      assert.equal(id, 1);
      const w = await c.hq(["job", "wait", "1"]);
      assert.equal(w.code, 0, w.stderr);
      await assertAllFinished(c, 1, 3);
      for (let t = 1; t <= 3; t++) {
        assert.equal(await readOr(join(c.workDir, "job-1", `${t}.stdout`)), `${t}\n`);
      }
    });
  });

  Deno.test(`e2e: [${mode.label}] 1000-task array over 2 workers`, async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer(mode.flags);
      await c.waitServerReady();
      c.startWorker(["--cpus", "2", ...mode.flags]);
      c.startWorker(["--cpus", "2", ...mode.flags]);
      await c.waitWorkers(2, 20000, "two workers registered");
      await c.submit(["--array", "1-1000", "--", "bash", "-c", "echo $HQ_TASK_ID"]);
      await c.waitJobComplete(1, 60000);
      await assertAllFinished(c, 1, 1000);
      const bad: string[] = [];
      for (let t = 1; t <= 1000; t++) {
        const out = await readOr(join(c.workDir, "job-1", `${t}.stdout`));
        if (out !== `${t}\n`) bad.push(`${t}: ${JSON.stringify(out)}`);
      }
      assert.deepEqual(bad.slice(0, 10), [], `${bad.length} wrong outputs`);
      const tasks = await c.tasks(1);
      assert.equal(tasks.length, 1000);
      assert.ok(tasks.every((t) => t.state === "finished"));
      const workers = new Set(tasks.map((t) => t.worker));
      assert.equal(workers.size, 2, `workers used: ${[...workers]}`);
    });
  });
}

Deno.test("e2e: job cancel kills running tasks", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4"]);
    await c.submit([
      "--array",
      "1-4",
      "--",
      "bash",
      "-c",
      'echo $$ > "$HQ_SUBMIT_DIR/pid-$HQ_TASK_ID"; exec sleep 30',
    ]);
    const pids = await waitFor(
      async () => {
        const tasks = await c.tasks(1);
        if (tasks.filter((t) => t.state === "running").length !== 4) return undefined;
        const ps: number[] = [];
        for (let t = 1; t <= 4; t++) {
          const p = (await readOr(join(c.workDir, `pid-${t}`)))?.trim();
          if (!p) return undefined;
          ps.push(Number(p));
        }
        return ps;
      },
      20000,
      "4 running tasks with pid files",
    );
    assert.ok(pids.every(pidAlive), "sleep processes alive before cancel");
    try {
      const r = await c.hq(["job", "cancel", "1"]);
      assert.equal(r.code, 0, r.stderr);
      await waitFor(
        async () => (await c.tasks(1)).every((t) => t.state === "canceled"),
        5000,
        "all tasks canceled",
      );
      await waitFor(() => pids.every((p) => !pidAlive(p)), 5000, "sleep processes gone");
    } finally {
      for (const p of pids) {
        if (pidAlive(p)) {
          try {
            Deno.kill(p, "SIGKILL");
          } catch { /* gone */ }
        }
      }
    }
  });
});

Deno.test("e2e: failing command shows FAILED with exit code", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "1"]);
    await c.submit(["--", "bash", "-c", "exit 3"]);
    await c.waitJobComplete(1, 20000);
    const tasks = await c.tasks(1);
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!.state, "failed");
    assert.equal(tasks[0]!.error, "Error: Program terminated with exit code 3.");
    const j = (await c.jobs()).find((j) => j.id === 1)!;
    assert.equal(j.task_stats.failed, 1);
    const info = await c.hqOk(["job", "info", "1"]);
    assert.match(info.stdout, /FAILED/);
    assert.match(info.stdout, /Program terminated with exit code 3/);
  });
});

Deno.test("e2e: second server start on a live dir is refused", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    const r = await c.hq(["server", "start"]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /already running/);
    assert.match(r.stderr, new RegExp(`\\b${first.pid}\\b`), r.stderr);
    assert.equal(first.exited, undefined, "first server still running");
    assert.equal((await c.hq(["job", "list"])).code, 0);
  });
});

Deno.test("e2e: job list with no server fails with one line", async () => {
  await using c = await Cluster.create();
  const r = await c.hq(["job", "list"]);
  assert.equal(r.code, 1);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /No running instance of HQ found at/);
});
