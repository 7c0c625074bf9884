/**
 * End-to-end test harness: a throwaway server directory plus the `hq`
 * processes (server, workers) started on it, all stopped and removed when the
 * {@link Cluster} is disposed.
 *
 * Processes are only ever signalled through the `Deno.ChildProcess` handles
 * this harness created (never by name).
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { netfsViews } from "./_env.ts";
import { Proc } from "./_proc.ts";

export { Proc };

/** Absolute path of the repository root. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url));
/** Absolute path of the umbrella CLI. */
export const HQ_TS: string = join(ROOT, "hq.ts");

const decoder = new TextDecoder();

/**
 * The deno binary to run `hq.ts` with: this test's own, unless it was
 * replaced on disk while the tests ran (then the repository's copy).
 */
function denoBin(): string {
  const exe = Deno.execPath();
  return exe.endsWith(" (deleted)") ? join(ROOT, "node_modules", ".bin", "deno") : exe;
}

/** Result of a finished `hq` client command. */
export interface HqResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `predicate` (every 100 ms) until it returns a truthy value, which is
 * returned. Throws after `timeoutMs` with `what` (and the last error thrown by
 * the predicate, if any).
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  timeoutMs: number,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await predicate();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}` +
          (lastError !== undefined ? ` (last error: ${String(lastError)})` : ""),
      );
    }
    await sleep(100);
  }
}

/** True while `/proc/<pid>` exists and the process is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z";
  } catch {
    return false;
  }
}

/** Options for {@link Cluster.create}. */
export interface ClusterOptions {
  /** Put the server directory on the shared network filesystem (view A; workers use view B). */
  netfs?: boolean;
}

/** Options for {@link Cluster.hq}. */
export interface HqOptions {
  /** Working directory of the client (default: the cluster's work dir). */
  cwd?: string;
  /** Server directory to pass (default: the cluster's, view A). */
  serverDir?: string;
  /** Omit `--server-dir` entirely. */
  noServerDir?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** A server directory and the processes started on it. */
export class Cluster implements AsyncDisposable {
  /** Every long-running process started by this cluster. */
  readonly procs: Proc[] = [];
  private workerCount = 0;

  private constructor(
    /** Temp root removed on dispose. */
    readonly root: string,
    /** Server directory as seen by the server and clients. */
    readonly serverDir: string,
    /** Server directory as seen by workers started with `view: "b"`. */
    readonly serverDirB: string,
    /** Default cwd of clients (tasks write `job-N/...` here). */
    readonly workDir: string,
    /**
     * `TMPDIR` of every process started here (a local dir removed on dispose): what a killed
     * worker leaves of its own temporary work dir goes with it.
     */
    readonly tmpDir: string,
  ) {}

  /** Creates the temp dirs. */
  static async create(opts: ClusterOptions = {}): Promise<Cluster> {
    if (opts.netfs) {
      const views = netfsViews();
      if (!views) throw new Error("netfs views not configured (HQ_TEST_NETFS_A/B)");
      const sub = `hq-e2e-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
      const root = join(views.a, sub);
      await Deno.mkdir(join(root, "work"), { recursive: true });
      const tmp = await Deno.makeTempDir({ prefix: "hq-e2e-tmp-" });
      return new Cluster(root, join(root, "sd"), join(views.b, sub, "sd"), join(root, "work"), tmp);
    }
    const root = await Deno.makeTempDir({ prefix: "hq-e2e-" });
    await Deno.mkdir(join(root, "work"));
    await Deno.mkdir(join(root, "tmp"));
    const tmp = join(root, "tmp");
    return new Cluster(root, join(root, "sd"), join(root, "sd"), join(root, "work"), tmp);
  }

  private spawn(name: string, args: string[], cwd: string, env?: Record<string, string>): Proc {
    const child = new Deno.Command(denoBin(), {
      args: ["run", "-A", HQ_TS, ...args],
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { TMPDIR: this.tmpDir, ...env },
    }).spawn();
    const p = new Proc(name, child);
    this.procs.push(p);
    return p;
  }

  /**
   * Starts `hq server start` (foreground) on the server dir (or `opts.serverDir`), with
   * `opts.env` added to the inherited environment. Does not wait.
   */
  startServer(
    args: string[] = [],
    opts: { serverDir?: string; env?: Record<string, string> } = {},
  ): Proc {
    return this.spawn(
      `server#${this.procs.filter((p) => p.name.startsWith("server")).length + 1}`,
      ["server", "start", "--server-dir", opts.serverDir ?? this.serverDir, ...args],
      this.workDir,
      opts.env,
    );
  }

  /** Waits until a client command succeeds against the server (i.e. it is up). */
  async waitServerReady(timeoutMs = 15000, serverDir?: string): Promise<void> {
    const opts = serverDir === undefined ? {} : { serverDir };
    await waitFor(
      async () => (await this.hq(["server", "info"], opts)).code === 0,
      timeoutMs,
      "server",
    );
  }

  /**
   * Starts `hq worker start`; `view: "b"` uses the view-B path of the server dir,
   * `serverDir` another server dir.
   */
  startWorker(args: string[] = [], opts: { view?: "a" | "b"; serverDir?: string } = {}): Proc {
    const dir = opts.serverDir ?? (opts.view === "b" ? this.serverDirB : this.serverDir);
    this.workerCount++;
    return this.spawn(
      `worker#${this.workerCount}`,
      ["worker", "start", "--server-dir", dir, ...args],
      this.workDir,
    );
  }

  /** Runs one `hq` client command to completion. `--server-dir` goes before any `--`. */
  async hq(args: string[], opts: HqOptions = {}): Promise<HqResult> {
    const full = [...args];
    if (!opts.noServerDir) {
      const flag = ["--server-dir", opts.serverDir ?? this.serverDir];
      const dd = full.indexOf("--");
      if (dd >= 0) full.splice(dd, 0, ...flag);
      else full.push(...flag);
    }
    const out = await new Deno.Command(denoBin(), {
      args: ["run", "-A", HQ_TS, ...full],
      cwd: opts.cwd ?? this.workDir,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { TMPDIR: this.tmpDir, ...opts.env },
    }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  /** Like {@link hq} but throws (with output) unless the exit code is 0. */
  async hqOk(args: string[], opts: HqOptions = {}): Promise<HqResult> {
    const r = await this.hq(args, opts);
    if (r.code !== 0) {
      throw new Error(
        `hq ${args.join(" ")} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
      );
    }
    return r;
  }

  /** Runs a client command with `--output-mode json` and parses its stdout. */
  async json<T = unknown>(args: string[], opts: HqOptions = {}): Promise<T> {
    const r = await this.hqOk([...args, "--output-mode", "json"], opts);
    return JSON.parse(r.stdout) as T;
  }

  /** Submits a job; returns its id. */
  async submit(args: string[], opts: HqOptions = {}): Promise<number> {
    const r = await this.hqOk(["submit", ...args], opts);
    const m = r.stdout.match(/job ID: (\d+)/);
    if (!m) throw new Error(`unexpected submit output: ${r.stdout}`);
    return Number(m[1]);
  }

  /**
   * `task list <job>` in JSON (HyperQueue's task objects), each with the
   * task's `instance` and `crash_count` added from `hq server debug-dump`
   * (HyperQueue's JSON shows neither).
   */
  async tasks(job: number, opts: HqOptions = {}): Promise<TaskJson[]> {
    const all = await this.json<Record<string, TaskJson[]>>(["task", "list", String(job)], opts);
    const dump = join(this.root, `dump-${crypto.randomUUID()}.json`);
    await this.hqOk(["server", "debug-dump", dump], opts);
    const records = JSON.parse(await Deno.readTextFile(dump)).tako.tasks as {
      job_id: number;
      task_id: number;
      instance: number;
      crash_count: number;
    }[];
    await Deno.remove(dump);
    return (all[String(job)] ?? []).map((t) => {
      const r = records.find((r) => r.job_id === job && r.task_id === t.id);
      return { ...t, instance: r?.instance ?? 0, crash_count: r?.crash_count ?? 0 };
    });
  }

  /** `job list --all` in JSON. */
  async jobs(opts: HqOptions = {}): Promise<JobJson[]> {
    return await this.json<JobJson[]>(["job", "list", "--all"], opts);
  }

  /** Waits until `job` is complete (no task waiting or running), whatever its tasks' ends. */
  async waitJobComplete(job: number, timeoutMs = 20000): Promise<void> {
    await waitFor(
      async () => {
        const j = (await this.jobs()).find((j) => j.id === job);
        return j !== undefined && j.task_stats.waiting + j.task_stats.running === 0;
      },
      timeoutMs,
      `job ${job} to complete`,
    );
  }

  /** Whether every task of `job` finished. */
  async jobFinished(job: number): Promise<boolean> {
    const j = (await this.jobs()).find((j) => j.id === job);
    return !!j && j.task_stats.finished === j.task_count;
  }

  /** Waits until `worker list` shows exactly `n` running workers. */
  async waitWorkers(
    n: number,
    timeoutMs = 20000,
    what = `${n} worker(s) registered`,
  ): Promise<void> {
    await waitFor(
      async () => (await this.json<unknown[]>(["worker", "list"])).length === n,
      timeoutMs,
      what,
    );
  }

  /** All logs of the processes started here, for failure messages. */
  logs(): string {
    return this.procs.map((p) => `===== ${p.name} (pid ${p.pid}) =====\n${p.log}`).join("\n");
  }

  /** Stops every process (SIGTERM, then SIGKILL), waits for them, removes the temp dir. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
    if (Deno.env.get("HQ_TEST_LOGS") === "1") {
      Deno.stderr.writeSync(new TextEncoder().encode(this.logs() + "\n"));
    }
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
    await Deno.remove(this.tmpDir, { recursive: true }).catch(() => {});
  }

  /** Runs `fn`; on failure, attaches the process logs to the error. */
  async withLogs<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      await Promise.all(this.procs.map((p) => p.stop()));
      if (e instanceof Error) e.message += `\n--- cluster logs ---\n${this.logs()}`;
      throw e;
    }
  }
}

/** One entry of `task list --output-mode json`. */
export interface TaskJson {
  id: number;
  state: string;
  worker?: number;
  workers?: number[];
  /** Attempt number (from `server debug-dump`, see {@link Cluster.tasks}). */
  instance: number;
  /** Worker crashes counted (from `server debug-dump`). */
  // deno-lint-ignore camelcase
  crash_count: number;
  error?: string;
  [k: string]: unknown;
}

/** One entry of `job list --output-mode json`. */
export interface JobJson {
  id: number;
  name: string;
  // deno-lint-ignore camelcase
  task_count: number;
  // deno-lint-ignore camelcase
  task_stats: {
    running: number;
    finished: number;
    failed: number;
    canceled: number;
    aborted: number;
    waiting: number;
  };
}

/** Reads a file as text, or undefined when it does not exist (yet). */
export async function readOr(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

/** `task explain --output-mode json`. */
export interface ExplainJson {
  // deno-lint-ignore camelcase
  task_id: { job_id: number; job_task_id: number };
  explanation: {
    // deno-lint-ignore camelcase
    n_task_deps: number;
    // deno-lint-ignore camelcase
    n_waiting_deps: number;
    workers: { worker_id: number; variants: ExplainItemJson[][] }[];
  };
}

/** One item of a variant in `task explain --output-mode json` (tako's `TaskExplainItem`). */
export type ExplainItemJson =
  | { Time: { min_time: { secs: number; nanos: number }; remaining_time: unknown } }
  | { Resources: { resource: string; request_amount: number; worker_amount: number } }
  | { WorkerGroup: { n_nodes: number; group_size: number } };

/** One allocation of `alloc info --output-mode json` (HyperQueue's keys). */
export interface AllocationJson {
  id: string;
  // deno-lint-ignore camelcase
  target_worker_count: number;
  // deno-lint-ignore camelcase
  queued_at: string;
  // deno-lint-ignore camelcase
  started_at: string | null;
  // deno-lint-ignore camelcase
  ended_at: string | null;
  status: string;
  workdir: string;
}

/** One queue of `alloc list --output-mode json`. */
export interface QueueJson {
  id: number;
  state: string;
  manager: string;
  // deno-lint-ignore camelcase
  additional_args: string[];
}

/** The allocation part of a worker of `worker list --output-mode json`. */
export interface WorkerAllocJson {
  id: number;
  allocation: { id: string; manager: string } | null;
}
