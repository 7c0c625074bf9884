import assert from "node:assert/strict";
import {
  DEFAULT_CWD,
  DEFAULT_STDERR,
  DEFAULT_STDOUT,
  findPlaceholders,
  joinPosixPath,
  normalizePosixPath,
  type PlaceholderValues,
  resolvePlaceholders,
  resolveStdPath,
  unknownPlaceholders,
} from "./placeholders.ts";

function values(overrides: Partial<PlaceholderValues> = {}): PlaceholderValues {
  return {
    jobId: 3,
    taskId: 7,
    instanceId: 1,
    submitDir: "/home/u/sub",
    cwd: "/scratch/run",
    serverUid: "abc123",
    ...overrides,
  };
}

Deno.test("findPlaceholders() lists names once in order", () => {
  assert.deepEqual(findPlaceholders("%{CWD}/job-%{JOB_ID}/%{TASK_ID}-%{JOB_ID}.%{FOO}"), [
    "CWD",
    "JOB_ID",
    "TASK_ID",
    "FOO",
  ]);
  assert.deepEqual(findPlaceholders("plain/path"), []);
  assert.deepEqual(findPlaceholders("%{unclosed"), []);
});

Deno.test("unknownPlaceholders() lists names HyperQueue does not know", () => {
  assert.deepEqual(unknownPlaceholders("%{JOB_ID}/%{FOO}/%{job_id}/%{}"), ["FOO", "job_id", ""]);
  assert.deepEqual(unknownPlaceholders(DEFAULT_STDOUT), []);
});

Deno.test("resolvePlaceholders() substitutes every known placeholder", () => {
  assert.equal(
    resolvePlaceholders(
      "%{JOB_ID}-%{TASK_ID}-%{INSTANCE_ID}-%{SUBMIT_DIR}-%{CWD}-%{SERVER_UID}",
      values(),
    ),
    "3-7-1-/home/u/sub-/scratch/run-abc123",
  );
  assert.equal(resolvePlaceholders(DEFAULT_CWD, values()), "/home/u/sub");
});

Deno.test("resolvePlaceholders() leaves unknown placeholders verbatim", () => {
  assert.equal(resolvePlaceholders("a/%{FOO}/%{JOB_ID}", values()), "a/%{FOO}/3");
});

Deno.test("resolvePlaceholders() throws when CWD is unavailable", () => {
  const { cwd: _, ...noCwd } = values();
  assert.throws(() => resolvePlaceholders("%{CWD}/x", noCwd), {
    name: "RangeError",
    message: 'Cannot resolve placeholder "%{CWD}" in "%{CWD}/x": not available here',
  });
  assert.equal(resolvePlaceholders("%{TASK_ID}", noCwd), "7");
});

Deno.test("normalizePosixPath() removes dots and duplicate slashes", () => {
  const cases: [string, string][] = [
    ["/a/./b//c/", "/a/b/c"],
    ["/a/b/../c", "/a/c"],
    ["/../a", "/a"],
    ["./a", "a"],
    ["a/../..", ".."],
    ["", "."],
    ["/", "/"],
  ];
  for (const [input, expected] of cases) assert.equal(normalizePosixPath(input), expected, input);
});

Deno.test("joinPosixPath() joins relative and keeps absolute", () => {
  assert.equal(joinPosixPath("/base", "./out/x"), "/base/out/x");
  assert.equal(joinPosixPath("/base", "/abs/x"), "/abs/x");
});

Deno.test("resolveStdPath() resolves defaults and relative paths", () => {
  assert.equal(resolveStdPath(DEFAULT_STDOUT, values()), "/scratch/run/job-3/7.stdout");
  assert.equal(resolveStdPath(DEFAULT_STDERR, values()), "/scratch/run/job-3/7.stderr");
  assert.equal(resolveStdPath("./out-%{TASK_ID}.txt", values()), "/home/u/sub/out-7.txt");
  assert.equal(resolveStdPath("logs/%{INSTANCE_ID}", values()), "/home/u/sub/logs/1");
  assert.equal(resolveStdPath("/tmp/x-%{SERVER_UID}", values()), "/tmp/x-abc123");
});
