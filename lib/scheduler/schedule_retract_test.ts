import assert from "node:assert/strict";
import { onSubmit } from "./job_events.ts";
import type { ServerState } from "./state.ts";
import { retractForIdleRoom, retractFromReserved, retractSlots } from "./schedule_retract.ts";
import { begin } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, round, sent, testState } from "./testdata/fixtures.ts";

Deno.test("retractFromReserved() takes lower-priority prefilled tasks back from reserved workers", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }, { pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  round(s);
  const r = begin(s, 1);
  r.reservedAt.set(1, 10);
  assert.equal(retractFromReserved(r), 5);
  assert.deepEqual(sent(r.out), {
    1: ["retract 1:2", "retract 1:3", "retract 1:4", "retract 1:5", "retract 1:6"],
  });
  assert.equal(s.classes.get(1)!.retracting, 5);
  assert.deepEqual([...s.changedWorkers], [1]);
  // Retracts in flight are not sent twice.
  assert.equal(retractFromReserved(r), 0);
});

Deno.test("retractFromReserved() leaves prefilled tasks of the reservation's priority or above", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20, { priority: 3 }), 0);
  round(s);
  const r = begin(s, 1);
  r.reservedAt.set(1, 3);
  assert.equal(retractFromReserved(r), 0);
  assert.equal(r.out.size, 0);
  // The reserved worker is looked at again next round all the same.
  assert.deepEqual([...s.changedWorkers], [1]);
});

Deno.test("retractForIdleRoom() pulls prefilled tasks to a worker with room, less those in flight", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 6), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q", "1:2/q", "1:3/q", "1:4/q", "1:5/q"] });
  addWorkers(s, [{ pools: ["cpus=2"] }], 1);
  const r = begin(s, 1);
  assert.deepEqual(r.active.map((w) => w.id), [2]);
  assert.equal(retractForIdleRoom(r), 2);
  assert.deepEqual(sent(r.out), { 1: ["retract 1:1", "retract 1:2"] });
  assert.equal(retractForIdleRoom(r), 0);
});

/** Worker 1 holds two prefilled tasks (2, 3), worker 2 holds three (4 to 6). */
function twoHolders(): ServerState {
  const s = testState(3, 0);
  // One call each: a later addWorkers() call would reuse the key of a second worker added here.
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 7), 0);
  assert.deepEqual(round(s), {
    1: ["1:0/v0", "1:2/q", "1:3/q"],
    2: ["1:1/v0", "1:4/q", "1:5/q", "1:6/q"],
  });
  return s;
}

Deno.test("retractForIdleRoom() pulls from the largest holder first", () => {
  const s = twoHolders();
  addWorkers(s, [{ pools: ["cpus=1"] }], 1);
  const r = begin(s, 1);
  assert.equal(retractForIdleRoom(r), 1);
  assert.deepEqual(sent(r.out), { 2: ["retract 1:4"] });
});

Deno.test("retractForIdleRoom() never pulls a worker's own prefilled tasks", () => {
  const s = twoHolders();
  s.changedWorkers.add(2);
  s.workers.get(2)!.free.set("cpus", 10_000);
  const r = begin(s, 1);
  assert.equal(retractForIdleRoom(r), 1);
  assert.deepEqual(sent(r.out), { 1: ["retract 1:2"] });
});

Deno.test("retractForIdleRoom() pulls nothing while the class has ready tasks", () => {
  const s = testState(2, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 20), 0);
  round(s);
  addWorkers(s, [{ pools: ["cpus=2"] }], 1);
  assert.equal(retractForIdleRoom(begin(s, 1)), 0);
});

Deno.test("retractSlots() marks the slots, counts them per class and sends one retract", () => {
  const s = testState(5, 0);
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 4), 0);
  round(s);
  const r = begin(s, 1);
  const w = s.workers.get(1)!;
  const slots = [...w.tasks.values()].filter((slot) => slot.variant === null).slice(0, 2);
  assert.equal(retractSlots(r, w, []), 0);
  assert.equal(r.out.size, 0);
  assert.equal(retractSlots(r, w, slots), 2);
  assert.ok(slots.every((slot) => slot.retracting));
  assert.equal(s.classes.get(1)!.retracting, 2);
  assert.deepEqual(r.out.get(1), [{
    kind: "retractTasks",
    tasks: [{ jobId: 1, id: 1, instance: 0 }, { jobId: 1, id: 2, instance: 0 }],
  }]);
});
