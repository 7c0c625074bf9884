/**
 * `hq task notify` inside running tasks reaching `submit --wait --on-notify`: the command runs
 * once per notification, with the message as its last argument and HyperQueue's variables,
 * in order per task; outside a task the command refuses with one line.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, HQ_TS } from "./_harness.ts";

Deno.test("e2e: task notify reaches --on-notify, in order per task", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    c.startWorker(["--cpus", "2"]);
    const notes = join(c.workDir, "notes.txt");
    const hook = join(c.workDir, "on-notify.sh");
    await Deno.writeTextFile(
      hook,
      `#!/bin/bash\necho "$HQ_JOB_ID $HQ_TASK_ID $HQ_WORKER_ID $*" >> ${notes}\n`,
    );
    await Deno.chmod(hook, 0o755);
    const hq = `${Deno.execPath()} run -A ${HQ_TS}`;
    const r = await c.hqOk([
      "submit",
      "--array",
      "1-3",
      "--wait",
      "--on-notify",
      `${hook} prefix`,
      "--",
      "bash",
      "-c",
      `${hq} task notify "first $HQ_TASK_ID" && ${hq} task notify "second $HQ_TASK_ID"`,
    ]);
    assert.match(r.stdout, /1 job finished/);
    const lines = (await Deno.readTextFile(notes)).trim().split("\n");
    assert.equal(lines.length, 6, lines.join("\n"));
    for (const task of [1, 2, 3]) {
      const mine = lines.filter((l) => l.startsWith(`1 ${task} `));
      assert.deepEqual(mine, [
        `1 ${task} 1 prefix first ${task}`,
        `1 ${task} 1 prefix second ${task}`,
      ]);
    }
    // Outside a task: one line, non-zero exit; a too long message is refused too.
    const outside = await c.hq(["task", "notify", "hello"]);
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr.trim(), /^error: .*HQ_JOB_ID is not set/);
    const long = await c.hq(["task", "notify", "x".repeat(1025)]);
    assert.notEqual(long.code, 0);
    assert.match(long.stderr, /at most 1024 bytes/);
    // A notification for a task that is not running is refused by the server.
    const stale = await c.hq(["task", "notify", "late"], {
      env: { HQ_JOB_ID: "1", HQ_TASK_ID: "1", HQ_INSTANCE_ID: "0" },
    });
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /Task 1@1 is not running/);
    const misuse = await c.hq(["submit", "--on-notify", "true", "--", "true"]);
    assert.notEqual(misuse.code, 0);
    assert.match(misuse.stderr, /--on-notify can only be used with --wait or --progress/);
  });
});
