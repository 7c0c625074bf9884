import assert from "node:assert/strict";
import {
  type FromWorkerMsg,
  type InboxEnvelope,
  type InboxItem,
  PROTOCOL_VERSION,
  type TaskUpdate,
} from "../protocol/messages.ts";
import { MemoryJournalStore } from "../journal/store.ts";
import { restoreState } from "../journal/restore.ts";
import { createServerState, type SchedulerConfig } from "../scheduler/state.ts";
import { jobSubmit, workerConfig } from "../scheduler/testdata/fixtures.ts";
import {
  type ChannelInput,
  createServerSession,
  type RoundInputs,
  serverRound,
  type ServerSession,
} from "./round.ts";

const CONFIG: SchedulerConfig = { prefillMax: 0, prefillReserve: 0 };

function inputs(partial: Partial<RoundInputs>): RoundInputs {
  return { inbox: [], channels: [], dead: [], stopSignal: false, ...partial };
}

function message(name: string, client: string | null, msg: InboxEnvelope["msg"]): InboxItem {
  return {
    kind: "message",
    name,
    envelope: { v: PROTOCOL_VERSION, client, request: 1, sentAt: 0, msg },
  };
}

function channel(records: FromWorkerMsg[], offset: number): ChannelInput {
  return { workerId: 1, records, position: { segment: 0, offset }, rotated: false };
}

function update(kind: "started" | "finished", id: number, instance = 0): TaskUpdate {
  return kind === "started"
    ? { kind, jobId: 1, id, instance, at: 50, variant: 0 }
    : { kind, jobId: 1, id, instance, at: 60 };
}

/**
 * A server with worker 1 (two cpus) running task 0 of a four-task job and assigned task 1
 * (not journaled), its state committed to a journal; then killed. Returns the journal.
 */
function crashedServer(): MemoryJournalStore {
  const store = new MemoryJournalStore();
  const s = createServerSession(createServerState("uid", CONFIG));
  const commit = (r: ReturnType<typeof serverRound>) => r.batch && store.commit(r.batch);
  const config = { ...workerConfig({ pools: ["cpus=2"] }), heartbeatMs: 60_000 };
  const register = { kind: "registerWorker" as const, key: "w1", config };
  commit(serverRound(s, inputs({ inbox: [message("a", null, register)] }), 0));
  const submit = { kind: "submit" as const, job: jobSubmit("cpus=1", 4) };
  const placed = serverRound(s, inputs({ inbox: [message("b", "c", submit)] }), 1);
  assert.equal(placed.outbox.get(1)?.find((m) => m.kind === "computeTasks")?.kind, "computeTasks");
  commit(placed);
  const started = { kind: "taskUpdates" as const, updates: [update("started", 0)] };
  commit(serverRound(s, inputs({ channels: [channel([started], 100)] }), 2));
  return store;
}

function takeOver(store: MemoryJournalStore, now: number): ServerSession {
  const { state } = restoreState(store.load(), "other", now, CONFIG, now + 15_000);
  return createServerSession(state);
}

function taskState(s: ServerSession, id: number): [string, number, number | null] {
  const t = s.state.jobs.get(1)!.tasks.get(id)!;
  return [t.state, t.instance, t.workerId];
}

Deno.test("a server that took over keeps the running task on its reattaching worker", () => {
  const store = crashedServer();
  const s = takeOver(store, 1000);
  const w = s.state.workers.get(1)!;
  assert.equal(w.state, "running");
  assert.equal(w.reattaching, true);
  assert.deepEqual(taskState(s, 0), ["running", 0, 1]);
  assert.equal(s.state.jobs.get(1)!.counts.waiting, 3, "the unjournaled assignment waits");
  assert.equal(store.load().offsets[0]?.offset, 100, "the channel offset to read on from");
  // No scheduling while the worker may run tasks this server does not know of.
  const r = serverRound(s, inputs({}), 1001);
  assert.equal(r.scheduled, false);
  assert.equal(r.outbox.size, 0);
});

Deno.test("a reattaching worker's start of a waiting task is adopted; its answer lets scheduling go on", () => {
  const s = takeOver(crashedServer(), 1000);
  // Task 1 (assigned by the dead server) started and task 0 finished while no server ran.
  const updates = [update("started", 1), update("finished", 0)];
  const r1 = serverRound(
    s,
    inputs({ channels: [channel([{ kind: "taskUpdates", updates }], 200)] }),
    1001,
  );
  assert.deepEqual(taskState(s, 1), ["running", 0, 1]);
  assert.equal(taskState(s, 0)[0], "finished");
  assert.equal(r1.scheduled, false);
  assert.deepEqual(r1.batch?.offsets, [{ workerId: 1, segment: 0, offset: 200 }]);
  const running = [{ jobId: 1, id: 1, instance: 0, variant: 0, startedAt: 50 }];
  const r2 = serverRound(
    s,
    inputs({ channels: [channel([{ kind: "reattached", running }], 300)] }),
    1002,
  );
  assert.equal(s.state.workers.get(1)!.reattaching, false);
  assert.equal(s.state.reattachUntil, null);
  assert.equal(r2.scheduled, true);
  assert.ok(r2.log.includes("[server] worker 1 reattached with 1 running tasks"), r2.log.join());
  const sent = r2.outbox.get(1)?.find((m) => m.kind === "computeTasks");
  assert.deepEqual(
    sent?.kind === "computeTasks" && sent.tasks.map((t) => t.id),
    [2],
    "the free cpu gets the next task",
  );
});

Deno.test("the reattach answer requeues what the worker no longer runs and cancels what it should not", () => {
  const s = takeOver(crashedServer(), 1000);
  // Task 0 is not running there any more; task 3 runs there with an instance the server
  // never gave out.
  const running = [{ jobId: 1, id: 3, instance: 7, variant: 0, startedAt: 50 }];
  const r = serverRound(
    s,
    inputs({ channels: [channel([{ kind: "reattached", running }], 300)] }),
    1001,
  );
  assert.deepEqual(taskState(s, 0).slice(0, 2), ["assigned", 1], "requeued with a new instance");
  assert.deepEqual(r.outbox.get(1)?.[0], {
    kind: "cancelTasks",
    tasks: [{ jobId: 1, id: 3, instance: 7 }],
  });
});

Deno.test("a worker that does not reattach in time is lost, told to stop, and its tasks run again", () => {
  const s = takeOver(crashedServer(), 1000);
  const early = serverRound(s, inputs({}), 15_999);
  assert.equal(early.scheduled, false);
  const r = serverRound(s, inputs({}), 16_000);
  assert.equal(s.state.workers.get(1)!.state, "connectionLost");
  assert.deepEqual(r.outbox.get(1), [{ kind: "stop", reason: "connectionLost" }]);
  assert.deepEqual(r.close, [1]);
  assert.ok(r.log.includes("[server] worker 1 lost: it did not reattach to this server"));
  assert.deepEqual(taskState(s, 0).slice(0, 2), ["waiting", 1]);
  assert.equal(r.scheduled, true);
});

Deno.test("a start for an attempt the server did not place on a worker is canceled there", () => {
  const s = takeOver(crashedServer(), 1000);
  serverRound(s, inputs({ channels: [channel([{ kind: "reattached", running: [] }], 300)] }), 1001);
  // Task 2 was never given to worker 1 with instance 5.
  const updates = [{ kind: "started" as const, jobId: 1, id: 2, instance: 5, at: 9, variant: 0 }];
  const r = serverRound(
    s,
    inputs({ channels: [channel([{ kind: "taskUpdates", updates }], 400)] }),
    1002,
  );
  const cancel = r.outbox.get(1)?.find((m) => m.kind === "cancelTasks");
  assert.deepEqual(cancel, { kind: "cancelTasks", tasks: [{ jobId: 1, id: 2, instance: 5 }] });
});

Deno.test("a task kept on a restored worker that dies is placed once, not twice", () => {
  const s = takeOver(crashedServer(), 1000);
  // Worker 1 died while no server ran: its task 0 waits again, with a new instance.
  serverRound(s, inputs({ dead: [1] }), 1001);
  assert.deepEqual(taskState(s, 0), ["waiting", 1, null]);
  const config = { ...workerConfig({ pools: ["cpus=8"] }), heartbeatMs: 60_000 };
  const r = serverRound(
    s,
    inputs({ inbox: [message("z", null, { kind: "registerWorker", key: "w2", config })] }),
    1002,
  );
  const placed = (r.outbox.get(2) ?? []).flatMap((m) =>
    m.kind === "computeTasks" ? m.tasks.map((t) => `${t.id}/${t.instance}`) : []
  );
  assert.deepEqual(placed.sort(), ["0/1", "1/0", "2/0", "3/0"]);
});

Deno.test("tasks the dead server sent to a worker lost before it reattached run under a new instance", () => {
  const s = takeOver(crashedServer(), 1000);
  // The dead server had sent task 1 (not journaled): worker 1 may have run it.
  s.state.sentBeforeRestart.set(1, [{ jobId: 1, id: 1, instance: 0 }, {
    jobId: 1,
    id: 2,
    instance: 9,
  }]);
  serverRound(s, inputs({ dead: [1] }), 1001);
  assert.deepEqual(taskState(s, 1), ["waiting", 1, null]);
  assert.equal(s.state.jobs.get(1)!.tasks.get(2)?.instance ?? 0, 0, "another instance: untouched");
  assert.equal(s.state.sentBeforeRestart.size, 0);
  // A worker that reattaches tells what it runs: nothing else is renewed.
  const t = takeOver(crashedServer(), 1000);
  t.state.sentBeforeRestart.set(1, [{ jobId: 1, id: 1, instance: 0 }]);
  serverRound(t, inputs({ channels: [channel([{ kind: "reattached", running: [] }], 300)] }), 1001);
  assert.equal(t.state.sentBeforeRestart.size, 0);
  assert.equal(taskState(t, 1)[1], 0);
});

Deno.test("with a job retention, completed jobs are forgotten once it has passed", () => {
  const s = createServerSession(createServerState("uid", CONFIG), undefined, {}, {
    jobRetentionMs: 10_000,
  });
  const submit = { kind: "submit" as const, job: jobSubmit("cpus=1", 1) };
  serverRound(s, inputs({ inbox: [message("a", "c", submit)] }), 0);
  serverRound(
    s,
    inputs({ inbox: [message("b", "c", { kind: "jobCancel", selector: "1", reason: null })] }),
    5_000,
  );
  assert.equal(s.state.jobs.get(1)?.completedAt, 5_000);
  serverRound(s, inputs({}), 14_999);
  assert.ok(s.state.jobs.has(1), "kept within its retention");
  // Looked at about once a second.
  const r = serverRound(s, inputs({}), 16_000);
  assert.equal(s.state.jobs.has(1), false);
  assert.deepEqual(r.batch?.jobsRemoved, [1]);
  assert.deepEqual(r.log, ["[server] forgot 1 completed jobs past their retention"]);
});
