/**
 * Task inputs end to end through the real `hq` CLI: `--each-line` and `--from-json` (with
 * and without `--array`), `--stdin`, `--task-dir` with `HQ_ERROR_FILENAME`, `#HQ`
 * directives, `--time-limit` killing the whole task, `--max-fails` and `--crash-limit`,
 * and resubmitting failed tasks with `job task-ids`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Cluster,
  HQ_TS,
  type JobJson,
  pidAlive,
  ROOT,
  type TaskJson,
  waitFor,
} from "./_harness.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** Prints `<task id>=<entry>` (bash `-c` script for `--each-line` / `--from-json`). */
const ECHO_ENTRY = 'echo "$HQ_TASK_ID=$HQ_ENTRY"';

/** The deno binary the harness runs `hq.ts` with (mirrors its private `denoBin`). */
function denoBin(): string {
  const exe = Deno.execPath();
  return exe.endsWith(" (deleted)") ? join(ROOT, "node_modules", ".bin", "deno") : exe;
}

/** Starts a cluster with a server and one 4-CPU worker, runs `fn`, attaches logs on failure. */
async function withCluster(fn: (c: Cluster) => Promise<void>): Promise<void> {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "4"]);
    await c.waitWorkers(1);
    await fn(c);
  });
}

async function job(c: Cluster, id: number): Promise<JobJson> {
  const found = (await c.jobs()).find((j) => j.id === id);
  if (!found) throw new Error(`job ${id} not listed`);
  return found;
}

/** `task list <job>` in JSON, sorted by task id. */
async function taskList(c: Cluster, id: number): Promise<TaskJson[]> {
  const all = await c.json<Record<string, TaskJson[]>>(["task", "list", String(id)]);
  return (all[String(id)] ?? []).sort((a, b) => a.id - b.id);
}

/** Submits, waits for the job to complete and asserts that every task finished. */
async function submitFinished(c: Cluster, args: string[]): Promise<number> {
  const id = await c.submit(args);
  await c.waitJobComplete(id);
  const j = await job(c, id);
  assert.equal(j.task_stats.finished, j.task_count, `job ${id}: ${JSON.stringify(j)}`);
  return id;
}

/** `hq job cat <id> stdout`. */
async function catStdout(c: Cluster, id: number): Promise<string> {
  return (await c.hqOk(["job", "cat", String(id), "stdout"])).stdout;
}

/** One task's stdout file under the cluster's work dir. */
async function taskStdout(c: Cluster, id: number, task: number): Promise<string> {
  return await Deno.readTextFile(join(c.workDir, `job-${id}`, `${task}.stdout`));
}

Deno.test("e2e: --each-line makes one task per line; --array selects line indices", async () => {
  await withCluster(async (c) => {
    const lines = join(c.workDir, "lines.txt");
    // An empty line is an entry too; no trailing empty entry after the final newline.
    await Deno.writeTextFile(lines, "alpha\nbeta gamma\n\ndelta\n");

    const all = await submitFinished(c, ["--each-line", lines, "--", "bash", "-c", ECHO_ENTRY]);
    assert.equal((await job(c, all)).task_count, 4);
    assert.deepEqual((await taskList(c, all)).map((t) => t.id), [0, 1, 2, 3]);
    assert.equal(await catStdout(c, all), "0=alpha\n1=beta gamma\n2=\n3=delta\n");
    assert.equal(await taskStdout(c, all, 1), "1=beta gamma\n");

    // 7 is past the end of the 4 lines: dropped silently.
    const some = await submitFinished(c, [
      "--each-line",
      lines,
      "--array",
      "1-2,7",
      "--",
      "bash",
      "-c",
      ECHO_ENTRY,
    ]);
    assert.deepEqual((await taskList(c, some)).map((t) => t.id), [1, 2]);
    assert.equal(await catStdout(c, some), "1=beta gamma\n2=\n");
  });
});

Deno.test("e2e: --from-json makes one task per array element, as JSON text", async () => {
  await withCluster(async (c) => {
    const file = join(c.workDir, "entries.json");
    await Deno.writeTextFile(file, '[1, "two", {"x": [1, 2]}, null, [3]]\n');

    const all = await submitFinished(c, ["--from-json", file, "--", "bash", "-c", ECHO_ENTRY]);
    assert.deepEqual((await taskList(c, all)).map((t) => t.id), [0, 1, 2, 3, 4]);
    const out = (await catStdout(c, all)).trimEnd().split("\n");
    assert.equal(out.length, 5, out.join("\n"));
    const parsed = out.map((l) => {
      const eq = l.indexOf("=");
      return [Number(l.slice(0, eq)), JSON.parse(l.slice(eq + 1))];
    });
    assert.deepEqual(parsed, [[0, 1], [1, "two"], [2, { x: [1, 2] }], [3, null], [4, [3]]]);

    const some = await submitFinished(c, [
      "--from-json",
      file,
      "--array",
      "0,2,4-9",
      "--",
      "bash",
      "-c",
      ECHO_ENTRY,
    ]);
    assert.deepEqual((await taskList(c, some)).map((t) => t.id), [0, 2, 4]);
    const someOut = (await catStdout(c, some)).trimEnd().split("\n");
    assert.deepEqual(
      someOut.map((l) => JSON.parse(l.slice(l.indexOf("=") + 1))),
      [1, { x: [1, 2] }, [3]],
    );
  });
});

Deno.test("e2e: --stdin feeds the client's stdin to every task", async () => {
  await withCluster(async (c) => {
    const child = new Deno.Command(denoBin(), {
      args: [
        "run",
        "-A",
        HQ_TS,
        "--server-dir",
        c.serverDir,
        "submit",
        "--stdin",
        "--array",
        "0-1",
        "--",
        "cat",
      ],
      cwd: c.workDir,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { TMPDIR: c.tmpDir },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(encoder.encode("hello\nsecond line\n"));
    await writer.close();
    const out = await child.output();
    const stdout = decoder.decode(out.stdout);
    assert.equal(out.code, 0, `submit --stdin: ${stdout} ${decoder.decode(out.stderr)}`);
    const id = Number(stdout.match(/job ID: (\d+)/)?.[1]);
    assert.ok(id > 0, stdout);
    await c.waitJobComplete(id);
    assert.ok(await c.jobFinished(id));
    assert.equal(await taskStdout(c, id, 0), "hello\nsecond line\n");
    assert.equal(await taskStdout(c, id, 1), "hello\nsecond line\n");
  });
});

Deno.test("e2e: --task-dir gives a temporary HQ_TASK_DIR and HQ_ERROR_FILENAME", async () => {
  await withCluster(async (c) => {
    const script = [
      'echo "$HQ_TASK_DIR"',
      'test -d "$HQ_TASK_DIR" && echo exists',
      'touch "$HQ_TASK_DIR/scratch" && echo writable',
      'echo "$HQ_ERROR_FILENAME"',
      'printf "custom failure text" > "$HQ_ERROR_FILENAME"',
      "exit 1",
    ].join("; ");
    const failing = await c.submit(["--task-dir", "--", "bash", "-c", script]);
    await c.waitJobComplete(failing);
    const [dir, exists, writable, errorFile] = (await taskStdout(c, failing, 0)).split("\n");
    assert.ok(dir && dir.startsWith("/"), `HQ_TASK_DIR is an absolute path: ${dir}`);
    assert.equal(exists, "exists", "HQ_TASK_DIR exists while the task runs");
    assert.equal(writable, "writable");
    assert.ok(errorFile?.startsWith(dir + "/"), `HQ_ERROR_FILENAME ${errorFile} is in ${dir}`);
    await waitFor(
      async () => !(await Deno.stat(dir).then(() => true, () => false)),
      5000,
      `task dir ${dir} removed after the task`,
    );
    const [task] = await taskList(c, failing);
    assert.equal(task?.state, "failed");
    assert.match(String(task?.error), /custom failure text/);
    const verbose = (await c.hqOk(["task", "list", String(failing), "-v"])).stdout;
    assert.match(verbose, /FAILED.*custom failure text/);

    // A task that succeeds: the dir is removed too; without --task-dir nothing is set.
    const ok = await submitFinished(c, [
      "--task-dir",
      "--",
      "bash",
      "-c",
      'test -d "$HQ_TASK_DIR" && echo "$HQ_TASK_DIR"',
    ]);
    const okDir = (await taskStdout(c, ok, 0)).trim();
    assert.ok(okDir.startsWith("/"), okDir);
    assert.notEqual(okDir, dir, "each task gets its own dir");
    await waitFor(
      async () => !(await Deno.stat(okDir).then(() => true, () => false)),
      5000,
      `task dir ${okDir} removed after success`,
    );
    const plain = await submitFinished(c, [
      "--",
      "bash",
      "-c",
      'echo "[${HQ_TASK_DIR-unset}][${HQ_ERROR_FILENAME-unset}]"',
    ]);
    assert.equal(await taskStdout(c, plain, 0), "[unset][unset]\n");
  });
});

Deno.test("e2e: #HQ directives in a script; --directives off; the command line overrides", async () => {
  await withCluster(async (c) => {
    await Deno.writeTextFile(
      join(c.workDir, "job.sh"),
      '#!/bin/bash\n#HQ --array 1-3\n#HQ --name fromdirective\necho "run $HQ_TASK_ID"\n',
    );
    await Deno.chmod(join(c.workDir, "job.sh"), 0o755);
    // (`--` keeps the harness's trailing `--server-dir` out of the script's arguments.)

    const directed = await submitFinished(c, ["--", "job.sh"]);
    const d = await job(c, directed);
    assert.equal(d.name, "fromdirective");
    assert.equal(d.task_count, 3);
    assert.deepEqual((await taskList(c, directed)).map((t) => t.id), [1, 2, 3]);
    assert.equal(await catStdout(c, directed), "run 1\nrun 2\nrun 3\n");

    // Ignored: one task 0, named after the command.
    const off = await submitFinished(c, ["--directives", "off", "--", "./job.sh"]);
    const o = await job(c, off);
    assert.equal(o.task_count, 1);
    assert.notEqual(o.name, "fromdirective");
    assert.deepEqual((await taskList(c, off)).map((t) => t.id), [0]);

    // The command line wins over single-value directives; the rest still applies.
    const named = await submitFinished(c, ["--name", "x", "--", "job.sh"]);
    const n = await job(c, named);
    assert.equal(n.name, "x");
    assert.equal(n.task_count, 3);
    const arrayed = await submitFinished(c, ["--array", "7", "--", "job.sh"]);
    const a = await job(c, arrayed);
    assert.equal(a.name, "fromdirective");
    assert.deepEqual((await taskList(c, arrayed)).map((t) => t.id), [7]);
  });
});

Deno.test("e2e: --time-limit fails the task and kills its background children", async () => {
  await withCluster(async (c) => {
    const id = await c.submit([
      "--time-limit",
      "1s",
      "--",
      "bash",
      "-c",
      "sleep 100 & echo $! > child.pid; sleep 100",
    ]);
    const pidFile = join(c.workDir, "child.pid");
    const pid = await waitFor(
      async () => Number((await Deno.readTextFile(pidFile)).trim()),
      10000,
      "child.pid",
    );
    assert.ok(pidAlive(pid), "the background child runs before the limit");
    await c.waitJobComplete(id, 15000);
    const [task] = await taskList(c, id);
    assert.equal(task?.state, "failed");
    assert.equal(String(task?.error).trim(), "Time limit reached");
    await waitFor(() => !pidAlive(pid), 5000, `background child ${pid} to be killed`);
  });
});

Deno.test("e2e: --max-fails aborts the rest once exceeded; --crash-limit never-restart", async () => {
  await withCluster(async (c) => {
    // Exactly one failure with --max-fails 1: not exceeded, the others finish.
    const tolerated = await c.submit([
      "--max-fails",
      "1",
      "--array",
      "1-6",
      "--",
      "bash",
      "-c",
      'if [ "$HQ_TASK_ID" = 1 ]; then exit 1; fi; sleep 0.3',
    ]);
    await c.waitJobComplete(tolerated);
    const t = await job(c, tolerated);
    assert.deepEqual(
      [t.task_stats.failed, t.task_stats.finished, t.task_stats.aborted],
      [1, 5, 0],
      JSON.stringify(t),
    );

    // Tasks 1-3 fail at once, the others would take a while: the rest is aborted.
    const aborted = await c.submit([
      "--max-fails",
      "1",
      "--crash-limit",
      "never-restart",
      "--array",
      "1-20",
      "--",
      "bash",
      "-c",
      'if [ "$HQ_TASK_ID" -le 3 ]; then exit 1; fi; sleep 1',
    ]);
    await c.waitJobComplete(aborted);
    const j = await job(c, aborted);
    const s = j.task_stats;
    assert.ok(s.failed >= 2, `more than one failure: ${JSON.stringify(j)}`);
    assert.ok(s.aborted >= 15, `unstarted tasks aborted: ${JSON.stringify(j)}`);
    assert.equal(s.failed + s.aborted + s.finished, 20, JSON.stringify(j));
    const tasks = await taskList(c, aborted);
    assert.ok(tasks.filter((x) => x.id > 4).every((x) => x.state === "aborted"));
    const info = (await c.hqOk(["job", "info", String(aborted)])).stdout;
    assert.match(info, /Crash limit\s*\|\s*never-restart/);
  });
});

Deno.test("e2e: failed tasks are resubmitted through job task-ids --filter failed", async () => {
  await withCluster(async (c) => {
    const first = await c.submit([
      "--array",
      "1-6",
      "--",
      "bash",
      "-c",
      "test $((HQ_TASK_ID % 2)) = 0",
    ]);
    await c.waitJobComplete(first);
    const s = (await job(c, first)).task_stats;
    assert.deepEqual([s.failed, s.finished], [3, 3]);
    const ids = (await c.hqOk(["job", "task-ids", String(first), "--filter", "failed"])).stdout
      .trim();
    assert.equal(ids, "1,3,5");

    const again = await submitFinished(c, ["--array", ids, "--", "true"]);
    assert.deepEqual((await taskList(c, again)).map((t) => t.id), [1, 3, 5]);

    // The same ids select lines of an --each-line file.
    const lines = join(c.workDir, "inputs.txt");
    await Deno.writeTextFile(lines, "l0\nl1\nl2\nl3\nl4\nl5\nl6\n");
    const entries = await submitFinished(c, [
      "--each-line",
      lines,
      "--array",
      ids,
      "--",
      "bash",
      "-c",
      ECHO_ENTRY,
    ]);
    assert.equal(await catStdout(c, entries), "1=l1\n3=l3\n5=l5\n");
  });
});
