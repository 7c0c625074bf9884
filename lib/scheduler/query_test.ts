import assert from "node:assert/strict";
import { queryNewWorkers, type WorkerTypeQuery } from "./query.ts";
import { onSubmit } from "./job_events.ts";
import { addWorkers, jobSubmit, multiNodeSubmit, round, testState } from "./testdata/fixtures.ts";

const HOUR = 3600_000;

function query(cpus: number | null, extra: Partial<WorkerTypeQuery> = {}): WorkerTypeQuery {
  return {
    capacity: new Map(cpus === null ? [] : [["cpus", cpus * 10_000]]),
    partial: false,
    lifetimeMs: HOUR,
    maxWorkers: 1000,
    comingWorkers: 0,
    maxWorkersPerAlloc: 1,
    minUtilization: 0,
    ...extra,
  };
}

Deno.test("queryNewWorkers() packs waiting tasks onto as few workers as fit them", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=1", 200), 0);
  const [a] = queryNewWorkers(state, [query(4)], 0);
  assert.equal(a!.workers, 50);
  assert.deepEqual(a!.classes.map((c) => c.tasks), [200]);
});

Deno.test("queryNewWorkers() asks for nothing a worker of the kind cannot run", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=8", 3), 0);
  assert.equal(queryNewWorkers(state, [query(4)], 0)[0]!.workers, 0);
  // A GPU the worker does not have.
  const gpu = testState();
  onSubmit(gpu, jobSubmit("gpus=1", 3), 0);
  assert.equal(queryNewWorkers(gpu, [query(4)], 0)[0]!.workers, 0);
});

Deno.test("queryNewWorkers() leaves out tasks whose time request exceeds the lifetime", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=1", 4, { timeRequestMs: 2 * HOUR }), 0);
  assert.equal(queryNewWorkers(state, [query(4)], 0)[0]!.workers, 0);
  assert.equal(queryNewWorkers(state, [query(4, { lifetimeMs: 3 * HOUR })], 0)[0]!.workers, 1);
});

Deno.test("queryNewWorkers() sends one probe for resources a partial query does not know", () => {
  const state = testState();
  onSubmit(state, jobSubmit("gpus=1", 10), 0);
  // No guess at all: everything is unlimited, one worker takes all.
  assert.equal(queryNewWorkers(state, [query(null, { partial: true })], 0)[0]!.workers, 1);
  // CPUs known, GPUs unknown: still one probe, not one worker per four tasks.
  assert.equal(queryNewWorkers(state, [query(4, { partial: true })], 0)[0]!.workers, 1);
  // Once a worker showed no GPUs (a full query), none.
  assert.equal(queryNewWorkers(state, [query(4)], 0)[0]!.workers, 0);
});

Deno.test("queryNewWorkers() caps new workers at maxWorkers and counts coming workers first", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=4", 10), 0);
  assert.equal(queryNewWorkers(state, [query(4, { maxWorkers: 3 })], 0)[0]!.workers, 3);
  assert.equal(queryNewWorkers(state, [query(4, { comingWorkers: 4 })], 0)[0]!.workers, 6);
});

Deno.test("queryNewWorkers() lets earlier queries take demand first", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=1", 8), 0);
  const [a, b] = queryNewWorkers(state, [query(4, { maxWorkers: 1 }), query(2)], 0);
  assert.equal(a!.workers, 1);
  assert.equal(b!.workers, 2);
});

Deno.test("queryNewWorkers() sees only tasks the running workers had no room for", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=1", 6), 0);
  addWorkers(state, [{ pools: ["cpus=4"] }]);
  round(state);
  assert.equal(queryNewWorkers(state, [query(4)], 0)[0]!.workers, 1);
});

Deno.test("queryNewWorkers() gives multi-node tasks to a query whose allocations are big enough", () => {
  const state = testState();
  onSubmit(state, multiNodeSubmit(3, 2), 0);
  const [small, big] = queryNewWorkers(
    state,
    [query(4, { maxWorkersPerAlloc: 2 }), query(4, { maxWorkersPerAlloc: 4 })],
    0,
  );
  assert.deepEqual(small!.multiNode, []);
  assert.deepEqual(big!.multiNode, [3, 3]);
});

Deno.test("queryNewWorkers() drops a worker left below its min-utilization", () => {
  const state = testState();
  onSubmit(state, jobSubmit("cpus=1", 5), 0);
  // 4-CPU workers at 50 %: the first is full, the second has one task (25 %): it does not count.
  assert.equal(queryNewWorkers(state, [query(4, { minUtilization: 5000 })], 0)[0]!.workers, 1);
  assert.equal(queryNewWorkers(state, [query(4)], 0)[0]!.workers, 2);
});
