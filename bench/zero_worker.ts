// deno-lint-ignore-file no-console
/**
 * Server throughput with zero workers (`hq worker start --zero-worker`, as HyperQueue's own
 * benchmarks do): each task is reported finished the moment it starts, without a process, so
 * what is measured is the server, its scheduler and the file protocol alone.
 *
 * For 1, 4 and 16 zero workers (`--cpus 4` each) a fresh server gets an array of N tasks
 * (100,000 by default) after a warm-up job; the makespan runs from the submit to the reply of
 * `jobWait` (the client API of `mod.ts`), and tasks/s is N over it. The server's and the
 * workers' CPU time over the same span come from `/proc`. It runs locally (watch mode on a
 * local directory) and, when two views of one directory through separate network mounts are
 * given, across them: the server directory on view A (server and client there), the workers on
 * view B, each in the poll mode it detects for its mount. A round trip across the views takes
 * about a second, so N there is at most 10,000 unless `viewsTasks` says otherwise.
 *
 * Alone: `deno run -A bench/zero_worker.ts [--tasks N] [--views-tasks N]` prints the section
 * (the views come from `HQ_TEST_NETFS_A` and `HQ_TEST_NETFS_B` when both are set).
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import {
  connect,
  fmtMs,
  mdTable,
  nowMs,
  type Proc,
  sleep,
  startServer,
  startWorker,
  stopAll,
} from "./_util.ts";

/** Options of {@link benchZeroWorker}. */
export interface ZeroWorkerOptions {
  /** Tasks in the measured array. @default 100000 */
  tasks?: number;
  /**
   * Tasks in the measured array across the views, where each round trip between server and
   * worker takes about a second (some 40 tasks/s for one worker). @default min(tasks, 10000)
   */
  viewsTasks?: number;
  /** The numbers of zero workers to measure with. @default [1, 4, 16] */
  workerCounts?: readonly number[];
  /** CPUs of each worker (`--cpus`). @default 4 */
  cpusPerWorker?: number;
  /** Two views (paths) of one directory through separate mounts; without them, only local. */
  views?: { a: string; b: string };
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** Where a run's processes see the server directory. */
export type ZeroWorkerSetting = "local" | "views";

/** One measured run. */
export interface ZeroWorkerRun {
  /** `local`: one local directory, watch mode; `views`: server on view A, workers on view B. */
  setting: ZeroWorkerSetting;
  /** Zero workers. */
  workers: number;
  /** Tasks in the array. */
  tasks: number;
  /** From the submit to the job's completion, ms. */
  makespanMs: number;
  /** Tasks over the makespan. */
  tasksPerSecond: number;
  /** CPU time of the server process over the makespan, ms. */
  serverCpuMs: number;
  /** CPU time of all worker processes over the makespan, ms. */
  workersCpuMs: number;
}

/** What {@link benchZeroWorker} measured. */
export interface ZeroWorkerResult {
  /** The report section (markdown). */
  markdown: string;
  /** The runs, local first. */
  runs: ZeroWorkerRun[];
  /** Why the runs across the views were skipped, when they were. */
  viewsSkipped?: string;
}

const DEFAULT_TASKS = 100_000;
const DEFAULT_WORKER_COUNTS = [1, 4, 16] as const;
/** Most tasks of the warm-up job, which has a fiftieth of the measured ones. */
const WARMUP_TASKS = 1000;
const DEFAULT_VIEWS_TASKS = 10_000;
/** How long workers may take to register (16 Deno start-ups on a small machine). */
const REGISTER_TIMEOUT_MS = 180_000;

/** CPU time (user + system) of a live process, ms; NaN once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; 100 ticks/s.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

function sumCpuMs(procs: readonly Proc[]): number {
  return procs.reduce((sum, p) => sum + cpuMs(p.pid), 0);
}

/** Waits until `n` workers run; throws when one of them exits or the time is up. */
async function waitWorkers(client: HqClient, n: number, procs: readonly Proc[]): Promise<void> {
  const deadline = Date.now() + REGISTER_TIMEOUT_MS;
  for (;;) {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.name} exited early:\n${dead.log}`);
    const running = (await client.listWorkers()).filter((w) => w.state === "running").length;
    if (running >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${running} of ${n} workers registered`);
    await sleep(100);
  }
}

/** Submits an array of `n` tasks and waits for it; returns the makespan, ms. */
async function timeArray(client: HqClient, n: number, submitDir: string): Promise<number> {
  const { job } = buildSubmit(
    { array: `1-${n}`, stdout: "none", stderr: "none" },
    ["true"],
    submitDir,
  );
  const t0 = nowMs();
  const id = await client.submit(job);
  const [info] = await client.wait(String(id));
  const ms = nowMs() - t0;
  if (!info || info.task_stats.finished !== n) {
    throw new Error(`job ${id} did not finish all ${n} tasks: ${JSON.stringify(info)}`);
  }
  return ms;
}

/** Where one run keeps its files. */
interface RunDirs {
  /** The server directory as the server and the client see it. */
  serverDir: string;
  /** The same directory as the workers see it. */
  workerServerDir: string;
  /** A local directory for work dirs and the submit dir. */
  local: string;
}

/** What every run of one setting shares. */
interface Plan {
  setting: ZeroWorkerSetting;
  /** Tasks in the measured array. */
  tasks: number;
  workerCounts: readonly number[];
  cpusPerWorker: number;
  log: (line: string) => void;
}

/** Tasks of the warm-up job before `tasks` are measured. */
function warmupTasks(tasks: number): number {
  return Math.min(WARMUP_TASKS, Math.ceil(tasks / 50));
}

/** One run: a fresh server and `workers` zero workers, a warm-up job, then the measured one. */
async function measure(plan: Plan, workers: number, dirs: RunDirs): Promise<ZeroWorkerRun> {
  const { setting, tasks } = plan;
  const server = startServer(`zero bench server (${setting}, ${workers})`, dirs.serverDir);
  const procs: Proc[] = [];
  let client: HqClient | undefined;
  try {
    client = await connect(dirs.serverDir, server);
    for (let i = 0; i < workers; i++) {
      procs.push(
        startWorker(
          `zero bench worker ${i} (${setting})`,
          dirs.workerServerDir,
          `${dirs.local}/work-${i}`,
          ["--zero-worker", "--cpus", String(plan.cpusPerWorker)],
        ),
      );
    }
    await waitWorkers(client, workers, procs);
    const submitDir = `${dirs.local}/submit`;
    await Deno.mkdir(submitDir, { recursive: true });
    await timeArray(client, warmupTasks(tasks), submitDir);
    const serverCpu0 = cpuMs(server.pid);
    const workersCpu0 = sumCpuMs(procs);
    const makespanMs = await timeArray(client, tasks, submitDir);
    const run: ZeroWorkerRun = {
      setting,
      workers,
      tasks,
      makespanMs,
      tasksPerSecond: tasks / (makespanMs / 1000),
      serverCpuMs: cpuMs(server.pid) - serverCpu0,
      workersCpuMs: sumCpuMs(procs) - workersCpu0,
    };
    plan.log(
      `zero workers (${setting}), ${workers} worker(s), ${tasks} tasks: ${fmtMs(makespanMs)}, ` +
        `${Math.round(run.tasksPerSecond)} tasks/s`,
    );
    return run;
  } finally {
    await client?.close().catch(() => {});
    await Promise.all(procs.map((p) => p.stop(5000)));
    await server.stop(5000);
  }
}

/** Runs every worker count of `plan`, each in a directory of its own under the roots. */
async function measureSetting(
  plan: Plan,
  roots: { server: string; worker: string; local: string },
): Promise<ZeroWorkerRun[]> {
  const runs: ZeroWorkerRun[] = [];
  for (const workers of plan.workerCounts) {
    const name = `w${workers}`;
    await Deno.mkdir(`${roots.server}/${name}`, { recursive: true });
    try {
      runs.push(
        await measure(plan, workers, {
          serverDir: `${roots.server}/${name}/sd`,
          workerServerDir: `${roots.worker}/${name}/sd`,
          local: `${roots.local}/${name}`,
        }),
      );
    } finally {
      await Deno.remove(`${roots.server}/${name}`, { recursive: true }).catch(() => {});
      await Deno.remove(`${roots.local}/${name}`, { recursive: true }).catch(() => {});
    }
  }
  return runs;
}

function fmtCpu(ms: number, tasks: number): string {
  if (Number.isNaN(ms)) return "n/a";
  return `${(ms / 1000).toFixed(1)} s (${(ms / tasks * 1000).toFixed(0)} µs/task)`;
}

/** The report section for `runs`. */
function render(
  runs: readonly ZeroWorkerRun[],
  cpusPerWorker: number,
  viewsSkipped: string | undefined,
): string {
  const label = (s: ZeroWorkerSetting) =>
    s === "local" ? "local dir, watch" : "sshfs: server on A, workers on B";
  const count = (n: number) => n.toLocaleString("en-US");
  const rows = runs.map((r) => [
    label(r.setting),
    String(r.workers),
    count(r.tasks),
    fmtMs(r.makespanMs),
    count(Math.round(r.tasksPerSecond)),
    fmtCpu(r.serverCpuMs, r.tasks),
    fmtCpu(r.workersCpuMs, r.tasks),
  ]);
  return [
    "### Server throughput with zero workers (`--zero-worker`)",
    "",
    `An array of N tasks on zero workers (\`--cpus ${cpusPerWorker}\` each): each task is ` +
    "reported finished as it starts, without a process, so the server and the file protocol " +
    "are what is measured. A fresh server per row, a warm-up job of N/50 tasks (at most " +
    `${count(WARMUP_TASKS)}), then the makespan from the submit to the job's completion and ` +
    `the CPU time over the same span. ${navigator.hardwareConcurrency} cores: server, workers ` +
    "and client share them.",
    "",
    mdTable(
      ["setting", "workers", "N", "makespan", "tasks/s", "server CPU", "workers' CPU"],
      rows,
    ),
    ...(viewsSkipped === undefined ? [] : ["", `Across the sshfs views: ${viewsSkipped}.`]),
  ].join("\n");
}

/**
 * Measures the server's throughput in tasks/s with 1, 4 and 16 zero workers, locally and,
 * with `options.views`, across two network mounts of one directory; returns the report
 * section and the numbers. Every process it starts is stopped and every directory it
 * creates is removed before it returns.
 *
 * @example Usage
 * ```ts ignore
 * import { benchZeroWorker } from "./zero_worker.ts";
 * const { markdown, runs } = await benchZeroWorker({ tasks: 20_000 });
 * console.log(markdown, runs.map((r) => r.tasksPerSecond));
 * ```
 *
 * @param options What to measure and where.
 * @returns The markdown section and the runs.
 * @throws {RangeError} When a task count is not a positive integer.
 */
export async function benchZeroWorker(options: ZeroWorkerOptions = {}): Promise<ZeroWorkerResult> {
  const tasks = options.tasks ?? DEFAULT_TASKS;
  const viewsTasks = options.viewsTasks ?? Math.min(tasks, DEFAULT_VIEWS_TASKS);
  for (const [name, n] of [["tasks", tasks], ["viewsTasks", viewsTasks]] as const) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot run the zero-worker bench: '${name}' is ${n}`);
    }
  }
  const base = {
    workerCounts: options.workerCounts ?? DEFAULT_WORKER_COUNTS,
    cpusPerWorker: options.cpusPerWorker ?? 4,
    log: options.log ?? (() => {}),
  };
  const local = await Deno.makeTempDir({ prefix: "hq-bench-zero-" });
  const runs: ZeroWorkerRun[] = [];
  let viewsSkipped: string | undefined;
  try {
    runs.push(
      ...await measureSetting({ ...base, setting: "local", tasks }, {
        server: `${local}/srv`,
        worker: `${local}/srv`,
        local: `${local}/run`,
      }),
    );
    const { views } = options;
    if (views === undefined) viewsSkipped = "skipped (no views given)";
    else {
      const name = `hq-bench-zero-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      await Deno.mkdir(`${views.a}/${name}`);
      try {
        runs.push(
          ...await measureSetting({ ...base, setting: "views", tasks: viewsTasks }, {
            server: `${views.a}/${name}`,
            worker: `${views.b}/${name}`,
            local: `${local}/views`,
          }),
        );
      } finally {
        await Deno.remove(`${views.a}/${name}`, { recursive: true }).catch(() => {});
      }
    }
  } finally {
    await Deno.remove(local, { recursive: true }).catch(() => {});
  }
  return {
    markdown: render(runs, base.cpusPerWorker, viewsSkipped),
    runs,
    ...(viewsSkipped === undefined ? {} : { viewsSkipped }),
  };
}

if (import.meta.main) {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => stopAll().finally(() => Deno.exit(130)));
  }
  const flag = (name: string) => {
    const i = Deno.args.indexOf(name);
    return i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  };
  const tasks = flag("--tasks");
  const viewsTasks = flag("--views-tasks");
  const a = Deno.env.get("HQ_TEST_NETFS_A");
  const b = Deno.env.get("HQ_TEST_NETFS_B");
  const result = await benchZeroWorker({
    ...(tasks === undefined ? {} : { tasks }),
    ...(viewsTasks === undefined ? {} : { viewsTasks }),
    ...(a && b ? { views: { a, b } } : {}),
    log: (line) => console.error(`[bench] ${line}`),
  });
  console.log(result.markdown);
}
