import assert from "node:assert/strict";
import type { CrashLimit, TaskUpdate, WorkerStopReason } from "../protocol/messages.ts";
import { MemoryJournalStore } from "../journal/store.ts";
import { restoreState, takeBatch } from "../journal/restore.ts";
import { onTaskUpdates, type Outbox, stopUnfinished } from "./reactor.ts";
import { onSubmit } from "./job_events.ts";
import { onTick, onWorkerLost, onWorkerRegistered } from "./worker_events.ts";
import type { ServerState } from "./state.ts";
import {
  addWorkers,
  jobSubmit,
  round,
  sent,
  testState,
  workerConfig,
} from "./testdata/fixtures.ts";

function update(
  kind: "started" | "finished" | "returned" | "canceled",
  jobId: number,
  id: number,
  instance = 0,
): TaskUpdate {
  return kind === "started"
    ? { kind, jobId, id, instance, at: 1, variant: 0 }
    : { kind, jobId, id, instance, at: 1 };
}

function apply(s: ServerState, workerId: number, updates: TaskUpdate[], now = 1): Outbox {
  const out: Outbox = new Map();
  onTaskUpdates(s, workerId, updates, now, out);
  return out;
}

Deno.test("onTaskUpdates(): start and finish free resources; stale attempts are ignored", () => {
  const s = testState();
  const [w] = addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0"] });
  apply(s, w!, [update("finished", 1, 0, 7)]);
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.state, "assigned");
  apply(s, w!, [update("started", 1, 0)]);
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.state, "running");
  apply(s, w!, [update("finished", 1, 0), update("finished", 1, 0)]); // a record read twice
  assert.equal(s.jobs.get(1)!.counts.finished, 1);
  assert.equal(s.workers.get(w!)!.free.get("cpus"), 10_000);
  assert.deepEqual(round(s, 2), { 1: ["1:1/v0"] });
});

Deno.test("onTaskUpdates(): a soft rejection blocks the variant there until resources free up", () => {
  const s = testState();
  const [w] = addWorkers(s, [{ pools: ["cpus=4", "gpus=[0,1]"] }]);
  onSubmit(s, jobSubmit("cpus=1 gpus=0.75", 2), 0);
  onSubmit(s, jobSubmit("cpus=1 gpus=0.5", 2), 0);
  // The server counts amounts: 0.5 gpus are left after two 0.75 tasks.
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/v0", "2:0/v0"] });
  // The worker has 0.25 on each gpu and rejects.
  apply(s, w!, [
    update("started", 1, 0),
    update("started", 1, 1),
    { kind: "rejected", jobId: 2, id: 0, instance: 0, at: 1, variant: 0 },
  ]);
  const worker = s.workers.get(w!)!;
  assert.equal(s.jobs.get(2)!.tasks.get(0)!.state, "waiting");
  assert.equal(worker.free.get("gpus"), 5000);
  assert.deepEqual([...worker.blocked], ["2:0"]);
  assert.deepEqual(round(s, 1), {}); // blocked, though the server sees room
  apply(s, w!, [update("finished", 1, 0)], 2);
  assert.deepEqual([...worker.blocked], []);
  assert.deepEqual(round(s, 2), { 1: ["2:0/v0", "2:1/v0"] });
});

Deno.test("stopUnfinished(): a canceled task keeps its resources until the worker reports", () => {
  const s = testState(1, 0);
  const [w] = addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q"] });
  apply(s, w!, [update("started", 1, 0)]);
  const out: Outbox = new Map();
  assert.equal(stopUnfinished(s, s.jobs.get(1)!, "canceled", 2, out), 3);
  assert.deepEqual(sent(out), { 1: ["cancel 1:0", "cancel 1:1"] });
  const worker = s.workers.get(w!)!;
  assert.deepEqual(s.jobs.get(1)!.counts.canceled, 3);
  assert.equal(worker.free.get("cpus"), 0);
  onSubmit(s, jobSubmit("cpus=1", 1), 2);
  assert.deepEqual(round(s, 2), {});
  // The prefilled one goes at once; the running one when its kill is reported.
  apply(s, w!, [update("canceled", 1, 1)], 3);
  assert.equal(worker.prefilled, 0);
  assert.deepEqual(round(s, 3), {});
  apply(s, w!, [update("canceled", 1, 0)], 4);
  assert.equal(worker.free.get("cpus"), 10_000);
  assert.equal(worker.tasks.size, 0);
  assert.deepEqual(round(s, 4), { 1: ["2:0/v0"] });
  assert.equal(s.jobs.get(1)!.counts.canceled, 3);
});

Deno.test("stopUnfinished(): a canceled prefilled task that starts anyway holds resources", () => {
  const s = testState(1, 0);
  const [w] = addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  round(s);
  stopUnfinished(s, s.jobs.get(1)!, "canceled", 1, new Map());
  // The worker ended task 0 and started the prefilled task 1 before the cancel arrived.
  apply(s, w!, [update("started", 1, 0), update("finished", 1, 0), update("started", 1, 1)], 2);
  const worker = s.workers.get(w!)!;
  assert.equal(worker.free.get("cpus"), 0);
  assert.equal(worker.prefilled, 0);
  apply(s, w!, [update("canceled", 1, 1)], 3);
  assert.equal(worker.free.get("cpus"), 10_000);
  assert.equal(s.jobs.get(1)!.counts.canceled, 2);
});

Deno.test("max-fails aborts the remaining tasks and cancels them on workers", () => {
  const s = testState();
  const [w] = addWorkers(s, [{ pools: ["cpus=2"] }]);
  onSubmit(s, jobSubmit("cpus=1", 10, { maxFails: 0 }), 0);
  round(s);
  const out = apply(s, w!, [{ kind: "failed", jobId: 1, id: 0, instance: 0, at: 1, error: "x" }]);
  assert.deepEqual({ ...s.jobs.get(1)!.counts }, {
    waiting: 0,
    assigned: 0,
    running: 0,
    finished: 0,
    failed: 1,
    canceled: 0,
    aborted: 9,
  });
  assert.deepEqual(sent(out), { 1: ["cancel 1:1"] });
});

interface LostCase {
  name: string;
  reason: WorkerStopReason;
  started: boolean;
  crashLimit: CrashLimit;
  crashesBefore: number;
  expect: { state: string; instance: number; crashCount: number };
  /** Error of a failed task. */
  error?: string;
}

const LOST: LostCase[] = [
  {
    name: "a running task on a lost worker reruns and counts a crash",
    reason: "heartbeatLost",
    started: true,
    crashLimit: 5,
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 1 },
  },
  {
    name: "an assigned, unstarted task reruns without a crash",
    reason: "heartbeatLost",
    started: false,
    crashLimit: 5,
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 0 },
  },
  {
    name: "a stopped worker is no crash",
    reason: "stopped",
    started: true,
    crashLimit: 1,
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 0 },
  },
  {
    name: "an idle timeout is no crash",
    reason: "idleTimeout",
    started: true,
    crashLimit: 1,
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 0 },
  },
  {
    name: "never-restart fails on any loss of its worker, even a stop",
    reason: "stopped",
    started: true,
    crashLimit: "never-restart",
    crashesBefore: 0,
    expect: { state: "failed", instance: 1, crashCount: 0 },
    error: "Task was running on a lost worker while never restart flag was set.",
  },
  {
    name: "never-restart keeps an unstarted task",
    reason: "connectionLost",
    started: false,
    crashLimit: "never-restart",
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 0 },
  },
  {
    name: "a time limit is no crash",
    reason: "timeLimit",
    started: true,
    crashLimit: 1,
    crashesBefore: 0,
    expect: { state: "waiting", instance: 1, crashCount: 0 },
  },
  {
    name: "never-restart fails at the first crash",
    reason: "connectionLost",
    started: true,
    crashLimit: "never-restart",
    crashesBefore: 0,
    expect: { state: "failed", instance: 1, crashCount: 0 },
    error: "Task was running on a lost worker while never restart flag was set.",
  },
  {
    name: "the crash limit fails the task when reached",
    reason: "heartbeatLost",
    started: true,
    crashLimit: 2,
    crashesBefore: 1,
    expect: { state: "failed", instance: 2, crashCount: 2 },
    error:
      "Task was running on a worker that was lost; the task has occurred 2 times in this situation and limit was reached.",
  },
  {
    name: "a lost connection counts a crash as a lost heartbeat does",
    reason: "connectionLost",
    started: true,
    crashLimit: 2,
    crashesBefore: 1,
    expect: { state: "failed", instance: 2, crashCount: 2 },
    error:
      "Task was running on a worker that was lost; the task has occurred 2 times in this situation and limit was reached.",
  },
  {
    name: "an unlimited crash limit never fails",
    reason: "connectionLost",
    started: true,
    crashLimit: "unlimited",
    crashesBefore: 3,
    expect: { state: "waiting", instance: 4, crashCount: 4 },
  },
];

for (const c of LOST) {
  Deno.test(`onWorkerLost(): ${c.name}`, () => {
    const s = testState(1, 0);
    const [w] = addWorkers(s, [{ pools: ["cpus=1"], heartbeatMs: 100 }]);
    onSubmit(s, jobSubmit("cpus=1", 2, { crashLimit: c.crashLimit }), 0);
    const task = () => s.jobs.get(1)!.tasks.get(0)!;
    for (let i = 0; i < c.crashesBefore; i++) {
      round(s);
      onTaskUpdates(s, task().workerId!, [update("started", 1, 0, i)], 0, new Map());
      onWorkerLost(s, task().workerId!, "heartbeatLost", 0);
      addWorkers(s, [{ pools: ["cpus=1"], heartbeatMs: 100 }]);
    }
    round(s);
    const on = task().workerId!;
    if (c.started) apply(s, on, [update("started", 1, 0, c.crashesBefore)]);
    if (c.reason === "heartbeatLost" && c.crashesBefore === 0) {
      onTick(s, 150, new Map());
      assert.equal(s.workers.get(w!)!.state, "running");
      onTick(s, 202, new Map());
    } else {
      onWorkerLost(s, on, c.reason, 201);
    }
    assert.equal(s.workers.get(on)!.state, c.reason);
    const t = task();
    assert.deepEqual(
      { state: t.state, instance: t.instance, crashCount: t.crashCount },
      c.expect,
    );
    assert.equal(t.workerId, null);
    // The prefilled task came back too, as a new attempt.
    assert.equal(s.jobs.get(1)!.tasks.get(1)!.instance, c.crashesBefore + 1);
    assert.equal(s.workers.get(on)!.tasks.size, 0);
    assert.equal(t.error, c.error ?? null);
    // A late report from the lost worker changes nothing.
    apply(s, on, [update("finished", 1, 0, c.crashesBefore)], 300);
    assert.equal(task().state, c.expect.state);
  });
}

Deno.test("a new worker gets the requeued attempt", () => {
  const s = testState();
  const [w1] = addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 1), 0);
  round(s);
  onWorkerLost(s, w1!, "heartbeatLost", 5);
  const out: Outbox = new Map();
  const w2 = onWorkerRegistered(s, "k2", workerConfig({ pools: ["cpus=1"] }), 6, out);
  assert.deepEqual(out.get(w2), [{ kind: "registered", workerId: w2, serverUid: "uid" }]);
  assert.deepEqual(round(s, 6), { [w2]: ["1:0/v0"] });
  assert.equal(s.jobs.get(1)!.tasks.get(0)!.instance, 1);
});

Deno.test("a restored state schedules what the live one would after losing its workers", () => {
  const build = () => {
    const s = testState();
    const [w] = addWorkers(s, [{ pools: ["cpus=2"] }]);
    onSubmit(s, jobSubmit("cpus=1", 5), 0);
    onSubmit(s, jobSubmit("cpus=2", 2, { priority: 3 }), 0);
    round(s);
    apply(s, w!, [update("started", 2, 0), update("finished", 2, 0)], 1);
    round(s, 1);
    apply(s, w!, [update("started", 2, 1)], 2);
    return s;
  };
  const live = build();
  const store = new MemoryJournalStore();
  store.commit(takeBatch(live));
  const { state: restored, requeued, lostWorkers } = restoreState(store.load(), "other", 10, {
    prefillMax: 0,
    prefillReserve: 0,
  });
  assert.equal(requeued, 1);
  assert.equal(lostWorkers, 1);
  onWorkerLost(live, 1, "connectionLost", 10);
  for (const s of [live, restored]) addWorkers(s, [{ pools: ["cpus=4"] }], 10);
  const a = round(live, 10);
  const b = round(restored, 10);
  assert.deepEqual(Object.values(b), Object.values(a));
  assert.deepEqual(Object.values(a), [["2:1/v0", "1:0/v0", "1:1/v0"]]);
  for (const s of [live, restored]) {
    assert.equal(s.jobs.get(2)!.tasks.get(1)!.instance, 1);
    assert.deepEqual({ ...s.jobs.get(1)!.counts }, { ...live.jobs.get(1)!.counts });
  }
});

Deno.test("onTick(): idle timeout from the worker, else the server-wide default", () => {
  const s = testState();
  s.config.workerIdleTimeoutMs = 5_000;
  const out: Outbox = new Map();
  const own = onWorkerRegistered(
    s,
    "own",
    { ...workerConfig({ pools: ["cpus=1"], heartbeatMs: 60_000 }), idleTimeoutMs: 1_000 },
    0,
    out,
  );
  const def = onWorkerRegistered(
    s,
    "def",
    workerConfig({ pools: ["cpus=1"], heartbeatMs: 60_000 }),
    0,
    out,
  );
  const tick = (now: number) => {
    const o: Outbox = new Map();
    onTick(s, now, o);
    return o;
  };
  tick(900);
  assert.equal(s.workers.get(own)!.state, "running");
  const o1 = tick(1_500);
  assert.equal(s.workers.get(own)!.state, "idleTimeout");
  assert.deepEqual(o1.get(own), [{ kind: "stop", reason: "idleTimeout" }]);
  assert.equal(s.workers.get(def)!.state, "running");
  tick(5_500);
  assert.equal(s.workers.get(def)!.state, "idleTimeout");
});

Deno.test("onTick(): no idle timeout while a task runs; the clock restarts when it ends", () => {
  const s = testState();
  s.config.workerIdleTimeoutMs = 1_000;
  const [w] = addWorkers(s, [{ pools: ["cpus=1"], heartbeatMs: 60_000 }]);
  const worker = s.workers.get(w!)!;
  const tick = (now: number) => onTick(s, now, new Map());
  tick(400);
  onSubmit(s, jobSubmit("cpus=1", 1), 500);
  round(s, 500);
  // Assigned but not started yet: busy. Ticks may be far apart.
  tick(1_600);
  assert.equal(worker.state, "running");
  apply(s, w!, [update("started", 1, 0)], 1_700);
  tick(2_900);
  apply(s, w!, [update("finished", 1, 0)], 3_000);
  tick(3_900);
  assert.equal(worker.state, "running", "idle for 900 ms only");
  tick(4_001);
  assert.equal(worker.state, "idleTimeout");
});

Deno.test("onTick(): prefilled tasks do not keep a worker from its idle timeout", () => {
  const s = testState(4, 0);
  const [w] = addWorkers(s, [{ pools: ["cpus=1"], heartbeatMs: 60_000 }]);
  s.workers.get(w!)!.config.idleTimeoutMs = 1_000;
  onSubmit(s, jobSubmit("cpus=1", 3), 0);
  assert.deepEqual(round(s, 0), { [w!]: ["1:0/v0", "1:1/q", "1:2/q"] });
  apply(s, w!, [update("started", 1, 0)], 10);
  apply(s, w!, [update("finished", 1, 0)], 100);
  const worker = s.workers.get(w!)!;
  assert.equal(worker.tasks.size, 2);
  onTick(s, 1_050, new Map());
  assert.equal(worker.state, "running");
  const out: Outbox = new Map();
  onTick(s, 1_101, out);
  assert.equal(worker.state, "idleTimeout");
  assert.deepEqual(out.get(w!), [{ kind: "stop", reason: "idleTimeout" }]);
  // Its prefilled tasks wait again, as new attempts, with no crash counted.
  const t = s.jobs.get(1)!.tasks.get(1)!;
  assert.deepEqual({ state: t.state, instance: t.instance, crashCount: t.crashCount }, {
    state: "waiting",
    instance: 1,
    crashCount: 0,
  });
});

Deno.test("onTaskUpdates(): a start with a variant the job does not have is ignored", () => {
  const s = testState(1, 0);
  const [w] = addWorkers(s, [{ pools: ["cpus=1"] }]);
  onSubmit(s, jobSubmit("cpus=1", 2), 0);
  assert.deepEqual(round(s), { 1: ["1:0/v0", "1:1/q"] });
  // The prefilled task 1 "starts" with variant 7, or -1, or 0.5: no such variant.
  for (const variant of [7, -1, 0.5]) {
    apply(s, w!, [{ kind: "started", jobId: 1, id: 1, instance: 0, at: 1, variant }]);
  }
  assert.equal(s.jobs.get(1)!.tasks.get(1)!.state, "assigned");
  assert.equal(s.workers.get(w!)!.free.get("cpus"), 0, "nothing more held");
});
