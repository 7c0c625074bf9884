import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeFromWorker,
  decodeInbox,
  decodeToClient,
  decodeToWorker,
  encodeFromWorker,
  encodeInbox,
  encodeToClient,
  encodeToWorker,
  MESSAGE_KINDS,
  ProtocolSyntaxError,
} from "./codec.ts";
import { PROTOCOL_VERSION, type TaskUpdate } from "./messages.ts";

Deno.test("codec round-trips every direction", () => {
  const toWorker = { kind: "cancelTasks" as const, tasks: [{ jobId: 1, id: 2, instance: 0 }] };
  assert.deepEqual(decodeToWorker(encodeToWorker(toWorker)), toWorker);
  const fromWorker = { kind: "heartbeat" as const, at: 5 };
  assert.deepEqual(decodeFromWorker(encodeFromWorker(fromWorker)), fromWorker);
  const toClient = { kind: "error" as const, request: 3, message: "Cannot do it" };
  assert.deepEqual(decodeToClient(encodeToClient(toClient)), toClient);
  const inbox = {
    client: "c1",
    request: 1,
    sentAt: 9,
    msg: { kind: "jobInfo" as const, selector: "last" },
  };
  assert.deepEqual(decodeInbox(encodeInbox(inbox)), { v: PROTOCOL_VERSION, ...inbox });
});

Deno.test("codec round-trips arbitrary task updates (property)", () => {
  const ref = { jobId: fc.nat(), id: fc.nat(), instance: fc.nat(), at: fc.nat() };
  const update = fc.oneof(
    fc.record({ kind: fc.constantFrom("finished", "canceled", "returned"), ...ref }),
    fc.record({ kind: fc.constantFrom("started", "rejected"), variant: fc.nat(31), ...ref }),
    fc.record({ kind: fc.constant("failed"), error: fc.string(), ...ref }),
  ) as fc.Arbitrary<TaskUpdate>;
  fc.assert(fc.property(fc.array(update), (updates) => {
    const msg = { kind: "taskUpdates" as const, updates: updates.map((u) => ({ ...u })) };
    assert.deepEqual(decodeFromWorker(encodeFromWorker(msg)), msg);
  }));
});

Deno.test("codec rejects malformed records", () => {
  const bad = [
    "not json",
    "[]",
    JSON.stringify({ kind: "heartbeat", at: 1 }),
    JSON.stringify({ v: PROTOCOL_VERSION + 1, kind: "heartbeat", at: 1 }),
    JSON.stringify({ v: PROTOCOL_VERSION, kind: "explode" }),
    JSON.stringify({ v: PROTOCOL_VERSION, kind: "heartbeat", at: "soon" }),
    JSON.stringify({ v: PROTOCOL_VERSION, kind: "taskUpdates", updates: {} }),
    JSON.stringify({ v: PROTOCOL_VERSION, kind: "taskUpdates", updates: [], echo: "late" }),
  ];
  for (const text of bad) assert.throws(() => decodeFromWorker(text), ProtocolSyntaxError, text);
  assert.throws(
    () =>
      decodeInbox(
        JSON.stringify({
          v: PROTOCOL_VERSION,
          client: 5,
          request: 1,
          sentAt: 1,
          msg: { kind: "ping" },
        }),
      ),
    ProtocolSyntaxError,
  );
  assert.throws(
    () => decodeToWorker(JSON.stringify({ v: PROTOCOL_VERSION, kind: "stop" })),
    /field "reason"/,
  );
});

Deno.test("message kinds are pinned to the protocol version", () => {
  // Changing a union must come with a PROTOCOL_VERSION bump and an update here.
  assert.equal(PROTOCOL_VERSION, 7);
  assert.deepEqual(MESSAGE_KINDS, {
    fromClient: [
      "allocAdd",
      "allocDryRun",
      "allocExplain",
      "allocInfo",
      "allocList",
      "allocLog",
      "allocPause",
      "allocRemove",
      "allocResume",
      "debugDump",
      "jobCancel",
      "jobClose",
      "jobForget",
      "jobInfo",
      "jobList",
      "jobOpen",
      "jobWait",
      "journalEvents",
      "journalFlush",
      "journalPrune",
      "ping",
      "registerWorker",
      "serverStop",
      "submit",
      "taskExplain",
      "taskList",
      "taskNotify",
      "workerList",
      "workerStop",
    ],
    toWorker: [
      "ack",
      "cancelTasks",
      "computeTasks",
      "refused",
      "registered",
      "retractTasks",
      "serverRestarted",
      "stop",
    ],
    fromWorker: ["ack", "heartbeat", "reattached", "stopping", "taskUpdates"],
    toClient: ["data", "error", "notify", "submitted"],
  });
});

Deno.test("decodeFromWorker() validates every task update", () => {
  const good = {
    kind: "taskUpdates" as const,
    updates: [
      { kind: "started" as const, jobId: 1, id: 2, instance: 0, at: 5, variant: 0 },
      { kind: "failed" as const, jobId: 1, id: 2, instance: 0, at: 6, error: "boom" },
    ],
  };
  assert.deepEqual(decodeFromWorker(encodeFromWorker(good)), good);
  for (
    const bad of [
      { kind: "exploded", jobId: 1, id: 2, instance: 0, at: 5 },
      { kind: "started", jobId: 1, id: 2, instance: 0, at: 5 },
      { kind: "failed", jobId: "1", id: 2, instance: 0, at: 5, error: "x" },
      7,
    ]
  ) {
    const text = JSON.stringify({ v: PROTOCOL_VERSION, kind: "taskUpdates", updates: [bad] });
    assert.throws(() => decodeFromWorker(text), ProtocolSyntaxError, JSON.stringify(bad));
  }
});
