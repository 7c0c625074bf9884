import assert from "node:assert/strict";
import { JobFileError, parseJobFile } from "./job_file.ts";
import { validateJobSubmit } from "../protocol/mod.ts";
import type { JobSubmit, TaskTemplate } from "../protocol/mod.ts";

const DIR = "/home/u/work";

function parse(text: string): ReturnType<typeof parseJobFile> {
  const built = parseJobFile(text, "job.toml", DIR);
  validateJobSubmit(JSON.parse(JSON.stringify(built.job)));
  return built;
}

function job(text: string): JobSubmit {
  return parse(text).job;
}

/** The error of parsing `text`, checked to be a one-line JobFileError. */
function rejection(text: string): JobFileError {
  try {
    parseJobFile(text, "job.toml", DIR);
  } catch (e) {
    assert.ok(e instanceof JobFileError, `not a JobFileError: ${e}`);
    assert.ok(e instanceof SyntaxError);
    assert.ok(!e.message.includes("\n"), `message has several lines: ${e.message}`);
    assert.equal(e.file, "job.toml");
    return e;
  }
  assert.fail(`accepted:\n${text}`);
}

function rejects(text: string, message: string): void {
  assert.equal(rejection(text).message, `Invalid job file job.toml: ${message}`);
}

const TASK = '[[task]]\ncommand = ["run"]\n';

const DEFAULT_TEMPLATE: TaskTemplate = {
  program: {
    args: ["run"],
    env: {},
    cwd: "%{SUBMIT_DIR}",
    stdout: { path: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout", rmIfFinished: false },
    stderr: { path: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stderr", rmIfFinished: false },
  },
  requests: [{ entries: [{ resource: "cpus", amount: 10000, policy: "compact" }], minTimeMs: 0 }],
  pin: null,
  priority: 0,
  timeLimitMs: null,
  crashLimit: 5,
};

function template(text: string): TaskTemplate {
  return job(text).template;
}

Deno.test("parseJobFile() gives a minimal task the defaults of hq submit", () => {
  const { job, warnings } = parse(TASK);
  assert.deepEqual(warnings, []);
  assert.deepEqual(job, {
    name: "job",
    maxFails: null,
    submitDir: DIR,
    ids: [{ start: 1, end: 1 }],
    template: DEFAULT_TEMPLATE,
    graph: { templates: [DEFAULT_TEMPLATE], tasks: [{ id: 1, template: 0, deps: [] }] },
  });
});

Deno.test("parseJobFile() accepts every top-level and task key", () => {
  const text = `
name = "all-keys"
max_fails = 3
stream = "%{SUBMIT_DIR}/streams-%{JOB_ID}"
data_layer = true

[[task]]
id = 12
command = ["bash", "-c", "echo $ABC"]
env = { XYZ = "aaaa", ABC = "123" }
cwd = "work-%{TASK_ID}"
stdout = "out-%{TASK_ID}"
stderr = { path = "err-%{TASK_ID}", on_close = "rm-if-finished" }
pin = "taskset"
task_dir = true
time_limit = "1m 10s"
priority = -1
crash_limit = 12
stdin = "Hello world!"
deps = [13, "7:3"]
[[task.request]]
resources = { cpus = "4 compact!", gpus = 2, mem = 1.5, fpga = "all" }
time_request = "10s"
weight = 2.5
[[task.request]]
resources = { cpus = 8 }

[[task]]
id = 13
command = ["sleep", "0"]
[task.env]
"A" = "b"
[[task.request]]
n_nodes = 2
`;
  const { job, warnings } = parse(text);
  assert.deepEqual(warnings, []);
  assert.equal(job.name, "all-keys");
  assert.equal(job.maxFails, 3);
  assert.equal(job.stream, "%{SUBMIT_DIR}/streams-%{JOB_ID}");
  assert.deepEqual(job.ids, [{ start: 12, end: 13 }]);
  const [first, second] = job.graph!.templates;
  assert.deepEqual(first, {
    program: {
      args: ["bash", "-c", "echo $ABC"],
      env: { ABC: "123", XYZ: "aaaa" },
      cwd: "work-%{TASK_ID}",
      stdout: { path: "out-%{TASK_ID}", rmIfFinished: false },
      stderr: { path: "err-%{TASK_ID}", rmIfFinished: true },
      // Both channels have their own files: nothing is streamed (partial redirection).
      stream: { dir: "%{SUBMIT_DIR}/streams-%{JOB_ID}", stdout: false, stderr: false },
    },
    requests: [
      {
        entries: [
          { resource: "cpus", amount: 40000, policy: "forceCompact" },
          { resource: "fpga", amount: 0, policy: "all" },
          { resource: "gpus", amount: 20000, policy: "compact" },
          { resource: "mem", amount: 15000, policy: "compact" },
        ],
        minTimeMs: 10000,
        weight: 25000,
      },
      { entries: [{ resource: "cpus", amount: 80000, policy: "compact" }], minTimeMs: 0 },
    ],
    pin: "taskset",
    priority: -1,
    timeLimitMs: 70000,
    crashLimit: 12,
    taskDir: true,
    stdin: "Hello world!",
  });
  assert.deepEqual(second!.program.env, { A: "b" });
  // Task 13 sets neither channel: both are streamed, with no file.
  assert.deepEqual(
    [second!.program.stdout, second!.program.stderr, second!.program.stream],
    [null, null, { dir: "%{SUBMIT_DIR}/streams-%{JOB_ID}", stdout: true, stderr: true }],
  );
  assert.deepEqual(second!.requests, [{ entries: [], minTimeMs: 0, nNodes: 2 }]);
  // Task 12 depends on 13, so 13 comes first.
  assert.deepEqual(job.graph!.tasks, [
    { id: 13, template: 1, deps: [] },
    { id: 12, template: 0, deps: [13], externalDeps: [{ jobId: 7, id: 3 }] },
  ]);
  assert.equal(job.template, first);
});

Deno.test("parseJobFile() reads stdout and stderr as a path, none or a table", () => {
  const stdio = (value: string) => template(`${TASK}stdout = ${value}\n`).program.stdout;
  assert.equal(stdio('"none"'), null);
  assert.deepEqual(stdio('"o.txt"'), { path: "o.txt", rmIfFinished: false });
  assert.deepEqual(stdio('{ path = "o.txt" }'), { path: "o.txt", rmIfFinished: false });
  assert.deepEqual(stdio('{ path = "o", on_close = "never" }'), { path: "o", rmIfFinished: false });
  assert.deepEqual(stdio('{ path = "o", on_close = "rm-if-finished" }'), {
    path: "o",
    rmIfFinished: true,
  });
  // As `--stdout` reads it: the default path, removed when the task finishes.
  assert.deepEqual(stdio('":rm-if-finished"'), {
    path: "%{CWD}/job-%{JOB_ID}/%{TASK_ID}.stdout",
    rmIfFinished: true,
  });
  assert.equal(template(`${TASK}stderr = "none"\n`).program.stderr, null);
});

Deno.test("parseJobFile() reads durations as text or seconds", () => {
  const limit = (value: string) => template(`${TASK}time_limit = ${value}\n`).timeLimitMs;
  assert.equal(limit('"1h 30m"'), 5_400_000);
  assert.equal(limit('"01:30:00"'), 5_400_000);
  assert.equal(limit('"10s"'), 10_000);
  assert.equal(limit("90"), 90_000);
  assert.equal(limit("1.5"), 1_500);
  const request = (value: string) =>
    template(`${TASK}[[task.request]]\ntime_request = ${value}\n`).requests[0]!.minTimeMs;
  assert.equal(request('"2m"'), 120_000);
  assert.equal(request("0"), 0);
});

Deno.test("parseJobFile() reads crash limits, pins and priorities", () => {
  const crash = (value: string) => template(`${TASK}crash_limit = ${value}\n`).crashLimit;
  assert.equal(crash("3"), 3);
  assert.equal(crash('"4"'), 4);
  assert.equal(crash('"never-restart"'), "never-restart");
  assert.equal(crash('"unlimited"'), "unlimited");
  const pin = (value: string) => template(`${TASK}pin = ${value}\n`).pin;
  assert.equal(pin('"none"'), null);
  assert.equal(pin('"omp"'), "omp");
  assert.equal(template(`${TASK}priority = 2147483647\n`).priority, 2147483647);
  assert.equal(template(`${TASK}task_dir = false\n`).taskDir, undefined);
  assert.equal(template(`${TASK}stdin = ""\n`).stdin, undefined);
});

Deno.test("parseJobFile() gives tasks without id the ids above the file's largest id", () => {
  // HyperQueue's test_job_file_auto_id: the largest explicit id counts even when it comes later.
  const text = [
    TASK,
    `${TASK}id = 12\n`,
    `${TASK}id = 3\n`,
    TASK,
    TASK,
  ].join("\n");
  const { ids, graph } = job(text);
  assert.deepEqual(graph!.tasks.map((t) => t.id), [13, 12, 3, 14, 15]);
  assert.deepEqual(ids, [{ start: 3, end: 3 }, { start: 12, end: 15 }]);
  assert.deepEqual(job([TASK, TASK, TASK].join("\n")).graph!.tasks.map((t) => t.id), [1, 2, 3]);
  assert.deepEqual(job(`${TASK}id = 0\n\n${TASK}`).graph!.tasks.map((t) => t.id), [0, 1]);
});

Deno.test("parseJobFile() sorts tasks so that dependencies come first, else in file order", () => {
  const task = (id: number, deps: number[]) => `${TASK}id = ${id}\ndeps = [${deps.join(", ")}]\n`;
  const text = [task(1, [3]), task(2, []), task(3, [2]), task(4, []), task(5, [1, 4])].join("\n");
  const tasks = job(text).graph!.tasks;
  assert.deepEqual(tasks.map((t) => t.id), [2, 3, 1, 4, 5]);
  assert.deepEqual(tasks.map((t) => t.deps), [[], [2], [3], [], [1, 4]]);
  // Independent tasks keep the file order, whatever their ids.
  const plain = [task(9, []), task(2, []), task(5, [])].join("\n");
  assert.deepEqual(job(plain).graph!.tasks.map((t) => t.id), [9, 2, 5]);
});

Deno.test("parseJobFile() stores identical task definitions once", () => {
  const text = [
    `${TASK}id = 1\nenv = { A = "1", B = "2" }\n`,
    `${TASK}id = 2\ncwd = "elsewhere"\n`,
    // Same definition as task 1: other id, deps and key order do not matter.
    `${TASK}id = 3\ndeps = [1]\nenv = { B = "2", A = "1" }\n`,
    `${TASK}id = 4\nenv = { A = "1", B = "2" }\npriority = 0\ncrash_limit = 5\n`,
  ].join("\n");
  const { graph, template } = job(text);
  assert.equal(graph!.templates.length, 2);
  assert.deepEqual(graph!.tasks.map((t) => t.template), [0, 1, 0, 0]);
  assert.equal(graph!.templates[1]!.program.cwd, "elsewhere");
  assert.equal(template, graph!.templates[0]);
});

Deno.test("parseJobFile() reads dependencies on tasks of other jobs", () => {
  const text = `${TASK}id = 1\n\n${TASK}id = 2\ndeps = ["7:3", 1, "1", "7:3", "8:0"]\n`;
  const tasks = job(text).graph!.tasks;
  assert.deepEqual(tasks[1], {
    id: 2,
    template: 0,
    deps: [1],
    externalDeps: [{ jobId: 7, id: 3 }, { jobId: 8, id: 0 }],
  });
  assert.equal("externalDeps" in tasks[0]!, false);
});

Deno.test("parseJobFile() reads an array with ids", () => {
  const { job, warnings } = parse('[array]\nids = "2, 10-14, 120"\ncommand = ["run"]\n');
  assert.deepEqual(warnings, []);
  assert.deepEqual(job, {
    name: "job",
    maxFails: null,
    submitDir: DIR,
    ids: [{ start: 2, end: 2 }, { start: 10, end: 14 }, { start: 120, end: 120 }],
    template: DEFAULT_TEMPLATE,
  });
});

Deno.test("parseJobFile() reads an array with entries, with and without ids", () => {
  const only = job('[array]\nentries = ["a", "bb", "ccc"]\ncommand = ["run"]\n');
  assert.deepEqual(only.ids, [{ start: 0, end: 2 }]);
  assert.deepEqual(only.entries, ["a", "bb", "ccc"]);
  const both = job(
    '[array]\nids = "2,10-12"\nentries = ["a", "bb", "ccc", "x"]\ncommand = ["r"]\n',
  );
  assert.deepEqual(both.ids, [{ start: 2, end: 2 }, { start: 10, end: 12 }]);
  assert.deepEqual(both.entries, ["a", "bb", "ccc", "x"]);
  // Empty entries with ids: a plain array.
  assert.equal("entries" in job('[array]\nids = "1-2"\nentries = []\ncommand = ["r"]\n'), false);
});

Deno.test("parseJobFile() encodes non-string array entries as JSON", () => {
  const text = `[array]
command = ["run"]
entries = [1, "x", { a = [2.5, true], b = 12345678901234567890 }, 1979-05-27]
`;
  assert.deepEqual(job(text).entries, [
    "1",
    '"x"',
    '{"a":[2.5,true],"b":12345678901234567890}',
    '"1979-05-27"',
  ]);
});

Deno.test("parseJobFile() warns when array tasks share an output file", () => {
  const array = (extra: string) => parse(`[array]\nids = "1-3"\ncommand = ["r"]\n${extra}`);
  const { warnings } = array('stdout = "out.txt"\nstderr = "err-%{TASK_ID}"\n');
  assert.deepEqual(warnings, [
    "You have submitted an array job, but the `stdout` path does not contain the task ID placeholder.\n" +
    "Individual tasks might thus overwrite the file. Consider adding `%{TASK_ID}` to the `--stdout` value.",
  ]);
  assert.deepEqual(array('stdout = { path = "o-%{TASK_ID}" }\nstderr = "none"\n').warnings, []);
  assert.deepEqual(array('cwd = "w-%{TASK_ID}"\nstdout = "%{CWD}/o"\n').warnings, []);
  assert.deepEqual(parse('[array]\nids = "4"\ncommand = ["r"]\nstdout = "o"\n').warnings, []);
  // More than 999 output files without a stream directory.
  const many = '[array]\nids = "1-500"\ncommand = ["r"]\nstdout = "o-%{TASK_ID}"\n';
  assert.deepEqual(parse(many).warnings, [
    "The job will create 1000 files for stdout and stderr. " +
    "Consider using the `--stream` option to stream all outputs into a single file",
  ]);
  assert.deepEqual(parse(`stream = "s"\n${many}`).warnings, []);
});

Deno.test("parseJobFile() reads multi-node requests and up to 32 variants", () => {
  const multi = template(`${TASK}[[task.request]]\nn_nodes = 3\ntime_request = "1m"\n`);
  assert.deepEqual(multi.requests, [{ entries: [], minTimeMs: 60_000, nNodes: 3 }]);
  const zero = template(`${TASK}[[task.request]]\nn_nodes = 0\nresources = { gpus = 1 }\n`);
  assert.equal(zero.requests[0]!.entries.length, 2);
  const variants = Array.from(
    { length: 32 },
    (_, i) => `[[task.request]]\nresources = { cpus = ${i + 1} }\n`,
  ).join("");
  const requests = template(`${TASK}${variants}`).requests;
  assert.equal(requests.length, 32);
  assert.equal(requests[31]!.entries[0]!.amount, 320000);
  assert.equal(template(`${TASK}request = []\n`).requests.length, 1);
});

Deno.test("parseJobFile() reports TOML syntax errors with their line and column", () => {
  const e = rejection('[[task]]\ncommand = ["run"\nid = 1\n');
  assert.equal(e.line, 3);
  assert.equal(e.column, 1);
  assert.equal(e.key, null);
  assert.match(e.message, /^Invalid job file job\.toml: line 3, column 1: \S/);
  const duplicate = rejection(`${TASK}command = ["again"]\n`);
  assert.equal(duplicate.line, 3);
  assert.match(duplicate.message, /line 3, column 1: trying to redefine/);
});

Deno.test("parseJobFile() rejects unknown keys with their path", () => {
  rejects(`nme = "x"\n${TASK}`, 'unknown key "nme"');
  rejects(`${TASK}\n${TASK}\n[[task]]\ncomand = ["x"]\n`, 'unknown key "task[2].comand"');
  rejects(`${TASK}[[task.request]]\nresource = {}\n`, 'unknown key "task[0].request[0].resource"');
  rejects(`${TASK}stdout = { path = "o", mode = "x" }\n`, 'unknown key "task[0].stdout.mode"');
  rejects('[array]\nids = "1"\nid = 1\ncommand = ["r"]\n', 'unknown key "array.id"');
  rejects('[array]\nids = "1"\ndeps = [1]\ncommand = ["r"]\n', 'unknown key "array.deps"');
  rejects('stream_log = "x"\n[array]\nids = "1"\ncommand = ["r"]\n', 'unknown key "stream_log"');
});

Deno.test("parseJobFile() rejects values of the wrong type", () => {
  const cases: [string, string][] = [
    [`${TASK}priority = "1"`, '"task[0].priority": expected an integer, found a string'],
    [`${TASK}priority = 1.0`, '"task[0].priority": expected an integer, found a float'],
    [
      `${TASK}priority = 2147483648`,
      '"task[0].priority": expected an integer in -2147483648..2147483647, found 2147483648',
    ],
    [
      '[[task]]\ncommand = "run"',
      '"task[0].command": expected an array of strings, found a string',
    ],
    ['[[task]]\ncommand = ["run", 1]', '"task[0].command[1]": expected a string, found an integer'],
    [`${TASK}env = { A = 1 }`, '"task[0].env.A": expected a string, found an integer'],
    [`${TASK}env = ["A=1"]`, '"task[0].env": expected a table of strings, found an array'],
    [`${TASK}env = { "A=B" = "1" }`, '"task[0].env.A=B": invalid variable name'],
    [`${TASK}task_dir = "yes"`, '"task[0].task_dir": expected a boolean, found a string'],
    [`${TASK}stdin = 1`, '"task[0].stdin": expected a string, found an integer'],
    [`${TASK}cwd = false`, '"task[0].cwd": expected a string, found a boolean'],
    [`${TASK}id = -1`, '"task[0].id": expected an integer in 0..4294967295, found -1'],
    [
      `${TASK}id = 4294967296`,
      '"task[0].id": expected an integer in 0..4294967295, found 4294967296',
    ],
    [`${TASK}id = "1"`, '"task[0].id": expected an integer, found a string'],
    [`name = 1\n${TASK}`, '"name": expected a string, found an integer'],
    [`name = "a\\tb"\n${TASK}`, '"name": must not contain newlines or tabs'],
    [`max_fails = -1\n${TASK}`, '"max_fails": expected an integer in 0..4294967295, found -1'],
    [`data_layer = 1\n${TASK}`, '"data_layer": expected a boolean, found an integer'],
    [`stream = 1\n${TASK}`, '"stream": expected a string, found an integer'],
    ['[task]\ncommand = ["r"]', '"task": expected an array of tables ([[task]]), found a table'],
    [
      `${TASK}[task.request]\nresources = {}`,
      '"task[0].request": expected an array of tables ([[task.request]]), found a table',
    ],
    ["array = 1", '"array": expected a table ([array]), found an integer'],
    [
      `${TASK}deps = 1`,
      '"task[0].deps": expected an array of task ids or "JOB:TASK" strings, found an integer',
    ],
    [
      `${TASK}deps = [true]`,
      '"task[0].deps[0]": expected a task id or a "JOB:TASK" string, found a boolean',
    ],
    [
      `${TASK}deps = ["a:b"]`,
      '"task[0].deps[0]": expected a task id or "JOB:TASK" (a task of another job), found "a:b"',
    ],
    [
      `${TASK}time_limit = true`,
      '"task[0].time_limit": expected a duration such as "1h 30m" or a number of seconds, found a boolean',
    ],
  ];
  for (const [text, message] of cases) rejects(text, message);
});

Deno.test("parseJobFile() rejects bad durations, crash limits, pins and weights", () => {
  const cases: [string, string][] = [
    [
      `${TASK}time_limit = "1.5h"`,
      '"task[0].time_limit": Cannot parse duration "1.5h": fractions are not supported in "1.5h", use smaller units, e.g. "1s 500ms"',
    ],
    [
      `${TASK}time_limit = "10 parsecs"`,
      '"task[0].time_limit": Cannot parse duration "10 parsecs": unknown unit "parsecs"',
    ],
    [`${TASK}time_limit = "0s"`, '"task[0].time_limit": must be positive'],
    [
      `${TASK}time_limit = -5`,
      '"task[0].time_limit": expected a duration of 0 seconds or more, found "-5"',
    ],
    [
      `${TASK}[[task.request]]\ntime_request = "soon"`,
      '"task[0].request[0].time_request": Cannot parse duration "soon": expected a number at "soon"',
    ],
    [
      `${TASK}crash_limit = 0`,
      '"task[0].crash_limit": expected a positive integer, "never-restart" or "unlimited", found 0',
    ],
    [
      `${TASK}crash_limit = -2`,
      '"task[0].crash_limit": expected a positive integer, "never-restart" or "unlimited", found -2',
    ],
    [
      `${TASK}crash_limit = "often"`,
      '"task[0].crash_limit": expected a positive integer, "never-restart" or "unlimited", found "often"',
    ],
    [
      `${TASK}crash_limit = 1.5`,
      '"task[0].crash_limit": expected a positive integer, "never-restart" or "unlimited", found a float',
    ],
    [
      `${TASK}pin = "always"`,
      '"task[0].pin": expected one of "none", "taskset", "omp", found "always"',
    ],
    [
      `${TASK}pin = true`,
      '"task[0].pin": expected one of "none", "taskset", "omp", found a boolean',
    ],
    [
      `${TASK}[[task.request]]\nweight = 0`,
      '"task[0].request[0].weight": expected a number > 0 with at most 4 decimal places, found 0',
    ],
    [
      `${TASK}[[task.request]]\nweight = -1.5`,
      '"task[0].request[0].weight": expected a number > 0 with at most 4 decimal places, found -1.5',
    ],
    [
      `${TASK}[[task.request]]\nweight = "2"`,
      '"task[0].request[0].weight": expected a number > 0, found a string',
    ],
    [
      `${TASK}[[task.request]]\nn_nodes = -1`,
      '"task[0].request[0].n_nodes": expected an integer in 0..2147483647, found -1',
    ],
  ];
  for (const [text, message] of cases) rejects(text, message);
});

Deno.test("parseJobFile() rejects bad resource requests", () => {
  const request = (line: string) => `${TASK}[[task.request]]\n${line}\n`;
  const cases: [string, string][] = [
    [
      request('resources = { cpus = "4 loose" }'),
      '"task[0].request[0].resources.cpus": unknown policy "loose" (use compact, compact!, tight, tight!, scatter)',
    ],
    [
      request("resources = { gpus = 0 }"),
      '"task[0].request[0].resources.gpus": amount must be positive',
    ],
    [
      request('resources = { gpus = "x" }'),
      '"task[0].request[0].resources.gpus": amount "x" is not a number',
    ],
    [
      request("resources = { gpus = 0.00001 }"),
      '"task[0].request[0].resources.gpus": amount "0.00001" is not a number',
    ],
    [
      request('resources = { gpus = "all scatter" }'),
      '"task[0].request[0].resources.gpus": "all" takes no policy',
    ],
    [
      request("resources = { gpus = true }"),
      '"task[0].request[0].resources.gpus": expected an amount, "<amount> [policy]" or "all", found a boolean',
    ],
    [
      request('resources = { "1gpu" = 1 }'),
      '"task[0].request[0].resources.1gpu": invalid resource name (use an ASCII letter, then letters, digits or "/")',
    ],
    [
      request('resources = "cpus=1"'),
      '"task[0].request[0].resources": expected a table such as { cpus = "4 compact!", gpus = 1 }, found a string',
    ],
    [
      request("n_nodes = 2\nresources = { cpus = 1 }"),
      '"task[0].request[0].resources": a multi-node request (n_nodes > 0) takes whole workers and cannot list resources',
    ],
    [
      `${request("n_nodes = 2")}[[task.request]]\nresources = { cpus = 1 }`,
      '"task[0].request": variants must be all single-node or all multi-node (n_nodes > 0)',
    ],
    [
      request('n_nodes = 2\n[[task]]\ncommand = ["r"]\npin = "omp"\n[[task.request]]\nn_nodes = 1'),
      '"task[1].pin": a multi-node task cannot be pinned',
    ],
  ];
  for (const [text, message] of cases) rejects(text, message);
  const variants = "[[task.request]]\n".repeat(33);
  rejects(`${TASK}${variants}`, '"task[0].request": 33 variants exceed the maximum of 32');
});

Deno.test("parseJobFile() rejects bad stdio values and placeholders", () => {
  const cases: [string, string][] = [
    [
      `${TASK}stdout = ""`,
      '"task[0].stdout": must not be empty (use "none" to discard the output)',
    ],
    [
      `${TASK}stdout = 1`,
      '"task[0].stdout": expected a path, "none" or a table {path, on_close}, found an integer',
    ],
    [`${TASK}stderr = { on_close = "never" }`, '"task[0].stderr.path": is required'],
    [`${TASK}stderr = { path = "" }`, '"task[0].stderr.path": must not be empty'],
    [
      `${TASK}stderr = { path = "e", on_close = "always" }`,
      '"task[0].stderr.on_close": expected "never" or "rm-if-finished"',
    ],
    [`${TASK}stdout = "%{JOBID}.out"`, '"task[0].stdout": unknown placeholder `%{JOBID}`'],
    [
      `${TASK}stdout = { path = "%{A}%{B}" }`,
      '"task[0].stdout.path": unknown placeholders `%{A}, %{B}`',
    ],
    [`${TASK}cwd = "%{TASKID}"`, '"task[0].cwd": unknown placeholder `%{TASKID}`'],
    [
      `${TASK}cwd = "%{CWD}/x"`,
      '"task[0].cwd": the working directory cannot contain the working directory placeholder `%{CWD}`',
    ],
    [`${TASK}cwd = ""`, '"task[0].cwd": must not be empty'],
    [`stream = "s-%{X}"\n${TASK}`, '"stream": unknown placeholder `%{X}`'],
    [`name = ""\n${TASK}`, '"name": must not be empty'],
  ];
  for (const [text, message] of cases) rejects(text, message);
});

Deno.test("parseJobFile() rejects a missing or empty command", () => {
  rejects("[[task]]\nid = 1\n", '"task[0].command": is required (the program and its arguments)');
  rejects(
    `${TASK}\n[[task]]\ncommand = []\n`,
    '"task[1].command": must not be empty (the program and its arguments)',
  );
  rejects('[[task]]\ncommand = ["", "x"]\n', '"task[0].command[0]": the program must not be empty');
  rejects('[array]\nids = "1"\n', '"array.command": is required (the program and its arguments)');
});

Deno.test("parseJobFile() rejects duplicate ids and bad dependencies", () => {
  rejects(
    `${TASK}id = 4\n\n${TASK}id = 5\n\n${TASK}id = 4\n`,
    '"task[2].id": task id 4 is already used by task[0]',
  );
  rejects(`${TASK}id = 4\ndeps = [4]\n`, '"task[0].deps": task 4 depends on itself');
  rejects(`${TASK}deps = ["1"]\n`, '"task[0].deps": task 1 depends on itself');
  rejects(
    `${TASK}id = 1\n\n${TASK}id = 2\ndeps = [1, 9]\n`,
    '"task[1].deps": task 2 depends on task 9, which is not defined in this file',
  );
  rejects(
    `${TASK}deps = [4294967296]\n`,
    '"task[0].deps[0]": expected an integer in 0..4294967295, found 4294967296',
  );
  rejects(
    `${TASK}id = 4294967295\n\n${TASK}`,
    '"task[1]": no task id is left above 4294967295 to assign',
  );
});

Deno.test("parseJobFile() rejects dependency cycles and names a task of the cycle", () => {
  const task = (id: number, deps: number[]) => `${TASK}id = ${id}\ndeps = [${deps.join(", ")}]\n`;
  rejects(
    [task(1, []), task(5, [7]), task(6, [1, 5]), task(7, [6])].join("\n"),
    '"task[1].deps": task 5 is part of a dependency cycle: 5 -> 7 -> 6 -> 5 (each depends on the next)',
  );
  // A task that only leads into the cycle is not named.
  const e = rejection([task(1, [2]), task(2, [3]), task(3, [2])].join("\n"));
  assert.equal(e.key, "task[1].deps");
  assert.match(e.message, /task 2 is part of a dependency cycle: 2 -> 3 -> 2 /);
  // A long cycle is cut in the message.
  const ring = Array.from({ length: 12 }, (_, i) => task(i, [(i + 1) % 12])).join("\n");
  rejects(
    ring,
    '"task[0].deps": task 0 is part of a dependency cycle: 0 -> 1 -> 2 -> 3 -> 4 -> 5 -> 6 -> 7 -> 8 -> 9 -> ... -> 0 (each depends on the next, 12 tasks)',
  );
});

Deno.test("parseJobFile() rejects [[task]] mixed with [array], and files without tasks", () => {
  rejects(
    `[array]\nids = "2"\ncommand = ["r"]\n\n${TASK}`,
    "[[task]] and [array] cannot be mixed: define individual tasks or one array",
  );
  rejects('name = "x"\n', "no tasks defined: expected [[task]] tables or an [array] table");
  rejects("task = []\n", '"task": no tasks defined');
  rejects(
    '[array]\ncommand = ["r"]\n',
    '"array": expected "ids" or a non-empty "entries" (or both)',
  );
});

Deno.test("parseJobFile() rejects arrays whose ids and entries do not match", () => {
  rejects(
    '[array]\nids = "1-3"\nentries = ["a", "b"]\ncommand = ["r"]\n',
    '"array.entries": 2 entries do not match the 3 ids of "array.ids"',
  );
  rejects(
    '[array]\nids = "5-1"\ncommand = ["r"]\n',
    '"array.ids": Cannot parse id set "5-1": range "5-1" ends before it starts',
  );
  rejects(
    '[array]\nids = 5\ncommand = ["r"]\n',
    '"array.ids": expected a string, found an integer',
  );
  rejects(
    '[array]\nentries = "a"\ncommand = ["r"]\n',
    '"array.entries": expected an array, found a string',
  );
  rejects(
    '[array]\nentries = [1, nan]\ncommand = ["r"]\n',
    '"array.entries[1]": cannot encode NaN as JSON',
  );
});

Deno.test("JobFileError keeps the key path and escapes control characters", () => {
  const e = rejection(`${TASK}env = { "A=\\nB" = "1" }\n`);
  assert.equal(e.key, "task[0].env.A=\nB");
  assert.equal(e.line, null);
  assert.equal(e.message, 'Invalid job file job.toml: "task[0].env.A=\\nB": invalid variable name');
  const named = (() => {
    try {
      parseJobFile("x", "dir/my\njob.toml", DIR);
    } catch (err) {
      return err as JobFileError;
    }
  })()!;
  assert.ok(named.message.startsWith("Invalid job file dir/my\\njob.toml: line 1, column 1: "));
});

Deno.test("parseJobFile() streams the channels an [array] does not set", () => {
  const streamed = job(`stream = "log"\n[array]\nids = "1-3"\ncommand = ["r"]\nstderr = "none"\n`);
  const program = streamed.template.program;
  assert.deepEqual(program.stream, { dir: "log", stdout: true, stderr: false });
  assert.equal(program.stdout, null);
  assert.equal(program.stderr, null);
  assert.equal("stream" in job(`[array]\nids = "1"\ncommand = ["r"]\n`).template.program, false);
});

Deno.test("parseJobFile() says whether the file gives task ids (autoIds for an open job)", () => {
  const autoIds = (text: string) => parse(text).autoIds;
  assert.equal(autoIds('[[task]]\ncommand = ["a"]\n[[task]]\ncommand = ["b"]\n'), true);
  assert.equal(autoIds('[[task]]\ncommand = ["a"]\n[[task]]\nid = 4\ncommand = ["b"]\n'), false);
  assert.equal(autoIds('[array]\nids = "2-3"\ncommand = ["a"]\n'), false);
  assert.equal(autoIds('[array]\nentries = ["x"]\ncommand = ["a"]\n'), true);
});
