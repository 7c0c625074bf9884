/**
 * `hq server ...`: start (foreground), stop, info, wait, and the commands
 * HyperQueue has for its network set-up, answered with a notice since this
 * server uses no network. The server itself (and LMDB) is loaded only by
 * `server start`.
 *
 * @module
 */
import {
  argString,
  durationArg,
  formatJsonLine,
  journalEventJson,
  NO_NETWORK,
  optFlag,
  optString,
  POLL_OPTIONS,
  quietServerStart,
  renderServerInfo,
  serverInfoJson,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  launchCacheDir,
  moduleToLoad,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
  UsageError,
} from "./lib/cli/io/mod.ts";
import { formatDurationExact, parseDuration } from "./lib/common/mod.ts";
import { connectInstance, resolveServerDir, ServerNotRunningError } from "./lib/protocol/io/mod.ts";
import { withClient } from "./lib/client/io/mod.ts";
import type { JournalEventView } from "./lib/protocol/mod.ts";

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(sig, () => resolve());
  });
}

async function start(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  for (const flag of ["host", "client-port", "worker-port", "access-file"]) {
    if (optString(p, flag) !== undefined) out.log("WARN", `--${flag} ${NO_NETWORK}`);
  }
  for (
    const flag of [
      "disable-client-authentication-and-encryption",
      "disable-worker-authentication-and-encryption",
    ]
  ) {
    if (optFlag(p, flag)) out.log("WARN", `--${flag} ${NO_NETWORK}`);
  }
  const prefill = Number(optString(p, "prefill"));
  const idle = optString(p, "idle-timeout");
  // Not a literal specifier: Deno would load the server and LMDB with this file otherwise.
  const { runServer }: typeof import("./lib/server/io/mod.ts") = await import(
    new URL("./lib/server/io/run.ts", import.meta.url).href
  );
  out.log("INFO", "No online server found, starting a new server");
  const program = workerProgram();
  const dir = resolveServerDir(ctx.serverDir);
  const journal = optString(p, "journal");
  const flushPeriod = optString(p, "journal-flush-period");
  const retention = optString(p, "job-retention");
  await runServer({
    serverDir: dir,
    ...(optFlag(p, "poll-only") ? { pollOnly: true } : {}),
    maxPollMs: parseDuration(optString(p, "max-poll")!),
    prefillMax: prefill,
    idleTimeoutMs: idle === undefined ? null : parseDuration(idle),
    ...(journal === undefined ? {} : { journalPath: journal }),
    ...(flushPeriod === undefined ? {} : { journalFlushPeriodMs: parseDuration(flushPeriod) }),
    ...(retention === undefined ? {} : { jobRetentionMs: parseDuration(retention) }),
    workerProgram: program,
    log: (line) => out.log("INFO", line),
    onReady: (identity) => {
      if (out.mode === "json") out.json(serverInfoJson(identity, dir));
      else if (out.mode === "quiet") { for (const l of quietServerStart(dir)) out.text(l); }
      else out.text(renderServerInfo(identity, dir));
    },
    stopSignal: stopSignal(),
  });
}

/**
 * How allocations start a worker: a compiled `dist/hq-worker` where the user built one
 * (`deno task compile-worker`), else this Deno running the worker role, from the start-up
 * cache's bundle when it is fresh (one file to load on every node), else from the sources.
 */
export function workerProgram(
  root = decodeURIComponent(new URL(".", import.meta.url).pathname),
): string[] {
  const compiled = `${root}dist/hq-worker`;
  try {
    if (Deno.statSync(compiled).isFile) return [compiled];
  } catch {
    // none built
  }
  return [Deno.execPath(), "run", "-A", moduleToLoad(`${root}worker.ts`, launchCacheDir(root))];
}

async function stop(ctx: CommandContext): Promise<void> {
  await withClient(ctx.serverDir, (client) => {
    ctx.out.log("INFO", "Stopping server");
    return client.stopServer();
  });
}

async function info(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const { identity } = await connectInstance(resolveServerDir(ctx.serverDir));
  if (out.mode === "json") out.json(serverInfoJson(identity, null));
  else if (out.mode === "cli") out.text(renderServerInfo(identity, null));
}

async function wait(ctx: CommandContext): Promise<void> {
  const dir = resolveServerDir(ctx.serverDir);
  const timeoutMs = parseDuration(optString(ctx.parsed, "timeout")!);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await connectInstance(dir);
      return;
    } catch (e) {
      if (!(e instanceof ServerNotRunningError)) throw e;
      if (Date.now() >= deadline) {
        throw new Error(
          `Timeout after ${
            formatDurationExact(timeoutMs)
          }: Could not connect to server at "${dir}": ${e.message}`,
        );
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function debugDumpCmd(ctx: CommandContext): Promise<void> {
  const path = argString(ctx.parsed, "PATH")!;
  const dump = await withClient(ctx.serverDir, (client) => client.debugDump());
  await Deno.writeTextFile(path, JSON.stringify(dump, null, 2) + "\n");
}

function generateAccess(ctx: CommandContext): void {
  ctx.out.log(
    "WARN",
    `server generate-access ${NO_NETWORK}; clients and workers find the server through the server directory alone`,
  );
}

/** The `server` command tree. */
export const serverCommand: Command = {
  name: "server",
  about: "Commands for the server",
  subcommands: [
    {
      name: "start",
      about: "Start the server in the foreground",
      options: [
        { long: "host", value: "HOST", help: `Accepted; ${NO_NETWORK}` },
        {
          long: "idle-timeout",
          value: "IDLE_TIMEOUT",
          check: durationArg,
          help: "Idle timeout for workers that set none",
        },
        { long: "client-port", value: "CLIENT_PORT", help: `Accepted; ${NO_NETWORK}` },
        { long: "worker-port", value: "WORKER_PORT", help: `Accepted; ${NO_NETWORK}` },
        {
          long: "journal",
          value: "JOURNAL",
          help: "Journal path: restored from on start if it exists, kept up to date while running",
        },
        {
          long: "journal-flush-period",
          value: "JOURNAL_FLUSH_PERIOD",
          default: "1s",
          check: durationArg,
          help: "Longest time committed state waits before it is forced to disk " +
            "(every commit survives a killed server at once)",
        },
        {
          long: "job-retention",
          value: "JOB_RETENTION",
          check: durationArg,
          help: "Forget completed jobs this long after they completed, as `hq job forget` " +
            "does (default: keep them)",
        },
        {
          long: "access-file",
          value: "ACCESS_FILE",
          help: `Accepted; the server needs no access file: ${NO_NETWORK}`,
        },
        {
          long: "disable-client-authentication-and-encryption",
          help: `Accepted; ${NO_NETWORK}`,
        },
        {
          long: "disable-worker-authentication-and-encryption",
          help: `Accepted; ${NO_NETWORK}`,
        },
        {
          long: "scheduler-time-limit",
          value: "SCHEDULER_TIME_LIMIT",
          check: durationArg,
          help: "Accepted; the scheduler's rounds are greedy and never need a time limit",
        },
        ...POLL_OPTIONS,
        {
          long: "prefill",
          value: "PREFILL",
          default: "40",
          check: (v) => {
            if (!/^\d+$/.test(v)) throw new UsageError("expected an integer >= 0");
          },
          help: "Tasks queued on each worker beyond what fits",
        },
      ],
      run: start,
    },
    { name: "stop", about: "Stop the server", run: stop },
    { name: "info", about: "Show information about the running server", run: info },
    {
      name: "wait",
      about: "Wait until a server is running",
      options: [{
        long: "timeout",
        value: "TIMEOUT",
        default: "5m",
        check: durationArg,
        help: "How long to wait",
      }],
      run: wait,
    },
    {
      name: "debug-dump",
      about: "Write the scheduler's internal state to a JSON file",
      args: [{ name: "PATH", required: true, help: "Where to write the dump" }],
      run: debugDumpCmd,
    },
    {
      name: "generate-access",
      about: "Accepted for compatibility: this server needs no access file",
      args: [{ name: "ACCESS_FILE", required: true, help: "Where HyperQueue would write it" }],
      options: [
        { long: "client-file", value: "CLIENT_FILE", help: `Accepted; ${NO_NETWORK}` },
        { long: "worker-file", value: "WORKER_FILE", help: `Accepted; ${NO_NETWORK}` },
        { long: "host", value: "HOST", help: `Accepted; ${NO_NETWORK}` },
        { long: "client-host", value: "CLIENT_HOST", help: `Accepted; ${NO_NETWORK}` },
        { long: "worker-host", value: "WORKER_HOST", help: `Accepted; ${NO_NETWORK}` },
        { long: "client-port", value: "CLIENT_PORT", help: `Accepted; ${NO_NETWORK}` },
        { long: "worker-port", value: "WORKER_PORT", help: `Accepted; ${NO_NETWORK}` },
      ],
      run: generateAccess,
    },
  ],
};

function printEvents(ctx: CommandContext, events: readonly JournalEventView[]): void {
  for (const e of events) ctx.out.text(formatJsonLine(journalEventJson(e)));
}

async function journalExport(ctx: CommandContext): Promise<void> {
  // Not a literal specifier: only this command loads LMDB.
  const { exportJournal }: typeof import("./lib/server/io/mod.ts") = await import(
    new URL("./lib/server/io/journal_export.ts", import.meta.url).href
  );
  const events = exportJournal(argString(ctx.parsed, "JOURNAL")!);
  printEvents(ctx, events);
  ctx.out.log("INFO", `Outputted ${events.length} ${events.length === 1 ? "event" : "events"}`);
}

async function journalReplay(ctx: CommandContext): Promise<void> {
  const events = await withClient(ctx.serverDir, (client) => client.journalEvents());
  printEvents(ctx, events);
}

async function journalStream(ctx: CommandContext): Promise<void> {
  await withClient(ctx.serverDir, (client) => client.streamJournal((e) => printEvents(ctx, e)));
}

async function journalPrune(ctx: CommandContext): Promise<void> {
  await withClient(ctx.serverDir, (client) => client.pruneJournal());
}

async function journalFlush(ctx: CommandContext): Promise<void> {
  await withClient(ctx.serverDir, (client) => client.flushJournal());
}

/** The `journal` command tree (HyperQueue's, on this project's journal). */
export const journalCommand: Command = {
  name: "journal",
  about: "Manage events and journal data",
  subcommands: [
    {
      name: "export",
      about: "Export the events of a journal to NDJSON on stdout (the journal is only read)",
      args: [{
        name: "JOURNAL",
        required: true,
        help: "An instance's journal directory, or a file given to server start --journal",
      }],
      run: journalExport,
    },
    {
      name: "stream",
      about: "Stream events from the running server: past ones, then live ones",
      run: journalStream,
    },
    { name: "replay", about: "Print the past events of the running server", run: journalReplay },
    {
      name: "prune",
      about: "Remove completed jobs and ended workers from the server and its journal",
      run: journalPrune,
    },
    { name: "flush", about: "Force the server to write its journal to disk", run: journalFlush },
  ],
};

/** Entry point of the umbrella for `hq server ...` and `hq journal ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([serverCommand, journalCommand], argv, roles);
}

/** Entry point: `deno run -A server.ts <start|stop|info|wait> ...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...serverCommand, name: "server.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
