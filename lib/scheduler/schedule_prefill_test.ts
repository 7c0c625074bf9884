import assert from "node:assert/strict";
import { onSubmit } from "./job_events.ts";
import { placeClass } from "./schedule_place.ts";
import { prefillClass, prefillEndgame, prefillTakers } from "./schedule_prefill.ts";
import { begin, pendingOf } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, multiNodeSubmit, round, testState } from "./testdata/fixtures.ts";

Deno.test("prefillClass() queues on the workers running the class, up to their bound", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  assert.equal(placeClass(r, cls, 0, 20), 2);
  assert.equal(prefillClass(r, cls, 0, 18), 6);
  assert.deepEqual(pendingOf(r), {
    1: ["1:0/v0", "1:2/q", "1:3/q", "1:4/q"],
    2: ["1:1/v0", "1:5/q", "1:6/q", "1:7/q"],
  });
  // Counted on the worker for the loop; commit recounts.
  assert.equal(s.workers.get(1)!.prefilled, 3);
});

Deno.test("prefillClass() shares a small spare out evenly, the later workers taking the remainder", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  placeClass(r, cls, 0, 20);
  assert.equal(prefillClass(r, cls, 0, 3), 3);
  assert.deepEqual(pendingOf(r), { 1: ["1:0/v0", "1:2/q"], 2: ["1:1/v0", "1:3/q", "1:4/q"] });
});

Deno.test("prefillClass() stops when the level runs out of tasks", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  placeClass(r, cls, 0, 3);
  assert.equal(prefillClass(r, cls, 0, 5), 2);
});

Deno.test("prefillClass() queues nothing without spare tasks or with prefill off", () => {
  for (const [max, spare] of [[3, 0], [3, -4], [0, 10]] as const) {
    const s = testState(max, 0);
    addWorkers(s, [{ pools: ["cpus=1"] }]);
    onSubmit(s, jobSubmit("cpus=1", 20), 0);
    const r = begin(s);
    const cls = s.classes.get(1)!;
    placeClass(r, cls, 0, 20);
    assert.equal(prefillClass(r, cls, 0, spare), 0);
    assert.deepEqual(pendingOf(r), { 1: ["1:0/v0"] });
  }
});

Deno.test("prefillTakers(): workers running the class, not reserved, with room in their queue", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  placeClass(r, cls, 0, 3);
  assert.deepEqual(prefillTakers(r, cls).map((w) => w.id), [1, 2, 3]);
  r.reservedAt.set(1, 0);
  s.workers.get(2)!.prefilled = 2;
  assert.deepEqual(prefillTakers(r, cls).map((w) => w.id), [3]);
  // A worker not running the class gets none.
  onSubmit(s, jobSubmit("cpus=1 scatter", 5), 0);
  assert.deepEqual(prefillTakers(r, s.classes.get(2)!).map((w) => w.id), []);
});

Deno.test("prefillTakers(): a worker already running the class only when it or the class changed", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q"] });
  const cls = s.classes.get(1)!;
  assert.deepEqual(prefillTakers(begin(s, 1), cls).map((w) => w.id), []);
  s.changedWorkers.add(1);
  assert.deepEqual(prefillTakers(begin(s, 2), cls).map((w) => w.id), [1]);
  s.changedClasses.add(cls.id);
  assert.deepEqual(prefillTakers(begin(s, 3), cls).map((w) => w.id), [1]);
});

Deno.test("prefillTakers(): never a worker held by a multi-node task", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  round(s);
  onSubmit(s, multiNodeSubmit(1, 1, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1", 5), 1);
  const r = begin(s, 1);
  const multiCls = s.classes.get(2)!;
  assert.equal(r.multi.place(multiCls, 5, 1), 1);
  assert.deepEqual(r.multi.pending[0]!.nodes.map((w) => w.id), [2]);
  s.workers.get(2)!.classLoad.set(1, 1); // as if it ran the class too
  assert.deepEqual(prefillTakers(r, s.classes.get(1)!).map((w) => w.id), [1]);
});

Deno.test("prefillClass() fills a worker on a slow link past prefillMax, up to its cap", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  // Worker 1: 100 ms round trips, 10 ms tasks, one running: 3 round trips are 30 tasks.
  Object.assign(s.workers.get(1)!, { roundTripMs: 100, meanRunMs: 10 });
  onSubmit(s, jobSubmit("cpus=1", 100), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  placeClass(r, cls, 0, 100);
  assert.equal(prefillClass(r, cls, 0, 98), 33);
  assert.deepEqual([s.workers.get(1)!.prefilled, s.workers.get(2)!.prefilled], [30, 3]);
});

Deno.test("prefillClass() shares a spare smaller than the caps evenly between slow workers", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  for (const w of s.workers.values()) Object.assign(w, { roundTripMs: 500, meanRunMs: 1 });
  onSubmit(s, jobSubmit("cpus=1", 33), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  placeClass(r, cls, 0, 33);
  assert.equal(prefillClass(r, cls, 0, 30), 30);
  assert.deepEqual([...s.workers.values()].map((w) => w.prefilled), [10, 10, 10]);
});

Deno.test("prefillClass() past prefillMax holds a slow-link worker to its fair share of what is left", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }, { pools: ["cpus=1"] }, {
    pools: ["cpus=1"],
  }]);
  // Worker 1: 1 s round trips, 10 ms tasks: a cap of 300. The others: 3 (prefillMax).
  for (const w of s.workers.values()) {
    Object.assign(w, { roundTripMs: w.id === 1 ? 1000 : 10, meanRunMs: 10 });
  }
  onSubmit(s, jobSubmit("cpus=1", 200), 0);
  round(s);
  const prefilled = () => [...s.workers.values()].map((w) => w.prefilled);
  // 196 left, 49 each by speed; the spare is shared out evenly anyway.
  assert.deepEqual(prefilled(), [49, 3, 3, 3]);
  for (const id of s.workers.keys()) s.changedWorkers.add(id);
  round(s, 1);
  // Its cap (300) would let it take most of the 138 left in the queue; its fair share of the
  // 196 unstarted tasks is 49, and prefillMax comes on top.
  assert.deepEqual(prefilled(), [52, 3, 3, 3]);
});

Deno.test("prefillClass() sends a worker that runs dry before delivery no prefill of its own", () => {
  const s = testState(3, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  // Worker 1: 1 s round trips, 1 ms tasks: what it holds runs out long before a message lands.
  Object.assign(s.workers.get(1)!, { roundTripMs: 1000, meanRunMs: 1 });
  onSubmit(s, jobSubmit("cpus=1", 200), 0);
  round(s);
  // Given tasks to run this round, it gets its prefill with them.
  const first = s.workers.get(1)!.prefilled;
  assert.ok(first > 3, `prefilled ${first}`);
  for (const id of s.workers.keys()) s.changedWorkers.add(id);
  round(s, 1);
  // 1 running and its prefill of 1 ms tasks end in well under the 500 ms a prefill takes.
  assert.equal(s.workers.get(1)!.prefilled, first);
  assert.equal(s.workers.get(2)!.prefilled, 3);
});

Deno.test("prefillEndgame() shares the end of the queue by projected end, the reserve included", () => {
  const s = testState(40, 16);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  for (const w of s.workers.values()) Object.assign(w, { roundTripMs: 40, steadyRunMs: 5 });
  const cls = s.classes.get(1)!;
  // Worker 1 still holds 10 tasks (52.5 ms of work); worker 2 only the one it is given now.
  cls.prefillHolders.set(1, 10);
  const r = begin(s);
  assert.equal(placeClass(r, cls, 0, 20), 2);
  assert.equal(prefillEndgame(r, cls, 0, 18), 18);
  const queued = Object.values(pendingOf(r)).map((l) => l.filter((t) => t.endsWith("/q")).length);
  // Both then end at about 72.5 ms; by counts alone (and with no reserve) they would get 9 each.
  assert.deepEqual(queued, [8, 10]);
});

Deno.test("prefillEndgame() leaves a queue that is not at its end, or without measures, to prefillClass", () => {
  const s = testState(40, 16);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 100), 0);
  const cls = s.classes.get(1)!;
  const r = begin(s);
  placeClass(r, cls, 0, 100);
  assert.equal(prefillEndgame(r, cls, 0, 98), null); // nothing measured yet
  for (const w of s.workers.values()) Object.assign(w, { roundTripMs: 40, steadyRunMs: 5 });
  // Two round trips of work are 16 tasks a worker.
  assert.equal(prefillEndgame(r, cls, 0, 98), null);
  assert.equal(cls.endgame, false);
  assert.equal(prefillEndgame(r, cls, 0, 33), null);
  // 16 each, less what would start later than two round trips from now: 12 each.
  assert.equal(prefillEndgame(r, cls, 0, 32), 24);
  assert.equal(cls.endgame, true);
  // Once in it, the queue stays in it up to twice that.
  assert.equal(prefillEndgame(r, cls, 0, 64), 24);
  assert.equal(prefillEndgame(r, cls, 0, 65), null);
  assert.equal(cls.endgame, false);
});
