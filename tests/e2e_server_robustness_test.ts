/**
 * The server survives I/O failures after its commit: a failed reply, send or
 * inbox move is logged and the loop goes on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Cluster, HQ_TS, sleep, waitFor } from "./_harness.ts";

Deno.test("e2e: a client that vanishes while waiting does not take the server down", async () => {
  await using c = await Cluster.create();
  const server = c.startServer();
  await c.waitServerReady();
  // `submit --wait` gets the submit's answer (the server opens its reply channel), then waits.
  const client = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", HQ_TS, "submit", "--wait", "--server-dir", c.serverDir, "--", "true"],
    cwd: c.workDir,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const clients = join(c.serverDir, "001", "clients");
  const dir = await waitFor(
    async () => {
      for await (const e of Deno.readDir(clients)) {
        // The reply channel exists once the submit was answered.
        for await (const f of Deno.readDir(join(clients, e.name))) {
          if (f.name.startsWith("reply")) return join(clients, e.name);
        }
      }
      return undefined;
    },
    15000,
    "the submit's answer",
  );
  // The client posts its wait right after that answer; on a loaded machine that takes a
  // while (it loads its waiting code first). Then it gives up without a word and its
  // directory goes.
  await sleep(1000);
  client.kill("SIGKILL");
  await client.status;
  await Deno.remove(dir, { recursive: true });
  // The job completes: the server answers the vanished wait, fails, and goes on.
  c.startWorker(["--cpus", "1"]);
  await waitFor(() => c.jobFinished(1), 15000, "job 1 finished");
  const info = await c.hq(["server", "info"]);
  assert.equal(info.code, 0, info.stderr);
  await waitFor(
    () => Promise.resolve(server.log.includes("could not answer client")),
    10000,
    "the server to log the lost answer",
  );
});
