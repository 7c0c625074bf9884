// deno-lint-ignore-file no-console
/**
 * Helpers for the benchmarks: tracked child processes (always cleaned up by
 * handle/pid), temp dirs, timing and statistics.
 *
 * @module
 */
import { HqClient } from "../mod.ts";

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

/** A spawned child process whose output is kept (tail only) for diagnostics. */
export class Proc {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  #tail = "";
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;
  #drains: Promise<void>[] = [];

  constructor(name: string, cmd: string, args: string[], opts: { cwd?: string } = {}) {
    this.name = name;
    this.child = new Deno.Command(cmd, {
      args,
      cwd: opts.cwd ?? "/",
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.child.pid;
    this.#drains.push(this.#drain(this.child.stdout), this.#drain(this.child.stderr));
    this.status = this.child.status.then((s) => {
      this.#exited = true;
      return s;
    });
    LIVE.add(this);
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        this.#tail = (this.#tail + dec.decode(chunk, { stream: true })).slice(-8000);
      }
    } catch {
      // stream closed
    }
  }

  /** Last output (stdout+stderr interleaved by arrival). */
  get output(): string {
    return this.#tail;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; waits for exit. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.#exited) {
      try {
        this.child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        if (!this.#exited) {
          console.error(`[bench] ${this.name} (pid ${this.pid}) ignored SIGTERM; SIGKILL`);
          try {
            this.child.kill("SIGKILL");
          } catch {
            // already gone
          }
        }
      }, graceMs);
      await this.status;
      clearTimeout(t);
    }
    await Promise.allSettled(this.#drains);
    LIVE.delete(this);
  }
}

const LIVE = new Set<Proc>();

/** Stops every process still alive (reverse start order). */
export async function stopAll(): Promise<void> {
  const procs = [...LIVE].reverse();
  for (const p of procs) await p.stop();
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
  return new Proc(name, DENO, [
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
  return new Proc(name, DENO, [
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
    if (proc.exited) throw new Error(`${proc.name} exited early:\n${proc.output}`);
    try {
      return await HqClient.connect(serverDir, pollOnly ? { pollOnly: true } : {});
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`server not reachable at ${serverDir}: ${last}\n${proc.output}`);
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
    if (proc.exited) throw new Error(`${proc.name} exited early:\n${proc.output}`);
    const workers = await client.listWorkers();
    const at = nowMs();
    const w = workers.find((w) => w.state === "running" && !known.has(w.id));
    if (w) return { id: w.id, at };
    if (Date.now() > deadline) throw new Error(`worker did not appear:\n${proc.output}`);
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
