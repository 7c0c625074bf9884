/**
 * A full disk under the server directory (a size-limited tmpfs) is survived:
 * the server and the worker keep running, hold what they cannot write, and
 * the run completes once space is freed, with no task run twice. Needs root
 * (to mount the tmpfs).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { requirement } from "./_env.ts";
import { Cluster, pidAlive, sleep, waitFor } from "./_harness.ts";

const root = requirement(Deno.uid() === 0, "root (the server dir is a size-limited tmpfs)");

async function fill(path: string): Promise<void> {
  const chunk = new Uint8Array(64 * 1024);
  using f = await Deno.open(path, { write: true, create: true });
  while ((await f.write(chunk).catch(() => 0)) > 0) {
    // until ENOSPC
  }
}

async function lines(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

Deno.test({
  name:
    "e2e: a full disk under the server dir is survived and the run completes once space is freed",
  ignore: root.ignore,
  fn: async () => {
    root.check();
    await using c = await Cluster.create();
    await Deno.mkdir(c.serverDir, { recursive: true, mode: 0o700 });
    const mount = new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=4m,mode=700", "tmpfs", c.serverDir],
    });
    assert.equal((await mount.output()).code, 0, "mount the tmpfs");
    const log = join(c.workDir, "ran.log");
    try {
      await c.withLogs(async () => {
        const server = c.startServer();
        await c.waitServerReady();
        const worker = c.startWorker(["--cpus", "2", "--work-dir", c.workDir]);
        await c.waitWorkers(1);
        const job = await c.submit([
          "--array",
          "1-1500",
          "--stdout",
          "none",
          "--stderr",
          "none",
          "--",
          "bash",
          "-c",
          `echo $HQ_TASK_ID >> ${log}`,
        ]);
        await waitFor(async () => (await lines(log)).length >= 200, 30000, "200 tasks done");
        await fill(join(c.serverDir, "filler"));
        // Longer than the lease's failure bound and the client's patience: all stall, none dies.
        await sleep(5000);
        assert.ok(pidAlive(server.pid), "the server lives on a full disk");
        assert.ok(pidAlive(worker.pid), "the worker lives on a full disk");
        const during = await c.hq(["job", "list"]);
        assert.notEqual(during.code, 0, "a client cannot post on a full disk");
        assert.equal(during.stderr.trim().split("\n").length, 1, during.stderr);
        await Deno.remove(join(c.serverDir, "filler"));
        await c.waitJobComplete(job, 60000);
        assert.ok(await c.jobFinished(job));
        const ran = await lines(log);
        assert.equal(ran.length, 1500, "every task ran once");
        assert.equal(new Set(ran).size, 1500, "no task ran twice");
        assert.match(
          c.logs(),
          /could not write the journal \(commit\)|could not write to the server/,
        );
      });
    } finally {
      await c.hq(["server", "stop"]).catch(() => {});
      await sleep(300);
      await new Deno.Command("umount", { args: ["-l", c.serverDir] }).output();
    }
  },
});
