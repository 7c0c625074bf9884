/**
 * Helpers for the benchmarks: tracked child processes (always cleaned up by
 * handle/pid), temp dirs, timing and statistics.
 *
 * @module
 */
import { HqClient } from "../mod.ts";
import { Proc } from "../tests/_proc.ts";

export { Proc };

/** Absolute path of `hq.ts`. */
export const HQ_TS = new URL("../hq.ts", import.meta.url).pathname;
/** Absolute path of the repository root. */
export const REPO_ROOT = new URL("..", import.meta.url).pathname;
/** The deno binary running this benchmark. */
export const DENO = Deno.execPath();

/** Milliseconds since the epoch with sub-ms precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const LIVE = new Set<Proc>();

/** Spawns a tracked child process (stopped by {@link stopAll}); its output is kept. */
export function spawnProc(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string } = {},
): Proc {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd ?? "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const proc = new Proc(name, child);
  LIVE.add(proc);
  return proc;
}

/** Stops every process still alive (reverse start order). */
export async function stopAll(): Promise<void> {
  const procs = [...LIVE].reverse();
  for (const p of procs) {
    await p.stop(5000);
    LIVE.delete(p);
  }
}

/** Runs a command to completion; returns stdout; throws on failure. */
export async function run(cmd: string, args: string[], cwd = "/"): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdin: "null" }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${out.code}): ${dec.decode(out.stderr).slice(-2000)}`,
    );
  }
  return dec.decode(out.stdout);
}

/** Spawns `hq server start`. */
export function startServer(name: string, serverDir: string, extra: string[] = []): Proc {
  return spawnProc(name, DENO, [
    "run",
    "-A",
    HQ_TS,
    "server",
    "start",
    "--server-dir",
    serverDir,
    ...extra,
  ]);
}

/** Spawns `hq worker start`. */
export function startWorker(
  name: string,
  serverDir: string,
  workDir: string,
  extra: string[] = [],
): Proc {
  return spawnProc(name, DENO, [
    "run",
    "-A",
    HQ_TS,
    "worker",
    "start",
    "--server-dir",
    serverDir,
    "--work-dir",
    workDir,
    "--manager",
    "none",
    ...extra,
  ]);
}

/** Connects to the server, retrying until it is up (or `proc` died / timeout). */
export async function connect(
  serverDir: string,
  proc: Proc,
  pollOnly = false,
  timeoutMs = 30000,
): Promise<HqClient> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited early:\n${proc.log}`);
    try {
      return await HqClient.connect(serverDir, pollOnly ? { pollOnly: true } : {});
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`server not reachable at ${serverDir}: ${last}\n${proc.log}`);
    }
    await sleep(20);
  }
}

/**
 * Polls `worker list` until a running worker not in `known` shows up; returns
 * its id and the time (nowMs) of the reply that first showed it.
 */
export async function waitNewWorker(
  client: HqClient,
  known: Set<number>,
  proc: Proc,
  timeoutMs = 60000,
): Promise<{ id: number; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exited) throw new Error(`${proc.name} exited early:\n${proc.log}`);
    const workers = await client.listWorkers();
    const at = nowMs();
    const w = workers.find((w) => w.state === "running" && !known.has(w.id));
    if (w) return { id: w.id, at };
    if (Date.now() > deadline) throw new Error(`worker did not appear:\n${proc.log}`);
    await sleep(5);
  }
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Formats milliseconds. */
export function fmtMs(ms: number): string {
  if (ms >= 10000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** Renders a markdown table. */
export function mdTable(header: string[], rows: string[][]): string {
  const lines = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
  return lines.join("\n");
}
