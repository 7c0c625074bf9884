import assert from "node:assert/strict";
import type { ProgramSpec, TaskTemplate } from "../../protocol/mod.ts";
import { buildOutputLog, catOutput, exportOutput, outputLogSummary } from "../../stream/mod.ts";
import { readStreamFiles } from "../../stream/io/mod.ts";
import type { StartOrder, TaskOutcome } from "../mod.ts";
import { type LaunchContext, TaskProcesses } from "./processes.ts";
import { TaskStreamer } from "./streamer.ts";
import { startOrder } from "./testdata/process_checks.ts";

const dec = new TextDecoder();

function order(
  taskId: number,
  program: Partial<ProgramSpec>,
  over: Partial<TaskTemplate> = {},
): StartOrder {
  return startOrder({ cwd: "/tmp", ...program }, over, {
    jobId: 1,
    taskId,
    instance: 0,
    submitDir: "/tmp",
  });
}

const CONTEXT: LaunchContext = { workDir: "/tmp", serverUid: "uid", workerId: 3 };

interface Fixture {
  dir: string;
  procs: TaskProcesses;
  streamer: TaskStreamer;
  /** Ends in order. */
  ends: { key: string; outcome: TaskOutcome }[];
  /** Resolves once `n` tasks ended. */
  ended(n: number): Promise<void>;
}

async function fixture(fn: (f: Fixture) => Promise<void>, drainMs = 1000): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hq-streamer-" });
  const ends: Fixture["ends"] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const streamer = new TaskStreamer({ drainMs, writer: { flushDelayMs: 10_000 } });
  const procs = new TaskProcesses((key, outcome) => {
    ends.push({ key, outcome });
    for (const w of waiters) if (ends.length >= w.n) w.resolve();
  }, { streamer });
  const ended = (n: number) =>
    ends.length >= n ? Promise.resolve() : new Promise<void>((resolve) => {
      waiters.push({ n, resolve });
    });
  try {
    await fn({ dir, procs, streamer, ends, ended });
  } finally {
    procs.cancelAll();
    await procs.idle();
    await procs.closeStreams();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a streamed task's output and end marker are in the stream file before it is reported", async () => {
  await fixture(async ({ dir, procs, ends, streamer }) => {
    // The writer's flush delay is long: only the sync before the report can have written it.
    const seen: string[] = [];
    const stream = { dir, stdout: true, stderr: true };
    const script = 'for i in 1 2 3; do echo "out $i"; echo "err $i" >&2; done';
    assert.equal(procs.launch(order(7, { args: ["bash", "-c", script], stream }), CONTEXT), null);
    // Read the directory at the moment the end is reported.
    const reported = new Promise<void>((resolve) => {
      const poll = () => {
        if (ends.length > 0) {
          readStreamFiles(dir).then((files) => {
            const log = buildOutputLog(files);
            seen.push(dec.decode(catOutput(log, { job: 1, channel: 0 })));
            seen.push(dec.decode(catOutput(log, { job: 1, channel: 1 })));
            resolve();
          });
        } else setTimeout(poll, 1);
      };
      poll();
    });
    await reported;
    assert.deepEqual(ends[0]!.outcome, { kind: "finished" });
    assert.deepEqual(seen, ["out 1\nout 2\nout 3\n", "err 1\nerr 2\nerr 3\n"]);
    assert.equal(streamer.files.length, 1);
    assert.match(streamer.files[0]!, /\/3-[0-9a-f]{12}\.0\.hqs$/);
  });
});

Deno.test("many streamed tasks of one worker share one stream file", async () => {
  await fixture(async ({ dir, procs, ended, streamer }) => {
    const stream = { dir, stdout: true, stderr: true };
    for (let t = 0; t < 20; t++) {
      const args = [
        "bash",
        "-c",
        `echo "task $HQ_TASK_ID"; echo "e$HQ_TASK_ID" >&2; exit $((HQ_TASK_ID % 5 == 4))`,
      ];
      procs.launch(order(t, { args, stream }), CONTEXT);
    }
    await ended(20);
    assert.equal(streamer.files.length, 1);
    const log = buildOutputLog(await readStreamFiles(dir));
    const expected = Array.from({ length: 20 }, (_, t) => `task ${t}\n`).join("");
    assert.equal(dec.decode(catOutput(log, { job: 1, channel: 0 })), expected);
    assert.deepEqual(outputLogSummary(log).nOpened, 0);
    assert.deepEqual(exportOutput(log, 1, [4])[0], {
      id: 4,
      finished: true,
      stdout: "task 4\n",
      stderr: "e4\n",
    });
  });
});

Deno.test("partial redirection: a channel with its own file is not streamed", async () => {
  await fixture(async ({ dir, procs, ended }) => {
    const file = `${dir}/out.txt`;
    const stream = { dir: `${dir}/s`, stdout: false, stderr: true };
    const args = ["bash", "-c", "echo Ok; echo Error >&2"];
    procs.launch(order(0, { args, stream, stdout: { path: file, rmIfFinished: false } }), CONTEXT);
    await ended(1);
    assert.equal(await Deno.readTextFile(file), "Ok\n");
    const log = buildOutputLog(await readStreamFiles(`${dir}/s`));
    assert.deepEqual(exportOutput(log, 1), [{
      id: 0,
      finished: true,
      stdout: "",
      stderr: "Error\n",
    }]);
  });
});

Deno.test("a streamed task's large and binary output arrives whole", async () => {
  await fixture(async ({ dir, procs, ended }) => {
    const stream = { dir, stdout: true, stderr: false };
    // 3 MB of multi-byte characters: pipe reads split some of them.
    const args = [
      "bash",
      "-c",
      "for i in $(seq 1 100000); do printf 'é€😀%06d\\n' $i; done; printf '\\377\\n'",
    ];
    procs.launch(order(0, { args, stream }), CONTEXT);
    await ended(1);
    const log = buildOutputLog(await readStreamFiles(dir));
    const bytes = catOutput(log, { job: 1, channel: 0 });
    const expected = Array.from(
      { length: 100000 },
      (_, i) => `é€😀${String(i + 1).padStart(6, "0")}\n`,
    )
      .join("");
    const text = new TextEncoder().encode(expected);
    assert.equal(bytes.length, text.length + 2);
    assert.deepEqual(bytes.subarray(0, text.length), text);
    assert.deepEqual([...bytes.subarray(text.length)], [255, 10]);
  });
});

Deno.test("a background process holding the pipe delays the report only by the drain time", async () => {
  await fixture(async ({ dir, procs, ended, ends }) => {
    const stream = { dir, stdout: true, stderr: true };
    const args = ["bash", "-c", "echo before; (sleep 30; echo late) & echo after"];
    const started = Date.now();
    procs.launch(order(0, { args, stream }), CONTEXT);
    await ended(1);
    const took = Date.now() - started;
    assert.ok(took >= 200 && took < 5000, `${took} ms`);
    assert.deepEqual(ends[0]!.outcome, { kind: "finished" });
    const log = buildOutputLog(await readStreamFiles(dir));
    assert.equal(dec.decode(catOutput(log, { job: 1, channel: 0 })), "before\nafter\n");
    // The background sleeper is the task's: end its group.
    procs.cancelAll();
  }, 200);
});

Deno.test("a canceled streamed task is reported canceled without waiting for a sync", async () => {
  await fixture(async ({ dir, procs, ended, ends }) => {
    const stream = { dir, stdout: true, stderr: true };
    procs.launch(order(0, { args: ["bash", "-c", "echo hi; sleep 30"], stream }), CONTEXT);
    await new Promise((r) => setTimeout(r, 200));
    procs.cancel("1:0");
    await ended(1);
    assert.deepEqual(ends[0]!.outcome, { kind: "canceled" });
  });
});

Deno.test("a stream dir that cannot be created fails the task with a Streamer error", async () => {
  await fixture(async ({ dir, procs }) => {
    await Deno.writeTextFile(`${dir}/file`, "");
    const stream = { dir: `${dir}/file/sub`, stdout: true, stderr: true };
    const failure = procs.launch(order(0, { args: ["true"], stream }), CONTEXT);
    assert.equal(failure?.kind, "failed");
    assert.match(
      (failure as { error: string }).error,
      /^Error: Streamer: cannot create stream directory/,
    );
  });
});
