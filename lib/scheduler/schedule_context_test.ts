import assert from "node:assert/strict";
import { ensureClass } from "./reactor.ts";
import { onSubmit } from "./job_events.ts";
import { DEFAULT_WEIGHT } from "../resources/request.ts";
import { blockKey } from "./state.ts";
import { beginRound, canEverRun, classWeight, takeTask } from "./schedule_context.ts";
import { begin } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, round, testState } from "./testdata/fixtures.ts";

Deno.test("beginRound() takes the change sets and clears the request for a round", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  s.scheduleAt = 5;
  const r = begin(s);
  assert.deepEqual([...r.changedWorkers], [1]);
  assert.deepEqual([...r.changedClasses], [1]);
  assert.equal(s.changedWorkers.size, 0);
  assert.equal(s.changedClasses.size, 0);
  assert.equal(s.needsSchedule, false);
  assert.equal(s.scheduleAt, null);
  assert.equal(r.pending.size + r.reservedAt.size + r.placedHere.size + r.excluded.size, 0);
});

Deno.test("beginRound() returns null without a running worker, the change sets taken all the same", () => {
  const s = testState();
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  assert.equal(beginRound(s, 0, new Map()), null);
  assert.equal(s.changedClasses.size, 0);
  assert.equal(s.needsSchedule, false);
});

Deno.test("beginRound() looks at every worker when a class gained tasks, else at changed ones", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  round(s);
  s.changedWorkers.add(2);
  assert.deepEqual(begin(s, 1).active.map((w) => w.id), [2]);
  onSubmit(s, jobSubmit("cpus=2", 1), 2);
  assert.deepEqual(begin(s, 2).active.map((w) => w.id), [1, 2, 3]);
});

Deno.test("beginRound(): levels with ready tasks, highest first; the lowest counts prefilled tasks", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3, { priority: 1 }), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q"] });
  onSubmit(s, jobSubmit("cpus=2", 1, { priority: 5 }), 1);
  onSubmit(s, jobSubmit("cpus=1 scatter", 1, { priority: 3 }), 1);
  const r = begin(s, 1);
  assert.deepEqual(r.classes.map((c) => c.id), [2, 3]);
  assert.deepEqual(r.levels, [5, 3]);
  assert.equal(r.lowest, 1);
});

Deno.test("takeTask() groups the tasks taken by class, variant and job; counters wait for commit", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=8"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  const r = begin(s);
  const w = s.workers.get(1)!;
  const cls = s.classes.get(1)!;
  for (const variant of [0, 0, null, 0]) assert.ok(takeTask(r, w, cls, variant, 0));
  assert.equal(takeTask(r, w, cls, 0, 7), false);
  const groups = r.pending.get(1)!.map((g) => [g.jobId, g.variant, g.priority, g.ids]);
  assert.deepEqual(groups, [[1, 0, 0, [0, 1]], [1, null, 0, [2]], [2, 0, 0, [0]]]);
  assert.equal(cls.queue.countAt(0), 5);
  assert.equal(s.jobs.get(1)!.counts.waiting, 3);
});

Deno.test("canEverRun() needs one variant not rejected that fits the empty worker in time", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"], timeLimitMs: 10_000 }]);
  onSubmit(s, jobSubmit("cpus=2 gpus=1 | cpus=8 | cpus=4", 1, { timeRequestMs: 5000 }), 0);
  const w = s.workers.get(1)!;
  const cls = s.classes.get(1)!;
  // Taken resources do not matter; only capacity does.
  w.free.set("cpus", 0);
  assert.equal(canEverRun(cls, w, 0), true);
  assert.equal(canEverRun(cls, w, 5001), false);
  w.blocked.add(blockKey(cls.id, 2));
  assert.equal(canEverRun(cls, w, 0), false);
});

Deno.test("classWeight() is the largest weight of the class's variants", () => {
  const s = testState();
  const cpus = (amount: number) => ({ resource: "cpus", amount, policy: "compact" as const });
  const mixed = ensureClass(s, [
    { entries: [cpus(10_000)], minTimeMs: 0, weight: 20_000 },
    { entries: [cpus(20_000)], minTimeMs: 0, weight: 30_000 },
  ]);
  assert.equal(classWeight(mixed), 30_000);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  assert.equal(classWeight(s.classes.get(2)!), DEFAULT_WEIGHT);
});
