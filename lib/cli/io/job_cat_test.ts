import assert from "node:assert/strict";
import { type IdRange, parseIdSet } from "../../common/mod.ts";
import type { TaskStateName, TaskView } from "../../protocol/mod.ts";
import { type CommandContext, Output, type OutputMode } from "./mod.ts";
import { parseCommandLine } from "../args.ts";
import { GLOBAL_OPTIONS } from "../globals.ts";
import {
  createJobCatCommand,
  fileCopyErrorMessage,
  fileOpenErrorMessage,
  formatIoErrorDebug,
  JOB_CAT_JSON_ERROR,
  jobCatHeader,
  type JobCatIo,
  noStreamMessage,
  planJobCat,
} from "./job_cat.ts";

function task(id: number, state: TaskStateName, started = true): TaskView {
  return {
    id,
    state,
    instance: 0,
    crash_count: 0,
    started_at: started ? 1 : null,
    finished_at: null,
    workers: [],
    paths: started ? { cwd: "/w", stdout: `/w/${id}.out`, stderr: `/w/${id}.err` } : null,
    error: null,
  };
}

const warn = (message: string) => ({ kind: "log", line: { level: "WARN", message } });
const error = (message: string) => ({ kind: "log", line: { level: "ERROR", message } });

Deno.test("jobCatHeader() and noStreamMessage() are HyperQueue's texts", () => {
  assert.equal(jobCatHeader(12, 0), "# Job 12, task 0");
  assert.equal(noStreamMessage(4, "stderr"), "Task 4 has no `stderr` stream associated with it");
});

Deno.test("formatIoErrorDebug() shows Deno's OS errors as Rust's io::Error debug text", () => {
  const cases: [string, string][] = [
    [
      "No such file or directory (os error 2): open '/a'",
      'Os { code: 2, kind: NotFound, message: "No such file or directory" }',
    ],
    [
      "Permission denied (os error 13): open '/a'",
      'Os { code: 13, kind: PermissionDenied, message: "Permission denied" }',
    ],
    [
      "Is a directory (os error 21)",
      'Os { code: 21, kind: IsADirectory, message: "Is a directory" }',
    ],
    ["Broken pipe (os error 32)", 'Os { code: 32, kind: BrokenPipe, message: "Broken pipe" }'],
    [
      "Input/output error (os error 5): read",
      'Os { code: 5, kind: Uncategorized, message: "Input/output error" }',
    ],
    ['odd "thing"', 'Custom { kind: Other, error: "odd \\"thing\\"" }'],
  ];
  for (const [message, expected] of cases) {
    assert.equal(formatIoErrorDebug(new Error(message)), expected, message);
  }
});

Deno.test("fileOpenErrorMessage() and fileCopyErrorMessage() quote the path as HyperQueue does", () => {
  const e = new Error("No such file or directory (os error 2): open '/w/1.out'");
  assert.equal(
    fileOpenErrorMessage("/w/1.out", e),
    "File at `/w/1.out` cannot be opened: " +
      'Os { code: 2, kind: NotFound, message: "No such file or directory" }',
  );
  assert.equal(
    fileCopyErrorMessage("/w/1.out", new Error("Broken pipe (os error 32)")),
    "Could not output contents of `/w/1.out`: " +
      'Os { code: 32, kind: BrokenPipe, message: "Broken pipe" }',
  );
});

Deno.test("planJobCat() prints every task in id order", () => {
  const steps = planJobCat(
    { "1": [task(3, "finished"), task(1, "finished"), task(2, "failed")] },
    { selector: "1", stream: "stdout" },
  );
  assert.deepEqual(steps, [{
    kind: "output",
    jobId: 1,
    tasks: [{ id: 1, path: "/w/1.out" }, { id: 2, path: "/w/2.out" }, {
      id: 3,
      path: "/w/3.out",
    }],
  }]);
});

Deno.test("planJobCat() picks the stream and gives null paths for none and not started", () => {
  const none = { ...task(1, "finished"), paths: { cwd: "/w", stdout: null, stderr: "/w/e" } };
  const steps = planJobCat({ "2": [none, task(2, "waiting", false)] }, {
    selector: "2",
    stream: "stderr",
  });
  assert.deepEqual(steps, [{
    kind: "output",
    jobId: 2,
    tasks: [{ id: 1, path: "/w/e" }, { id: 2, path: null }],
  }]);
  const out = planJobCat({ "2": [none] }, { selector: "2", stream: "stdout" });
  assert.deepEqual(out, [{ kind: "output", jobId: 2, tasks: [{ id: 1, path: null }] }]);
});

Deno.test("planJobCat() filters by --task-status after warning about missing --tasks ids", () => {
  const tasks = [task(3, "finished"), task(4, "failed"), task(5, "failed")];
  const steps = planJobCat({ "1": tasks }, {
    selector: "1",
    stream: "stdout",
    taskIds: parseIdSet("3-7"),
    states: ["failed"],
  });
  assert.deepEqual(steps, [
    warn("Task 6 of job 1 not found"),
    warn("Task 7 of job 1 not found"),
    { kind: "output", jobId: 1, tasks: [{ id: 4, path: "/w/4.out" }, { id: 5, path: "/w/5.out" }] },
  ]);
});

Deno.test("planJobCat() warns when no task is left to print", () => {
  assert.deepEqual(
    planJobCat({ "1": [task(0, "finished")] }, {
      selector: "1",
      stream: "stdout",
      states: ["failed", "canceled"],
    }),
    [warn("No tasks were selected for job 1, there is nothing to print")],
  );
  assert.deepEqual(
    planJobCat({ "1": [] }, { selector: "1", stream: "stdout", taskIds: parseIdSet("9") }),
    [
      warn("Task 9 of job 1 not found"),
      warn("No tasks were selected for job 1, there is nothing to print"),
    ],
  );
});

Deno.test("planJobCat() reports jobs that do not exist, in id order with the found ones", () => {
  assert.deepEqual(planJobCat({}, { selector: "last", stream: "stdout" }), [
    error("No jobs were found"),
  ]);
  assert.deepEqual(planJobCat({}, { selector: "5", stream: "stdout" }), [
    error("Job 5 was not found"),
  ]);
  assert.deepEqual(
    planJobCat({ "2": [task(0, "finished")] }, { selector: "1-3", stream: "stdout" }),
    [
      error("Job 1 was not found"),
      { kind: "output", jobId: 2, tasks: [{ id: 0, path: "/w/0.out" }] },
      error("Job 3 was not found"),
    ],
  );
});

/** A fake world: files by path (a string is an error thrown on open), stdout collected. */
class FakeIo implements JobCatIo {
  stdout = "";
  calls: { serverDir: string | undefined; selector: string; taskIds: IdRange[] | null }[] = [];
  constructor(
    readonly jobs: Record<string, TaskView[]>,
    readonly files: Record<string, string | Error | { chunks: string[]; fail: Error }>,
  ) {}

  taskList(serverDir: string | undefined, selector: string, taskIds: IdRange[] | null) {
    this.calls.push({ serverDir, selector, taskIds });
    const out: Record<string, TaskView[]> = {};
    for (const [id, tasks] of Object.entries(this.jobs)) {
      out[id] = tasks.filter((t) =>
        taskIds === null || taskIds.some((r) => t.id >= r.start && t.id <= r.end)
      );
    }
    return Promise.resolve(out);
  }

  open(path: string): Promise<AsyncIterable<Uint8Array>> {
    const f = this.files[path];
    if (f === undefined) {
      return Promise.reject(new Error(`No such file or directory (os error 2): open '${path}'`));
    }
    if (f instanceof Error) return Promise.reject(f);
    const enc = new TextEncoder();
    return Promise.resolve((async function* () {
      if (typeof f === "string") {
        yield enc.encode(f);
        return;
      }
      for (const c of f.chunks) yield enc.encode(c);
      throw f.fail;
    })());
  }

  write(bytes: Uint8Array): Promise<void> {
    this.stdout += new TextDecoder().decode(bytes);
    return Promise.resolve();
  }
}

async function runCat(
  io: FakeIo,
  argv: string[],
  mode: OutputMode = "cli",
): Promise<{ logs: string[] }> {
  const root = { name: "hq", about: "", subcommands: [createJobCatCommand(io)] };
  const outcome = parseCommandLine(root, ["cat", ...argv], { globals: GLOBAL_OPTIONS });
  assert.equal(outcome.kind, "run");
  if (outcome.kind !== "run") throw new Error("unreachable");
  const out = new Output(mode, false, false);
  const logs: string[] = [];
  out.log = (level, message) => void logs.push(`${level} ${message}`);
  const ctx: CommandContext = { parsed: outcome.parsed, out, serverDir: "/sd" };
  await outcome.command.run!(ctx);
  return { logs };
}

Deno.test("job cat prints the files' bytes in task order, with headers when asked", async () => {
  const io = new FakeIo(
    { "1": [task(2, "finished"), task(1, "finished"), task(3, "finished")] },
    { "/w/1.out": "one\n", "/w/2.out": "two", "/w/3.out": "three\n" },
  );
  assert.deepEqual((await runCat(io, ["1", "stdout"])).logs, []);
  assert.equal(io.stdout, "one\ntwothree\n");
  io.stdout = "";
  await runCat(io, ["1", "stdout", "--tasks", "2-3", "--print-task-header"]);
  assert.equal(io.stdout, "# Job 1, task 2\ntwo# Job 1, task 3\nthree\n");
  assert.deepEqual(io.calls.map((c) => [c.serverDir, c.selector, c.taskIds]), [
    ["/sd", "1", null],
    ["/sd", "1", [...parseIdSet("2-3")]],
  ]);
});

Deno.test("job cat warns about tasks without a stream and files it cannot read", async () => {
  const io = new FakeIo(
    {
      "1": [
        task(0, "finished"),
        { ...task(1, "finished"), paths: { cwd: "/w", stdout: null, stderr: null } },
        task(2, "waiting", false),
        task(3, "finished"),
        task(4, "finished"),
      ],
    },
    {
      "/w/0.out": "zero\n",
      "/w/3.out": new Error("Permission denied (os error 13): open '/w/3.out'"),
      "/w/4.out": { chunks: ["fo"], fail: new Error("Is a directory (os error 21)") },
    },
  );
  const { logs } = await runCat(io, ["1", "stdout", "--print-task-header"]);
  assert.equal(
    io.stdout,
    "# Job 1, task 0\nzero\n# Job 1, task 1\n# Job 1, task 2\n# Job 1, task 3\n# Job 1, task 4\nfo",
  );
  assert.deepEqual(logs, [
    "WARN Task 1 has no `stdout` stream associated with it",
    "WARN Task 2 has no `stdout` stream associated with it",
    "WARN File at `/w/3.out` cannot be opened: " +
    'Os { code: 13, kind: PermissionDenied, message: "Permission denied" }',
    "WARN Could not output contents of `/w/4.out`: " +
    'Os { code: 21, kind: IsADirectory, message: "Is a directory" }',
  ]);
});

Deno.test("job cat filters by --task-status (comma-separated or repeated)", async () => {
  const io = new FakeIo(
    { "1": [task(1, "finished"), task(2, "failed"), task(3, "canceled")] },
    { "/w/1.err": "e1\n", "/w/2.err": "e2\n", "/w/3.err": "e3\n" },
  );
  await runCat(io, ["--task-status", "failed,canceled", "1", "stderr"]);
  assert.equal(io.stdout, "e2\ne3\n");
  io.stdout = "";
  await runCat(io, ["--task-status", "finished", "--task-status", "canceled", "1", "stderr"]);
  assert.equal(io.stdout, "e1\ne3\n");
});

Deno.test("job cat logs missing jobs and tasks and exits 0", async () => {
  const io = new FakeIo({ "1": [task(1, "finished")] }, { "/w/1.out": "x" });
  const r = await runCat(io, ["1-2", "stdout", "--tasks", "1,5"]);
  assert.deepEqual(r.logs, ["WARN Task 5 of job 1 not found", "ERROR Job 2 was not found"]);
  assert.equal(io.stdout, "x");
  const empty = new FakeIo({}, {});
  assert.deepEqual((await runCat(empty, ["last", "stdout"])).logs, ["ERROR No jobs were found"]);
});

Deno.test("job cat fails in JSON mode once there is output to print", async () => {
  const io = new FakeIo({ "1": [task(1, "finished")] }, { "/w/1.out": "x" });
  await assert.rejects(runCat(io, ["1", "stdout"], "json"), {
    name: "Error",
    message: JOB_CAT_JSON_ERROR,
  });
  assert.equal(io.stdout, "");
  assert.equal(JOB_CAT_JSON_ERROR, "JSON output mode doesn't support job output");
  // Nothing to print: only the log lines, as HyperQueue.
  const none = new FakeIo({}, {});
  assert.deepEqual((await runCat(none, ["3", "stdout"], "json")).logs, [
    "ERROR Job 3 was not found",
  ]);
});

Deno.test("job cat's arguments: a stream word, `last` or ids, and known task states", () => {
  const root = { name: "hq", about: "", subcommands: [createJobCatCommand(new FakeIo({}, {}))] };
  const usage = (argv: string[]) => {
    try {
      parseCommandLine(root, ["cat", ...argv], { globals: GLOBAL_OPTIONS });
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    return "ok";
  };
  assert.equal(usage(["last", "stdout"]), "ok");
  assert.equal(usage(["1-3", "stderr"]), "ok");
  assert.equal(
    usage(["1", "stdin"]),
    "invalid value 'stdin' for '<STREAM>' [possible values: stdout, stderr]",
  );
  assert.match(usage(["all", "stdout"]), /invalid value 'all' for '<JOB_SELECTOR>'/);
  assert.equal(
    usage(["1", "stdout", "--task-status", "done"]),
    "invalid value 'done' for '--task-status <TASK_STATUS>': unknown state 'done' " +
      "[possible values: waiting, running, finished, failed, canceled, aborted]",
  );
  assert.match(usage(["1", "stdout", "--tasks", "x"]), /invalid value 'x' for '--tasks <TASKS>'/);
});
