// deno-lint-ignore-file no-console
/**
 * The network-filesystem path, on two sshfs views of one directory (`tools/netfs.sh`; server
 * dir through view A, workers through view B, poll-only as auto-detected), against a local dir
 * in watch mode, in the same run:
 *
 * 1. The views' own visibility delay: a line appended through A, read through B by reopening
 *    the file, from where the reader had got to (as a log reader does) and from the start.
 * 2. Submit-to-start latency of one task across the views.
 * 3. Throughput: N `true` tasks on one `--cpus 2` worker, across the views and locally.
 *    Target: across the views within 2x of local.
 * 4. File-system operations per task (opens, appends, renames, listings) of the server and
 *    the worker on their server dir, counted with `strace`, locally and across the views:
 *    they must stay O(1) per batch, not per task, so fewer than one per task.
 * 5. Fairness: 4 workers across the views share N tasks; the spread of their last task ends
 *    against the round trip the server measured to them. Target: at most one round trip.
 *
 * `deno run -A bench/netfs.ts <viewA> <viewB> [--tasks N] [--fairness-only]` runs it (or only the
 * fairness measurement) alone.
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import {
  connect,
  fmtMs,
  mdTable,
  median,
  nowMs,
  type Proc,
  sleep,
  spawnProc,
  startServer,
  startWorker,
  stopAll,
} from "./_util.ts";
import { measureLatency } from "./_measure.ts";

/** Options of {@link benchNetfs}. */
export interface NetfsOptions {
  /** Tasks of the throughput runs. @default 10_000 */
  tasks?: number;
}

/** Two views of one directory: what is written through `a` is read through `b`. */
export interface NetfsViews {
  a: string;
  b: string;
}

function log(msg: string): void {
  console.error(`[bench netfs] ${msg}`);
}

/** Appends through A, reads through B by reopening: ms until the line shows, per read style. */
export async function measureVisibility(
  views: NetfsViews,
  reps: number,
): Promise<{ incremental: number[]; whole: number[] }> {
  const name = `vis-${Deno.pid}`;
  const pathA = `${views.a}/${name}`;
  const pathB = `${views.b}/${name}`;
  await Deno.writeTextFile(pathA, "start\n");
  await sleep(1500); // both views know the file
  const incremental: number[] = [];
  const whole: number[] = [];
  const readFrom = (offset: number): number => {
    using file = Deno.openSync(pathB, { read: true });
    file.seekSync(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(4096);
    let total = 0;
    for (let n = file.readSync(buf); n; n = file.readSync(buf)) total += n;
    return total;
  };
  try {
    let size = (await Deno.stat(pathA)).size;
    for (let i = 0; i < reps; i++) {
      for (const style of ["incremental", "whole"] as const) {
        await Deno.writeTextFile(pathA, `line ${i}\n`, { append: true });
        const t0 = performance.now();
        const want = size;
        for (;;) {
          const seen = style === "incremental"
            ? want + readFrom(want)
            : (await Deno.readFile(pathB)).length;
          if (seen > want) break;
          if (performance.now() - t0 > 30_000) throw new Error("append never showed");
          await sleep(1);
        }
        (style === "incremental" ? incremental : whole).push(performance.now() - t0);
        size = (await Deno.stat(pathA)).size;
        await sleep(200 + 37 * i % 300);
      }
    }
  } finally {
    await Deno.remove(pathA).catch(() => {});
  }
  return { incremental, whole };
}

/** A running server with its workers, and where their files are. */
interface Cluster {
  root: string;
  sdServer: string;
  client: HqClient;
  server: Proc;
  procs: Proc[];
  workDirs: string[];
}

/** A cluster of one server (its dir through `serverView`) and workers through `workerView`. */
async function cluster(
  serverView: string,
  workerView: string,
  tag: string,
  workers: string[][],
): Promise<Cluster> {
  const rel = `bench-netfs-${tag}-${Deno.pid}`;
  const root = `${serverView}/${rel}`;
  await Deno.mkdir(`${root}/submit`, { recursive: true });
  const sdServer = `${root}/sd`;
  const server = startServer(`netfs ${tag} server`, sdServer);
  const client = await connect(sdServer, server);
  const workDirs = workers.map((_, i) => `/tmp/${rel}-w${i}`);
  const procs = workers.map((args, i) =>
    startWorker(`netfs ${tag} worker ${i}`, `${workerView}/${rel}/sd`, workDirs[i]!, args)
  );
  for (let i = 0; i < 600; i++) {
    const running = (await client.listWorkers()).filter((w) => w.state === "running");
    if (running.length === workers.length) break;
    await sleep(50);
  }
  return { root, sdServer, client, server, procs, workDirs };
}

async function teardown(c: Cluster): Promise<void> {
  await c.client.close().catch(() => {});
  await stopAll();
  await Deno.remove(c.root, { recursive: true }).catch(() => {});
  for (const d of c.workDirs) await Deno.remove(d, { recursive: true }).catch(() => {});
}

/** Submits `n` `true` tasks and waits; returns the makespan. */
async function runArray(c: Cluster, n: number): Promise<number> {
  const { job } = buildSubmit(
    { array: `1-${n}`, stdout: "none", stderr: "none" },
    ["true"],
    `${c.root}/submit`,
  );
  const t0 = nowMs();
  const id = await c.client.submit(job);
  await c.client.wait(String(id));
  return nowMs() - t0;
}

/** Counts of file-system calls on the server dir, from an strace log. */
interface FsOps {
  opens: number;
  appends: number;
  renames: number;
  listings: number;
  /** Update batches the worker sent (its appends to its channel to the server). */
  batches: number;
}

const NO_OPS: FsOps = { opens: 0, appends: 0, renames: 0, listings: 0, batches: 0 };

/**
 * Counts the calls of an `strace -f -y` log that touch `dirs`: the path an open or rename
 * names, the file a write or listing goes to (`fd<path>`). Failed calls and task processes'
 * own files (a task's libraries, opened from a cwd inside `dirs`) do not count.
 */
export function countOps(text: string, dirs: readonly string[]): FsOps {
  const ops = { ...NO_OPS };
  const inDirs = (path: string | undefined) =>
    path !== undefined && dirs.some((d) => path.startsWith(d + "/") || path === d);
  for (const line of text.split("\n")) {
    if (/= -1 /.test(line)) continue;
    const call = /\b(openat|write|pwrite64|writev|rename|renameat2?|getdents64)\((.*)$/.exec(line);
    if (!call) continue;
    const name = call[1]!;
    const args = call[2]!;
    const named = /"([^"]*)"/.exec(args)?.[1];
    const fd = /^\d+<([^>]*)>/.exec(args)?.[1];
    if (name === "openat" && inDirs(named)) {
      ops.opens++;
    } else if (name.startsWith("rename") && inDirs(named)) {
      ops.renames++;
    } else if (name === "getdents64" && inDirs(fd) && !/\)\s*=\s*0$/.test(line)) {
      ops.listings++;
    } else if (/^(write|pwrite64|writev)$/.test(name) && inDirs(fd)) {
      ops.appends++;
      if (fd!.includes("/to-server.")) ops.batches++;
    }
  }
  return ops;
}

/** Whether `strace` can trace here. */
async function haveStrace(): Promise<boolean> {
  try {
    return (await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** File-system operations per task of the server and the worker while `n` tasks run. */
async function measureOps(
  serverView: string,
  workerView: string,
  tag: string,
  n: number,
): Promise<FsOps> {
  const c = await cluster(serverView, workerView, `ops-${tag}`, [["--cpus", "2"]]);
  const logs = [`/tmp/hq-strace-${tag}-${Deno.pid}-s`, `/tmp/hq-strace-${tag}-${Deno.pid}-w`];
  const tracers = [c.server, c.procs[0]!].map((p, i) =>
    spawnProc(`strace ${i}`, "strace", [
      "-f",
      "-y",
      "-e",
      "trace=openat,write,pwrite64,writev,rename,renameat,renameat2,getdents64",
      "-o",
      logs[i]!,
      "-p",
      String(p.pid),
    ])
  );
  try {
    await sleep(1000); // attached
    await runArray(c, n);
    for (const t of tracers) await t.stop(5000);
    // The same folder as the server and the worker see it (the two views, or one local dir).
    const rel = c.root.slice(serverView.length);
    const dirs = [c.root, `${workerView}${rel}`];
    const total: FsOps = { ...NO_OPS };
    for (const f of logs) {
      const ops = countOps(await Deno.readTextFile(f), dirs);
      for (const k of Object.keys(total) as (keyof FsOps)[]) total[k] += ops[k];
    }
    return total;
  } finally {
    if (!Deno.env.get("HQ_BENCH_KEEP_STRACE")) {
      for (const f of logs) await Deno.remove(f).catch(() => {});
    }
    await teardown(c);
  }
}

/** 4 workers share `n` tasks across the views: last task end per worker, and round trips. */
async function measureFairness(
  views: NetfsViews,
  n: number,
): Promise<{ ends: number[]; roundTrips: number[] }> {
  const c = await cluster(views.a, views.b, "fair", [1, 2, 3, 4].map(() => ["--cpus", "1"]));
  try {
    await runArray(c, n);
    const byJob = await c.client.taskList("last");
    const ends = new Map<number, number>();
    for (const t of Object.values(byJob)[0] ?? []) {
      const w = t.workers[0]?.id;
      if (w !== undefined && t.finished_at !== null) {
        ends.set(w, Math.max(ends.get(w) ?? 0, t.finished_at));
      }
    }
    const dump = await c.client.debugDump();
    const roundTrips = dump.tako.workers.map((w) => w.round_trip_ms ?? Number.NaN);
    return { ends: [...ends.values()], roundTrips };
  } finally {
    await teardown(c);
  }
}

/** The fairness measurement ({@link measureFairness}) as one line of the report. */
async function fairnessLine(views: NetfsViews, n: number): Promise<string> {
  const fair = await measureFairness(views, n);
  const spread = Math.max(...fair.ends) - Math.min(...fair.ends);
  const rtt = Math.max(...fair.roundTrips.filter((x) => Number.isFinite(x)));
  return `Fairness: 4 workers across the views, last task ends spread over ${fmtMs(spread)}; ` +
    `measured round trips ${
      fair.roundTrips.map(fmtMs).join(", ")
    } (target: spread ≤ one round trip: ${spread <= rtt ? "met" : "NOT met"}).`;
}

/** Runs every measurement; returns the markdown section. */
export async function benchNetfs(views: NetfsViews, options: NetfsOptions = {}): Promise<string> {
  const n = options.tasks ?? 10_000;
  const local = await Deno.makeTempDir({ prefix: "hq-bench-netfs-local-" });
  const parts: string[] = [`### Network filesystem: two sshfs views against a local dir\n`];
  try {
    log("visibility");
    const vis = await measureVisibility(views, 7);
    log("latency");
    const lat = await (async () => {
      const c = await cluster(views.a, views.b, "lat", [["--cpus", "1"]]);
      const stamps = await Deno.makeTempDir({ prefix: "hq-bench-netfs-stamps-" });
      try {
        const noDiag = () => Promise.resolve("");
        return await measureLatency(c.client, `${c.root}/submit`, stamps, 5, noDiag, 1200);
      } finally {
        await teardown(c);
        await Deno.remove(stamps, { recursive: true }).catch(() => {});
      }
    })();
    const visInc = median(vis.incremental);
    const latMs = median(lat.samples);
    parts.push(
      mdTable(["measure", "median", "samples"], [
        [
          "append on A, reopen-read on B from the reader's offset",
          fmtMs(visInc),
          vis.incremental.map(fmtMs).join(", "),
        ],
        [
          "append on A, reopen-read on B from the start",
          fmtMs(median(vis.whole)),
          vis.whole.map(fmtMs).join(", "),
        ],
        [
          "one task, submit to start across the views",
          fmtMs(latMs),
          lat.samples.map(fmtMs).join(", "),
        ],
      ]),
      `\nSubmit to start is ${
        (latMs / visInc).toFixed(2)
      }x the views' delay for a reader that reopens from its offset (target 2x: ${
        latMs <= 2 * visInc ? "met" : "NOT met"
      }).\n`,
    );

    log(`throughput, ${n} tasks`);
    const tput: [string, number][] = [];
    for (
      const [what, sv, wv] of [["local dir (watch)", local, local], [
        "across the views (poll-only)",
        views.a,
        views.b,
      ]] as const
    ) {
      const c = await cluster(sv, wv, what.startsWith("local") ? "tl" : "tv", [["--cpus", "2"]]);
      try {
        tput.push([what, await runArray(c, n)]);
      } finally {
        await teardown(c);
      }
    }
    const ratio = tput[1]![1] / tput[0]![1];
    parts.push(
      mdTable(
        ["where", `${n} \`true\` tasks, one --cpus 2 worker`, "tasks/s"],
        tput.map(([w, ms]) => [w, fmtMs(ms), String(Math.round(n / (ms / 1000)))]),
      ),
      `\nAcross the views: ${ratio.toFixed(2)}x the local makespan (target 2x: ${
        ratio <= 2 ? "met" : "NOT met"
      }).\n`,
    );

    if (await haveStrace()) {
      log("file-system operations");
      const opsN = Math.min(n, 2000);
      const rows: string[][] = [];
      for (
        const [what, sv, wv] of [["local dir", local, local], [
          "across the views",
          views.a,
          views.b,
        ]] as const
      ) {
        const ops = await measureOps(sv, wv, what === "local dir" ? "l" : "v", opsN);
        const per = (k: keyof FsOps) =>
          `${(ops[k] / opsN).toFixed(2)} (${(ops[k] / Math.max(1, ops.batches)).toFixed(1)})`;
        rows.push([
          what,
          String(ops.batches),
          per("opens"),
          per("appends"),
          per("renames"),
          per("listings"),
        ]);
      }
      parts.push(
        mdTable(["where", "update batches", "opens", "appends", "renames", "listings"], rows),
        `\nPer task (per update batch), server and worker together, counted with strace over ${opsN} ` +
          "`true` tasks (--stdout none) on the server dir only (strace slows the processes, so " +
          "batches are smaller than without it). O(1) per batch: a few calls per batch, " +
          "however many tasks a batch carries.\n",
      );
    } else {
      parts.push("File-system operations: skipped (strace is not installed).\n");
    }

    log("fairness");
    parts.push(await fairnessLine(views, Math.min(n, 4000)));
    return parts.join("\n");
  } finally {
    await stopAll();
    await Deno.remove(local, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [a, b] = Deno.args.filter((x) => !x.startsWith("--"));
  const i = Deno.args.indexOf("--tasks");
  if (!a || !b) {
    console.error("usage: bench/netfs.ts <viewA> <viewB> [--tasks N] [--fairness-only]");
    Deno.exit(2);
  }
  const tasks = i >= 0 ? Number(Deno.args[i + 1]) : undefined;
  if (Deno.args.includes("--fairness-only")) {
    try {
      console.log(await fairnessLine({ a, b }, tasks ?? 4000));
    } finally {
      await stopAll();
    }
  } else {
    console.log(await benchNetfs({ a, b }, tasks === undefined ? {} : { tasks }));
  }
}
