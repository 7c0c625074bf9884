/**
 * `hq alloc ...`: automatic allocation. `add slurm|pbs` defines a queue (the
 * server tests it with a trial allocation unless `--no-dry-run`), `list`,
 * `info`, `log` (and `cat`, its older name), `pause`, `resume`, `remove`,
 * `dry-run`, and `explain`, which says what a queue would submit now and why.
 *
 * @module
 */
import {
  allocationsJson,
  allocExplainJson,
  argList,
  argString,
  durationArg,
  intArg,
  optFlag,
  type OptionSpec,
  optList,
  optString,
  type Parsed,
  queueListJson,
  renderAllocations,
  renderAllocExplain,
  renderQueueList,
  SHARED_WORKER_OPTIONS,
} from "./lib/cli/mod.ts";
import {
  type Command,
  type CommandContext,
  type RoleInfo,
  runCommandLine,
  runUmbrella,
  UsageError,
} from "./lib/cli/io/mod.ts";
import { parseDurationMs } from "./lib/common/mod.ts";
import { parseAmount, parseResourceDef } from "./lib/resources/mod.ts";
import type {
  AllocationView,
  AllocExplainView,
  AllocMsg,
  ManagerKind,
  QueueParams,
  QueueView,
} from "./lib/protocol/mod.ts";
import { withClient } from "./lib/client/io/mod.ts";

const TEN_MINUTES = 600_000;

/** Options of `alloc add` and `alloc dry-run` (HyperQueue's `SharedQueueOpts`). */
const QUEUE_OPTIONS: readonly OptionSpec[] = [
  {
    long: "backlog",
    short: "b",
    value: "BACKLOG",
    default: "1",
    check: (v) => {
      if (!/^\d+$/.test(v)) throw new RangeError("expected an integer");
      if (Number(v) === 0) throw new RangeError("Backlog has to be at least 1");
    },
    help: "The maximal number of jobs that can be waiting in the queue",
  },
  {
    long: "time-limit",
    short: "t",
    value: "TIME_LIMIT",
    check: durationArg,
    help: "Time limit (walltime) of PBS/Slurm allocations",
  },
  {
    long: "max-workers-per-alloc",
    short: "m",
    value: "MAX_WORKERS_PER_ALLOC",
    default: "1",
    check: intArg(1),
    help: "The maximal number of workers (=nodes) spawned in a single allocation",
  },
  {
    long: "max-worker-count",
    value: "MAX_WORKER_COUNT",
    check: intArg(1),
    help:
      "The maximum number of workers that can be queued/running at any given time in this queue",
  },
  { long: "name", short: "n", value: "NAME", help: "Name of the allocation queue" },
  ...SHARED_WORKER_OPTIONS,
  {
    long: "on-server-lost",
    value: "ON_SERVER_LOST",
    choices: ["stop", "finish-running"],
    default: "finish-running",
    help: "The policy when a connection to a server is lost",
  },
  { long: "no-dry-run", help: "Disables verifying the parameter correctness via dry-run" },
  { long: "worker-start-cmd", value: "WORKER_START_CMD", help: "Run before each worker starts" },
  { long: "worker-stop-cmd", value: "WORKER_STOP_CMD", help: "Run after each worker ends" },
  {
    long: "worker-wrap-cmd",
    value: "WORKER_WRAP_CMD",
    help: "Command put before the worker command (e.g. a container runtime)",
  },
  {
    long: "worker-time-limit",
    value: "WORKER_TIME_LIMIT",
    check: durationArg,
    help: "Worker's time limit (at most the allocation's; default: the allocation's)",
  },
];

/** Builds the queue's parameters from `alloc add`/`dry-run` options; logs HyperQueue's warnings. */
function queueParams(ctx: CommandContext, manager: ManagerKind): QueueParams {
  const p = ctx.parsed;
  const limit = optString(p, "time-limit");
  if (limit === undefined) {
    throw new UsageError(
      "the following required arguments were not provided: --time-limit <TIME_LIMIT>",
    );
  }
  const timeLimitMs = parseDurationMs(limit);
  const workerLimit = optString(p, "worker-time-limit");
  const workerTimeLimitMs = workerLimit === undefined ? null : parseDurationMs(workerLimit);
  if (workerTimeLimitMs !== null && workerTimeLimitMs > timeLimitMs) {
    throw new Error("Worker time limit cannot be larger than queue time limit");
  }
  const idle = optString(p, "idle-timeout");
  const idleTimeoutMs = idle === undefined ? 300_000 : parseDurationMs(idle);
  if (idleTimeoutMs > TEN_MINUTES) {
    ctx.out.log(
      "WARN",
      "You have set an idle timeout longer than 10 minutes. This can result in wasted allocation duration.",
    );
  }
  const cpus = optString(p, "cpus") ?? null;
  const resources = optList(p, "resource");
  // Resource definitions are checked here, so a typo fails at once rather than in a worker.
  for (const def of [...(cpus === null ? [] : [`cpus=${cpus}`]), ...resources]) {
    parseResourceDef(def);
  }
  if (cpus === null && resources.length === 0) {
    ctx.out.log(
      "WARN",
      "No worker resources were provided for this queue. Before the first worker connects from an allocation submitted by this queue, the queue will operate in probing mode.",
    );
  }
  const workerArgs: string[] = [];
  if (cpus !== null) workerArgs.push("--cpus", cpus);
  for (const r of resources) workerArgs.push("--resource", r);
  for (const flag of ["coupling", "group", "detect-resources", "overview-interval"]) {
    const v = optString(p, flag);
    if (v !== undefined && !(flag === "detect-resources" && v === "all")) {
      workerArgs.push(`--${flag}`, v);
    }
  }
  if (optFlag(p, "no-hyper-threading")) workerArgs.push("--no-hyper-threading");
  const minUtil = optString(p, "min-utilization") ?? "0";
  const minUtilization = parseAmount(minUtil.startsWith(".") ? `0${minUtil}` : minUtil);
  if (minUtilization > 0) workerArgs.push("--min-utilization", minUtil);
  const maxWorkers = optString(p, "max-worker-count");
  return {
    manager,
    backlog: Number(optString(p, "backlog")),
    maxWorkersPerAlloc: Number(optString(p, "max-workers-per-alloc")),
    maxWorkerCount: maxWorkers === undefined ? null : Number(maxWorkers),
    timeLimitMs,
    name: optString(p, "name") ?? null,
    workerStartCmd: optString(p, "worker-start-cmd") ?? null,
    workerStopCmd: optString(p, "worker-stop-cmd") ?? null,
    workerWrapCmd: optString(p, "worker-wrap-cmd") ?? null,
    workerTimeLimitMs,
    idleTimeoutMs,
    onServerLost: optString(p, "on-server-lost") as QueueParams["onServerLost"],
    workerArgs,
    cpus,
    resources,
    minUtilization,
    additionalArgs: argList(p, "ADDITIONAL_ARGS"),
  };
}

function request<T>(ctx: CommandContext, msg: AllocMsg): Promise<T> {
  return withClient(ctx.serverDir, (client) => client.alloc<T>(msg));
}

const TRIAL_OK =
  "A trial allocation was submitted successfully. It was immediately canceled to avoid wasting resources.";

async function add(ctx: CommandContext, manager: ManagerKind): Promise<number | void> {
  const params = queueParams(ctx, manager);
  const dryRun = !optFlag(ctx.parsed, "no-dry-run");
  let created: { queueId: number };
  try {
    created = await request(ctx, { kind: "allocAdd", params, dryRun });
  } catch (e) {
    if (dryRun && (e as Error).message.startsWith("Could not submit allocation")) {
      ctx.out.log("ERROR", "Dry-run (test allocation submission) has failed");
    }
    throw e;
  }
  if (dryRun) ctx.out.log("INFO", TRIAL_OK);
  const { out } = ctx;
  if (out.mode === "json") out.json({ id: created.queueId });
  else if (out.mode === "quiet") out.text(String(created.queueId));
  else out.log("INFO", `Allocation queue ${created.queueId} successfully created`);
}

async function dryRun(ctx: CommandContext, manager: ManagerKind): Promise<void> {
  const params = queueParams(ctx, manager);
  await request(ctx, { kind: "allocDryRun", params });
  ctx.out.log("INFO", TRIAL_OK);
}

function queueId(p: Parsed): number {
  return Number(argString(p, "QUEUE_ID"));
}

async function list(ctx: CommandContext): Promise<void> {
  const queues = await request<QueueView[]>(ctx, { kind: "allocList" });
  const { out } = ctx;
  if (out.mode === "json") out.json(queueListJson(queues));
  else if (out.mode === "quiet") {
    for (const q of queues) out.text(`${q.id} ${q.state.toUpperCase()}`);
  } else out.text(renderQueueList(queues));
}

async function info(ctx: CommandContext): Promise<void> {
  const queue = await request<QueueView>(ctx, { kind: "allocInfo", queueId: queueId(ctx.parsed) });
  const filter = optString(ctx.parsed, "filter");
  const shown = queue.allocations.filter((a) => filter === undefined || a.state === filter);
  const { out } = ctx;
  if (out.mode === "json") out.json(allocationsJson(shown));
  else if (out.mode === "quiet") {
    for (const a of shown) out.text(`${a.id} ${a.state.toUpperCase()}`);
  } else out.text(renderAllocations(shown));
}

async function log(ctx: CommandContext): Promise<void> {
  if (ctx.out.mode === "json") throw new Error("This command is not supported in JSON mode");
  const id = argString(ctx.parsed, "ALLOCATION_ID")!;
  const channel = argString(ctx.parsed, "CHANNEL")!;
  const a = await request<AllocationView>(ctx, { kind: "allocLog", allocationId: id });
  const path = `${a.dir}/${channel}`;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(
      `Cannot read ${channel} of allocation ${id} (${path}): ${(e as Error).message}`,
    );
  }
  ctx.out.write(text);
}

async function explain(ctx: CommandContext): Promise<void> {
  const e = await request<AllocExplainView>(ctx, {
    kind: "allocExplain",
    queueId: queueId(ctx.parsed),
  });
  if (ctx.out.mode === "json") ctx.out.json(allocExplainJson(e));
  else if (ctx.out.mode === "cli") ctx.out.text(renderAllocExplain(e));
  else ctx.out.text(e.submit.join(" ") || "0");
}

function queueAction(kind: "allocPause" | "allocResume", verb: string) {
  return async (ctx: CommandContext) => {
    const id = queueId(ctx.parsed);
    await request(ctx, { kind, queueId: id });
    ctx.out.log("INFO", `Allocation queue ${id} successfully ${verb}`);
  };
}

async function remove(ctx: CommandContext): Promise<void> {
  const id = queueId(ctx.parsed);
  await request(ctx, { kind: "allocRemove", queueId: id, force: optFlag(ctx.parsed, "force") });
  ctx.out.log("INFO", `Allocation queue ${id} successfully removed`);
}

const QUEUE_ID_ARG = {
  name: "QUEUE_ID",
  required: true,
  check: intArg(1),
  help: "ID of the allocation queue",
} as const;
const ADDITIONAL_ARGS = {
  name: "ADDITIONAL_ARGS",
  trailing: true,
  hyphenValues: true,
  help: "Additional arguments passed to the submit command",
} as const;

function managerCommands(
  run: (ctx: CommandContext, manager: ManagerKind) => Promise<number | void>,
): Command[] {
  return (["pbs", "slurm"] as const).map((manager) => ({
    name: manager,
    about: `Use ${manager === "pbs" ? "PBS" : "SLURM"}`,
    options: QUEUE_OPTIONS,
    args: [ADDITIONAL_ARGS],
    run: (ctx: CommandContext) => run(ctx, manager),
  }));
}

/** The `alloc` command tree. */
export const allocCommand: Command = {
  name: "alloc",
  about: "Commands for automatic allocation",
  subcommands: [
    { name: "list", about: "Displays allocation queues", run: list },
    {
      name: "info",
      about: "Display allocations of the specified allocation queue",
      args: [QUEUE_ID_ARG],
      options: [{
        long: "filter",
        value: "FILTER",
        choices: ["queued", "running", "finished", "failed"],
        help: "Display only allocations with the given state",
      }],
      run: info,
    },
    ...["log", "cat"].map((name) => ({
      name,
      about: name === "log"
        ? "Display stdout/stderr of the specified allocation"
        : "Same as `log` (its older name)",
      args: [
        { name: "ALLOCATION_ID", required: true, help: "Allocation ID" },
        {
          name: "CHANNEL",
          required: true,
          check: (v: string) => {
            if (v !== "stdout" && v !== "stderr") {
              throw new RangeError("[possible values: stdout, stderr]");
            }
          },
          help: 'Channel to output: "stdout" or "stderr"',
        },
      ],
      run: log,
    })),
    {
      name: "add",
      about: "Add a new allocation queue",
      subcommands: managerCommands(add),
    },
    {
      name: "pause",
      about: "Pause an existing allocation queue",
      args: [QUEUE_ID_ARG],
      run: queueAction("allocPause", "paused"),
    },
    {
      name: "resume",
      about: "Resume a previously paused allocation queue",
      args: [QUEUE_ID_ARG],
      run: queueAction("allocResume", "resumed"),
    },
    {
      name: "dry-run",
      about: "Try to submit an allocation to test allocation parameters",
      subcommands: managerCommands(dryRun),
    },
    {
      name: "remove",
      about: "Removes an allocation queue with the given ID",
      args: [QUEUE_ID_ARG],
      options: [{
        long: "force",
        help: "Remove the queue even if there are currently running jobs",
      }],
      run: remove,
    },
    {
      name: "explain",
      about: "Explain what the queue would submit now and why",
      args: [QUEUE_ID_ARG],
      run: explain,
    },
  ],
};

/** Entry point of the umbrella for `hq alloc ...`. */
export function hqMain(argv: readonly string[], roles: readonly RoleInfo[]): Promise<number> {
  return runUmbrella([allocCommand], argv, roles);
}

/** Entry point: `deno run -A alloc.ts <subcommand> ...`. */
export function main(argv: readonly string[]): Promise<number> {
  return runCommandLine({ ...allocCommand, name: "alloc.ts" }, argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
