import assert from "node:assert/strict";
import { completedCount, formatStateLines, jobStateCell, renderProgressBar } from "./progress.ts";

Deno.test("renderProgressBar() rounds each state's share up, as HyperQueue", () => {
  assert.equal(renderProgressBar({ finished: 5, waiting: 5 }, 10, 10), "[#####.....]");
  assert.equal(renderProgressBar({ finished: 1 }, 3, 10), "[####......]");
  assert.equal(renderProgressBar({ finished: 2 }, 3, 10), "[#######...]");
  assert.equal(renderProgressBar({ finished: 3 }, 3, 10), "[##########]");
  // Running tasks fill cells too; each state is rounded up on its own.
  assert.equal(renderProgressBar({ failed: 1, finished: 1, running: 1 }, 30, 10), "[###.......]");
  assert.equal(renderProgressBar({}, 0, 4), "[....]");
  assert.equal(renderProgressBar({ finished: 9 }, 3, 4), "[####]");
  assert.equal(renderProgressBar({ canceled: 2, finished: 2 }, 4, 3), "[###]");
});

Deno.test("renderProgressBar() defaults to 40 cells", () => {
  const bar = renderProgressBar({ finished: 1, waiting: 1 }, 2);
  assert.equal(bar, `[${"#".repeat(20)}${".".repeat(20)}]`);
  assert.equal(bar.length, 42);
});

Deno.test("renderProgressBar() rejects bad numbers", () => {
  assert.throws(() => renderProgressBar({}, -1), RangeError);
  assert.throws(() => renderProgressBar({}, 1, 0), RangeError);
  assert.throws(() => renderProgressBar({ finished: -2 }, 1), {
    name: "RangeError",
    message: 'Cannot use task count -2 for "finished": it must be an integer >= 0',
  });
});

Deno.test("completedCount() sums terminal states", () => {
  assert.equal(
    completedCount({ running: 1, waiting: 2, finished: 3, failed: 4, canceled: 5, aborted: 6 }),
    18,
  );
});

Deno.test("formatStateLines() lists non-zero states in HyperQueue's order", () => {
  assert.deepEqual(formatStateLines({ finished: 3, running: 1 }, 20), [
    "RUNNING (1)",
    "FINISHED (3)",
    "WAITING (16)",
  ]);
  assert.deepEqual(formatStateLines({ aborted: 1, canceled: 2, failed: 3 }, 6), [
    "FAILED (3)",
    "CANCELED (2)",
    "ABORTED (1)",
  ]);
  assert.deepEqual(formatStateLines({}, 0), []);
});

Deno.test("jobStateCell() puts the bar above the state lines", () => {
  assert.equal(jobStateCell({ waiting: 4 }, 4), `[${".".repeat(40)}]\nWAITING (4)`);
});
