import assert from "node:assert/strict";
import type { TaskUpdate } from "../protocol/mod.ts";
import { checkServerState } from "../sim/invariants.ts";
import { onTaskUpdates, stopUnfinished } from "./reactor.ts";
import { onJobClose, onJobOpen, onSubmit } from "./job_events.ts";
import { getTask, isJobComplete, type ServerState } from "./state.ts";
import { addWorkers, graphSubmit, jobSubmit, round, testState } from "./testdata/fixtures.ts";

const graph = graphSubmit;

function end(
  s: ServerState,
  worker: number,
  jobId: number,
  id: number,
  kind: "finished" | "failed",
  at: number,
): void {
  const update: TaskUpdate = kind === "finished"
    ? { kind, jobId, id, instance: 0, at }
    : { kind, jobId, id, instance: 0, at, error: "exit code 1" };
  onTaskUpdates(
    s,
    worker,
    [{ kind: "started", jobId, id, instance: 0, at, variant: 0 }],
    at,
    new Map(),
  );
  onTaskUpdates(s, worker, [update], at, new Map());
  checkServerState(s);
}

Deno.test("a diamond runs in dependency order", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  onSubmit(s, graph([[0, []], [1, [0]], [2, [0]], [3, [1, 2]]]), 0);
  checkServerState(s);
  assert.deepEqual(round(s, 1), { 1: ["1:0/v0"] });
  end(s, 1, 1, 0, "finished", 2);
  assert.deepEqual(round(s, 3), { 1: ["1:1/v0", "1:2/v0"] });
  end(s, 1, 1, 1, "finished", 4);
  assert.deepEqual(round(s, 5), {}, "task 3 still waits for task 2");
  end(s, 1, 1, 2, "finished", 6);
  assert.deepEqual(round(s, 7), { 1: ["1:3/v0"] });
  end(s, 1, 1, 3, "finished", 8);
  assert.ok(isJobComplete(s.jobs.get(1)!));
});

Deno.test("a failed dependency aborts its subtree transitively, naming the dependency", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  // 0 -> 1 -> 2 -> 3, and 4 independent.
  onSubmit(s, graph([[0, []], [1, [0]], [2, [1]], [3, [2]], [4, []]]), 0);
  assert.deepEqual(round(s, 1), { 1: ["1:0/v0", "1:4/v0"] });
  end(s, 1, 1, 0, "failed", 2);
  const job = s.jobs.get(1)!;
  assert.deepEqual([1, 2, 3].map((id) => getTask(job, id)!.state), [
    "aborted",
    "aborted",
    "aborted",
  ]);
  assert.equal(getTask(job, 1)!.error, "Dependency task 0 failed");
  assert.equal(getTask(job, 2)!.error, "Dependency task 1 was aborted");
  assert.equal(getTask(job, 4)!.state, "assigned", "the independent task is untouched");
  assert.equal(job.counts.aborted, 3);
});

Deno.test("a 100,000-task chain fails without deep recursion", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  const n = 100_000;
  const tasks: [number, number[]][] = [[0, []]];
  for (let i = 1; i < n; i++) tasks.push([i, [i - 1]]);
  onSubmit(s, graph(tasks), 0);
  assert.deepEqual(round(s, 1), { 1: ["1:0/v0"] });
  end(s, 1, 1, 0, "failed", 2);
  assert.equal(s.jobs.get(1)!.counts.aborted, n - 1);
  assert.ok(isJobComplete(s.jobs.get(1)!));
});

Deno.test("canceling a job cancels its blocked tasks instead of aborting them", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, graph([[0, []], [1, [0]]]), 0);
  round(s, 1);
  stopUnfinished(s, s.jobs.get(1)!, "canceled", 2, new Map());
  checkServerState(s);
  assert.equal(s.jobs.get(1)!.counts.canceled, 2);
});

Deno.test("cross-job dependencies and --after wait for other jobs", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0); // job 1: tasks 0, 1
  onSubmit(s, graph([[0, []]], { 0: [[1, 1]] }), 0); // job 2 task 0 needs 1:1
  onSubmit(s, jobSubmit("cpus=1", 1), 0, [1]); // job 3 waits for job 1
  checkServerState(s);
  assert.deepEqual(round(s, 1), { 1: ["1:0/v0", "1:1/v0"] });
  end(s, 1, 1, 1, "finished", 2);
  assert.deepEqual(round(s, 3), { 1: ["2:0/v0"] }, "job 2's task follows 1:1");
  end(s, 1, 1, 0, "finished", 4);
  assert.deepEqual(round(s, 5), { 1: ["3:0/v0"] }, "job 3 follows all of job 1");
});

Deno.test("--after a job that fails aborts the waiting job", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  onSubmit(s, jobSubmit("cpus=1", 3), 0, [1]);
  round(s, 1);
  end(s, 1, 1, 0, "failed", 2);
  const waiter = s.jobs.get(2)!;
  assert.equal(waiter.counts.aborted, 3);
  assert.equal(getTask(waiter, 2)!.error, "Job 1 failed");
});

Deno.test("an open job takes submits in one id space and completes only when closed", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  const id = onJobOpen(s, "open", null, 0);
  onSubmit(s, { ...jobSubmit("cpus=1", 2), jobId: id }, 1);
  onSubmit(s, { ...jobSubmit("cpus=2", 1, { first: 5, priority: 3 }), jobId: id }, 1);
  checkServerState(s);
  const job = s.jobs.get(id)!;
  assert.deepEqual(job.ids, [{ start: 0, end: 1 }, { start: 5, end: 5 }]);
  assert.equal(job.parts.length, 2);
  assert.deepEqual(round(s, 2), { 1: ["1:5/v0", "1:0/v0", "1:1/v0"] });
  end(s, 1, id, 0, "finished", 3);
  end(s, 1, id, 1, "finished", 3);
  end(s, 1, id, 5, "finished", 3);
  assert.equal(isJobComplete(job), false, "still open");
  assert.equal(job.completedAt, null);
  onJobClose(s, job, 4);
  assert.equal(job.completedAt, 4);
});

Deno.test("a submit to an open job with finished tasks counts only its own tasks as ready", () => {
  const s = testState();
  addWorkers(s, [{ pools: ["cpus=4"] }]);
  const id = onJobOpen(s, "open", null, 0);
  onSubmit(s, { ...jobSubmit("cpus=1", 3), jobId: id }, 0);
  round(s, 1);
  for (const t of [0, 1, 2]) end(s, 1, id, t, "finished", 2);
  // The new part is counted through its own ids, here fewer than the job's records.
  onSubmit(s, { ...jobSubmit("cpus=1", 2, { first: 7 }), jobId: id }, 3);
  checkServerState(s);
  assert.deepEqual(round(s, 4), { 1: [`${id}:7/v0`, `${id}:8/v0`] });
});
