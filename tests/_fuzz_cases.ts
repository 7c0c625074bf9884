/**
 * Shared builders of the fuzz tests: a valid job and worker, the \`hq\` command
 * tree, and the generator and in-process oracle of command lines.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { applyTextEdit, assertCleanError, textArb, type TextEdit, timed } from "./_fuzz.ts";
import { journalCommand, serverCommand } from "../server.ts";
import { jobCommand, submitCommand } from "../submit.ts";
import { taskCommand } from "../lib/cli/io/mod.ts";
import { workerCommand } from "../worker.ts";
import { allocCommand } from "../alloc.ts";
import {
  argList,
  buildSubmit,
  type CommandSpec,
  GLOBAL_OPTIONS,
  optFlag,
  optList,
  parseCommandLine,
  type Parsed,
  submitFlags,
  UsageError,
} from "../lib/cli/mod.ts";
import {
  buildRequestVariants,
  parseResourceDef,
  type ResourceRequest,
} from "../lib/resources/mod.ts";
import {
  type FromClientMsg,
  type JobSubmit,
  PROTOCOL_VERSION,
  validateJobSubmit,
  type WorkerConfig,
} from "../lib/protocol/mod.ts";
import { testQueueParams } from "../lib/autoalloc/testdata/params.ts";

/** Longest one in-process input may take (a near-hang is a failure). */
export const SLOW_MS = 2000;

// ---------------------------------------------------------------------------
// Shared builders

/** The whole `hq` command tree, as the umbrella dispatches it. */
export const HQ_TREE: CommandSpec<unknown> = {
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

/** Parses an `hq` command line in process, as the umbrella would. */
export function parseHq(argv: readonly string[]) {
  return parseCommandLine(HQ_TREE, argv, {
    globals: GLOBAL_OPTIONS,
    env: () => undefined,
    version: true,
  });
}

/** A valid job of `n` one-cpu tasks (ids 0..n-1), requests as given. */
export function job(n: number, requests?: ResourceRequest[]): JobSubmit {
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

/** A valid worker registration with the given resource pools. */
export function workerConfig(pools: string[], pid = 1): WorkerConfig {
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

/** Valid `alloc add` queue parameters (SLURM, one worker per allocation). */
export const QUEUE_PARAMS = testQueueParams({ onServerLost: "stop" });

/** Whether `v` is a non-negative safe integer (an id, an instance, a segment). */
export function isId(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

// ---------------------------------------------------------------------------
// Command lines

/** Valid `hq` command lines (without `--server-dir`). */
export const ARGVS: readonly (readonly string[])[] = [
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

/** Every command name and option of a command tree, added to `out`. */
export function treeTokens(cmd: CommandSpec<unknown>, out: Set<string>): Set<string> {
  out.add(cmd.name);
  for (const o of cmd.options ?? []) {
    out.add(`--${o.long}`);
    if (o.short) out.add(`-${o.short}`);
    for (const c of o.choices ?? []) out.add(c);
  }
  for (const s of cmd.subcommands ?? []) treeTokens(s, out);
  return out;
}

/** Values and odd words mixed into generated command lines. */
export const ARG_TOKENS: readonly string[] = [
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

/** One mutation of a command line. */
export interface ArgvEdit {
  op: number;
  at: number;
  token: string;
  edit: TextEdit;
}

/** `argv` with one mutation applied. */
export function applyArgvEdit(argv: string[], e: ArgvEdit): string[] {
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

/** A command-line word: a known token or random text. */
export const tokenArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ARG_TOKENS) },
  { weight: 1, arbitrary: textArb(ARG_TOKENS) },
);
/** Mutations of command lines. */
export const argvEditArb: fc.Arbitrary<ArgvEdit> = fc.record({
  op: fc.nat(),
  at: fc.nat(),
  token: tokenArb,
  edit: fc.record({ op: fc.nat(8), at: fc.nat(), len: fc.nat(8), piece: tokenArb }),
});

/** Command lines: valid ones, mutated ones (mostly), and random token lists. */
export const argvArb: fc.Arbitrary<string[]> = fc.oneof(
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
export type CliOracle =
  | { kind: "usage"; message: string }
  | { kind: "help" }
  | { kind: "run"; path: string; parsed: Parsed; submitError?: string };

/**
 * Parses `argv` as `hq` does and, for `submit`, builds the job as the handler
 * would; checks every error on the way is clean and every job the client
 * builds is one the server accepts.
 */
export function cliOracle(argv: readonly string[]): CliOracle {
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
    // `hq` runs with stdin from /dev/null: `--stdin` reads empty data.
    const inputs = optFlag(parsed, "stdin") ? { stdin: "" } : {};
    const built = timed(
      what,
      SLOW_MS,
      () => buildSubmit(submitFlags(parsed), argList(parsed, "COMMANDS"), "/home/fuzz", inputs),
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

/** The protocol version every generated record carries. */
export const v = PROTOCOL_VERSION;

/** The fields a task update about task 1@0 carries. */
export const REF = { jobId: 1, id: 0, instance: 0, at: 1_700_000_000_000 };

/** Every task update kind. */
export const UPDATE_KINDS = ["started", "finished", "failed", "canceled", "returned", "rejected"];

/** An inbox envelope without its message. */
export const ENVELOPE = { v, client: "c1", request: 1, sentAt: 1_700_000_000_000 };

/** One valid request of each kind a client sends. */
export const CLIENT_MSGS: readonly FromClientMsg[] = [
  { kind: "ping" },
  { kind: "jobList" },
  { kind: "jobInfo", selector: "1" },
  { kind: "jobCancel", selector: "1", reason: null },
  { kind: "jobWait", selector: "all" },
  {
    kind: "taskList",
    selector: "1",
    taskIds: [{ start: 0, end: 1 }],
    states: ["failed"],
    after: null,
    limit: 5,
  },
  {
    kind: "taskList",
    selector: "last",
    taskIds: null,
    states: null,
    after: { job: 1, task: 3 },
    limit: 1,
  },
  { kind: "taskExplain", selector: "1", taskId: 0 },
  { kind: "workerList" },
  { kind: "workerStop", selector: "1" },
  { kind: "debugDump" },
  { kind: "submit", job: job(4) },
  { kind: "allocAdd", params: QUEUE_PARAMS, dryRun: true } as unknown as FromClientMsg,
  { kind: "allocInfo", queueId: 1 },
];
/** Valid inbox files to mutate. */
export const INBOX_EXAMPLES: readonly unknown[] = [
  ...CLIENT_MSGS.map((msg) => ({ ...ENVELOPE, msg })),
  {
    ...ENVELOPE,
    client: null,
    request: 0,
    msg: { kind: "registerWorker", key: "w-1", config: workerConfig(["cpus=4", "gpus=[0,1]"]) },
  },
];

/**
 * Records that pass the framing and must never reach the scheduler as they are (task 6 is
 * prefilled: its variant comes from the worker).
 */
export const NASTY_RECORDS: readonly [string, unknown][] = [
  ["variant out of range", { kind: "started", ...REF, id: 6, variant: 5 }],
  ["huge variant", { kind: "started", ...REF, id: 6, variant: 2 ** 31 }],
  ["negative variant", { kind: "started", ...REF, id: 6, variant: -1 }],
  ["fractional variant", { kind: "started", ...REF, id: 6, variant: 0.5 }],
  ["rejected, variant out of range", { kind: "rejected", ...REF, id: 6, variant: 9 }],
  ["fractional instance", { kind: "finished", ...REF, instance: 0.5 }],
  ["fractional task id", { kind: "started", ...REF, id: 0.5, variant: 0 }],
];
