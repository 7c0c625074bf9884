// deno-lint-ignore-file camelcase -- HyperQueue's JSON field names
/**
 * Output streaming end to end: `hq submit --stream DIR` puts the output of an array into a
 * few stream files (none per task), `hq output-log DIR summary|jobs|cat|show|export` reads it
 * back, the output of a task whose worker was killed is superseded by its rerun, partial
 * redirection keeps a channel's own file, and (with two network-filesystem views) a worker
 * on view B streams what a reader on view A reads.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { netfsViews, requirement } from "./_env.ts";
import { Cluster, pidAlive, readOr, waitFor } from "./_harness.ts";
import { encodeStreamRecords } from "../lib/stream/mod.ts";

/** Lines task `$HQ_TASK_ID` prints on each channel. */
const PRINTER = 'echo "Hello from $HQ_TASK_ID"; echo "line 2 of $HQ_TASK_ID"; ' +
  'echo "error of $HQ_TASK_ID" >&2';

function expectedStdout(ids: number[]): string {
  return ids.map((t) => `Hello from ${t}\nline 2 of ${t}\n`).join("");
}

async function streamFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

interface SummaryJson {
  filename: string;
  summary: {
    n_files: number;
    n_jobs: number;
    n_tasks: number;
    n_streams: number;
    n_opened: number;
    stdout_size: number;
    stderr_size: number;
    n_superseded: number;
    superseded_stdout_size: number;
    superseded_stderr_size: number;
  };
}

Deno.test("e2e: stream: an array's output lands in stream files and output-log reads it", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2"]);
    // Relative to the submit dir, with the job id filled in by the server.
    const job = await c.submit([
      "--stream",
      "streams-%{JOB_ID}",
      "--array",
      "1-20",
      "--",
      "bash",
      "-c",
      PRINTER,
    ]);
    await c.waitJobComplete(job, 30000);
    assert.ok(await c.jobFinished(job));
    // Streamed channels are HyperQueue's pipe: `<pipe>` in JSON, `<Stream>` in the tables.
    type Stdio = { stdout: string | null; stderr: string | null };
    const [detail] = await c.json<{ submits: { array: { program: Stdio } }[] }[]>(
      ["job", "info", String(job)],
    );
    const program = detail!.submits[0]!.array.program;
    assert.deepEqual([program.stdout, program.stderr], ["<pipe>", "<pipe>"]);
    const [task] = await c.json<Stdio[]>(["task", "info", String(job), "3"]);
    assert.deepEqual([task!.stdout, task!.stderr], ["<pipe>", "<pipe>"]);
    for (const args of [["job", "info", String(job)], ["task", "info", String(job), "3"]]) {
      const text = (await c.hqOk(args)).stdout;
      assert.match(text, /^\| Stdout +\| <Stream> +\|$/m, args.join(" "));
      assert.match(text, /^\| Stderr +\| <Stream> +\|$/m, args.join(" "));
    }
    const dir = join(c.workDir, `streams-${job}`);
    const files = await streamFiles(dir);
    assert.equal(files.length, 1, `one worker, one file: ${files}`);
    assert.match(files[0]!, /^1-[0-9a-f]{12}\.0\.hqs$/);
    assert.equal(await readOr(join(c.workDir, `job-${job}`, "1.stdout")), undefined);

    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    const out = (await c.hqOk(["output-log", dir, "cat", String(job), "stdout"])).stdout;
    assert.equal(out, expectedStdout(ids));
    const err = (await c.hqOk(["output-log", dir, "cat", String(job), "stderr"])).stdout;
    assert.equal(err, ids.map((t) => `error of ${t}\n`).join(""));
    const some = await c.hqOk(["output-log", dir, "cat", String(job), "stdout", "--task", "3-4,2"]);
    assert.equal(some.stdout, expectedStdout([3, 4, 2]));

    const table = (await c.hqOk(["output-log", dir, "summary"])).stdout;
    for (
      const row of [
        /\| Files +\| 1 +\|/,
        /\| Jobs +\| 1 +\|/,
        /\| Tasks +\| 20 +\|/,
        /\| Opened streams +\| 0 +\|/,
        /\| Superseded streams +\| 0 +\|/,
        /\| Superseded stdout\/stderr size +\| 0 B \/ 0 B +\|/,
      ]
    ) assert.match(table, row);
    const summary = await c.json<SummaryJson>(["output-log", dir, "summary"]);
    assert.equal(summary.filename, dir);
    assert.equal(summary.summary.n_tasks, 20);
    assert.equal(summary.summary.stdout_size, new TextEncoder().encode(out).length);
    assert.equal(summary.summary.stderr_size, new TextEncoder().encode(err).length);

    assert.equal((await c.hqOk(["output-log", dir, "jobs"])).stdout, `${job}\n`);

    const shown = (await c.hqOk(["output-log", dir, "show"])).stdout.split("\n");
    for (const t of ids) {
      const id = String(t).padStart(2, "0");
      assert.ok(shown.includes(`${job}.${id}:1> error of ${t}`), `show: ${t}`);
      // A chunk is what one read of the pipe got: both lines, or one of them.
      assert.ok(
        shown.includes(`${job}.${id}:0> Hello from ${t}`),
        `show has task ${t}'s stdout: ${shown.filter((l) => l.startsWith(`${job}.${id}:0`))}`,
      );
    }
    const errOnly = (await c.hqOk(["output-log", dir, "show", "--channel", "stderr"])).stdout;
    assert.equal(errOnly.split("\n").filter((l) => l !== "").length, 20);

    const exported = await c.json<{ id: number; finished: boolean; stdout: string }[]>([
      "output-log",
      dir,
      "export",
      String(job),
      "--task",
      "5,1",
    ]);
    assert.deepEqual(exported.map((e) => [e.id, e.finished, e.stdout]), [
      [5, true, expectedStdout([5])],
      [1, true, expectedStdout([1])],
    ]);

    // A second server writing into the same directory: the reader wants to know which.
    await Deno.writeFile(
      join(dir, "9-000000000000.0.hqs"),
      encodeStreamRecords([
        { k: "header", v: 1, server: "otherServer", worker: 9, part: 0, at: 0 },
        { k: "out", job: 1, task: 1, inst: 0, ch: 0, at: 1, text: "foreign\n" },
      ]),
    );
    const refused = await c.hq(["output-log", dir, "summary"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Found streams from multiple server instances:\n/);
    assert.match(refused.stderr, /otherServer\n/);
    assert.match(refused.stderr, /Use --server-uid=\.\.\. to specify server uid/);
    const foreign = await c.hqOk([
      "output-log",
      "--server-uid",
      "otherServer",
      dir,
      "cat",
      "1",
      "stdout",
      "--allow-unfinished",
    ]);
    assert.equal(foreign.stdout, "foreign\n");
    const unfinished = await c.hq([
      "output-log",
      "--server-uid",
      "otherServer",
      dir,
      "cat",
      "1",
      "stdout",
    ]);
    assert.equal(unfinished.code, 1);
    assert.match(unfinished.stderr, /Stream for task 1 is not finished/);
  });
});

Deno.test("e2e: stream: the output of a task whose worker was killed is superseded", async () => {
  await using c = await Cluster.create();
  const pidFile = join(c.workDir, "pids.txt");
  const killLeftovers = async () => {
    for (const l of ((await readOr(pidFile)) ?? "").split("\n")) {
      const pid = Number(l.trim());
      if (l.trim() && pidAlive(pid)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
    }
  };
  try {
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      const a = c.startWorker(["--cpus", "1"]);
      await c.waitWorkers(1);
      const dir = join(c.workDir, "log");
      const job = await c.submit([
        "--stream",
        dir,
        "--",
        "bash",
        "-c",
        `echo $$ >> ${pidFile}; echo Start; sleep 2; echo "End $HQ_INSTANCE_ID"`,
      ]);
      // The first instance's "Start" is in the stream (the worker writes within ~20 ms).
      await waitFor(
        async () =>
          (await c.hq(["output-log", dir, "cat", String(job), "stdout", "--allow-unfinished"]))
            .stdout === "Start\n",
        20000,
        "the first instance's output",
      );
      a.kill("SIGKILL");
      await a.status;
      await killLeftovers();
      c.startWorker(["--cpus", "1"]);
      await waitFor(() => c.jobFinished(job), 30000, "the rerun finished");
      const out = await c.hqOk(["output-log", dir, "cat", String(job), "stdout"]);
      assert.equal(out.stdout, "Start\nEnd 1\n");
      const s = (await c.json<SummaryJson>(["output-log", dir, "summary"])).summary;
      assert.deepEqual(
        [s.n_files, s.n_tasks, s.n_streams, s.n_opened, s.n_superseded],
        [2, 1, 2, 0, 1],
      );
      assert.equal(s.superseded_stdout_size, 6);
      assert.equal(s.stdout_size, 12);
      const table = (await c.hqOk(["output-log", dir, "summary"])).stdout;
      assert.match(table, /\| Superseded stdout\/stderr size +\| 6 B \/ 0 B +\|/);
      const shown = (await c.hqOk(["output-log", dir, "show"])).stdout;
      assert.equal(shown, `${job}.0:0> Start\n${job}.0:0> End 1\n`);
    });
  } finally {
    await killLeftovers();
  }
});

Deno.test("e2e: stream: partial redirection keeps the channels set by --stdout/--stderr", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2"]);
    const script = "echo Ok; echo Error >&2";
    const noErr = await c.submit(["--stream", "s", "--stderr", "none", "--", "bash", "-c", script]);
    const ownOut = await c.submit([
      "--stream",
      "s",
      "--stdout",
      "task-%{JOB_ID}-%{TASK_ID}-%{INSTANCE_ID}.out",
      "--",
      "bash",
      "-c",
      script,
    ]);
    await c.waitJobComplete(ownOut);
    await c.waitJobComplete(noErr);
    const dir = join(c.workDir, "s");
    const cat = async (job: number, ch: string) =>
      (await c.hqOk(["output-log", dir, "cat", String(job), ch])).stdout;
    assert.equal(await cat(noErr, "stdout"), "Ok\n");
    assert.equal(await cat(noErr, "stderr"), "");
    assert.equal(await cat(ownOut, "stdout"), "");
    assert.equal(await cat(ownOut, "stderr"), "Error\n");
    assert.equal(await readOr(join(c.workDir, `task-${ownOut}-0-0.out`)), "Ok\n");
    const shown = (await c.hqOk(["output-log", dir, "show", "--job", String(ownOut)])).stdout;
    assert.equal(shown, `${ownOut}.0:1> Error\n`);
  });
});

const netfs = requirement(
  netfsViews() !== undefined,
  "two sshfs views (HQ_TEST_NETFS_A/B; tools/netfs.sh start)",
);

Deno.test({
  name: "e2e: stream: netfs: a view-B worker streams what output-log reads on view A",
  ignore: netfs.ignore,
  fn: async () => {
    netfs.check();
    await using c = await Cluster.create({ netfs: true });
    const views = netfsViews()!;
    await c.withLogs(async () => {
      c.startServer(["--poll-only"]);
      await c.waitServerReady(30000);
      c.startWorker(["--cpus", "2", "--poll-only"], { view: "b" });
      await c.waitWorkers(1, 60000, "worker registration");
      // The stream dir as the worker (view B) sees it; the reader uses view A.
      const dirA = join(c.workDir, "stream");
      const dirB = views.b + dirA.slice(views.a.length);
      const job = await c.submit([
        "--stream",
        dirB,
        "--array",
        "1-20",
        "--",
        "bash",
        "-c",
        PRINTER,
      ]);
      await waitFor(() => c.jobFinished(job), 60000, "20 tasks finished");
      // Finished means synced: a reader on the other view sees all of it at once.
      const out = await c.hqOk(["output-log", dirA, "cat", String(job), "stdout"]);
      assert.equal(out.stdout, expectedStdout(Array.from({ length: 20 }, (_, i) => i + 1)));
      const s = (await c.json<SummaryJson>(["output-log", dirA, "summary"])).summary;
      assert.deepEqual([s.n_tasks, s.n_opened, s.n_superseded], [20, 0, 0]);
    });
  },
});
