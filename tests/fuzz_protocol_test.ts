/**
 * Fuzzing the file protocol in process: the codec's decoders and the validators
 * behind them, record framing, and the server's round fed with mutated worker
 * records and inbox files (the state keeps its invariants and restores from its
 * journal). Inputs that found bugs (\`*_FOUND\`) are checked on every run.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  assertCleanError,
  ENGINE_MESSAGE_REGEXP,
  fuzz,
  jsonTextArb,
  scaledRuns,
  timed,
} from "./_fuzz.ts";
import {
  decodeFromWorker,
  decodeInbox,
  decodeRecords,
  decodeToClient,
  decodeToWorker,
  encodeRecord,
  encodeRecords,
  type InboxItem,
  MESSAGE_KINDS,
  validateJobSubmit,
  validateQueueParams,
  validateWorkerConfig,
} from "../lib/protocol/mod.ts";
import {
  createServerSession,
  decodeWorkerRecords,
  type RoundInputs,
  serverRound,
  type ServerSession,
} from "../lib/server/mod.ts";
import { createServerState, DEFAULT_SCHEDULER_CONFIG, partOf } from "../lib/scheduler/mod.ts";
import { checkServerState } from "../lib/sim/mod.ts";
import { MemoryJournalStore, restoreState } from "../lib/journal/mod.ts";
import {
  ENVELOPE,
  INBOX_EXAMPLES,
  isId,
  job,
  NASTY_RECORDS,
  REF,
  SLOW_MS,
  UPDATE_KINDS,
  v,
} from "./_fuzz_cases.ts";

// ---------------------------------------------------------------------------
// Codec and validation

const FROM_WORKER_EXAMPLES: readonly unknown[] = [
  { v, kind: "heartbeat", at: 1_700_000_000_000 },
  { v, kind: "taskUpdates", updates: [{ kind: "started", ...REF, variant: 0 }] },
  {
    v,
    kind: "taskUpdates",
    updates: [
      { kind: "finished", ...REF },
      { kind: "failed", ...REF, id: 1, error: "exit code 1" },
      { kind: "rejected", ...REF, id: 2, variant: 0 },
      { kind: "returned", ...REF, id: 3 },
    ],
  },
  { v, kind: "stopping", reason: "idle" },
  { v, kind: "ack", segment: 2 },
  {
    v,
    kind: "reattached",
    running: [{ jobId: 1, id: 0, instance: 0, variant: 0, startedAt: 1_700_000_000_000 }],
  },
];

/** Checks the numbers of an accepted worker record: ids are non-negative integers. */
function checkFromWorker(what: string, msg: Record<string, unknown>): void {
  const refs: Record<string, unknown>[] = [];
  if (msg.kind === "taskUpdates") refs.push(...(msg.updates as Record<string, unknown>[]));
  if (msg.kind === "reattached") refs.push(...(msg.running as Record<string, unknown>[]));
  for (const r of refs) {
    for (const f of ["jobId", "id", "instance", "variant"]) {
      if (f in r || f !== "variant") {
        assert.ok(isId(r[f]), `${what}: accepted ${f} ${JSON.stringify(r[f])}`);
      }
    }
  }
  if (msg.kind === "ack") assert.ok(isId(msg.segment), `${what}: accepted segment`);
}

/**
 * Inputs that found bugs (open, `codec.ts`): ids, instances, variants and segments are only
 * checked to be finite numbers, so negative and fractional ones pass.
 */
const FROM_WORKER_FOUND = [
  JSON.stringify({ v, kind: "ack", segment: -2 }),
  JSON.stringify({ v, kind: "taskUpdates", updates: [{ kind: "finished", ...REF, id: -2 }] }),
  JSON.stringify({
    v,
    kind: "taskUpdates",
    updates: [{ kind: "started", ...REF, variant: 0.5 }],
  }),
];

Deno.test(`fuzz: worker records decode or are refused (${scaledRuns(150)} inputs)`, () => {
  fuzz("decodeFromWorker", jsonTextArb(FROM_WORKER_EXAMPLES, UPDATE_KINDS), (text) => {
    const what = `decodeFromWorker(${JSON.stringify(text.slice(0, 300))})`;
    let msg;
    try {
      msg = timed(what, SLOW_MS, () => decodeFromWorker(text));
    } catch (e) {
      assertCleanError(e, what, { pattern: /^Cannot decode / });
      return;
    }
    checkFromWorker(what, msg as unknown as Record<string, unknown>);
  }, { runs: scaledRuns(150), examples: FROM_WORKER_FOUND });
});

const TO_WORKER_EXAMPLES: readonly unknown[] = [
  { v, kind: "registered", workerId: 1, serverUid: "abc" },
  {
    v,
    kind: "computeTasks",
    jobId: 1,
    submitDir: "/tmp",
    template: job(1).template,
    tasks: [{ id: 0, instance: 0, variant: 0 }],
  },
  { v, kind: "cancelTasks", tasks: [{ jobId: 1, id: 0, instance: 0 }] },
  { v, kind: "retractTasks", tasks: [{ jobId: 1, id: 0, instance: 0 }] },
  { v, kind: "stop", reason: "stopped" },
  { v, kind: "ack", segment: 1 },
  { v, kind: "serverRestarted", serverStartedAt: 1 },
];
const TO_CLIENT_EXAMPLES: readonly unknown[] = [
  { v, kind: "submitted", request: 1, jobId: 7 },
  { v, kind: "data", request: 2, data: [{ id: 1 }] },
  { v, kind: "error", request: 3, message: "Cannot do it" },
];

/**
 * Inputs that found bugs (open, `codec.ts`): the task lists of `computeTasks`,
 * `cancelTasks` and `retractTasks` are only checked to be arrays.
 */
const TO_WORKER_FOUND: ["toWorker" | "toClient", string][] = [
  ["toWorker", JSON.stringify({ ...(TO_WORKER_EXAMPLES[1] as object), tasks: [0] })],
  ["toWorker", JSON.stringify({ v, kind: "cancelTasks", tasks: [null] })],
  ["toWorker", JSON.stringify({ v, kind: "retractTasks", tasks: [{ jobId: "1" }] })],
];

Deno.test(`fuzz: server records and replies decode or are refused (${scaledRuns(150)} inputs)`, () => {
  const arb = fc.oneof(
    jsonTextArb(TO_WORKER_EXAMPLES, MESSAGE_KINDS.toWorker).map((t) => ["toWorker", t] as const),
    jsonTextArb(TO_CLIENT_EXAMPLES, MESSAGE_KINDS.toClient).map((t) => ["toClient", t] as const),
  );
  fuzz("decodeToWorker", arb, ([dir, text]) => {
    const what = `decode ${dir} ${JSON.stringify(text.slice(0, 300))}`;
    let msg;
    try {
      msg = timed(
        what,
        SLOW_MS,
        () => dir === "toWorker" ? decodeToWorker(text) : decodeToClient(text),
      );
    } catch (e) {
      assertCleanError(e, what, { pattern: /^Cannot decode / });
      return;
    }
    if (msg.kind === "cancelTasks" || msg.kind === "retractTasks") {
      for (const r of msg.tasks as unknown[]) {
        const t = r as Record<string, unknown>;
        assert.ok(isId(t?.jobId) && isId(t?.id) && isId(t?.instance), `${what}: accepted ${r}`);
      }
    }
    if (msg.kind === "computeTasks") {
      for (const r of msg.tasks as unknown[]) {
        const t = r as Record<string, unknown>;
        assert.ok(
          isId(t?.id) && isId(t?.instance) && (t?.variant === null || isId(t?.variant)),
          `${what}: accepted task ${JSON.stringify(r)}`,
        );
      }
    }
  }, { runs: scaledRuns(150), examples: TO_WORKER_FOUND });
});

/** Decodes and validates an inbox file as the server does; returns the envelope or throws. */
function decodeAndValidate(what: string, text: string): void {
  let env;
  try {
    env = timed(what, SLOW_MS, () => decodeInbox(text));
  } catch (e) {
    assertCleanError(e, what, { pattern: /^Cannot decode / });
    return;
  }
  const msg = env.msg as Record<string, unknown>;
  const validate = msg.kind === "submit"
    ? () => validateJobSubmit(msg.job)
    : msg.kind === "registerWorker"
    ? () => validateWorkerConfig(msg.config)
    : msg.kind === "allocAdd" || msg.kind === "allocDryRun"
    ? () => validateQueueParams(msg.params)
    : () => {};
  try {
    timed(what, SLOW_MS, validate);
  } catch (e) {
    assertCleanError(e, `${what} (validation)`, { pattern: /^Cannot accept / });
  }
}

/**
 * Inputs that found bugs (open, `validate.ts`): a rejected value is quoted as it is, line
 * breaks included.
 */
const INBOX_FOUND = [
  JSON.stringify({
    ...ENVELOPE,
    msg: {
      kind: "submit",
      job: {
        ...job(1),
        template: {
          ...job(1).template,
          requests: [{ entries: [{ resource: "cpus", amount: 1, policy: "a\nb" }], minTimeMs: 0 }],
        },
      },
    },
  }),
];

Deno.test(`fuzz: inbox files decode and validate or are refused (${scaledRuns(200)} inputs)`, () => {
  fuzz("decodeInbox", jsonTextArb(INBOX_EXAMPLES, MESSAGE_KINDS.fromClient), (text) => {
    decodeAndValidate(`decodeInbox(${JSON.stringify(text.slice(0, 300))})`, text);
  }, { runs: scaledRuns(200), examples: INBOX_FOUND });
});

// ---------------------------------------------------------------------------
// Framing

interface ByteEdit {
  op: number;
  at: number;
  len: number;
  byte: number;
}

function applyByteEdit(bytes: Uint8Array, e: ByteEdit): Uint8Array {
  const at = bytes.length === 0 ? 0 : e.at % bytes.length;
  const parts = (...chunks: ArrayLike<number>[]) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.length;
    }
    return out;
  };
  switch (e.op % 6) {
    case 0: {
      const out = bytes.slice();
      if (out.length > 0) out[at] = out[at]! ^ (1 << (e.byte % 8));
      return out;
    }
    case 1:
      return parts(bytes.subarray(0, at), [e.byte], bytes.subarray(at));
    case 2:
      return parts(bytes.subarray(0, at), bytes.subarray(at + e.len + 1));
    case 3:
      return parts(bytes.subarray(0, at), new Uint8Array(e.len * 3 + 1), bytes.subarray(at));
    case 4:
      return bytes.subarray(0, at);
    default:
      return parts(bytes, bytes.subarray(at));
  }
}

const framedArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.tuple(
    fc.array(
      fc.oneof(fc.string({ unit: "binary", maxLength: 40 }), jsonTextArb(FROM_WORKER_EXAMPLES)),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
    fc.array(
      fc.record({ op: fc.nat(), at: fc.nat(), len: fc.nat(20), byte: fc.nat(255) }),
      { maxLength: 3 },
    ),
  ).map(([payloads, edits]) => {
    const safe = payloads.map((p) => p.replaceAll("\n", "\\n"));
    return edits.reduce(applyByteEdit, encodeRecords(safe));
  }),
);

/**
 * Inputs that found bugs (open, `framing.ts`): a payload that starts with a byte order mark
 * loses it when the buffer is not plain ASCII (the decoder strips it), so the record handed
 * on is not the one checksummed.
 */
const FRAMING_FOUND: [Uint8Array, number][] = [
  [new TextEncoder().encode("5 8aa87a19 \ufeff{}\n4 25cbfc4f null\n"), 0],
];

Deno.test(`fuzz: channel bytes decode into records and skipped stretches (${scaledRuns(150)} inputs)`, () => {
  fuzz("decodeRecords", fc.tuple(framedArb, fc.nat(1_000_000)), ([bytes, base]) => {
    const what = `decodeRecords(${JSON.stringify([...bytes.subarray(0, 120)])}, ${base})`;
    const res = timed(what, SLOW_MS, () => decodeRecords(bytes, base));
    assert.ok(res.consumed >= 0 && res.consumed <= bytes.length, `${what}: consumed`);
    // Records and skipped stretches tile the consumed bytes, in order.
    const pieces = [
      ...res.records.map((r) => ({ offset: r.offset, end: r.end, payload: r.payload })),
      ...res.corrupt.map((c) => ({ offset: c.offset, end: c.end, payload: undefined })),
    ].sort((a, b) => a.offset - b.offset);
    let pos = base;
    for (const p of pieces) {
      assert.equal(p.offset, pos, `${what}: gap or overlap at ${pos}`);
      assert.ok(p.end > p.offset, `${what}: empty piece`);
      if (p.payload !== undefined) {
        const again = encodeRecord(p.payload);
        assert.deepEqual(again, bytes.subarray(p.offset - base, p.end - base), `${what}: record`);
      }
      pos = p.end;
    }
    assert.equal(pos, base + res.consumed, `${what}: consumed is not the end of the last piece`);
  }, { runs: scaledRuns(150), examples: FRAMING_FOUND });
});

// ---------------------------------------------------------------------------
// The server's round, in process

const NOW = 1_700_000_000_000;

function roundInputs(partial: Partial<RoundInputs>): RoundInputs {
  return { inbox: [], channels: [], dead: [], stopSignal: false, ...partial };
}

function inboxItem(name: string, text: string): InboxItem {
  try {
    return { kind: "message", name, envelope: decodeInbox(text) };
  } catch (e) {
    return { kind: "rejected", name, reason: (e as Error).message };
  }
}

/** A server session whose rounds are journaled, as the real server's are. */
interface JournaledSession {
  session: ServerSession;
  store: MemoryJournalStore;
}

function commitRound(js: JournaledSession, inputs: RoundInputs, now: number) {
  const out = serverRound(js.session, inputs, now);
  if (out.batch) js.store.commit(out.batch);
  return out;
}

/**
 * Worker 1 (four cpus) with job 1's 24 one-cpu tasks: 0-3 assigned with their variant,
 * 4-7 prefilled (the worker picks the variant when it starts them), as the real server's
 * default scheduler configuration does. `restored`: the same after a server restart (from
 * the journal), worker 1 reattaching and every task waiting (assignments are not journaled).
 */
function busySession(restored = false): JournaledSession {
  const js = {
    session: createServerSession(createServerState("uid", DEFAULT_SCHEDULER_CONFIG)),
    store: new MemoryJournalStore(),
  };
  const reg = JSON.stringify(INBOX_EXAMPLES[INBOX_EXAMPLES.length - 1]);
  commitRound(js, roundInputs({ inbox: [inboxItem("a", reg)] }), NOW);
  const submit = JSON.stringify({ ...ENVELOPE, msg: { kind: "submit", job: job(24) } });
  commitRound(js, roundInputs({ inbox: [inboxItem("b", submit)] }), NOW + 1);
  if (restored) {
    const { state } = restoreState(
      js.store.load(),
      "x",
      NOW + 2,
      DEFAULT_SCHEDULER_CONFIG,
      NOW + 60_000,
    );
    assert.equal(state.workers.get(1)?.reattaching, true, "restored session: worker 1 reattaches");
    return { session: createServerSession(state), store: js.store };
  }
  const tasks = [...js.session.state.jobs.get(1)!.tasks];
  const assigned = tasks.filter(([, t]) => t.state === "assigned");
  const prefilled = assigned.filter(([, t]) => t.variant === null).map(([id]) => id);
  assert.deepEqual(prefilled, [4, 5, 6, 7], "busy session: tasks 4-7 prefilled");
  return js;
}

/**
 * The server's bookkeeping holds, job 1 is kept (unless `pruned`: a `journalPrune` request
 * may drop it once complete), no task runs an unknown variant, and the journal restores.
 */
function checkSession(js: JournaledSession, what: string, pruned = false): void {
  const s = js.session;
  try {
    checkServerState(s.state);
  } catch (e) {
    // A worker that says it started more than it has is believed: over-commitment is its
    // report, not broken bookkeeping.
    if (!/over-committed/.test((e as Error).message)) {
      assert.fail(`${what}: server state broken: ${(e as Error).message}`);
    }
  }
  assert.ok(pruned || s.state.jobs.has(1), `${what}: job 1 lost`);
  for (const j of s.state.jobs.values()) {
    for (const [id, t] of j.tasks) {
      assert.ok(
        t.variant === null ||
          (isId(t.variant) && t.variant < partOf(j, id).template.requests.length),
        `${what}: task ${j.id}@${id} has variant ${t.variant}`,
      );
    }
  }
  let restored;
  try {
    restored = restoreState(js.store.load(), "x", NOW + 20, DEFAULT_SCHEDULER_CONFIG);
  } catch (e) {
    assert.fail(`${what}: the journal does not restore: ${(e as Error).message}`);
  }
  assert.ok(pruned || restored.state.jobs.has(1), `${what}: job 1 lost from the journal`);
}

function runRound(js: JournaledSession, inputs: RoundInputs, what: string) {
  try {
    return timed(what, SLOW_MS, () => commitRound(js, inputs, NOW + 10));
  } catch (e) {
    if (e instanceof Error && e.message.startsWith(`${what}: took`)) throw e;
    assert.fail(`${what}: serverRound threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

/** The records a worker could send about job 1's tasks. */
const SESSION_RECORDS: readonly unknown[] = [
  ...FROM_WORKER_EXAMPLES.filter((r) => (r as { kind: string }).kind !== "taskUpdates"),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((id) => ({
    v,
    kind: "taskUpdates",
    updates: [{ kind: "started", ...REF, id, variant: 0 }],
  })),
  {
    v,
    kind: "taskUpdates",
    updates: [
      { kind: "started", ...REF, id: 0, variant: 0 },
      { kind: "finished", ...REF, id: 0 },
      { kind: "failed", ...REF, id: 1, error: "boom" },
      { kind: "rejected", ...REF, id: 2, variant: 0 },
      { kind: "returned", ...REF, id: 3 },
      { kind: "started", ...REF, id: 4, variant: 0 },
      { kind: "rejected", ...REF, id: 5, variant: 0 },
    ],
  },
  {
    v,
    kind: "reattached",
    running: [0, 1, 5].map((id) => ({ jobId: 1, id, instance: 0, variant: 0, startedAt: NOW })),
  },
];

for (const [name, update] of NASTY_RECORDS) {
  Deno.test(`fuzz: a worker record with a ${name} never reaches the scheduler`, () => {
    const s = busySession();
    const text = JSON.stringify({ v, kind: "taskUpdates", updates: [update] });
    const { records } = decodeWorkerRecords(1, [text]);
    const what = `record ${text}`;
    runRound(
      s,
      roundInputs({
        channels: [{ workerId: 1, records, position: { segment: 0, offset: 99 }, rotated: false }],
      }),
      what,
    );
    checkSession(s, what);
  });
}

/**
 * Inputs that found bugs (open, `lib/scheduler`):
 * - a `rejected` update of a prefilled task once the worker holds nothing else leaves the
 *   worker blocking the class with nothing to ever clear it;
 * - on a restored server, a reattaching worker's `started` for a task it then leaves out of its
 *   `reattached` list leaks the task's resources, or its prefill count.
 */
const ROUND_RECORDS_FOUND: [string[], boolean][] = [
  [[
    JSON.stringify({
      v,
      kind: "taskUpdates",
      updates: [
        { kind: "finished", ...REF, id: 0 },
        { kind: "failed", ...REF, id: 1, error: "boom" },
        { kind: "returned", ...REF, id: 2 },
        { kind: "returned", ...REF, id: 3 },
        { kind: "rejected", ...REF, id: 5, variant: 0 },
      ],
    }),
  ], false],
  [[
    JSON.stringify({
      v,
      kind: "taskUpdates",
      updates: [{ kind: "started", ...REF, id: 1, variant: 0 }],
    }),
    JSON.stringify({
      v,
      kind: "reattached",
      running: [{ jobId: 1, id: 0, instance: 0, variant: 0, startedAt: NOW }],
    }),
  ], true],
  [[
    JSON.stringify({
      v,
      kind: "taskUpdates",
      updates: [{ kind: "started", ...REF, id: 4, variant: 0 }],
    }),
    JSON.stringify({
      v,
      kind: "reattached",
      running: [{ jobId: 1, id: 0, instance: 0, variant: 0, startedAt: NOW }],
    }),
  ], true],
];

Deno.test(`fuzz: server round on mutated worker records (${scaledRuns(150)} inputs)`, () => {
  const recordArb = fc.array(jsonTextArb(SESSION_RECORDS, UPDATE_KINDS), {
    minLength: 1,
    maxLength: 3,
  });
  fuzz("round records", fc.tuple(recordArb, fc.boolean()), ([texts, restored]) => {
    const what = `records ${JSON.stringify(texts.map((t) => t.slice(0, 200)))}${
      restored ? " (restored server)" : ""
    }`;
    const s = busySession(restored);
    const { records } = decodeWorkerRecords(1, texts);
    runRound(
      s,
      roundInputs({
        channels: [{ workerId: 1, records, position: { segment: 0, offset: 99 }, rotated: false }],
      }),
      what,
    );
    checkSession(s, what);
  }, { runs: scaledRuns(150), examples: ROUND_RECORDS_FOUND });
});

/**
 * Inputs that found bugs (open):
 * - `codec.ts`/`validate.ts`: `taskList`'s `taskIds` is not checked, and the query fails on
 *   it with the engine's message (or overflows the stack comparing a deeply nested value);
 * - `lib/server` `journalPrune`: it forgets a canceled job whose tasks a worker still holds,
 *   leaving slots of an unknown job (their resources are never given back).
 */
const ROUND_INBOX_FOUND: string[][] = [
  [JSON.stringify({ ...ENVELOPE, msg: { kind: "taskList", selector: "last", taskIds: [null] } })],
  [
    `{"v":${v},"client":"c1","request":1,"sentAt":1,"msg":{"kind":"taskList","selector":"1",` +
    `"taskIds":[{"start":${"[".repeat(5000)}${"]".repeat(5000)},"end":1}]}}`,
  ],
  [
    JSON.stringify({ ...ENVELOPE, msg: { kind: "jobCancel", selector: "1", reason: null } }),
    JSON.stringify({ ...ENVELOPE, request: 2, msg: { kind: "journalPrune" } }),
  ],
];

Deno.test(`fuzz: server round on mutated inbox files (${scaledRuns(150)} inputs)`, () => {
  const arb = fc.array(jsonTextArb(INBOX_EXAMPLES, MESSAGE_KINDS.fromClient), {
    minLength: 1,
    maxLength: 3,
  });
  fuzz("round inbox", arb, (texts) => {
    const what = `inbox files ${JSON.stringify(texts.map((t) => t.slice(0, 200)))}`;
    const s = busySession();
    const inbox = texts.map((t, i) => inboxItem(`f${i}`, t));
    const out = runRound(s, roundInputs({ inbox }), what);
    for (const r of out.replies) {
      if (r.msg.kind !== "error") continue;
      assert.ok(
        !ENGINE_MESSAGE_REGEXP.test(r.msg.message) && !/[\r\n]/.test(r.msg.message),
        `${what}: error reply ${JSON.stringify(r.msg.message)}`,
      );
    }
    const accounted = new Set([...out.processed, ...out.reject.map((r) => r.name)]);
    for (const item of inbox) {
      assert.ok(accounted.has(item.name), `${what}: ${item.name} neither applied nor rejected`);
    }
    const pruned = inbox.some((i) =>
      i.kind === "message" && i.envelope.msg.kind === "journalPrune"
    );
    checkSession(s, what, pruned);
  }, { runs: scaledRuns(150), examples: ROUND_INBOX_FOUND });
});
