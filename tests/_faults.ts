/**
 * Fault injection on real processes: one run turns a seed into a scenario
 * ({@link scenarioFor}), runs a workload of short tasks on three workers,
 * kills the server with SIGKILL at a seeded moment (in some runs also kills a
 * worker, freezes one with SIGSTOP, or fills the disk under the server dir),
 * restarts the server on the same directory and checks what survived
 * ({@link runFaultScenario}).
 *
 * Every task appends `S job task instance worker pid` when it starts and
 * `E job task instance worker` when it is done to one log outside the server
 * dir (short `O_APPEND` writes are atomic locally). The log, the server's
 * answers before the kill, right after the restart and at the end decide:
 *
 * - lost jobs: a job acknowledged before the kill is missing afterwards;
 * - lost results: a task finished before the kill that is not finished after
 *   the restart or runs again, a task whose finish a surviving worker saw
 *   (its `E` line) that runs again, or that is not finished at the end;
 * - double finishes: two `E` lines from surviving workers for one task
 *   (a killed worker's orphaned task may finish alongside its rerun);
 * - undone: tasks not finished at the end;
 * - reruns (shown, not failed): tasks started again on a surviving worker
 *   before they ever finished;
 * - workers: every worker not killed on purpose is the same process, alive,
 *   and listed running under its first id.
 *
 * Workers that are gone after the restart are replaced, so the other checks
 * still run when reattachment fails.
 *
 * @module
 */
import { join } from "node:path";
import { Cluster, pidAlive, type Proc, sleep, waitFor } from "./_harness.ts";

/** What goes wrong in a run besides the killed server. */
export type FaultKind = "server" | "worker-kill" | "worker-stop" | "disk-full";

/** One run, fully determined by its seed and task count. */
export interface FaultScenario {
  seed: number;
  kind: FaultKind;
  /** Tasks in all jobs together. */
  tasks: number;
  /** Tasks of a second job submitted just before the kill (0: none). */
  secondJob: number;
  /** Fraction of the first job's tasks done before the second job, the snapshot and the kill. */
  killAt: number;
  /** How long each task sleeps, ms. */
  sleepMs: number;
  /** Time between the kill and the restart, ms. */
  downMs: number;
  /** The worker killed or stopped (index 0..2). */
  victim: number;
  /** worker-kill: delay after the server kill; worker-stop: how long it stays stopped, ms. */
  victimMs: number;
  /** disk-full: how long the full disk is left to the live server before the kill, ms. */
  fullMs: number;
}

/** Outcome of one run: one row of the table. */
export interface FaultRunResult {
  scenario: FaultScenario;
  /** Tasks done (`E` lines) when the server was killed. */
  doneAtKill: number;
  /** From the restart to the server answering, ms. */
  restartMs: number;
  lostJobs: number;
  lostResults: number;
  doubleFinishes: number;
  undone: number;
  reruns: number;
  /** Surviving workers over workers expected to survive, e.g. "3/3". */
  workers: string;
  durationMs: number;
  /** Why the run was not done (a disk-full run where mounting a tmpfs failed). */
  skipped?: string;
  /** Failed checks, each a precise sentence; empty when the run passed. */
  problems: string[];
  /** What is worth knowing but fails nothing (reruns of unfinished tasks, a missing flag). */
  notes: string[];
}

/** Options for {@link runFaultScenario}. */
export interface FaultRunOptions {
  /** Longest wait for all tasks after the restart, ms. @default 60 s + 20 ms per task */
  completionTimeoutMs?: number;
  /** Where to keep the task log and the process logs of the run (`<dir>/seed-N/`). */
  keepDir?: string;
}

/** A small seeded PRNG (mulberry32): floats in [0, 1), equal seeds give equal sequences. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    let t = (state = (state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS: readonly FaultKind[] = ["server", "server", "worker-kill", "worker-stop", "disk-full"];

/** The scenario of `seed` for a workload of `tasks` tasks. */
export function scenarioFor(seed: number, tasks: number): FaultScenario {
  const next = mulberry32(seed * 2654435761);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const kind = KINDS[int(0, KINDS.length - 1)]!;
  return {
    seed,
    kind,
    tasks,
    secondJob: next() < 0.5 ? Math.max(1, Math.round(tasks / 10)) : 0,
    killAt: 0.05 + 0.85 * next(),
    sleepMs: int(5, 40),
    downMs: int(200, 3000),
    victim: int(0, 2),
    victimMs: kind === "worker-stop" ? int(2000, 6000) : int(0, 1000),
    fullMs: int(300, 2000),
  };
}

/** Whether the worker knows `--server-lost-timeout` (until it does, the flag is left out). */
async function workerHasServerLostTimeout(c: Cluster): Promise<boolean> {
  const r = await c.hq(["worker", "start", "--help"], { noServerDir: true });
  return r.stdout.includes("--server-lost-timeout");
}

/** The part of a `task list` entry the checks read. */
type TaskState = { id: number; state: string };

/** One `S` or `E` line of the task log. */
interface LogLine {
  start: boolean;
  /** `job@task`. */
  key: string;
  instance: number;
  worker: number;
  /** Offset of the line in the log. */
  at: number;
}

function parseLog(text: string): LogLine[] {
  const lines: LogLine[] = [];
  let at = 0;
  for (const line of text.split("\n")) {
    const [kind, job, task, instance, worker] = line.split(" ");
    if ((kind === "S" || kind === "E") && worker !== undefined) {
      const key = `${job}@${task}`;
      lines.push({
        start: kind === "S",
        key,
        instance: Number(instance),
        worker: Number(worker),
        at,
      });
    }
    at += line.length + 1;
  }
  return lines;
}

function countEnds(text: string): number {
  let n = text.startsWith("E ") ? 1 : 0;
  for (let i = text.indexOf("\nE "); i >= 0; i = text.indexOf("\nE ", i + 1)) n++;
  return n;
}

async function readLog(path: string): Promise<string> {
  return await Deno.readTextFile(path).catch(() => "");
}

/** `job@task` keys of the finished tasks of `jobs`, from `task list`. */
async function finishedKeys(c: Cluster, jobs: number[]): Promise<Set<string>> {
  const done = new Set<string>();
  for (const job of jobs) {
    const all = await c.json<Record<string, TaskState[]>>(["task", "list", String(job)]);
    for (const t of all[String(job)] ?? []) if (t.state === "finished") done.add(`${job}@${t.id}`);
  }
  return done;
}

/** Worker ids listed running (`worker list`). */
async function runningWorkerIds(c: Cluster): Promise<Set<number>> {
  const list = await c.json<{ id: number; ended: unknown }[]>(["worker", "list"]);
  return new Set(list.filter((w) => w.ended === null || w.ended === undefined).map((w) => w.id));
}

/** The id a worker process registered under first (from its log). */
function firstWorkerId(p: Proc): number | undefined {
  const m = p.log.match(/registered as worker (\d+)/);
  return m ? Number(m[1]) : undefined;
}

/** The last `n` lines a process wrote to stderr (its log lines), joined by " | ". */
function tail(p: Proc, n = 2): string {
  const lines = p.log.split("\n").filter((l) => l.startsWith("[err] "));
  return lines.slice(-n).map((l) => l.slice(6)).join(" | ");
}

async function sh(cmd: string, args: string[]): Promise<{ ok: boolean; err: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
    return { ok: out.success, err: new TextDecoder().decode(out.stderr).trim() };
  } catch (e) {
    return { ok: false, err: (e as Error).message };
  }
}

/** Copies the task log and the process logs of `c` to `dir`. */
async function keep(c: Cluster, dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(join(c.root, "tasks.log"), join(dir, "tasks.log")).catch(() => {});
  for (const p of c.procs) await Deno.writeTextFile(join(dir, `${p.name}.log`), p.log);
}

/** Waits until `server` answers; throws at once with its log if it exits. */
async function serverReady(c: Cluster, server: Proc): Promise<void> {
  await waitFor(
    async () => server.exited || (await c.hq(["server", "info"])).code === 0,
    30_000,
    `${server.name} to answer`,
  );
  if (server.exited) {
    throw new Error(`${server.name} exited with code ${server.exited.code}: ${tail(server)}`);
  }
}

/** Writes to `path` until the filesystem is full. */
async function fillDisk(path: string): Promise<void> {
  const chunk = new Uint8Array(1 << 20).fill(7);
  using f = await Deno.open(path, { write: true, create: true });
  while (await f.write(chunk).catch(() => 0) > 0) {
    // Until ENOSPC.
  }
}

/** What the checks read: the task log and the server's answers. */
interface Evidence {
  /** Tasks finished before the kill, right after the restart, and at the end. */
  before: Set<string>;
  after: Set<string>;
  end: Set<string>;
  lines: LogLine[];
  /** Log offset when the server was killed. */
  killOffset: number;
  /** Id of the worker killed on purpose. */
  killedId: number | undefined;
}

/** Fills the result columns about tasks and adds a problem per failed check. */
function judgeTasks(ev: Evidence, result: FaultRunResult): void {
  const history = new Map<string, string[]>();
  const endsOf = new Map<string, number>();
  /** Worker of each `job@task#instance` start; a start on the killed worker may be reused. */
  const startedAs = new Map<string, number>();
  const sets = {
    unfinished: new Set([...ev.before].filter((k) => !ev.after.has(k))),
    rerunAfterKill: new Set<string>(),
    rerunAfterEnd: new Set<string>(),
    endedNotFinished: new Set<string>(),
    doubles: new Set<string>(),
    sameInstance: new Set<string>(),
    reused: new Set<string>(),
    reruns: new Set<string>(),
  };
  for (const l of ev.lines) {
    const h = history.get(l.key) ?? [];
    history.set(l.key, [...h, `${l.start ? "S" : "E"}${l.instance}/w${l.worker}`]);
    if (!l.start) {
      // A killed worker's orphaned task may end beside its rerun: not counted.
      if (l.worker === ev.killedId) continue;
      endsOf.set(l.key, (endsOf.get(l.key) ?? 0) + 1);
      if (endsOf.get(l.key)! > 1) sets.doubles.add(l.key);
      if (!ev.end.has(l.key)) sets.endedNotFinished.add(l.key);
      continue;
    }
    if (endsOf.has(l.key)) sets.rerunAfterEnd.add(l.key);
    if (l.at >= ev.killOffset && ev.before.has(l.key)) sets.rerunAfterKill.add(l.key);
    const as = `${l.key}#${l.instance}`;
    const prev = startedAs.get(as);
    if (prev !== undefined) {
      const onKilled = prev === ev.killedId || l.worker === ev.killedId;
      (onKilled ? sets.reused : sets.sameInstance).add(l.key);
    }
    startedAs.set(as, l.worker);
    const first = h.find((e) => e.startsWith("S"));
    if (first !== undefined && !first.endsWith(`/w${ev.killedId}`) && !endsOf.has(l.key)) {
      sets.reruns.add(l.key);
    }
  }
  const lost = new Set([
    ...sets.unfinished,
    ...sets.rerunAfterKill,
    ...sets.rerunAfterEnd,
    ...sets.endedNotFinished,
  ]);
  result.lostResults = lost.size;
  result.doubleFinishes = sets.doubles.size;
  result.reruns = sets.reruns.size;
  let explained = false;
  const explain = (keys: Set<string>) => {
    explained = true;
    const some = [...keys].slice(0, 4).map((k) => `${k} [${(history.get(k) ?? []).join(" ")}]`);
    return some.join(", ") + (keys.size > 4 ? `, ... (${keys.size} in all)` : "");
  };
  const checks: [string, Set<string>][] = [
    ["finished before the kill, not finished right after the restart", sets.unfinished],
    ["finished before the kill, started again after it", sets.rerunAfterKill],
    ["done on a surviving worker, then started again", sets.rerunAfterEnd],
    ["done on a surviving worker, not finished at the end", sets.endedNotFinished],
    ["finished twice on surviving workers", sets.doubles],
    ["started twice as the same instance", sets.sameInstance],
    // Its output would land where the killed worker's attempt wrote (%{INSTANCE_ID}).
    ["started by the killed worker, then again under the same instance id", sets.reused],
  ];
  for (const [what, keys] of checks) {
    if (keys.size > 0) result.problems.push(`${what}: ${explain(keys)}`);
  }
  if (sets.reruns.size > 0) {
    result.notes.push(
      `started again on a surviving worker before finishing: ${explain(sets.reruns)}`,
    );
  }
  if (explained) {
    result.notes.push("task histories: S/E<instance>/w<worker id> in log order");
  }
}

/** A run's processes and what it remembers of them. */
interface Run {
  c: Cluster;
  scenario: FaultScenario;
  result: FaultRunResult;
  log: string;
  /** Extra `worker start` arguments. */
  workerArgs: string[];
  workers: Proc[];
  /** First worker id of each worker. */
  ids: Map<Proc, number>;
  jobs: number[];
}

/** Submits the first job, waits for the kill moment, submits the second job. */
async function submitJobs(r: Run): Promise<void> {
  const { c, scenario: s, log } = r;
  const secs = (s.sleepMs / 1000).toFixed(3);
  const script = `echo "S $HQ_JOB_ID $HQ_TASK_ID $HQ_INSTANCE_ID $HQ_WORKER_ID $$" >> ${log}; ` +
    `sleep ${secs}; echo "E $HQ_JOB_ID $HQ_TASK_ID $HQ_INSTANCE_ID $HQ_WORKER_ID" >> ${log}`;
  const quiet = ["--stdout", "none", "--stderr", "none", "--"];
  const submit = (n: number) => c.submit(["--array", `1-${n}`, ...quiet, "bash", "-c", script]);
  r.jobs.push(await submit(s.tasks - s.secondJob));
  const target = Math.floor(s.killAt * (s.tasks - s.secondJob));
  await waitFor(async () => countEnds(await readLog(log)) >= target, 120_000, `${target} tasks`);
  if (s.secondJob > 0) r.jobs.push(await submit(s.secondJob));
}

/** Waits until every job is finished, replacing each first worker that exits. */
async function waitAllFinished(r: Run, timeoutMs: number): Promise<void> {
  const replaced = new Set<Proc>();
  const finished = async () => {
    for (const w of r.workers.filter((w) => w.exited && !replaced.has(w))) {
      replaced.add(w);
      r.c.startWorker(r.workerArgs);
    }
    const list = await r.c.jobs();
    return r.jobs.every((id) => {
      const j = list.find((j) => j.id === id);
      return j !== undefined && j.task_stats.finished === j.task_count;
    });
  };
  await waitFor(finished, timeoutMs, "every task finished")
    .catch((e) => r.result.problems.push((e as Error).message));
}

/** Checks that each worker in `expected` is the same process, alive and listed under its id. */
async function judgeWorkers(r: Run, expected: Proc[]): Promise<void> {
  let running = new Set<number>();
  // A resumed worker may still be on its way back.
  const back = async () => {
    running = await runningWorkerIds(r.c);
    return expected.every((w) => w.exited || running.has(r.ids.get(w)!));
  };
  await waitFor(back, 15_000, "surviving workers listed").catch(() => {});
  let survived = 0;
  for (const w of expected) {
    const id = r.ids.get(w)!;
    const why = w.exited
      ? `exited with code ${w.exited.code}`
      : !pidAlive(w.pid)
      ? "is gone"
      : !running.has(id)
      ? "still runs but is not listed running under its id"
      : undefined;
    if (why === undefined) survived++;
    else r.result.problems.push(`${w.name} (id ${id}, pid ${w.pid}) ${why}; log ends: ${tail(w)}`);
  }
  r.result.workers = `${survived}/${expected.length}`;
}

/** Runs `scenario` on real processes in a throwaway server dir; never throws for a failed check. */
export async function runFaultScenario(
  scenario: FaultScenario,
  opts: FaultRunOptions = {},
): Promise<FaultRunResult> {
  const t0 = Date.now();
  const { kind } = scenario;
  const result: FaultRunResult = {
    scenario,
    doneAtKill: 0,
    restartMs: 0,
    lostJobs: 0,
    lostResults: 0,
    doubleFinishes: 0,
    undone: 0,
    reruns: 0,
    workers: "-",
    durationMs: 0,
    problems: [],
    notes: [],
  };
  const { problems, notes } = result;
  const c = await Cluster.create();
  let mounted = false;
  let stopped: Proc | undefined;
  try {
    if (kind === "disk-full") {
      await Deno.mkdir(c.serverDir);
      const m = await sh("mount", ["-t", "tmpfs", "-o", "size=64m,mode=700", "tmpfs", c.serverDir]);
      if (!m.ok) {
        result.skipped = `cannot mount a tmpfs: ${m.err || "mount failed"}`;
        return result;
      }
      mounted = true;
    }
    const slt = await workerHasServerLostTimeout(c) ? ["--server-lost-timeout", "2m"] : [];
    if (slt.length === 0) notes.push("hq worker start has no --server-lost-timeout: not passed");
    let server = c.startServer();
    await serverReady(c, server);
    const workerArgs = ["--cpus", "2", ...slt];
    const workers = [0, 1, 2].map(() => c.startWorker(workerArgs));
    await waitFor(() => workers.every((w) => firstWorkerId(w) !== undefined), 30_000, "3 workers");
    const ids = new Map(workers.map((w) => [w, firstWorkerId(w)!]));
    const log = join(c.root, "tasks.log");
    const r: Run = { c, scenario, result, log, workerArgs, workers, ids, jobs: [] };
    await submitJobs(r);
    const before = await finishedKeys(c, r.jobs);

    // The faults: a full disk before the kill, a stopped worker across it, a killed one after it.
    if (mounted) {
      await fillDisk(join(c.serverDir, "filler"));
      await sleep(scenario.fullMs);
    }
    const victim = workers[scenario.victim]!;
    if (kind === "worker-stop") {
      victim.kill("SIGSTOP");
      stopped = victim;
    }
    if (server.exited) {
      notes.push(`the server exited by itself (${server.exited.code}): ${tail(server, 2)}`);
    }
    server.kill("SIGKILL");
    await server.status;
    const killedAt = Date.now();
    const killText = await readLog(log);
    result.doneAtKill = countEnds(killText);
    if (kind === "worker-kill") {
      await sleep(Math.min(scenario.victimMs, scenario.downMs));
      victim.kill("SIGKILL");
      await victim.status;
    }
    await sleep(Math.max(0, killedAt + scenario.downMs - Date.now()));
    if (mounted) await Deno.remove(join(c.serverDir, "filler"));

    // The restart.
    const restartedAt = Date.now();
    server = c.startServer();
    await serverReady(c, server);
    result.restartMs = Date.now() - restartedAt;
    const listed = new Set((await c.jobs()).map((j) => j.id));
    const lostJobs = r.jobs.filter((j) => !listed.has(j));
    if (lostJobs.length > 0) problems.push(`jobs lost in the restart: ${lostJobs.join(", ")}`);
    const after = await finishedKeys(c, r.jobs.filter((j) => listed.has(j)));
    if (stopped) {
      await sleep(Math.max(0, killedAt + scenario.victimMs - Date.now()));
      stopped.kill("SIGCONT");
      stopped = undefined;
    }
    await waitAllFinished(r, opts.completionTimeoutMs ?? 60_000 + 20 * scenario.tasks);

    // The verdicts.
    const final = (await c.jobs()).filter((j) => r.jobs.includes(j.id));
    result.lostJobs = r.jobs.length - final.length;
    if (result.lostJobs > lostJobs.length) problems.push("a job vanished after the restart");
    result.undone = scenario.tasks - final.reduce((n, j) => n + j.task_stats.finished, 0);
    if (result.undone > 0) problems.push(`${result.undone} task(s) not finished at the end`);
    judgeTasks({
      before,
      after,
      end: await finishedKeys(c, final.map((j) => j.id)),
      lines: parseLog(await readLog(log)),
      killOffset: killText.length,
      killedId: kind === "worker-kill" ? ids.get(victim) : undefined,
    }, result);
    await judgeWorkers(r, workers.filter((w) => kind !== "worker-kill" || w !== victim));
  } catch (e) {
    problems.push(`run aborted: ${(e as Error).message}`);
  } finally {
    stopped?.kill("SIGCONT");
    await Promise.all(c.procs.map((p) => p.stop()));
    if (opts.keepDir !== undefined) await keep(c, join(opts.keepDir, `seed-${scenario.seed}`));
    if (mounted && !(await sh("umount", [c.serverDir])).ok) await sh("umount", ["-l", c.serverDir]);
    await c[Symbol.asyncDispose]();
    result.durationMs = Date.now() - t0;
  }
  return result;
}

/** Whether a run passed (a skipped run passes). */
export function faultRunOk(r: FaultRunResult): boolean {
  return r.skipped !== undefined || r.problems.length === 0;
}

const COLUMNS = "seed|scenario|tasks|kill@|restart|lost jobs|lost results|double|undone|rerun|" +
  "workers|time|result";
const WIDTHS = [6, 11, 11, 6, 8, 9, 12, 6, 6, 5, 7, 6, 6];

function row(cells: (string | number)[]): string {
  return cells.map((s, i) => String(s).padStart(WIDTHS[i] ?? 0)).join(" ");
}

/** The header of the table of runs (two lines). */
export function faultTableHeader(): string {
  return `${row(COLUMNS.split("|"))}\n${row(WIDTHS.map((w) => "-".repeat(w)))}`;
}

/** One row of the table of runs. */
export function formatFaultRow(r: FaultRunResult): string {
  const s = r.scenario;
  const tasks = s.secondJob > 0 ? `${s.tasks - s.secondJob}+${s.secondJob}` : s.tasks;
  const verdict = r.skipped !== undefined ? "SKIP" : faultRunOk(r) ? "OK" : "FAIL";
  const time = `${(r.durationMs / 1000).toFixed(1)}s`;
  const counts = [r.lostJobs, r.lostResults, r.doubleFinishes, r.undone, r.reruns];
  return row([
    s.seed,
    s.kind,
    tasks,
    r.doneAtKill,
    `${r.restartMs}ms`,
    ...counts,
    r.workers,
    time,
    verdict,
  ]);
}

/** What went wrong in a run (or what is worth noting), with the seed and how to replay it. */
export function formatFaultProblems(r: FaultRunResult): string {
  const s = r.scenario;
  const replay = `replay: deno task faults --seed ${s.seed} --runs 1 --tasks ${s.tasks}`;
  const head = r.skipped !== undefined
    ? `seed ${s.seed} (${s.kind}) skipped: ${r.skipped}`
    : `seed ${s.seed} (${s.kind}) ${faultRunOk(r) ? "passed" : "failed"}; ${replay}`;
  const notes = r.notes.map((n) => `  (note) ${n}`);
  return [head, ...r.problems.map((p) => `  - ${p}`), ...notes].join("\n");
}
