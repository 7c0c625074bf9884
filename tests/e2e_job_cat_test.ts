/**
 * End-to-end test of `hq job cat`: task outputs printed in task order, task
 * headers, stderr, status and id filters, streams set to `none`, tasks that
 * never started, missing files, missing jobs and the JSON-mode error, with
 * HyperQueue's texts (`client/commands/job.rs`, `client/output/cli.rs`,
 * `client/output/json.rs`).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type HqResult } from "./_harness.ts";

/** Asserts a log line `<time> <LEVEL> <message>` is on stderr. */
function assertLogged(r: HqResult, level: string, message: string): void {
  const lines = r.stderr.split("\n");
  assert.ok(
    lines.some((l) => l.endsWith(` ${level} ${message}`)),
    `expected "${level} ${message}" on stderr:\n${r.stderr}`,
  );
}

Deno.test("e2e: job cat prints task outputs with HyperQueue's texts", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();

    const noJobs = await c.hq(["job", "cat", "last", "stdout"]);
    assert.equal(noJobs.code, 0, noJobs.stderr);
    assert.equal(noJobs.stdout, "");
    assertLogged(noJobs, "ERROR", "No jobs were found");

    c.startWorker(["--cpus", "4"]);
    await c.waitWorkers(1);
    const all = await c.submit([
      "--array",
      "1-100",
      "--",
      "bash",
      "-c",
      "echo $HQ_TASK_ID; echo err$HQ_TASK_ID >&2",
    ]);
    const mixed = await c.submit([
      "--array",
      "1-6",
      "--",
      "bash",
      "-c",
      "echo $HQ_TASK_ID; test $((HQ_TASK_ID % 2)) -eq 1",
    ]);
    const none = await c.submit(["--stdout", "none", "--stderr", "none", "--", "echo", "hello"]);
    const never = await c.submit(["--array", "1-2", "--cpus", "64", "--", "echo", "never"]);
    assert.deepEqual([all, mixed, none, never], [1, 2, 3, 4]);
    for (const job of [all, mixed, none]) await c.waitJobComplete(job, 30000);
    await c.hqOk(["job", "cancel", String(never)]);

    // Every task, in task id order.
    const out = await c.hq(["job", "cat", "1", "stdout"]);
    assert.equal(out.code, 0, out.stderr);
    const expected = Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join("");
    assert.equal(out.stdout, expected);

    // `--tasks` with headers.
    const some = await c.hq(["job", "cat", "1", "stdout", "--tasks", "3-5", "--print-task-header"]);
    assert.equal(some.code, 0, some.stderr);
    assert.equal(some.stdout, "# Job 1, task 3\n3\n# Job 1, task 4\n4\n# Job 1, task 5\n5\n");

    // stderr, and `last`.
    const err = await c.hq(["job", "cat", "--tasks", "98-100", "1", "stderr"]);
    assert.equal(err.code, 0, err.stderr);
    assert.equal(err.stdout, "err98\nerr99\nerr100\n");
    const last = await c.hq(["job", "cat", "last", "stdout"]);
    assert.equal(last.code, 0, last.stderr);
    assert.equal(last.stdout, "");
    assertLogged(last, "WARN", "Task 1 has no `stdout` stream associated with it");

    // `--task-status`.
    const failed = await c.hq([
      "job",
      "cat",
      "2",
      "stdout",
      "--task-status",
      "failed",
      "--print-task-header",
    ]);
    assert.equal(failed.code, 0, failed.stderr);
    assert.equal(failed.stdout, "# Job 2, task 2\n2\n# Job 2, task 4\n4\n# Job 2, task 6\n6\n");
    const finished = await c.hq(["job", "cat", "--task-status=finished", "2", "stdout"]);
    assert.equal(finished.stdout, "1\n3\n5\n");
    const both = await c.hq(["job", "cat", "--task-status", "finished,failed", "2", "stdout"]);
    assert.equal(both.stdout, "1\n2\n3\n4\n5\n6\n");
    const nothing = await c.hq([
      "job",
      "cat",
      "2",
      "stdout",
      "--tasks",
      "1,7",
      "--task-status",
      "failed",
    ]);
    assert.equal(nothing.code, 0, nothing.stderr);
    assert.equal(nothing.stdout, "");
    assertLogged(nothing, "WARN", "Task 7 of job 2 not found");
    assertLogged(nothing, "WARN", "No tasks were selected for job 2, there is nothing to print");

    // `--stdout none --stderr none`.
    for (const stream of ["stdout", "stderr"]) {
      const r = await c.hq(["job", "cat", String(none), stream]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "");
      assertLogged(r, "WARN", `Task 0 has no \`${stream}\` stream associated with it`);
    }

    // Tasks canceled before they started have no file either; the header still comes first.
    const unstarted = await c.hq(["job", "cat", String(never), "stdout", "--print-task-header"]);
    assert.equal(unstarted.code, 0, unstarted.stderr);
    assert.equal(unstarted.stdout, "# Job 4, task 1\n# Job 4, task 2\n");
    assertLogged(unstarted, "WARN", "Task 2 has no `stdout` stream associated with it");

    // A file removed after the task ran.
    await Deno.remove(join(c.workDir, "job-1", "1.stdout"));
    const gone = await c.hq(["job", "cat", "1", "stdout", "--tasks", "1-2"]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal(gone.stdout, "2\n");
    assert.match(
      gone.stderr,
      / WARN File at `[^`]*job-1\/1\.stdout` cannot be opened: Os \{ code: 2, kind: NotFound, message: "No such file or directory" \}\n/,
    );

    // Jobs that do not exist.
    const missing = await c.hq(["job", "cat", "4-5", "stdout", "--tasks", "9"]);
    assert.equal(missing.code, 0, missing.stderr);
    assert.equal(missing.stdout, "");
    assertLogged(missing, "WARN", "Task 9 of job 4 not found");
    assertLogged(missing, "ERROR", "Job 5 was not found");

    // JSON mode.
    const json = await c.hq(["job", "cat", "1", "stdout", "--output-mode", "json"]);
    assert.equal(json.code, 1, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      error: "JSON output mode doesn't support job output",
    });

    // Bad arguments are usage errors (exit code 2).
    const bad = await c.hq(["job", "cat", "1", "stdin"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid value 'stdin' for '<STREAM>'/);
  });
});
