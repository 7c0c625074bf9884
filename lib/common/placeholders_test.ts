import assert from "node:assert/strict";
import {
  DEFAULT_CWD,
  DEFAULT_STDERR,
  DEFAULT_STDOUT,
  fillPlaceholdersAfterSubmit,
  fillPlaceholdersInPaths,
  findPlaceholders,
  unknownPlaceholders,
} from "./placeholders.ts";

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

const TASK = { jobId: 3, taskId: 7, instanceId: 1, submitDir: "/home/u/sub", serverUid: "abc123" };

Deno.test("fillPlaceholdersInPaths() fills every known placeholder of a task", () => {
  assert.deepEqual(
    fillPlaceholdersInPaths(
      { cwd: DEFAULT_CWD, stdout: DEFAULT_STDOUT, stderr: DEFAULT_STDERR },
      TASK,
    ),
    {
      cwd: "/home/u/sub",
      stdout: "/home/u/sub/job-3/7.stdout",
      stderr: "/home/u/sub/job-3/7.stderr",
    },
  );
  assert.deepEqual(
    fillPlaceholdersInPaths(
      {
        cwd: "/scratch/%{SERVER_UID}-%{INSTANCE_ID}",
        stdout: "./out-%{TASK_ID}.txt",
        stderr: null,
      },
      TASK,
    ),
    { cwd: "/scratch/abc123-1", stdout: "/scratch/abc123-1/out-7.txt", stderr: null },
  );
});

Deno.test("fillPlaceholdersInPaths() resolves a relative cwd against the submit dir", () => {
  const p = fillPlaceholdersInPaths(
    { cwd: "run/%{JOB_ID}", stdout: "%{CWD}/o", stderr: "e" },
    TASK,
  );
  assert.deepEqual(p, {
    cwd: "/home/u/sub/run/3",
    stdout: "/home/u/sub/run/3/o",
    stderr: "/home/u/sub/run/3/e",
  });
});

Deno.test("fillPlaceholdersInPaths() leaves unknown placeholders verbatim", () => {
  const p = fillPlaceholdersInPaths(
    { cwd: "/a/%{FOO}", stdout: "%{JOB_ID}-%{BAR}", stderr: null },
    TASK,
  );
  assert.deepEqual(p, { cwd: "/a/%{FOO}", stdout: "3-%{BAR}", stderr: null });
});

Deno.test("fillPlaceholdersAfterSubmit() keeps task placeholders and anchors a relative cwd", () => {
  const job = { jobId: 5, submitDir: "/foo", serverUid: "testHQ" };
  assert.deepEqual(
    fillPlaceholdersAfterSubmit(
      {
        cwd: "%{SUBMIT_DIR}/%{SERVER_UID}/%{JOB_ID}-%{TASK_ID}",
        stdout: "%{CWD}/out",
        stderr: "%{CWD}/err",
      },
      job,
    ),
    {
      cwd: "/foo/testHQ/5-%{TASK_ID}",
      stdout: "/foo/testHQ/5-%{TASK_ID}/out",
      stderr: "/foo/testHQ/5-%{TASK_ID}/err",
    },
  );
  // `task-%{TASK_ID}` is relative to the submit dir; %{CWD} must not repeat it at the worker.
  const rel = fillPlaceholdersAfterSubmit(
    { cwd: "task-%{TASK_ID}", stdout: "%{CWD}/foo", stderr: "x-%{TASK_ID}" },
    job,
  );
  assert.deepEqual(rel, {
    cwd: "/foo/task-%{TASK_ID}",
    stdout: "/foo/task-%{TASK_ID}/foo",
    stderr: "x-%{TASK_ID}",
  });
  assert.deepEqual(fillPlaceholdersInPaths(rel, { ...TASK, jobId: 5, submitDir: "/foo" }), {
    cwd: "/foo/task-7",
    stdout: "/foo/task-7/foo",
    stderr: "/foo/task-7/x-7",
  });
});
