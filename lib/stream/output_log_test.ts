import assert from "node:assert/strict";
import {
  buildOutputLog,
  catOutput,
  encodeStreamRecords,
  exportOutput,
  formatShowLine,
  humanSize,
  type OutputLog,
  OutputLogError,
  outputLogSummary,
  outputRecord,
  parseTaskList,
  showOutput,
  type StreamFileInput,
  type StreamRecord,
} from "./mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function file(
  name: string,
  records: StreamRecord[],
  header: { server?: string; worker?: number; part?: number; at?: number } = {},
): StreamFileInput {
  const h = {
    k: "header" as const,
    v: 1,
    server: header.server ?? "uid",
    worker: header.worker ?? 1,
    part: header.part ?? 0,
    at: header.at ?? 0,
  };
  return { name, bytes: encodeStreamRecords([h, ...records]) };
}

function out(job: number, task: number, inst: number, ch: 0 | 1, text: string, at: number) {
  return outputRecord({ job, task, inst }, ch, enc.encode(text), at);
}

function task(job: number, id: number, inst: number, text: string, at: number): StreamRecord[] {
  return [
    { k: "start", job, task: id, inst, at },
    out(job, id, inst, 0, text, at + 1),
    { k: "end", job, task: id, inst, at: at + 2 },
  ];
}

/** Two workers, one of which died in task 1's first instance; task 1 reran on worker 2. */
function restarted(): OutputLog {
  return buildOutputLog([
    file("b.hqs", [...task(1, 1, 1, "Start\nEnd 1\n", 50), ...task(1, 0, 0, "zero\n", 60)], {
      worker: 2,
    }),
    file("a.hqs", [
      { k: "start", job: 1, task: 1, inst: 0, at: 10 },
      out(1, 1, 0, 0, "Start\n", 11),
      out(1, 1, 0, 1, "oops", 12),
    ], { worker: 1 }),
  ]);
}

Deno.test("buildOutputLog() marks older instances of a task superseded", () => {
  const log = restarted();
  assert.deepEqual(log.files, ["a.hqs", "b.hqs"]);
  const t1 = log.jobs.get(1)!.get(1)!;
  assert.deepEqual(t1.instances.map((i) => [i.instance, i.finished, i.worker]), [
    [0, false, 1],
    [1, true, 2],
  ]);
  assert.deepEqual(outputLogSummary(log), {
    nFiles: 2,
    nJobs: 1,
    nTasks: 2,
    nStreams: 3,
    nOpened: 0,
    stdoutSize: 17,
    stderrSize: 0,
    nSuperseded: 1,
    supersededStdoutSize: 6,
    supersededStderrSize: 4,
  });
  // Every other view shows the current instance only.
  assert.equal(dec.decode(catOutput(log, { job: 1, channel: 0 })), "zero\nStart\nEnd 1\n");
  assert.equal(dec.decode(catOutput(log, { job: 1, channel: 1 })), "");
  assert.deepEqual(exportOutput(log, 1, [1]), [
    { id: 1, finished: true, stdout: "Start\nEnd 1\n", stderr: "" },
  ]);
  const show = showOutput(log);
  assert.deepEqual(show.lines.map((l) => formatShowLine(l, show.widths)), [
    "1.1:0> Start\nEnd 1\n",
    "1.0:0> zero\n",
  ]);
});

Deno.test("buildOutputLog() joins an instance's chunks across the parts of one worker", () => {
  const log = buildOutputLog([
    file(
      "w-x.1.hqs",
      [out(1, 0, 0, 0, "two\n", 5), { k: "end", job: 1, task: 0, inst: 0, at: 6 }],
      {
        part: 1,
        at: 4,
      },
    ),
    file("w-x.0.hqs", [
      { k: "start", job: 1, task: 0, inst: 0, at: 1 },
      out(1, 0, 0, 0, "one\n", 2),
    ]),
  ]);
  assert.equal(dec.decode(catOutput(log, { job: 1, channel: 0 })), "one\ntwo\n");
});

Deno.test("buildOutputLog() reads what it can of torn and damaged files", () => {
  const good = file("a.hqs", [...task(2, 0, 0, "fine\n", 1), ...task(2, 1, 0, "cut\n", 5)]);
  // The worker died while writing task 1's end marker: the stream stays open.
  const torn = { name: "a.hqs", bytes: good.bytes.subarray(0, good.bytes.length - 10) };
  const empty = { name: "empty.hqs", bytes: new Uint8Array() };
  const junk = { name: "junk.hqs", bytes: enc.encode("hqsf0000 binary\n") };
  const log = buildOutputLog([torn, empty, junk]);
  assert.deepEqual(log.files, ["a.hqs"]);
  assert.deepEqual(log.warnings.map((w) => w.file), ["junk.hqs"]);
  assert.equal(outputLogSummary(log).nOpened, 1);
  assert.equal(dec.decode(catOutput(log, { job: 2, channel: 0, tasks: [0] })), "fine\n");
  assert.throws(
    () => catOutput(log, { job: 2, channel: 0 }),
    new OutputLogError("Stream for task 1 is not finished"),
  );
  assert.equal(
    dec.decode(catOutput(log, { job: 2, channel: 0, allowUnfinished: true })),
    "fine\ncut\n",
  );
});

Deno.test("buildOutputLog() needs files, and a server uid when several servers wrote", () => {
  assert.throws(() => buildOutputLog([]), new OutputLogError("No log files found"));
  const files = [
    file("a.hqs", task(1, 0, 0, "from A\n", 1), { server: "AAA" }),
    file("b.hqs", task(1, 0, 0, "from B\n", 1), { server: "BBB" }),
  ];
  assert.throws(
    () => buildOutputLog(files),
    new OutputLogError(
      "Found streams from multiple server instances:\nAAA\nBBB\nUse --server-uid=... to specify server uid",
    ),
  );
  const log = buildOutputLog(files, { serverUid: "BBB" });
  assert.equal(dec.decode(catOutput(log, { job: 1, channel: 0 })), "from B\n");
});

Deno.test("catOutput() and exportOutput() follow the task order given and name what is missing", () => {
  const log = buildOutputLog([
    file("a.hqs", [2, 3, 4].flatMap((t) => task(1, t, 0, `Hello from ${t}\n`, t * 10))),
  ]);
  assert.equal(
    dec.decode(catOutput(log, { job: 1, channel: 0, tasks: parseTaskList("3-4,2") })),
    "Hello from 3\nHello from 4\nHello from 2\n",
  );
  assert.deepEqual(exportOutput(log, 1, [4, 2]).map((t) => t.id), [4, 2]);
  assert.throws(
    () => catOutput(log, { job: 2, channel: 0 }),
    new OutputLogError("Job 2 not found"),
  );
  assert.throws(() => exportOutput(log, 1, [9]), new OutputLogError("Task 9 not found"));
});

Deno.test("showOutput() orders chunks by time and filters by job and channel", () => {
  const log = buildOutputLog([
    file("a.hqs", [
      out(1, 1, 0, 0, "A", 1),
      out(1, 1, 0, 0, "B\n", 3),
      { k: "end", job: 1, task: 1, inst: 0, at: 4 },
    ]),
    file("b.hqs", [
      out(1, 2, 0, 0, "A\n", 1),
      out(1, 2, 0, 1, "err\n", 2),
      out(10, 2, 0, 0, "other job\n", 2),
    ], { worker: 2 }),
  ]);
  const lines = (opts: Parameters<typeof showOutput>[1]) => {
    const show = showOutput(log, opts);
    return show.lines.map((l) => formatShowLine(l, show.widths));
  };
  assert.deepEqual(lines({}), [
    "01.1:0> A\n",
    "01.2:0> A\n",
    "01.2:1> err\n",
    "10.2:0> other job\n",
    "01.1:0> B\n",
  ]);
  assert.deepEqual(lines({ jobs: [1], channel: 1 }), ["01.2:1> err\n"]);
  assert.deepEqual(lines({ jobs: [1], channel: 1, showEmpty: true }), [
    "01.2:1> err\n",
    "01.1: > stream closed\n",
  ]);
});

Deno.test("humanSize() and parseTaskList() follow HyperQueue", () => {
  assert.equal(humanSize(0), "0 B");
  assert.equal(humanSize(2047), "2047 B");
  assert.equal(humanSize(2048), "2 KiB");
  assert.equal(humanSize(5 * 1024 ** 3), "5 GiB");
  assert.deepEqual(parseTaskList("1_0,7"), [10, 7]);
  assert.throws(() => parseTaskList("x"), SyntaxError);
  assert.throws(() => parseTaskList("5-1"), RangeError);
  assert.throws(() => parseTaskList("0-4294967295"), RangeError);
});
