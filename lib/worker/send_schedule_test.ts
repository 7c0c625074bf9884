import assert from "node:assert/strict";
import type { FromWorkerMsg } from "../protocol/messages.ts";
import {
  FLUSH_GAP_MS,
  flushGapMs,
  MAX_FLUSH_GAP_MS,
  nextMeanRunMs,
  SendSchedule,
} from "./send_schedule.ts";

Deno.test("flushGapMs() grows with the work the prefilled queue covers, within its bounds", () => {
  const table: [number, number, number, number][] = [
    // prefilled, meanRunMs, running, gap
    [0, 1000, 2, FLUSH_GAP_MS],
    [10, 0, 2, FLUSH_GAP_MS],
    [1, 10, 1, FLUSH_GAP_MS], // covers 10 ms: a quarter is under the least gap
    [4, 20, 2, 10],
    [8, 20, 0, 40], // no process running counts as one
    [40, 100, 2, MAX_FLUSH_GAP_MS],
  ];
  for (const [prefilled, meanRunMs, running, gap] of table) {
    assert.equal(flushGapMs({ prefilled, meanRunMs, running }), gap, `${prefilled} ${meanRunMs}`);
  }
});

Deno.test("nextMeanRunMs() moves a tenth of the way to the latest run time", () => {
  assert.equal(nextMeanRunMs(0, 100), 10);
  assert.equal(nextMeanRunMs(100, 100), 100);
  assert.equal(nextMeanRunMs(100, 0), 90);
});

Deno.test("SendSchedule.flushDelayMs() counts the gap from the last send", () => {
  const schedule = new SendSchedule(8000);
  const load = { prefilled: 4, meanRunMs: 20, running: 2 }; // gap 10 ms
  schedule.seal([{ kind: "ack", segment: 1 }], 10_000);
  assert.equal(schedule.flushDelayMs(load, 10_000), 10);
  assert.equal(schedule.flushDelayMs(load, 10_004), 6);
  assert.equal(schedule.flushDelayMs(load, 10_010), 0);
  assert.equal(schedule.flushDelayMs(load, 20_000), 0);
});

Deno.test("SendSchedule.seal() adds a heartbeat only after a heartbeat interval without sends", () => {
  const schedule = new SendSchedule(1000);
  const update: FromWorkerMsg = { kind: "taskUpdates", updates: [] };
  // The first loop round always sends a heartbeat.
  assert.deepEqual(schedule.seal([], 5000), [{ kind: "heartbeat", at: 5000 }]);
  assert.deepEqual(schedule.seal([], 5400), []);
  // Any batch shows the worker alive and restarts the interval.
  assert.deepEqual(schedule.seal([update], 5500), [update]);
  assert.deepEqual(schedule.seal([], 6499), []);
  assert.deepEqual(schedule.seal([update], 6500), [update, { kind: "heartbeat", at: 6500 }]);
  assert.deepEqual(schedule.seal([], 7000), []);
  assert.deepEqual(schedule.seal([], 7500), [{ kind: "heartbeat", at: 7500 }]);
});
