/**
 * `hq server start --journal PATH` as HyperQueue users run it: the journal
 * lives at PATH, a restart with the same flag restores the jobs (finished
 * tasks stay finished, unfinished ones run again), a foreign file or a
 * journal another live server writes is refused with one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, readOr, waitFor } from "./_harness.ts";

Deno.test("e2e: a restart with --journal restores jobs: finished stay, unfinished rerun", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const journal = join(c.root, "hq.journal");
    const s1 = c.startServer(["--journal", journal, "--journal-flush-period", "2s"]);
    await c.waitServerReady();
    const info = await c.json<{ journal_path: string }>(["server", "info"]);
    assert.equal(info.journal_path, journal);
    const w1 = c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    await c.submit(["--", "bash", "-c", "echo ran >> ran1.txt"]);
    await waitFor(() => c.jobFinished(1), 15000, "job 1 finished");
    await c.submit([
      "--",
      "bash",
      "-c",
      'echo $HQ_INSTANCE_ID >> inst2.txt; [ "$HQ_INSTANCE_ID" != 0 ] || sleep 60',
    ]);
    await waitFor(async () => (await c.tasks(2))[0]?.state === "running", 15000, "job 2 runs");
    await c.submit(["--", "true"]);
    const stop = await c.hq(["server", "stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await s1.status).code, 0);
    await w1.status;

    // Another server directory, the same journal.
    const sd2 = join(c.root, "sd2");
    c.startServer(["--journal", journal], { serverDir: sd2 });
    await c.waitServerReady(15000, sd2);
    const jobs = await c.jobs({ serverDir: sd2 });
    assert.deepEqual(
      jobs.map((j) => [j.id, j.task_stats.finished, j.task_stats.waiting]),
      [[1, 1, 0], [2, 0, 1], [3, 0, 1]],
    );
    c.startWorker(["--cpus", "1"], { serverDir: sd2 });
    await waitFor(
      async () => {
        const js = await c.jobs({ serverDir: sd2 });
        return js.every((j) => j.task_stats.finished === j.task_count);
      },
      20000,
      "jobs 2 and 3 finished after the restart",
    );
    assert.equal(await readOr(join(c.workDir, "ran1.txt")), "ran\n", "job 1 did not run again");
    assert.equal(await readOr(join(c.workDir, "inst2.txt")), "0\n1\n", "job 2 ran again");
    const next = await c.submit(["--", "true"], { serverDir: sd2 });
    assert.equal(next, 4, "job ids continue");
  });
});

Deno.test("e2e: a killed server's jobs come back from --journal", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const journal = join(c.root, "j");
    const s1 = c.startServer(["--journal", journal]);
    await c.waitServerReady();
    await c.submit(["--array", "1-3", "--", "true"]);
    s1.kill("SIGKILL");
    await s1.status;
    c.startServer(["--journal", journal]);
    await c.waitServerReady();
    const [job] = await c.jobs();
    assert.equal(job?.task_count, 3);
    c.startWorker(["--cpus", "1"]);
    await waitFor(() => c.jobFinished(1), 20000, "job 1 finished after the restart");
  });
});

Deno.test("e2e: --journal refuses a foreign file and a journal a live server writes", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const foreign = join(c.root, "notes.txt");
    await Deno.writeTextFile(foreign, "some notes that are certainly not a journal\n".repeat(3));
    const bad = await c.hq(["server", "start", "--journal", foreign], {
      serverDir: join(c.root, "x"),
    });
    assert.equal(bad.code, 1);
    const lines = bad.stderr.split("\n").filter((l) => l !== "" && !/^\S+Z INFO /.test(l));
    assert.deepEqual(lines, [
      `Cannot open journal "${foreign}": it is not a journal written by this program (no LMDB header)`,
    ]);

    const journal = join(c.root, "shared.journal");
    c.startServer(["--journal", journal]);
    await c.waitServerReady();
    const second = await c.hq(["server", "start", "--journal", journal], {
      serverDir: join(c.root, "y"),
    });
    assert.equal(second.code, 1);
    assert.match(
      second.stderr,
      /Cannot use journal ".*shared\.journal": the server of ".*" \(pid \d+\) writes it\n$/,
    );
    assert.equal(c.procs[0]!.exited, undefined, "the first server still runs");
  });
});
