/**
 * `hq worker ...`: start, stop, list, info, wait, hwdetect, address,
 * deploy-ssh. Must not import LMDB or server code: it bundles into one
 * self-contained file. The worker process itself, resource detection and
 * ssh deployment (`lib/cli/io/worker_start/`) are loaded only by the
 * commands that need them.
 *
 * @module
 */
import {
  argString,
  durationArg,
  GLOBAL_OPTIONS,
  intArg,
  type OptionSpec,
  parseCommandLine,
  POLL_OPTIONS,
  SHARED_WORKER_OPTIONS,
  singleIdArg,
  stopLogLines,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  importPart,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
  WORKER_ABOUT,
  WORKER_SELECTOR_ARG,
  workerInfoCommand,
  workerListCommand,
} from "./lib/cli/io/mod.ts";
import { parseDuration, parseSelector, resolveSelector } from "./lib/common/mod.ts";
import { withClient } from "./lib/client/io/mod.ts";

/** The part of this role that runs a worker, detects resources and deploys over ssh. */
export type WorkerStartPart = typeof import("./lib/cli/io/worker_start/mod.ts");

/** Loads the part; the self-contained worker (`tools/worker_entry.ts`) links it in instead. */
let loadStart = (): Promise<WorkerStartPart> =>
  importPart(import.meta.url, "lib/cli/io/worker_start/mod.ts");

async function stop(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const results = await withClient(
    ctx.serverDir,
    (c) => c.stopWorkers(argString(ctx.parsed, "SELECTOR")!),
  );
  out.logAll(stopLogLines(results));
}

async function waitFor(ctx: CommandContext): Promise<void> {
  const n = Number(argString(ctx.parsed, "COUNT"));
  await withClient(ctx.serverDir, async (c) => {
    while ((await c.listWorkers()).filter((w) => w.state === "running").length < n) {
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}

async function address(ctx: CommandContext): Promise<void> {
  const id = argString(ctx.parsed, "WORKER_ID")!;
  const all = await withClient(ctx.serverDir, (c) => c.listWorkers());
  const sel = parseSelector(id);
  const [picked] = resolveSelector(sel, all.map((w) => w.id));
  const worker = all.find((w) => w.id === picked);
  if (!worker) throw new Error(`Worker ${id} not found`);
  ctx.out.text(worker.configuration.hostname);
}

/** The options of `hq worker start`. */
export const WORKER_START_OPTIONS: readonly OptionSpec[] = [
  ...SHARED_WORKER_OPTIONS,
  {
    long: "heartbeat",
    value: "HEARTBEAT",
    default: "8s",
    check: (v) => {
      if (parseDuration(v) <= 150) throw new RangeError("must be more than 150ms");
    },
    help: "Heartbeat interval",
  },
  {
    long: "time-limit",
    value: "TIME_LIMIT",
    check: durationArg,
    help: "Stop after this long (default: from the PBS/Slurm allocation)",
  },
  {
    long: "manager",
    value: "MANAGER",
    choices: ["detect", "none", "pbs", "slurm"],
    default: "detect",
    help: "Batch manager environment to read",
  },
  { long: "hostname", value: "HOSTNAME", help: "Override the host name" },
  {
    long: "on-server-lost",
    value: "ON_SERVER_LOST",
    choices: ["stop", "finish-running"],
    default: "stop",
    help: "What to do when the server is lost",
  },
  {
    long: "server-lost-timeout",
    value: "SERVER_LOST_TIMEOUT",
    default: "5m",
    check: durationArg,
    help: "How long to wait for a server that died to come back to the same directory " +
      "before following --on-server-lost (running tasks keep running meanwhile)",
  },
  { long: "work-dir", value: "WORK_DIR", help: "Working directory of the worker" },
  {
    long: "retract-check-interval",
    value: "RETRACT_CHECK_INTERVAL",
    default: "30s",
    check: durationArg,
    help: "How often queued tasks are checked against the remaining lifetime",
  },
  {
    long: "zero-worker",
    help: "Benchmark mode: report each task finished at once without running it " +
      "(no process, no output files), to measure the server and the file protocol alone",
  },
  ...POLL_OPTIONS,
];

const startCommand: Command = {
  name: "start",
  about: "Start a worker in the foreground",
  options: WORKER_START_OPTIONS,
  run: async (ctx) => (await loadStart()).startWorker(ctx),
};

/**
 * Checks `hq worker start` arguments without running them (for `deploy-ssh`).
 *
 * @throws {UsageError} When they are not valid.
 */
export function validateWorkerStartArgs(args: readonly string[]): void {
  parseCommandLine(startCommand, args, { globals: GLOBAL_OPTIONS });
}

/** The `worker` command tree. */
export const workerCommand: Command = {
  name: "worker",
  about: WORKER_ABOUT,
  subcommands: [
    startCommand,
    {
      name: "stop",
      about: "Stop workers",
      args: [WORKER_SELECTOR_ARG],
      run: stop,
    },
    workerListCommand,
    workerInfoCommand,
    {
      name: "hwdetect",
      about: "Display the resources a worker would detect on this node",
      options: [{ long: "no-hyper-threading", help: "Keep only the first hardware thread" }],
      run: async (ctx) => (await loadStart()).hwdetect(ctx),
    },
    {
      name: "address",
      about: "Display the address (host name) of a worker",
      args: [{ name: "WORKER_ID", required: true, check: singleIdArg, help: "worker id" }],
      run: address,
    },
    {
      name: "wait",
      about: "Wait until at least COUNT workers are running",
      args: [{ name: "COUNT", required: true, check: intArg(1), help: "number of workers" }],
      run: waitFor,
    },
    {
      name: "deploy-ssh",
      about: "Start workers on the hosts of a host file over SSH",
      options: [{ long: "show-output", help: "Show the output of the workers" }],
      args: [
        { name: "HOSTFILE", required: true, help: "one host or host:port per line" },
        {
          name: "WORKER_START_ARGS",
          trailing: true,
          hyphenValues: true,
          help: "arguments of `hq worker start`",
        },
      ],
      run: async (ctx) => (await loadStart()).deploySsh(ctx, validateWorkerStartArgs),
    },
  ],
};

/** Entry point of the umbrella for `hq worker ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([workerCommand], argv, roles);
}

/**
 * Entry point: `deno run -A worker.ts <start|stop|list|info|...> ...`. `part`, when given, is
 * the start part already loaded (a self-contained bundle has no sources to load it from).
 */
export function main(argv: readonly string[], part?: WorkerStartPart): Promise<number> {
  if (part) loadStart = () => Promise.resolve(part);
  return runCommandLine({ ...workerCommand, name: "worker.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
