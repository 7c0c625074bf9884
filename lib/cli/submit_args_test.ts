import assert from "node:assert/strict";
import { buildSubmit, parseCrashLimit, parseStdio } from "./submit_args.ts";
import { UsageError } from "./common.ts";

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
    [{ cwd: "%{CWD}/x" }, /--cwd/],
  ];
  for (const [flags, re] of cases) {
    assert.throws(
      () => buildSubmit(flags, ["true"], "/tmp"),
      (e: Error) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
      JSON.stringify(flags),
    );
  }
});

Deno.test("buildSubmit() warns about arrays sharing one output file", () => {
  const { warnings } = buildSubmit({ array: "1-3", stdout: "out.txt" }, ["true"], "/tmp");
  assert.ok(warnings.some((w) => w.includes("%{TASK_ID}")));
});

Deno.test("parseStdio() and parseCrashLimit() read HyperQueue forms", () => {
  assert.equal(parseStdio("none", "d"), null);
  assert.deepEqual(parseStdio("x.log:rm-if-finished", "d"), { path: "x.log", rmIfFinished: true });
  assert.deepEqual(parseStdio(":rm-if-finished", "d"), { path: "d", rmIfFinished: true });
  assert.equal(parseCrashLimit("never-restart"), "never-restart");
  assert.equal(parseCrashLimit("3"), 3);
});
