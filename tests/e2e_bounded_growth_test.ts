/**
 * The instance directory does not grow with time: ended workers' directories
 * go once their process is gone, and what killed clients left behind (a
 * client directory, an `inbox/tmp` file) goes once it is old.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, waitFor } from "./_harness.ts";

function count(dir: string): number {
  return [...Deno.readDirSync(dir)].length;
}

Deno.test("e2e: worker start/stop cycles leave no worker directories behind", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const instance = join(c.serverDir, "001");
    for (let i = 1; i <= 8; i++) {
      const w = c.startWorker(["--cpus", "1"]);
      await c.waitWorkers(1);
      await c.hqOk(["worker", "stop", String(i)]);
      await w.status;
    }
    await waitFor(
      () => count(join(instance, "workers")) + count(join(instance, "outbox")) === 0,
      10000,
      "the ended workers' directories removed",
    );
    for (let i = 0; i < 30; i++) await c.hqOk(["job", "list"]);
    assert.equal(count(join(instance, "clients")), 0, "clients clean up after themselves");
  });
});

Deno.test("e2e: a restarted server removes old leftovers of killed clients, and only those", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    const first = c.startServer();
    await c.waitServerReady();
    const instance = join(c.serverDir, "001");
    const old = new Date(Date.now() - 2 * 3600_000);
    const oldClient = join(instance, "clients", "c1-dead");
    await Deno.mkdir(oldClient);
    await Deno.writeTextFile(join(oldClient, "reply.0.log"), "");
    await Deno.utime(join(oldClient, "reply.0.log"), old, old);
    await Deno.utime(oldClient, old, old);
    const freshClient = join(instance, "clients", "c2-alive");
    await Deno.mkdir(freshClient);
    const oldTmp = join(instance, "inbox", "tmp", "abandoned");
    await Deno.writeTextFile(oldTmp, "{}");
    await Deno.utime(oldTmp, old, old);
    first.kill("SIGKILL");
    await first.status;
    c.startServer();
    await c.waitServerReady();
    await waitFor(
      async () => {
        try {
          await Deno.stat(oldClient);
          return false;
        } catch {
          return true;
        }
      },
      10000,
      "the old client directory removed",
    );
    await assert.rejects(Deno.stat(oldTmp), Deno.errors.NotFound);
    assert.ok((await Deno.stat(freshClient)).isDirectory, "a recent client directory stays");
  });
});
