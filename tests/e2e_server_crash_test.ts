/**
 * A server killed with SIGKILL and started again on the same directory takes
 * over its instance: the workers that kept running reattach with their ids,
 * their tasks run on, results written while no server ran are accepted and
 * nothing that finished runs again. A worker the server declared lost is told
 * and stops its tasks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, pidAlive, type Proc, sleep, waitFor } from "./_harness.ts";

/** Lines of the execution log the tasks append to: `S|E task instance`. */
async function runLog(path: string): Promise<string[][]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "").map((l) =>
      l.split(" ")
    );
  } catch {
    return [];
  }
}

/** A task command that logs its start and end, with its instance, around `sleep seconds`. */
function loggedSleep(log: string, seconds: number): string[] {
  return [
    "bash",
    "-c",
    `echo "S $HQ_TASK_ID $HQ_INSTANCE_ID" >> ${log}; sleep ${seconds}; ` +
    `echo "E $HQ_TASK_ID $HQ_INSTANCE_ID" >> ${log}`,
  ];
}

interface WorkerRow {
  id: number;
  ended: { at: string } | null;
}

async function workers(c: Cluster): Promise<WorkerRow[]> {
  return await c.json<WorkerRow[]>(["worker", "list", "--all"]);
}

async function killServer(server: Proc): Promise<void> {
  server.kill("SIGKILL");
  await server.status;
}

/**
 * A server and one one-cpu worker that waits for a lost server; submits one task that sleeps
 * `seconds` and waits until it started. Returns the server and the job.
 */
async function oneTaskRunning(
  c: Cluster,
  log: string,
  seconds: number,
): Promise<{ server: Proc; job: number }> {
  const server = c.startServer();
  await c.waitServerReady();
  c.startWorker(["--cpus", "1", "--server-lost-timeout", "2m"]);
  await c.waitWorkers(1);
  const job = await c.submit(["--", ...loggedSleep(log, seconds)]);
  await waitFor(async () => (await runLog(log)).length >= 1, 20000, "the task started");
  return { server, job };
}

Deno.test("e2e: after kill -9 and a restart, workers reattach and no finished task runs again", async () => {
  await using c = await Cluster.create();
  const log = join(c.workDir, "run.log");
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    const w = c.startWorker(["--cpus", "2", "--server-lost-timeout", "2m"]);
    await c.waitWorkers(1);
    const job = await c.submit(["--array", "1-6", "--", ...loggedSleep(log, 2)]);
    await waitFor(async () => (await runLog(log)).length >= 2, 20000, "two tasks started");
    await killServer(first);
    // The two running tasks end while no server runs; their results wait in the channel.
    await waitFor(
      async () => (await runLog(log)).filter((l) => l[0] === "E").length >= 2,
      20000,
      "two tasks finished while the server was down",
    );
    await sleep(500);
    c.startServer();
    await c.waitServerReady();
    await c.waitJobComplete(job, 60000);
    assert.ok(await c.jobFinished(job), "the job finished");
    const lines = await runLog(log);
    for (let t = 1; t <= 6; t++) {
      const starts = lines.filter((l) => l[0] === "S" && l[1] === String(t));
      const ends = lines.filter((l) => l[0] === "E" && l[1] === String(t));
      assert.equal(starts.length, 1, `task ${t} started once: ${JSON.stringify(lines)}`);
      assert.equal(ends.length, 1, `task ${t} finished once`);
      assert.equal(starts[0]![2], "0", `task ${t} kept its first instance`);
    }
    assert.ok(pidAlive(w.pid), "the worker process lived through the restart");
    const rows = await workers(c);
    assert.deepEqual(rows.map((r) => [r.id, r.ended]), [[1, null]], "the worker kept its id");
    // A job submitted to the new server runs on the reattached worker.
    const next = await c.submit(["--", "true"]);
    await c.waitJobComplete(next, 20000);
    assert.ok(await c.jobFinished(next));
  });
});

Deno.test("e2e: a task running across a server restart keeps running and its result is accepted", async () => {
  await using c = await Cluster.create();
  const log = join(c.workDir, "run.log");
  await c.withLogs(async () => {
    const { server: first, job } = await oneTaskRunning(c, log, 4);
    await killServer(first);
    await sleep(300);
    c.startServer();
    await c.waitServerReady();
    const tasks = await c.tasks(job);
    assert.equal(tasks[0]?.state, "running", "the restarted server knows the task runs");
    await c.waitJobComplete(job, 30000);
    assert.ok(await c.jobFinished(job));
    assert.deepEqual(await runLog(log), [["S", "0", "0"], ["E", "0", "0"]]);
  });
});

Deno.test("e2e: a worker stopped past its heartbeats is declared lost, told, and kills its task", async () => {
  await using c = await Cluster.create();
  const log = join(c.workDir, "run.log");
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const slow = c.startWorker(["--cpus", "1", "--heartbeat", "1s"]);
    await c.waitWorkers(1);
    const job = await c.submit(["--", ...loggedSleep(log, 6)]);
    await waitFor(async () => (await runLog(log)).length >= 1, 20000, "the task started");
    slow.kill("SIGSTOP");
    await waitFor(
      async () => (await workers(c)).find((r) => r.id === 1)?.ended != null,
      15000,
      "worker 1 declared lost",
    );
    c.startWorker(["--cpus", "1"]);
    slow.kill("SIGCONT");
    const status = await slow.status;
    assert.equal(status.code, 1, "the lost worker exits 1");
    await c.waitJobComplete(job, 30000);
    const lines = await runLog(log);
    const ends = lines.filter((l) => l[0] === "E");
    assert.deepEqual(ends, [["E", "0", "1"]], `only the rerun finished: ${JSON.stringify(lines)}`);
  });
});

Deno.test("e2e: a pending job wait asks a server that took over again and gets its answer", async () => {
  await using c = await Cluster.create();
  const log = join(c.workDir, "run.log");
  await c.withLogs(async () => {
    const { server: first, job } = await oneTaskRunning(c, log, 3);
    const wait = c.hq(["job", "wait", String(job)]);
    await sleep(1000); // the wait is with the server
    await killServer(first);
    c.startServer();
    const r = await wait;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /1 job finished/i);
    assert.deepEqual(await runLog(log), [["S", "0", "0"], ["E", "0", "0"]]);
  });
});
