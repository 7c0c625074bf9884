/**
 * End-to-end test of multi-node tasks and worker groups with real processes:
 * a `--nodes 2` task runs on the two workers of one group and sees them in
 * `HQ_NODE_FILE`; a `--nodes 3` task, larger than every group, waits with a
 * `WorkerGroup` blocker in `task explain`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type ExplainJson, readOr, waitFor } from "./_harness.ts";

interface WorkerJson {
  id: number;
  configuration: { hostname: string; group: string };
}

Deno.test("e2e: --nodes 2 runs on the two workers of group g1; --nodes 3 waits on a WorkerGroup blocker", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const workDirs = [1, 2, 3].map((i) => join(c.root, `worker-${i}`));
    const hosts = ["node-a.cluster.example", "node-b.cluster.example", "node-c.cluster.example"];
    const groups = ["g1", "g1", "g2"];
    for (let i = 0; i < 3; i++) {
      c.startWorker([
        "--cpus",
        "1",
        "--group",
        groups[i]!,
        "--hostname",
        hosts[i]!,
        "--work-dir",
        workDirs[i]!,
      ]);
    }
    const workers = await waitFor(
      async () => {
        const list = await c.json<WorkerJson[]>(["worker", "list"]);
        return list.length === 3 ? list : null;
      },
      20000,
      "3 workers registered",
    );
    const g1 = workers.filter((w) => w.configuration.group === "g1").map((w) => w.id);
    assert.equal(g1.length, 2);

    const id = await c.submit([
      "--nodes",
      "2",
      "--",
      "bash",
      "-c",
      "cat $HQ_NODE_FILE > nodes.txt; echo $HQ_NUM_NODES >> nodes.txt",
    ]);
    const w = await c.hq(["job", "wait", String(id)]);
    assert.equal(w.code, 0, w.stderr);
    const lines = (await readOr(join(c.workDir, "nodes.txt")))?.trim().split("\n") ?? [];
    assert.equal(lines.length, 3, lines.join("|"));
    // Short names (domain cut), root (the lowest worker id of g1) first.
    const byId = new Map(workers.map((x) => [x.id, x.configuration.hostname.split(".")[0]!]));
    assert.deepEqual(lines.slice(0, 2), [byId.get(Math.min(...g1)), byId.get(Math.max(...g1))]);
    assert.equal(lines[2], "2");
    const [task] = await c.tasks(id);
    assert.equal(task!.worker, Math.min(...g1));
    const info = await c.hqOk(["job", "info", String(id)]);
    assert.match(info.stdout, /nodes: 2/);
    // The task directory holding the node files is gone once the task ended.
    for (const dir of workDirs) {
      const left = await Array.fromAsync(Deno.readDir(join(dir, "tasks"))).catch(() => []);
      assert.deepEqual(left, [], `${dir}/tasks is empty`);
    }

    const big = await c.submit(["--nodes", "3", "--", "true"]);
    const small = await c.submit(["--", "true"]);
    const ws = await c.hq(["job", "wait", String(small)]);
    assert.equal(ws.code, 0, ws.stderr);
    assert.equal((await c.jobs()).find((j) => j.id === big)!.task_stats.waiting, 1);
    const e = await c.json<ExplainJson>(["task", "explain", String(big), "0"]);
    assert.deepEqual(e.task_id, { job_id: big, job_task_id: 0 });
    assert.equal(e.explanation.workers.length, 3);
    for (const x of e.explanation.workers) {
      const group = workers.find((y) => y.id === x.worker_id)!.configuration.group;
      const size = group === "g1" ? 2 : 1;
      assert.deepEqual(x.variants, [[{ WorkerGroup: { n_nodes: 3, group_size: size } }]]);
    }
    const text = await c.hqOk(["task", "explain", String(big), "0"]);
    assert.match(text.stdout, /There is no worker where the task can run\./);
    assert.match(text.stdout, /\| nodes +\| group size 2 \| 3 +\|/);
  });
});
