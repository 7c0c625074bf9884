import assert from "node:assert/strict";
import type { TaskUpdate } from "../protocol/messages.ts";
import { onTaskUpdates, stopUnfinished } from "./reactor.ts";
import { onSubmit } from "./job_events.ts";
import { onTick, onWorkerLost } from "./worker_events.ts";
import type { ServerState } from "./state.ts";
import { validateJobSubmit } from "../protocol/validate.ts";
import { checkServerState } from "../sim/invariants.ts";
import {
  addWorkers,
  jobSubmit,
  multiNodeSubmit,
  round,
  testState,
  type WorkerSpec,
} from "./testdata/fixtures.ts";

function apply(s: ServerState, workerId: number, updates: TaskUpdate[], now = 1): void {
  onTaskUpdates(s, workerId, updates, now, new Map());
  checkServerState(s);
}

function started(jobId: number, id: number, instance = 0): TaskUpdate {
  return { kind: "started", jobId, id, instance, at: 1, variant: 0 };
}

function ended(
  kind: "finished" | "canceled",
  jobId: number,
  id: number,
  instance = 0,
): TaskUpdate {
  return { kind, jobId, id, instance, at: 2 };
}

function inGroups(...groups: string[]): WorkerSpec[] {
  return groups.map((group, i) => ({ pools: ["cpus=4"], group, hostname: `n${i + 1}.cluster` }));
}

function checkedRound(s: ServerState, now = 0): Record<number, string[]> {
  const r = round(s, now);
  checkServerState(s);
  return r;
}

Deno.test("schedule() places a multi-node task on whole free workers of one group, root first", () => {
  const s = testState();
  addWorkers(s, inGroups("g2", "g1", "g1", "g1"));
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  onSubmit(s, jobSubmit("cpus=4", 3), 0);
  // The g1 pair 2+3 takes the task; the root alone gets the message.
  const r = checkedRound(s);
  assert.deepEqual(r[2], ["1:0/v0@2,3"]);
  assert.equal(r[3], undefined);
  // Nothing else lands on the occupied workers; single-node tasks go to 1 and 4.
  assert.deepEqual(Object.keys(r).sort(), ["1", "2", "4"]);
  for (const id of [2, 3]) {
    assert.equal(s.workers.get(id)!.free.get("cpus"), 0);
    assert.deepEqual(s.workers.get(id)!.multiNode?.nodes, [2, 3]);
  }
  const task = s.jobs.get(1)!.tasks.get(0)!;
  assert.equal(task.workerId, 2);
  assert.equal(task.state, "assigned");
});

Deno.test("schedule() never spans groups and waits while a worker of the group is busy", () => {
  const s = testState();
  addWorkers(s, inGroups("g1", "g2", "g1"));
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  assert.deepEqual(checkedRound(s), { 1: ["1:0/v0"] });
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  // Workers 2 and 3 are free but in different groups; 1 is busy.
  assert.deepEqual(checkedRound(s, 1), {});
  apply(s, 1, [started(1, 0)]);
  assert.deepEqual(checkedRound(s, 2), {});
  apply(s, 1, [ended("finished", 1, 0)]);
  assert.deepEqual(checkedRound(s, 3), { 1: ["2:0/v0@1,3"] });
});

Deno.test("schedule() needs the time request to fit every node", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=1"], group: "g", timeLimitMs: 1_000 },
    { pools: ["cpus=1"], group: "g" },
    { pools: ["cpus=1"], group: "g" },
  ]);
  onSubmit(s, multiNodeSubmit(2, 1, { timeRequestMs: 5_000 }), 0);
  assert.deepEqual(checkedRound(s), { 2: ["1:0/v0@2,3"] });
});

Deno.test("a multi-node task reserves workers against lower priorities", () => {
  const s = testState();
  addWorkers(s, inGroups("g", "g"));
  onSubmit(s, jobSubmit("cpus=4", 1), 0);
  assert.deepEqual(checkedRound(s), { 1: ["1:0/v0"] });
  onSubmit(s, multiNodeSubmit(2, 1, { priority: 5 }), 0);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  // Worker 2 is free but kept for the priority-5 task, which needs worker 1 as well.
  assert.deepEqual(checkedRound(s, 1), {});
  apply(s, 1, [started(1, 0), ended("finished", 1, 0)]);
  assert.deepEqual(checkedRound(s, 2), { 1: ["2:0/v0@1,2"] });
  // Occupied: the low-priority tasks still wait.
  assert.deepEqual(checkedRound(s, 3), {});
  apply(s, 1, [started(2, 0), ended("finished", 2, 0)]);
  const r = checkedRound(s, 4);
  assert.equal(r[1]!.length + r[2]!.length, 8);
});

Deno.test("finishing or canceling on the root frees every node", async (t) => {
  await t.step("finish", () => {
    const s = testState();
    addWorkers(s, inGroups("g", "g", "g"));
    onSubmit(s, multiNodeSubmit(3, 2), 0);
    assert.deepEqual(checkedRound(s), { 1: ["1:0/v0@1,2,3"] });
    apply(s, 1, [started(1, 0), ended("finished", 1, 0)]);
    for (const w of s.workers.values()) assert.equal(w.multiNode, null);
    assert.deepEqual(checkedRound(s, 3), { 1: ["1:1/v0@1,2,3"] });
  });
  await t.step("cancel", () => {
    const s = testState();
    addWorkers(s, inGroups("g", "g"));
    onSubmit(s, multiNodeSubmit(2, 1), 0);
    onSubmit(s, jobSubmit("cpus=1", 1), 0);
    assert.deepEqual(checkedRound(s), { 1: ["1:0/v0@1,2"] });
    apply(s, 1, [started(1, 0)]);
    const out = new Map();
    stopUnfinished(s, s.jobs.get(1)!, "canceled", 2, out);
    assert.deepEqual(out.get(1)?.[0]?.kind, "cancelTasks");
    // Held until the root lets go.
    assert.deepEqual(checkedRound(s, 3), {});
    apply(s, 1, [ended("canceled", 1, 0)]);
    assert.deepEqual(checkedRound(s, 4), { 1: ["2:0/v0"] });
    assert.equal(s.workers.get(2)!.multiNode, null);
    assert.equal(s.workers.get(2)!.free.get("cpus"), 40_000);
  });
});

Deno.test("losing the root requeues the task; losing another node leaves it running", async (t) => {
  await t.step("non-root", () => {
    const s = testState();
    addWorkers(s, inGroups("g", "g", "g"));
    onSubmit(s, multiNodeSubmit(3, 1), 0);
    checkedRound(s);
    apply(s, 1, [started(1, 0)]);
    onWorkerLost(s, 2, "connectionLost", 2);
    checkServerState(s);
    const task = s.jobs.get(1)!.tasks.get(0)!;
    assert.equal(task.state, "running");
    assert.equal(task.instance, 0);
    assert.deepEqual(s.workers.get(1)!.multiNode?.nodes, [1, 3]);
    apply(s, 1, [ended("finished", 1, 0)]);
    assert.equal(s.workers.get(3)!.free.get("cpus"), 40_000);
  });
  await t.step("root", () => {
    const s = testState();
    addWorkers(s, inGroups("g", "g", "g"));
    onSubmit(s, multiNodeSubmit(2, 1), 0);
    assert.deepEqual(checkedRound(s), { 1: ["1:0/v0@1,2"] });
    apply(s, 1, [started(1, 0)]);
    onWorkerLost(s, 1, "heartbeatLost", 2);
    checkServerState(s);
    const task = s.jobs.get(1)!.tasks.get(0)!;
    assert.equal(task.state, "waiting");
    assert.equal(task.instance, 1);
    assert.equal(task.crashCount, 1);
    assert.equal(s.workers.get(2)!.multiNode, null);
    // Workers 2 and 3 are whole free again.
    assert.deepEqual(checkedRound(s, 3), { 2: ["1:0/v0@2,3"] });
  });
});

Deno.test("a non-root node of a running multi-node task does not idle out", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=1"], group: "g", heartbeatMs: 1_000_000 },
    { pools: ["cpus=1"], group: "g", heartbeatMs: 1_000_000 },
  ]);
  for (const w of s.workers.values()) w.config.idleTimeoutMs = 100;
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  checkedRound(s);
  onTick(s, 500, new Map());
  assert.equal(s.workers.get(2)!.state, "running");
});

Deno.test("validateJobSubmit() keeps variants all single-node or all multi-node", () => {
  const ok = multiNodeSubmit(2, 1);
  assert.equal(validateJobSubmit(structuredClone(ok)).template.requests[0]!.nNodes, 2);
  const mixed = structuredClone(ok);
  mixed.template.requests.push(jobSubmit("cpus=1", 1).template.requests[0]!);
  assert.throws(() => validateJobSubmit(mixed), /all single-node or all multi-node/);
  const withEntries = structuredClone(ok);
  withEntries.template.requests[0]!.entries = jobSubmit("cpus=1", 1).template.requests[0]!.entries;
  assert.throws(() => validateJobSubmit(withEntries), /cannot list resources/);
  const pinned = structuredClone(ok);
  pinned.template.pin = "taskset";
  assert.throws(() => validateJobSubmit(pinned), /cannot be pinned/);
  const negative = structuredClone(ok);
  negative.template.requests[0]!.nNodes = -1;
  assert.throws(() => validateJobSubmit(negative), /nNodes/);
});
