/**
 * The parts of `hq worker` that run a worker or detect resources: the worker process,
 * resource detection and deployment over ssh. `worker.ts` loads this only for `worker start`,
 * `hwdetect` and `deploy-ssh`, so its other commands (`list`, `info`, `stop`, ...) start with
 * a small bundle.
 *
 * @module
 */
import {
  argList,
  argString,
  hwdetectJson,
  optFlag,
  optList,
  optString,
  renderHwdetect,
  renderWorkerInfo,
  workerInfoJson,
} from "../../mod.ts";
import type { CommandContext } from "../run_cli.ts";
import { parseDurationMs } from "../../../common/mod.ts";
import { registeredWorkerView, type WorkerConfig } from "../../../protocol/mod.ts";
import { localHostname, resolveServerDir } from "../../../protocol/io/mod.ts";
import {
  DETECT_ITEMS,
  detectResources,
  parseAmount,
  resolveWorkerResources,
} from "../../../resources/mod.ts";
import { hostDetectOptions } from "../../../resources/io/mod.ts";
import { deployWorkersOverSsh, runWorker } from "../../../worker/io/mod.ts";
import { remainingWalltimeMs } from "../../../autoalloc/io/mod.ts";

function detectManager(kind: string): { kind: "slurm" | "pbs"; jobId: string } | null {
  const slurm = Deno.env.get("SLURM_JOB_ID") ?? Deno.env.get("SLURM_JOBID");
  const pbs = Deno.env.get("PBS_JOBID");
  if ((kind === "detect" || kind === "slurm") && slurm) return { kind: "slurm", jobId: slurm };
  if ((kind === "detect" || kind === "pbs") && pbs) return { kind: "pbs", jobId: pbs };
  return null;
}

/** `hq worker start`: runs a worker until it stops; returns the exit code. */
export async function startWorker(ctx: CommandContext): Promise<number> {
  const { parsed: p, out } = ctx;
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
  const zeroWorker = optFlag(p, "zero-worker");
  if (zeroWorker) {
    out.log(
      "WARN",
      "Worker runs in zero-worker mode: tasks are not executed, each is reported finished at once",
    );
  }
  const heartbeatMs = parseDurationMs(optString(p, "heartbeat")!);
  const manager = detectManager(optString(p, "manager")!);
  const idle = optString(p, "idle-timeout");
  const limit = optString(p, "time-limit");
  // Inside an allocation without --time-limit, the allocation's remaining walltime bounds it.
  let timeLimitMs = limit === undefined ? null : parseDurationMs(limit);
  if (timeLimitMs === null && manager !== null) {
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
      ...(zeroWorker ? { zeroWorker: true } : {}),
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

/** `hq worker hwdetect`: prints the resources detected on this machine. */
export function hwdetect(ctx: CommandContext): void {
  const found = detectResources({
    ...hostDetectOptions(optFlag(ctx.parsed, "no-hyper-threading")),
    what: new Set(DETECT_ITEMS),
  });
  for (const w of found.warnings) ctx.out.log("WARN", w);
  if (ctx.out.mode === "json") ctx.out.json(hwdetectJson(found.pools));
  else if (ctx.out.mode === "cli") ctx.out.text(renderHwdetect(found.pools));
}

/**
 * `hq worker deploy-ssh`: starts workers on the hosts of a host file over ssh; `validate`
 * checks the worker arguments before any host is contacted.
 */
export async function deploySsh(
  ctx: CommandContext,
  validate: (args: readonly string[]) => void,
): Promise<number> {
  return await deployWorkersOverSsh({
    hostfile: argString(ctx.parsed, "HOSTFILE")!,
    workerArgs: argList(ctx.parsed, "WORKER_START_ARGS"),
    showOutput: optFlag(ctx.parsed, "show-output"),
    serverDir: ctx.serverDir,
    log: (level, line) => ctx.out.log(level, line),
    validate,
  });
}
