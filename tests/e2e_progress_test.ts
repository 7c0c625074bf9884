/**
 * The live progress of jobs: in a terminal (a pseudo-terminal made by `script`), `job
 * progress` draws a bar with counts, the task rate and an ETA, redrawn in place; outside a
 * terminal it prints plain lines.
 */
import assert from "node:assert/strict";
import { Cluster, HQ_TS } from "./_harness.ts";
import { requirement } from "./_env.ts";

function hasScript(): boolean {
  try {
    return new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const ESC = "\x1b";

const pty = requirement(hasScript(), "`script` (util-linux) to run the CLI in a pseudo-terminal");

Deno.test({
  name: "e2e: job progress draws a live bar in a terminal and plain lines otherwise",
  ignore: pty.ignore,
  fn: async () => {
    pty.check();
    await using c = await Cluster.create();
    await c.withLogs(async () => {
      c.startServer();
      await c.waitServerReady();
      c.startWorker(["--cpus", "2"]);
      const job = await c.submit(["--array", "1-8", "--", "sleep", "0.3"]);
      const cmd = [Deno.execPath(), "run", "-A", HQ_TS, "job", "progress", String(job)]
        .concat(["--server-dir", c.serverDir]).join(" ");
      const out = await new Deno.Command("script", {
        args: ["-qec", cmd, "/dev/null"],
        cwd: c.workDir,
        env: { TMPDIR: c.tmpDir },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert.equal(out.code, 0, text);
      // Redrawn in place, ending complete, with the rate and the ETA.
      const frames = text.split(`${ESC}[1G`);
      assert.match(
        frames.at(-1)!,
        /^\[#+\] 1\/1 jobs, 8\/8 tasks 8 FINISHED \| \d+\.\d tasks\/s \| ETA 0s/,
      );
      assert.ok(frames.length > 2, "the bar was drawn more than once");
      // Not a terminal: plain lines, no escape sequences.
      const plain = await c.hqOk(["job", "progress", String(job)]);
      assert.match(plain.stdout, /^\[#+\] 1\/1 jobs, 8\/8 tasks 8 FINISHED$/m);
      assert.ok(!plain.stdout.includes(ESC), "no escape sequence");
    });
  },
});
