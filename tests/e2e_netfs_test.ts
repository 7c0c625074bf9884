/**
 * End-to-end tests across two views of a network filesystem
 * (`tools/netfs.sh start`): server and clients use view A, workers view B, as
 * if they ran on different nodes sharing the server directory.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { netfsViews, requirement } from "./_env.ts";
import { Cluster, pidAlive, readOr, waitFor } from "./_harness.ts";

const req = requirement(
  netfsViews() !== undefined,
  "two sshfs views (HQ_TEST_NETFS_A/B; tools/netfs.sh start)",
);

const POLL = ["--poll-only"];

Deno.test({
  name: "e2e: netfs: worker on view B runs a 50-task array submitted via view A",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    await using c = await Cluster.create({ netfs: true });
    await c.withLogs(async () => {
      c.startServer(POLL);
      await c.waitServerReady(30000);
      c.startWorker(["--cpus", "2", ...POLL], { view: "b" });
      await c.waitWorkers(1, 60000, "worker registration");
      await c.submit(["--array", "1-50", "--", "bash", "-c", "echo $HQ_TASK_ID"]);
      await waitFor(() => c.jobFinished(1), 60000, "50 tasks finished");
      const bad: string[] = [];
      for (let t = 1; t <= 50; t++) {
        const out = await readOr(join(c.workDir, "job-1", `${t}.stdout`));
        if (out !== `${t}\n`) bad.push(`${t}: ${JSON.stringify(out)}`);
      }
      assert.deepEqual(bad, []);
    });
  },
});

Deno.test({
  name: "e2e: netfs: task of a SIGKILLed view-B worker reruns on another view-B worker",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    await using c = await Cluster.create({ netfs: true });
    const pidFile = join(c.workDir, "pids.txt");
    const killLeftovers = async () => {
      for (const l of ((await readOr(pidFile)) ?? "").split("\n")) {
        const pid = Number(l.trim());
        if (l.trim() && pidAlive(pid)) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch { /* gone */ }
        }
      }
    };
    try {
      await c.withLogs(async () => {
        c.startServer(POLL);
        await c.waitServerReady(30000);
        const a = c.startWorker(["--cpus", "1", "--heartbeat", "2s", ...POLL], { view: "b" });
        await c.waitWorkers(1, 60000, "worker A registration");
        await c.submit([
          "--",
          "bash",
          "-c",
          "echo $$ >> pids.txt; echo $HQ_INSTANCE_ID >> inst.txt; sleep 2",
        ]);
        const first = await waitFor(
          async () => {
            const t = (await c.tasks(1))[0];
            return t?.state === "running" ? t : undefined;
          },
          60000,
          "task running on A",
        );
        a.kill("SIGKILL");
        await a.status;
        await killLeftovers();
        c.startWorker(["--cpus", "1", "--heartbeat", "2s", ...POLL], { view: "b" });
        await waitFor(() => c.jobFinished(1), 90000, "job finished on B");
        const t = (await c.tasks(1))[0]!;
        assert.notEqual(t.worker, first.worker);
        assert.equal(t.instance, 1);
        const lines = (await readOr(join(c.workDir, "inst.txt")))!.trim().split("\n");
        assert.equal(lines.at(-1), "1", `inst.txt: ${lines}`);
      });
    } finally {
      await killLeftovers();
    }
  },
});

Deno.test({
  name: "e2e: netfs: a view-B worker reattaches to a server killed and restarted on view A",
  ignore: req.ignore,
  fn: async () => {
    req.check();
    await using c = await Cluster.create({ netfs: true });
    const log = join(c.workDir, "run.log");
    const lines = async () =>
      ((await readOr(log)) ?? "").split("\n").filter((l) => l !== "").map((l) => l.split(" "));
    await c.withLogs(async () => {
      const first = c.startServer(POLL);
      await c.waitServerReady(30000);
      const w = c.startWorker(["--cpus", "2", "--server-lost-timeout", "2m", ...POLL], {
        view: "b",
      });
      await c.waitWorkers(1, 60000, "worker registration");
      const job = await c.submit([
        "--array",
        "1-6",
        "--",
        "bash",
        "-c",
        `echo "S $HQ_TASK_ID $HQ_INSTANCE_ID" >> ${log}; sleep 2; ` +
        `echo "E $HQ_TASK_ID $HQ_INSTANCE_ID" >> ${log}`,
      ]);
      await waitFor(async () => (await lines()).length >= 2, 60000, "two tasks started");
      first.kill("SIGKILL");
      await first.status;
      c.startServer(POLL);
      await c.waitServerReady(30000);
      await waitFor(() => c.jobFinished(job), 90000, "the job finished after the restart");
      const all = await lines();
      for (let t = 1; t <= 6; t++) {
        const mine = all.filter((l) => l[1] === String(t));
        assert.deepEqual(mine.map((l) => `${l[0]}${l[2]}`), ["S0", "E0"], `task ${t}: ${all}`);
      }
      assert.ok(pidAlive(w.pid), "the worker kept running");
    });
  },
});
