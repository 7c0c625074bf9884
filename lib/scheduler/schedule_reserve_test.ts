import assert from "node:assert/strict";
import { ensureClass } from "./reactor.ts";
import { onSubmit } from "./job_events.ts";
import { blockKey } from "./state.ts";
import type { ResourceRequest } from "../resources/request.ts";
import { reservationLapse, reserveClass, reserveWorkers } from "./schedule_reserve.ts";
import { begin } from "./testdata/schedule_fixtures.ts";
import { addWorkers, jobSubmit, round, testState } from "./testdata/fixtures.ts";

function cpus(n: number, minTimeMs: number): ResourceRequest {
  return { entries: [{ resource: "cpus", amount: n * 10_000, policy: "compact" }], minTimeMs };
}

Deno.test("reserveClass() keeps the least busy workers able to run the class, then by id", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=4"] },
    { pools: ["cpus=4"] },
    { pools: ["cpus=2"] },
    { pools: ["cpus=4"] },
  ]);
  onSubmit(s, jobSubmit("cpus=2", 1), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0"] });
  onSubmit(s, jobSubmit("cpus=4", 9, { priority: 5 }), 1);
  const r = begin(s, 1);
  const cls = s.classes.get(2)!;
  reserveClass(r, cls, 5, 2);
  assert.deepEqual([...r.reservedAt], [[2, 5], [4, 5]]);
  // Workers already reserved are not taken twice; worker 3 can never run the class.
  reserveClass(r, cls, 5, 5);
  assert.deepEqual([...r.reservedAt], [[2, 5], [4, 5], [1, 5]]);
});

Deno.test("reserveWorkers() moves scheduleAt to the earliest lapse of a time request", () => {
  const s = testState();
  addWorkers(s, [
    { pools: ["cpus=2"], timeLimitMs: 10_000 },
    { pools: ["cpus=2"], timeLimitMs: 8000 },
    { pools: ["cpus=2"] },
  ]);
  onSubmit(s, jobSubmit("cpus=2", 3, { priority: 5, timeRequestMs: 4000 }), 0);
  const r = begin(s);
  const cls = s.classes.get(1)!;
  const [w1, w2, w3] = [1, 2, 3].map((id) => s.workers.get(id)!);
  reserveWorkers(r, cls, 5, [w3!]);
  assert.equal(s.scheduleAt, null);
  reserveWorkers(r, cls, 5, [w1!]);
  assert.equal(s.scheduleAt, 6001);
  reserveWorkers(r, cls, 5, [w2!]);
  assert.equal(s.scheduleAt, 4001);
  assert.deepEqual([...r.reservedAt], [[3, 5], [1, 5], [2, 5]]);
});

Deno.test("reservationLapse(): when the last usable variant's time request stops fitting", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"], timeLimitMs: 10_000 }, { pools: ["cpus=4"] }]);
  const w = s.workers.get(1)!;
  assert.equal(reservationLapse(ensureClass(s, [cpus(1, 3000)]), w), 7001);
  assert.equal(reservationLapse(ensureClass(s, [cpus(1, 3000), cpus(2, 1000)]), w), 9001);
  // A worker without a time limit, or a usable variant without a time request: never.
  assert.equal(reservationLapse(ensureClass(s, [cpus(1, 3000)]), s.workers.get(2)!), null);
  const untimed = ensureClass(s, [cpus(1, 3000), cpus(2, 0)]);
  assert.equal(reservationLapse(untimed, w), null);
  // Variants the worker rejected or cannot hold do not count.
  w.blocked.add(blockKey(untimed.id, 1));
  assert.equal(reservationLapse(untimed, w), 7001);
  assert.equal(reservationLapse(ensureClass(s, [cpus(1, 3000), cpus(8, 0)]), w), 7001);
});
