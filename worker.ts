// deno-lint-ignore-file no-console
/**
 * `hq worker ...`: start, list, info, stop, wait. Must not import LMDB or
 * server code: it bundles into one self-contained file.
 *
 * @module
 */
import { Command, Option } from "commander";
import {
  globals,
  parseIntFlag,
  printJson,
  runCli,
  UsageError,
  withGlobals,
} from "./lib/cli/common.ts";
import { parseDuration } from "./lib/cli/duration.ts";
import { renderWorkerInfo, renderWorkerList, workerStateText } from "./lib/cli/render.ts";
import { parseSelector, resolveSelector } from "./lib/cli/selector.ts";
import { localHostname, resolveServerDir } from "./lib/fsproto/server_dir.ts";
import { DETECT_ITEMS, detectResources } from "./lib/resources/detect.ts";
import { hostDetectOptions } from "./lib/resources/detect_host.ts";
import { formatHwdetect, poolView, resolveWorkerResources } from "./lib/resources/detect_worker.ts";
import { HqClient } from "./lib/client/client.ts";
import { runWorker } from "./lib/worker/run.ts";
import { parseAmount } from "./lib/resources/amount.ts";

async function withClient<T>(cmd: Command, fn: (c: HqClient) => Promise<T>): Promise<T> {
  const client = await HqClient.connect(resolveServerDir(globals(cmd).serverDir));
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function detectManager(): { kind: "slurm" | "pbs"; jobId: string } | null {
  const slurm = Deno.env.get("SLURM_JOB_ID") ?? Deno.env.get("SLURM_JOBID");
  if (slurm) return { kind: "slurm", jobId: slurm };
  const pbs = Deno.env.get("PBS_JOBID");
  if (pbs) return { kind: "pbs", jobId: pbs };
  return null;
}

/** Builds the `worker` command tree. */
export function workerCommand(): Command {
  const worker = new Command("worker").description("manage workers");
  withGlobals(worker.command("start").description("start a worker in the foreground"))
    .option("--cpus <def>", "CPU layout: N, NxM, [a,b], [[..],[..]], range(a-b)")
    .option(
      "--resource <name=def>",
      "resource pool (repeatable): N, NxM, [a,b], [[..],[..]], range(a-b), sum(N)",
      (value: string, prev: string[]) => [...prev, value],
      [] as string[],
    )
    .option("--no-hyper-threading", "keep only the first hardware thread of each core")
    .option("--hostname <name>", "override the host name")
    .option("--work-dir <path>", "working directory of the worker")
    .option("--heartbeat <duration>", "heartbeat interval", "8s")
    .option("--idle-timeout <duration>", "stop after this long without tasks")
    .option("--time-limit <duration>", "stop after this long")
    .option("--group <name>", "worker group")
    .option(
      "--min-utilization <fraction>",
      "plan work onto the worker only if at least this fraction of its CPUs would be used",
      "0",
    )
    .addOption(
      new Option("--on-server-lost <policy>", "what to do when the server is lost").choices([
        "stop",
        "finish-running",
      ]).default("stop"),
    )
    .option(
      "--detect-resources <what>",
      "what to detect: all, none, or a list of cpus,mem,gpus/nvidia,gpus/amd",
      "all",
    )
    .option("--manager <kind>", "batch manager: detect, none, pbs, slurm", "detect")
    .option("--poll-only", "never watch files; poll (for network filesystems)")
    .option("--max-poll <duration>", "longest poll interval", "250ms")
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      const detected = resolveWorkerResources({
        cpus: opts.cpus,
        resources: opts.resource,
        detectResources: String(opts.detectResources),
      }, hostDetectOptions(opts.hyperThreading === false));
      for (const w of detected.warnings) console.error(`warning: ${w}`);
      const heartbeatMs = parseDuration(opts.heartbeat);
      if (heartbeatMs <= 150) {
        throw new UsageError(
          `Invalid value "${opts.heartbeat}" for --heartbeat: must be more than 150ms`,
        );
      }
      const manager = opts.manager === "none" ? null : detectManager();
      const minUtil = String(opts.minUtilization);
      if (!/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/.test(minUtil)) {
        throw new UsageError(
          `Invalid value "${minUtil}" for --min-utilization: expected a number from 0 to 1`,
        );
      }
      const workDir = opts.workDir ?? await Deno.makeTempDir({ prefix: "hq-worker" });
      const reason = await runWorker(
        {
          serverDir: resolveServerDir(g.serverDir),
          pollOnly: opts.pollOnly ? true : undefined,
          maxPollMs: parseDuration(opts.maxPoll),
          config: {
            hostname: opts.hostname ?? localHostname(),
            heartbeatMs,
            idleTimeoutMs: opts.idleTimeout ? parseDuration(opts.idleTimeout) : null,
            timeLimitMs: opts.timeLimit ? parseDuration(opts.timeLimit) : null,
            workDir,
            onServerLost: opts.onServerLost,
            group: opts.group ?? manager?.jobId ?? "default",
            resources: detected.pools,
            minUtilization: parseAmount(minUtil),
            manager,
          },
          log: (line) => console.error(line),
          stopSignal: new Promise((resolve) => {
            for (const sig of ["SIGINT", "SIGTERM"] as const) {
              Deno.addSignalListener(sig, () => resolve());
            }
          }),
        } as Parameters<typeof runWorker>[0],
      );
      if (reason === "connectionLost") throw new Error("Worker stopped: the server was lost");
    });
  withGlobals(
    worker.command("hwdetect").description("print the resources a worker would detect here"),
  )
    .option("--no-hyper-threading", "keep only the first hardware thread of each core")
    .action((opts, cmd: Command) => {
      const found = detectResources({
        ...hostDetectOptions(opts.hyperThreading === false),
        what: new Set(DETECT_ITEMS),
      });
      for (const w of found.warnings) console.error(`warning: ${w}`);
      const mode = globals(cmd).outputMode;
      if (mode === "json") printJson({ resources: found.pools.map(poolView), coupling: null });
      else if (mode === "cli") console.log(formatHwdetect(found.pools));
      // quiet: nothing, as HyperQueue
    });
  withGlobals(worker.command("list").description("list workers"))
    .option("--all", "include workers that ended")
    .option("--filter <state>", "running or offline")
    .action(async (opts, cmd: Command) => {
      const g = globals(cmd);
      let workers = await withClient(cmd, (c) => c.listWorkers());
      if (opts.filter === "offline") workers = workers.filter((w) => w.state !== "running");
      else if (opts.filter === "running" || !opts.all) {
        workers = workers.filter((w) => w.state === "running");
      }
      if (g.outputMode === "json") printJson(workers);
      else if (g.outputMode === "quiet") {
        for (const w of workers) console.log(`${w.id} ${workerStateText(w.state)}`);
      } else console.log(renderWorkerList(workers));
    });
  withGlobals(worker.command("info").description("show workers").argument("<selector>"))
    .action(async (selector: string, _opts, cmd: Command) => {
      const g = globals(cmd);
      const all = await withClient(cmd, (c) => c.listWorkers());
      const ids = resolveSelector(parseSelector(selector), all.map((w) => w.id));
      const picked = all.filter((w) => ids.includes(w.id));
      if (picked.length === 0) throw new Error(`Worker ${selector} not found`);
      if (g.outputMode === "json") printJson(picked);
      else for (const w of picked) console.log(renderWorkerInfo(w));
    });
  withGlobals(worker.command("stop").description("stop workers").argument("<selector>"))
    .action(async (selector: string, _opts, cmd: Command) => {
      parseSelector(selector);
      const stopped = await withClient(cmd, (c) => c.stopWorkers(selector));
      if (globals(cmd).outputMode === "json") printJson(stopped);
      else for (const id of stopped) console.log(`Worker ${id} stopped`);
    });
  withGlobals(
    worker.command("wait").description("wait until COUNT workers run").argument("<count>"),
  )
    .action(async (count: string, _opts, cmd: Command) => {
      const n = parseIntFlag("<count>", count, 1);
      await withClient(cmd, async (c) => {
        while ((await c.listWorkers()).filter((w) => w.state === "running").length < n) {
          await new Promise((r) => setTimeout(r, 200));
        }
      });
    });
  return worker;
}

/** Entry point: `deno run -A worker.ts <start|hwdetect|list|info|stop|wait> ...`. */
export function main(argv: string[]): Promise<number> {
  return runCli(workerCommand(), argv);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
