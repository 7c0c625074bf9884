import assert from "node:assert/strict";
import type { JobSubmit, WorkerConfig } from "../protocol/messages.ts";
import { createServerState, pristineTask } from "../scheduler/state.ts";
import { onTaskUpdates, stopUnfinished } from "../scheduler/reactor.ts";
import { onJobOpen, onSubmit } from "../scheduler/job_events.ts";
import { checkServerState } from "../sim/invariants.ts";
import { onWorkerRegistered } from "../scheduler/worker_events.ts";
import { schedule } from "../scheduler/schedule.ts";
import { MemoryJournalStore } from "./store.ts";
import { restoreState, takeBatch } from "./restore.ts";

const config: WorkerConfig = {
  hostname: "h",
  pid: 1,
  heartbeatMs: 1000,
  idleTimeoutMs: null,
  timeLimitMs: null,
  workDir: "/w",
  onServerLost: "stop",
  group: "default",
  resources: [{ name: "cpus", kind: "range", groups: [["0", "1"]], size: 0 }],
  minUtilization: 0,
  manager: null,
  startedAt: 0,
};

function job(n: number): JobSubmit {
  return {
    name: "j",
    maxFails: null,
    submitDir: "/s",
    ids: [{ start: 1, end: n }],
    template: {
      program: { args: ["true"], env: {}, cwd: "/s", stdout: null, stderr: null },
      requests: [{
        entries: [{ resource: "cpus", amount: 10_000, policy: "compact" }],
        minTimeMs: 0,
      }],
      pin: null,
      priority: 0,
      timeLimitMs: null,
      crashLimit: 5,
    },
  };
}

Deno.test("restore: finished tasks stay, started ones rerun with a new instance, the rest wait", () => {
  const state = createServerState("uid", { prefillMax: 0, prefillReserve: 0 });
  const store = new MemoryJournalStore();
  const out = new Map();
  const w = onWorkerRegistered(state, "w", config, 0, out);
  const jobId = onSubmit(state, job(1000), 0);
  store.commit(takeBatch(state));
  // A submit of 1,000 tasks writes no task records: they are implicit.
  assert.equal(store.load().tasks.length, 0);
  schedule(state, 1, out);
  const batch1 = takeBatch(state);
  // Assignments that have not started are not written.
  assert.equal(batch1.tasks.length, 0);
  store.commit(batch1);
  onTaskUpdates(
    state,
    w,
    [
      { kind: "started", jobId, id: 1, instance: 0, at: 2, variant: 0 },
      { kind: "started", jobId, id: 2, instance: 0, at: 2, variant: 0 },
    ],
    3,
    out,
  );
  onTaskUpdates(state, w, [{ kind: "finished", jobId, id: 1, instance: 0, at: 4 }], 4, out);
  store.commit(takeBatch(state));

  const { state: back, requeued, lostWorkers } = restoreState(store.load(), "fresh", 10, {
    prefillMax: 0,
    prefillReserve: 0,
  });
  assert.equal(back.serverUid, "uid");
  assert.equal(requeued, 1);
  assert.equal(lostWorkers, 1);
  const restored = back.jobs.get(jobId)!;
  assert.equal(restored.counts.finished, 1);
  assert.equal(restored.counts.waiting, 999);
  assert.equal(restored.tasks.get(2)!.instance, 1);
  assert.equal(restored.tasks.get(2)!.state, "waiting");
  assert.equal(back.workers.get(w)!.state, "connectionLost");
  assert.equal(back.nextJobId, jobId + 1);

  // The restored state schedules again from the lowest waiting id.
  const w2 = onWorkerRegistered(back, "w2", config, 11, out);
  const out2 = new Map();
  schedule(back, 12, out2);
  const msgs = out2.get(w2) ?? [];
  const assigned = msgs.flatMap((m: { kind: string; tasks?: { id: number }[] }) =>
    m.kind === "computeTasks" ? m.tasks!.map((t) => t.id) : []
  );
  assert.deepEqual(assigned, [2, 3]);
});

Deno.test("restore: a stored task outside its job is refused", () => {
  const data = {
    meta: undefined,
    jobs: [{
      id: 1,
      name: "j",
      submitDir: "/s",
      submittedAt: 0,
      maxFails: null,
      template: job(1).template,
      ids: [{ start: 1, end: 2 }],
      cancelReason: null,
      completedAt: null,
    }],
    tasks: [{
      jobId: 1,
      taskId: 9,
      record: {
        state: "finished" as const,
        instance: 0,
        crashCount: 0,
        workerId: null,
        variant: null,
        startedAt: null,
        finishedAt: 1,
        error: null,
      },
    }],
    workers: [],
    offsets: [],
    requests: [],
  };
  assert.throws(() => restoreState(data, "u", 0), /task 9 is not in the job/);
});

Deno.test("restore: dependencies, --after and open jobs come back as they were", () => {
  const state = createServerState("uid", { prefillMax: 0, prefillReserve: 0 });
  const store = new MemoryJournalStore();
  const out = new Map();
  const w = onWorkerRegistered(state, "w", config, 0, out);
  const base = job(1);
  // Job 1: 1 -> 2 -> 3 (a chain).
  onSubmit(state, {
    ...base,
    ids: [{ start: 1, end: 3 }],
    graph: {
      templates: [base.template],
      tasks: [{ id: 1, template: 0, deps: [] }, { id: 2, template: 0, deps: [1] }, {
        id: 3,
        template: 0,
        deps: [2],
      }],
    },
  }, 0);
  // Job 2: open, with one submit that waits for job 1.
  const open = onJobOpen(state, "o", null, 0);
  onSubmit(state, { ...job(2), jobId: open }, 0, [1]);
  store.commit(takeBatch(state));
  schedule(state, 1, out);
  onTaskUpdates(
    state,
    w,
    [
      { kind: "started", jobId: 1, id: 1, instance: 0, at: 1, variant: 0 },
      { kind: "finished", jobId: 1, id: 1, instance: 0, at: 2 },
    ],
    2,
    out,
  );
  store.commit(takeBatch(state));

  const { state: restored } = restoreState(store.load(), "fresh", 3);
  checkServerState(restored);
  const chain = restored.jobs.get(1)!;
  assert.equal(chain.counts.finished, 1);
  assert.deepEqual([...chain.blocked], [[3, 1]], "task 3 still waits for task 2; task 2 is ready");
  const reopened = restored.jobs.get(open)!;
  assert.equal(reopened.open, true);
  assert.deepEqual([...reopened.parts[0]!.after], [1], "still waits for job 1");
  assert.equal(reopened.size, 2);
  // Only task 2 of job 1 is ready: one task queued in the class.
  assert.equal(restored.classes.get(chain.parts[0]!.classId)!.queue.size, 1);
});

Deno.test("restore: a canceled job's never-started tasks are one bulk entry, and come back canceled", () => {
  const state = createServerState("uid", { prefillMax: 0, prefillReserve: 0 });
  const store = new MemoryJournalStore();
  const out = new Map();
  const w = onWorkerRegistered(state, "w", config, 0, out);
  const jobId = onSubmit(state, job(100_000), 0);
  store.commit(takeBatch(state));
  schedule(state, 1, out);
  onTaskUpdates(
    state,
    w,
    [
      { kind: "started", jobId, id: 1, instance: 0, at: 2, variant: 0 },
      { kind: "finished", jobId, id: 1, instance: 0, at: 3 },
      { kind: "started", jobId, id: 2, instance: 0, at: 3, variant: 0 },
    ],
    4,
    out,
  );
  store.commit(takeBatch(state));
  stopUnfinished(state, state.jobs.get(jobId)!, "canceled", 5, out);
  const batch = takeBatch(state);
  // Task 2 ran: a record of its own; 3..100,000 never left the queue: one range.
  assert.deepEqual(batch.tasks.map((t) => [t.taskId, t.record.state]), [[2, "canceled"]]);
  assert.deepEqual(batch.bulk?.map((b) => [b.jobId, b.ranges, b.record.state]), [
    [jobId, [{ start: 3, end: 100_000 }], "canceled"],
  ]);
  store.commit(batch);

  const back = restoreState(store.load(), "fresh", 10).state;
  const restored = back.jobs.get(jobId)!;
  assert.deepEqual(
    [restored.counts.finished, restored.counts.canceled, restored.counts.waiting],
    [1, 99_999, 0],
  );
  assert.deepEqual(restored.tasks.get(50_000), { ...restored.tasks.get(3)!, finishedAt: 5 });
  assert.equal(restored.tasks.get(2)!.instance, 0);
  checkServerState(back);
});

Deno.test("restore: a bulk entry outside its job is refused", () => {
  const state = createServerState("uid", { prefillMax: 0, prefillReserve: 0 });
  const store = new MemoryJournalStore();
  const jobId = onSubmit(state, job(10), 0);
  store.commit(takeBatch(state));
  const data = store.load();
  const record = { ...data.tasks[0]?.record, state: "canceled" } as never;
  data.bulk = [{ jobId, ranges: [{ start: 5, end: 20 }], record }];
  assert.throws(() => restoreState(data, "fresh", 1), /tasks 5-20 are not in the job/);
});

Deno.test("restore: a bulk entry of tasks that have not ended is refused", () => {
  const state = createServerState("uid", { prefillMax: 0, prefillReserve: 0 });
  const store = new MemoryJournalStore();
  const jobId = onSubmit(state, job(10), 0);
  store.commit(takeBatch(state));
  const data = store.load();
  const record = { ...pristineTask(), state: "running" as const };
  data.bulk = [{ jobId, ranges: [{ start: 0, end: 9 }], record }];
  assert.throws(() => restoreState(data, "fresh", 1), /in state "running", not an end state/);
});
