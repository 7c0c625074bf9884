import assert from "node:assert/strict";
import { TaskTable } from "./task_table.ts";
import { pristineTask } from "./state.ts";

for (
  const [label, ids] of [["one range", [{ start: 10, end: 19 }]], ["several ranges", [
    { start: 1, end: 2 },
    { start: 10, end: 19 },
  ]]] as const
) {
  Deno.test(`TaskTable (${label}) behaves like a map in insertion order`, () => {
    const t = new TaskTable(ids);
    assert.equal(t.size, 0);
    assert.equal(t.get(12), undefined);
    const a = pristineTask();
    const b = { ...pristineTask(), state: "finished" as const };
    t.set(15, a).set(11, b);
    assert.equal(t.size, 2);
    assert.equal(t.get(15), a);
    assert.ok(t.has(11) && !t.has(12));
    t.set(15, b); // replacing keeps the size and the order
    assert.equal(t.size, 2);
    assert.deepEqual([...t.keys()], [15, 11]);
    assert.deepEqual([...t.values()], [b, b]);
    assert.deepEqual([...t].map(([id]) => id), [15, 11]);
  });
}

Deno.test("TaskTable refuses ids outside a single-range job", () => {
  const t = new TaskTable([{ start: 10, end: 19 }]);
  assert.equal(t.get(9), undefined);
  assert.equal(t.get(20), undefined);
  assert.throws(() => t.set(20, pristineTask()), /task 20: it is not in the job/);
});
