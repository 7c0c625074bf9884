import assert from "node:assert/strict";
import { onJobOpen, onSubmit } from "../scheduler/mod.ts";
import { graphSubmit, jobSubmit, testState } from "../scheduler/testdata/fixtures.ts";
import { checkSubmit, SubmitRefusedError } from "./submit_checks.ts";

function graph(tasks: [number, number[]][], ext?: [number, number, number]) {
  return graphSubmit(tasks, ext ? { [ext[0]]: [[ext[1], ext[2]]] } : {});
}

Deno.test("checkSubmit() accepts dependencies defined before their dependents", () => {
  const s = testState();
  const { submit, after } = checkSubmit(s, graph([[0, []], [1, [0]], [2, [0, 1]]]));
  assert.equal(submit.graph!.tasks.length, 3);
  assert.deepEqual(after, []);
});

Deno.test("checkSubmit() refuses self, later, unknown and cyclic dependencies", () => {
  const s = testState();
  assert.throws(() => checkSubmit(s, graph([[0, [0]]])), /Task 0 depends on itself/);
  assert.throws(
    () => checkSubmit(s, graph([[0, [1]], [1, []]])),
    /Task 0 depends on task 1, which is not defined before it/,
  );
  assert.throws(() => checkSubmit(s, graph([[0, [5]]])), SubmitRefusedError);
  // A cycle always has a dependency that is not defined before its dependent.
  assert.throws(() => checkSubmit(s, graph([[0, [1]], [1, [0]]])), /not defined before it/);
});

Deno.test("checkSubmit() checks dependencies on other jobs' tasks", () => {
  const s = testState();
  onSubmit(s, jobSubmit("cpus=1", 3), 0); // job 1: tasks 0-2
  checkSubmit(s, graph([[0, []]], [0, 1, 2]));
  assert.throws(
    () => checkSubmit(s, graph([[0, []]], [0, 1, 7])),
    /task 1:7, which does not exist/,
  );
  assert.throws(() => checkSubmit(s, graph([[0, []]], [0, 4, 0])), /job 4 does not exist/);
});

Deno.test("checkSubmit() places submits into open jobs: auto ids shift, reused ids are refused", () => {
  const s = testState();
  const closed = onSubmit(s, jobSubmit("cpus=1", 1), 0);
  const open = onJobOpen(s, "o", null, 0);
  assert.throws(() => checkSubmit(s, { ...jobSubmit("cpus=1", 1), jobId: 99 }), /Job 99 not found/);
  assert.throws(
    () => checkSubmit(s, { ...jobSubmit("cpus=1", 1), jobId: closed }),
    new RegExp(`Job ${closed} is not open`),
  );
  onSubmit(s, { ...jobSubmit("cpus=1", 3), jobId: open }, 0); // ids 0-2
  assert.throws(
    () => checkSubmit(s, { ...jobSubmit("cpus=1", 1, { first: 2 }), jobId: open }),
    new RegExp(`Task 2 already exists in job ${open}`),
  );
  const shifted = checkSubmit(s, { ...jobSubmit("cpus=1", 2), jobId: open, autoIds: true });
  assert.deepEqual(shifted.submit.ids, [{ start: 3, end: 4 }]);
  // A graph's own dependencies shift with it; dependencies on the open job's tasks stay.
  const g = checkSubmit(s, { ...graph([[0, []], [1, [0]]]), jobId: open, autoIds: true });
  assert.deepEqual(g.submit.graph!.tasks.map((t) => [t.id, t.deps]), [[3, []], [4, [3]]]);
});

Deno.test("checkSubmit() resolves --after and refuses unknown jobs and a job waiting for itself", () => {
  const s = testState();
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  assert.deepEqual(checkSubmit(s, { ...jobSubmit("cpus=1", 1), after: "1-2" }).after, [1, 2]);
  assert.deepEqual(checkSubmit(s, { ...jobSubmit("cpus=1", 1), after: "last" }).after, [2]);
  assert.throws(() => checkSubmit(s, { ...jobSubmit("cpus=1", 1), after: "7" }), /Job 7/);
  const open = onJobOpen(s, "o", null, 0);
  assert.throws(
    () => checkSubmit(s, { ...jobSubmit("cpus=1", 1), jobId: open, after: String(open) }),
    /cannot wait for itself/,
  );
});
