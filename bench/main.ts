// deno-lint-ignore-file no-console
/**
 * Benchmarks with real server/worker processes (`deno task bench`):
 *
 * 1. Throughput: N `true` tasks on one `--cpus 2` worker (makespan from the
 *    submit to job completion), with `--stdout none --stderr none` and with
 *    default stdout/stderr files, compared with `seq N | xargs -P 2 -I{} true`.
 * 2. Submit-to-start latency of one task on an idle worker (watch mode on a
 *    local dir; poll-only mode across two sshfs views when available).
 * 3. Worker appearance: from spawning `worker start` until `worker list`
 *    shows it running (locally; and worker on view B, listed via view A).
 * 4. CLI start-up of client commands next to an empty Deno script
 *    (`cli_startup.ts`).
 * 5. Automatic allocation under a local SLURM (`autoalloc.ts`; started by
 *    `tools/slurm.sh` when running as root, skipped otherwise).
 * 6. Bounded growth: server RSS and instance files around 1,000 clients and
 *    100 worker start/stop cycles (`growth.ts`).
 * 7. Task dependencies in the scheduling core: 100,000-task chain, fan-out and
 *    fan-in against 1,000-task ones (`deps.ts`).
 * 8. Output streaming: N one-line tasks with `--stream` against per-task files
 *    and no output, with the number of files each creates (`stream.ts`).
 * 9. This project next to `xargs -P`, GNU parallel, Dask distributed and SLURM
 *    arrays on the same workloads, with a table and SVG plots written to
 *    `bench/results/` (`suite.ts`).
 *
 * 10. A million-task job (`million.ts`), the server alone with zero-worker workers
 *    (`zero_worker.ts`) and the network-filesystem path in depth (`netfs.ts`).
 *
 * Env: HQ_BENCH_TASKS (default 10000); HQ_BENCH_MILLION (default 1000000);
 * HQ_TEST_NETFS_A / HQ_TEST_NETFS_B.
 * Flags: --netfs creates the views with tools/netfs.sh when running as root
 * and the env vars are not set; --quick runs only section 9, with scaled-down
 * counts (about two minutes).
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import {
  connect,
  DENO,
  fmtMs,
  HQ_TS,
  nowMs,
  REPO_ROOT,
  run,
  startServer,
  startWorker,
  stopAll,
} from "./_util.ts";
import { type BenchResults, renderReport } from "./_report.ts";
import { diagnostics, measureAppearance, measureLatency } from "./_measure.ts";
import { benchCliStartup } from "./cli_startup.ts";
import { benchAutoalloc } from "./autoalloc.ts";
import { benchGrowth } from "./growth.ts";
import { runSuite, stopSuite } from "./suite.ts";
import { benchMillion } from "./million.ts";
import { benchZeroWorker } from "./zero_worker.ts";
import { benchNetfs as benchNetfsViews } from "./netfs.ts";

const N = Number(Deno.env.get("HQ_BENCH_TASKS") ?? "10000");
if (!Number.isInteger(N) || N < 1) throw new Error(`Invalid HQ_BENCH_TASKS: ${N}`);
const MILLION = Number(Deno.env.get("HQ_BENCH_MILLION") ?? "1000000");
if (!Number.isInteger(MILLION) || MILLION < 1) {
  throw new Error(`Invalid HQ_BENCH_MILLION: ${MILLION}`);
}
const LATENCY_REPS = 5;
const APPEAR_REPS = 3;
const IDLE_MS = 1200;
const QUICK = Deno.args.includes("--quick");

const tempRoots: string[] = [];
const clients: HqClient[] = [];
let netfsState: string | undefined;
let cleaned: Promise<void> | undefined;

function log(msg: string): void {
  console.error(`[bench] ${msg}`);
}

async function cleanup(): Promise<void> {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  await stopSuite();
  await stopAll();
  for (const d of tempRoots.splice(0)) {
    await Deno.remove(d, { recursive: true }).catch((e) => log(`could not remove ${d}: ${e}`));
  }
  if (netfsState) {
    const sd = netfsState;
    netfsState = undefined;
    try {
      await run("bash", [`${REPO_ROOT}tools/netfs.sh`, "stop", sd]);
    } catch (e) {
      log(`netfs stop failed: ${e}`);
    }
  }
}

function cleanupOnce(): Promise<void> {
  cleaned ??= cleanup();
  return cleaned;
}

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  Deno.addSignalListener(sig, () => {
    log(`${sig}: cleaning up`);
    cleanupOnce().finally(() => {
      console.log(report());
      console.log(`\nInterrupted by ${sig}; results above are partial.`);
      Deno.exit(130);
    });
  });
}

// ---------------------------------------------------------------- results

const throughput: BenchResults["throughput"] = [];
const latency: BenchResults["latency"] = [];
const appear: BenchResults["appear"] = [];
const sleepRun: number[] = [];
let sleepXargsMs: number | undefined;
let schedulerSection = "";
let cliSection = "";
let autoallocSection = "";
let growthSection = "";
let suiteSection = "";
const scaleSections: string[] = [];
const SLEEP_TASKS = 2000;

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) n += await countFiles(`${dir}/${e.name}`);
    else n++;
  }
  return n;
}

async function timeXargs(): Promise<number> {
  const t0 = nowMs();
  await run("bash", ["-c", `seq ${N} | xargs -P 2 -I{} true`]);
  return nowMs() - t0;
}

async function timeHq(
  client: HqClient,
  flags: { stdout?: string; stderr?: string },
  submitDir: string,
): Promise<number> {
  const { job } = buildSubmit({ array: `1-${N}`, ...flags }, ["true"], submitDir);
  const t0 = nowMs();
  const id = await client.submit(job);
  const [info] = await client.wait(String(id));
  const ms = nowMs() - t0;
  if (!info || info.task_stats.finished !== N) {
    throw new Error(`job ${id} did not finish all ${N} tasks: ${JSON.stringify(info)}`);
  }
  return ms;
}

/** Makespan of SLEEP_TASKS `sleep 0.01` tasks (ideal: tasks x 10 ms / 2 CPUs). */
async function timeHqSleep(client: HqClient, submitDir: string): Promise<number> {
  const { job } = buildSubmit(
    { array: `1-${SLEEP_TASKS}`, stdout: "none", stderr: "none" },
    ["sleep", "0.01"],
    submitDir,
  );
  const t0 = nowMs();
  const id = await client.submit(job);
  const [info] = await client.wait(String(id));
  const ms = nowMs() - t0;
  if (!info || info.task_stats.finished !== SLEEP_TASKS) {
    throw new Error(`job ${id} did not finish all ${SLEEP_TASKS} tasks: ${JSON.stringify(info)}`);
  }
  return ms;
}

async function timeHqCli(serverDir: string, submitDir: string): Promise<number> {
  const t0 = nowMs();
  const out = await run(DENO, [
    "run",
    "-A",
    HQ_TS,
    "submit",
    "--server-dir",
    serverDir,
    "--array",
    `1-${N}`,
    "--stdout",
    "none",
    "--stderr",
    "none",
    "--",
    "true",
  ], submitDir);
  const m = /job ID: (\d+)/.exec(out);
  if (!m) throw new Error(`unexpected submit output: ${out}`);
  await run(DENO, ["run", "-A", HQ_TS, "job", "wait", "--server-dir", serverDir, m[1]!], submitDir);
  return nowMs() - t0;
}

// ---------------------------------------------------------------- benches

async function benchLocal(): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "hq-bench-local-" });
  tempRoots.push(root);
  const sd = `${root}/sd`;
  const server = startServer("local server", sd);
  const client = await connect(sd, server);
  clients.push(client);
  log(`local server up at ${sd}`);

  const { samples, worker } = await measureAppearance(
    client,
    (i) => startWorker(`local worker ${i}`, sd, `${root}/work-${i}`, ["--cpus", "2"]),
    APPEAR_REPS,
  );
  appear.push({ mode: "watch (local dir)", stat: { samples } });
  log(`local worker appearance: ${samples.map(fmtMs).join(", ")}`);

  // Throughput.
  const subNone = `${root}/submit-none`;
  const subFiles = `${root}/submit-files`;
  const subCli = `${root}/submit-cli`;
  for (const d of [subNone, subFiles, subCli]) await Deno.mkdir(d);
  log(`xargs warm-up + measure (${N} tasks)`);
  await timeXargs();
  const xargsMs = await timeXargs();
  log(`xargs: ${fmtMs(xargsMs)}`);
  const noneMs = await timeHq(client, { stdout: "none", stderr: "none" }, subNone);
  log(`hq none: ${fmtMs(noneMs)}`);
  const filesMs = await timeHq(client, {}, subFiles);
  const nFiles = await countFiles(subFiles);
  log(`hq files: ${fmtMs(filesMs)} (${nFiles} files)`);
  const cliMs = await timeHqCli(sd, subCli);
  log(`hq CLI none: ${fmtMs(cliMs)}`);
  const xargsMs2 = await timeXargs();
  log(`xargs (again): ${fmtMs(xargsMs2)}`);
  const xa = Math.min(xargsMs, xargsMs2);
  for (let i = 0; i < 3; i++) {
    const sleepMs = await timeHqSleep(client, subNone);
    log(`hq ${SLEEP_TASKS} x sleep 0.01: ${fmtMs(sleepMs)}`);
    sleepRun.push(sleepMs);
  }
  const t0 = nowMs();
  await run("bash", ["-c", `seq ${SLEEP_TASKS} | xargs -P 2 -I{} sleep 0.01`]);
  sleepXargsMs = nowMs() - t0;
  log(`xargs ${SLEEP_TASKS} x sleep 0.01: ${fmtMs(sleepXargsMs)}`);
  throughput.push(
    { name: "`seq N | xargs -P 2 -I{} true` (best of 2)", ms: xa, ratio: 1 },
    {
      name: "hq, `--stdout none --stderr none` (HqClient submit+wait)",
      ms: noneMs,
      ratio: noneMs / xa,
    },
    {
      name: "hq, default stdout/stderr files (HqClient submit+wait)",
      ms: filesMs,
      ratio: filesMs / xa,
      note: `${nFiles} files written`,
    },
    {
      name: "hq, `--stdout none --stderr none` (CLI `submit` + `job wait`)",
      ms: cliMs,
      ratio: cliMs / xa,
      note: "includes 2 deno CLI start-ups",
    },
  );

  // Latency (same worker, idle again).
  const stamps = `${root}/stamps`;
  await Deno.mkdir(stamps);
  const lat = await measureLatency(
    client,
    subNone,
    stamps,
    LATENCY_REPS,
    diagnostics(sd, () => [server, worker]),
    IDLE_MS,
  );
  latency.push({
    mode: "watch (local dir)",
    stat: { samples: lat.samples },
    submitMs: lat.submitMs,
  });
  log(`local latency: ${lat.samples.map(fmtMs).join(", ")}`);

  await client.close();
  clients.splice(clients.indexOf(client), 1);
  await worker.stop();
  await server.stop();
}

let views: Promise<{ a: string; b: string } | string> | undefined;

/** The two sshfs views, started once (with --netfs) and shared by the netfs runs. */
function netfsViews(): Promise<{ a: string; b: string } | string> {
  views ??= startNetfsViews();
  return views;
}

async function startNetfsViews(): Promise<{ a: string; b: string } | string> {
  const a = Deno.env.get("HQ_TEST_NETFS_A");
  const b = Deno.env.get("HQ_TEST_NETFS_B");
  if (a && b) return { a, b };
  if (!Deno.args.includes("--netfs")) return "skipped (no netfs views)";
  if (Deno.uid() !== 0) return "skipped (no netfs views; --netfs needs root)";
  const state = await Deno.makeTempDir({ prefix: "hq-bench-nfb-" });
  netfsState = state;
  log(`starting netfs views in ${state}`);
  const out = await run("bash", [`${REPO_ROOT}tools/netfs.sh`, "start", state]);
  const va = /NETFS_A=(.*)/.exec(out)?.[1]?.trim();
  const vb = /NETFS_B=(.*)/.exec(out)?.[1]?.trim();
  if (!va || !vb) throw new Error(`unexpected netfs.sh output: ${out}`);
  return { a: va, b: vb };
}

async function benchNetfs(): Promise<void> {
  const views = await netfsViews();
  if (typeof views === "string") {
    latency.push({ mode: "poll-only (sshfs views A/B)", skipped: views });
    appear.push({ mode: "poll-only (worker on B, list via A)", skipped: views });
    return;
  }
  const local = await Deno.makeTempDir({ prefix: "hq-bench-netfs-local-" });
  tempRoots.push(local);
  const name = `hq-bench-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dirA = `${views.a}/${name}`;
  const dirB = `${views.b}/${name}`;
  await Deno.mkdir(dirA);
  // Removed through A before the views are torn down (tempRoots in order).
  tempRoots.unshift(dirA);
  const sdA = `${dirA}/sd`;
  const sdB = `${dirB}/sd`;
  const server = startServer("netfs server (A)", sdA, ["--poll-only"]);
  const client = await connect(sdA, server, true);
  clients.push(client);
  log(`netfs server up at ${sdA}`);

  const { samples, worker } = await measureAppearance(
    client,
    (i) =>
      startWorker(`netfs worker ${i} (B)`, sdB, `${local}/work-${i}`, [
        "--cpus",
        "2",
        "--poll-only",
      ]),
    APPEAR_REPS,
  );
  appear.push({ mode: "poll-only (worker on B, list via A)", stat: { samples } });
  log(`netfs worker appearance: ${samples.map(fmtMs).join(", ")}`);

  const stamps = `${local}/stamps`;
  await Deno.mkdir(stamps);
  const lat = await measureLatency(
    client,
    local,
    stamps,
    LATENCY_REPS,
    diagnostics(sdA, () => [server, worker]),
    IDLE_MS,
  );
  latency.push({
    mode: "poll-only (sshfs: server+client on A, worker on B)",
    stat: { samples: lat.samples },
    submitMs: lat.submitMs,
  });
  log(`netfs latency: ${lat.samples.map(fmtMs).join(", ")}`);

  await client.close();
  clients.splice(clients.indexOf(client), 1);
  await worker.stop();
  await server.stop();
}

function report(): string {
  if (QUICK) return suiteSection;
  return renderReport({
    n: N,
    latencyReps: LATENCY_REPS,
    appearReps: APPEAR_REPS,
    idleMs: IDLE_MS,
    sleepTasks: SLEEP_TASKS,
    throughput,
    latency,
    appear,
    sleepRun,
    ...(sleepXargsMs === undefined ? {} : { sleepXargsMs }),
    schedulerSection,
    cliSection,
    autoallocSection,
    growthSection,
    suiteSection,
    scaleSections,
  });
}

async function benchAll(): Promise<void> {
  log("scheduler core (separate process)");
  schedulerSection = await run(DENO, [
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    `${REPO_ROOT}bench/scheduler_core.ts`,
  ], REPO_ROOT);
  log("task dependencies (separate process)");
  schedulerSection += "\n\n" +
    await run(DENO, ["run", "-A", `${REPO_ROOT}bench/deps.ts`], REPO_ROOT);
  log("output streaming (separate process)");
  schedulerSection += "\n\n" +
    await run(DENO, ["run", "-A", `${REPO_ROOT}bench/stream.ts`], REPO_ROOT);
  log("CLI start-up");
  cliSection = await benchCliStartup();
  log("automatic allocation under SLURM");
  autoallocSection = await benchAutoalloc();
  await benchLocal();
  await benchNetfs();
  log("bounded growth");
  const growthRoot = await Deno.makeTempDir({ prefix: "hq-bench-growth-" });
  tempRoots.push(growthRoot);
  growthSection = await benchGrowth(growthRoot, log);
  log("a million-task job");
  scaleSections.push(await benchMillion({ tasks: MILLION }));
  const v = await netfsViews();
  log("zero-worker workers: the server alone");
  const zero = await benchZeroWorker({
    tasks: Math.min(MILLION, 100_000),
    ...(typeof v === "string" ? {} : { views: v }),
  });
  scaleSections.push(zero.markdown);
  if (typeof v === "string") {
    scaleSections.push(`### Network filesystem: two sshfs views against a local dir\n\n${v}.`);
  } else {
    log("network filesystem: visibility, latency, throughput, file operations, fairness");
    scaleSections.push(await benchNetfsViews(v, { tasks: N }));
  }
  log("comparison with xargs, GNU parallel, Dask and SLURM arrays");
  suiteSection = await runSuite({ netfs: await netfsViews() });
}

let failed: unknown;
try {
  if (QUICK) {
    log("--quick: only the comparison suite, with scaled-down counts");
    suiteSection = await runSuite({ quick: true, netfs: await netfsViews() });
  } else await benchAll();
} catch (e) {
  failed = e;
} finally {
  await cleanupOnce();
}
console.log(report());
if (failed) {
  console.error("[bench] FAILED:", failed);
  Deno.exit(1);
}
Deno.exit(0);
