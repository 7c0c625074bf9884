import assert from "node:assert/strict";
import {
  type FromClientMsg,
  type FromWorkerMsg,
  type InboxItem,
  PROTOCOL_VERSION,
  type WorkerConfig,
} from "../protocol/messages.ts";
import { encodeFromWorker } from "../protocol/codec.ts";
import { MemoryJournalStore } from "../journal/store.ts";
import { restoreState } from "../journal/restore.ts";
import { createServerState } from "../scheduler/state.ts";
import { jobSubmit, workerConfig } from "../scheduler/testdata/fixtures.ts";
import {
  type ChannelInput,
  createServerSession,
  decodeWorkerRecords,
  type RoundInputs,
  serverRound,
  type ServerSession,
} from "./round.ts";

function session(): ServerSession {
  return createServerSession(createServerState("uid", { prefillMax: 0, prefillReserve: 0 }));
}

function inputs(partial: Partial<RoundInputs>): RoundInputs {
  return { inbox: [], channels: [], dead: [], stopSignal: false, ...partial };
}

function registration(name: string, key: string, config: WorkerConfig = cpus(2)): InboxItem {
  const msg = { kind: "registerWorker" as const, key, config };
  return {
    kind: "message",
    name,
    envelope: { v: PROTOCOL_VERSION, client: null, request: 0, sentAt: 0, msg },
  };
}

function request(name: string, request: number, msg: FromClientMsg): InboxItem {
  return {
    kind: "message",
    name,
    envelope: { v: PROTOCOL_VERSION, client: "c1", request, sentAt: 0, msg },
  };
}

function cpus(n: number): WorkerConfig {
  return { ...workerConfig({ pools: [`cpus=${n}`] }), heartbeatMs: 1000 };
}

function channel(workerId: number, records: FromWorkerMsg[], offset = 100): ChannelInput {
  return { workerId, records, position: { segment: 0, offset }, rotated: false };
}

/** A session with worker 1 (two cpus) and job 1 of two one-cpu tasks assigned to it. */
function busySession(): ServerSession {
  const s = session();
  serverRound(s, inputs({ inbox: [registration("a", "w1")] }), 0);
  serverRound(
    s,
    inputs({ inbox: [request("b", 1, { kind: "submit", job: jobSubmit("cpus=1", 2) })] }),
    1,
  );
  return s;
}

Deno.test("serverRound() registers a worker: channel to open, registered message, journal, log", () => {
  const s = session();
  const r = serverRound(s, inputs({ inbox: [registration("a", "w1")] }), 5);
  assert.deepEqual(r.open, [{ workerId: 1, key: "w1" }]);
  assert.deepEqual(r.outbox.get(1), [{ kind: "registered", workerId: 1, serverUid: "uid" }]);
  assert.deepEqual(r.processed, ["a"]);
  assert.deepEqual(r.log, ["[server] worker 1 registered from h"]);
  assert.equal(r.batch?.workers.length, 1);
  assert.equal(r.batch?.meta?.nextWorkerId, 2);
  assert.deepEqual(r.close, []);
  assert.equal(r.busy, true);
  assert.equal(s.state.workers.get(1)?.registeredAt, 5);

  const again = serverRound(s, inputs({ inbox: [registration("b", "w1")] }), 6);
  assert.deepEqual(again.open, [], "a known key opens no second channel");
  assert.equal(again.outbox.size, 0);
});

Deno.test("serverRound() rejects a bad registration: the file goes to rejected/, nothing applied", () => {
  const s = session();
  const r = serverRound(s, inputs({ inbox: [registration("a", "../x")] }), 0);
  assert.deepEqual(r.reject, [{ name: "a", reason: 'invalid worker key "../x"' }]);
  assert.deepEqual(r.processed, []);
  assert.deepEqual(r.open, []);
  assert.equal(s.state.workers.size, 0);
  assert.match(r.log[0]!, /^\[server\] rejected worker registration a: invalid worker key/);
  const unreadable = serverRound(
    s,
    inputs({ inbox: [{ kind: "rejected", name: "b", reason: "bad" }] }),
    1,
  );
  assert.deepEqual(unreadable.reject, [{ name: "b", reason: "bad" }]);
  assert.deepEqual(unreadable.log, ["[server] rejected inbox file b: bad"]);
  assert.equal(unreadable.busy, true);
});

Deno.test("serverRound() applies a submit once: reply, request key journaled, then forgotten", () => {
  const s = session();
  serverRound(s, inputs({ inbox: [registration("a", "w1")] }), 0);
  const submit = request("b", 7, { kind: "submit", job: jobSubmit("cpus=1", 2) });
  const r = serverRound(s, inputs({ inbox: [submit] }), 1);
  assert.deepEqual(r.replies, [{ client: "c1", msg: { kind: "submitted", request: 7, jobId: 1 } }]);
  assert.deepEqual(r.batch?.requestsDone, [{ key: "c1:7", jobId: 1 }]);
  assert.deepEqual(r.processed, ["b"]);
  assert.equal(r.scheduled, true);
  const assigned = r.outbox.get(1)!.find((m) => m.kind === "computeTasks");
  assert.equal(assigned?.kind === "computeTasks" && assigned.tasks.length, 2);
  assert.equal(s.state.appliedRequests.get("c1:7"), 1);

  // The file was still there (a crash before its removal): applied once, answered again.
  const replay = serverRound(s, inputs({ inbox: [submit] }), 2);
  assert.deepEqual(replay.replies, [{
    client: "c1",
    msg: { kind: "submitted", request: 7, jobId: 1 },
  }]);
  assert.equal(s.state.jobs.size, 1);
  assert.deepEqual(replay.batch?.requestsForget ?? [], []);

  const later = serverRound(s, inputs({}), 3);
  assert.deepEqual(later.batch?.requestsForget, ["c1:7"]);
  assert.equal(later.busy, false);
});

Deno.test("serverRound() knows the submits of a restored journal", () => {
  const store = new MemoryJournalStore();
  const s = session();
  const r = serverRound(
    s,
    inputs({ inbox: [request("b", 7, { kind: "submit", job: jobSubmit("cpus=1", 1) })] }),
    1,
  );
  store.commit(r.batch!);
  const back = createServerSession(restoreState(store.load(), "fresh", 10).state);
  assert.equal(back.state.appliedRequests.get("c1:7"), 1);
  const replay = serverRound(
    back,
    inputs({ inbox: [request("b", 7, { kind: "submit", job: jobSubmit("cpus=1", 1) })] }),
    11,
  );
  assert.deepEqual(replay.replies, [{
    client: "c1",
    msg: { kind: "submitted", request: 7, jobId: 1 },
  }]);
  assert.equal(back.state.jobs.size, 1);
});

Deno.test("serverRound() applies a batch of task updates: tasks and offset journaled, acks passed on", () => {
  const s = busySession();
  const r = serverRound(
    s,
    inputs({
      channels: [{
        ...channel(1, [
          {
            kind: "taskUpdates",
            updates: [
              { kind: "started", jobId: 1, id: 0, instance: 0, at: 2, variant: 0 },
              { kind: "started", jobId: 1, id: 1, instance: 0, at: 2, variant: 0 },
            ],
            echo: 1,
          },
          {
            kind: "taskUpdates",
            updates: [{ kind: "finished", jobId: 1, id: 0, instance: 0, at: 3 }],
            echo: 4,
          },
          { kind: "ack", segment: 4 },
        ], 321),
        rotated: true,
      }],
    }),
    10,
  );
  assert.deepEqual(s.state.jobs.get(1)!.counts.finished, 1);
  assert.deepEqual(s.state.jobs.get(1)!.counts.running, 1);
  assert.deepEqual(r.batch?.offsets, [{ workerId: 1, segment: 0, offset: 321 }]);
  assert.deepEqual(r.batch?.tasks.map((t) => [t.taskId, t.record.state]).sort(), [[0, "finished"], [
    1,
    "running",
  ]]);
  assert.deepEqual(r.acks, [{ workerId: 1, segment: 4 }]);
  assert.deepEqual(r.outbox.get(1), [{ kind: "ack", segment: 0 }]);
  assert.equal(s.state.workers.get(1)!.lastSeen, 10);
  assert.equal(r.busy, true);
  // Tasks sent at 4 answered at 10: a 6 ms round trip (the first one, from 1, is the worker's
  // cold start and left out); task 0 ran from 2 to 3.
  assert.deepEqual(
    [s.state.workers.get(1)!.roundTripMs, s.state.workers.get(1)!.meanRunMs],
    [6, 1],
  );
});

Deno.test("serverRound() ends workers that stop, die or stop beating, and closes their channels", () => {
  const s = session();
  serverRound(
    s,
    inputs({ inbox: [registration("a", "w1"), registration("b", "w2"), registration("c", "w3")] }),
    0,
  );
  const r = serverRound(
    s,
    inputs({ channels: [channel(1, [{ kind: "stopping", reason: "timeLimit" }])], dead: [2] }),
    1500,
  );
  assert.deepEqual(r.log, [
    "[server] worker 1 stopping: timeLimit",
    "[server] worker 2 lost: its process is gone",
  ]);
  assert.deepEqual(r.close, [1, 2]);
  assert.equal(s.state.workers.get(2)!.state, "connectionLost");
  const silent = serverRound(s, inputs({}), 2001);
  assert.deepEqual(silent.log, ["[server] worker 3 lost: heartbeatLost"]);
  assert.deepEqual(silent.close, [3]);
  // The channel of a worker that ended is not read any more.
  const late = serverRound(
    s,
    inputs({ channels: [channel(1, [{ kind: "heartbeat", at: 0 }])] }),
    2002,
  );
  assert.equal(late.busy, false);
  assert.equal(late.batch, null);
});

Deno.test("serverRound() stops: every worker told, waits answered, channels closed after the stop", () => {
  const s = busySession();
  const wait = serverRound(
    s,
    inputs({ inbox: [request("c", 2, { kind: "jobWait", selector: "1" })] }),
    2,
  );
  assert.deepEqual(wait.replies, []);
  assert.equal(s.waits.length, 1);
  const r = serverRound(s, inputs({ inbox: [request("d", 3, { kind: "serverStop" })] }), 3);
  assert.equal(r.stop, true);
  assert.deepEqual(r.outbox.get(1), [{ kind: "stop", reason: "serverStopped" }]);
  assert.deepEqual(r.close, [1]);
  assert.equal(r.scheduled, false);
  assert.deepEqual(r.replies.map((x) => [x.msg.kind, "request" in x.msg ? x.msg.request : null]), [
    ["data", 3],
    ["data", 2],
  ]);
  assert.equal(s.waits.length, 0);
  assert.equal(s.state.workers.get(1)!.state, "stopped");

  const signal = session();
  serverRound(signal, inputs({ inbox: [registration("a", "w1")] }), 0);
  const bySignal = serverRound(signal, inputs({ stopSignal: true }), 1);
  assert.equal(bySignal.stop, true);
  assert.deepEqual(bySignal.close, [1]);
});

Deno.test("serverRound() answers a job wait in the round its job completes", () => {
  const s = busySession();
  serverRound(s, inputs({ inbox: [request("c", 2, { kind: "jobWait", selector: "1" })] }), 2);
  const updates = [0, 1].flatMap((id) => [
    { kind: "started" as const, jobId: 1, id, instance: 0, at: 3, variant: 0 },
    { kind: "finished" as const, jobId: 1, id, instance: 0, at: 4 },
  ]);
  const r = serverRound(
    s,
    inputs({ channels: [channel(1, [{ kind: "taskUpdates", updates }])] }),
    5,
  );
  assert.equal(r.replies.length, 1);
  assert.equal(r.replies[0]!.client, "c1");
  const data = r.replies[0]!.msg;
  assert.ok(data.kind === "data" && Array.isArray(data.data) && data.data.length === 1);
});

Deno.test("decodeWorkerRecords() keeps valid records and reports the others", () => {
  const ok = encodeFromWorker({ kind: "heartbeat", at: 1 });
  const { records, log } = decodeWorkerRecords(4, [ok, "{oops", ok]);
  assert.deepEqual(records, [{ kind: "heartbeat", at: 1 }, { kind: "heartbeat", at: 1 }]);
  assert.deepEqual(log, ["[server] worker 4: Cannot decode worker record: invalid JSON"]);
});

Deno.test("serverRound() tells a worker whose registration it refuses, by its key", () => {
  const s = session();
  const bad = { ...cpus(1), heartbeatMs: 0.5 };
  const r = serverRound(s, inputs({ inbox: [registration("a", "w1", bad)] }), 0);
  assert.equal(r.reject.length, 1);
  assert.deepEqual(r.refused, [{ key: "w1", reason: r.reject[0]!.reason }]);
  assert.equal(s.state.workers.size, 0);
});

Deno.test("serverRound() cancels a huge id range without walking it", () => {
  const s = busySession();
  const r = serverRound(
    s,
    inputs({
      inbox: [request("c", 2, { kind: "jobCancel", selector: "1-4294967295", reason: null })],
    }),
    2,
  );
  const reply = r.replies[0]?.msg;
  assert.deepEqual(
    reply?.kind === "data" && (reply.data as { id: number; result: string }[]).map((x) => x.id),
    [1],
  );
});
