import assert from "node:assert/strict";
import type {
  TaskAssignment,
  TaskTemplate,
  TaskUpdate,
  ToWorkerMsg,
} from "../protocol/messages.ts";
import { parseResourceDef } from "../resources/descriptor.ts";
import { buildRequestVariants } from "../resources/variants.ts";
import { WorkerCore, workerTaskKey } from "./core.ts";

function template(resource: string): TaskTemplate {
  return {
    program: { args: ["true"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
    requests: buildRequestVariants({ resources: [resource], timeRequestMs: 0 }),
    pin: null,
    priority: 0,
    timeLimitMs: null,
    crashLimit: 5,
  };
}

function compute(
  jobId: number,
  resource: string,
  tasks: TaskAssignment[],
  priority = 0,
): ToWorkerMsg {
  const t = { ...template(resource), priority };
  return { kind: "computeTasks", jobId, submitDir: "/tmp", template: t, tasks, sentAt: 0 };
}

function core(...pools: string[]): WorkerCore {
  return new WorkerCore(pools.map((p) => parseResourceDef(p)));
}

/** Updates as `kind job:task` strings. */
function brief(updates: TaskUpdate[]): string[] {
  return updates.map((u) => `${u.kind} ${u.jobId}:${u.id}`);
}

const run = (id: number, variant = 0): TaskAssignment => ({ id, instance: 0, variant });
const queued = (id: number): TaskAssignment => ({ id, instance: 0, variant: null });

Deno.test("WorkerCore starts tasks with a variant at once, with their allocation", () => {
  const c = core("cpus=4", "gpus=[0,1]");
  c.onMessage(compute(1, "cpus=2 gpus=1 | cpus=4", [run(0), run(1, 1)]), 5);
  const starts = c.takeStarts();
  assert.deepEqual(starts.map((s) => [s.taskId, s.variant]), [[0, 0]]);
  assert.deepEqual(starts[0]!.allocation.resources.map((r) => [r.resource, r.amount]), [
    ["cpus", 20_000],
    ["gpus", 10_000],
  ]);
  // Variant 1 wants 4 cpus, only 2 are left: soft rejection naming the variant.
  assert.deepEqual(c.takeUpdates(), [
    { kind: "started", jobId: 1, id: 0, instance: 0, at: 5, variant: 0 },
    { kind: "rejected", jobId: 1, id: 1, instance: 0, at: 5, variant: 1 },
  ]);
  assert.equal(c.running.size, 1);
});

Deno.test("WorkerCore rejects a task that fragmentation keeps out", () => {
  const c = core("cpus=4", "gpus=[0,1]");
  c.onMessage(compute(1, "cpus=1 gpus=0.75", [run(0), run(1)]), 0);
  assert.equal(c.takeStarts().length, 2);
  // 0.5 gpu is free in total (0.25 on each), but no single gpu has 0.5.
  c.onMessage(compute(2, "cpus=1 gpus=0.5", [run(0)]), 1);
  assert.deepEqual(c.takeStarts(), []);
  assert.deepEqual(brief(c.takeUpdates()), ["started 1:0", "started 1:1", "rejected 2:0"]);
});

Deno.test("WorkerCore starts a prefilled task on its class's allocation when one ends", () => {
  const c = core("cpus=2");
  c.onMessage(compute(1, "cpus=2", [run(0), queued(1), queued(2)]), 0);
  const [first] = c.takeStarts();
  assert.equal(c.prefilled, 2);
  c.takeUpdates();
  c.onEnded(workerTaskKey(1, 0), { kind: "finished" }, 10);
  const [second] = c.takeStarts();
  assert.equal(second!.taskId, 1);
  assert.equal(second!.variant, first!.variant);
  assert.deepEqual(second!.allocation, first!.allocation);
  // The server sees the end and the start in one batch, so its accounting stays exact.
  assert.deepEqual(c.takeUpdates(), [
    { kind: "finished", jobId: 1, id: 0, instance: 0, at: 10 },
    { kind: "started", jobId: 1, id: 1, instance: 0, at: 10, variant: 0 },
  ]);
  c.onEnded(workerTaskKey(1, 1), { kind: "failed", error: "exit 1" }, 20);
  assert.deepEqual(c.takeStarts().map((s) => s.taskId), [2]);
  assert.deepEqual(brief(c.takeUpdates()), ["failed 1:1", "started 1:2"]);
  c.onEnded(workerTaskKey(1, 2), { kind: "finished" }, 30);
  assert.deepEqual(c.takeStarts(), []);
  assert.equal(c.running.size, 0);
  // The allocation went back: a 2-cpu task fits again.
  c.onMessage(compute(2, "cpus=2", [run(0)]), 31);
  assert.equal(c.takeStarts().length, 1);
});

Deno.test("WorkerCore returns prefilled tasks whose class does not run here", () => {
  const c = core("cpus=4");
  c.onMessage(compute(1, "cpus=1", [run(0)]), 0);
  c.onMessage(compute(2, "cpus=2", [queued(0), queued(1)]), 1);
  assert.deepEqual(brief(c.takeUpdates()), ["started 1:0", "returned 2:0", "returned 2:1"]);
  assert.equal(c.prefilled, 0);
  // A prefilled task of a running class waits, other classes running beside it or not.
  c.onMessage(compute(1, "cpus=1", [queued(1)]), 2);
  c.onMessage(compute(3, "cpus=1 | cpus=2", [run(0)]), 2);
  c.takeUpdates();
  c.takeStarts();
  c.onEnded(workerTaskKey(1, 0), { kind: "finished" }, 3);
  assert.deepEqual(c.takeStarts().map((s) => `${s.jobId}:${s.taskId}`), ["1:1"]);
  c.onEnded(workerTaskKey(1, 1), { kind: "finished" }, 4);
  assert.deepEqual(brief(c.takeUpdates()), ["finished 1:0", "started 1:1", "finished 1:1"]);
});

Deno.test("WorkerCore returns retracted prefilled tasks and ignores started ones", () => {
  const c = core("cpus=1");
  c.onMessage(compute(1, "cpus=1", [run(0), queued(1), queued(2)]), 0);
  c.takeUpdates();
  c.onMessage({
    kind: "retractTasks",
    tasks: [{ jobId: 1, id: 0, instance: 0 }, { jobId: 1, id: 2, instance: 0 }],
  }, 5);
  c.onMessage({ kind: "retractTasks", tasks: [{ jobId: 1, id: 2, instance: 0 }] }, 6);
  assert.deepEqual(c.takeUpdates(), [{ kind: "returned", jobId: 1, id: 2, instance: 0, at: 5 }]);
  assert.equal(c.running.size, 1);
  assert.equal(c.prefilled, 1);
});

Deno.test("WorkerCore cancels a queued task at once and kills a running one", () => {
  const c = core("cpus=1");
  c.onMessage(compute(1, "cpus=1", [run(0), queued(1), queued(2)]), 0);
  c.takeUpdates();
  c.onMessage({
    kind: "cancelTasks",
    tasks: [
      { jobId: 1, id: 0, instance: 0 },
      { jobId: 1, id: 1, instance: 0 },
      { jobId: 1, id: 2, instance: 7 }, // stale attempt: ignored
    ],
  }, 3);
  assert.deepEqual(c.takeKills(), [workerTaskKey(1, 0)]);
  assert.deepEqual(c.takeUpdates(), [{ kind: "canceled", jobId: 1, id: 1, instance: 0, at: 3 }]);
  // The killed task ends as canceled; the remaining prefilled task takes its allocation.
  c.onEnded(workerTaskKey(1, 0), { kind: "canceled" }, 4);
  assert.deepEqual(brief(c.takeUpdates()), ["canceled 1:0", "started 1:2"]);
  c.onEnded(workerTaskKey(1, 0), { kind: "finished" }, 5); // unknown now: ignored
  assert.deepEqual(c.takeUpdates(), []);
});

Deno.test("WorkerCore.returnAll() gives back every prefilled task", () => {
  const c = core("cpus=2");
  c.onMessage(compute(1, "cpus=1", [run(0), queued(1)]), 0);
  c.onMessage(compute(2, "cpus=1", [run(0), queued(1)]), 0);
  c.takeUpdates();
  c.returnAll(9);
  assert.deepEqual(brief(c.takeUpdates()), ["returned 1:1", "returned 2:1"]);
  assert.equal(c.prefilled, 0);
  assert.equal(c.running.size, 2);
});

Deno.test("WorkerCore rejects a variant index the template does not have", () => {
  const c = core("cpus=2");
  c.onMessage(compute(1, "cpus=1", [run(0, 3)]), 0);
  assert.deepEqual(c.takeUpdates(), [
    { kind: "rejected", jobId: 1, id: 0, instance: 0, at: 0, variant: 3 },
  ]);
});

Deno.test("WorkerCore starts queued tasks by priority, then job, then task id", () => {
  const c = core("cpus=1");
  c.onMessage(compute(5, "cpus=1", [run(0), queued(2), queued(1)]), 0);
  c.onMessage(compute(7, "cpus=1", [queued(0)], 3), 1);
  c.onMessage(compute(6, "cpus=1", [queued(9)], 3), 2);
  c.onMessage(compute(4, "cpus=1", [queued(0)]), 3);
  c.takeStarts();
  const order: string[] = [];
  for (let i = 0; i < 5; i++) {
    const [last] = [...c.running.values()];
    c.onEnded(workerTaskKey(last!.jobId, last!.taskId), { kind: "finished" }, 10 + i);
    for (const s of c.takeStarts()) order.push(`${s.jobId}:${s.taskId}`);
  }
  assert.deepEqual(order, ["6:9", "7:0", "4:0", "5:1", "5:2"]);
});

Deno.test("WorkerCore starts a multi-node task without allocating and keeps its node list", () => {
  const c = core("cpus=2");
  const t: TaskTemplate = {
    ...template("cpus=1"),
    requests: [{ entries: [], minTimeMs: 0, nNodes: 2 }],
  };
  const nodes = [{ workerId: 3, hostname: "a" }, { workerId: 5, hostname: "b" }];
  c.onMessage({
    kind: "computeTasks",
    jobId: 1,
    submitDir: "/tmp",
    template: t,
    tasks: [{ id: 0, instance: 0, variant: 0, nodes }],
    sentAt: 0,
  }, 1);
  const [start] = c.takeStarts();
  assert.deepEqual(start!.nodes, nodes);
  assert.deepEqual(start!.allocation.resources, []);
  assert.deepEqual(brief(c.takeUpdates()), ["started 1:0"]);
  // The allocator was not touched: the whole worker is still allocatable afterwards.
  c.onEnded(workerTaskKey(1, 0), { kind: "finished" }, 2);
  assert.deepEqual(brief(c.takeUpdates()), ["finished 1:0"]);
  c.onMessage(compute(2, "cpus=2", [run(0)]), 3);
  assert.equal(c.takeStarts()[0]!.nodes, null);
  assert.deepEqual(brief(c.takeUpdates()), ["started 2:0"]);
});

Deno.test("WorkerCore.returnOverdue() gives back queued tasks whose time request no longer fits", () => {
  const c = core("cpus=1");
  const long = {
    ...template("cpus=1"),
    requests: buildRequestVariants({ resources: ["cpus=1"], timeRequestMs: 60_000 }),
  };
  const tasks = [run(0), queued(1), queued(2)];
  const msg = { kind: "computeTasks" as const, jobId: 2, submitDir: "/tmp", template: long, tasks };
  c.onMessage({ ...msg, sentAt: 0 }, 0);
  assert.deepEqual(brief(c.takeUpdates()), ["started 2:0"]);
  assert.equal(c.returnOverdue(120_000, 1), 0);
  assert.equal(c.prefilled, 2);
  assert.equal(c.returnOverdue(59_999, 2), 2);
  assert.deepEqual(brief(c.takeUpdates()), ["returned 2:1", "returned 2:2"]);
  assert.equal(c.prefilled, 0);
});

Deno.test("WorkerCore carries each task's entry to its start, prefilled tasks too", () => {
  const c = core("cpus=1");
  const msg = compute(1, "cpus=1", [
    { ...run(0), entry: "first" },
    { ...queued(1), entry: "" },
    queued(2),
  ]);
  c.onMessage(msg, 0);
  const [first] = c.takeStarts();
  assert.equal(first!.entry, "first");
  c.onEnded(workerTaskKey(1, 0), { kind: "finished" }, 1);
  const [second] = c.takeStarts();
  assert.equal(second!.taskId, 1);
  assert.equal(second!.entry, "");
  c.onEnded(workerTaskKey(1, 1), { kind: "finished" }, 2);
  const [third] = c.takeStarts();
  assert.equal(third!.taskId, 2);
  assert.equal("entry" in third!, false);
});
