import assert from "node:assert/strict";
import { onSubmit } from "./job_events.ts";
import { isWholeFree } from "./multinode.ts";
import { holdResources } from "./worker_load.ts";
import { takeTask } from "./schedule_context.ts";
import { placeLevels } from "./schedule_place.ts";
import {
  belowMinUtilization,
  undoPass,
  workersBelowMinUtilization,
} from "./schedule_min_utilization.ts";
import { begin, pendingOf } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, multiNodeSubmit, testState } from "./testdata/fixtures.ts";

const CPU = 10_000;

Deno.test("belowMinUtilization() compares the CPUs in use with the worker's minimum share", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=8"], minUtilization: 5000 }, { pools: ["cpus=8"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10), 0);
  const [w, plain] = [s.workers.get(1)!, s.workers.get(2)!];
  const req = s.classes.get(1)!.variants[0]!;
  holdResources(req, w, 3);
  assert.equal(belowMinUtilization(w), true);
  holdResources(req, w, 1);
  assert.equal(belowMinUtilization(w), false);
  assert.equal(belowMinUtilization(plain), false);
});

Deno.test("workersBelowMinUtilization() judges workers given tasks to run now, not prefilled ones", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=8"], minUtilization: 5000 },
    { pools: ["cpus=8"], minUtilization: 5000 },
    { pools: ["cpus=8"], minUtilization: 5000 },
  ]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  const [w1, w2] = [s.workers.get(1)!, s.workers.get(2)!];
  for (let i = 0; i < 2; i++) takeTask(r, w1, cls, 0, 0);
  holdResources(cls.variants[0]!, w1, 2);
  takeTask(r, w2, cls, null, 0);
  // Worker 3 got nothing in this pass: its load is not this pass's doing.
  assert.deepEqual(workersBelowMinUtilization(r), [1]);
  for (let i = 0; i < 2; i++) takeTask(r, w1, cls, 0, 0);
  holdResources(cls.variants[0]!, w1, 2);
  assert.deepEqual(workersBelowMinUtilization(r), []);
});

Deno.test("undoPass() gives back resources and prefill counts, requeues tasks, excludes the worker", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=8", "gpus=[0]"], minUtilization: 5000 }]);
  onSubmit(s, jobSubmit("cpus=1 gpus=1", 10), 0);
  const r = begin(s);
  placeLevels(r);
  assert.deepEqual(pendingOf(r), { 1: ["1:0/v0", "1:1/q", "1:2/q"] });
  assert.deepEqual(workersBelowMinUtilization(r), [1]);
  undoPass(r, [1]);
  const w = s.workers.get(1)!;
  assert.deepEqual([...w.free], [["cpus", 8 * CPU], ["gpus", CPU]]);
  assert.equal(w.prefilled, 0);
  assert.equal(r.pending.size + r.placedHere.size + r.reservedAt.size, 0);
  assert.deepEqual([...r.excluded], [1]);
  const queue = s.classes.get(1)!.queue;
  assert.deepEqual(queue.peek(r.isWaiting), { jobId: 1, taskId: 0, priority: 0 });
  // The redo leaves the excluded worker out.
  placeLevels(r);
  assert.equal(r.pending.size, 0);
});

Deno.test("undoPass() then a redo sends the work elsewhere in priority order", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=8"], minUtilization: 10_000 }, { pools: ["cpus=2"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  onSubmit(s, jobSubmit("cpus=1", 2, { priority: 5 }), 0);
  const r = begin(s);
  placeLevels(r);
  assert.deepEqual(pendingOf(r), { 1: ["2:0/v0", "2:1/v0", "1:0/v0", "1:1/v0", "1:2/v0"] });
  undoPass(r, workersBelowMinUtilization(r));
  placeLevels(r);
  assert.deepEqual(pendingOf(r), { 2: ["2:0/v0", "2:1/v0"] });
  assert.deepEqual(workersBelowMinUtilization(r), []);
});

Deno.test("undoPass() undoes multi-node placements too", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=2"] },
    { pools: ["cpus=2"] },
    { pools: ["cpus=8"], minUtilization: 10_000 },
  ]);
  onSubmit(s, multiNodeSubmit(2, 1), 0);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  const r = begin(s);
  placeLevels(r);
  assert.equal(r.multi.pending.length, 1);
  assert.deepEqual(pendingOf(r), { 3: ["2:0/v0"] });
  undoPass(r, workersBelowMinUtilization(r));
  assert.equal(r.multi.pending.length, 0);
  assert.ok(isWholeFree(s.workers.get(1)!) && isWholeFree(s.workers.get(2)!));
  assert.equal(s.classes.get(1)!.queue.peek(r.isWaiting)?.taskId, 0);
  placeLevels(r);
  assert.equal(r.multi.pending.length, 1);
  assert.equal(r.pending.size, 0);
});
