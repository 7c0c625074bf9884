/**
 * Fuzzing: random and mutated inputs at every door of the system.
 *
 * In-process (fast, shrinking): durations, id sets and selectors, task resource
 * requests, worker resource definitions, the `hq` command line (grammar, then
 * what `hq submit` builds from it), the codec's decoders, the validators behind
 * them, record framing, and the server's round fed with mutated inbox files and
 * worker records. Each input either parses into a value that holds its
 * invariants, or throws one of the project's errors with a one-line message
 * (never the engine's `TypeError` or `RangeError`), and never takes long.
 *
 * Process-level (slower, fewer): `hq` run with random and mutated command
 * lines against a live server (non-zero exit with one error line, never a
 * stack trace), random and mutated files dropped into the server's inbox, a
 * registered worker's channel and elsewhere in the server directory (the
 * server stays up, answers, keeps the job submitted before, and moves or logs
 * every bad file), and clients run against server directories with corrupt or
 * foreign `hq-current`, `lease` and `server.json` (one line, in bounded time).
 *
 * Each category also checks the inputs that found bugs first (`*_FOUND`), on
 * every run: the fixed ones stay fixed, the open ones keep failing until fixed.
 *
 * `HQ_FUZZ_SEED` replays a run and `HQ_FUZZ_RUNS` sets its size (see
 * `_fuzz.ts`); every failure names the seed. `tools/fuzz.ts` runs it longer.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import fc from "fast-check";
import {
  applyTextEdit,
  assertCleanError,
  ENGINE_MESSAGE_REGEXP,
  fuzz,
  FUZZ_SEED,
  fuzzTextArb,
  jsonTextArb,
  sampleInputs,
  scaledRuns,
  textArb,
  type TextEdit,
  timed,
} from "./_fuzz.ts";
import { Cluster, HQ_TS, type HqResult, pidAlive, sleep, waitFor } from "./_harness.ts";
import { journalCommand, serverCommand } from "../server.ts";
import { jobCommand, submitCommand, taskCommand } from "../submit.ts";
import { workerCommand } from "../worker.ts";
import { allocCommand } from "../alloc.ts";
import {
  argList,
  buildSubmit,
  type CommandSpec,
  GLOBAL_OPTIONS,
  optList,
  optString,
  parseCommandLine,
  type Parsed,
  submitFlags,
  UsageError,
} from "../lib/cli/mod.ts";
import { MAX_ID, parseDuration, parseIdSet, parseSelector } from "../lib/common/mod.ts";
import {
  buildRequestVariants,
  buildWorkerPools,
  parseRequestAmount,
  parseResourceDef,
  type ResourceRequest,
} from "../lib/resources/mod.ts";
import {
  decodeFromWorker,
  decodeInbox,
  decodeRecords,
  decodeToClient,
  decodeToWorker,
  encodeRecord,
  encodeRecords,
  type FromClientMsg,
  type InboxItem,
  type JobSubmit,
  MESSAGE_KINDS,
  PROTOCOL_VERSION,
  validateJobSubmit,
  validateQueueParams,
  validateWorkerConfig,
  type WorkerConfig,
  workerDir,
  workerOutboxDir,
} from "../lib/protocol/mod.ts";
import {
  ChannelReader,
  currentInstance,
  ensureDirMode,
  localHostname,
  postToInbox,
} from "../lib/protocol/io/mod.ts";
import {
  createServerSession,
  decodeWorkerRecords,
  type RoundInputs,
  serverRound,
  type ServerSession,
} from "../lib/server/mod.ts";
import { createServerState, DEFAULT_SCHEDULER_CONFIG } from "../lib/scheduler/mod.ts";
import { checkServerState } from "../lib/sim/mod.ts";
import { MemoryJournalStore, restoreState } from "../lib/journal/mod.ts";

/** Longest one in-process input may take (a near-hang is a failure). */
const SLOW_MS = 2000;

// ---------------------------------------------------------------------------
// Shared builders

const HQ_TREE: CommandSpec<unknown> = {
  name: "hq",
  about: "",
  subcommands: [
    serverCommand,
    jobCommand,
    taskCommand,
    submitCommand,
    workerCommand,
    allocCommand,
    journalCommand,
  ],
};

function parseHq(argv: readonly string[]) {
  return parseCommandLine(HQ_TREE, argv, {
    globals: GLOBAL_OPTIONS,
    env: () => undefined,
    version: true,
  });
}

/** A valid job of `n` one-cpu tasks (ids 0..n-1), requests as given. */
function job(n: number, requests?: ResourceRequest[]): JobSubmit {
  return {
    name: "fuzz",
    maxFails: null,
    submitDir: "/tmp",
    ids: [{ start: 0, end: n - 1 }],
    template: {
      program: { args: ["true"], env: {}, cwd: "%{SUBMIT_DIR}", stdout: null, stderr: null },
      requests: requests ??
        buildRequestVariants({ resources: ["cpus=1"], timeRequestMs: 0 }),
      pin: null,
      priority: 0,
      timeLimitMs: null,
      crashLimit: 5,
    },
  };
}

function workerConfig(pools: string[], pid = 1): WorkerConfig {
  return {
    hostname: "fuzz",
    pid,
    heartbeatMs: 3_600_000,
    idleTimeoutMs: null,
    timeLimitMs: null,
    workDir: "/tmp",
    onServerLost: "stop",
    group: "default",
    resources: pools.map((p) => parseResourceDef(p)),
    minUtilization: 0,
    manager: null,
    startedAt: 0,
  };
}

const QUEUE_PARAMS = {
  manager: "slurm",
  backlog: 1,
  maxWorkersPerAlloc: 1,
  maxWorkerCount: null,
  timeLimitMs: 3_600_000,
  name: null,
  workerStartCmd: null,
  workerStopCmd: null,
  workerWrapCmd: null,
  workerTimeLimitMs: null,
  idleTimeoutMs: 300_000,
  onServerLost: "stop",
  workerArgs: [],
  cpus: null,
  resources: [],
  minUtilization: 0,
  additionalArgs: [],
};

function isId(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------
// Text parsers

const DURATIONS = [
  "1h 5m",
  "90s",
  "01:30:00",
  "2 hours 5 minutes",
  "1500us",
  "15days 2min 2s",
  "0s",
  "1y",
  "3M",
  "100ms",
  "1w 2d",
  "5nsec",
];
const DURATION_TOKENS = ["h", "m", "s", "ms", "us", "ns", "d", "w", "M", "y", "min", "hours", ":"];

/** Inputs that found bugs (fixed: an input with a line break broke the message's line). */
const DURATION_FOUND = ["\nh", "5\nx", "1\u2028s", "1500us", `${"9".repeat(30)}y`, "01:60:00"];

Deno.test(`fuzz: durations (${scaledRuns(150)} inputs)`, () => {
  fuzz("durations", fuzzTextArb(DURATIONS, DURATION_TOKENS), (text) => {
    try {
      const ms = timed(
        `parseDuration(${JSON.stringify(text)})`,
        SLOW_MS,
        () => parseDuration(text),
      );
      assert.ok(Number.isFinite(ms) && ms >= 0, `parseDuration(${JSON.stringify(text)}) = ${ms}`);
    } catch (e) {
      assertCleanError(e, `parseDuration(${JSON.stringify(text)})`, {
        names: [text],
        pattern: /^Cannot parse duration /,
      });
    }
  }, { runs: scaledRuns(150), examples: DURATION_FOUND });
});

const ID_SETS = ["7", "1-10", "0-10:2", "1,3,5-8", "1_000-2_000", " 4 , 2 ", "0-4294967295"];
const ID_TOKENS = ["-", ",", ":", "_", "0", "1", "4294967295", "last", "all", " "];

/**
 * Inputs that found bugs (fixed): a line break in the message; a step expression of ten
 * million ids that took seconds to expand (now at most a million, all items together).
 */
const ID_SET_FOUND = ["\n", "1-\n2", "0-19999998:2", "0-4294967295:430", "0-1999998:2,3-1999999:2"];

Deno.test(`fuzz: id sets and selectors (${scaledRuns(150)} inputs)`, () => {
  fuzz("id sets", fuzzTextArb(ID_SETS, ID_TOKENS), (text) => {
    const what = `parseSelector(${JSON.stringify(text)})`;
    try {
      const sel = timed(what, SLOW_MS, () => parseSelector(text));
      if (sel.kind !== "ids") return;
      let prevEnd = -2;
      for (const r of sel.ids) {
        assert.ok(isId(r.start) && isId(r.end) && r.end <= MAX_ID, `${what}: range out of u32`);
        assert.ok(r.start <= r.end && r.start > prevEnd + 1, `${what}: ranges not normalized`);
        prevEnd = r.end;
      }
      assert.deepEqual(parseIdSet(text), sel.ids);
    } catch (e) {
      assertCleanError(e, what, { names: [text], pattern: /^Cannot parse id set / });
    }
  }, { runs: scaledRuns(150), examples: ID_SET_FOUND });
});

const REQUESTS = [
  "cpus=2",
  "gpus=2 | cpus=32",
  "cpus=2.5 gpus=1 compact!",
  "mem=100 scatter",
  "gpus/nvidia=0.25 tight",
  "cpus=all",
  "cpus=4 tight! gpus=1 | cpus=8",
];
const REQUEST_TOKENS = [
  "cpus=",
  "gpus=",
  "mem=",
  "=",
  "|",
  " ",
  "all",
  "compact",
  "compact!",
  "tight!",
  "scatter",
  "0.0001",
  "1.25",
];

/** `--cpus` and `--resource` values of `hq submit`. */
const requestFlagsArb = fc.record({
  cpus: fc.option(fuzzTextArb(["2", "4 compact!", "all", "0.5 scatter"], REQUEST_TOKENS), {
    nil: undefined,
  }),
  resources: fc.array(fuzzTextArb(REQUESTS, REQUEST_TOKENS), { maxLength: 3 }),
});

/** Inputs that found bugs (fixed: a line break in the message). */
const REQUEST_FOUND = [
  { cpus: undefined, resources: ["\r\n"] },
  { cpus: "1\n2", resources: [] },
  { cpus: undefined, resources: ["gpus=1 |\ncpus=2"] },
];

Deno.test(`fuzz: task resource requests (${scaledRuns(150)} inputs)`, () => {
  fuzz("resource requests", requestFlagsArb, ({ cpus, resources }) => {
    const what = `buildRequestVariants(${JSON.stringify({ cpus, resources })})`;
    const texts = [...(cpus === undefined ? [] : [cpus]), ...resources];
    try {
      const requests = timed(what, SLOW_MS, () =>
        buildRequestVariants({
          ...(cpus === undefined ? {} : { cpus }),
          resources,
          timeRequestMs: 0,
        }));
      // What the client builds, the server accepts.
      validateJobSubmit(job(1, requests));
    } catch (e) {
      assertCleanError(e, what, { names: texts, pattern: /^Cannot (parse|use|combine) / });
    }
    for (const text of texts) {
      const w = `parseRequestAmount("cpus", ${JSON.stringify(text)})`;
      try {
        parseRequestAmount("cpus", text);
      } catch (e) {
        assertCleanError(e, w, { names: [text], pattern: /^Cannot (parse|use) resource request / });
      }
    }
  }, { runs: scaledRuns(150), examples: REQUEST_FOUND });
});

const POOLS = [
  "cpus=4",
  "cpus=2x4",
  "gpus=[0,2,4]",
  'gpus=[a, b, "quoted, value"]',
  "cpus=[[0,1],[2,3]]",
  "cpus=range(0-7)",
  "mem=sum(1024)",
  "gpus/nvidia=[0]",
];
const POOL_TOKENS = ["[", "]", ",", '"', "x", "range(", "sum(", ")", "-", "=", "cpus", "99999"];

const poolFlagsArb = fc.record({
  cpus: fc.option(fuzzTextArb(["4", "2x4", "[0,1]", "range(0-3)"], POOL_TOKENS), {
    nil: undefined,
  }),
  resources: fc.array(fuzzTextArb(POOLS, POOL_TOKENS), { maxLength: 3 }),
});

/** Inputs that found bugs (fixed: a line break in the message). */
const POOL_FOUND = [
  { cpus: "", resources: ["::"] },
  { cpus: "[0,\n1]", resources: [] },
  { cpus: undefined, resources: ["gpus=[0,\u00001]"] },
];

Deno.test(`fuzz: worker resource definitions (${scaledRuns(150)} inputs)`, () => {
  fuzz("worker pools", poolFlagsArb, ({ cpus, resources }) => {
    const what = `buildWorkerPools(${JSON.stringify({ cpus, resources })})`;
    const texts = [...(cpus === undefined ? [] : [cpus]), ...resources];
    try {
      const pools = timed(
        what,
        SLOW_MS,
        () => buildWorkerPools({ ...(cpus === undefined ? {} : { cpus }), resources }),
      );
      // What the worker registers with, the server accepts.
      validateWorkerConfig({ ...workerConfig([]), resources: pools });
    } catch (e) {
      assertCleanError(e, what, { names: texts, pattern: /^Cannot (parse|use) / });
    }
  }, { runs: scaledRuns(150), examples: POOL_FOUND });
});

// ---------------------------------------------------------------------------
// Command lines

/** Valid `hq` command lines (without `--server-dir`). */
const ARGVS: readonly (readonly string[])[] = [
  ["submit", "--", "true"],
  ["submit", "--cpus", "2", "--array", "1-10", "--", "sleep", "1"],
  ["submit", "--resource", "gpus=1 | cpus=4", "--time-limit", "1h", "--", "x"],
  ["submit", "--nodes", "2", "--", "x"],
  ["submit", "--env", "A=1", "--stdout", "out-%{TASK_ID}", "--array", "0-3", "--", "x"],
  ["submit", "--priority", "-5", "--max-fails", "3", "--crash-limit", "unlimited", "--", "x"],
  ["submit", "--weight", "2.5", "--time-request", "10m", "--pin", "taskset", "--", "x"],
  ["submit", "--name", "n", "--cwd", "%{SUBMIT_DIR}/w", "--stderr", "none", "x"],
  ["job", "submit", "--cpus=1", "--", "true"],
  ["job", "list", "--all"],
  ["job", "list", "--filter", "running,failed"],
  ["job", "info", "1"],
  ["job", "summary"],
  ["job", "cancel", "1-3", "--reason", "why"],
  ["job", "task-ids", "last", "--filter", "waiting"],
  ["task", "list", "1", "--tasks", "0-3", "--task-status", "running"],
  ["task", "info", "1", "0"],
  ["task", "explain", "1", "0"],
  ["worker", "list", "--all"],
  ["worker", "info", "1"],
  ["worker", "hwdetect"],
  ["worker", "address", "1"],
  ["worker", "start", "--cpus", "2x4", "--resource", "mem=sum(1024)", "--heartbeat", "10s"],
  ["server", "info"],
  ["server", "wait", "--timeout", "1s"],
  ["alloc", "list"],
  ["alloc", "info", "1", "--filter", "queued"],
  ["alloc", "add", "slurm", "--time-limit", "1h", "--", "-A", "proj"],
  ["alloc", "pause", "1"],
  ["--output-mode", "json", "job", "list"],
  ["--output-mode=quiet", "worker", "list"],
  ["job", "--colors", "never", "summary"],
  ["--help"],
  ["job", "info", "--help"],
];

function treeTokens(cmd: CommandSpec<unknown>, out: Set<string>): Set<string> {
  out.add(cmd.name);
  for (const o of cmd.options ?? []) {
    out.add(`--${o.long}`);
    if (o.short) out.add(`-${o.short}`);
    for (const c of o.choices ?? []) out.add(c);
  }
  for (const s of cmd.subcommands ?? []) treeTokens(s, out);
  return out;
}

const ARG_TOKENS: readonly string[] = [
  ...treeTokens(HQ_TREE, new Set(GLOBAL_OPTIONS.map((o) => `--${o.long}`))),
  "--",
  "-",
  "=",
  "1",
  "0",
  "last",
  "all",
  "1-3",
  "1h",
  "cpus=2",
  "2x4",
  "json",
  "%{TASK_ID}",
];

interface ArgvEdit {
  op: number;
  at: number;
  token: string;
  edit: TextEdit;
}

function applyArgvEdit(argv: string[], e: ArgvEdit): string[] {
  const at = argv.length === 0 ? 0 : e.at % argv.length;
  const out = [...argv];
  switch (e.op % 6) {
    case 0:
      out.splice(at, 1);
      break;
    case 1:
      out.splice(at, 0, e.token);
      break;
    case 2:
      out[at] = e.token;
      break;
    case 3:
      out[at] = applyTextEdit(out[at] ?? "", e.edit);
      break;
    case 4:
      out.splice(at, 0, out[at] ?? e.token);
      break;
    default:
      if (at + 1 < out.length) [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
      else out.push(`${e.token}=${e.edit.piece}`);
  }
  return out;
}

const tokenArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ARG_TOKENS) },
  { weight: 1, arbitrary: textArb(ARG_TOKENS) },
);
const argvEditArb: fc.Arbitrary<ArgvEdit> = fc.record({
  op: fc.nat(),
  at: fc.nat(),
  token: tokenArb,
  edit: fc.record({ op: fc.nat(8), at: fc.nat(), len: fc.nat(8), piece: tokenArb }),
});

/** Command lines: valid ones, mutated ones (mostly), and random token lists. */
const argvArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...ARGVS).map((a) => [...a]) },
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constantFrom(...ARGVS),
      fc.array(argvEditArb, { minLength: 1, maxLength: 3 }),
    ).map(([argv, edits]) => edits.reduce(applyArgvEdit, [...argv])),
  },
  { weight: 2, arbitrary: fc.array(tokenArb, { maxLength: 6 }) },
);

/** What the in-process command line says about `argv`: a usage error, or the command run. */
type CliOracle =
  | { kind: "usage"; message: string }
  | { kind: "help" }
  | { kind: "run"; path: string; parsed: Parsed; submitError?: string };

/**
 * Parses `argv` as `hq` does and, for `submit`, builds the job as the handler
 * would; checks every error on the way is clean and every job the client
 * builds is one the server accepts.
 */
function cliOracle(argv: readonly string[]): CliOracle {
  const what = `hq ${JSON.stringify(argv)}`;
  let outcome;
  try {
    outcome = timed(what, SLOW_MS, () => parseHq(argv));
  } catch (e) {
    assertCleanError(e, what);
    assert.ok(e instanceof UsageError, `${what}: not a UsageError`);
    return { kind: "usage", message: e.message };
  }
  if (outcome.kind !== "run") return { kind: "help" };
  const parsed = outcome.parsed;
  const path = parsed.path.slice(1).join(" ");
  if (path !== "submit" && path !== "job submit") return { kind: "run", path, parsed };
  try {
    const built = timed(
      what,
      SLOW_MS,
      () => buildSubmit(submitFlags(parsed), argList(parsed, "COMMANDS"), "/home/fuzz"),
    );
    // What the client builds, the server accepts, and it survives the wire unchanged.
    const wire = JSON.parse(JSON.stringify(built.job));
    assert.deepEqual(wire, built.job, `${what}: the job changes through JSON`);
    try {
      validateJobSubmit(wire);
    } catch (e) {
      assert.fail(`${what}: the server refuses the job the client built: ${(e as Error).message}`);
    }
    const env = optList(parsed, "env");
    for (const item of env) {
      const key = item.split("=")[0]!;
      assert.ok(Object.hasOwn(built.job.template.program.env, key), `${what}: env ${key} lost`);
    }
    return { kind: "run", path, parsed };
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assertCleanError(e, `${what} (submit)`);
    return { kind: "run", path, parsed, submitError: (e as Error).message };
  }
}

/**
 * Inputs that found bugs (fixed): line breaks in values (the usage error broke its line);
 * sub-millisecond time limits and requests the server refused; a huge `--max-fails` or
 * `--crash-limit` that lost its value through JSON; `--env` names of `Object.prototype`
 * reported as duplicates.
 */
const ARGV_FOUND: string[][] = [
  ["job", "task-ids", "last", "--filter", "\u2028"],
  ["job", "info", "1\n2"],
  ["submit", "--cpus", "a\nb", "--", "x"],
  ["submit", "--time-limit", "1us", "--", "x"],
  ["submit", "--time-request", "1500us", "--", "x"],
  ["submit", "--max-fails", "99999999999999999999999", "--", "x"],
  ["submit", "--crash-limit", "1".repeat(400), "--", "x"],
  ["submit", "--env", "toString=1", "--env", "__proto__=2", "--", "x"],
  ["submit", "--name", "a\nb", "--", "x"],
];

Deno.test(`fuzz: command lines, in process (${scaledRuns(200)} inputs)`, () => {
  fuzz("argv", argvArb, (argv) => void cliOracle(argv), {
    runs: scaledRuns(200),
    examples: ARGV_FOUND,
  });
});

// ---------------------------------------------------------------------------
// Codec and validation

const v = PROTOCOL_VERSION;
const REF = { jobId: 1, id: 0, instance: 0, at: 1_700_000_000_000 };
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
const UPDATE_KINDS = ["started", "finished", "failed", "canceled", "returned", "rejected"];

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

const ENVELOPE = { v, client: "c1", request: 1, sentAt: 1_700_000_000_000 };
const CLIENT_MSGS: readonly FromClientMsg[] = [
  { kind: "ping" },
  { kind: "jobList" },
  { kind: "jobInfo", selector: "1" },
  { kind: "jobCancel", selector: "1", reason: null },
  { kind: "jobWait", selector: "all" },
  { kind: "taskList", selector: "1", taskIds: [{ start: 0, end: 1 }] },
  { kind: "taskList", selector: "last", taskIds: null },
  { kind: "taskExplain", selector: "1", taskId: 0 },
  { kind: "workerList" },
  { kind: "workerStop", selector: "1" },
  { kind: "debugDump" },
  { kind: "submit", job: job(4) },
  { kind: "allocAdd", params: QUEUE_PARAMS, dryRun: true } as unknown as FromClientMsg,
  { kind: "allocInfo", queueId: 1 },
];
const INBOX_EXAMPLES: readonly unknown[] = [
  ...CLIENT_MSGS.map((msg) => ({ ...ENVELOPE, msg })),
  {
    ...ENVELOPE,
    client: null,
    request: 0,
    msg: { kind: "registerWorker", key: "w-1", config: workerConfig(["cpus=4", "gpus=[0,1]"]) },
  },
];

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
        t.variant === null || (isId(t.variant) && t.variant < j.template.requests.length),
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

/**
 * Records that pass the framing and must never reach the scheduler as they are (task 6 is
 * prefilled: its variant comes from the worker).
 */
const NASTY_RECORDS: readonly [string, unknown][] = [
  ["variant out of range", { kind: "started", ...REF, id: 6, variant: 5 }],
  ["huge variant", { kind: "started", ...REF, id: 6, variant: 2 ** 31 }],
  ["negative variant", { kind: "started", ...REF, id: 6, variant: -1 }],
  ["fractional variant", { kind: "started", ...REF, id: 6, variant: 0.5 }],
  ["rejected, variant out of range", { kind: "rejected", ...REF, id: 6, variant: 9 }],
  ["fractional instance", { kind: "finished", ...REF, instance: 0.5 }],
  ["fractional task id", { kind: "started", ...REF, id: 0.5, variant: 0 }],
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

// ---------------------------------------------------------------------------
// Process level: `hq` command lines

/** `HQ_FUZZ_TRACE=<file>`: each `hq` command line run here and its exit code, appended. */
const TRACE = Deno.env.get("HQ_FUZZ_TRACE");

/** A parsed command line with no options (for invocations without an oracle). */
const emptyParsed: Parsed = { path: [], options: new Map(), args: new Map() };

/** Commands that block, start daemons, stop the server or write files where they are told. */
const UNSAFE_PATHS = new Set([
  "server start",
  "server stop",
  "server debug-dump",
  "server generate-access",
  "worker start",
  "worker wait",
  "worker deploy-ssh",
  "job wait",
  "job progress",
  "alloc add pbs",
  "alloc add slurm",
  "alloc dry-run pbs",
  "alloc dry-run slurm",
]);

function isSafe(oracle: CliOracle): boolean {
  if (oracle.kind !== "run") return true;
  if (UNSAFE_PATHS.has(oracle.path)) return false;
  const p = oracle.parsed;
  return !(p.options.get("wait") === true || p.options.get("progress") === true);
}

const LOG_LINE_REGEXP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARN|ERROR) /;
const STACK_REGEXP = /^\s+at |Uncaught|panicked|RUST_BACKTRACE|error: Module not found/m;

/** Runs `hq` with a deadline (a hang is a failure). */
async function runHq(c: Cluster, argv: string[], limitMs: number): Promise<HqResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HQ_TS, ...argv],
    cwd: c.workDir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.signal ? 128 : out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** `text` as it arrives through UTF-8 (lone surrogates replaced). */
function asUtf8(text: string): string {
  return new TextDecoder().decode(new TextEncoder().encode(text));
}

/** `args` with `--server-dir` before any `--`, as `Cluster.hq` passes it. */
function withServerDir(args: readonly string[], dir: string): string[] {
  const full = [...args];
  const dd = full.indexOf("--");
  if (dd >= 0) full.splice(dd, 0, "--server-dir", dir);
  else full.push("--server-dir", dir);
  return full;
}

function checkInvocation(argv: readonly string[], oracle: CliOracle, r: HqResult): void {
  const what = `hq ${JSON.stringify(argv)} (exit ${r.code})\nstdout: ${r.stdout.slice(0, 2000)}\n` +
    `stderr: ${r.stderr.slice(0, 2000)}`;
  assert.ok([0, 1, 2].includes(r.code), `${what}\nexit code not 0, 1 or 2 (crash or hang)`);
  assert.ok(!STACK_REGEXP.test(r.stderr) && !STACK_REGEXP.test(r.stdout), `${what}\nstack trace`);
  if (oracle.kind === "usage") {
    assert.equal(r.code, 2, `${what}\nusage error expected`);
    // The list of subcommands may name commands this test does not know.
    const text = oracle.message.replace(/ \[subcommands: [^\]]*\]$/, "");
    assert.ok(r.stderr.includes(`error: ${text}`), `${what}\nusage error text`);
  }
  if (oracle.kind === "run" && oracle.submitError !== undefined) {
    assert.notEqual(r.code, 0, `${what}\nsubmit error expected: ${oracle.submitError}`);
  }
  if (r.code === 0) return;
  const errors = r.stderr.split("\n").filter((l) => l.trim() !== "" && !LOG_LINE_REGEXP.test(l));
  const json = oracle.kind === "run" && optString(oracle.parsed, "output-mode") === "json";
  if (json && errors.length === 0) {
    const doc = JSON.parse(r.stdout) as { error?: unknown };
    assert.equal(typeof doc.error, "string", `${what}\nJSON error expected`);
    errors.push(doc.error as string);
  }
  assert.ok(errors.length >= 1 && errors.length <= 2, `${what}\none or two error lines expected`);
  for (const l of errors) assert.ok(!ENGINE_MESSAGE_REGEXP.test(l), `${what}\nengine error`);
}

Deno.test(`fuzz e2e: hq command lines against a live server (${scaledRuns(100)} inputs)`, async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const server = c.startServer();
    await c.waitServerReady();
    const jobId = await c.submit(["--array", "0-3", "--", "true"]);
    const candidates = sampleInputs("argv e2e", argvArb, scaledRuns(100) * 3);
    const picked: { argv: string[]; oracle: CliOracle }[] = [];
    for (const a of candidates) {
      if (picked.length >= scaledRuns(100)) break;
      // A process argument cannot hold a NUL byte, and reaches the process as UTF-8 (a lone
      // surrogate arrives as U+FFFD): the oracle sees what the process will see.
      if (a.some((w) => w.includes("\0"))) continue;
      const argv = withServerDir(a.map(asUtf8), c.serverDir);
      const oracle = cliOracle(argv);
      if (isSafe(oracle)) picked.push({ argv, oracle });
    }
    let next = 0;
    const failures: string[] = [];
    const lane = async () => {
      while (next < picked.length && failures.length === 0) {
        const { argv, oracle } = picked[next++]!;
        const r = await runHq(c, argv, 20_000);
        if (TRACE) {
          Deno.writeTextFileSync(TRACE, `${JSON.stringify([argv, r.code])}\n`, { append: true });
        }
        try {
          checkInvocation(argv, oracle, r);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    assert.deepEqual(failures, [], `rerun with HQ_FUZZ_SEED=${FUZZ_SEED}`);
    assert.equal(server.exited, undefined, "the server is still running");
    const jobs = await c.jobs();
    assert.ok(jobs.some((j) => j.id === jobId && j.task_count === 4), "job 1 is kept");
  });
});

// ---------------------------------------------------------------------------
// Process level: inbox files and a worker's channel

/** Inbox envelope kinds that would legitimately stop the server, its worker, or start batch jobs. */
const DISRUPTIVE_KINDS = new Set([
  "serverStop",
  "workerStop",
  "jobCancel",
  "allocAdd",
  "allocDryRun",
  "allocPause",
  "allocResume",
  "allocRemove",
]);

interface InboxDrop {
  name: string;
  type: "file" | "dir" | "symlink";
  text: string;
}

const nameArb = fc.oneof(
  { weight: 4, arbitrary: fc.nat(1_000_000).map((n) => `01700000000000-fuzz-${n}.json`) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom("a".repeat(250), "é 🙂 x", "x\ty", "-", "~x") },
).map((n) => n.replaceAll("/", "_").replace(/^\./, "_"));

const dropArb: fc.Arbitrary<InboxDrop> = fc.record({
  name: nameArb,
  type: fc.constantFrom("file", "file", "file", "file", "file", "file", "dir", "symlink"),
  text: jsonTextArb(INBOX_EXAMPLES, MESSAGE_KINDS.fromClient),
}).filter((d) => {
  try {
    return !DISRUPTIVE_KINDS.has(decodeInbox(d.text).msg.kind);
  } catch {
    return true;
  }
});

/** Bytes appended to the worker's channel: framed mutated records, or garbage lines. */
type ChannelDrop = { framed: string } | { raw: Uint8Array };

function recordExamples(tasks: { id: number; instance: number }[]): unknown[] {
  const ref = (t: { id: number; instance: number }) => ({
    jobId: 1,
    id: t.id,
    instance: t.instance,
    at: Date.now(),
  });
  return [
    { v, kind: "heartbeat", at: Date.now() },
    { v, kind: "ack", segment: 0 },
    ...tasks.map((t) => ({
      v,
      kind: "taskUpdates",
      updates: [{ kind: "started", ...ref(t), variant: 0 }],
    })),
    ...tasks.map((t) => ({ v, kind: "taskUpdates", updates: [{ kind: "finished", ...ref(t) }] })),
    ...tasks.map((t) => ({
      v,
      kind: "taskUpdates",
      updates: [{ kind: "failed", ...ref(t), error: "x" }],
    })),
    ...tasks.map((t) => ({
      v,
      kind: "taskUpdates",
      updates: [{ kind: "rejected", ...ref(t), variant: 0 }],
    })),
  ];
}

function channelDropArb(examples: unknown[]): fc.Arbitrary<ChannelDrop> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: jsonTextArb(examples, UPDATE_KINDS).map((t) => ({
        framed: t.replaceAll("\n", "\\n"),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => ({
        raw: new Uint8Array([...b.filter((x) => x !== 10), 10]),
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        { raw: new Uint8Array(40) },
        { raw: new TextEncoder().encode("5 00000000 hello\n") },
        { raw: new TextEncoder().encode("99999999999 ffffffff x\n") },
      ),
    },
  ).filter((d) => {
    if (!("framed" in d)) return true;
    try {
      return decodeFromWorker(d.framed).kind !== "stopping";
    } catch {
      return true;
    }
  });
}

async function drop(dir: string, tmpDir: string, d: InboxDrop): Promise<void> {
  const path = join(dir, d.name);
  if (d.type === "dir") return await Deno.mkdir(path);
  if (d.type === "symlink") return await Deno.symlink("/etc/hostname", path);
  const tmp = join(tmpDir, `fuzz-${crypto.randomUUID()}`);
  await Deno.writeTextFile(tmp, d.text);
  await Deno.rename(tmp, path);
}

Deno.test(
  `fuzz e2e: inbox files and worker records against a live server (${scaledRuns(60)} + ${
    scaledRuns(60)
  } inputs)`,
  async () => {
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      const server = c.startServer();
      await c.waitServerReady();
      const layout = currentInstance(c.serverDir)!;
      // A worker of our own: registered through the inbox; its channel is ours to write.
      const key = `fuzz-${Deno.pid}`;
      await ensureDirMode(workerDir(layout, key), 0o700);
      await ensureDirMode(workerOutboxDir(layout, key), 0o700);
      await postToInbox(layout, key, {
        client: null,
        request: 0,
        sentAt: Date.now(),
        msg: { kind: "registerWorker", key, config: workerConfig(["cpus=4"], Deno.pid) },
      });
      await c.waitWorkers(1);
      // 24 one-cpu tasks on four cpus: four assigned to run, four prefilled (variant null).
      const jobId = await c.submit(["--array", "0-23", "--", "true"]);
      const reader = new ChannelReader(workerOutboxDir(layout, key), "to-worker");
      const tasks: { id: number; instance: number; variant: number | null }[] = [];
      await waitFor(
        async () => {
          for (const r of (await reader.read()).records) {
            const msg = decodeToWorker(r.payload);
            if (msg.kind === "computeTasks") tasks.push(...msg.tasks);
          }
          return tasks.length === 8;
        },
        15_000,
        "job 1's tasks assigned to the fuzz worker",
      );
      reader.close();
      const prefilled = tasks.find((t) => t.variant === null);
      assert.ok(prefilled, `a prefilled task among ${JSON.stringify(tasks)}`);

      const drops = sampleInputs("inbox e2e", dropArb, scaledRuns(60));
      const names = new Set<string>();
      const unique = drops.filter((d) => !names.has(d.name) && names.add(d.name));
      // The records that pass the framing but must not reach the scheduler come first.
      const nasty: ChannelDrop[] = NASTY_RECORDS.map(([, u]) => {
        const update = u as { id: number };
        const id = Number.isInteger(update.id) ? prefilled.id : update.id;
        const updates = [{ ...update, jobId, id, at: Date.now() }];
        return { framed: JSON.stringify({ v, kind: "taskUpdates", updates }) };
      });
      const records = [
        ...nasty,
        ...sampleInputs("channel e2e", channelDropArb(recordExamples(tasks)), scaledRuns(60)),
      ];
      const channel = join(workerDir(layout, key), "to-server.0.log");
      const undecodable: string[] = [];
      const writeRecord = async (r: ChannelDrop) => {
        if ("framed" in r) {
          try {
            decodeFromWorker(r.framed);
          } catch (e) {
            undecodable.push((e as Error).message);
          }
        }
        await Deno.writeFile(channel, "framed" in r ? encodeRecord(r.framed) : r.raw, {
          append: true,
        });
      };
      for (let i = 0; i < Math.max(unique.length, records.length); i++) {
        if (i < unique.length) await drop(layout.inboxNew, layout.inboxTmp, unique[i]!);
        if (i < records.length) await writeRecord(records[i]!);
      }
      // Foreign files elsewhere in the server directory: a channel of a worker that never
      // registered, stray files beside the instance's and the server directory's own.
      await ensureDirMode(workerDir(layout, "intruder"), 0o700);
      await Deno.writeFile(
        join(workerDir(layout, "intruder"), "to-server.0.log"),
        encodeRecords([JSON.stringify({ v, kind: "stopping", reason: "x" }), "junk"]),
      );
      await Deno.writeTextFile(join(layout.root, "junk.json"), "{");
      await Deno.writeTextFile(join(layout.workers, "stray"), "x");
      await Deno.mkdir(join(c.serverDir, "999"));
      await Deno.writeTextFile(join(c.serverDir, "notes.txt"), "x");

      // Every inbox file is applied (removed), rejected (moved), or logged as unmovable.
      const stuck = (name: string) => server.log.includes(`could not move inbox file ${name}`);
      await waitFor(
        async () => {
          const left: string[] = [];
          for await (const e of Deno.readDir(layout.inboxNew)) left.push(e.name);
          return left.every(stuck);
        },
        20_000,
        "the inbox to be emptied",
      );
      const rejected: string[] = [];
      for await (const e of Deno.readDir(layout.rejected)) rejected.push(e.name);
      for (const d of unique) {
        let refused = d.type !== "file";
        try {
          const env = decodeInbox(d.text);
          if (env.msg.kind === "registerWorker") validateWorkerConfig(env.msg.config);
        } catch {
          refused = true;
        }
        if (!refused) continue;
        assert.ok(
          stuck(d.name) || rejected.some((r) => r.endsWith(`-${d.name}`)),
          `bad inbox file ${JSON.stringify(d.name)} (${d.type}) not moved to rejected/: ${
            d.text.slice(0, 200)
          }`,
        );
        assert.ok(
          server.log.includes(`rejected inbox file ${d.name}`) ||
            server.log.includes(`rejected worker registration ${d.name}`),
          `bad inbox file ${JSON.stringify(d.name)} not logged`,
        );
      }
      // Every undecodable record is logged (while the worker is still running).
      const running = (await c.json<{ id: number }[]>(["worker", "list"])).some((w) => w.id === 1);
      if (running) {
        // Long lines are compared by their start (the harness tags each chunk of output).
        const missing = () =>
          undecodable.map((m) => m.slice(0, 100)).filter((m) => !server.log.includes(m));
        await waitFor(() => missing().length === 0, 10_000, "undecodable records logged")
          .catch(() => {});
        assert.deepEqual(missing(), [], "undecodable records not logged");
      }
      await sleep(300);
      assert.equal(server.exited, undefined, "the server is still running");
      const info = await c.hq(["server", "info"]);
      assert.equal(info.code, 0, info.stderr);
      const jobs = await c.jobs();
      assert.ok(jobs.some((j) => j.id === jobId && j.task_count === 24), "job 1 is kept");
    });
  },
);

// ---------------------------------------------------------------------------
// Process level: corrupt or foreign files where a client looks for the server

/** A pid no process has (checked when the test runs). */
function deadPid(): number {
  for (let pid = 4_000_000; pid > 3_000_000; pid -= 7919) if (!pidAlive(pid)) return pid;
  throw new Error("no free pid found");
}

/** What a server directory holds: the `hq-current` link and the instance's files. */
interface ServerDirCase {
  link: string;
  lease: string | null;
  serverJson: string | null;
  command: readonly string[];
}

/** A lease of another machine's server: judged by whether it moves (for five intervals). */
const FOREIGN_LEASE = {
  host: "elsewhere.invalid",
  pid: 1,
  startedAt: 1_700_000_000_000,
  seq: 7,
  at: 1_700_000_000_000,
  intervalMs: 1000,
  stopped: false,
};

function serverDirCaseArb(): fc.Arbitrary<ServerDirCase> {
  const now = Date.now();
  // A lease of a server that died on this machine: clients see it at once.
  const lease = {
    host: localHostname(),
    pid: deadPid(),
    startedAt: now - 60_000,
    seq: 7,
    at: now - 1000,
    intervalMs: 1000,
    stopped: false,
  };
  const identity = {
    version: "0.1.0",
    protocol: PROTOCOL_VERSION,
    serverUid: "abc",
    host: localHostname(),
    pid: lease.pid,
    startedAt: lease.startedAt,
    instance: "/nonexistent/001",
    journal: "/nonexistent/001/journal",
  };
  const foreign = { ...FOREIGN_LEASE, startedAt: lease.startedAt, at: lease.at };
  const fileArb = (examples: unknown[]) =>
    fc.oneof(
      { weight: 6, arbitrary: jsonTextArb(examples).map((t): string | null => t) },
      { weight: 1, arbitrary: fc.constantFrom(...examples.map((e) => JSON.stringify(e))) },
      { weight: 1, arbitrary: fc.constant(null) },
    );
  return fc.record({
    link: fc.constantFrom("001", "001", "001", "001", "002", "/nonexistent", "..", "hq-current"),
    lease: fileArb([lease, foreign]),
    serverJson: fileArb([identity]),
    command: fc.constantFrom(["job", "list"], ["submit", "--", "true"], ["server", "info"]),
  });
}

async function makeServerDir(root: string, k: ServerDirCase): Promise<string> {
  const dir = join(root, `sd-${crypto.randomUUID().slice(0, 8)}`);
  await Deno.mkdir(join(dir, "001", "inbox", "tmp"), { recursive: true, mode: 0o700 });
  await Deno.mkdir(join(dir, "001", "inbox", "new"), { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700);
  await Deno.symlink(k.link, join(dir, "hq-current"));
  if (k.lease !== null) await Deno.writeTextFile(join(dir, "001", "lease"), k.lease);
  if (k.serverJson !== null) {
    await Deno.writeTextFile(join(dir, "001", "server.json"), k.serverJson);
  }
  return dir;
}

Deno.test(`fuzz e2e: clients against corrupt server directories (${scaledRuns(14) + 2} inputs)`, async () => {
  await using c = await Cluster.create();
  // Leases that claim an absurd rewrite interval: a client must not wait for them to age.
  const absurd = [1e9, 1e308].map((intervalMs): ServerDirCase => ({
    link: "001",
    lease: JSON.stringify({ ...FOREIGN_LEASE, at: Date.now(), intervalMs }),
    serverJson: null,
    command: ["job", "list"],
  }));
  const cases = [...absurd, ...sampleInputs("server dirs", serverDirCaseArb(), scaledRuns(14))];
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const k = cases[next++]!;
      const dir = await makeServerDir(c.root, k);
      const argv = withServerDir(k.command, dir);
      // A stale lease of another machine takes five intervals (5 s) to judge.
      const r = await runHq(c, argv, 12_000);
      const what = `${JSON.stringify({ ...k, lease: k.lease?.slice(0, 300) })}\n`;
      try {
        // No server runs there: every command fails, with one line, in a bounded time.
        assert.ok(r.code === 1 || r.code === 2, `${what}exit ${r.code} (a hang, or a crash)`);
        checkInvocation(argv, { kind: "run", path: k.command.join(" "), parsed: emptyParsed }, r);
      } catch (e) {
        failures.push(`${(e as Error).message}\nstderr: ${r.stderr.slice(0, 500)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 7 }, lane));
  assert.deepEqual(failures, [], `rerun with HQ_FUZZ_SEED=${FUZZ_SEED}`);
});

// ---------------------------------------------------------------------------
// Process level: a duration the grammar accepts is one the server accepts

Deno.test("fuzz e2e: a worker started with a sub-millisecond heartbeat registers or exits with one line", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    // `1000001us` passes `--heartbeat`'s check (more than 150 ms) but is 1000.001 ms.
    const worker = c.startWorker([
      "--cpus",
      "1",
      "--detect-resources",
      "none",
      "--heartbeat",
      "1000001us",
    ]);
    const outcome = await Promise.race([
      waitFor(async () => (await c.json<unknown[]>(["worker", "list"])).length === 1, 8000, "x")
        .then(() => "registered", () => "not registered"),
      worker.status.then(() => "exited"),
    ]);
    if (outcome === "exited") {
      assert.notEqual(worker.exited?.code, 0);
      const errors = worker.log.split("\n").filter((l) => l.trim() !== "" && !/ INFO /.test(l));
      assert.ok(errors.length <= 2, `one error line expected: ${worker.log}`);
    } else {
      assert.equal(outcome, "registered", `the worker hangs unregistered: ${worker.log}`);
    }
  });
});
