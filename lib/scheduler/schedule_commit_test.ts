import assert from "node:assert/strict";
import { onSubmit } from "./job_events.ts";
import { checkServerState } from "../sim/invariants.ts";
import { placeLevels } from "./schedule_place.ts";
import { commitPlacements } from "./schedule_commit.ts";
import { begin } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, multiNodeSubmit, sent, testState } from "./testdata/fixtures.ts";

Deno.test("commitPlacements() turns the pending placements into assigned tasks", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=2"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  const r = begin(s, 7);
  placeLevels(r);
  assert.deepEqual(commitPlacements(r), { placed: 2, prefilled: 2 });
  checkServerState(s);
  assert.deepEqual(sent(r.out), { 1: ["1:0/v0", "1:1/v0", "1:2/q", "1:3/q"] });
  const job = s.jobs.get(1)!;
  const cls = s.classes.get(1)!;
  assert.equal(job.counts.assigned, 4);
  assert.equal(job.counts.waiting, 6);
  assert.equal(cls.queue.countAt(0), 6);
  const w = s.workers.get(1)!;
  assert.equal(w.tasks.size, 4);
  assert.equal(w.classLoad.get(cls.id), 2);
  assert.equal(w.prefilled, 2);
  assert.equal(w.lastBusyAt, 7);
  assert.deepEqual([...cls.prefillHolders], [[1, 2]]);
  assert.deepEqual([...s.prefillByPriority], [[0, 2]]);
  const [running, queued] = [job.tasks.get(1)!, job.tasks.get(2)!];
  assert.deepEqual([running.state, running.workerId, running.variant], ["assigned", 1, 0]);
  assert.deepEqual([queued.state, queued.workerId, queued.variant], ["assigned", 1, null]);
});

Deno.test("commitPlacements() sends each worker one message per job", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  const r = begin(s);
  placeLevels(r);
  commitPlacements(r);
  const msgs = r.out.get(1)!;
  assert.deepEqual(msgs.map((m) => m.kind === "computeTasks" ? m.jobId : null), [1, 2]);
  assert.deepEqual(sent(r.out), { 1: ["1:0/v0", "1:1/v0", "2:0/v0", "2:1/v0"] });
});

Deno.test("commitPlacements() commits multi-node placements after the single-node ones", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }, { pools: ["cpus=2"] }, { pools: ["cpus=2"] }]);
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  const r = begin(s);
  placeLevels(r);
  assert.deepEqual(commitPlacements(r), { placed: 2, prefilled: 0 });
  checkServerState(s);
  assert.deepEqual([...r.out.keys()], [3, 1]);
  assert.deepEqual(sent(r.out), { 1: ["1:0/v0@1,2"], 3: ["2:0/v0"] });
  assert.equal(r.multi.pending.length, 0);
});

Deno.test("commitPlacements() with nothing pending changes nothing", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=2", 1), 0);
  const r = begin(s, 3);
  placeLevels(r);
  assert.deepEqual(commitPlacements(r), { placed: 0, prefilled: 0 });
  assert.equal(r.out.size, 0);
  assert.equal(s.workers.get(1)!.lastBusyAt, 0);
});
