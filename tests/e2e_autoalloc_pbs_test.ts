/**
 * End-to-end tests of automatic allocation against PBS, played by the
 * OpenPBS stand-ins in `tests/pbs_standin/` (`qsub`, `qstat`, `qdel`,
 * `pbsdsh`; Debian ships no PBS server). They come first on the server's
 * `PATH` and keep their jobs in `$HQ_PBS_STANDIN_DIR` (a directory under the
 * cluster's temp root); `qsub` really runs each job script, so the workers
 * of an allocation really start, join and leave.
 *
 * Every process of a stand-in job carries `HQ_PBS_STANDIN_JOB=<state
 * dir>/jobs/<n>` in its environment: when a test ends (after its server has
 * stopped), whatever still carries its state dir there is killed and fails
 * the test. Needs bash, flock and setsid.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Cluster,
  type QueueJson,
  ROOT,
  waitFor,
  type WorkerAllocJson as WorkerJson,
} from "./_harness.ts";
import { allocations, assertAllocationsIdledOut, FAST_REFRESH } from "./_autoalloc.ts";

/** The stand-in commands. */
const STANDIN = join(ROOT, "tests", "pbs_standin");

const decoder = new TextDecoder();

/** One job of the stand-in's `qstat -f -F json -x`. */
interface PbsJob {
  // deno-lint-ignore camelcase
  Job_Name: string;
  // deno-lint-ignore camelcase
  job_state: string;
  queue: string;
  // deno-lint-ignore camelcase
  Exit_status?: number;
  comment: string;
  // deno-lint-ignore camelcase
  Resource_List: { nodect: number; select: string; walltime?: string };
}

/** One call of a stand-in, from its `calls.log`. */
interface StandinCall {
  program: string;
  cwd: string;
  args: string[];
}

/** The stand-in PBS of one test: its state directory and what it holds. */
class StandinPbs {
  constructor(readonly dir: string) {}

  /** Environment under which the stand-ins serve this state dir. */
  get env(): Record<string, string> {
    return { HQ_PBS_STANDIN_DIR: this.dir, PATH: `${STANDIN}:${Deno.env.get("PATH") ?? ""}` };
  }

  /** Runs a stand-in command (`qsub`, `qstat`, `qdel`) in `cwd` (default: the state dir). */
  async run(
    program: string,
    args: string[],
    cwd = this.dir,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = await new Deno.Command(join(STANDIN, program), {
      args,
      cwd,
      env: this.env,
      stdin: "null",
    }).output();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
    };
  }

  /** Every job the stand-in knows, by id (`qstat -f -F json -x`). */
  async jobs(): Promise<Record<string, PbsJob>> {
    await Deno.mkdir(this.dir, { recursive: true });
    const r = await this.run("qstat", ["-f", "-F", "json", "-x"]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { Jobs?: Record<string, PbsJob> }).Jobs ?? {};
  }

  /** The calls made so far (qstat's own included). */
  async calls(): Promise<StandinCall[]> {
    let text = "";
    try {
      text = await Deno.readTextFile(join(this.dir, "calls.log"));
    } catch {
      return [];
    }
    return text.split("\n").filter((l) => l !== "").map((line) => {
      const [, program = "", cwd = "", args = ""] = line.split("\t");
      return { program, cwd, args: args === "" ? [] : args.split(" ") };
    });
  }

  /** The script a job was submitted with (`qsub` keeps a copy). */
  async script(id: string): Promise<string> {
    return await Deno.readTextFile(join(this.dir, "jobs", id.split(".")[0]!, "script"));
  }

  /** Pids of the processes that still run for one of this state dir's jobs. */
  async livePids(): Promise<number[]> {
    const marker = `HQ_PBS_STANDIN_JOB=${this.dir}/jobs/`;
    const pids: number[] = [];
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      try {
        const env = await Deno.readTextFile(`/proc/${e.name}/environ`);
        if (!env.split("\0").some((v) => v.startsWith(marker))) continue;
        const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
        if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
        pids.push(Number(e.name));
      } catch {
        // gone, or not ours to read
      }
    }
    return pids;
  }

  /**
   * Waits (up to `timeoutMs`) for every job process to end by itself; then
   * SIGKILLs what is left and returns the pids that had to be killed.
   */
  async killLeftovers(timeoutMs = 8000): Promise<number[]> {
    try {
      await waitFor(async () => (await this.livePids()).length === 0, timeoutMs, "job processes");
      return [];
    } catch {
      const left = await this.livePids();
      for (const pid of left) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      return left;
    }
  }
}

/**
 * Runs `fn` on a fresh cluster whose server finds the stand-ins first on its
 * `PATH` (and queries statuses every second). Afterwards the cluster's
 * processes stop; any stand-in job process still alive a few seconds later
 * is killed and fails the test.
 */
async function withPbsCluster(fn: (c: Cluster, pbs: StandinPbs) => Promise<void>): Promise<void> {
  await using c = await Cluster.create();
  const pbs = new StandinPbs(join(c.root, "pbs"));
  let left: number[] = [];
  try {
    c.startServer([], { env: { ...FAST_REFRESH, ...pbs.env } });
    await c.waitServerReady();
    await c.withLogs(() => fn(c, pbs));
  } finally {
    await Promise.all(c.procs.map((p) => p.stop()));
    left = await pbs.killLeftovers();
  }
  if (left.length > 0) throw new Error(`stand-in job processes left running: ${left.join(", ")}`);
}

/** Allocation jobs of queue `queue` (named `hq-<queue>-<n>`) that the stand-in knows. */
async function allocationJobs(pbs: StandinPbs, queue = 1): Promise<[string, PbsJob][]> {
  return Object.entries(await pbs.jobs()).filter(([, j]) =>
    new RegExp(`^hq-${queue}-\\d+$`).test(j.Job_Name)
  );
}

/** Asserts that the only job so far is `alloc add`'s held test job, submitted then deleted. */
async function assertDryRun(pbs: StandinPbs, select: number): Promise<string> {
  const jobs = Object.entries(await pbs.jobs());
  assert.equal(jobs.length, 1, JSON.stringify(jobs));
  const [id, job] = jobs[0]!;
  assert.equal(job.job_state, "F", "the test job was deleted");
  assert.equal(job.Exit_status, undefined, "it never ran");
  assert.match(job.comment, /^Job deleted by /);
  assert.equal(job.Resource_List.nodect, select);
  const script = await pbs.script(id);
  assert.match(script, /^#PBS -h$/m, "the test job is held");
  assert.match(script, new RegExp(`^#PBS -l select=${select}$`, "m"));
  const calls = (await pbs.calls()).filter((k) => k.program !== "qstat");
  assert.deepEqual(calls.map((k) => [k.program, k.args]), [["qsub", ["hq-submit.sh"]], [
    "qdel",
    [id],
  ]]);
  return id;
}

Deno.test("pbs stand-in: qsub runs a job, qstat/qdel answer as OpenPBS does", async () => {
  const root = await Deno.makeTempDir({ prefix: "hq-pbs-standin-" });
  const pbs = new StandinPbs(join(root, "state"));
  let left: number[] = [];
  try {
    const noDir = await new Deno.Command(join(STANDIN, "qsub"), {
      args: ["x.sh"],
      env: { HQ_PBS_STANDIN_DIR: "" },
      stdin: "null",
    }).output();
    assert.equal(noDir.code, 2);
    assert.match(decoder.decode(noDir.stderr), /HQ_PBS_STANDIN_DIR is not set/);

    const script = (lines: string[]) => ["#!/bin/bash", ...lines, ""].join("\n");
    await Deno.writeTextFile(
      join(root, "ok.sh"),
      script(["#PBS -N ok", "#PBS -o out.txt", 'echo "$PBS_JOBID"']),
    );
    await Deno.writeTextFile(
      join(root, "long.sh"),
      script(["#PBS -l select=1", "#PBS -l walltime=00:00:02", "sleep 60"]),
    );
    // Job 3 waits for qdel: its walltime must not end first on a loaded machine.
    await Deno.writeTextFile(
      join(root, "kept.sh"),
      script(["#PBS -l select=1", "#PBS -l walltime=00:05:00", "sleep 60"]),
    );
    await Deno.writeTextFile(join(root, "bad.sh"), script(["#PBS -q nosuchqueue", "true"]));

    const ok = await pbs.run("qsub", ["ok.sh"], root);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "1.standin-server\n");
    const long = await pbs.run("qsub", ["long.sh"], root);
    const kept = await pbs.run("qsub", ["kept.sh"], root);
    const held = await pbs.run("qsub", ["-h", "long.sh"], root);
    assert.deepEqual([long.stdout, kept.stdout, held.stdout], [
      "2.standin-server\n",
      "3.standin-server\n",
      "4.standin-server\n",
    ]);
    const bad = await pbs.run("qsub", ["bad.sh"], root);
    assert.deepEqual([bad.code, bad.stdout, bad.stderr], [170, "", "qsub: Unknown queue\n"]);

    await waitFor(async () => (await pbs.jobs())["1.standin-server"]?.job_state === "F", 5000);
    const unknown = await pbs.run("qstat", [
      "-f",
      "1.standin-server",
      "9.standin-server",
      "-F",
      "json",
      "-x",
    ]);
    assert.equal(unknown.code, 153);
    assert.equal(unknown.stderr, "qstat: Unknown Job Id 9.standin-server\n");
    const shown = JSON.parse(unknown.stdout);
    assert.equal(shown.pbs_server, "standin-server");
    assert.deepEqual(Object.keys(shown.Jobs), ["1.standin-server"]);
    assert.equal(shown.Jobs["1.standin-server"].Exit_status, 0);
    assert.equal(await Deno.readTextFile(join(root, "out.txt")), "1.standin-server\n");

    await waitFor(async () => (await pbs.jobs())["3.standin-server"]?.job_state === "R", 5000);
    assert.equal((await pbs.jobs())["4.standin-server"]?.job_state, "H");
    const del = await pbs.run("qdel", ["3.standin-server", "4", "9.standin-server"]);
    assert.deepEqual([del.code, del.stderr], [153, "qdel: Unknown Job Id 9.standin-server\n"]);
    await waitFor(async () => (await pbs.jobs())["2.standin-server"]?.job_state === "F", 6000);
    const jobs = await pbs.jobs();
    assert.equal(jobs["2.standin-server"]?.Exit_status, -29, "killed at its walltime");
    assert.equal(jobs["3.standin-server"]?.Exit_status, 271, "qdel: 256 + SIGTERM");
    assert.equal(jobs["4.standin-server"]?.job_state, "F");
    assert.equal(jobs["4.standin-server"]?.Exit_status, undefined, "deleted while held");
  } finally {
    left = await pbs.killLeftovers(3000);
    await Deno.remove(root, { recursive: true });
  }
  assert.deepEqual(left, [], "no stand-in job process is left");
});

Deno.test("autoalloc pbs: tasks without workers get an allocation whose worker runs them and leaves", () =>
  withPbsCluster(async (c, pbs) => {
    const add = await c.hqOk([
      "alloc",
      "add",
      "pbs",
      "--time-limit",
      "5m",
      "--idle-timeout",
      "5s",
      "--cpus",
      "2",
      "--",
      "-q",
      "workq",
    ]);
    assert.match(add.stderr, /A trial allocation was submitted successfully/);
    assert.match(add.stderr, /Allocation queue 1 successfully created/);
    const dryRun = await assertDryRun(pbs, 1);
    assert.match(await pbs.script(dryRun), /^#PBS -q workq$/m);
    assert.deepEqual(await c.json(["worker", "list"]), []);

    const job = await c.submit(["--array", "1-20", "--", "bash", "-c", "sleep 0.2"]);
    const [firstId] = await waitFor(
      async () => (await allocationJobs(pbs))[0],
      20_000,
      "an allocation named hq-1-N in qstat",
    );
    const workers = await waitFor(
      async () => {
        const ws = await c.json<WorkerJson[]>(["worker", "list"]);
        return ws.length > 0 ? ws : undefined;
      },
      30_000,
      "a worker of the allocation to join",
    );
    const ids = new Set((await allocationJobs(pbs)).map(([id]) => id));
    for (const w of workers) {
      assert.equal(w.allocation?.manager, "PBS", JSON.stringify(w));
      assert.ok(ids.has(w.allocation.id), `worker's job ${w.allocation.id} is ours`);
    }
    const table = await c.hqOk(["worker", "list"]);
    assert.match(table.stdout, new RegExp(`\\| PBS +\\| ${workers[0]!.allocation!.id} +\\|`));

    // The extra arguments reached qsub, on the script's #PBS line.
    const script = await pbs.script(firstId);
    assert.match(script, /^#PBS -q workq$/m);
    assert.match(script, /^#PBS -N hq-1-1$/m);
    assert.match(script, /^#PBS -l select=1$/m);
    assert.match(script, /^#PBS -l walltime=00:05:00$/m);
    assert.doesNotMatch(script, /^#PBS -h$/m);
    assert.equal((await pbs.jobs())[firstId]?.queue, "workq");

    const wait = await c.hq(["job", "wait", String(job)]);
    assert.equal(wait.code, 0, wait.stderr);
    assert.ok(await c.jobFinished(job), "all 20 tasks finished");

    // Idle for 5 s, the workers leave; then their allocations have ended.
    const ended = await assertAllocationsIdledOut(c, firstId);
    // PBS saw the job scripts end on their own, with exit status 0 (a script ends a moment
    // after its worker left, so wait for that).
    await waitFor(
      async () => (await allocationJobs(pbs)).every(([, j]) => j.job_state === "F"),
      15000,
      "the allocation jobs to end",
    );
    const mine = await allocationJobs(pbs);
    assert.equal(mine.length, ended.length);
    for (const [id, j] of mine) {
      assert.equal(j.job_state, "F", id);
      assert.equal(j.Exit_status, 0, id);
    }
    assert.ok(
      (await pbs.calls()).some((k) => k.program === "qstat" && k.args.includes(firstId)),
      "the server asked qstat about its allocation",
    );
  }));

Deno.test("autoalloc pbs: an unknown queue fails the dry run with qsub's message", () =>
  withPbsCluster(async (c, pbs) => {
    const args = ["alloc", "add", "pbs", "--time-limit", "5m", "--cpus", "1"];
    const bad = await c.hq([...args, "--", "-q", "nosuchqueue"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /qsub: Unknown queue/);
    assert.match(bad.stderr, /Dry-run \(test allocation submission\) has failed/);
    assert.deepEqual(await c.json(["alloc", "list"]), []);
    assert.deepEqual(await pbs.jobs(), {}, "qsub created no job");
    const qsubs = (await pbs.calls()).filter((k) => k.program === "qsub");
    assert.equal(qsubs.length, 1);

    const forced = await c.hqOk([...args, "--no-dry-run", "--", "-q", "nosuchqueue"]);
    assert.match(forced.stderr, /Allocation queue 1 successfully created/);
    const queues = await c.json<QueueJson[]>(["alloc", "list"]);
    assert.equal(queues.length, 1);
    assert.deepEqual(queues[0]!.additional_args, ["-q", "nosuchqueue"]);
  }));

Deno.test("autoalloc pbs: server stop deletes queued and running allocations", () =>
  withPbsCluster(async (c, pbs) => {
    const add = ["alloc", "add", "pbs", "--time-limit", "5m", "--cpus", "1"];
    // Queue 1 runs one worker; queue 2's allocations are held (-h), so they stay queued.
    await c.hqOk([...add, "--max-worker-count", "1"]);
    await c.hqOk([...add, "--", "-h"]);
    await c.submit(["--array", "1-4", "--", "sleep", "60"]);
    const [running, held] = await waitFor(
      async () => {
        const [q1] = await allocations(c, 1);
        const [q2] = await allocations(c, 2);
        if (q1?.status !== "running" || q2 === undefined) return undefined;
        const jobs = await pbs.jobs();
        return jobs[q1.id]?.job_state === "R" && jobs[q2.id]?.job_state === "H"
          ? [q1, q2]
          : undefined;
      },
      30_000,
      "a running allocation of queue 1 and a held one of queue 2",
    );
    await c.waitWorkers(1, 10_000);

    const stop = await c.hq(["server", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    const server = c.procs.find((p) => p.name.startsWith("server"))!;
    await waitFor(() => server.exited !== undefined, 15_000, "the server to exit");

    await waitFor(
      async () => Object.values(await pbs.jobs()).every((j) => j.job_state === "F"),
      15_000,
      "every stand-in job to be finished",
    );
    await waitFor(
      async () => (await pbs.livePids()).length === 0,
      10_000,
      "no stand-in job process left",
    );
    const jobs = await pbs.jobs();
    const qdels = (await pbs.calls()).filter((k) => k.program === "qdel");
    assert.ok(qdels.some((k) => k.args.includes(held!.id)), JSON.stringify(qdels));
    assert.equal(jobs[held!.id]?.Exit_status, undefined, "the held one was deleted, never ran");
    assert.match(jobs[held!.id]?.comment ?? "", /^Job deleted by /);
    // The running one is deleted (271), unless its worker, stopped by the server, ended it first.
    assert.ok(
      [0, 271].includes(jobs[running!.id]?.Exit_status ?? -1),
      JSON.stringify(jobs[running!.id]),
    );
  }));

Deno.test("autoalloc pbs: a 2-node task gets a 2-node allocation, its workers started by pbsdsh", () =>
  withPbsCluster(async (c, pbs) => {
    await c.hqOk([
      "alloc",
      "add",
      "pbs",
      "--time-limit",
      "5m",
      "--idle-timeout",
      "5s",
      "--cpus",
      "1",
      "--max-workers-per-alloc",
      "2",
    ]);
    await assertDryRun(pbs, 2);
    const out = join(c.workDir, "nodes.txt");
    const job = await c.submit([
      "--nodes",
      "2",
      "--",
      "bash",
      "-c",
      `cat "$HQ_NODE_FILE" > ${out}; echo "$HQ_NUM_NODES" >> ${out}`,
    ]);
    const workers = await waitFor(
      async () => {
        const ws = await c.json<WorkerJson[]>(["worker", "list"]);
        return ws.length === 2 ? ws : undefined;
      },
      30_000,
      "the 2 workers of the allocation to join",
    );
    const [id, pbsJob] = (await allocationJobs(pbs))[0]!;
    assert.equal(pbsJob.Resource_List.nodect, 2);
    assert.match(await pbs.script(id), /^pbsdsh -- bash -l -c /m);
    for (const w of workers) assert.deepEqual(w.allocation, { id, manager: "PBS" });

    const wait = await c.hq(["job", "wait", String(job)]);
    assert.equal(wait.code, 0, wait.stderr);
    const lines = (await Deno.readTextFile(out)).trim().split("\n");
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.equal(lines[2], "2");

    await c.waitWorkers(0, 20_000, "the workers to leave after their idle timeout");
    const [alloc] = await waitFor(
      async () => {
        const all = await allocations(c);
        return all.length > 0 && all.every((a) => a.status === "finished") ? all : undefined;
      },
      15_000,
      "the allocation to be FINISHED",
    );
    assert.equal(alloc!.id, id);
    assert.equal(alloc!.target_worker_count, 2);
    // The job script ends a moment after its workers left.
    const ended = await waitFor(
      async () => {
        const j = (await pbs.jobs())[id];
        return j?.job_state === "F" ? j : undefined;
      },
      15_000,
      "the allocation's job to end",
    );
    assert.equal(ended.Exit_status, 0);
  }));
