import assert from "node:assert/strict";
import { prefillCap, sampleRoundTrip, sampleRunTime, STEADY_RUN_SAMPLES } from "./prefill_cap.ts";
import { addWorkers, testState } from "./testdata/fixtures.ts";
import type { SchedulerConfig } from "./state.ts";

const CONFIG: SchedulerConfig = { prefillMax: 40, prefillReserve: 16, prefillLimit: 1000 };

function worker() {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  return s.workers.get(1)!;
}

Deno.test("prefillCap() is prefillMax until both the round trip and the run time are measured", () => {
  const w = worker();
  assert.equal(prefillCap(w, CONFIG), 40);
  sampleRoundTrip(w, 900); // the first round trip, the worker's cold start, is left out
  assert.equal(w.roundTripMs, null);
  sampleRunTime(w, 5);
  assert.equal(prefillCap(w, CONFIG), 40);
  sampleRoundTrip(w, 300);
  // 3 round trips of 300 ms with 5 ms tasks, one task running: 180.
  assert.equal(prefillCap(w, CONFIG), 180);
});

Deno.test("prefillCap() stays between prefillMax and prefillLimit", () => {
  const w = worker();
  sampleRoundTrip(w, 200);
  sampleRoundTrip(w, 2);
  sampleRunTime(w, 100);
  assert.equal(prefillCap(w, CONFIG), 40); // a fast link needs less than the base
  const slow = worker();
  sampleRoundTrip(slow, 5000);
  sampleRoundTrip(slow, 5000);
  sampleRunTime(slow, 0);
  assert.equal(prefillCap(slow, CONFIG), 1000);
  assert.equal(prefillCap(slow, { prefillMax: 40, prefillReserve: 16 }), 40); // no limit: base
  assert.equal(prefillCap(slow, { ...CONFIG, prefillMax: 0 }), 0); // prefill off stays off
});

Deno.test("sampleRoundTrip() and sampleRunTime() keep moving averages, ignoring bad samples", () => {
  const w = worker();
  sampleRoundTrip(w, 1000);
  sampleRoundTrip(w, 100);
  sampleRoundTrip(w, 200);
  assert.equal(w.roundTripMs, 120);
  sampleRoundTrip(w, -5);
  sampleRoundTrip(w, Number.NaN);
  assert.equal(w.roundTripMs, 120);
  sampleRunTime(w, 10);
  assert.equal(w.meanRunMs, 10);
});

Deno.test("sampleRunTime() keeps a steady mean: plain over the first 100 runs, then moving", () => {
  const w = worker();
  for (let i = 0; i < 50; i++) sampleRunTime(w, i % 2 === 0 ? 4 : 8);
  assert.ok(Math.abs(w.steadyRunMs! - 6) < 1e-9, `${w.steadyRunMs}`);
  assert.equal(w.runSamples, 50);
  sampleRunTime(w, Number.NaN);
  assert.equal(w.runSamples, 50);
  // The fast average follows the last runs; the steady one barely moves.
  sampleRunTime(w, 20);
  assert.ok(w.meanRunMs! > 8, `${w.meanRunMs}`);
  assert.ok(Math.abs(w.steadyRunMs! - 6.27) < 0.01, `${w.steadyRunMs}`);
  for (let i = 0; i < 500; i++) sampleRunTime(w, 12);
  assert.equal(w.runSamples, STEADY_RUN_SAMPLES);
  assert.ok(Math.abs(w.steadyRunMs! - 12) < 0.1, `${w.steadyRunMs}`);
});
