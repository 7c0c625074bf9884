import assert from "node:assert/strict";
import fc from "fast-check";
import { compileTaskPaths } from "./task_paths.ts";
import { fillPlaceholdersInPaths, type PathTemplates } from "./placeholders.ts";

const JOB = { jobId: 7, submitDir: "/home/u", serverUid: "aBc123" };

function check(templates: PathTemplates, taskId: number, instanceId: number): void {
  assert.deepEqual(
    compileTaskPaths(templates, JOB)(taskId, instanceId),
    fillPlaceholdersInPaths(templates, { ...JOB, taskId, instanceId }),
    JSON.stringify({ templates, taskId, instanceId }),
  );
}

Deno.test("compileTaskPaths() resolves the default templates per task", () => {
  const resolve = compileTaskPaths(
    {
      cwd: "/home/u",
      stdout: "/home/u/job-7/%{TASK_ID}.stdout",
      stderr: "/home/u/job-7/%{TASK_ID}.stderr",
    },
    JOB,
  );
  assert.deepEqual(resolve(3, 1), {
    cwd: "/home/u",
    stdout: "/home/u/job-7/3.stdout",
    stderr: "/home/u/job-7/3.stderr",
  });
});

Deno.test("compileTaskPaths() agrees with fillPlaceholdersInPaths() on odd templates", () => {
  const cases: PathTemplates[] = [
    { cwd: "%{INSTANCE_ID}-dir/./x/..", stdout: "%{CWD}/%{TASK_ID}%{INSTANCE_ID}", stderr: null },
    { cwd: "/w/%{FOO}/%{TASK_ID}", stdout: "o-%{BAR}", stderr: "../%{TASK_ID}/e" },
    {
      cwd: "a/%{TASK_ID}/../b",
      stdout: "%{TASK_ID}/../../%{INSTANCE_ID}",
      stderr: "//x//%{JOB_ID}",
    },
    { cwd: "/x/4092718273645191", stdout: null, stderr: null },
  ];
  for (const t of cases) {
    for (const [task, instance] of [[0, 0], [12, 3], [4294967295, 77]]) {
      check(t, task!, instance!);
    }
  }
});

Deno.test("compileTaskPaths() agrees with fillPlaceholdersInPaths() on random templates", () => {
  const part = fc.constantFrom(
    "%{TASK_ID}",
    "%{INSTANCE_ID}",
    "%{JOB_ID}",
    "%{CWD}",
    "%{SUBMIT_DIR}",
    "%{SERVER_UID}",
    "%{X}",
    "/",
    ".",
    "..",
    "a",
    "-",
  );
  const template = fc.array(part, { maxLength: 8 }).map((p) => p.join(""));
  fc.assert(
    fc.property(
      template,
      fc.option(template),
      fc.option(template),
      fc.nat(),
      fc.nat({ max: 50 }),
      (cwd, stdout, stderr, task, instance) => {
        check({ cwd: cwd.replaceAll("%{CWD}", ""), stdout, stderr }, task, instance);
      },
    ),
  );
});
