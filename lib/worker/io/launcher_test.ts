import assert from "node:assert/strict";
import { join } from "node:path";
import type { TaskTemplate } from "../../protocol/messages.ts";
import type { Allocation } from "../../resources/allocator.ts";
import {
  type LaunchSpec,
  launchTask,
  nodeFiles,
  removeTaskDir,
  resolveProgram,
  shortHostname,
  taskArgs,
  taskEnv,
  taskPaths,
} from "./launcher.ts";
import { MAX_ERROR_FILE_BYTES, readErrorFile } from "./error_file.ts";
import { groupExists, killTree, signalTask } from "./signals.ts";
import { ENOENT, ExecError } from "./exec_errors.ts";
import { gone, waitFor } from "./testdata/process_checks.ts";

function template(over: Partial<TaskTemplate> = {}): TaskTemplate {
  return {
    program: { args: ["prog", "a"], env: {}, cwd: "/w", stdout: null, stderr: null },
    requests: [{
      entries: [
        { resource: "cpus", amount: 20_000, policy: "compact" },
        { resource: "gpus/nvidia", amount: 15_000, policy: "compact" },
      ],
      minTimeMs: 0,
    }],
    pin: null,
    priority: 0,
    timeLimitMs: null,
    crashLimit: 5,
    ...over,
  };
}

const allocation: Allocation = {
  resources: [
    {
      resource: "cpus",
      amount: 20_000,
      indices: [{ label: "4", fraction: 10_000 }, { label: "5", fraction: 10_000 }],
    },
    {
      resource: "gpus/nvidia",
      amount: 15_000,
      indices: [{ label: "3", fraction: 5_000 }, { label: "1", fraction: 10_000 }],
    },
  ],
};

function spec(over: Partial<LaunchSpec> = {}): LaunchSpec {
  return {
    jobId: 7,
    taskId: 3,
    instance: 1,
    submitDir: "/home/u",
    serverUid: "uid",
    template: template(),
    variant: 0,
    allocation,
    workerId: 2,
    ...over,
  };
}

Deno.test("taskEnv() gives HyperQueue's variables for an allocation", () => {
  const env = taskEnv(spec());
  assert.equal(env.HQ_JOB_ID, "7");
  assert.equal(env.HQ_TASK_ID, "3");
  assert.equal(env.HQ_INSTANCE_ID, "1");
  assert.equal(env.HQ_SUBMIT_DIR, "/home/u");
  assert.equal(env.HQ_CPUS, "4,5");
  assert.equal(env.HQ_RESOURCE_VALUES_cpus, "4,5");
  assert.equal(env.OMP_NUM_THREADS, "2");
  assert.equal(env.HQ_RESOURCE_REQUEST_cpus, "2 compact");
  assert.equal(env.HQ_RESOURCE_REQUEST_gpus_nvidia, "1.5 compact");
  // The partially used GPU index is listed last.
  assert.equal(env.HQ_RESOURCE_VALUES_gpus_nvidia, "1,3");
  assert.equal(env.CUDA_VISIBLE_DEVICES, "1,3");
  assert.equal(env.CUDA_DEVICE_ORDER, "PCI_BUS_ID");
  assert.equal(env.HQ_RESOURCE_VARIANT, undefined);
  assert.equal(env.HQ_PIN, undefined);
});

Deno.test("taskEnv() leaves OMP_NUM_THREADS alone for fractions and user values", () => {
  const frac: Allocation = {
    resources: [{ resource: "cpus", amount: 5_000, indices: [{ label: "0", fraction: 5_000 }] }],
  };
  const t = template({
    requests: [{ entries: [{ resource: "cpus", amount: 5_000, policy: "compact" }], minTimeMs: 0 }],
  });
  assert.equal(taskEnv(spec({ template: t, allocation: frac })).OMP_NUM_THREADS, undefined);
  const user = template({ program: { ...template().program, env: { OMP_NUM_THREADS: "9" } } });
  assert.equal(taskEnv(spec({ template: user })).OMP_NUM_THREADS, "9");
});

Deno.test("taskEnv() sets HQ_RESOURCE_VARIANT with several variants, AMD and sum pools", () => {
  const t = template({
    requests: [
      { entries: [{ resource: "cpus", amount: 80_000, policy: "compact" }], minTimeMs: 0 },
      {
        entries: [
          { resource: "gpus/amd", amount: 10_000, policy: "compact" },
          { resource: "mem", amount: 1_000_000, policy: "compact" },
        ],
        minTimeMs: 0,
      },
    ],
  });
  const a: Allocation = {
    resources: [
      { resource: "gpus/amd", amount: 10_000, indices: [{ label: "2", fraction: 10_000 }] },
      { resource: "mem", amount: 1_000_000, indices: [] },
    ],
  };
  const env = taskEnv(spec({ template: t, variant: 1, allocation: a }));
  assert.equal(env.HQ_RESOURCE_VARIANT, "1");
  assert.equal(env.ROCR_VISIBLE_DEVICES, "2");
  assert.equal(env.HQ_RESOURCE_REQUEST_mem, "100 compact");
  assert.equal(env.HQ_RESOURCE_VALUES_mem, undefined);
  assert.equal(env.HQ_CPUS, undefined);
});

Deno.test("pinning: taskset prefixes the command, omp sets OpenMP places", () => {
  const ts = spec({ template: template({ pin: "taskset" }) });
  assert.deepEqual(taskArgs(ts, taskEnv(ts)), ["taskset", "-c", "4,5", "prog", "a"]);
  const omp = spec({ template: template({ pin: "omp" }) });
  const env = taskEnv(omp);
  assert.deepEqual(taskArgs(omp, env), ["prog", "a"]);
  assert.equal(env.HQ_PIN, "omp");
  assert.equal(env.OMP_PROC_BIND, "close");
  assert.equal(env.OMP_PLACES, "{4,5}");
  const none = spec({
    template: template({ pin: "taskset" }),
    allocation: { resources: [] },
  });
  assert.throws(
    () => taskArgs(none, taskEnv(none)),
    /^Error: Pinning failed, no CPU ids allocated for task$/,
  );
});

Deno.test("launchTask() writes output files, reports exit codes, and killTree ends a tree", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const program = {
      args: ["bash", "-c", 'echo "out $HQ_TASK_ID $HOME"; echo err >&2; exit 3'],
      env: {},
      cwd: dir,
      stdout: { path: join(dir, "o.txt"), rmIfFinished: false },
      stderr: { path: join(dir, "e.txt"), rmIfFinished: false },
    };
    const s = spec({ template: template({ program }) });
    const p = launchTask(s, taskPaths(s));
    assert.deepEqual(await p.done, {
      kind: "failed",
      error: "Error: Program terminated with exit code 3.",
    });
    // The worker's own environment is inherited.
    assert.equal(await Deno.readTextFile(join(dir, "o.txt")), `out 3 ${Deno.env.get("HOME")}\n`);
    assert.equal(await Deno.readTextFile(join(dir, "e.txt")), "err\n");

    const quiet = spec({
      template: template({
        program: { ...program, args: ["sleep", "30"], stdout: null, stderr: null },
      }),
    });
    const q = launchTask(quiet, taskPaths(quiet));
    killTree(q.pid, "SIGKILL");
    assert.deepEqual(await q.done, {
      kind: "failed",
      error: "Error: Program terminated with exit code -1. Received signal 9 (SIGKILL).",
    });

    const missing = spec({
      template: template({ program: { ...program, args: ["/nonexistent/prog"] } }),
    });
    assert.throws(
      () => launchTask(missing, taskPaths(missing)),
      new Error(
        'Cannot execute "/nonexistent/prog": No such file or directory (os error 2)\n' +
          "The program that you have tried to execute (`/nonexistent/prog`) was not found.",
      ),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchTask() sends stdout and stderr to one file when both name it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const both = { path: join(dir, "sub", "all.txt"), rmIfFinished: false };
    const program = {
      args: ["bash", "-c", "echo one; echo two >&2; echo three"],
      env: {},
      cwd: dir,
      stdout: both,
      stderr: both,
    };
    const s = spec({ template: template({ program }) });
    assert.deepEqual(await launchTask(s, taskPaths(s)).done, { kind: "finished" });
    assert.equal(await Deno.readTextFile(both.path), "one\ntwo\nthree\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveProgram() looks names up in PATH and checks paths", () => {
  assert.match(resolveProgram("sh", "/", "/nonexistent:/bin:/usr/bin"), /\/sh$/);
  assert.equal(resolveProgram("/bin/sh", "/", undefined), "/bin/sh");
  const enoent = new ExecError(ENOENT);
  assert.throws(() => resolveProgram("surely-no-such-program", "/", "/bin"), enoent);
  assert.throws(() => resolveProgram("./nope", "/", "/bin"), enoent);
});

Deno.test("shortHostname() and nodeFiles() cut domains but keep IP addresses, root first", () => {
  assert.equal(shortHostname("cn12.cluster.example.org"), "cn12");
  assert.equal(shortHostname("cn12"), "cn12");
  assert.equal(shortHostname("10.0.0.7"), "10.0.0.7");
  assert.equal(shortHostname("fe80::1"), "fe80::1");
  assert.deepEqual(
    nodeFiles([{ workerId: 4, hostname: "b.x.org" }, { workerId: 9, hostname: "10.1.2.3" }]),
    { nodeFile: "b\n10.1.2.3\n", hostFile: "b.x.org\n10.1.2.3\n" },
  );
});

Deno.test("launchTask() gives a multi-node task node files in its task dir and no resource vars", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const taskDir = join(dir, "work", "tasks", "7-3-1");
    const out = join(dir, "out.txt");
    const program = {
      args: [
        "bash",
        "-c",
        'cat "$HQ_NODE_FILE" "$HQ_HOST_FILE"; echo "$HQ_NUM_NODES ${HQ_CPUS:-none}"',
      ],
      env: {},
      cwd: dir,
      stdout: { path: out, rmIfFinished: false },
      stderr: null,
    };
    const s = spec({
      template: template({ program, requests: [{ entries: [], minTimeMs: 0, nNodes: 2 }] }),
      allocation: { resources: [] },
      taskDir,
      multiNode: {
        nodes: [{ workerId: 2, hostname: "root.a.b" }, { workerId: 5, hostname: "other.a.b" }],
      },
    });
    const env = taskEnv(s);
    assert.equal(env.HQ_NUM_NODES, "2");
    assert.equal(env.HQ_NODE_FILE, join(taskDir, "hq-nodes"));
    assert.equal(env.HQ_HOST_FILE, join(taskDir, "hq-hosts"));
    assert.equal(env.HQ_TASK_DIR, taskDir);
    assert.equal(env.HQ_ERROR_FILENAME, join(taskDir, "hq-error"));
    assert.ok(
      !Object.keys(env).some((k) => k.startsWith("HQ_RESOURCE_") || k === "OMP_NUM_THREADS"),
    );
    assert.deepEqual(await launchTask(s, taskPaths(s)).done, { kind: "finished" });
    assert.equal(await Deno.readTextFile(out), "root\nother\nroot.a.b\nother.a.b\n2 none\n");
    removeTaskDir(taskDir);
    await assert.rejects(() => Deno.stat(taskDir), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("taskEnv() gives HQ_ENTRY, and HQ_TASK_DIR with HQ_ERROR_FILENAME for a task dir", () => {
  const plain = taskEnv(spec());
  for (const name of ["HQ_ENTRY", "HQ_TASK_DIR", "HQ_ERROR_FILENAME"]) {
    assert.equal(plain[name], undefined);
  }
  // The entry wins over a user variable of the same name, as in HyperQueue.
  const user = template({ program: { ...template().program, env: { HQ_ENTRY: "user" } } });
  const env = taskEnv(spec({ template: user, entry: '{"x": 1}', taskDir: "/w/tasks/7-3-1" }));
  assert.equal(env.HQ_ENTRY, '{"x": 1}');
  assert.equal(env.HQ_TASK_DIR, "/w/tasks/7-3-1");
  assert.equal(env.HQ_ERROR_FILENAME, "/w/tasks/7-3-1/hq-error");
  // An empty line is an entry too.
  assert.equal(taskEnv(spec({ entry: "" })).HQ_ENTRY, "");
});

/** A spec running `script` with bash in `dir`, its stdout in `dir/out`. */
function bashSpec(
  dir: string,
  script: string,
  over: Partial<LaunchSpec> = {},
  templateOver: Partial<TaskTemplate> = {},
): LaunchSpec {
  const program = {
    args: ["bash", "-c", script],
    env: {},
    cwd: dir,
    stdout: { path: join(dir, "out"), rmIfFinished: false },
    stderr: null,
  };
  return spec({ template: template({ program, ...templateOver }), ...over });
}

Deno.test("launchTask() passes HQ_ENTRY to the task", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = bashSpec(dir, 'printf "%s" "$HQ_ENTRY"', { entry: "line with  spaces" });
    assert.deepEqual(await launchTask(s, taskPaths(s)).done, { kind: "finished" });
    assert.equal(await Deno.readTextFile(join(dir, "out")), "line with  spaces");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchTask() writes the stdin data to the task and closes its stdin", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const data = "first line\nsecond ✓\n" + "x".repeat(300_000);
    const s = bashSpec(dir, "cat", {}, { stdin: data });
    assert.deepEqual(await launchTask(s, taskPaths(s)).done, { kind: "finished" });
    assert.equal(await Deno.readTextFile(join(dir, "out")), data);

    // Without data, stdin is /dev/null: `cat` ends at once.
    const none = bashSpec(dir, "cat; echo end");
    assert.deepEqual(await launchTask(none, taskPaths(none)).done, { kind: "finished" });
    assert.equal(await Deno.readTextFile(join(dir, "out")), "end\n");

    // A task that never reads more than the pipe holds ends normally: no EPIPE error.
    const deaf = bashSpec(dir, "exit 0", {}, { stdin: "y".repeat(1 << 20) });
    assert.deepEqual(await launchTask(deaf, taskPaths(deaf)).done, { kind: "finished" });
    // Let the write fail (EPIPE) before the test ends.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchTask() creates the task dir afresh and reads the error file of a failed task", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const taskDir = join(dir, "work", "tasks", "7-3-1");
    await Deno.mkdir(taskDir, { recursive: true });
    await Deno.writeTextFile(join(taskDir, "leftover"), "old");
    const script = 'ls -A "$HQ_TASK_DIR"; echo "$HQ_TASK_DIR $HQ_ERROR_FILENAME"; ' +
      'echo "Bad input" > "$HQ_ERROR_FILENAME"; exit 1';
    const s = bashSpec(dir, script, { taskDir });
    assert.deepEqual(await launchTask(s, taskPaths(s)).done, {
      kind: "failed",
      error: "Error: Bad input\n",
    });
    assert.equal(
      await Deno.readTextFile(join(dir, "out")),
      `${taskDir} ${join(taskDir, "hq-error")}\n`,
    );
    assert.equal((await Deno.stat(taskDir)).mode! & 0o777, 0o700);

    // A task that finishes keeps its error file to itself.
    const ok = bashSpec(dir, 'echo ignored > "$HQ_ERROR_FILENAME"', { taskDir });
    assert.deepEqual(await launchTask(ok, taskPaths(ok)).done, { kind: "finished" });
    // Without an error file, the exit status is the error.
    const plain = bashSpec(dir, "exit 4", { taskDir });
    assert.deepEqual(await launchTask(plain, taskPaths(plain)).done, {
      kind: "failed",
      error: "Error: Program terminated with exit code 4.",
    });
    removeTaskDir(taskDir);
    await assert.rejects(() => Deno.stat(taskDir), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readErrorFile() reads as HyperQueue: at most 2 KiB, a note when empty, null when absent", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "hq-error");
    assert.equal(readErrorFile(dir), null);
    await Deno.writeTextFile(file, "");
    assert.equal(readErrorFile(dir), "Task created an error file, but it is empty");
    await Deno.writeTextFile(file, "short\n");
    assert.equal(readErrorFile(dir), "short\n");
    await Deno.writeTextFile(file, "a".repeat(MAX_ERROR_FILE_BYTES - 1));
    assert.equal(readErrorFile(dir), "a".repeat(MAX_ERROR_FILE_BYTES - 1));
    await Deno.writeTextFile(file, "b".repeat(10_000));
    assert.equal(
      readErrorFile(dir),
      "b".repeat(MAX_ERROR_FILE_BYTES) + "\n[The message was truncated]",
    );
    // Invalid UTF-8 is replaced, not an error.
    await Deno.writeFile(file, new Uint8Array([0x6f, 0x6b, 0xff]));
    assert.equal(readErrorFile(dir), "ok\uFFFD");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("signalTask() reaches a time-limited task's orphaned background process through its group", async () => {
  const dir = await Deno.makeTempDir();
  const pids: number[] = [];
  try {
    // The background sleep ignores SIGINT (non-interactive bash) and outlives its parent.
    const s = bashSpec(dir, "sleep 30 & echo $!; exit 0", {}, { timeLimitMs: 60_000 });
    const p = launchTask(s, taskPaths(s));
    assert.equal(p.ownGroup, true);
    pids.push(p.pid);
    assert.deepEqual(await p.done, { kind: "finished" });
    const orphan = Number((await Deno.readTextFile(join(dir, "out"))).trim());
    pids.push(orphan);
    assert.ok(!gone(orphan));
    assert.ok(groupExists(p.pid));
    // Its own group: the task's pid is the group id.
    const stat = await Deno.readTextFile(`/proc/${orphan}/stat`);
    assert.equal(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]), p.pid);
    signalTask(p.pid, "SIGKILL", { tree: false });
    assert.ok(await waitFor(() => gone(orphan), 5000));
    assert.ok(await waitFor(() => !groupExists(p.pid), 5000));
  } finally {
    for (const pid of pids) killTree(pid, "SIGKILL");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("launchTask() spawns a task without a time limit in the worker's group (no setsid)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const s = bashSpec(dir, "cut -d' ' -f5 /proc/$$/stat");
    const p = launchTask(s, taskPaths(s));
    assert.equal(p.ownGroup, false);
    assert.deepEqual(await p.done, { kind: "finished" });
    const pgid = Number((await Deno.readTextFile(join(dir, "out"))).trim());
    assert.notEqual(pgid, p.pid);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
