import assert from "node:assert/strict";
import { join } from "node:path";
import type { ProgramSpec, TaskTemplate } from "../../protocol/messages.ts";
import type { StartOrder, TaskOutcome } from "../core.ts";
import { type LaunchContext, launchSpec, taskOutcome, TaskProcesses } from "./processes.ts";
import { gone, startOrder, waitFor } from "./testdata/process_checks.ts";

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function order(program: Partial<ProgramSpec>, over: Partial<TaskTemplate> = {}): StartOrder {
  return startOrder(program, over);
}

const CONTEXT: LaunchContext = { workDir: "/w", serverUid: "uid", workerId: 3 };

/** Processes whose ends are collected, in order. */
function collected(): { procs: TaskProcesses; ends: [string, TaskOutcome][] } {
  const ends: [string, TaskOutcome][] = [];
  return { procs: new TaskProcesses((key, outcome) => ends.push([key, outcome])), ends };
}

Deno.test("taskOutcome(): a cancel wins over a time limit, which wins over the exit", () => {
  const failed = { kind: "failed", error: "Error: Program terminated with exit code 1." } as const;
  const none = { canceled: false, timedOut: false };
  assert.deepEqual(taskOutcome({ kind: "finished" }, none), { kind: "finished" });
  assert.deepEqual(taskOutcome(failed, none), failed);
  const limit = { kind: "failed", error: "Time limit reached" };
  assert.deepEqual(taskOutcome(failed, { canceled: false, timedOut: true }), limit);
  assert.deepEqual(taskOutcome({ kind: "finished" }, { canceled: false, timedOut: true }), limit);
  assert.deepEqual(taskOutcome(failed, { canceled: true, timedOut: true }), { kind: "canceled" });
});

Deno.test("launchSpec() fills the worker's context and gives multi-node tasks a task dir", () => {
  const single = launchSpec(order({}), CONTEXT);
  assert.equal(single.serverUid, "uid");
  assert.equal(single.workerId, 3);
  assert.equal(single.instance, 2);
  assert.equal("multiNode" in single, false);
  const nodes = [{ workerId: 3, hostname: "a" }, {
    workerId: 5,
    hostname: "b",
  }];
  const multi = launchSpec({ ...order({}), nodes }, CONTEXT);
  assert.deepEqual(multi.multiNode, { nodes });
  assert.equal(multi.taskDir, "/w/tasks/4-9-2");
});

Deno.test("launchSpec() carries the entry and gives --task-dir tasks one task dir", () => {
  const plain = launchSpec(order({}), CONTEXT);
  assert.equal("entry" in plain, false);
  assert.equal("taskDir" in plain, false);
  assert.equal(launchSpec({ ...order({}), entry: "a b" }, CONTEXT).entry, "a b");
  const withDir = launchSpec(order({}, { taskDir: true }), CONTEXT);
  assert.equal(withDir.taskDir, "/w/tasks/4-9-2");
  assert.equal("multiNode" in withDir, false);
  // A multi-node task with --task-dir still has one directory.
  const nodes = [{ workerId: 3, hostname: "a" }];
  const both = launchSpec({ ...order({}, { taskDir: true }), nodes }, CONTEXT);
  assert.equal(both.taskDir, "/w/tasks/4-9-2");
  assert.deepEqual(both.multiNode, { nodes });
});

Deno.test("TaskProcesses reports a finished task and removes its :rm-if-finished output", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { procs, ends } = collected();
    const out = join(dir, "out");
    const err = join(dir, "err");
    const task = order({
      args: ["sh", "-c", "echo hi; echo oops >&2"],
      stdout: { path: out, rmIfFinished: true },
      stderr: { path: err, rmIfFinished: false },
    });
    assert.equal(procs.launch(task, CONTEXT), null);
    assert.equal(procs.size, 1);
    await procs.idle();
    assert.deepEqual(ends, [["4:9", { kind: "finished" }]]);
    assert.equal(procs.size, 0);
    assert.ok(procs.meanRunMs > 0);
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(err), "oops\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses keeps :rm-if-finished output of a failed task", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { procs, ends } = collected();
    const out = join(dir, "out");
    const task = order({
      args: ["sh", "-c", "echo hi; exit 3"],
      stdout: { path: out, rmIfFinished: true },
    });
    assert.equal(procs.launch(task, CONTEXT), null);
    await procs.idle();
    assert.deepEqual(ends, [["4:9", {
      kind: "failed",
      error: "Error: Program terminated with exit code 3.",
    }]]);
    assert.equal(await Deno.readTextFile(out), "hi\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses ends canceled tasks and tasks past their time limit", async () => {
  const { procs, ends } = collected();
  procs.launch({ ...order({ args: ["sleep", "30"] }), taskId: 1 }, CONTEXT);
  procs.launch({ ...order({ args: ["sleep", "30"] }, { timeLimitMs: 50 }), taskId: 2 }, CONTEXT);
  procs.launch({ ...order({ args: ["sleep", "30"] }), taskId: 3 }, CONTEXT);
  assert.equal(procs.size, 3);
  procs.cancel("4:1");
  procs.cancel("4:404"); // not running: nothing
  const started = Date.now();
  while (ends.length < 2) await new Promise((r) => setTimeout(r, 10));
  assert.ok(Date.now() - started < 5000);
  assert.deepEqual(
    ends.toSorted(([a], [b]) => a.localeCompare(b)),
    [["4:1", { kind: "canceled" }], ["4:2", { kind: "failed", error: "Time limit reached" }]],
  );
  procs.cancelAll();
  await procs.idle();
  assert.deepEqual(ends[2], ["4:3", { kind: "canceled" }]);
});

Deno.test("TaskProcesses gives a --task-dir task its directory and removes it at the end", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const context = { ...CONTEXT, workDir: join(dir, "work") };
    const taskDir = join(dir, "work", "tasks", "4-9-2");
    const out = join(dir, "out");
    const script =
      'echo "$HQ_TASK_DIR $HQ_ERROR_FILENAME"; touch "$HQ_TASK_DIR/x"; ls "$HQ_TASK_DIR"';
    for (const [name, tail] of [["finished", "exit 0"], ["failed", "exit 2"]] as const) {
      await t.step(`removed when the task has ${name}`, async () => {
        const { procs, ends } = collected();
        const task = order({
          args: ["bash", "-c", `${script}; ${tail}`],
          stdout: { path: out, rmIfFinished: false },
        }, { taskDir: true });
        assert.equal(procs.launch(task, context), null);
        await procs.idle();
        assert.equal(ends[0]![1].kind, name);
        assert.equal(await Deno.readTextFile(out), `${taskDir} ${taskDir}/hq-error\nx\n`);
        await assert.rejects(Deno.stat(taskDir), Deno.errors.NotFound);
      });
    }
    await t.step("removed when the task is canceled", async () => {
      const { procs, ends } = collected();
      const task = order({ args: ["bash", "-c", 'touch "$HQ_TASK_DIR/x"; exec sleep 30'] }, {
        taskDir: true,
      });
      assert.equal(procs.launch(task, context), null);
      assert.ok(await waitFor(() => existsSync(join(taskDir, "x")), 5000));
      procs.cancel("4:9");
      await procs.idle();
      assert.deepEqual(ends, [["4:9", { kind: "canceled" }]]);
      await assert.rejects(Deno.stat(taskDir), Deno.errors.NotFound);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses reports the error file of a failed task as its error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { procs, ends } = collected();
    const context = { ...CONTEXT, workDir: dir };
    const script = 'printf "Input is broken" > "$HQ_ERROR_FILENAME"; exit 1';
    assert.equal(
      procs.launch(order({ args: ["bash", "-c", script] }, { taskDir: true }), context),
      null,
    );
    await procs.idle();
    assert.deepEqual(ends, [["4:9", { kind: "failed", error: "Error: Input is broken" }]]);
    await assert.rejects(Deno.stat(join(dir, "tasks", "4-9-2")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses gives a task its entry and its stdin data", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { procs, ends } = collected();
    const out = join(dir, "out");
    const task = order(
      { args: ["bash", "-c", 'echo "$HQ_ENTRY"; cat'], stdout: { path: out, rmIfFinished: false } },
      { stdin: "from stdin\n" },
    );
    assert.equal(procs.launch({ ...task, entry: '{"k": 1}' }, CONTEXT), null);
    await procs.idle();
    assert.deepEqual(ends, [["4:9", { kind: "finished" }]]);
    assert.equal(await Deno.readTextFile(out), '{"k": 1}\nfrom stdin\n');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses ends the whole tree at the time limit, background grandchild included", async () => {
  const dir = await Deno.makeTempDir();
  const pidFile = join(dir, "pids");
  const started: number[] = [];
  try {
    const { procs, ends } = collected();
    // The background sleep ignores SIGINT (non-interactive bash) and would outlive bash.
    const script = `sleep 100 & echo $! > ${pidFile}; sleep 100; wait`;
    const task = order({ args: ["bash", "-c", script] }, { timeLimitMs: 300 });
    assert.equal(procs.launch(task, CONTEXT), null);
    assert.ok(
      await waitFor(
        () => existsSync(pidFile) && Deno.readTextFileSync(pidFile).endsWith("\n"),
        5000,
      ),
    );
    const grandchild = Number(Deno.readTextFileSync(pidFile).trim());
    started.push(grandchild);
    assert.ok(!gone(grandchild));
    const t0 = Date.now();
    assert.ok(await waitFor(() => ends.length === 1, 5000));
    assert.deepEqual(ends, [["4:9", { kind: "failed", error: "Time limit reached" }]]);
    // bash ended on SIGINT; the grandchild, deaf to it, gets SIGKILL after the grace period.
    await procs.idle();
    // The SIGKILL is sent by now; its delivery takes a moment on a loaded machine.
    assert.ok(await waitFor(() => gone(grandchild), 2000), `grandchild ${grandchild} still runs`);
    assert.ok(Date.now() - t0 < 5000);
  } finally {
    for (const pid of started) if (!gone(pid)) Deno.kill(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskProcesses returns a task that cannot start as failed, without calling onEnd", () => {
  const { procs, ends } = collected();
  const failure = procs.launch(order({ args: ["no-such-program-here"] }), CONTEXT);
  assert.equal(failure?.kind, "failed");
  assert.match(
    (failure as { error: string }).error,
    /^Error: Cannot execute "no-such-program-here": No such file or directory/,
  );
  assert.equal(procs.size, 0);
  assert.deepEqual(ends, []);
});
