import assert from "node:assert/strict";
import {
  addQueue,
  type AutoallocState,
  createAutoallocState,
  onAllocationWorker,
  onAllocationWorkerEnded,
  onAutoallocEvent,
  queueWorkers,
  removeQueue,
  resumeQueue,
} from "./state.ts";
import { testQueueParams } from "./testdata/params.ts";

const slurm = (jobId: string) => ({ kind: "slurm" as const, jobId });

function withAllocation(workerCount = 1): AutoallocState {
  const aa = createAutoallocState();
  addQueue(aa, testQueueParams({ cpus: "4", maxWorkersPerAlloc: workerCount }), 0);
  aa.inFlight.set(1, [workerCount]);
  onAutoallocEvent(aa, {
    kind: "submitted",
    queueId: 1,
    manager: "slurm",
    id: "9",
    dir: "/d/001",
    workerCount,
  }, 0);
  return aa;
}

Deno.test("an allocation runs when its first worker connects and finishes when all have left", () => {
  const aa = withAllocation(2);
  const a = aa.queues.get(1)!.allocations.get("9")!;
  assert.equal(a.state, "queued");
  assert.equal(aa.inFlight.size, 0);
  onAllocationWorker(aa, 5, slurm("9"), { cpus: 40000 }, 1000);
  assert.equal(a.state, "running");
  assert.equal(a.startedAt, 1000);
  onAllocationWorker(aa, 6, slurm("9"), { cpus: 40000 }, 1000);
  onAllocationWorkerEnded(aa, 5, slurm("9"), "idle timeout", false, 500_000);
  assert.equal(a.state, "running");
  onAllocationWorkerEnded(aa, 6, slurm("9"), "idle timeout", false, 500_000);
  assert.equal(a.state, "finished");
  assert.match(a.endReason!, /idle timeout/);
  assert.deepEqual(aa.queues.get(1)!.observedCapacity, { cpus: 40000 });
});

Deno.test("an allocation whose workers were all lost within a minute failed; 3 in a row pause", () => {
  const aa = createAutoallocState();
  addQueue(aa, testQueueParams({ cpus: "4", backlog: 5 }), 0);
  const queue = aa.queues.get(1)!;
  for (const [i, id] of ["1", "2", "3"].entries()) {
    onAutoallocEvent(aa, {
      kind: "submitted",
      queueId: 1,
      manager: "slurm",
      id,
      dir: `/d/${id}`,
      workerCount: 1,
    }, 0);
    onAllocationWorker(aa, i + 1, slurm(id), { cpus: 40000 }, 10_000);
    onAllocationWorkerEnded(aa, i + 1, slurm(id), "connection lost", true, 20_000);
    assert.equal(queue.allocations.get(id)!.state, "failed");
  }
  assert.equal(queue.state, "paused");
  assert.match(queue.pauseReason!, /3 allocations failed in a row/);
  resumeQueue(aa, queue, 30_000);
  assert.equal(queue.state, "active");
  assert.equal(queue.allocationFailures, 0);
});

Deno.test("a worker lost after a minute ends its allocation well", () => {
  const aa = withAllocation();
  onAllocationWorker(aa, 1, slurm("9"), { cpus: 40000 }, 0);
  onAllocationWorkerEnded(aa, 1, slurm("9"), "connection lost", true, 120_000);
  assert.equal(aa.queues.get(1)!.allocations.get("9")!.state, "finished");
});

Deno.test("the batch system's word moves allocations; one that ended with no worker failed", () => {
  const aa = withAllocation();
  const a = aa.queues.get(1)!.allocations.get("9")!;
  const status = (state: "running" | "finished" | "failed", reason: string | null = null) =>
    onAutoallocEvent(
      aa,
      { kind: "status", manager: "slurm", states: [{ id: "9", state, reason }] },
      5000,
    );
  status("running");
  assert.equal(a.state, "running");
  status("finished", "COMPLETED");
  assert.equal(a.state, "failed");
  assert.equal(a.endReason, "COMPLETED");
  assert.equal(aa.queues.get(1)!.allocationFailures, 1);
});

Deno.test("status queries that keep failing end a queued allocation after 10 errors", () => {
  const aa = withAllocation();
  const a = aa.queues.get(1)!.allocations.get("9")!;
  for (let i = 0; i < 10; i++) {
    onAutoallocEvent(aa, { kind: "statusFailed", manager: "slurm", ids: ["9"], error: "x" }, i);
  }
  assert.equal(a.state, "queued");
  onAutoallocEvent(aa, { kind: "statusFailed", manager: "slurm", ids: ["9"], error: "x" }, 11);
  assert.equal(a.state, "failed");
});

Deno.test("queueWorkers() counts workers still to come as queued, connected ones as running", () => {
  const aa = withAllocation(2);
  aa.inFlight.set(1, [3]);
  assert.deepEqual(queueWorkers(aa, aa.queues.get(1)!), { queued: 5, running: 0 });
  // One of the allocation's two workers connected: the other is still to come.
  onAllocationWorker(aa, 1, slurm("9"), { cpus: 40000 }, 0);
  assert.deepEqual(queueWorkers(aa, aa.queues.get(1)!), { queued: 4, running: 1 });
  onAllocationWorker(aa, 2, slurm("9"), { cpus: 40000 }, 0);
  assert.deepEqual(queueWorkers(aa, aa.queues.get(1)!), { queued: 3, running: 2 });
});

Deno.test("ended allocations beyond the newest 20 are forgotten", () => {
  const aa = createAutoallocState();
  addQueue(aa, testQueueParams({ cpus: "4" }), 0);
  for (let i = 1; i <= 25; i++) {
    const id = String(i);
    onAutoallocEvent(aa, {
      kind: "submitted",
      queueId: 1,
      manager: "slurm",
      id,
      dir: `/d/${i}`,
      workerCount: 1,
    }, i);
    onAllocationWorker(aa, i, slurm(id), { cpus: 40000 }, i);
    onAllocationWorkerEnded(aa, i, slurm(id), "idle", false, 100_000 + i);
  }
  const ids = [...aa.queues.get(1)!.allocations.keys()];
  assert.equal(ids.length, 20);
  assert.equal(ids[0], "6");
});

Deno.test("removeQueue() returns the live allocations to cancel", () => {
  const aa = withAllocation();
  assert.deepEqual(removeQueue(aa, aa.queues.get(1)!), ["9"]);
  assert.equal(aa.queues.size, 0);
  assert.ok(aa.dirtyQueues.has(1));
});
