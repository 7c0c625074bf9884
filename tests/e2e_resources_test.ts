/**
 * End-to-end tests of the resource model with real processes: indexed GPU
 * pools shared two at a time, variants, and tasks that fit no worker waiting
 * with a `task explain` that says why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type ExplainJson, readOr } from "./_harness.ts";

Deno.test("e2e: gpus=1 tasks on a 2-GPU worker run two at a time with disjoint CUDA_VISIBLE_DEVICES", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4", "--resource", "gpus=[0,1]"]);
    await c.waitWorkers(1);
    const script = 'echo "$(date +%s%N) $(date +%s%N) $CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER ' +
      '$HQ_RESOURCE_VALUES_gpus" > /dev/null; s=$(date +%s%N); sleep 0.6; ' +
      'echo "$s $(date +%s%N) $CUDA_VISIBLE_DEVICES $CUDA_DEVICE_ORDER $HQ_RESOURCE_REQUEST_gpus"';
    const id = await c.submit([
      "--array",
      "1-6",
      "--resource",
      "gpus=1",
      "--",
      "bash",
      "-c",
      script,
    ]);
    await c.waitJobComplete(id);
    const runs = [];
    for (let t = 1; t <= 6; t++) {
      const out = (await readOr(join(c.workDir, `job-${id}`, `${t}.stdout`)))?.trim() ?? "";
      const [start, end, gpu, order, req] = out.split(" ");
      assert.ok(gpu === "0" || gpu === "1", `task ${t} got one GPU: "${out}"`);
      assert.equal(order, "PCI_BUS_ID");
      assert.equal(req, "1");
      runs.push({
        t,
        start: Number(BigInt(start!) / 1_000_000n),
        end: Number(BigInt(end!) / 1_000_000n),
        gpu,
      });
    }
    // Never more than two at once (counted at every start), and overlapping tasks hold
    // different GPUs.
    let maxTogether = 0;
    for (const a of runs) {
      const atStart = runs.filter((b) => b.start <= a.start && a.start < b.end);
      maxTogether = Math.max(maxTogether, atStart.length);
      for (const b of runs) {
        if (b !== a && b.start < a.end && a.start < b.end) {
          assert.notEqual(a.gpu, b.gpu, `tasks ${a.t} and ${b.t} overlap on GPU ${a.gpu}`);
        }
      }
    }
    assert.equal(maxTogether, 2, JSON.stringify(runs));
  });
});

Deno.test("e2e: variants pick the alternative that fits the worker", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4"]);
    await c.waitWorkers(1);
    const id = await c.submit([
      "--resource",
      "cpus=2 gpus=1 | cpus=3",
      "--",
      "bash",
      "-c",
      'echo "$HQ_RESOURCE_VARIANT|$HQ_CPUS|$OMP_NUM_THREADS|${CUDA_VISIBLE_DEVICES:-none}"',
    ]);
    await c.waitJobComplete(id);
    const out = (await readOr(join(c.workDir, `job-${id}`, "0.stdout")))?.trim();
    const [variant, cpus, omp, gpus] = out!.split("|");
    assert.equal(variant, "1");
    assert.equal(cpus!.split(",").length, 3, out);
    assert.equal(omp, "3");
    assert.equal(gpus, "none");
  });
});

Deno.test("e2e: a task that fits no worker waits and task explain says why", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2", "--time-limit", "1h"]);
    await c.waitWorkers(1);
    const big = await c.submit(["--cpus", "8", "--", "true"]);
    const long = await c.submit(["--time-request", "2h", "--", "true"]);
    const small = await c.submit(["--cpus", "1", "--", "true"]);
    await c.waitJobComplete(small);
    const jobs = await c.jobs();
    assert.equal(jobs.find((j) => j.id === big)!.task_stats.waiting, 1);
    assert.equal(jobs.find((j) => j.id === long)!.task_stats.waiting, 1);

    const e1 = await c.json<ExplainJson>(["task", "explain", String(big), "0"]);
    assert.deepEqual(e1.explanation.workers.length, 1);
    assert.deepEqual(e1.explanation.workers[0]!.variants, [[
      { Resources: { resource: "cpus", request_amount: 80_000, worker_amount: 20_000 } },
    ]]);

    const e2 = await c.json<ExplainJson>(["task", "explain", String(long), "0"]);
    const [time, cpus] = e2.explanation.workers[0]!.variants[0]!;
    assert.ok(time && "Time" in time, JSON.stringify(e2));
    assert.deepEqual(time.Time.min_time, { secs: 7200, nanos: 0 });
    const remaining = time.Time.remaining_time as { secs: number };
    assert.ok(remaining.secs > 3500 && remaining.secs <= 3600, JSON.stringify(remaining));
    assert.deepEqual(cpus, {
      Resources: { resource: "cpus", request_amount: 10_000, worker_amount: 20_000 },
    });

    const e3 = await c.json<ExplainJson>(["task", "explain", String(small), "0"]);
    assert.deepEqual(e3.explanation.workers[0]!.variants, [[
      { Resources: { resource: "cpus", request_amount: 10_000, worker_amount: 20_000 } },
    ]]);

    const text = (await c.hqOk(["task", "explain", String(big), "0"])).stdout;
    assert.match(text, /^Task \d+@0 is ready to run because it has no dependencies\.\n/);
    assert.match(text, /There is no worker where the task can run\./);
    assert.match(text, /\| Worker Id \| Runnable \| Variant \| Type \| Provides \| Request \|/);
    assert.match(text, /\| 1 +\| No +\| 0 +\| cpus \| 2 +\| 8 +\|/);
    const long2 = (await c.hqOk(["task", "explain", String(long), "0"])).stdout;
    assert.match(long2, /\| time +\| 59m|\| time +\| 1h/);
  });
});
