/**
 * This project on one workload of the comparison suite (`suite.ts`): a fresh server and
 * workers per workload, the tasks as one array with `--stdout none --stderr none`, the makespan
 * from the submit to the end of `job wait`, and the server's numbers read from `/proc` around
 * the run.
 *
 * @module
 */
import { buildSubmit, type HqClient } from "../mod.ts";
import { connect, nowMs, type Proc, sleep, startServer, startWorker } from "./_util.ts";
import { filesCreatedSince, listFiles, readProcUsage, treeBytes } from "./_procfs.ts";
import { progressFromFinishes, type RunRecord, type Workload } from "./_suite_table.ts";
import { TOOL } from "./peers.ts";

/** Where the server directory lives for one run. */
export interface HqPlacement {
  /** The server directory as the server and the client see it. */
  serverDir: string;
  /** The same directory as the workers see it (another network-filesystem view, or the same). */
  workerServerDir: string;
  /** A local folder for the workers' work dirs and the tasks' working directory. */
  local: string;
  /** Poll-only mode for every process (network filesystem). */
  pollOnly: boolean;
}

async function waitWorkers(client: HqClient, n: number, procs: Proc[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const dead = procs.find((p) => p.exited);
    if (dead) throw new Error(`${dead.name} exited early:\n${dead.log.slice(-4000)}`);
    const running = (await client.listWorkers()).filter((w) => w.state === "running");
    if (running.length >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${running.length} of ${n} workers came up`);
    await sleep(50);
  }
}

/** Journal bytes: the `journal/` folder of every instance in the server directory. */
async function journalBytes(serverDir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(serverDir)) {
    if (e.isDirectory) n += await treeBytes(`${serverDir}/${e.name}/journal`);
  }
  return n;
}

function finishTime(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string") return Date.parse(v);
  return undefined;
}

/** Runs the workload on a server and workers started for it; stops them before returning. */
export async function runHq(w: Workload, at: HqPlacement): Promise<RunRecord> {
  const poll = at.pollOnly ? ["--poll-only"] : [];
  const submitDir = `${at.local}/submit`;
  const workDirs = w.workerCpus.map((_, i) => `${at.local}/work-${i}`);
  await Deno.mkdir(submitDir, { recursive: true });
  const server = startServer(`suite server (${w.id})`, at.serverDir, poll);
  const procs: Proc[] = [server];
  let client: HqClient | undefined;
  try {
    client = await connect(at.serverDir, server, at.pollOnly);
    w.workerCpus.forEach((cpus, i) => {
      procs.push(
        startWorker(`suite worker ${i} (${w.id})`, at.workerServerDir, workDirs[i]!, [
          "--cpus",
          String(cpus),
          ...poll,
        ]),
      );
    });
    await waitWorkers(client, w.workerCpus.length, procs);
    const counted = [at.serverDir, ...workDirs, submitDir];
    const files0 = await listFiles(counted);
    const cpu0 = readProcUsage(server.pid)?.cpuS;
    const { job } = buildSubmit(
      { array: `1-${w.tasks}`, stdout: "none", stderr: "none" },
      w.cmd,
      submitDir,
    );
    const t0 = nowMs();
    const id = await client.submit(job);
    const [info] = await client.wait(String(id));
    const makespanMs = nowMs() - t0;
    const usage = readProcUsage(server.pid);
    if (!info || info.task_stats.finished !== w.tasks) {
      throw new Error(`job ${id} did not finish all ${w.tasks} tasks: ${JSON.stringify(info)}`);
    }
    const tasks = (await client.taskList(String(id)))[String(id)] ?? [];
    const finishes = tasks.flatMap((t) => {
      const f = finishTime(t.finished_at);
      return f === undefined ? [] : [f - t0];
    });
    return {
      tool: TOOL.hq,
      workload: w.id,
      tasks: w.tasks,
      makespanMs,
      ...(usage && cpu0 !== undefined ? { serverCpuS: usage.cpuS - cpu0 } : {}),
      ...(usage ? { peakRssBytes: usage.peakRssBytes } : {}),
      journalBytes: await journalBytes(at.serverDir),
      filesCreated: await filesCreatedSince(files0, counted),
      progress: progressFromFinishes(finishes),
      note: "the server process (workers not counted; peak RSS over its life); " +
        "files: new ones left in the server dir, work dirs and submit dir",
    };
  } finally {
    await client?.close().catch(() => {});
    for (const p of procs.reverse()) await p.stop(5000);
  }
}
