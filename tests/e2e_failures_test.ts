/**
 * End-to-end tests of failure handling: lost workers, server restarts,
 * garbage in the inbox.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, pidAlive, readOr, waitFor } from "./_harness.ts";

function killPidFile(text: string | undefined): void {
  for (const line of (text ?? "").split("\n")) {
    const pid = Number(line.trim());
    if (line.trim() !== "" && pidAlive(pid)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
  }
}

Deno.test("e2e: task of a SIGKILLed worker reruns on another worker", async () => {
  await using c = await Cluster.create();
  const pidFile = join(c.workDir, "pids.txt");
  try {
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      const a = c.startWorker(["--cpus", "1", "--heartbeat", "1s", "--hostname", "wa"]);
      await c.waitWorkers(1, 15000, "worker A registered");
      await c.submit([
        "--",
        "bash",
        "-c",
        "echo $$ >> pids.txt; echo $HQ_INSTANCE_ID >> inst.txt; sleep 2",
      ]);
      const first = await waitFor(
        async () => {
          const t = (await c.tasks(1))[0];
          return t?.state === "running" && (await readOr(join(c.workDir, "inst.txt")))
            ? t
            : undefined;
        },
        15000,
        "task running on A",
      );
      const workerA = first.worker;
      assert.equal(first.instance ?? 0, 0);
      a.kill("SIGKILL");
      await a.status;
      killPidFile(await readOr(pidFile)); // A's orphaned task process
      c.startWorker(["--cpus", "1", "--heartbeat", "1s", "--hostname", "wb"]);
      await waitFor(() => c.jobFinished(1), 20000, "job finished on B");
      const t = (await c.tasks(1))[0]!;
      assert.equal(t.state, "finished");
      assert.notEqual(t.worker, workerA, "reran on another worker");
      assert.equal(t.instance, 1);
      const lines = (await readOr(join(c.workDir, "inst.txt")))!.trim().split("\n");
      assert.equal(lines.at(-1), "1", `inst.txt: ${lines}`);
      assert.equal(lines[0], "0");
    });
  } finally {
    killPidFile(await readOr(pidFile));
  }
});

Deno.test("e2e: server stop and restart keeps jobs", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const s1 = c.startServer();
    await c.waitServerReady();
    const w1 = c.startWorker(["--cpus", "1"]);
    await c.submit(["--", "bash", "-c", "echo first"]);
    await waitFor(() => c.jobFinished(1), 15000, "job 1 finished");
    // With the worker gone, job 2 must wait.
    await w1.stop();
    await c.submit(["--array", "1-2", "--", "bash", "-c", "echo second-$HQ_TASK_ID"]);
    const stop = await c.hq(["server", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    const st = await s1.status;
    assert.equal(st.code, 0, "server exits cleanly");

    c.startServer();
    await c.waitServerReady();
    const jobs = await c.jobs();
    const j1 = jobs.find((j) => j.id === 1);
    assert.ok(j1, JSON.stringify(jobs));
    assert.equal(j1.task_stats.finished, 1);
    const j2 = jobs.find((j) => j.id === 2);
    assert.ok(j2, JSON.stringify(jobs));
    assert.equal(j2.task_stats.waiting, 2, JSON.stringify(j2));
    assert.ok(await Deno.stat(join(c.serverDir, "002")).then(() => true, () => false));

    const id = await c.submit(["--", "bash", "-c", "echo third"]);
    assert.equal(id, 3);
    c.startWorker(["--cpus", "2"]);
    await waitFor(
      async () => (await c.jobFinished(2)) && (await c.jobFinished(3)),
      15000,
      "jobs 2 and 3 finished after restart",
    );
    assert.equal(await readOr(join(c.workDir, "job-1", "0.stdout")), "first\n");
    assert.equal(await readOr(join(c.workDir, "job-2", "2.stdout")), "second-2\n");
    assert.equal(await readOr(join(c.workDir, "job-3", "0.stdout")), "third\n");
  });
});

Deno.test("e2e: garbage file in the inbox is rejected; server keeps working", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "1"]);
    const instance = await Deno.realPath(join(c.serverDir, "hq-current"));
    await Deno.writeTextFile(
      join(c.serverDir, "hq-current", "inbox", "new", "garbage.json"),
      "not json",
    );
    await waitFor(
      async () => {
        for await (const e of Deno.readDir(join(instance, "rejected"))) {
          if (e.name.includes("garbage")) return true;
        }
        return false;
      },
      10000,
      "garbage.json moved to rejected/",
    );
    assert.equal(
      await readOr(join(instance, "inbox", "new", "garbage.json")),
      undefined,
      "no longer in inbox/new",
    );
    const id = await c.submit(["--", "bash", "-c", "echo ok"]);
    await waitFor(() => c.jobFinished(id), 15000, "job after garbage finished");
    assert.equal(await readOr(join(c.workDir, `job-${id}`, "0.stdout")), "ok\n");
  });
});

Deno.test("e2e: hq worker stop ends the worker process and lists it as STOPPED", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const w = c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1, 20000, "worker registration");
    const out = await c.hqOk(["worker", "stop", "1"]);
    assert.match(out.stderr, /^\S+ INFO Worker 1 stopped$/m);
    await waitFor(() => w.exited !== undefined, 10000, "the worker process to exit");
    const all = await c.hqOk(["worker", "list", "--all"]);
    assert.match(all.stdout, /\| +1 \| STOPPED +\|/);
  });
});
