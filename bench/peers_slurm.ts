/**
 * SLURM job arrays as a peer of the comparison suite (`suite.ts`): the workload as one
 * `sbatch --array=1-K%P` (P at once, one CPU each) on a single-node SLURM, either the caller's
 * (`SLURM_CONF` that answers `scontrol ping`) or one started here with `tools/slurm.sh` (root).
 *
 * SLURM starts array tasks in scheduling passes, about one task per slot per second here, so
 * large workloads run only their first K tasks (the cap) and the makespan is scaled up to the
 * whole workload (marked `~` in the table). Tasks finished over time come from polling
 * `squeue`. The server numbers are slurmctld's: its CPU seconds during the run, its peak
 * memory, and its `StateSaveLocation` (SLURM's durable state) as the journal.
 *
 * @module
 */
import { nowMs, REPO_ROOT, sleep } from "./_util.ts";
import { filesCreatedSince, listFiles, readProcUsage, treeBytes } from "./_procfs.ts";
import { type RunRecord, thinProgress, type Workload } from "./_suite_table.ts";
import { parallelism, type PeerRunOptions, TOOL } from "./peers.ts";

/** A SLURM to submit to. */
export interface SlurmCluster {
  /** Pid of slurmctld, when its pid file could be read. */
  ctldPid?: number;
  /** Its `StateSaveLocation`, when known. */
  stateSave?: string;
  /** Stops it when it was started here; a no-op for the caller's. */
  stop(): Promise<void>;
}

/** Highest array index SLURM accepts by default (`MaxArraySize=1001`). */
const MAX_ARRAY = 1000;
const TERMINAL_REGEXP =
  /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)/;

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string }> {
  try {
    const o = await new Deno.Command(cmd, { args, stdin: "null" }).output();
    const dec = new TextDecoder();
    return { ok: o.success, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
  } catch (e) {
    return { ok: false, out: "", err: String(e) };
  }
}

/** slurmctld's pid and state folder, from `scontrol show config`. */
async function describe(): Promise<{ ctldPid?: number; stateSave?: string }> {
  const conf = (await sh("scontrol", ["show", "config"])).out;
  const field = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S+)`, "m").exec(conf)?.[1];
  const pidFile = field("SlurmctldPidFile");
  const stateSave = field("StateSaveLocation");
  let ctldPid: number | undefined;
  if (pidFile) {
    const pid = Number((await Deno.readTextFile(pidFile).catch(() => "")).trim());
    if (pid > 0 && readProcUsage(pid)) ctldPid = pid;
  }
  return { ...(ctldPid ? { ctldPid } : {}), ...(stateSave ? { stateSave } : {}) };
}

/**
 * The caller's SLURM when `SLURM_CONF` answers, else one started with `tools/slurm.sh` when
 * running as root; otherwise why there is none.
 */
export async function startSlurm(log: (m: string) => void): Promise<SlurmCluster | string> {
  if (Deno.env.get("SLURM_CONF") && (await sh("scontrol", ["ping"])).ok) {
    return { ...(await describe()), stop: () => Promise.resolve() };
  }
  if (Deno.uid() !== 0) return "no SLURM answers (SLURM_CONF) and starting one needs root";
  const state = await Deno.makeTempDir({ prefix: "hq-bench-peer-slurm-" });
  log(`starting SLURM in ${state}`);
  const started = await sh("bash", [`${REPO_ROOT}tools/slurm.sh`, "start", state]);
  if (!started.ok) {
    await Deno.remove(state, { recursive: true }).catch(() => {});
    const lines = started.err.trim().split("\n").slice(-3).join(" / ");
    return `tools/slurm.sh start failed: ${lines}`;
  }
  const before = Deno.env.get("SLURM_CONF");
  const conf = /^SLURM_CONF=(.*)$/m.exec(started.out)?.[1]?.trim();
  if (!conf) return `tools/slurm.sh printed no SLURM_CONF: ${started.out}`;
  Deno.env.set("SLURM_CONF", conf);
  return {
    ...(await describe()),
    stop: async () => {
      await sh("bash", [`${REPO_ROOT}tools/slurm.sh`, "stop", state]);
      await Deno.remove(state, { recursive: true }).catch(() => {});
      if (before === undefined) Deno.env.delete("SLURM_CONF");
      else Deno.env.set("SLURM_CONF", before);
    },
  };
}

function shellQuote(word: string): string {
  return /^[\w./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Runs the first `min(cap, tasks)` tasks of the workload as one array with P tasks at once, and
 * waits (polling `squeue` every 250 ms) until every one ended.
 */
export async function runSlurmArray(
  w: Workload,
  cluster: SlurmCluster,
  cap: number,
  opts: PeerRunOptions,
): Promise<RunRecord> {
  const k = Math.min(w.tasks, cap, MAX_ARRAY);
  const script = `${opts.meta}/slurm-task.sh`;
  await Deno.writeTextFile(script, `#!/bin/bash\nexec ${w.cmd.map(shellQuote).join(" ")}\n`);
  const counted = [opts.cwd, ...(cluster.stateSave ? [cluster.stateSave] : [])];
  const files0 = await listFiles(counted);
  const cpu0 = cluster.ctldPid ? readProcUsage(cluster.ctldPid)?.cpuS : undefined;
  const t0 = nowMs();
  const sub = await sh("sbatch", [
    "--parsable",
    `--array=1-${k}%${parallelism(w)}`,
    "-c",
    "1",
    "-J",
    `hq-bench-${w.id}`,
    "-o",
    "/dev/null",
    "-e",
    "/dev/null",
    "-D",
    opts.cwd,
    script,
  ]);
  if (!sub.ok) throw new Error(`sbatch failed: ${sub.err.trim()}`);
  const id = sub.out.trim().split(";")[0]!;
  const points: [number, number][] = [[0, 0]];
  let done = 0;
  let failed = 0;
  while (done < k) {
    if (nowMs() - t0 > opts.timeoutMs) {
      await sh("scancel", [id]);
      throw new Error(`SLURM array ${id} timed out after ${Math.round(opts.timeoutMs / 1000)} s`);
    }
    await sleep(250);
    const q = await sh("squeue", ["-h", "-r", "-t", "all", "-j", id, "-o", "%T"]);
    if (!q.ok) continue;
    const states = q.out.split("\n").filter((s) => TERMINAL_REGEXP.test(s));
    done = states.length;
    failed = states.filter((s) => !s.startsWith("COMPLETED")).length;
    points.push([nowMs() - t0, done]);
  }
  const makespanMs = nowMs() - t0;
  if (failed > 0) throw new Error(`SLURM array ${id}: ${failed} of ${k} tasks did not complete`);
  const usage = cluster.ctldPid ? readProcUsage(cluster.ctldPid) : undefined;
  return {
    tool: TOOL.slurm,
    workload: w.id,
    tasks: k,
    makespanMs,
    ...(k < w.tasks ? { estimated: true } : {}),
    ...(usage && cpu0 !== undefined ? { serverCpuS: usage.cpuS - cpu0 } : {}),
    ...(usage ? { peakRssBytes: usage.peakRssBytes } : {}),
    ...(cluster.stateSave ? { journalBytes: await treeBytes(cluster.stateSave) } : {}),
    filesCreated: await filesCreatedSince(files0, counted),
    progress: thinProgress(points),
    note: "slurmctld (peak RSS over its life); journal = its StateSaveLocation; " +
      "finished tasks polled with squeue every 250 ms",
  };
}
