import assert from "node:assert/strict";
import { buildSubmit, PlaceholderError, type SubmitFlags, submitFlags } from "./submit_args.ts";
import { parseCrashLimit, parseStdio } from "./submit_values.ts";
import { UsageError } from "./io/run_cli.ts";
import { parseCommandLine, type Parsed } from "./args.ts";

Deno.test("buildSubmit() applies HyperQueue defaults", () => {
  const { job } = buildSubmit({}, ["/usr/bin/echo", "hi"], "/home/u");
  assert.equal(job.name, "echo");
  assert.deepEqual(job.ids, [{ start: 0, end: 0 }]);
  assert.equal(job.template.program.cwd, "%{SUBMIT_DIR}");
  assert.deepEqual(job.template.program.stdout, {
    path: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout",
    rmIfFinished: false,
  });
  assert.deepEqual(job.template.requests, [{
    entries: [{ resource: "cpus", amount: 10_000, policy: "compact" }],
    minTimeMs: 0,
  }]);
  assert.equal(job.template.pin, null);
  assert.equal(job.template.crashLimit, 5);
});

Deno.test("buildSubmit() builds request variants, time requests and pinning", () => {
  const { job } = buildSubmit(
    { resource: ["cpus=2.5 gpus=2 | cpus=32"], timeRequest: "1h", pin: "taskset" },
    ["prog"],
    "/home/u",
  );
  assert.deepEqual(job.template.requests, [
    {
      entries: [
        { resource: "cpus", amount: 25_000, policy: "compact" },
        { resource: "gpus", amount: 20_000, policy: "compact" },
      ],
      minTimeMs: 3_600_000,
    },
    { entries: [{ resource: "cpus", amount: 320_000, policy: "compact" }], minTimeMs: 3_600_000 },
  ]);
  assert.equal(job.template.pin, "taskset");
});

Deno.test("buildSubmit() rejects bad flags with one-line usage errors", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ array: "1-x" }, /--array/],
    [{ array: "5-1" }, /--array/],
    [{ cpus: "abc" }, /--cpus/],
    [{ cpus: "0" }, /--cpus/],
    [{ cpus: "2 loose" }, /unknown policy/],
    [{ cpus: "2", resource: ["cpus=2"] }, /--cpus/],
    [{ resource: ["gpus=1 | cpus=2", "mem=1 | cpus=3"] }, /\|/],
    [{ pin: "numactl" }, /--pin/],
    [{ timeLimit: "5x" }, /--time-limit/],
    [{ priority: "1.5" }, /--priority/],
    [{ maxFails: "-1" }, /--max-fails/],
    [{ crashLimit: "0" }, /--crash-limit/],
    [{ env: ["=x"] }, /--env/],
  ];
  for (const [flags, re] of cases) {
    assert.throws(
      () => buildSubmit(flags, ["true"], "/tmp"),
      (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
      JSON.stringify(flags),
    );
  }
});

Deno.test("buildSubmit() refuses %{CWD} in the cwd and unknown placeholders in HQ's words", () => {
  const cases: [SubmitFlags, string][] = [
    [
      { cwd: "%{CWD}/x" },
      "Working directory path cannot contain the working directory placeholder `%{CWD}`.",
    ],
    [{ stdout: "out-%{FOO}" }, "Found unknown placeholder `FOO` in stdout path"],
    [{ stderr: "%{A}-%{B}" }, "Found unknown placeholders `A, B` in stderr path"],
    [{ cwd: "/x/%{DATE}" }, "Found unknown placeholder `DATE` in working directory path"],
  ];
  for (const [flags, message] of cases) {
    assert.throws(
      () => buildSubmit(flags, ["true"], "/tmp"),
      (e: unknown) => e instanceof PlaceholderError && e.message === message,
      JSON.stringify(flags),
    );
  }
  const ok = buildSubmit({ stdout: "%{SERVER_UID}-%{JOB_ID}.out" }, ["true"], "/tmp");
  assert.equal(ok.job.template.program.stdout?.path, "%{SERVER_UID}-%{JOB_ID}.out");
});

Deno.test("buildSubmit() warns about arrays sharing one output file, in HQ's words", () => {
  const { warnings } = buildSubmit({ array: "1-3", stdout: "out.txt" }, ["true"], "/tmp");
  assert.deepEqual(warnings, [
    "You have submitted an array job, but the `stdout` path does not contain the task ID " +
    "placeholder.\nIndividual tasks might thus overwrite the file. Consider adding " +
    "`%{TASK_ID}` to the `--stdout` value.",
  ]);
  const viaCwd = buildSubmit(
    { array: "1-3", cwd: "task-%{TASK_ID}", stdout: "%{CWD}/foo" },
    ["true"],
    "/tmp",
  );
  assert.deepEqual(viaCwd.warnings, []);
  assert.deepEqual(buildSubmit({ array: "7", stdout: "out.txt" }, ["true"], "/tmp").warnings, []);
  assert.deepEqual(buildSubmit({ array: "1-3" }, ["true"], "/tmp").warnings, []);
});

Deno.test("parseStdio() and parseCrashLimit() read HyperQueue forms", () => {
  assert.equal(parseStdio("none", "d"), null);
  assert.deepEqual(parseStdio("x.log:rm-if-finished", "d"), { path: "x.log", rmIfFinished: true });
  assert.deepEqual(parseStdio(":rm-if-finished", "d"), { path: "d", rmIfFinished: true });
  assert.equal(parseCrashLimit("never-restart"), "never-restart");
  assert.equal(parseCrashLimit("3"), 3);
});

Deno.test("buildSubmit() turns --nodes into a multi-node request and rejects its conflicts", () => {
  const { job } = buildSubmit({ nodes: "2", timeRequest: "10s" }, ["prog"], "/home/u");
  assert.deepEqual(job.template.requests, [{ entries: [], minTimeMs: 10_000, nNodes: 2 }]);
  const single = buildSubmit({ nodes: "0" }, ["prog"], "/home/u").job;
  assert.equal(single.template.requests[0]!.nNodes, undefined);
  assert.equal(single.template.requests[0]!.entries.length, 1);
  for (
    const [flags, flag] of [
      [{ cpus: "2" }, "--cpus"],
      [{ resource: ["gpus=1"] }, "--resource"],
      [{ pin: "omp" }, "--pin"],
    ] as [SubmitFlags, string][]
  ) {
    assert.throws(
      () => buildSubmit({ nodes: "2", ...flags }, ["prog"], "/home/u"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === `Cannot use --nodes with ${flag}: a multi-node task takes whole workers`,
    );
  }
  assert.throws(() => buildSubmit({ nodes: "x" }, ["prog"], "/home/u"), /--nodes/);
  assert.throws(() => buildSubmit({ nodes: "-1" }, ["prog"], "/home/u"), /--nodes/);
});

Deno.test("buildSubmit() gives each selected entry its task, in id order", () => {
  const lines = ["l0", "l1", "l2", "l3"];
  const all = buildSubmit({ eachLine: "in.txt" }, ["prog"], "/h", { entries: lines });
  assert.deepEqual(all.job.ids, [{ start: 0, end: 3 }]);
  assert.deepEqual(all.job.entries, lines);
  const picked = buildSubmit({ fromJson: "in.json", array: "2-100,0" }, ["prog"], "/h", {
    entries: ["{}", "[1]", "2", '"x"'],
  });
  assert.deepEqual(picked.job.ids, [{ start: 0, end: 0 }, { start: 2, end: 3 }]);
  assert.deepEqual(picked.job.entries, ["{}", "2", '"x"']);
  const plain = buildSubmit({ array: "1-3" }, ["prog"], "/h").job;
  assert.equal("entries" in plain, false, "no entries without a file");
  assert.throws(
    () => buildSubmit({ eachLine: "in.txt" }, ["prog"], "/h", { entries: [] }),
    (e) => e instanceof UsageError && e.message.includes('"in.txt" holds no entries'),
  );
  assert.throws(() => buildSubmit({ eachLine: "in.txt" }, ["prog"], "/h"), TypeError);
});

Deno.test("buildSubmit() fills stdin, taskDir, jobId, after and stream only when given", () => {
  const none = buildSubmit({}, ["prog"], "/h").job;
  for (const key of ["stdin", "taskDir"]) assert.equal(key in none.template, false, key);
  for (const key of ["jobId", "after", "stream"]) assert.equal(key in none, false, key);
  const { job } = buildSubmit(
    {
      stdin: true,
      taskDir: true,
      job: "4",
      after: "1-3",
      stream: "%{SUBMIT_DIR}/streams-%{JOB_ID}",
    },
    ["prog"],
    "/h",
    { stdin: "data\n" },
  );
  assert.equal(job.template.stdin, "data\n");
  assert.equal(job.template.taskDir, true);
  assert.equal(job.jobId, 4);
  assert.equal(job.after, "1-3");
  assert.equal(job.stream, "%{SUBMIT_DIR}/streams-%{JOB_ID}");
  assert.throws(() => buildSubmit({ stdin: true }, ["prog"], "/h"), TypeError);
  assert.throws(() => buildSubmit({}, ["prog"], "/h", { stdin: "x" }), TypeError);
});

Deno.test("buildSubmit() refuses --name and --max-fails with --job", () => {
  for (
    const [flags, flag] of [[{ name: "x" }, "--name"], [{ maxFails: "1" }, "--max-fails"]] as const
  ) {
    assert.throws(
      () => buildSubmit({ job: "2", ...flags }, ["prog"], "/h"),
      (e) => e instanceof UsageError && e.message.startsWith(`Cannot use ${flag} with --job`),
    );
  }
});

Deno.test("buildSubmit() checks the placeholders of --stream", () => {
  const cases: [string, string][] = [
    ["s-%{JOBID}", "Found unknown placeholder `JOBID` in stream path"],
    [
      "s-%{TASK_ID}",
      "Placeholder `%{TASK_ID}` cannot be used in stream path: one stream directory serves all " +
      "tasks of the job",
    ],
    ["%{CWD}/s", "Placeholder `%{CWD}` cannot be used in stream path"],
  ];
  for (const [stream, message] of cases) {
    assert.throws(
      () => buildSubmit({ stream }, ["prog"], "/h"),
      (e) => e instanceof PlaceholderError && e.message.startsWith(message),
      stream,
    );
  }
  assert.throws(() => buildSubmit({ stream: "" }, ["prog"], "/h"), UsageError);
  const ok = buildSubmit({ stream: "%{SERVER_UID}/%{SUBMIT_DIR}" }, ["prog"], "/h");
  assert.equal(ok.job.stream, "%{SERVER_UID}/%{SUBMIT_DIR}");
});

Deno.test("buildSubmit() warns about 1000 output files unless --stream, before other warnings", () => {
  const lines = Array.from({ length: 500 }, (_, i) => `${i}`);
  const { warnings } = buildSubmit(
    { eachLine: "in.txt", env: ["A=1", "A=2"] },
    ["prog"],
    "/h",
    { entries: lines },
  );
  assert.deepEqual(warnings, [
    "The job will create 1000 files for stdout and stderr. Consider using the `--stream` " +
    "option to stream all outputs into a single file",
    "Some environment variables were ignored. Check if you haven't used duplicate keys.",
  ]);
  const streamed = buildSubmit({ eachLine: "in.txt", stream: "s" }, ["prog"], "/h", {
    entries: lines,
  });
  assert.deepEqual(streamed.warnings, []);
  // An --each-line array is an array: a shared stdout path is warned about.
  const shared = buildSubmit({ eachLine: "f", stdout: "o" }, ["p"], "/h", { entries: ["a", "b"] });
  assert.equal(shared.warnings.length, 1);
});

Deno.test("submitFlags() reads the new options and leaves defaults out", () => {
  const specs = [
    { long: "each-line", value: "EACH_LINE", help: "" },
    { long: "from-json", value: "FROM_JSON", help: "" },
    { long: "stdin", help: "" },
    { long: "task-dir", help: "" },
    { long: "job", value: "JOB", help: "" },
    { long: "after", value: "AFTER", help: "" },
    { long: "stream", value: "STREAM", help: "" },
    { long: "directives", value: "DIRECTIVES", default: "auto", help: "" },
    { long: "priority", value: "PRIORITY", default: "0", help: "" },
    { long: "crash-limit", value: "CRASH_LIMIT", default: "5", help: "" },
    { long: "nodes", value: "NODES", default: "0", help: "" },
  ];
  const root = {
    name: "submit",
    about: "",
    options: specs,
    args: [{ name: "C", trailing: true, help: "" }],
  };
  const parse = (argv: string[]) => {
    const outcome = parseCommandLine(root, argv, { globals: [] });
    assert.equal(outcome.kind, "run");
    return submitFlags((outcome as { parsed: Parsed }).parsed);
  };
  assert.deepEqual(parse(["prog"]), { resource: [], env: [] });
  assert.deepEqual(
    parse([
      "--each-line=a",
      "--from-json",
      "b",
      "--stdin",
      "--task-dir",
      "--job",
      "3",
      "--after",
      "last",
      "--stream",
      "s",
      "--directives",
      "off",
      "--priority",
      "2",
      "prog",
    ]),
    {
      eachLine: "a",
      fromJson: "b",
      job: "3",
      after: "last",
      stream: "s",
      directives: "off",
      priority: "2",
      stdin: true,
      taskDir: true,
      resource: [],
      env: [],
    },
  );
});

Deno.test("buildSubmit() streams the channels --stdout/--stderr do not set", () => {
  const both = buildSubmit({ stream: "log" }, ["prog"], "/h").job.template.program;
  assert.deepEqual(both.stream, { dir: "log", stdout: true, stderr: true });
  assert.deepEqual([both.stdout, both.stderr], [null, null]);
  const noErr = buildSubmit({ stream: "log", stderr: "none" }, ["prog"], "/h").job.template.program;
  assert.deepEqual(noErr.stream, { dir: "log", stdout: true, stderr: false });
  assert.deepEqual([noErr.stdout, noErr.stderr], [null, null]);
  const ownOut = buildSubmit({ stream: "log", stdout: "o-%{TASK_ID}" }, ["prog"], "/h").job;
  assert.deepEqual(ownOut.template.program.stream, { dir: "log", stdout: false, stderr: true });
  assert.deepEqual(ownOut.template.program.stdout, { path: "o-%{TASK_ID}", rmIfFinished: false });
  assert.equal(ownOut.stream, "log");
  const plain = buildSubmit({}, ["prog"], "/h").job.template.program;
  assert.equal("stream" in plain, false);
});
