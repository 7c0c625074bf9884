import assert from "node:assert/strict";
import type { TaskAssignment, TaskTemplate, ToWorkerMsg } from "../protocol/messages.ts";
import { parseResourceDef } from "../resources/descriptor.ts";
import { buildRequestVariants } from "../resources/variants.ts";
import { WorkerCore } from "./core.ts";
import { finishStartsAtOnce } from "./zero_work.ts";

function compute(resource: string, tasks: TaskAssignment[]): ToWorkerMsg {
  const template: TaskTemplate = {
    program: { args: ["/nonexistent"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
    requests: buildRequestVariants({ resources: [resource], timeRequestMs: 0 }),
    pin: null,
    priority: 0,
    timeLimitMs: 1000,
    crashLimit: 5,
  };
  return { kind: "computeTasks", jobId: 1, submitDir: "/tmp", template, tasks, sentAt: 0 };
}

const run = (id: number): TaskAssignment => ({ id, instance: 0, variant: 0 });
const queued = (id: number): TaskAssignment => ({ id, instance: 0, variant: null });

Deno.test("finishStartsAtOnce() finishes started tasks and the prefilled ones behind them", () => {
  const core = new WorkerCore([parseResourceDef("cpus=2")]);
  core.onMessage(compute("cpus=1", [run(0), run(1), queued(2), queued(3), queued(4)]), 7);
  assert.equal(finishStartsAtOnce(core, 9), 5);
  assert.equal(core.running.size, 0);
  assert.equal(core.prefilled, 0);
  assert.deepEqual(core.takeStarts(), []);
  const updates = core.takeUpdates().map((u) => `${u.kind} ${u.id}`);
  // Each task starts before it finishes; a prefilled one starts on the cpu of one that ended.
  assert.deepEqual(updates, [
    "started 0",
    "started 1",
    "finished 0",
    "started 2",
    "finished 1",
    "started 3",
    "finished 2",
    "started 4",
    "finished 3",
    "finished 4",
  ]);
});

Deno.test("finishStartsAtOnce() releases the allocations: later tasks fit again", () => {
  const core = new WorkerCore([parseResourceDef("cpus=2")]);
  core.onMessage(compute("cpus=2", [run(0)]), 0);
  finishStartsAtOnce(core, 0);
  core.takeUpdates();
  core.onMessage(compute("cpus=2", [run(1)]), 1);
  assert.equal(finishStartsAtOnce(core, 1), 1);
  assert.deepEqual(core.takeUpdates().map((u) => u.kind), ["started", "finished"]);
});

Deno.test("finishStartsAtOnce() leaves soft rejections as they are", () => {
  const core = new WorkerCore([parseResourceDef("cpus=1")]);
  core.onMessage(compute("cpus=2", [run(0)]), 0);
  assert.equal(finishStartsAtOnce(core, 0), 0);
  assert.deepEqual(core.takeUpdates().map((u) => u.kind), ["rejected"]);
});
