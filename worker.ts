/**
 * `hq worker ...`: start, stop, list, info, wait, hwdetect, address,
 * deploy-ssh. Must not import LMDB or server code: it bundles into one
 * self-contained file. The worker process itself, and resource detection,
 * are loaded only by the commands that need them.
 *
 * @module
 */
import {
  argList,
  argString,
  durationArg,
  GLOBAL_OPTIONS,
  hwdetectJson,
  intArg,
  optFlag,
  type OptionSpec,
  optList,
  optString,
  parseCommandLine,
  POLL_OPTIONS,
  quietWorkerList,
  renderHwdetect,
  renderWorkerInfo,
  renderWorkerList,
  selectorArg,
  SHARED_WORKER_OPTIONS,
  singleIdArg,
  stopLogLines,
  workerInfoJson,
  workerListJson,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
} from "./lib/cli/io/mod.ts";
import {
  idSetIterate,
  parseDuration,
  parseDurationMs,
  parseSelector,
  resolveSelector,
} from "./lib/common/mod.ts";
import { registeredWorkerView, type WorkerConfig, type WorkerView } from "./lib/protocol/mod.ts";
import { resolveServerDir } from "./lib/protocol/io/mod.ts";
import { withClient } from "./lib/client/io/mod.ts";

function detectManager(kind: string): { kind: "slurm" | "pbs"; jobId: string } | null {
  const slurm = Deno.env.get("SLURM_JOB_ID") ?? Deno.env.get("SLURM_JOBID");
  const pbs = Deno.env.get("PBS_JOBID");
  if ((kind === "detect" || kind === "slurm") && slurm) return { kind: "slurm", jobId: slurm };
  if ((kind === "detect" || kind === "pbs") && pbs) return { kind: "pbs", jobId: pbs };
  return null;
}

async function start(ctx: CommandContext): Promise<number> {
  const { parsed: p, out } = ctx;
  const [{ resolveWorkerResources }, { hostDetectOptions }, { runWorker }, { parseAmount }] =
    await Promise.all([
      import("./lib/resources/mod.ts"),
      import("./lib/resources/io/mod.ts"),
      import("./lib/worker/io/mod.ts"),
      import("./lib/resources/mod.ts"),
    ]);
  const { localHostname } = await import("./lib/protocol/io/mod.ts");
  const detected = resolveWorkerResources({
    cpus: optString(p, "cpus"),
    resources: optList(p, "resource"),
    detectResources: optString(p, "detect-resources")!,
  }, hostDetectOptions(optFlag(p, "no-hyper-threading")));
  for (const w of detected.warnings) out.log("WARN", w);
  if (optString(p, "coupling") !== undefined) {
    out.log(
      "WARN",
      "--coupling is accepted, but this version does not use coupling weights when it picks resource groups",
    );
  }
  if (optString(p, "overview-interval") !== undefined) {
    out.log(
      "WARN",
      "--overview-interval is accepted, but this version collects no hardware overviews",
    );
  }
  const heartbeatMs = parseDurationMs(optString(p, "heartbeat")!);
  const manager = detectManager(optString(p, "manager")!);
  const idle = optString(p, "idle-timeout");
  const limit = optString(p, "time-limit");
  // Inside an allocation without --time-limit, the allocation's remaining walltime bounds it.
  let timeLimitMs = limit === undefined ? null : parseDurationMs(limit);
  if (timeLimitMs === null && manager !== null) {
    const { remainingWalltimeMs } = await import("./lib/autoalloc/io/mod.ts");
    timeLimitMs = await remainingWalltimeMs(manager);
    if (timeLimitMs !== null) {
      out.log(
        "INFO",
        `Time limit from the ${manager.kind} allocation: ${Math.round(timeLimitMs / 1000)}s left`,
      );
    }
  }
  const givenWorkDir = optString(p, "work-dir");
  const workDir = givenWorkDir ?? await Deno.makeTempDir({ prefix: "hq-worker" });
  const serverDir = resolveServerDir(ctx.serverDir);
  // Tasks inherit it: `hq task notify` inside a task reaches the server through it.
  Deno.env.set("HQ_SERVER_DIR", serverDir);
  const reason = await runWorker(
    {
      serverDir,
      ...(optFlag(p, "poll-only") ? { pollOnly: true } : {}),
      maxPollMs: parseDurationMs(optString(p, "max-poll")!),
      retractCheckIntervalMs: parseDurationMs(optString(p, "retract-check-interval")!),
      serverLostTimeoutMs: parseDurationMs(optString(p, "server-lost-timeout")!),
      config: {
        hostname: optString(p, "hostname") ?? localHostname(),
        heartbeatMs,
        idleTimeoutMs: idle === undefined ? null : parseDurationMs(idle),
        timeLimitMs,
        workDir,
        onServerLost: optString(p, "on-server-lost") as "stop" | "finish-running",
        group: optString(p, "group") ?? manager?.jobId ?? "default",
        resources: detected.pools,
        minUtilization: parseAmount(optString(p, "min-utilization")!),
        manager,
      },
      log: (line) => out.log("INFO", line),
      onRegistered: (id: number, config: WorkerConfig, at: number) => {
        const view = registeredWorkerView(id, config, at);
        if (out.mode === "json") out.json(workerInfoJson([view]));
        else if (out.mode === "cli") out.text(renderWorkerInfo(view, { runtime: false }));
      },
      stopSignal: new Promise((resolve) => {
        for (const sig of ["SIGINT", "SIGTERM"] as const) {
          Deno.addSignalListener(sig, () => resolve());
        }
      }),
    } as Parameters<typeof runWorker>[0],
  );
  // A working directory of its own goes with the worker, as HyperQueue's does.
  if (givenWorkDir === undefined) await Deno.remove(workDir, { recursive: true }).catch(() => {});
  if (reason === "connectionLost") {
    out.log("ERROR", "Worker stopped: the server was lost");
    return 1;
  }
  if (reason === "refused") {
    out.log("ERROR", "Worker stopped: the server refused its registration");
    return 1;
  }
  if (reason === "declaredLost") {
    out.log("ERROR", "Worker stopped: the server declared it lost and runs its tasks elsewhere");
    return 1;
  }
  return 0;
}

async function hwdetect(ctx: CommandContext): Promise<void> {
  const [{ DETECT_ITEMS, detectResources }, { hostDetectOptions }] = await Promise.all([
    import("./lib/resources/mod.ts"),
    import("./lib/resources/io/mod.ts"),
  ]);
  const found = detectResources({
    ...hostDetectOptions(optFlag(ctx.parsed, "no-hyper-threading")),
    what: new Set(DETECT_ITEMS),
  });
  for (const w of found.warnings) ctx.out.log("WARN", w);
  if (ctx.out.mode === "json") ctx.out.json(hwdetectJson(found.pools));
  else if (ctx.out.mode === "cli") ctx.out.text(renderHwdetect(found.pools));
}

async function list(ctx: CommandContext): Promise<void> {
  const { parsed: p, out } = ctx;
  let workers = await withClient(ctx.serverDir, (c) => c.listWorkers());
  const filter = optString(p, "filter");
  if (filter === "offline") workers = workers.filter((w) => w.state !== "running");
  else if (filter === "running" || !optFlag(p, "all")) {
    workers = workers.filter((w) => w.state === "running");
  }
  if (out.mode === "json") out.json(workerListJson(workers));
  else if (out.mode === "quiet") { for (const l of quietWorkerList(workers)) out.text(l); }
  else out.text(renderWorkerList(workers));
}

function pickWorkers(
  out: CommandContext["out"],
  selector: string,
  all: readonly WorkerView[],
): WorkerView[] {
  const sel = parseSelector(selector);
  const ids = resolveSelector(sel, all.map((w) => w.id));
  if (sel.kind === "ids") {
    for (const r of sel.ids) {
      for (const id of idSetIterate([r])) {
        if (!all.some((w) => w.id === id)) out.log("ERROR", `Worker ${id} not found`);
      }
    }
  }
  return all.filter((w) => ids.includes(w.id));
}

async function info(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const all = await withClient(ctx.serverDir, (c) => c.listWorkers());
  const picked = pickWorkers(out, argString(ctx.parsed, "SELECTOR")!, all);
  if (out.mode === "json") out.json(workerInfoJson(picked));
  else if (out.mode === "cli" && picked.length > 0) {
    out.text(picked.map((w) => renderWorkerInfo(w)).join("\n"));
  }
}

async function stop(ctx: CommandContext): Promise<void> {
  const { out } = ctx;
  const results = await withClient(
    ctx.serverDir,
    (c) => c.stopWorkers(argString(ctx.parsed, "SELECTOR")!),
  );
  for (const l of stopLogLines(results)) out.log(l.level, l.message);
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

async function deploySsh(ctx: CommandContext): Promise<number> {
  const { deployWorkersOverSsh } = await import("./lib/worker/io/mod.ts");
  return await deployWorkersOverSsh({
    hostfile: argString(ctx.parsed, "HOSTFILE")!,
    workerArgs: argList(ctx.parsed, "WORKER_START_ARGS"),
    showOutput: optFlag(ctx.parsed, "show-output"),
    serverDir: ctx.serverDir,
    log: (level, line) => ctx.out.log(level, line),
    validate: validateWorkerStartArgs,
  });
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
  ...POLL_OPTIONS,
];

const startCommand: Command = {
  name: "start",
  about: "Start a worker in the foreground",
  options: WORKER_START_OPTIONS,
  run: start,
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
  about: "Commands for workers",
  subcommands: [
    startCommand,
    {
      name: "stop",
      about: "Stop workers",
      args: [{
        name: "SELECTOR",
        required: true,
        check: selectorArg,
        help: "id, range, last or all",
      }],
      run: stop,
    },
    {
      name: "list",
      about: "Display information about workers",
      options: [
        { long: "all", conflicts: ["filter"], help: "Display all workers, also the offline ones" },
        {
          long: "filter",
          value: "FILTER",
          choices: ["running", "offline"],
          help: "Display only workers in this state",
        },
      ],
      run: list,
    },
    {
      name: "info",
      about: "Display information about workers",
      args: [{
        name: "SELECTOR",
        required: true,
        check: selectorArg,
        help: "id, range, last or all",
      }],
      run: info,
    },
    {
      name: "hwdetect",
      about: "Display the resources a worker would detect on this node",
      options: [{ long: "no-hyper-threading", help: "Keep only the first hardware thread" }],
      run: hwdetect,
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
      run: deploySsh,
    },
  ],
};

/** Entry point of the umbrella for `hq worker ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([workerCommand], argv, roles);
}

/** Entry point: `deno run -A worker.ts <start|stop|list|info|...> ...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...workerCommand, name: "worker.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
