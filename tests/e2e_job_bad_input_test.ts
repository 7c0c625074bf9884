/**
 * Bad job input through the real `hq` CLI: unreadable or malformed `--each-line` /
 * `--from-json` files, conflicting flags, missing or closed jobs for `--job` / `--after`,
 * bad `--directives`, malformed job definition files, closing a missing job and reusing a
 * task id in an open job. Each is refused with a non-zero exit and one stderr line naming
 * the problem, creates no job, and leaves the server healthy: `job list` works and a good
 * submit still runs to FINISHED.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, type HqResult } from "./_harness.ts";

/** One bad input: what to run (after writing `files` into the work dir) and what stderr names. */
interface BadCase {
  name: string;
  /** Files to write into the cluster's work dir first (name -> content). */
  files?: Record<string, string>;
  /** `hq` arguments; `@OPEN` and `@DONE` stand for the open and the finished job's ids. */
  args: string[];
  /** Every pattern must match the single stderr line (`@OPEN`/`@DONE` substituted). */
  expect: RegExp[];
}

const TASK = '[[task]]\nid = 0\ncommand = ["true"]\n';

const CASES: BadCase[] = [
  {
    name: "--each-line of a missing file",
    args: ["submit", "--each-line", "/nonexistent", "--", "true"],
    expect: [/\/nonexistent/, /no such file/i],
  },
  {
    name: "--from-json of a missing file",
    args: ["submit", "--from-json", "/nonexistent.json", "--", "true"],
    expect: [/\/nonexistent\.json/, /no such file/i],
  },
  {
    name: "--from-json of an object",
    files: { "object.json": '{"a":1}\n' },
    args: ["submit", "--from-json", "object.json", "--", "true"],
    expect: [/object\.json/, /array/i],
  },
  {
    name: "--from-json of invalid JSON",
    files: { "broken.json": "[1, 2\n" },
    args: ["submit", "--from-json", "broken.json", "--", "true"],
    expect: [/broken\.json/, /JSON/, /pars/i],
  },
  {
    name: "--each-line together with --from-json",
    files: { "lines.txt": "a\nb\n", "list.json": "[1]\n" },
    args: ["submit", "--each-line", "lines.txt", "--from-json", "list.json", "--", "true"],
    expect: [/--each-line/, /--from-json/],
  },
  {
    name: "--job of a job that does not exist",
    args: ["submit", "--job", "999", "--", "true"],
    expect: [/\b999\b/, /not found|does not exist|no such/i],
  },
  {
    name: "--job of a finished job that is not open",
    args: ["submit", "--job", "@DONE", "--", "true"],
    expect: [/\b@DONE\b/, /not open/i],
  },
  {
    name: "--job with --name",
    args: ["submit", "--job", "@OPEN", "--name", "x", "--", "true"],
    expect: [/--name/, /--job/],
  },
  {
    name: "--after a job that does not exist",
    args: ["submit", "--after", "999", "--", "true"],
    expect: [/\b999\b/, /not found|does not exist|no such/i],
  },
  {
    name: "--after garbage",
    args: ["submit", "--after", "abc", "--", "true"],
    expect: [/--after/, /abc/],
  },
  {
    name: "--directives with an unknown mode",
    args: ["submit", "--directives", "bogus", "--", "true"],
    expect: [/--directives/, /bogus/],
  },
  {
    name: "job file with a TOML syntax error",
    files: { "syntax.toml": '[[task]\ncommand = ["true"]\n' },
    args: ["job", "submit-file", "syntax.toml"],
    expect: [/syntax\.toml/, /line 1/i],
  },
  {
    name: "job file with an unknown key",
    files: { "unknown.toml": '[[task]]\ncomand = ["true"]\n' },
    args: ["job", "submit-file", "unknown.toml"],
    expect: [/unknown\.toml/, /comand/, /unknown/i],
  },
  {
    name: "job file with a wrongly typed value",
    files: { "type.toml": '[[task]]\ncommand = ["true"]\npriority = "high"\n' },
    args: ["job", "submit-file", "type.toml"],
    expect: [/type\.toml/, /priority/, /integer|number/i],
  },
  {
    name: "job file with duplicate task ids",
    files: { "dup.toml": TASK.replace("id = 0", "id = 1").repeat(2) },
    args: ["job", "submit-file", "dup.toml"],
    expect: [/dup\.toml/, /\b1\b/, /already used|duplicate/i],
  },
  {
    name: "job file with a dependency cycle",
    files: {
      "cycle.toml": '[[task]]\nid = 0\ndeps = [1]\ncommand = ["true"]\n' +
        '[[task]]\nid = 1\ndeps = [0]\ncommand = ["true"]\n',
    },
    args: ["job", "submit-file", "cycle.toml"],
    expect: [/cycle\.toml/, /cycle/i],
  },
  {
    name: "job file with a dangling dependency",
    files: { "dangling.toml": '[[task]]\nid = 0\ndeps = [5]\ncommand = ["true"]\n' },
    args: ["job", "submit-file", "dangling.toml"],
    expect: [/dangling\.toml/, /\b5\b/, /not defined|unknown|does not exist|invalid/i],
  },
  {
    name: "job file mixing [[task]] and [array]",
    files: { "mixed.toml": TASK + '[array]\nids = "1-3"\ncommand = ["true"]\n' },
    args: ["job", "submit-file", "mixed.toml"],
    expect: [/\[\[task\]\]/, /\[array\]/, /mix/i],
  },
  {
    name: "job submit-file of a missing file",
    args: ["job", "submit-file", "/nonexistent.toml"],
    expect: [/\/nonexistent\.toml/, /no such file/i],
  },
  {
    name: "job close of a job that does not exist",
    args: ["job", "close", "999"],
    expect: [/\b999\b/, /not found|does not exist|no such/i],
  },
  {
    name: "--stream with a placeholder it cannot have",
    args: ["submit", "--stream", "out-%{TASK_ID}", "--", "true"],
    expect: [/stream/, /TASK_ID/],
  },
  {
    name: "job file with a stream that is not a string",
    files: { "stream.toml": "stream = 5\n" + TASK },
    args: ["job", "submit-file", "stream.toml"],
    expect: [/stream\.toml/, /stream/, /string/i],
  },
  {
    name: "output-log of a directory that does not exist",
    args: ["output-log", "/nonexistent-stream-dir", "summary"],
    expect: [/nonexistent-stream-dir/],
  },
  {
    name: "output-log with an unknown subcommand",
    args: ["output-log", "/tmp", "bogus"],
    expect: [/bogus/],
  },
  {
    name: "task notify outside a task",
    args: ["task", "notify", "hello"],
    expect: [/HQ_JOB_ID/, /inside a task/],
  },
];

/** Asserts a non-zero exit and exactly one non-empty stderr line matching every pattern. */
function assertOneLineError(r: HqResult, expect: RegExp[]): void {
  assert.notEqual(r.code, 0, `exit code; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  assert.equal(lines.length, 1, `expected one stderr line, got: ${JSON.stringify(r.stderr)}`);
  for (const re of expect) assert.match(lines[0]!, re);
  assert.doesNotMatch(r.stdout, /job ID/, "nothing was submitted");
}

/** The server still answers, and a good submit still runs to FINISHED. */
async function assertHealthy(c: Cluster): Promise<void> {
  const list = await c.hq(["job", "list"]);
  assert.equal(list.code, 0, `job list: ${list.stderr}`);
  const id = await c.submit(["--", "true"]);
  await c.waitJobComplete(id, 10000);
  assert.ok(await c.jobFinished(id), `good job ${id} finished`);
  assert.equal(c.procs[0]!.exited, undefined, "server still running");
}

Deno.test("e2e: bad job input is refused with one stderr line; the server stays healthy", async (t) => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2"]);
    await c.waitWorkers(1);
    const done = await c.submit(["--", "true"]);
    await c.waitJobComplete(done);
    assert.ok(await c.jobFinished(done));
    const opened = await c.hqOk(["job", "open"]);
    const open = Number(opened.stdout.match(/Job (\d+) is open/)?.[1]);
    assert.ok(open > 0, opened.stdout);
    const subst = (s: string) =>
      s.replaceAll("@OPEN", String(open)).replaceAll("@DONE", String(done));

    let failedSteps = 0;
    for (const bad of CASES) {
      const ok = await t.step(bad.name, async () => {
        for (const [name, text] of Object.entries(bad.files ?? {})) {
          await Deno.writeTextFile(join(c.workDir, name), text);
        }
        const before = (await c.jobs()).length;
        const r = await c.hq(bad.args.map(subst));
        assertOneLineError(r, bad.expect.map((re) => new RegExp(subst(re.source), re.flags)));
        assert.equal((await c.jobs()).length, before, "no job was created");
        await assertHealthy(c);
      });
      if (!ok) failedSteps++;
    }

    const reused = await t.step("reusing a task id in an open job names the task", async () => {
      await c.hqOk(["submit", "--job", String(open), "--array", "0", "--", "true"]);
      const r = await c.hq(["submit", "--job", String(open), "--array", "0", "--", "true"]);
      assertOneLineError(r, [/\btask 0\b/i, /already exists|already used|duplicate/i]);
      const j = (await c.jobs()).find((j) => j.id === open);
      assert.equal(j?.task_count, 1, `open job keeps one task: ${JSON.stringify(j)}`);
      await assertHealthy(c);
    });
    if (!reused) failedSteps++;
    assert.equal(failedSteps, 0, `${failedSteps} step(s) failed`);
  });
});
