import assert from "node:assert/strict";
import { decideSubmissions, passDue } from "./policy.ts";
import {
  addQueue,
  type AutoallocState,
  createAutoallocState,
  onAllocationWorker,
  onAutoallocEvent,
  pauseQueue,
} from "./state.ts";
import type { QueueParams } from "./queue.ts";
import { testQueueParams } from "./testdata/params.ts";
import { createServerState, onSubmit, type ServerState } from "../scheduler/mod.ts";
import { jobSubmit, multiNodeSubmit } from "../scheduler/testdata/fixtures.ts";

const HOUR = 3600_000;

function setup(
  tasks: [resource: string, n: number, timeRequestMs?: number][],
  ...queues: Partial<QueueParams>[]
): { sched: ServerState; aa: AutoallocState } {
  const sched = createServerState("uid");
  for (const [r, n, t] of tasks) onSubmit(sched, jobSubmit(r, n, { timeRequestMs: t ?? 0 }), 0);
  const aa = createAutoallocState();
  for (const q of queues) addQueue(aa, testQueueParams(q), 0);
  return { sched, aa };
}

function submitted(aa: AutoallocState, queueId: number, id: string, workerCount = 1): void {
  onAutoallocEvent(aa, {
    kind: "submitted",
    queueId,
    manager: "slurm",
    id,
    dir: `/d/${id}`,
    workerCount,
  }, 0);
}

Deno.test("decideSubmissions(): the backlog caps queued allocations", () => {
  const { sched, aa } = setup([["cpus=1", 200]], { cpus: "4", backlog: 4 });
  const [d] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(d!.submit, [1, 1, 1, 1]);
  assert.equal(d!.wantedWorkers, 50);
  assert.match(d!.limits.join("\n"), /backlog 4/);
});

Deno.test("decideSubmissions(): queued allocations count against demand and the backlog", () => {
  const { sched, aa } = setup([["cpus=4", 3]], { cpus: "4", backlog: 4 });
  submitted(aa, 1, "100");
  submitted(aa, 1, "101");
  const [d] = decideSubmissions(aa, sched, 0);
  // Three workers wanted, two coming: one more.
  assert.deepEqual(d!.submit, [1]);
  assert.equal(d!.queuedAllocations, 2);
});

Deno.test("decideSubmissions(): max worker count caps queued and running workers", () => {
  const { sched, aa } = setup([["cpus=4", 30]], { cpus: "4", backlog: 10, maxWorkerCount: 3 });
  submitted(aa, 1, "100");
  onAllocationWorker(aa, 1, { kind: "slurm", jobId: "100" }, { cpus: 40000 }, 0);
  const [d] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(d!.submit, [1, 1]);
  assert.match(d!.limits.join("\n"), /max worker count 3/);
});

Deno.test("decideSubmissions(): workers are split into allocations of max workers per alloc", () => {
  const { sched, aa } = setup([["cpus=4", 7]], { cpus: "4", backlog: 10, maxWorkersPerAlloc: 3 });
  assert.deepEqual(decideSubmissions(aa, sched, 0)[0]!.submit, [3, 3, 1]);
});

Deno.test("decideSubmissions(): tasks whose time request exceeds the time limit ask for nothing", () => {
  const { sched, aa } = setup([["cpus=1", 5, 2 * HOUR]], { cpus: "4", timeLimitMs: HOUR });
  const [d] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(d!.submit, []);
  assert.match(d!.limits.join("\n"), /no waiting task/);
  // The worker time limit is what counts when it is set.
  const longer = setup([["cpus=1", 5, 2 * HOUR]], { cpus: "4", timeLimitMs: 3 * HOUR });
  assert.deepEqual(decideSubmissions(longer.aa, longer.sched, 0)[0]!.submit, [1]);
  const shorter = setup([["cpus=1", 5, 2 * HOUR]], {
    cpus: "4",
    timeLimitMs: 3 * HOUR,
    workerTimeLimitMs: HOUR,
  });
  assert.deepEqual(decideSubmissions(shorter.aa, shorter.sched, 0)[0]!.submit, []);
});

Deno.test("decideSubmissions(): no guess means one probe; a connected worker's resources decide then", () => {
  const { sched, aa } = setup([["gpus=1", 10]], { backlog: 5 });
  const [probe] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(probe!.submit, [1]);
  assert.equal(probe!.guessed, true);
  submitted(aa, 1, "100");
  // While the probe is queued, nothing more.
  assert.deepEqual(decideSubmissions(aa, sched, 0)[0]!.submit, []);
  // Its worker has no GPU: nothing ever.
  onAllocationWorker(aa, 1, { kind: "slurm", jobId: "100" }, { cpus: 40000 }, 0);
  const [after] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(after!.submit, []);
  assert.equal(after!.guessed, false);
});

Deno.test("decideSubmissions(): a queue whose workers lack a resource asks for nothing", () => {
  const { sched, aa } = setup([["cpus=8", 3]], { cpus: "4" });
  assert.deepEqual(decideSubmissions(aa, sched, 0)[0]!.submit, []);
  const { sched: s2, aa: a2 } = setup([["cpus=2", 3]], { cpus: "4", backlog: 3 });
  assert.deepEqual(decideSubmissions(a2, s2, 0)[0]!.submit, [1, 1]);
});

Deno.test("decideSubmissions(): earlier queues take demand first", () => {
  const { sched, aa } = setup(
    [["cpus=1", 8]],
    { cpus: "4", maxWorkerCount: 1 },
    { cpus: "4", backlog: 3 },
  );
  const [a, b] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(a!.submit, [1]);
  assert.deepEqual(b!.submit, [1]);
});

Deno.test("decideSubmissions(): multi-node tasks go to a queue whose allocations are big enough", () => {
  const sched = createServerState("uid");
  onSubmit(sched, multiNodeSubmit(3, 2), 0);
  const aa = createAutoallocState();
  addQueue(aa, testQueueParams({ cpus: "4", maxWorkersPerAlloc: 2, backlog: 5 }), 0);
  addQueue(aa, testQueueParams({ cpus: "4", maxWorkersPerAlloc: 4, backlog: 5 }), 0);
  const [small, big] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(small!.submit, []);
  assert.deepEqual(big!.submit, [3, 3]);
});

Deno.test("decideSubmissions(): a multi-node task waits for an allocation still starting", () => {
  const sched = createServerState("uid");
  onSubmit(sched, multiNodeSubmit(2, 1), 0);
  const aa = createAutoallocState();
  addQueue(aa, testQueueParams({ cpus: "4", maxWorkersPerAlloc: 2, backlog: 3 }), 0);
  assert.deepEqual(decideSubmissions(aa, sched, 0)[0]!.submit, [2]);
  submitted(aa, 1, "100", 2);
  // Its first worker connected, the second not yet: no second allocation for the same task.
  onAllocationWorker(aa, 1, { kind: "slurm", jobId: "100" }, { cpus: 40000 }, 0);
  const [d] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(d!.submit, []);
  assert.match(d!.limits.join("\n"), /allocations still starting/);
});

Deno.test("decideSubmissions(): a paused queue submits nothing and says why", () => {
  const { sched, aa } = setup([["cpus=1", 8]], { cpus: "4" });
  pauseQueue(aa, aa.queues.get(1)!, "by the user");
  const [d] = decideSubmissions(aa, sched, 0);
  assert.deepEqual(d!.submit, []);
  assert.match(d!.limits.join("\n"), /paused: by the user/);
});

Deno.test("decideSubmissions(): failures back off by 0, 1, 15, 30, 60 minutes and 10 pause", () => {
  const { sched, aa } = setup([["cpus=1", 8]], { cpus: "4" });
  const fail = (now: number) =>
    onAutoallocEvent(aa, {
      kind: "submitFailed",
      queueId: 1,
      dir: "/d",
      error: "boom",
      workerCount: 1,
    }, now);
  const queue = aa.queues.get(1)!;
  fail(0);
  assert.equal(queue.nextSubmitAt, 60_000);
  assert.deepEqual(decideSubmissions(aa, sched, 30_000)[0]!.submit, []);
  assert.match(decideSubmissions(aa, sched, 30_000)[0]!.limits.join("\n"), /backing off/);
  assert.deepEqual(decideSubmissions(aa, sched, 60_000)[0]!.submit, [1]);
  fail(60_000);
  assert.equal(queue.nextSubmitAt, 60_000 + 15 * 60_000);
  for (let i = 2; i < 10; i++) fail(HOUR * i);
  assert.equal(queue.nextSubmitAt, HOUR * 9 + HOUR);
  assert.equal(queue.state, "paused");
  assert.match(queue.pauseReason!, /10 submissions failed in a row \(the last: boom\)/);
});

Deno.test("decideSubmissions(): a success resets the back-off", () => {
  const { aa } = setup([["cpus=1", 8]], { cpus: "4", backlog: 2 });
  onAutoallocEvent(
    aa,
    { kind: "submitFailed", queueId: 1, dir: "/d", error: "x", workerCount: 1 },
    0,
  );
  submitted(aa, 1, "7");
  const queue = aa.queues.get(1)!;
  assert.equal(queue.backoffStep, 0);
  assert.equal(queue.submitFailures, 0);
});

Deno.test("passDue(): events ask for a pass after the tick, silence after the longest delay", () => {
  const { aa } = setup([], { cpus: "4" });
  assert.equal(passDue(aa, 0), true);
  aa.lastPassAt = 0;
  aa.wanted = false;
  assert.equal(passDue(aa, 10_000), false);
  assert.equal(passDue(aa, 30_000), true);
  aa.wanted = true;
  assert.equal(passDue(aa, 50), false);
  assert.equal(passDue(aa, 100), true);
  assert.equal(passDue(createAutoallocState(), 0), false);
});
