import assert from "node:assert/strict";
import type { FromClientMsg, InboxItem, WorkerConfig } from "../protocol/messages.ts";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";
import { createServerState } from "../scheduler/state.ts";
import { jobSubmit, workerConfig } from "../scheduler/testdata/fixtures.ts";
import { testQueueParams } from "../autoalloc/testdata/params.ts";
import { type AutoallocEvent, restoreAutoalloc } from "../autoalloc/mod.ts";
import { createServerSession, type RoundInputs, serverRound, type ServerSession } from "./round.ts";

const CTX = {
  program: ["/bin/deno", "run", "-A", "/r/worker.ts"],
  serverDir: "/s",
  instanceRoot: "/s/001",
};

function session(): ServerSession {
  return createServerSession(
    createServerState("uid", { prefillMax: 0, prefillReserve: 0 }),
    undefined,
    {
      context: CTX,
    },
  );
}

function inputs(partial: Partial<RoundInputs>): RoundInputs {
  return { inbox: [], channels: [], dead: [], stopSignal: false, ...partial };
}

let n = 0;
function request(msg: FromClientMsg, client = "c1"): InboxItem {
  n++;
  return {
    kind: "message",
    name: `r${n}`,
    envelope: { v: PROTOCOL_VERSION, client, request: n, sentAt: 0, msg },
  };
}

function registration(key: string, jobId: string): InboxItem {
  const config: WorkerConfig = {
    ...workerConfig({ pools: ["cpus=4"] }),
    manager: { kind: "slurm", jobId },
  };
  return {
    kind: "message",
    name: `reg-${key}`,
    envelope: {
      v: PROTOCOL_VERSION,
      client: null,
      request: 0,
      sentAt: 0,
      msg: { kind: "registerWorker", key, config },
    },
  };
}

Deno.test("a queue with waiting tasks submits an allocation, which runs when its worker registers", () => {
  const s = session();
  const add = serverRound(
    s,
    inputs({
      inbox: [
        request({
          kind: "allocAdd",
          params: testQueueParams({ cpus: "4", workerArgs: ["--cpus", "4"] }),
          dryRun: false,
        }),
      ],
    }),
    0,
  );
  assert.deepEqual(add.replies[0]?.msg, { kind: "data", request: n, data: { queueId: 1 } });
  assert.deepEqual(add.batch?.queues?.map((q) => q.id), [1]);
  // Nothing waits: nothing is submitted.
  assert.deepEqual(add.autoalloc.filter((a) => a.kind === "submit"), []);
  const submit = serverRound(
    s,
    inputs({
      inbox: [request({ kind: "submit", job: jobSubmit("cpus=1", 8) })],
    }),
    2000,
  );
  const actions = submit.autoalloc.filter((a) => a.kind === "submit");
  assert.equal(actions.length, 1); // backlog 1
  const action = actions[0]!;
  assert.ok(action.kind === "submit");
  assert.equal(action.dir, "/s/001/autoalloc/1/001");
  assert.match(action.script, /--manager "slurm" --server-dir "\/s" --cpus 4/);
  // In flight: the next pass does not submit again.
  const again = serverRound(s, inputs({}), 4000);
  assert.deepEqual(again.autoalloc.filter((a) => a.kind === "submit"), []);
  const event: AutoallocEvent = {
    kind: "submitted",
    queueId: 1,
    manager: "slurm",
    id: "77",
    dir: action.dir,
    workerCount: 1,
  };
  const done = serverRound(s, inputs({ autoalloc: [event] }), 5000);
  assert.equal(done.batch?.queues?.[0]?.allocations[0]?.state, "queued");
  serverRound(s, inputs({ inbox: [registration("w1", "77")] }), 6000);
  const a = s.autoalloc.queues.get(1)!.allocations.get("77")!;
  assert.equal(a.state, "running");
  assert.deepEqual(Object.keys(a.connected), ["1"]);
  // A stop cancels it.
  const stop = serverRound(s, inputs({ stopSignal: true }), 7000);
  assert.deepEqual(stop.autoalloc.filter((x) => x.kind === "cancel"), [
    { kind: "cancel", manager: "slurm", ids: ["77"] },
  ]);
});

Deno.test("alloc add with a dry run answers after the shell reports, and adds the queue only then", () => {
  const s = session();
  const add = serverRound(
    s,
    inputs({
      inbox: [request({ kind: "allocAdd", params: testQueueParams(), dryRun: true })],
    }),
    0,
  );
  assert.deepEqual(add.replies, []);
  const dry = add.autoalloc.find((a) => a.kind === "dryRun");
  assert.ok(dry && dry.kind === "dryRun");
  assert.match(dry.dir, /autoalloc\/dry-run\/001$/);
  assert.equal(s.autoalloc.queues.size, 0);
  const failed = serverRound(
    s,
    inputs({
      autoalloc: [{ kind: "dryRunDone", token: dry.token, error: "sbatch: invalid partition" }],
    }),
    1000,
  );
  assert.equal(failed.replies[0]?.msg.kind, "error");
  assert.match(JSON.stringify(failed.replies[0]?.msg), /invalid partition/);
  assert.equal(s.autoalloc.queues.size, 0);
  const second = serverRound(
    s,
    inputs({
      inbox: [request({ kind: "allocAdd", params: testQueueParams(), dryRun: true })],
    }),
    2000,
  );
  const dry2 = second.autoalloc.find((a) => a.kind === "dryRun")!;
  assert.ok(dry2.kind === "dryRun");
  const ok = serverRound(
    s,
    inputs({
      autoalloc: [{ kind: "dryRunDone", token: dry2.token, error: null }],
    }),
    3000,
  );
  assert.deepEqual(ok.replies[0]?.msg, { kind: "data", request: n, data: { queueId: 1 } });
  assert.equal(s.autoalloc.queues.size, 1);
});

Deno.test("bad alloc requests get one-line errors and change nothing", () => {
  const s = session();
  for (
    const msg of [
      { kind: "allocInfo", queueId: 9 },
      { kind: "allocPause", queueId: 9 },
      { kind: "allocRemove", queueId: 9, force: false },
      { kind: "allocAdd", params: { manager: "lsf" }, dryRun: false },
      {
        kind: "allocAdd",
        params: testQueueParams({ additionalArgs: ["--nodes", "2"] }),
        dryRun: false,
      },
    ] as FromClientMsg[]
  ) {
    const out = serverRound(s, inputs({ inbox: [request(msg)] }), 0);
    const reply = out.replies[0]?.msg;
    assert.equal(reply?.kind, "error", JSON.stringify(msg));
    assert.ok(reply?.kind === "error" && !reply.message.includes("\n"));
  }
  assert.equal(s.autoalloc.queues.size, 0);
});

Deno.test("alloc remove refuses a queue with running allocations without --force", () => {
  const s = session();
  serverRound(
    s,
    inputs({
      inbox: [request({ kind: "allocAdd", params: testQueueParams(), dryRun: false })],
    }),
    0,
  );
  s.autoalloc.inFlight.set(1, [1]);
  serverRound(
    s,
    inputs({
      autoalloc: [{
        kind: "submitted",
        queueId: 1,
        manager: "slurm",
        id: "5",
        dir: "/d",
        workerCount: 1,
      }],
      inbox: [registration("w1", "5")],
    }),
    10,
  );
  const refused = serverRound(
    s,
    inputs({
      inbox: [request({ kind: "allocRemove", queueId: 1, force: false })],
    }),
    20,
  );
  assert.match(JSON.stringify(refused.replies[0]?.msg), /running allocations \(5\); use --force/);
  const forced = serverRound(
    s,
    inputs({
      inbox: [request({ kind: "allocRemove", queueId: 1, force: true })],
    }),
    30,
  );
  assert.deepEqual(forced.autoalloc.filter((a) => a.kind === "cancel"), [
    { kind: "cancel", manager: "slurm", ids: ["5"] },
  ]);
  assert.deepEqual(forced.batch?.queuesRemoved, [1]);
});

Deno.test("a restored server asks the batch system about allocations still alive at once", () => {
  const aa = restoreAutoalloc([{
    id: 1,
    params: testQueueParams(),
    state: "active",
    pauseReason: null,
    submitFailures: 0,
    allocationFailures: 0,
    backoffStep: 0,
    nextSubmitAt: 0,
    dirCounter: 2,
    observedCapacity: null,
    allocations: [
      {
        id: "41",
        queueId: 1,
        workerCount: 1,
        dir: "/s/001/autoalloc/1/001",
        state: "running",
        queuedAt: 0,
        startedAt: 10,
        endedAt: null,
        connected: { 3: 10 },
        disconnected: {},
        endReason: null,
      },
      {
        id: "40",
        queueId: 1,
        workerCount: 1,
        dir: "/s/001/autoalloc/1/000",
        state: "finished",
        queuedAt: 0,
        startedAt: 5,
        endedAt: 9,
        connected: { 2: 5 },
        disconnected: { 2: "idleTimeout" },
        endReason: "its workers ended",
      },
    ],
  }], 2);
  const s = createServerSession(createServerState("uid"), undefined, { state: aa, context: CTX });
  const out = serverRound(s, inputs({}), 1_000_000);
  assert.deepEqual(out.autoalloc.filter((a) => a.kind === "status"), [
    { kind: "status", manager: "slurm", ids: ["41"] },
  ]);
  // The batch system says it ended: it is finished, and the queue is free again.
  serverRound(
    s,
    inputs({
      autoalloc: [{
        kind: "status",
        manager: "slurm",
        states: [{ id: "41", state: "finished", reason: "COMPLETED" }],
      }],
    }),
    1_000_100,
  );
  assert.equal(s.autoalloc.queues.get(1)!.allocations.get("41")!.state, "finished");
});
