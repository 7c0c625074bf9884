import assert from "node:assert/strict";
import { fairShares, heldTotal, slotsFor } from "./fair_share.ts";
import { onSubmit } from "./job_events.ts";
import { addWorkers, jobSubmit, testState } from "./testdata/fixtures.ts";

Deno.test("slotsFor() counts the tasks of a class an empty worker runs at once, best variant", () => {
  const s = testState();
  const [small, big] = addWorkers(s, [{ pools: ["cpus=2"] }, { pools: ["cpus=8", "gpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=2", 1), 0);
  onSubmit(s, jobSubmit("cpus=1 gpus=1 | cpus=4", 1), 0);
  onSubmit(s, jobSubmit("cpus=all", 1), 0);
  const [two, gpuOrFour, all] = [...s.classes.values()];
  const w = (id: number) => s.workers.get(id)!;
  assert.deepEqual([slotsFor(two!, w(small!)), slotsFor(two!, w(big!))], [1, 4]);
  // The GPU variant fits once, the 4-CPU one twice.
  assert.deepEqual([slotsFor(gpuOrFour!, w(small!)), slotsFor(gpuOrFour!, w(big!))], [0, 2]);
  assert.deepEqual([slotsFor(all!, w(small!)), slotsFor(all!, w(big!))], [1, 1]);
});

Deno.test("fairShares() splits by slots over mean run time, rounding up", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=2"] }, { pools: ["cpus=2"] }, { pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  const cls = s.classes.get(1)!;
  const [a, b, c] = [...s.workers.values()];
  Object.assign(a!, { meanRunMs: 10 });
  Object.assign(b!, { meanRunMs: 20 });
  Object.assign(c!, { meanRunMs: 10 });
  // Speeds 0.2, 0.1 and 0.4 tasks per ms.
  assert.deepEqual([...fairShares(cls, [a!, b!, c!], 70)], [[1, 20], [2, 10], [3, 40]]);
  assert.deepEqual([...fairShares(cls, [a!, b!, c!], 1)], [[1, 1], [2, 1], [3, 1]]);
  // No run time yet: as fast as the others on average (10 ms).
  Object.assign(b!, { meanRunMs: null });
  assert.deepEqual([...fairShares(cls, [a!, b!, c!], 100)], [[1, 25], [2, 25], [3, 50]]);
  Object.assign(a!, { meanRunMs: null });
  assert.deepEqual([...fairShares(cls, [a!, b!], 9)], [[1, 5], [2, 5]]);
  assert.deepEqual([...fairShares(cls, [], 9)], []);
});

Deno.test("heldTotal() sums the prefilled tasks of a class over its holders", () => {
  const s = testState();
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  const cls = s.classes.get(1)!;
  assert.equal(heldTotal(cls), 0);
  cls.prefillHolders.set(1, 5).set(4, 2);
  assert.equal(heldTotal(cls), 7);
});
