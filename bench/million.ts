// deno-lint-ignore-file no-console
/**
 * Million-task jobs: one `--array 1-N` job (N = 1,000,000 by default) against a live server,
 * timing the commands a user runs on it (the submit's acknowledgement, `job list`,
 * `job info` in both output modes, `task list --task-status`, `job cancel`, a server restart
 * until `job list` answers) and the server's memory with N waiting tasks, after the queries,
 * after the cancel and after the restart; then N tasks run to the end on zero-worker workers
 * (`worker start --zero-worker`, tasks finish without a process), for the memory with N
 * finished tasks.
 *
 * Targets (the issue's): the acknowledgement under 5 s, every other command within a few
 * seconds (5 s here), a `job list` posted while the cancel is applied answered within 1 s
 * (the server's loop is never busy for long), and the server's resident memory within HyperQueue's published figure,
 * about 120 MiB at 200,000 tasks, scaled linearly (600 MiB at 1,000,000).
 *
 * `deno run -A bench/million.ts [--tasks N]` runs it alone.
 *
 * @module
 */
import {
  DENO,
  fmtMs,
  HQ_TS,
  mdTable,
  type Proc,
  startServer,
  startWorker,
  stopAll,
} from "./_util.ts";

/** Options of {@link benchMillion}. */
export interface MillionOptions {
  /** Tasks of the array. @default 1_000_000 */
  tasks?: number;
}

const FEW_SECONDS_MS = 5000;
/** Longest the server may be busy with one step (a worker's heartbeat comes every 8 s). */
const BUSY_LIMIT_MS = 1000;
const MIB = 1024 * 1024;

/**
 * Memory of a process in bytes (Linux `/proc`): resident, its anonymous part (the process's
 * own memory) and its file-backed part (pages of mapped files, the journal's LMDB map among
 * them, which the kernel can drop and read again), and the peak resident.
 */
function memoryOf(pid: number): { rss: number; anon: number; file: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) =>
    1024 * Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile"), peak: kb("VmHWM") };
}

async function hq(
  sd: string,
  cwd: string,
  args: string[],
): Promise<{ ms: number; stdout: string; code: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", HQ_TS, "--server-dir", sd, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`hq ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { ms, stdout: new TextDecoder().decode(out.stdout), code: out.code };
}

async function waitAnswer(sd: string, cwd: string): Promise<void> {
  for (;;) {
    try {
      await hq(sd, cwd, ["job", "list"]);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function supportsZeroWorker(): Promise<boolean> {
  const out = await new Deno.Command(DENO, {
    args: ["run", "-A", HQ_TS, "worker", "start", "--help"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout).includes("--zero-worker");
}

/** Runs the measurement; returns the markdown section. */
export async function benchMillion(options: MillionOptions = {}): Promise<string> {
  const n = options.tasks ?? 1_000_000;
  const root = await Deno.makeTempDir({ prefix: "hq-bench-million-" });
  const rows: string[][] = [];
  const time = (what: string, ms: number, limit = FEW_SECONDS_MS) =>
    rows.push([what, fmtMs(ms), fmtMs(limit), ms <= limit ? "met" : "NOT met"]);
  const mem: string[][] = [];
  const memLimit = 120 * MIB * (n / 200_000);
  const memory = (what: string, server: Proc) => {
    const m = memoryOf(server.pid);
    const mib = (b: number) => `${(b / MIB).toFixed(0)} MiB`;
    mem.push([
      what,
      mib(m.rss),
      mib(m.anon),
      mib(m.file),
      mib(m.peak),
      m.anon <= memLimit ? "met" : "NOT met",
    ]);
  };
  try {
    const sd = `${root}/sd`;
    let server = startServer("million server", sd);
    await waitAnswer(sd, root);
    const array = ["--array", `1-${n}`, "--stdout", "none", "--stderr", "none", "--", "true"];
    time("submit acknowledged", (await hq(sd, root, ["submit", ...array])).ms);
    memory(`${n} waiting`, server);
    time("job list", (await hq(sd, root, ["job", "list"])).ms);
    time("job info 1", (await hq(sd, root, ["job", "info", "1"])).ms);
    const json = await hq(sd, root, ["--output-mode", "json", "job", "info", "1"]);
    time(`job info 1 (JSON, ${(json.stdout.length / MIB).toFixed(0)} MiB)`, json.ms);
    const failed = ["task", "list", "1", "--task-status", "failed"];
    time("task list 1 --task-status failed", (await hq(sd, root, failed)).ms);
    memory(`${n} waiting, after the queries`, server);
    // A command posted while the cancel is being applied waits for it: how long the server's
    // loop is busy (it reads heartbeats and requests between rounds; the lease is renewed by
    // a thread of its own).
    const cancel = hq(sd, root, ["job", "cancel", "1"]);
    await new Promise((r) => setTimeout(r, 20));
    const during = await hq(sd, root, ["job", "list"]);
    time("job cancel 1", (await cancel).ms);
    time("job list while the cancel runs", during.ms, BUSY_LIMIT_MS);
    memory(`${n} canceled`, server);
    await hq(sd, root, ["server", "stop"]);
    await server.status;
    const t0 = performance.now();
    server = startServer("million server (restarted)", sd);
    await waitAnswer(sd, root);
    time("restart until job list answers", performance.now() - t0);
    memory(`${n} canceled, restored`, server);
    await hq(sd, root, ["server", "stop"]);
    await server.status;

    let finished = `Finished tasks: skipped (this worker has no --zero-worker mode).`;
    if (await supportsZeroWorker()) {
      const sd2 = `${root}/sd2`;
      server = startServer("million server (run)", sd2);
      await waitAnswer(sd2, root);
      for (let w = 0; w < 4; w++) {
        startWorker(`zero worker ${w}`, sd2, `${root}/w${w}`, ["--zero-worker", "--cpus", "16"]);
      }
      const t1 = performance.now();
      await hq(sd2, root, ["submit", "--wait", ...array]);
      const ms = performance.now() - t1;
      memory(`${n} finished`, server);
      finished = `Finished tasks: ${n} on 4 zero-worker workers in ${fmtMs(ms)} (${
        Math.round(n / (ms / 1000))
      } tasks/s, submit to completion).`;
    }
    return `### Million-task jobs (${n} tasks)\n\n` +
      mdTable(["command", "time", "limit", "within the limit"], rows) + "\n\n" +
      mdTable(
        [
          "server state",
          "resident",
          "anonymous",
          "file-backed",
          "peak",
          `anonymous ≤ ${(memLimit / MIB).toFixed(0)} MiB`,
        ],
        mem,
      ) +
      `\n\nMemory target: HyperQueue's published 120 MiB at 200,000 tasks, scaled to ${n}, ` +
      "against the server's anonymous memory (file-backed pages are mostly the journal's " +
      "memory map, page cache the kernel drops when it needs the room). " +
      finished;
  } finally {
    await stopAll();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--tasks");
  const tasks = i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  if (tasks !== undefined && !(Number.isInteger(tasks) && tasks > 0)) {
    console.error(`Invalid --tasks: ${Deno.args[i + 1]}`);
    Deno.exit(2);
  }
  console.log(await benchMillion(tasks === undefined ? {} : { tasks }));
}
