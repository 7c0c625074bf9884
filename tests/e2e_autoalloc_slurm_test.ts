/**
 * End-to-end tests of automatic allocation against a real single-node SLURM
 * (`tools/slurm.sh start DIR`, with its `SLURM_CONF` exported and
 * `HQ_TEST_SLURM=1`; skipped otherwise, failed under `HQ_TEST_REQUIRE_ALL=1`).
 * A real server submits real allocations with `sbatch`, their workers join
 * through the server directory, and `hq alloc ...` reports what happened.
 *
 * Every SLURM job a test causes runs in a directory under its cluster's temp
 * root (allocations and dry runs live in the server directory), so a test
 * finds its own jobs by their work directory, and cancels what is left of
 * them by id when it ends, after its server has stopped (so nothing submits
 * behind the cancel). Jobs of other users of the same SLURM are never
 * touched.
 */
import assert from "node:assert/strict";
import {
  Cluster,
  type QueueJson,
  waitFor,
  type WorkerAllocJson as WorkerJson,
} from "./_harness.ts";
import { requirement, slurmAvailable } from "./_env.ts";
import { allocations, assertAllocationsIdledOut, FAST_REFRESH } from "./_autoalloc.ts";

const req = requirement(slurmAvailable(), "a running single-node SLURM (tools/slurm.sh start)");

const decoder = new TextDecoder();

/** SLURM job states after which nothing of the job runs or waits any more. */
const ENDED_STATES = new Set([
  "BOOT_FAIL",
  "CANCELLED",
  "COMPLETED",
  "DEADLINE",
  "FAILED",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "TIMEOUT",
]);

/** One line of `squeue -t all`. */
interface SlurmJob {
  id: string;
  name: string;
  state: string;
  workDir: string;
}

/** `alloc explain --output-mode json`. */
interface AllocExplainJson {
  // deno-lint-ignore camelcase
  queue_id: number;
  state: string;
  // deno-lint-ignore camelcase
  pause_reason: string | null;
  demand: unknown[];
  // deno-lint-ignore camelcase
  wanted_workers: number;
  submit: number[];
  limits: string[];
}

/** Runs a SLURM client command; resolves with its exit code and decoded output. */
async function slurm(
  cmd: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/** SLURM jobs (any state) whose work directory lies under `root`: those of one cluster. */
async function jobsUnder(root: string): Promise<SlurmJob[]> {
  const real = await Deno.realPath(root);
  const out = await slurm("squeue", ["-h", "-t", "all", "-o", "%i|%j|%T|%Z"]);
  if (out.code !== 0) throw new Error(`squeue exited ${out.code}: ${out.stderr.trim()}`);
  return out.stdout.split("\n").filter((l) => l !== "").map((line) => {
    const [id = "", name = "", state = "", ...dir] = line.split("|");
    return { id, name, state, workDir: dir.join("|") };
  }).filter((j) => j.workDir === real || j.workDir.startsWith(`${real}/`));
}

function live(jobs: readonly SlurmJob[]): SlurmJob[] {
  return jobs.filter((j) => !ENDED_STATES.has(j.state));
}

/** `scontrol show job <id>` as `Key=value` pairs (values without spaces). */
async function showJob(id: string): Promise<Map<string, string>> {
  const out = await slurm("scontrol", ["show", "job", id]);
  if (out.code !== 0) throw new Error(`scontrol show job ${id}: ${out.stderr.trim()}`);
  const fields = new Map<string, string>();
  for (const m of out.stdout.matchAll(/(?:^|\s)([A-Za-z:/]+)=(\S*)/g)) fields.set(m[1]!, m[2]!);
  return fields;
}

/**
 * Cancels (by id) every job of the cluster rooted at `root` that still waits
 * or runs, and waits until all of them, those already ending (COMPLETING)
 * too, are gone; returns those that had to be cancelled.
 */
async function cancelLeftovers(root: string): Promise<SlurmJob[]> {
  const left = live(await jobsUnder(root)).filter((j) => j.state !== "COMPLETING");
  if (left.length > 0) await slurm("scancel", left.map((j) => j.id));
  try {
    await waitFor(async () => live(await jobsUnder(root)).length === 0, 20_000, "our jobs to end");
  } catch (e) {
    Deno.stderr.writeSync(new TextEncoder().encode(`${(e as Error).message}\n`));
  }
  return left;
}

/**
 * Runs `fn` on a fresh cluster whose server asks SLURM about its allocations
 * every second. Afterwards the cluster's processes stop (a server cancels its
 * allocations as it stops), and its SLURM jobs still waiting or running are
 * cancelled; any such leftover fails the test.
 */
async function withSlurmCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  req.check();
  await using c = await Cluster.create();
  let left: SlurmJob[] = [];
  try {
    c.startServer([], { env: FAST_REFRESH });
    await c.waitServerReady();
    await c.withLogs(() => fn(c));
  } finally {
    await Promise.all(c.procs.map((p) => p.stop()));
    left = await cancelLeftovers(c.root);
  }
  if (left.length > 0) {
    throw new Error(`SLURM jobs left waiting or running: ${JSON.stringify(left)}`);
  }
}

/** Asserts that `r` failed with exactly one line on stderr that matches `message`. */
function assertOneLineError(
  r: { code: number; stdout: string; stderr: string },
  message: RegExp,
  what: string,
): void {
  assert.notEqual(r.code, 0, `${what}: exit code`);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `${what}: one line on stderr, got ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0]!, message, what);
}

Deno.test({
  name:
    "autoalloc slurm: tasks without workers get an allocation whose worker runs them and leaves",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      const add = await c.hqOk([
        "alloc",
        "add",
        "slurm",
        "--time-limit",
        "5m",
        "--idle-timeout",
        "5s",
        "--cpus",
        "2",
        "--",
        "-p",
        "debug",
      ]);
      assert.match(add.stderr, /A trial allocation was submitted successfully/);
      assert.match(add.stderr, /Allocation queue 1 successfully created/);
      assert.deepEqual(await c.json(["worker", "list"]), []);

      const job = await c.submit(["--array", "1-20", "--", "bash", "-c", "sleep 0.2"]);

      const first = await waitFor(
        async () => (await jobsUnder(c.root)).find((j) => /^hq-1-\d+$/.test(j.name)),
        20_000,
        "an allocation named hq-1-N in squeue",
      );
      const workers = await waitFor(
        async () => {
          const ws = await c.json<WorkerJson[]>(["worker", "list"]);
          return ws.length > 0 ? ws : undefined;
        },
        30_000,
        "a worker of the allocation to join",
      );
      const ids = new Set((await jobsUnder(c.root)).map((j) => j.id));
      assert.ok(ids.has(first.id));
      for (const w of workers) {
        assert.equal(w.allocation?.manager, "Slurm", JSON.stringify(w));
        assert.ok(ids.has(w.allocation.id), `worker's job ${w.allocation.id} is ours`);
      }
      const table = await c.hqOk(["worker", "list"]);
      assert.match(table.stdout, new RegExp(`\\| SLURM +\\| ${workers[0]!.allocation!.id} +\\|`));

      const wait = await c.hq(["job", "wait", String(job)]);
      assert.equal(wait.code, 0, wait.stderr);
      assert.ok(await c.jobFinished(job), "all 20 tasks finished");

      // Idle for 5 s, the workers leave; then their allocations have ended.
      const ended = await assertAllocationsIdledOut(c, first.id);
      // SLURM saw the batch scripts end on their own.
      await waitFor(
        async () => {
          const mine = (await jobsUnder(c.root)).filter((j) => /^hq-1-\d+$/.test(j.name));
          return mine.length === ended.length && mine.every((j) => j.state === "COMPLETED");
        },
        15_000,
        "the allocations to be COMPLETED in squeue",
      );
    }),
});

Deno.test({
  name: "autoalloc slurm: arguments after -- reach sbatch",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      await c.hqOk([
        "alloc",
        "add",
        "slurm",
        "--time-limit",
        "5m",
        "--idle-timeout",
        "5s",
        "--cpus",
        "1",
        "--",
        "-p",
        "batch",
        "--comment=hq-e2e-marker",
      ]);
      const job = await c.submit(["--", "true"]);
      const [alloc] = await waitFor(
        async () => {
          const all = await allocations(c);
          return all.length > 0 ? all : undefined;
        },
        20_000,
        "an allocation",
      );
      const fields = await showJob(alloc!.id);
      assert.equal(fields.get("Partition"), "batch");
      assert.equal(fields.get("Comment"), "hq-e2e-marker");
      assert.equal(fields.get("JobName"), "hq-1-1");
      const wait = await c.hq(["job", "wait", String(job)]);
      assert.equal(wait.code, 0, wait.stderr);
    }),
});

Deno.test({
  name: "autoalloc slurm: an unknown partition fails the dry run; --no-dry-run adds the queue",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      const args = ["alloc", "add", "slurm", "--time-limit", "5m", "--cpus", "1"];
      const bad = await c.hq([...args, "--", "-p", "nosuchpartition"]);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid partition specified/i);
      assert.match(bad.stderr, /Dry-run \(test allocation submission\) has failed/);
      assert.deepEqual(await c.json(["alloc", "list"]), []);

      const forced = await c.hqOk([...args, "--no-dry-run", "--", "-p", "nosuchpartition"]);
      assert.match(forced.stderr, /Allocation queue 1 successfully created/);
      const queues = await c.json<QueueJson[]>(["alloc", "list"]);
      assert.equal(queues.length, 1);
      assert.equal(queues[0]!.id, 1);
      assert.deepEqual(queues[0]!.additional_args, ["-p", "nosuchpartition"]);
      assert.deepEqual(await jobsUnder(c.root), [], "no SLURM job was created");
    }),
});

Deno.test({
  name:
    "autoalloc slurm: allocations whose worker cannot start fail, and 3 of them pause the queue",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      await c.hqOk([
        "alloc",
        "add",
        "slurm",
        "--time-limit",
        "5m",
        "--cpus",
        "1",
        "--backlog",
        "3",
        "--worker-start-cmd",
        "false",
      ]);
      await c.submit(["--array", "1-10", "--", "true"]);
      const failed = await waitFor(
        async () => {
          const all = await allocations(c);
          return all.length >= 3 && all.every((a) => a.status === "failed") ? all : undefined;
        },
        30_000,
        "3 FAILED allocations",
      );
      assert.equal(failed.length, 3, JSON.stringify(failed));
      const info = await c.hqOk(["alloc", "info", "1"]);
      assert.equal(info.stdout.match(/\| FAILED +\|/g)?.length, 3, info.stdout);
      // Each says why it failed: SLURM's word on a script that never started a worker.
      for (const line of info.stdout.split("\n").filter((l) => /\| FAILED +\|/.test(l))) {
        assert.match(line, /\| FAILED, exit code 1[^|]*\|$/, line);
      }

      const [queue] = await waitFor(
        async () => {
          const qs = await c.json<QueueJson[]>(["alloc", "list"]);
          return qs[0]?.state === "Paused" ? qs : undefined;
        },
        10_000,
        "the queue to pause itself",
      );
      assert.equal(queue!.id, 1);
      const list = await c.hqOk(["alloc", "list"]);
      assert.match(list.stdout, /\| 1 +\| PAUSED \([^|]*3 allocations/);
      const explain = await c.json<AllocExplainJson>(["alloc", "explain", "1"]);
      assert.equal(explain.state, "paused");
      assert.match(explain.pause_reason ?? "", /3 allocations/);
      assert.deepEqual(explain.submit, []);
      // Paused: nothing more is submitted, though the tasks still wait.
      assert.equal((await jobsUnder(c.root)).filter((j) => /^hq-1-/.test(j.name)).length, 3);
    }),
});

Deno.test({
  name: "autoalloc slurm: server stop cancels queued and running allocations",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      const add = ["alloc", "add", "slurm", "--time-limit", "5m", "--cpus", "1"];
      // Queue 1 runs one worker; queue 2's allocations are held, so they stay queued.
      await c.hqOk([...add, "--max-worker-count", "1", "--", "-p", "debug"]);
      await c.hqOk([...add, "--", "--hold"]);
      await c.submit(["--array", "1-4", "--", "sleep", "60"]);
      const [running, held] = await waitFor(
        async () => {
          const [q1] = await allocations(c, 1);
          const [q2] = await allocations(c, 2);
          if (q1?.status !== "running" || q2 === undefined) return undefined;
          const jobs = await jobsUnder(c.root);
          const state = (id: string) => jobs.find((j) => j.id === id)?.state;
          return state(q1.id) === "RUNNING" && state(q2.id) === "PENDING" ? [q1, q2] : undefined;
        },
        30_000,
        "a running allocation of queue 1 and a pending one of queue 2",
      );
      await c.waitWorkers(1, 10_000);

      const stop = await c.hq(["server", "stop"]);
      assert.equal(stop.code, 0, stop.stderr);
      const server = c.procs.find((p) => p.name.startsWith("server"))!;
      await waitFor(() => server.exited !== undefined, 15_000, "the server to exit");

      await waitFor(
        async () => live(await jobsUnder(c.root)).length === 0,
        15_000,
        "no allocation left waiting or running in squeue",
      );
      const states = new Map((await jobsUnder(c.root)).map((j) => [j.id, j.state]));
      assert.equal(states.get(held!.id), "CANCELLED");
      // The running one is cancelled, unless its worker, stopped by the server, ended it first.
      assert.match(states.get(running!.id) ?? "", /^(CANCELLED|COMPLETED)$/);
    }),
});

Deno.test({
  name: "autoalloc slurm: bad alloc input fails with one line and leaves the server healthy",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      const add = ["alloc", "add", "slurm"];
      const cases: [string[], RegExp][] = [
        [[...add, "--cpus", "1"], /required arguments were not provided: --time-limit/],
        [["alloc", "add", "lsf", "--time-limit", "5m"], /unrecognized subcommand 'lsf'/],
        [[...add, "--time-limit", "soon"], /invalid value 'soon' for '--time-limit/],
        [[...add, "--time-limit", "5m", "--cpus", "x"], /Cannot parse resource "cpus=x"/],
        [[...add, "--time-limit", "5m", "--backlog", "0"], /Backlog has to be at least 1/],
        [
          [...add, "--cpus", "1", "--worker-time-limit", "2h", "--time-limit", "1h"],
          /Worker time limit cannot be larger than queue time limit/,
        ],
        [["alloc", "info", "99"], /Allocation queue 99 not found/],
        [["alloc", "pause", "99"], /Allocation queue 99 not found/],
        [["alloc", "remove", "99"], /Allocation queue 99 not found/],
        [
          [...add, "--time-limit", "5m", "--cpus", "1", "--", "--nodes", "2"],
          /Cannot pass "--nodes" to sbatch/,
        ],
      ];
      for (const [args, message] of cases) {
        assertOneLineError(await c.hq(args), message, `hq ${args.join(" ")}`);
      }
      await c.hqOk(["server", "info"]);
      assert.deepEqual(await c.json(["alloc", "list"]), []);
    }),
});

Deno.test({
  name: "autoalloc slurm: pause, resume, remove and explain of an idle queue",
  ignore: req.ignore,
  fn: () =>
    withSlurmCluster(async (c) => {
      await c.hqOk(["alloc", "add", "slurm", "--time-limit", "5m", "--cpus", "1"]);

      const text = (await c.hqOk(["alloc", "explain", "1"])).stdout;
      assert.match(text, /\| Would submit now +\| nothing +\|/);
      assert.match(text, /\| Limited by +\| no waiting task that a worker of this queue could run/);
      const explain = await c.json<AllocExplainJson>(["alloc", "explain", "1"]);
      assert.equal(explain.queue_id, 1);
      assert.equal(explain.state, "active");
      assert.deepEqual(explain.submit, []);
      assert.deepEqual(explain.demand, []);
      assert.equal(explain.wanted_workers, 0);
      assert.deepEqual(explain.limits, ["no waiting task that a worker of this queue could run"]);

      const pause = await c.hqOk(["alloc", "pause", "1"]);
      assert.match(pause.stderr, /INFO Allocation queue 1 successfully paused/);
      assert.equal((await c.json<QueueJson[]>(["alloc", "list"]))[0]?.state, "Paused");
      assert.match((await c.hqOk(["alloc", "list"])).stdout, /\| 1 +\| PAUSED +\|/);

      const resume = await c.hqOk(["alloc", "resume", "1"]);
      assert.match(resume.stderr, /INFO Allocation queue 1 successfully resumed/);
      assert.equal((await c.json<QueueJson[]>(["alloc", "list"]))[0]?.state, "Active");

      const remove = await c.hqOk(["alloc", "remove", "1"]);
      assert.match(remove.stderr, /INFO Allocation queue 1 successfully removed/);
      assert.deepEqual(await c.json(["alloc", "list"]), []);
      assertOneLineError(
        await c.hq(["alloc", "explain", "1"]),
        /Allocation queue 1 not found/,
        "explain of a removed queue",
      );
    }),
});
