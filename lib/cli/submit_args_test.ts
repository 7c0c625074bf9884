import assert from "node:assert/strict";
import {
  buildSubmit,
  parseCrashLimit,
  parseStdio,
  PlaceholderError,
  type SubmitFlags,
} from "./submit_args.ts";
import { UsageError } from "./io/run_cli.ts";

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
