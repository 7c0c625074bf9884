import assert from "node:assert/strict";
import { completedCount, formatStateCounts, renderProgressBar } from "./progress.ts";

Deno.test("renderProgressBar() fills completed cells proportionally, rounding down", () => {
  assert.equal(renderProgressBar({ finished: 5, waiting: 5 }, 10, 10), "[#####.....]");
  assert.equal(
    renderProgressBar({ finished: 1, failed: 1, canceled: 1, aborted: 1, running: 6 }, 10, 10),
    "[####......]",
  );
  assert.equal(renderProgressBar({ finished: 1 }, 3, 10), "[###.......]");
  assert.equal(renderProgressBar({ finished: 2 }, 3, 10), "[######....]");
  assert.equal(renderProgressBar({ finished: 3 }, 3, 10), "[##########]");
  assert.equal(renderProgressBar({}, 0, 4), "[....]");
  assert.equal(renderProgressBar({ finished: 9 }, 3, 4), "[####]");
});

Deno.test("renderProgressBar() defaults to 40 cells", () => {
  const bar = renderProgressBar({ finished: 1, running: 1 }, 2);
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

Deno.test("formatStateCounts() lists non-zero states in order", () => {
  assert.equal(
    formatStateCounts({ finished: 3, waiting: 16, running: 1 }),
    "1 RUNNING, 16 WAITING, 3 FINISHED",
  );
  assert.equal(
    formatStateCounts({ aborted: 1, canceled: 2, failed: 3, finished: 0 }),
    "3 FAILED, 2 CANCELED, 1 ABORTED",
  );
  assert.equal(formatStateCounts({}), "");
});
