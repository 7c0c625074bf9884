/**
 * End-to-end tests of HyperQueue 0.26's exact behaviour: task error texts,
 * worker end states and exit codes, idle timeouts, crash counting.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, pidAlive, type Proc, readOr, sleep, type TaskJson, waitFor } from "./_harness.ts";

/** The exit code of `p`, which must exit within `timeoutMs`. */
async function exitCode(p: Proc, timeoutMs = 15000): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const status = await Promise.race([
      p.status,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${p.name} did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return status.code;
  } finally {
    clearTimeout(timer);
  }
}

/** The `State` cell of each worker row of `hq worker list --all`, by worker id. */
async function workerStates(c: Cluster): Promise<Map<number, string>> {
  const r = await c.hqOk(["worker", "list", "--all"]);
  const states = new Map<number, string>();
  for (const line of r.stdout.split("\n")) {
    const cells = line.split("|").map((s) => s.trim());
    if (cells.length > 3 && /^\d+$/.test(cells[1]!)) states.set(Number(cells[1]), cells[2]!);
  }
  return states;
}

/** Waits until worker `id` shows `state` in `hq worker list --all`. */
async function waitWorkerState(c: Cluster, id: number, state: string, timeoutMs: number) {
  await waitFor(
    async () => (await workerStates(c)).get(id) === state,
    timeoutMs,
    `worker ${id} to show ${state}`,
  );
}

/** The only task of job `job`, once `ok` accepts it. */
async function waitTask(
  c: Cluster,
  job: number,
  ok: (t: TaskJson) => boolean,
  timeoutMs: number,
  what: string,
): Promise<TaskJson> {
  return await waitFor(
    async () => {
      const t = (await c.tasks(job))[0];
      return t && ok(t) ? t : undefined;
    },
    timeoutMs,
    what,
  );
}

/** The state word of a job in `hq job list --all` (`FAILED`, `WAITING`, ...). */
async function jobState(c: Cluster, job: number): Promise<string | undefined> {
  const r = await c.hqOk(["job", "list", "--all"]);
  for (const line of r.stdout.split("\n")) {
    const cells = line.split("|").map((s) => s.trim());
    if (cells[1] === String(job)) return cells[3];
  }
  return undefined;
}

/** SIGKILLs the processes whose pids a task wrote to `file` (orphans of a killed worker). */
async function killPids(file: string): Promise<void> {
  for (const line of ((await readOr(file)) ?? "").split("\n")) {
    const pid = Number(line.trim());
    if (line.trim() === "" || !pidAlive(pid)) continue;
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

Deno.test("e2e: task errors are worded as HyperQueue words them", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const dir = c.workDir;
    await Deno.writeTextFile(join(dir, "test.sh"), "echo hi\n"); // mode 0644
    await Deno.writeTextFile(join(dir, "data.bin"), "x");
    await Deno.writeTextFile(join(dir, "plain"), "echo ran > ran-as-script\n");
    await Deno.chmod(join(dir, "plain"), 0o755);
    await Deno.writeTextFile(join(dir, "local-prog"), "#!/bin/sh\n");
    await Deno.chmod(join(dir, "local-prog"), 0o755);
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4"]);
    await c.waitWorkers(1);

    const cases: [string[], string][] = [
      [["bash", "-c", "exit 1"], "Error: Program terminated with exit code 1."],
      [
        ["bash", "-c", "kill -9 $$"],
        "Error: Program terminated with exit code -1. Received signal 9 (SIGKILL).",
      ],
      [
        ["bash", "-c", "kill -SEGV $$"],
        "Error: Program terminated with exit code -1. Received signal 11 (SIGSEGV).",
      ],
      [
        ["foo", "--bar", "--baz=5"],
        'Error: Cannot execute "foo --bar --baz=5": No such file or directory (os error 2)\n' +
        "The program that you have tried to execute (`foo`) was not found.",
      ],
      [
        ["local-prog", 'say "hi"'],
        'Error: Cannot execute "local-prog say \\"hi\\"": No such file or directory (os error 2)\n' +
        "The program that you have tried to execute (`local-prog`) was not found.\n" +
        `The file \`${dir}/local-prog\` exists, maybe you have meant \`./local-prog\` instead?`,
      ],
      [
        ["./test.sh"],
        'Error: Cannot execute "./test.sh": Permission denied (os error 13)\n' +
        "The script that you have tried to execute (`./test.sh`) is not executable.\n" +
        "Try making it executable or add a shebang line to it.",
      ],
      [
        ["./data.bin", "1"],
        'Error: Cannot execute "./data.bin 1": Permission denied (os error 13)',
      ],
      [["./plain"], 'Error: Cannot execute "./plain": Exec format error (os error 8)'],
    ];
    const jobs: number[] = [];
    for (const [args] of cases) jobs.push(await c.submit(["--", ...args]));
    // The time limit: SIGINT first (the task notes it), SIGKILL a second later.
    const limited = await c.submit([
      "--time-limit",
      "1s",
      "--",
      "bash",
      "-c",
      'trap "echo INT > got-int" INT; while true; do sleep 0.1; done',
    ]);
    const submittedAt = Date.now();
    for (const [i, [args, error]] of cases.entries()) {
      const t = await waitTask(c, jobs[i]!, (t) => t.state === "failed", 20000, args.join(" "));
      assert.equal(t.error, error, `job ${jobs[i]} (${args.join(" ")})`);
    }
    const t = await waitTask(c, limited, (t) => t.state === "failed", 20000, "time limit");
    assert.equal(t.error, "Time limit reached");
    assert.equal(await readOr(join(dir, "got-int")), "INT\n");
    assert.ok(Date.now() - submittedAt < 10000, "the task ended soon after its limit");
    assert.equal(await readOr(join(dir, "ran-as-script")), undefined, "no shell ran ./plain");
    assert.equal(await jobState(c, limited), "FAILED");
  });
});

Deno.test("e2e: the idle timeout waits for a running task, then the worker exits 0", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    // The task runs twice as long as the idle timeout.
    const job = await c.submit(["--", "sleep", "2"]);
    const w = c.startWorker(["--cpus", "1", "--idle-timeout", "1s", "--heartbeat", "500ms"]);
    await waitTask(c, job, (t) => t.state === "running", 10000, "task running");
    await waitFor(() => c.jobFinished(job), 15000, "task finished");
    const finishedAt = Date.now();
    assert.equal((await workerStates(c)).get(1), "RUNNING");
    assert.equal(w.exited, undefined);
    const code = await exitCode(w);
    // The idle clock restarted when the task ended (seen here up to ~0.2 s late).
    assert.ok(Date.now() - finishedAt >= 700, `exited ${Date.now() - finishedAt} ms after`);
    assert.equal(code, 0, "idle timeout exit code");
    assert.equal((await workerStates(c)).get(1), "IDLE TIMEOUT");
    assert.equal((await c.tasks(job))[0]!.state, "finished");
  });
});

Deno.test("e2e: SIGTERM and SIGINT end a worker as CONNECTION LOST with exit 0; its task counts a crash", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const a = c.startWorker(["--cpus", "1", "--heartbeat", "1s"]);
    await c.waitWorkers(1);
    const job = await c.submit(["--", "sleep", "30"]);
    await waitTask(c, job, (t) => t.state === "running", 10000, "task running on worker 1");
    a.kill("SIGTERM");
    assert.equal(await exitCode(a), 0, "worker exit code after SIGTERM");
    await waitWorkerState(c, 1, "CONNECTION LOST", 5000);
    const t = (await c.tasks(job))[0]!;
    assert.equal(t.state, "waiting");
    assert.equal(t.instance, 1);
    assert.equal(t.crash_count, 1);

    const b = c.startWorker(["--cpus", "1", "--heartbeat", "1s"]);
    await waitTask(c, job, (t) => t.state === "running" && t.instance === 1, 15000, "rerun");
    b.kill("SIGINT");
    assert.equal(await exitCode(b), 0, "worker exit code after SIGINT");
    await waitWorkerState(c, 2, "CONNECTION LOST", 5000);
    assert.equal((await c.tasks(job))[0]!.crash_count, 2);
  });
});

Deno.test("e2e: a SIGKILLed worker shows CONNECTION LOST at once; a silent one HEARTBEAT LOST", async () => {
  await using c = await Cluster.create();
  const pids = join(c.workDir, "pids.txt");
  try {
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      // Another display name than the machine's, and a heartbeat far longer than the wait.
      const a = c.startWorker(["--cpus", "1", "--hostname", "elsewhere", "--heartbeat", "30s"]);
      await c.waitWorkers(1);
      const job = await c.submit(["--", "bash", "-c", "echo $$ >> pids.txt; sleep 30"]);
      await waitTask(c, job, (t) => t.state === "running", 10000, "task running");
      a.kill("SIGKILL");
      await a.status;
      await waitWorkerState(c, 1, "CONNECTION LOST", 5000);
      const t = (await c.tasks(job))[0]!;
      assert.deepEqual([t.state, t.instance, t.crash_count], ["waiting", 1, 1]);
      await killPids(pids);

      // A stopped (SIGSTOP) worker lives on but sends nothing: only heartbeats tell.
      const b = c.startWorker(["--cpus", "1", "--heartbeat", "500ms"]);
      await waitTask(c, job, (t) => t.state === "running" && t.instance === 1, 15000, "rerun");
      b.kill("SIGSTOP");
      try {
        await waitWorkerState(c, 2, "HEARTBEAT LOST", 10000);
        const t2 = (await c.tasks(job))[0]!;
        assert.deepEqual([t2.state, t2.instance, t2.crash_count], ["waiting", 2, 2]);
      } finally {
        b.kill("SIGKILL");
      }
      await sleep(500);
      assert.equal((await workerStates(c)).get(2), "HEARTBEAT LOST", "the first reason stays");
    });
  } finally {
    await killPids(pids);
  }
});

Deno.test("e2e: server stop exits 0 and its workers exit 1; worker stop exits 0", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const server = c.startServer();
    await c.waitServerReady();
    const a = c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    const b = c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(2);
    const stop = await c.hq(["worker", "stop", "1"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(await exitCode(a), 0, "hq worker stop exit code");
    assert.equal((await workerStates(c)).get(1), "STOPPED");
    const r = await c.hq(["server", "stop"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exitCode(server), 0, "server exit code");
    assert.equal(await exitCode(b), 1, "worker exit code after server stop");
  });
});

Deno.test("e2e: a worker whose server was killed exits 1 once --server-lost-timeout passed", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const server = c.startServer();
    await c.waitServerReady();
    // HyperQueue's workers end with their server; here they wait for it to come back
    // (5m by default), and a zero timeout gives HyperQueue's behaviour.
    const w = c.startWorker(["--cpus", "1", "--server-lost-timeout", "0s"]);
    await c.waitWorkers(1);
    server.kill("SIGKILL");
    await server.status;
    const killedAt = Date.now();
    assert.equal(await exitCode(w, 20000), 1, "worker exit code");
    assert.ok(Date.now() - killedAt < 10000, "noticed without waiting for a stale lease");
  });
});

Deno.test("e2e: --crash-limit 2 fails the task at its second lost worker; the job is FAILED", async () => {
  await using c = await Cluster.create();
  const pids = join(c.workDir, "pids.txt");
  try {
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      const job = await c.submit([
        "--crash-limit",
        "2",
        "--",
        "bash",
        "-c",
        "echo $$ >> pids.txt; sleep 30",
      ]);
      const a = c.startWorker(["--cpus", "1", "--heartbeat", "1s"]);
      await waitTask(c, job, (t) => t.state === "running", 15000, "task running on worker 1");
      a.kill("SIGTERM");
      await a.status;
      await waitTask(c, job, (t) => t.state === "waiting" && t.crash_count === 1, 5000, "crash 1");
      assert.equal(await jobState(c, job), "WAITING");
      const b = c.startWorker(["--cpus", "1", "--heartbeat", "1s"]);
      await waitTask(c, job, (t) => t.state === "running" && t.instance === 1, 15000, "rerun");
      b.kill("SIGKILL");
      await b.status;
      const t = await waitTask(c, job, (t) => t.state === "failed", 5000, "task failed");
      assert.equal(
        t.error,
        "Task was running on a worker that was lost; the task has occurred 2 times in this situation and limit was reached.",
      );
      assert.equal(t.crash_count, 2);
      assert.equal(await jobState(c, job), "FAILED");
    });
  } finally {
    await killPids(pids);
  }
});

Deno.test("e2e: never-restart fails on any worker loss; numeric limits ignore stops", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2"]);
    await c.waitWorkers(1);
    const never = await c.submit(["--crash-limit", "never-restart", "--", "sleep", "30"]);
    const one = await c.submit(["--crash-limit", "1", "--", "sleep", "1"]);
    for (const job of [never, one]) {
      await waitTask(c, job, (t) => t.state === "running", 15000, `job ${job} running`);
    }
    const stop = await c.hq(["worker", "stop", "1"]);
    assert.equal(stop.code, 0, stop.stderr);
    const t = await waitTask(c, never, (t) => t.state === "failed", 5000, "never-restart failed");
    assert.equal(t.error, "Task was running on a lost worker while never restart flag was set.");
    assert.equal(await jobState(c, never), "FAILED");
    const o = (await c.tasks(one))[0]!;
    assert.deepEqual([o.state, o.instance, o.crash_count], ["waiting", 1, 0]);
    c.startWorker(["--cpus", "1"]);
    await waitFor(() => c.jobFinished(one), 15000, "crash-limit 1 job finished elsewhere");
  });
});
