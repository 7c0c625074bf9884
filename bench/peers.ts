/**
 * The tools a user would pick instead of this project, run on the comparison suite's workloads
 * (`suite.ts`): `xargs -P`, GNU parallel and Dask distributed (SLURM arrays are in
 * `peers_slurm.ts`). GNU parallel and Dask come from Debian (`parallel`, `python3-distributed`),
 * installed here with apt-get when missing and running as root; a peer that cannot be had is
 * reported skipped with the reason.
 *
 * Each runner runs the workload's tasks with parallelism P (the sum of the workload's worker
 * CPUs), in the folder `cwd`, discarding their output as this project's runs do
 * (`--stdout none --stderr none`), and times from the start of the coordinator (xargs, parallel)
 * or the first submit (Dask, whose cluster is up before) to the last task's end.
 *
 * @module
 */
import { nowMs, REPO_ROOT, spawnProc } from "./_util.ts";
import { filesCreatedSince, listFiles, ProcSampler } from "./_procfs.ts";
import {
  progressFromFinishes,
  type RunRecord,
  thinProgress,
  type Workload,
} from "./_suite_table.ts";

/** Tool names as the table shows them. */
export const TOOL = {
  hq: "hq-files",
  xargs: "xargs -P",
  parallel: "GNU parallel",
  dask: "Dask distributed",
  slurm: "SLURM array",
} as const;

/** Where each installable peer stands: ready (with what runs it) or the reason it cannot run. */
export interface PeerSetup {
  /** True when GNU parallel runs, else why not. */
  parallel: true | string;
  /** The Python that imports `distributed`, else why there is none. */
  dask: { python: string } | string;
}

/** Options of the peer runners. */
export interface PeerRunOptions {
  /** Folder the tasks run in (its new files are counted). */
  cwd: string;
  /** Folder for the runner's own files (input lists, logs, the Dask spec); not counted. */
  meta: string;
  /** Longest the run may take before it is stopped and reported as timed out, ms. */
  timeoutMs: number;
}

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      env: { DEBIAN_FRONTEND: "noninteractive" },
    }).output();
    const dec = new TextDecoder();
    return { ok: out.success, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
  } catch (e) {
    return { ok: false, text: String(e) };
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").at(-1)?.trim() ?? "";
}

/** Installs a Debian package with apt-get; returns why it failed, or undefined on success. */
async function aptInstall(pkg: string, log: (m: string) => void): Promise<string | undefined> {
  if (Deno.uid() !== 0) return `${pkg} is not installed and installing it needs root`;
  const args = [
    "install",
    "-y",
    "-q",
    "--no-install-recommends",
    "-o",
    "DPkg::Lock::Timeout=120",
    pkg,
  ];
  log(`installing ${pkg} with apt-get`);
  let res = await output("apt-get", args);
  if (!res.ok) {
    log(`apt-get install ${pkg} failed; running apt-get update and trying again`);
    await output("apt-get", ["update", "-q"]);
    res = await output("apt-get", args);
  }
  return res.ok ? undefined : `apt-get install ${pkg} failed: ${lastLine(res.text)}`;
}

async function gnuParallelRuns(): Promise<boolean> {
  const v = await output("parallel", ["--version"]);
  return v.ok && v.text.includes("GNU parallel");
}

async function daskPython(): Promise<string | undefined> {
  // Debian's interpreter first: a python3 earlier on PATH (pyenv, a venv) lacks the package.
  for (const py of ["/usr/bin/python3", "python3"]) {
    if ((await output(py, ["-c", "import distributed"])).ok) return py;
  }
  return undefined;
}

/** Finds GNU parallel and Dask distributed, installing the Debian packages when missing. */
export async function preparePeers(log: (m: string) => void): Promise<PeerSetup> {
  let parallel: true | string = true;
  if (!(await gnuParallelRuns())) {
    const failed = await aptInstall("parallel", log);
    if (failed) parallel = failed;
    else if (!(await gnuParallelRuns())) {
      parallel = "`parallel --version` does not say GNU parallel (moreutils' parallel?)";
    }
  }
  let python = await daskPython();
  let why: string | undefined;
  if (!python) {
    why = await aptInstall("python3-distributed", log);
    python = why ? undefined : await daskPython();
    why ??= python ? undefined : "no python3 imports `distributed` after installing it";
  }
  return { parallel, dask: python ? { python } : why ?? "unknown" };
}

/** One line per task (`1` to `n`) in `path`: the input of xargs and GNU parallel. */
async function writeInput(path: string, n: number): Promise<void> {
  await Deno.writeTextFile(path, Array.from({ length: n }, (_, i) => `${i + 1}\n`).join(""));
}

/** Parallelism of a workload for the peers: the CPUs of this project's workers together. */
export function parallelism(w: Workload): number {
  return w.workerCpus.reduce((a, b) => a + b, 0);
}

/**
 * Runs a coordinator process to its end with its own CPU and memory sampled, and `onTick` at
 * every sample; stops it after `timeoutMs`. Throws when it fails or times out.
 */
async function runSampled(
  name: string,
  cmd: string,
  args: string[],
  opts: PeerRunOptions,
  onTick: (proc: { log: string }, t0: number) => void,
) {
  const t0 = nowMs();
  const proc = spawnProc(name, cmd, args, { cwd: opts.cwd });
  const sampler = new ProcSampler(proc.pid, 25, () => onTick(proc, t0));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((
    r,
  ) => (timer = setTimeout(() => r("timeout"), opts.timeoutMs)));
  const done = await Promise.race([proc.status, timedOut]);
  const t1 = nowMs();
  clearTimeout(timer);
  const usage = sampler.stop();
  if (done === "timeout") {
    await proc.stop();
    throw new Error(`${name} timed out after ${Math.round(opts.timeoutMs / 1000)} s`);
  }
  await proc.stop();
  if (!done.success) {
    throw new Error(`${name} failed (exit ${done.code}): ${proc.log.slice(-1000)}`);
  }
  return { makespanMs: t1 - t0, usage, log: proc.log };
}

/**
 * `xargs -a input -P P -t -I{} <cmd>`: `-t` names each command on stderr as it starts, and with
 * P slots the (k+P)-th start means at least k tasks ended, which gives tasks finished over time
 * without touching the tasks.
 */
export async function runXargs(w: Workload, opts: PeerRunOptions): Promise<RunRecord> {
  const p = parallelism(w);
  const input = `${opts.meta}/xargs-input`;
  await writeInput(input, w.tasks);
  const files0 = await listFiles([opts.cwd]);
  const points: [number, number][] = [[0, 0]];
  let seen = 0;
  let started = 0;
  const r = await runSampled(
    "xargs",
    "xargs",
    ["-a", input, "-P", String(p), "-t", "-I{}", ...w.cmd],
    opts,
    (proc, t0) => {
      // Counts only what arrived since the last tick: the log grows to a line per task.
      for (let i = proc.log.indexOf("\n", seen); i !== -1; i = proc.log.indexOf("\n", i + 1)) {
        started++;
      }
      seen = proc.log.length;
      points.push([nowMs() - t0, Math.max(0, started - p)]);
    },
  );
  points.push([r.makespanMs, w.tasks]);
  return {
    tool: TOOL.xargs,
    workload: w.id,
    tasks: w.tasks,
    makespanMs: r.makespanMs,
    ...(r.usage ? { serverCpuS: r.usage.cpuS, peakRssBytes: r.usage.peakRssBytes } : {}),
    filesCreated: await filesCreatedSince(files0, [opts.cwd]),
    progress: thinProgress(points),
    note: "the xargs process itself (sampled every 25 ms); no durable state",
  };
}

/**
 * `parallel -j P -N0 -a input --joblog LOG <cmd>` (`-N0`: no argument appended to the command);
 * tasks finished over time come from the job log's start times and run times.
 */
export async function runParallel(w: Workload, opts: PeerRunOptions): Promise<RunRecord> {
  const input = `${opts.meta}/parallel-input`;
  const joblog = `${opts.meta}/parallel-joblog`;
  await writeInput(input, w.tasks);
  const files0 = await listFiles([opts.cwd]);
  const t0Epoch = nowMs();
  const r = await runSampled(
    "GNU parallel",
    "parallel",
    ["--will-cite", "-j", String(parallelism(w)), "-N0", "-a", input, "--joblog", joblog, ...w.cmd],
    opts,
    () => {},
  );
  const finishes: number[] = [];
  for (const line of (await Deno.readTextFile(joblog)).split("\n").slice(1)) {
    const f = line.split("\t");
    if (f.length < 7) continue;
    if (f[6] !== "0") throw new Error(`GNU parallel: a task failed: ${line}`);
    finishes.push((Number(f[2]) + Number(f[3])) * 1000 - t0Epoch);
  }
  if (finishes.length !== w.tasks) {
    throw new Error(`GNU parallel: ${finishes.length} of ${w.tasks} tasks in its job log`);
  }
  return {
    tool: TOOL.parallel,
    workload: w.id,
    tasks: w.tasks,
    makespanMs: r.makespanMs,
    ...(r.usage ? { serverCpuS: r.usage.cpuS, peakRssBytes: r.usage.peakRssBytes } : {}),
    filesCreated: await filesCreatedSince(files0, [opts.cwd]),
    progress: progressFromFinishes(finishes),
    note: "the perl process itself (sampled every 25 ms); no durable state",
  };
}

/** What `peers/dask_run.py` writes. */
interface DaskOut {
  makespanS: number;
  finishS: number[];
  cpuS: number;
  maxrssKb: number;
  filesCreated: number;
  failed: number;
}

/**
 * Dask distributed: `peers/dask_run.py` starts a LocalCluster of P worker processes with one
 * thread each, waits for them, then maps the tasks (each a `subprocess.run` of the command) and
 * reports the makespan from the first submit, each task's completion, and its own CPU seconds
 * and peak memory (the scheduler runs in the driver process).
 */
export async function runDask(
  w: Workload,
  python: string,
  opts: PeerRunOptions,
): Promise<RunRecord> {
  const spec = `${opts.meta}/dask-spec.json`;
  const out = `${opts.meta}/dask-out.json`;
  const localDir = `${opts.cwd}/dask-local`;
  await Deno.mkdir(localDir, { recursive: true });
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      tasks: w.tasks,
      cmd: w.cmd,
      workers: parallelism(w),
      cwd: opts.cwd,
      localDir,
    }),
  );
  await runSampled(
    "Dask driver",
    python,
    ["-B", `${REPO_ROOT}bench/peers/dask_run.py`, spec, out],
    opts,
    () => {},
  );
  const res = JSON.parse(await Deno.readTextFile(out)) as DaskOut;
  if (res.failed > 0) throw new Error(`Dask: ${res.failed} of ${w.tasks} tasks failed`);
  return {
    tool: TOOL.dask,
    workload: w.id,
    tasks: w.tasks,
    makespanMs: res.makespanS * 1000,
    serverCpuS: res.cpuS,
    peakRssBytes: res.maxrssKb * 1024,
    filesCreated: res.filesCreated,
    progress: progressFromFinishes(res.finishS.map((s) => s * 1000)),
    note: "the driver process, where scheduler and client run (worker processes not counted); " +
      "makespan from the first submit, the cluster already up; no durable state",
  };
}
