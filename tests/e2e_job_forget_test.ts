/**
 * `hq job forget`: completed jobs leave the server's memory and its journal;
 * waiting, running and unknown ones are counted as ignored, in HyperQueue's
 * words.
 */
import assert from "node:assert/strict";
import { Cluster, type JobJson, waitFor } from "./_harness.ts";

async function forget(c: Cluster, args: string[]): Promise<string> {
  const r = await c.hqOk(["job", "forget", ...args]);
  return r.stderr.trim().split("\n").at(-1) ?? "";
}

async function ids(c: Cluster): Promise<number[]> {
  return (await c.json<JobJson[]>(["job", "list", "--all"])).map((j) => j.id);
}

Deno.test("e2e: job forget drops completed jobs only, and they stay forgotten after a restart", async () => {
  await using c = await Cluster.create();
  await c.withLogs(async () => {
    c.startServer();
    await c.waitServerReady();
    const waiting = await c.submit(["--", "true"]);
    assert.match(
      await forget(c, [String(waiting)]),
      /0 jobs were forgotten, 1 were ignored due to wrong state or invalid ID$/,
    );
    const canceled = await c.submit(["--", "true"]);
    await c.hqOk(["job", "cancel", String(canceled), "--reason", "x"]);
    c.startWorker(["--cpus", "2"]);
    await c.waitJobComplete(waiting);
    const running = await c.submit(["--", "sleep", "30"]);
    await waitFor(async () => (await c.tasks(running))[0]?.state === "running", 20000, "running");
    const failed = await c.submit(["--", "/nonexistent/program"]);
    await c.waitJobComplete(failed);
    const more = [await c.submit(["--", "true"]), await c.submit(["--", "true"])];
    for (const id of more) await c.waitJobComplete(id);
    assert.match(await forget(c, [String(running)]), /0 jobs were forgotten, 1 were ignored/);
    assert.match(
      await forget(c, ["all", "--filter", "finished,canceled"]),
      /4 jobs were forgotten, 2 were ignored due to wrong state or invalid ID$/,
    );
    assert.deepEqual(await ids(c), [running, failed]);
    assert.match(await forget(c, [String(failed)]), /1 job were forgotten$/);
    assert.match(await forget(c, ["99"]), /0 jobs were forgotten, 1 were ignored/);
    const bad = await c.hq(["job", "forget", "1", "--filter", "running"]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown state 'running'/);
    // The journal no longer has them: a new instance restores only the running job.
    await c.hqOk(["server", "stop"]);
    c.startServer();
    await c.waitServerReady();
    assert.deepEqual(await ids(c), [running]);
    const next = await c.submit(["--", "true"]);
    assert.equal(next, more[1]! + 1, "job ids go on; they are never reused");
  });
});
