import assert from "node:assert/strict";
import {
  arrayOutputWarnings,
  jobPlacement,
  parseEachLine,
  parseJsonEntries,
  selectTaskIds,
} from "./task_inputs.ts";
import { UsageError } from "./args.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("parseEachLine() splits on newlines as HyperQueue reads lines", () => {
  assert.deepEqual(parseEachLine(bytes("a\nb\nc")), ["a", "b", "c"]);
  assert.deepEqual(parseEachLine(bytes("a\nb\n")), ["a", "b"], "a final newline adds no entry");
  assert.deepEqual(parseEachLine(bytes("a\n\n")), ["a", ""], "a blank last line is an entry");
  assert.deepEqual(parseEachLine(bytes("\n")), [""]);
  assert.deepEqual(parseEachLine(bytes("")), []);
  assert.deepEqual(parseEachLine(bytes("x\r\ny\r\n")), ["x\r", "y\r"], "only \\n splits");
  assert.deepEqual(parseEachLine(bytes(" spaced  \n")), [" spaced  "]);
  assert.deepEqual(parseEachLine(new Uint8Array([0x61, 0xff, 0x0a])), ["a\ufffd"]);
});

Deno.test("parseJsonEntries() gives each element as compact JSON", () => {
  assert.deepEqual(parseJsonEntries('[1, 2.5, "a b", null, [ 1 , 2 ], {"k": {"n": 1}}]', "f"), [
    "1",
    "2.5",
    '"a b"',
    "null",
    "[1,2]",
    '{"k":{"n":1}}',
  ]);
  assert.deepEqual(parseJsonEntries("[]", "f"), []);
});

Deno.test("parseJsonEntries() refuses bad JSON and non-arrays in one line naming the file", () => {
  const cases: [string, RegExp][] = [
    ["[1, 2", /^Cannot parse JSON file "data\/in\.json": /],
    ["", /^Cannot parse JSON file "data\/in\.json": /],
    ["[1,\n\n x]", /^Cannot parse JSON file "data\/in\.json": /],
    [
      '{"a": [1]}',
      /^data\/in\.json: The top element of the provided JSON file has to be an array$/,
    ],
    ["42", /^data\/in\.json: The top element/],
  ];
  for (const [text, re] of cases) {
    assert.throws(
      () => parseJsonEntries(text, "data/in.json"),
      (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes("\n"),
      JSON.stringify(text),
    );
  }
});

Deno.test("selectTaskIds() makes one task per entry, ids from 0", () => {
  assert.deepEqual(selectTaskIds({ eachLine: "f" }, ["a", "b", "c"]), {
    ids: [{ start: 0, end: 2 }],
    entries: ["a", "b", "c"],
  });
  assert.deepEqual(selectTaskIds({ fromJson: "f" }, ["1"]), {
    ids: [{ start: 0, end: 0 }],
    entries: ["1"],
  });
});

Deno.test("selectTaskIds() lets --array pick entries and drops ids past the end", () => {
  const all = ["e0", "e1", "e2", "e3", "e4"];
  assert.deepEqual(selectTaskIds({ eachLine: "f", array: "3,1" }, all), {
    ids: [{ start: 1, end: 1 }, { start: 3, end: 3 }],
    entries: ["e1", "e3"],
  });
  assert.deepEqual(selectTaskIds({ eachLine: "f", array: "0-10:2" }, all), {
    ids: [{ start: 0, end: 0 }, { start: 2, end: 2 }, { start: 4, end: 4 }],
    entries: ["e0", "e2", "e4"],
  });
  assert.deepEqual(selectTaskIds({ fromJson: "f", array: "3-4294967295" }, all), {
    ids: [{ start: 3, end: 4 }],
    entries: ["e3", "e4"],
  });
  // Without entries, --array is the ids as given.
  assert.deepEqual(selectTaskIds({ array: "7-9" }, undefined), { ids: [{ start: 7, end: 9 }] });
});

Deno.test("selectTaskIds() refuses selections without tasks, conflicts and mismatched inputs", () => {
  const usage: [Parameters<typeof selectTaskIds>, string][] = [
    [
      [{ eachLine: "in.txt" }, []],
      'Cannot submit: "in.txt" holds no entries, so there is no task to create',
    ],
    [
      [{ eachLine: "in.txt", array: "5-9" }, ["a", "b"]],
      'Cannot submit: --array "5-9" selects none of the 2 entries of "in.txt"',
    ],
    [
      [{ eachLine: "a", fromJson: "b" }, ["x"]],
      "the argument '--from-json <FROM_JSON>' cannot be used with '--each-line <EACH_LINE>'",
    ],
  ];
  for (const [args, message] of usage) {
    assert.throws(
      () => selectTaskIds(...args),
      (e) => e instanceof UsageError && e.message === message,
    );
  }
  assert.throws(() => selectTaskIds({ eachLine: "f", array: "x" }, ["a"]), /for --array/);
  assert.throws(() => selectTaskIds({ eachLine: "f" }, undefined), TypeError);
  assert.throws(() => selectTaskIds({}, ["a"]), TypeError);
});

Deno.test("jobPlacement() checks --job and --after", () => {
  assert.deepEqual(jobPlacement({}), {});
  assert.deepEqual(jobPlacement({ job: "12" }), { jobId: 12 });
  assert.deepEqual(jobPlacement({ after: " 1,3-5 " }), { after: "1,3-5" });
  assert.deepEqual(jobPlacement({ after: "last" }), { after: "last" });
  for (const job of ["0", "-1", "x", "1.5", "4294967296", ""]) {
    assert.throws(
      () => jobPlacement({ job }),
      (e) => e instanceof UsageError && e.message.includes("for --job"),
      job,
    );
  }
  for (const after of ["all", "first", "5-1", ""]) {
    assert.throws(
      () => jobPlacement({ after }),
      (e) => e instanceof UsageError && e.message.includes("for --after"),
      after,
    );
  }
});

Deno.test("jobPlacement() refuses --name and --max-fails with --job", () => {
  assert.throws(() => jobPlacement({ job: "3", name: "x" }), {
    name: "UsageError",
    message: "Cannot use --name with --job: tasks added to an open job keep the job's settings",
  });
  assert.throws(() => jobPlacement({ job: "3", maxFails: "2" }), {
    message:
      "Cannot use --max-fails with --job: tasks added to an open job keep the job's settings",
  });
  assert.deepEqual(jobPlacement({ name: "x", maxFails: "2" }), {});
});

Deno.test("arrayOutputWarnings() suggests --stream past 999 output files", () => {
  const both = {
    stdout: { path: "%{TASK_ID}.out", rmIfFinished: false },
    stderr: { path: "%{TASK_ID}.err", rmIfFinished: false },
    cwd: "%{SUBMIT_DIR}",
  };
  assert.deepEqual(arrayOutputWarnings({}, 499, both), [], "998 files");
  assert.deepEqual(arrayOutputWarnings({}, 500, both), [
    "The job will create 1000 files for stdout and stderr. " +
    "Consider using the `--stream` option to stream all outputs into a single file",
  ]);
  assert.deepEqual(arrayOutputWarnings({ stream: "/s" }, 5000, both), []);
  const stderrOnly = { ...both, stdout: null };
  assert.deepEqual(arrayOutputWarnings({ stdout: "none" }, 999, stderrOnly), []);
  assert.deepEqual(arrayOutputWarnings({ stdout: "none" }, 1000, stderrOnly), [
    "The job will create 1000 files for stderr. " +
    "Consider using the `--stream` option to stream all outputs into a single file",
  ]);
  assert.deepEqual(arrayOutputWarnings({}, 1, both), [], "one task");
});

Deno.test("arrayOutputWarnings() warns about a shared output path only for several tasks", () => {
  const shared = {
    stdout: { path: "out.txt", rmIfFinished: false },
    stderr: null,
    cwd: "%{SUBMIT_DIR}",
  };
  assert.equal(arrayOutputWarnings({ stdout: "out.txt" }, 2, shared).length, 1);
  assert.match(arrayOutputWarnings({ stdout: "out.txt" }, 2, shared)[0]!, /`stdout` path/);
  assert.deepEqual(arrayOutputWarnings({ stdout: "out.txt" }, 1, shared), []);
  // The default path is not the user's, so no warning about it.
  assert.deepEqual(arrayOutputWarnings({}, 2, shared), []);
});
