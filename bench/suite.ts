// deno-lint-ignore-file no-console
/**
 * The comparison suite: this project next to the tools a user would pick instead (`xargs -P`,
 * GNU parallel, Dask distributed, SLURM job arrays; see `peers.ts`, `peers_slurm.ts`) on the
 * same workloads, in one run:
 *
 * | workload    | full            | `--quick`     | this project's workers | peers' parallelism |
 * | ----------- | --------------- | ------------- | ---------------------- | ------------------ |
 * | `true`      | 10,000          | 1,000         | one `--cpus 2`         | 2                  |
 * | `sleep10ms` | 2,000 × 10 ms   | 200 × 10 ms   | one `--cpus 2`         | 2                  |
 * | `sleep1s`   | 200 × 1 s       | 20 × 1 s      | two `--cpus 1`         | 2                  |
 * | `netfs`     | 2,000 × 10 ms   | 200 × 10 ms   | one `--cpus 2`, view B | xargs only         |
 *
 * The network-filesystem run puts the server directory on sshfs view A (server and client) and
 * the worker on view B (`--poll-only`), when the views exist; only this project coordinates
 * through files, so xargs runs there as the baseline only. SLURM arrays run at most the first
 * 200 tasks of a workload (20 with `--quick`), scaled up (see `peers_slurm.ts`).
 *
 * Writes `bench/results/table.md`, `records.json`, `makespan.svg` and one
 * `progress_<workload>.svg` per workload, and returns the table as a markdown section.
 * `deno run -A bench/suite.ts [--quick] [--netfs]` runs it alone; `bench/main.ts` runs it as a
 * section (`--quick`: only this section).
 *
 * @module
 */
import { nowMs, REPO_ROOT, run, stopAll } from "./_util.ts";
import { fmtCount, renderSuiteTable, type RunRecord, type Workload } from "./_suite_table.ts";
import { makespanSpec, progressSpec, renderSvg } from "./_plot.ts";
import { runHq } from "./_suite_hq.ts";
import {
  type PeerRunOptions,
  preparePeers,
  runDask,
  runParallel,
  runXargs,
  TOOL,
} from "./peers.ts";
import { runSlurmArray, type SlurmCluster, startSlurm } from "./peers_slurm.ts";

/** The two sshfs views of one directory (`tools/netfs.sh`), or why there are none. */
export type NetfsViews = { a: string; b: string } | string;

/** Options of {@link runSuite}. */
export interface SuiteOptions {
  /** Scaled-down counts that finish in about two minutes. @default false */
  quick?: boolean;
  /** The network-filesystem views, or why the netfs run is skipped. @default "no netfs views" */
  netfs?: NetfsViews;
  /** Progress lines. @default to stderr */
  log?: (msg: string) => void;
}

/** Results folder (ignored by git). */
export const RESULTS_DIR = `${REPO_ROOT}bench/results`;

/** The workloads of a full or a quick run. */
export function suiteWorkloads(quick: boolean): Workload[] {
  const [nTrue, nShort, nLong] = quick ? [1000, 200, 20] : [10000, 2000, 200];
  return [
    {
      id: "true",
      title: `${fmtCount(nTrue)} × true`,
      tasks: nTrue,
      cmd: ["true"],
      workerCpus: [2],
      netfs: false,
    },
    {
      id: "sleep10ms",
      title: `${fmtCount(nShort)} × 10 ms`,
      tasks: nShort,
      cmd: ["sleep", "0.01"],
      workerCpus: [2],
      netfs: false,
    },
    {
      id: "sleep1s",
      title: `${fmtCount(nLong)} × 1 s, 2 workers`,
      tasks: nLong,
      cmd: ["sleep", "1"],
      workerCpus: [1, 1],
      netfs: false,
    },
    {
      id: "netfs",
      title: `${fmtCount(nShort)} × 10 ms, netfs`,
      tasks: nShort,
      cmd: ["sleep", "0.01"],
      workerCpus: [2],
      netfs: true,
    },
  ];
}

let active: { root: string; slurm?: SlurmCluster } | undefined;

/** Stops what a {@link runSuite} in progress started (for signal handlers); idempotent. */
export async function stopSuite(): Promise<void> {
  const a = active;
  active = undefined;
  if (!a) return;
  await stopAll();
  await a.slurm?.stop().catch(() => {});
  await Deno.remove(a.root, { recursive: true }).catch(() => {});
}

/** Runs one tool on one workload in fresh folders; a failure becomes a skipped record. */
async function attempt(
  tool: string,
  w: Workload,
  root: string,
  log: (m: string) => void,
  f: (opts: PeerRunOptions) => Promise<RunRecord>,
  timeoutMs: number,
): Promise<RunRecord> {
  const dir = `${root}/${w.id}-${tool.replace(/\W+/g, "_")}`;
  const opts = { cwd: `${dir}/cwd`, meta: `${dir}/meta`, timeoutMs };
  await Deno.mkdir(opts.cwd, { recursive: true });
  await Deno.mkdir(opts.meta, { recursive: true });
  log(`${tool} on ${w.title}`);
  try {
    const r = await f(opts);
    const ms = r.makespanMs ?? NaN;
    log(
      `${tool} on ${w.title}: ${(ms / 1000).toFixed(2)} s${
        r.estimated ? ` (${r.tasks} tasks)` : ""
      }`,
    );
    return r;
  } catch (e) {
    log(`${tool} on ${w.title} failed: ${e}`);
    const why = String(e instanceof Error ? e.message : e).split("\n")[0]!.slice(0, 160);
    return { tool, workload: w.id, tasks: w.tasks, skipped: `failed: ${why}` };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** This project with the server directory on view A (server, client) and the worker on B. */
async function runHqNetfs(
  w: Workload,
  views: { a: string; b: string },
  local: string,
): Promise<RunRecord> {
  const name = `hq-suite-${Deno.pid}-${nowMs().toFixed(0)}`;
  await Deno.mkdir(`${views.a}/${name}`);
  try {
    return await runHq(w, {
      serverDir: `${views.a}/${name}/sd`,
      workerServerDir: `${views.b}/${name}/sd`,
      local,
      pollOnly: true,
    });
  } finally {
    await Deno.remove(`${views.a}/${name}`, { recursive: true }).catch(() => {});
  }
}

/** Runs every workload on every tool; returns the records in table order. */
async function runAll(
  workloads: Workload[],
  root: string,
  opts: SuiteOptions,
  log: (m: string) => void,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  const peers = await preparePeers(log);
  const slurm = await startSlurm(log);
  if (typeof slurm !== "string") active!.slurm = slurm;
  const timeoutMs = opts.quick ? 180_000 : 900_000;
  const slurmCap = opts.quick ? 20 : 200;
  const skip = (tool: string, w: Workload, why: string) =>
    records.push({ tool, workload: w.id, tasks: w.tasks, skipped: why });
  for (const w of workloads) {
    const go = async (tool: string, f: (o: PeerRunOptions) => Promise<RunRecord>) =>
      records.push(await attempt(tool, w, root, log, f, timeoutMs));
    if (w.netfs) {
      const views = opts.netfs ?? "no netfs views";
      // bench/main.ts words its reason "skipped (why)".
      if (typeof views === "string") skip(TOOL.hq, w, views.replace(/^skipped \((.*)\)$/, "$1"));
      else {
        await go(TOOL.xargs, (o) => runXargs(w, o));
        await go(TOOL.hq, (o) => runHqNetfs(w, views, o.cwd));
      }
      continue;
    }
    await go(TOOL.xargs, (o) => runXargs(w, o));
    const local = (o: PeerRunOptions) => ({
      serverDir: `${o.meta}/sd`,
      workerServerDir: `${o.meta}/sd`,
      local: o.cwd,
      pollOnly: false,
    });
    await go(TOOL.hq, (o) => runHq(w, local(o)));
    if (peers.parallel === true) await go(TOOL.parallel, (o) => runParallel(w, o));
    else skip(TOOL.parallel, w, peers.parallel);
    const dask = peers.dask;
    if (typeof dask === "string") skip(TOOL.dask, w, dask);
    else await go(TOOL.dask, (o) => runDask(w, dask.python, o));
    if (typeof slurm === "string") skip(TOOL.slurm, w, slurm);
    else await go(TOOL.slurm, (o) => runSlurmArray(w, slurm, slurmCap, o));
  }
  const order: string[] = Object.values(TOOL);
  return records.sort((a, b) =>
    workloads.findIndex((w) => w.id === a.workload) -
      workloads.findIndex((w) => w.id === b.workload) ||
    order.indexOf(a.tool) - order.indexOf(b.tool)
  );
}

/** Writes the table, the records and the plots to {@link RESULTS_DIR}; returns the file names. */
async function writeResults(
  workloads: Workload[],
  records: RunRecord[],
  table: string,
): Promise<string[]> {
  await Deno.mkdir(RESULTS_DIR, { recursive: true });
  // Plots of an earlier run (a workload skipped now) must not pass for this run's.
  for await (const e of Deno.readDir(RESULTS_DIR)) {
    if (e.isFile && e.name.endsWith(".svg")) await Deno.remove(`${RESULTS_DIR}/${e.name}`);
  }
  const tools: string[] = Object.values(TOOL);
  const files: [string, string][] = [
    ["table.md", `${table}\n`],
    ["records.json", `${JSON.stringify({ workloads, records }, null, 1)}\n`],
    ["makespan.svg", await renderSvg(makespanSpec(workloads, records, tools))],
  ];
  for (const w of workloads) {
    if (records.some((r) => r.workload === w.id && r.progress)) {
      files.push([`progress_${w.id}.svg`, await renderSvg(progressSpec(w, records, tools))]);
    }
  }
  for (const [name, text] of files) await Deno.writeTextFile(`${RESULTS_DIR}/${name}`, text);
  return files.map(([n]) => n);
}

/** Runs the suite; returns its markdown section (also written to `bench/results/table.md`). */
export async function runSuite(opts: SuiteOptions = {}): Promise<string> {
  const log = opts.log ?? ((m: string) => console.error(`[suite] ${m}`));
  const workloads = suiteWorkloads(opts.quick ?? false);
  const root = await Deno.makeTempDir({ prefix: "hq-bench-suite-" });
  active = { root };
  const t0 = nowMs();
  let records: RunRecord[];
  try {
    records = await runAll(workloads, root, opts, log);
  } finally {
    await stopSuite();
  }
  const minutes = ((nowMs() - t0) / 60000).toFixed(1);
  const table =
    `### This project next to xargs, GNU parallel, Dask and SLURM arrays${
      opts.quick ? " (`--quick`)" : ""
    }\n\n` +
    `${navigator.hardwareConcurrency} CPUs; parallelism 2 everywhere; task output discarded; ` +
    `makespans exclude starting servers, workers and clusters; suite took ${minutes} min.\n\n` +
    renderSuiteTable(workloads, records);
  const files = await writeResults(workloads, records, table);
  return `${table}\n\nWritten to bench/results/: ${files.join(", ")}.`;
}

if (import.meta.main) {
  let netfs: NetfsViews = "no netfs views (HQ_TEST_NETFS_A/B, or --netfs as root)";
  let netfsState: string | undefined;
  const stopNetfs = async () => {
    const state = netfsState;
    netfsState = undefined;
    if (!state) return;
    await run("bash", [`${REPO_ROOT}tools/netfs.sh`, "stop", state]).catch(() => {});
    await Deno.remove(state, { recursive: true }).catch(() => {});
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(sig, () => {
      stopSuite().then(stopNetfs).finally(() => Deno.exit(130));
    });
  }
  const a = Deno.env.get("HQ_TEST_NETFS_A");
  const b = Deno.env.get("HQ_TEST_NETFS_B");
  try {
    if (a && b) netfs = { a, b };
    else if (Deno.args.includes("--netfs") && Deno.uid() === 0) {
      netfsState = await Deno.makeTempDir({ prefix: "hq-bench-suite-nfs-" });
      const out = await run("bash", [`${REPO_ROOT}tools/netfs.sh`, "start", netfsState]);
      const va = /NETFS_A=(.*)/.exec(out)?.[1]?.trim();
      const vb = /NETFS_B=(.*)/.exec(out)?.[1]?.trim();
      netfs = va && vb ? { a: va, b: vb } : `unexpected netfs.sh output: ${out}`;
    }
    console.log(await runSuite({ quick: Deno.args.includes("--quick"), netfs }));
  } finally {
    await stopNetfs();
  }
}
