import assert from "node:assert/strict";
import { onSubmit } from "./job_events.ts";
import { blockKey } from "./state.ts";
import { classesAtLevel, placeClass, placeLevels } from "./schedule_place.ts";
import { begin, pendingOf } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, multiNodeSubmit, round, testState } from "./testdata/fixtures.ts";

const CPU = 10_000;

Deno.test("placeClass() fills the active workers in order and holds their resources", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }, { pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  assert.equal(placeClass(r, cls, 0, 5), 5);
  assert.deepEqual(pendingOf(r), { 1: ["1:0/v0", "1:1/v0"], 2: ["1:2/v0", "1:3/v0", "1:4/v0"] });
  assert.equal(s.workers.get(1)!.free.get("cpus"), 0);
  assert.equal(s.workers.get(2)!.free.get("cpus"), CPU);
  assert.deepEqual([...r.placedHere], ["1:1", "1:2"]);
  // Counters move at commit.
  assert.equal(cls.queue.countAt(0), 10);
});

Deno.test("placeClass() passes over workers reserved at a higher priority and excluded ones", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10, { priority: 2 }), 0);
  const r = begin(s);
  r.reservedAt.set(1, 3);
  r.reservedAt.set(2, 2); // equal priority is not held off
  r.excluded.add(3);
  assert.equal(placeClass(r, s.classes.get(1)!, 2, 10), 1);
  assert.deepEqual(pendingOf(r), { 2: ["1:0/v0"] });
});

Deno.test("placeClass() tries the next variant where the first is rejected or its resources are taken", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4", "gpus=[0]"] }, { pools: ["cpus=4", "gpus=[0]"] }]);
  onSubmit(s, jobSubmit("cpus=2 gpus=1 | cpus=1", 10), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  s.workers.get(2)!.blocked.add(blockKey(cls.id, 0));
  assert.equal(placeClass(r, cls, 0, 10), 7);
  assert.deepEqual(pendingOf(r), {
    1: ["1:0/v0", "1:1/v1", "1:2/v1"],
    2: ["1:3/v1", "1:4/v1", "1:5/v1", "1:6/v1"],
  });
});

Deno.test("placeClass() honours time requests and leaves workers of a multi-node task alone", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }, { pools: ["cpus=2"] }, {
    pools: ["cpus=2"],
    timeLimitMs: 1000,
  }]);
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0@1,2"] });
  onSubmit(s, jobSubmit("cpus=1", 4, { timeRequestMs: 2000 }), 1);
  const r = begin(s, 1);
  assert.equal(placeClass(r, s.classes.get(2)!, 0, 4), 0);
  assert.equal(r.pending.size, 0);
});

Deno.test("classesAtLevel(): heavier requests first, then older jobs, only classes ready there", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=2", 1), 0);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  onSubmit(s, jobSubmit("cpus=3", 1, { weight: 20_000 }), 0);
  onSubmit(s, jobSubmit("cpus=4", 1, { priority: 5 }), 0);
  const r = begin(s);
  assert.deepEqual(classesAtLevel(r, 0).map((c) => c.id), [3, 1, 2]);
  assert.deepEqual(classesAtLevel(r, 5).map((c) => c.id), [4]);
});

Deno.test("placeLevels() places the higher level first", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  onSubmit(s, jobSubmit("cpus=1 scatter", 1, { priority: 5 }), 0);
  const r = begin(s);
  placeLevels(r);
  assert.deepEqual(pendingOf(r), { 1: ["2:0/v0", "1:0/v0"] });
  assert.equal(r.reservedAt.size, 0);
});

Deno.test("placeLevels() prefills at the highest level with tasks left, then reserves nothing", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 50), 0);
  onSubmit(s, jobSubmit("cpus=1", 3, { priority: 5 }), 0);
  const r = begin(s);
  placeLevels(r);
  assert.deepEqual(pendingOf(r), { 1: ["2:0/v0", "2:1/q", "2:2/q"] });
  assert.equal(r.reservedAt.size, 0);
});

Deno.test("placeLevels() reserves for a class left waiting when lower priorities have work", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }, { pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=3", 2), 0);
  round(s);
  onSubmit(s, jobSubmit("cpus=4", 1, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 2), 1);
  const r = begin(s, 1);
  placeLevels(r);
  // Both workers are equally busy: the lower id is kept, the other takes what fits.
  assert.deepEqual([...r.reservedAt], [[1, 5]]);
  assert.deepEqual(pendingOf(r), { 2: ["3:0/v0"] });
});

Deno.test("placeLevels() gives a multi-node class whole free workers and reserves more for it", () => {
  const s = testState();
  addWorkers(s, [1, 2, 3, 4].map(() => ({ pools: ["cpus=2"] })));
  onSubmit(s, jobSubmit("cpus=2", 1), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0"] });
  onSubmit(s, multiNodeSubmit(2, 2, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 1), 1);
  const r = begin(s, 1);
  placeLevels(r);
  assert.deepEqual(r.multi.pending.map((m) => m.nodes.map((w) => w.id)), [[2, 3]]);
  // The second task waits for a pair: the whole-free worker first, then the busy one.
  assert.deepEqual([...r.reservedAt], [[4, 5], [1, 5]]);
  assert.equal(r.pending.size, 0);
});
