import assert from "node:assert/strict";
import { type EndgameLane, endgameLanes, inEndgame, shareByEnd, startingSoon } from "./endgame.ts";
import { onSubmit } from "./job_events.ts";
import type { WorkerRecord } from "./state.ts";
import { addWorkers, jobSubmit, testState } from "./testdata/fixtures.ts";

/** A state with one `cpus=1` class and `n` `cpus=1` workers measured at 40 ms and 5 ms. */
function measured(n: number) {
  const s = testState(40, 16);
  addWorkers(s, Array.from({ length: n }, () => ({ pools: ["cpus=1"] })));
  onSubmit(s, jobSubmit("cpus=1", 100), 0);
  const workers = [...s.workers.values()];
  for (const w of workers) Object.assign(w, { roundTripMs: 40, steadyRunMs: 5, lastSeen: 1000 });
  return { cls: s.classes.get(1)!, workers };
}

const lane = (id: number, startAt: number, rate: number, roundTripMs = 40): EndgameLane => ({
  worker: { id, roundTripMs } as WorkerRecord,
  startAt,
  rate,
  drained: false,
});

Deno.test("endgameLanes() projects each worker's work left from the news it last sent", () => {
  const { cls, workers: [a, b, c] } = measured(3);
  cls.prefillHolders.set(a!.id, 10);
  a!.classLoad.set(cls.id, 1);
  b!.classLoad.set(cls.id, 1);
  c!.lastSeen = 990;
  cls.prefillHolders.set(c!.id, 10);
  const lanes = endgameLanes(1000, cls, [a!, b!, c!], () => 0)!;
  // 10.5 tasks of 5 ms, less the 20 ms since the news left it.
  assert.deepEqual(lanes[0], { worker: a, startAt: 1032.5, rate: 0.2, drained: false });
  // Half a task left: dry before a task sent now arrives (20 ms); placement reaches it a
  // round trip after it is free.
  assert.deepEqual(lanes[1], { worker: b, startAt: 1040, rate: 0.2, drained: true });
  // Heard from 10 ms earlier: 10 ms less left.
  assert.equal(lanes[2]!.startAt, 1020);
  // Given a task to run in this pass, it is not dry.
  const placed = endgameLanes(1000, cls, [b!], () => 1)!;
  assert.deepEqual(placed[0], { worker: b, startAt: 1020, rate: 0.2, drained: false });
});

Deno.test("endgameLanes() needs every round trip and some run time; others run at the mean", () => {
  const { cls, workers: [a, b] } = measured(2);
  b!.steadyRunMs = null;
  assert.equal(endgameLanes(1000, cls, [a!, b!], () => 0)![1]!.rate, 0.2);
  a!.steadyRunMs = null;
  assert.equal(endgameLanes(1000, cls, [a!, b!], () => 0), null);
  a!.steadyRunMs = 5;
  b!.roundTripMs = null;
  assert.equal(endgameLanes(1000, cls, [a!, b!], () => 0), null);
});

Deno.test("inEndgame(): what levels the lanes plus two round trips of their work", () => {
  // Lane 2 frees up 50 ms later: 10 tasks bring lane 1 up to it; 2 x 40 ms x 0.2 a lane.
  const lanes = [lane(1, 0, 0.2), lane(2, 50, 0.2)];
  assert.equal(inEndgame(lanes, 42), true);
  assert.equal(inEndgame(lanes, 43), false);
  assert.equal(inEndgame([lane(1, 0, 0.2), lane(2, 0, 0.2)], 33), false);
  // A queue already in it stays up to twice that.
  assert.equal(inEndgame(lanes, 84, 2), true);
  assert.equal(inEndgame(lanes, 85, 2), false);
});

Deno.test("shareByEnd() gives each lane what it ends by a common time", () => {
  // Twice the rate, twice the tasks.
  assert.deepEqual([...shareByEnd([lane(1, 0, 2), lane(2, 0, 1)], 30).values()], [20, 10]);
  // A lane that frees up after the others are done gets none.
  assert.deepEqual([...shareByEnd([lane(1, 0, 1), lane(2, 100, 1)], 30).values()], [30, 0]);
  // Floors: 7 over three equal lanes, the odd one to the first.
  assert.deepEqual([...shareByEnd([lane(1, 0, 1), lane(2, 0, 1), lane(3, 0, 1)], 7).values()], [
    3,
    2,
    2,
  ]);
  assert.deepEqual([...shareByEnd([lane(1, 0, 1), lane(2, 5, 1)], 0).values()], [0, 0]);
  const many = shareByEnd([lane(1, 3, 0.7), lane(2, 11, 0.3), lane(3, 0, 0.05)], 1234);
  assert.equal([...many.values()].reduce((a, b) => a + b, 0), 1234);
});

Deno.test("startingSoon(): the tasks that start within two round trips", () => {
  assert.equal(startingSoon(lane(1, 1000, 0.2), 1000), 16);
  assert.equal(startingSoon(lane(1, 1050, 0.2), 1000), 6);
  assert.equal(startingSoon(lane(1, 1080, 0.2), 1000), 0);
  assert.equal(startingSoon(lane(1, 1200, 0.2), 1000), 0);
});
