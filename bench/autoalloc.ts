// deno-lint-ignore-file no-console
/**
 * Automatic allocation under a real single-node SLURM (`tools/slurm.sh`):
 *
 * 1. From `hq submit` with no workers to the first task running, next to
 *    SLURM's own latency measured in the same run (`sbatch` of a trivial job
 *    to RUNNING); and from the last task's end to the allocation's end with
 *    `--idle-timeout 5s`.
 * 2. 200 waiting tasks of 1 CPU (`sleep 1`), a queue of 4-CPU workers with
 *    backlog 4 and max worker count 10: allocations submitted over the run
 *    against the ideal (10: the cap, each worker kept busy).
 *
 * Uses the SLURM of `SLURM_CONF` when it answers, else starts one (as root);
 * skipped otherwise. Prints a markdown section; `deno run -A bench/autoalloc.ts`
 * runs it alone.
 *
 * @module
 */
import { type AllocationView, type QueueView } from "../lib/protocol/mod.ts";
import { HqClient } from "../lib/client/io/mod.ts";
import { DENO, fmtMs, HQ_TS, mdTable, REPO_ROOT, run, startServer, stopAll } from "./_util.ts";

async function sh(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdin: "null" }).output();
  const dec = new TextDecoder();
  return { ok: out.success, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A SLURM to use: the caller's, or one started here (stopped by the returned function). */
async function slurm(): Promise<{ stop: () => Promise<void> } | string> {
  if (Deno.env.get("SLURM_CONF") && (await sh("scontrol", ["ping"]).catch(() => null))?.ok) {
    return { stop: () => Promise.resolve() };
  }
  if (Deno.uid() !== 0) return "no SLURM (SLURM_CONF) and not root to start one";
  // A directory of its own: munged (another user) must reach it, and the bench's root is 0700.
  const state = await Deno.makeTempDir({ prefix: "hq-bench-slurm-" });
  const started = await sh("bash", [`${REPO_ROOT}tools/slurm.sh`, "start", state]);
  if (!started.ok) {
    const lines = started.stderr.trim().split("\n");
    return `tools/slurm.sh start failed: ${lines.slice(-3).join(" / ")}`;
  }
  for (const line of started.stdout.split("\n")) {
    const [k, v] = line.split("=");
    if (k === "SLURM_CONF" && v) Deno.env.set("SLURM_CONF", v);
  }
  return {
    stop: async () => {
      await sh("bash", [`${REPO_ROOT}tools/slurm.sh`, "stop", state]);
      await Deno.remove(state, { recursive: true }).catch(() => {});
    },
  };
}

async function waitFor<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SLURM's own latency: `sbatch` of `true` until `scontrol` says RUNNING or COMPLETED. */
async function slurmLatency(dir: string): Promise<number> {
  await Deno.writeTextFile(`${dir}/t.sh`, "#!/bin/bash\nsleep 1\n");
  const t0 = performance.now();
  const sub = await sh("sbatch", ["--parsable", "-o", "/dev/null", `${dir}/t.sh`]);
  if (!sub.ok) throw new Error(`sbatch failed: ${sub.stderr}`);
  const id = sub.stdout.trim().split(";")[0]!;
  return await waitFor("the SLURM job", 60_000, async () => {
    const s = await sh("scontrol", ["show", "job", id]);
    return /JobState=(RUNNING|COMPLETED)/.test(s.stdout) ? performance.now() - t0 : undefined;
  });
}

async function hq(args: string[], cwd: string): Promise<string> {
  return await run(DENO, ["run", "-A", HQ_TS, ...args], cwd);
}

/**
 * Starts a server in `<root>/<name>` with one SLURM queue (5 minutes, partition debug, no dry
 * run) and the queue options `queue`; returns its server dir.
 */
async function serverWithQueue(root: string, name: string, queue: string[]): Promise<string> {
  const sd = `${root}/${name}`;
  startServer(`aa bench ${name}`, sd);
  await hq(["server", "wait", "--server-dir", sd], root);
  await hq([
    "alloc",
    "add",
    "slurm",
    "--time-limit",
    "5m",
    ...queue,
    "--no-dry-run",
    "--server-dir",
    sd,
    "--",
    "-p",
    "debug",
  ], root);
  return sd;
}

async function allocations(client: HqClient): Promise<AllocationView[]> {
  const q = await client.alloc<QueueView>({ kind: "allocInfo", queueId: 1 });
  return q.allocations;
}

/** Runs the measurements; returns the markdown section. */
export async function benchAutoalloc(): Promise<string> {
  const title = "### Automatic allocation under a local SLURM\n\n";
  const root = await Deno.makeTempDir({ prefix: "hq-bench-aa-" });
  const cluster = await slurm();
  if (typeof cluster === "string") {
    await Deno.remove(root, { recursive: true });
    return `${title}skipped: ${cluster}`;
  }
  Deno.env.set("HQ_AUTOALLOC_REFRESH_INTERVAL_MS", "1000");
  try {
    const samples = [];
    for (let i = 0; i < 3; i++) samples.push(await slurmLatency(root));
    const own = samples.sort((a, b) => a - b)[1]!;
    const rows: string[][] = [];
    // 1. Latencies.
    const sd1 = await serverWithQueue(root, "sd1", ["--idle-timeout", "5s", "--cpus", "1"]);
    const c1 = await HqClient.connect(sd1);
    try {
      const t0 = performance.now();
      await hq(["submit", "--server-dir", sd1, "--", "sleep", "1"], root);
      const started = await waitFor("the first task", 120_000, async () => {
        const [job] = await c1.listJobs();
        return job && job.task_stats.waiting === 0 ? performance.now() - t0 : undefined;
      });
      await c1.wait("1");
      const tEnd = performance.now();
      const ended = await waitFor("the allocation's end", 120_000, async () => {
        const list = await allocations(c1);
        return list.length > 0 && list.every((a) => a.state === "finished" || a.state === "failed")
          ? performance.now() - tEnd
          : undefined;
      });
      rows.push(["SLURM alone: `sbatch` to RUNNING (median of 3)", fmtMs(own), "1.00x"]);
      rows.push([
        "`hq submit` (no worker) to the first task running",
        fmtMs(started),
        `${(started / own).toFixed(2)}x`,
      ]);
      rows.push([
        "last task's end to the allocation's end (`--idle-timeout 5s`)",
        fmtMs(ended),
        `${(ended / 5000).toFixed(2)}x of 5 s`,
      ]);
      await c1.stopServer();
    } finally {
      await c1.close();
    }
    // 2. Allocations submitted against the ideal.
    const sd2 = await serverWithQueue(root, "sd2", [
      "--idle-timeout",
      "3s",
      "--cpus",
      "4",
      "--backlog",
      "4",
      "--max-worker-count",
      "10",
    ]);
    const c2 = await HqClient.connect(sd2);
    let submitted = 0;
    try {
      const t0 = performance.now();
      await hq(["submit", "--array", "1-200", "--server-dir", sd2, "--", "sleep", "1"], root);
      await c2.wait("1");
      const makespan = performance.now() - t0;
      submitted = (await allocations(c2)).length;
      rows.push([
        "200 x `sleep 1`, 4-CPU workers, backlog 4, max 10 workers: allocations submitted",
        `${submitted} (ideal 10)`,
        `${(submitted / 10).toFixed(2)}x`,
      ]);
      rows.push(["... makespan of those 200 tasks", fmtMs(makespan), ""]);
      await c2.stopServer();
    } finally {
      await c2.close();
    }
    return title + mdTable(["measure", "value", "ratio"], rows) +
      `\n\nAllocations never exceed the ideal: ${submitted <= 10 ? "met" : "NOT met"}.`;
  } finally {
    await stopAll();
    await cluster.stop();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) console.log(await benchAutoalloc());
