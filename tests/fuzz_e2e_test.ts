/**
 * Fuzzing at process level: random and mutated inputs at every door of a running system.
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
  ENGINE_MESSAGE_REGEXP,
  FUZZ_SEED,
  jsonTextArb,
  sampleInputs,
  scaledRuns,
} from "./_fuzz.ts";
import { Cluster, HQ_TS, type HqResult, pidAlive, sleep, waitFor } from "./_harness.ts";
import { optString, type Parsed } from "../lib/cli/mod.ts";
import {
  decodeFromWorker,
  decodeInbox,
  decodeToWorker,
  encodeRecord,
  encodeRecords,
  MESSAGE_KINDS,
  PROTOCOL_VERSION,
  validateWorkerConfig,
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
  argvArb,
  type CliOracle,
  cliOracle,
  INBOX_EXAMPLES,
  NASTY_RECORDS,
  UPDATE_KINDS,
  v,
  workerConfig,
} from "./_fuzz_cases.ts";

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

/**
 * `text` as a Deno process receives it as an argument: through UTF-8 (lone surrogates
 * replaced), and without one trailing carriage return (Deno drops it from each argument).
 */
function asUtf8(text: string): string {
  return new TextDecoder().decode(new TextEncoder().encode(text)).replace(/\r$/, "");
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
        // A long name is kept cut (`rejectInboxFile`).
        const kept = d.name.length > 150 ? `-${d.name.slice(0, 150)}~` : `-${d.name}`;
        assert.ok(
          stuck(d.name) || rejected.some((r) => r.endsWith(kept)),
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
