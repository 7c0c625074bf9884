import assert from "node:assert/strict";
import { createServerState, type ServerState } from "./state.ts";
import {
  onSubmit,
  onTaskUpdates,
  onTick,
  onWorkerLost,
  onWorkerRegistered,
  type Outbox,
  stopUnfinished,
} from "./reactor.ts";
import { schedule } from "./schedule.ts";
import type { JobSubmit, TaskUpdate, WorkerConfig } from "../fsproto/messages.ts";
import { parsePool } from "../resources/descriptor.ts";
import { MemoryJournalStore } from "../journal/store.ts";
import { restoreState, takeBatch } from "../journal/restore.ts";

function config(cpus: number, heartbeatMs = 1000): WorkerConfig {
  return {
    hostname: "h",
    pid: 1,
    heartbeatMs,
    idleTimeoutMs: null,
    timeLimitMs: null,
    workDir: "/tmp",
    onServerLost: "stop",
    group: "default",
    resources: [parsePool("cpus", String(cpus))],
    manager: null,
    startedAt: 0,
  };
}

function job(
  ids: [number, number],
  opts: { cpus?: number; priority?: number; maxFails?: number | null } = {},
): JobSubmit {
  return {
    name: "j",
    maxFails: opts.maxFails ?? null,
    submitDir: "/tmp",
    ids: [{ start: ids[0], end: ids[1] }],
    template: {
      program: { args: ["true"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
      request: {
        entries: [{ resource: "cpus", amount: (opts.cpus ?? 1) * 10_000, policy: "compact" }],
        minTimeMs: 0,
      },
      priority: opts.priority ?? 0,
      timeLimitMs: null,
      crashLimit: 5,
    },
  };
}

function assigned(out: Outbox, workerId: number): number[] {
  return (out.get(workerId) ?? []).flatMap((m) =>
    m.kind === "computeTasks" ? m.tasks.map((t) => t.id) : []
  );
}

function setup(prefillMax = 0): ServerState {
  return createServerState("uid", { prefillMax, prefillReserve: 0 });
}

Deno.test("schedule() fills free CPUs in priority order and never over-commits", () => {
  const s = setup();
  const out: Outbox = new Map();
  const w = onWorkerRegistered(s, "k1", config(4), 0, out);
  onSubmit(s, job([0, 9], { cpus: 1 }), 0);
  onSubmit(s, job([0, 1], { cpus: 2, priority: 5 }), 0);
  const out2: Outbox = new Map();
  schedule(s, 0, out2);
  const msgs = out2.get(w)!;
  // The two 2-CPU high-priority tasks take all 4 CPUs.
  assert.deepEqual(msgs.map((m) => m.kind === "computeTasks" ? m.jobId : 0), [2]);
  assert.equal(s.workers.get(w)!.fitLoad, 40_000);
});

Deno.test("schedule() prefills a bounded queue beyond the CPUs", () => {
  const s = setup(3);
  const w = onWorkerRegistered(s, "k1", config(2), 0, new Map());
  onSubmit(s, job([1, 100]), 0);
  const out: Outbox = new Map();
  schedule(s, 0, out);
  assert.deepEqual(assigned(out, w), [1, 2, 3, 4, 5]);
  assert.equal(s.jobs.get(1)!.counts.waiting, 95);
});

Deno.test("task updates finish tasks and free CPUs; stale instances are ignored", () => {
  const s = setup();
  const w = onWorkerRegistered(s, "k1", config(1), 0, new Map());
  onSubmit(s, job([0, 1]), 0);
  schedule(s, 0, new Map());
  const stale: TaskUpdate = { kind: "finished", jobId: 1, id: 0, instance: 7, at: 1 };
  onTaskUpdates(s, w, [stale], 1, new Map());
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.state, "assigned");
  onTaskUpdates(
    s,
    w,
    [{ kind: "started", jobId: 1, id: 0, instance: 0, at: 1 }, {
      kind: "finished",
      jobId: 1,
      id: 0,
      instance: 0,
      at: 2,
    }],
    2,
    new Map(),
  );
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.state, "finished");
  const out: Outbox = new Map();
  schedule(s, 2, out);
  assert.deepEqual(assigned(out, w), [1]);
});

Deno.test("a lost worker requeues its tasks with a new instance and counts a crash", () => {
  const s = setup();
  const w1 = onWorkerRegistered(s, "k1", config(1, 100), 0, new Map());
  onSubmit(s, job([0, 0]), 0);
  schedule(s, 0, new Map());
  onTaskUpdates(s, w1, [{ kind: "started", jobId: 1, id: 0, instance: 0, at: 1 }], 1, new Map());
  onTick(s, 1000, new Map());
  assert.equal(s.workers.get(w1)!.state, "heartbeatLost");
  const task = s.jobs.get(1)!.tasks.get(0)!;
  assert.equal(task.state, "waiting");
  assert.equal(task.instance, 1);
  assert.equal(task.crashCount, 1);
  const w2 = onWorkerRegistered(s, "k2", config(1), 1000, new Map());
  const out: Outbox = new Map();
  schedule(s, 1000, out);
  assert.deepEqual(out.get(w2)![0], {
    kind: "computeTasks",
    jobId: 1,
    submitDir: "/tmp",
    template: s.jobs.get(1)!.template,
    tasks: [{ id: 0, instance: 1 }],
  });
});

Deno.test("a stopped worker requeues without counting a crash", () => {
  const s = setup();
  const w = onWorkerRegistered(s, "k1", config(1), 0, new Map());
  onSubmit(s, job([0, 0]), 0);
  schedule(s, 0, new Map());
  onTaskUpdates(s, w, [{ kind: "started", jobId: 1, id: 0, instance: 0, at: 1 }], 1, new Map());
  onWorkerLost(s, w, "stopped", 2);
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.crashCount, 0);
});

Deno.test("max-fails aborts the remaining tasks", () => {
  const s = setup();
  const w = onWorkerRegistered(s, "k1", config(2), 0, new Map());
  onSubmit(s, job([0, 9], { maxFails: 0 }), 0);
  schedule(s, 0, new Map());
  const out: Outbox = new Map();
  onTaskUpdates(
    s,
    w,
    [{
      kind: "failed",
      jobId: 1,
      id: 0,
      instance: 0,
      at: 1,
      error: "Program terminated with exit code 1",
    }],
    1,
    out,
  );
  const counts = s.jobs.get(1)!.counts;
  assert.equal(counts.failed, 1);
  assert.equal(counts.aborted, 9);
  assert.equal(out.get(w)![0]!.kind, "cancelTasks");
});

Deno.test("cancel marks unfinished tasks canceled and tells the worker", () => {
  const s = setup();
  const w = onWorkerRegistered(s, "k1", config(1), 0, new Map());
  onSubmit(s, job([0, 2]), 0);
  schedule(s, 0, new Map());
  const out: Outbox = new Map();
  assert.equal(stopUnfinished(s, s.jobs.get(1)!, "canceled", 1, out), 3);
  assert.deepEqual(out.get(w), [{
    kind: "cancelTasks",
    tasks: [{ jobId: 1, id: 0, instance: 0 }],
  }]);
  assert.equal(s.workers.get(w)!.fitLoad, 0);
});

Deno.test("journal batches restore jobs, results and counters; unfinished tasks rerun", () => {
  const s = setup();
  const store = new MemoryJournalStore();
  const w = onWorkerRegistered(s, "k1", config(2), 0, new Map());
  onSubmit(s, job([0, 2]), 0);
  schedule(s, 0, new Map());
  onTaskUpdates(
    s,
    w,
    [
      { kind: "started", jobId: 1, id: 0, instance: 0, at: 1 },
      { kind: "finished", jobId: 1, id: 0, instance: 0, at: 2 },
      { kind: "started", jobId: 1, id: 1, instance: 0, at: 2 },
    ],
    2,
    new Map(),
  );
  store.commit({ ...takeBatch(s), offsets: [], requestsDone: [], requestsForget: [] });
  const { state, requeued, lostWorkers } = restoreState(store.load(), "other", 10);
  assert.equal(state.serverUid, "uid");
  assert.equal(state.nextJobId, 2);
  assert.equal(requeued, 1);
  assert.equal(lostWorkers, 1);
  const tasks = state.jobs.get(1)!.tasks;
  assert.equal(tasks.get(0)!.state, "finished");
  assert.equal(tasks.get(1)!.state, "waiting");
  assert.equal(tasks.get(1)!.instance, 1);
  assert.equal(tasks.get(2)!.state, "waiting");
});
