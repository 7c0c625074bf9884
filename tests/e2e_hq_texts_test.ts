/**
 * What HyperQueue users read, end to end: the texts of `job info`, `job
 * list`, `task info`, `task explain`, `worker list`/`info`, the per-item
 * lines of `job cancel` and `worker stop`, placeholders as shown and as
 * refused, each asserted as HyperQueue 0.26 prints it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, waitFor } from "./_harness.ts";

/** Rows of a vertical table: name to the lines of its value (continuation lines joined). */
function verticalTable(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  let last: string[] | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith("| ")) continue;
    const cells = line.slice(2, -2).split(" | ").map((c) => c.trimEnd());
    const [name, ...rest] = cells;
    const value = rest.join(" | ");
    if (name!.trim() === "") last?.push(value);
    else rows.set(name!.trim(), last = value === "" ? [] : [value]);
  }
  return rows;
}

/** Data rows of a horizontal table, as cell arrays (header excluded). */
function horizontalRows(text: string): string[][] {
  const lines = text.split("\n").filter((l) => l.startsWith("| "));
  return lines.slice(1).map((l) => l.slice(2, -2).split(" | ").map((c) => c.trim()));
}

/** Stderr lines without their timestamp: `LEVEL message`. */
function logLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l !== "").map((l) => {
    const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (ERROR|WARN|INFO|DEBUG) (.*)$/.exec(l);
    assert.ok(m, `not a log line: ${l}`);
    return `${m[1]} ${m[2]}`;
  });
}

Deno.test("e2e: job list, job info and task info read as HyperQueue's", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2", "--hostname", "w-alpha"]);
    await c.waitWorkers(1);
    await c.submit([
      "--array",
      "1-4",
      "--",
      "bash",
      "-c",
      'test "$HQ_TASK_ID" != 2',
    ]);
    await waitFor(
      async () => {
        const [j] = await c.jobs();
        return j && j.task_stats.finished + j.task_stats.failed === 4;
      },
      15000,
      "job 1 done",
    );

    const list = await c.hqOk(["job", "list"]);
    assert.equal(
      list.stdout.trim().split("\n").at(-1),
      "There is 1 job in total. Use `--all` to display all jobs.",
    );
    assert.deepEqual(horizontalRows(list.stdout), []);
    await c.submit(["--", "true"]);
    await waitFor(() => c.jobFinished(2), 15000, "job 2 finished");
    const list2 = await c.hqOk(["job", "list"]);
    assert.match(list2.stdout, /There are 2 jobs in total\. Use `--all` to display all jobs\.\n$/);
    const all = await c.hqOk(["job", "list", "--all"]);
    assert.deepEqual(horizontalRows(all.stdout), [
      ["1", "bash", "FAILED", "4"],
      ["2", "true", "FINISHED", "1"],
    ]);

    const info = verticalTable((await c.hqOk(["job", "info", "1"])).stdout);
    const state = info.get("State")!;
    assert.match(state[0]!, /^\[[#.]{40}\]$/);
    assert.deepEqual(state.slice(1), ["FAILED (1)", "FINISHED (3)"]);
    assert.deepEqual(info.get("Session"), ["closed"]);
    assert.deepEqual(info.get("Tasks"), ["4; Ids: 1-4"]);
    assert.deepEqual(info.get("Workers"), ["w-alpha"]);
    assert.deepEqual(info.get("Stdout"), [join(c.workDir, "job-1", "%{TASK_ID}.stdout")]);
    assert.deepEqual(info.get("Working directory"), [c.workDir]);
    assert.deepEqual(info.get("Command"), ["bash", "-c", 'test "$HQ_TASK_ID" != 2']);
    assert.match(info.get("Submission date")![0]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const infoText = (await c.hqOk(["job", "info", "1"])).stdout;
    assert.match(infoText, /\| 2 +\| w-alpha \| Error: Program terminated with exit code 1\. \|/);
    assert.match(infoText, /\n1 tasks failed\.\n$/);

    const single = verticalTable((await c.hqOk(["job", "info", "2"])).stdout);
    assert.deepEqual(single.get("State"), ["FINISHED"]);

    const task = verticalTable((await c.hqOk(["task", "info", "1", "3"])).stdout);
    assert.deepEqual(task.get("State"), ["FINISHED"]);
    assert.deepEqual(task.get("Worker"), ["w-alpha"]);
    assert.deepEqual(task.get("Stdout"), [join(c.workDir, "job-1", "3.stdout")]);
    assert.deepEqual(task.get("Workdir"), [c.workDir]);
    assert.match(task.get("Start")![0]!, /^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d$/);

    const missing = await c.hqOk(["job", "info", "1,7"]);
    assert.deepEqual(logLines(missing.stderr), ["ERROR Job 7 not found"]);
  });
});

Deno.test("e2e: job cancel and worker stop report each id as HyperQueue does", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    await c.submit(["--", "true"]);
    await waitFor(() => c.jobFinished(1), 15000, "job 1 finished");
    await c.submit(["--", "sleep", "30"]);
    await c.submit(["--array", "1-2", "--", "sleep", "30"]);
    await waitFor(async () => (await c.tasks(2))[0]?.state === "running", 15000, "job 2 runs");
    const r = await c.hqOk(["job", "cancel", "1-4"]);
    assert.deepEqual(logLines(r.stderr), [
      "ERROR Canceling job 1 failed; all tasks are already finished",
      "INFO Job 2 canceled (1 tasks canceled, 0 tasks already finished)",
      "INFO Job 3 canceled (2 tasks canceled, 0 tasks already finished)",
      "ERROR Canceling job 4 failed; job not found",
    ]);
    assert.equal(r.stdout, "");
    const none = await c.hqOk(["job", "cancel", "all"]);
    assert.deepEqual(logLines(none.stderr), ["INFO There is nothing to cancel"]);
    const json = await c.hqOk(["job", "cancel", "last", "--output-mode", "json"]);
    assert.equal(json.stdout, "{}\n");

    const s1 = await c.hqOk(["worker", "stop", "1"]);
    assert.deepEqual(logLines(s1.stderr), ["INFO Worker 1 stopped"]);
    const s2 = await c.hqOk(["worker", "stop", "1,9"]);
    assert.deepEqual(logLines(s2.stderr), [
      "WARN Stopping worker 1 failed; worker is already stopped",
      "ERROR Stopping worker 9 failed; worker not found",
    ]);
  });
});

Deno.test("e2e: worker list, worker info and task explain read as HyperQueue's", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker([
      "--cpus",
      "[[0],[1,2],[3,4,5]]",
      "--detect-resources",
      "none",
      "--heartbeat",
      "1200ms",
      "--hostname",
      "w-g",
    ]);
    await c.waitWorkers(1);
    c.startWorker([
      "--cpus",
      "10",
      "--detect-resources",
      "none",
      "--hostname",
      "w-ten",
      "--resource",
      "mem=sum(400)",
    ]);
    await c.waitWorkers(2);
    const list = horizontalRows((await c.hqOk(["worker", "list"])).stdout);
    assert.deepEqual(list.map((r) => r.slice(0, 6)), [
      ["1", "RUNNING", "w-g", "cpus 1x1 1x2 1x3", "None", "N/A"],
      ["2", "RUNNING", "w-ten", "cpus 10; mem 400.00 MiB", "None", "N/A"],
    ]);
    const info = verticalTable((await c.hqOk(["worker", "info", "1"])).stdout);
    assert.deepEqual(info.get("Worker"), ["1"]);
    assert.deepEqual(info.get("State"), ["RUNNING"]);
    assert.deepEqual(info.get("Heartbeat"), ["1s 200ms"]);
    assert.deepEqual(info.get("Idle timeout"), ["None"]);
    assert.deepEqual(info.get("Time Limit"), ["None"]);
    assert.deepEqual(info.get("Group"), ["default"]);
    assert.deepEqual(info.get("Resources"), ["cpus: 1x1 1x2 1x3"]);
    assert.deepEqual(info.get("Runtime Info"), ["assigned tasks: 0"]);
    const info2 = verticalTable((await c.hqOk(["worker", "info", "2"])).stdout);
    assert.deepEqual(info2.get("Resources"), ["cpus: 10", "mem: 400.00 MiB"]);

    await c.submit(["--cpus", "20", "--", "true"]);
    const explain = (await c.hqOk(["task", "explain", "1", "0"])).stdout.split("\n");
    assert.equal(explain[0], "Task 1@0 is ready to run because it has no dependencies.");
    assert.equal(explain[1], "There is no worker where the task can run.");
  });
});

Deno.test("e2e: placeholders are shown resolved and bad ones refused in HQ's words", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const bad = await c.hq(["submit", "--cwd", "%{CWD}/x", "--", "true"]);
    assert.equal(bad.code, 1);
    assert.equal(
      bad.stderr,
      "Working directory path cannot contain the working directory placeholder `%{CWD}`.\n",
    );
    const unknown = await c.hq(["submit", "--stdout", "out-%{TASKID}", "--", "true"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "Found unknown placeholder `TASKID` in stdout path\n");
    const warned = await c.hqOk(["submit", "--array", "1-2", "--stdout", "same.out", "--", "true"]);
    assert.deepEqual(logLines(warned.stderr.split("\n")[0]! + "\n"), [
      "WARN You have submitted an array job, but the `stdout` path does not contain the task ID placeholder.",
    ]);
    assert.match(
      warned.stderr,
      /\nIndividual tasks might thus overwrite the file\. Consider adding `%\{TASK_ID\}` to the `--stdout` value\.\n/,
    );

    const uid = (await c.json<{ server_uid: string }>(["server", "info"])).server_uid;
    c.startWorker(["--cpus", "1"]);
    await c.waitWorkers(1);
    await Deno.mkdir(join(c.workDir, "sub-2"));
    await c.submit([
      "--cwd",
      "sub-%{JOB_ID}",
      "--stdout",
      "%{SERVER_UID}-%{TASK_ID}.out",
      "--",
      "true",
    ]);
    await waitFor(() => c.jobFinished(2), 15000, "job 2 finished");
    const info = verticalTable((await c.hqOk(["job", "info", "2"])).stdout);
    assert.deepEqual(info.get("Working directory"), [join(c.workDir, "sub-2")]);
    // A path that still names a task placeholder stays a (relative) template until the task runs.
    assert.deepEqual(info.get("Stdout"), [`${uid}-%{TASK_ID}.out`]);
    const out = join(c.workDir, "sub-2", `${uid}-0.out`);
    await Deno.stat(out);
    const [task] = await c.json<{ cwd: string; stdout: string }[]>(["task", "info", "2", "0"]);
    assert.equal(task!.cwd, join(c.workDir, "sub-2"));
    assert.equal(task!.stdout, out);

    // `%{SUBMIT_DIR}` and `%{CWD}` are filled at submit: `job info` shows them resolved.
    const third = await c.submit([
      "--cwd",
      "%{SUBMIT_DIR}/sub-2",
      "--stdout",
      "%{CWD}/o-%{TASK_ID}.txt",
      "--stderr",
      "%{SUBMIT_DIR}/e-%{JOB_ID}.txt",
      "--",
      "true",
    ]);
    const resolved = verticalTable((await c.hqOk(["job", "info", String(third)])).stdout);
    assert.deepEqual(resolved.get("Working directory"), [join(c.workDir, "sub-2")]);
    assert.deepEqual(resolved.get("Stdout"), [join(c.workDir, "sub-2", "o-%{TASK_ID}.txt")]);
    assert.deepEqual(resolved.get("Stderr"), [join(c.workDir, `e-${third}.txt`)]);
  });
});

Deno.test("e2e: server wait without a server, generate-access and debug-dump", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const t0 = Date.now();
    const wait = await c.hq(["server", "wait", "--timeout", "1s"]);
    assert.equal(wait.code, 1);
    assert.ok(Date.now() - t0 >= 1000, "waited the whole timeout");
    assert.match(wait.stderr, /^Timeout after 1s: Could not connect to server at ".*"/);
    assert.equal(wait.stderr.split("\n").filter((l) => l !== "").length, 1);

    const access = await c.hq([
      "server",
      "generate-access",
      join(c.root, "access.json"),
      "--client-port",
      "6789",
      "--worker-port",
      "1234",
    ]);
    assert.equal(access.code, 0);
    assert.deepEqual(logLines(access.stderr), [
      "WARN server generate-access is not needed: this server uses no network; clients and workers find the server through the server directory alone",
    ]);

    c.startServer(["--host", "login1", "--client-port", "1"]);
    await c.waitServerReady();
    await waitFor(() => /--host is not needed/.test(c.procs[0]!.log), 5000, "network notice");
    assert.match(c.procs[0]!.log, /WARN --client-port is not needed: this server uses no network/);
    await c.submit(["--", "true"]);
    const dump = join(c.root, "dump.json");
    await c.hqOk(["server", "debug-dump", dump]);
    const d = JSON.parse(await Deno.readTextFile(dump));
    assert.ok(d.tako && Array.isArray(d.tako.workers) && Array.isArray(d.tako.classes));
    assert.equal(d.hq.jobs[0].id, 1);
    assert.ok(!JSON.stringify(d).includes('"true"'), "the dump names no command");
  });
});
